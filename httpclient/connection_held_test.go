package httpclient

import (
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// Godot's client never reads past a head or a body (§1.6.4.3: the head a
// byte at a time; §1.10.1: at most what the body still needs), so the bytes
// that came with them stay in its stream, and get_connection() reads them:
// the upgraded protocol's first bytes after a 101, whatever follows a body.
// This client reads ahead; Connection hands those bytes out first
// (heldConn), then the connection's — plain and TLS, both modes.
func TestConnectionHandsOutHeldBytes(t *testing.T) {
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "localhost")
	cases := []struct {
		name string
		resp string // written in one piece: the held bytes arrive with it
		code int
		body string
		held string
	}{
		{"101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x-test\r\nConnection: Upgrade\r\n\r\nHELLO", 101, "", "HELLO"},
		{"after body", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiNEXT", 200, "hi", "NEXT"},
		{"after chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\nNEXT", 200, "hi", "NEXT"},
	}
	for _, tc := range cases {
		for _, tlsOn := range []bool{false, true} {
			for _, m := range modes {
				name := tc.name + "/plain/" + m.name
				if tlsOn {
					name = tc.name + "/tls/" + m.name
				}
				t.Run(name, func(t *testing.T) {
					script := ts.Script(ts.Read(), ts.WriteString(tc.resp), ts.Sleep(50*time.Millisecond), ts.WriteString("LATER"), ts.Hold())
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
					require.NoError(t, c.Request(MethodGet, "/", []string{"Connection: Upgrade", "Upgrade: x-test"}, ""))
					time.Sleep(20 * time.Millisecond) // the head and what follows it are in the socket before the Poll
					require.NoError(t, pollWhile(t, c, StatusRequesting))
					require.Equal(t, tc.code, c.ResponseCode())
					var body []byte
					for c.Status() == StatusBody {
						body = append(body, c.ReadResponseBodyChunk()...)
						time.Sleep(time.Millisecond)
					}
					require.Equal(t, StatusConnected, c.Status())
					assert.Equal(t, tc.body, string(body))

					conn := c.Connection()
					require.NotNil(t, conn)
					nc, ok := conn.(interface{ NetConn() net.Conn })
					require.True(t, ok, "the conn holds bytes: a wrapper with NetConn, not %T", conn)
					under := nc.NetConn()
					if tlsOn {
						assert.IsType(t, (*tls.Conn)(nil), under)
					} else {
						assert.IsType(t, (*net.TCPConn)(nil), under)
					}
					require.NoError(t, conn.SetReadDeadline(time.Now().Add(2*time.Second)))
					got := readN(t, conn, len(tc.held)+len("LATER"))
					assert.Equal(t, tc.held+"LATER", got, "the held bytes, then the connection's")
				})
			}
		}
	}
}

// readN reads n bytes from conn.
func readN(t *testing.T, conn net.Conn, n int) string {
	t.Helper()
	buf := make([]byte, n)
	got := 0
	for got < n {
		k, err := conn.Read(buf[got:])
		got += k
		if err != nil {
			require.NoError(t, err, "after %q", buf[:got])
		}
	}
	return string(buf)
}

// With nothing held the connection itself is returned, as before: a
// *tls.Conn can be asked for its state.
func TestConnectionNothingHeldIsTheConn(t *testing.T) {
	ca := ts.NewCA(t)
	srv := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"))
	c, _ := newClient(t, true)
	require.NoError(t, connect(t, c, "localhost", srv.Port(), TLSClient(ca.Pool(), "")))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	require.NoError(t, pollWhile(t, c, StatusRequesting))
	assert.Equal(t, "hi", string(c.ReadResponseBodyChunk()))
	tc, ok := c.Connection().(*tls.Conn)
	require.True(t, ok, "%T", c.Connection())
	assert.True(t, tc.ConnectionState().HandshakeComplete)
}

// pipelined is a server that answers the first request with two responses
// in one write: the second is what Godot's client would read as the answer
// to the next request (the bytes stay in the stream, §1.6.4.3).
func pipelined(t *testing.T) *ts.Server {
	return ts.New(t, ts.Script(ts.Read(),
		ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nbye"),
		ts.Sleep(3*time.Second), ts.Close())) // a client that lost the bytes fails, rather than waits
}

// firstOfPipelined connects c to srv and reads the first response.
func firstOfPipelined(t *testing.T, c *Client, srv *ts.Server) {
	t.Helper()
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, pollWhile(t, c, StatusRequesting))
	require.Equal(t, "hi", string(c.ReadResponseBodyChunk()))
	require.Equal(t, StatusConnected, c.Status())
}

