package testserver

import (
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// peekNow reports whether data is readable on c right now (MSG_PEEK |
// MSG_DONTWAIT: it neither waits nor consumes).
func peekNow(t *testing.T, c *net.TCPConn) bool {
	t.Helper()
	rc, err := c.SyscallConn()
	require.NoError(t, err)
	var n int
	var rerr error
	require.NoError(t, rc.Control(func(fd uintptr) {
		buf := make([]byte, 16)
		n, _, rerr = syscall.Recvfrom(int(fd), buf, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	}))
	return rerr == nil && n > 0
}

// TestCorkHoldsData pins the mechanism behind WriteAndClose (§1.10.4, FIN with
// the data): after cork a small write is held back (loopback delivers an
// uncorked write before write(2) returns), and the close then delivers the
// data and the FIN together. The kernel releases corked data after 200 ms,
// so a corked attempt is retried a few times on a loaded machine.
func TestCorkHoldsData(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	pair := func() (client, server *net.TCPConn) {
		c, err := net.Dial("tcp4", ln.Addr().String())
		require.NoError(t, err)
		s, err := ln.Accept()
		require.NoError(t, err)
		return c.(*net.TCPConn), s.(*net.TCPConn)
	}

	// Uncorked: the data is readable as soon as write returns.
	client, server := pair()
	_, err = server.Write([]byte("hello"))
	require.NoError(t, err)
	assert.Eventually(t, func() bool { return peekNow(t, client) }, time.Second, time.Millisecond)
	require.NoError(t, server.Close())
	require.NoError(t, client.Close())

	// Corked: held until the close.
	held := false
	for range 5 {
		client, server := pair()
		cork(server)
		_, err = server.Write([]byte("hello"))
		require.NoError(t, err)
		held = !peekNow(t, client)
		require.NoError(t, server.Close())
		require.NoError(t, client.SetReadDeadline(time.Now().Add(5*time.Second)))
		got, err := io.ReadAll(client)
		require.NoError(t, err)
		assert.Equal(t, "hello", string(got))
		require.NoError(t, client.Close())
		if held {
			break
		}
	}
	assert.True(t, held, "corked data was sent before the close")
}
