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
// Part 2 (Options.TLS, Resets, Redirects; Config): the same sequences over
// TLS with records of drawn sizes (one may hold the end of a body and bytes
// after it), close_notify or a bare FIN as the close, a close_notify right
// after an answer or while idle with the TCP connection left open; an RST
// instead of a FIN while idle or under a reused request, or after part of
// a head; a 301/302 first, to the same or another origin, itself framed
// by a length, chunks, the close, ambiguously or not at all; requests in
// absolute form (an HTTP proxy) and a CONNECT before the sequence (a
// tunnel).
//
// It imports no package of the module but tlsforge (itself independent),
// so that the checks are independent of the code under test.
package kagen

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdhttp/gdhttp/internal/tlsforge"
)

// After is what the server does once an answer is written.
type After int

const (
	Keep        After = iota // reads the next request
	Close                    // closes at once (FIN right after the bytes; TLS: a close_notify first when Notify)
	CloseLater               // closes a few milliseconds later, before the next request (a FIN the client sees; TLS: a close_notify first when Notify)
	ResetLater               // resets the connection a few milliseconds later, while idle (an RST, no FIN)
	NotifyNow                // TLS: a close_notify right after the answer (same write), TCP left open
	NotifyLater              // TLS: a close_notify a few milliseconds later, while idle, TCP left open
)

func (a After) String() string {
	return [...]string{"keep", "close", "close-later", "reset-later", "notify-now", "notify-later"}[a]
}

// Drop is how the server ends a reused connection under a request
// (DropIfReused).
type Drop int

const (
	DropFIN        Drop = iota // reads the request, FIN without a byte of answer
	DropRST                    // reads the request, RST without a byte of answer
	DropPartialFIN             // reads the request, writes PartialAt bytes of the head, FIN
	DropPartialRST             // reads the request, writes PartialAt bytes of the head, RST
)

func (d Drop) String() string { return [...]string{"fin", "rst", "partial-fin", "partial-rst"}[d] }

// Partial reports whether part of an answer comes before the end.
func (d Drop) Partial() bool { return d == DropPartialFIN || d == DropPartialRST }

// Gap is how long a client waits before its next request after an answer
// with a late part (ExtraLate, CloseLater), so that what came late has
// arrived; the server's late part comes LateDelay after the answer.
const (
	LateDelay = 3 * time.Millisecond
	Gap       = 40 * time.Millisecond
	// SettleWait bounds Settle in the harnesses: far more than any late
	// ending takes on a machine that is merely slow.
	SettleWait = 5 * time.Second
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
	Drop         Drop // how (DropIfReused)
	PartialAt    int  // bytes of the head sent first (DropPartial*)

	// TLS (Options.TLS): Records are the plaintext sizes of the records
	// the answer is sealed in (cycled); Straddle: one record holds the
	// end of the body and the bytes after it (Extra, not Late); Notify:
	// a close (Close, CloseLater) is preceded by a close_notify (else a
	// bare FIN).
	Records  []int
	Straddle bool
	Notify   bool

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
		s += " drop-if-reused:" + a.Drop.String()
		if a.Drop.Partial() {
			s += fmt.Sprintf("@%d", a.PartialAt)
		}
	}
	if len(a.Records) > 0 {
		s += fmt.Sprintf(" records=%v straddle=%v notify=%v", a.Records, a.Straddle, a.Notify)
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
	// Redirect (Options.Redirects): the request is answered with this
	// 301/302 first, and the hop's request (HopPath) with Answer.
	Redirect *Redirect
}

// Path is the request target of step i.
func Path(i int) string { return "/k" + strconv.Itoa(i) }

