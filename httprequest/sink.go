package httprequest

import (
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/hugepage"
	"github.com/gdhttp/gdhttp/wire"
)

// The body sink (§2.6.1.3–7, §2.8.2, §2.9): one response body goes through
// one sink, whatever its framing and destination. The sink owns Godot's
// counters (body_len, downloaded, final_body_size, mirrored in the node's
// atomics for the getters), body_size_limit checked on decoded bytes as
// they stream, the decoder, the in-memory body, download_file and the body
// writer. read is one read_response_body_chunk per step (§2.6.1.3): for a
// chunked body one whole chunk, otherwise up to download_chunk_size. The
// bytes are appended straight to the body when it stays in memory undecoded
// (a chunk is collected by the client and copied once, on completion),
// otherwise to a read buffer that is pooled across requests (and kept by
// the node with a kept-alive connection).

// sink is the body state of one response.
type sink struct {
	n *HTTPRequest // the node whose getters mirror the counters

	bodyLen    int64 // Godot: body_len
	downloaded int64 // Godot: downloaded (wire bytes after de-chunking)
	decoded    int64 // Godot: final_body_size
	limit      int64 // Godot: body_size_limit, read when the body starts
	chunkSize  int   // Godot: download_chunk_size of the connection
	chunked    bool  // read whole chunks (Godot's path)
	lastChunk  int   // the size of the last chunk read (chunked)

	body    []byte    // the in-memory body (handed to the completion)
	buf     []byte    // read buffer when the bytes do not go straight into body
	dec     *decoder  // Content-Encoding decoder, nil for identity
	decBufs *decBufs  // the decoder's buffers between decoders (pooled, kept with a kept connection)
	dl      *download // download_file, nil for none
	w       io.Writer // the body writer (SetBodyWriter), nil for none
	wFile   *os.File  // w when it is a regular file (spliceTarget), else nil
	readErr error     // the last read's error other than io.EOF

	// state is the run's phase (phase.go): a write that CancelRequest
	// called from the body writer ends the read (errCanceledInWrite).
	state *atomic.Int32
}

// errCanceledInWrite ends a read whose body writer canceled the request
// (Process driver): nothing more is written, and no completion comes.
var errCanceledInWrite = errors.New("httprequest: the body writer canceled the request")

// errInterrupted ends the decoding of a read once the run was interrupted
// (put): the timeout or the cancel decides the completion.
var errInterrupted = errors.New("httprequest: the request was interrupted")

// readBufPool holds read buffers (download_chunk_size bytes, more after a
// larger chunk) across requests.
var readBufPool sync.Pool // of *[]byte

// maxPooledBuf is the largest read buffer kept for reuse: a buffer grown
// by one huge chunk is left to the collector.
const maxPooledBuf = 1 << 24

// reset prepares the sink for a new response (a head arrived, or a
// redirect hop): counters to zero, the decoder dropped, the body kept for
// its capacity but emptied.
func (s *sink) reset() {
	s.setDownloaded(0)
	s.setDecoded(0)
	s.dropDecoder()
	s.body = s.body[:0]
}

// start begins a body (§2.6.1.1): its framing, the limit and destinations
// read now. The in-memory body is sized once from a known Content-Length
// (see grow).
func (s *sink) start(bodyLen int64, chunked bool, limit int64, w io.Writer) {
	s.setBodyLen(bodyLen)
	s.chunked = chunked
	s.limit = limit
	s.w, s.wFile = w, regularFile(w)
}

// regularFile returns w when it is an *os.File open on a regular file: the
// body writers the zero-copy path writes to. A pipe, socket or terminal
// keeps its own Write.
func regularFile(w io.Writer) *os.File {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	return f
}

// inMemory reports whether the wire bytes go straight into the body.
func (s *sink) inMemory() bool { return s.dec == nil && s.dl == nil && s.w == nil }

// read does one read_response_body_chunk (§2.6.1.3) and hands its bytes on
// (§2.6.1.4–6). It returns the number of wire bytes read and a sink error
// (limit, decoding, writing); read errors are kept in readErr (the client's
// status tells the step what happened).
func (s *sink) read(c *httpclient.Client) (int, error) {
	if s.inMemory() && s.roomInBody(c) {
		return s.readIntoBody(c)
	}
	if f := s.spliceTarget(c); f != nil {
		return s.readIntoFile(c, f)
	}
	var err error
	s.buf, err = c.AppendResponseBodyChunk(s.readBuf()[:0])
	s.noteReadErr(err)
	if s.chunked && len(s.buf) > 0 {
		s.lastChunk = len(s.buf)
	}
	return len(s.buf), s.take(s.buf)
}

