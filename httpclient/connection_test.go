package httpclient

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// dialTCP opens a loopback connection to a test server.
func dialTCP(t *testing.T, host string, port int) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// uncomparableConn is a conn of a type == cannot compare (SetConnection
// must not panic on it).
type uncomparableConn struct {
	net.Conn
	_ []byte
}

// TestSetConnectionRules checks issue 7 rule 3, §1.13.1–2 and §1.13.4 in
// both modes: nil is refused, so is a conn that is not a *tls.Conn while
// the client has TLS options, in both cases with nothing changed; the
// current connection again is a no-op (in BODY too); another conn closes
// the client (response cleared, old connection closed) and installs it:
// status CONNECTED (through close()'s DISCONNECTED), Connection returns it.
func TestSetConnectionRules(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			first := make(chan struct{})
			srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe"), ts.Hold(),
				ts.Do("first-closed", func(*ts.Conn) error { close(first); return nil })))
			c, tr := newClient(t, m.blocking)
			assert.Nil(t, c.Connection(), "§1.13.4: nil initially")
			assert.True(t, errors.Is(c.SetConnection(nil), ErrInvalidParameter), "§1.13.1: null")
			assert.Equal(t, StatusDisconnected, c.Status())

			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			conn := c.Connection()
			require.NotNil(t, conn, "§1.13.4: the TCP stream")
			require.NoError(t, c.Request(MethodGet, "/", nil, ""))
			_ = pollWhile(t, c, StatusRequesting)
			require.Equal(t, StatusBody, c.Status())
			n := len(*tr)

			assert.True(t, errors.Is(c.SetConnection(nil), ErrInvalidParameter))
			assert.NoError(t, c.SetConnection(conn), "§1.13.1: the same connection is a no-op")
			assert.Equal(t, StatusBody, c.Status())
			assert.Equal(t, 200, c.ResponseCode())
			assert.Len(t, *tr, n, "no status change")

			other := dialTCP(t, srv.Host(), srv.Port())
			require.NoError(t, c.SetConnection(uncomparableConn{Conn: other}), "§1.13.2")
			assert.Equal(t, StatusConnected, c.Status())
			assert.Equal(t, concat((*tr)[:n], StatusDisconnected, StatusConnected), *tr, "close(), then CONNECTED")
			assert.Equal(t, 0, c.ResponseCode(), "§1.12: close() cleared the response")
			assert.Equal(t, uncomparableConn{Conn: other}.Conn, c.Connection().(uncomparableConn).Conn)
			select {
			case <-first: // the first connection was closed by close()
			case <-time.After(driveTimeout):
				t.Error("the first connection was not closed")
			}
			assert.NoError(t, c.SetConnection(uncomparableConn{Conn: other}), "an uncomparable conn is never the same one")

			// §1.13.1: with TLS options only a *tls.Conn is accepted.
			require.Error(t, c.ConnectToHost("https://", -1, nil)) // stores TLS options, then fails (host too short)
			plain := dialTCP(t, srv.Host(), srv.Port())
			assert.True(t, errors.Is(c.SetConnection(plain), ErrInvalidParameter))
			assert.Equal(t, StatusDisconnected, c.Status(), "nothing changed")
			assert.Nil(t, c.Connection())

			c.Close()
			assert.Nil(t, c.Connection(), "§1.13.4: nil after close()")
		})
	}
}

