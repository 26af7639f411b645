package httpclient

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/internal/uploadgen"
)

// A seeded generated differential harness for request bodies through the
// Transport (COMPAT U2): each case builds the same http.Request (method,
// Body nil / http.NoBody / an internal/uploadgen reader, ContentLength
// exact, −1, 0 with a body, below or above the body's size, GetBody or not,
// "Expect: 100-continue" or not, a context canceled mid-upload) and sends it
// through an http.Client over gdhttp's Transport and over net/http's
// http.Transport, each against its own copy of the same scripted loopback
// server (plain or TLS): per request on a connection it reads normally or
// slowly, sends an unsolicited 100 Continue, answers 413 early and closes or
// reads on, resets mid-body, closes after the head or after the body
// without an answer, stalls past the context's deadline, or redirects
// (301/302/303/307/308: what http.Client re-sends). A quarter of the cases
// first warm a connection with a GET, so that the request goes on a reused
// connection (the retry rules).
//
// Compared: the error class the caller gets (success and status, the
// body's error, the context's, a length mismatch, a network error), the
// requests the server saw complete (method, target, body bytes) and their
// framing (Content-Length or chunked), how many request heads it saw, and
// Body.Close calls on every body handed over (exactly once each, as the
// RoundTripper contract says). Differences COMPAT U2 and Transport's doc
// allow are tallied, not failed (tbAllowed says which). At the end: no
// goroutine left (goleak) and no descriptor.
//
// GDHTTP_TBODY_N (cases, default 60), GDHTTP_TBODY_SEED (default 1);
// GDHTTP_TBODY_ONLY=i runs case i alone; GDHTTP_TBODY_V=1 logs every case.
func TestTbodyTransport(t *testing.T) {
	n := drive.EnvInt("GDHTTP_TBODY_N", 60)
	seed := uint64(drive.EnvInt("GDHTTP_TBODY_SEED", 1))
	only := drive.EnvInt("GDHTTP_TBODY_ONLY", -1)
	verbose := drive.EnvInt("GDHTTP_TBODY_V", 0) == 1
	ca := ts.NewCA(t)
	srvTLS := &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, "localhost", "127.0.0.1")}}
	leaks := goleak.IgnoreCurrent()
	fds := drive.FDs()
	tally := map[string]int{}
	for i := range n {
		if only >= 0 && i != only {
			continue
		}
		c := genTbCase(seed*1_000_003 + uint64(i))
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			var cfg *tls.Config
			if c.tls {
				cfg = srvTLS
			}
			gd := runTbSide(t, c, cfg, ca, false)
			nh := runTbSide(t, c, cfg, ca, true)
			label := compareTb(t, c, gd, nh)
			tally[label]++
			if verbose || t.Failed() {
				t.Logf("case %v\n gdhttp: %v\n nethttp: %v", c, gd, nh)
			}
		})
	}
	t.Logf("seed %d, %d cases:%s", seed, n, drive.Counts(tally))
	if err := waitNoLeak(leaks); err != nil {
		t.Error(err)
	}
	drive.NoFDLeft(t, fds, 2)
}

