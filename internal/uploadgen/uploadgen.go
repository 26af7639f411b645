// Package uploadgen is a test helper for the generated upload harnesses
// (httpclient's and httprequest's uploadgen_test.go): seeded request-body
// readers with every awkward shape (short reads, one byte at a time, (0, nil)
// reads, io.EOF with the last bytes, an error or a panic mid-way, a Read that
// blocks then resumes, Seeker or not), and a loopback HTTP/1.1 server on
// 127.0.0.1, plain or TLS, that records every byte it receives on each
// connection and behaves as its plan says (reads slowly, answers early and
// closes or keeps reading, resets mid-body, closes after the head, sends an
// unsolicited 100 Continue, stalls, redirects).
//
// It imports no package of the module, so that the checks are independent of
// the code under test: ParseRequests reads the received bytes strictly.
package uploadgen

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrBoom is the error a Reader returns at ErrAt.
var ErrBoom = errors.New("uploadgen: the reader failed")

// PanicValue is what a Reader panics with at PanicAt.
const PanicValue = "uploadgen: the reader panicked"

// Shape is how many bytes a Read gives.
type Shape int

const (
	Whole   Shape = iota // as much as p takes
	OneByte              // one byte per Read
	Short                // a random 1..len(p)
	Odd                  // a random 1..7
)

func (s Shape) String() string { return [...]string{"whole", "onebyte", "short", "odd"}[s] }

// ReaderSpec describes a Reader.
type ReaderSpec struct {
	Data        []byte
	Shape       Shape
	Zeros       bool          // (0, nil) every third Read
	EOFWithLast bool          // io.EOF comes with the last bytes
	ErrAt       int           // −1: none; ErrBoom once ErrAt bytes were given
	ErrWithLast bool          // ErrBoom comes with the bytes that reach ErrAt
	PanicAt     int           // −1: none; a panic once PanicAt bytes were given
	BlockAt     int           // −1: none; one Read that reaches BlockAt sleeps BlockFor first
	BlockFor    time.Duration //
	Seeker      bool          // the Reader is an io.Seeker
	Seed        uint64
}

func (s ReaderSpec) String() string {
	return fmt.Sprintf("reader{len %d %v zeros=%v eofLast=%v err@%d(last=%v) panic@%d block@%d/%v seeker=%v}",
		len(s.Data), s.Shape, s.Zeros, s.EOFWithLast, s.ErrAt, s.ErrWithLast, s.PanicAt, s.BlockAt, s.BlockFor, s.Seeker)
}

// Reader is a ReaderSpec's reader. Its counters may be read once the
// request ended.
type Reader struct {
	s       ReaderSpec
	rng     *rand.Rand
	off     int
	calls   int
	blocked bool
	mu      sync.Mutex
	MaxOff  int // the furthest offset given
	Seeks   int // Seek(…, io.SeekStart) calls
}

// SeekReader is a Reader that is an io.Seeker.
type SeekReader struct{ *Reader }

// New returns the reader of s: a *SeekReader when s.Seeker, else a *Reader.
func New(s ReaderSpec) (io.Reader, *Reader) {
	r := &Reader{s: s, rng: rand.New(rand.NewPCG(s.Seed, 7))}
	if s.Seeker {
		return &SeekReader{r}, r
	}
	return r, r
}

