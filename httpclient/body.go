package httpclient

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"slices"

	"github.com/gdhttp/gdhttp/chunked"
	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/internal/hugepage"
	"github.com/gdhttp/gdhttp/wire"
)

const bodyOp = "read_response_body_chunk"

// bodyState is the body of the current response: its framing, decided once
// when the head was parsed (§1.9), and the state of reading it.
type bodyState struct {
	framing  wire.Framing
	left     int64 // FramingLength: bytes still to read
	received int64 // body bytes delivered
	done     bool  // ended cleanly (BodyComplete)
	err      error // ended otherwise: *BodyError, or the failure's error

	dec      chunked.Decoder // FramingChunked: the decoder (ReportLastChunk set by New)
	chunkOut []byte          // FramingChunked, Godot path: the chunk being collected (reused)

	// ReadResponseBodyChunk's pieces of a large body are carved from one
	// array (pieceRoom, takePiece): spare is its part not handed out yet,
	// piece the size of the last piece (what a chunked body's next needs).
	spare []byte
	piece int
}

// start makes b the body of a new response with this framing (and, for
// FramingLength, this many bytes): nothing of the previous body survives
// (§7 D3) but the decoder's settings and the chunk buffer's memory.
func (b *bodyState) start(framing wire.Framing, left int64) {
	b.dec.Reset()
	*b = bodyState{framing: framing, left: left, dec: b.dec, chunkOut: reuseChunkBuf(b.chunkOut)}
}

// clear forgets the body (Close), the chunk buffer too.
func (b *bodyState) clear() {
	b.dec.Reset()
	*b = bodyState{dec: b.dec}
}

// ReadResponseBodyChunk reads the next piece of the body and returns it in
// a new slice the caller owns; outside BODY it returns nil and changes
// nothing (§1.10). A piece is at most ReadChunkSize bytes of a fixed-length
// or read-until-close body (non-blocking: what has arrived, possibly
// nothing; blocking: it waits for that many or the end, §1.10.1), or one
// whole chunk of a chunked body, nil until all of it has arrived (§1.10.2).
//
// The status says how the body ended: CONNECTED when it is complete
// (§1.10.3; after an ambiguous head the client then closes the
// connection, §7 D2: see KeepAlive);
// DISCONNECTED at the end of the stream — the normal end of a
// read-until-close body and, as in Godot, a fixed-length or chunked body cut
// short (§1.10.1.4, §1.10.2.7; BodyComplete tells them apart);
// CONNECTION_ERROR for a read error, a TLS stream closed without
// close_notify (§1.15.4), a malformed chunk (§1.10.2.1–6, including
// Godot's `5;a=b` quirk) or a Content-Length below −1, whose body Godot
// never ends (ErrNegativeLength, §7 D1). Unlike Godot the clean end does
// not depend on whether Poll or the read sees the close first (§1.10.4,
// §7 D3).
//
// Past the first 64 KiB of a body, its pieces are cut one after the other
// from arrays of 256 KiB (4 MiB in a body known to reach 16 MiB, once 1 MiB
// has arrived). Each piece is its own slice, capped at its length, so
// appending to one never touches another — but a piece kept alive keeps
// its array alive. A piece under 4 KiB always has an array of its own.
//
// Godot: HTTPClient.read_response_body_chunk()
func (c *Client) ReadResponseBodyChunk() []byte {
	b, _ := c.AppendResponseBodyChunk(c.pieceRoom())
	return c.takePiece(b)
}

// Cutting the pieces of a large body from one array makes Godot's loop
// faster: a make of 64 KiB costs about as much as reading it from loopback,
// and fresh memory is faulted in 4 KiB pages unless it is marked for huge
// pages (internal/hugepage), which an array of 4 MiB is. On the project's
// 2-core machine a 256 MiB body went from 0.8–1.1 GB/s (an array per
// piece) to 0.9–1.6 with 256 KiB arrays and 1.5–1.9 with 4 MiB ones
// (benchmarks/cmd/compare, cl/blocking-godot and poll-godot).
const (
	pieceArray = 256 << 10    // the array's size for pieces up to a quarter of it
	bigArray   = hugepage.Min // the array's size once the body reaches hugeBody
	hugeBody   = 16 << 20     // a body known to reach this gets bigArray arrays
	minPiece   = 4 << 10      // a smaller piece gets its own array (bounds what a kept piece keeps alive)
	maxPiece   = 1 << 20      // a larger piece always gets its own array
)

