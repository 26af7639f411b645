// Package kagen is a test helper for the generated keep-alive harnesses
// (httpclient's and httprequest's kagen_test.go): seeded sequences of 2–6
// requests, each with the answer one server connection gives it — framed by
// Content-Length (0, small, large), chunked (extensions, trailers, the last
// chunk split anywhere), read until the close, a HEAD answer with a length
// or chunked, 204/304 with or without a lying length, a 1xx before the final
// answer, Connection: close / keep-alive, HTTP/1.0, ambiguous framing, a
// body cut short, bytes after the body (garbage or a whole response nobody
// asked for, at once or a little later), a close while idle — and a server
// that plays them, answering by the request's path (/k<i>), so that a retry
// on a new connection gets the same answer.
//
// The oracle of each answer is computed here from Godot's rules (§1.8–§1.10)
// and the port's (COMPAT R4, H5, §7 D2): Reuse says whether the rules allow
// a connection to carry another request after it; the server records every
// request on a connection the rules had already retired (Server.Violations).
//
// It imports no package of the module, so that the checks are independent
// of the code under test.
package kagen

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// After is what the server does once an answer is written.
type After int

const (
	Keep       After = iota // reads the next request
	Close                   // closes at once (FIN right after the bytes)
	CloseLater              // closes a few milliseconds later, before the next request (a FIN the client sees)
)

func (a After) String() string { return [...]string{"keep", "close", "close-later"}[a] }

// Gap is how long a client waits before its next request after an answer
// with a late part (ExtraLate, CloseLater), so that what came late has
// arrived; the server's late part comes LateDelay after the answer.
const (
	LateDelay = 3 * time.Millisecond
	Gap       = 40 * time.Millisecond
)

// Answer is what the server sends for one request, and its oracle.
type Answer struct {
	Kind    string // a name for tallies and logs
	Interim string // a 1xx head sent before Head
	Head    string // the response head, blank line included
	Body    []byte // the body bytes on the wire (framing included)
	Payload []byte // the body Godot reads for this answer on a fresh connection (de-chunked, not decoded)
	Gzip    bool   // Payload is gzip (Content-Encoding: gzip)
	Extra   []byte // bytes after the body nobody asked for
	Late    bool   // Extra is sent LateDelay after the answer
	After   After
	Splits  []int // split points of Wire()
	// DropIfReused: when the request is not the first on its connection,
	// the server reads it and closes without a byte of answer (an idle
	// connection the server closed just as the client wrote on it: no FIN
	// the client could see before writing).
	DropIfReused bool

	// Reuse reports whether the rules allow another request on the
	// connection after this answer (RFC 9112 §9.3 and the port's §7 D2):
	// a final status, framed by a length or chunks (or 204/304 without a
	// length), HTTP/1.1 without "close" or HTTP/1.0 with keep-alive, not
	// ambiguous, read to its end, nothing after it, not closed.
	Reuse bool
	// Clean: the answer is well-formed; a fresh Godot client reads Payload
	// in full (node: RESULT_SUCCESS).
	Clean bool
	// Ambiguous: COMPAT R4 flags the head (H5: the bare client retires the
	// connection after the body).
	Ambiguous bool
}

// Wire is every byte the server writes at once for the answer.
func (a Answer) Wire() []byte {
	var b []byte
	b = append(b, a.Interim...)
	b = append(b, a.Head...)
	b = append(b, a.Body...)
	if !a.Late {
		b = append(b, a.Extra...)
	}
	return b
}

func (a Answer) String() string {
	s := a.Kind
	if len(a.Extra) > 0 {
		s += fmt.Sprintf(" extra=%q late=%v", trim(a.Extra), a.Late)
	}
	if a.After != Keep {
		s += " " + a.After.String()
	}
	if a.DropIfReused {
		s += " drop-if-reused"
	}
	return s + fmt.Sprintf(" reuse=%v clean=%v splits=%v", a.Reuse, a.Clean, a.Splits)
}

