package httprequest

import (
	"errors"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/chunked"
	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// scenario is one server behaviour with the completion every driver must
// deliver.
type scenario struct {
	name    string
	handler func(c *testserver.Conn)
	tls     bool                                              // serve TLS with a certificate from an unknown CA
	url     func(t *testing.T, srv *testserver.Server) string // default srv.URL("/")
	headers []string
	method  httpclient.Method
	body    []byte
	setup   func(t *testing.T, n *HTTPRequest)
	want    Completion
	cause   error // errors.Is target for the error's cause (optional)
	check   func(t *testing.T, n *HTTPRequest, srv *testserver.Server, o outcome)
}

func (sc scenario) run(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		var srv *testserver.Server
		switch {
		case sc.tls:
			other := testserver.NewCA(t)
			srv = testserver.NewTLS(t, other.Issue(t, "127.0.0.1"), sc.handler)
			require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(testserver.NewCA(t).Pool(), "")))
		case sc.handler != nil:
			srv = serve(t, sc.handler)
		}
		if sc.setup != nil {
			sc.setup(t, n)
		}
		u := ""
		if sc.url != nil {
			u = sc.url(t, srv)
		} else {
			u = srv.URL("/")
		}
		o := d.run(t, n, u, sc.headers, sc.method, sc.body)
		assertCompletion(t, sc.want, o)
		if sc.cause != nil {
			assert.ErrorIs(t, o.Err, sc.cause)
		}
		if sc.check != nil {
			sc.check(t, n, srv, o)
		}
	})
}

const (
	chunkedHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	closeHead   = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
)

func hdrs(h ...string) []string { return h }

