//go:build linux && !gdhttp_portable

package httpclient

import (
	"io"
	"os"
	"runtime"
	"syscall"

	"github.com/gdhttp/gdhttp/wire"
)

// Zero-copy body reads (Linux): a fixed-length or read-until-close body
// read from a plain TCP socket is moved to a file with splice(2) through a
// pipe, never passing through user memory — what io.Copy from a
// *net.TCPConn to an *os.File does. One call takes exactly the bytes
// ReadResponseBodyChunk would (§1.10.1, §1.10.3). Each splice into the pipe
// is written out before the next, so the pipe is empty whenever the socket
// is spliced: EAGAIN then always means that nothing has arrived.

// clientPipe is the client's pipe between the socket and the file, made at
// the first splice and closed with the connection (release), and what
// writes from it to the file.
type clientPipe struct {
	p  *splicePipe
	to spliceTo
}

// splicePipe is a pipe, non-blocking at both ends. One a client dropped
// without Close is closed by its cleanup.
type splicePipe struct {
	r, w    int
	n       int // bytes in it
	cleanup runtime.Cleanup
}

// splicePipe returns the client's pipe, making it the first time.
func (c *Client) splicePipe() (*splicePipe, error) {
	if c.pipe.p != nil {
		return c.pipe.p, nil
	}
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		return nil, os.NewSyscallError("pipe2", err)
	}
	p := &splicePipe{r: fds[0], w: fds[1]}
	p.cleanup = runtime.AddCleanup(p, closePipe, fds)
	c.pipe.p = p
	return p, nil
}

func closePipe(fds [2]int) {
	_ = syscall.Close(fds[0])
	_ = syscall.Close(fds[1])
}

// releasePipe closes the client's pipe, dropping what it holds.
func (c *Client) releasePipe() {
	if p := c.pipe.p; p != nil {
		p.cleanup.Stop()
		closePipe([2]int{p.r, p.w})
		c.pipe.p = nil
	}
	c.pipe.to.f, c.pipe.to.rc = nil, nil // the file is not kept alive
}

// splice(2) flags (not in package syscall).
const (
	spliceMove     = 0x1 // SPLICE_F_MOVE
	spliceNonblock = 0x2 // SPLICE_F_NONBLOCK: the socket side never waits inside the call
)

// CanSpliceBody reports whether WriteResponseBodyChunkTo moves the next
// piece of the body without copying it (splice(2), Linux): in BODY, a
// fixed-length or read-until-close body on a plain TCP connection whose
// socket the client reads itself (not TLS, not a conn given to
// SetConnection that is not a socket). It may change from one piece to the
// next; the bytes are the same either way.
func (c *Client) CanSpliceBody() bool {
	return c.status == StatusBody && !c.aborted.Load() &&
		(c.body.framing == wire.FramingLength || c.body.framing == wire.FramingUntilClose) &&
		c.st != nil && c.st.tr == nil && c.st.nb != nil && c.st.nb.sock != nil &&
		len(c.st.nb.pre) == 0 && c.st.nb.perr == nil
}

// spliceChunk is WriteResponseBodyChunkTo's zero-copy path (CanSpliceBody
// holds). ok is false when it could not start (no pipe, or f gives no
// RawConn): nothing was read.
func (c *Client) spliceChunk(f *os.File) (n int, writeErr, err error, ok bool) {
	p, perr := c.splicePipe()
	if perr != nil {
		return 0, nil, nil, false
	}
	to := &c.pipe.to
	if to.f != f {
		rc, err := f.SyscallConn()
		if err != nil {
			return 0, nil, nil, false
		}
		to.f, to.rc = f, rc
	}
	if to.writeF == nil {
		to.writeF = to.spliceOut // built once: no allocation per piece
	}
	to.p, to.err = p, nil
	target := c.readChunkSize
	if c.body.framing == wire.FramingLength && c.body.left < int64(target) {
		target = int(c.body.left)
	}
	if m := min(target, c.rw-c.rr); m > 0 {
		// Bytes read with the head: written as they are.
		to.write(c.rbuf[c.rr : c.rr+m])
		c.rr += m
		n += m
	}
	sock := c.st.nb.sock
	for n < target && c.rr == c.rw && c.rerr == nil && p.n == 0 {
		m, rerr := sock.spliceIn(p, target-n, c.blocking)
		if rerr == errWouldBlock {
			break // non-blocking: nothing more has arrived (§1.10.3)
		}
		if rerr != nil {
			c.rerr = c.readErr(rerr)
		}
		n += m
		to.drain()
	}
	writeErr = to.err
	to.p, to.err = nil, nil
	if p.n > 0 {
		c.releasePipe() // it could not be emptied: drop what it holds
	}
	c.advance(n)
	c.endPlain()
	if c.status == StatusBody {
		return n, writeErr, nil, true
	}
	return n, writeErr, c.bodyEndErr(), true
}

