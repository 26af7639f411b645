package httpclient

// A generated differential of the Transport against net/http's: seeded raw
// responses (status lines, framing headers, chunked bodies, short and long
// bodies, the server closing, resetting or hanging) are served from a raw
// 127.0.0.1 listener to an http.Client over each Transport, followed by a
// second request on the same client. Every difference is explained by a
// rule (tdExplain: the Transport's doc, COMPAT.md, §1.8–§1.10) or fails the
// test; so do a panic, a hang past the client's timeout, a body bytes
// neither Godot's model nor net/http would deliver, a second request that
// reads the first response's leftovers, a Close that does not match the
// connection's fate, and a goroutine or descriptor left behind. A third of
// the cases run the Transport Strict (§7.4), judged against net/http with
// the differences §7.4 and the Transport's doc name; some cut the head
// short. The two findings it made are pinned by the cases of
// tdiff_cases_test.go.
//
// GDHTTP_TDIFF_N sets the number of cases (default 48, under 3 s);
// GDHTTP_TDIFF_SEED the first seed; GDHTTP_TDIFF_V=1 logs every explained
// difference.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdhttp/gdhttp/chunked"
	"github.com/gdhttp/gdhttp/internal/drive"
)

// tdCase is one generated exchange.
type tdCase struct {
	seed   uint64
	method string // of the first request
	pre    string // 1xx heads sent before the final one
	status string // the final status line
	lines  []string
	body   []byte // after the head
	extra  []byte // after the body (a "long" body)
	split  bool   // a pause between the head and the body
	after  string // keep, close, rst, hang, finlater
	strict bool   // the gdhttp Transport is Strict (§7.4)
	cut    int    // > 0: only this many bytes of the response are sent
	// rawResp, when set, is the whole response (the hand-written probes)
	rawResp []byte
	// what the generator chose, for the explanations and the log
	what []string
}

