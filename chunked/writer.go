package chunked

import (
	"errors"
	"io"
	"strconv"
)

// ErrWriterClosed is returned by Writer.Write and Writer.Close after Close.
var ErrWriterClosed = errors.New("chunked: write after Close")

// AppendChunk appends data to dst as one chunk: the size in lower-case hex,
// CR LF, the data, CR LF. Empty data appends nothing (a zero-size chunk
// would end the body). Data longer than MaxChunkSize is written as one
// chunk all the same; Godot and Decoder reject it (KindTooBig), which is
// what a test server may want.
func AppendChunk(dst, data []byte) []byte {
	if len(data) == 0 {
		return dst
	}
	dst = strconv.AppendUint(dst, uint64(len(data)), 16)
	dst = append(dst, '\r', '\n')
	dst = append(dst, data...)
	return append(dst, '\r', '\n')
}

// AppendLastChunk appends the last chunk "0" CR LF, each trailer line
// followed by CR LF, and the empty line CR LF that ends the body. Trailer
// lines are written as given ("Name: value", no CR LF), unchecked, so test
// servers can also send malformed ones.
func AppendLastChunk(dst []byte, trailers ...string) []byte {
	dst = append(dst, '0', '\r', '\n')
	for _, t := range trailers {
		dst = append(dst, t...)
		dst = append(dst, '\r', '\n')
	}
	return append(dst, '\r', '\n')
}

// Writer writes a chunked body to an underlying writer, for test servers:
// each Write is one chunk, sent with one Write on the underlying writer,
// and Close sends the last chunk and the empty trailer section
// ("0\r\n\r\n"). Not safe for concurrent use.
type Writer struct {
	w      io.Writer
	buf    []byte // reused encoding buffer
	closed bool
}

// NewWriter returns a Writer that writes a chunked body to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w}
}

// Write writes p as one chunk and returns len(p) on success. An empty p
// writes nothing. On a failed or short underlying write it returns the
// number of data bytes of p that were written and the error
// (io.ErrShortWrite for a short write without one).
func (cw *Writer) Write(p []byte) (int, error) {
	if cw.closed {
		return 0, ErrWriterClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	cw.buf = AppendChunk(cw.buf[:0], p)
	head := len(cw.buf) - len(p) - 2
	n, err := cw.w.Write(cw.buf)
	if err == nil && n < len(cw.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return min(max(n-head, 0), len(p)), err
	}
	return len(p), nil
}

// Close writes the last chunk and the end of the (empty) trailer section.
// It does not close the underlying writer. Calling Close again returns
// ErrWriterClosed.
func (cw *Writer) Close() error {
	return cw.CloseWithTrailers()
}

// CloseWithTrailers is Close with trailer lines ("Name: value", written as
// given, see AppendLastChunk) before the final empty line.
func (cw *Writer) CloseWithTrailers(trailers ...string) error {
	if cw.closed {
		return ErrWriterClosed
	}
	cw.closed = true
	cw.buf = AppendLastChunk(cw.buf[:0], trailers...)
	n, err := cw.w.Write(cw.buf)
	if err == nil && n < len(cw.buf) {
		err = io.ErrShortWrite
	}
	return err
}
