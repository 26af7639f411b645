package httpclient

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// base64("user:pa:ss")
const userPassAuth = "Proxy-Authorization: Basic dXNlcjpwYTpzcw=="

// §1.14.1 with proxy credentials (§7.2): the absolute-form request to the HTTP
// proxy carries Proxy-Authorization as its last header line, after the
// automatic ones; a user Proxy-Authorization line suppresses it; empty
// credentials remove it.
func TestHTTPProxyCredentialsBytes(t *testing.T) {
	tests := []struct {
		name      string
		user, pw  string
		headers   []string
		body      string
		wantLines []string // after the request line
	}{
		{name: "credentials", user: "user", pw: "pa:ss", headers: []string{"X-A: 1"}, body: "hi",
			wantLines: []string{"X-A: 1", "Host: HOST", "Content-Length: 2", "User-Agent: " + wire.DefaultUserAgent(), "Accept: */*", userPassAuth}},
		{name: "user-header-wins", user: "user", pw: "pa:ss", headers: []string{"proxy-authorization: Basic bWluZQ=="},
			wantLines: []string{"proxy-authorization: Basic bWluZQ==", "Host: HOST", "User-Agent: " + wire.DefaultUserAgent(), "Accept: */*"}},
		{name: "none", wantLines: []string{"Host: HOST", "User-Agent: " + wire.DefaultUserAgent(), "Accept: */*"}},
	}
	for _, tt := range tests {
		for _, m := range modes {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				origin := ts.New(t, ts.Respond(okResp))
				proxy := ts.NewForwardProxy(t)
				c, tr := newClient(t, m.blocking)
				c.SetHTTPProxy(proxy.Host(), proxy.Port())
				c.SetHTTPProxyCredentials("old", "x")
				c.SetHTTPProxyCredentials(tt.user, tt.pw)
				c.SetHTTPSProxyCredentials("never", "sent") // no HTTPS proxy, plain target: unused
				r := roundTrip(t, c, tr, origin.Host(), origin.Port(), nil, request{MethodPost, "/x", tt.headers, tt.body}, pathChunks, false)
				assert.Equal(t, "ok", r.Body)
				c.Close()
				proxy.Close()
				origin.Close()
				authority := origin.Host() + ":" + strconv.Itoa(origin.Port())
				want := "POST http://" + authority + "/x HTTP/1.1\r\n" +
					strings.ReplaceAll(strings.Join(tt.wantLines, "\r\n"), "HOST", authority) + "\r\n\r\n" + tt.body
				require.Len(t, proxy.Requests(), 1)
				assert.Equal(t, want, string(proxy.Requests()[0]))
			})
		}
	}
}

// §1.14.2 with proxy credentials (§7.2): the CONNECT carries Proxy-Authorization
// as its last header line; the request inside the tunnel (what the origin
// gets) carries none, nor do the HTTP proxy's credentials go anywhere.
func TestHTTPSProxyCredentialsOnConnectOnly(t *testing.T) {
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "localhost")
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ts.NewTLS(t, cert, ts.Respond(okResp))
			proxy := ts.NewConnectProxy(t)
			c, tr := newClient(t, m.blocking)
			c.SetHTTPSProxy(proxy.Host(), proxy.Port())
			c.SetHTTPSProxyCredentials("user", "pa:ss")
			c.SetHTTPProxyCredentials("http", "only") // no HTTP proxy in use
			r := roundTrip(t, c, tr, "localhost", srv.Port(), TLSClient(ca.Pool(), ""), request{MethodGet, "/in", []string{"X-B: 2"}, ""}, pathChunks, false)
			assert.Equal(t, "ok", r.Body)
			c.Close()
			proxy.Close()
			srv.Close()
			authority := "localhost:" + strconv.Itoa(srv.Port())
			require.Len(t, proxy.Requests(), 1)
			assert.Equal(t, "CONNECT "+authority+" HTTP/1.1\r\nHost: "+authority+"\r\nUser-Agent: "+wire.DefaultUserAgent()+
				"\r\nAccept: */*\r\n"+userPassAuth+"\r\n\r\n", string(proxy.Requests()[0]))
			require.Len(t, srv.Requests(), 1)
			assert.Equal(t, "GET /in HTTP/1.1\r\nX-B: 2\r\nHost: localhost:"+strconv.Itoa(srv.Port())+"\r\nUser-Agent: "+wire.DefaultUserAgent()+
				"\r\nAccept: */*\r\n\r\n", string(srv.Requests()[0]), "nothing of the proxy inside the tunnel")
		})
	}
}

