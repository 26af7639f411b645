package httprequest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zlib"
)

// An eager inflater (RFC 1951): the node's gzip and deflate decoder, with
// the timing Godot's observable behaviour depends on (§2.8.2.1, §2.8.2.3).
//
// Godot's zlib hands over, for every wire chunk fed to it, all the output
// that chunk's bytes decode to: every symbol whose bits have arrived. The
// inflaters of klauspost/compress (and compress/flate) keep decoded bytes in
// their 32 KiB window until it fills or the block ends, so after a chunk up
// to 32 KiB of its output may still be held back. That is invisible in the
// delivered body, but not where the node looks at the running decoded size
// chunk by chunk: body_size_limit (R7 on the chunk where zlib's total passes
// it, with get_downloaded_bytes() as it is then) and the partial file an
// in-place download_file keeps after a failure; and the pieces the sink
// gets are Godot's only with zlib's timing. The node decodes every gzip and
// deflate body with this inflater (decode.go); its fast loop (fast, below)
// makes it faster than klauspost's too.
//
// The inflater reads its input byte-exact from a bufio.Reader, as flate
// does, and never waits for input: when the input at hand runs out it
// returns what it has and reports waiting. Symbols are decoded bit by bit,
// consuming only the bits a code needs, like zlib's slow path, so a symbol
// is complete exactly when zlib's would be; block headers are parsed over
// the bits at hand and consumed only once complete. Each Read gives at most
// one inflate call's output (callCap), and advance goes on decoding to the
// next output when that is full, as zlib reads on with a full output
// buffer: with them the decoder (copyPieces, decode.go) reproduces the
// output of each of Godot's put_partial_data calls. Errors are zlib's data
// errors, reported as flate.CorruptInputError with the input offset.
// Checked against zlib (Python's zlib driven as Godot drives it) on 300 000
// chunk boundaries of gzip and zlib streams cut at random, 1-byte chunks
// included, and on 6000 corrupted or random streams.

const (
	inflWindow = 1 << 15
	inflMask   = inflWindow - 1
	inflMaxLit = 288
	inflMaxLen = 15
)

type inflState uint8

const (
	inflHeader  inflState = iota // before a block header
	inflStored                   // inside a stored block
	inflHuffman                  // inside a fixed or dynamic block
)

// huffman is a canonical Huffman code: count[l] codes of length l, symbols
// in code order (zlib's puff.c representation).
type huffman struct {
	count  [inflMaxLen + 1]int16
	symbol [inflMaxLit]int16
	// fast maps the next inflFastBits input bits to symbol<<4 | length for
	// the codes of at most that length (0: a longer code, or none).
	fast [1 << inflFastBits]uint16
}

// inflFastBits is the width of huffman.fast: a code that short is decoded
// with one lookup once its bits are at hand — the same symbol, complete at
// the same input byte, as the bit-by-bit walk would give.
const inflFastBits = 9

// inflFast turns the table lookup on; tests turn it off to compare with the
// bit-by-bit walk.
var inflFast = true

type eagerInflater struct {
	r *bufio.Reader
	// src (the decoder) reports the input bytes at hand beyond r's buffer
	// and whether the input has ended (inputAt), and the most output the
	// current inflate call may still give (callCap, zlib's avail_out). The
	// inflater never waits for input: it reports waiting instead.
	src     inflSource
	trailer int // bytes of the wrapper's trailer after the final block (zlib's CHECK)

	q      []byte // input read but not all consumed: bit qbit of q[0] is next
	qbit   uint
	offset int64 // input bytes read

	win   [inflWindow]byte
	wpos  int // next write position in win
	whave int // output so far, capped at inflWindow

	state      inflState
	final      bool // the current block is the last
	stored     int  // bytes left in a stored block
	copyLen    int  // a match not yet fully output
	dist       int
	litPending bool // a literal decoded (zlib's LIT state) but not yet output
	lit        byte
	lcode      huffman
	dcode      huffman
	lfast      *fastTable // lcode and dcode for the fast loop (fast)
	dfast      *fastTable
	lown, down fastTable // a dynamic block's tables
	waiting    bool      // the last Read (or advance) stopped for input it may not wait for
	err        error
}