// §2.10: every Result that Godot can produce, from a real loopback scenario,
// with its response code, headers and body, identical in all three drivers
// (§7.3). RESULT_REQUEST_FAILED (9) is never produced, by Godot either.
func TestEveryResult(t *testing.T) {
	rawDeflate := rawDeflateBytes(t, []byte("hello hello hello"))
	scenarios := []scenario{
		// RESULT_SUCCESS (0)
		{name: "R0 Content-Length body (§5 row 1, §2.6.1.7)",
			handler: testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
			want:    Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")},
			check: func(t *testing.T, n *HTTPRequest, _ *testserver.Server, _ outcome) {
				assert.Equal(t, int64(2), n.BodySize()) // §2.9.7
				assert.Equal(t, int64(2), n.DownloadedBytes())
			}},
		{name: "R0 no framing: body ignored (§5 row 3, §1.9)",
			handler: testserver.Respond("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody"),
			want:    Completion{ResultSuccess, 200, hdrs("Server: x"), nil}},
		{name: "R0 read until close, FIN with the data (§5 row 4, §2.9.6)",
			handler: testserver.RespondAndClose(closeHead + "data"),
			want:    Completion{ResultSuccess, 200, hdrs("Connection: close"), []byte("data")},
			check: func(t *testing.T, n *HTTPRequest, _ *testserver.Server, _ outcome) {
				assert.Equal(t, int64(-1), n.BodySize())
				assert.Equal(t, int64(4), n.DownloadedBytes())
			}},
		{name: "R0 read until close, FIN 50 ms later (§5 row 5, §7 D3: Godot gives R4)",
			handler: testserver.Script(testserver.Read(), testserver.WriteString(closeHead+"data"),
				testserver.Sleep(50*time.Millisecond), testserver.Close()),
			want: Completion{ResultSuccess, 200, hdrs("Connection: close"), []byte("data")}},
		{name: "R0 chunked (§5 row 6)",
			handler: testserver.Respond(chunkedHead + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
			want:    Completion{ResultSuccess, 200, hdrs("Transfer-Encoding: chunked"), []byte("hello world")}},
		{name: "R0 Content-Length: 0, body size stays -1 (§2.6.1.1)",
			handler: testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
			want:    Completion{ResultSuccess, 200, hdrs("Content-Length: 0"), nil},
			check: func(t *testing.T, n *HTTPRequest, _ *testserver.Server, _ outcome) {
				assert.Equal(t, int64(-1), n.BodySize(), "QUIRK §2.6.1.1")
			}},
		{name: "R0 HEAD: Content-Length ignored (§1.8.6, §2.6.1.1)", method: httpclient.MethodHead,
			handler: testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"),
			want:    Completion{ResultSuccess, 200, hdrs("Content-Length: 10"), nil}},
		{name: "R0 a 404 with its body (§2.10)",
			handler: testserver.Respond("HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope"),
			want:    Completion{ResultSuccess, 404, hdrs("Content-Length: 4"), []byte("nope")}},
		{name: "R0 303 is not followed (§5 row 12, §2.8.1.1)",
			handler: testserver.Respond("HTTP/1.1 303 See Other\r\nLocation: /new\r\nContent-Length: 2\r\n\r\nxx"),
			want:    Completion{ResultSuccess, 303, hdrs("Location: /new", "Content-Length: 2"), []byte("xx")}},
		{name: "R0 first line not HTTP: code 200, line kept as a header (§5 row 10, §1.8.4)",
			handler: testserver.Respond("FOO 500 bar\r\nX: y\r\nContent-Length: 2\r\n\r\nhi"),
			want:    Completion{ResultSuccess, 200, hdrs("FOO 500 bar", "X: y", "Content-Length: 2"), []byte("hi")}},

		// RESULT_CHUNKED_BODY_SIZE_MISMATCH (1)
		{name: "R1 chunked body differs from Content-Length (§2.6)",
			handler: testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
			want:    Completion{ResultChunkedBodySizeMismatch, 200, hdrs("Content-Length: 3", "Transfer-Encoding: chunked"), nil}},
		{name: "R1 chunked body cut short (§2.9.5, §5 row 8, §7 D3: Godot gives R0 with the partial body)",
			handler: testserver.Script(testserver.Read(), testserver.WriteAndClose([]byte(chunkedHead+"5\r\nhello\r\n"))),
			want:    Completion{ResultChunkedBodySizeMismatch, 200, hdrs("Transfer-Encoding: chunked"), nil},
			cause:   io.ErrUnexpectedEOF},

		// RESULT_CANT_CONNECT (2)
		{name: "R2 connection refused (§2.6)",
			url: func(t *testing.T, _ *testserver.Server) string {
				return urlFor("127.0.0.1", testserver.ClosedPort(t), "/")
			},
			want: Completion{Result: ResultCantConnect}, cause: godot.ErrCantConnect},
		{name: "R2 fixed-length body cut short (§2.9.5, §5 row 9)",
			handler: testserver.Script(testserver.Read(), testserver.WriteAndClose([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello"))),
			want:    Completion{Result: ResultCantConnect}, cause: io.ErrUnexpectedEOF,
			check: func(t *testing.T, n *HTTPRequest, _ *testserver.Server, _ outcome) {
				assert.Equal(t, int64(100), n.BodySize())
				assert.Equal(t, int64(5), n.DownloadedBytes())
			}},
		{name: "R2 connect refused at once: [::1] is a 3-character host (§2.5.11, §2.4.8)",
			url:  func(*testing.T, *testserver.Server) string { return "http://[::1]:8080/" },
			want: Completion{Result: ResultCantConnect}, cause: godot.ErrInvalidParameter,
			check: func(t *testing.T, n *HTTPRequest, _ *testserver.Server, o outcome) {
				if !n.IsUsingThreads() && o.Frames > 0 {
					assert.ErrorIs(t, o.ReqErr, godot.ErrCantConnect, "returned and a deferred R2 (§2.4.8)")
				}
			}},
		{name: "R2 connect cannot start: no route to 255.255.255.255 (§1.5.10, §2.4.8)",
			url: func(t *testing.T, _ *testserver.Server) string {
				d := net.Dialer{Timeout: 200 * time.Millisecond}
				if _, err := d.Dial("tcp4", "255.255.255.255:80"); !errors.Is(err, syscall.ENETUNREACH) && !errors.Is(err, syscall.EACCES) {
					t.Skipf("a connect to 255.255.255.255 does not fail at once here: %v", err)
				}
				return "http://255.255.255.255:80/"
			},
			want: Completion{Result: ResultCantConnect}, cause: godot.Failed,
			check: func(t *testing.T, n *HTTPRequest, _ *testserver.Server, o outcome) {
				if !n.IsUsingThreads() && o.Frames > 0 {
					assert.ErrorIs(t, o.ReqErr, godot.ErrCantConnect, "returned and a deferred R2 (§2.4.8)")
				}
			}},

		// RESULT_CANT_RESOLVE (3)
		{name: "R3 unresolvable host (§2.6)",
			url:  func(*testing.T, *testserver.Server) string { return "http://nonexistent.invalid/" },
			want: Completion{Result: ResultCantResolve}, cause: godot.ErrCantResolve},

		// RESULT_CONNECTION_ERROR (4)
		{name: "R4 chunk extension: 5;a=b (§5 row 7, §1.10.2.2)",
			handler: testserver.Respond(chunkedHead + "5;a=b\r\nhello\r\n0\r\n\r\n"),
			want:    Completion{Result: ResultConnectionError}, cause: chunked.ErrNotHex},
		{name: "R4 peer closes before the response (§1.6.4.2)",
			handler: testserver.Script(testserver.Read(), testserver.Close()),
			want:    Completion{Result: ResultConnectionError}, cause: httpclient.ErrPeerClosed},
		{name: "R4 malformed header: request refused (§2.4.9, §1.17)",
			handler: testserver.Script(testserver.Hold()), headers: hdrs("InvalidHeader"),
			want: Completion{Result: ResultConnectionError}, cause: godot.ErrInvalidParameter},
		{name: "R4 header without a colon: Godot's own check when sent (§2.4.9)",
			handler: testserver.Script(testserver.Hold()), headers: hdrs("X-A 1"),
			want: Completion{Result: ResultConnectionError}, cause: godot.ErrInvalidParameter,
			check: func(t *testing.T, _ *HTTPRequest, srv *testserver.Server, _ outcome) {
				srv.WaitAccepted(1, 5*time.Second)
				srv.Close()
				assert.Empty(t, srv.Requests(), "nothing sent")
				assert.Equal(t, 1, srv.Accepted(), "connected first, as Godot")
			}},
		{name: "R4 CONNECT through HTTPRequest always fails (§2.5.11, issue #91259)", method: httpclient.MethodConnect,
			handler: testserver.Script(testserver.Hold()),
			want:    Completion{Result: ResultConnectionError}, cause: godot.ErrInvalidParameter},
		{name: "R4 strict mode rejects Content-Length: 1,2 (§7.4)",
			handler: testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 1,2\r\n\r\n"),
			setup:   func(t *testing.T, n *HTTPRequest) { require.NoError(t, n.SetStrict(true)) },
			want:    Completion{Result: ResultConnectionError}, cause: godot.ErrConnectionError},

		// RESULT_TLS_HANDSHAKE_ERROR (5)
		{name: "R5 certificate from an unknown authority (§2.6)", tls: true,
			handler: testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
			want:    Completion{Result: ResultTLSHandshakeError}, cause: godot.ErrCantConnect},

		// RESULT_NO_RESPONSE (6)
		{name: "R6 no header lines (§5 row 2, §2.7.1)",
			handler: testserver.Respond("HTTP/1.1 200 OK\r\n\r\n"),
			want:    Completion{Result: ResultNoResponse}},
		{name: "R6 100 Continue taken as the response (§1.8.7, §2.7.1)",
			handler: testserver.Respond("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
			want:    Completion{Result: ResultNoResponse}},

		// RESULT_BODY_SIZE_LIMIT_EXCEEDED (7)
		{name: "R7 Content-Length over the limit (§2.9.1)",
			handler: testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
			setup:   func(t *testing.T, n *HTTPRequest) { require.NoError(t, n.SetBodySizeLimit(4)) },
			want:    Completion{ResultBodySizeLimitExceeded, 200, hdrs("Content-Length: 5"), nil}},
		{name: "R7 streamed body over the limit (§2.6.1.5)",
			handler: testserver.RespondAndClose(closeHead + "0123456789"),
			setup:   func(t *testing.T, n *HTTPRequest) { require.NoError(t, n.SetBodySizeLimit(5)) },
			want:    Completion{ResultBodySizeLimitExceeded, 200, hdrs("Connection: close"), nil}},

		// RESULT_BODY_DECOMPRESS_FAILED (8)
		{name: "R8 raw deflate is not zlib (§5 last row, §2.8.2.1)",
			handler: respondBody("Content-Encoding: deflate", rawDeflate),
			want:    Completion{ResultBodyDecompressFailed, 200, hdrs("Content-Encoding: deflate", "Content-Length: "+itoa(len(rawDeflate))), nil}},

		// RESULT_DOWNLOAD_FILE_CANT_OPEN (10)
		{name: "R10 download_file in a missing directory (§2.6.1.1)",
			handler: testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
			setup: func(t *testing.T, n *HTTPRequest) {
				require.NoError(t, n.SetDownloadFile(filepath.Join(t.TempDir(), "missing", "f")))
			},
			want: Completion{ResultDownloadFileCantOpen, 200, hdrs("Content-Length: 2"), nil}, cause: godot.ErrFileCantOpen},

		// RESULT_DOWNLOAD_FILE_WRITE_ERROR (11)
		{name: "R11 the body's destination fails (§2.6.1.6, body writer)",
			handler: testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
			setup: func(t *testing.T, n *HTTPRequest) {
				require.NoError(t, n.SetBodyWriter(failingWriter{}))
			},
			want: Completion{ResultDownloadFileWriteError, 200, hdrs("Content-Length: 2"), nil}, cause: errWriterBroken,
			check: func(t *testing.T, _ *HTTPRequest, _ *testserver.Server, o outcome) {
				var we *BodyWriterError
				require.ErrorAs(t, o.Err, &we)
				assert.Equal(t, "httprequest: body writer: writer broken", we.Error())
				assert.True(t, strings.HasSuffix(o.Err.Error(), ": body_writer: ERR_FILE_CANT_WRITE: httprequest: body writer: writer broken"),
					"named for the body writer, not download_file: %q", o.Err)
			}},

		{name: "R11 a body writer that takes fewer bytes than it is given, without an error (io.ErrShortWrite, §7 D3)",
			handler: testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
			setup: func(t *testing.T, n *HTTPRequest) {
				require.NoError(t, n.SetBodyWriter(shortWriter{}))
			},
			want: Completion{ResultDownloadFileWriteError, 200, hdrs("Content-Length: 5"), nil}, cause: io.ErrShortWrite},

		// RESULT_REDIRECT_LIMIT_REACHED (12)
		{name: "R12 max_redirects 0 (§2.8.1.2)",
			handler: testserver.Respond("HTTP/1.1 301 Moved\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n"),
			setup:   func(t *testing.T, n *HTTPRequest) { require.NoError(t, n.SetMaxRedirects(0)) },
			want:    Completion{ResultRedirectLimitReached, 301, hdrs("Location: /b", "Content-Length: 0"), nil}},

		// RESULT_TIMEOUT (13)
		{name: "R13 a server that never answers (§2.11)",
			handler: testserver.Script(testserver.Read(), testserver.Hold()),
			setup:   func(t *testing.T, n *HTTPRequest) { require.NoError(t, n.SetTimeout(300*time.Millisecond)) },
			want:    Completion{Result: ResultTimeout}, cause: godot.ErrTimeout},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, sc.run)
	}
}

// respondBody answers with a Content-Length body and one extra header.
func respondBody(header string, body []byte) func(c *testserver.Conn) {
	head := "HTTP/1.1 200 OK\r\n" + header + "\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n"
	return testserver.Respond(head + string(body))
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

var errWriterBroken = errors.New("writer broken")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWriterBroken }

// shortWriter takes at most two bytes of each write and reports no error.
type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return min(len(p), 2), nil }

// §2.5 through the node: what a URL becomes — the host connected to, the
// Host header and the request target the server receives.
func TestURLHandling(t *testing.T) {
	cases := []struct {
		name     string
		url      string // PORT is replaced by the server's port
		wantLine string
		wantHost string
		noAuth   bool
	}{
		{"scheme lower-cased, empty path is / (§2.5.2, §2.5.9)", "HTTP://127.0.0.1:PORT", "GET / HTTP/1.1", "127.0.0.1:PORT", false},
		{"fragment dropped (§2.5.3)", "http://127.0.0.1:PORT/a?b=1#frag", "GET /a?b=1 HTTP/1.1", "127.0.0.1:PORT", false},
		{"path from the first '/', query kept (§2.5.4)", "http://127.0.0.1:PORT/x/y?z=/w", "GET /x/y?z=/w HTTP/1.1", "127.0.0.1:PORT", false},
		{"userinfo dropped, no Authorization (§2.5.5)", "http://user:secret@127.0.0.1:PORT/p", "GET /p HTTP/1.1", "127.0.0.1:PORT", true},
		{"host lower-cased (§2.5.7)", "http://LocalHost:PORT/", "GET / HTTP/1.1", "localhost:PORT", false},
		{"port with a sign (§2.5.8)", "http://127.0.0.1:+PORT/", "GET / HTTP/1.1", "127.0.0.1:PORT", false},
		{"inet_aton form: resolved as getaddrinfo does (§1.6.1)", "http://127.1:PORT/", "GET / HTTP/1.1", "127.1:PORT", false},
		{"inet_aton form, one number (§1.6.1)", "http://2130706433:PORT/", "GET / HTTP/1.1", "2130706433:PORT", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
				port := strconv.Itoa(srv.Port())
				o := d.run(t, n, strings.ReplaceAll(c.url, "PORT", port), nil, httpclient.MethodGet, nil)
				require.Equal(t, ResultSuccess, o.C.Result, "%v", o.Err)
				srv.Close()
				req := string(srv.Requests()[0])
				line, _, _ := strings.Cut(req, "\r\n")
				assert.Equal(t, c.wantLine, line)
				assert.True(t, hasLine(req, "Host: "+strings.ReplaceAll(c.wantHost, "PORT", port)), "%q", req)
				if c.noAuth {
					assert.NotContains(t, strings.ToLower(req), "authorization")
				}
			})
		})
	}
	// §2.5.4: a '?' with no '/' before it stays in the host, which does not
	// resolve; §2.5.6, §2.5.8, §2.5.9, §2.5.10: rejected URLs (more in
	// TestInvalidURLNoCompletion and wire's URL tests).
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		o := d.run(t, n, "http://nonexistent.invalid?x=1", nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{Result: ResultCantResolve}, o)
	})
	// §2.5.1: a new request resets the counters of the last one.
	n := New()
	defer n.Close()
	srv := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"))
	o := viaCallback(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
	require.Equal(t, ResultSuccess, o.C.Result)
	require.Equal(t, int64(3), n.DownloadedBytes())
	srv2 := serve(t, testserver.Script(testserver.Read(), testserver.Hold()))
	require.NoError(t, n.Request(srv2.URL("/"), nil, httpclient.MethodGet, ""))
	assert.Equal(t, int64(0), n.DownloadedBytes())
	assert.Equal(t, int64(-1), n.BodySize())
	n.CancelRequest()
}
