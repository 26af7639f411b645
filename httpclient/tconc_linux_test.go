//go:build linux

package httpclient

import (
	"net"
	"syscall"
	"unsafe"
)

// tcPeerGone reports whether the peer of conn closed or reset its end (the
// socket's TCP state is no longer ESTABLISHED: CLOSE_WAIT after a FIN,
// CLOSE after an RST), looking without reading; known false where it
// cannot look.
func tcPeerGone(conn *net.TCPConn) (gone, known bool) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return false, false
	}
	const established = 1 // linux/tcp_states.h
	var state uint8
	var errno syscall.Errno
	if rc.Control(func(fd uintptr) {
		var info syscall.TCPInfo
		size := uint32(unsafe.Sizeof(info))
		errno = getsockopt(fd, syscall.IPPROTO_TCP, syscall.TCP_INFO, unsafe.Pointer(&info), &size)
		state = info.State
	}) != nil || errno != 0 {
		return false, false
	}
	return state != established, true
}
