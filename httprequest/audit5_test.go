package httprequest

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// Audit 5: the node against Godot 4's scene/main/http_request.cpp
// (_update_connection, _handle_response, request_raw, cancel_request) and
// the HTTPClientTCP calls it makes (read_response_body_chunk, poll), looked
// at frame by frame: what a Process loop shows on every frame (client
// status, get_downloaded_bytes(), get_body_size()), the completion each
// driver delivers, and the file download_file leaves.

// frameView is what one frame shows through the getters.
type frameView struct {
	Status     httpclient.Status
	Downloaded int64
	BodySize   int64
	Done       bool // the completion was delivered in this frame
}

// written is a server step that closes ch once its bytes were written: on
// loopback a written segment is in the client's socket when write returns,
// so a test that waited on ch knows the bytes have arrived.
func written(ch chan struct{}) testserver.Step {
	return testserver.Do("written", func(*testserver.Conn) error { close(ch); return nil })
}

// awaitChan waits for ch, bounded by maxWait.
func awaitChan(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(maxWait):
		t.Fatalf("not within %v: %s", maxWait, what)
	}
}

// traceFrames runs a Process-driven request: frames until the client is in
// BODY, then (once arrived is closed: the server wrote what the scenario
// needs) one Process per frame until the completion, recording each frame.
func traceFrames(t *testing.T, n *HTTPRequest, url string, method httpclient.Method, arrived <-chan struct{}) ([]frameView, Completion) {
	t.Helper()
	var got []Completion
	n.OnRequestCompleted(func(r Result, code int, h []string, b []byte) {
		got = append(got, Completion{r, code, h, b})
	})
	require.NoError(t, n.Request(url, nil, method, ""))
	processUntil(t, n, httpclient.StatusBody)
	if arrived != nil {
		awaitChan(t, arrived, "the server's bytes")
	}
	var trace []frameView
	for len(got) == 0 {
		require.Less(t, len(trace), 100, "no completion after 100 frames: %v", trace)
		n.Process()
		trace = append(trace, frameView{n.HTTPClientStatus(), n.DownloadedBytes(), n.BodySize(), len(got) > 0})
	}
	require.Len(t, got, 1)
	return trace, got[0]
}

// §2.6.1.3, §1.10.2, §2.14: the node's chunked path, one frame at a time.
// Godot's read_response_body_chunk() returns at most one whole chunk per
// call (nothing while a chunk is incomplete); the last-chunk line "0" is a
// call of its own that returns nothing, the trailer section another that
// turns the client CONNECTED, and the CONNECTED step after that delivers
// R0 (body length −1: "chunked transfer is done"). So with every byte
// already arrived, N chunks complete on frame N+3 after BODY.
func TestAudit5ChunkedFramesPerChunk(t *testing.T) {
	body := func(chunks int, trailer string) string {
		return strings.Repeat("3\r\nabc\r\n", chunks) + "0\r\n" + trailer + "\r\n"
	}
	for _, c := range []struct {
		name    string
		chunks  int
		trailer string
	}{
		{"one chunk", 1, ""},
		{"twelve small chunks", 12, ""},
		{"trailer fields are one call", 4, "X-A: 1\r\nX-B: 2\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			arrived := make(chan struct{})
			resp := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body(c.chunks, c.trailer)
			srv := serve(t, testserver.Script(testserver.Read(), testserver.WriteString(resp), written(arrived), testserver.Hold()))
			n := newNode(t)
			trace, got := traceFrames(t, n, srv.URL("/"), httpclient.MethodGet, arrived)
			var want []frameView
			for i := 1; i <= c.chunks; i++ {
				want = append(want, frameView{httpclient.StatusBody, int64(3 * i), -1, false})
			}
			total := int64(3 * c.chunks)
			want = append(want,
				frameView{httpclient.StatusBody, total, -1, false},        // "0" CRLF: nothing returned
				frameView{httpclient.StatusConnected, total, -1, false},   // trailer: CONNECTED
				frameView{httpclient.StatusDisconnected, total, -1, true}) // CONNECTED step: R0, then cancel_request()
			assert.Equal(t, want, trace)
			assert.Equal(t, Completion{ResultSuccess, 200, []string{"Transfer-Encoding: chunked"}, []byte(strings.Repeat("abc", c.chunks))}, got)
		})
	}
}