func (c *tdCase) raw() []byte {
	var b []byte
	b = append(b, c.pre...)
	b = append(b, c.status...)
	b = append(b, "\r\n"...)
	for _, l := range c.lines {
		b = append(b, l...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return b
}

func (c *tdCase) String() string {
	s := fmt.Sprintf("seed=%d %s after=%s split=%v [%s]\n  %q", c.seed, c.method, c.after, c.split, strings.Join(c.what, " "), append(append(c.raw(), c.body...), c.extra...))
	return s
}

const tdPayloadChars = "abcdefghijklmnopqrstuvwxyz0123456789"

// tdGenerate makes the case of a seed.
func tdGenerate(seed uint64) *tdCase {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	c := &tdCase{seed: seed}
	pick := func(what string, opts ...string) string {
		s := opts[r.IntN(len(opts))]
		c.what = append(c.what, what+"="+s)
		return s
	}
	weighted := func(what string, opts ...any) string { // "name", weight, ...
		total := 0
		for i := 1; i < len(opts); i += 2 {
			total += opts[i].(int)
		}
		n := r.IntN(total)
		for i := 0; i < len(opts); i += 2 {
			if n -= opts[i+1].(int); n < 0 {
				s := opts[i].(string)
				c.what = append(c.what, what+"="+s)
				return s
			}
		}
		panic("unreachable")
	}
	c.method = weighted("method", "GET", 6, "HEAD", 2, "POST", 2)
	switch weighted("pre", "none", 8, "100", 1, "103", 1, "100+103", 1) {
	case "100":
		c.pre = "HTTP/1.1 100 Continue\r\n\r\n"
	case "103":
		c.pre = "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
	case "100+103":
		c.pre = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
	}
	version := weighted("version", "HTTP/1.1", 12, "HTTP/1.0", 4, "HTTP/1.2", 1, "HTTP/2.0", 1, "http/1.1", 1)
	code := weighted("code", "200", 12, "201", 1, "204", 2, "206", 1, "301", 1, "302", 1, "304", 2,
		"400", 1, "404", 1, "500", 1, "503", 1, "101", 1, "100", 1, "103", 1, "199", 1, "299", 1, "599", 1)
	reason := weighted("reason", "std", 10, "missing", 2, "empty", 1, "odd", 1, "spaces", 1)
	switch reason {
	case "std":
		text := http.StatusText(atoiOr(code))
		if text == "" {
			text = "Whatever"
		}
		c.status = version + " " + code + " " + text
	case "missing":
		c.status = version + " " + code
	case "empty":
		c.status = version + " " + code + " "
	case "odd":
		c.status = version + " " + code + " Ünïcødé  reason\tphrase"
	case "spaces":
		c.status = version + " " + code + " " + "  All  Good  "
	}
	c.lines = append(c.lines, "X-Case: "+strconv.FormatUint(seed, 10))
	if r.IntN(3) == 0 {
		c.lines = append(c.lines, pick("extra", "Content-Type: text/plain", "x-lower: v", "X-Space:   v  ", "Set-Cookie: a=1", "X-Dup: 1"))
		if r.IntN(2) == 0 {
			c.lines = append(c.lines, "X-Dup: 2")
		}
	}

	payload := make([]byte, r.IntN(40))
	for i := range payload {
		payload[i] = tdPayloadChars[r.IntN(len(tdPayloadChars))]
	}
	te := weighted("te", "none", 14, "chunked", 6, "gzip, chunked", 1, "Chunked", 1, "identity", 1, "foo", 1)
	chunkedBody := strings.Contains(strings.ToLower(te), "chunked") && r.IntN(6) != 0
	cl := weighted("cl", "none", 6, "valid", 10, "dup-equal", 1, "dup-unequal", 1, "comma-equal", 1, "comma-unequal", 1,
		"negative-1", 1, "negative", 1, "huge", 1, "overflow", 1, "plus", 1, "spaces", 1, "zero", 1)
	if te != "none" && cl != "none" && r.IntN(2) == 0 {
		cl = "none" // chunked with Content-Length stays rarer
		c.what[len(c.what)-1] = "cl=none"
	}
	shape := weighted("shape", "exact", 10, "short", 3, "long", 3)
	n := len(payload)
	declared := n
	if shape == "short" && !chunkedBody {
		declared = n + 1 + r.IntN(10)
	}
	d := strconv.Itoa(declared)
	switch cl {
	case "valid":
		c.lines = append(c.lines, "Content-Length: "+d)
	case "dup-equal":
		c.lines = append(c.lines, "Content-Length: "+d, "Content-Length: "+d)
	case "dup-unequal":
		c.lines = append(c.lines, "Content-Length: "+d, "Content-Length: "+strconv.Itoa(declared+3))
	case "comma-equal":
		c.lines = append(c.lines, "Content-Length: "+d+", "+d)
	case "comma-unequal":
		c.lines = append(c.lines, "Content-Length: "+d+","+strconv.Itoa(declared+1))
	case "negative-1":
		c.lines = append(c.lines, "Content-Length: -1")
	case "negative":
		c.lines = append(c.lines, "Content-Length: -"+strconv.Itoa(declared+2))
	case "huge":
		c.lines = append(c.lines, "Content-Length: 1000000000000")
	case "overflow":
		c.lines = append(c.lines, "Content-Length: 99999999999999999999999")
	case "plus":
		c.lines = append(c.lines, "Content-Length: +"+d)
	case "spaces":
		c.lines = append(c.lines, "Content-Length:   "+d+"   ")
	case "zero":
		c.lines = append(c.lines, "Content-Length: 0")
	}
	if te != "none" {
		c.lines = append(c.lines, "Transfer-Encoding: "+te)
	}
	switch weighted("conn", "none", 8, "close", 3, "keep-alive", 2, "Close", 1, "keep-alive, close", 1) {
	case "close":
		c.lines = append(c.lines, "Connection: close")
	case "keep-alive":
		c.lines = append(c.lines, "Connection: keep-alive")
	case "Close":
		c.lines = append(c.lines, "Connection: Close")
	case "keep-alive, close":
		c.lines = append(c.lines, "Connection: keep-alive, close")
	}
	r.Shuffle(len(c.lines)-1, func(i, j int) { c.lines[i+1], c.lines[j+1] = c.lines[j+1], c.lines[i+1] })

	if chunkedBody {
		c.body = tdChunked(r, c, payload, shape == "short")
	} else {
		c.body = payload
	}
	if shape == "long" {
		c.extra = []byte(pick("extra-bytes", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nSMUGG", "XXXXXXXX", "\r\n", "0\r\n\r\n"))
	}
	c.split = r.IntN(8) == 0
	c.after = weighted("after", "keep", 12, "close", 5, "rst", 2, "hang", 1, "finlater", 2)
	c.strict = weighted("mode", "lenient", 2, "strict", 1) == "strict"
	if r.IntN(16) == 0 {
		all := len(c.raw())
		c.cut = 1 + r.IntN(all-1)
		c.what = append(c.what, "cut="+strconv.Itoa(c.cut))
	}
	return c
}

// tdChunked encodes payload as chunks, with the generator's oddities.
func tdChunked(r *rand.Rand, c *tdCase, payload []byte, short bool) []byte {
	var b []byte
	mode := "plain"
	if r.IntN(3) == 0 {
		modes := []string{"ext", "trailer", "bad-size", "bad-term", "upper-zero", "no-last", "last-no-crlf"}
		mode = modes[r.IntN(len(modes))]
	}
	if short {
		mode = "cut"
	}
	c.what = append(c.what, "chunks="+mode)
	rest := payload
	first := true
	for len(rest) > 0 {
		k := 1 + r.IntN(len(rest))
		size := strconv.FormatInt(int64(k), 16)
		switch {
		case mode == "upper-zero":
			size = "00" + strings.ToUpper(size)
		case mode == "ext" && first:
			size += ";a=b"
		case mode == "bad-size" && first:
			size = "z" + size
		}
		b = append(b, size...)
		b = append(b, "\r\n"...)
		b = append(b, rest[:k]...)
		if mode == "bad-term" && first {
			b = append(b, "XY"...)
		} else {
			b = append(b, "\r\n"...)
		}
		rest = rest[k:]
		first = false
		if mode == "cut" && len(rest) > 0 && r.IntN(2) == 0 {
			return b
		}
	}
	switch mode {
	case "cut", "no-last":
		return b
	case "trailer":
		return append(b, "0\r\nX-Trailer: t1\r\n\r\n"...)
	case "last-no-crlf":
		return append(b, "0\r\n"...)
	}
	return append(b, "0\r\n\r\n"...)
}

func atoiOr(s string) int { n, _ := strconv.Atoi(s); return n }

// tdServer serves one case: the first request gets the case's response,
// every later one (on any connection) a clean "second-cN-rM".
type tdServer struct {
	ln       net.Listener
	c        *tdCase
	reqs     atomic.Int32
	accepted atomic.Int32
	done     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

func tdListen(t testing.TB, c *tdCase) *tdServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err) // called from the workers' goroutines
	}
	s := &tdServer{ln: ln, c: c, done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for i := 0; ; i++ {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.mu.Lock()
			s.conns = append(s.conns, conn)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(i, conn) }()
		}
	}()
	return s
}

func (s *tdServer) url(p string) string { return "http://" + s.ln.Addr().String() + p }

func (s *tdServer) stop() {
	close(s.done)
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *tdServer) serve(ci int, conn net.Conn) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	for ri := 0; ; ri++ {
		if !tdReadRequest(br) {
			return
		}
		if s.reqs.Add(1) != 1 {
			body := fmt.Sprintf("second-c%d-r%d", ci, ri)
			if _, err := fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body); err != nil {
				return
			}
			continue
		}
		c := s.c
		head := c.raw()
		if c.cut > 0 {
			_, _ = conn.Write(head[:c.cut])
		} else if c.rawResp != nil {
			_, _ = conn.Write(c.rawResp)
			if c.after == "close" {
				return
			}
			continue
		} else if c.split {
			_, _ = conn.Write(head)
			time.Sleep(15 * time.Millisecond)
			_, _ = conn.Write(append(slices.Clip(c.body), c.extra...))
		} else {
			_, _ = conn.Write(append(append(head, c.body...), c.extra...))
		}
		switch c.after {
		case "keep":
			continue
		case "close":
			return
		case "rst":
			_ = conn.(*net.TCPConn).SetLinger(0)
			return
		case "finlater":
			time.Sleep(40 * time.Millisecond)
			return
		case "hang":
			<-s.done
			return
		}
	}
}

