//go:build unix && !aix

package httpclient

import (
	"io"
	"net"
	"os"
	"syscall"
)

// peekSupported reports whether this platform has the zero-wait socket peek
// of the blocking-mode liveness check (§1.6.3).
const peekSupported = true

// sock is the raw TCP socket under a connection, looked at and read
// without waiting: the blocking-mode liveness check (§1.6.3) and the TLS
// reads it makes. The callbacks are built once per connection so that a
// check allocates nothing.
type sock struct {
	conn  net.Conn // the TCP connection (for addresses in errors)
	rc    syscall.RawConn
	peekF func(fd uintptr) bool
	recvF func(fd uintptr) bool
	buf   []byte // recvF's destination
	one   [1]byte
	n     int
	errno error
}

// newSock returns the socket of raw, or nil when raw exposes none (a conn
// that is not a syscall.Conn): the caller falls back to a read with a short
// deadline.
func newSock(raw net.Conn) *sock {
	sc, ok := raw.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	s := &sock{conn: raw, rc: rc}
	s.peekF = func(fd uintptr) bool {
		s.n, _, s.errno = syscall.Recvfrom(int(fd), s.one[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait for readiness
	}
	s.recvF = func(fd uintptr) bool {
		s.n, _, s.errno = syscall.Recvfrom(int(fd), s.buf, syscall.MSG_DONTWAIT)
		return true
	}
	return s
}

// peek looks at the socket without waiting and without consuming data, the
// way Godot's StreamPeerTCP decides its status (§1.15.3): bytes queued →
// peekData (they stay in the socket); the peer's FIN with nothing queued
// before it → peekEOF; nothing yet → peekEmpty; a socket error
// (ECONNRESET…) → peekError with the error. The kernel hands a socket error
// out once, so the caller must keep it as the result of the next read.
func (s *sock) peek() (peekState, error) {
	if err := s.rc.Read(s.peekF); err != nil {
		return peekError, err // closed (Abort) or unusable
	}
	switch {
	case s.errno == nil && s.n > 0:
		return peekData, nil
	case s.errno == nil:
		return peekEOF, nil
	case s.errno == syscall.EAGAIN || s.errno == syscall.EWOULDBLOCK || s.errno == syscall.EINTR:
		return peekEmpty, nil
	}
	return peekError, s.opError(s.errno)
}

// recv reads what the socket holds into p without waiting: (0, errNoData)
// when it holds nothing, io.EOF at the peer's FIN.
func (s *sock) recv(p []byte) (int, error) {
	s.buf = p
	err := s.rc.Read(s.recvF)
	s.buf = nil
	switch {
	case err != nil:
		return 0, err
	case s.errno == nil && s.n > 0:
		return s.n, nil
	case s.errno == nil:
		return 0, io.EOF
	case s.errno == syscall.EAGAIN || s.errno == syscall.EWOULDBLOCK || s.errno == syscall.EINTR:
		return 0, errNoData
	}
	return 0, s.opError(s.errno)
}

// opError is errno as net's own Read reports it, so that the cause the
// caller sees (errors.Is(err, syscall.ECONNRESET)) does not depend on
// whether the liveness check or a read met the error first.
func (s *sock) opError(errno error) error {
	return &net.OpError{Op: "read", Net: "tcp", Source: s.conn.LocalAddr(), Addr: s.conn.RemoteAddr(),
		Err: os.NewSyscallError("recvfrom", errno)}
}
