package httprequest

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// route answers every request on a connection with respond(request line,
// whole request), until the client closes it.
func route(respond func(line string, req []byte) string) func(c *testserver.Conn) {
	return func(c *testserver.Conn) {
		for {
			req, err := c.ReadRequest()
			if err != nil {
				return
			}
			line, _, _ := strings.Cut(string(req), "\r\n")
			if c.Write([]byte(respond(line, req))) != nil {
				return
			}
		}
	}
}

// requestLog collects the requests several servers receive, in order.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) add(who string, req []byte) {
	l.mu.Lock()
	l.reqs = append(l.reqs, who+" "+string(req))
	l.mu.Unlock()
}

func (l *requestLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.reqs...)
}

func redirect(code int, location string) string {
	return "HTTP/1.1 " + strconv.Itoa(code) + " Moved\r\nLocation: " + location + "\r\nContent-Length: 0\r\n\r\n"
}

func headerLines(req string) []string {
	head, _, _ := strings.Cut(req, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	return lines[1:]
}

func hasLine(req, line string) bool {
	for _, l := range headerLines(req) {
		if l == line {
			return true
		}
	}
	return false
}

// §2.8.1: a chain of a relative (path) Location, an absolute one to another
// port, a host change and a scheme change, ending in a 200. Method, body and
// headers go again unchanged (§2.8.1.7, POST stays POST), except that
// Authorization, Proxy-Authorization and Cookie are not sent to another
// origin (§7 D2) — and are sent again when the chain comes back to it.
func TestRedirectChainAcrossOrigins(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		var log requestLog
		ca := testserver.NewCA(t)
		require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(ca.Pool(), "")))
		var a, b *testserver.Server
		tlsSrv := testserver.NewTLS(t, ca.Issue(t, "localhost", "127.0.0.1"), route(func(line string, req []byte) string {
			log.add("tls", req)
			return redirect(301, a.URL("/back"))
		}))
		b = serve(t, route(func(line string, req []byte) string {
			log.add("b", req)
			switch {
			case strings.HasPrefix(line, "POST /two "):
				return redirect(302, "http://localhost:"+strconv.Itoa(b.Port())+"/three") // host change
			case strings.HasPrefix(line, "POST /three "):
				return redirect(301, tlsSrv.URL("/four")) // scheme change
			}
			return "HTTP/1.1 500 X\r\nContent-Length: 0\r\n\r\n"
		}))
		a = serve(t, route(func(line string, req []byte) string {
			log.add("a", req)
			switch {
			case strings.HasPrefix(line, "POST /start "):
				return redirect(301, "/one")
			case strings.HasPrefix(line, "POST /one "):
				return redirect(302, b.URL("/two")) // port change
			case strings.HasPrefix(line, "POST /back "):
				return "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone"
			}
			return "HTTP/1.1 500 X\r\nContent-Length: 0\r\n\r\n"
		}))
		headers := []string{"Authorization: Bearer secret", "Cookie: s=1", "Proxy-Authorization: Basic x", "X-Keep: 1"}
		o := d.run(t, n, a.URL("/start"), headers, httpclient.MethodPost, []byte("payload"))
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 4"), []byte("done")}, o)

		reqs := log.all()
		require.Len(t, reqs, 6)
		wantPaths := []string{"a POST /start ", "a POST /one ", "b POST /two ", "b POST /three ", "tls POST /four ", "a POST /back "}
		sameOrigin := []bool{true, true, false, false, false, true}
		for i, req := range reqs {
			assert.True(t, strings.HasPrefix(req, wantPaths[i]), "hop %d: %q", i, req)
			assert.True(t, strings.HasSuffix(req, "\r\n\r\npayload"), "hop %d keeps the body (§2.8.1.7)", i)
			assert.True(t, hasLine(req, "X-Keep: 1"), "hop %d", i)
			assert.True(t, hasLine(req, acceptGzipHeader), "hop %d", i)
			for _, cred := range headers[:3] {
				assert.Equal(t, sameOrigin[i], hasLine(req, cred), "hop %d %s (§7 D2)", i, cred)
			}
		}
		assert.True(t, hasLine(reqs[3], "Host: localhost:"+strconv.Itoa(b.Port())))
		assert.Equal(t, int64(4), n.DownloadedBytes(), "reset on each hop (§2.7.2, §2.9.7)")
	})
}