// tdReadRequest reads one request, head and body.
func tdReadRequest(br *bufio.Reader) bool {
	length, chunked := 0, false
	for first := true; ; first = false {
		line, err := br.ReadString('\n')
		if err != nil {
			return false
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if first {
				continue
			}
			break
		}
		name, value, _ := strings.Cut(line, ":")
		switch strings.ToLower(name) {
		case "content-length":
			length, _ = strconv.Atoi(strings.TrimSpace(value))
		case "transfer-encoding":
			chunked = strings.Contains(strings.ToLower(value), "chunked")
		}
	}
	if chunked {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return false
			}
			n, _ := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
			if _, err := io.CopyN(io.Discard, br, n+2); err != nil {
				return false
			}
			if n == 0 {
				return true
			}
		}
	}
	_, err := io.CopyN(io.Discard, br, int64(length))
	return err == nil
}

// tdResult is what a client saw.
type tdResult struct {
	err           error
	status        int
	proto         string
	header        http.Header
	contentLength int64
	te            []string
	close         bool
	trailer       http.Header
	uncompressed  bool
	noBody        bool
	body          []byte
	bodyErr       error
	dur           time.Duration
	panicked      any

	secondErr    error
	secondStatus int
	secondBody   string
	accepted     int
}

const tdTimeout = 2 * time.Second

