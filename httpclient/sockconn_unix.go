//go:build unix && !gdhttp_portable

package httpclient

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// sockConn is the net.Conn of a quick connect: the socket as an *os.File
// on the runtime's poller, with the addresses net.Dialer would report.
// net.FileConn would make the same from the descriptor, but it duplicates
// it and asks the kernel again for what the connect already knows — about
// ten system calls per connection. Reads, writes, deadlines and errors
// behave as a *net.TCPConn's (errors are *net.OpError, a closed conn is
// net.ErrClosed); Connection() hands out a real *net.TCPConn over the same
// socket (tcp).
type sockConn struct {
	f            *os.File
	rc           syscall.RawConn
	laddr, raddr *net.TCPAddr

	closed atomic.Bool // Close was called (the deadline setters' error)

	mu  sync.Mutex
	tcp net.Conn // the *net.TCPConn given out by Connection, or nil
}

// newSockConn puts the connected or connecting socket fd, non-blocking,
// on the poller.
func newSockConn(fd int, raddr *net.TCPAddr) (*sockConn, error) {
	f := os.NewFile(uintptr(fd), "tcp")
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return &sockConn{f: f, rc: rc, raddr: raddr}, nil
}

func (c *sockConn) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	if err != nil && err != io.EOF {
		err = c.opErr("read", err)
	}
	return n, err
}

func (c *sockConn) Write(p []byte) (int, error) {
	n, err := c.f.Write(p)
	if err != nil {
		err = c.opErr("write", err)
	}
	return n, err
}

// Close closes the socket, and the *net.TCPConn given out over it.
func (c *sockConn) Close() error {
	c.closed.Store(true)
	c.mu.Lock()
	tcp := c.tcp
	c.mu.Unlock()
	if tcp != nil {
		_ = tcp.Close()
	}
	if err := c.f.Close(); err != nil {
		return c.opErr("close", err)
	}
	return nil
}

func (c *sockConn) LocalAddr() net.Addr  { return c.laddr }
func (c *sockConn) RemoteAddr() net.Addr { return c.raddr }

func (c *sockConn) SetDeadline(t time.Time) error {
	return c.deadlineErr(c.f.SetDeadline(t))
}

func (c *sockConn) SetReadDeadline(t time.Time) error {
	return c.deadlineErr(c.f.SetReadDeadline(t))
}

func (c *sockConn) SetWriteDeadline(t time.Time) error {
	return c.deadlineErr(c.f.SetWriteDeadline(t))
}

// SyscallConn gives the socket to the zero-wait reads (nbread_unix.go).
func (c *sockConn) SyscallConn() (syscall.RawConn, error) { return c.rc, nil }

// tcpConn returns a *net.TCPConn over the same socket (a duplicate
// descriptor, made on the first call), for Connection.
func (c *sockConn) tcpConn() net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tcp != nil {
		return c.tcp
	}
	dup := -1
	_ = c.rc.Control(func(fd uintptr) { dup, _ = dupCloseOnExec(int(fd)) })
	if dup < 0 {
		return c // closed: the conn itself, whose calls report it
	}
	tcp, err := fileConn(dup)
	if err != nil {
		return c
	}
	c.tcp = tcp
	return tcp
}

// givenTCP is the *net.TCPConn tcpConn made, or nil.
func (c *sockConn) givenTCP() net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tcp
}

// dupCloseOnExec duplicates fd; no child process inherits the copy.
func dupCloseOnExec(fd int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	dup, err := syscall.Dup(fd)
	if err != nil {
		return -1, os.NewSyscallError("dup", err)
	}
	syscall.CloseOnExec(dup)
	return dup, nil
}

// fileConn makes a *net.TCPConn of the socket fd, which it takes over.
func fileConn(fd int) (net.Conn, error) {
	// A blocking descriptor is not put on the poller by os.NewFile;
	// net.FileConn makes its duplicate non-blocking again (the flag is
	// shared by every descriptor of the socket).
	if err := syscall.SetNonblock(fd, false); err != nil {
		_ = syscall.Close(fd)
		return nil, os.NewSyscallError("setnonblock", err)
	}
	f := os.NewFile(uintptr(fd), "tcp")
	c, err := net.FileConn(f)
	_ = f.Close() // fd; the conn has its own duplicate
	return c, err
}

func (c *sockConn) deadlineErr(err error) error {
	if err == nil {
		return nil
	}
	if c.closed.Load() {
		err = os.ErrClosed // *os.File reports its poller's own closed error here
	}
	return c.opErr("set", err)
}

// opErr is err of the *os.File as net reports it on a TCP connection.
func (c *sockConn) opErr(op string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var errno syscall.Errno
	switch {
	case errors.Is(err, os.ErrClosed):
		err = net.ErrClosed
	case errors.As(err, &errno):
		err = os.NewSyscallError(op, errno)
	}
	oe := &net.OpError{Op: op, Net: "tcp", Source: c.laddr, Addr: c.raddr, Err: err}
	if op == "close" || op == "set" {
		oe.Source = nil
	}
	return oe
}
