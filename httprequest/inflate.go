package httprequest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zlib"
)

// An eager inflater (RFC 1951) for the decodes whose timing Godot's
// observable behaviour depends on (§2.8.2.1, §2.8.2.3).
//
// Godot's zlib hands over, for every wire chunk fed to it, all the output
// that chunk's bytes decode to: every symbol whose bits have arrived. The
// inflaters of klauspost/compress (and compress/flate) keep decoded bytes in
// their 32 KiB window until it fills or the block ends, so after a chunk up
// to 32 KiB of its output may still be held back. That is invisible in the
// delivered body, but not where the node looks at the running decoded size
// chunk by chunk: body_size_limit (R7 on the chunk where zlib's total passes
// it, with get_downloaded_bytes() as it is then) and the partial file an
// in-place download_file keeps after a failure. The node therefore decodes
// with this inflater when a limit is set or the file is written in place
// (engine.go), and with klauspost's faster one otherwise.
//
// The inflater reads its input byte-exact from a bufio.Reader, as flate
// does, and before it would wait for input (ready reports none is at hand)
// it returns the output it has. Symbols are decoded bit by bit, consuming
// only the bits a code needs, like zlib's slow path: a symbol is complete,
// and output, exactly when zlib's would be. Errors are zlib's data errors,
// reported as flate.CorruptInputError with the input offset.

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
}

type eagerInflater struct {
	r     *bufio.Reader
	ready func() bool // whether input beyond r's buffer is at hand without waiting

	bits   uint64 // bit buffer, least significant bit first
	nbits  uint
	offset int64 // input bytes read

	win   [inflWindow]byte
	wpos  int // next write position in win
	whave int // output so far, capped at inflWindow

	state   inflState
	final   bool // the current block is the last
	stored  int  // bytes left in a stored block
	copyLen int  // a match not yet fully output
	dist    int
	lit     huffman
	dcode   huffman
	err     error
}

func newEagerInflater(r *bufio.Reader, ready func() bool) *eagerInflater {
	return &eagerInflater{r: r, ready: ready}
}

// Reset starts a new stream on r (a *bufio.Reader); flate.Resetter.
func (f *eagerInflater) Reset(r io.Reader, dict []byte) error {
	br, ok := r.(*bufio.Reader)
	if !ok || len(dict) > 0 {
		return errors.New("httprequest: eager inflater needs a *bufio.Reader and no dictionary")
	}
	ready := f.ready
	*f = eagerInflater{r: br, ready: ready}
	return nil
}

// Close is a no-op (io.ReadCloser, as flate's reader).
func (f *eagerInflater) Close() error { return nil }

// available reports whether the next input byte can be read without
// waiting.
func (f *eagerInflater) available() bool { return f.r.Buffered() > 0 || f.ready() }

func (f *eagerInflater) corrupt() error { return flate.CorruptInputError(f.offset) }

// fetch adds one input byte to the bit buffer. With canWait false it
// reports false instead of waiting for input.
func (f *eagerInflater) fetch(canWait bool) bool {
	if !canWait && !f.available() {
		return false
	}
	b, err := f.r.ReadByte()
	if err != nil {
		f.err = noEOF(err)
		return false
	}
	f.offset++
	f.bits |= uint64(b) << f.nbits
	f.nbits += 8
	return true
}

// ensure makes n bits available.
func (f *eagerInflater) ensure(n uint, canWait bool) bool {
	for f.nbits < n {
		if !f.fetch(canWait) {
			return false
		}
	}
	return true
}

// peek returns n bits from bit position pos (ensured before).
func (f *eagerInflater) peek(pos, n uint) int {
	return int((f.bits >> pos) & (1<<n - 1))
}

func (f *eagerInflater) consume(n uint) {
	f.bits >>= n
	f.nbits -= n
}

// getBits waits for n bits and consumes them (block headers).
func (f *eagerInflater) getBits(n uint) (int, bool) {
	if !f.ensure(n, true) {
		return 0, false
	}
	v := f.peek(0, n)
	f.consume(n)
	return v, true
}

// peekSym decodes one symbol of h from bit position pos, bit by bit. It
// returns the symbol and the position after it; ok false means it would
// wait (canWait false) or failed (f.err).
func (f *eagerInflater) peekSym(h *huffman, pos uint, canWait bool) (sym int, next uint, ok bool) {
	code, first, index := 0, 0, 0
	for l := 1; l <= inflMaxLen; l++ {
		if !f.ensure(pos+1, canWait) {
			return 0, pos, false
		}
		code |= f.peek(pos, 1)
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

// build makes h from code lengths. incomplete says whether zlib accepts an
// incomplete code here (literal/length and distance codes whose longest
// code has length 1); an over-subscribed code is always refused.
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
	return true
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
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	fixedLit.build(l[:], true)
	var d [32]uint8 // 30 and 31 are codes too: decoding one is an invalid distance
	for i := range d {
		d[i] = 5
	}
	fixedDist.build(d[:], true)
}

// Read decodes into p. It returns early, with what it has, rather than wait
// for input, and io.EOF after the final block.
func (f *eagerInflater) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && f.err == nil {
		if f.copyLen > 0 {
			n += f.copyOut(p[n:])
			continue
		}
		switch f.state {
		case inflHeader:
			if f.final {
				f.err = io.EOF
				break
			}
			if n > 0 {
				return n, nil // a header may wait for input: the output goes first
			}
			f.header()
		case inflStored:
			if f.stored == 0 {
				f.state = inflHeader
				continue
			}
			if n > 0 && !f.available() {
				return n, nil
			}
			m := min(f.stored, len(p)-n)
			if b := f.r.Buffered(); b > 0 {
				m = min(m, b)
			}
			k, err := f.r.Read(p[n : n+m])
			f.offset += int64(k)
			for _, b := range p[n : n+k] {
				f.win[f.wpos] = b
				f.wpos = (f.wpos + 1) & inflMask
			}
			f.whave = min(f.whave+k, inflWindow)
			f.stored -= k
			n += k
			if err != nil {
				f.err = noEOF(err)
			}
		case inflHuffman:
			if !f.symbol(p, &n) {
				if f.err == nil {
					return n, nil // waits for input
				}
			}
		}
	}
	if f.err != nil && (n > 0 && f.err != io.EOF) {
		return n, nil // the output first, the error on the next call
	}
	return n, f.err
}

