package httpclient

import (
	"errors"
	"io"
	"strconv"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/wire"
)

// Streamed request bodies (issue 10, §7.2 opt-in): RequestStream sends a
// body read from an io.Reader instead of a byte slice. With a known length
// the bytes on the wire are exactly Godot's for a body of that size (§1.7:
// the same head, Content-Length where Godot writes it, then the body); an
// unknown length is sent chunked, which Godot never does.
//
// Poll reads the body in reads of at most reqBodyBuf and writes each as it
// is read (fillBody). Blocking mode writes it all in the Poll that sends the
// request; non-blocking mode writes what the socket takes without waiting
// (at most pollWriteBudget of body per Poll) and returns: on plain TCP what
// the socket did not take is written by the next Poll, with no goroutine
// (Godot's non-blocking write); under TLS too, the record the socket did
// not take waiting whole (a record must not be cut).

const (
	// reqBodyBuf is the most a body read takes from the reader at once: one
	// write's worth of body.
	reqBodyBuf = 64 << 10
	// pollWriteBudget bounds the body bytes one non-blocking Poll reads and
	// hands to the socket, so a fast reader and a fast peer cannot keep a
	// Poll (a game frame) for long.
	pollWriteBudget = 1 << 20
	// maxChunkLine is the room kept before a chunk's data for its size line
	// (16 hex digits and CR LF).
	maxChunkLine = 18
	// maxEmptyReads is how many (0, nil) reads in a row a reader may give
	// before the body fails with io.ErrNoProgress (bufio's rule).
	maxEmptyReads = 100
)

// RequestBodyError is the cause of the CONNECTION_ERROR that ends a
// streamed request (RequestStream) whose body could not be sent: the reader
// failed (Err is its error, errors.Is finds it) or ended before the
// declared length (Err is io.ErrUnexpectedEOF). The client closes the
// connection at once, so a body cut short never leaves the connection
// expecting bytes that are not coming (never a desynced keep-alive).
type RequestBodyError struct {
	Read   int64 // body bytes taken from the reader
	Length int64 // the declared length, −1 for a chunked body
	Err    error
}

// Error says how far the body got and why it stopped.
func (e *RequestBodyError) Error() string {
	s := "httpclient: request body: "
	if errors.Is(e.Err, io.ErrUnexpectedEOF) {
		return s + "the reader ended after " + strconv.FormatInt(e.Read, 10) +
			" of " + strconv.FormatInt(e.Length, 10) + " bytes"
	}
	return s + "read failed after " + strconv.FormatInt(e.Read, 10) + " bytes: " + e.Err.Error()
}

// Unwrap returns Err.
func (e *RequestBodyError) Unwrap() error { return e.Err }

var (
	errBadStreamLength = errors.New("httpclient: request body length must be ≥ −1")
	errChunkedHeader   = errors.New("httpclient: a chunked request body does not go with a Content-Length or Transfer-Encoding header")
)

// reqBody is the streamed body of the current request.
type reqBody struct {
	r       io.Reader // nil: no streamed body, or all of it is in c.req
	length  int64     // declared length, −1: chunked
	left    int64     // bytes still to read (known length)
	read    int64     // bytes taken from r
	started bool      // the first read was made (coalesced with the head)
	stream  bool      // the request has a streamed body (RequestStream)
	reading bool      // Poll is in r.Read (fillBody)
}

// errReentered is what fillBody reports when the body's reader closed the
// client or connected it again (Close, ConnectToHost, SetConnection): the
// request it was reading for is gone, and Poll leaves the new state alone.
var errReentered = errors.New("httpclient: the request body's reader reset the client")

// RequestStream prepares a request whose body is read from body while it is
// sent; like RequestRaw nothing is sent until Poll, and the request is
// validated the same way (§1.7, with the same errors).
//
// length ≥ 0 is the body's size: the request is byte for byte the one
// RequestRaw writes for a body of that size (Content-Length only when
// length > 0 and no user header starts with "Content-Length:", §1.7.10);
// exactly length bytes are read and sent — a reader that ends earlier fails
// the request, one with more left is not read further. length 0 sends no
// body and never reads body. length −1 means unknown: the body is sent
// chunked, "Transfer-Encoding: chunked" taking Content-Length's place among
// the automatic headers, until the reader returns io.EOF (Godot never sends
// a chunked request; the server must accept one); a user header starting
// with "Content-Length:" or "Transfer-Encoding:" is then refused with
// ErrInvalidParameter.
//
// Poll reads body on the caller's goroutine and writes each piece as it is
// read; the status stays REQUESTING until the whole body is sent (§1.6.4).
// A reader that blocks blocks Poll: give one that has its data (a file, a
// buffer). The reader may call Abort and BytesSent; a Poll it makes does
// nothing, and a Close or ConnectToHost ends the request it reads for
// (the Poll that called it then returns nil and changes nothing more).
//
// A read error, or io.EOF before length bytes, ends the request: the
// connection is closed, status CONNECTION_ERROR, and Poll returns
// ErrConnectionError wrapping a *RequestBodyError; so does a reader that
// panics, its panic then going on to Poll's caller. The client does not
// close body; it keeps no reference to it once the request is sent or
// failed. BytesSent reports the progress.
func (c *Client) RequestStream(method Method, url string, headers []string, body io.Reader, length int64) error {
	if body == nil || length == 0 {
		return c.request(method, url, headers, nil, 0)
	}
	if length < -1 {
		return godot.Wrap(ErrInvalidParameter, "request", errBadStreamLength)
	}
	if length < 0 {
		if wire.HasLinePrefix(headers, "content-length:") || wire.HasLinePrefix(headers, "transfer-encoding:") {
			return godot.Wrap(ErrInvalidParameter, "request", errChunkedHeader)
		}
	}
	if err := c.request(method, url, headers, nil, length); err != nil {
		return err
	}
	c.rb = reqBody{r: body, length: length, left: length, stream: true}
	return nil
}

