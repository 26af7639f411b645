package httpclient

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// TestReadBufferGivenBack: a connection holds no read buffer while it
// waits for a response or sits idle between responses (restBuf) — a load
// tool keeps thousands of both, and each held 64 KiB, three times
// net/http's memory per connection (a helper's scale audit). Non-blocking
// mode gives the buffer back when a read finds nothing; blocking mode
// waits for the socket in one RawConn.Read with the buffer given back
// (readWaiting); both give it back at the end of a response. The next
// read takes one again and the next response arrives whole.
func TestReadBufferGivenBack(t *testing.T) {
	const resp = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	// silent reads request heads and answers none; answer answers each.
	var heads atomic.Int32
	silent := drive.Serve(t, func(conn net.Conn) {
		drive.EachHead(conn, 4096, func([]byte) error { heads.Add(1); return nil })
	})
	answer := drive.Serve(t, func(conn net.Conn) {
		drive.EachHead(conn, 4096, func([]byte) error {
			_, err := conn.Write([]byte(resp))
			return err
		})
	})

	t.Run("waiting/non-blocking", func(t *testing.T) {
		c, _ := newClient(t, false)
		require.NoError(t, connect(t, c, "127.0.0.1", drive.Port(silent), nil))
		require.NoError(t, c.Request(MethodGet, "/", nil, ""))
		for range 5 { // the request goes out; no head comes
			require.NoError(t, c.Poll())
			time.Sleep(time.Millisecond)
		}
		require.Equal(t, StatusRequesting, c.Status())
		assert.Zero(t, cap(c.rbuf), "a read buffer held while nothing came")
	})

	t.Run("waiting/blocking", func(t *testing.T) {
		// Several clients wait in Poll at once; the free list counts the
		// buffers they hold.
		const clients = 8
		before := readBufs.taken()
		base := heads.Load()
		var wg sync.WaitGroup
		cs := make([]*Client, clients)
		for i := range cs {
			c, _ := newClient(t, true)
			require.NoError(t, connect(t, c, "127.0.0.1", drive.Port(silent), nil))
			require.NoError(t, c.Request(MethodGet, "/", nil, ""))
			cs[i] = c
			wg.Go(func() { _ = c.Poll() }) // sends, then waits for a head
		}
		require.True(t, drive.Until(driveTimeout, func() bool { return heads.Load()-base == clients }), "the requests did not arrive")
		time.Sleep(20 * time.Millisecond) // the clients are waiting for the socket now
		held := readBufs.taken() - before
		for _, c := range cs {
			c.Abort()
		}
		wg.Wait()
		for _, c := range cs {
			assert.Equal(t, StatusConnectionError, c.Status(), "Abort ends the wait")
		}
		assert.LessOrEqual(t, held, 1, "read buffers held by %d clients waiting for a head", clients)
	})

	for _, blocking := range []bool{false, true} {
		t.Run(fmt.Sprintf("idle-keep-alive/blocking=%v", blocking), func(t *testing.T) {
			c, _ := newClient(t, blocking)
			require.NoError(t, connect(t, c, "127.0.0.1", drive.Port(answer), nil))
			idleRounds(t, c, func(c *Client) int { return cap(c.rbuf) })
		})
	}
}