// TestSetConnectionRoundTrip checks issue 7 rule 3 end to end in both
// modes and on both read paths, over an installed loopback TCP conn (the
// zero-wait peek), a wrapper that is not a syscall.Conn and net.Pipe (the
// liveness check falls back to a deadline read, or a background read): the
// request goes out on it with Godot's automatic Host built from the stale
// target — "Host: :-1" on a fresh client (§1.13.2) — the response comes
// back, and a second request on the same conn works (keep-alive). Then the
// peer's FIN is found by Poll on the installed conn (CONNECTION_ERROR; §7
// deviation from §1.13.3, where Godot checks its own unconnected socket).
func TestSetConnectionRoundTrip(t *testing.T) {
	const resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	kinds := []struct {
		name string
		dial func(t *testing.T) (net.Conn, func() [][]byte)
		peek bool
	}{
		{"tcp", func(t *testing.T) (net.Conn, func() [][]byte) {
			srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString(resp), ts.Read(), ts.WriteString(resp), ts.Sleep(20*time.Millisecond), ts.Close()))
			return dialTCP(t, srv.Host(), srv.Port()), srv.Requests
		}, true},
		{"not-syscall-conn", func(t *testing.T) (net.Conn, func() [][]byte) {
			srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString(resp), ts.Read(), ts.WriteString(resp), ts.Sleep(20*time.Millisecond), ts.Close()))
			return hiddenConn{dialTCP(t, srv.Host(), srv.Port())}, srv.Requests
		}, false},
		{"net-pipe", func(t *testing.T) (net.Conn, func() [][]byte) {
			client, server := net.Pipe()
			reqs := make(chan []byte, 2)
			done := make(chan struct{})
			go func() { // a scripted peer on the other end of the pipe
				defer close(done)
				defer server.Close()
				br := bufio.NewReader(server)
				for range 2 {
					var head strings.Builder
					for {
						line, err := br.ReadString('\n')
						if err != nil {
							return
						}
						head.WriteString(line)
						if line == "\r\n" {
							break
						}
					}
					reqs <- []byte(head.String())
					if _, err := server.Write([]byte(resp)); err != nil {
						return
					}
				}
				// The close comes once the client, done with both
				// exchanges, polls in CONNECTED for the end.
				drive.Until(driveTimeout, func() bool { return drive.Waiting("httpclient.pollUntilEnd") })
			}()
			t.Cleanup(func() { _ = client.Close(); <-done })
			return client, func() [][]byte {
				var out [][]byte
				for {
					select {
					case r := <-reqs:
						out = append(out, r)
					default:
						return out
					}
				}
			}
		}, false},
	}
	for _, k := range kinds {
		for _, m := range modes {
			for _, path := range []readPath{pathChunks, pathInto} {
				t.Run(k.name+"/"+m.name+"/"+path.String(), func(t *testing.T) {
					conn, requests := k.dial(t)
					c, tr := newClient(t, m.blocking)
					require.NoError(t, c.SetConnection(conn))
					assert.Equal(t, k.peek, c.st.nb.NoWait(), "peekable")
					for i := range 2 {
						r := exchange(t, c, getRoot, path)
						assert.Equal(t, "ok", r.Body, "request %d", i)
						assert.Equal(t, StatusConnected, r.Final)
						assert.True(t, c.KeepAlive())
					}
					err := pollUntilEnd(t, c, StatusConnected)
					assert.True(t, errors.Is(err, ErrConnectionError), "%v", err)
					assert.True(t, errors.Is(err, ErrPeerClosed), "%v", err)
					assert.Equal(t, statuses(StatusConnected, StatusRequesting, StatusBody, StatusConnected,
						StatusRequesting, StatusBody, StatusConnected, StatusConnectionError), *tr)
					assert.NotNil(t, c.Connection(), "no close(): the stream stays")
					reqs := requests()
					require.Len(t, reqs, 2)
					for _, r := range reqs {
						assert.Contains(t, string(r), "Host: :-1", "§1.13.2: conn_host/port never set")
					}
				})
			}
		}
	}
}

// TestSetConnectionStaleTarget checks §1.13.2: after a ConnectToHost the
// installed connection's Host header names that (stale) target, and the
// TLS options stay: a *tls.Conn is required and carries the request; the
// Host omits the port only for 443 with TLS (§1.7.10).
func TestSetConnectionStaleTarget(t *testing.T) {
	ca := ts.NewCA(t)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			c, _ := newClient(t, m.blocking)
			opts := TLSClient(ca.Pool(), "")
			require.NoError(t, c.ConnectToHost("localhost", 8443, opts)) // never reached
			tc, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Port())), &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
			require.NoError(t, err)
			t.Cleanup(func() { _ = tc.Close() })
			assert.True(t, errors.Is(c.SetConnection(tc.NetConn()), ErrInvalidParameter), "§1.13.1: TLS options need a TLS stream")
			require.NoError(t, c.SetConnection(tc))
			assert.Same(t, tc, c.Connection())
			r := exchange(t, c, getRoot, pathChunks)
			assert.Equal(t, "ok", r.Body)
			srv.Close()
			require.Len(t, srv.Requests(), 1)
			assert.Contains(t, string(srv.Requests()[0]), "\r\nHost: localhost:8443\r\n")
		})
	}
}

