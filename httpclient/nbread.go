package httpclient

import (
	"crypto/tls"
	"io"
	"net"
	"sync/atomic"
)

// Reads that never wait (issue 8, part 2).
//
// Godot's read_response_body_chunk() in non-blocking mode takes what the
// socket already holds, up to read_chunk_size, on every call (§1.10.3,
// §1.15.3), and its liveness check looks at the socket without waiting
// (§1.6.3). nbConn gives a connection that read: TryRead asks the socket
// once and returns at once, with what it held or with errWouldBlock.
//
// On unix the read is one read(2) on the socket through syscall.RawConn
// (nbread_unix.go): Go keeps its sockets in non-blocking mode, so the call
// returns EAGAIN when nothing is queued, and the callback reports itself
// done whatever it got, so the runtime never parks the goroutine. No
// goroutine, no allocation.
//
// Elsewhere, and for a conn that is not a syscall.Conn (net.Pipe, a user
// dialer's conn), TryRead falls back to one background read at a time
// into a buffer of its own (the goroutine path the client has today): the
// first TryRead starts it and reports errWouldBlock; a later one hands out
// what it received. The bytes wait in that buffer, so nothing is lost and
// the caller sees the same stream; only the first bytes are late by one
// call and each byte is copied once more.
//
// TLS rides on nbTLSConn, a net.Conn placed under crypto/tls, which hands
// crypto/tls one record at a time as mbedTLS reads them (recordCut): the
// records behind are left in the socket, where the liveness check looks as
// Godot's does (§1.6.3.1). With its nonblock flag set its Read is a
// TryRead, and errWouldBlock — a net.Error
// whose Temporary() is true — leaves the *tls.Conn usable with the record
// read so far kept (crypto/tls, conn.go, readRecordOrCCS: an error of the
// transport is made sticky by setErrorLocked only when it is not a
// net.Error with Temporary() true; readFromUntil keeps the bytes read
// before it in c.rawInput). nbTLSReader.TryRead drives that.
//
// Writes are not touched: a TLS write must never be cut short, so they
// keep their background goroutine. One consequence: crypto/tls writes on
// the reading goroutine in two cases — a TLS 1.3 KeyUpdate that requests
// an update (handleKeyUpdate), and the alert it sends on a fatal record
// error (sendAlert) — and both take the write lock, so such a TryRead waits
// for a background write in flight to finish.

// wouldBlockError is errWouldBlock's type: a net.Error that is both a
// timeout and temporary, which crypto/tls treats as "no data yet".
type wouldBlockError struct{}

func (wouldBlockError) Error() string   { return "httpclient: read would block" }
func (wouldBlockError) Timeout() bool   { return true }
func (wouldBlockError) Temporary() bool { return true }

// errWouldBlock is what a read that does not wait returns when nothing has
// arrived. It must reach crypto/tls unwrapped — readRecordOrCCS tests the
// transport's error with a type assertion to net.Error, not errors.As — and
// crypto/tls returns it unwrapped too: compare with ==. The handshake is
// different: any error of it is sticky (Conn.handshakeErr), so it runs with
// nonblock unset.
var errWouldBlock net.Error = wouldBlockError{}

// nbState is what a look at a connection without waiting found
// (nbConn.Peek).
type nbState uint8

const (
	nbEmpty nbState = iota // nothing queued: alive
	nbData                 // bytes queued; they stay for the next read
	nbEOF                  // the peer's FIN with nothing queued before it
	nbError                // a socket error, or the conn was closed
)

// String names the state (for test messages).
func (s nbState) String() string {
	switch s {
	case nbEmpty:
		return "empty"
	case nbData:
		return "data"
	case nbEOF:
		return "eof"
	}
	return "error"
}

// nbConn reads one connection with and without waiting. TryRead, Read and
// Peek are for one goroutine (the client's owner) and never run at the
// same time; Close may come from any goroutine (Abort) and makes a read in
// progress return.
type nbConn struct {
	conn  net.Conn
	pre   []byte  // bytes received before (past a proxy's CONNECT reply), delivered first
	sock  *nbSock // the socket read without waiting, or nil: the fallback below
	spawn func(func())
	perr  error // a socket error Peek took from the kernel: the next read's result

	// The fallback: one background read at a time into buf, whose result
	// waits in ch; buf[r:w] is received and not handed out, err comes after
	// it.
	pending bool
	ch      chan nbResult
	buf     []byte
	r, w    int
	err     error
}

// nbResult is the outcome of a background read.
type nbResult struct {
	n   int
	err error
}

// nbFallbackBuf is the size of the fallback's own buffer.
const nbFallbackBuf = 64 << 10

// newNBConn returns conn read through an nbConn. pre is what was received
// from conn before (it is handed out first). spawn runs the fallback's
// background read (the client's spawn, which Close joins); nil means a
// plain go statement.
func newNBConn(conn net.Conn, pre []byte, spawn func(func())) *nbConn {
	if spawn == nil {
		spawn = func(f func()) { go f() }
	}
	return &nbConn{conn: conn, pre: pre, sock: newNBSock(conn), spawn: spawn}
}

