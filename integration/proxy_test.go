package integration

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/peers"
	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// via is the header both tinyproxy instances add to what they forward.
const via = "Via: 1.1 gdhttp-peers (tinyproxy/1.11.1)"

// TestClientHTTPProxy: SetHTTPProxy through tinyproxy to nginx (§1.14.1). The
// TCP connection goes to the proxy (seen through a relay), the request carries
// the absolute-form target with the port always written and the target's Host
// (§1.7.7, §1.7.10), nothing proxy-specific is added, and the answer comes back
// through tinyproxy (its Via header) with the file's bytes. tinyproxy closes
// the connection after one response, which a Godot client sees as
// CONNECTION_ERROR on its next poll (§1.6.3.3).
func TestClientHTTPProxy(t *testing.T) {
	nginx := peers.Nginx(t)
	proxy := peers.Proxy(t)
	fs := nginxFiles(t)
	host, port := splitAddr(t, nginx)
	cases := []struct {
		name, path string
		file       string
		body       string
	}{
		{name: "method", path: "/method", body: "GET /method\n"},
		{name: "length", path: "/static/1m.bin", file: "1m.bin"},
		{name: "chunked", path: "/chunked/1m.bin", file: "1m.bin"},
	}
	for _, tc := range cases {
		for _, m := range modes {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				tp := newTap(t, proxy)
				ph, pp := splitAddr(t, tp.addr)
				r := newClientRun(t, m.blocking)
				r.c.SetHTTPProxy(ph, pp)
				require.NoError(t, r.connect(host, port, nil))
				resp := r.request(httpclient.MethodGet, tc.path, nil, "", viaChunks)
				assert.Equal(t, 200, resp.Code)
				assert.True(t, hasHeader(resp.Headers, via), "answered through tinyproxy: %q", resp.Headers)
				if tc.file != "" {
					assert.Equal(t, fs.sum(t, tc.file), drive.SHA256(resp.Body), "body SHA-256")
				} else {
					assert.Equal(t, tc.body, string(resp.Body))
				}
				wantReq := "GET http://" + nginx + tc.path + " HTTP/1.1\r\nHost: " + nginx + "\r\nUser-Agent: " + wire.DefaultUserAgent() + "\r\nAccept: */*\r\n\r\n"
				assert.Equal(t, wantReq, tp.sent(), "§1.14.1 absolute-form request bytes")
				r.pollUntilChange(5 * time.Second)
				assert.Equal(t, concat(toConnected, bodyThenOK, statuses(httpclient.StatusConnectionError)), r.trace,
					"§1.6.3.3 tinyproxy closes after the response")
			})
		}
	}
}

