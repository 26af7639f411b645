//go:build unix

package httpclient

import (
	"context"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// A quick connect is the TCP connect of ConnectToHost to an IP literal,
// made the way Godot's StreamPeerTCP makes it: a non-blocking connect(2)
// started by ConnectToHost itself (the SYN leaves then), whose outcome Poll
// reads from the socket (SO_ERROR, then whether a peer is there) — no
// goroutine, no channel, no context. Blocking mode's Poll waits for it with
// the runtime's poller. Targets that need more (a name to resolve, TLS, a
// CONNECT tunnel, a custom dialer, a zoned IPv6 address) keep the connector
// goroutine.

// quickConnectSupported reports whether this platform has quick connects.
const quickConnectSupported = true

// quickConnect is one non-blocking connect(2) in progress.
type quickConnect struct {
	fd       int // the socket; -1 once handed over or closed
	addr     netip.AddrPort
	deadline time.Time // the connect timeout (§1.6.2.1)
	p        dialParams
}

// startQuickConnect creates the socket and starts connecting it to addr.
// An error means the connect could not even start: ConnectToHost returns
// it as FAILED, status CANT_CONNECT (§1.5.10).
func startQuickConnect(p dialParams, addr netip.AddrPort) (*quickConnect, error) {
	q := &quickConnect{fd: -1, addr: addr, deadline: time.Now().Add(p.timeout), p: p}
	family := syscall.AF_INET6
	var sa syscall.Sockaddr = &syscall.SockaddrInet6{Port: int(addr.Port()), Addr: addr.Addr().As16()}
	if addr.Addr().Is4() {
		family = syscall.AF_INET
		sa = &syscall.SockaddrInet4{Port: int(addr.Port()), Addr: addr.Addr().As4()}
	}
	fd, err := nonblockingSocket(family)
	if err != nil {
		return q, q.opErr(err)
	}
	q.fd = fd
	// TCP_NODELAY and keep-alive are set by net.FileConn, as net.Dialer
	// sets them, before the first write.
	switch err := syscall.Connect(fd, sa); err {
	case nil, syscall.EINPROGRESS, syscall.EINTR, syscall.EALREADY:
		return q, nil
	default:
		q.close()
		return q, q.opErr(os.NewSyscallError("connect", err))
	}
}

// check reports whether the connect has ended, and how: a pending error
// (ECONNREFUSED…), the connect timeout, or success (a peer is there).
func (q *quickConnect) check() (done bool, err error) {
	if q.fd < 0 {
		return true, q.opErr(net.ErrClosed)
	}
	v, err := syscall.GetsockoptInt(q.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	switch {
	case err != nil:
		return true, q.opErr(os.NewSyscallError("getsockopt", err))
	case v != 0:
		return true, q.opErr(os.NewSyscallError("connect", syscall.Errno(v)))
	}
	if _, err := syscall.Getpeername(q.fd); err != nil {
		if err != syscall.ENOTCONN {
			return true, q.opErr(os.NewSyscallError("getpeername", err))
		}
		if !time.Now().Before(q.deadline) {
			return true, q.opErr(errConnectTimeout)
		}
		return false, nil
	}
	return true, nil
}

// wait is check for blocking mode: it waits, on the runtime's poller, until
// the connect has ended. hold registers the temporary conn it waits on, so
// that Abort can close it (false: already aborted).
func (q *quickConnect) wait(hold func(net.Conn) bool) error {
	done, err := q.check()
	if done {
		return err
	}
	// A second descriptor of the socket waits on the poller; q.fd stays
	// for check and for conn.
	syscall.ForkLock.RLock()
	dup, err := syscall.Dup(q.fd)
	if err == nil {
		syscall.CloseOnExec(dup)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return q.opErr(os.NewSyscallError("dup", err))
	}
	w, err := fileConn(dup)
	if err != nil {
		return q.opErr(err)
	}
	defer w.Close()
	if !hold(w) {
		return q.opErr(ErrAborted)
	}
	rc, err := w.(syscall.Conn).SyscallConn()
	if err != nil {
		return q.opErr(err)
	}
	_ = w.SetWriteDeadline(q.deadline)
	var cerr error
	// The socket becomes writable when the connect ends, either way.
	werr := rc.Write(func(uintptr) bool {
		done, cerr = q.check()
		return done
	})
	if werr != nil && cerr == nil {
		if os.IsTimeout(werr) {
			werr = errConnectTimeout
		}
		return q.opErr(werr)
	}
	return cerr
}

// conn hands the connected socket over as a net.Conn (a *net.TCPConn on
// the runtime's poller, with both addresses known).
func (q *quickConnect) conn() (net.Conn, error) {
	fd := q.fd
	q.fd = -1
	c, err := fileConn(fd)
	if err != nil {
		return nil, q.opErr(err)
	}
	return c, nil
}

// fileConn makes a net.Conn of the socket fd, which it takes over.
func fileConn(fd int) (net.Conn, error) {
	// A blocking descriptor is not put on the poller by os.NewFile;
	// net.FileConn makes its duplicate non-blocking (the flag is shared).
	if err := syscall.SetNonblock(fd, false); err != nil {
		_ = syscall.Close(fd)
		return nil, os.NewSyscallError("setnonblock", err)
	}
	f := os.NewFile(uintptr(fd), "tcp")
	c, err := net.FileConn(f)
	_ = f.Close() // fd; the conn has its own duplicate
	return c, err
}

// close closes the socket if it was not handed over.
func (q *quickConnect) close() {
	if q.fd >= 0 {
		_ = syscall.Close(q.fd)
		q.fd = -1
	}
}

// errConnectTimeout is the cause of a quick connect that timed out: what
// net.Dialer reports for a dial past its context's deadline ("i/o
// timeout", a net.Error whose Timeout is true, errors.Is
// context.DeadlineExceeded and os.ErrDeadlineExceeded).
var errConnectTimeout error = connectTimeoutError{}

type connectTimeoutError struct{}

func (connectTimeoutError) Error() string   { return "i/o timeout" }
func (connectTimeoutError) Timeout() bool   { return true }
func (connectTimeoutError) Temporary() bool { return true }
func (connectTimeoutError) Is(target error) bool {
	return target == context.DeadlineExceeded || target == os.ErrDeadlineExceeded
}

// opErr is err as net.Dialer reports a failed dial.
func (q *quickConnect) opErr(err error) error {
	return &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(q.addr), Err: err}
}