// roomInBody reports whether the next read can go straight into the
// in-memory body. A fixed-length or until-close read (Godot's: up to
// download_chunk_size, §1.10.1 — drained in non-blocking mode, waited for
// in blocking mode) always can: the body is grown first (grow). A chunked
// read returns one whole chunk (§1.10.2, §2.6.1.7: completion by length is
// only checked at chunk boundaries), so it goes straight in only when there
// is room for a chunk like the last one; otherwise it goes through the
// read buffer and the body grows by doubling from what really arrived (a
// reserve taken before the read would overshoot at the end).
func (s *sink) roomInBody(c *httpclient.Client) bool {
	if s.chunked {
		return cap(s.body)-len(s.body) >= max(s.lastChunk, 1)
	}
	m := max(s.chunkSize, c.ReadChunkSize())
	if s.bodyLen >= 0 {
		m = int(min(int64(m), max(s.bodyLen-s.downloaded, 1)))
	}
	s.grow(m)
	return true
}

// readIntoBody is one read appended to the in-memory body (not decoded),
// with Godot's accounting: downloaded counts the bytes, then the limit is
// checked (§2.6.1.4–5).
func (s *sink) readIntoBody(c *httpclient.Client) (int, error) {
	start := len(s.body)
	var err error
	s.body, err = c.AppendResponseBodyChunk(s.body)
	s.noteReadErr(err)
	n := len(s.body) - start
	if n == 0 {
		return 0, nil
	}
	if s.chunked {
		s.lastChunk = n
	}
	s.setDownloaded(s.downloaded + int64(n))
	if s.limit >= 0 && s.decoded+int64(n) > s.limit {
		s.body = s.body[:start]
		return n, s.limitErr()
	}
	s.setDecoded(s.decoded + int64(n))
	return n, nil
}

// spliceTarget returns the file the next read can go to straight from the
// socket (httpclient's WriteResponseBodyChunkTo, zero-copy on Linux), or
// nil: an undecoded body with one destination that is a file —
// download_file (not appended to) or a body writer that is a regular file —
// and a read that cannot pass body_size_limit. Godot checks the limit
// before it stores a chunk (§2.6.1.5–6), so a chunk that could pass it goes
// through the read buffer.
func (s *sink) spliceTarget(c *httpclient.Client) *os.File {
	if !spliceDownloads || s.dec != nil ||
		(s.limit >= 0 && s.decoded+int64(max(s.chunkSize, c.ReadChunkSize())) > s.limit) || !c.CanSpliceBody() {
		return nil
	}
	switch {
	case s.dl != nil && s.w == nil && s.dl.f != nil && !s.dl.appending:
		return s.dl.f
	case s.dl == nil:
		return s.wFile
	}
	return nil
}

// spliceDownloads turns the zero-copy download path off, and onSplice sees
// each read that takes it (tests compare the two paths).
var (
	spliceDownloads = true
	onSplice        func()
)

// readIntoFile is one read written straight to f (spliceTarget), with
// Godot's accounting (§2.6.1.4–6): downloaded and the decoded size count
// the bytes read, then a write error fails the request; the limit cannot be
// passed.
func (s *sink) readIntoFile(c *httpclient.Client, f *os.File) (int, error) {
	if onSplice != nil {
		onSplice()
	}
	n, werr, err := c.WriteResponseBodyChunkTo(f)
	s.noteReadErr(err)
	if n == 0 && werr == nil {
		return 0, nil
	}
	s.setDownloaded(s.downloaded + int64(n))
	s.setDecoded(s.decoded + int64(n))
	if s.dl != nil {
		return n, s.dl.wrote(n, werr)
	}
	if werr != nil {
		return n, bodyWriterErr(werr)
	}
	return n, nil
}

// readBuf returns the read buffer, taking one from the pool (or making one)
// the first time: at least download_chunk_size bytes of capacity.
func (s *sink) readBuf() []byte {
	if cap(s.buf) >= s.chunkSize {
		return s.buf
	}
	putReadBuf(s.buf)
	if p, ok := readBufPool.Get().(*[]byte); ok && cap(*p) >= s.chunkSize {
		s.buf = (*p)[:0]
		*p = nil
		bufHolders.Put(p)
	} else {
		if ok {
			bufHolders.Put(p)
		}
		s.buf = make([]byte, 0, s.chunkSize)
	}
	return s.buf
}