// TestClientHTTPSProxy: SetHTTPSProxy opens a CONNECT tunnel through
// tinyproxy to nginx's TLS port (§1.14.2 with §7 D5): the CONNECT carries
// "Host: host:port" (Godot: "Host: :-1"), tinyproxy's reply ("HTTP/1.0 200
// Connection established" with a header) opens the tunnel, the TLS handshake
// names the target, and the file comes through. The strict proxy allows that
// port too, but answers a CONNECT to any other port with 403 Access
// violation: STATUS_CANT_CONNECT, Poll returning ERR_CANT_CONNECT around a
// *ProxyError with tinyproxy's code and headers (§1.14.2.3). The open proxy
// answers a CONNECT to a closed port with 500.
func TestClientHTTPSProxy(t *testing.T) {
	tlsAddr, roots := peers.NginxTLS(t)
	proxy := peers.Proxy(t)
	strict := peers.ProxyStrict(t)
	bin := peers.HTTPBin(t)
	fs := nginxFiles(t)
	host, port := splitAddr(t, tlsAddr)
	_, binPort := splitAddr(t, bin)
	opts := httpclient.TLSClient(roots, "")
	connectHead := func(h string, p int) string {
		return "CONNECT " + h + ":" + strconv.Itoa(p) + " HTTP/1.1\r\nHost: " + h + ":" + strconv.Itoa(p) +
			"\r\nUser-Agent: " + wire.DefaultUserAgent() + "\r\nAccept: */*\r\n\r\n"
	}
	for _, m := range modes {
		for _, p := range []struct{ name, addr string }{{"open", proxy}, {"strict", strict}} {
			t.Run("tunnel/"+p.name+"/"+m.name, func(t *testing.T) {
				tp := newTap(t, p.addr)
				ph, pp := splitAddr(t, tp.addr)
				r := newClientRun(t, m.blocking)
				r.c.SetHTTPSProxy(ph, pp)
				require.NoError(t, r.connect(host, port, opts), "cause: %v", r.c.LastError())
				resp := r.request(httpclient.MethodGet, "/chunked/1m.bin", nil, "", viaChunks)
				assert.Equal(t, 200, resp.Code)
				assert.Equal(t, fs.sum(t, "1m.bin"), drive.SHA256(resp.Body), "body SHA-256")
				assert.False(t, hasHeader(resp.Headers, via), "a tunnel: nginx's own headers")
				resp = r.request(httpclient.MethodGet, "/headers", nil, "", viaChunks)
				assert.True(t, strings.HasPrefix(string(resp.Body), "Host: "+tlsAddr+"\n"), "the target's Host inside the tunnel: %q", resp.Body)
				assert.Equal(t, concat(toConnected, bodyThenOK, bodyThenOK), r.trace, "a tunnel keeps nginx's keep-alive")
				sent := tp.sent()
				head := connectHead(host, port)
				require.GreaterOrEqual(t, len(sent), len(head)+1)
				assert.Equal(t, head, sent[:len(head)], "§7 D5 CONNECT bytes")
				assert.Equal(t, byte(0x16), sent[len(head)], "then a TLS handshake record")
			})
		}
		refused := []struct {
			name   string
			proxy  string
			port   int
			code   int
			reason string
		}{
			{"strict-403", strict, binPort, 403, "403 Access violation"},
			{"open-500-closed-port", proxy, testserver.ClosedPort(t), 500, "500 Unable to connect"},
		}
		for _, rf := range refused {
			t.Run(rf.name+"/"+m.name, func(t *testing.T) {
				ph, pp := splitAddr(t, rf.proxy)
				r := newClientRun(t, m.blocking)
				r.c.SetHTTPSProxy(ph, pp)
				err := r.connect(host, rf.port, opts)
				assert.Equal(t, statuses(httpclient.StatusConnecting, httpclient.StatusCantConnect), r.trace, "§1.14.2.3 refusal → CANT_CONNECT")
				assert.ErrorIs(t, err, httpclient.ErrCantConnect)
				var pe *httpclient.ProxyError
				require.True(t, errors.As(err, &pe), "*ProxyError in %v", err)
				assert.Equal(t, rf.code, pe.Code)
				assert.Equal(t, []string{"Server: tinyproxy/1.11.1", "Content-Type: text/html", "Connection: close"}, pe.Headers)
				assert.Equal(t, err, r.c.LastError())
				assert.ErrorIs(t, r.c.Poll(), httpclient.ErrCantConnect, "§1.6 terminal CANT_CONNECT")
			})
		}
	}
}

// TestRequestProxies: the same through the node, all three drivers: an http
// URL through the HTTP proxy (Via added, redirects followed through it), an
// https URL through the CONNECT tunnel (gzip inside), both proxies set at once
// (each scheme takes its own, §1.5.8), and the strict proxy's refusal:
// RESULT_CANT_CONNECT with code 0 and the *ProxyError cause (§2.10).
func TestRequestProxies(t *testing.T) {
	nginx := peers.Nginx(t)
	tlsAddr, roots := peers.NginxTLS(t)
	proxy := peers.Proxy(t)
	strict := peers.ProxyStrict(t)
	bin := peers.HTTPBin(t)
	fs := nginxFiles(t)
	_, binPort := splitAddr(t, bin)
	ph, pp := splitAddr(t, proxy)
	sh, sp := splitAddr(t, strict)
	httpProxy := func(t *testing.T, n *httprequest.HTTPRequest) { n.SetHTTPProxy(ph, pp) }
	httpsProxy := func(h string, p int) func(t *testing.T, n *httprequest.HTTPRequest) {
		return func(t *testing.T, n *httprequest.HTTPRequest) {
			n.SetHTTPSProxy(h, p)
			require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(roots, "")))
		}
	}
	both := func(t *testing.T, n *httprequest.HTTPRequest) {
		httpProxy(t, n)
		httpsProxy(sh, sp)(t, n)
	}
	ok := func(h ...string) want { return want{result: httprequest.ResultSuccess, code: 200, headers: h} }
	refused := func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
		var pe *httpclient.ProxyError
		require.True(t, errors.As(o.Err, &pe), "*ProxyError in %v", o.Err)
		assert.Equal(t, 403, pe.Code)
	}
	cases := []nodeCase{
		{name: "§1.14.1 http", url: "http://" + nginx + "/static/1m.bin", setup: httpProxy, want: ok(via, "Content-Length: 1048576"), file: "1m.bin"},
		{name: "§1.14.1 http gzip", url: "http://" + nginx + "/static/text.txt", setup: httpProxy, want: ok(via, "Content-Encoding: gzip"), file: "text.txt"},
		{name: "§1.14.1 http redirect", url: "http://" + nginx + "/redirect/302?to=/chunked/1m.bin", setup: httpProxy, want: ok(via), file: "1m.bin"},
		{name: "§1.14.2 https", url: "https://" + tlsAddr + "/static/1m.bin", setup: httpsProxy(ph, pp), want: ok("Content-Length: 1048576"), file: "1m.bin"},
		{name: "§1.14.2 https gzip", url: "https://" + tlsAddr + "/static/text.txt", setup: httpsProxy(ph, pp), want: ok("Content-Encoding: gzip"), file: "text.txt"},
		{name: "§1.14.2 https strict allowed", url: "https://" + tlsAddr + "/chunked/1m.bin", setup: httpsProxy(sh, sp), want: ok(), file: "1m.bin"},
		{name: "§1.5.8 both set, http", url: "http://" + nginx + "/method", setup: both, want: ok(via), exact: str("GET /method\n")},
		{name: "§1.5.8 both set, https", url: "https://" + tlsAddr + "/method", setup: both, want: ok(), exact: str("GET /method\n")},
		{name: "§1.14.2.3 strict refuses", url: "https://127.0.0.1:" + strconv.Itoa(binPort) + "/get", setup: httpsProxy(sh, sp),
			want: want{result: httprequest.ResultCantConnect, noBody: true}, check: refused},
	}
	runNodeCases(t, fs, cases)
}

