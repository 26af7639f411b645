package httpclient

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"
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
// TLS rides on nbTLSConn, a net.Conn placed under crypto/tls, which reads
// the socket in bulk into a buffer of its own and hands crypto/tls one
// record at a time as mbedTLS reads them (recordCut): the records behind
// stay in that buffer, which counts as the socket — where the liveness
// check looks as Godot's does (§1.6.3.1). With its nonblock flag set its Read is a
// TryRead, and errWouldBlock — a net.Error
// whose Temporary() is true — leaves the *tls.Conn usable with the record
// read so far kept (crypto/tls, conn.go, readRecordOrCCS: an error of the
// transport is made sticky by setErrorLocked only when it is not a
// net.Error with Temporary() true; readFromUntil keeps the bytes read
// before it in c.rawInput). nbTLSReader.TryRead drives that.
//
// Writes must never cut a record: a non-blocking Poll's write goes through
// nbTLSConn.writeNow, which keeps what the socket did not take for the next
// Poll (flush). crypto/tls also writes on the reading goroutine in two
// cases — a TLS 1.3 KeyUpdate that requests an update (handleKeyUpdate),
// and the alert it sends on a fatal record error (sendAlert): such a write
// waits (flushWait: a waiting record goes first, then it). No read runs
// while a request's record waits: the response is read once it has left.

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
	pending   bool
	unwatched bool // the caller took the connection (Unwatch): no Watch
	ch        chan nbResult
	buf       []byte
	r, w      int
	err       error
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

// canWait reports whether a blocking read may wait on the socket itself
// with no buffer held (Client.readWaiting, nbTLSConn.readWaiting): there is
// a socket, and nothing received before or taken by Peek is held here for
// the next read to return first.
func (c *nbConn) canWait() bool { return c.sock != nil && len(c.pre) == 0 && c.perr == nil }

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

// WaitReadable waits, at most d, until the socket has something to read —
// bytes, the FIN, an error — taking nothing: whatever it finds, the next
// TryRead finds (a socket error the kernel hands out to its look is kept
// for that read, as Peek keeps it). It sets and then clears the conn's read
// deadline, so it is only for a conn the client made. It returns at once
// where the socket cannot be read without waiting (the fallback) or when
// something is held for the next read.
func (c *nbConn) WaitReadable(d time.Duration) {
	if !c.canWait() {
		return
	}
	if taken, err := c.sock.waitReadable(d); taken {
		c.perr = err
	}
}

// Watch starts the fallback's background read on a connection that goes
// idle (CONNECTED), so that a FIN, a reset or bytes nobody asked for that
// arrive while it is idle are what the next Peek or read finds, however
// late that comes — as the peek of the socket finds them on unix. Without
// it the first look after the idle time only started the read and found
// nothing: a kept-alive connection the server had closed was reused (a
// request written after the FIN, stray bytes read as the next response).
// It does nothing on unix, while a read is pending, or while bytes or an
// end are held.
func (c *nbConn) Watch() {
	if c.sock == nil && !c.unwatched && !c.pending && len(c.pre) == 0 && c.perr == nil && c.r == c.w && c.err == nil {
		c.startRead()
	}
}

// Unwatch ends the fallback's watch of the connection for good: the caller
// takes the connection itself (Client.Connection), and reads from it must
// get the bytes that come next. A pending background read is cut short by
// a read deadline in the past (when the conn takes deadlines) and its
// deadline cleared after; bytes it had already received stay here, for the
// client's next read — they cannot be given back to the socket.
func (c *nbConn) Unwatch() {
	c.unwatched = true
	if c.sock != nil || !c.pending || c.conn.SetReadDeadline(time.Now()) != nil {
		return
	}
	c.done(<-c.ch)
	_ = c.conn.SetReadDeadline(time.Time{})
	if errors.Is(c.err, os.ErrDeadlineExceeded) {
		c.err = nil // the cut read: only what it received counts
	}
}

// Holds reports whether the nbConn holds something from the connection
// that a read of the conn itself would not return (TakeHeld).
func (c *nbConn) Holds() bool {
	return len(c.pre) > 0 || c.perr != nil || (c.sock == nil && (c.pending || c.r < c.w || c.err != nil))
}