// tdRun sends the case's two requests over rt.
func tdRun(c *tdCase, rt http.RoundTripper, srv *tdServer) (res tdResult) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			res.panicked = p
		}
		res.dur = time.Since(start)
	}()
	cl := &http.Client{
		Transport:     rt,
		Timeout:       tdTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var body io.Reader
	if c.method == "POST" {
		body = strings.NewReader("post-body")
	}
	req, _ := http.NewRequest(c.method, srv.url("/1"), body)
	resp, err := cl.Do(req)
	res.err = err
	if err == nil {
		res.status = resp.StatusCode
		res.proto = resp.Proto
		res.header = resp.Header
		res.contentLength = resp.ContentLength
		res.te = resp.TransferEncoding
		res.close = resp.Close
		res.uncompressed = resp.Uncompressed
		res.noBody = resp.Body == http.NoBody
		res.body, res.bodyErr = io.ReadAll(resp.Body)
		res.trailer = resp.Trailer
		_ = resp.Body.Close()
	}
	time.Sleep(10 * time.Millisecond) // net/http pools from its read loop
	resp, err = cl.Get(srv.url("/2"))
	res.secondErr = err
	if err == nil {
		b, err := io.ReadAll(resp.Body)
		res.secondStatus = resp.StatusCode
		res.secondBody = string(b)
		if err != nil {
			res.secondBody += " <" + err.Error() + ">"
		}
		_ = resp.Body.Close()
	}
	res.accepted = int(srv.accepted.Load())
	return res
}

// tdErrKind names an error by its cause.
func tdErrKind(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return "nil"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected-eof"
	case errors.As(err, new(*chunked.Error)):
		return "chunk-error"
	case errors.Is(err, ErrPeerClosed):
		return "peer-closed" // httpclient's documented cause (errors.go), net/http's io.EOF or io.ErrUnexpectedEOF
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, io.EOF):
		return "eof"
	}
	return "other"
}

// tdGodot is what Godot's client makes of the first response (§1.8–§1.10),
// modelled here independently of the wire package, for the generator's
// grammar (CR LF lines, no NUL, no folding).
type tdGodot struct {
	code        int
	lines       []string // stored header lines
	bodySize    int64
	chunked     bool
	keepAlive   bool
	framing     string // length, chunked, until-close, none
	informative bool   // a 1xx taken as the final response
}

// tdToInt is §0.4.2's to_int.
func tdToInt(s string) int64 {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = s[:i]
	}
	var v int64
	neg := false
	over := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= '0' && ch <= '9':
			if v > (1<<63-1-int64(ch-'0'))/10 {
				over = true
				continue
			}
			v = v*10 + int64(ch-'0')
		case ch == '-' && v == 0:
			neg = !neg
		}
	}
	if over {
		if neg {
			return -1 << 63
		}
		return 1<<63 - 1
	}
	if neg {
		return -v
	}
	return v
}

func tdModel(c *tdCase) tdGodot {
	raw := string(c.raw())
	head := raw[:strings.Index(raw, "\r\n\r\n")]
	g := tdGodot{code: 200, bodySize: -1, keepAlive: true}
	if c.pre != "" {
		head = c.pre[:strings.Index(c.pre, "\r\n\r\n")]
		g.informative = true
	}
	for i, line := range strings.Split(head, "\n") {
		s := strings.TrimFunc(line, func(r rune) bool { return r <= 32 })
		if s == "" {
			continue
		}
		low := strings.ToLower(s)
		switch {
		case strings.HasPrefix(low, "content-length:"):
			g.bodySize = tdToInt(strings.TrimFunc(s[len("content-length:"):], func(r rune) bool { return r <= 32 }))
		case strings.HasPrefix(low, "transfer-encoding:"):
			if strings.TrimFunc(s[len("transfer-encoding:"):], func(r rune) bool { return r <= 32 }) == "chunked" {
				g.chunked = true
			}
		case strings.HasPrefix(low, "connection: close"):
			g.keepAlive = false
		}
		if i == 0 && strings.HasPrefix(line, "HTTP") {
			f := strings.Split(strings.TrimRight(line, "\r"), " ")
			g.code = 0
			if len(f) > 1 {
				g.code = int(tdToInt(f[1]))
			}
			continue
		}
		g.lines = append(g.lines, s)
	}
	if c.method == "HEAD" {
		g.bodySize = 0
	}
	switch {
	case g.chunked && c.method != "HEAD":
		g.framing = "chunked"
	case g.bodySize != -1 || g.chunked:
		g.framing = "length"
		if c.method == "HEAD" {
			g.bodySize = 0
		}
	case !g.keepAlive:
		g.framing = "until-close"
	default:
		g.framing = "none"
	}
	return g
}

