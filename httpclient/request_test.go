package httpclient

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/golden"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

const okResp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

// normalize replaces what varies between runs — the server's port and the
// platform's User-Agent — with placeholders.
func normalize(b []byte, port int) string {
	s := string(b)
	if port > 0 {
		s = strings.ReplaceAll(s, ":"+strconv.Itoa(port), ":{PORT}")
	}
	return strings.ReplaceAll(s, wire.DefaultUserAgent(), "{UA}")
}

// checkGolden compares got with testdata/name.golden (go test ./httpclient
// -run Golden -update rewrites the files).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, name, []byte(got))
}

// TestRequestGolden checks the bytes a server receives for every §1.7
// serialization rule, byte for byte, in both modes.
func TestRequestGolden(t *testing.T) {
	tests := []struct {
		name   string
		rule   string
		req    request
		setup  func(c *Client)
		host   string // "" = the server's address; else the target behind an HTTP proxy (the server)
		port   int
		noResp bool // the server's reply does not matter
	}{
		{name: "get_default", rule: "§1.7.8, §1.7.10 (Host with port, User-Agent, Accept)", req: getRoot},
		{name: "post_example", rule: "§1.7 example, §1.7.11", req: request{MethodPost, "/p?q=1", []string{"X-A: 1"}, "hi"}},
		{name: "post_empty_body", rule: "§1.7.10 (no Content-Length for an empty body)", req: request{MethodPost, "/p", nil, ""}},
		{name: "get_with_body", rule: "§1.7.10 (a GET with a body gets Content-Length), §2.4.10", req: request{MethodGet, "/", nil, "abc"}},
		{name: "head", rule: "§1.7.8", req: request{MethodHead, "/h", nil, ""}},
		{name: "options_star", rule: "§1.7.2 (OPTIONS *)", req: request{MethodOptions, "*", nil, ""}},
		{name: "connect_method", rule: "§1.7.2 (CONNECT host:port)", req: request{MethodConnect, "example.com:443", nil, ""}},
		{name: "patch_utf8_body", rule: "§1.7 (string body as UTF-8 bytes; byte length), §1.7.6 (URL sent as raw UTF-8)", req: request{MethodPatch, "/é", nil, "héllo"}},
		{name: "user_headers_suppress", rule: "§1.7.9–10 (user headers verbatim, case-insensitive prefix suppresses; a wrong Content-Length is kept and the body sent in full)",
			req: request{MethodPut, "/u", []string{"host: custom.example", "content-length: 3", "USER-AGENT: me/1", "accept: text/html"}, "hello"}},
		{name: "prefix_test_with_colon", rule: "§1.7.10 (the prefix includes the colon: Hostname does not count, Accept:x does; Accept-Encoding is not Accept)",
			req: request{MethodGet, "/", []string{"Hostname: a", "Accept:text/plain", "Accept-Encoding: gzip"}, ""}},
		{name: "leading_space_header", rule: "§1.7.9 (written unmodified)", req: request{MethodGet, "/", []string{" X-Lead: 1", "X-Trail: 2 "}, ""}},
		{name: "custom_user_agent", rule: "§1.7.10 (SetUserAgent)", req: getRoot, setup: func(c *Client) { c.SetUserAgent("MyGame/1.0 (Test)") }},
		{name: "proxy_absolute", rule: "§1.7.7, §1.14.1", req: request{MethodGet, "/x?y=1", nil, ""}, host: "example.com", port: 8080},
		{name: "proxy_port80", rule: "§1.7.7 (port always in the target), §1.7.10 (Host without :80)", req: getRoot, host: "example.com", port: 80},
		{name: "proxy_http_prefix_default_port", rule: "§1.5.3 (http:// removed), §1.5.7 (port −1 → 80)", req: getRoot, host: "HTTP://example.com", port: -1},
		{name: "proxy_absolute_url_appended", rule: "§1.7.7 (the URL is appended even when absolute)", req: request{MethodGet, "http://other.example/x", nil, ""}, host: "example.com", port: 8080},
		{name: "proxy_ipv6_target", rule: "§1.7.7, §1.7.10 (IPv6 host not bracketed)", req: getRoot, host: "2001:db8::1", port: 8080},
		{name: "proxy_user_host", rule: "§1.7.10, §1.14.1 (a user Host: is sent as given, also to proxies)", req: request{MethodGet, "/", []string{"Host: mine.example"}, ""}, host: "example.com", port: 8080},
	}
	for _, tt := range tests {
		for _, m := range modes {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				srv := ts.New(t, ts.Respond(okResp))
				c, _ := newClient(t, m.blocking)
				if tt.setup != nil {
					tt.setup(c)
				}
				host, port := srv.Host(), srv.Port()
				if tt.host != "" {
					c.SetHTTPProxy(srv.Host(), srv.Port())
					host, port = tt.host, tt.port
				}
				require.NoError(t, connect(t, c, host, port, nil))
				require.Equal(t, StatusConnected, c.Status())
				require.NoError(t, c.Request(tt.req.method, tt.req.url, tt.req.headers, tt.req.body))
				_ = pollWhile(t, c, StatusRequesting)
				readBody(t, c, pathChunks, &result{})
				c.Close()
				srv.Close()
				require.Len(t, srv.Received(), 1)
				// tt.rule is the rule this golden file pins.
				checkGolden(t, "request_"+tt.name, normalize(srv.Received()[0], srv.Port()))
			})
		}
	}
}

