package testserver

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is the server side of one accepted connection, handed to the handler.
//
// Reading methods (ReadRequest, ReadN, ReadSome, Hold, WaitClosed) share a
// buffer: bytes read from the socket but not yet returned stay there for the
// next call. They must be called from one goroutine at a time; writing and
// closing methods may be called from another goroutine concurrently with
// them. Every blocking method returns ErrServerClosed once the server closes.
type Conn struct {
	srv    *Server
	index  int
	tcp    *net.TCPConn
	tls    *tls.Conn // nil for a plain server
	stream net.Conn  // tcp or tls

	pending []byte // read from the socket, not yet consumed (reader goroutine only)

	mu   sync.Mutex // guards recv (Server.Received reads it concurrently)
	recv []byte

	closed atomic.Bool // Close, CloseTCP, Reset or the end of the handler happened
}

// Index returns the connection's position in accept order (0 for the first).
func (c *Conn) Index() int { return c.index }

// Raw returns the TCP socket under the connection (under TLS for a TLS
// server). Bytes read from it directly bypass the recording and the buffer.
func (c *Conn) Raw() net.Conn { return c.tcp }

// Stream returns the connection the handler talks on: the TCP socket, or the
// *tls.Conn for a TLS server.
func (c *Conn) Stream() net.Conn { return c.stream }

// TLS returns the TLS connection of a TLS server's Conn, nil for a plain one
// (for ConnectionState: negotiated version, SNI, client certificates).
func (c *Conn) TLS() *tls.Conn { return c.tls }

// Done is closed when the server starts closing.
func (c *Conn) Done() <-chan struct{} { return c.srv.done }

func (c *Conn) deadline() time.Time {
	if c.srv.cfg.ioTimeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(c.srv.cfg.ioTimeout)
}

// opErr turns any error seen while the server is closing into ErrServerClosed.
func (c *Conn) opErr(err error) error {
	if err != nil && c.srv.isClosing() {
		return ErrServerClosed
	}
	return err
}

func (c *Conn) record(b []byte) {
	if c.srv.cfg.noRecord || len(b) == 0 {
		return
	}
	c.mu.Lock()
	c.recv = append(c.recv, b...)
	c.mu.Unlock()
}

func (c *Conn) handshake() error {
	_ = c.tcp.SetDeadline(c.deadline())
	err := c.tls.Handshake()
	_ = c.tcp.SetDeadline(time.Time{})
	return c.opErr(err)
}

// fill does one read from the stream into the buffer.
func (c *Conn) fill(deadline time.Time) error {
	if err := c.stream.SetReadDeadline(deadline); err != nil {
		return c.opErr(err)
	}
	if cap(c.pending)-len(c.pending) < readChunk {
		grown := make([]byte, len(c.pending), 2*cap(c.pending)+readChunk)
		copy(grown, c.pending)
		c.pending = grown
	}
	n, err := c.stream.Read(c.pending[len(c.pending):cap(c.pending)])
	c.record(c.pending[len(c.pending) : len(c.pending)+n])
	c.pending = c.pending[:len(c.pending)+n]
	return c.opErr(err)
}

// consume returns a copy of the first n buffered bytes and drops them.
func (c *Conn) consume(n int) []byte {
	out := append([]byte{}, c.pending[:n]...)
	c.pending = append(c.pending[:0], c.pending[n:]...)
	return out
}

// ReadRequest reads one whole HTTP/1.1 request: the head up to the first blank
// line (CRLF CRLF or LF LF), then a chunked body (through the trailer) or a
// Content-Length body. It returns the exact bytes received, records them for
// Server.Requests and leaves any pipelined bytes for the next read. It returns
// io.EOF when the client closed before sending a byte of the request,
// io.ErrUnexpectedEOF when it closed mid-request, ErrMalformedRequest or
// ErrRequestTooLarge (wrapped) for unframeable input, and the I/O error
// (a timeout after the server's I/O timeout) otherwise.
func (c *Conn) ReadRequest() ([]byte, error) {
	dl := c.deadline()
	var rerr error
	for {
		n, err := parseRequest(c.pending, c.srv.cfg.maxRequest)
		if err == nil {
			req := c.consume(n)
			c.srv.recordRequest(append([]byte{}, req...))
			return req, nil
		}
		if !errors.Is(err, errNeedMore) {
			return nil, err
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				if len(c.pending) == 0 {
					return nil, io.EOF
				}
				return nil, io.ErrUnexpectedEOF
			}
			return nil, rerr
		}
		rerr = c.fill(dl)
	}
}

