package httprequest

import (
	"bufio"
	"errors"
	"io"
	"iter"
	"math/bits"
	"strconv"
	"sync"

	"github.com/andybalholm/brotli"
)

// Streaming body decoding (§2.8.2, with the §7 D1/D3 changes).
//
// Godot feeds each body chunk to a zlib stream in pieces and drains the output
// after every piece. The decompressors Go offers are pull-style readers, so a
// decoder runs one of them inside a coroutine (iter.Pull): the reader's input
// is a source that, when it runs dry, yields back to the caller, and each piece
// of output is yielded to the caller as soon as it is produced. write hands
// over one compressed chunk and returns when the decompressor has consumed all
// of it and asks for more: it never blocks for input, and the output goes to
// the sink on the caller's goroutine, piece by piece, so a size limit checked
// in the sink bounds memory no matter how far the input expands.
//
// Deviations from Godot (§7):
//   - D1: concatenated gzip members decode (Godot's feeding loop hangs on any
//     byte after the first member, §2.8.2.5); any other byte after the end of
//     the stream is an error (ErrTrailingData → RESULT_BODY_DECOMPRESS_FAILED).
//   - D3: a stream that ends early (no gzip trailer, no zlib checksum, brotli
//     not finished) is an error (io.ErrUnexpectedEOF), not a silent success
//     with partial output (§2.8.2.4).
//
// gzip is read by gunzip (gunzip.go): the member header is parsed and skipped
// here, as zlib does, so header fields of any length decode (Go's gzip readers
// stop at 512-byte names). The deflate data of gzip and deflate bodies goes
// through the eager inflater of inflate.go: it hands over all the output each
// wire chunk decodes to, as zlib does, where klauspost's and Go's inflaters
// keep up to 32 KiB in their window (§2.8.2.1, §2.8.2.3), and copyPieces cuts
// it into Godot's pieces.
//
// Kept from Godot: "deflate" means the zlib wrapper of RFC 1950 (raw deflate
// fails, §2.8.2.1, §5); a body of zero bytes is not decoded at all (Godot
// never feeds the decoder), so it yields an empty body.

// encoding is a Content-Encoding the node decodes.
type encoding int

const (
	encIdentity encoding = iota // no decoding: raw bytes delivered
	encGzip                     // "gzip": RFC 1952 members, concatenation allowed
	encDeflate                  // "deflate": RFC 1950 zlib stream
	encBrotli                   // "br" (opt-in): RFC 7932
)

var encodingNames = [...]string{"identity", "gzip", "deflate", "br"}

func (e encoding) String() string {
	if e >= 0 && int(e) < len(encodingNames) {
		return encodingNames[e]
	}
	return "encoding(" + strconv.Itoa(int(e)) + ")"
}

// ErrTrailingData reports bytes after the end of a compressed body that are
// not another gzip member (§7 D1: Godot hangs on them).
var ErrTrailingData = errors.New("httprequest: data after the end of the compressed body")

// DecodeError reports a body that could not be decompressed; the request ends
// with ResultBodyDecompressFailed and this error as its cause. Like
// compress/flate.CorruptInputError it says where: Offset is the number of
// compressed bytes the decompressor had consumed when it failed.
// Err is the decompressor's error (e.g. gzip.ErrHeader, gzip.ErrChecksum,
// zlib.ErrHeader, a flate.CorruptInputError), io.ErrUnexpectedEOF for a
// stream cut short, or ErrTrailingData.
type DecodeError struct {
	Encoding string // "gzip", "deflate" or "br"
	Offset   int64
	Err      error
}

// Error returns a one-line description with the encoding and offset.
func (e *DecodeError) Error() string {
	return "httprequest: " + e.Encoding + " body: " + e.Err.Error() +
		" (at compressed byte " + strconv.FormatInt(e.Offset, 10) + ")"
}

// Unwrap returns the decompressor's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// errDecoderStopped unwinds the coroutine when the decoder is released while
// it waits for input or for its output to be taken.
var errDecoderStopped = errors.New("httprequest: decoder stopped")

// errDecoderClosed is returned by write after close or after an error.
var errDecoderClosed = errors.New("httprequest: decoder already closed")

// decodePieceSize is Godot's ring buffer size for a download chunk size: the
// next power of two (§2.8.2.1). The node's chunk size is already 256…2^24.
func decodePieceSize(chunkSize int) int {
	if chunkSize < 256 {
		chunkSize = 256
	}
	if chunkSize > 1<<24 {
		chunkSize = 1 << 24
	}
	return 1 << bits.Len(uint(chunkSize-1))
}