// inflSource is the inflater's view of its feeder (the decoder).
type inflSource interface {
	inputAt() (n int, ended bool)
	callCap() int
}

// reset readies f (new, or a pooled one) for a stream on r, fed by src,
// with a wrapper trailer of trailer bytes. Nils drop the references.
func (f *eagerInflater) reset(r *bufio.Reader, src inflSource, trailer int) {
	f.src, f.trailer = src, trailer
	f.start(r)
}

// Reset starts a new stream on r (a *bufio.Reader), as flate.Resetter.
func (f *eagerInflater) Reset(r io.Reader, dict []byte) error {
	br, ok := r.(*bufio.Reader)
	if !ok || len(dict) > 0 {
		return errors.New("httprequest: eager inflater needs a *bufio.Reader and no dictionary")
	}
	f.start(br)
	return nil
}

// start begins a stream on r. The window and the tables keep their memory
// (a pooled inflater's): with whave 0 no match reaches the window, and a
// block header builds the tables before a symbol is decoded.
func (f *eagerInflater) start(r *bufio.Reader) {
	f.r = r
	f.q, f.qbit, f.offset = f.q[:0], 0, 0
	f.wpos, f.whave = 0, 0
	f.state, f.final, f.stored = inflHeader, false, 0
	f.copyLen, f.dist, f.litPending, f.lit = 0, 0, false, 0
	f.lfast, f.dfast = nil, nil
	f.waiting, f.err = false, nil
}

// Close is a no-op (io.ReadCloser, as flate's reader).
func (f *eagerInflater) Close() error { return nil }

// atHand returns the input bytes that can be read without waiting, and
// whether the input has ended.
func (f *eagerInflater) atHand() (int, bool) {
	n, ended := f.src.inputAt()
	return f.r.Buffered() + n, ended
}

func (f *eagerInflater) corrupt() error { return flate.CorruptInputError(f.offset) }

// availBits is the number of bits read and not consumed.
func (f *eagerInflater) availBits() uint { return uint(len(f.q))*8 - f.qbit }

// ensure makes need bits available, reading input. With canWait false it
// reads only input at hand and reports false (waiting) when that is not
// enough; an input error also gives false, with f.err set.
func (f *eagerInflater) ensure(need uint, canWait bool) bool {
	for f.availBits() < need {
		if !canWait && f.r.Buffered() == 0 { // a buffered byte is at hand
			if n, ended := f.atHand(); n == 0 && !ended {
				f.waiting = true
				return false
			}
		}
		b, err := f.r.ReadByte()
		if err != nil {
			f.err = noEOF(err)
			return false
		}
		f.offset++
		f.q = append(f.q, b)
	}
	return true
}

// bits returns n (≤ 16) bits from bit position pos on (ensured before),
// least significant first.
func (f *eagerInflater) bits(pos, n uint) int {
	at := f.qbit + pos
	i := at >> 3
	var w uint32
	for k := uint(0); k < 3 && int(i+k) < len(f.q); k++ {
		w |= uint32(f.q[i+k]) << (8 * k)
	}
	return int(w>>(at&7)) & (1<<n - 1)
}

// peekBits returns n (≤ 16) bits from bit position pos on when they are
// read or buffered, without taking bytes from the buffer: zlib's hold
// keeps only the bytes a code needs, and the input at hand is counted
// without it (advance, the trailer).
func (f *eagerInflater) peekBits(pos, n uint) (int, bool) {
	at := f.qbit + pos
	var more []byte
	if extra := int((at+n+7)>>3) - len(f.q); extra > 0 {
		if extra > f.r.Buffered() {
			return 0, false
		}
		more, _ = f.r.Peek(extra)
	}
	i := int(at >> 3)
	var w uint32
	for k := range 3 {
		switch j := i + k; {
		case j < len(f.q):
			w |= uint32(f.q[j]) << (8 * k)
		case j-len(f.q) < len(more):
			w |= uint32(more[j-len(f.q)]) << (8 * k)
		}
	}
	return int(w>>(at&7)) & (1<<n - 1), true
}

// consume drops n bits.
func (f *eagerInflater) consume(n uint) {
	f.qbit += n
	drop := f.qbit >> 3
	f.qbit &= 7
	// Kept at the front of its array, so that appends reuse it.
	f.q = f.q[:copy(f.q, f.q[drop:])]
}

