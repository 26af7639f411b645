package testserver

import (
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BlackHolePort returns a loopback port whose listen queue is full and
// never accepted from: a SYN to it is dropped, so a TCP connect neither
// succeeds nor fails until its timeout ends it (Linux: a backlog of 0
// holds one connection; a few more fill it to be sure). The socket and the
// connections that fill it are closed at t's cleanup.
func BlackHolePort(t testing.TB) int {
	t.Helper()
	fd, port := boundSocket(t)
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatalf("testserver: listen: %v", err)
	}
	for range 3 {
		d := net.Dialer{Timeout: 200 * time.Millisecond}
		if c, err := d.Dial("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			t.Cleanup(func() { _ = c.Close() })
		}
	}
	return port
}