// §1.10.2, §2.6.1.4: a chunk split across reads shows nothing until its last
// byte and CRLF arrived: Godot keeps the partial chunk in the client and
// read_response_body_chunk() returns an empty array meanwhile, so
// get_downloaded_bytes() stays 0 on every frame in between.
func TestAudit5ChunkSplitAcrossReads(t *testing.T) {
	first, more, second := make(chan struct{}), make(chan struct{}), make(chan struct{})
	srv := serve(t, testserver.Script(testserver.Read(),
		testserver.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhe"), written(first),
		testserver.Do("wait", func(*testserver.Conn) error { <-more; return nil }),
		testserver.WriteString("llo\r\n0\r\n\r\n"), written(second), testserver.Hold()))
	n := newNode(t)
	var got []Completion
	n.OnRequestCompleted(func(r Result, code int, h []string, b []byte) { got = append(got, Completion{r, code, h, b}) })
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	processUntil(t, n, httpclient.StatusBody)
	awaitChan(t, first, "the first part")
	for range 5 {
		n.Process()
		assert.Equal(t, httpclient.StatusBody, n.HTTPClientStatus())
		assert.Zero(t, n.DownloadedBytes(), "half a chunk is not delivered")
	}
	close(more)
	awaitChan(t, second, "the second part")
	var trace []frameView
	for len(got) == 0 && len(trace) < 10 {
		n.Process()
		trace = append(trace, frameView{n.HTTPClientStatus(), n.DownloadedBytes(), n.BodySize(), len(got) > 0})
	}
	assert.Equal(t, []frameView{
		{httpclient.StatusBody, 5, -1, false},
		{httpclient.StatusBody, 5, -1, false},
		{httpclient.StatusConnected, 5, -1, false},
		{httpclient.StatusDisconnected, 5, -1, true},
	}, trace)
	require.Len(t, got, 1)
	assert.Equal(t, "hello", string(got[0].Body))
}

// §2.6 (the CONNECTED row after a chunked body with a Content-Length),
// §2.6.1.7: Godot sets body_len from the Content-Length even when the body
// is chunked. The decoded size reaching it ends R0 on that chunk's frame
// (what follows is never read); a chunked end short of it goes CONNECTED,
// and the next frame's CONNECTED step gives R1 with code and headers. The
// port closes such a connection afterwards (§7 D2, COMPAT R4/H5), which the
// node must not show.
func TestAudit5ChunkedWithContentLength(t *testing.T) {
	t.Run("§2.6_R1_a_frame_after_the_end", func(t *testing.T) {
		arrived := make(chan struct{})
		resp := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
		srv := serve(t, testserver.Script(testserver.Read(), testserver.WriteString(resp), written(arrived), testserver.Hold()))
		trace, got := traceFrames(t, newNode(t), srv.URL("/"), httpclient.MethodGet, arrived)
		assert.Equal(t, []frameView{
			{httpclient.StatusBody, 3, 10, false},
			{httpclient.StatusBody, 3, 10, false},
			{httpclient.StatusConnected, 3, 10, false},
			{httpclient.StatusDisconnected, 3, 10, true},
		}, trace)
		assert.Equal(t, Completion{ResultChunkedBodySizeMismatch, 200, []string{"Transfer-Encoding: chunked", "Content-Length: 10"}, nil}, got)
	})
	t.Run("§2.6.1.7_R0_when_the_length_is_reached", func(t *testing.T) {
		arrived := make(chan struct{})
		resp := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
		srv := serve(t, testserver.Script(testserver.Read(), testserver.WriteString(resp), written(arrived), testserver.Hold()))
		trace, got := traceFrames(t, newNode(t), srv.URL("/"), httpclient.MethodGet, arrived)
		assert.Equal(t, []frameView{{httpclient.StatusDisconnected, 3, 3, true}}, trace)
		assert.Equal(t, "abc", string(got.Body))
		assert.Equal(t, ResultSuccess, got.Result)
	})
	for _, d := range drivers {
		t.Run("same_completion/"+d.Name, func(t *testing.T) {
			resp := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
			srv := serve(t, testserver.Respond(resp))
			n := newNode(t)
			o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
			assertCompletion(t, Completion{ResultChunkedBodySizeMismatch, 200, []string{"Transfer-Encoding: chunked", "Content-Length: 10"}, nil}, o)
			assert.Equal(t, int64(3), n.DownloadedBytes())
			assert.Equal(t, int64(10), n.BodySize())
		})
	}
}

