package httprequest

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// clearProxyEnv empties every variable the proxy rules read.
func clearProxyEnv(t *testing.T) {
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "REQUEST_METHOD"} {
		t.Setenv(k, "")
	}
}

// base64("user:pa:ss")
const nodeProxyAuth = "Proxy-Authorization: Basic dXNlcjpwYTpzcw=="

// §1.14.1 with proxies from the environment (§7.2): HTTP_PROXY with
// user:password@ sends the absolute-form request to the proxy with
// Proxy-Authorization as its last line; the proxy's 302 to a loopback origin
// (never proxied, net/http's rule) goes direct, without Proxy-Authorization.
// The environment is read at each connection (t.Setenv after New works).
func TestProxyFromEnvironmentHTTP(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		origin := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		proxy := serve(t, route(func(line string, req []byte) string {
			return redirect(302, origin.URL("/direct"))
		}))
		clearProxyEnv(t)
		t.Setenv("http_proxy", "http://user:pa:ss@"+proxy.Addr())
		t.Setenv("NO_PROXY", "elsewhere.example")
		require.NoError(t, n.SetProxyFromEnvironment(true))
		assert.True(t, n.ProxyFromEnvironment())
		o := d.run(t, n, "http://game.example:8080/start", []string{"X-A: 1"}, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}, o)
		require.Len(t, proxy.Requests(), 1)
		assert.Equal(t, "GET http://game.example:8080/start HTTP/1.1\r\nX-A: 1\r\n"+acceptGzipHeader+
			"\r\nHost: game.example:8080\r\nUser-Agent: "+wire.DefaultUserAgent()+"\r\nAccept: */*\r\n"+nodeProxyAuth+"\r\n\r\n",
			string(proxy.Requests()[0]))
		require.Len(t, origin.Requests(), 1)
		assert.Equal(t, "GET /direct HTTP/1.1\r\nX-A: 1\r\n"+acceptGzipHeader+"\r\nHost: "+origin.Addr()+
			"\r\nUser-Agent: "+wire.DefaultUserAgent()+"\r\nAccept: */*\r\n\r\n", string(origin.Requests()[0]),
			"direct hop: origin-form, no Proxy-Authorization")
	})
}

// Off by default (Godot reads no environment, §1.14): with HTTP_PROXY set
// the node connects to the target itself.
func TestProxyFromEnvironmentOffByDefault(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		proxy := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
		clearProxyEnv(t)
		t.Setenv("HTTP_PROXY", "http://"+proxy.Addr())
		assert.False(t, n.ProxyFromEnvironment())
		// The name does not resolve (.invalid): CANT_RESOLVE, or TIMEOUT where
		// DNS itself hangs; either way the proxy is never contacted.
		require.NoError(t, n.SetTimeout(3*time.Second))
		o := d.run(t, n, "http://gdhttp-test.invalid:8080/", nil, httpclient.MethodGet, nil)
		assert.Contains(t, []Result{ResultCantResolve, ResultTimeout}, o.C.Result, "%v", o.Err)
		assert.Equal(t, 0, proxy.Accepted())
	})
}

// An https:// (or other non-http) proxy is refused with a clear cause:
// RESULT_CANT_CONNECT, an *httpclient.ProxySchemeError; nothing is connected.
// So is a proxy function's error (the CGI refusal of HTTP_PROXY).
func TestProxyFromEnvironmentRefusals(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		clearProxyEnv(t)
		t.Setenv("HTTP_PROXY", "https://127.0.0.1:9")
		require.NoError(t, n.SetProxyFromEnvironment(true))
		o := d.run(t, n, "http://game.example/", nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{Result: ResultCantConnect}, o)
		var se *httpclient.ProxySchemeError
		require.ErrorAs(t, o.Err, &se)
		assert.Equal(t, "https", se.Scheme)

		t.Setenv("HTTP_PROXY", "http://127.0.0.1:9")
		t.Setenv("REQUEST_METHOD", "POST")
		o = d.run(t, n, "http://game.example/", nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{Result: ResultCantConnect}, o)
		assert.ErrorContains(t, o.Err, "refusing to use HTTP_PROXY value in CGI environment")
	})
}

