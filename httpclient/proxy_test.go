package httpclient

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/proxygen"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// TestHTTPProxy checks §1.14.1 against a real forward proxy: the socket goes
// to the proxy, the target is absolute-form, Host stays the target's.
func TestHTTPProxy(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			origin := ts.New(t, ts.Respond(okResp))
			proxy := ts.NewForwardProxy(t)
			c, tr := newClient(t, m.blocking)
			c.SetHTTPProxy(proxy.Host(), proxy.Port())
			r := roundTrip(t, c, tr, origin.Host(), origin.Port(), nil, request{MethodGet, "/x", nil, ""}, pathChunks, false)
			assert.Equal(t, concat(connected, StatusBody, StatusConnected), r.Trace)
			assert.Equal(t, "ok", r.Body)
			c.Close()
			proxy.Close()
			origin.Close()
			authority := origin.Host() + ":" + strconv.Itoa(origin.Port())
			require.Len(t, proxy.Requests(), 1)
			assert.True(t, strings.HasPrefix(string(proxy.Requests()[0]), "GET http://"+authority+"/x HTTP/1.1\r\nHost: "+authority+"\r\n"),
				"%q", proxy.Requests()[0])
			require.Len(t, origin.Requests(), 1)
			assert.True(t, strings.HasPrefix(string(origin.Requests()[0]), "GET /x HTTP/1.1\r\n"))
		})
	}
}

// TestHTTPSProxy checks the CONNECT tunnel of §1.14.2 with the §7 D5 fixes
// (the request of §1.14.2.1, status CONNECTING during the exchange,
// §1.14.2.2 and §1.6.2.4; against §1.14.2.4 and §1.14.2.6):
// any 2xx reply opens the tunnel whatever its framing; another status is
// CANT_CONNECT with ERR_CANT_CONNECT and the proxy's code in a *ProxyError;
// a proxy that closes is CANT_CONNECT with ERR_CONNECTION_ERROR
// (§1.14.2.5); bytes after the reply belong to the tunnel.
func TestHTTPSProxy(t *testing.T) {
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "localhost")
	ok := concat(connected, StatusBody, StatusConnected)
	tests := []struct {
		name  string
		opts  []ts.ProxyOption
		trace []Status
		code  Error
		cause func(t *testing.T, err error)
	}{
		{name: "200", trace: ok},
		{name: "200-content-length-0", opts: []ts.ProxyOption{ts.ProxyReply("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")}, trace: ok}, // D5
		{name: "200-connection-close", opts: []ts.ProxyOption{ts.ProxyReply("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")}, trace: ok}, // D5
		{name: "204", opts: []ts.ProxyOption{ts.ProxyReply("HTTP/1.1 204 No Content\r\n\r\n")}, trace: ok},                               // D5: any 2xx
		{name: "403", opts: []ts.ProxyOption{ts.ProxyReply("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")},
			trace: statuses(StatusConnecting, StatusCantConnect), code: ErrCantConnect,
			cause: func(t *testing.T, err error) {
				var pe *ProxyError
				require.True(t, errors.As(err, &pe), "%v", err)
				assert.Equal(t, 403, pe.Code)
				assert.Equal(t, []string{"Content-Length: 0"}, pe.Headers)
			}},
		{name: "407", opts: []ts.ProxyOption{ts.ProxyReply("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")},
			trace: statuses(StatusConnecting, StatusCantConnect), code: ErrCantConnect,
			cause: func(t *testing.T, err error) {
				var pe *ProxyError
				require.True(t, errors.As(err, &pe), "%v", err)
				assert.Equal(t, 407, pe.Code)
			}},
		// §1.6.2.2: Godot's TCP check sees the FIN before the CONNECT
		// sub-client reads: no address left, ERR_CANT_CONNECT.
		{name: "proxy-closes", opts: []ts.ProxyOption{ts.ProxyReply(""), ts.ProxyCloseAfterReply()},
			trace: statuses(StatusConnecting, StatusCantConnect), code: ErrCantConnect,
			cause: func(t *testing.T, err error) {
				assert.ErrorIs(t, err, errProxyClosed)
				var te *TunnelError
				assert.ErrorAs(t, err, &te, "an unanswered CONNECT is a *TunnelError")
			}},
		// A reply cut by the FIN: the sub-client reads the bytes and meets
		// the end in the same read (ERR_CONNECTION_ERROR).
		{name: "proxy-cuts-reply", opts: []ts.ProxyOption{ts.ProxyReply("HTTP/1.1 200 OK\r\n"), ts.ProxyCloseAfterReply()},
			trace: statuses(StatusConnecting, StatusCantConnect), code: ErrConnectionError,
			cause: func(t *testing.T, err error) {
				assert.ErrorIs(t, err, errProxyCut)
				var te *TunnelError
				assert.ErrorAs(t, err, &te, "a cut CONNECT reply is a *TunnelError")
			}},
		{name: "bytes-after-reply-go-to-tls", opts: []ts.ProxyOption{ts.ProxyReply("HTTP/1.1 200 OK\r\n\r\nXYZ")},
			trace: statuses(StatusConnecting, StatusTLSHandshakeError), code: ErrCantConnect,
			cause: func(t *testing.T, err error) { assert.Error(t, err) }},
	}
	for _, tt := range tests {
		for _, m := range modes {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				srv := ts.NewTLS(t, cert, ts.Respond(okResp))
				proxy := ts.NewConnectProxy(t, tt.opts...)
				c, tr := newClient(t, m.blocking)
				c.SetHTTPSProxy(proxy.Host(), proxy.Port())
				r := roundTrip(t, c, tr, "localhost", srv.Port(), TLSClient(ca.Pool(), ""), getRoot, pathChunks, false)
				assert.Equal(t, tt.trace, r.Trace, "no RESOLVING: the proxy is an IP literal and the target is not resolved")
				if tt.cause == nil {
					assert.Equal(t, "ok", r.Body)
					srv.Close()
					assert.Equal(t, []string{"localhost"}, srv.ServerNames(), "SNI names the target, not the proxy")
				} else {
					assert.True(t, errors.Is(r.LastErr, tt.code), "%v", r.LastErr)
					tt.cause(t, r.LastErr)
					later := ErrCantConnect // §1.6 table: CANT_CONNECT → ERR_CANT_CONNECT
					if r.Final == StatusTLSHandshakeError {
						later = ErrConnectionError
					}
					assert.True(t, errors.Is(c.Poll(), later), "later polls")
				}
				c.Close()
				proxy.Close()
				require.NotEmpty(t, proxy.Requests())
				assert.True(t, strings.HasPrefix(string(proxy.Requests()[0]),
					"CONNECT localhost:"+strconv.Itoa(srv.Port())+" HTTP/1.1\r\nHost: localhost:"+strconv.Itoa(srv.Port())+"\r\n"))
			})
		}
	}
}