// TestReadBufferGivenBackTLS is TestReadBufferGivenBack over TLS: the bulk
// buffer below crypto/tls (66 KiB, nbTLSConn) is given back too while it
// holds nothing (restBuf), and blocking reads wait without it (readWaiting).
func TestReadBufferGivenBackTLS(t *testing.T) {
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "localhost")
	const resp = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	var heads atomic.Int32
	silent := ts.NewTLS(t, cert, ts.Script(ts.Read(),
		ts.Do("arrived", func(*ts.Conn) error { heads.Add(1); return nil }), ts.Hold()))
	answer := ts.NewTLS(t, cert, ts.RespondEach(resp))
	opts := TLSClient(ca.Pool(), "")
	held := func(c *Client) int { return cap(c.rbuf) + cap(c.st.tr.w.buf) }

	t.Run("waiting/non-blocking", func(t *testing.T) {
		c, _ := newClient(t, false)
		require.NoError(t, connect(t, c, "localhost", silent.Port(), opts))
		require.NoError(t, c.Request(MethodGet, "/", nil, ""))
		for range 5 {
			require.NoError(t, c.Poll())
			time.Sleep(time.Millisecond)
		}
		require.Equal(t, StatusRequesting, c.Status())
		assert.Zero(t, held(c), "read buffers held while nothing came")
	})

	t.Run("waiting/blocking", func(t *testing.T) {
		const clients = 8
		before := readBufs.taken() + tlsBulkBufs.taken()
		base := heads.Load()
		var wg sync.WaitGroup
		cs := make([]*Client, clients)
		for i := range cs {
			c, _ := newClient(t, true)
			require.NoError(t, connect(t, c, "localhost", silent.Port(), opts))
			require.NoError(t, c.Request(MethodGet, "/", nil, ""))
			cs[i] = c
			wg.Go(func() { _ = c.Poll() })
		}
		require.True(t, drive.Until(driveTimeout, func() bool { return heads.Load()-base == clients }), "the requests did not arrive")
		time.Sleep(20 * time.Millisecond)
		taken := readBufs.taken() + tlsBulkBufs.taken() - before
		for _, c := range cs {
			c.Abort()
		}
		wg.Wait()
		assert.LessOrEqual(t, taken, 1, "read buffers held by %d clients waiting for a head", clients)
	})

	for _, blocking := range []bool{false, true} {
		t.Run(fmt.Sprintf("idle-keep-alive/blocking=%v", blocking), func(t *testing.T) {
			c, _ := newClient(t, blocking)
			require.NoError(t, connect(t, c, "localhost", answer.Port(), opts))
			idleRounds(t, c, held)
		})
	}
}

// idleRounds makes three requests on c's kept-alive connection, each
// answered "hello", and checks after each that the idle connection holds
// no read buffer (held: the bytes of buffer it holds).
func idleRounds(t *testing.T, c *Client, held func(*Client) int) {
	t.Helper()
	buf := make([]byte, 64)
	for i := range 3 {
		require.NoError(t, c.Request(MethodGet, "/", nil, ""))
		require.NoError(t, pollWhile(t, c, StatusRequesting))
		var body []byte
		for c.Status() == StatusBody {
			n, err := c.ReadResponseBodyChunkInto(buf)
			body = append(body, buf[:n]...)
			if err != nil {
				break
			}
			if n == 0 {
				require.NoError(t, c.Poll())
			}
		}
		assert.Equal(t, "hello", string(body), "response %d", i)
		require.Equal(t, StatusConnected, c.Status())
		assert.Zero(t, held(c), "read buffers held by an idle kept-alive connection (response %d)", i)
	}
}

// TestTLSBulkBufferGivenBackAfterFailedHandshake: the bulk buffer a TLS
// handshake reads into goes back to its free list when the handshake fails
// or the connect is closed during it, as an established connection's does
// at Close; before, each such connect left its buffer to the garbage
// collector, and a retry loop against a bad host made a new one each time.
// Found by the session 24 integrity audit.
func TestTLSBulkBufferGivenBackAfterFailedHandshake(t *testing.T) {
	ca := ts.NewCA(t)
	srv := ts.NewTLS(t, ca.Issue(t, "localhost", "127.0.0.1"), ts.Script(ts.Read(), ts.Hold()))

	t.Run("unknown-authority", func(t *testing.T) {
		other := ts.NewCA(t)
		before := tlsBulkBufs.taken()
		for range 5 {
			c := New()
			require.NoError(t, c.ConnectToHost("127.0.0.1", srv.Port(), TLSClient(other.Pool(), "localhost")))
			require.True(t, drive.Until(driveTimeout, func() bool {
				_ = c.Poll()
				return c.Status() != StatusResolving && c.Status() != StatusConnecting
			}))
			require.Equal(t, StatusTLSHandshakeError, c.Status())
			c.Close()
		}
		assert.Zero(t, tlsBulkBufs.taken()-before, "bulk buffers kept after failed handshakes")
	})

	t.Run("closed-during-handshake", func(t *testing.T) {
		before := tlsBulkBufs.taken()
		for i := range 20 {
			c := New()
			require.NoError(t, c.ConnectToHost("127.0.0.1", srv.Port(), TLSClient(ca.Pool(), "localhost")))
			for k := 0; k < i%5 && c.Status() == StatusConnecting; k++ {
				_ = c.Poll()
				time.Sleep(200 * time.Microsecond)
			}
			c.Close()
		}
		assert.Zero(t, tlsBulkBufs.taken()-before, "bulk buffers kept after connects closed during the handshake")
	})
}
