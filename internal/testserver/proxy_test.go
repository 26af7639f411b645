package testserver_test

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// connectReq is the CONNECT request Godot sends (§1.14.2.1, Host: :-1).
func connectReq(authority string) string {
	return "CONNECT " + authority + " HTTP/1.1\r\nHost: :-1\r\nUser-Agent: GodotEngine\r\nAccept: */*\r\n\r\n"
}

// readExactly reads n bytes with a deadline.
func readExactly(t *testing.T, c net.Conn, n int) string {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, n)
	_, err := io.ReadFull(c, buf)
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Time{}))
	return string(buf)
}

// TestConnectProxyTunnels: replies with a 2xx code open a tunnel through
// which a TLS exchange with the origin works, with the target host as SNI
// (§1.14.2, §7 D5 for 2xx other than 200 and replies with framing).
func TestConnectProxyTunnels(t *testing.T) {
	ca := ts.NewCA(t)
	replies := map[string]string{
		"200 header-only":         ts.DefaultConnectReply,
		"200 with Content-Length": "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"204":                     "HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.0 201":            "HTTP/1.0 201 Created\r\n\r\n",
	}
	for name, reply := range replies {
		t.Run(name, func(t *testing.T) {
			origin := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.Respond(resp200))
			proxy := ts.NewConnectProxy(t, ts.ProxyReply(reply))
			c := dial(t, proxy.Addr())
			req := connectReq(origin.Addr())
			_, err := c.Write([]byte(req))
			require.NoError(t, err)
			assert.Equal(t, reply, readExactly(t, c, len(reply)))

			tc := tls.Client(c, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
			_, err = tc.Write([]byte(getReq))
			require.NoError(t, err)
			got, end := readUntilEnd(t, tc, len(resp200), 200*time.Millisecond)
			assert.Equal(t, resp200, got)
			assert.Equal(t, endOpen, end)
			require.NoError(t, tc.Close())

			proxy.Close()
			origin.Close()
			assert.Equal(t, [][]byte{[]byte(req)}, proxy.Requests())
			assert.Equal(t, []string{"localhost"}, origin.ServerNames())
			assert.Equal(t, [][]byte{[]byte(getReq)}, origin.Requests())
			assert.Empty(t, proxy.Errors())
			assert.Empty(t, origin.Errors())
		})
	}
}

// TestConnectProxyRefuses: a non-2xx reply is written and the connection is
// held open (no tunnel, the origin is never dialled); ProxyCloseAfterReply
// closes right after the reply; an empty reply never answers.
func TestConnectProxyRefuses(t *testing.T) {
	const forbidden = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
	tests := []struct {
		name string
		opts []ts.ProxyOption
		want string
		end  ending
	}{
		{"403", []ts.ProxyOption{ts.ProxyReply(forbidden)}, forbidden, endOpen},
		{"407 then close", []ts.ProxyOption{ts.ProxyReply("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"), ts.ProxyCloseAfterReply()}, "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", endEOF},
		{"200 then close", []ts.ProxyOption{ts.ProxyCloseAfterReply()}, ts.DefaultConnectReply, endEOF},
		{"close without reply", []ts.ProxyOption{ts.ProxyReply(""), ts.ProxyCloseAfterReply()}, "", endEOF},
		{"never answers", []ts.ProxyOption{ts.ProxyReply("")}, "", endOpen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			origin := ts.New(t, ts.Respond(resp200))
			proxy := ts.NewConnectProxy(t, tc.opts...)
			c := dial(t, proxy.Addr())
			_, err := c.Write([]byte(connectReq(origin.Addr())))
			require.NoError(t, err)
			got, end := readUntilEnd(t, c, len(tc.want), 200*time.Millisecond)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.end, end)
			require.NoError(t, c.Close())
			proxy.Close()
			assert.Empty(t, proxy.Errors())
			assert.Len(t, proxy.Requests(), 1)
			assert.Zero(t, origin.Accepted())
		})
	}
}