// §2.6.1.3, §1.10.1, §2.6.1.7: a read-until-close body reads
// download_chunk_size per frame and ends R0 on the frame whose read meets
// the FIN (the client turns DISCONNECTED inside that read).
func TestAudit5UntilCloseFrames(t *testing.T) {
	const size = 200000
	arrived := make(chan struct{})
	resp := "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + strings.Repeat("u", size)
	srv := serve(t, testserver.Script(testserver.Read(), testserver.Do("write-and-close", func(c *testserver.Conn) error {
		err := c.WriteAndClose([]byte(resp))
		close(arrived)
		return err
	})))
	trace, got := traceFrames(t, newNode(t), srv.URL("/"), httpclient.MethodGet, arrived)
	assert.Equal(t, []frameView{
		{httpclient.StatusBody, 65536, -1, false},
		{httpclient.StatusBody, 131072, -1, false},
		{httpclient.StatusBody, 196608, -1, false},
		{httpclient.StatusDisconnected, size, -1, true},
	}, trace)
	assert.Equal(t, ResultSuccess, got.Result)
	assert.Len(t, got.Body, size)
}

// §1.10.2.2, §2.6 (CONNECTION_ERROR → R4), §2.9.7: a chunk-protocol error
// turns the client CONNECTION_ERROR inside the read, and the next step gives
// R4 with nothing. What the read returned first still counted:
// "5;a=b" is parsed as far as the ';' and its five bytes are read and
// returned (get_downloaded_bytes() 3 + 5); a bad chunk terminator returns
// nothing. Every driver.
func TestAudit5ChunkErrorsKeepCounters(t *testing.T) {
	for _, c := range []struct {
		name       string
		chunks     string
		downloaded int64
	}{
		{"§1.10.2.2_extension_still_returns_its_chunk", "3\r\nabc\r\n5;a=b\r\nhello\r\n0\r\n\r\n", 8},
		{"§1.10.2.5_bad_terminator_returns_nothing", "3\r\nabc\r\n5\r\nhelloXY0\r\n\r\n", 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"+c.chunks))
				o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
				assertCompletion(t, Completion{Result: ResultConnectionError}, o)
				assert.Equal(t, c.downloaded, n.DownloadedBytes(), "get_downloaded_bytes() after R4")
				assert.Equal(t, int64(-1), n.BodySize())
			})
		})
	}
}

