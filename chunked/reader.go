package chunked

import "io"

// readerBufSize is the size of a Reader's fixed internal buffer.
const readerBufSize = 16 << 10

// directMin is the smallest Read buffer that the underlying reader fills
// directly with chunk data (at least directMinData bytes of it), skipping
// the copy through the internal buffer.
const (
	directMin     = 4 << 10
	directMinData = 1 << 10
)

// headFill bounds how much is read into the internal buffer for a size line
// when the previous chunk was large: the large chunk that probably follows
// is then mostly read straight into the caller's buffer (bufio does the
// same with its 4 KiB buffer).
const headFill = 512

// maxEmptyReads is how many (0, nil) reads in a row are taken as a broken
// underlying reader (io.ErrNoProgress), as bufio does.
const maxEmptyReads = 100

// Reader is an io.Reader over a chunked body, with Godot's byte rules (see
// Decoder.Decode). Read returns io.EOF once the trailer section's final
// CR LF has been read, never reading past it further than one underlying
// Read: the bytes read past the body are in Buffered. If the underlying
// reader ends first, Read returns an *Error of KindTruncated, which
// unwraps to io.ErrUnexpectedEOF (§7 D3). Errors are sticky.
//
// Unlike a bare Decoder, a Reader does not stop at chunk boundaries: it
// fills p across them, as an io.Reader should.
//
// A Reader allocates its 16 KiB buffer once, in NewReader (or the first
// Reset of a zero Reader, which is unusable before that); Read allocates
// nothing (except the one *Error of a malformed body). Not safe for
// concurrent use.
type Reader struct {
	r     io.Reader
	d     Decoder
	buf   []byte // fixed, readerBufSize bytes
	rpos  int    // buf[rpos:wpos] is read but not yet decoded
	wpos  int
	err   error // sticky: io.EOF after the body, or the failure
	rerr  error // the underlying reader's error, kept until buf is decoded
	empty int   // consecutive (0, nil) reads
	big   bool  // the last chunk seen was at least directMin bytes
	pos   int64 // bytes read from r
}

// NewReader returns a Reader that decodes the chunked body read from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, buf: make([]byte, readerBufSize), d: Decoder{flow: true}}
}

// Reset discards the Reader's state, buffered bytes included, and makes it
// read a new body from src, keeping its buffer (no allocation). The
// trailer bound set by SetMaxTrailerBytes is kept.
func (r *Reader) Reset(src io.Reader) {
	buf := r.buf
	if buf == nil {
		buf = make([]byte, readerBufSize)
	}
	max := r.d.MaxTrailerBytes
	*r = Reader{r: src, buf: buf, d: Decoder{MaxTrailerBytes: max, flow: true}}
}

// SetMaxTrailerBytes sets the bound on the trailer section (see
// Decoder.MaxTrailerBytes); n ≤ 0 means DefaultMaxTrailerBytes.
func (r *Reader) SetMaxTrailerBytes(n int) {
	r.d.MaxTrailerBytes = n
}

// Buffered returns the bytes read from the underlying reader past the end
// of the body (the start of the next response on a kept-alive connection).
// It is empty until Read has returned io.EOF. The slice is valid until the
// next call on r.
func (r *Reader) Buffered() []byte {
	if !r.d.Done() {
		return nil
	}
	return r.buf[r.rpos:r.wpos]
}

// Read reads decoded chunk data into p. It returns io.EOF after the body's
// final CR LF (possibly together with the last data), an *Error for a
// malformed body (data of the chunk before a KindNotHex error is returned
// with it, §1.10.2.2; data before a KindBadTerminator error belongs to the
// rejected chunk), or the underlying reader's error. Once Read has some
// data it returns rather than block on the underlying reader.
//
// Godot: HTTPClient.read_response_body_chunk() (chunked mode)
func (r *Reader) Read(p []byte) (n int, err error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		// Decode what is buffered.
		for r.rpos < r.wpos && n < len(p) {
			nd, ns, ev, derr := r.d.Decode(p[n:], r.buf[r.rpos:r.wpos])
			n += nd
			r.rpos += ns
			if r.d.st == stData {
				r.big = r.d.size >= directMin
			}
			if derr != nil {
				r.err = derr
				return n, derr
			}
			if ev == EventEnd {
				r.err = io.EOF
				return n, io.EOF
			}
		}
		if n > 0 {
			return n, nil
		}
		// Nothing decoded and nothing buffered: read more.
		r.rpos, r.wpos = 0, 0
		if r.rerr != nil {
			return 0, r.finish(r.rerr)
		}
		var k int
		var rerr error
		if r.d.st == stData && len(p) >= directMin && r.d.rem >= directMinData {
			// Pure chunk data: straight into p.
			want := int(min(int64(len(p)), r.d.rem))
			k, rerr = r.r.Read(p[:want])
			if k < 0 || k > want {
				k, rerr = 0, io.ErrShortBuffer // broken underlying reader
			}
			r.d.skipData(k)
			n = k
		} else {
			want := len(r.buf)
			if r.big {
				// Large chunks: the end of this one and the next size
				// line only; the next chunk's data goes straight to p.
				// The read ends on a 64-byte boundary of the stream, so
				// that direct reads from an in-memory source copy from
				// an aligned address (memmove is several times slower
				// from a misaligned one on some CPUs).
				want = int(min(int64(want), int64(headFill)+r.d.rem))
				want = min(want+int(-(r.pos+int64(want))&63), len(r.buf))
			}
			k, rerr = r.r.Read(r.buf[:want])
			if k < 0 || k > want {
				k, rerr = 0, io.ErrShortBuffer // broken underlying reader
			}
			r.wpos = k
		}
		r.pos += int64(k)
		if k > 0 {
			r.empty = 0
			r.rerr = rerr // acted on once the bytes read are used up
			if n > 0 {
				return n, nil
			}
			continue
		}
		if rerr != nil {
			return 0, r.finish(rerr)
		}
		r.empty++
		if r.empty >= maxEmptyReads {
			r.err = io.ErrNoProgress
			return 0, io.ErrNoProgress
		}
	}
}

// finish makes the underlying reader's error r's sticky error: io.EOF is
// io.EOF if the body is complete and a KindTruncated *Error otherwise.
func (r *Reader) finish(rerr error) error {
	if rerr == io.EOF {
		if rerr = r.d.Finish(); rerr == nil {
			rerr = io.EOF
		}
	}
	r.err = rerr
	return rerr
}
