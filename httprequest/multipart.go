package httprequest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/wire"
)

// Multipart builds a multipart/form-data request body (RFC 7578) whose file
// parts are streamed from disk, never read into memory: the bytes are those
// mime/multipart.Writer writes for the same parts (its part headers, file
// parts as application/octet-stream), made ready in advance so that the
// body's length is known when every part's size is. Build it with Field,
// File and Reader, then send it with RequestMultipart or DoMultipart, or
// pass Header, Open and Len to RequestStream yourself. A Multipart is not
// safe for concurrent use; it may be sent several times (each Open reads
// the files again and rewinds the Reader parts), unless it holds a Reader
// part that is not an io.Seeker: a second Open then fails.
//
// Godot has no multipart helper (a game builds the body as bytes, §2.4);
// this is a §7.2 convenience: the request is RequestStream's.
type Multipart struct {
	w     *multipart.Writer
	out   []byte // what w writes (a part's head)
	parts []mpPart
	err   error
	used  bool // a Reader part was read since the parts were last rewound
}

// mpPart is one part: its head (the boundary line and its header lines) and
// its content.
type mpPart struct {
	head  []byte
	value string    // a field's value
	path  string    // a file's path, opened when reached
	r     io.Reader // a Reader part
	start int64     // r's offset, when it is an io.Seeker
	size  int64     // the content's size, −1 unknown
}

// NewMultipart returns an empty form with a random boundary.
func NewMultipart() *Multipart {
	m := &Multipart{}
	m.w = multipart.NewWriter((*mpSink)(m))
	return m
}

// mpSink collects what the multipart.Writer writes.
type mpSink Multipart

func (s *mpSink) Write(p []byte) (int, error) {
	s.out = append(s.out, p...)
	return len(p), nil
}

// SetBoundary replaces the random boundary (mime/multipart's rules: 1 to 70
// characters from the RFC 2046 set). It must come before the first part.
func (m *Multipart) SetBoundary(b string) error {
	if len(m.parts) > 0 {
		return errors.New("httprequest: SetBoundary after the first part")
	}
	return m.w.SetBoundary(b)
}

// Boundary returns the boundary.
func (m *Multipart) Boundary() string { return m.w.Boundary() }

// ContentType returns "multipart/form-data; boundary=…".
func (m *Multipart) ContentType() string { return m.w.FormDataContentType() }

// Header returns the request header line that goes with the body:
// "Content-Type: multipart/form-data; boundary=…".
func (m *Multipart) Header() string { return "Content-Type: " + m.ContentType() }

// Err returns the first error met while building (a file that could not be
// stat'ed); Open and Len report it too.
func (m *Multipart) Err() error { return m.err }

// Field adds a form field with a text value.
func (m *Multipart) Field(name, value string) *Multipart {
	if _, err := m.w.CreateFormField(name); err != nil {
		m.setErr(err)
	}
	m.add(mpPart{value: value, size: int64(len(value))})
	return m
}

// File adds a file part named after the file's base name, read from path
// when the body is sent. Its size is taken now: a file that is shorter when
// it is read fails the request (a *httpclient.RequestBodyError wrapping
// io.ErrUnexpectedEOF), a longer one is sent up to that size.
func (m *Multipart) File(field, path string) *Multipart {
	fi, err := os.Stat(path)
	if err == nil && !fi.Mode().IsRegular() {
		err = &os.PathError{Op: "multipart", Path: path, Err: errNotRegular}
	}
	if err != nil {
		m.setErr(err)
		return m
	}
	if _, err := m.w.CreateFormFile(field, filepath.Base(path)); err != nil {
		m.setErr(err)
	}
	m.add(mpPart{path: path, size: fi.Size()})
	return m
}