// Offset is how many bytes the reader gave since its last rewind.
func (r *Reader) Offset() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.off
}

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	r.mu.Lock()
	s := r.s
	r.calls++
	if s.BlockAt >= 0 && !r.blocked && r.off <= s.BlockAt && r.off+len(p) > s.BlockAt {
		r.blocked = true
		r.mu.Unlock()
		time.Sleep(s.BlockFor)
		r.mu.Lock()
	}
	defer r.mu.Unlock()
	if s.PanicAt >= 0 && r.off == s.PanicAt {
		panic(PanicValue)
	}
	if s.ErrAt >= 0 && r.off == s.ErrAt {
		return 0, ErrBoom
	}
	if r.off == len(s.Data) {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if s.Zeros && r.calls%3 == 0 {
		return 0, nil
	}
	n := len(p)
	switch s.Shape {
	case OneByte:
		n = 1
	case Short:
		n = 1 + r.rng.IntN(len(p))
	case Odd:
		n = 1 + r.rng.IntN(7)
	}
	end := min(r.off+n, len(s.Data))
	for _, stop := range []int{s.ErrAt, s.PanicAt} {
		if stop >= 0 && r.off < stop && end > stop {
			end = stop
		}
	}
	n = copy(p, s.Data[r.off:end])
	r.off += n
	r.MaxOff = max(r.MaxOff, r.off)
	if s.ErrAt >= 0 && r.off == s.ErrAt && s.ErrWithLast {
		return n, ErrBoom
	}
	if r.off == len(s.Data) && s.EOFWithLast && (s.ErrAt < 0 || s.ErrAt > r.off) {
		return n, io.EOF
	}
	return n, nil
}

// Seek implements io.Seeker (SeekStart and SeekCurrent).
func (r *SeekReader) Seek(off int64, whence int) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch whence {
	case io.SeekStart:
		r.Seeks++
	case io.SeekCurrent:
		off += int64(r.off)
	default:
		return int64(r.off), errors.New("uploadgen: SeekEnd")
	}
	if off < 0 || off > int64(len(r.s.Data)) {
		return int64(r.off), errors.New("uploadgen: seek out of range")
	}
	r.off = int(off)
	r.blocked = false
	return off, nil
}

// Behaviour is what the server does with a connection.
type Behaviour int

const (
	Normal         Behaviour = iota // read the request, answer, read on
	Slow                            // as Normal, reading a few bytes at a time with pauses
	Continue100                     // an unsolicited "100 Continue" once the head came, then as Normal
	EarlyClose                      // once the head came: answer 413 (Connection: close) and close, the body unread
	EarlyDrain                      // once the head came: answer 413 and read on (the client may finish the body)
	ResetAt                         // RST once At bytes came
	CloseAfterHead                  // close (no answer) once the head came
	Stall                           // once the head came, read nothing for StallFor, then as Normal
)

func (b Behaviour) String() string {
	return [...]string{"normal", "slow", "continue100", "earlyclose", "earlydrain", "reset", "closeafterhead", "stall"}[b]
}

// Plan is what the server does on one connection.
type Plan struct {
	B        Behaviour
	At       int           // ResetAt's byte count
	StallFor time.Duration // Stall's pause
	// Responses are the answers to the connection's requests in turn
	// (a complete response each); past the end, an empty 200.
	Responses []string
	// EarlyResp replaces Early as EarlyClose's and EarlyDrain's answer.
	EarlyResp string
}

func (p Plan) early() string {
	if p.EarlyResp != "" {
		return p.EarlyResp
	}
	return Early
}

func (p Plan) String() string {
	switch p.B {
	case ResetAt:
		return fmt.Sprintf("reset@%d", p.At)
	case Stall:
		return fmt.Sprintf("stall %v", p.StallFor)
	}
	return p.B.String()
}

// OK is an empty 200.
const OK = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

// Early is EarlyClose's and EarlyDrain's answer.
const Early = "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

// Conn is what the server saw on one connection.
type Conn struct {
	mu     sync.Mutex
	got    []byte
	ended  bool
	endErr error // the read that ended it (io.EOF: the client closed)
	done   chan struct{}
	byUs   bool // the server closed it (its plan)
}

// Got returns the bytes received so far.
func (c *Conn) Got() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.got)
}

// Done is closed when the connection ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// End returns how it ended: byServer when the plan closed it, else the error
// of the read that saw the client's end (io.EOF for a FIN).
func (c *Conn) End() (byServer bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byUs, c.endErr
}