// TestProxyChoice checks §1.5.8 and §1.14: the HTTPS proxy is used only for
// TLS targets, the HTTP proxy only for plain ones; an empty host or port −1
// unsets a proxy.
func TestProxyChoice(t *testing.T) {
	origin := ts.New(t, ts.RespondEach(okResp))
	unused := ts.New(t, ts.Respond(okResp))
	c, _ := newClient(t, false)

	c.SetHTTPSProxy(unused.Host(), unused.Port()) // plain target: not used
	require.NoError(t, connect(t, c, origin.Host(), origin.Port(), nil))
	assert.Equal(t, StatusConnected, c.Status())

	c.SetHTTPProxy(unused.Host(), unused.Port())
	c.SetHTTPProxy("", unused.Port()) // empty host unsets
	require.NoError(t, connect(t, c, origin.Host(), origin.Port(), nil))
	assert.Equal(t, StatusConnected, c.Status())

	c.SetHTTPProxy(unused.Host(), -1) // port −1 unsets
	require.NoError(t, connect(t, c, origin.Host(), origin.Port(), nil))
	assert.Equal(t, StatusConnected, c.Status())
	c.Close()
	// The connections were closed at once: they may still wait in the
	// listen queue.
	origin.WaitAccepted(3, 5*time.Second)
	unused.Close()
	origin.Close()
	assert.Equal(t, 0, unused.Accepted())
	assert.Equal(t, 3, origin.Accepted())
}