// TestConnectGolden checks the CONNECT request sent to an HTTPS proxy
// (§1.14.2.1 with §7 D5: Host: host:port instead of Host: :-1, IPv6
// bracketed) and that a non-2xx reply ends in CANT_CONNECT (§1.14.2.3).
func TestConnectGolden(t *testing.T) {
	tests := []struct{ name, host string }{
		{"connect_tunnel", "example.com"},
		{"connect_tunnel_ipv6", "2001:db8::1"},
	}
	for _, tt := range tests {
		for _, m := range modes {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				proxy := ts.New(t, ts.Respond("HTTP/1.1 403 Forbidden\r\n\r\n"))
				c, tr := newClient(t, m.blocking)
				c.SetHTTPSProxy(proxy.Host(), proxy.Port())
				err := connect(t, c, tt.host, 443, TLSClient(nil, ""))
				assert.Equal(t, statuses(StatusConnecting, StatusCantConnect), *tr)
				assert.True(t, errors.Is(err, ErrCantConnect), "%v", err)
				var pe *ProxyError
				require.True(t, errors.As(err, &pe), "%v", err)
				assert.Equal(t, 403, pe.Code)
				c.Close()
				proxy.Close()
				checkGolden(t, "request_"+tt.name, normalize(proxy.Received()[0], 0))
			})
		}
	}
}

// TestTLSHostDefaultPort checks §1.7.10 for TLS: port 443 is left out of
// Host. The client connects to "localhost":443 through a CONNECT tunnel that
// leads to a TLS test server on its own port; the server sees the request
// and the SNI of the target (§1.6.2.5: never the proxy).
func TestTLSHostDefaultPort(t *testing.T) {
	ca := ts.NewCA(t)
	srv := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.Respond(okResp))
	proxy := tunnelTo(t, srv.Addr())
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c, tr := newClient(t, m.blocking)
			c.SetHTTPSProxy(proxy.Host(), proxy.Port())
			r := roundTrip(t, c, tr, "localhost", 443, TLSClient(ca.Pool(), ""), getRoot, pathChunks, false)
			assert.Equal(t, concat(connected, StatusBody, StatusConnected), r.Trace)
			assert.Equal(t, "ok", r.Body)
		})
	}
	srv.Close()
	proxy.Close()
	for i, got := range srv.Received() {
		checkGolden(t, "request_tls_host_443", normalize(got, 0))
		assert.Equal(t, "localhost", srv.ServerNames()[i], "SNI names the target")
	}
	assert.Contains(t, string(proxy.Requests()[0]), "CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n")
}

// tunnelTo is a CONNECT proxy that answers 200 and tunnels every connection
// to addr, whatever authority was asked for.
func tunnelTo(t *testing.T, addr string) *ts.Server {
	return ts.New(t, ts.Script(ts.Read(), ts.WriteString("HTTP/1.1 200 Connection established\r\n\r\n"),
		ts.Do("tunnel", func(sc *ts.Conn) error {
			up, err := net.Dial("tcp", addr)
			if err != nil {
				return err
			}
			defer up.Close()
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(sc.Raw(), up)
				_ = sc.Raw().(*net.TCPConn).CloseWrite()
			}()
			_, _ = io.Copy(up, sc.Raw())
			_ = up.(*net.TCPConn).CloseWrite()
			wg.Wait()
			return nil
		})))
}