// bufHolders recycles the *[]byte boxes of readBufPool (a Put would
// otherwise allocate one).
var bufHolders sync.Pool

// putReadBuf gives a read buffer back to the pool.
func putReadBuf(b []byte) {
	if cap(b) == 0 || cap(b) > maxPooledBuf {
		return
	}
	p, _ := bufHolders.Get().(*[]byte)
	if p == nil {
		p = new([]byte)
	}
	*p = b[:0]
	readBufPool.Put(p)
}

// keptBufs are the buffers a node keeps with a kept-alive connection.
type keptBufs struct {
	read []byte
	dec  *decBufs
}

// takeBufs removes the read and decoder buffers from the sink (for the node
// to keep with a kept-alive connection). Called once the run's steps are
// over (after the worker was joined) and the decoder released.
func (s *sink) takeBufs() keptBufs {
	k := keptBufs{read: s.buf, dec: s.decBufs}
	s.buf, s.decBufs = nil, nil
	return k
}

// recycle gives the sink's buffers back to the pools; same moment.
func (s *sink) recycle() { s.takeBufs().recycle() }

func (k keptBufs) recycle() {
	putReadBuf(k.read)
	putDecBufs(k.dec)
}

func (s *sink) noteReadErr(err error) {
	if err != nil && err != io.EOF {
		s.readErr = err
	}
}

// take accounts for one chunk read from the wire and passes it through the
// decoder, if any, to put.
func (s *sink) take(chunk []byte) error {
	if len(chunk) == 0 {
		return nil
	}
	s.setDownloaded(s.downloaded + int64(len(chunk)))
	if s.dec != nil {
		return s.dec.write(chunk)
	}
	return s.put(chunk)
}

// put receives body bytes after decoding: the size limit (§2.9.1, §2.8.2.3,
// checked on the decoded bytes as they stream), then the destination:
// download_file, the body writer, or the in-memory body.
func (s *sink) put(p []byte) error {
	if s.limit >= 0 && s.decoded+int64(len(p)) > s.limit {
		return s.limitErr()
	}
	if s.state != nil {
		// A timeout or a cancel that came from another goroutine (use_threads,
		// Do) while a decoder writes the output of one read: stop there, not
		// at the end of that output (the run ends as they say).
		if ph := phase(s.state.Load()); ph == phaseTimedOut || ph == phaseCanceled {
			if s.dec == nil && s.dl != nil && s.w == nil {
				// The bytes of a read the interruption cut short did arrive:
				// download_file holds them (kept with keep_partial_download),
				// as where the read is spliced to the file (Linux) — the same
				// partial file on every platform.
				_, _ = s.dl.Write(p)
			}
			return errInterrupted
		}
	}
	s.setDecoded(s.decoded + int64(len(p)))
	if s.dl != nil {
		if _, err := s.dl.Write(p); err != nil {
			return err
		}
	}
	if s.w != nil {
		n, err := s.w.Write(p)
		if err == nil && n < len(p) {
			err = io.ErrShortWrite // as io.Copy: bytes dropped without an error are lost (§7 D3)
		}
		if err != nil {
			return bodyWriterErr(err)
		}
		if s.state != nil && phase(s.state.Load()) == phaseCanceled {
			return errCanceledInWrite // a decoder would go on writing what it holds
		}
	}
	if s.dl == nil && s.w == nil {
		s.grow(len(p))
		s.body = append(s.body, p...)
	}
	return nil
}

// grow makes room for m more body bytes. With a known Content-Length that
// is the body's length (not compressed) it starts at 1 MiB at most and
// grows fourfold, never past the length: few copies for a large body (a
// 256 MiB one is copied 85 MiB in all), and a lying Content-Length costs at
// most four times what was really received (five during the copy).
// Otherwise (no length, a decoded body, or more bytes than the length
// said) it doubles.
func (s *sink) grow(m int) {
	need := len(s.body) + m
	if need <= cap(s.body) {
		return
	}
	c := max(2*cap(s.body), need, 64<<10)
	if cl := int64ToInt(s.bodyLen); s.bodyLen >= 0 && s.dec == nil && need <= cl {
		c = max(min(max(4*cap(s.body), 1<<20), cl), need)
	}
	b := make([]byte, len(s.body), c)
	hugepage.Advise(b)
	copyPreemptible(b, s.body)
	s.body = b
}