// peekSym decodes one symbol of h from bit position pos, bit by bit, as
// zlib's slow path (a code is complete when its bits are). ok false: waiting
// or failed (f.err).
func (f *eagerInflater) peekSym(h *huffman, pos uint, canWait bool) (sym int, next uint, ok bool) {
	if v, ok := f.peekBits(pos, inflFastBits); ok && inflFast {
		if e := h.fast[v]; e != 0 {
			next := pos + uint(e&15)
			f.ensure(next, false) // buffered: it neither waits nor fails
			return int(e >> 4), next, true
		}
	}
	code, first, index := 0, 0, 0
	for l := 1; l <= inflMaxLen; l++ {
		if !f.ensure(pos+1, canWait) {
			return 0, pos, false
		}
		code |= f.bits(pos, 1)
		pos++
		count := int(h.count[l])
		if code-count < first {
			return int(h.symbol[index+(code-first)]), pos, true
		}
		index += count
		first += count
		first <<= 1
		code <<= 1
	}
	f.err = f.corrupt() // zlib: invalid code
	return 0, pos, false
}

// build makes h from code lengths. lensOrDists: zlib accepts an incomplete
// literal/length or distance code whose longest code has length 1; an
// over-subscribed code, or an incomplete code-length code, is refused.
func (h *huffman) build(lengths []uint8, lensOrDists bool) bool {
	*h = huffman{}
	for _, l := range lengths {
		h.count[l]++
	}
	maxLen := 0
	for l := inflMaxLen; l >= 1; l-- {
		if h.count[l] != 0 {
			maxLen = l
			break
		}
	}
	h.count[0] = 0
	if maxLen == 0 {
		return true // no codes: decoding any symbol fails
	}
	left := 1
	for l := 1; l <= inflMaxLen; l++ {
		left <<= 1
		left -= int(h.count[l])
		if left < 0 {
			return false // over-subscribed
		}
	}
	if left > 0 && (!lensOrDists || maxLen != 1) {
		return false // incomplete
	}
	var offs [inflMaxLen + 2]int16
	for l := 1; l <= inflMaxLen; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	for sym, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = int16(sym)
			offs[l]++
		}
	}
	h.buildFast()
	return true
}

// buildFast fills h.fast from the canonical code: the codes of each length
// in symbol order, numbered on from the last code of the length before,
// their bits reversed (deflate sends a code's most significant bit first).
func (h *huffman) buildFast() {
	code, index := 0, 0
	for l := 1; l <= inflFastBits; l++ {
		for range h.count[l] {
			rev := int(bits.Reverse16(uint16(code)) >> (16 - l))
			for e := rev; e < len(h.fast); e += 1 << l {
				h.fast[e] = uint16(h.symbol[index])<<4 | uint16(l)
			}
			code++
			index++
		}
		code <<= 1
	}
}

var (
	inflLenBase  = [...]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	inflLenExtra = [...]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	inflDstBase  = [...]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	inflDstExtra = [...]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	inflOrder    = [...]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

	fixedLit, fixedDist huffman
)

func init() {
	l := fixedLitLengths()
	fixedLit.build(l[:], true)
	fixedLitFast.build(l[:], true)
	var d [32]uint8 // 30 and 31 are codes too: decoding one is an invalid distance
	for i := range d {
		d[i] = 5
	}
	fixedDist.build(d[:], true)
	fixedDistFast.build(d[:], false)
}

// fixedLitLengths returns the code lengths of the fixed literal/length code
// (RFC 1951 §3.2.6).
func fixedLitLengths() [288]uint8 {
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144, i >= 280:
			l[i] = 8
		case i < 256:
			l[i] = 9
		default:
			l[i] = 7
		}
	}
	return l
}