// pieceRoom returns the empty slice ReadResponseBodyChunk appends the next
// piece to: nil for the first pieceArray/4 bytes of a body (all of a small
// one), then the spare part of the current array — a new array, marked for
// huge pages when it is bigArray, when it has no room for a piece like the
// last one (for a fixed-length or read-until-close body: ReadChunkSize, or
// what is left). An array is at most four times the bytes received (or
// one piece).
func (c *Client) pieceRoom() []byte {
	b := &c.body
	if c.status != StatusBody {
		return nil
	}
	want := max(b.piece, minPiece)
	if b.framing != wire.FramingChunked {
		want = c.readChunkSize
	}
	size := b.received // what the body is known to reach
	if b.framing == wire.FramingLength {
		want = int(min(int64(want), b.left))
		size += b.left
	}
	if b.received < pieceArray/4 || want > maxPiece {
		return nil
	}
	if cap(b.spare) < want {
		n := max(pieceArray, 4*want)
		if size >= hugeBody {
			n = max(n, bigArray)
		}
		// Never more than four times what has arrived: a Content-Length
		// is a claim (a lying one costs a few bytes to send).
		n = max(want, min(n, int(min(4*b.received, bigArray))))
		b.spare = make([]byte, n)
		hugepage.Advise(b.spare)
	}
	return b.spare[:0]
}

// takePiece returns the piece ReadResponseBodyChunk read into room (from
// pieceRoom): nil for none; a piece that went into the spare array is cut
// from it, unless it is under minPiece, which is copied to its own array
// (the spare part is used again). The array is dropped once the body ends.
func (c *Client) takePiece(p []byte) []byte {
	b := &c.body
	n := len(p)
	switch {
	case n == 0:
		p = nil
	case cap(p) != cap(b.spare) || &p[0] != &b.spare[:1][0]:
		// Not read into the spare array: a small body's piece, or a chunk
		// larger than its room, in an array of its own.
	case n < minPiece:
		p = bytes.Clone(p)
	default:
		b.spare = b.spare[n:]
		p = p[:n:n]
	}
	if n > 0 {
		b.piece = n
	}
	if c.status != StatusBody {
		b.spare = nil
	}
	return p
}

// AppendResponseBodyChunk is ReadResponseBodyChunk appending the bytes to
// dst instead of returning a new slice: the same bytes per call (one whole
// chunk of a chunked body, returned only once it is complete, §1.10.2; up
// to ReadChunkSize of a fixed-length or read-until-close body — blocking
// mode fills that target, non-blocking mode drains what has arrived,
// §1.10.1, §1.10.3) and the same status changes. It allocates nothing when
// cap(dst) has room for them. As with append, the bytes of dst past its
// length may be overwritten, by a call that returns none too (a chunk is
// collected there while it arrives); the client keeps what it needs of them.
// Outside BODY it returns dst unchanged.
//
// The error is ReadResponseBodyChunkInto's: nil while the body goes on,
// io.EOF once it is complete (with this call's bytes or before), a
// *BodyError for a body cut short, ErrConnectionError wrapping the cause of
// a read or chunk error, ErrInvalidParameter when no body is being read. No
// second call is needed to learn how the body ended.
//
// Godot: HTTPClient.read_response_body_chunk() (appending form)
func (c *Client) AppendResponseBodyChunk(dst []byte) ([]byte, error) {
	c.enter()
	if err := c.bodyReadable(); err != nil {
		return dst, err
	}
	if c.body.framing == wire.FramingChunked {
		dst = c.readChunkGodot(dst)
	} else {
		dst = c.readPlainGodot(dst)
	}
	if c.status == StatusBody {
		return dst, nil
	}
	return dst, c.bodyEndErr()
}

