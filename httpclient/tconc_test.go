package httpclient

// A seeded, generated concurrent stress harness of the Transport: many
// goroutines send requests over one Transport (random MaxIdleConnsPerHost,
// MaxConnsPerHost, IdleConnTimeout, Strict) to two 127.0.0.1 servers that
// answer each request with a body naming it (the X-Tc-Id header echoed
// into the head and repeated as the body), with behaviours the request's
// generated spec chooses: keep-alive or close, delays before the head and
// in the body, Content-Length, chunked and until-close bodies (with and
// without "Connection: close"), a reset before the response or in its
// body, an answer before the request body is read followed by a reset (a
// refused upload), a server-side idle close racing the client's reuse, HEAD, POST and
// PUT with streamed bodies (some failing mid-body, some replayable through
// GetBody, some with an Idempotency-Key). The clients cancel contexts or
// let deadlines pass at every point (before RoundTrip, at a random time,
// during the request body's write, while the head is awaited, mid-body),
// read bodies to the end, partly, not at all, or never close them (a
// janitor does), and CloseIdleConnections runs at random moments.
//
// Invariants (each breach fails the test, with the run's seed):
//   - a response's head and body name ITS request (no cross-talk); a body
//     read without error is the whole body, one cut short is a prefix;
//   - a request is sent twice only when it may be (GET, HEAD, PUT or an
//     Idempotency-Key; net/http: not PUT), after a failure on a reused
//     connection, and when nothing of the response had come (the server
//     counts deliveries per id, and notes for each whether it wrote bytes
//     of the response and whether it reset the connection after them);
//     a request whose context ended before RoundTrip is not sent at all;
//   - with MaxIdleConnsPerHost < 0 (net/http's DisableKeepAlives) no
//     connection carries a second request;
//   - MaxConnsPerHost is never exceeded (the server counts the accepted
//     connections whose client end is still open, by their TCP state);
//   - an error wraps its cause: the context's error (errors.Is) when the
//     context ended it, the body's read error, the network error;
//     a request that nothing but its context could fail fails only with
//     the context's error;
//   - with a short IdleConnTimeout every idle connection is closed without
//     CloseIdleConnections;
//   - every request body is closed; after CloseIdleConnections no
//     connection is left open (server side), the pool and the per-host
//     slots are empty (§7 D1); no goroutine (goleak) nor descriptor
//     (/proc/self/fd) is left once the servers stopped;
//   - no panic, no hang (a watchdog dumps the goroutines).
//
// GDHTTP_TCONC_N sets the number of runs (default 10), GDHTTP_TCONC_SEED the
// first seed, GDHTTP_TCONC_REF=nethttp runs the same harness over
// net/http's Transport (the reference: the invariants hold for it, with
// its own retry rule and Strict-like framing; its own quirks — an idle
// timer racing a handoff, a read ended by Close giving net.ErrClosed, a
// connection dialed for one request pooled for another — are let pass, and
// it still trips the slot count and the final connection count now and
// then), GDHTTP_TCONC_V=1 logs each run's tallies. The two findings it made
// are pinned by transport_tconc_cases_test.go.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdhttp/gdhttp/internal/drive"
)

// tcSpec is one generated request and what the server does with it.
type tcSpec struct {
	id        int64
	srv       int
	method    string
	key       bool   // an Idempotency-Key header
	body      string // none, bytes (GetBody), stream (a length), chunked (no length)
	bodyLen   int
	failAt    int // >= 0: the request body fails after this many bytes
	cancelAt  int // ctx "write": the body cancels the context after this many bytes
	frame     string
	size      int
	keep      bool
	headDelay time.Duration
	midDelay  time.Duration
	reset     string // "", "before" (first delivery only), "midbody", "early" (answered before the request body is read, then reset)
	idleClose time.Duration
	ctxKind   string // none, pre, timer, deadline, write, head, body
	ctxAfter  time.Duration
	read      string // all, part, close, never, race (Close from another goroutine during the read)
	causeErr  bool   // the context is canceled with errTcCause (context.WithCancelCause)

	cancel   context.CancelFunc
	canceled atomic.Bool

	// under tcRun.mu
	deliveries []tcDelivery
}

type tcDelivery struct {
	fresh bool // the first request on its connection
	wrote bool // bytes of the response were written
	rst   bool // the connection was reset (after what was written had been acknowledged)
}

func (s *tcSpec) cancelNow() {
	s.canceled.Store(true)
	s.cancel()
}

func (s *tcSpec) String() string {
	return fmt.Sprintf("id=%d srv=%d %s key=%v body=%s/%d fail=%d frame=%s size=%d keep=%v delays=%v/%v reset=%q idleClose=%v ctx=%s/%v cancelAt=%d read=%s",
		s.id, s.srv, s.method, s.key, s.body, s.bodyLen, s.failAt, s.frame, s.size, s.keep, s.headDelay, s.midDelay,
		s.reset, s.idleClose, s.ctxKind, s.ctxAfter, s.cancelAt, s.read)
}

