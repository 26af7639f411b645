//go:build linux

package httpclient

import (
	"net"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
)

// waitAcked waits, bounded, until everything written on conn — the FIN
// after CloseWrite included — was acknowledged by the peer, so that it is
// in the peer's socket (TIOCOUTQ: bytes not yet acknowledged).
func waitAcked(t *testing.T, conn *net.TCPConn) {
	t.Helper()
	require.True(t, drive.AwaitSent(conn, driveTimeout, 0), "the peer did not acknowledge")
}

// waitPeerFIN waits, bounded, until the peer's FIN (or RST) has reached the
// socket of c's connection: its TCP state is CLOSE_WAIT (or CLOSE). A FIN
// shows no other sign to the client short of a read.
func waitPeerFIN(t *testing.T, c *Client) {
	t.Helper()
	require.NotNil(t, c.st, "no connection")
	sc, ok := c.st.raw.(syscall.Conn)
	require.True(t, ok, "no socket to look at")
	rc, err := sc.SyscallConn()
	require.NoError(t, err)
	const closeWait, closed = 8, 7 // linux/tcp_states.h
	require.True(t, drive.Until(driveTimeout, func() bool {
		var state uint8
		var errno syscall.Errno
		require.NoError(t, rc.Control(func(fd uintptr) {
			var info syscall.TCPInfo
			size := uint32(unsafe.Sizeof(info))
			errno = getsockopt(fd, syscall.IPPROTO_TCP, syscall.TCP_INFO, unsafe.Pointer(&info), &size)
			state = info.State
		}))
		require.Zero(t, errno)
		return state == closeWait || state == closed
	}), "the peer's FIN did not arrive")
}
