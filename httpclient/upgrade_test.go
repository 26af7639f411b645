package httpclient

import (
	"bufio"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestConnectionAfterUpgrade: after a 101 response (no body: CONNECTED,
// §1.9) the caller takes the stream with Connection() and reads the
// upgraded protocol's bytes from it, as a Godot script does with
// get_connection(). On unix the client's peek leaves them in the socket.
// With the portable fallback (-tags gdhttp_portable) the background read
// that watches an idle connection (nbConn.Watch) took the bytes the server
// sent next, and the caller's read never saw them; Connection now ends that
// watch (nbConn.Unwatch). Found by the session's review.
func TestConnectionAfterUpgrade(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	stop, exited := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { _ = ln.Close(); close(stop); <-exited })
	go func() {
		defer close(exited)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			return
		}
		_, _ = c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x-test\r\nConnection: Upgrade\r\n\r\n"))
		time.Sleep(50 * time.Millisecond)
		_, _ = c.Write([]byte("HELLO"))
		<-stop
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	c := New()
	defer c.Close()
	c.SetBlockingMode(true)
	require.NoError(t, c.ConnectToHost("127.0.0.1", port, nil))
	for c.Status() == StatusResolving || c.Status() == StatusConnecting {
		require.NoError(t, c.Poll())
	}
	require.NoError(t, c.Request(MethodGet, "/", []string{"Connection: Upgrade", "Upgrade: x-test"}, ""))
	for c.Status() == StatusRequesting {
		require.NoError(t, c.Poll())
	}
	require.Equal(t, 101, c.ResponseCode())
	require.Equal(t, StatusConnected, c.Status())
	conn := c.Connection()
	require.NotNil(t, conn)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(500*time.Millisecond)))
	buf := make([]byte, 16)
	n, err := conn.Read(buf)
	require.NoError(t, err, "the upgraded stream's first bytes, read from Connection()")
	require.Equal(t, "HELLO", string(buf[:n]))
}