// decodeEvent is what the coroutine yields: a piece of output, or nil when it
// has consumed all input and needs more.
type decodeEvent []byte

// decoder is a push-style streaming decompressor. Not safe for concurrent use;
// release must be called when it is no longer needed (it is idempotent) or the
// coroutine leaks.
type decoder struct {
	enc   encoding
	sink  func([]byte) error // receives each piece of output, on the caller's goroutine
	piece []byte             // output buffer, decodePieceSize(chunk size)

	in       []byte // input not yet taken by the decompressor
	eof      bool   // no input will follow in
	holdback int    // input bytes kept back until more arrives (brotli only)
	held     [brotliHoldback]byte
	heldN    int
	consumed int64 // compressed bytes handed to the decompressor
	output   int64 // decompressed bytes handed to the sink

	next  func() (decodeEvent, bool)
	stop  func()
	yield func(decodeEvent) bool

	err  error // sticky: decode error, sink error or errDecoderClosed
	done bool  // the coroutine has returned

	// budget bounds the output of one write, more or close (0: none);
	// pending says the last one stopped there with output still to come,
	// its input kept in carry: the owner calls more (or close again) at
	// its next step (decodeStepMax).
	budget  int64
	pending bool

	bufs  *decBufs       // pooled buffers and decompressors, nil once given back
	gz    *gunzip        // the gzip reader
	maxIn int            // the largest write so far (Godot's StreamPeerGZIP buffer: at least gzipMinBuffer)
	inf   *eagerInflater // gzip and deflate: the inflater (inflate.go)
	have  int            // output of the current piece not yet handed to the sink (copyPieces)
	call  int            // where the current inflate call's output began in the piece
	carry []byte         // input a write left untaken (copyPieces waiting for a trailer)
	keep  bool           // release keeps the buffers in kept instead of the pool
	kept  *decBufs       // the buffers after release, for the owner (keep)
}

// decBufs are a decoder's buffers and decompressors, pooled across
// requests: the output piece, the input bufio.Reader, and the inflater
// (gzip, deflate) or brotli reader, each reset for the next body.
type decBufs struct {
	piece []byte
	br    *bufio.Reader
	inf   *eagerInflater // the eager inflater (its window and tables)
	bro   *brotli.Reader // a brotli reader
}

var decPool sync.Pool // of *decBufs

// newDecoder returns a decoder for enc (not encIdentity) that hands its output
// to sink in pieces of at most decodePieceSize(chunkSize) bytes. A sink error
// stops decoding and is returned unchanged by write/close.
func newDecoder(enc encoding, chunkSize int, sink func([]byte) error) *decoder {
	return newDecoderWith(enc, chunkSize, sink, nil, false)
}

// newDecoderWith is newDecoder on the buffers b (nil: from the pool). With
// keep, release leaves the buffers in d.kept for the caller to reuse
// instead of giving them to the pool.
func newDecoderWith(enc encoding, chunkSize int, sink func([]byte) error, b *decBufs, keep bool) *decoder {
	if b == nil {
		b, _ = decPool.Get().(*decBufs)
	}
	if b == nil {
		b = new(decBufs)
	}
	if size := decodePieceSize(chunkSize); cap(b.piece) >= size {
		b.piece = b.piece[:size]
	} else {
		b.piece = make([]byte, size)
	}
	d := &decoder{enc: enc, sink: sink, piece: b.piece, bufs: b, keep: keep}
	if enc == encBrotli {
		d.holdback = brotliHoldback
	}
	return d
}

// brotliHoldback: see decoder.Read.
const brotliHoldback = 32

// Consumed returns the number of compressed bytes fed so far.
func (d *decoder) Consumed() int64 { return d.consumed }

// Output returns the number of decompressed bytes handed to the sink so far.
func (d *decoder) Output() int64 { return d.output }

// write feeds one chunk of compressed body. It returns once the decompressor
// has taken all of p and produced all the output it can from it (minus what
// a decompressor keeps internally until it has more input), having handed
// that output to the sink. The error is a *DecodeError, the sink's error, or
// errDecoderClosed; after any error the decoder is released.
func (d *decoder) write(p []byte) error {
	if d.err != nil {
		return d.err
	}
	if d.eof || d.done {
		return errDecoderClosed
	}
	if len(p) == 0 {
		return nil
	}
	if d.next == nil {
		d.next, d.stop = iter.Pull(d.run)
	}
	if len(d.carry) > 0 {
		d.carry = append(d.carry, p...)
		d.in = d.carry
	} else {
		d.in = p
	}
	d.maxIn = max(d.maxIn, len(p))
	return d.keepIn(d.pump())
}