// readPlainGodot is §1.10.1 for fixed-length and read-until-close bodies.
func (c *Client) readPlainGodot(dst []byte) []byte {
	target := c.readChunkSize
	if c.body.framing == wire.FramingLength && c.body.left < int64(target) {
		target = int(c.body.left)
	}
	base := len(dst)
	n := 0
	if c.blocking {
		dst = slices.Grow(dst, target)
		out := dst[base : base+target]
		for n < target {
			switch {
			case c.rr < c.rw:
				m := copy(out[n:], c.buffered())
				c.rr += m
				n += m
			case c.rerr != nil:
				target = n // ended
			default:
				n += c.readDirect(out[n:])
			}
		}
		dst = dst[:base+n]
	} else {
		// §1.10.3, §1.15.3: drain what has arrived, up to the target —
		// straight into dst when it has room. When it has none (a new
		// slice per call: ReadResponseBodyChunk), what has arrived is
		// gathered in the read buffer first, as much as it holds, so that
		// dst grows once, to the size of what the call returns.
		dry := false
		if cap(dst)-base < target {
			for !dry && c.rw-c.rr < target && max(len(c.rbuf), readBufSize)-(c.rw-c.rr) >= minRead {
				dry = !c.fill(false)
			}
			if !dry && c.rw-c.rr < target {
				// The read buffer filled up and more may be there (a target
				// larger than the buffer): room for all of it, read straight in.
				dst = slices.Grow(dst, target)
			}
		}
		for n < target && (c.rr < c.rw || !dry) {
			if c.rr == c.rw && c.rerr == nil && c.st != nil && cap(dst) > len(dst) {
				l := len(dst)
				m := c.tryDirect(dst[l:min(cap(dst), l+target-n)])
				if m == 0 && c.rerr == nil {
					break // nothing more has arrived
				}
				dst = dst[:l+m]
				n += m
				continue
			}
			if c.rr == c.rw {
				if !c.fill(false) {
					break
				}
				continue
			}
			m := min(target-n, c.rw-c.rr)
			dst = append(dst, c.rbuf[c.rr:c.rr+m]...)
			c.rr += m
			n += m
		}
	}
	c.advance(n)
	c.endPlain()
	return dst
}

// advance accounts for n body bytes delivered.
func (c *Client) advance(n int) {
	c.body.received += int64(n)
	if c.body.framing == wire.FramingLength {
		c.body.left -= int64(n)
	}
}

// endPlain applies the endings of §1.10.1.4 after a read of a fixed-length
// or read-until-close body. It reports whether the body ended.
func (c *Client) endPlain() bool {
	if c.body.framing == wire.FramingLength && c.body.left <= 0 {
		c.finishBody()
		return true
	}
	if c.rr < c.rw || c.rerr == nil {
		return false
	}
	c.endStream()
	return true
}

// finishBody ends a body read to its end: CONNECTED (§1.10.3). After an
// ambiguous head, or a trailer another parser could end elsewhere (a bare
// LF), the connection is then retired (§7 D2).
func (c *Client) finishBody() {
	c.body.done = true
	c.setStatus(StatusConnected)
	c.restBuf() // a kept-alive connection holds no read buffer while idle
	if c.head.Ambiguous || c.body.framing == wire.FramingChunked && c.body.dec.TrailerBareLF() {
		c.retire()
	}
	c.watchIdle()
}

// watchIdle is the fallback's look at a connection that went idle
// (nbConn.Watch; nothing on unix, or once the connection is retired).
func (c *Client) watchIdle() {
	if c.st != nil && !c.retired {
		c.st.nb.Watch()
	}
}