// tdGodotBody is the body Godot's reader delivers from stream (every byte
// after the head), and whether it ends cleanly. A chunk error returns the
// chunk's data as it fails (§1.10.2.2, H7); an end before the body's end is
// an error (H3, C3).
func tdGodotBody(g tdGodot, stream []byte, closes bool) (body, partial []byte, complete bool) {
	switch g.framing {
	case "none":
		return nil, nil, true
	case "length":
		if g.bodySize < 0 {
			return nil, nil, false
		}
		if int64(len(stream)) >= g.bodySize {
			return stream[:g.bodySize], nil, true
		}
		return stream, nil, false
	case "until-close":
		return stream, nil, closes
	}
	// chunked
	for {
		i := strings.Index(string(stream), "\r\n")
		if i < 0 || i > 30 {
			return body, nil, false // §1.10.2.1: a size line is at most 32 bytes
		}
		line := string(stream[:i])
		var n int64
		bad := false
		for _, ch := range line {
			v := strings.IndexRune("0123456789abcdef", ch|0x20)
			if ch >= 'A' && ch <= 'F' || ch >= 'a' && ch <= 'f' || ch >= '0' && ch <= '9' {
				n = n*16 + int64(v)
				continue
			}
			bad = true
			break
		}
		stream = stream[i+2:]
		if n == 0 {
			if bad {
				return body, nil, false
			}
			// the trailer: lines until an empty one
			for {
				j := strings.Index(string(stream), "\r\n")
				if j < 0 {
					return body, nil, false
				}
				if j == 0 {
					return body, nil, true
				}
				stream = stream[j+2:]
			}
		}
		// The Transport streams a chunk's data before its terminator
		// is checked (ReadResponseBodyChunkInto; H7): a chunk that fails
		// may have given some or all of its bytes, then the error.
		if int64(len(stream)) < n+2 {
			return body, stream[:min(int64(len(stream)), n)], false
		}
		if string(stream[n:n+2]) != "\r\n" {
			return body, stream[:n], false
		}
		body = append(body, stream[:n]...)
		stream = stream[n+2:]
		if bad {
			return body, nil, false
		}
	}
}