// keepIn ends a write or a more: the input the decompressor has not taken
// (copyPieces waits for a trailer with part of it at hand, or the budget
// stopped the pump) is kept in carry, as p is the caller's and reused for
// its next read.
func (d *decoder) keepIn(err error) error {
	if err == nil && len(d.in) > 0 {
		d.carry = append(d.carry[:0], d.in...)
		d.in = d.carry
	} else {
		d.carry = d.carry[:0]
	}
	return err
}

// more goes on with the output a write left pending, up to the budget.
func (d *decoder) more() error {
	if d.err != nil || !d.pending {
		return d.err
	}
	return d.keepIn(d.pump()) // d.in is in carry since keepIn
}

// close marks the end of the body, drains the remaining output to the sink and
// checks that the stream ended properly. A decoder that was never fed (a body
// of zero bytes) succeeds with no output. close releases the decoder; calling
// it again returns the same result.
func (d *decoder) close() error {
	if d.err != nil || d.eof && !d.pending {
		return d.err
	}
	d.eof = true
	if d.next == nil {
		d.done = true
		return nil
	}
	err := d.pump() // d.in is in carry (keepIn) or empty
	if err == nil && d.pending {
		return nil // the budget: close again for the rest
	}
	d.release()
	return err
}

// release stops the coroutine and gives the buffers back to the pool (or
// to d.kept); safe to call at any time, more than once.
func (d *decoder) release() {
	if d.stop != nil && !d.done {
		d.stop()
	}
	d.done = true
	if b := d.bufs; b != nil {
		// The coroutine has returned: nothing uses the buffers any more.
		d.bufs, d.piece, d.gz, d.inf = nil, nil, nil, nil
		// Drop the references to this decoder (and through its sink, the
		// request's body) that the pooled readers hold.
		if b.br != nil {
			b.br.Reset(nil)
		}
		if b.inf != nil {
			b.inf.reset(nil, nil, 0)
		}
		if b.bro != nil {
			_ = b.bro.Reset(nil)
		}
		if d.keep {
			d.kept = b
		} else {
			decPool.Put(b)
		}
	}
}

// reader returns the pooled bufio.Reader reading from the decoder.
func (d *decoder) reader() *bufio.Reader {
	if d.bufs.br == nil {
		d.bufs.br = bufio.NewReaderSize(d, readBufSize)
	} else {
		d.bufs.br.Reset(d)
	}
	return d.bufs.br
}

// pump resumes the coroutine until it needs input or ends, giving each piece
// of output to the sink; with a budget, it stops once that much output went
// to the sink (pending).
func (d *decoder) pump() error {
	d.pending = false
	var out int64
	for {
		ev, ok := d.next()
		if !ok {
			d.done = true
			if d.err == nil && !d.eof {
				// The decompressor ended before its input did (the readers
				// used never do; kept as a guard against a silent stop).
				d.err = &DecodeError{Encoding: d.enc.String(), Offset: d.consumed, Err: ErrTrailingData}
			}
			return d.err
		}
		if ev == nil {
			return nil // all input taken: wait for the next write
		}
		d.output += int64(len(ev))
		if err := d.sink(ev); err != nil {
			d.err = err
			d.release()
			return err
		}
		if out += int64(len(ev)); d.budget > 0 && out >= d.budget {
			d.pending = true
			return nil
		}
	}
}

// run is the coroutine: it decodes until the stream ends, fails, or the
// decoder is released.
func (d *decoder) run(yield func(decodeEvent) bool) {
	d.yield = yield
	err := d.decode()
	if err != nil && !errors.Is(err, errDecoderStopped) {
		d.err = &DecodeError{Encoding: d.enc.String(), Offset: d.consumed, Err: err}
	}
}