// secondOfPipelined sends a request on c and checks that the held second
// response answers it.
func secondOfPipelined(t *testing.T, c *Client) {
	t.Helper()
	require.NoError(t, c.Request(MethodGet, "/2", nil, ""))
	require.NoError(t, pollWhile(t, c, StatusRequesting))
	assert.Equal(t, 201, c.ResponseCode())
	assert.Equal(t, "bye", string(c.ReadResponseBodyChunk()))
}

// The held bytes are taken when read, not when Connection is called: a
// caller that only looks at the conn, or gives it back to SetConnection
// (a no-op), leaves them to the client — the next request reads them, as
// Godot's would from its stream.
func TestConnectionLookingLeavesHeldBytes(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c, _ := newClient(t, m.blocking)
			firstOfPipelined(t, c, pipelined(t))
			conn := c.Connection()
			require.IsType(t, (*heldConn)(nil), conn)
			assert.NotNil(t, conn.RemoteAddr())
			require.NoError(t, c.SetConnection(conn))
			assert.Equal(t, StatusConnected, c.Status(), "the client's own connection: no-op")
			secondOfPipelined(t, c)
		})
	}
}

// Another client given the conn (set_connection(get_connection())) reads
// the held bytes through it: the second response answers its request.
func TestConnectionHeldBytesGoToAnotherClient(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			a, _ := newClient(t, m.blocking)
			firstOfPipelined(t, a, pipelined(t))
			b, _ := newClient(t, m.blocking)
			require.NoError(t, b.SetConnection(a.Connection()))
			require.Equal(t, StatusConnected, b.Status())
			secondOfPipelined(t, b)
		})
	}
}

// Where the conn is not a syscall.Conn the client reads it in the
// background (nbConn's fallback): what that read received and the client
// did not consume comes first too, including what the idle CONNECTED's
// background read took before Connection stopped it.
func TestConnectionHeldBytesFallback(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c := upgradedIdleFallback(t, m.blocking, "HELLO")
			conn := c.Connection()
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(2*time.Second)))
			assert.Equal(t, "HELLOIDLE", readN(t, conn, len("HELLOIDLE")))
		})
	}
}

// After Close the conn Connection gave out reads the close, not bytes the
// client held (Godot's close() disconnects the stream it handed out).
func TestConnectionHeldBytesGoneAfterClose(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c, _ := newClient(t, m.blocking)
			firstOfPipelined(t, c, pipelined(t))
			conn := c.Connection()
			require.IsType(t, (*heldConn)(nil), conn)
			c.Close()
			_, err := conn.Read(make([]byte, 64))
			assert.True(t, errors.Is(err, net.ErrClosed), "%v", err)
		})
		t.Run("fallback/"+m.name, func(t *testing.T) {
			// What the idle background read took stays in the nbConn.
			c := upgradedIdleFallback(t, m.blocking, "")
			conn := c.Connection()
			require.IsType(t, (*heldConn)(nil), conn)
			c.Close()
			n, err := conn.Read(make([]byte, 64))
			assert.Zero(t, n)
			assert.True(t, errors.Is(err, net.ErrClosed), "%v", err)
		})
	}
}

// upgradedIdleFallback returns a client over a conn that is not a
// syscall.Conn (nbConn's background-read fallback), after a 101 whose head
// came with first (the upgraded protocol's first bytes), and after the idle
// CONNECTED liveness check, whose background read took the "IDLE" the
// server sent 50 ms after the head.
func upgradedIdleFallback(t *testing.T, blocking bool, first string) *Client {
	t.Helper()
	srv := ts.New(t, ts.Script(ts.Read(),
		ts.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x-test\r\nConnection: Upgrade\r\n\r\n"+first),
		ts.Sleep(50*time.Millisecond), ts.WriteString("IDLE"), ts.Hold()))
	raw, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	c, _ := newClient(t, blocking)
	require.NoError(t, c.SetConnection(hiddenConn{raw}))
	require.NoError(t, c.Request(MethodGet, "/", []string{"Host: x"}, ""))
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, pollWhile(t, c, StatusRequesting))
	require.Equal(t, 101, c.ResponseCode())
	require.Equal(t, StatusConnected, c.Status())
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, c.Poll()) // the idle liveness check: a background read takes IDLE
	return c
}