func (s Step) String() string {
	r := ""
	if s.Redirect != nil {
		r = " " + s.Redirect.String() + " then"
	}
	return fmt.Sprintf("#%d %s gzip=%v limit=%d driver=%d:%s %v", s.Index, s.Method, s.Gzip, s.Limit, s.Driver, r, s.Answer)
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
	// Part 2 (drawn from a second stream: the sequences above are the
	// same with these off).
	TLS       bool // record sizes, straddling records, close_notify endings
	Resets    bool // RSTs while idle, under a reused request, after part of a head
	Redirects bool // 301/302 first, to the same or another origin, framed oddly
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
	if o.TLS || o.Resets || o.Redirects {
		r2 := rand.New(rand.NewPCG(seed, 0x6b62))
		for i := range steps {
			part2(r2, &steps[i], o)
		}
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
			// After HEAD no parser reads a body: not ambiguous (R4).
			a.Reuse, a.Ambiguous = head, !head
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
			// HEAD: no parser reads a body after it (R4), so only a
			// Transfer-Encoding in HTTP/1.0 stays ambiguous (RFC 9112
			// §6.1); the others leave the connection reusable.
			a.Ambiguous = a.Kind == "ambiguous-http10-te"
			a.Reuse = !a.Ambiguous
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
	Target    string // the request target as sent (absolute-form through an HTTP proxy)
	Hop       bool   // the request of a redirect's hop (HopPath)
	Tunnel    bool   // on a connection a CONNECT opened
	Dropped   bool   // closed without a byte of answer (DropIfReused)
	Partial   bool   // closed after part of the answer's head (DropPartial*)
	Retired   string // non-empty: the connection was retired by this earlier answer (a violation of the reuse rules)
}

// Config is how a server is reached.
type Config struct {
	// Cert: every connection is TLS (after the CONNECT, when there is
	// one); the server's records are sealed by this package (tlsforge)
	// in the sizes the answers say. TLSVersion: tls.VersionTLS12 or 13
	// (0: 1.3).
	Cert       *tls.Certificate
	TLSVersion uint16
	// Connect: a connection that begins with CONNECT (a proxy's tunnel)
	// is answered 200, then carries the sequence.
	Connect bool
	// Other is the port of the other origin (Redirect.Other).
	Other int
}

// Server plays a sequence: every connection reads requests and answers each
// by its path. Godot: when true the reuse rules are Godot's (the bare
// client reuses any connection that is CONNECTED), so no arrival is a
// violation on its own.
type Server struct {
	Steps []Step
	Godot bool
	cfg   Config

	ln   net.Listener
	once sync.Once
	wg   sync.WaitGroup
	mu   sync.Mutex
	arr  []Arrival
	errs []error
	n    int
	conn []net.Conn
	done chan struct{}
	// late counts the answers whose late ending (NeedsGap2: bytes after
	// it, a close, a reset or a close_notify a few milliseconds on) has not
	// happened yet; it is counted before the answer's last byte is
	// written, so a client that has read the answer sees it (Settle).
	late atomic.Int64
}

// NewServer listens on 127.0.0.1.
func NewServer(steps []Step) (*Server, error) { return NewServerConfig(steps, Config{}) }

// NewServerConfig listens on 127.0.0.1 with cfg.
func NewServerConfig(steps []Step, cfg Config) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Steps: steps, cfg: cfg, ln: ln, done: make(chan struct{})}
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