func waitNoLeak(opt goleak.Option) error {
	var err error
	for range 200 {
		if err = goleak.Find(opt); err == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

// tbAction is what the scripted server does with one request of a
// connection.
type tbAction int

const (
	tbNormal         tbAction = iota // read it whole, answer 200
	tbSlow                           // as normal, the first 128 reads a few bytes at a time
	tbContinue100                    // "100 Continue" once the head came, 200 after the body
	tbEarlyClose                     // 413 + close once the head came
	tbEarlyDrain                     // 413 once the head came, read on
	tbReset                          // RST after at bytes of the request's body
	tbCloseAfterHead                 // close once the head came, no answer
	tbCloseAfterBody                 // close once the request came whole, no answer
	tbStall                          // read nothing for a while (past the context's deadline), then as normal
	tbRedirect                       // answer the code with Location: /next once the request came whole
)

func (a tbAction) String() string {
	return [...]string{"normal", "slow", "continue100", "earlyclose", "earlydrain", "reset",
		"closeafterhead", "closeafterbody", "stall", "redirect"}[a]
}

type tbBodyKind int

const (
	tbBodyNil tbBodyKind = iota
	tbBodyNoBody
	tbBodyReader
)

// tbCase is one generated case.
type tbCase struct {
	tls      bool
	method   string
	kind     tbBodyKind
	spec     uploadgen.ReaderSpec
	cl       int64 // Request.ContentLength
	getBody  bool
	expect   bool
	warm     bool     // a GET first, so that the request goes on a reused connection
	action   tbAction // for the request (the first one when warm is false)
	at       int      // tbReset: body bytes read before the RST
	code     int      // tbRedirect's code
	cancelAt int      // −1, or the body offset at which the reader cancels the context
	block    bool     // after the cancel the reader blocks until the body is closed
}

func (c tbCase) String() string {
	k := [...]string{"nil", "NoBody", "reader"}[c.kind]
	s := fmt.Sprintf("%s tls=%v body=%s", c.method, c.tls, k)
	if c.kind == tbBodyReader {
		s += fmt.Sprintf(" %v cl=%d getBody=%v", c.spec, c.cl, c.getBody)
	}
	s += fmt.Sprintf(" expect=%v warm=%v action=%v", c.expect, c.warm, c.action)
	switch c.action {
	case tbReset:
		s += fmt.Sprintf("@%d", c.at)
	case tbRedirect:
		s += fmt.Sprintf(" %d", c.code)
	}
	if c.cancelAt >= 0 {
		s += fmt.Sprintf(" cancel@%d block=%v", c.cancelAt, c.block)
	}
	return s
}

func genTbCase(seed uint64) tbCase {
	r := rand.New(rand.NewPCG(seed, 0x7b0d1))
	c := tbCase{tls: r.IntN(3) == 0, cancelAt: -1}
	c.method = []string{"POST", "POST", "POST", "PUT", "PUT", "PATCH", "GET", "DELETE", "OPTIONS"}[r.IntN(9)]
	switch p := r.IntN(100); {
	case p < 8:
		c.kind = tbBodyNil
	case p < 13:
		c.kind = tbBodyNoBody
	default:
		c.kind = tbBodyReader
	}
	size := 0
	switch p := r.IntN(100); {
	case p < 12:
	case p < 45:
		size = 1 + r.IntN(100)
	case p < 85:
		size = 100 + r.IntN(64<<10)
	default:
		size = 64<<10 + r.IntN(1<<20)
	}
	if c.kind == tbBodyReader {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		spec := uploadgen.ReaderSpec{Data: data, Shape: uploadgen.Shape(r.IntN(4)), Zeros: r.IntN(5) == 0,
			EOFWithLast: r.IntN(2) == 0, ErrAt: -1, PanicAt: -1, BlockAt: -1, Seed: r.Uint64()}
		if spec.Shape == uploadgen.OneByte || spec.Shape == uploadgen.Odd {
			if size > 4096 {
				spec.Shape = uploadgen.Short // keep the run short
			}
		}
		if size > 0 && r.IntN(10) == 0 {
			spec.ErrAt = r.IntN(size)
			spec.ErrWithLast = r.IntN(2) == 0
		}
		c.spec = spec
		switch p := r.IntN(100); {
		case p < 55:
			c.cl = int64(size)
		case p < 72:
			c.cl = -1
		case p < 82:
			c.cl = 0
		case p < 91 && size > 1:
			c.cl = int64(1 + r.IntN(size-1)) // the body is longer
		default:
			c.cl = int64(size + 1 + r.IntN(100)) // the body is shorter
		}
		c.getBody = r.IntN(2) == 0
		if size > 0 && r.IntN(12) == 0 {
			c.cancelAt = r.IntN(size)
			c.block = r.IntN(2) == 0
		}
	}
	c.expect = c.kind == tbBodyReader && r.IntN(8) == 0
	c.warm = r.IntN(4) == 0
	switch p := r.IntN(100); {
	case p < 30:
		c.action = tbNormal
	case p < 38:
		c.action = tbSlow
	case p < 45:
		c.action = tbContinue100
	case p < 52:
		c.action = tbEarlyClose
	case p < 59:
		c.action = tbEarlyDrain
	case p < 66:
		c.action = tbReset
		c.at = r.IntN(size + 1)
	case p < 72:
		c.action = tbCloseAfterHead
	case p < 80:
		c.action = tbCloseAfterBody
	case p < 85:
		c.action = tbStall
	default:
		c.action = tbRedirect
		c.code = []int{301, 302, 303, 307, 308}[r.IntN(5)]
	}
	return c
}

// tbServer is a scripted loopback server: the first connection's request
// number first (0, or 1 after the warm-up GET) gets action; every other
// request is answered normally.
type tbServer struct {
	ln     net.Listener
	c      tbCase
	first  int
	mu     sync.Mutex
	conns  []*tbConn
	wg     sync.WaitGroup
	quit   chan struct{}
	open   map[net.Conn]struct{}
	closed bool
}

type tbConn struct {
	mu  sync.Mutex
	got []byte
}

func (c *tbConn) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.got...)
}