// readChunkGodot is §1.10.2: one whole chunk per call, appended to dst
// once complete. The chunk is collected straight in dst's spare capacity
// when it has room for the chunk's data, or can be given it at no loss
// (collectInDst); otherwise in c.body.chunkOut, reused from chunk to chunk,
// then appended. A chunk collected in dst that this call does not complete
// moves to chunkOut, so that the next call, whatever its dst, completes it.
func (c *Client) readChunkGodot(dst []byte) []byte {
	d := &c.body.dec
	left := d.ChunkBytesLeft() // of the chunk the call starts in; 0 outside one
	base := len(dst)
	direct := false // the chunk is collected in dst[base:], not chunkOut
	part := 0       // its bytes there
	for {
		if c.rr == c.rw {
			if c.rerr != nil && !c.endIsNextCalls(left) {
				c.endStream()
				return dst
			}
			if c.rerr != nil || (!c.fill(c.blocking) && !c.blocking) {
				if d.FailsAtChunkEnd() {
					c.dropDoomedChunk()
				} else if direct {
					c.body.chunkOut = append(c.body.chunkOut[:0], dst[base:base+part]...)
				}
				return dst
			}
			continue
		}
		if !direct && d.InChunk() && len(c.body.chunkOut) == 0 {
			direct, dst = c.collectInDst(dst)
		}
		var out []byte
		switch {
		case direct:
			out = dst[base+part : cap(dst)]
		case !d.InChunk():
			// A size line or the trailer: where the chunk's data goes is
			// decided once its size is known.
		case len(c.body.chunkOut) == 0:
			c.body.chunkOut = slices.Grow(c.body.chunkOut[:0], int(min(d.ChunkSize(), maxChunkPrealloc)))
			out = c.body.chunkOut[:cap(c.body.chunkOut)]
		default:
			if len(c.body.chunkOut) == cap(c.body.chunkOut) && d.ChunkBytesLeft() > 2 { // data to come, not just the CR LF
				c.body.chunkOut = slices.Grow(c.body.chunkOut, len(c.body.chunkOut))
			}
			out = c.body.chunkOut[len(c.body.chunkOut):cap(c.body.chunkOut)]
		}
		nDst, nSrc, ev, err := d.Decode(out, c.buffered())
		c.rr += nSrc
		c.body.received += int64(nDst)
		if direct {
			part += nDst
		} else {
			c.body.chunkOut = c.body.chunkOut[:len(c.body.chunkOut)+nDst]
		}
		if err != nil {
			if ev == chunked.EventChunkEnd {
				dst = c.takeChunk(dst, base+part, direct) // §1.10.2.2: the chunk of `5;a=b` is delivered
			}
			c.body.chunkOut = c.body.chunkOut[:0]
			c.chunkError(err)
			return dst
		}
		switch ev {
		case chunked.EventChunkEnd:
			return c.takeChunk(dst, base+part, direct)
		case chunked.EventLastChunk:
			return dst // §1.10.2.4: the last-chunk line; the trailer comes next call
		case chunked.EventEnd:
			c.finishBody()
			return dst
		}
	}
}

// collectInDst decides, at the start of a chunk's data, whether
// readChunkGodot collects the chunk in dst's spare capacity — one copy
// fewer than through chunkOut: when dst has room for its data, or when
// dst can be grown for it (up to maxChunkPrealloc) and the chunk will be
// complete in this call — all of it buffered, or a blocking read, which
// waits for it — so that a grown dst is what the call returns.
func (c *Client) collectInDst(dst []byte) (bool, []byte) {
	d := &c.body.dec
	need := d.ChunkBytesLeft() // the data and its CR LF
	data := int(max(need-2, 0))
	switch {
	case cap(dst)-len(dst) >= data:
		return true, dst
	case int64(data) <= maxChunkPrealloc && (c.blocking || int64(c.rw-c.rr) >= need):
		return true, slices.Grow(dst, data)
	}
	return false, dst
}

// takeChunk appends the chunk just completed to dst: it ends at end in
// dst's spare capacity (direct), or is in chunkOut.
func (c *Client) takeChunk(dst []byte, end int, direct bool) []byte {
	if direct {
		return dst[:end]
	}
	dst = append(dst, c.body.chunkOut...)
	c.body.chunkOut = c.body.chunkOut[:0]
	return dst
}