// TestHTTPSProxyTarget checks the CONNECT target against Godot's sub-client
// (§1.14.2.1, §1.7.2): it writes vformat("%s:%d", conn_host, conn_port) and
// refuses a target whose first ':' is its first byte — status CANT_CONNECT,
// ERR_INVALID_PARAMETER, nothing sent to the proxy. A host with a ':' that
// is no IPv6 address (connect_to_host keeps a port after the scheme, §1.5.3)
// is written as Godot writes it; only an IPv6 address is bracketed (§7 D5,
// COMPAT W2), so that one passes.
func TestHTTPSProxyTarget(t *testing.T) {
	for _, m := range modes {
		t.Run("leading-colon/"+m.name, func(t *testing.T) {
			proxy := ts.New(t, ts.Respond("HTTP/1.1 403 Forbidden\r\n\r\n"))
			c, tr := newClient(t, m.blocking)
			c.SetHTTPSProxy(proxy.Host(), proxy.Port())
			err := connect(t, c, ":abc", 443, TLSClient(nil, ""))
			assert.Equal(t, statuses(StatusConnecting, StatusCantConnect), *tr)
			assert.ErrorIs(t, err, ErrInvalidParameter)
			var re *wire.RequestError
			assert.ErrorAs(t, err, &re)
			c.Close()
			proxy.WaitAccepted(1, 5*time.Second)
			proxy.Close()
			for _, got := range proxy.Received() {
				assert.Empty(t, string(got), "no CONNECT is sent")
			}
		})
		t.Run("colon-inside-host/"+m.name, func(t *testing.T) {
			proxy := ts.New(t, ts.Respond("HTTP/1.1 403 Forbidden\r\n\r\n"))
			c, _ := newClient(t, m.blocking)
			c.SetHTTPSProxy(proxy.Host(), proxy.Port())
			err := connect(t, c, "https://localhost:8443", 443, nil)
			assert.ErrorIs(t, err, ErrCantConnect)
			c.Close()
			proxy.Close()
			require.Len(t, proxy.Requests(), 1)
			assert.True(t, strings.HasPrefix(string(proxy.Requests()[0]),
				"CONNECT localhost:8443:443 HTTP/1.1\r\nHost: localhost:8443:443\r\n"), "%q", proxy.Requests()[0])
		})
	}
}

// TestRefusedConnectClosesProxyConnection pins COMPAT H6: after a CONNECT
// reply other than 2xx the port closes its connection to the proxy at once
// (the exchange ran on the connector goroutine, which closes what it
// failed). Godot sets CANT_CONNECT without close() and keeps the socket
// until close() or the next connect_to_host (§1.14.2.3).
func TestRefusedConnectClosesProxyConnection(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			closed := make(chan bool, 1)
			proxy := ts.New(t, ts.Script(ts.Read(), ts.WriteString("HTTP/1.1 403 Forbidden\r\n\r\n"),
				ts.Do("wait-closed", func(sc *ts.Conn) error {
					closed <- sc.WaitClosed(5 * time.Second)
					return nil
				}), ts.Hold()))
			c, tr := newClient(t, m.blocking)
			c.SetHTTPSProxy(proxy.Host(), proxy.Port())
			err := connect(t, c, "example.com", 443, TLSClient(nil, ""))
			assert.Equal(t, statuses(StatusConnecting, StatusCantConnect), *tr)
			assert.ErrorIs(t, err, ErrCantConnect)
			select {
			case sawFIN := <-closed:
				assert.True(t, sawFIN, "the port closes the proxy connection before Close")
			case <-time.After(10 * time.Second):
				t.Fatal("proxy never finished waiting")
			}
			c.Close()
			proxy.Close()
		})
	}
}

// TestStrictConnectIgnoresFraming: in strict mode too, a 2xx reply to
// CONNECT opens the tunnel whatever its framing fields say — a Content-Length
// that is no number, two that differ, a Transfer-Encoding other than chunked
// (§7 D5; RFC 9110 §9.3.6: a client ignores them). Strict mode refused them
// (CANT_CONNECT, ERR_CONNECTION_ERROR) where the lenient default opened the
// tunnel. Godot has no strict mode; its sub-client reads "abc" as 0 and
// fails a poll later (§1.14.2.4), the case D5 exists for.
func TestStrictConnectIgnoresFraming(t *testing.T) {
	for _, raw := range []string{
		"HTTP/1.1 200 Connection established\r\nContent-Length: abc\r\n\r\n",
		"HTTP/1.1 200 Connection established\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"HTTP/1.1 200 Connection established\r\nTransfer-Encoding: gzip\r\n\r\n",
	} {
		t.Run(raw[37:len(raw)-4], func(t *testing.T) {
			ca := ts.NewCA(t)
			origin := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			proxy, err := proxygen.Start(proxygen.Plan{B: proxygen.OddHead, Raw: raw, Code: 200, Proto: "HTTP/1.1"}, true, origin.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer proxy.Close()
			c, tr := newClient(t, false)
			c.SetStrict(true)
			c.SetHTTPSProxy(proxy.Host(), proxy.Port())
			err = connect(t, c, "localhost", origin.Port(), TLSClient(ca.Pool(), ""))
			assert.NoError(t, err, "the 2xx opens the tunnel; its framing headers are ignored")
			assert.Equal(t, statuses(StatusConnecting, StatusConnected), *tr)
			c.Close()
		})
	}
}