// tdExplain compares the two results of a case: each difference is either
// explained (its rule, in explained) or not (in findings).
func tdExplain(c *tdCase, n, g *tdResult) (explained, findings []string) {
	m := tdModel(c)
	ok := func(what, why string) { explained = append(explained, what+": "+why) }
	bad := func(format string, args ...any) { findings = append(findings, fmt.Sprintf(format, args...)) }
	closes := c.after == "close" || c.after == "finlater"
	stream := append(slices.Clip(c.body), c.extra...)

	// What must hold of gdhttp whatever net/http does.
	if g.panicked != nil {
		bad("gdhttp panicked: %v", g.panicked)
		return
	}
	if g.dur > tdTimeout+tdTimeout/2 {
		bad("gdhttp took %v, past the client's timeout %v", g.dur, tdTimeout)
	}
	// Bytes a server sends, after a pause, past a response without a body
	// (HEAD, Content-Length: 0) arrive after the connection went back to
	// the pool: no client can see them coming. net/http did not reuse the
	// connection only because it refused the head.
	late := c.split && g.err == nil && (c.method == "HEAD" || g.contentLength == 0) && n.err != nil
	if g.secondErr == nil && !strings.HasPrefix(g.secondBody, "second-") {
		if late {
			ok("second", "bytes sent late after a response without a body are the next response's (§1.8.4); net/http refused the head")
		} else if c.split && n.accepted == 1 && !strings.HasPrefix(n.secondBody, "second-") {
			// Bytes a server sends, after a pause, past a response
			// without a body (HEAD, Content-Length: 0) arrive after
			// the connection went back to the pool: neither client can
			// see them coming (net/http reads them as the next
			// response too); Godot takes a first line that is not
			// "HTTP…" for a header, code 200 (§1.8.4).
			ok("second", "bytes sent late after a response without a body are the next response's (§1.8.4; net/http too)")
		} else {
			bad("second request read leftovers of the first: %d %q", g.secondStatus, g.secondBody)
		}
	}
	if g.err == nil && g.close && g.secondErr == nil && g.accepted == 1 && c.after == "keep" {
		bad("Close set but the connection was reused (second %q)", g.secondBody)
	}
	if g.err == nil && g.bodyErr == nil && g.contentLength >= 0 && int64(len(g.body)) != g.contentLength && c.method != "HEAD" {
		bad("ContentLength %d but %d body bytes and no error", g.contentLength, len(g.body))
	}
	if g.err == nil && g.uncompressed {
		bad("Uncompressed set")
	}
	if g.err == nil && g.trailer != nil {
		bad("Trailer %v (trailers are dropped)", g.trailer)
	}

	switch {
	case n.secondErr != nil && g.secondErr == nil:
		ok("second", "net/http reused a connection gdhttp did not")
	case n.secondErr == nil && g.secondErr != nil:
		switch {
		case c.after == "hang" && g.accepted == 1 && !g.close && g.bodyErr == nil:
			ok("second", "a clean keep-alive response, then the server stops answering: the reused connection times out")
		case late && c.after != "keep":
			ok("second", "bytes sent late after a response without a body, then the server ends the connection under the next request; net/http refused the head")
		default:
			bad("second request failed (%v), net/http's did not", g.secondErr)
		}
	}

	if c.cut > 0 && c.pre != "" && !c.strict && c.cut >= strings.Index(c.pre, "\r\n\r\n")+4 {
		if g.err != nil || g.status/100 != 1 {
			bad("a 1xx head sent whole, then the rest cut: %s, Godot's the 1xx as the final response (§1.8.7)", tdDescribe(g))
		} else {
			ok("error", "the 1xx head is whole, Godot's final response (§1.8.7); net/http waits for the rest")
		}
		return
	}
	if c.cut > 0 {
		// The head cut short: both fail; gdhttp's error is Godot's
		// ERR_CONNECTION_ERROR (§1.6.4.2) wrapping what ended the read.
		switch {
		case g.err == nil:
			bad("no error for a head cut short")
		case !errors.Is(g.err, ErrConnectionError) && tdErrKind(g.err) != "timeout":
			bad("a head cut short: %v is not ERR_CONNECTION_ERROR", g.err)
		case tdErrKind(g.err) == "other":
			bad("a head cut short: %v wraps no cause (EOF, ECONNRESET, a timeout)", g.err)
		case n.err != nil:
			ok("error", "a head cut short")
		}
		return
	}
	if c.strict {
		tdExplainStrict(c, n, g, ok, bad)
		return
	}

	// The first response against Godot's model.
	godotErr := c.method != "HEAD" && m.framing == "length" && m.bodySize < -1 // R2: refused
	switch {
	case godotErr && g.err == nil:
		bad("a Content-Length below -1 (%d) not refused", m.bodySize)
	case !godotErr && g.err != nil:
		bad("error %v (%s), Godot's model reads a head: %+v", g.err, tdErrKind(g.err), m)
	}
	if g.err != nil {
		if n.err != nil {
			ok("error", "both fail")
		} else {
			ok("error", "R2: a Content-Length below −1 is refused")
		}
		return
	}
	if g.status != m.code {
		bad("StatusCode %d, Godot's %d", g.status, m.code)
	}
	want, partial, complete := tdGodotBody(m, stream, closes)
	if c.method == "HEAD" {
		want, partial, complete = nil, nil, true
	}
	if got, _ := strings.CutPrefix(string(g.body), string(want)); len(got) != len(g.body)-len(want) || !strings.HasPrefix(string(partial), got) || got != "" && g.bodyErr == nil {
		bad("body %q, Godot's %q (then %q of a failing chunk, framing %s)", g.body, want, partial, m.framing)
	}
	var be *BodyError
	if errors.As(g.bodyErr, &be) && !errors.Is(g.bodyErr, io.ErrUnexpectedEOF) {
		bad("a *BodyError that is not io.ErrUnexpectedEOF (BodyError's doc): %v", g.bodyErr)
	}
	if tdErrKind(g.bodyErr) == "chunk-error" && !errors.Is(g.bodyErr, ErrConnectionError) && be == nil {
		bad("a chunk error without ErrConnectionError (ReadResponseBodyChunkInto's doc): %v", g.bodyErr)
	}
	if complete != (g.bodyErr == nil) && !(c.after == "hang" && !complete) {
		bad("body error %v (%s), Godot's body complete=%v", g.bodyErr, tdErrKind(g.bodyErr), complete)
	}
	if !complete && g.bodyErr != nil && tdErrKind(g.bodyErr) == "other" {
		bad("body error %v wraps no cause (io.ErrUnexpectedEOF, ECONNRESET, a timeout)", g.bodyErr)
	}
	// The Close flag: a response that says the connection ends (RFC 9112
	// §9.3), or whose framing is Godot's alone, must say Close.
	if n.err == nil && n.close && !g.close {
		bad("Close false where net/http's is true")
	}

	// Differences from net/http, each with its rule.
	if n.err != nil {
		ok("error", "net/http refuses the head ("+tdErrKind(n.err)+"); Godot reads it (§1.8, §7.4 lists what Strict refuses)")
		return
	}
	if n.status != g.status {
		switch {
		case m.informative:
			ok("StatusCode", "§1.8.7: a 1xx is the final response")
		case !strings.HasPrefix(c.status, "HTTP"):
			ok("StatusCode", "§1.8.4: a first line not beginning with HTTP is a header, code 200")
		default:
			bad("StatusCode %d, net/http's %d", g.status, n.status)
		}
	}
	if !tdSameHeader(n.header, g.header) {
		ok("Header", "§1.8.5: Godot's stored lines (net/http drops or merges framing fields)")
	}
	if n.contentLength != g.contentLength {
		ok("ContentLength", "§1.9 framing: Godot's "+m.framing)
	}
	if !slices.Equal(n.te, g.te) {
		ok("TransferEncoding", "§1.8.3: chunked only for exactly \"chunked\"")
	}
	if n.close != g.close {
		ok("Close", "set where Godot's framing leaves the connection's end unknown (§7 D2)")
	}
	if string(n.body) != string(g.body) {
		ok("body", "§1.9/§1.10 framing "+m.framing)
	}
	if tdErrKind(n.bodyErr) != tdErrKind(g.bodyErr) {
		ok("body error", tdErrKind(n.bodyErr)+" vs "+tdErrKind(g.bodyErr)+" ("+m.framing+")")
	}
	return
}

