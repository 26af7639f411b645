package testserver

import (
	"net"
	"syscall"
)

// cork sets TCP_CORK: written data is held until the socket is closed (or
// uncorked), so the close sends the data with the FIN flag on its last
// segment.
func cork(tcp *net.TCPConn) { setCork(tcp, 1) }

// uncork clears TCP_CORK: what the socket holds leaves at once.
func uncork(tcp *net.TCPConn) { setCork(tcp, 0) }

func setCork(tcp *net.TCPConn, on int) {
	rc, err := tcp.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, on)
	})
}