// §2.6.1.1, §2.7.1, §2.9.7, §2.8.2: responses without a body, every driver:
// the completion, and get_body_size() −1 (Godot's body_len is only set for
// a body it will read). A Content-Encoding on an empty body is never fed to
// the decoder: R0, not R8.
func TestAudit5ResponsesWithoutBody(t *testing.T) {
	for _, c := range []struct {
		name   string
		method httpclient.Method
		resp   string
		want   Completion
	}{
		{"§2.6.1.1_HEAD_with_Content-Length", httpclient.MethodHead,
			"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
			Completion{ResultSuccess, 200, []string{"Content-Length: 10"}, nil}},
		{"§2.7.1_HEAD_without_header_lines_is_R6", httpclient.MethodHead,
			"HTTP/1.1 200 OK\r\n\r\n", Completion{Result: ResultNoResponse}},
		{"§2.6_204_without_framing_ends_from_CONNECTED", httpclient.MethodGet,
			"HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n",
			Completion{ResultSuccess, 204, []string{"Server: x"}, nil}},
		{"§2.6.1.1_Content-Length_0", httpclient.MethodGet,
			"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
			Completion{ResultSuccess, 200, []string{"Content-Length: 0"}, nil}},
		{"§2.8.2_gzip_HEAD", httpclient.MethodHead,
			"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 20\r\n\r\n",
			Completion{ResultSuccess, 200, []string{"Content-Encoding: gzip", "Content-Length: 20"}, nil}},
		{"§2.8.2_gzip_304", httpclient.MethodGet,
			"HTTP/1.1 304 Not Modified\r\nContent-Encoding: gzip\r\n\r\n",
			Completion{ResultSuccess, 304, []string{"Content-Encoding: gzip"}, nil}},
		{"§2.8.2_deflate_empty_chunked", httpclient.MethodGet,
			"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			Completion{ResultSuccess, 200, []string{"Content-Encoding: deflate", "Transfer-Encoding: chunked"}, nil}},
	} {
		t.Run(c.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := serve(t, testserver.Respond(c.resp))
				o := d.run(t, n, srv.URL("/"), nil, c.method, nil)
				assertCompletion(t, c.want, o)
				assert.Equal(t, int64(-1), n.BodySize(), "get_body_size()")
				assert.Zero(t, n.DownloadedBytes(), "get_downloaded_bytes()")
			})
		})
	}
}

// §2.6.1.1, §2.9.5, §2.10: a head that declares a body, then the FIN. The
// BODY step runs first — body_len is set, body_size_limit checked (R7 wins
// over the cut), download_file opened — and only the next step sees the
// client DISCONNECTED (R2, code 0: Godot's path for a fixed-length body cut
// short; a chunked one is R1 by §7 D3, Godot's R0).
func TestAudit5HeadThenFIN(t *testing.T) {
	for _, c := range []struct {
		name     string
		head     string
		limit    int64
		want     Completion
		bodySize int64
	}{
		{"§2.9.5_Content-Length_R2", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", -1,
			Completion{Result: ResultCantConnect}, 5},
		{"§2.6.1.1_limit_checked_before_the_cut_R7", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 2,
			Completion{ResultBodySizeLimitExceeded, 200, []string{"Content-Length: 5"}, nil}, 5},
		{"§7_D3_chunked_R1", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", -1,
			Completion{ResultChunkedBodySizeMismatch, 200, []string{"Transfer-Encoding: chunked"}, nil}, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := serve(t, testserver.RespondAndClose(c.head))
				require.NoError(t, n.SetBodySizeLimit(c.limit))
				file := filepath.Join(t.TempDir(), "out")
				require.NoError(t, os.WriteFile(file, []byte("old"), 0o644))
				require.NoError(t, n.SetDownloadInPlace(true))
				require.NoError(t, n.SetDownloadFile(file))
				o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
				assertCompletion(t, c.want, o)
				assert.Equal(t, c.bodySize, n.BodySize())
				assert.Zero(t, n.DownloadedBytes())
				b, err := os.ReadFile(file)
				require.NoError(t, err)
				if c.limit >= 0 {
					assert.Equal(t, "old", string(b), "R7 comes before download_file is opened")
				} else {
					assert.Empty(t, b, "download_file was opened (truncated) by the BODY step")
				}
			})
		})
	}
}