// NoWait reports whether TryRead reads the socket itself (true) or falls
// back to a background read (false).
func (c *nbConn) NoWait() bool { return c.sock != nil }

// TryRead reads what has arrived into p without waiting. It returns (n,
// nil) with data — at most len(p), as much as one read(2) gives — (0,
// errWouldBlock) when nothing is there, (0, io.EOF) at the peer's FIN, and
// the socket's error (ECONNRESET…) otherwise, as net.Conn.Read reports it.
// One call makes one read: a read that fills p does not look for a FIN
// behind the data (Godot's read does not either, §1.10.4).
func (c *nbConn) TryRead(p []byte) (int, error) {
	if len(c.pre) > 0 {
		return c.takePre(p), nil
	}
	if c.perr != nil {
		return 0, c.takePerr()
	}
	if len(p) == 0 {
		return 0, nil
	}
	if c.sock != nil {
		return c.sock.tryRead(p)
	}
	if c.r == c.w && c.err == nil {
		if !c.pending {
			c.startRead()
			return 0, errWouldBlock
		}
		select {
		case res := <-c.ch:
			c.done(res)
		default:
			return 0, errWouldBlock
		}
	}
	return c.takeBuf(p)
}

// Read reads into p, waiting for at least one byte or the end of the
// stream: the blocking mode's read.
func (c *nbConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		return c.takePre(p), nil
	}
	if c.perr != nil {
		return 0, c.takePerr()
	}
	if c.pending {
		c.done(<-c.ch)
	}
	if c.r < c.w || c.err != nil {
		return c.takeBuf(p)
	}
	return c.conn.Read(p)
}

// PendingErr reports a socket error that arrived behind bytes not read yet
// (§1.6: Godot's poll sees it first, as POLLERR, whatever is queued), and
// keeps it as the next read's result. nil when there is none, or when the
// platform or conn cannot tell (the fallback: its background read meets the
// error after the bytes).
func (c *nbConn) PendingErr() error {
	if c.perr != nil {
		return c.perr
	}
	if c.sock == nil {
		return nil
	}
	c.perr = c.sock.pendingErr()
	return c.perr
}

// Peek reports, without waiting and without taking data from the stream,
// whether the connection is alive (§1.6.3): nbData and nbEmpty are alive,
// nbEOF is the peer's FIN with nothing before it, nbError a socket error
// (returned). Whatever Peek finds, the next TryRead or Read finds too: on
// unix Peek is a recv with MSG_PEEK, and as the kernel hands a socket error
// out only once, nbConn keeps it for the next read (so that crypto/tls,
// reading above, meets it); the fallback starts or collects its background
// read, whose result waits in its buffer.
func (c *nbConn) Peek() (nbState, error) {
	if len(c.pre) > 0 {
		return nbData, nil
	}
	if c.perr != nil {
		return nbError, c.perr
	}
	if c.sock != nil {
		s, taken, err := c.sock.peek()
		if taken {
			c.perr = err
		}
		return s, err
	}
	if c.r == c.w && c.err == nil {
		if !c.pending {
			c.startRead()
			return nbEmpty, nil
		}
		select {
		case res := <-c.ch:
			c.done(res)
		default:
			return nbEmpty, nil
		}
	}
	switch {
	case c.r < c.w:
		return nbData, nil
	case c.err == io.EOF:
		return nbEOF, nil
	}
	return nbError, c.err
}

// Close closes the connection; a background read ends with it.
func (c *nbConn) Close() error { return c.conn.Close() }

func (c *nbConn) takePre(p []byte) int {
	n := copy(p, c.pre)
	c.pre = c.pre[n:]
	if len(c.pre) == 0 {
		c.pre = nil
	}
	return n
}

func (c *nbConn) takePerr() error {
	err := c.perr
	c.perr = nil
	return err
}

// takeBuf hands out what the fallback received, then its error.
func (c *nbConn) takeBuf(p []byte) (int, error) {
	if c.r < c.w {
		n := copy(p, c.buf[c.r:c.w])
		c.r += n
		return n, nil
	}
	return 0, c.err
}

// startRead starts the fallback's background read.
func (c *nbConn) startRead() {
	if c.buf == nil {
		c.buf = make([]byte, nbFallbackBuf)
		c.ch = make(chan nbResult, 1)
	}
	c.pending = true
	conn, buf, ch := c.conn, c.buf, c.ch
	c.spawn(func() {
		n, err := conn.Read(buf)
		ch <- nbResult{n, err}
	})
}

// done takes the background read's result.
func (c *nbConn) done(res nbResult) {
	c.pending = false
	c.r, c.w = 0, res.n
	c.err = res.err
}