// Read is the decompressor's input: it hands over what write gave, and when
// that is used up yields to the caller until more arrives (or the end).
//
// For brotli the last brotliHoldback bytes received are held back until more
// input or the end arrives. andybalholm/brotli v1.3.0 reports a valid stream
// as "excessive input" when the stream's last bits reach its internal 8-byte
// carry buffer across a read boundary (seen with runs of 1-byte reads, which a
// trickling server produces). Holding back the tail puts the last read
// boundary well before the end of the stream, so that never happens; the
// output is merely delayed by those few bytes.
func (d *decoder) Read(p []byte) (int, error) {
	for {
		avail := d.heldN + len(d.in)
		if d.eof {
			if avail == 0 {
				return 0, io.EOF
			}
			break
		}
		if avail > d.holdback {
			break
		}
		// Everything left is the tail to hold back: stash it, ask for more.
		d.heldN += copy(d.held[d.heldN:], d.in)
		d.in = nil
		if !d.yield(nil) {
			return 0, errDecoderStopped
		}
	}
	limit := d.heldN + len(d.in)
	if !d.eof {
		limit -= d.holdback
	}
	p = p[:min(len(p), limit)]
	n := 0
	if d.heldN > 0 {
		n = copy(p, d.held[:d.heldN])
		d.heldN = copy(d.held[:], d.held[n:d.heldN])
	}
	m := copy(p[n:], d.in)
	d.in = d.in[m:]
	n += m
	d.consumed += int64(n)
	return n, nil
}

// inputReady reports whether Read can hand over input without yielding.
func (d *decoder) inputReady() bool { return d.eof || d.heldN+len(d.in) > d.holdback }

// inputAt returns the input bytes waiting in the decoder (beyond the bufio
// buffer) and whether the input has ended: the eager inflater's view of
// the input at hand (inflate.go).
func (d *decoder) inputAt() (int, bool) { return d.heldN + len(d.in), d.eof }

// gzipMinBuffer is the size StreamPeerGZIP's temporary buffer starts at
// (_start: buffer.resize(1024)); a write larger than it grows it.
const gzipMinBuffer = 1024

// callEnd is where the current inflate call's output buffer ends in the
// piece: min(buffer, free) from its start (copyPieces), the buffer being
// max(1024, the largest write so far).
func (d *decoder) callEnd() int {
	free := len(d.piece) - 1 - d.call
	if len(d.piece) <= 1025 {
		free = len(d.piece) - d.call
	}
	return d.call + min(max(d.maxIn, gzipMinBuffer), free)
}

// callCap is the output the current inflate call may still give.
func (d *decoder) callCap() int { return d.callEnd() - d.have }

// readBufSize is the bufio buffer between the source and the inflater,
// whose fast loop decodes straight from it.
const readBufSize = 32 << 10

// inflater returns the pooled eager inflater, reset on br for this
// decoder, with a wrapper trailer of trailer bytes.
func (d *decoder) inflater(br *bufio.Reader, trailer int) *eagerInflater {
	if d.bufs.inf == nil {
		d.bufs.inf = new(eagerInflater)
	}
	d.inf = d.bufs.inf
	d.inf.reset(br, d, trailer)
	return d.inf
}

func (d *decoder) decode() error {
	switch d.enc {
	case encGzip:
		// Concatenated members decode (§7 D1); gunzip returns io.EOF only at
		// the end of the input after a complete member.
		br := d.reader()
		d.gz = newGunzip(br, d.inflater(br, 8))
		return d.copyPieces(d.gz)
	case encDeflate:
		br := d.reader()
		if err := d.copyPieces(newEagerZlib(br, d.inflater(br, 4))); err != nil {
			return err
		}
		// The zlib stream ended with a good checksum: nothing may follow.
		if br.Buffered() > 0 {
			return ErrTrailingData
		}
		if _, err := br.ReadByte(); err != io.EOF {
			if err == nil {
				return ErrTrailingData
			}
			return err
		}
		return nil
	case encBrotli:
		// brotli reads its own 32 KiB buffers; it reports input after the end
		// of the stream as "excessive input".
		if d.bufs.bro == nil {
			d.bufs.bro = brotli.NewReader(d)
		} else if err := d.bufs.bro.Reset(d); err != nil {
			return err
		}
		err := d.copyOut(d.bufs.bro)
		if err != nil && err.Error() == "brotli: excessive input" {
			return ErrTrailingData
		}
		return err
	}
	return errors.New("httprequest: no decoder for " + d.enc.String())
}

