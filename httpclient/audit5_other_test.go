//go:build !linux

package httpclient

import (
	"net"
	"testing"
	"time"
)

// waitAcked needs Linux's TIOCOUTQ; elsewhere the tests that use it skip.
func waitAcked(t *testing.T, _ *net.TCPConn) {
	t.Skip("waitAcked needs TIOCOUTQ (Linux)")
}

// waitPeerFIN: without TCP_INFO the tests give loopback a moment to bring
// the FIN (the pause stands for the Linux wait).
func waitPeerFIN(t *testing.T, _ *Client) {
	time.Sleep(finSettle)
}