// TestConnectProxyTargets: only loopback authorities are dialled, including
// the unbracketed IPv6 form Godot writes (§1.14.2.1); others get a 502 and an
// ErrProxyTarget record, without any DNS lookup.
func TestConnectProxyTargets(t *testing.T) {
	origin4 := ts.New(t, ts.RespondEach(resp200))
	origin6 := ts.New(t, ts.RespondEach(resp200), ts.WithIPv6())
	port4, port6 := strconv.Itoa(origin4.Port()), strconv.Itoa(origin6.Port())
	tests := []struct {
		authority string
		ok        bool
	}{
		{"127.0.0.1:" + port4, true},
		{"localhost:" + port4, true},
		{"[::1]:" + port6, true},
		{"::1:" + port6, true},
		{"example.com:443", false},
		{"10.0.0.1:" + port4, false},
		{"127.0.0.1", false},
		{"[::1", false},
	}
	for _, tc := range tests {
		t.Run(tc.authority, func(t *testing.T) {
			proxy := ts.NewConnectProxy(t)
			c := dial(t, proxy.Addr())
			_, err := c.Write([]byte(connectReq(tc.authority)))
			require.NoError(t, err)
			if !tc.ok {
				got, end := readUntilEnd(t, c, 0, 5*time.Second)
				assert.True(t, strings.HasPrefix(got, "HTTP/1.1 502 "), got)
				assert.Equal(t, endEOF, end)
				proxy.Close()
				require.Len(t, proxy.Errors(), 1)
				assert.ErrorIs(t, proxy.Errors()[0], ts.ErrProxyTarget)
				return
			}
			assert.Equal(t, ts.DefaultConnectReply, readExactly(t, c, len(ts.DefaultConnectReply)))
			_, err = c.Write([]byte(getReq))
			require.NoError(t, err)
			assert.Equal(t, resp200, readExactly(t, c, len(resp200)))
			require.NoError(t, c.Close())
			proxy.Close()
			assert.Empty(t, proxy.Errors())
		})
	}
}

// TestConnectProxyEagerClient: bytes sent right behind the CONNECT request,
// before the reply, are tunnelled too; the origin's close reaches the client
// as EOF and the client's bytes are recorded by the proxy.
func TestConnectProxyEagerClient(t *testing.T) {
	origin := ts.New(t, ts.RespondAndClose(resp200))
	proxy := ts.NewConnectProxy(t)
	c := dial(t, proxy.Addr())
	req := connectReq(origin.Addr())
	_, err := c.Write([]byte(req + getReq))
	require.NoError(t, err)
	got, end := readUntilEnd(t, c, 0, 5*time.Second)
	assert.Equal(t, ts.DefaultConnectReply+resp200, got)
	assert.Equal(t, endEOF, end)
	require.NoError(t, c.Close())
	proxy.Close()
	origin.Close()
	assert.Equal(t, [][]byte{[]byte(getReq)}, origin.Requests())
	assert.Equal(t, [][]byte{[]byte(req + getReq)}, proxy.Received())
	assert.Empty(t, proxy.Errors())
}

