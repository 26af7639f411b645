package drive

import (
	"encoding/binary"
	"os"
	"strconv"
	"sync"
	"syscall"
	"unsafe"
)

// peekBuf takes the bytes a MSG_PEEK copies out (they stay queued).
var (
	peekMu  sync.Mutex
	peekBuf = make([]byte, 1<<20)
)

// tcpTable looks at this process's own TCP sockets (the descriptors in
// /proc/self/fd) and returns those whose local or remote port is port: the
// ports from getsockname and getpeername, the state from TCP_INFO, the
// bytes queued unread from a MSG_PEEK that takes nothing (up to 1 MiB). The
// calls only look: the sockets belong to the code under test.
func tcpTable(port int) (socks []TCPSocket, ok bool) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, false
	}
	peekMu.Lock()
	defer peekMu.Unlock()
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		s, ok := lookTCP(fd)
		if ok && (s.LocalPort == port || s.RemotePort == port) {
			socks = append(socks, s)
		}
	}
	return socks, true
}

// lookTCP describes the TCP socket fd; ok is false when fd is not one.
func lookTCP(fd int) (s TCPSocket, ok bool) {
	local, err := syscall.Getsockname(fd)
	if err != nil {
		return s, false
	}
	if s.LocalPort, ok = inetPort(local); !ok {
		return s, false
	}
	if s.State, ok = tcpState(fd); !ok {
		return s, false // not TCP
	}
	if remote, err := syscall.Getpeername(fd); err == nil {
		s.RemotePort, _ = inetPort(remote)
	}
	if s.RemotePort != 0 {
		if n, _, err := syscall.Recvfrom(fd, peekBuf, syscall.MSG_PEEK|syscall.MSG_DONTWAIT); err == nil {
			s.Unread = n
		}
	}
	return s, true
}

// tcpState is the TCP state of socket fd; ok is false when it is not TCP.
// The first bytes of struct tcp_info are its state; the kernel copies as
// many bytes as asked for.
func tcpState(fd int) (TCPState, bool) {
	info, err := syscall.GetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_INFO)
	if err != nil {
		return 0, false
	}
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(info))
	return TCPState(b[0]), true
}

// unacked is how many bytes written on c (a FIN counts as one) the peer has
// not acknowledged yet (TIOCOUTQ): 0 once they are all in the peer's socket,
// or once the connection was reset (which drops them) or closed.
func unacked(c syscall.Conn) (int, bool) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, true
	}
	var n int32
	var errno syscall.Errno
	state := TCPClose
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n)))
		state, _ = tcpState(int(fd))
	}); err != nil || errno != 0 || state == TCPClose {
		return 0, true // closed, or reset: the count stays as it was
	}
	return int(n), true
}

// inetPort is the port of an IPv4 or IPv6 socket address.
func inetPort(sa syscall.Sockaddr) (int, bool) {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return a.Port, true
	case *syscall.SockaddrInet6:
		return a.Port, true
	}
	return 0, false
}