// §1.14.2 through a proxy function: the CONNECT carries the URL's credentials,
// the request inside the tunnel has no Proxy-Authorization; the function sees
// the hop's URL.
func TestProxyFuncHTTPSTunnel(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		ca := testserver.NewCA(t)
		require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(ca.Pool(), "")))
		srv := testserver.NewTLS(t, ca.Issue(t, "localhost"), testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		proxy := testserver.NewConnectProxy(t)
		var seen []string
		require.NoError(t, n.SetProxyFunc(func(u *url.URL) (*url.URL, error) {
			seen = append(seen, u.String())
			return url.Parse("http://user:pa:ss@" + proxy.Addr())
		}))
		assert.False(t, n.ProxyFromEnvironment())
		target := "https://localhost:" + strconv.Itoa(srv.Port()) + "/p?q=1"
		o := d.run(t, n, target, []string{"X-A: 1"}, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}, o)
		assert.Equal(t, []string{target}, seen)
		authority := "localhost:" + strconv.Itoa(srv.Port())
		require.Len(t, proxy.Requests(), 1)
		assert.Equal(t, "CONNECT "+authority+" HTTP/1.1\r\nHost: "+authority+"\r\nUser-Agent: "+wire.DefaultUserAgent()+
			"\r\nAccept: */*\r\n"+nodeProxyAuth+"\r\n\r\n", string(proxy.Requests()[0]))
		require.Len(t, srv.Requests(), 1)
		assert.NotContains(t, strings.ToLower(string(srv.Requests()[0])), "proxy-authorization")
		assert.True(t, strings.HasPrefix(string(srv.Requests()[0]), "GET /p?q=1 HTTP/1.1\r\nX-A: 1\r\n"))
	})
}

// Godot's setters win over the proxy function for their scheme, with the
// credentials of SetHTTPProxyCredentials; the function still decides for the
// other scheme (here: a redirect to https goes direct, as the function says,
// and carries nothing of the HTTP proxy's credentials).
func TestProxyExplicitCredentials(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		ca := testserver.NewCA(t)
		require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(ca.Pool(), "")))
		tlsSrv := testserver.NewTLS(t, ca.Issue(t, "localhost"), testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		proxy := serve(t, route(func(line string, req []byte) string {
			return redirect(301, "https://localhost:"+strconv.Itoa(tlsSrv.Port())+"/secure")
		}))
		calls := 0
		require.NoError(t, n.SetProxyFunc(func(u *url.URL) (*url.URL, error) {
			calls++
			return nil, nil
		}))
		n.SetHTTPProxy(proxy.Host(), proxy.Port())
		n.SetHTTPProxyCredentials("user", "pa:ss")
		o := d.run(t, n, "http://game.example/", nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}, o)
		assert.Equal(t, 1, calls, "asked only for the https hop")
		require.Len(t, proxy.Requests(), 1)
		assert.True(t, strings.HasSuffix(string(proxy.Requests()[0]), "\r\n"+nodeProxyAuth+"\r\n\r\n"), "%q", proxy.Requests()[0])
		require.Len(t, tlsSrv.Requests(), 1)
		assert.NotContains(t, strings.ToLower(string(tlsSrv.Requests()[0])), "proxy-authorization")

		// Credentials removed: no line.
		n.SetHTTPProxyCredentials("", "")
		o = d.run(t, n, "http://game.example/", nil, httpclient.MethodGet, nil)
		require.Equal(t, ResultSuccess, o.C.Result, "%v", o.Err)
		require.Len(t, proxy.Requests(), 2)
		assert.NotContains(t, string(proxy.Requests()[1]), "Proxy-Authorization")
	})
}

