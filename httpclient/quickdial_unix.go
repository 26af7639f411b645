//go:build unix && !gdhttp_portable

package httpclient

import (
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// A quick connect is a TCP connect made the way Godot's StreamPeerTCP makes
// it: a non-blocking connect(2) started by ConnectToHost itself for an IP
// literal, or by the Poll that takes a name's resolved addresses (and the
// Poll after each failure, for the next address), whose outcome Poll reads
// from the socket (SO_ERROR, then whether a peer is there) — no goroutine,
// no channel, no context. Blocking mode's Poll waits for it with the
// runtime's poller. The name's resolution, and the CONNECT exchange and TLS
// handshake after the connect, run on the connector goroutine; a custom
// dialer and a zoned IPv6 address keep the goroutine's dial.

// quickConnectSupported reports whether this platform has quick connects.
const quickConnectSupported = true

// quickConnect is one non-blocking connect(2) in progress.
type quickConnect struct {
	sc       *sockConn // the socket, on the poller from the start; nil once handed over or closed
	addr     netip.AddrPort
	deadline time.Time // the connect timeout (§1.6.2.1)
	p        dialParams
	checkF   func(fd uintptr)
	done     bool  // checkF's outcome: the connect ended…
	err      error // …with this error (nil: connected)
}

// startQuickConnect creates the socket and starts connecting it to addr.
// An error means the connect could not even start: ConnectToHost returns
// it as FAILED, status CANT_CONNECT (§1.5.10); Poll tries the next address,
// and with none left does the same (§1.6.1.2, §1.6.2.2).
func startQuickConnect(p dialParams, addr netip.AddrPort) (_ *quickConnect, err error) {
	q := &quickConnect{addr: addr, deadline: time.Now().Add(p.timeout), p: p}
	traceConnectStart(p, addr)
	defer func() {
		if err != nil {
			q.connectDone(err)
		}
	}()
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
	// What net.Dialer sets on a TCP connection (keep-alive probes are left
	// off, as Godot leaves them).
	_ = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	switch err := syscall.Connect(fd, sa); err {
	case nil, syscall.EINPROGRESS, syscall.EINTR, syscall.EALREADY:
	default:
		_ = syscall.Close(fd)
		return q, q.opErr(os.NewSyscallError("connect", err))
	}
	if q.sc, err = newSockConn(fd, net.TCPAddrFromAddrPort(addr)); err != nil {
		return q, q.opErr(err)
	}
	q.checkF = func(fd uintptr) { q.done, q.err = q.checkFD(int(fd)) }
	return q, nil
}

// check reports whether the connect has ended, and how: a pending error
// (ECONNREFUSED…), the connect timeout, or success (a peer is there).
func (q *quickConnect) check() (done bool, err error) {
	if q.sc == nil {
		return true, q.opErr(net.ErrClosed)
	}
	if err := q.sc.rc.Control(q.checkF); err != nil {
		return true, q.opErr(net.ErrClosed)
	}
	return q.done, q.err
}

// checkFD is check on the socket's descriptor.
func (q *quickConnect) checkFD(fd int) (bool, error) {
	v, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	switch {
	case err != nil:
		return true, q.opErr(os.NewSyscallError("getsockopt", err))
	case v != 0:
		return true, q.opErr(os.NewSyscallError("connect", syscall.Errno(v)))
	}
	if _, err := syscall.Getpeername(fd); err != nil {
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
// the connect has ended. hold registers the conn, so that Abort can close
// it (false: already aborted).
func (q *quickConnect) wait(hold func(net.Conn) bool) error {
	done, err := q.check()
	if done {
		return err
	}
	if !hold(q.sc) {
		return q.opErr(ErrAborted)
	}
	_ = q.sc.f.SetWriteDeadline(q.deadline)
	defer func() { _ = q.sc.f.SetWriteDeadline(time.Time{}) }()
	var cerr error
	// The socket becomes writable when the connect ends, either way.
	werr := q.sc.rc.Write(func(fd uintptr) bool {
		var done bool
		done, cerr = q.checkFD(int(fd))
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

// conn hands the connected socket over as a net.Conn with both addresses
// known.
func (q *quickConnect) conn() (net.Conn, error) {
	sc := q.sc
	q.sc = nil
	var lsa syscall.Sockaddr
	var err error
	if cerr := sc.rc.Control(func(fd uintptr) { lsa, err = syscall.Getsockname(int(fd)) }); cerr != nil {
		err = cerr
	}
	if err != nil {
		_ = sc.f.Close()
		return nil, q.opErr(os.NewSyscallError("getsockname", err))
	}
	switch a := lsa.(type) {
	case *syscall.SockaddrInet4:
		sc.laddr = &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
	case *syscall.SockaddrInet6:
		sc.laddr = &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	}
	return sc, nil
}

// close closes the socket if it was not handed over.
func (q *quickConnect) close() {
	if q.sc != nil {
		_ = q.sc.f.Close()
		q.sc = nil
	}
}

// opErr is err as net.Dialer reports a failed dial.
func (q *quickConnect) opErr(err error) error {
	return &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(q.addr), Err: err}
}