// spliceTo writes what comes through the pipe to a file; after a write
// error it only empties the pipe. The client keeps it with its pipe, for
// the file it last wrote to.
type spliceTo struct {
	f        *os.File
	rc       syscall.RawConn // f's
	writeF   func(fd uintptr) bool
	p        *splicePipe // during a call
	err      error       // the call's first write error
	fallback bool        // the file refused splice: through memory
}

// write writes b, bytes that are in memory already.
func (s *spliceTo) write(b []byte) {
	if s.err == nil {
		_, s.err = s.f.Write(b)
	}
}

// drain moves what the pipe holds to the file, or drops it after an error.
func (s *spliceTo) drain() {
	if s.p.n == 0 {
		return
	}
	if s.err == nil {
		s.fallback = false
		if err := s.rc.Write(s.writeF); err != nil && s.err == nil {
			s.err = err // the file was closed
		}
		if s.fallback {
			s.copy()
			return
		}
	}
	if s.err != nil {
		s.copy() // write does nothing after an error: the bytes are dropped
	}
}

// spliceOut is the RawConn.Write callback of drain: splice(2) from the pipe
// to the file until it is empty. A file that would make it wait (a
// non-blocking pipe or socket) is waited for by the runtime.
func (s *spliceTo) spliceOut(fd uintptr) bool {
	for s.p.n > 0 {
		k, err := syscall.Splice(s.p.r, nil, int(fd), nil, s.p.n, spliceMove)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false
		case err == syscall.EINVAL || err == syscall.EOPNOTSUPP || err == syscall.ENOSYS || err == syscall.EXDEV:
			// The file does not take splice (O_APPEND, some file
			// systems): through memory. The pipe still holds the bytes.
			s.fallback = true
			return true
		case err != nil:
			s.err = &os.PathError{Op: "write", Path: s.f.Name(), Err: err}
			return true
		case k == 0:
			s.err = &os.PathError{Op: "write", Path: s.f.Name(), Err: io.ErrShortWrite}
			return true
		}
		s.p.n -= int(k)
	}
	return true
}

// copy moves what the pipe holds to the file through a buffer.
func (s *spliceTo) copy() {
	var hint int
	bp := readBufs.get(&hint)
	defer readBufs.put(bp, &hint)
	for s.p.n > 0 {
		k, err := syscall.Read(s.p.r, (*bp)[:min(len(*bp), s.p.n)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil || k <= 0 {
			return // the pipe is closed with what it holds (spliceChunk)
		}
		s.p.n -= k
		s.write((*bp)[:k])
	}
}

// spliceState is nbSock's state for spliceIn: the callback, built once,
// and its arguments.
type spliceState struct {
	spliceF func(fd uintptr) bool
	pipe    *splicePipe
	max     int
	wait    bool
}

// spliceIn moves up to max bytes from the socket into the empty pipe p with
// one splice(2) — when wait is set, waiting for the socket as Read does. It
// returns io.EOF at the peer's FIN, errWouldBlock when nothing has arrived
// (not waiting), or the socket's error as TryRead reports it.
func (s *nbSock) spliceIn(p *splicePipe, max int, wait bool) (int, error) {
	if s.spliceF == nil {
		s.spliceF = func(fd uintptr) bool {
			for {
				k, err := syscall.Splice(int(fd), nil, s.pipe.w, nil, s.max, spliceMove|spliceNonblock)
				if err == syscall.EINTR {
					continue
				}
				if err == syscall.EAGAIN && s.wait {
					return false // the runtime waits for the socket
				}
				s.n, s.errno = int(k), err
				return true
			}
		}
	}
	s.pipe, s.max, s.wait = p, max, wait
	err := s.rc.Read(s.spliceF)
	s.pipe = nil
	n, err := s.readOutcome(err, "splice")
	p.n += n
	return n, err
}