// §2.8.2.2, §2.8.2.3, §2.6.1.6, §2.9.3: Godot decodes a whole wire chunk
// (every piece of it) before it checks body_size_limit against the total
// and writes the chunk's output, so a chunk that fails to decode or passes
// the limit writes nothing: a body that arrives in one chunk leaves an
// in-place download_file empty (opened, truncated, nothing written). The
// port's decoder streams its output piece by piece; the node takes back
// what the failing chunk wrote.
func TestAudit5InPlaceFileAfterDecodeFailure(t *testing.T) {
	plain := []byte(strings.Repeat("a", 200000))
	gz := gzipBytes(t, plain)
	badCRC := bytes.Clone(gz)
	badCRC[len(badCRC)-6] ^= 1
	for _, c := range []struct {
		name  string
		body  []byte
		limit int64
		want  Result
		keep  bool
	}{
		{"§2.8.2.3_limit_passed_inside_the_chunk", gz, 100000, ResultBodySizeLimitExceeded, false},
		{"§2.8.2.2_checksum_fails_at_the_end_of_the_chunk", badCRC, -1, ResultBodyDecompressFailed, false},
		{"§2.8.2.3_keep_partial_download", gz, 100000, ResultBodySizeLimitExceeded, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				resp := "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(len(c.body)) + "\r\n\r\n" + string(c.body)
				srv := serve(t, testserver.Respond(resp))
				file := filepath.Join(t.TempDir(), "out")
				require.NoError(t, os.WriteFile(file, []byte("previous"), 0o644))
				if c.keep {
					require.NoError(t, n.SetKeepPartialDownload(true))
				} else {
					require.NoError(t, n.SetDownloadInPlace(true))
				}
				require.NoError(t, n.SetDownloadFile(file))
				require.NoError(t, n.SetBodySizeLimit(c.limit))
				o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
				assertCompletion(t, Completion{c.want, 200, []string{"Content-Encoding: gzip", "Content-Length: " + strconv.Itoa(len(c.body))}, nil}, o)
				assert.Equal(t, int64(len(c.body)), n.DownloadedBytes(), "compressed bytes counted (§2.8.2.6)")
				fi, err := os.Stat(file)
				require.NoError(t, err)
				assert.Zero(t, fi.Size(), "nothing of the failing chunk is written")
			})
		})
	}
}

// §2.8.2.1, §2.8.2.3, §2.6.1.5, §2.9.3: Godot's zlib hands over, for every
// wire chunk, all the output that chunk's bytes decode to, and the limit is
// checked on that running total chunk by chunk. klauspost's inflaters keep
// up to 32 KiB of decoded output in their window until it fills or the
// block ends, so with them a limit passed inside that lag was seen one chunk
// later (get_downloaded_bytes() 80000 here) and an in-place file kept less;
// the node decodes with the eager inflater (inflate.go). Stored (level 0) gzip in 40000-byte chunks, one
// read each: after the first, zlib has output 40000 − 10 (gzip header) − 5
// (stored block header) bytes.
func TestAudit5DecodedOutputPerWireChunk(t *testing.T) {
	plain := bytes.Repeat([]byte("0123456789"), 10000)
	gz := gzipAt(t, plain, 0)
	resp := "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedBody(gz, 40000)
	headers := []string{"Content-Encoding: gzip", "Transfer-Encoding: chunked"}
	t.Run("§2.8.2.3_R7_on_the_chunk_that_passes_the_limit", func(t *testing.T) {
		eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
			srv := serve(t, testserver.Respond(resp))
			require.NoError(t, n.SetBodySizeLimit(35000))
			o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
			assertCompletion(t, Completion{ResultBodySizeLimitExceeded, 200, headers, nil}, o)
			assert.Equal(t, int64(40000), n.DownloadedBytes(), "R7 on the first chunk, as Godot")
		})
	})
	t.Run("§2.9.3_in-place_file_holds_the_chunks_before", func(t *testing.T) {
		eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
			srv := serve(t, testserver.Respond(resp))
			file := filepath.Join(t.TempDir(), "out")
			require.NoError(t, n.SetDownloadInPlace(true))
			require.NoError(t, n.SetDownloadFile(file))
			require.NoError(t, n.SetBodySizeLimit(70000))
			o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
			assertCompletion(t, Completion{ResultBodySizeLimitExceeded, 200, headers, nil}, o)
			assert.Equal(t, int64(80000), n.DownloadedBytes())
			b, err := os.ReadFile(file)
			require.NoError(t, err)
			assert.Equal(t, 40000-15, len(b), "the first chunk's output, all of it")
			assert.True(t, bytes.Equal(plain[:len(b)], b))
		})
	})
	t.Run("§2.8.2_no_limit_same_body", func(t *testing.T) {
		eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
			srv := serve(t, testserver.Respond(resp))
			o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
			assertCompletion(t, Completion{ResultSuccess, 200, headers, plain}, o)
		})
	})
}

