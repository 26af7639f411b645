package httpclient

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// §1.6: Godot's poll lets its TCP socket update itself first, and a FIN
// with nothing before it (or a socket error) closes that socket there
// (StreamPeerTCP::disconnect_from_host) — the client does not close(), but
// the server sees the connection closed at that poll, not when the caller
// gets to close(). The liveness check's CONNECTION_ERROR closes the socket
// the same way (socketGone), plain and TLS, both modes; the stream stays,
// closed, for Connection.
func TestLivenessFailureClosesSocket(t *testing.T) {
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "localhost")
	for _, tlsOn := range []bool{false, true} {
		for _, m := range modes {
			name := "plain/" + m.name
			if tlsOn {
				name = "tls/" + m.name
			}
			t.Run(name, func(t *testing.T) {
				closed := make(chan bool, 1)
				script := ts.Script(ts.Read(), ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"), ts.CloseWrite(),
					ts.Do("closed", func(c *ts.Conn) error { closed <- c.WaitClosed(2 * time.Second); return nil }))
				var srv *ts.Server
				var opts *TLSOptions
				host := "127.0.0.1"
				if tlsOn {
					srv, opts, host = ts.NewTLS(t, cert, script), TLSClient(ca.Pool(), ""), "localhost"
				} else {
					srv = ts.New(t, script)
				}
				c, _ := newClient(t, m.blocking)
				require.NoError(t, connect(t, c, host, srv.Port(), opts))
				require.NoError(t, c.Request(MethodGet, "/", nil, ""))
				require.NoError(t, pollWhile(t, c, StatusRequesting))
				require.Equal(t, "hi", string(c.ReadResponseBodyChunk()))
				require.Equal(t, StatusConnected, c.Status())
				time.Sleep(30 * time.Millisecond) // the server's FIN has arrived
				require.ErrorIs(t, c.Poll(), ErrConnectionError)
				require.Equal(t, StatusConnectionError, c.Status())
				select {
				case ok := <-closed:
					assert.True(t, ok, "the server saw the client close at the Poll, before any Close")
				case <-time.After(3 * time.Second):
					t.Fatal("the server saw nothing")
				}
				conn := c.Connection()
				require.NotNil(t, conn, "the stream stays until Close, as Godot's")
				if !tlsOn { // a *tls.Conn reports the close_notify it met
					_, err := conn.Read(make([]byte, 1))
					assert.True(t, errors.Is(err, net.ErrClosed), "%v", err)
				}
				assert.Equal(t, 200, c.ResponseCode(), "the response getters keep their values")
			})
		}
	}
}

// An RST: the same, found by the pending-error look.
func TestLivenessResetClosesSocket(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
				ts.Sleep(30*time.Millisecond), ts.Reset()))
			c, _ := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			require.NoError(t, c.Request(MethodGet, "/", nil, ""))
			require.NoError(t, pollWhile(t, c, StatusRequesting))
			require.Equal(t, "hi", string(c.ReadResponseBodyChunk()))
			require.Equal(t, StatusConnected, c.Status())
			time.Sleep(80 * time.Millisecond)
			require.ErrorIs(t, c.Poll(), ErrConnectionError)
			_, err := c.Connection().Read(make([]byte, 1))
			assert.True(t, errors.Is(err, net.ErrClosed), "%v", err)
		})
	}
}

// A conn given to SetConnection is the caller's: Godot's liveness check
// closes its own socket, not an installed stream (§1.13.3). The client
// leaves it open until Close.
func TestLivenessFailureLeavesInstalledConn(t *testing.T) {
	closed := make(chan bool, 2)
	srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"), ts.CloseWrite(),
		ts.Do("closed", func(c *ts.Conn) error {
			closed <- c.WaitClosed(300 * time.Millisecond)
			closed <- c.WaitClosed(2 * time.Second)
			return nil
		})))
	raw, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	c, _ := newClient(t, true)
	require.NoError(t, c.SetConnection(raw))
	require.NoError(t, c.Request(MethodGet, "/", []string{"Host: x"}, ""))
	require.NoError(t, pollWhile(t, c, StatusRequesting))
	require.Equal(t, "hi", string(c.ReadResponseBodyChunk()))
	time.Sleep(30 * time.Millisecond)
	require.ErrorIs(t, c.Poll(), ErrConnectionError)
	assert.False(t, <-closed, "the installed conn stays open until Close")
	c.Close()
	assert.True(t, <-closed, "Close closes it")
}