// Server is a loopback server; every accepted connection follows the plan
// Plans gives for its index.
type Server struct {
	ln    net.Listener
	tls   *tls.Config
	plans func(i int) Plan
	mu    sync.Mutex
	conns []*Conn
	wg    sync.WaitGroup
	quit  chan struct{}
	open  map[net.Conn]struct{}
}

// NewServer starts a server on 127.0.0.1 (TLS when cfg is not nil).
func NewServer(cfg *tls.Config, plans func(i int) Plan) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, tls: cfg, plans: plans, quit: make(chan struct{}), open: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Port is the server's port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Conns returns the connections accepted so far.
func (s *Server) Conns() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Conn(nil), s.conns...)
}

// Close stops the server and ends every connection; it returns when all its
// goroutines did.
func (s *Server) Close() {
	close(s.quit)
	_ = s.ln.Close()
	s.mu.Lock()
	for c := range s.open {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		raw, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		i := len(s.conns)
		c := &Conn{done: make(chan struct{})}
		s.conns = append(s.conns, c)
		s.open[raw] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(raw, c, s.plans(i))
			s.mu.Lock()
			delete(s.open, raw)
			s.mu.Unlock()
		}()
	}
}

// serve runs one connection.
func (s *Server) serve(raw net.Conn, c *Conn, p Plan) {
	defer close(c.done)
	defer raw.Close()
	var conn net.Conn = raw
	if s.tls != nil {
		tc := tls.Server(raw, s.tls)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			c.finish(err, false)
			return
		}
		_ = tc.SetDeadline(time.Time{})
		conn = tc
	}
	reset := func() {
		if tcp, ok := raw.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
		}
		_ = raw.Close()
		c.finish(nil, true)
	}
	rng := rand.New(rand.NewPCG(uint64(p.At), uint64(p.B)))
	buf := make([]byte, 64<<10)
	answered := 0 // requests answered
	headDone := false
	var acted bool
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-s.quit:
			c.finish(errors.New("server closed"), true)
			return
		default:
		}
		want := len(buf)
		if p.B == ResetAt {
			c.mu.Lock()
			want = min(want, p.At-len(c.got))
			c.mu.Unlock()
			if want <= 0 {
				reset()
				return
			}
		}
		if p.B == Slow {
			want = 1 + rng.IntN(4096)
			time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
		}
		_ = conn.SetReadDeadline(deadline)
		n, err := conn.Read(buf[:want])
		c.mu.Lock()
		c.got = append(c.got, buf[:n]...)
		got := c.got
		c.mu.Unlock()
		if err != nil {
			c.finish(err, false)
			return
		}
		reqs, _ := ScanRequests(got)
		if !headDone && len(reqs) > 0 && reqs[0].HeadEnd > 0 {
			headDone = true
		}
		if headDone && !acted {
			acted = true
			switch p.B {
			case Continue100:
				if _, err := conn.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n")); err != nil {
					c.finish(err, true)
					return
				}
			case EarlyClose:
				_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
				_, _ = conn.Write([]byte(p.early()))
				_ = raw.Close()
				c.finish(nil, true)
				return
			case EarlyDrain:
				_, _ = conn.Write([]byte(p.early()))
				answered = 1 << 30
			case CloseAfterHead:
				_ = raw.Close()
				c.finish(nil, true)
				return
			case Stall:
				time.Sleep(p.StallFor)
			}
		}
		for ; answered < len(reqs) && reqs[answered].Complete(); answered++ {
			resp := OK
			if answered < len(p.Responses) {
				resp = p.Responses[answered]
			}
			_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := conn.Write([]byte(resp)); err != nil {
				c.finish(err, true)
				return
			}
		}
	}
}

func (c *Conn) finish(err error, byUs bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	c.ended, c.endErr, c.byUs = true, err, byUs
}

// Request is one request found in the received bytes.
type Request struct {
	Head    string // up to and including the blank line; "" while incomplete
	HeadEnd int    // offset of the body in the bytes; 0 while the head is incomplete
	Length  int64  // Content-Length (0 when none), −1 chunked
	Data    []byte // the body's data so far (chunked: decoded; nil from ScanRequests)
	End     int    // offset just past the request when Complete, else −1
	Chunks  []int  // the chunk sizes seen (chunked)
}