// TestValidationSendsNothing checks §1.7.1–5, §1.7.3 and §7 D2: a refused
// request returns ErrInvalidParameter, changes nothing and sends nothing; the
// connection still serves a valid request afterwards.
func TestValidationSendsNothing(t *testing.T) {
	bad := []struct {
		name string
		req  request
	}{
		{"method-max", request{MethodMax, "/", nil, ""}},                    // §1.7.1
		{"method-negative", request{Method(-1), "/", nil, ""}},              // §1.7.1
		{"url-empty", request{MethodGet, "", nil, ""}},                      // §1.7.2
		{"url-relative", request{MethodGet, "x", nil, ""}},                  // §1.7.2
		{"url-star-get", request{MethodGet, "*", nil, ""}},                  // §1.7.2 (only OPTIONS)
		{"connect-no-port", request{MethodConnect, "example.com", nil, ""}}, // §1.7.2
		{"connect-colon-last", request{MethodConnect, "example.com:", nil, ""}},
		{"header-empty", request{MethodGet, "/", []string{""}, ""}},                                // §1.17
		{"header-no-colon", request{MethodGet, "/", []string{"InvalidHeader"}, ""}},                // §1.17
		{"header-colon-first", request{MethodGet, "/", []string{":"}, ""}},                         // §1.17
		{"header-crlf-injection", request{MethodGet, "/", []string{"X: a\r\nEvil: 1"}, ""}},        // §7 D2
		{"header-nul", request{MethodGet, "/", []string{"X: a\x00b"}, ""}},                         // §7 D2
		{"url-crlf-injection", request{MethodGet, "/a HTTP/1.1\r\nEvil: 1\r\n\r\nGET /", nil, ""}}, // §7 D2
		{"url-lf", request{MethodGet, "/a\nb", nil, ""}},                                           // §7 D2
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ts.New(t, ts.Respond(okResp))
			c, _ := newClient(t, m.blocking)
			// §1.7.3: not CONNECTED → ErrInvalidParameter.
			assert.True(t, errors.Is(c.Request(MethodGet, "/", nil, ""), ErrInvalidParameter))
			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			for _, b := range bad {
				err := c.Request(b.req.method, b.req.url, b.req.headers, b.req.body)
				assert.True(t, errors.Is(err, ErrInvalidParameter), "%s: %v", b.name, err)
				assert.Equal(t, StatusConnected, c.Status(), b.name)
				_ = c.Poll()
			}
			require.NoError(t, c.Request(MethodGet, "/ok", nil, ""))
			_ = pollWhile(t, c, StatusRequesting)
			// §1.7.3 again: in BODY a new request is refused.
			assert.True(t, errors.Is(c.Request(MethodGet, "/", nil, ""), ErrInvalidParameter))
			readBody(t, c, pathChunks, &result{})
			c.Close()
			srv.Close()
			got := normalize(srv.Received()[0], srv.Port())
			assert.True(t, strings.HasPrefix(got, "GET /ok HTTP/1.1\r\n"), "only the valid request was sent: %q", got)
			assert.Equal(t, 1, bytes.Count([]byte(got), []byte("HTTP/1.1")))
		})
	}
}

// §1.6, §1.6.4.1: Godot's poll lets the TCP socket update itself before it
// writes; once the peer's FIN has arrived with nothing queued, the socket is
// closed and the write fails — no byte of the next request leaves. Both
// modes: CONNECTION_ERROR with ErrPeerClosed, and the server reads nothing.
func TestNoRequestAfterPeerFIN(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			after := make(chan int, 1)
			srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString(okResp), ts.CloseWrite(), ts.Do("count", func(c *ts.Conn) error {
				n := 0
				for {
					b, err := c.ReadSome()
					n += len(b)
					if err != nil {
						after <- n
						return nil
					}
				}
			})))
			c, tr := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, "127.0.0.1", srv.Port(), nil))
			require.NoError(t, c.Request(MethodGet, "/", nil, ""))
			require.NoError(t, pollWhile(t, c, StatusRequesting))
			for c.Status() == StatusBody {
				c.ReadResponseBodyChunk()
			}
			require.Equal(t, StatusConnected, c.Status())
			waitPeerEnded(t, c) // the FIN has arrived (CloseWrite right after the response: a 50 ms pause raced it)
			require.NoError(t, c.Request(MethodPost, "/charge", nil, "pay"))
			err := pollWhile(t, c, StatusRequesting)
			assert.ErrorIs(t, err, ErrConnectionError)
			assert.ErrorIs(t, err, ErrPeerClosed)
			assert.Equal(t, StatusConnectionError, c.Status(), "trace %v", *tr)
			c.Close()
			select {
			case n := <-after:
				assert.Zero(t, n, "no byte of the request was sent")
			case <-time.After(5 * time.Second):
				t.Fatal("the server is still reading")
			}
		})
	}
}
