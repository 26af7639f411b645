//go:build !unix

package hostile

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// closedPort returns a loopback port nothing listens on (another test may
// take it again: run with -hostile.serial on these platforms).
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}