// Reader adds a file part with the given file name whose content is read
// from r: size bytes, or until io.EOF when size is −1 (the whole body's
// length is then unknown and it is sent chunked). r can be sent once,
// unless it is an io.Seeker (rewound to where it is now).
func (m *Multipart) Reader(field, filename string, r io.Reader, size int64) *Multipart {
	if size < -1 {
		m.setErr(errors.New("httprequest: multipart part size must be ≥ −1"))
		return m
	}
	p := mpPart{r: r, size: size, start: -1}
	if s, ok := r.(io.Seeker); ok {
		if off, err := s.Seek(0, io.SeekCurrent); err == nil {
			p.start = off
		}
	}
	if _, err := m.w.CreateFormFile(field, filename); err != nil {
		m.setErr(err)
	}
	m.add(p)
	return m
}

func (m *Multipart) setErr(err error) {
	if m.err == nil {
		m.err = err
	}
}

func (m *Multipart) add(p mpPart) {
	p.head = append([]byte(nil), m.out...)
	m.out = m.out[:0]
	m.parts = append(m.parts, p)
}

// trailer is the closing delimiter mime/multipart.Writer.Close writes
// (with its CR LF first even when there is no part).
func (m *Multipart) trailer() string { return "\r\n--" + m.Boundary() + "--\r\n" }

// Len returns the body's length in bytes, or −1 when a Reader part's size
// is unknown.
func (m *Multipart) Len() int64 {
	n := int64(len(m.trailer()))
	for _, p := range m.parts {
		if p.size < 0 {
			return -1
		}
		n += int64(len(p.head)) + p.size
	}
	return n
}

// Open returns a reader of the whole body. It opens each file only when its
// part is reached and closes it at the part's end. The reader is an
// io.Seeker that can only go back to the start (Seek(0, io.SeekStart):
// the node's redirect replay) or tell where it is. Close it when done.
// Once the form was read, Open rewinds its Reader parts to where they were
// when added, or fails when one is not an io.Seeker.
func (m *Multipart) Open() (*MultipartReader, error) {
	if m.err != nil {
		return nil, m.err
	}
	if err := m.rewind(); err != nil {
		return nil, err
	}
	return &MultipartReader{m: m}, nil
}

// rewind seeks the Reader parts back to where they were when added, once
// one of them was read.
func (m *Multipart) rewind() error {
	if !m.used {
		return nil
	}
	for _, p := range m.parts {
		if p.r == nil {
			continue
		}
		s, ok := p.r.(io.Seeker)
		if !ok || p.start < 0 {
			return fmt.Errorf("%w: a Reader part that is not an io.Seeker was read already", errMultipartSeek)
		}
		if _, err := s.Seek(p.start, io.SeekStart); err != nil {
			return err
		}
	}
	m.used = false
	return nil
}

// MultipartReader reads a Multipart body. See Multipart.Open.
type MultipartReader struct {
	m    *Multipart
	i    int   // the current part; len(parts): the trailer
	off  int64 // offset in the current piece
	head bool  // false: in the head of part i; true: in its content
	f    *os.File
	pos  int64
}

var errMultipartSeek = errors.New("httprequest: a multipart body can only be sought back to its start")

// Read reads the next bytes of the body.
func (r *MultipartReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if r.i > len(r.m.parts) {
			break
		}
		if r.i == len(r.m.parts) {
			t := r.m.trailer()
			k := copy(p[n:], t[r.off:])
			n += k
			r.off += int64(k)
			if r.off == int64(len(t)) {
				r.i++
			}
			continue
		}
		part := &r.m.parts[r.i]
		if !r.head {
			k := copy(p[n:], part.head[r.off:])
			n += k
			r.off += int64(k)
			if r.off == int64(len(part.head)) {
				r.head, r.off = true, 0
			}
			continue
		}
		if part.size >= 0 && r.off == part.size {
			r.next()
			continue
		}
		k, err := r.content(part, p[n:])
		n += k
		r.off += int64(k)
		if err == io.EOF {
			if part.size >= 0 && r.off < part.size {
				r.pos += int64(n)
				return n, partShort(part, r.off)
			}
			r.next()
			continue
		}
		if err != nil {
			r.pos += int64(n)
			return n, err
		}
		break // one read of a part's source per call: sent as it is read
	}
	r.pos += int64(n)
	if n == 0 && r.i > len(r.m.parts) {
		return 0, io.EOF
	}
	return n, nil
}