// TakeHeld hands out, for a reader of the conn itself (Client.Connection),
// what the nbConn holds from it: the bytes received before, a socket error
// it took from the kernel, then what the fallback's background read
// received (waiting for a read still running) and its end, which stays. held
// is false when it holds nothing: the conn is read from then on.
func (c *nbConn) TakeHeld(p []byte) (n int, held bool, err error) {
	switch {
	case !c.Holds():
		return 0, false, nil
	case len(c.pre) > 0:
		return c.takePre(p), true, nil
	case c.perr != nil:
		return 0, true, c.takePerr()
	case c.pending:
		c.done(<-c.ch)
	}
	if c.r == c.w && c.err == nil {
		return 0, false, nil // the read still running got nothing
	}
	n, err = c.takeBuf(p)
	return n, true, err
}

// Forget drops what the nbConn holds from a connection that is closed: its
// socket went with what was queued in it, and reads of the conn report the
// close from now on. Any background read must have ended (its result is
// dropped too).
func (c *nbConn) Forget() {
	if c.pending {
		<-c.ch
		c.pending = false
	}
	c.pre, c.perr, c.err = nil, nil, nil
	c.r, c.w = 0, 0
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
// It reads the socket in bulk, into a buffer of its own (buf[head:tail],
// tlsBulkBuf bytes, taken from a pool at the first read and given back
// when the client lets the connection go), and hands crypto/tls from it what
// mbedTLS would have read (recordCut): the bytes in that buffer are, for
// every look at the connection, still queued in the socket (peek: data
// while it holds any; a FIN counts once it is empty). An end of stream met
// behind buffered bytes waits behind them (eof), as the kernel holds the
// FIN; a socket error met there is kept as nb's pending error (nb.perr),
// which PendingErr reports at once — Godot's POLLERR, whatever is queued —
// and the next read of nb returns once the buffer is empty.
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

	buf        []byte                // the bulk buffer: buf[head:tail] is received, not handed out
	bufp       *[]byte               // buf's array from tlsBulkBufs, or nil
	bufHint    int                   // tlsBulkBufs's slot to look at first
	waitF      func(fd uintptr) bool // readWaiting's callback, built once
	head, tail int
	eof        bool // the peer's FIN, met behind buf[head:tail]

	// Set by nbTLSReader around its reads: room is how much plaintext the
	// caller's buffer still takes (0: one record per read, as mbedTLS);
	// whole hands out only records buffered whole, and reads the socket
	// only without waiting (the rest of a blocking Read).
	room  int
	whole bool
	ahead bool // the last Read handed whole records behind the current one

	// Set by the client around a non-blocking Poll's write (writeNow):
	// record bytes the socket did not take wait in pend[poff:] for flush;
	// the request body bytes in them (held) are added to sent, the
	// client's BytesSent, once they have left.
	wnb  bool
	pend []byte
	poff int
	held int64
	sent *atomic.Int64
}

// tlsBulkBuf is the size of nbTLSConn's bulk buffer: a socket read takes
// up to this much. It holds four records of 16 KiB, with their headers and
// AEAD overhead.
const tlsBulkBuf = 4 * (16<<10 + 256)

// recordCut makes crypto/tls read the socket as mbedTLS does: a record's
// 5-byte header and the rest of that record, never a byte of the next
// (mbedtls_ssl_fetch_input asks its transport for what the record still
// lacks). crypto/tls asks for as much as its buffer holds; the cut hands
// it no more than the rest of the record being read — header and body in
// one Read when both are buffered — so later records — a close_notify,
// unsolicited data — stay queued (in the socket, or in nbTLSConn's bulk
// buffer, which counts as the socket), where Godot's liveness check looks
// (StreamPeerTCP::poll: a FIN with nothing queued before it ends the
// connection, whatever mbedTLS holds, §1.6.3). The look at the socket is
// then Godot's look.
//
// One exception, which no look can tell: a read of nbTLSReader.TryRead or
// Read, whose loop goes on reading records into the caller's buffer until
// it is full, may take whole application-data records behind the current
// one too, as long as their bodies (never shorter than their plaintext)
// fit in what is left of the caller's buffer: the loop then reads every
// one of them before it returns, as it would have from the socket (a
// close_notify or an error among them ends it as it would have), and
// crypto/tls holds nothing more than before. It spares crypto/tls a
// buffer refill — and an allocation, readFromUntil's atLeastReader — per
// record.
type recordCut struct {
	hdr  [recordHeaderLen]byte
	hn   int  // header bytes taken of the current record
	body bool // the header is complete: left body bytes remain
	left int
	size int  // the current record's body length, once its header is complete
	typ  byte // the current record's content type, then
}