func newTbServer(t *testing.T, c tbCase, cfg *tls.Config) *tbServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	s := &tbServer{ln: ln, c: c, quit: make(chan struct{}), open: map[net.Conn]struct{}{}}
	if c.warm {
		s.first = 1
	}
	s.wg.Add(1)
	go s.accept()
	return s
}

func (s *tbServer) accept() {
	defer s.wg.Done()
	for {
		raw, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = raw.Close()
			return
		}
		i := len(s.conns)
		tc := &tbConn{}
		s.conns = append(s.conns, tc)
		s.open[raw] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serve(i, raw, tc)
			s.mu.Lock()
			delete(s.open, raw)
			s.mu.Unlock()
		}()
	}
}

func (s *tbServer) close() {
	s.mu.Lock()
	s.closed = true
	close(s.quit)
	for c := range s.open {
		_ = c.Close()
	}
	s.mu.Unlock()
	_ = s.ln.Close()
	s.wg.Wait()
}

func (s *tbServer) serve(idx int, conn net.Conn, tc *tbConn) {
	defer conn.Close()
	raw := conn
	if t, ok := conn.(*tls.Conn); ok {
		raw = t.NetConn()
	}
	write := func(b string) bool {
		_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, err := io.WriteString(conn, b)
		return err == nil
	}
	reset := func() {
		if tcp, ok := raw.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
		}
	}
	rng := rand.New(rand.NewPCG(uint64(idx), 3))
	buf := make([]byte, 64<<10)
	answered, acted := 0, -1
	// Slow reads are bounded, so that a large body stays well inside the
	// context's deadline under -race on a loaded machine (each read
	// re-parses what came).
	slowLeft := 128
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-s.quit:
			return
		default:
		}
		reqs, _ := uploadgen.ScanRequests(tc.bytes())
		// The scripted request: idx 0, number s.first.
		scripted := idx == 0 && len(reqs) > s.first && reqs[s.first].HeadEnd > 0
		want := len(buf)
		if scripted && s.c.action == tbSlow && slowLeft > 0 {
			slowLeft--
			want = 1 + rng.IntN(4096)
			time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
		}
		if idx == 0 && !scripted && s.c.action == tbReset && len(reqs) >= s.first && (s.first == 0 || reqs[s.first-1].Complete()) {
			// The scripted request's head, a byte at a time: a read that
			// took its body with it could pass the reset point (c.at body
			// bytes in), and the reset would come after the whole request.
			want = 1
		}
		if scripted && s.c.action == tbReset {
			r := reqs[s.first]
			left := r.HeadEnd + s.c.at - len(tc.bytes())
			if r.Length < 0 {
				left = r.HeadEnd + s.c.at - len(tc.bytes()) // chunked: the wire bytes, near enough
			}
			if left <= 0 {
				reset()
				return
			}
			want = min(want, left)
		}
		if scripted && acted != s.first {
			acted = s.first
			switch s.c.action {
			case tbContinue100:
				if !write("HTTP/1.1 100 Continue\r\n\r\n") {
					return
				}
			case tbEarlyClose:
				write("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
				return
			case tbEarlyDrain:
				if !write("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n") {
					return
				}
				answered = s.first + 1
			case tbCloseAfterHead:
				return
			case tbStall:
				select {
				case <-time.After(400 * time.Millisecond):
				case <-s.quit:
					return
				}
			}
		}
		for ; answered < len(reqs) && reqs[answered].Complete(); answered++ {
			resp := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
			if idx == 0 && answered == s.first {
				switch s.c.action {
				case tbCloseAfterBody:
					return
				case tbRedirect:
					resp = fmt.Sprintf("HTTP/1.1 %d Moved\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n", s.c.code)
				}
			}
			if !write(resp) {
				return
			}
		}
		_ = conn.SetReadDeadline(deadline)
		n, err := conn.Read(buf[:want])
		tc.mu.Lock()
		tc.got = append(tc.got, buf[:n]...)
		tc.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// tbBody is a request body: an uploadgen reader that counts its Close
// calls, and that cancels the context at cancelAt (then, with block,
// blocks until closed, as an io.Pipe whose writer waits).
type tbBody struct {
	r        io.Reader
	off      int
	cancelAt int
	block    bool
	cancel   context.CancelFunc
	closes   *atomic.Int32
	closedCh chan struct{}
	once     sync.Once
}

func (b *tbBody) Read(p []byte) (int, error) {
	if b.cancelAt >= 0 && b.off >= b.cancelAt {
		b.cancelAt = -1
		b.cancel()
		if b.block {
			select {
			case <-b.closedCh:
				return 0, io.ErrClosedPipe
			case <-time.After(300 * time.Millisecond):
				return 0, errors.New("tbody: blocked body not closed (net/http waits for it)")
			}
		}
	}
	if b.cancelAt >= 0 && len(p) > b.cancelAt-b.off && b.cancelAt > b.off {
		p = p[:b.cancelAt-b.off]
	}
	n, err := b.r.Read(p)
	b.off += n
	return n, err
}

func (b *tbBody) Close() error {
	b.closes.Add(1)
	b.once.Do(func() { close(b.closedCh) })
	return nil
}

// tbResult is what one side saw.
type tbResult struct {
	class   string // "ok 200", "err ctx", …
	err     error
	reqs    []string // the requests the server saw complete: "conn#n METHOD target framing sha"
	heads   int      // request heads the server saw
	bodies  int      // bodies handed to the transport (the request's and GetBody's)
	closes  []int32  // Close calls on each
	elapsed time.Duration
}

func (r tbResult) String() string {
	return fmt.Sprintf("%s (%v) heads=%d closes=%v in %v\n   %s", r.class, r.err, r.heads, r.closes, r.elapsed.Round(time.Millisecond),
		strings.Join(r.reqs, "\n   "))
}

func runTbSide(t *testing.T, c tbCase, cfg *tls.Config, ca *ts.CA, netHTTP bool) tbResult {
	srv := newTbServer(t, c, cfg)
	scheme := "http"
	if cfg != nil {
		scheme = "https"
	}
	base := fmt.Sprintf("%s://127.0.0.1:%d", scheme, srv.ln.Addr().(*net.TCPAddr).Port)
	var rt http.RoundTripper
	var closeIdle func()
	if netHTTP {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, DisableCompression: true}
		rt, closeIdle = tr, tr.CloseIdleConnections
	} else {
		tr := &Transport{TLS: TLSClient(ca.Pool(), "")}
		rt, closeIdle = tr, tr.CloseIdleConnections
	}
	client := &http.Client{Transport: rt}
	var res tbResult
	if c.warm {
		resp, err := client.Get(base + "/warm")
		if err != nil {
			t.Fatalf("warm-up: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	timeout := 5 * time.Second
	if c.action == tbStall {
		timeout = 150 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var counters []*atomic.Int32
	newBody := func() io.ReadCloser {
		r, _ := uploadgen.New(c.spec)
		cnt := new(atomic.Int32)
		counters = append(counters, cnt)
		return &tbBody{r: r, cancelAt: c.cancelAt, block: c.block, cancel: cancel, closes: cnt, closedCh: make(chan struct{})}
	}
	req, err := http.NewRequestWithContext(ctx, c.method, base+"/up", nil)
	if err != nil {
		t.Fatal(err)
	}
	switch c.kind {
	case tbBodyNoBody:
		req.Body = http.NoBody
	case tbBodyReader:
		req.Body = newBody()
		req.ContentLength = c.cl
		if c.getBody {
			var mu sync.Mutex
			req.GetBody = func() (io.ReadCloser, error) {
				mu.Lock()
				defer mu.Unlock()
				return newBody(), nil
			}
		}
	}
	if c.expect {
		req.Header.Set("Expect", "100-continue")
	}
	start := time.Now()
	// The Transport itself, so that the Close calls counted are its own
	// (http.Client closes the body too); a redirect needs the Client.
	do := rt.RoundTrip
	if c.action == tbRedirect {
		do = client.Do
	}
	resp, err := do(req)
	res.elapsed = time.Since(start)
	if err != nil {
		res.class, res.err = "err "+tbErrClass(err), err
	} else {
		_, rerr := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		res.class = fmt.Sprintf("ok %d", resp.StatusCode)
		if rerr != nil {
			res.class += " bodyerr"
		}
	}
	closeIdle()
	// net/http may close the body on its write goroutine after RoundTrip
	// returned: give it time.
	drive.Until(2*time.Second, func() bool {
		for _, cnt := range counters {
			if cnt.Load() == 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(5 * time.Millisecond)
	srv.close()
	for _, cnt := range counters {
		res.closes = append(res.closes, cnt.Load())
	}
	res.bodies = len(counters)
	for i, tc := range srv.conns {
		reqs, _ := uploadgen.ParseRequests(tc.bytes())
		for _, r := range reqs {
			if r.HeadEnd > 0 {
				res.heads++
			}
			if !r.Complete() {
				continue
			}
			line, _, _ := strings.Cut(r.Head, "\r\n")
			f := strings.Fields(line)
			framing := "none"
			switch {
			case r.Length < 0:
				framing = "chunked"
			case strings.Contains(strings.ToLower(r.Head), "\r\ncontent-length:"):
				framing = "cl"
			}
			sum := sha256.Sum256(r.Data)
			res.reqs = append(res.reqs, fmt.Sprintf("conn%d %s %s %s len=%d %s", i, f[0], f[1], framing, len(r.Data), hex.EncodeToString(sum[:4])))
		}
	}
	return res
}

func tbErrClass(err error) string {
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return "ctx"
	case errors.Is(err, uploadgen.ErrBoom):
		return "boom"
	case errors.Is(err, io.ErrUnexpectedEOF) && errors.As(err, new(*RequestBodyError)),
		strings.Contains(err.Error(), "with Body length"):
		return "length"
	}
	return "net"
}

// compareTb fails t on a difference COMPAT U2 does not allow, and returns
// the case's label for the tally.
func compareTb(t *testing.T, c tbCase, gd, nh tbResult) string {
	t.Helper()
	// Body.Close: exactly once on every body, both sides.
	for _, side := range []struct {
		name string
		r    tbResult
	}{{"gdhttp", gd}, {"net/http", nh}} {
		for i, n := range side.r.closes {
			if c.action == tbRedirect && n >= 1 {
				continue // http.Client closes the body too
			}
			if n != 1 {
				t.Errorf("%s: body %d closed %d times, want 1 (http.RoundTripper: RoundTrip must always close the body)", side.name, i, n)
			}
		}
	}
	if c.cancelAt >= 0 && (c.spec.ErrAt < 0 || c.spec.ErrAt > c.cancelAt) && (c.cl <= 0 || int64(c.cancelAt) < c.cl) {
		// The context ends mid-upload: RoundTrip's doc says the caller
		// gets the context's error (net/http's sometimes is the closed
		// connection's: its own race, not compared).
		switch c.action {
		case tbNormal, tbSlow, tbRedirect, tbStall:
			if gd.class != "err ctx" {
				t.Errorf("context canceled mid-upload: gdhttp %q (%v), want the context's error", gd.class, gd.err)
			}
			return c.action.String() + ": canceled mid-upload: " + gd.class
		}
	}
	allowed := tbAllowed(c, gd, nh)
	label := c.action.String() + ": " + gd.class + " / " + nh.class
	if allowed != "" {
		return label + " [allowed: " + allowed + "]"
	}
	gdOK, nhOK := strings.HasPrefix(gd.class, "ok"), strings.HasPrefix(nh.class, "ok")
	if !gdOK && !nhOK {
		// Both failed: which fault is met first (the body's, the
		// network's) depends on timing when the server ends the
		// connection; and the Transport reads the body's first bytes
		// before it writes the head, so a body that fails at once leaves
		// no head at all.
		switch c.action {
		case tbReset, tbCloseAfterHead, tbCloseAfterBody:
			return label
		}
		if gd.class == "err length" && nh.class == "err net" && c.kind == tbBodyReader && c.cl > int64(len(c.spec.Data)) &&
			nh.err != nil && strings.Contains(nh.err.Error(), "use of closed network connection") {
			// net/http closes the connection on its body's length error,
			// and its read of the response can report that close first
			// (its own race: seed 3853 case 459, under -race).
			return label + " [net/http: the closed connection's error came before the body's]"
		}
		if gd.class != nh.class {
			t.Errorf("error class: gdhttp %q, net/http %q", gd.class, nh.class)
		}
		return label
	}
	if gd.class != nh.class {
		t.Errorf("error class: gdhttp %q, net/http %q", gd.class, nh.class)
	}
	switch c.action {
	case tbReset, tbCloseAfterHead, tbCloseAfterBody, tbStall:
		return label // what the server read before it ended the connection is timing
	}
	if a, b := strings.Join(tbNormFraming(c, gd.reqs), "\n"), strings.Join(tbNormFraming(c, nh.reqs), "\n"); a != b {
		t.Errorf("requests received differ:\n gdhttp:\n%s\n net/http:\n%s", a, b)
	}
	if gd.heads != nh.heads {
		t.Errorf("request heads seen: gdhttp %d, net/http %d", gd.heads, nh.heads)
	}
	return label
}

// tbNormFraming drops the framing differences the docs allow: no body sent
// with no Content-Length (Godot) or with "Content-Length: 0" (net/http);
// the framing of a body of unknown length for a method net/http probes
// (GET, DELETE, OPTIONS: net/http reads a byte first, and sends an empty
// one without framing; the Transport sends it chunked, as RoundTrip's doc
// says), on the first request and on a 307 or 308 that sends it again
// (GetBody).
func tbNormFraming(c tbCase, reqs []string) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		f := strings.Fields(r)
		if f[4] == "len=0" && f[3] == "cl" {
			f[3] = "none"
		}
		if c.kind == tbBodyReader && c.cl <= 0 && (f[2] == "/up" || f[2] == "/next") {
			switch f[1] {
			case "GET", "DELETE", "OPTIONS", "HEAD":
				f[3] = "unknown"
			}
		}
		out[i] = strings.Join(f, " ")
	}
	return out
}

// tbAllowed says why a difference is documented, or "".
func tbAllowed(c tbCase, gd, nh tbResult) string {
	reader := c.kind == tbBodyReader
	switch {
	case reader && c.cl > 0 && int64(len(c.spec.Data)) > c.cl && (c.spec.ErrAt < 0 || int64(c.spec.ErrAt) > c.cl ||
		int64(c.spec.ErrAt) == c.cl && !c.spec.ErrWithLast):
		// The Transport reads no further than ContentLength: an error
		// that only a read past it returns is not met.
		return "U2: a body longer than ContentLength is sent up to it (net/http: an error)"
	case c.action == tbContinue100:
		return "RoundTrip doc: a 1xx is the final response (Godot's rules)"
	case c.action == tbEarlyClose || c.action == tbEarlyDrain:
		return "RoundTrip doc: the whole body is written before the response is read"
	case c.warm && (c.method == "PUT" || c.method == "DELETE") &&
		(c.action == tbCloseAfterHead || c.action == tbCloseAfterBody || c.action == tbReset):
		return "RoundTrip doc: PUT and DELETE are retried on a reused connection"
	case c.warm && (c.method == "GET" || c.method == "OPTIONS") && (c.kind != tbBodyReader || c.getBody) &&
		(c.action == tbCloseAfterHead || c.action == tbCloseAfterBody || c.action == tbReset) &&
		strings.HasPrefix(gd.class, "ok") && !strings.HasPrefix(nh.class, "ok"):
		// net/http retries only when the failure is a read of the
		// response (errServerClosedIdle, transportReadFromServerError),
		// not a failed write: timing.
		return "RoundTrip doc: a request that failed on a reused connection before its response is sent again"
	}
	return ""
}