// clean: nothing but the context can fail this request on its own
// connection (a stale reused connection is judged apart).
func (s *tcSpec) clean() bool { return s.reset == "" && s.failAt < 0 }

// tcPayload is the body that names request id.
func tcPayload(id int64, n int) []byte {
	unit := "<" + strconv.FormatInt(id, 10) + ">"
	b := make([]byte, 0, n+len(unit))
	for len(b) < n {
		b = append(b, unit...)
	}
	return b[:n]
}

var (
	errTcBody  = errors.New("tconc: request body read error")
	errTcCause = errors.New("tconc: the cause of a cancel")
)

// tcBody is a request body: it may fail, cancel the context, and records
// its Close (Close can come from another goroutine).
type tcBody struct {
	mu       sync.Mutex
	data     []byte
	off      int
	failAt   int
	cancelAt int
	cancel   func()
	piece    int
	closed   bool
}

func (b *tcBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, io.ErrClosedPipe
	}
	if b.cancelAt >= 0 && b.off >= b.cancelAt {
		b.cancelAt = -1
		b.mu.Unlock()
		b.cancel()
		b.mu.Lock()
	}
	if b.failAt >= 0 && b.off >= b.failAt {
		return 0, errTcBody
	}
	if b.off >= len(b.data) {
		return 0, io.EOF
	}
	end := min(len(b.data), b.off+max(1, min(len(p), b.piece)))
	if b.failAt >= 0 {
		end = min(end, b.failAt)
	}
	if b.cancelAt >= 0 {
		end = min(end, max(b.cancelAt, b.off+1))
	}
	n := copy(p, b.data[b.off:end])
	b.off += n
	return n, nil
}

func (b *tcBody) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

func (b *tcBody) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// tcRun is one run: a Transport, two servers, the workers.
type tcRun struct {
	seed      uint64
	ref       bool // net/http's Transport
	rt        http.RoundTripper
	gd        *Transport
	closeIdle func()
	strict    bool
	maxIdle   int
	maxConns  int
	idleClose bool // the servers may close kept connections while idle

	reusedNoKeep atomic.Int32 // requests on a reused connection though MaxIdleConnsPerHost < 0

	servers [2]*tcServer
	specs   sync.Map // id -> *tcSpec

	mu     sync.Mutex
	bad    []string
	tally  map[string]int
	bodies []*tcBody
	all    []*tcSpec
}

func (h *tcRun) fail(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.bad = append(h.bad, fmt.Sprintf(format, args...))
}

func (h *tcRun) count(what string) {
	h.mu.Lock()
	h.tally[what]++
	h.mu.Unlock()
}

// retryable: the implementation may send the request again.
func (h *tcRun) retryable(s *tcSpec) bool {
	switch s.method {
	case "GET", "HEAD":
		return true
	case "PUT":
		if !h.ref {
			return true
		}
	}
	return s.key
}

// replayable: the body can be sent again whatever was read of it.
func (h *tcRun) replayable(s *tcSpec) bool { return s.body == "none" || s.body == "bytes" }

// expected is the body a request must get.
func (h *tcRun) expected(s *tcSpec) []byte {
	if s.method == "HEAD" {
		return nil
	}
	if s.frame == "bare" && s.reset != "early" && !h.ref && !h.strict {
		return nil // Godot's rule (§1.9): no framing, no "close": no body
	}
	return tcPayload(s.id, s.size)
}

// tcServer answers the run's requests.
type tcServer struct {
	h    *tcRun
	idx  int
	ln   *net.TCPListener
	url  string
	wg   sync.WaitGroup
	mu   sync.Mutex
	conn []*tcSConn
}

type tcSConn struct {
	c      *net.TCPConn
	closed atomic.Bool // by the server
	// early: the server answered before reading the request's body and
	// resets the connection once the client has the answer. The client
	// may close its end first (a body that fit its socket buffer, then
	// the answer read, "Connection: close"): its FIN waits behind the
	// body the server does not read, so the server's socket stays
	// established — the client's slot is free, and open does not count
	// it.
	early  atomic.Bool
	num    int
	mu     sync.Mutex
	events []string // what the server saw and did, for the report
}

func (sc *tcSConn) note(format string, args ...any) {
	sc.mu.Lock()
	sc.events = append(sc.events, fmt.Sprintf(format, args...))
	sc.mu.Unlock()
}