// Complete reports whether the whole request came.
func (r Request) Complete() bool { return r.End >= 0 }

// ParseRequests splits b into the requests it holds, the last one possibly
// incomplete. A framing error (a bad chunk line, a missing CR LF after a
// chunk's data, trailers, a Content-Length that is not a number) is
// returned with the requests parsed before it.
func ParseRequests(b []byte) ([]Request, error) { return parseRequests(b, true) }

// ScanRequests is ParseRequests without a chunked body's Data (nil): what a
// server that re-reads everything it received after each read needs (where
// the heads end, which requests are complete), without copying megabytes
// of body each time — under -race that copy made a server fall seconds
// behind a client uploading a few MiB in small reads.
func ScanRequests(b []byte) ([]Request, error) { return parseRequests(b, false) }

func parseRequests(b []byte, data bool) ([]Request, error) {
	var out []Request
	off := 0
	for off < len(b) {
		r, err := parseOne(b[off:], data)
		if r.HeadEnd > 0 {
			r.HeadEnd += off
		}
		if r.End >= 0 {
			r.End += off
		}
		out = append(out, r)
		if err != nil {
			return out, err
		}
		if !r.Complete() {
			return out, nil
		}
		off = r.End
	}
	return out, nil
}

func parseOne(b []byte, data bool) (Request, error) {
	r := Request{End: -1}
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		return r, nil
	}
	r.HeadEnd = i + 4
	r.Head = string(b[:r.HeadEnd])
	for _, line := range strings.Split(r.Head, "\r\n")[1:] {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "content-length":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 {
				return r, fmt.Errorf("bad Content-Length %q", value)
			}
			r.Length = n
		case "transfer-encoding":
			if !strings.EqualFold(value, "chunked") {
				return r, fmt.Errorf("Transfer-Encoding %q", value)
			}
			r.Length = -1
		}
	}
	body := b[r.HeadEnd:]
	if r.Length >= 0 {
		k := min(int64(len(body)), r.Length)
		r.Data = body[:k]
		if k == r.Length {
			r.End = r.HeadEnd + int(k)
		}
		return r, nil
	}
	p := 0
	for {
		j := bytes.Index(body[p:], []byte("\r\n"))
		if j < 0 {
			if len(body)-p > 18 {
				return r, errors.New("chunk size line too long")
			}
			return r, nil
		}
		line := string(body[p : p+j])
		size, err := strconv.ParseUint(line, 16, 63)
		if err != nil || line == "" || strings.ToLower(line) != line || (len(line) > 1 && line[0] == '0') {
			return r, fmt.Errorf("bad chunk size line %q", line)
		}
		p += j + 2
		if size == 0 {
			if len(body)-p < 2 {
				if len(body) > p && body[p] != '\r' {
					return r, errors.New("trailer after the last chunk")
				}
				return r, nil
			}
			if body[p] != '\r' || body[p+1] != '\n' {
				return r, errors.New("trailer after the last chunk")
			}
			r.End = r.HeadEnd + p + 2
			return r, nil
		}
		r.Chunks = append(r.Chunks, int(size))
		avail := min(len(body)-p, int(size))
		if data {
			if r.Data == nil {
				r.Data = make([]byte, 0, len(body)-p) // the decoded data is never longer
			}
			r.Data = append(r.Data, body[p:p+avail]...)
		}
		if avail < int(size) {
			return r, nil
		}
		p += int(size)
		if len(body)-p < 2 {
			if len(body) > p && body[p] != '\r' {
				return r, errors.New("no CR LF after a chunk's data")
			}
			return r, nil
		}
		if body[p] != '\r' || body[p+1] != '\n' {
			return r, errors.New("no CR LF after a chunk's data")
		}
		p += 2
	}
}
