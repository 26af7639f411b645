//go:build unix

package testserver

import (
	"net"
	"syscall"
)

// drainOnce does one non-blocking read(2) on the socket and returns the byte
// count (0 when nothing is pending, at EOF or on error). It uses Control, not
// RawConn.Read, so it never waits for a Read blocked in another goroutine.
func drainOnce(tcp *net.TCPConn, buf []byte) int {
	rc, err := tcp.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	_ = rc.Control(func(fd uintptr) {
		m, err := syscall.Read(int(fd), buf)
		if err == nil && m > 0 {
			n = m
		}
	})
	return n
}