// nbTLSConn is the transport under crypto/tls: writes, deadlines and Close
// go to the connection; reads go through nb, without waiting while
// nonblock is set. It notes whether it reached EOF: a *tls.Conn reports
// io.EOF both for a close_notify and for a TCP close at a record boundary,
// which Godot tells apart (§1.15.4); after tls.Conn.Read returned io.EOF,
// sawEOF is true only for the second (a close_notify is consumed without
// reading the FIN behind it).
//
// During the handshake (hs set, on the connector's goroutine only) it keeps
// the first error of the transport itself, a read error, EOF or a write
// error, in hsErr, and in hsLate whether bytes had arrived before it since
// the client last wrote (hsData): see tcpEnded (issue 7 rule 5).
type nbTLSConn struct {
	net.Conn
	nb       *nbConn
	nonblock bool // set by the owner around a read, with no read running
	sawEOF   atomic.Bool
	hs       bool
	hsData   bool // bytes arrived since the last write
	hsLate   bool // hsErr came after such bytes
	hsErr    error
	cut      recordCut
}

// recordCut makes crypto/tls read the socket as mbedTLS does: a record's
// 5-byte header, then exactly the rest of that record, never a byte of the
// next (mbedtls_ssl_fetch_input asks its transport for what the record
// still lacks). crypto/tls asks for as much as its buffer holds; the cut
// hands it no more than the rest of the header or of the record being
// read, so later records — a close_notify, unsolicited data — stay in the
// socket, where Godot's liveness check looks (StreamPeerTCP::poll: a FIN
// with nothing queued before it ends the connection, whatever mbedTLS
// holds, §1.6.3). The look at the socket is then Godot's look.
type recordCut struct {
	hdr  [recordHeaderLen]byte
	hn   int  // header bytes taken of the current record
	body bool // the header is complete: left body bytes remain
	left int
}

// recordHeaderLen is the length of a TLS record header.
const recordHeaderLen = 5

// limit is how many bytes the next read may take: the rest of the header
// or of the record's body.
func (r *recordCut) limit() int {
	if r.body {
		return r.left
	}
	return recordHeaderLen - r.hn
}

// take accounts for b, read within limit().
func (r *recordCut) take(b []byte) {
	if r.body {
		r.left -= len(b)
		r.body = r.left > 0
		return
	}
	r.hn += copy(r.hdr[r.hn:], b)
	if r.hn == recordHeaderLen {
		r.hn = 0
		r.left = int(r.hdr[3])<<8 | int(r.hdr[4])
		r.body = r.left > 0
	}
}

func (w *nbTLSConn) Read(p []byte) (n int, err error) {
	if l := w.cut.limit(); len(p) > l {
		p = p[:l]
	}
	if w.nonblock {
		n, err = w.nb.TryRead(p)
	} else {
		n, err = w.nb.Read(p)
	}
	w.cut.take(p[:n])
	if err == io.EOF {
		w.sawEOF.Store(true)
	}
	if w.hs {
		if err != nil && w.hsErr == nil {
			w.hsErr, w.hsLate = err, w.hsData
		}
		w.hsData = w.hsData || n > 0
	}
	return n, err
}

func (w *nbTLSConn) Write(p []byte) (int, error) {
	n, err := w.Conn.Write(p)
	if w.hs {
		if err != nil && w.hsErr == nil {
			w.hsErr = err
		}
		w.hsData = false
	}
	return n, err
}

// nbTLSReader reads a TLS connection with and without waiting.
type nbTLSReader struct {
	tc *tls.Conn
	w  *nbTLSConn // tc's transport
}

// newNBTLS returns a TLS client over conn (read through nb) and its reader.
// The handshake is the caller's, in blocking mode (nonblock unset).
func newNBTLS(conn net.Conn, nb *nbConn, cfg *tls.Config) *nbTLSReader {
	w := &nbTLSConn{Conn: conn, nb: nb}
	return &nbTLSReader{tc: tls.Client(w, cfg), w: w}
}

// TryRead reads the plaintext that has arrived into p without waiting,
// record after record until p is full, the socket holds nothing more or
// the stream ends: Godot's drain up to read_chunk_size (§1.10.3). It
// returns (n, nil) with data, (0, errWouldBlock) when no whole record is
// there (the part received stays in crypto/tls), (n, io.EOF) at a
// close_notify or a FIN at a record boundary (sawEOF tells them apart),
// and the error otherwise, after the data read before it.
func (r *nbTLSReader) TryRead(p []byte) (int, error) {
	r.w.nonblock = true
	total := 0
	var err error
	for total < len(p) && err == nil {
		var n int
		n, err = r.tc.Read(p[total:])
		total += n
	}
	r.w.nonblock = false
	if err == errWouldBlock && total > 0 {
		err = nil // nothing more has arrived: the data is the result
	}
	return total, err
}

// TryReadRecord is one mbedtls_ssl_read without waiting: the plaintext of
// one application-data record (what crypto/tls still holds of the current
// one first), at most len(p) bytes, after whatever handshake messages come
// before it (a session ticket). (0, errWouldBlock) when no whole record is
// there; the end and errors as TryRead. The records behind it stay in the
// socket (recordCut).
func (r *nbTLSReader) TryReadRecord(p []byte) (int, error) {
	r.w.nonblock = true
	n, err := r.tc.Read(p)
	r.w.nonblock = false
	return n, err
}

// Read reads plaintext into p, waiting for at least one byte or the end of
// the stream.
func (r *nbTLSReader) Read(p []byte) (int, error) { return r.tc.Read(p) }