// TestProxyCredentialsPeer: tinyproxy with BasicAuth (§7.2 proxy credentials;
// Godot has none, §1.14). The client's absolute-form request carries
// Proxy-Authorization as its last line (seen through a relay) and tinyproxy
// lets it through; without credentials the proxy's 407 is an ordinary response
// (code 407, Proxy-Authenticate). A CONNECT with credentials opens the tunnel
// and the request inside it carries none (nginx's /headers echoes what it
// got); a refused CONNECT is CANT_CONNECT with a *ProxyError carrying
// tinyproxy's code: 407 without credentials, 401 with wrong ones (tinyproxy
// 1.11 answers a wrong password with "401 Unauthorized" and WWW-Authenticate).
func TestProxyCredentialsPeer(t *testing.T) {
	nginx := peers.Nginx(t)
	tlsAddr, roots := peers.NginxTLS(t)
	authProxy, user, pass := peers.ProxyAuth(t)
	host, port := splitAddr(t, nginx)
	thost, tport := splitAddr(t, tlsAddr)
	auth := "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	for _, m := range modes {
		t.Run("forward/"+m.name, func(t *testing.T) {
			tp := newTap(t, authProxy)
			ph, pp := splitAddr(t, tp.addr)
			r := newClientRun(t, m.blocking)
			r.c.SetHTTPProxy(ph, pp)
			r.c.SetHTTPProxyCredentials(user, pass)
			require.NoError(t, r.connect(host, port, nil))
			resp := r.request(httpclient.MethodGet, "/headers", []string{"X-Game: 1"}, "", viaChunks)
			assert.Equal(t, 200, resp.Code)
			assert.True(t, hasHeader(resp.Headers, via), "%q", resp.Headers)
			assert.NotContains(t, string(resp.Body), "Proxy-Authorization", "tinyproxy does not pass it on")
			assert.Equal(t, "GET http://"+nginx+"/headers HTTP/1.1\r\nX-Game: 1\r\nHost: "+nginx+"\r\nUser-Agent: "+wire.DefaultUserAgent()+
				"\r\nAccept: */*\r\n"+auth+"\r\n\r\n", tp.sent())
		})
		t.Run("forward-407/"+m.name, func(t *testing.T) {
			ph, pp := splitAddr(t, authProxy)
			r := newClientRun(t, m.blocking)
			r.c.SetHTTPProxy(ph, pp)
			require.NoError(t, r.connect(host, port, nil))
			resp := r.request(httpclient.MethodGet, "/health", nil, "", viaChunks)
			assert.Equal(t, 407, resp.Code)
			assert.True(t, hasHeader(resp.Headers, `Proxy-Authenticate: Basic realm="Tinyproxy"`), "%q", resp.Headers)
		})
		t.Run("connect/"+m.name, func(t *testing.T) {
			tp := newTap(t, authProxy)
			ph, pp := splitAddr(t, tp.addr)
			r := newClientRun(t, m.blocking)
			r.c.SetHTTPSProxy(ph, pp)
			r.c.SetHTTPSProxyCredentials(user, pass)
			require.NoError(t, r.connect(thost, tport, httpclient.TLSClient(roots, "")), "cause: %v", r.c.LastError())
			resp := r.request(httpclient.MethodGet, "/headers", nil, "", viaChunks)
			assert.Equal(t, 200, resp.Code)
			assert.True(t, strings.HasPrefix(string(resp.Body), "Host: "+tlsAddr+"\n"), "%q", resp.Body)
			assert.NotContains(t, strings.ToLower(string(resp.Body)), "proxy-authorization", "nothing of the proxy inside the tunnel")
			head := "CONNECT " + tlsAddr + " HTTP/1.1\r\nHost: " + tlsAddr + "\r\nUser-Agent: " + wire.DefaultUserAgent() + "\r\nAccept: */*\r\n" + auth + "\r\n\r\n"
			sent := tp.sent()
			require.Greater(t, len(sent), len(head))
			assert.Equal(t, head, sent[:len(head)])
			assert.Equal(t, byte(0x16), sent[len(head)], "then the TLS handshake")
		})
		for _, rf := range []struct {
			name, pass string
			code       int
		}{{"connect-no-credentials-407", "", 407}, {"connect-wrong-password-401", "wrong", 401}} {
			t.Run(rf.name+"/"+m.name, func(t *testing.T) {
				ph, pp := splitAddr(t, authProxy)
				r := newClientRun(t, m.blocking)
				r.c.SetHTTPSProxy(ph, pp)
				if rf.pass != "" {
					r.c.SetHTTPSProxyCredentials(user, rf.pass)
				}
				err := r.connect(thost, tport, httpclient.TLSClient(roots, ""))
				assert.Equal(t, statuses(httpclient.StatusConnecting, httpclient.StatusCantConnect), r.trace)
				assert.ErrorIs(t, err, httpclient.ErrCantConnect)
				var pe *httpclient.ProxyError
				require.True(t, errors.As(err, &pe), "*ProxyError in %v", err)
				assert.Equal(t, rf.code, pe.Code)
			})
		}
	}
}