// symbol decodes one literal, end of block or match, consuming its bits
// only once all of them arrived. It returns false when it would wait (the
// output so far goes first) or failed.
func (f *eagerInflater) symbol(p []byte, n *int) bool {
	canWait := *n == 0
	sym, pos, ok := f.peekSym(&f.lit, 0, canWait)
	if !ok {
		return false
	}
	switch {
	case sym < 256:
		f.consume(pos)
		p[*n] = byte(sym)
		f.win[f.wpos] = byte(sym)
		f.wpos = (f.wpos + 1) & inflMask
		f.whave = min(f.whave+1, inflWindow)
		*n++
		return true
	case sym == 256:
		f.consume(pos)
		f.state = inflHeader
		return true
	case sym > 285:
		f.err = f.corrupt() // invalid literal/length code
		return false
	}
	i := sym - 257
	if !f.ensure(pos+inflLenExtra[i], canWait) {
		return false
	}
	length := inflLenBase[i] + f.peek(pos, inflLenExtra[i])
	pos += inflLenExtra[i]
	dsym, pos, ok := f.peekSym(&f.dcode, pos, canWait)
	if !ok {
		return false
	}
	if dsym >= 30 {
		f.err = f.corrupt() // invalid distance code
		return false
	}
	if !f.ensure(pos+inflDstExtra[dsym], canWait) {
		return false
	}
	dist := inflDstBase[dsym] + f.peek(pos, inflDstExtra[dsym])
	pos += inflDstExtra[dsym]
	if dist > f.whave {
		f.err = f.corrupt() // invalid distance too far back
		return false
	}
	f.consume(pos)
	f.copyLen, f.dist = length, dist
	return true
}

// copyOut outputs as much of the pending match as fits in p.
func (f *eagerInflater) copyOut(p []byte) int {
	k := min(f.copyLen, len(p))
	for i := range k {
		b := f.win[(f.wpos-f.dist)&inflMask]
		f.win[f.wpos] = b
		f.wpos = (f.wpos + 1) & inflMask
		p[i] = b
	}
	f.whave = min(f.whave+k, inflWindow)
	f.copyLen -= k
	return k
}

// header reads a block header (waiting for input as needed).
func (f *eagerInflater) header() {
	v, ok := f.getBits(3)
	if !ok {
		return
	}
	f.final = v&1 != 0
	switch v >> 1 {
	case 0:
		f.consume(f.nbits % 8) // to a byte boundary; the rest of the buffer is whole bytes
		var hdr [4]byte
		for i := range hdr {
			b, ok := f.getBits(8)
			if !ok {
				return
			}
			hdr[i] = byte(b)
		}
		length := binary.LittleEndian.Uint16(hdr[:2])
		if ^length != binary.LittleEndian.Uint16(hdr[2:]) {
			f.err = f.corrupt() // invalid stored block lengths
			return
		}
		f.stored = int(length)
		f.state = inflStored
	case 1:
		f.lit, f.dcode = fixedLit, fixedDist
		f.state = inflHuffman
	case 2:
		if f.dynamic() {
			f.state = inflHuffman
		}
	default:
		f.err = f.corrupt() // invalid block type
	}
}

// dynamic reads the code definitions of a dynamic block.
func (f *eagerInflater) dynamic() bool {
	hlit, ok1 := f.getBits(5)
	hdist, ok2 := f.getBits(5)
	hclen, ok3 := f.getBits(4)
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
		v, ok := f.getBits(3)
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
		sym, pos, ok := f.peekSym(&codes, 0, true)
		if !ok {
			return false
		}
		f.consume(pos)
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				f.err = f.corrupt() // invalid bit length repeat
				return false
			}
			val = lengths[i-1]
			v, ok := f.getBits(2)
			if !ok {
				return false
			}
			rep = 3 + v
		case 17:
			v, ok := f.getBits(3)
			if !ok {
				return false
			}
			rep = 3 + v
		default:
			v, ok := f.getBits(7)
			if !ok {
				return false
			}
			rep = 11 + v
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
	if !f.lit.build(lengths[:hlit], true) || !f.dcode.build(lengths[hlit:hlit+hdist], true) {
		f.err = f.corrupt() // invalid literal/lengths or distances set
		return false
	}
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

func newEagerZlib(r *bufio.Reader, ready func() bool) *eagerZlib {
	return &eagerZlib{r: r, f: newEagerInflater(r, ready), sum: 1}
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