// history lists the events of the connections that carried request id.
func (h *tcRun) history(id string) string {
	var sb strings.Builder
	for _, s := range h.servers {
		s.mu.Lock()
		conns := slices.Clone(s.conn)
		s.mu.Unlock()
		for _, sc := range conns {
			sc.mu.Lock()
			ev := slices.Clone(sc.events)
			sc.mu.Unlock()
			for _, e := range ev {
				if strings.Contains(e, "id="+id+" ") || e == "from "+id {
					fmt.Fprintf(&sb, "\n    server %d conn #%d: %s", s.idx, sc.num, strings.Join(ev, " | "))
					break
				}
			}
		}
	}
	return sb.String()
}

func (h *tcRun) listen(idx int) *tcServer {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		panic(err)
	}
	s := &tcServer{h: h, idx: idx, ln: ln, url: "http://" + ln.Addr().String()}
	s.wg.Add(1)
	go s.accept()
	return s
}

// open counts the connections whose client end is open, but except.
func (s *tcServer) open(except *tcSConn) int {
	s.mu.Lock()
	conns := slices.Clone(s.conn)
	s.mu.Unlock()
	n := 0
	for _, sc := range conns {
		if sc == except || sc.closed.Load() || sc.early.Load() {
			continue
		}
		if gone, known := tcPeerGone(sc.c); known && !gone {
			n++
		}
	}
	return n
}

func (s *tcServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.AcceptTCP()
		if err != nil {
			return
		}
		sc := &tcSConn{c: c}
		s.mu.Lock()
		s.conn = append(s.conn, sc)
		n := len(s.conn)
		sc.num = n
		sc.events = append(sc.events, "from "+c.RemoteAddr().String())
		s.mu.Unlock()
		if max := s.h.maxConns; max > 0 {
			if s.open(sc) >= max {
				time.Sleep(30 * time.Millisecond) // a close on its way over loopback
				if k := s.open(sc); k >= max {
					s.h.fail("server %d: connection #%d accepted while %d others are open (MaxConnsPerHost %d)", s.idx, n, k, max)
				}
			}
		}
		s.wg.Add(1)
		go s.serve(sc)
	}
}

// stop closes the listener and every connection, and waits.
func (s *tcServer) stop() {
	_ = s.ln.Close()
	s.mu.Lock()
	for _, sc := range s.conn {
		sc.closed.Store(true)
		_ = sc.c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// leftOpen counts the connections still open at both ends.
func (s *tcServer) leftOpen() int { return s.open(nil) }

func (s *tcServer) serve(sc *tcSConn) {
	defer s.wg.Done()
	conn := sc.c
	reset := false
	exit := "end"
	defer func() {
		sc.closed.Store(true)
		sc.note("exit: %s reset=%v", exit, reset)
		if reset {
			_ = conn.SetLinger(0)
		}
		_ = conn.Close()
	}()
	h := s.h
	br := bufio.NewReader(conn)
	var idle time.Duration
	for n := 0; ; n++ {
		if idle > 0 {
			_ = conn.SetReadDeadline(time.Now().Add(idle))
		}
		if _, err := br.Peek(1); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				h.count("server: idle close")
			}
			exit = "peek: " + err.Error()
			return
		}
		_ = conn.SetReadDeadline(time.Time{})
		method, hdr, ok := tcReadHead(br)
		if !ok {
			exit = "head cut short"
			return
		}

		id, _ := strconv.ParseInt(hdr["x-tc-id"], 10, 64)
		v, ok := h.specs.Load(id)
		if !ok {
			h.fail("server %d: a request with unknown id %q", s.idx, hdr["x-tc-id"])
			return
		}
		spec := v.(*tcSpec)
		sc.note("id=%s #%d %s frame=%s keep=%v", hdr["x-tc-id"], n+1, method, spec.frame, spec.keep)
		if method != spec.method {
			h.fail("server %d: request %d came as %s, sent as %s", s.idx, id, method, spec.method)
		}
		if n > 0 && h.maxIdle < 0 && h.reusedNoKeep.Add(1) == 1 { // reported once a run
			h.fail("request %d arrived as request #%d of its connection, though MaxIdleConnsPerHost is %d (no connection kept): %v",
				id, n+1, h.maxIdle, spec)
		}
		h.mu.Lock()
		d := len(spec.deliveries)
		spec.deliveries = append(spec.deliveries, tcDelivery{fresh: n == 0})
		h.mu.Unlock()
		mark := func(f func(*tcDelivery)) {
			h.mu.Lock()
			f(&spec.deliveries[d])
			h.mu.Unlock()
		}
		if spec.reset == "early" {
			// A whole response before the request's body is read, then
			// a reset once the client's socket has it (an upload
			// refused with 413 by a server that does not drain it).
			resp := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nX-Tc-Id: %d\r\nConnection: close\r\nContent-Length: %d\r\n\r\n", id, spec.size)
			if method != "HEAD" {
				resp = append(resp, tcPayload(spec.id, spec.size)...)
			}
			sc.early.Store(true)
			if _, err := conn.Write(resp); err == nil {
				mark(func(d *tcDelivery) { d.wrote = true })
				drive.AwaitSent(conn, time.Second, 5*time.Millisecond)
			}
			mark(func(d *tcDelivery) { d.rst = true })
			sc.note("early answer, reset")
			reset = true
			return
		}
		if !tcReadBody(br, hdr) {
			exit = "request body cut short"
			return
		}
		if spec.ctxKind == "head" {
			spec.cancelNow() // the client waits for the head
		}
		if spec.reset == "before" && d == 0 {
			mark(func(d *tcDelivery) { d.rst = true })
			reset = true
			return
		}
		time.Sleep(spec.headDelay)
		payload := tcPayload(spec.id, spec.size)
		framed := spec.frame == "length" || spec.frame == "chunked"
		// A HEAD response is whole without framing: kept alive unless it
		// says "close" (closing it would be a silent close, as idleClose).
		keep := spec.keep && (framed || method == "HEAD" && spec.frame == "bare")
		var w []byte
		w = fmt.Appendf(w, "HTTP/1.1 200 OK\r\nX-Tc-Id: %d\r\n", id)
		body := payload
		switch spec.frame {
		case "length":
			w = fmt.Appendf(w, "Content-Length: %d\r\n", len(payload))
		case "chunked":
			w = append(w, "Transfer-Encoding: chunked\r\n"...)
			body = tcChunked(spec.id, payload)
		case "close":
			w = append(w, "Connection: close\r\n"...)
		}
		if framed && !keep {
			w = append(w, "Connection: close\r\n"...)
		}
		w = append(w, "\r\n"...)
		headLen := len(w)
		if method != "HEAD" {
			w = append(w, body...)
		}
		write := func(b []byte) bool {
			if len(b) == 0 {
				return true
			}
			if _, err := conn.Write(b); err != nil {
				return false
			}
			mark(func(d *tcDelivery) { d.wrote = true })
			return true
		}
		if spec.reset == "midbody" && len(w)-headLen > 1 {
			cut := headLen + 1 + int(spec.id%int64(len(w)-headLen-1))
			if write(w[:cut]) {
				drive.AwaitSent(conn, time.Second, 3*time.Millisecond) // the client's socket has them
			}
			mark(func(d *tcDelivery) { d.rst = true })
			reset = true
			return
		}
		if spec.midDelay > 0 && len(w)-headLen > 1 {
			mid := headLen + (len(w)-headLen)/2
			if !write(w[:mid]) {
				return
			}
			time.Sleep(spec.midDelay)
			w = w[mid:]
		}
		if !write(w) {
			exit = "write failed"
			return
		}
		sc.note("answered")
		if !keep {
			exit = "not kept"
			return
		}
		idle = spec.idleClose
	}
}