// §2.8.1.2: max_redirects 8 (default) follows 8 and fails on the 9th with
// RESULT_REDIRECT_LIMIT_REACHED and that response's code and headers; 0
// follows none; −1 follows until the server stops redirecting.
func TestRedirectLimit(t *testing.T) {
	cases := []struct {
		name     string
		max      int
		stopAt   int // the server answers 200 at this hop (0: never)
		want     Completion
		requests int
	}{
		{"default 8", 8, 0, Completion{ResultRedirectLimitReached, 301, hdrs("Location: /9", "Content-Length: 0"), nil}, 9},
		{"8 is enough for 8", 8, 8, Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}, 9},
		{"0 follows none", 0, 0, Completion{ResultRedirectLimitReached, 301, hdrs("Location: /1", "Content-Length: 0"), nil}, 1},
		{"-1 is unlimited", -1, 20, Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}, 21},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := serve(t, route(func(line string, _ []byte) string {
					hop, _ := strconv.Atoi(strings.TrimPrefix(strings.Fields(line)[1], "/"))
					if c.stopAt > 0 && hop == c.stopAt {
						return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
					}
					return redirect(301, "/"+strconv.Itoa(hop+1))
				}))
				if c.max != DefaultMaxRedirects {
					require.NoError(t, n.SetMaxRedirects(c.max))
				}
				o := d.run(t, n, srv.URL("/0"), nil, httpclient.MethodGet, nil)
				assertCompletion(t, c.want, o)
				srv.Close()
				assert.Len(t, srv.Requests(), c.requests)
				assert.Equal(t, c.requests, srv.Accepted(), "a new connection per hop (§2.1.4, §2.8.1.6)")
			})
		})
	}
}

// §2.8.1.3–6: the Location quirks, through the whole node.
func TestRedirectLocationQuirks(t *testing.T) {
	cases := []struct {
		name     string
		first    string // the first response
		want     Completion
		wantLine string // the request line of the second request, if any
		cause    error
	}{
		{"no space after the colon: not recognised, 301 is final (§2.8.1.3, §2.8.1.4)",
			"HTTP/1.1 301 Moved\r\nlocation:/x\r\nContent-Length: 2\r\n\r\nhi",
			Completion{ResultSuccess, 301, hdrs("location:/x", "Content-Length: 2"), []byte("hi")}, "", nil},
		{"a CR after 'Location:' is not the space Godot looks for: the 302 is final, its header as Godot stores it (§2.8.1.3, §1.8.2)",
			"HTTP/1.1 302 Found\r\nLocation:\r/x\r\nContent-Length: 2\r\n\r\nhi",
			Completion{ResultSuccess, 302, hdrs("Location:\r/x", "Content-Length: 2"), []byte("hi")}, "", nil},
		{"a CR in another header line leaves 'Location: ' as it is (§2.8.1.3)",
			"HTTP/1.1 302 Found\r\nX: a\rb\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n",
			Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}, "GET /x HTTP/1.1", nil},
		{"Content-Location gives the target 'ocation: /a', which the client refuses (§2.8.1.3, §2.8.1.5)",
			"HTTP/1.1 302 Found\r\nContent-Location: /a\r\nContent-Length: 0\r\n\r\n",
			Completion{Result: ResultConnectionError}, "", httpclient.ErrInvalidParameter},
		{"relative path without '/': refused by the client → R4 (§2.8.1.5)",
			"HTTP/1.1 301 Moved\r\nLocation: foo/bar\r\nContent-Length: 0\r\n\r\n",
			Completion{Result: ResultConnectionError}, "", httpclient.ErrInvalidParameter},
		{"'//host/p' is sent as a path to the same server (§2.8.1.5)",
			"HTTP/1.1 301 Moved\r\nLocation: //elsewhere.test/p\r\nContent-Length: 0\r\n\r\n",
			Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}, "GET //elsewhere.test/p HTTP/1.1", nil},
		{"last Location wins (§2.8.1.3)",
			"HTTP/1.1 301 Moved\r\nLocation: /first\r\nLocation: /second\r\nContent-Length: 0\r\n\r\n",
			Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}, "GET /second HTTP/1.1", nil},
		{"absolute URL whose connection cannot start, no body: the 301 is final (§2.8.1.6)",
			"HTTP/1.1 301 Moved\r\nLocation: http://:80/x\r\n\r\n",
			Completion{ResultSuccess, 301, hdrs("Location: http://:80/x"), nil}, "", nil},
		{"absolute URL whose connection cannot start, with a body: R2 (§2.8.1.6, §2.6.1.2: the poll sees the closed client)",
			"HTTP/1.1 301 Moved\r\nLocation: http://[::1]/x\r\nContent-Length: 4\r\n\r\nbody",
			Completion{Result: ResultCantConnect}, "", httpclient.ErrInvalidParameter},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				first := true
				var mu sync.Mutex
				srv := serve(t, route(func(line string, _ []byte) string {
					mu.Lock()
					defer mu.Unlock()
					if first {
						first = false
						return c.first
					}
					return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
				}))
				o := d.run(t, n, srv.URL("/start"), nil, httpclient.MethodGet, nil)
				assertCompletion(t, c.want, o)
				if c.cause != nil {
					assert.ErrorIs(t, o.Err, c.cause)
				}
				srv.Close()
				reqs := srv.Requests()
				if c.wantLine != "" {
					require.Len(t, reqs, 2)
					line, _, _ := strings.Cut(string(reqs[1]), "\r\n")
					assert.Equal(t, c.wantLine, line)
				} else {
					assert.Len(t, reqs, 1)
				}
			})
		})
	}
}