func trim(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// Step is one request of a sequence.
type Step struct {
	Index  int
	Method string // GET, HEAD or POST
	Body   []byte // a POST's body
	Gzip   bool   // node: accept_gzip
	Limit  int64  // node: body_size_limit (−1: none)
	Driver int    // node: the driver (the harness's own numbering)
	Answer Answer
}

// Path is the request target of step i.
func Path(i int) string { return "/k" + strconv.Itoa(i) }

func (s Step) String() string {
	return fmt.Sprintf("#%d %s gzip=%v limit=%d driver=%d: %v", s.Index, s.Method, s.Gzip, s.Limit, s.Driver, s.Answer)
}

// Marker is the body text of step i: every body says whose it is, so that
// bytes of another response in it show.
func Marker(i int) string { return fmt.Sprintf("<%02d>", i) }

// EvilMarker is in every byte the server sends unasked.
const EvilMarker = "EVIL"

// Options shape a sequence.
type Options struct {
	Drivers int  // node drivers to draw from (0: none)
	Large   bool // bodies above 64 KiB may come
}

// Generate returns a sequence of 2–6 steps for seed.
func Generate(seed uint64, o Options) []Step {
	r := rand.New(rand.NewPCG(seed, 0x6b61))
	n := 2 + r.IntN(5)
	steps := make([]Step, n)
	for i := range steps {
		s := Step{Index: i, Limit: -1}
		switch k := r.IntN(10); {
		case k < 6:
			s.Method = "GET"
		case k < 8:
			s.Method = "HEAD"
		default:
			s.Method = "POST"
			s.Body = bytes.Repeat([]byte("p"), 1+r.IntN(3000))
		}
		s.Gzip = r.IntN(2) == 0
		if o.Drivers > 0 {
			s.Driver = r.IntN(o.Drivers)
		}
		s.Answer = genAnswer(r, i, s.Method, s.Gzip, o)
		if r.IntN(6) == 0 && len(s.Answer.Payload) > 4 {
			s.Limit = int64(r.IntN(len(s.Answer.Payload)))
		}
		steps[i] = s
	}
	return steps
}

func payload(r *rand.Rand, i int, o Options) []byte {
	var size int
	switch k := r.IntN(10); {
	case k < 1:
		size = 1 + r.IntN(3)
	case k < 8:
		size = 4 + r.IntN(3000)
	default:
		if o.Large {
			size = 65536 + r.IntN(200<<10)
		} else {
			size = 5000 + r.IntN(20000)
		}
	}
	m := Marker(i)
	return []byte(strings.Repeat(m, size/len(m)+1)[:size])
}

func gzipped(p []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write(p)
	_ = w.Close()
	return b.Bytes()
}

// chunkedBody frames p in random chunks; ext adds an extension to the first
// size line (Godot: CONNECTION_ERROR, §1.10.2.2), trailer a trailer field.
func chunkedBody(r *rand.Rand, p []byte, ext, trailer bool) []byte {
	var b []byte
	first := true
	for len(p) > 0 {
		n := 1 + r.IntN(min(len(p), 9000))
		b = strconv.AppendInt(b, int64(n), 16)
		if ext && first {
			b = append(b, ";a=b"...)
		}
		first = false
		b = append(b, "\r\n"...)
		b = append(b, p[:n]...)
		b = append(b, "\r\n"...)
		p = p[n:]
	}
	b = append(b, "0\r\n"...)
	if trailer {
		b = append(b, "X-Trailer: t\r\n"...)
	}
	return append(b, "\r\n"...)
}

func genAnswer(r *rand.Rand, i int, method string, gz bool, o Options) Answer {
	head := method == "HEAD"
	p := payload(r, i, o)
	var a Answer
	a.Clean, a.Reuse = true, true
	enc := ""
	if gz && !head && r.IntN(3) == 0 {
		p = gzipped(p)
		a.Gzip = true
		enc = "Content-Encoding: gzip\r\n"
	}
	cl := func(n int) string { return "Content-Length: " + strconv.Itoa(n) + "\r\n" }
	kinds := []string{"cl", "cl0", "chunked", "chunked-ext", "until-close", "204", "304", "1xx",
		"conn-close", "keep-alive", "http10", "http10-keep-alive", "ambiguous", "cut", "no-framing"}
	kind := kinds[r.IntN(len(kinds))]
	a.Kind = kind
	body := func(b []byte) {
		if !head {
			a.Body = b
			a.Payload = p
		}
	}
	switch kind {
	case "cl":
		a.Head = "HTTP/1.1 200 OK\r\n" + enc + cl(len(p)) + "\r\n"
		body(p)
	case "cl0":
		a.Head = "HTTP/1.1 200 OK\r\nX-Index: " + strconv.Itoa(i) + "\r\n" + cl(0) + "\r\n"
		p = nil
	case "chunked":
		if head {
			a.Kind = "head-chunked"
		}
		a.Head = "HTTP/1.1 200 OK\r\n" + enc + "Transfer-Encoding: chunked\r\n\r\n"
		body(chunkedBody(r, p, false, r.IntN(2) == 0))
	case "chunked-ext":
		a.Head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		if head {
			a.Kind = "head-chunked"
		} else {
			body(chunkedBody(r, p, true, false))
			a.Clean, a.Reuse = false, false // §1.10.2.2: CONNECTION_ERROR
		}
	case "until-close":
		a.Head = "HTTP/1.1 200 OK\r\n" + enc + "Connection: close\r\n\r\n"
		body(p)
		a.After = Close
		a.Reuse = false
	case "204", "304":
		code := map[string]string{"204": "204 No Content", "304": "304 Not Modified"}[kind]
		switch r.IntN(3) {
		case 0:
			a.Head = "HTTP/1.1 " + code + "\r\nX-Index: " + strconv.Itoa(i) + "\r\n\r\n"
		case 1:
			a.Head = "HTTP/1.1 " + code + "\r\nX-Index: " + strconv.Itoa(i) + "\r\n" + cl(0) + "\r\n"
		default:
			// A lying length (§1.8.7: Godot waits for it; R4: ambiguous):
			// the bytes that follow (as if the server's next answer) are
			// what Godot reads as its body.
			n := 5 + r.IntN(20)
			a.Kind += "-lying-length"
			a.Head = "HTTP/1.1 " + code + "\r\n" + cl(n) + "\r\n"
			if !head {
				a.Body = []byte(strings.Repeat(EvilMarker, n/4+1)[:n])
				a.Payload = a.Body
			}
			a.Reuse, a.Ambiguous = false, true
		}
		p = nil
	case "1xx":
		// §1.8.7: the 1xx is the answer; the real one stays in the socket.
		if r.IntN(2) == 0 {
			a.Interim = "HTTP/1.1 100 Continue\r\n\r\n"
		} else {
			a.Interim = "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
		}
		a.Head = "HTTP/1.1 200 OK\r\n" + enc + cl(len(p)) + "\r\n"
		if !head {
			a.Body = p
		}
		a.Payload = nil
		a.Reuse = false
	case "conn-close":
		a.Head = "HTTP/1.1 200 OK\r\n" + enc + cl(len(p)) + "Connection: close\r\n\r\n"
		body(p)
		a.Reuse = false
		a.After = []After{Keep, Close, CloseLater}[r.IntN(3)]
	case "keep-alive":
		a.Head = "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n" + enc + cl(len(p)) + "\r\n"
		body(p)
	case "http10":
		a.Head = "HTTP/1.0 200 OK\r\n" + enc + cl(len(p)) + "\r\n"
		body(p)
		a.Reuse = false
		a.After = []After{Keep, Close}[r.IntN(2)]
	case "http10-keep-alive":
		a.Head = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n" + enc + cl(len(p)) + "\r\n"
		body(p)
	case "ambiguous":
		a.Reuse, a.Ambiguous = false, true
		switch r.IntN(3) {
		case 0: // CL + TE: Godot reads chunks (§1.9)
			a.Kind = "ambiguous-cl-te"
			a.Head = "HTTP/1.1 200 OK\r\n" + enc + cl(len(p)+7) + "Transfer-Encoding: chunked\r\n\r\n"
			body(chunkedBody(r, p, false, false))
		case 1: // two lengths: the last wins (§1.8.3)
			a.Kind = "ambiguous-two-cl"
			a.Head = "HTTP/1.1 200 OK\r\n" + enc + cl(len(p)+3) + cl(len(p)) + "\r\n"
			body(p)
		default: // HTTP/1.0 + TE (RFC 9112 §6.1)
			a.Kind = "ambiguous-http10-te"
			a.Head = "HTTP/1.0 200 OK\r\n" + enc + "Transfer-Encoding: chunked\r\n\r\n"
			body(chunkedBody(r, p, false, false))
		}
		if head {
			// HEAD: no body follows; still flagged ambiguous by R4 except
			// the two-lengths case, where the values differ too.
			a.Ambiguous = true
		}
	case "cut":
		a.Clean, a.Reuse = false, false
		a.After = Close
		if head {
			a.Kind = "head-cl"
			a.Head = "HTTP/1.1 200 OK\r\n" + cl(len(p)+10) + "\r\n"
			a.Clean, a.Reuse, a.After = true, true, Keep
			break
		}
		if r.IntN(2) == 0 {
			a.Kind = "cut-cl"
			a.Head = "HTTP/1.1 200 OK\r\n" + enc + cl(len(p)+10) + "\r\n"
			a.Body = p
		} else {
			a.Kind = "cut-chunked"
			a.Head = "HTTP/1.1 200 OK\r\n" + enc + "Transfer-Encoding: chunked\r\n\r\n"
			b := chunkedBody(r, p, false, false)
			a.Body = b[:len(b)-5] // "0\r\n\r\n" missing
		}
		a.Payload = p
	case "no-framing":
		// §1.9: no length, no chunks, no close: Godot reads no body; the
		// bytes sent stay in the socket.
		a.Head = "HTTP/1.1 200 OK\r\nX-Index: " + strconv.Itoa(i) + "\r\n\r\n"
		if !head {
			a.Body = p
		}
		a.Payload = nil
		a.Reuse = head // HEAD: a length of 0 (§1.8.6), framed
	}
	if head {
		a.Payload = nil
		a.Gzip = false
	}
	if a.After == Keep && r.IntN(5) == 0 {
		// Bytes nobody asked for after the answer.
		if r.IntN(2) == 0 {
			a.Extra = []byte(EvilMarker + " garbage\r\n")
		} else {
			a.Extra = []byte("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n" + EvilMarker)
		}
		a.Late = r.IntN(2) == 0
		a.Reuse = false
	} else if a.After == Keep && a.Reuse && r.IntN(6) == 0 {
		a.After = CloseLater
		a.Reuse = false
	}
	a.DropIfReused = r.IntN(7) == 0
	// Split points within the answer proper: bytes nobody asked for come
	// with its last byte (or, Late, after it, before the next request), so
	// that they have arrived when the client decides on reuse — bytes that
	// arrive after that decision no client can notice (net/http neither).
	w := len(a.Interim) + len(a.Head) + len(a.Body)
	for k := r.IntN(4); k > 0 && w > 2; k-- {
		a.Splits = append(a.Splits, 1+r.IntN(w-1))
	}
	a.Splits = sortUnique(a.Splits)
	return a
}

func sortUnique(s []int) []int {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// NeedsGap reports whether the client must wait Gap after this answer
// before its next request (something of it comes late).
func (a Answer) NeedsGap() bool { return a.Late || a.After == CloseLater }

// Arrival is one request the server read.
type Arrival struct {
	Conn, Pos int    // connection number, position of the request on it
	Index     int    // the step (−1: a path not of the sequence)
	Method    string // the request's method
	Dropped   bool   // closed without an answer (DropIfReused)
	Retired   string // non-empty: the connection was retired by this earlier answer (a violation of the reuse rules)
}

// Server plays a sequence: every connection reads requests and answers each
// by its path. Godot: when true the reuse rules are Godot's (the bare
// client reuses any connection that is CONNECTED), so no arrival is a
// violation on its own.
type Server struct {
	Steps []Step
	Godot bool

	ln   net.Listener
	once sync.Once
	wg   sync.WaitGroup
	mu   sync.Mutex
	arr  []Arrival
	errs []error
	n    int
	conn []net.Conn
	done chan struct{}
}

// NewServer listens on 127.0.0.1.
func NewServer(steps []Step) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Steps: steps, ln: ln, done: make(chan struct{})}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Port is the port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server and joins its goroutines.
func (s *Server) Close() {
	s.once.Do(s.close)
}

func (s *Server) close() {
	close(s.done)
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conn {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Arrivals returns the requests read so far.
func (s *Server) Arrivals() []Arrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Arrival(nil), s.arr...)
}

// Errors returns the server's own failures (a write to a closed peer is
// not one).
func (s *Server) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// Connections is how many connections were accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		_ = c.(*net.TCPConn).SetNoDelay(true)
		s.mu.Lock()
		id := s.n
		s.n++
		s.conn = append(s.conn, c)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.serve(id, c)
		}()
	}
}

