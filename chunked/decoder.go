package chunked

import "strconv"

// Limits of Godot's chunk parser (§1.10.2).
const (
	// MaxSizeLine is the longest chunk-size line, CR LF included, that is
	// accepted; one more byte is KindSizeLineTooLong (§1.10.2.1).
	MaxSizeLine = 32
	// MaxChunkSize is the largest chunk size accepted (exactly 0x1000000 is
	// allowed); a larger one is KindTooBig (§1.10.2.3).
	MaxChunkSize = 1 << 24
	// DefaultMaxTrailerBytes bounds the trailer section when
	// Decoder.MaxTrailerBytes is zero (§7 D1).
	DefaultMaxTrailerBytes = 64 << 10
)

// Event says why Decode returned.
type Event int

// The events Decode reports.
const (
	// EventNone: Decode needs more input, or dst is full.
	EventNone Event = iota
	// EventChunkEnd: one chunk's data is complete and its CR LF terminator
	// verified. Godot returns a chunk's data only at this point (§1.10.2.5).
	EventChunkEnd
	// EventLastChunk: the last-chunk line (size 0) was consumed; the trailer
	// section comes next. Returned only with Decoder.ReportLastChunk
	// (Godot's read_response_body_chunk() returns there and reads the
	// trailer on its next call, §1.10.2.4).
	EventLastChunk
	// EventEnd: the last chunk and the trailer section are consumed: the
	// body is complete (§1.10.2.6).
	EventEnd
)

var eventNames = [...]string{"EventNone", "EventChunkEnd", "EventLastChunk", "EventEnd"}

// String returns the constant's name.
func (e Event) String() string {
	if e >= 0 && int(e) < len(eventNames) {
		return eventNames[e]
	}
	return "chunked.Event(" + strconv.Itoa(int(e)) + ")"
}

// state is the decoder's position in the body.
type state uint8

const (
	stSize    state = iota // reading a chunk-size line (the zero value)
	stData                 // copying chunk data; rem bytes left
	stTerm                 // reading the CR LF after the data; termN bytes seen
	stTrailer              // reading the trailer section
	stDone                 // body complete
	stFailed               // err is set; sticky
)

// Why the hex parse of a size line stopped before the line's end (§1.10.2.2–3).
const (
	stopNone uint8 = iota
	stopNotHex
	stopTooBig
)

// hexVal maps a byte to its hex value, or −1.
var hexVal = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = int8(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = int8(c - 'a' + 10)
		t[c-'a'+'A'] = int8(c - 'a' + 10)
	}
	return t
}()

// Decoder is a sans-I/O, resumable decoder of a chunked response body with
// Godot's byte rules (§1.10.2). It is fed bytes by its caller (Decode) and
// never reads, blocks, allocates a buffer, or keeps a reference to the
// slices it is given. The zero value is ready to decode a body from its
// first size line.
//
// A Decoder is not safe for concurrent use.
//
// Godot: HTTPClient.read_response_body_chunk() (chunked mode)
type Decoder struct {
	// MaxTrailerBytes bounds the trailer section (every trailer line and the
	// final empty line, CR LF included); longer is KindTrailerTooLong.
	// Zero or negative means DefaultMaxTrailerBytes. Godot has no bound (§7 D1).
	MaxTrailerBytes int
	// ReportLastChunk makes Decode return EventLastChunk right after the
	// last-chunk line, before the trailer section.
	ReportLastChunk bool

	st      state
	cr      bool  // size line: a CR not yet known to be content or line end; trailer: previous byte was CR
	stop    uint8 // stopNone, stopNotHex or stopTooBig for the current size line
	pending bool  // the chunk being read had a non-hex size line (§1.10.2.2 quirk)
	termN   uint8 // terminator bytes seen (0 or 1)
	term0   byte  // the first terminator byte
	lineLen int   // bytes in the current size or trailer line
	trailer int   // bytes of trailer section consumed
	val     int64 // hex value of the size line so far
	stopAt  int64 // offset of the byte that stopped the hex parse
	size    int64 // declared size of the chunk being read
	rem     int64 // data bytes of that chunk still to copy
	off     int64 // body bytes consumed
	bareLF  bool  // the trailer section held an LF not after a CR (TrailerBareLF)
	err     error // sticky error (stFailed)
	flow    bool  // Reader's mode: go on past chunk ends (no EventChunkEnd)
}

// Reset returns d to "expect a size line" with nothing of the previous
// body left: no partial size line, chunk, trailer or error survives, unlike
// Godot's chunk buffer (§1.10.5, §7 D3). MaxTrailerBytes is kept.
func (d *Decoder) Reset() {
	*d = Decoder{MaxTrailerBytes: d.MaxTrailerBytes, ReportLastChunk: d.ReportLastChunk, flow: d.flow}
}

// TrailerBareLF reports whether the trailer section read so far held an LF
// not after a CR. Godot's trailer reading ends only at a CR LF line
// (§1.10.2.6) and goes on past it, where parsers that take a bare LF for a
// line end (RFC 9112 §2.2 allows it) may end the body sooner: the two can
// disagree on where the next response starts (§7 D2).
func (d *Decoder) TrailerBareLF() bool { return d.bareLF }