// tcChunked encodes payload in chunks of sizes drawn from id.
func tcChunked(id int64, payload []byte) []byte {
	r := rand.New(rand.NewPCG(uint64(id), 7))
	var b []byte
	for len(payload) > 0 {
		n := min(len(payload), 1+r.IntN(700))
		b = strconv.AppendInt(b, int64(n), 16)
		b = append(b, "\r\n"...)
		b = append(b, payload[:n]...)
		b = append(b, "\r\n"...)
		payload = payload[n:]
	}
	return append(b, "0\r\n\r\n"...)
}

// tcReadHead reads a request head: its method and lower-cased headers.
func tcReadHead(br *bufio.Reader) (string, map[string]string, bool) {
	line, err := br.ReadString('\n')
	if err != nil {
		return "", nil, false
	}
	method, _, _ := strings.Cut(line, " ")
	hdr := map[string]string{}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", nil, false
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return method, hdr, true
		}
		name, value, _ := strings.Cut(line, ":")
		hdr[strings.ToLower(name)] = strings.TrimSpace(value)
	}
}

func tcReadBody(br *bufio.Reader, hdr map[string]string) bool {
	if strings.Contains(strings.ToLower(hdr["transfer-encoding"]), "chunked") {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return false
			}
			n, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
			if err != nil {
				return false
			}
			if _, err := io.CopyN(io.Discard, br, n+2); err != nil {
				return false
			}
			if n == 0 {
				return true
			}
		}
	}
	n, _ := strconv.ParseInt(hdr["content-length"], 10, 64)
	_, err := io.CopyN(io.Discard, br, n)
	return err == nil
}