// A proxy that refuses the credentials: a CONNECT answered 407 is
// CANT_CONNECT with a *ProxyError{Code: 407} (§1.14.2.3 with §7 D5); an HTTP
// proxy's 407 is an ordinary response.
func TestProxyCredentialsRefused(t *testing.T) {
	for _, m := range modes {
		t.Run("connect-407/"+m.name, func(t *testing.T) {
			proxy := ts.NewConnectProxy(t, ts.ProxyReply("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\n\r\n"))
			c, tr := newClient(t, m.blocking)
			c.SetHTTPSProxy(proxy.Host(), proxy.Port())
			c.SetHTTPSProxyCredentials("user", "wrong")
			r := roundTrip(t, c, tr, "localhost", 443, TLSClient(nil, ""), getRoot, pathChunks, false)
			assert.Equal(t, statuses(StatusConnecting, StatusCantConnect), r.Trace)
			var pe *ProxyError
			require.True(t, errors.As(r.LastErr, &pe), "%v", r.LastErr)
			assert.Equal(t, 407, pe.Code)
			assert.Equal(t, []string{`Proxy-Authenticate: Basic realm="p"`}, pe.Headers)
			assert.ErrorIs(t, r.LastErr, ErrCantConnect)
		})
		t.Run("forward-407/"+m.name, func(t *testing.T) {
			const resp = "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 4\r\n\r\nnope"
			proxy := ts.New(t, ts.Respond(resp)) // a proxy that answers itself
			c, tr := newClient(t, m.blocking)
			c.SetHTTPProxy(proxy.Host(), proxy.Port())
			c.SetHTTPProxyCredentials("user", "wrong")
			r := roundTrip(t, c, tr, "game.example", 80, nil, getRoot, pathChunks, false)
			assert.Equal(t, 407, r.Code)
			assert.Equal(t, "nope", r.Body)
			require.Len(t, proxy.Requests(), 1)
			assert.Contains(t, string(proxy.Requests()[0]), "GET http://game.example:80/ HTTP/1.1\r\n")
			assert.Contains(t, string(proxy.Requests()[0]), "Proxy-Authorization: Basic dXNlcjp3cm9uZw==\r\n\r\n")
		})
	}
}

// The Transport with a proxy URL that carries credentials (what
// ProxyFromEnvironment gives for HTTPS_PROXY=http://user:pa:ss@host): the
// CONNECT carries Proxy-Authorization, the request inside the tunnel none.
func TestTransportProxyCredentials(t *testing.T) {
	ca := ts.NewCA(t)
	srv := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.Respond(okResp))
	proxy := ts.NewConnectProxy(t)
	tr := &Transport{TLS: TLSClient(ca.Pool(), "")}
	t.Cleanup(tr.CloseIdleConnections)
	tr.Proxy = func(*http.Request) (*url.URL, error) {
		return &url.URL{Scheme: "http", Host: proxy.Addr(), User: url.UserPassword("user", "pa:ss")}, nil
	}
	resp, err := (&http.Client{Transport: tr}).Get("https://localhost:" + strconv.Itoa(srv.Port()) + "/in")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "ok", string(body))
	tr.CloseIdleConnections()
	proxy.Close()
	srv.Close()
	authority := "localhost:" + strconv.Itoa(srv.Port())
	require.Len(t, proxy.Requests(), 1)
	assert.Equal(t, "CONNECT "+authority+" HTTP/1.1\r\nHost: "+authority+"\r\nUser-Agent: "+wire.DefaultUserAgent()+
		"\r\nAccept: */*\r\n"+userPassAuth+"\r\n\r\n", string(proxy.Requests()[0]))
	require.Len(t, srv.Requests(), 1)
	assert.NotContains(t, strings.ToLower(string(srv.Requests()[0])), "proxy-authorization")
}

// The credentials go only over a connection made to the HTTP proxy: a
// client connected directly, then given a proxy and its credentials for
// later connections, writes its next request in absolute form (Godot's
// request-time rule, §1.7) but without Proxy-Authorization; a connection
// made to the proxy carries the credentials set when it was made.
func TestProxyCredentialsOnlyOverProxyConnections(t *testing.T) {
	origin := ts.New(t, ts.RespondEach(okResp))
	proxy := ts.NewForwardProxy(t)
	c, _ := newClient(t, true)
	require.NoError(t, connect(t, c, origin.Host(), origin.Port(), nil)) // direct
	c.SetHTTPProxy(proxy.Host(), proxy.Port())
	c.SetHTTPProxyCredentials("user", "secret")
	require.NoError(t, c.RequestRaw(MethodGet, "/x", nil, nil))
	_ = pollWhile(t, c, StatusRequesting)
	c.Close()

	require.NoError(t, connect(t, c, origin.Host(), origin.Port(), nil)) // through the proxy now
	c.SetHTTPProxyCredentials("other", "later")                          // for later connections
	require.NoError(t, c.RequestRaw(MethodGet, "/y", nil, nil))
	_ = pollWhile(t, c, StatusRequesting)
	c.Close()
	origin.Close()
	proxy.Close()

	reqs := origin.Requests()
	require.NotEmpty(t, reqs)
	assert.Contains(t, string(reqs[0]), "GET http://", "absolute form, decided at request time")
	assert.NotContains(t, string(reqs[0]), "Proxy-Authorization", "a direct connection never carries them")
	require.Len(t, proxy.Requests(), 1)
	assert.Contains(t, string(proxy.Requests()[0]), "Proxy-Authorization: Basic dXNlcjpzZWNyZXQ=\r\n", "those set when the connection was made")
}