// §7.2 RFC 9110 redirects (opt-in): 303/307/308 are followed; 303 and
// POST-after-301/302 become GET without a body (and without the headers that
// described it); 307/308 keep method and body; Location is resolved as a
// URI reference.
func TestRFC9110Redirects(t *testing.T) {
	cases := []struct {
		code       int
		location   string
		method     httpclient.Method
		wantLine   string
		keepsBody  bool
		headerKept bool
	}{
		{303, "next", httpclient.MethodPost, "GET /dir/next HTTP/1.1", false, false},
		{303, "/n", httpclient.MethodHead, "HEAD /n HTTP/1.1", true, true},
		{301, "../up?q=1", httpclient.MethodPost, "GET /up?q=1 HTTP/1.1", false, false},
		{302, "/p", httpclient.MethodPut, "PUT /p HTTP/1.1", true, true},
		{307, "/t", httpclient.MethodPost, "POST /t HTTP/1.1", true, true},
		{308, "/t#frag", httpclient.MethodPatch, "PATCH /t HTTP/1.1", true, true},
	}
	for _, c := range cases {
		t.Run(strconv.Itoa(c.code)+" "+c.method.String(), func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				require.NoError(t, n.SetRFC9110Redirects(true))
				var log requestLog
				srv := serve(t, route(func(line string, req []byte) string {
					log.add("", req)
					if strings.Contains(line, " /dir/page ") {
						return redirect(c.code, c.location)
					}
					if strings.HasPrefix(line, "HEAD ") {
						return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
					}
					return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
				}))
				o := d.run(t, n, srv.URL("/dir/page"), []string{"Content-Type: text/plain", "X-A: 1"}, c.method, []byte("data"))
				wantBody := []byte("ok")
				if c.method == httpclient.MethodHead {
					wantBody = nil
				}
				assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), wantBody}, o)
				reqs := log.all()
				require.Len(t, reqs, 2)
				second := strings.TrimPrefix(reqs[1], " ")
				line, _, _ := strings.Cut(second, "\r\n")
				assert.Equal(t, c.wantLine, line)
				assert.Equal(t, c.keepsBody, strings.HasSuffix(second, "\r\n\r\ndata"))
				assert.Equal(t, c.headerKept, hasLine(second, "Content-Type: text/plain"))
				assert.True(t, hasLine(second, "X-A: 1"))
			})
		})
	}
	// Godot's rules (the default) do not follow 307.
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		srv := serve(t, testserver.Respond(redirect(307, "/t")))
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 307, hdrs("Location: /t", "Content-Length: 0"), nil}, o)
	})
	// A Location that is not http(s) is not followed in RFC mode.
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		require.NoError(t, n.SetRFC9110Redirects(true))
		srv := serve(t, testserver.Respond(redirect(302, "ftp://files.test/x")))
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 302, hdrs("Location: ftp://files.test/x", "Content-Length: 0"), nil}, o)
	})
}