// gen makes the spec of one request.
func (h *tcRun) gen(r *rand.Rand, id int64) *tcSpec {
	w := func(opts ...any) string { // "name", weight, ...
		total := 0
		for i := 1; i < len(opts); i += 2 {
			total += opts[i].(int)
		}
		n := r.IntN(total)
		for i := 0; i < len(opts); i += 2 {
			if n -= opts[i+1].(int); n < 0 {
				return opts[i].(string)
			}
		}
		panic("unreachable")
	}
	ms := func(n int) time.Duration { return time.Duration(r.IntN(n*1000)) * time.Microsecond }
	s := &tcSpec{id: id, srv: r.IntN(2), failAt: -1, cancelAt: -1}
	s.method = w("GET", 45, "HEAD", 10, "POST", 30, "PUT", 15)
	s.key = s.method == "POST" && r.IntN(3) == 0
	s.body = "none"
	if s.method == "POST" || s.method == "PUT" {
		s.body = w("bytes", 40, "stream", 30, "chunked", 30)
		s.bodyLen = r.IntN(3000)
		if r.IntN(10) == 0 {
			s.bodyLen = 50_000 + r.IntN(150_000)
		}
		if s.body != "bytes" && r.IntN(5) == 0 {
			s.failAt = r.IntN(s.bodyLen + 1)
		}
	}
	s.frame = w("length", 45, "chunked", 35, "close", 10, "bare", 10)
	s.size = r.IntN(2000)
	if r.IntN(10) == 0 {
		s.size = 50_000 + r.IntN(100_000)
	}
	s.keep = r.IntN(5) != 0
	if r.IntN(10) < 3 {
		s.headDelay = ms(15)
	}
	if r.IntN(10) < 2 {
		s.midDelay = ms(15)
	}
	s.reset = w("", 88, "before", 6, "midbody", 6)
	if s.body != "none" && r.IntN(12) == 0 {
		s.reset = "early"
	}
	if h.idleClose && s.keep && r.IntN(2) == 0 {
		s.idleClose = ms(10)
	}
	s.ctxKind = w("none", 45, "pre", 5, "timer", 15, "deadline", 15, "write", 5, "head", 8, "body", 7)
	switch s.ctxKind {
	case "write":
		if s.bodyLen == 0 {
			s.ctxKind = "timer"
		} else {
			s.cancelAt = r.IntN(s.bodyLen)
			if s.failAt >= 0 && s.failAt <= s.cancelAt {
				s.failAt = -1
			}
		}
	case "head":
		s.headDelay = max(s.headDelay, 20*time.Millisecond)
	case "body":
		if len(h.expected(s)) < 2 {
			s.ctxKind = "none"
		}
	}
	s.ctxAfter = ms(25)
	s.read = w("all", 50, "part", 12, "close", 12, "never", 12, "race", 14)
	s.causeErr = s.ctxKind != "deadline" && s.ctxKind != "none" && r.IntN(3) == 0
	return s
}