// §2.4.2, §2.4.5, §2.4.8, §2.12.3: request() return codes by state. Busy
// from request() until the completion was delivered — also while a
// RESULT_CANT_CONNECT queued by request() itself waits for the next frame,
// and the busy check comes before the URL is parsed. cancel_request() frees
// the node at once: a request in the same frame starts, and only its
// completion comes.
func TestAudit5RequestReturnCodes(t *testing.T) {
	srv := serve(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	t.Run("§2.4.8_ERR_CANT_CONNECT_then_busy_until_delivered", func(t *testing.T) {
		n := newNode(t)
		var got []Result
		n.OnRequestCompleted(func(r Result, _ int, _ []string, _ []byte) { got = append(got, r) })
		err := n.Request("http://[::1]:8080/", nil, httpclient.MethodGet, "")
		require.ErrorIs(t, err, godot.ErrCantConnect)
		assert.ErrorIs(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""), godot.ErrBusy, "the queued completion keeps it busy")
		assert.ErrorIs(t, n.Request("ftp://x", nil, httpclient.MethodGet, ""), godot.ErrBusy, "busy is checked before the URL")
		n.Process()
		assert.Equal(t, []Result{ResultCantConnect}, got)
		assert.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
		nodes.ProcessUntil(t, n, func() bool { return len(got) == 2 }, func() string { return "no second completion" })
		assert.Equal(t, []Result{ResultCantConnect, ResultSuccess}, got)
	})
	for _, threads := range []bool{false, true} {
		t.Run("§2.12.3_cancel_then_request_in_the_same_frame/threads="+strconv.FormatBool(threads), func(t *testing.T) {
			n := newNode(t)
			require.NoError(t, n.SetUseThreads(threads))
			var got []Completion
			n.OnRequestCompleted(func(r Result, code int, h []string, b []byte) { got = append(got, Completion{r, code, h, b}) })
			require.NoError(t, n.Request(srv.URL("/first"), nil, httpclient.MethodGet, ""))
			assert.ErrorIs(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""), godot.ErrBusy)
			assert.ErrorIs(t, n.Request("http://", nil, httpclient.MethodGet, ""), godot.ErrBusy)
			n.CancelRequest()
			require.NoError(t, n.Request(srv.URL("/second"), nil, httpclient.MethodPost, "x"))
			nodes.ProcessUntil(t, n, func() bool { return len(got) > 0 }, func() string { return "no completion" })
			for range 3 {
				n.Process()
			}
			require.Len(t, got, 1, "only the second request completes")
			assert.Equal(t, Completion{ResultSuccess, 200, []string{"Content-Length: 2"}, []byte("ok")}, got[0])
		})
	}
	t.Run("§2.4.2_Do_while_a_request_is_active", func(t *testing.T) {
		n := newNode(t)
		require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
		_, err := n.Do(t.Context(), srv.URL("/"), nil, httpclient.MethodGet, nil)
		assert.ErrorIs(t, err, godot.ErrBusy)
	})
}

// §2.8.2.2, §2.8.2.3: Godot feeds a wire chunk to the decoder in pieces (one
// put_partial_data each, up to a ring buffer of output, 64 KiB here) and
// checks a piece for a decoding error before it checks the limit. A
// 120000-byte body with a bad checksum in one chunk, limit 100000: the
// first piece (~64 KiB) is within the limit, the second ends the stream,
// passes the limit and fails the checksum — R8. The port checks the limit as
// the output streams, and stops at R7 before the checksum is read.
func TestAudit5DecodeErrorBeforeLimitInAPiece(t *testing.T) {
	gz := gzipBytes(t, []byte(strings.Repeat("a", 120000)))
	gz[len(gz)-6] ^= 1 // the CRC-32
	resp := "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(len(gz)) + "\r\n\r\n" + string(gz)
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		srv := serve(t, testserver.Respond(resp))
		require.NoError(t, n.SetBodySizeLimit(100000))
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		assert.Equal(t, ResultBodyDecompressFailed, o.C.Result)
	})
}

