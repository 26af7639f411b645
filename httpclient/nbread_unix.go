//go:build unix && !gdhttp_portable

package httpclient

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// peekSupported reports whether this platform reads and peeks sockets
// without waiting (else nbConn always falls back to a background read).
const peekSupported = true

// nbSock is the socket under a connection, read without waiting. The
// callbacks are built once so that a read allocates nothing.
type nbSock struct {
	conn   net.Conn // for the addresses in errors
	rc     syscall.RawConn
	readF  func(fd uintptr) bool
	peekF  func(fd uintptr) bool
	readyF func(fd uintptr) bool
	writeF func(fd uintptr) bool
	errF   func(fd uintptr)
	buf    []byte // readF's destination, writeF's source
	soErr  int    // errF's SO_ERROR value
	one    [1]byte
	n      int
	errno  error
	spliceState
}

// newNBSock returns the socket of conn, or nil when conn exposes none (it
// is not a syscall.Conn): nbConn then falls back to a background read.
func newNBSock(conn net.Conn) *nbSock {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	s := &nbSock{conn: conn, rc: rc}
	// The runtime keeps the socket non-blocking: read(2) returns EAGAIN
	// when nothing is queued. Returning true tells RawConn.Read the read
	// is done, so it never waits for readiness.
	s.readF = func(fd uintptr) bool {
		s.read(fd, s.buf)
		return true
	}
	s.peekF = func(fd uintptr) bool {
		for {
			s.n, _, s.errno = syscall.Recvfrom(int(fd), s.one[:], syscall.MSG_PEEK)
			if s.errno != syscall.EINTR {
				return true
			}
		}
	}
	s.readyF = func(fd uintptr) bool {
		s.peekF(fd)
		return s.errno != syscall.EAGAIN && s.errno != syscall.EWOULDBLOCK
	}
	s.errF = func(fd uintptr) {
		s.soErr, s.errno = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
	}
	s.writeF = func(fd uintptr) bool {
		for {
			s.n, s.errno = syscall.Write(int(fd), s.buf)
			if s.errno != syscall.EINTR {
				return true
			}
		}
	}
	return s
}

// tryWrite writes what the socket takes of p without waiting (len(p) > 0):
// it returns how many bytes, 0 when the socket takes none now, or the
// socket's error.
func (s *nbSock) tryWrite(p []byte) (int, error) {
	s.buf = p
	err := s.rc.Write(s.writeF)
	s.buf = nil
	switch {
	case err != nil:
		return 0, err // closed (Abort)
	case s.errno == nil:
		return s.n, nil
	case s.errno == syscall.EAGAIN || s.errno == syscall.EWOULDBLOCK:
		return 0, nil
	}
	return 0, &net.OpError{Op: "write", Net: s.conn.LocalAddr().Network(), Source: s.conn.LocalAddr(),
		Addr: s.conn.RemoteAddr(), Err: os.NewSyscallError("write", s.errno)}
}

// tryRead is one read(2) into p (len(p) > 0): data, errWouldBlock, io.EOF
// at the FIN, or the socket's error.
func (s *nbSock) tryRead(p []byte) (int, error) {
	s.buf = p
	err := s.rc.Read(s.readF)
	s.buf = nil
	return s.readOutcome(err, "read")
}

// waitReadable waits, at most d, until the socket has something to read
// (bytes, the FIN, an error), taking no data: it looks with recv(MSG_PEEK),
// which hands a socket error out, once; taken reports it, in err (as
// peek). It sets and then clears the conn's read deadline: only for a conn
// the client made.
func (s *nbSock) waitReadable(d time.Duration) (taken bool, err error) {
	if s.conn.SetReadDeadline(time.Now().Add(d)) != nil {
		return false, nil
	}
	rerr := s.rc.Read(s.readyF)
	_ = s.conn.SetReadDeadline(time.Time{})
	if rerr != nil || s.errno == nil || s.errno == syscall.EAGAIN || s.errno == syscall.EWOULDBLOCK {
		return false, nil // the deadline, a close (Abort), bytes or the FIN
	}
	return true, s.opError("recvfrom", s.errno)
}

// readWith runs f, a read callback that sets s.n and s.errno (one read(2)),
// through RawConn.Read, and returns its outcome (readOutcome). f returns
// false to have RawConn.Read wait for the socket and call it again.
func (s *nbSock) readWith(f func(fd uintptr) bool) (int, error) {
	return s.readOutcome(s.rc.Read(f), "read")
}

// read is one read(2) of fd into p, retried on EINTR, for a read callback:
// its outcome in s.n and s.errno. It reports whether something came —
// bytes, the FIN or an error — rather than EAGAIN.
func (s *nbSock) read(fd uintptr, p []byte) bool {
	for {
		s.n, s.errno = syscall.Read(int(fd), p)
		if s.errno != syscall.EINTR {
			return s.errno != syscall.EAGAIN && s.errno != syscall.EWOULDBLOCK
		}
	}
}

// readOutcome is what a read callback run by rc.Read (err: its error) left
// in s.n and s.errno: the bytes taken, errWouldBlock when nothing had
// arrived, io.EOF at the FIN, or the socket's error from call.
func (s *nbSock) readOutcome(err error, call string) (int, error) {
	switch {
	case err != nil:
		return 0, err // closed (Abort)
	case s.errno == nil && s.n > 0:
		return s.n, nil
	case s.errno == nil:
		return 0, io.EOF
	case s.errno == syscall.EAGAIN || s.errno == syscall.EWOULDBLOCK:
		return 0, errWouldBlock
	}
	return 0, s.opError(call, s.errno)
}

// peek looks at the socket with recv(MSG_PEEK), taking no data. taken
// reports a socket error the kernel handed out (and will not repeat).
func (s *nbSock) peek() (st nbState, taken bool, err error) {
	if err := s.rc.Read(s.peekF); err != nil {
		return nbError, false, err // closed (Abort)
	}
	switch {
	case s.errno == nil && s.n > 0:
		return nbData, false, nil
	case s.errno == nil:
		return nbEOF, false, nil
	case s.errno == syscall.EAGAIN || s.errno == syscall.EWOULDBLOCK:
		return nbEmpty, false, nil
	}
	return nbError, true, s.opError("recvfrom", s.errno)
}

// pendingErr takes the socket's pending error (SO_ERROR): the error poll(2)
// reports as POLLERR — an RST, for one — which the kernel holds until the
// bytes queued before it have been read. nil when there is none.
func (s *nbSock) pendingErr() error {
	if err := s.rc.Control(s.errF); err != nil {
		return err // closed (Abort)
	}
	switch {
	case s.errno != nil:
		return s.opError("getsockopt", s.errno)
	case s.soErr != 0:
		return s.opError("read", syscall.Errno(s.soErr))
	}
	return nil
}

// opError is errno as net.Conn.Read reports it, so that errors.Is(err,
// syscall.ECONNRESET) holds whichever read met it.
func (s *nbSock) opError(call string, errno error) error {
	return &net.OpError{Op: "read", Net: s.conn.LocalAddr().Network(), Source: s.conn.LocalAddr(),
		Addr: s.conn.RemoteAddr(), Err: os.NewSyscallError(call, errno)}
}
