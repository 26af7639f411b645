//go:build !unix

package testserver

import (
	"net"
	"testing"
)

// ClosedPort returns a loopback port nothing listens on. On these platforms
// another test may take it again before the caller connects.
func ClosedPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testserver: listen: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return port
}