// TestRequestProxyCredentialsPeer: the node with a proxy function whose URL
// carries the credentials (what HTTP_PROXY=http://user:pass@host gives),
// three drivers: httpbin through the auth proxy (httpbin sees no
// Proxy-Authorization), nginx over a CONNECT tunnel; refused, the http
// request's answer is the proxy's 407 (none) or 401 (wrong password) and the
// https one RESULT_CANT_CONNECT with the *ProxyError.
func TestRequestProxyCredentialsPeer(t *testing.T) {
	tlsAddr, roots := peers.NginxTLS(t)
	authProxy, user, pass := peers.ProxyAuth(t)
	bin := binURL(t, "")
	fs := nginxFiles(t)
	withProxy := func(u *url.Userinfo) func(t *testing.T, n *httprequest.HTTPRequest) {
		return func(t *testing.T, n *httprequest.HTTPRequest) {
			require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(roots, "")))
			require.NoError(t, n.SetProxyFunc(func(*url.URL) (*url.URL, error) {
				return &url.URL{Scheme: "http", Host: authProxy, User: u}, nil
			}))
		}
	}
	good, bad, none := withProxy(url.UserPassword(user, pass)), withProxy(url.UserPassword(user, "wrong")), withProxy(nil)
	refusedWith := func(code int) func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
		return func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
			var pe *httpclient.ProxyError
			require.True(t, errors.As(o.Err, &pe), "*ProxyError in %v", o.Err)
			assert.Equal(t, code, pe.Code)
		}
	}
	cases := []nodeCase{
		{name: "http through the auth proxy", url: bin + "/headers", setup: good, want: want{result: httprequest.ResultSuccess, code: 200},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				h := jsonBody(t, o.C.Body)["headers"].(map[string]any)
				assert.NotContains(t, h, "Proxy-Authorization")
				assert.Equal(t, "gzip, deflate", h["Accept-Encoding"])
			}},
		{name: "https tunnel through the auth proxy", url: "https://" + tlsAddr + "/static/1m.bin", setup: good,
			want: want{result: httprequest.ResultSuccess, code: 200, headers: []string{"Content-Length: 1048576"}}, file: "1m.bin"},
		{name: "http no credentials: the 407 is the response", url: bin + "/get", setup: none,
			want: want{result: httprequest.ResultSuccess, code: 407, headers: []string{`Proxy-Authenticate: Basic realm="Tinyproxy"`}}},
		{name: "http wrong password: the 401 is the response", url: bin + "/get", setup: bad,
			want: want{result: httprequest.ResultSuccess, code: 401, headers: []string{`WWW-Authenticate: Basic realm="Tinyproxy"`}}},
		{name: "https no credentials: CANT_CONNECT", url: "https://" + tlsAddr + "/health", setup: none,
			want: want{result: httprequest.ResultCantConnect, noBody: true}, check: refusedWith(407)},
		{name: "https wrong password: CANT_CONNECT", url: "https://" + tlsAddr + "/health", setup: bad,
			want: want{result: httprequest.ResultCantConnect, noBody: true}, check: refusedWith(401)},
	}
	runNodeCases(t, fs, cases)
}
