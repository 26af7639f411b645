package httprequest

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

const oldContent = "the previous good file"

// downloadCase is one server behaviour for the download_file matrix.
type downloadCase struct {
	name    string
	handler func(c *testserver.Conn)
	url     func(t *testing.T, srv *testserver.Server) string
	method  httpclient.Method
	setup   func(t *testing.T, n *HTTPRequest)
	want    Result
	code    int
	// The target afterwards: its content when the body was written, or
	// "" for "untouched" (old content, or absent when there was none).
	content string
	// Godot's in-place mode: what the file holds after the request.
	inPlace string
	// inPlacePrefix: in place, the file holds some prefix of content
	// (decompressed output of a stream that failed later).
	inPlacePrefix bool
	// opened: whether the body started (so in-place mode created/truncated
	// the file, §2.9.2).
	opened bool
}

func bigBody(n int) []byte { return bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n] }

func downloadCases(t *testing.T) []downloadCase {
	text := sampleText(150 << 10)
	gz := gzipBytes(t, text)
	big := bigBody(300 << 10)
	// The reset case's node (setup), for its server to wait on.
	var resetNode atomic.Pointer[HTTPRequest]
	return []downloadCase{
		{name: "content (§2.9.4)", handler: testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
			want: ResultSuccess, code: 200, content: "hello", inPlace: "hello", opened: true},
		{name: "large body over many reads", handler: testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(big)) + "\r\n\r\n" + string(big)),
			want: ResultSuccess, code: 200, content: string(big), inPlace: string(big), opened: true},
		{name: "chunked", handler: testserver.Respond(chunkedHead + chunkedBody(big, 10000)),
			want: ResultSuccess, code: 200, content: string(big), inPlace: string(big), opened: true},
		{name: "gzip is written decompressed (§4 #11)", handler: respondBody("Content-Encoding: gzip", gz),
			want: ResultSuccess, code: 200, content: string(text), inPlace: string(text), opened: true},
		{name: "a 404 body is written too (§2.9.2)", handler: testserver.Respond("HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope"),
			want: ResultSuccess, code: 404, content: "nope", inPlace: "nope", opened: true},
		{name: "empty until-close body creates an empty file (§2.9.2)", handler: testserver.RespondAndClose(closeHead),
			want: ResultSuccess, code: 200, content: "", inPlace: "", opened: true},
		{name: "redirect: only the final body (§2.9.2)", handler: route(func(line string, _ []byte) string {
			if line == "GET /final HTTP/1.1" {
				return "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"
			}
			return "HTTP/1.1 301 Moved\r\nLocation: /final\r\nContent-Length: 9\r\n\r\nredirect!"
		}), want: ResultSuccess, code: 200, content: "final", inPlace: "final", opened: true},

		// Nothing is created (and nothing touched) when the response fails
		// or has no body (§2.9.2).
		{name: "connection refused", url: func(t *testing.T, _ *testserver.Server) string {
			return urlFor("127.0.0.1", testserver.ClosedPort(t), "/")
		},
			want: ResultCantConnect},
		{name: "closed before the response", handler: testserver.Script(testserver.Read(), testserver.Close()), want: ResultConnectionError},
		{name: "no response (R6)", handler: testserver.Respond("HTTP/1.1 204 No Content\r\n\r\n"), want: ResultNoResponse},
		{name: "Content-Length: 0", handler: testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), want: ResultSuccess, code: 200},
		{name: "HEAD", method: httpclient.MethodHead, handler: testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"),
			want: ResultSuccess, code: 200},
		{name: "no framing", handler: testserver.Respond("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n"), want: ResultSuccess, code: 200},
		{name: "Content-Length over the limit (§2.9.1)", handler: testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n"),
			setup: func(t *testing.T, n *HTTPRequest) { require.NoError(t, n.SetBodySizeLimit(10)) },
			want:  ResultBodySizeLimitExceeded, code: 200},
		{name: "redirect limit", handler: testserver.Respond("HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 3\r\n\r\nabc"),
			setup: func(t *testing.T, n *HTTPRequest) { require.NoError(t, n.SetMaxRedirects(0)) },
			want:  ResultRedirectLimitReached, code: 302},

		// The body started, then the request failed: the old file is intact
		// in the default mode (§7 D3), Godot leaves the partial file (§2.9.3).
		{name: "fixed-length body cut short (R2)", handler: testserver.Script(testserver.Read(),
			testserver.WriteAndClose([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"))),
			want: ResultCantConnect, inPlace: "partial", opened: true},
		{name: "chunked body cut short (R1, §7 D3)", handler: testserver.Script(testserver.Read(),
			testserver.WriteAndClose([]byte(chunkedHead+"7\r\npartial\r\n"))),
			want: ResultChunkedBodySizeMismatch, code: 200, inPlace: "partial", opened: true},
		{name: "streamed over the limit (R7)", handler: testserver.RespondAndClose(closeHead + "0123456789"),
			setup: func(t *testing.T, n *HTTPRequest) { require.NoError(t, n.SetBodySizeLimit(5)) },
			want:  ResultBodySizeLimitExceeded, code: 200, inPlace: "", opened: true},
		{name: "truncated gzip (R8, §7 D3)", handler: respondBody("Content-Encoding: gzip", gz[:len(gz)-40]),
			want: ResultBodyDecompressFailed, code: 200, content: string(text), inPlacePrefix: true, opened: true},
		// The RST once the node holds "partial" (heldBeforeReset), not a
		// fixed 20 ms after it was sent: an RST that arrives before the bytes
		// were taken is Godot's POLLERR first (§1.6), the file is never
		// written, and a node held back 20 ms met that.
		{name: "peer reset mid-body (R4)", handler: testserver.Script(testserver.Read(),
			testserver.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"),
			heldBeforeReset(&resetNode, int64(len("partial"))), testserver.Reset()),
			setup: func(_ *testing.T, n *HTTPRequest) { resetNode.Store(n) },
			want:  ResultConnectionError, inPlace: "partial", opened: true},
	}
}

// heldBeforeReset is a server step that waits until the node holds the n
// body bytes sent: the Process driver's BODY step took them
// (DownloadedBytes), or the blocking driver's read holds them, parked for
// the rest (none left in the client's socket: drive.AllRead, and
// workerParked), as waitReadHolds waits.
func heldBeforeReset(node *atomic.Pointer[HTTPRequest], n int64) testserver.Step {
	return testserver.Do("wait until the node holds the bytes", func(c *testserver.Conn) error {
		port := c.Raw().LocalAddr().(*net.TCPAddr).Port
		if !drive.AwaitTCP(port, maxWait, 100*time.Millisecond, func(socks []drive.TCPSocket) bool {
			if nd := node.Load(); nd != nil && nd.DownloadedBytes() >= n {
				return true
			}
			return drive.AllRead(port)(socks) && workerParked()
		}) {
			return errors.New("the node did not take the body bytes")
		}
		return nil
	})
}

// §2.9, §7 D3: the download_file matrix, each case in both modes and every
// driver: content when it succeeds, nothing created when the response fails
// before the body, the old file intact after every failure in the default
// (atomic) mode, Godot's partial file in place mode, no temporary file left.
func TestDownloadFileMatrix(t *testing.T) {
	for _, c := range downloadCases(t) {
		for _, inPlace := range []bool{false, true} {
			for _, existing := range []bool{false, true} {
				mode := map[bool]string{false: "atomic", true: "in place"}[inPlace]
				old := map[bool]string{false: "new", true: "old file"}[existing]
				t.Run(c.name+"/"+mode+"/"+old, func(t *testing.T) {
					eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
						runDownloadCase(t, d, n, c, inPlace, existing)
					})
				})
			}
		}
	}
}