// recordHeaderLen is the length of a TLS record header.
const recordHeaderLen = 5

// recordBodyLen is the body length a record header (at the start of h)
// declares.
func recordBodyLen(h []byte) int { return int(binary.BigEndian.Uint16(h[3:5])) }

// recordTypeAppData is the content type of an application-data record
// (under TLS 1.3, of every encrypted record).
const recordTypeAppData = 23

// rest returns how many bytes complete the current record, b being what
// is buffered ahead, and its body length; size is −1 when the header is
// not complete in b (want is then the rest of the header).
func (r *recordCut) rest(b []byte) (want, size int) {
	if r.body {
		return r.left, r.size
	}
	h := recordHeaderLen - r.hn
	if len(b) < h {
		return h, -1
	}
	var hdr [recordHeaderLen]byte
	copy(hdr[copy(hdr[:], r.hdr[:r.hn]):], b[:h])
	size = recordBodyLen(hdr[:])
	return h + size, size
}

// span returns how many bytes of b (buffered) the next Read hands out, at
// most max: the rest of the current record, or what b holds of it (none
// when whole, unless b holds all of it); when it completes there and is
// application data, the application-data records behind it that b holds
// whole and whose bodies, with the current one's, fit in room — the last
// of them cut where max ends: crypto/tls, its buffer full, grows it and
// asks for the rest, which is here (so its buffer grows to take several
// records at a time).
func (r *recordCut) span(b []byte, max, room int, whole bool) int {
	want, size := r.rest(b)
	switch {
	case size < 0 || want > len(b):
		if whole {
			return 0
		}
		return min(want, len(b), max)
	case want > max:
		return max
	}
	typ := r.typ
	switch {
	case r.body:
	case r.hn > 0:
		typ = r.hdr[0]
	default:
		typ = b[0]
	}
	if typ != recordTypeAppData {
		return want // an alert, a handshake message: alone, as before
	}
	k, sum := want, size
	for k+recordHeaderLen <= len(b) && b[k] == recordTypeAppData {
		l := recordBodyLen(b[k:])
		end := k + recordHeaderLen + l
		if l == 0 || end > len(b) || sum+l > room {
			break
		}
		if end > max {
			return max
		}
		k, sum = end, sum+l
	}
	return k
}

// take accounts for b, handed out from the current record on.
func (r *recordCut) take(b []byte) {
	for len(b) > 0 {
		if r.body {
			n := min(r.left, len(b))
			r.left -= n
			r.body = r.left > 0
			b = b[n:]
			continue
		}
		n := copy(r.hdr[r.hn:], b)
		r.hn += n
		b = b[n:]
		if r.hn == recordHeaderLen {
			r.hn = 0
			r.typ, r.size = r.hdr[0], recordBodyLen(r.hdr[:])
			r.left = r.size
			r.body = r.left > 0
		}
	}
}

func (w *nbTLSConn) Read(p []byte) (n int, err error) {
	n, err = w.read(p)
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

// read hands p what recordCut allows of the bulk buffer, reading the
// socket first when the buffer is empty (waiting unless nonblock or
// whole), or, without waiting, when it lacks the rest of the current
// record.
func (w *nbTLSConn) read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	w.ensureBuf()
	w.ahead = false // crypto/tls asks: it read every record handed ahead
	if w.head == w.tail {
		if w.eof {
			w.eof = false // delivered: the socket reports the FIN from now on
			return 0, io.EOF
		}
		if w.whole && !w.nb.NoWait() {
			return 0, errWouldBlock // no background read in a blocking Read
		}
		w.head, w.tail = 0, 0
		var n int
		var err error
		switch {
		case w.nonblock || w.whole:
			n, err = w.nb.TryRead(w.buf)
		case w.nb.canWait():
			n, err = w.readWaiting()
		default:
			n, err = w.nb.Read(w.buf)
		}
		if n == 0 {
			return 0, err
		}
		w.tail = n
		w.hold(err)
	} else if want, _ := w.cut.rest(w.buf[w.head:w.tail]); want > w.tail-w.head && w.nb.NoWait() {
		w.topUp(want)
	}
	k := w.cut.span(w.buf[w.head:w.tail], len(p), w.room, w.whole)
	if k == 0 {
		return 0, errWouldBlock // whole: the next record is not all here
	}
	want, _ := w.cut.rest(w.buf[w.head:w.tail])
	w.ahead = k > want
	copy(p, w.buf[w.head:w.head+k])
	w.head += k
	w.cut.take(p[:k])
	return k, nil
}