// ReadN reads exactly n bytes. A close before n bytes returns the bytes that
// arrived with io.ErrUnexpectedEOF (io.EOF if none did).
func (c *Conn) ReadN(n int) ([]byte, error) {
	dl := c.deadline()
	var rerr error
	for len(c.pending) < n {
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				if len(c.pending) == 0 {
					return nil, io.EOF
				}
				return c.consume(len(c.pending)), io.ErrUnexpectedEOF
			}
			return nil, rerr
		}
		rerr = c.fill(dl)
	}
	return c.consume(n), nil
}

// ReadSome returns the bytes already buffered or, if there are none, the bytes
// of one read from the socket (whatever arrived first, for example a TLS
// ClientHello sent to a plain server). It returns io.EOF when the client
// closed and nothing is buffered.
func (c *Conn) ReadSome() ([]byte, error) {
	for len(c.pending) == 0 {
		if err := c.fill(c.deadline()); err != nil {
			if len(c.pending) > 0 {
				break
			}
			return nil, err
		}
	}
	return c.consume(len(c.pending)), nil
}

// readOnce returns buffered bytes or the bytes of one read without deadline.
func (c *Conn) readOnce() ([]byte, error) {
	if len(c.pending) > 0 {
		return c.consume(len(c.pending)), nil
	}
	err := c.fill(time.Time{})
	return c.consume(len(c.pending)), err
}

// Hold keeps the connection open, reading (and recording, then discarding)
// whatever arrives, until the client closes or resets its side (nil) or the
// server closes (ErrServerClosed). It has no timeout: it plays a server that
// never answers, or keeps a connection alive after a response.
func (c *Conn) Hold() error {
	c.pending = c.pending[:0]
	for {
		err := c.fill(time.Time{})
		c.pending = c.pending[:0]
		switch {
		case err == nil:
		case errors.Is(err, ErrServerClosed):
			return err
		case isPeerClose(err):
			return nil
		default:
			return err
		}
	}
}

// WaitClosed reads until the client closes or resets its side and reports
// whether that happened within d. Bytes that arrive meanwhile are recorded and
// stay buffered for later reads.
func (c *Conn) WaitClosed(d time.Duration) bool {
	dl := time.Now().Add(d)
	for {
		err := c.fill(dl)
		if err == nil {
			continue
		}
		_ = c.stream.SetReadDeadline(time.Time{})
		return isPeerClose(err)
	}
}

// isPeerClose reports whether a read error means the peer closed or reset.
func isPeerClose(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err)
}

// Write writes all of b (one write call, so with TCP_NODELAY it leaves at
// once).
func (c *Conn) Write(b []byte) error {
	if err := c.stream.SetWriteDeadline(c.deadline()); err != nil {
		return c.opErr(err)
	}
	_, err := c.stream.Write(b)
	return c.opErr(err)
}

// WriteSplit writes b in pieces cut at the given offsets, which must be
// strictly increasing inside (0, len(b)) (else ErrBadSplit, nothing written),
// sleeping gap between pieces. With TCP_NODELAY each piece is its own
// segment; with a gap of a few milliseconds or more the client sees each piece
// in a separate read. Under TLS each piece is its own TLS record.
func (c *Conn) WriteSplit(b []byte, splits []int, gap time.Duration) error {
	prev := 0
	for _, s := range splits {
		if s <= prev || s >= len(b) {
			return ErrBadSplit
		}
		prev = s
	}
	prev = 0
	for i := 0; i <= len(splits); i++ {
		end := len(b)
		if i < len(splits) {
			end = splits[i]
		}
		if i > 0 {
			if err := c.Sleep(gap); err != nil {
				return err
			}
		}
		if err := c.Write(b[prev:end]); err != nil {
			return err
		}
		prev = end
	}
	return nil
}