func runDownloadCase(t *testing.T, d driverCase, n *HTTPRequest, c downloadCase, inPlace, existing bool) {
	dir := t.TempDir()
	target := filepath.Join(dir, "download.bin")
	if existing {
		require.NoError(t, os.WriteFile(target, []byte(oldContent), 0o644))
	}
	require.NoError(t, n.SetDownloadFile(target))
	require.NoError(t, n.SetDownloadInPlace(inPlace))
	var srv *testserver.Server
	if c.handler != nil {
		srv = serve(t, c.handler)
	}
	if c.setup != nil {
		c.setup(t, n)
	}
	u := ""
	if c.url != nil {
		u = c.url(t, srv)
	} else {
		u = srv.URL("/")
	}
	o := d.run(t, n, u, nil, c.method, nil)
	require.Equal(t, c.want, o.C.Result, "cause: %v", o.Err)
	assert.Equal(t, c.code, o.C.ResponseCode)
	assert.Nil(t, o.C.Body, "the body went to the file (§2.10)")

	got, err := os.ReadFile(target)
	exists := err == nil
	switch {
	case c.want == ResultSuccess && c.opened:
		require.True(t, exists, "file written")
		assert.Equal(t, c.content, string(got))
	case inPlace && c.opened:
		require.True(t, exists, "Godot's partial file (§2.9.3)")
		if c.inPlacePrefix {
			assert.True(t, len(got) < len(c.content) && c.content[:len(got)] == string(got), "a prefix of the body")
		} else {
			assert.Equal(t, c.inPlace, string(got))
		}
	case existing:
		require.True(t, exists)
		assert.Equal(t, oldContent, string(got), "old file intact (§7 D3)")
	default:
		assert.False(t, exists, "nothing created (§2.9.2)")
	}
	names := dirEntries(t, dir)
	assert.LessOrEqual(t, len(names), 1, "no temporary file left: %v", names)
}
