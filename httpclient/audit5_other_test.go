//go:build !linux

package httpclient

import (
	"net"
	"testing"
)

// waitAcked needs Linux's TIOCOUTQ; elsewhere the tests that use it skip.
func waitAcked(t *testing.T, _ *net.TCPConn) {
	t.Skip("waitAcked needs TIOCOUTQ (Linux)")
}