// ChunkSize returns the declared size of the chunk being read, from the end
// of its size line until its terminator is verified, and 0 otherwise.
func (d *Decoder) ChunkSize() int64 {
	if d.st == stData || d.st == stTerm {
		return d.size
	}
	return 0
}

// InChunk reports whether d is inside a chunk's data or its CR LF
// terminator: input ending here cuts a chunk, losing data.
func (d *Decoder) InChunk() bool {
	return d.st == stData || d.st == stTerm
}

// FailsAtChunkEnd reports whether the chunk being read had a non-hex size
// line (`5;a=b`): its data is still decoded, and the body then fails with
// KindNotHex at its terminator (§1.10.2.2). Godot reads such a chunk only
// within the call that parsed its size line, its status already
// CONNECTION_ERROR: a caller reproducing that stops when the chunk's bytes
// stop arriving, and gets the error from Finish.
func (d *Decoder) FailsAtChunkEnd() bool {
	return d.pending && d.err == nil && d.InChunk()
}

// ChunkBytesLeft returns how many more input bytes the chunk being read
// needs — its remaining data and its CR LF terminator — and 0 outside a
// chunk.
func (d *Decoder) ChunkBytesLeft() int64 {
	switch d.st {
	case stData:
		return d.rem + 2
	case stTerm:
		return 2 - int64(d.termN)
	}
	return 0
}

// Done reports whether the whole body, trailer section included, has been
// decoded.
func (d *Decoder) Done() bool {
	return d.st == stDone
}

// Finish reports the outcome of the input ending at the current position
// (the peer closed the connection): nil if the body is complete, the sticky
// error if one was returned, else an *Error of KindTruncated, which
// unwraps to io.ErrUnexpectedEOF (§7 D3: a body cut short is an error, not
// the silent DISCONNECTED of §1.10.2.7). If the size line of the chunk
// being read was not hex (the §1.10.2.2 quirk), that KindNotHex error is
// returned instead. The result is sticky like any other error.
func (d *Decoder) Finish() error {
	if d.err != nil {
		return d.err
	}
	if d.st == stDone {
		return nil
	}
	if d.pending {
		return d.setErr(KindNotHex, d.stopAt, d.size)
	}
	return d.setErr(KindTruncated, d.off, d.ChunkSize())
}

// setErr makes an *Error the sticky error.
func (d *Decoder) setErr(k Kind, at, size int64) error {
	e := &Error{Kind: k, Offset: at, Size: size}
	d.err = e
	d.st = stFailed
	return e
}

// fail ends a Decode call with a new sticky error after i bytes of src.
func (d *Decoder) fail(nDst, i int, k Kind, at, size int64) (int, int, Event, error) {
	d.off += int64(i)
	return nDst, i, EventNone, d.setErr(k, at, size)
}