// WriteTrickle writes b one byte at a time, sleeping every between bytes.
func (c *Conn) WriteTrickle(b []byte, every time.Duration) error {
	for i := range b {
		if i > 0 {
			if err := c.Sleep(every); err != nil {
				return err
			}
		}
		if err := c.Write(b[i : i+1]); err != nil {
			return err
		}
	}
	return nil
}

// WriteRecords writes b in pieces of size bytes, one Write each — under TLS
// one record each, so size 1 sends a TLS record per byte — with the socket
// corked meanwhile (on Linux) so that the pieces leave in full segments: a
// segment per byte would fill the client's receive buffer with per-segment
// overhead long before b is there. Then the socket is uncorked.
func (c *Conn) WriteRecords(b []byte, size int) error {
	if size <= 0 {
		return ErrBadSplit
	}
	cork(c.tcp)
	defer uncork(c.tcp)
	for len(b) > 0 {
		n := min(size, len(b))
		if err := c.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// WriteAndClose writes b and closes the connection in the same instant, so
// that the FIN travels in the same TCP segment as the last data (on Linux the
// socket is corked for the write and the close flushes data and FIN
// together; elsewhere they are only back to back). Under TLS the close_notify
// alert is in that segment too. This is the "FIN arrives together with the
// data" case of §1.10.4.
func (c *Conn) WriteAndClose(b []byte) error {
	c.drain()
	cork(c.tcp)
	if err := c.Write(b); err != nil {
		_ = c.Close()
		return err
	}
	return c.Close()
}

// Sleep waits d, or returns ErrServerClosed early if the server closes.
func (c *Conn) Sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-c.srv.done:
		return ErrServerClosed
	}
}

// CloseWrite half-closes the connection: the client sees EOF (a FIN; under TLS
// a close_notify alert, then the FIN) while the server can still read.
func (c *Conn) CloseWrite() error {
	if c.tls != nil {
		_ = c.tls.SetWriteDeadline(c.deadline())
		if err := c.tls.CloseWrite(); err != nil {
			return c.opErr(err)
		}
	}
	return c.opErr(c.tcp.CloseWrite())
}

// Close closes the connection gracefully: bytes already received but not
// read are drained first (closing a Linux socket with unread data sends a RST
// instead of a FIN), then a FIN (under TLS, close_notify then FIN; a client
// that already reset the connection is not an error).
func (c *Conn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.drain()
	if c.tls != nil {
		_ = c.tls.SetWriteDeadline(c.deadline())
		err := c.tls.Close()
		if isPeerClose(err) {
			err = nil // the client is gone: no close_notify to deliver, the socket is closed anyway
		}
		return c.opErr(err)
	}
	return c.opErr(c.tcp.Close())
}

// CloseTCP closes the TCP connection with a FIN but, under TLS, without a
// close_notify alert (a TLS peer sees a truncated stream, §1.15.4). On a plain
// server it is Close.
func (c *Conn) CloseTCP() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.drain()
	return c.opErr(c.tcp.Close())
}

// Reset aborts the connection with a RST (SO_LINGER 0): the client's next
// read or write fails with ECONNRESET.
func (c *Conn) Reset() error {
	if c.closed.Swap(true) {
		return nil
	}
	if err := c.tcp.SetLinger(0); err != nil {
		_ = c.tcp.Close()
		return c.opErr(err)
	}
	return c.opErr(c.tcp.Close())
}

// drain reads, without blocking, whatever the kernel already holds for this
// socket, so that a following close sends a FIN rather than a RST. Plain bytes
// are recorded (they were received); TLS records are discarded. Drained bytes
// are not returned by later reads: the connection is closing.
func (c *Conn) drain() {
	var buf [4096]byte
	for {
		n := drainOnce(c.tcp, buf[:])
		if n <= 0 {
			return
		}
		if c.tls == nil {
			c.record(buf[:n])
		}
	}
}

// finish closes the connection once the handler returned.
func (c *Conn) finish() {
	if c.srv.isClosing() {
		c.abort()
		return
	}
	_ = c.Close()
}

// abort closes the socket at once (server shutdown): no drain, no
// close_notify, so it never blocks.
func (c *Conn) abort() {
	c.closed.Store(true)
	_ = c.tcp.Close()
}