// do sends one request and judges what comes back.
func (h *tcRun) do(r *rand.Rand, s *tcSpec, janitors *sync.WaitGroup) {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	switch s.ctxKind {
	case "deadline":
		ctx, cancel = context.WithTimeout(ctx, s.ctxAfter)
	case "none":
	default:
		if s.causeErr {
			var cc context.CancelCauseFunc
			ctx, cc = context.WithCancelCause(ctx)
			cancel = func() { cc(errTcCause) }
		} else {
			ctx, cancel = context.WithCancel(ctx)
		}
	}
	s.cancel = cancel
	defer cancel()
	var body io.ReadCloser
	newBody := func() *tcBody {
		b := &tcBody{data: bytes.Repeat([]byte("q"), s.bodyLen), failAt: s.failAt, cancelAt: s.cancelAt, cancel: s.cancelNow, piece: 1 + r.IntN(4096)}
		h.mu.Lock()
		h.bodies = append(h.bodies, b)
		h.mu.Unlock()
		return b
	}
	if s.body != "none" {
		body = newBody()
	}
	req, err := http.NewRequestWithContext(ctx, s.method, h.servers[s.srv].url+"/"+strconv.FormatInt(s.id, 10), body)
	if err != nil {
		panic(err)
	}
	switch s.body {
	case "bytes":
		req.ContentLength = int64(s.bodyLen)
		req.GetBody = func() (io.ReadCloser, error) {
			b := newBody()
			b.cancelAt = -1 // the context is canceled once
			return b, nil
		}
	case "stream":
		req.ContentLength = int64(s.bodyLen)
	case "chunked":
		req.ContentLength = -1
	}
	if s.body != "none" && s.bodyLen == 0 && s.body != "chunked" {
		req.ContentLength = 0
		if s.body == "stream" {
			req.ContentLength = -1 // net/http would take a length of 0 with a Body for unknown
		}
	}
	req.Header.Set("X-Tc-Id", strconv.FormatInt(s.id, 10))
	if s.key {
		req.Header.Set("Idempotency-Key", strconv.FormatInt(s.id, 10))
	}
	h.specs.Store(s.id, s) // after every field the server reads
	switch s.ctxKind {
	case "pre":
		s.cancelNow()
	case "timer":
		t := time.AfterFunc(s.ctxAfter, s.cancelNow)
		defer t.Stop()
	}
	resp, err := h.rt.RoundTrip(req)
	if err != nil {
		h.count("roundtrip error")
		h.judgeErr(s, ctx, "RoundTrip", err)
		return
	}
	if s.ctxKind == "pre" {
		h.fail("%v: a response though the context had ended before RoundTrip", s)
	}
	if got := resp.Header.Get("X-Tc-Id"); got != strconv.FormatInt(s.id, 10) {
		h.fail("CROSS-TALK %v: response head names %q", s, got)
	}
	if resp.StatusCode != 200 {
		h.fail("%v: status %d", s, resp.StatusCode)
	}
	want := h.expected(s)
	judgeBody := func(got []byte, err error, whole bool) {
		if !bytes.HasPrefix(want, got) {
			h.fail("CROSS-TALK %v: body %.80q is no prefix of %.80q", s, got, want)
			return
		}
		if err != nil {
			h.count("body error")
			h.judgeErr(s, ctx, "body", err)
			return
		}
		if whole && len(got) != len(want) {
			h.fail("%v: body ended after %d of %d bytes without an error", s, len(got), len(want))
		}
	}
	if s.ctxKind == "body" {
		one := make([]byte, 1)
		n, err := io.ReadFull(resp.Body, one)
		s.cancelNow()
		if err != nil {
			judgeBody(one[:n], err, false)
			_ = resp.Body.Close()
			return
		}
		rest, err := io.ReadAll(resp.Body)
		judgeBody(append(one, rest...), err, true)
		_ = resp.Body.Close()
		return
	}
	switch s.read {
	case "all":
		got, err := io.ReadAll(resp.Body)
		judgeBody(got, err, true)
		h.count("ok")
		_ = resp.Body.Close()
	case "part":
		got := make([]byte, r.IntN(len(want)+1))
		n, err := io.ReadFull(resp.Body, got)
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			judgeBody(got[:n], nil, true) // ended before the part asked
		} else {
			judgeBody(got[:n], err, false)
		}
		_ = resp.Body.Close()
	case "close":
		_ = resp.Body.Close()
	case "race":
		got := make(chan []byte, 1)
		var rerr error
		go func() {
			b, err := io.ReadAll(resp.Body)
			rerr = err
			got <- b
		}()
		time.Sleep(time.Duration(r.IntN(3000)) * time.Microsecond)
		_ = resp.Body.Close()
		b := <-got
		if rerr != nil && (errors.Is(rerr, errClosedBody) || h.ref && (strings.Contains(rerr.Error(), "read on closed response body") || errors.Is(rerr, net.ErrClosed))) {
			// (net/http: a read blocked as Close runs ends with the
			// socket's "use of closed network connection")
			judgeBody(b, nil, false)
			h.count("read ended by Close")
		} else {
			judgeBody(b, rerr, true)
		}
	case "never":
		janitors.Add(1)
		d := time.Duration(r.IntN(40_000)) * time.Microsecond
		go func() {
			defer janitors.Done()
			time.Sleep(d)
			_ = resp.Body.Close()
		}()
	}
}

// judgeErr: an error must come from a cause the spec allows, and wrap it.
func (h *tcRun) judgeErr(s *tcSpec, ctx context.Context, where string, err error) {
	ctxErr := ctx.Err()
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errTcCause) {
		if ctxErr == nil {
			h.fail("%v: %s: %v is a context error, the context has not ended", s, where, err)
		} else if cause := context.Cause(ctx); !errors.Is(err, cause) {
			h.fail("%v: %s: %v, the context ended with %v", s, where, err, cause)
		}
		return
	}
	if s.ctxKind == "pre" {
		h.fail("%v: %s: %v, want context.Canceled (it ended before RoundTrip)", s, where, err)
		return
	}
	netCause := h.netCause(err)
	switch {
	case errors.Is(err, errTcBody):
		if s.failAt < 0 {
			h.fail("%v: %s: the body's error %v, the body did not fail", s, where, err)
		}
		return
	case s.failAt >= 0 && where == "RoundTrip" && netCause:
		return // the server may see the body end short and close first
	case !s.clean() && netCause:
		return
	case s.clean() && netCause && where == "RoundTrip" && h.idleClose && !(h.retryable(s) && h.replayable(s)):
		h.count("stale connection error")
		return // the server closed the reused connection under it
	}
	if h.ref && h.maxConns > 0 && strings.Contains(err.Error(), "server closed idle connection") {
		// net/http's idle timer closing a connection it just handed to a
		// request waiting for the host's slot: its own race, not the
		// server's.
		h.count("net/http: idle timer race")
		return
	}
	if s.clean() && (ctxErr != nil || s.canceled.Load()) {
		h.fail("%v: %s: %v (%T) after its context ended: want errors.Is(err, %v)", s, where, err, err, ctxErr)
		return
	}
	h.fail("%v: %s: unexplained error %v (%T; net cause %v)", s, where, err, err, netCause)
}