// TestForwardProxy: a net/http client through the forward proxy; the proxy
// records the absolute-form requests (§1.14.1), the origin receives them in
// origin-form, and keep-alive works through the proxy.
func TestForwardProxy(t *testing.T) {
	origin := ts.New(t, ts.RespondEach(resp200))
	proxy := ts.NewForwardProxy(t)
	proxyURL, err := url.Parse("http://" + proxy.Addr())
	require.NoError(t, err)
	tr := &http.Transport{Proxy: http.ProxyURL(proxyURL)}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	for _, path := range []string{"/a?x=1", "/b"} {
		resp, err := client.Get(origin.URL(path))
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, "ok", string(body))
	}
	tr.CloseIdleConnections()
	proxy.Close()
	origin.Close()

	preqs := proxy.Requests()
	require.Len(t, preqs, 2)
	assert.True(t, strings.HasPrefix(string(preqs[0]), "GET "+origin.URL("/a?x=1")+" HTTP/1.1\r\n"), string(preqs[0]))
	assert.True(t, strings.HasPrefix(string(preqs[1]), "GET "+origin.URL("/b")+" HTTP/1.1\r\n"), string(preqs[1]))
	oreqs := origin.Requests()
	require.Len(t, oreqs, 2)
	assert.True(t, strings.HasPrefix(string(oreqs[0]), "GET /a?x=1 HTTP/1.1\r\n"), string(oreqs[0]))
	assert.Equal(t, string(preqs[0])[len("GET "+origin.URL("/a?x=1")):], string(oreqs[0])[len("GET /a?x=1"):], "headers unchanged")
	assert.Equal(t, 1, proxy.Accepted(), "one keep-alive connection")
	assert.Equal(t, 1, origin.Accepted())
	assert.Empty(t, proxy.Errors())
	assert.Empty(t, origin.Errors())
}

// TestForwardProxyRawClient: Godot-style raw requests; an origin that closes
// after its response closes the client side too; a request body is forwarded.
func TestForwardProxyRawClient(t *testing.T) {
	origin := ts.New(t, ts.RespondAndClose(resp200))
	proxy := ts.NewForwardProxy(t)
	c := dial(t, proxy.Addr())
	req := "POST http://" + origin.Addr() + " HTTP/1.1\r\nHost: " + origin.Addr() + "\r\nContent-Length: 4\r\n\r\nbody"
	_, err := c.Write([]byte(req))
	require.NoError(t, err)
	got, end := readUntilEnd(t, c, 0, 5*time.Second)
	assert.Equal(t, resp200, got)
	assert.Equal(t, endEOF, end)
	require.NoError(t, c.Close())
	proxy.Close()
	origin.Close()
	assert.Equal(t, "POST / HTTP/1.1\r\nHost: "+origin.Addr()+"\r\nContent-Length: 4\r\n\r\nbody", string(origin.Requests()[0]))
	assert.Empty(t, proxy.Errors())
}

// TestForwardProxyRefuses: origin-form requests, other schemes, non-loopback
// hosts and a second origin on one connection are refused.
func TestForwardProxyRefuses(t *testing.T) {
	origin := ts.New(t, ts.RespondEach(resp200))
	other := ts.New(t, ts.RespondEach(resp200))
	tests := []struct {
		name string
		reqs []string
		want string // prefix of what the client reads
	}{
		{"origin-form", []string{"GET / HTTP/1.1\r\n\r\n"}, "HTTP/1.1 502 "},
		{"https scheme", []string{"GET https://" + origin.Addr() + "/ HTTP/1.1\r\n\r\n"}, "HTTP/1.1 502 "},
		{"not loopback", []string{"GET http://example.com/ HTTP/1.1\r\n\r\n"}, "HTTP/1.1 502 "},
		{"second origin", []string{"GET http://" + origin.Addr() + "/ HTTP/1.1\r\n\r\n", "GET http://" + other.Addr() + "/ HTTP/1.1\r\n\r\n"}, resp200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			proxy := ts.NewForwardProxy(t)
			c := dial(t, proxy.Addr())
			for i, r := range tc.reqs {
				_, err := c.Write([]byte(r))
				require.NoError(t, err)
				if i == 0 && len(tc.reqs) > 1 {
					assert.Equal(t, resp200, readExactly(t, c, len(resp200)))
				}
			}
			got, end := readUntilEnd(t, c, 0, 5*time.Second)
			if len(tc.reqs) == 1 {
				assert.True(t, strings.HasPrefix(got, tc.want), got)
			}
			assert.Equal(t, endEOF, end)
			proxy.Close()
			require.Len(t, proxy.Errors(), 1)
			assert.ErrorIs(t, proxy.Errors()[0], ts.ErrProxyTarget)
		})
	}
}
