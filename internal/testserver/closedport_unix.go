//go:build unix

package testserver

import (
	"syscall"
	"testing"
)

// ClosedPort returns a loopback port that refuses connections and that no
// other test can take while the test lasts: a TCP socket bound to it but
// never listening (connects get a RST). Tests that need "connection refused"
// use it instead of closing a listener, whose port a parallel test can get.
func ClosedPort(t testing.TB) int {
	t.Helper()
	_, port := boundSocket(t)
	return port
}

// boundSocket is a TCP socket bound to a loopback port, not listening,
// closed at t's cleanup.
func boundSocket(t testing.TB) (fd, port int) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("testserver: socket: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("testserver: bind: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatalf("testserver: getsockname: %v", err)
	}
	return fd, sa.(*syscall.SockaddrInet4).Port
}