// BytesSent returns how many bytes of the current (or last) request's body
// were written to the connection: the data of a chunked body without its
// framing. It starts at 0 with each request and keeps its value after the
// request ended, failed or the client closed. It is safe to call from any
// goroutine (an upload's progress, while a blocking Poll sends).
func (c *Client) BytesSent() int64 { return c.sent.Load() }

// wrote accounts n more bytes of c.req as written.
func (c *Client) wrote(n int) { c.sent.Add(c.passWritten(n)) }

// passWritten moves past n more bytes of c.req and returns how many of them are
// body bytes.
func (c *Client) passWritten(n int) int64 {
	from := c.woff
	c.woff += n
	lo, hi := max(from, c.wpre), min(c.woff, c.wpre+c.wpay)
	return int64(max(hi-lo, 0))
}

// fillBody reads the next piece of the streamed body and appends it to
// c.req, framed when chunked; the terminating chunk follows the reader's
// io.EOF. c.req[c.wpre:c.wpre+c.wpay] is the body data it added.
func (c *Client) fillBody() error {
	b := &c.rb
	b.started = true
	start := len(c.req)
	chunked := b.length < 0
	want := reqBodyBuf
	if !chunked && b.left < int64(want) {
		want = int(b.left)
	}
	hdr := 0
	if chunked {
		hdr = maxChunkLine
	}
	need := start + hdr + want + len("\r\n0\r\n\r\n")
	if cap(c.req) < need {
		nb := make([]byte, start, max(need, reqBodyBuf+maxChunkLine+512))
		copy(nb, c.req)
		c.req = nb
	}
	full := c.req[:need]
	data := full[start+hdr : start+hdr+want]
	st := c.st
	n, err := c.readBody(data)
	if c.st != st || !b.reading { // the reader reset the client (resetIO)
		return errReentered
	}
	b.reading = false
	b.read += int64(n)
	eof := err == io.EOF
	if err != nil && !eof {
		b.r = nil
		return &RequestBodyError{Read: b.read, Length: b.length, Err: err}
	}
	c.wpre, c.wpay = start, n
	if !chunked {
		c.req = full[:start+n]
		if b.left -= int64(n); b.left == 0 {
			b.r = nil
		} else if eof {
			b.r = nil
			return &RequestBodyError{Read: b.read, Length: b.length, Err: io.ErrUnexpectedEOF}
		}
		return nil
	}
	p := start
	if n > 0 {
		line := strconv.AppendInt(full[start:start], int64(n), 16)
		line = append(line, '\r', '\n')
		p += len(line)
		copy(full[p:], data[:n])
		c.wpre = p
		p += n
		p += copy(full[p:], "\r\n")
	}
	c.req = full[:p]
	if eof {
		c.req = append(c.req, "0\r\n\r\n"...)
		b.r = nil
	}
	return nil
}

// readBody reads the streamed body into p (readSome) with b.reading set.
// A reader that panics ends the request as a read error does — the
// connection closed, status CONNECTION_ERROR, LastError a
// *RequestBodyError — and the panic goes on to Poll's caller: a client
// that recovers from it is not left in REQUESTING with every Poll doing
// nothing (b.reading), and can connect again.
func (c *Client) readBody(p []byte) (n int, err error) {
	b := &c.rb
	st := c.st
	b.reading = true
	returned := false
	defer func() {
		if !returned && b.reading && c.st == st { // panicking, the request still ours
			cause := &RequestBodyError{Read: b.read, Length: b.length, Err: errReaderPanicked}
			c.release() // clears b
			_ = c.fail(StatusConnectionError, ErrConnectionError, pollOp, cause)
		}
	}()
	n, err = readSome(b.r, p)
	returned = true
	return n, err
}

// errReaderPanicked is the cause of a request ended by its body's reader
// panicking (readBody).
var errReaderPanicked = errors.New("httpclient: the request body's reader panicked")

// readSome is one Read of r into p that gave something, io.EOF or an error;
// (0, nil) reads are retried, maxEmptyReads times.
func readSome(r io.Reader, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for range maxEmptyReads {
		n, err := r.Read(p)
		if n > 0 || err != nil {
			if n > 0 && err == io.EOF {
				return n, io.EOF
			}
			return n, err
		}
	}
	return 0, io.ErrNoProgress
}