// Read decodes into p, at most callCap bytes (one inflate call's output
// buffer). It never waits for input: when the input at hand runs out it
// returns what it has, with waiting set. io.EOF comes after the final
// block, once the trailer's check value (its first 4 bytes) is at hand —
// with the last output, or alone (even into an empty p) once advance has
// ended the data. A data error comes with the output decoded before it, as
// zlib's inflate() returns Z_DATA_ERROR from the call that meets the bad
// bytes (§2.8.2.2): the decoder drops that output with the call's piece.
func (f *eagerInflater) Read(p []byte) (int, error) {
	if c := f.src.callCap(); c > 0 && c < len(p) {
		p = p[:c]
	}
	n := 0
	f.waiting = false
	for (n < len(p) || f.dataEnded()) && f.err == nil && !f.waiting {
		const canWait = false
		switch {
		case f.litPending:
			f.litPending = false
			f.put(p[n:n+1], f.lit)
			n++
		case f.copyLen > 0:
			if f.dist > f.whave {
				f.err = f.corrupt() // invalid distance too far back (advance left it to zlib's MATCH)
				break
			}
			n += f.copyOut(p[n:])
		case f.state == inflHeader:
			if f.final {
				if !canWait {
					if k, ended := f.atHand(); k < f.checkLen() && !ended {
						f.waiting = true // zlib waits in CHECK for the check value
						break
					}
				}
				f.err = io.EOF
				break
			}
			f.header(canWait)
		case f.state == inflStored:
			if f.stored == 0 {
				f.state = inflHeader
				break
			}
			f.readStored(p, &n, canWait)
		default:
			if !f.useFast() || !f.fast(p, &n) {
				f.symbol(canWait, true)
			}
		}
	}
	return n, f.err
}

// checkLen is the part of the wrapper's trailer zlib reads first, in its
// CHECK state (inflate.c: NEEDBITS(32), then the comparison): the gzip
// CRC-32 or the zlib Adler-32. gzip's ISIZE follows in LENGTH (gunzip).
func (f *eagerInflater) checkLen() int { return min(f.trailer, 4) }

// dataEnded reports whether the final block has ended and all its output
// was given: what follows is the wrapper's trailer.
func (f *eagerInflater) dataEnded() bool {
	return f.final && f.state == inflHeader && !f.litPending && f.copyLen == 0
}

// put writes one output byte to p[0] and the window.
func (f *eagerInflater) put(p []byte, b byte) {
	p[0] = b
	f.win[f.wpos] = b
	f.wpos = (f.wpos + 1) & inflMask
	f.whave = min(f.whave+1, inflWindow)
}

// readStored copies stored bytes into p[*n:]: the bytes already read
// first, then from r (waiting only with canWait).
func (f *eagerInflater) readStored(p []byte, n *int, canWait bool) {
	m := min(f.stored, len(p)-*n)
	var k int
	if len(f.q) > 0 { // qbit is 0 in a stored block
		k = copy(p[*n:*n+m], f.q)
		f.consume(uint(k) * 8)
	} else {
		if !canWait {
			if h, ended := f.atHand(); h == 0 && !ended {
				f.waiting = true
				return
			}
		}
		if b := f.r.Buffered(); b > 0 {
			m = min(m, b)
		}
		var err error
		k, err = f.r.Read(p[*n : *n+m])
		f.offset += int64(k)
		if err != nil {
			f.err = noEOF(err)
		}
	}
	f.toWindow(p[*n : *n+k])
	f.stored -= k
	*n += k
}

// symbol decodes the next literal, end of block or match (zlib's LEN to
// DISTEXT), consuming its bits only once all of them arrived; a literal or
// match is left pending for Read (or advance) to output. room says whether
// output may follow: zlib checks a match's distance against the window in
// MATCH, only once it has room to copy, so without room (advance) a
// distance too far back is left pending and fails at the next Read.
func (f *eagerInflater) symbol(canWait, room bool) {
	sym, pos, ok := f.peekSym(&f.lcode, 0, canWait)
	if !ok {
		return
	}
	switch {
	case sym < 256:
		f.consume(pos)
		f.litPending, f.lit = true, byte(sym)
		return
	case sym == 256:
		f.consume(pos)
		f.state = inflHeader
		return
	case sym > 285:
		f.err = f.corrupt() // invalid literal/length code
		return
	}
	i := sym - 257
	if !f.ensure(pos+inflLenExtra[i], canWait) {
		return
	}
	length := inflLenBase[i] + f.bits(pos, inflLenExtra[i])
	pos += inflLenExtra[i]
	dsym, pos, ok := f.peekSym(&f.dcode, pos, canWait)
	if !ok {
		return
	}
	if dsym >= 30 {
		f.err = f.corrupt() // invalid distance code
		return
	}
	if !f.ensure(pos+inflDstExtra[dsym], canWait) {
		return
	}
	dist := inflDstBase[dsym] + f.bits(pos, inflDstExtra[dsym])
	pos += inflDstExtra[dsym]
	if dist > f.whave && room {
		f.err = f.corrupt() // invalid distance too far back
		return
	}
	f.consume(pos)
	f.copyLen, f.dist = length, dist
}