// §2.7.2, §2.8.1.7, §2.9.7: through a redirect, frame by frame. The 302's
// BODY step handles the response (downloaded 0), follows it — a new
// connection, CONNECTING — and never reads its body; body_len stays −1
// until the final response's body starts. Every driver ends with the final
// response's counters.
func TestAudit5RedirectCounters(t *testing.T) {
	handler := func(c *testserver.Conn) {
		req, err := c.ReadRequest()
		if err != nil {
			return
		}
		if bytes.HasPrefix(req, []byte("GET /final ")) {
			_ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nend"))
		} else {
			_ = c.Write([]byte("HTTP/1.1 302 Found\r\nLocation: /final\r\nContent-Length: 5\r\n\r\nmoved"))
		}
		_ = c.Hold()
	}
	t.Run("process_frames", func(t *testing.T) {
		srv := serve(t, handler)
		n := newNode(t)
		var got []Result
		n.OnRequestCompleted(func(r Result, _ int, _ []string, _ []byte) { got = append(got, r) })
		require.NoError(t, n.Request(srv.URL("/start"), nil, httpclient.MethodGet, ""))
		processUntil(t, n, httpclient.StatusBody)
		n.Process() // the 302's BODY step
		assert.Equal(t, frameView{httpclient.StatusConnecting, 0, -1, false},
			frameView{n.HTTPClientStatus(), n.DownloadedBytes(), n.BodySize(), len(got) > 0})
		processUntil(t, n, httpclient.StatusBody)
		assert.Equal(t, int64(-1), n.BodySize(), "the final head arrived, its body not started")
		nodes.ProcessUntil(t, n, func() bool { return len(got) > 0 }, func() string { return "no completion" })
		assert.Equal(t, []Result{ResultSuccess}, got)
	})
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		srv := serve(t, handler)
		o := d.run(t, n, srv.URL("/start"), nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 200, []string{"Content-Length: 3"}, []byte("end")}, o)
		assert.Equal(t, int64(3), n.BodySize())
		assert.Equal(t, int64(3), n.DownloadedBytes())
	})
}

// §1.5.10, §2.4.8: Godot starts the TCP connect of an IP literal inside
// connect_to_host() for every target, TLS or not, so a connect that cannot
// start makes request() return ERR_CANT_CONNECT, and a RESULT_CANT_CONNECT
// follows, for https:// as for http:// (on unix; COMPAT H14).
func TestAudit5TLSConnectCannotStart(t *testing.T) {
	switch runtime.GOOS {
	case "windows", "plan9", "js", "wasip1":
		t.Skip("no non-blocking connect here: the first Poll reports it (COMPAT H14)")
	}
	d := net.Dialer{Timeout: 200 * time.Millisecond}
	if _, err := d.Dial("tcp4", "255.255.255.255:443"); !errors.Is(err, syscall.ENETUNREACH) && !errors.Is(err, syscall.EACCES) {
		t.Skipf("a connect to 255.255.255.255 does not fail at once here: %v", err)
	}
	n := newNode(t)
	o := viaCallback(t, n, "https://255.255.255.255/", nil, httpclient.MethodGet, nil)
	assert.ErrorIs(t, o.ReqErr, godot.ErrCantConnect, "returned by request() (§2.4.8)")
	assertCompletion(t, Completion{Result: ResultCantConnect}, o)
	assert.Equal(t, 1, o.Frames, "the queued completion comes with the first frame")
}

// §7.2 brotli with body_size_limit (the pieces of Godot's gzip/deflate
// feeding loop are not applied to br, which Godot does not decode): R7.
func TestAudit5BrotliWithLimit(t *testing.T) {
	br := brotliBytes(t, []byte(strings.Repeat("b", 50000)))
	resp := "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: " + strconv.Itoa(len(br)) + "\r\n\r\n" + string(br)
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		srv := serve(t, testserver.Respond(resp))
		require.NoError(t, n.SetAcceptBrotli(true))
		require.NoError(t, n.SetBodySizeLimit(1000))
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		assert.Equal(t, ResultBodySizeLimitExceeded, o.C.Result)
	})
}
