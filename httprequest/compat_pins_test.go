package httprequest

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// TestNodeMidChunkNothingStale pins COMPAT.md H4 (§7 D3, §1.10.5) through
// the node, which keeps one client for all its requests: a request whose
// chunked body stalls in the middle of a chunk times out (the client is
// closed, §2.11.2), and the node's next request, to another server, gets
// its own chunked body whole. In Godot the abandoned chunk's state survives
// close() and swallows the next response's bytes.
func TestNodeMidChunkNothingStale(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		stall := serve(t, testserver.Script(testserver.Read(),
			testserver.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nxy"), testserver.Hold()))
		good := serve(t, testserver.RespondAndClose("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
		require.NoError(t, n.SetTimeout(300*time.Millisecond))
		o := d.run(t, n, stall.URL("/"), nil, httpclient.MethodGet, nil)
		require.Equal(t, ResultTimeout, o.C.Result, "the first request stalls mid-chunk (cause %v)", o.Err)
		require.NoError(t, n.SetTimeout(0))
		o = d.run(t, n, good.URL("/"), nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Transfer-Encoding: chunked"), []byte("abc")}, o)
	})
}

// TestRedirectSchemeChangeDropsCredentials pins the scheme part of COMPAT.md
// Q8 (§7 D2, §2.8.1.7): a redirect from https://127.0.0.1:P to
// http://127.0.0.1:P — same host and port, another scheme — is another
// origin, so Authorization, Proxy-Authorization and Cookie are not sent on
// the plain hop (Godot re-sends every header unchanged). One port serves
// both: a connection whose first byte is a TLS handshake record gets TLS.
func TestRedirectSchemeChangeDropsCredentials(t *testing.T) {
	ca := testserver.NewCA(t)
	cert := ca.Issue(t, "127.0.0.1")
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { _ = ln.Close() })
		port := ln.Addr().(*net.TCPAddr).Port
		var mu sync.Mutex
		var plain []http.Header // the headers of each plain-HTTP request
		var wg sync.WaitGroup
		t.Cleanup(wg.Wait)
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer conn.Close()
					_ = conn.SetDeadline(time.Now().Add(maxWait))
					br := bufio.NewReader(conn)
					first, err := br.Peek(1)
					if err != nil {
						return
					}
					if first[0] == 0x16 {
						tc := tls.Server(&peekedConn{conn, br}, &tls.Config{Certificates: []tls.Certificate{cert}})
						req, err := http.ReadRequest(bufio.NewReader(tc))
						if err != nil {
							return
						}
						_ = req
						_, _ = tc.Write([]byte("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:" + strconv.Itoa(port) + "/plain\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
						_ = tc.Close()
						return
					}
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					mu.Lock()
					plain = append(plain, req.Header)
					mu.Unlock()
					_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
				}()
			}
		}()
		require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(ca.Pool(), "")))
		h := []string{"Authorization: Bearer secret", "Proxy-Authorization: Basic eDp5", "Cookie: s=1", "X-Other: kept"}
		o := d.run(t, n, "https://127.0.0.1:"+strconv.Itoa(port)+"/", h, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 2", "Connection: close"), []byte("ok")}, o)
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, plain, 1, "one plain hop")
		assert.Empty(t, plain[0].Values("Authorization"), "§7 D2: no Authorization to another scheme")
		assert.Empty(t, plain[0].Values("Proxy-Authorization"), "§7 D2: no Proxy-Authorization to another scheme")
		assert.Empty(t, plain[0].Values("Cookie"), "§7 D2: no Cookie to another scheme")
		assert.Equal(t, "kept", plain[0].Get("X-Other"), "other headers are re-sent as Godot does")
	})
}

// peekedConn is a net.Conn whose first bytes were peeked into a bufio.Reader.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// TestBodySizeLimitIs64Bit pins the body_size_limit part of COMPAT.md Q5
// (§7 D3, §2.9.7): Godot's 32-bit limit of 5 000 000 000 wraps to
// 705 032 704 and a 3 000 000 000-byte body is refused at its head
// (RESULT_BODY_SIZE_LIMIT_EXCEEDED); the port's 64-bit limit lets it
// through, so the request runs until its timeout.
// (TestSizesAre64Bit covers get_body_size only.)
func TestBodySizeLimitIs64Bit(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		srv := serve(t, testserver.Script(testserver.Read(),
			testserver.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 3000000000\r\n\r\nabc"), testserver.Hold()))
		require.NoError(t, n.SetBodySizeLimit(5_000_000_000))
		require.NoError(t, n.SetTimeout(300*time.Millisecond))
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		assert.Equal(t, ResultTimeout, o.C.Result, "§7 D3: no 32-bit limit (cause %v)", o.Err)
		assert.Equal(t, int64(3_000_000_000), n.BodySize())
		assert.Equal(t, int64(3), n.DownloadedBytes())
	})
}