// ensureBuf takes the bulk buffer from its free list, once.
func (w *nbTLSConn) ensureBuf() {
	if w.buf == nil {
		w.bufp = tlsBulkBufs.get(&w.bufHint)
		w.buf = *w.bufp
	}
}

// releaseBuf gives the bulk buffer back to its free list, with what it
// held: the client is done with the connection (Client.release), or the
// buffer holds nothing (restBuf); no read of it is running.
func (w *nbTLSConn) releaseBuf() {
	if w.bufp != nil {
		tlsBulkBufs.put(w.bufp, &w.bufHint)
		w.bufp, w.buf, w.head, w.tail = nil, nil, 0, 0
	}
}

// restBuf gives the bulk buffer back while it holds nothing, as the
// client's restBuf does its read buffer: a TLS connection waiting for a
// response, or idle, holds only crypto/tls's own buffers.
func (w *nbTLSConn) restBuf() {
	if w.head == w.tail {
		w.releaseBuf()
	}
}

// readWaiting is the blocking socket read into the bulk buffer of a
// socket read without waiting: while nothing has arrived the buffer is
// given back and RawConn.Read waits (Client.readWaiting's way).
func (w *nbTLSConn) readWaiting() (int, error) {
	if w.waitF == nil {
		w.waitF = func(fd uintptr) bool {
			w.ensureBuf()
			if w.nb.sock.read(fd, w.buf) {
				return true
			}
			w.releaseBuf()
			return false
		}
	}
	return w.nb.sock.readWith(w.waitF)
}

// tlsBulkBufs holds bulk buffers of tlsBulkBuf bytes, so that a new TLS
// connection does not allocate one: at most 16 free ones (1 MiB).
var tlsBulkBufs = newBufList(tlsBulkBuf, 16)

// topUp reads, without waiting, what has arrived behind the buffered bytes,
// which lack the rest of the current record (want bytes): the record is
// then handed out whole, in one Read, when it is all there.
func (w *nbTLSConn) topUp(want int) {
	if w.eof || w.nb.perr != nil {
		return
	}
	if w.head > 0 && len(w.buf)-w.head < want {
		w.tail = copy(w.buf, w.buf[w.head:w.tail])
		w.head = 0
	}
	if w.tail == len(w.buf) {
		return
	}
	n, err := w.nb.TryRead(w.buf[w.tail:])
	w.tail += n
	if err != errWouldBlock {
		w.hold(err)
	}
}

// hold keeps err, met by a socket read behind buffered bytes, behind them:
// the FIN in eof, a socket error as nb's pending error.
func (w *nbTLSConn) hold(err error) {
	switch {
	case err == nil:
	case err == io.EOF:
		w.eof = true
	default:
		w.nb.perr = err
	}
}

// peek is nbConn.Peek with the bulk buffer still in the socket: data while
// it holds any, then the FIN held behind it, then the socket's own state.
func (w *nbTLSConn) peek() (nbState, error) {
	switch {
	case w.head < w.tail:
		return nbData, nil
	case w.eof:
		return nbEOF, nil
	}
	return w.nb.Peek()
}

func (w *nbTLSConn) Write(p []byte) (int, error) {
	if w.wnb {
		return w.writeNow(p)
	}
	// A record waiting (writeNow) goes first, whole: crypto/tls writes by
	// itself (an alert or a KeyUpdate from a read).
	if err := w.flushWait(); err != nil {
		return 0, err
	}
	n, err := w.Conn.Write(p)
	if w.hs {
		if err != nil && w.hsErr == nil {
			w.hsErr = err
		}
		w.hsData = false
	}
	return n, err
}