// endIsNextCalls reports whether the end of the stream, met while this
// call reads a chunk's data, belongs to the next call: Godot reads a
// chunk's data (and its CR LF) with one read per call, and over plain TCP
// in non-blocking mode that read is one recv, which returns the bytes that
// arrived before the FIN, not the FIN (§1.10.2.5, §1.15.3). So when this
// call took bytes of the chunk, it ends with them — nothing returned, the
// chunk incomplete: BODY, or CONNECTION_ERROR for a chunk of a non-hex
// size line (§1.10.2.2) — and the next call meets the end (§1.10.2.7). A
// call that took none meets the end itself. Under TLS Godot's read goes on
// to the end (StreamPeerMbedTLS::get_partial_data loops over records), and
// blocking mode's read loops to it (_get_http_data): the same call. left is
// ChunkBytesLeft when the call started (0: it started outside a chunk).
func (c *Client) endIsNextCalls(left int64) bool {
	d := &c.body.dec
	if c.blocking || !c.plainStream() || !d.InChunk() {
		return false
	}
	if left == 0 {
		left = d.ChunkSize() + 2 // the size line was parsed in this call
	}
	return d.ChunkBytesLeft() < left
}

// plainStream reports whether the connection carries no TLS: neither one
// the client made nor a *tls.Conn given to SetConnection.
func (c *Client) plainStream() bool {
	if c.st == nil || c.st.tr != nil {
		return false
	}
	_, isTLS := c.st.conn.(*tls.Conn)
	return !isTLS
}

// dropDoomedChunk ends a non-blocking read whose chunk had a non-hex size
// line (`5;a=b`) and whose bytes stopped arriving. Godot sets
// CONNECTION_ERROR as it parses such a line and reads the chunk only within
// that same call: what has not arrived by then is never read, and the chunk
// is dropped (§1.10.2.2). Blocking mode waits for the chunk, as Godot's
// blocking read does.
func (c *Client) dropDoomedChunk() {
	c.body.chunkOut = c.body.chunkOut[:0]
	c.chunkError(c.body.dec.Finish())
}

// haveDoomedChunk is the non-blocking Into path's form of the rule
// dropDoomedChunk keeps for the Godot path (§1.10.2.2): a chunk of a
// non-hex size line is read only if all of it is there now — buffered, or
// in the socket. It reports true when the rest of the chunk is buffered;
// otherwise the body ended: dropped (CONNECTION_ERROR), or at the end of
// the stream (endStream) when none of the chunk came before it. Deciding
// in the same call as the Godot path — not in a later one, after returning
// the bytes streamed so far — keeps
// both read paths on the same status path whatever the timing (what was
// streamed stays delivered, as with any chunk error). The buffer grows to
// hold the chunk: at most MaxChunkSize.
func (c *Client) haveDoomedChunk() bool {
	need := int(c.body.dec.ChunkBytesLeft())
	for c.rw-c.rr < need {
		if c.rerr != nil {
			// As the Godot path (endIsNextCalls): over plain TCP, bytes of
			// the chunk that arrived before the end are what Godot's one
			// read took, and the end is never read (CONNECTION_ERROR).
			if c.endIsNextCalls(0) || (c.plainStream() && c.rw > c.rr) {
				c.dropDoomedChunk()
			} else {
				c.endStream()
			}
			return false
		}
		c.ensureRoom(need - (c.rw - c.rr))
		if !c.fill(false) {
			c.dropDoomedChunk()
			return false
		}
	}
	return true
}

// reuseChunkBuf empties the chunk buffer for the next response, keeping it
// unless it grew past maxChunkPrealloc.
func reuseChunkBuf(b []byte) []byte {
	if cap(b) > maxChunkPrealloc {
		return nil
	}
	return b[:0]
}

// maxChunkPrealloc bounds what the Godot path reserves for a chunk from its
// declared size; a larger chunk grows the buffer as its bytes arrive.
const maxChunkPrealloc = 1 << 20

// chunkError is a chunk protocol error (§1.10.2.1–3, .5): CONNECTION_ERROR,
// without closing (Godot keeps the socket until close()).
func (c *Client) chunkError(err error) {
	c.body.err = c.fail(StatusConnectionError, ErrConnectionError, bodyOp, err)
}

// endStream ends the body at the end of the stream, the one routine for
// every framing (§1.10.1.4, §1.10.2.7): a read error → CONNECTION_ERROR;
// a clean close → DISCONNECTED — the normal end of a read-until-close body
// (§7 D3), and a fixed-length or chunked body cut short, marked by a
// *BodyError.
func (c *Client) endStream() {
	if c.rerr != io.EOF {
		cause := c.rerr
		c.release()
		c.body.err = c.fail(StatusConnectionError, ErrConnectionError, bodyOp, cause)
		return
	}
	var berr error
	switch c.body.framing {
	case wire.FramingLength:
		berr = &BodyError{Framing: "length", Received: c.body.received, Err: io.ErrUnexpectedEOF}
	case wire.FramingChunked:
		berr = &BodyError{Framing: "chunked", Received: c.body.received, Err: c.body.dec.Finish()}
	}
	c.close()
	c.body.done, c.body.err = berr == nil, berr
}

