//go:build unix

package hostile

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// closedPort returns a loopback port that refuses connections and that no
// other scenario can take while the run lasts: a TCP socket bound to it but
// never listening (connects get a RST).
func closedPort(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	return sa.(*syscall.SockaddrInet4).Port
}