func (s *Server) sleep(d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-s.done:
		return false
	}
}

func (s *Server) serve(id int, c net.Conn) {
	var pending []byte
	buf := make([]byte, 64<<10)
	retired := ""
	for pos := 0; ; pos++ {
		// Read one request: the head, then a Content-Length body.
		var req []byte
		for {
			if end := bytes.Index(pending, []byte("\r\n\r\n")); end >= 0 {
				n := end + 4
				if cl := contentLength(pending[:n]); cl > 0 {
					n += cl
				}
				if len(pending) >= n {
					req, pending = pending[:n:n], pending[n:]
					break
				}
			}
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			k, err := c.Read(buf)
			pending = append(pending, buf[:k]...)
			if err != nil {
				if len(pending) > 0 {
					s.fail(fmt.Errorf("conn %d: %d bytes of a request, then %v", id, len(pending), err))
				}
				return
			}
		}
		line, _, _ := bytes.Cut(req, []byte("\r\n"))
		f := strings.Fields(string(line))
		a := Arrival{Conn: id, Pos: pos, Index: -1, Retired: retired}
		if len(f) >= 2 {
			a.Method = f[0]
			if v, err := strconv.Atoi(strings.TrimPrefix(f[1], "/k")); err == nil && strings.HasPrefix(f[1], "/k") && v >= 0 && v < len(s.Steps) {
				a.Index = v
			}
		}
		if s.Godot {
			a.Retired = ""
		}
		if a.Index < 0 {
			s.fail(fmt.Errorf("conn %d: unexpected request %q", id, line))
			return
		}
		st := s.Steps[a.Index]
		ans := st.Answer
		a.Dropped = ans.DropIfReused && pos > 0
		s.mu.Lock()
		s.arr = append(s.arr, a)
		s.mu.Unlock()
		if a.Dropped {
			return
		}
		w := ans.Wire()
		prev := 0
		for _, sp := range append(append([]int(nil), ans.Splits...), len(w)) {
			if _, err := c.Write(w[prev:sp]); err != nil {
				return
			}
			prev = sp
			if sp < len(w) && !s.sleep(200*time.Microsecond) {
				return
			}
		}
		if ans.Late {
			if !s.sleep(LateDelay) {
				return
			}
			if _, err := c.Write(ans.Extra); err != nil {
				return
			}
		}
		if !ans.Reuse && retired == "" {
			retired = fmt.Sprintf("#%d %s", a.Index, ans.Kind)
		}
		switch ans.After {
		case Close:
			return
		case CloseLater:
			s.sleep(LateDelay)
			return
		}
	}
}

