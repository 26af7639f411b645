package httprequest

import (
	"bufio"
	"encoding/binary"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/gzip"
)

// gunzip reads a gzip body (RFC 1952) as Godot's StreamPeerGZIP (zlib,
// gzip-only window) accepts it (§2.8.2.1): the member header is parsed here,
// the deflate data is inflated by the eager inflater (inflate.go), and the
// trailer's CRC-32 and ISIZE are checked.
//
// Go's gzip readers (compress/gzip and klauspost's) refuse a file name or
// comment longer than 512 bytes; zlib does not, so neither does this reader
// (issue 7 rule 9). The header fields are never stored — FEXTRA (up to 65535
// bytes), FNAME and FCOMMENT (zero-terminated, any length) are skipped as
// they stream, feeding only the header CRC — so an endless name costs no
// memory (§7 D1). Like zlib it refuses a wrong magic, a compression method
// other than 8 and the reserved flag bits, and checks FHCRC (zlib checks it
// by default); MTIME, XFL, OS and FTEXT are ignored.
//
// Concatenated members decode one after the other (§7 D1: Godot's feeding
// loop hangs on any byte after the first member); anything else after a
// member is gzip.ErrHeader, a partial header io.ErrUnexpectedEOF
// (→ RESULT_BODY_DECOMPRESS_FAILED).
type gunzip struct {
	br       *bufio.Reader // buffered input; the inflater reads it byte-exact
	fr       memberInflater
	inMember bool   // a member's header was read, not yet its trailer
	digest   uint32 // CRC-32 of the member's output so far
	size     uint32 // the member's output size mod 2^32
	members  int    // members read to their trailer
	checked  int    // trailer fields checked: 1 once the CRC-32 passed (zlib's LENGTH state)
	waiting  bool   // the last Read stopped for ISIZE, not at hand yet
	err      error  // sticky
}

// memberInflater inflates a member's deflate data: the eager inflater
// (tests use klauspost's flate reader as a reference), reset on br at each
// member, as flate.Resetter.
type memberInflater interface {
	io.Reader
	Reset(r io.Reader, dict []byte) error
}

// gzip header flag bits (RFC 1952 §2.3.1).
const (
	gzFlagText     = 1 << 0 // FTEXT: ignored
	gzFlagHCRC     = 1 << 1 // FHCRC: CRC-16 of the header follows
	gzFlagExtra    = 1 << 2 // FEXTRA: XLEN and XLEN bytes
	gzFlagName     = 1 << 3 // FNAME: zero-terminated
	gzFlagComment  = 1 << 4 // FCOMMENT: zero-terminated
	gzFlagReserved = 0xe0   // zlib: "unknown header flags set"
)

func newGunzip(br *bufio.Reader, fr memberInflater) *gunzip { return &gunzip{br: br, fr: fr} }

// Read returns decompressed bytes; io.EOF after a complete last member.
// A Read that ends a member returns, even with no output: the next Read
// begins the next member (the decoder hands a member's output over first,
// copyPieces). With the eager inflater it never waits for input in the
// trailer: waiting says it stopped before ISIZE.
func (z *gunzip) Read(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	z.waiting = false
	if !z.inMember {
		if z.members > 0 {
			if _, err := z.br.Peek(1); err == io.EOF {
				z.err = io.EOF // the input ended after a whole member
				return 0, io.EOF
			}
		}
		if err := z.header(); err != nil {
			z.err = noEOF(err)
			return 0, z.err
		}
	}
	n, err := z.fr.Read(p)
	z.digest = crc32.Update(z.digest, crc32.IEEETable, p[:n])
	z.size += uint32(n)
	if err == io.EOF {
		err = z.trailer()
	}
	if err != nil {
		z.err = noEOF(err)
	}
	return n, z.err
}