// Decode consumes bytes of the chunked body from src and copies chunk data
// into dst as it arrives, before the chunk's terminator is checked. It
// returns the bytes written and consumed (nDst ≤ len(dst), nSrc ≤ len(src))
// and an event:
//   - EventChunkEnd right after a chunk's CR LF terminator was verified
//     (Godot hands a chunk over only then, §1.10.2.5);
//   - EventEnd right after the trailer section's final CR LF: the body is
//     complete and nothing after it is consumed (it belongs to the next
//     response on a kept-alive connection);
//   - EventNone when src is exhausted, or when chunk data waits and dst is
//     full (call again with room in dst).
//
// Decode is resumable at any byte boundary (any split of src gives the same
// output, events and error), never panics, and allocates nothing but the
// one *Error of a malformed body; dst may overlap src if it starts at or
// before it. Errors are *Error values, one Kind per Godot failure (§1.10.2;
// Kind says which byte rule each enforces), and sticky: every later call
// returns the error again with nDst = nSrc = 0. After EventEnd, calls return
// (0, 0, EventEnd, nil).
//
// Godot: HTTPClient.read_response_body_chunk() (chunked mode)
func (d *Decoder) Decode(dst, src []byte) (nDst, nSrc int, ev Event, err error) {
	if d.st >= stDone {
		if d.st == stDone {
			return 0, 0, EventEnd, nil
		}
		return 0, 0, EventNone, d.err
	}
	i := 0
	for i < len(src) {
		switch d.st {
		case stSize:
			// Fast path: a whole plain hex line at the start of a size line.
			if d.lineLen == 0 {
				j, v := i, int64(0)
				for j < len(src) && j-i < 7 {
					h := hexVal[src[j]]
					if h < 0 {
						break
					}
					v = v<<4 | int64(h)
					j++
				}
				if j > i && j+1 < len(src) && src[j] == '\r' && src[j+1] == '\n' && v <= MaxChunkSize {
					i = j + 2
					if v == 0 {
						d.st = stTrailer
						d.trailer = 0
						if d.ReportLastChunk && !d.flow {
							d.off += int64(i)
							return nDst, i, EventLastChunk, nil
						}
						break
					}
					d.st, d.size, d.rem = stData, v, v
					break
				}
			}
			var ok bool
			if i, ok = d.sizeLine(src, i); !ok && d.err != nil {
				d.off += int64(i)
				return nDst, i, EventNone, d.err
			}
			if ok && d.st == stTrailer && d.ReportLastChunk && !d.flow {
				d.off += int64(i)
				return nDst, i, EventLastChunk, nil
			}

		case stData:
			if nDst == len(dst) {
				d.off += int64(i)
				return nDst, i, EventNone, nil
			}
			n := min(len(src)-i, len(dst)-nDst)
			if int64(n) > d.rem {
				n = int(d.rem)
			}
			copy(dst[nDst:nDst+n], src[i:i+n])
			nDst += n
			i += n
			d.rem -= int64(n)
			if d.rem == 0 {
				d.st, d.termN = stTerm, 0
			}

		case stTerm:
			var b0, b1 byte
			switch {
			case d.termN == 1:
				b0, b1 = d.term0, src[i]
				i++
			case i+1 < len(src):
				b0, b1 = src[i], src[i+1]
				i += 2
			default:
				d.term0, d.termN = src[i], 1
				i++
				continue
			}
			if b0 != '\r' || b1 != '\n' {
				return d.fail(nDst, i, KindBadTerminator, d.off+int64(i)-2, d.size)
			}
			if d.pending {
				// §1.10.2.2 quirk: the chunk of a non-hex size line is
				// delivered, then the body is in error.
				d.off += int64(i)
				return nDst, i, EventChunkEnd, d.setErr(KindNotHex, d.stopAt, d.size)
			}
			d.st, d.size = stSize, 0
			if d.flow {
				continue
			}
			d.off += int64(i)
			return nDst, i, EventChunkEnd, nil

		case stTrailer:
			limit := d.MaxTrailerBytes
			if limit <= 0 {
				limit = DefaultMaxTrailerBytes
			}
			for i < len(src) {
				b := src[i]
				i++
				d.trailer++
				if d.trailer > limit {
					return d.fail(nDst, i, KindTrailerTooLong, d.off+int64(i)-1, int64(limit))
				}
				d.lineLen++
				if b == '\n' && !d.cr {
					d.bareLF = true
				}
				if b == '\n' && d.cr {
					if d.lineLen == 2 {
						d.off += int64(i)
						d.st = stDone
						return nDst, i, EventEnd, nil
					}
					d.lineLen = 0
				}
				d.cr = b == '\r'
			}
		}
	}
	d.off += int64(i)
	return nDst, i, EventNone, nil
}

// sizeLine consumes size-line bytes from src[*i:] exactly as Godot
// accumulates and then parses its line (§1.10.2.1–4), but streaming: the
// hex value is built as bytes arrive, and a CR is held back until the next
// byte tells whether it is content or the line's end. It returns the new
// position in src and false if src ran out or the line failed (d.err set).
func (d *Decoder) sizeLine(src []byte, i int) (int, bool) {
	for i < len(src) {
		b := src[i]
		i++
		at := d.off + int64(i) - 1
		d.lineLen++
		if d.lineLen > MaxSizeLine {
			d.setErr(KindSizeLineTooLong, at, 0)
			return i, false
		}
		if d.cr {
			d.cr = false
			if b == '\n' && d.lineLen > 2 {
				return i, d.endLine()
			}
			d.digit('\r', at-1) // the held CR was content
		}
		if b == '\r' {
			d.cr = true
			continue
		}
		d.digit(b, at)
	}
	return i, false
}

// digit feeds one size-line content byte at offset at to the hex parse,
// which stops at the first non-hex byte or once the value passes
// MaxChunkSize (§1.10.2.2–3).
func (d *Decoder) digit(b byte, at int64) {
	if d.stop != stopNone {
		return
	}
	h := hexVal[b]
	if h < 0 {
		d.stop, d.stopAt = stopNotHex, at
		return
	}
	d.val = d.val<<4 | int64(h)
	if d.val > MaxChunkSize {
		d.stop, d.stopAt = stopTooBig, at
	}
}

// endLine acts on a complete size line (§1.10.2.2–5).
func (d *Decoder) endLine() bool {
	v := d.val
	switch d.stop {
	case stopTooBig:
		// §7 D1: refuse at once; Godot would allocate v bytes.
		d.setErr(KindTooBig, d.stopAt, v)
		return false
	case stopNotHex:
		if v == 0 {
			d.setErr(KindNotHex, d.stopAt, 0)
			return false
		}
		d.pending = true // §1.10.2.2 quirk: read the chunk, then fail
	}
	d.lineLen, d.cr, d.val, d.stop = 0, false, 0, stopNone
	if v == 0 {
		d.st, d.trailer = stTrailer, 0 // §1.10.2.4
		return true
	}
	d.st, d.size, d.rem = stData, v, v
	return true
}

// skipData accounts for n bytes of chunk data that the caller read straight
// into its own buffer (Reader's fast path); n ≤ d.rem in state stData.
func (d *Decoder) skipData(n int) {
	d.rem -= int64(n)
	d.off += int64(n)
	if d.rem == 0 {
		d.st, d.termN = stTerm, 0
	}
}