// TestMultipartFileGrewSentAsSized pins COMPAT.md U5's precomputed length:
// a file part is sent as the size it had when File added it, so that the
// form stays whole and matches its Content-Length when the file grew in
// between (a log still being written). Read to its end instead, the part
// takes the trailer's place within the declared length and the server gets
// a broken form. Three drivers.
func TestMultipartFileGrewSentAsSized(t *testing.T) {
	eachStreamDriver(t, func(t *testing.T, d streamDriver, n *HTTPRequest) {
		path := filepath.Join(t.TempDir(), "log.txt")
		require.NoError(t, os.WriteFile(path, []byte("hello"), 0o644))
		m := NewMultipart().Field("a", "b").File("f", path)
		require.NoError(t, m.Err())
		require.NoError(t, os.WriteFile(path, []byte("hello, and more lines written since"), 0o644))
		type form struct {
			a, f string
			err  error
		}
		got := make(chan form, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var fm form
			if fm.err = r.ParseMultipartForm(1 << 20); fm.err == nil {
				fm.a = r.FormValue("a")
				if f, _, err := r.FormFile("f"); err != nil {
					fm.err = err
				} else {
					b, _ := io.ReadAll(f)
					f.Close()
					fm.f = string(b)
				}
			}
			got <- fm
		}))
		defer srv.Close()
		body, err := m.Open()
		require.NoError(t, err)
		defer body.Close()
		o := d.run(t, n, srv.URL+"/", []string{m.Header()}, httpclient.MethodPost, body, m.Len())
		require.Equal(t, ResultSuccess, o.C.Result, "cause: %v", o.Err)
		fm := <-got
		require.NoError(t, fm.err, "the server's parse of the form")
		assert.Equal(t, "b", fm.a)
		assert.Equal(t, "hello", fm.f, "the file part as it was when added")
	})
}

// TestDoResumableForeignRangeCutWritesNothing pins COMPAT.md Q17's "two
// versions are never spliced" for a 206 whose Content-Range starts
// elsewhere than the file's end and whose body is then cut: refused at
// the head (ErrResumeMismatch), the file and its state untouched. The
// check after the body (endsRange) takes back a whole body of the wrong
// range, so TestDoResumableRefusals cannot tell whether the head was
// checked; a cut body never reaches it, and its bytes stayed in the file
// (written in place, keep_partial_download) with the state still vouching
// for it: the next call would append the rest after them.
func TestDoResumableForeignRangeCutWritesNothing(t *testing.T) {
	srv := serve(t, testserver.Script(testserver.Read(), testserver.WriteAndClose([]byte(
		"HTTP/1.1 206 Partial Content\r\nETag: \"e\"\r\nContent-Range: bytes 0-10/11\r\nContent-Length: 11\r\n\r\nhel"))))
	n := New()
	defer n.Close()
	file := filepath.Join(t.TempDir(), "f.bin")
	require.NoError(t, n.SetDownloadFile(file))
	require.NoError(t, os.WriteFile(file, []byte("hello "), 0o644))
	url := srv.URL("/f.bin")
	require.NoError(t, writeResumeState(file+ResumeSuffix, &resumeState{URL: url, ETag: `"e"`, Length: 11}))
	stateBefore := fileBytes(t, file+ResumeSuffix)
	ctx, cancel := context.WithTimeout(context.Background(), maxWait)
	defer cancel()
	r, err := n.DoResumable(ctx, url, nil)
	assert.ErrorIs(t, err, ErrResumeMismatch)
	assert.Equal(t, ResultDownloadFileCantOpen, r.Result)
	assert.Equal(t, "hello ", string(fileBytes(t, file)), "file untouched")
	assert.Equal(t, stateBefore, fileBytes(t, file+ResumeSuffix), "state untouched")
}
