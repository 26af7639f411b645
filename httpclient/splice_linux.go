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
// the first splice and closed with the connection (release).
type clientPipe struct{ p *splicePipe }

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
}

// spliceFlags is SPLICE_F_MOVE|SPLICE_F_NONBLOCK.
const spliceFlags = 0x1 | 0x2

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
// holds). ok is false when it could not start (no pipe): nothing was read.
func (c *Client) spliceChunk(f *os.File) (n int, writeErr, err error, ok bool) {
	p, perr := c.splicePipe()
	if perr != nil {
		return 0, nil, nil, false
	}
	sp := spliceTo{p: p, f: f, fd: int(f.Fd())}
	target := c.readChunkSize
	if c.body.framing == wire.FramingLength && c.body.left < int64(target) {
		target = int(c.body.left)
	}
	if m := min(target, c.rw-c.rr); m > 0 {
		// Bytes read with the head: written as they are.
		sp.write(c.rbuf[c.rr : c.rr+m])
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
		sp.drain()
	}
	runtime.KeepAlive(f)
	if p.n > 0 {
		c.releasePipe() // it could not be emptied: drop what it holds
	}
	c.advance(n)
	c.endPlain()
	if c.status == StatusBody {
		return n, sp.err, nil, true
	}
	return n, sp.err, c.bodyEndErr(), true
}

// spliceTo writes what comes through the pipe to the file; after a write
// error it only empties the pipe.
type spliceTo struct {
	p   *splicePipe
	f   *os.File
	fd  int
	err error // the first write error
}

// write writes b, bytes that are in memory already.
func (s *spliceTo) write(b []byte) {
	if s.err == nil {
		_, s.err = s.f.Write(b)
	}
}

// drain moves what the pipe holds to the file, or drops it after an error.
func (s *spliceTo) drain() {
	for s.p.n > 0 {
		if s.err != nil {
			s.discard()
			return
		}
		k, err := syscall.Splice(s.p.r, nil, s.fd, nil, s.p.n, spliceFlags&^0x2)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EINVAL || err == syscall.EOPNOTSUPP || err == syscall.ENOSYS || err == syscall.EXDEV ||
			err == syscall.EAGAIN:
			// The file does not take splice (O_APPEND, some file
			// systems), or would make it wait (non-blocking): through
			// memory, where Write waits. The pipe still holds the bytes.
			s.copy()
			return
		case err != nil:
			s.err = &os.PathError{Op: "write", Path: s.f.Name(), Err: err}
			k = 0
		case k == 0:
			s.err = &os.PathError{Op: "write", Path: s.f.Name(), Err: io.ErrShortWrite}
		}
		s.p.n -= int(k)
	}
}

// copy moves what the pipe holds to the file through a buffer.
func (s *spliceTo) copy() {
	bp := readBufPool.Get().(*[]byte)
	defer readBufPool.Put(bp)
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

// discard drops what the pipe holds.
func (s *spliceTo) discard() {
	s.copy() // write does nothing after an error
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
				k, err := syscall.Splice(int(fd), nil, s.pipe.w, nil, s.max, spliceFlags)
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
	switch {
	case err != nil:
		return 0, err // closed (Abort)
	case s.errno == nil && s.n > 0:
		p.n += s.n
		return s.n, nil
	case s.errno == nil:
		return 0, io.EOF
	case s.errno == syscall.EAGAIN:
		return 0, errWouldBlock
	}
	return 0, s.opError("read", s.errno)
}