func (s *Server) fail(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

func contentLength(head []byte) int {
	for _, l := range strings.Split(string(head), "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "content-length") {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// Check looks at the arrivals once a sequence is over: no request on a
// retired connection; each step's request answered once, or, after a drop,
// sent again on a new connection only when retry says so (the documented
// retry on a reused connection that died before any answer); got reports
// which steps the client says succeeded. It returns the problems found.
func Check(steps []Step, arr []Arrival, retry func(method string) bool) []string {
	var bad []string
	answered := make([]int, len(steps))
	dropped := make([]int, len(steps))
	for _, a := range arr {
		if a.Index < 0 || a.Index >= len(steps) {
			continue
		}
		if a.Retired != "" {
			bad = append(bad, fmt.Sprintf("request #%d (%s) sent on conn %d after %s retired it (§7 D2, RFC 9112 §9.3)", a.Index, a.Method, a.Conn, a.Retired))
		}
		if a.Method != steps[a.Index].Method {
			bad = append(bad, fmt.Sprintf("request #%d: method %s, want %s", a.Index, a.Method, steps[a.Index].Method))
		}
		if a.Dropped {
			dropped[a.Index]++
		} else {
			answered[a.Index]++
		}
	}
	for i, st := range steps {
		switch {
		case dropped[i] > 1:
			bad = append(bad, fmt.Sprintf("request #%d dropped %d times (retried on a reused connection)", i, dropped[i]))
		case answered[i] > 1:
			bad = append(bad, fmt.Sprintf("request #%d answered %d times", i, answered[i]))
		case dropped[i] == 1 && answered[i] == 1 && !retry(st.Method):
			bad = append(bad, fmt.Sprintf("request #%d (%s) retried after its reused connection died: not an idempotent method", i, st.Method))
		case dropped[i] == 1 && answered[i] == 0 && retry(st.Method):
			bad = append(bad, fmt.Sprintf("request #%d (%s) not retried after its reused connection died before any answer", i, st.Method))
		case dropped[i] == 0 && answered[i] == 0:
			bad = append(bad, fmt.Sprintf("request #%d never reached the server", i))
		}
	}
	return bad
}