// advance goes on decoding to the next byte of output without writing it,
// as zlib does when its output buffer is full, and reports whether input is
// left at hand where zlib stops (false: zlib would have used it all up).
// At the end of the data zlib goes on to CHECK: true when the check value
// is at hand (or the input ended), for the caller to let the wrapper check
// it in the same call (a Read, dataEnded). A data error is left in err, as
// zlib's Z_DATA_ERROR from this call.
func (f *eagerInflater) advance() bool {
	f.waiting = false
	for f.err == nil && !f.waiting {
		switch {
		case f.litPending || f.copyLen > 0:
			k, ended := f.atHand()
			return k > 0 || ended
		case f.state == inflHeader:
			k, ended := f.atHand()
			if f.final {
				return k >= f.checkLen() || ended
			}
			f.header(false)
		case f.state == inflStored:
			if f.stored == 0 {
				f.state = inflHeader
				break
			}
			if len(f.q) > 0 {
				return true
			}
			k, ended := f.atHand()
			return k > 0 || ended // zlib stops before copying
		default:
			f.symbol(false, false)
		}
	}
	return f.err != nil
}

// copyOut outputs as much of the pending match as fits in p.
func (f *eagerInflater) copyOut(p []byte) int {
	k := min(f.copyLen, len(p))
	for i := 0; i < k; {
		// At most dist bytes at a time, so that source and destination
		// never overlap, and neither wraps around the window.
		src := (f.wpos - f.dist) & inflMask
		m := min(k-i, f.dist, inflWindow-src, inflWindow-f.wpos)
		copy(f.win[f.wpos:f.wpos+m], f.win[src:src+m])
		copy(p[i:i+m], f.win[f.wpos:f.wpos+m])
		f.wpos = (f.wpos + m) & inflMask
		i += m
	}
	f.whave = min(f.whave+k, inflWindow)
	f.copyLen -= k
	return k
}

// header reads a block header, consuming it only once it is complete.
func (f *eagerInflater) header(canWait bool) {
	if !f.ensure(3, canWait) {
		return
	}
	v := f.bits(0, 3)
	switch v >> 1 {
	case 0:
		pos := (f.qbit + 3 + 7) &^ 7 // to a byte boundary
		pos -= f.qbit
		if !f.ensure(pos+32, canWait) {
			return
		}
		length, nlength := f.bits(pos, 16), f.bits(pos+16, 16)
		if length != ^nlength&0xffff {
			f.consume(pos + 32)
			f.err = f.corrupt() // invalid stored block lengths
			return
		}
		f.consume(pos + 32)
		f.stored = length
		f.state = inflStored
	case 1:
		f.consume(3)
		f.lcode, f.dcode = fixedLit, fixedDist
		f.lfast, f.dfast = &fixedLitFast, &fixedDistFast
		f.state = inflHuffman
	case 2:
		if !f.dynamic(canWait) {
			return
		}
		f.state = inflHuffman
	default:
		f.consume(3)
		f.err = f.corrupt() // invalid block type
		return
	}
	f.final = v&1 != 0
}