// netCause: err wraps a network failure.
func (h *tcRun) netCause(err error) bool {
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, ErrPeerClosed) {
		return true
	}
	if h.ref { // net/http's own texts, not wrapped
		for _, s := range []string{"server closed idle connection", "EOF", "connection reset"} {
			if strings.Contains(err.Error(), s) {
				return true
			}
		}
	}
	return false
}

// tcRunOne runs one seed; it returns the breaches and the tallies.
func tcRunOne(t *testing.T, seed uint64, ref bool, nextID *atomic.Int64) *tcRun {
	r := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	h := &tcRun{seed: seed, ref: ref, tally: map[string]int{}}
	h.maxIdle = []int{-1, 0, 1, 2, 4}[r.IntN(5)]
	h.maxConns = []int{0, 0, 1, 2, 3}[r.IntN(5)]
	idleTimeout := []time.Duration{0, 2 * time.Millisecond, 20 * time.Millisecond, 300 * time.Millisecond}[r.IntN(4)]
	h.strict = r.IntN(2) == 0
	h.idleClose = r.IntN(5) < 2
	closeEvery := time.Duration(0)
	if r.IntN(3) != 0 {
		closeEvery = time.Duration(3+r.IntN(25)) * time.Millisecond
	}
	workers, perWorker := 3+r.IntN(8), 5+r.IntN(11)
	if ref {
		tr := &http.Transport{MaxIdleConnsPerHost: h.maxIdle, MaxConnsPerHost: h.maxConns, IdleConnTimeout: idleTimeout,
			DisableKeepAlives: h.maxIdle < 0, DisableCompression: true}
		h.rt, h.closeIdle = tr, tr.CloseIdleConnections
	} else {
		tr := &Transport{MaxIdleConnsPerHost: h.maxIdle, MaxConnsPerHost: h.maxConns, IdleConnTimeout: idleTimeout, Strict: h.strict}
		h.rt, h.gd, h.closeIdle = tr, tr, tr.CloseIdleConnections
	}
	config := fmt.Sprintf("seed=%d ref=%v maxIdle=%d maxConns=%d idleTimeout=%v strict=%v idleClose=%v closeEvery=%v workers=%d×%d",
		seed, ref, h.maxIdle, h.maxConns, idleTimeout, h.strict, h.idleClose, closeEvery, workers, perWorker)
	h.servers[0], h.servers[1] = h.listen(0), h.listen(1)

	var janitors, wg sync.WaitGroup
	specs := make([][]*tcSpec, workers)
	for i := range specs {
		for range perWorker {
			s := h.gen(r, nextID.Add(1))
			specs[i] = append(specs[i], s)
			h.all = append(h.all, s)
		}
	}
	for i := range workers {
		wr := rand.New(rand.NewPCG(seed, uint64(i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, s := range specs[i] {
				func() {
					defer func() {
						if p := recover(); p != nil {
							h.fail("PANIC %v: %v\n%s", s, p, debugStack())
						}
					}()
					h.do(wr, s, &janitors)
				}()
			}
		}()
	}
	stopCloser := make(chan struct{})
	closerDone := make(chan struct{})
	go func() {
		defer close(closerDone)
		if closeEvery == 0 {
			<-stopCloser
			return
		}
		cr := rand.New(rand.NewPCG(seed, 99))
		for {
			select {
			case <-stopCloser:
				return
			case <-time.After(time.Duration(cr.IntN(int(closeEvery)))):
				h.closeIdle()
				h.count("CloseIdleConnections")
				h.checkPool()
			}
		}
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); janitors.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: HANG: the workers have not finished in 30 s\n%s", config, debugStack())
	}
	close(stopCloser)
	<-closerDone
	h.checkPool()
	if idleTimeout > 0 && idleTimeout < idleLook {
		// Every connection is idle now: IdleConnTimeout closes them all,
		// without CloseIdleConnections (the liveness look runs every
		// min(IdleConnTimeout, idleLook)).
		wait := time.Now().Add(idleTimeout + idleLook + 500*time.Millisecond)
		for h.servers[0].leftOpen()+h.servers[1].leftOpen() > 0 && time.Now().Before(wait) {
			time.Sleep(2 * time.Millisecond)
		}
		if n := h.servers[0].leftOpen() + h.servers[1].leftOpen(); n > 0 {
			h.fail("%d idle connections still open %v after the last request (IdleConnTimeout %v)", n, idleTimeout+idleLook+500*time.Millisecond, idleTimeout)
		}
	}
	h.closeIdle()
	if h.gd != nil {
		// (an idle timer's discard may still be on its way to the slots)
		var idle, slots int
		for wait := time.Now().Add(time.Second); ; time.Sleep(2 * time.Millisecond) {
			h.gd.mu.Lock()
			idle, slots = len(h.gd.idle), len(h.gd.slots)
			h.gd.mu.Unlock()
			if idle+slots == 0 || time.Now().After(wait) {
				break
			}
		}
		if idle+slots != 0 {
			h.fail("1 s after CloseIdleConnections: %d keys pooled, %d keys with slots (§7 D1)", idle, slots)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for h.servers[0].leftOpen()+h.servers[1].leftOpen() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := h.servers[0].leftOpen() + h.servers[1].leftOpen(); n > 0 {
		h.fail("%d connections still open at the client 2 s after CloseIdleConnections", n)
	}
	for time.Now().Before(deadline) {
		open := 0
		for _, b := range h.bodies {
			if !b.isClosed() {
				open++
			}
		}
		if open == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, b := range h.bodies {
		if !b.isClosed() {
			h.fail("a request body was never closed")
			break
		}
	}
	h.servers[0].stop()
	h.servers[1].stop()

	// The deliveries.
	for _, s := range h.all {
		ds := s.deliveries
		if s.ctxKind == "pre" && len(ds) > 0 {
			h.bad = append(h.bad, fmt.Sprintf("%v: sent %d times though its context had ended before RoundTrip", s, len(ds)))
		}
		if len(ds) < 2 {
			continue
		}
		h.tally["retried"]++
		if !h.retryable(s) {
			h.bad = append(h.bad, fmt.Sprintf("%v: a request that may not be repeated was sent %d times %+v", s, len(ds), ds))
			continue
		}
		for i, d := range ds[:len(ds)-1] {
			if d.fresh && !h.ref { // (net/http pools a connection dialed for a request that went elsewhere: "reused" at its first request)
				h.bad = append(h.bad, fmt.Sprintf("%v: sent again after failing on a new connection (delivery %d of %d) %+v", s, i+1, len(ds), ds))
			}
			if d.wrote { // (acknowledged before any reset: in the client's socket)
				h.bad = append(h.bad, fmt.Sprintf("%v: sent again after its response had come (delivery %d of %d) %+v", s, i+1, len(ds), ds))
			}
		}
	}
	for i := range h.bad {
		if m := tcPortRe.FindStringSubmatch(h.bad[i]); m != nil {
			h.bad[i] += h.history(m[1])
		} else if m := tcIDRe.FindStringSubmatch(h.bad[i]); m != nil && !strings.Contains(h.bad[i], "MaxIdleConnsPerHost is") {
			h.bad[i] += h.history(m[1])
		}
		h.bad[i] = config + ": " + h.bad[i]
	}
	h.tally["requests"] = len(h.all)
	return h
}

// checkPool: the gdhttp pool holds at most MaxIdleConnsPerHost per key.
func (h *tcRun) checkPool() {
	if h.gd == nil {
		return
	}
	limit := h.maxIdle
	if limit == 0 {
		limit = 2
	}
	h.gd.mu.Lock()
	defer h.gd.mu.Unlock()
	for k, l := range h.gd.idle {
		if len(l) > max(limit, 0) {
			h.fail("%d idle connections pooled for %s:%d (MaxIdleConnsPerHost %d)", len(l), k.host, k.port, h.maxIdle)
		}
	}
}

var (
	tcIDRe   = regexp.MustCompile(`id=(\d+) `)
	tcPortRe = regexp.MustCompile(`tcp (127\.0\.0\.1:\d+)->`)
)

func debugStack() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// TestTransportConcurrentChaos runs the harness.
func TestTransportConcurrentChaos(t *testing.T) {
	runs := drive.EnvInt("GDHTTP_TCONC_N", 10)
	first := uint64(drive.EnvInt("GDHTTP_TCONC_SEED", 1))
	ref := os.Getenv("GDHTTP_TCONC_REF") == "nethttp"
	verbose := os.Getenv("GDHTTP_TCONC_V") != ""
	leak := goleak.IgnoreCurrent()
	fds := drive.FDs()
	var nextID atomic.Int64
	total := map[string]int{}
	failed := 0
	for i := range runs {
		h := tcRunOne(t, first+uint64(i), ref, &nextID)
		for k, v := range h.tally {
			total[k] += v
		}
		for j, b := range h.bad {
			if j == 10 {
				t.Errorf("... %d breaches in all in this run", len(h.bad))
				break
			}
			t.Error(b)
		}
		if len(h.bad) > 0 {
			failed++
		}
		if verbose {
			t.Logf("seed %d: %v", h.seed, h.tally)
		}
	}
	t.Logf("%d runs (%d with breaches):%s", runs, failed, drive.Counts(total))
	goleak.VerifyNone(t, leak)
	drive.NoFDLeft(t, fds, 0)
}