// ReadResponseBodyChunkInto reads body bytes into p and returns how many,
// with io.Reader semantics: what is available (for a chunked body not
// chunk-aligned: chunk data is decoded straight into p), and io.EOF once the
// body is complete, with the last bytes or on the next call. Non-blocking
// mode returns (0, nil) when nothing has arrived (call Poll and try again);
// blocking mode waits for at least one byte. The status changes as with
// ReadResponseBodyChunk, and the two may be mixed: the bytes of a chunk that
// ReadResponseBodyChunk began collecting come first. Nothing is allocated but, once, a larger read
// buffer for a chunked body of small chunks (readChunkedInto).
//
// Errors, returned again by every later call: io.EOF when the body is
// complete (also for a response without one); a *BodyError wrapping
// io.ErrUnexpectedEOF for a fixed-length or chunked body cut short by a
// clean close (status DISCONNECTED, as in Godot); ErrConnectionError
// wrapping the cause for a read error, a TLS stream closed without
// close_notify or a *chunked.Error (the data of a `5;a=b` chunk, or of a
// chunk with a bad terminator, was already delivered); ErrInvalidParameter
// when no body is being read.
func (c *Client) ReadResponseBodyChunkInto(p []byte) (int, error) {
	c.enter()
	if err := c.bodyReadable(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if c.body.framing == wire.FramingChunked {
		return c.readChunkedInto(p)
	}
	return c.readPlainInto(p)
}

// bodyReadable is the start of every body read: nil in BODY; otherwise
// what the read returns without reading — how the body ended, or the
// failure of an Abort met now, or of a body that can never end.
func (c *Client) bodyReadable() error {
	if c.status != StatusBody {
		return c.bodyEndErr()
	}
	if c.aborted.Load() {
		c.body.err = c.abortNow(bodyOp)
		return c.body.err
	}
	if c.body.framing == wire.FramingLength && c.body.left < 0 {
		// §7 D1: Godot would return nothing, in BODY, for ever. This is
		// its CONNECTION_ERROR once the server closes (§1.6.3): no
		// close(), the response's getters and the socket stay until Close.
		cause := fmt.Errorf("%w (%d)", ErrNegativeLength, c.body.left)
		c.body.err = c.fail(StatusConnectionError, ErrConnectionError, bodyOp, cause)
		return c.body.err
	}
	return nil
}

// bodyEndErr is what a body read outside BODY returns.
func (c *Client) bodyEndErr() error {
	switch {
	case c.body.err != nil:
		return c.body.err
	case c.body.done:
		return io.EOF
	case c.status.Terminal():
		return c.terminalErr(ErrConnectionError)
	}
	return godot.Wrap(ErrInvalidParameter, bodyOp, errNoBody)
}

// readPlainInto reads a fixed-length or read-until-close body into p. With
// nothing buffered, blocking mode reads straight into p (readDirect) and
// non-blocking mode tries to (tryDirect); buffered bytes are copied first.
func (c *Client) readPlainInto(p []byte) (int, error) {
	if c.body.framing == wire.FramingLength && int64(len(p)) > c.body.left {
		p = p[:c.body.left]
	}
	n := 0
	if len(p) > 0 {
		switch {
		case c.rr < c.rw:
		case c.rerr != nil:
		case c.blocking:
			n = c.readDirect(p)
		default:
			n = c.tryDirect(p)
		}
		if n == 0 && c.rr < c.rw {
			n = copy(p, c.buffered())
			c.rr += n
		}
	}
	c.advance(n)
	if !c.endPlain() {
		return n, nil
	}
	return n, c.bodyEndErr()
}

// readChunkedInto decodes a chunked body into p: the one chunked read path
// of ReadResponseBodyChunkInto, the same in both modes. Raw bytes are read
// into the read buffer and decoded from it into p. With a large p (at least
// bulkMinBuf bytes) the buffer is first grown to bulkBufSize, so that one
// read takes several of p's worth of chunks and their framing, whatever the
// size of the chunks (benchmarks: BenchmarkClientChunked1GiB,
// BenchmarkClientChunkedLarge1GiB). Bytes behind the body stay in the
// buffer for the next response.
func (c *Client) readChunkedInto(p []byte) (int, error) {
	n := 0
	if len(c.body.chunkOut) > 0 {
		// The start of a chunk that a Godot-path call collected and could
		// not complete: it comes first.
		n = copy(p, c.body.chunkOut)
		c.body.chunkOut = c.body.chunkOut[n:] // no shift: a small p would move the rest at every call
		if n == len(p) {
			return n, nil
		}
	}
	for {
		if !c.blocking && c.body.dec.FailsAtChunkEnd() && !c.haveDoomedChunk() {
			return n, c.body.err
		}
		if c.rr == c.rw {
			if c.rerr != nil {
				c.endStream()
				return n, c.body.err
			}
			if n > 0 && !c.recordsAtHand() {
				return n, nil
			}
			if len(p) >= bulkMinBuf {
				c.growBuf()
			}
			if !c.fill(c.blocking) && !c.blocking {
				// Nothing more has arrived. (A doomed chunk is never read
				// here: haveDoomedChunk above has buffered all of it, or
				// ended the body.)
				return n, nil
			}
			continue
		}
		nDst, nSrc, ev, err := c.body.dec.Decode(p[n:], c.buffered())
		c.rr += nSrc
		n += nDst
		c.body.received += int64(nDst)
		if err != nil {
			c.chunkError(err)
			return n, c.body.err
		}
		if ev == chunked.EventEnd {
			c.finishBody()
			return n, io.EOF
		}
		if n == len(p) {
			return n, nil
		}
	}
}

// chunkedEndAtHand decodes, from the bytes already buffered and without
// reading, the framing that follows the chunk data read so far: true when
// the body's end is among them, which then ends the body as a read that met
// it would. A framing error found there fails the body (the next read
// returns it). The Transport calls it after a read that filled the
// caller's buffer, to return io.EOF with the last bytes as net/http's
// chunked reader does: a caller that reads exactly the body and closes it
// gives the connection back. Godot's paths never call it: there a call
// reads one chunk or finishes the trailer, never both (§1.10.2).
func (c *Client) chunkedEndAtHand() bool {
	if c.status != StatusBody || c.body.framing != wire.FramingChunked || len(c.body.chunkOut) > 0 {
		return false
	}
	for c.rr < c.rw {
		_, nSrc, ev, err := c.body.dec.Decode(nil, c.buffered())
		c.rr += nSrc
		switch {
		case err != nil:
			c.chunkError(err)
			return false
		case ev == chunked.EventEnd:
			c.finishBody()
			return true
		case nSrc == 0:
			return false // chunk data is next
		}
	}
	return false
}

// recordsAtHand reports, in non-blocking mode under TLS, whether more has
// arrived (dry: a look at the socket without waiting, whose bytes go to the
// bulk buffer) while fill takes one record at a time: readChunkedInto then
// goes on decoding records into the caller's buffer, as readPlainInto's
// TryRead reads record after record, instead of returning one record's
// worth per call.
func (c *Client) recordsAtHand() bool {
	if c.blocking || c.st == nil || c.st.tr == nil {
		return false
	}
	return !c.st.tr.dry()
}

// bulkMinBuf is the smallest caller buffer for which
// ReadResponseBodyChunkInto reads a chunked body in bulk (see
// readChunkedInto).
const bulkMinBuf = 16 << 10

// BodyReader returns an io.Reader over the body of the current response:
// its Read is ReadResponseBodyChunkInto (see there for non-blocking mode,
// where Read may return 0, nil). It allocates nothing.
func (c *Client) BodyReader() io.Reader { return (*bodyReader)(c) }

type bodyReader Client

func (b *bodyReader) Read(p []byte) (int, error) {
	return (*Client)(b).ReadResponseBodyChunkInto(p)
}