// preemptPiece is how much copyPreemptible copies between two points
// where the goroutine can be preempted.
const preemptPiece = 256 << 10

// copyPreemptible is copy(dst, src) in pieces of preemptPiece bytes, for a
// body of any size. One copy is one memmove, which cannot be preempted: a
// garbage collection that starts during a copy of tens of MiB has its mark
// workers spin on a CPU, signalling this goroutine again and again, until
// the copy ends — on 256 MiB bodies in memory a quarter of the process's
// CPU time, taken from the peer on a small machine. copyPiece is never
// inlined, so its prologue's stack check is a preemption point between
// pieces.
func copyPreemptible(dst, src []byte) {
	for len(src) > 0 && len(dst) > 0 {
		n := copyPiece(dst, src)
		dst, src = dst[n:], src[n:]
	}
}

// copyPiece copies at most preemptPiece bytes of src to dst.
//
//go:noinline
func copyPiece(dst, src []byte) int {
	return copy(dst, src[:min(len(src), preemptPiece)])
}

// bodyWriterErr is the cause of RESULT_DOWNLOAD_FILE_WRITE_ERROR for a body
// writer's error.
func bodyWriterErr(err error) error {
	return godot.Wrap(godot.ErrFileCantWrite, "body_writer", &BodyWriterError{Err: err})
}

func int64ToInt(v int64) int {
	if v > int64(^uint(0)>>1) {
		return int(^uint(0) >> 1)
	}
	return int(v)
}

// end finishes a complete body: the decoder must end cleanly (§7 D3: a
// truncated stream is RESULT_BODY_DECOMPRESS_FAILED). It returns the result
// and its cause, and releases the sink — except, on success, the download,
// which commit commits as the completion is delivered.
func (s *sink) end() (Result, error) {
	res, cause := ResultSuccess, error(nil)
	if s.dec != nil {
		if err := s.dec.close(); err != nil {
			res, cause = sinkResult(err), err
		}
	}
	s.dropDecoder()
	if res != ResultSuccess {
		s.release()
	}
	return res, cause
}

// commit commits the download a successful end left open, if any.
func (s *sink) commit() error {
	if s.dl == nil {
		return nil
	}
	err := s.dl.commit()
	s.dl = nil
	return err
}

// release drops the decoder and aborts an uncommitted download. Idempotent.
func (s *sink) release() {
	s.dropDecoder()
	if s.dl != nil {
		s.dl.abort()
		s.dl = nil
	}
}

func (s *sink) dropDecoder() {
	if s.dec != nil {
		s.dec.release()
		if s.dec.kept != nil {
			putDecBufs(s.decBufs)
			s.decBufs = s.dec.kept
		}
		s.dec = nil
	}
}

// decode sets the decoder for a Content-Encoding (§2.7.4, §2.8.2.1), on the
// sink's buffers when it has some.
func (s *sink) decode(enc encoding) {
	s.dropDecoder()
	b := s.decBufs
	s.decBufs = nil
	s.dec = newDecoderWith(enc, s.chunkSize, s.put, b, true)
	s.dec.budget = decodeStepMax
}

// BodyWriterError is the cause of RESULT_DOWNLOAD_FILE_WRITE_ERROR when the
// body writer (SetBodyWriter) failed.
type BodyWriterError struct{ Err error }

// Error returns the writer's error with context.
func (e *BodyWriterError) Error() string { return "httprequest: body writer: " + e.Err.Error() }

// Unwrap returns the writer's error.
func (e *BodyWriterError) Unwrap() error { return e.Err }

func (s *sink) limitErr() error {
	return &wire.LimitError{What: "body bytes", Limit: s.limit}
}

// sinkResult maps an error from the body path to its Result.
func sinkResult(err error) Result {
	var le *wire.LimitError
	var de *DecodeError
	switch {
	case errors.As(err, &le):
		return ResultBodySizeLimitExceeded
	case errors.As(err, &de):
		return ResultBodyDecompressFailed
	}
	return ResultDownloadFileWriteError
}

func (s *sink) setBodyLen(v int64) {
	s.bodyLen = v
	s.n.bodyLen.Store(v)
}

func (s *sink) setDownloaded(v int64) {
	s.downloaded = v
	s.n.downloaded.Store(v)
}

func (s *sink) setDecoded(v int64) {
	s.decoded = v
	s.n.decodedLen.Store(v)
}
