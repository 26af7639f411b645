//go:build unix && !gdhttp_portable

package httpclient

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
)

// waitArrived waits, bounded, until n bytes past what the client has
// consumed are at the client — buffered, or queued in its socket (a
// MSG_PEEK that takes nothing): a wait on the condition the tests used to
// sleep for ("let the bytes be in the socket").
func waitArrived(t *testing.T, c *Client, n int) {
	t.Helper()
	require.NotNil(t, c.st, "no connection")
	require.NotNil(t, c.st.nb.sock, "no socket to look at")
	buf := make([]byte, n+1)
	queued := 0
	peek := func(fd uintptr) bool {
		m, _, err := syscall.Recvfrom(int(fd), buf, syscall.MSG_PEEK) // the runtime keeps the socket non-blocking
		queued = max(m, 0)
		if err != nil {
			queued = 0
		}
		return true
	}
	require.True(t, drive.Until(driveTimeout, func() bool {
		require.NoError(t, c.st.nb.sock.rc.Read(peek))
		return c.rw-c.rr+queued >= n
	}), "%d bytes did not arrive", n)
}