// tdExplainStrict compares a Strict Transport (RFC 9112, §7.4) with
// net/http's: the differences are the ones §7.4 and the Transport's doc
// name.
func tdExplainStrict(c *tdCase, n, g *tdResult, ok func(what, why string), bad func(string, ...any)) {
	lower := strings.ToLower(strings.Join(c.lines, "\n"))
	http10 := strings.HasPrefix(c.status, "HTTP/1.0")
	te := strings.Contains(lower, "transfer-encoding:")
	switch {
	case n.err == nil && g.err != nil:
		switch msg := g.err.Error(); {
		case strings.Contains(msg, "does not start with HTTP/1.x"):
			ok("error", "strict: the status line is HTTP/1.x SP 3DIGIT (§7.4); net/http takes "+c.status[:8])
		case strings.Contains(msg, "upgrades are not supported"):
			ok("error", "strict: a 101 is refused (the Transport's doc)")
		case strings.Contains(msg, "transfer coding other than chunked") && http10:
			ok("error", "strict: a transfer coding it cannot decode is refused; net/http ignores Transfer-Encoding in HTTP/1.0 (RFC 9112 §6.1: faulty framing)")
		default:
			bad("strict: error %v [%s], net/http reads the response", g.err, tdErrKind(g.err))
		}
		return
	case n.err != nil && g.err == nil:
		bad("strict: no error, net/http's %v [%s]", n.err, tdErrKind(n.err))
		return
	case g.err != nil:
		ok("error", "strict: both fail")
		return
	}
	if n.status != g.status {
		bad("strict: StatusCode %d, net/http's %d", g.status, n.status)
	}
	framing := func(h http.Header) http.Header {
		h = h.Clone()
		for _, k := range []string{"Connection", "Content-Length", "Transfer-Encoding"} {
			delete(h, k)
		}
		return h
	}
	if !tdSameHeader(framing(n.header), framing(g.header)) {
		bad("strict: Header %v, net/http's %v", g.header, n.header)
	} else if !tdSameHeader(n.header, g.header) {
		ok("Header", "strict: Connection, Content-Length and Transfer-Encoding lines as received (the Transport's doc: Godot's headers); net/http drops or merges them")
	}
	if http10 && te {
		// net/http ignores Transfer-Encoding in an HTTP/1.0 response (a
		// body until the close, or Content-Length's); strict reads it
		// chunked: RFC 9112 §6.1 calls the framing faulty — the two
		// differ in every field of the body. The connection is not
		// reused (§7 D2).
		if !g.close {
			bad("strict: Close false after an HTTP/1.0 response with Transfer-Encoding (RFC 9112 §6.1, §7 D2)")
		}
		ok("framing", "strict: HTTP/1.0 with Transfer-Encoding (RFC 9112 §6.1: faulty framing)")
		return
	}
	if n.contentLength != g.contentLength {
		bad("strict: ContentLength %d, net/http's %d", g.contentLength, n.contentLength)
	}
	if !slices.Equal(n.te, g.te) {
		bad("strict: TransferEncoding %v, net/http's %v", g.te, n.te)
	}
	switch {
	case n.close && !g.close:
		bad("strict: Close false, net/http's true")
	case !n.close && g.close:
		ok("Close", "strict: set where the Transport does not reuse the connection (framing it distrusts, stray bytes)")
	}
	// Chunked bodies are read with Godot's decoder in strict mode too
	// (the Transport's doc): what it makes of the body.
	godotChunks := false
	if slices.Equal(g.te, []string{"chunked"}) && c.method != "HEAD" && g.bodyErr != nil {
		want, partial, complete := tdGodotBody(tdGodot{framing: "chunked"}, append(slices.Clip(c.body), c.extra...), c.after == "close" || c.after == "finlater")
		rest, found := strings.CutPrefix(string(g.body), string(want))
		godotChunks = !complete && found && strings.HasPrefix(string(partial), rest)
	}
	if string(n.body) != string(g.body) {
		if godotChunks {
			ok("body", "strict: Godot's chunked decoder (a chunk extension, a size line over 32 bytes, a doomed chunk read on: §1.10.2, H7)")
		} else {
			bad("strict: body %q, net/http's %q", g.body, n.body)
		}
	}
	if nk, gk := tdErrKind(n.bodyErr), tdErrKind(g.bodyErr); nk != gk {
		switch {
		case godotChunks:
			ok("body error", "strict: Godot's chunked decoder ("+gk+"; "+nk+" in net/http)")
		case gk != "nil" && gk != "other" && nk != "nil":
			ok("body error", "strict: both fail, the cause differs ("+gk+"; "+nk+" in net/http)")
		case gk == "nil" && slices.Equal(g.te, []string{"chunked"}) && strings.Contains(fmt.Sprint(n.bodyErr), "malformed MIME header"):
			// net/http parses the trailer section as header fields;
			// Godot's decoder discards its lines unread to the empty
			// line (§1.10.2 step 6), in strict mode too (the
			// Transport's doc). What follows that line is stray bytes:
			// the connection is not reused.
			ok("body error", "strict: trailer lines are discarded unchecked, as Godot's decoder does (§1.10.2; net/http: a malformed trailer)")
		default:
			bad("strict: body error %v [%s], net/http's %v [%s]", g.bodyErr, gk, n.bodyErr, nk)
		}
	}
}

func tdSameHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestTransportDiffNetHTTP runs the generated differential.
func TestTransportDiffNetHTTP(t *testing.T) {
	count := drive.EnvInt("GDHTTP_TDIFF_N", 48)
	first := uint64(drive.EnvInt("GDHTTP_TDIFF_SEED", 1))
	verbose := os.Getenv("GDHTTP_TDIFF_V") != ""
	leak := goleak.IgnoreCurrent()
	log.SetOutput(io.Discard) // net/http's "Unsolicited response received on idle HTTP channel"
	defer log.SetOutput(os.Stderr)
	fds := drive.FDs()

	type outcome struct {
		c                  *tdCase
		n, g               tdResult
		explained, finding []string
	}
	outs := make([]outcome, count)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= count {
					return
				}
				c := tdGenerate(first + uint64(i))
				var res [2]tdResult
				var inner sync.WaitGroup
				for k := range 2 {
					inner.Add(1)
					go func() {
						defer inner.Done()
						srv := tdListen(t, c)
						var rt http.RoundTripper
						if k == 0 {
							rt = &http.Transport{}
						} else {
							rt = &Transport{Strict: c.strict}
						}
						res[k] = tdRun(c, rt, srv)
						rt.(interface{ CloseIdleConnections() }).CloseIdleConnections()
						srv.stop()
					}()
				}
				inner.Wait()
				o := outcome{c: c, n: res[0], g: res[1]}
				o.explained, o.finding = tdExplain(c, &o.n, &o.g)
				outs[i] = o
			}
		}()
	}
	wg.Wait()

	tally := map[string]int{}
	failed := 0
	for _, o := range outs {
		for _, e := range o.explained {
			tally[e]++
		}
		if len(o.finding) > 0 {
			failed++
			if failed <= 40 {
				t.Errorf("%v\n  net/http: %s\n  gdhttp:   %s\n  findings: %s", o.c, tdDescribe(&o.n), tdDescribe(&o.g), strings.Join(o.finding, "; "))
			}
		} else if verbose && len(o.explained) > 0 {
			t.Logf("%v\n  net/http: %s\n  gdhttp:   %s\n  explained: %s", o.c, tdDescribe(&o.n), tdDescribe(&o.g), strings.Join(o.explained, "; "))
		}
	}
	if failed > 40 {
		t.Errorf("... %d cases with findings in all", failed)
	}
	t.Logf("%d cases, explained differences:%s", count, drive.Counts(tally))

	goleak.VerifyNone(t, leak)
	drive.NoFDLeft(t, fds, 0)
}

func tdDescribe(r *tdResult) string {
	if r.panicked != nil {
		return fmt.Sprintf("PANIC %v", r.panicked)
	}
	second := fmt.Sprintf("second: %d %q err=%v conns=%d", r.secondStatus, r.secondBody, r.secondErr, r.accepted)
	if r.err != nil {
		return fmt.Sprintf("err=%v [%s] %v; %s", r.err, tdErrKind(r.err), r.dur.Round(time.Millisecond), second)
	}
	return fmt.Sprintf("%d %s CL=%d TE=%v close=%v nobody=%v hdr=%v body=%q bodyErr=%v [%s] %v; %s",
		r.status, r.proto, r.contentLength, r.te, r.close, r.noBody, r.header, r.body, r.bodyErr, tdErrKind(r.bodyErr), r.dur.Round(time.Millisecond), second)
}

// tdListenRaw serves resp, exactly, to the first request (then keeps the
// connection), and the clean second response to every later one.
func tdListenRaw(t testing.TB, resp string) *tdServer {
	return tdListen(t, &tdCase{rawResp: []byte(resp), after: "keep"})
}