// dynamic reads the code definitions of a dynamic block (after its 3
// header bits), consuming them only once complete.
func (f *eagerInflater) dynamic(canWait bool) bool {
	pos := uint(3)
	get := func(n uint) (int, bool) {
		if !f.ensure(pos+n, canWait) {
			return 0, false
		}
		v := f.bits(pos, n)
		pos += n
		return v, true
	}
	hlit, ok1 := get(5)
	hdist, ok2 := get(5)
	hclen, ok3 := get(4)
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	hlit, hdist, hclen = hlit+257, hdist+1, hclen+4
	if hlit > 286 || hdist > 30 {
		f.err = f.corrupt() // too many length or distance symbols
		return false
	}
	var cl [19]uint8
	for i := range hclen {
		v, ok := get(3)
		if !ok {
			return false
		}
		cl[inflOrder[i]] = uint8(v)
	}
	var codes huffman
	if !codes.build(cl[:], false) {
		f.err = f.corrupt() // invalid code lengths set
		return false
	}
	var lengths [286 + 30]uint8
	for i := 0; i < hlit+hdist; {
		sym, next, ok := f.peekSym(&codes, pos, canWait)
		if !ok {
			return false
		}
		pos = next
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var val uint8
		var v int
		switch sym {
		case 16:
			if i == 0 {
				f.err = f.corrupt() // invalid bit length repeat
				return false
			}
			val = lengths[i-1]
			v, ok = get(2)
			rep = 3 + v
		case 17:
			v, ok = get(3)
			rep = 3 + v
		default:
			v, ok = get(7)
			rep = 11 + v
		}
		if !ok {
			return false
		}
		if i+rep > hlit+hdist {
			f.err = f.corrupt() // invalid bit length repeat
			return false
		}
		for range rep {
			lengths[i] = val
			i++
		}
	}
	if lengths[256] == 0 {
		f.err = f.corrupt() // invalid code -- missing end-of-block
		return false
	}
	var lcode, dcode huffman
	if !lcode.build(lengths[:hlit], true) || !dcode.build(lengths[hlit:hlit+hdist], true) {
		f.err = f.corrupt() // invalid literal/lengths or distances set
		return false
	}
	f.consume(pos)
	f.lcode, f.dcode = lcode, dcode
	f.lown.build(lengths[:hlit], true)
	f.down.build(lengths[hlit:hlit+hdist], false)
	f.lfast, f.dfast = &f.lown, &f.down
	return true
}

// eagerZlib is a zlib stream (RFC 1950) on the eager inflater: the header,
// the deflate data, the Adler-32 — the errors klauspost's zlib reader gives.
type eagerZlib struct {
	r     *bufio.Reader
	f     *eagerInflater
	sum   uint32 // Adler-32 of the output so far
	begun bool
	err   error
}

// newEagerZlib reads a zlib stream from r with f (reset on r, trailer 4).
func newEagerZlib(r *bufio.Reader, f *eagerInflater) *eagerZlib {
	return &eagerZlib{r: r, f: f, sum: 1}
}

func (z *eagerZlib) Read(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	if !z.begun {
		var h [2]byte
		if _, err := io.ReadFull(z.r, h[:]); err != nil {
			z.err = noEOF(err)
			return 0, z.err
		}
		z.f.offset = 2
		if h[0]&0x0f != 8 || h[0]>>4 > 7 || (uint(h[0])<<8|uint(h[1]))%31 != 0 {
			z.err = zlib.ErrHeader
			return 0, z.err
		}
		if h[1]&0x20 != 0 {
			z.err = zlib.ErrDictionary
			return 0, z.err
		}
		z.begun = true
	}
	n, err := z.f.Read(p)
	z.sum = adler32Update(z.sum, p[:n])
	if err == io.EOF {
		var t [4]byte
		if _, err := io.ReadFull(z.r, t[:]); err != nil {
			z.err = noEOF(err)
			return n, z.err
		}
		if binary.BigEndian.Uint32(t[:]) != z.sum {
			z.err = zlib.ErrChecksum
			return n, z.err
		}
		z.err = io.EOF
	} else if err != nil {
		z.err = err
	}
	return n, z.err
}

// adler32Update continues an Adler-32 checksum.
func adler32Update(sum uint32, p []byte) uint32 {
	const mod = 65521
	s1, s2 := sum&0xffff, sum>>16
	for len(p) > 0 {
		k := min(len(p), 5552)
		for _, b := range p[:k] {
			s1 += uint32(b)
			s2 += s1
		}
		s1 %= mod
		s2 %= mod
		p = p[k:]
	}
	return s2<<16 | s1
}