// header reads one member header and starts the inflater on its data.
// The fixed part is checked in zlib's steps (inflate.c, states HEAD and
// FLAGS): the magic once 2 bytes are in, the method and flags at 4. The
// failure comes with the bytes that decide it, in the step that brought
// them (§2.8.2.2), not when the rest of the header arrives, if ever.
func (z *gunzip) header() error {
	var fixed [10]byte
	for _, part := range [...]struct{ from, to int }{{0, 2}, {2, 4}, {4, 10}} {
		if _, err := io.ReadFull(z.br, fixed[part.from:part.to]); err != nil {
			return err
		}
		switch part.to {
		case 2:
			if fixed[0] != 0x1f || fixed[1] != 0x8b {
				return gzip.ErrHeader // zlib: "incorrect header check"
			}
		case 4:
			if fixed[2] != 8 || fixed[3]&gzFlagReserved != 0 {
				return gzip.ErrHeader // "unknown compression method", "unknown header flags set"
			}
		}
	}
	flags := fixed[3]
	crc := crc32.Update(0, crc32.IEEETable, fixed[:])
	if flags&gzFlagExtra != 0 {
		var xlen [2]byte
		if _, err := io.ReadFull(z.br, xlen[:]); err != nil {
			return err
		}
		crc = crc32.Update(crc, crc32.IEEETable, xlen[:])
		var err error
		if crc, err = z.skip(int(binary.LittleEndian.Uint16(xlen[:])), crc); err != nil {
			return err
		}
	}
	for _, f := range [...]byte{gzFlagName, gzFlagComment} {
		if flags&f == 0 {
			continue
		}
		var err error
		if crc, err = z.skipString(crc); err != nil {
			return err
		}
	}
	if flags&gzFlagHCRC != 0 {
		var sum [2]byte
		if _, err := io.ReadFull(z.br, sum[:]); err != nil {
			return err
		}
		if binary.LittleEndian.Uint16(sum[:]) != uint16(crc) {
			return gzip.ErrHeader // zlib: "header crc mismatch"
		}
	}
	z.digest, z.size = 0, 0
	if err := z.fr.Reset(z.br, nil); err != nil {
		return err
	}
	z.inMember = true
	return nil
}

// skip reads and discards n header bytes, feeding the header CRC.
func (z *gunzip) skip(n int, crc uint32) (uint32, error) {
	for n > 0 {
		b, err := z.br.Peek(min(n, z.br.Size()))
		if len(b) == 0 {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return crc, err
		}
		crc = crc32.Update(crc, crc32.IEEETable, b)
		_, _ = z.br.Discard(len(b))
		n -= len(b)
	}
	return crc, nil
}

// skipString reads and discards a zero-terminated header field (its NUL
// included), feeding the header CRC; it holds at most one buffer of it.
func (z *gunzip) skipString(crc uint32) (uint32, error) {
	for {
		b, err := z.br.ReadSlice(0)
		crc = crc32.Update(crc, crc32.IEEETable, b)
		switch err {
		case nil:
			return crc, nil
		case bufio.ErrBufferFull:
			continue
		default:
			return crc, err
		}
	}
}

// trailer checks the member's trailer in zlib's steps (inflate.c, states
// CHECK and LENGTH) and ends the member: the CRC-32 as soon as its 4 bytes
// are in — the inflater ends its data only then — and ISIZE once its 4
// are. So a bad CRC-32 fails the wire chunk that completes it, whether or
// not ISIZE came with it (§2.8.2.2). ISIZE not at hand: waiting, for the
// next Read.
func (z *gunzip) trailer() error {
	for ; z.checked < 2; z.checked++ {
		if z.checked == 1 && !z.lengthAtHand() {
			z.waiting = true
			return nil
		}
		t, err := z.br.Peek(4) // in the bufio buffer: nothing escapes
		if err != nil {
			return noEOF(err)
		}
		_, _ = z.br.Discard(4)
		want := z.digest
		if z.checked == 1 {
			want = z.size
		}
		if binary.LittleEndian.Uint32(t) != want {
			return gzip.ErrChecksum // zlib: "incorrect data check" / "incorrect length check"
		}
	}
	z.checked = 0
	z.inMember = false
	z.members++
	return nil
}

// lengthAtHand reports whether ISIZE can be read without waiting: always
// with a reference inflater that is not the eager one (tests).
func (z *gunzip) lengthAtHand() bool {
	f, ok := z.fr.(*eagerInflater)
	if !ok {
		return true
	}
	k, ended := f.atHand()
	return k >= 4 || ended
}