// writeNow is Write during a non-blocking Poll (wnb, over a socket that
// nbSock writes): one write(2) that never waits, and what the socket did
// not take kept for flush. crypto/tls's record is never cut on the wire,
// and its Write never fails for want of room (a failed transport write is
// sticky in crypto/tls). The client hands crypto/tls at most tlsWritePiece
// bytes at a time and only once pend is flushed, so pend holds at most
// about one record.
func (w *nbTLSConn) writeNow(p []byte) (int, error) {
	n := 0
	if w.poff == len(w.pend) {
		w.pend, w.poff = w.pend[:0], 0
		var err error
		if n, err = w.nb.sock.tryWrite(p); err != nil {
			return 0, err
		}
	}
	w.pend = append(w.pend, p[n:]...)
	return len(p), nil
}

// flush writes the rest of the records writeNow kept, without waiting, and
// reports whether none is left.
func (w *nbTLSConn) flush() (bool, error) {
	for w.poff < len(w.pend) {
		n, err := w.nb.sock.tryWrite(w.pend[w.poff:])
		if err != nil {
			return false, err
		}
		if n == 0 {
			return false, nil
		}
		if w.poff += n; w.poff == len(w.pend) {
			w.left()
		}
	}
	return true, nil
}

// flushWait writes the rest of the records writeNow kept, waiting: for a
// write outside a non-blocking Poll (blocking mode now, or crypto/tls on
// its own), which must follow them on the wire.
func (w *nbTLSConn) flushWait() error {
	if w.poff == len(w.pend) {
		return nil
	}
	n, err := w.Conn.Write(w.pend[w.poff:])
	if w.poff += n; err != nil {
		return err
	}
	w.left()
	return nil
}

// left is the waiting record bytes gone: their body bytes count as sent.
func (w *nbTLSConn) left() {
	w.pend, w.poff = w.pend[:0], 0
	if w.held > 0 {
		w.sent.Add(w.held)
		w.held = 0
	}
}

// tlsWritePiece is how much plaintext a non-blocking Poll hands crypto/tls
// at a time: one full record.
const tlsWritePiece = 16 << 10

// nbTLSReader reads a TLS connection with and without waiting.
//
// Its reads spare crypto/tls a call that can only find nothing (dry):
// crypto/tls allocates an atLeastReader whenever it asks its transport for
// bytes, and a caller that spins on a read without waiting would pay one
// per spin. held and ended say what crypto/tls may still return without
// new bytes; every read of crypto/tls goes through read, which keeps them.
type nbTLSReader struct {
	tc    *tls.Conn
	w     *nbTLSConn // tc's transport
	held  bool       // crypto/tls may hold plaintext: its last Read filled the buffer it was given
	ended bool       // crypto/tls returned an error other than errWouldBlock (they are sticky)
}

// newNBTLS returns a TLS client over conn (read through nb) and its reader.
// The handshake is the caller's, in blocking mode (nonblock unset).
func newNBTLS(conn net.Conn, nb *nbConn, cfg *tls.Config) *nbTLSReader {
	w := &nbTLSConn{Conn: conn, nb: nb}
	return &nbTLSReader{tc: tls.Client(w, cfg), w: w}
}

// read is tls.Conn.Read, keeping held and ended.
func (r *nbTLSReader) read(p []byte) (int, error) {
	n, err := r.tc.Read(p)
	r.held = err == nil && n == len(p)
	if err != nil && err != errWouldBlock {
		r.ended = true
	}
	return n, err
}

// dry reports, after one read of the socket without waiting, that a read
// without waiting would find nothing: crypto/tls holds no plaintext, no
// whole record it has not read (the transport handed none ahead since it
// last asked, and the alert look-ahead of its Read never fires under
// recordCut) and no error; the bulk buffer is empty and the socket had
// nothing. What the socket read finds stays in the bulk buffer (an end or
// an error behind it, as nbTLSConn.hold keeps them) for the read that
// follows. Only where reading the socket costs no goroutine (NoWait).
func (r *nbTLSReader) dry() bool {
	w := r.w
	if r.held || r.ended || w.ahead || w.head < w.tail || w.eof || w.nb.perr != nil || !w.nb.NoWait() {
		return false
	}
	w.ensureBuf()
	w.head, w.tail = 0, 0
	n, err := w.nb.TryRead(w.buf)
	if n == 0 && err == errWouldBlock {
		w.releaseBuf() // nothing came: a waiting connection holds none
		return true
	}
	w.tail = n
	w.hold(err)
	return false
}