// A proxy function error fails the connection start (RESULT_CANT_CONNECT,
// its cause kept); the option is refused while a request is active.
func TestProxyFuncErrorAndBusy(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		boom := errors.New("no proxy for you")
		require.NoError(t, n.SetProxyFunc(func(*url.URL) (*url.URL, error) { return nil, boom }))
		o := d.run(t, n, "http://game.example/", nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{Result: ResultCantConnect}, o)
		assert.ErrorIs(t, o.Err, boom)
		if d.Driver == drive.Process { // Request itself returns ERR_CANT_CONNECT, and says it once
			require.Error(t, o.ReqErr)
			assert.ErrorIs(t, o.ReqErr, godot.ErrCantConnect)
			assert.ErrorIs(t, o.ReqErr, boom)
			assert.Equal(t, 1, strings.Count(o.ReqErr.Error(), "ERR_CANT_CONNECT"), o.ReqErr.Error())
		}
	})
	n := New()
	t.Cleanup(n.Close)
	srv := serve(t, testserver.Script(testserver.Read(), testserver.Hold()))
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	assert.ErrorIs(t, n.SetProxyFromEnvironment(true), godot.ErrBusy)
	assert.ErrorIs(t, n.SetProxyFunc(nil), godot.ErrBusy)
	n.CancelRequest()
	assert.NoError(t, n.SetProxyFromEnvironment(false))
}

// §1.14.2 with SetHTTPSProxy: SetHTTPSProxyCredentials puts the
// Proxy-Authorization line on the CONNECT (never inside the tunnel), from
// the next connection on; empty credentials remove it.
func TestProxyHTTPSCredentials(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		ca := testserver.NewCA(t)
		require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(ca.Pool(), "")))
		srv := testserver.NewTLS(t, ca.Issue(t, "localhost"), testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		proxy := testserver.NewConnectProxy(t)
		n.SetHTTPSProxy(proxy.Host(), proxy.Port())
		n.SetHTTPSProxyCredentials("user", "pa:ss")
		target := "https://localhost:" + strconv.Itoa(srv.Port()) + "/s"
		o := d.run(t, n, target, nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}, o)
		require.Len(t, proxy.Requests(), 1)
		assert.True(t, strings.HasSuffix(string(proxy.Requests()[0]), "\r\n"+nodeProxyAuth+"\r\n\r\n"), "%q", proxy.Requests()[0])
		require.Len(t, srv.Requests(), 1)
		assert.NotContains(t, strings.ToLower(string(srv.Requests()[0])), "proxy-authorization")

		n.SetHTTPSProxyCredentials("", "")
		o = d.run(t, n, target, nil, httpclient.MethodGet, nil)
		require.Equal(t, ResultSuccess, o.C.Result, "%v", o.Err)
		require.Len(t, proxy.Requests(), 2)
		assert.NotContains(t, string(proxy.Requests()[1]), "Proxy-Authorization")
	})
}

// A proxy function's error fails the connection it was asked for with
// RESULT_CANT_CONNECT and is the cause — also the new connection on which
// SetKeepAlive sends a request again after the kept one failed before any
// response (the server closed it as the request came). That connect failed
// before the client was closed, so the step after it read the kept
// connection's CONNECTION_ERROR: R4, the proxy function's error lost.
func TestProxyFuncErrorOnKeepAliveRetry(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		srv := serve(t, testserver.Script(testserver.Read(),
			testserver.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), testserver.Read()))
		refused := errors.New("no proxy for the retry")
		calls := 0
		require.NoError(t, n.SetProxyFunc(func(*url.URL) (*url.URL, error) {
			calls++
			if calls == 3 {
				return nil, refused
			}
			return nil, nil
		}))
		require.NoError(t, n.SetKeepAlive(true))
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}, o)
		o = d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultCantConnect, 0, nil, nil}, o)
		assert.ErrorIs(t, o.Err, refused)
		assert.Equal(t, 3, calls, "the first request, the second on the kept connection, its retry")
		assert.Equal(t, 1, srv.Accepted(), "the retry never connected")
	})
}