// content reads from the current part's source.
func (r *MultipartReader) content(part *mpPart, p []byte) (int, error) {
	if part.size >= 0 {
		p = p[:min(int64(len(p)), part.size-r.off)]
	}
	switch {
	case part.path != "":
		if r.f == nil {
			f, err := openRegular(part.path, os.O_RDONLY, 0)
			if err != nil {
				return 0, err
			}
			r.f = f
		}
		return r.f.Read(p)
	case part.r != nil:
		r.m.used = true
		return part.r.Read(p)
	default:
		if r.off >= int64(len(part.value)) {
			return 0, io.EOF
		}
		return copy(p, part.value[r.off:]), nil
	}
}

func partShort(part *mpPart, got int64) error {
	what := "part"
	if part.path != "" {
		what = part.path
	}
	return fmt.Errorf("httprequest: multipart %s ended before its size: %w", what, io.ErrUnexpectedEOF)
}

// next moves to the next part, closing the current file.
func (r *MultipartReader) next() {
	r.closeFile()
	r.i, r.off, r.head = r.i+1, 0, false
}

func (r *MultipartReader) closeFile() {
	if r.f != nil {
		_ = r.f.Close()
		r.f = nil
	}
}

// Seek supports Seek(0, io.SeekCurrent) (the position) and Seek(0,
// io.SeekStart) (start again: files are read anew; a Reader part is
// rewound when it is an io.Seeker, else the seek fails once it was read).
func (r *MultipartReader) Seek(offset int64, whence int) (int64, error) {
	switch {
	case offset == 0 && whence == io.SeekCurrent:
		return r.pos, nil
	case offset == 0 && whence == io.SeekStart:
	default:
		return r.pos, errMultipartSeek
	}
	if err := r.m.rewind(); err != nil {
		return r.pos, err
	}
	r.closeFile()
	r.i, r.off, r.head, r.pos = 0, 0, false, 0
	return 0, nil
}

// Close closes the file being read, if any.
func (r *MultipartReader) Close() error {
	r.closeFile()
	return nil
}

// RequestMultipart is RequestStream with the body m: its Content-Type
// header is added after headers, its length is m.Len() (chunked when
// unknown), and the reader is closed when the request ends. A redirect that
// keeps the body sends it again (files are read anew).
func (n *HTTPRequest) RequestMultipart(url string, headers []string, method httpclient.Method, m *Multipart) error {
	body, hdrs, err := m.request(headers)
	if err != nil {
		return err
	}
	up, err := newUpload(hdrs, body, m.Len())
	if err != nil {
		return err
	}
	up.owned = body
	if err := n.requestRaw(url, hdrs, method, nil, up); err != nil {
		if !errors.Is(err, godot.ErrCantConnect) {
			_ = body.Close() // no run owns it
		}
		return err
	}
	return nil
}

// DoMultipart is DoStream with the body m: see RequestMultipart.
func (n *HTTPRequest) DoMultipart(ctx context.Context, url string, headers []string, method httpclient.Method, m *Multipart) (Completion, error) {
	body, hdrs, err := m.request(headers)
	if err != nil {
		return Completion{}, err
	}
	defer body.Close()
	up, err := newUpload(hdrs, body, m.Len())
	if err != nil {
		return Completion{}, err
	}
	return n.do(ctx, url, hdrs, method, nil, up)
}

// request opens the body and adds its Content-Type to headers.
func (m *Multipart) request(headers []string) (*MultipartReader, []string, error) {
	if m == nil {
		return nil, nil, godot.Wrap(godot.ErrInvalidParameter, "request_multipart", errors.New("nil *Multipart"))
	}
	body, err := m.Open()
	if err != nil {
		return nil, nil, godot.Wrap(godot.ErrInvalidParameter, "request_multipart", err)
	}
	hdrs := make([]string, 0, len(headers)+1)
	for _, h := range headers {
		if wire.HasPrefixFold(strings.TrimSpace(h), "content-type:") {
			continue // the body's own
		}
		hdrs = append(hdrs, h)
	}
	return body, append(hdrs, m.Header()), nil
}