// The eager inflater's fast loop (zlib's inflate_fast, in our own shape).
//
// Inside a Huffman block, while input is buffered, fast decodes with a
// 64-bit bit accumulator refilled 8 bytes at a time from the bufio.Reader's
// buffer (byte by byte at its last 7 bytes) and two-level tables (a 10-bit
// root table, sub-tables for longer codes), writing into the output
// directly. It decodes only symbols whose bits are all in the accumulator —
// bytes at hand — and whose output fits whole in p: so every symbol it
// decodes the bit-by-bit path (symbol) would decode too, on the same input,
// into the same output, and what each Read returns is unchanged. It stops
// at a symbol whose bits are not all buffered, at a match the output would
// cut (symbol outputs its first part, as zlib), at the end of the block
// (consumed), or at a symbol it cannot decode — a bad code, a distance too
// far back — which it leaves unconsumed for symbol to decode and report
// with zlib's offset. It then gives back the bytes it did not consume: the
// reader advances by the whole bytes used, a partly used byte goes to q.

// inflRootBits is the width of a fastTable's root table.
const inflRootBits = 10

// fastTable entry: bits 0–3 the code length (the full length, in a
// sub-table entry too), 4–7 the extra bits (a link: the sub-table's index
// bits), 8–11 the kind, 16–31 the value (literal, length or distance base,
// sub-table offset).
const (
	fastLit  = 0 << 8
	fastLen  = 1 << 8 // a length, or in a distance table a distance
	fastEOB  = 2 << 8
	fastLink = 3 << 8
	fastBad  = 4 << 8 // no such code, or a symbol zlib refuses
	fastKind = 15 << 8
)

// fastTable is a Huffman code as zlib's decoding tables.
type fastTable struct {
	root [1 << inflRootBits]uint32
	sub  []uint32
}

var fixedLitFast, fixedDistFast fastTable

// inflFastLoop turns the fast loop on; tests turn it off to compare with
// the symbol-by-symbol path.
var inflFastLoop = true

// build fills t from code lengths already checked by huffman.build (no
// over-subscribed code). lit: a literal/length code, else distances.
func (t *fastTable) build(lengths []uint8, lit bool) {
	var count [inflMaxLen + 1]int
	maxLen := 0
	for _, l := range lengths {
		count[l]++
		maxLen = max(maxLen, int(l))
	}
	for i := range t.root {
		t.root[i] = fastBad
	}
	t.sub = t.sub[:0]
	subBits := max(0, maxLen-inflRootBits)
	var next [inflMaxLen + 1]int
	code := 0
	count[0] = 0
	for l := 1; l <= inflMaxLen; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	for sym, l8 := range lengths {
		l := int(l8)
		if l == 0 {
			continue
		}
		rev := int(bits.Reverse16(uint16(next[l])) >> (16 - l))
		next[l]++
		e := fastEntry(sym, l, lit)
		if l <= inflRootBits {
			for i := rev; i < len(t.root); i += 1 << l {
				t.root[i] = e
			}
			continue
		}
		prefix := rev & (1<<inflRootBits - 1)
		if t.root[prefix]&fastKind != fastLink {
			off := len(t.sub)
			for range 1 << subBits {
				t.sub = append(t.sub, fastBad)
			}
			t.root[prefix] = uint32(off)<<16 | fastLink | uint32(subBits)<<4
		}
		off := int(t.root[prefix] >> 16)
		for i := rev >> inflRootBits; i < 1<<subBits; i += 1 << (l - inflRootBits) {
			t.sub[off+i] = e
		}
	}
}

func fastEntry(sym, l int, lit bool) uint32 {
	switch {
	case !lit && sym < 30:
		return uint32(inflDstBase[sym])<<16 | fastLen | uint32(inflDstExtra[sym])<<4 | uint32(l)
	case !lit:
		return fastBad
	case sym < 256:
		return uint32(sym)<<16 | fastLit | uint32(l)
	case sym == 256:
		return fastEOB | uint32(l)
	case sym <= 285:
		i := sym - 257
		return uint32(inflLenBase[i])<<16 | fastLen | uint32(inflLenExtra[i])<<4 | uint32(l)
	}
	return fastBad
}

// fastMinIn is the buffered input below which the fast loop is not tried.
const fastMinIn = 16

// useFast reports whether Read may run the fast loop.
func (f *eagerInflater) useFast() bool {
	return inflFastLoop && len(f.q) < 8 && f.r.Buffered() >= fastMinIn
}