// Settle waits until every answer written so far has had its late ending
// (NeedsGap2), at most d; it reports whether they all had. A test that
// pauses after such an answer so that its ending meets the idle client
// (Gap) calls it first: on a loaded machine the server's few milliseconds
// can outlast any fixed pause, and the next request would cross the
// ending.
func (s *Server) Settle(d time.Duration) bool {
	end := time.Now().Add(d)
	for s.late.Load() > 0 {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
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
			late := false
			defer func() { // after the close: a close or reset to come is part of the ending
				if late {
					s.late.Add(-1)
				}
			}()
			defer c.Close() // the raw connection: never the TLS one (its keys are not the sealer's)
			s.serve(id, c.(*net.TCPConn), &late)
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

func (s *Server) stopped() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// sconn is one server connection: requests are read from rd (the raw
// connection, or crypto/tls's over it), answers written to raw, sealed by
// seal under TLS.
type sconn struct {
	raw  *net.TCPConn
	in   *pushback // raw's reads, with bytes peeked already first
	rd   io.Reader
	seal *tlsforge.Sealer
}

// pushback reads the raw connection, bytes taken by inFlight first.
type pushback struct {
	net.Conn
	buf []byte
}

func (p *pushback) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

// inFlight reports whether bytes of a request had already arrived when
// the server ended its side (a close_notify or a FIN written a moment
// ago): the client sent them before it could see the end, so the request
// is no violation of the reuse rules.
func (c *sconn) inFlight() bool {
	if len(c.in.buf) > 0 {
		return true
	}
	_ = c.raw.SetReadDeadline(time.Now().Add(time.Millisecond))
	b := make([]byte, 4096)
	n, _ := c.raw.Read(b)
	c.in.buf = append(c.in.buf, b[:n]...)
	_ = c.raw.SetReadDeadline(time.Time{})
	return n > 0
}

// records returns the records of plain (cut in sizes recs, cycled;
// straddle ≥ 0: the record holding byte straddle-1 runs to the end).
func (c *sconn) records(plain []byte, recs []int, straddle int) []byte {
	var out []byte
	for i, off := 0, 0; off < len(plain); i++ {
		n := len(plain) - off
		if len(recs) > 0 {
			n = min(n, recs[i%len(recs)])
		}
		n = min(n, 16384)
		if straddle > 0 && off < straddle && off+n >= straddle {
			n = min(len(plain)-off, 16384)
		}
		out = c.seal.Append(out, tlsforge.RecordApplication, plain[off:off+n])
		off += n
	}
	return out
}

// write sends plain (sealed under TLS), cut into TCP pieces at splits
// (offsets of plain) with a pause between them.
func (s *Server) write(c *sconn, plain []byte, splits []int, recs []int, straddle int, notify bool) bool {
	w := plain
	if c.seal != nil {
		w = c.records(plain, recs, straddle)
		answer := len(w)
		if notify {
			w = c.seal.Append(w, tlsforge.RecordAlert, []byte{tlsforge.AlertWarning, tlsforge.AlertCloseNotify})
		}
		sc := make([]int, 0, len(splits))
		for _, sp := range splits {
			// Offsets of the answer's records: a close_notify goes in
			// the write of the answer's last bytes (NotifyNow's "same
			// write"), never after a pause that would let a client
			// reuse the connection before it came.
			if sp = sp * answer / max(len(plain), 1); sp < answer {
				sc = append(sc, sp)
			}
		}
		splits = sortUnique(sc)
	}
	prev := 0
	for _, sp := range append(append([]int(nil), splits...), len(w)) {
		if sp <= prev || sp > len(w) {
			continue
		}
		if _, err := c.raw.Write(w[prev:sp]); err != nil {
			return false
		}
		prev = sp
		if sp < len(w) && !s.sleep(200*time.Microsecond) {
			return false
		}
	}
	return true
}

// recorder keeps the first bytes a TLS server writes (tlsforge needs the
// ServerHello).
type recorder struct {
	net.Conn
	first []byte
}

func (r *recorder) Write(p []byte) (int, error) {
	if len(r.first) < 64 {
		r.first = append(r.first, p[:min(len(p), 64)]...)
	}
	return r.Conn.Write(p)
}

// handshake makes c a TLS connection.
func (s *Server) handshake(id int, c *sconn) bool {
	var keylog strings.Builder
	v := s.cfg.TLSVersion
	if v == 0 {
		v = tls.VersionTLS13
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{*s.cfg.Cert}, MinVersion: v, MaxVersion: v,
		SessionTicketsDisabled: true, KeyLogWriter: &keylog}
	if v == tls.VersionTLS12 {
		cfg.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	}
	rec := &recorder{Conn: c.in}
	tc := tls.Server(rec, cfg)
	_ = c.raw.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		if !s.stopped() {
			s.fail(fmt.Errorf("conn %d: handshake: %v", id, err))
		}
		return false
	}
	_ = c.raw.SetDeadline(time.Time{})
	seal, err := tlsforge.New(keylog.String(), rec.first, tc.ConnectionState())
	if err != nil {
		s.fail(fmt.Errorf("conn %d: %v", id, err))
		return false
	}
	c.rd, c.seal = tc, seal
	return true
}

// target returns the path of a request target (absolute-form: the path
// after the authority).
func target(t string) string {
	for _, p := range []string{"http://", "https://"} {
		if strings.HasPrefix(strings.ToLower(t), p) {
			rest := t[len(p):]
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				return rest[i:]
			}
			return "/"
		}
	}
	return t
}