// awaitData is dry's blocking twin: when nothing is held anywhere (as dry
// requires), it waits for the socket with no buffer held (readWaiting) and
// keeps what arrives in the bulk buffer — or the end or error it met —
// for the read that follows. Blocking mode calls it before it takes its
// read buffer, so that a TLS connection waiting for a response holds
// only crypto/tls's own buffers. It returns at once when something is
// held, or where reading the socket would cost a goroutine (not NoWait).
func (r *nbTLSReader) awaitData() {
	w := r.w
	if r.held || r.ended || w.ahead || w.head < w.tail || w.eof || !w.nb.canWait() {
		return
	}
	w.head, w.tail = 0, 0
	n, err := w.readWaiting()
	w.tail = n
	w.hold(err)
}

// TryRead reads the plaintext that has arrived into p without waiting,
// record after record until p is full, the socket holds nothing more or
// the stream ends: Godot's drain up to read_chunk_size (§1.10.3). It
// returns (n, nil) with data, (0, errWouldBlock) when no whole record is
// there (the part received is kept, in crypto/tls or below), (n, io.EOF) at a
// close_notify or a FIN at a record boundary (sawEOF tells them apart),
// and the error otherwise, after the data read before it. The transport
// may hand crypto/tls several records at a time here, all of which this
// loop reads (recordCut).
func (r *nbTLSReader) TryRead(p []byte) (int, error) {
	r.w.nonblock = true
	total := 0
	var err error
	for total < len(p) && err == nil {
		if r.dry() {
			err = errWouldBlock
			break
		}
		var n int
		r.w.room = len(p) - total
		n, err = r.read(p[total:])
		total += n
	}
	r.w.nonblock, r.w.room = false, 0
	if err == errWouldBlock && total > 0 {
		err = nil // nothing more has arrived: the data is the result
	}
	return total, err
}

// TryReadRecord is one mbedtls_ssl_read without waiting: the plaintext of
// one application-data record (what crypto/tls still holds of the current
// one first), at most len(p) bytes, after whatever handshake messages come
// before it (a session ticket). (0, errWouldBlock) when no whole record is
// there; the end and errors as TryRead. The records behind it stay queued
// (recordCut).
func (r *nbTLSReader) TryReadRecord(p []byte) (int, error) {
	if len(p) > 0 && r.dry() {
		return 0, errWouldBlock
	}
	r.w.nonblock = true
	n, err := r.read(p)
	r.w.nonblock = false
	return n, err
}

// ReadRecord is one mbedtls_ssl_read waiting: TryReadRecord, waiting for
// the record.
func (r *nbTLSReader) ReadRecord(p []byte) (int, error) { return r.read(p) }

// Read reads plaintext into p, waiting for at least one byte or the end of
// the stream: one record, waiting for it, then — without waiting — the
// records already received whole behind it, up to len(p), as TryRead
// would read them. crypto/tls holds nothing more afterwards than after one
// record (recordCut).
func (r *nbTLSReader) Read(p []byte) (int, error) {
	r.w.room = len(p)
	total, err := r.read(p)
	r.w.nonblock, r.w.whole = true, true
	for total < len(p) && err == nil {
		if r.dry() {
			break
		}
		var n int
		r.w.room = len(p) - total
		n, err = r.read(p[total:])
		total += n
	}
	r.w.nonblock, r.w.whole, r.w.room = false, false, 0
	if err == errWouldBlock {
		err = nil // the data is the result (total > 0: the first read waited)
	}
	return total, err
}

// partial reports whether bytes of a record have arrived that crypto/tls
// has not read whole: the start of a record whose rest has not come, which
// crypto/tls holds (recordCut counts what it handed out), or bytes in the
// bulk buffer not handed out yet. After a read that found no whole record
// (errWouldBlock), every record before them was read: data, or what
// crypto/tls takes in passing (a session ticket, a KeyUpdate, a warning
// alert).
func (r *nbTLSReader) partial() bool {
	w := r.w
	return w.head < w.tail || w.cut.hn > 0 || w.cut.body
}

// Peek is nbConn.Peek at the socket under the TLS stream, with the bytes
// read ahead (nbTLSConn's bulk buffer) still in it.
func (r *nbTLSReader) Peek() (nbState, error) { return r.w.peek() }