// fast is the fast loop (see above), writing to p[*np:]. It reports
// whether it consumed anything.
func (f *eagerInflater) fast(p []byte, np *int) bool {
	buf, _ := f.r.Peek(f.r.Buffered())
	var hold uint64
	qbits := f.availBits()
	for i, b := range f.q {
		hold |= uint64(b) << (8 * i)
	}
	hold >>= f.qbit
	nb := qbits
	ip := 0
	n0 := *np
	n := n0
	lt, dt := &f.lfast.root, &f.dfast.root
	lsub, dsub := f.lfast.sub, f.dfast.sub
	win := &f.win
	wpos0 := f.wpos
	whave := f.whave
	for n < len(p) {
		if nb < 48 {
			if len(buf)-ip >= 8 {
				hold |= binary.LittleEndian.Uint64(buf[ip:]) << nb
				ip += int(63-nb) >> 3
				nb |= 56
			} else {
				// The last bytes: the bits beyond them are zeros, and a
				// symbol that needs more than nb bits is left to symbol.
				for nb <= 56 && ip < len(buf) {
					hold |= uint64(buf[ip]) << nb
					ip++
					nb += 8
				}
			}
		}
		e := lt[hold&(1<<inflRootBits-1)]
		if e&fastKind == fastLink {
			e = lsub[int(e>>16)+int(hold>>inflRootBits)&(1<<(e>>4&15)-1)]
		}
		l := uint(e & 15)
		if l > nb {
			goto done // not all its bits at hand
		}
		switch e & fastKind {
		case fastLit:
			p[n] = byte(e >> 16)
			n++
			hold >>= l
			nb -= l
			continue
		case fastLen:
		case fastEOB:
			hold >>= l
			nb -= l
			f.state = inflHeader
			goto done
		default: // fastBad: symbol reports it
			goto done
		}
		used := l + uint(e>>4&15)
		length := int(e>>16) + int(hold>>l)&(1<<(e>>4&15)-1)
		h := hold >> used
		d := dt[h&(1<<inflRootBits-1)]
		if d&fastKind == fastLink {
			d = dsub[int(d>>16)+int(h>>inflRootBits)&(1<<(d>>4&15)-1)]
		}
		if d&fastKind != fastLen {
			goto done
		}
		dl := uint(d & 15)
		dist := int(d>>16) + int(h>>dl)&(1<<(d>>4&15)-1)
		used += dl + uint(d>>4&15)
		if used > nb || length > len(p)-n {
			goto done // not all its bits at hand, or the output would cut it
		}
		out := n - n0
		if dist > out {
			back := dist - out
			if back > whave {
				goto done // too far back: symbol reports it
			}
			// From the window as it was when the loop began, then on
			// from the loop's own output.
			src := (wpos0 - back) & inflMask
			m := min(length, back)
			c := copy(p[n:n+m], win[src:])
			copy(p[n+c:n+m], win[:m-c])
			k := m
			for k < length {
				k += copy(p[n+k:n+length], p[n+k-dist:n+k])
			}
		} else {
			src := n - dist
			if dist >= length {
				copy(p[n:n+length], p[src:src+length])
			} else {
				for k := 0; k < length; {
					k += copy(p[n+k:n+length], p[src:n+k])
				}
			}
		}
		n += length
		hold >>= used
		nb -= used
	}
done:
	// Give back what was not consumed.
	c := qbits + uint(ip)*8 - nb
	if c <= qbits {
		f.consume(c)
	} else {
		c -= qbits
		whole := int(c >> 3)
		f.q, f.qbit = f.q[:0], c&7
		if f.qbit != 0 {
			f.q = append(f.q, buf[whole])
			whole++
		}
		_, _ = f.r.Discard(whole)
		f.offset += int64(whole)
	}
	f.toWindow(p[n0:n])
	*np = n
	return c > 0
}

// toWindow appends b to the window.
func (f *eagerInflater) toWindow(b []byte) {
	f.whave = min(f.whave+len(b), inflWindow)
	if len(b) > inflWindow {
		f.wpos = (f.wpos + len(b) - inflWindow) & inflMask
		b = b[len(b)-inflWindow:]
	}
	for len(b) > 0 {
		m := copy(f.win[f.wpos:], b)
		f.wpos = (f.wpos + m) & inflMask
		b = b[m:]
	}
}