// readRequest reads one request (the head, then a Content-Length body)
// into pending; ok false when the connection ended.
func (s *Server) readRequest(id int, c *sconn, pending *[]byte, buf []byte) (req []byte, ok bool) {
	for {
		if end := bytes.Index(*pending, []byte("\r\n\r\n")); end >= 0 {
			n := end + 4
			if cl := contentLength((*pending)[:n]); cl > 0 {
				n += cl
			}
			if len(*pending) >= n {
				req, *pending = (*pending)[:n:n], (*pending)[n:]
				return req, true
			}
		}
		_ = c.raw.SetReadDeadline(time.Now().Add(10 * time.Second))
		k, err := c.rd.Read(buf)
		*pending = append(*pending, buf[:k]...)
		if err != nil {
			if len(*pending) > 0 && !s.stopped() {
				s.fail(fmt.Errorf("conn %d: %d bytes of a request, then %v", id, len(*pending), err))
			}
			return nil, false
		}
	}
}

// serve answers the requests of one connection. *late is true while an
// answer's late ending is counted in s.late (the caller takes it off once
// the connection is closed, when it is still counted).
func (s *Server) serve(id int, raw *net.TCPConn, late *bool) {
	settled := func() {
		if *late {
			*late = false
			s.late.Add(-1)
		}
	}
	in := &pushback{Conn: raw}
	c := &sconn{raw: raw, in: in, rd: in}
	var pending []byte
	buf := make([]byte, 64<<10)
	tunnel := false
	if s.cfg.Connect {
		req, ok := s.readRequest(id, c, &pending, buf)
		if !ok {
			return
		}
		if bytes.HasPrefix(req, []byte("CONNECT ")) {
			tunnel = true
			if _, err := raw.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
				return
			}
		} else {
			pending = append(req, pending...)
		}
	}
	if s.cfg.Cert != nil && (tunnel || !s.cfg.Connect) {
		if len(pending) > 0 {
			s.fail(fmt.Errorf("conn %d: bytes before the handshake", id))
			return
		}
		if !s.handshake(id, c) {
			return
		}
	}
	retired := ""
	notified := false
	for pos := 0; ; pos++ {
		req, ok := s.readRequest(id, c, &pending, buf)
		if !ok {
			return
		}
		line, _, _ := bytes.Cut(req, []byte("\r\n"))
		f := strings.Fields(string(line))
		a := Arrival{Conn: id, Pos: pos, Index: -1, Retired: retired, Tunnel: tunnel}
		if len(f) >= 2 {
			a.Method, a.Target = f[0], f[1]
			p := target(f[1])
			if strings.HasSuffix(p, "h") {
				a.Hop, p = true, strings.TrimSuffix(p, "h")
			}
			if v, err := strconv.Atoi(strings.TrimPrefix(p, "/k")); err == nil && strings.HasPrefix(p, "/k") && v >= 0 && v < len(s.Steps) {
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
		redirect := st.Redirect != nil && !a.Hop
		if redirect {
			ra := st.Redirect.answer(a.Index, s.cfg.Other)
			ra.DropIfReused, ra.Drop = ans.DropIfReused, ans.Drop
			ra.PartialAt = min(ans.PartialAt, len(ra.Head)-1)
			ra.Records, ra.Notify = ans.Records, ans.Notify
			ans = ra
		}
		drop := ans.DropIfReused && pos > 0
		a.Dropped = drop && !ans.Drop.Partial() || notified // notified: closed without a byte of answer
		a.Partial = drop && ans.Drop.Partial()
		s.mu.Lock()
		s.arr = append(s.arr, a)
		s.mu.Unlock()
		if notified {
			return // a close_notify went: nothing more is answered
		}
		if drop {
			if a.Partial {
				w := ans.Wire()
				if !s.write(c, w[:min(ans.PartialAt, len(w))], nil, nil, -1, false) || !s.sleep(2*time.Millisecond) {
					return
				}
			}
			if ans.Drop == DropRST || ans.Drop == DropPartialRST {
				_ = raw.SetLinger(0)
			}
			return
		}
		w := ans.Wire()
		straddle := -1
		if ans.Straddle && !ans.Late && len(ans.Extra) > 0 {
			straddle = len(w) - len(ans.Extra)
		}
		tlsNotify := c.seal != nil && (ans.After == NotifyNow || ans.After == Close && ans.Notify)
		if ans.NeedsGap2() && !*late {
			*late = true
			s.late.Add(1)
		}
		if !s.write(c, w, ans.Splits, ans.Records, straddle, tlsNotify) {
			return
		}
		if ans.Late {
			if !s.sleep(LateDelay) || !s.write(c, ans.Extra, nil, nil, -1, false) {
				return
			}
		}
		if ans.After != CloseLater && ans.After != ResetLater && ans.After != NotifyLater {
			settled() // Late's bytes are out; the rest of the endings come at the close
		}
		if !ans.Reuse && retired == "" {
			retired = fmt.Sprintf("#%d %s", a.Index, ans.Kind)
		}
		switch ans.After {
		case Close:
			return
		case CloseLater:
			if s.sleep(LateDelay) && c.seal != nil && ans.Notify {
				_ = s.write(c, nil, nil, nil, -1, true)
			}
			return
		case ResetLater:
			if s.sleep(ResetDelay) {
				_ = raw.SetLinger(0)
			}
			return
		case NotifyNow:
			notified = true
		case NotifyLater:
			if !s.sleep(LateDelay) || !s.write(c, nil, nil, nil, -1, true) {
				return
			}
			settled()
			notified = true
			if c.inFlight() {
				retired = "" // the request crossed the close_notify (harness timing)
			}
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

// StrayBytes reports what body, delivered for step i, holds that no one
// asked for: another step's marker (a response read on the wrong request)
// or the evil marker of bytes sent after a response (outside a "lying"
// answer, whose body carries them by design).
func StrayBytes(steps []Step, i int, body []byte) []string {
	var bad []string
	for j := range steps {
		if j != i && bytes.Contains(body, []byte(Marker(j))) {
			bad = append(bad, fmt.Sprintf("step %d: body holds bytes of step %d's response", i, j))
		}
	}
	if bytes.Contains(body, []byte(EvilMarker)) && !strings.Contains(steps[i].Answer.Kind, "lying") {
		bad = append(bad, fmt.Sprintf("step %d: body holds bytes nobody asked for", i))
	}
	return bad
}

// Check looks at the arrivals once a sequence is over (those of every
// server of the sequence, the other origin's included): no request on a
// retired connection; each step's request answered once, or, after a drop,
// sent again on a new connection only when retry says so (the documented
// retry on a reused connection that died before any answer), never after
// part of its answer came; a redirect's hop sent once, on a new
// connection. It returns the problems found.
func Check(steps []Step, arr []Arrival, retry func(method string) bool) []string {
	var bad []string
	answered := make([]int, len(steps))
	dropped := make([]int, len(steps))
	partial := make([]int, len(steps))
	hops := make([]int, len(steps))
	for _, a := range arr {
		if a.Index < 0 || a.Index >= len(steps) {
			continue
		}
		if a.Retired != "" {
			bad = append(bad, fmt.Sprintf("request #%d (%s, hop=%v) sent on conn %d after %s retired it (§7 D2, RFC 9112 §9.3)", a.Index, a.Method, a.Hop, a.Conn, a.Retired))
		}
		if a.Method != steps[a.Index].Method {
			bad = append(bad, fmt.Sprintf("request #%d: method %s, want %s", a.Index, a.Method, steps[a.Index].Method))
		}
		switch {
		case a.Hop:
			hops[a.Index]++
			if a.Pos > 0 {
				bad = append(bad, fmt.Sprintf("request #%d: the redirect hop went on a reused connection (conn %d, position %d): SetKeepAlive says hops always use new connections", a.Index, a.Conn, a.Pos))
			}
		case a.Dropped:
			dropped[a.Index]++
		default:
			answered[a.Index]++
			if a.Partial {
				partial[a.Index]++
			}
		}
	}
	for i, st := range steps {
		switch {
		case partial[i] > 0 && answered[i]+dropped[i] > 1:
			bad = append(bad, fmt.Sprintf("request #%d (%s) sent again after part of its answer came (%d times in all)", i, st.Method, answered[i]+dropped[i]))
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
		if st.Redirect != nil {
			full := answered[i] - partial[i]
			switch {
			case hops[i] > 1:
				bad = append(bad, fmt.Sprintf("request #%d: the redirect's hop sent %d times", i, hops[i]))
			case hops[i] == 0 && full > 0:
				bad = append(bad, fmt.Sprintf("request #%d: the %d redirect was not followed", i, st.Redirect.Code))
			}
		} else if hops[i] > 0 {
			bad = append(bad, fmt.Sprintf("request #%d: a hop nobody redirected to", i))
		}
	}
	return bad
}
