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
	rc, err := conn.SyscallConn()
	require.NoError(t, err)
	require.True(t, drive.Until(driveTimeout, func() bool {
		var n int32
		var errno syscall.Errno
		require.NoError(t, rc.Control(func(fd uintptr) {
			_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n)))
		}))
		require.Zero(t, errno)
		return n == 0
	}), "the peer did not acknowledge")
}