// TestSetConnectionStopsConnect checks §1.13.2 (close() first) while a
// connect attempt is in progress: it is stopped and joined, and the
// installed conn is used. Connection is nil while connecting (COMPAT: the
// port has no stream before the connect succeeded, §1.13.4, where Godot
// already returns the TLS stream during the handshake, §1.6.2.6: COMPAT H12).
func TestSetConnectionStopsConnect(t *testing.T) {
	srv := ts.New(t, ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c, _ := newClient(t, m.blocking)
			c.dialFn = func(ctx context.Context, network, addr string) (net.Conn, error) {
				<-ctx.Done() // a connect that never completes
				return nil, ctx.Err()
			}
			require.NoError(t, c.ConnectToHost("127.0.0.1", srv.Port(), nil))
			require.Equal(t, StatusConnecting, c.Status())
			assert.Nil(t, c.Connection(), "no stream yet")
			require.NoError(t, c.SetConnection(dialTCP(t, srv.Host(), srv.Port())))
			assert.Zero(t, c.live.Load(), "the connect attempt was joined")
			r := exchange(t, c, getRoot, pathChunks)
			assert.Equal(t, "ok", r.Body)
		})
	}
}

// TestSetConnectionAbort checks that Abort reaches an installed conn: a
// blocking read on it returns promptly (CONNECTION_ERROR, ErrAborted). In a
// synctest bubble over net.Pipe: the Poll returns at the Abort's instant.
func TestSetConnectionAbort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, server := net.Pipe()
		t.Cleanup(func() { _ = server.Close() })
		go func() { _, _ = io.Copy(io.Discard, server) }()
		c, _ := newClient(t, true)
		require.NoError(t, c.SetConnection(client))
		require.NoError(t, c.Request(MethodGet, "/", nil, ""))
		const after = 20 * time.Millisecond
		time.AfterFunc(after, c.Abort)
		start := time.Now()
		err := c.Poll() // waits for a head that never comes
		assert.Equal(t, after, time.Since(start), "returned at the Abort")
		assert.True(t, errors.Is(err, ErrAborted), "%v", err)
		assert.Equal(t, StatusConnectionError, c.Status())
	})
}

// TestSetConnectionTLSTruncation pins the COMPAT limitation of an
// installed *tls.Conn: a TLS server that ends a read-until-close body with
// a TCP FIN and no close_notify gives CONNECTION_ERROR in Godot (§1.15.4)
// and over connections the client makes (TestTLSBodyEndings), but over an
// installed *tls.Conn crypto/tls reports io.EOF for both endings, so the
// body ends like a clean close: DISCONNECTED, complete.
func TestSetConnectionTLSTruncation(t *testing.T) {
	ca := ts.NewCA(t)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.Script(ts.Read(),
				ts.WriteString("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\ndata"), ts.CloseTCP()))
			tc, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Port())), &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
			require.NoError(t, err)
			t.Cleanup(func() { _ = tc.Close() })
			c, tr := newClient(t, m.blocking)
			require.NoError(t, c.SetConnection(tc))
			r := exchange(t, c, getRoot, pathInto)
			assert.Equal(t, "data", r.Body)
			assert.Equal(t, statuses(StatusConnected, StatusRequesting, StatusBody, StatusDisconnected), *tr)
			assert.True(t, r.Complete)
		})
	}
}

// TestSetConnectionTLSBeforeHandshake checks a *tls.Conn installed before
// its handshake: Polls in CONNECTED (blocking mode: reads with a deadline
// elsewhere) leave the handshake to the request, which then runs it and
// gets the response, in both modes.
func TestSetConnectionTLSBeforeHandshake(t *testing.T) {
	ca := ts.NewCA(t)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			raw := dialTCP(t, "127.0.0.1", srv.Port())
			tc := tls.Client(raw, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
			c, _ := newClient(t, m.blocking)
			require.NoError(t, c.SetConnection(tc))
			for range 5 {
				require.NoError(t, c.Poll())
				time.Sleep(2 * time.Millisecond) // the server's handshake reply may arrive now
			}
			r := exchange(t, c, getRoot, pathChunks)
			assert.Equal(t, "ok", r.Body)
			assert.Equal(t, StatusConnected, r.Final)
			assert.True(t, tc.ConnectionState().HandshakeComplete)
		})
	}
}