// copyOut reads r (brotli) to its end, yielding each piece of output.
func (d *decoder) copyOut(r io.Reader) error {
	for {
		n, err := r.Read(d.piece)
		if n > 0 {
			if !d.yield(decodeEvent(d.piece[:n])) {
				return errDecoderStopped
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return noEOF(err)
		}
	}
}

// copyPieces is copyOut in the pieces of Godot's feeding loop (§2.8.2.1,
// §2.8.2.2–3). _update_connection hands a wire chunk to
// StreamPeerGZIP.put_partial_data again and again; each call inflates into
// its ring buffer (2^⌈log2 download_chunk_size⌉ bytes, drained after every
// call) in inflate calls of at most min(buffer, free) bytes — buffer being
// the largest input given so far — while more than 1 KiB is free and input
// is left, and the node checks each put_partial_data for a decoding error
// before it checks body_size_limit on its output. So an error in the piece
// that passes the limit is R8, not R7; a decoding error drops the piece it
// is in. zlib returns Z_DATA_ERROR from the inflate call that meets the
// bad bytes — a bad code, or the gzip CRC-32 as soon as its 4 bytes are in
// (gunzip) — even when that call also used up the chunk or filled its
// output buffer, so the error comes with the call's output here too, and
// the piece is dropped before the sink sees it. When the chunk's bytes are
// used up the piece ends, even with a match half written: the rest of it
// comes with the next chunk, as from zlib. (A ring of 1 KiB or less takes nothing in Godot, §7 D1, COMPAT Q16:
// here its pieces are the whole ring.)
func (d *decoder) copyPieces(r io.Reader) error {
	ring := len(d.piece)
	pieceEnd := ring - 1
	if ring <= 1025 {
		pieceEnd = ring
	}
	d.have = 0
	for {
		// One inflate call: its output buffer filled, or the input used up.
		d.call = d.have
		var err error
		usedUp, full, memberEnd := false, false, false
		for err == nil && !usedUp && !full {
			if d.betweenMembers() && !d.inputAtHand() {
				usedUp = true // gunzip would wait for another member
				break
			}
			if d.betweenMembers() && d.have > 0 {
				// A member ended (§7 D1): its output is handed over before
				// the next member's header is read, which may wait for
				// input — or fail, and must not take this output with it.
				memberEnd = true
				break
			}
			var n int
			n, err = r.Read(d.piece[d.have:pieceEnd])
			d.have += n
			full = d.have >= d.callEnd()
			usedUp = err == nil && !full && (d.waiting() || !d.inputAtHand())
		}
		if err == nil && full && !d.betweenMembers() {
			// The call's output buffer is full: zlib decodes on to its next
			// output, reading input, and the piece ends if that used it up.
			// A data error there is this call's; at the end of the data it
			// goes on to check the trailer, which may fail too.
			if d.inf.err == io.EOF {
				// The data ended in this call: gunzip waits for ISIZE.
				usedUp = d.waiting() || !d.inputAtHand()
			} else if usedUp, err = !d.inf.advance(), d.inf.err; err == nil && !usedUp && d.inf.dataEnded() {
				var n int
				n, err = r.Read(d.piece[d.have:pieceEnd]) // no output: the trailer
				d.have += n
				usedUp = err == nil && (d.waiting() || !d.inputAtHand())
			}
		}
		if err != nil && err != io.EOF {
			// zlib's Z_DATA_ERROR comes from the inflate call that met the
			// bad bytes, with its output: put_partial_data fails and
			// _update_connection ends R8 before it checks the limit or
			// stores anything of the piece (§2.8.2.2–3).
			return noEOF(err)
		}
		if d.have > 0 && (err == io.EOF || usedUp || memberEnd || d.have >= pieceEnd || (ring > 1025 && ring-1-d.have <= 1024)) {
			if !d.yield(decodeEvent(d.piece[:d.have])) {
				return errDecoderStopped
			}
			d.have = 0
		}
		if err == io.EOF {
			return nil
		}
		if usedUp && !d.yield(nil) { // wait for the next chunk
			return errDecoderStopped
		}
	}
}

// waiting reports whether the last Read stopped for input it may not wait
// for: in the deflate data, or before a gzip member's ISIZE.
func (d *decoder) waiting() bool { return d.inf.waiting || d.gz != nil && d.gz.waiting }

// betweenMembers reports whether gunzip has ended a member and not begun
// the next.
func (d *decoder) betweenMembers() bool { return d.gz != nil && !d.gz.inMember && d.gz.members > 0 }

// inputAtHand reports whether input is buffered or waiting in the decoder.
func (d *decoder) inputAtHand() bool { return d.bufs.br.Buffered() > 0 || d.inputReady() }

// noEOF turns an io.EOF inside a stream into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// putDecBufs gives decoder buffers kept by their owner back to the pool.
func putDecBufs(b *decBufs) {
	if b != nil {
		decPool.Put(b)
	}
}
