// Package proxygen is a test helper for the generated proxy harnesses
// (httpclient's, httprequest's and cmd/gdfetch's proxygen_test.go): a
// seeded draw of hostile proxy behaviours and a scripted loopback proxy on
// 127.0.0.1 that plays them, recording every byte each connection sent it.
//
// Two kinds of proxy (§1.14): an HTTPS proxy that is sent a CONNECT
// (§1.14.2) — a correct tunnel to a loopback origin, 2xx replies of every
// framing, 3xx/4xx/5xx refusals with and without a body, HTTP/1.0, a reply
// written one byte at a time, a head that never ends, a head over the 1 MiB
// budget, bytes after the blank line, a FIN or an RST before or after the
// reply, a stall, a reply written before the CONNECT came — and an HTTP
// proxy that is sent absolute-form requests (§1.14.1) and answers them
// itself (200, its own 502/407/…, a close, a reset, a stall, a reply to a
// CONNECT that never came).
//
// It imports no package of the module, so that the checks are independent of
// the code under test.
package proxygen

import (
	"bytes"
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

// Behaviour is what the proxy does with a connection.
type Behaviour int

const (
	Forward      Behaviour = iota // 200 and a tunnel (HTTPS proxy); the origin's answer (HTTP proxy)
	Reply2xx                      // another 2xx (or HTTP/1.0 200), any framing, then a tunnel
	Refuse                        // a non-2xx reply (HTTPS) / the proxy's own answer (HTTP)
	Split                         // the reply one byte per write
	Unterminated                  // a head that never ends, then a FIN
	Huge                          // a head over 1 MiB
	Big                           // a head of some hundred KiB, then as Forward
	Early                         // 200 then bytes after the blank line in the same write
	CloseBefore                   // a FIN once the request was read, no reply
	ResetBefore                   // an RST once the request was read, no reply
	CloseAfter                    // 200, then a FIN once the first tunnel bytes came
	ResetAfter                    // 200, then an RST once the first tunnel bytes came
	Stall                         // never answers
	AnswerFirst                   // the reply is written before the request was read
	Established                   // (HTTP proxy) "200 Connection established" to a CONNECT that never came, then a FIN
	OddHead                       // (HTTPS proxy) a reply head Godot's parser reads oddly (§1.8), then as Forward or Refuse by its code
)

var behaviourNames = [...]string{"forward", "reply2xx", "refuse", "split", "unterminated", "huge", "big", "early",
	"close-before", "reset-before", "close-after", "reset-after", "stall", "answer-first", "established", "odd-head"}

func (b Behaviour) String() string { return behaviourNames[b] }

// Framing is how a reply declares its body.
type Framing int

const (
	NoFraming Framing = iota // nothing (a refusal: read until close / no body)
	CL0                      // Content-Length: 0
	CLBody                   // Content-Length: n and n bytes
	Chunked                  // Transfer-Encoding: chunked and a chunked body
	ConnClose                // Connection: close, no body bytes
)

var framingNames = [...]string{"none", "cl0", "cl-body", "chunked", "conn-close"}

func (f Framing) String() string { return framingNames[f] }

// Plan is one drawn proxy behaviour.
type Plan struct {
	B       Behaviour
	Proto   string // "HTTP/1.1" or "HTTP/1.0"
	Code    int
	Framing Framing
	Body    string   // the reply's body (CLBody, Chunked; the HTTP proxy's answer)
	Extra   []string // extra header lines of the reply
	Early   []byte   // bytes after the blank line (Early)
	Close   bool     // FIN right after the reply (a refusal)
	Gap     time.Duration
	Pad     int    // the size of the padding header (Huge, Big)
	Raw     string // OddHead: the reply head as written; Code is what Godot's parser makes of it
}

// oddHeads are reply heads and the code Godot's parser gives them (§1.8.1:
// the code is preset to 200; §1.8.4: only a first line that starts with
// "HTTP" sets it, to to_int of its second space-separated field; §1.6.4.2:
// the head ends at LF LF or CR LF CR LF).
var oddHeads = []struct {
	raw  string
	code int
}{
	{"\r\n\r\n", 200},
	{"Garbage\r\n\r\n", 200},
	{"http/1.1 407 Nope\r\n\r\n", 200},
	{"\r\nHTTP/1.1 407 Nope\r\n\r\n", 200},
	{"HTTP/1.1  407 Nope\r\n\r\n", 0},
	{"HTTP/1.1 407\r\n\r\n", 407},
	{"HTTP/1.1 200\r\n\r\n", 200},
	{"HTTP/1.1 200 OK\n\n", 200},
	{"HTTP/1.1 200 OK\r\n\n", 200},
	{"HTTP/1.1 200 OK\r\nX-A: 1\n\n", 200},
	{"HTTP/1.1\r\n\r\n", 0},
	{"HTTP/2 200\r\n\r\n", 200},
	{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", 100},
	{"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", 200},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", 200},
}

func (p Plan) String() string {
	s := fmt.Sprintf("%v %s %d framing=%v body=%q extra=%q close=%v", p.B, p.Proto, p.Code, p.Framing, p.Body, p.Extra, p.Close)
	if p.Early != nil {
		s += fmt.Sprintf(" early=%q", p.Early)
	}
	if p.Pad > 0 {
		s += " pad=" + strconv.Itoa(p.Pad)
	}
	if p.Gap > 0 {
		s += " gap=" + p.Gap.String()
	}
	if p.Raw != "" {
		s += fmt.Sprintf(" raw=%q", p.Raw)
	}
	return s
}

// Reply is the head and body the plan answers with.
func (p Plan) Reply() []byte {
	if p.Raw != "" {
		return append([]byte(p.Raw), p.Early...)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %d %s\r\n", p.Proto, p.Code, reason(p.Code))
	for _, h := range p.Extra {
		b.WriteString(h + "\r\n")
	}
	if p.Pad > 0 {
		b.WriteString("X-Pad: " + strings.Repeat("p", p.Pad) + "\r\n")
	}
	switch p.Framing {
	case CL0:
		b.WriteString("Content-Length: 0\r\n\r\n")
	case CLBody:
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(p.Body), p.Body)
	case Chunked:
		b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		if p.Body != "" {
			fmt.Fprintf(&b, "%x\r\n%s\r\n", len(p.Body), p.Body)
		}
		b.WriteString("0\r\n\r\n")
	case ConnClose:
		b.WriteString("Connection: close\r\n\r\n")
		b.WriteString(p.Body) // read until close
	default:
		b.WriteString("\r\n")
		b.WriteString(p.Body) // read until close (the HTTP proxy's answer closes)
	}
	b.Write(p.Early)
	return b.Bytes()
}

func reason(code int) string {
	switch code {
	case 200:
		return "Connection established"
	case 407:
		return "Proxy Authentication Required"
	case 502:
		return "Bad Gateway"
	}
	return "Status"
}

// HasBodyBytes reports whether the reply carries bytes after its head.
func (p Plan) HasBodyBytes() bool {
	switch p.Framing {
	case CLBody:
		return p.Body != ""
	case Chunked:
		return true
	case NoFraming, ConnClose:
		return p.Body != ""
	}
	return false
}

// Want is the outcome a plan must give (§1.14 with §7 D5, §1.6).
type Want int

const (
	WantOK        Want = iota // https: the tunnel opens, the origin answers; http: the proxy's answer is the response
	WantRefused               // CANT_CONNECT, ERR_CANT_CONNECT, a *ProxyError with the code (a non-2xx reply)
	WantCut                   // CANT_CONNECT, ERR_CONNECTION_ERROR (a reply cut short or over the budget)
	WantTCPEnd                // CANT_CONNECT, ERR_CANT_CONNECT, no *ProxyError (the proxy ended the TCP connection)
	WantTLSBroken             // TLS_HANDSHAKE_ERROR, ERR_CANT_CONNECT (bytes in the tunnel that are not the origin's)
	WantStall                 // nothing ends until the caller gives up
	WantConnError             // http: CONNECTION_ERROR, ERR_CONNECTION_ERROR
)

var wantNames = [...]string{"ok", "refused", "cut", "tcp-end", "tls-broken", "stall", "conn-error"}

func (w Want) String() string { return wantNames[w] }

// Want is what the plan must give for an https target through the HTTPS
// proxy (https) or an http target through the HTTP proxy.
func (p Plan) Want(https bool) Want {
	switch p.B {
	case Stall:
		return WantStall
	case Unterminated, Huge:
		if https {
			return WantCut
		}
		return WantConnError
	case CloseBefore, ResetBefore:
		if https {
			return WantTCPEnd
		}
		return WantConnError
	}
	if !https {
		return WantOK
	}
	switch {
	case p.B == CloseAfter || p.B == ResetAfter:
		return WantTCPEnd
	case p.Code < 200 || p.Code > 299:
		return WantRefused
	case p.B == Early || p.HasBodyBytes():
		return WantTLSBroken
	}
	return WantOK
}

// ResponseBody is the body an http target's response carries (§1.9: a
// reply without Content-Length, chunking or Connection: close has none).
func (p Plan) ResponseBody() string {
	switch p.Framing {
	case CLBody, Chunked, ConnClose:
		return p.Body
	}
	return ""
}

// GenConnect draws an HTTPS proxy's behaviour (CONNECT).
func GenConnect(r *rand.Rand) Plan {
	p := Plan{B: Behaviour(r.IntN(int(AnswerFirst) + 2)), Proto: "HTTP/1.1", Code: 200}
	if p.B == AnswerFirst+1 {
		p.B = OddHead
	}
	switch p.B {
	case OddHead:
		h := oddHeads[r.IntN(len(oddHeads))]
		p.Raw, p.Code = h.raw, h.code
	case Reply2xx:
		p.Code = []int{200, 200, 201, 202, 204, 299}[r.IntN(6)]
		if r.IntN(4) == 0 {
			p.Proto, p.Code = "HTTP/1.0", 200
		}
		p.Framing = Framing(r.IntN(5))
		if p.Framing == CLBody || p.Framing == Chunked {
			if r.IntN(2) == 0 {
				p.Body = "hello"
			} else {
				p.Framing = CL0
			}
		}
	case Refuse, AnswerFirst:
		if p.B == Refuse || r.IntN(2) == 0 {
			p.Code = []int{100, 301, 302, 307, 400, 403, 404, 407, 407, 500, 502, 503}[r.IntN(12)]
		}
		if p.Code == 407 && r.IntN(2) == 0 {
			p.Extra = append(p.Extra, `Proxy-Authenticate: Basic realm="proxygen"`)
		}
		if p.Code >= 300 && p.Code < 400 {
			p.Extra = append(p.Extra, "Location: http://elsewhere.example/")
		}
		if p.Code != 200 {
			p.Framing = Framing(r.IntN(5))
			if p.Framing == CLBody || p.Framing == Chunked {
				p.Body = "<html>refused</html>"
			}
			p.Close = r.IntN(3) == 0
		}
	case Split:
		if r.IntN(3) == 0 {
			p.Code = []int{403, 407, 502}[r.IntN(3)]
			p.Framing = CL0
		}
		p.Gap = time.Duration(r.IntN(300)) * time.Microsecond
	case Unterminated:
		p.Extra = []string{"X-A: 1"}
		if r.IntN(2) == 0 {
			p.Extra = nil
		}
	case Huge:
		p.Pad = 1<<20 + r.IntN(64<<10)
	case Big:
		p.Pad = 1 + r.IntN(500<<10)
	case Early:
		switch r.IntN(3) {
		case 0:
			p.Early = []byte("garbage that is not TLS")
		case 1:
			// The start of a TLS ServerHello record (handshake, TLS 1.2,
			// length 0x5a, ServerHello): not the origin's.
			p.Early = []byte{0x16, 0x03, 0x03, 0x00, 0x5a, 0x02, 0x00, 0x00, 0x56, 0x03, 0x03}
		default:
			p.Early = []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	}
	return p
}

// GenHTTP draws an HTTP proxy's behaviour (absolute-form requests). Body
// is what the origin's answer carries in a Forward (and the proxy's own
// answers carry theirs).
func GenHTTP(r *rand.Rand) Plan {
	bs := []Behaviour{Forward, Refuse, Refuse, Split, Unterminated, Huge, Big, CloseBefore, ResetBefore, Stall, AnswerFirst, Established}
	p := Plan{B: bs[r.IntN(len(bs))], Proto: "HTTP/1.1", Code: 200, Framing: CLBody, Body: "ok"}
	switch p.B {
	case Refuse:
		p.Code = []int{403, 407, 407, 502, 502, 503, 504}[r.IntN(7)]
		if p.Code == 407 && r.IntN(2) == 0 {
			p.Extra = append(p.Extra, `Proxy-Authenticate: Basic realm="proxygen"`)
		}
		p.Framing = []Framing{CLBody, Chunked, ConnClose, NoFraming}[r.IntN(4)]
		p.Body = "<html>proxy says " + strconv.Itoa(p.Code) + "</html>"
		if p.Framing == ConnClose || p.Framing == NoFraming {
			p.Close = true // read until close; or no body at all (§1.9: the bytes stay unread)
		}
	case Split:
		p.Gap = time.Duration(r.IntN(300)) * time.Microsecond
	case Unterminated:
		p.Extra = []string{"X-A: 1"}
	case Huge:
		p.Pad = 1<<20 + r.IntN(64<<10)
	case Big:
		p.Pad = 1 + r.IntN(500<<10)
	case AnswerFirst:
		if r.IntN(2) == 0 {
			p.Code, p.Body = 502, "bad gateway"
		}
	case Established:
		p.Framing, p.Body, p.Close = NoFraming, "", true
	}
	if p.Proto == "HTTP/1.1" && r.IntN(6) == 0 {
		p.Proto = "HTTP/1.0"
	}
	return p
}

// Proxy is a running scripted proxy.
type Proxy struct {
	ln     net.Listener
	plan   Plan
	https  bool
	origin string // the tunnel's target (HTTPS proxy), host:port on loopback

	mu    sync.Mutex
	conns []*record
	live  map[net.Conn]struct{}
	errs  []error
	done  chan struct{}
	wg    sync.WaitGroup
}

type record struct {
	buf      bytes.Buffer
	headLen  int  // the first request head's length, once read
	scan     int  // where the next head is looked for
	closed   bool // the client's end was seen
	upstream bool // a tunnel to the origin was opened
}

// Start starts a proxy playing plan: an HTTPS (CONNECT) proxy when https is
// true, whose tunnels go to origin (host:port on loopback), else an HTTP
// proxy that answers itself.
func Start(plan Plan, https bool, origin string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, plan: plan, https: https, origin: origin, live: map[net.Conn]struct{}{}, done: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Host and Port are where the proxy listens.
func (p *Proxy) Host() string { return "127.0.0.1" }
func (p *Proxy) Port() int    { return p.ln.Addr().(*net.TCPAddr).Port }
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Received returns, per accepted connection, every byte the client sent, and
// the length of the request head within it (0 when none was complete).
func (p *Proxy) Received() (data [][]byte, heads []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.conns {
		data = append(data, append([]byte(nil), r.buf.Bytes()...))
		heads = append(heads, r.headLen)
	}
	return data, heads
}

// Accepted is how many connections the proxy accepted.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Errors are the proxy's own failures (a tunnel that could not reach the
// origin...).
func (p *Proxy) Errors() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]error(nil), p.errs...)
}

// Close stops the proxy: it lets every connection read what its client
// sent until the client's end (a second at most: the client is closed
// first), then closes what is left and joins every goroutine.
func (p *Proxy) Close() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.ln.Close()
	ended := make(chan struct{})
	go func() { p.wg.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(time.Second):
	}
	close(p.done)
	p.mu.Lock()
	for c := range p.live {
		_ = c.Close()
	}
	p.mu.Unlock()
	<-ended
}

func (p *Proxy) fail(err error) {
	p.mu.Lock()
	p.errs = append(p.errs, err)
	p.mu.Unlock()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		rec := &record{}
		p.mu.Lock()
		p.conns = append(p.conns, rec)
		p.live[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer func() {
				p.mu.Lock()
				delete(p.live, c)
				p.mu.Unlock()
				_ = c.Close()
			}()
			p.serve(c, rec)
		}()
	}
}

// readMore reads once from c into rec; it reports false at the end.
func (p *Proxy) readMore(c net.Conn, rec *record) bool {
	var b [4096]byte
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, err := c.Read(b[:])
	p.mu.Lock()
	rec.buf.Write(b[:n])
	if err != nil {
		rec.closed = true
	}
	p.mu.Unlock()
	return err == nil
}

// readHead reads until the request head is complete; false at the end.
func (p *Proxy) readHead(c net.Conn, rec *record) bool {
	for {
		p.mu.Lock()
		i := bytes.Index(rec.buf.Bytes()[rec.scan:], []byte("\r\n\r\n"))
		if i >= 0 {
			rec.scan += i + 4
			if rec.headLen == 0 {
				rec.headLen = rec.scan
			}
		}
		p.mu.Unlock()
		if i >= 0 {
			return true
		}
		if !p.readMore(c, rec) {
			return false
		}
	}
}

// drain reads and records until the client's end or the proxy's Close.
func (p *Proxy) drain(c net.Conn, rec *record) {
	for p.readMore(c, rec) {
	}
}

func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func finish(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

func (p *Proxy) serve(c net.Conn, rec *record) {
	pl := p.plan
	if pl.B == AnswerFirst {
		if _, err := c.Write(pl.Reply()); err != nil {
			return
		}
		if !p.readHead(c, rec) {
			return
		}
		if p.https && pl.Code >= 200 && pl.Code < 300 {
			p.tunnel(c, rec)
			return
		}
		p.afterAnswer(c, rec, pl)
		return
	}
	if !p.readHead(c, rec) {
		return
	}
	switch pl.B {
	case CloseBefore:
		finish(c)
		p.drain(c, rec)
		return
	case ResetBefore:
		reset(c)
		return
	case Stall:
		p.drain(c, rec)
		return
	case Unterminated:
		head := pl.Reply()
		head = head[:bytes.Index(head, []byte("\r\n\r\n"))+2] // the status line and headers, no blank line
		_, _ = c.Write(head)
		finish(c)
		p.drain(c, rec)
		return
	case Split:
		for _, b := range pl.Reply() {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			if pl.Gap > 0 {
				time.Sleep(pl.Gap)
			}
		}
	case Huge:
		// Written from a goroutine: a client that stops reading at its
		// budget must not block the proxy's Close.
		reply := pl.Reply()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			_, _ = c.Write(reply)
		}()
		p.drain(c, rec)
		return
	default:
		if _, err := c.Write(pl.Reply()); err != nil {
			return
		}
	}
	if p.https && pl.Code >= 200 && pl.Code < 300 {
		switch pl.B {
		case CloseAfter, ResetAfter:
			p.readMore(c, rec) // the first tunnel bytes (a ClientHello)
			if pl.B == ResetAfter {
				reset(c)
				return
			}
			finish(c)
			p.drain(c, rec)
			return
		}
		p.tunnel(c, rec)
		return
	}
	p.afterAnswer(c, rec, pl)
}

// afterAnswer is what follows an answer that opens no tunnel: a FIN when the
// plan says so (or the body runs until close), else the connection is held
// (an HTTP proxy keeps answering further requests the same way).
func (p *Proxy) afterAnswer(c net.Conn, rec *record, pl Plan) {
	if pl.Close || pl.B == Established || (pl.Framing == NoFraming && !p.https) || pl.Proto == "HTTP/1.0" && !p.https {
		finish(c)
		p.drain(c, rec)
		return
	}
	if p.https {
		p.drain(c, rec)
		return
	}
	for {
		if !p.readHead(c, rec) { // a later request on the same connection
			return
		}
		if _, err := c.Write(pl.Reply()); err != nil {
			return
		}
	}
}

// tunnel relays bytes between the client and the origin until either ends;
// what the client sends is recorded.
func (p *Proxy) tunnel(c net.Conn, rec *record) {
	up, err := net.DialTimeout("tcp", p.origin, 5*time.Second)
	if err != nil {
		p.fail(fmt.Errorf("proxygen: tunnel: %w", err))
		return
	}
	p.mu.Lock()
	rec.upstream = true
	rest := append([]byte(nil), rec.buf.Bytes()[rec.headLen:]...)
	p.live[up] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.live, up)
		p.mu.Unlock()
		_ = up.Close()
	}()
	if len(rest) > 0 {
		if _, err := up.Write(rest); err != nil {
			return
		}
	}
	back := make(chan struct{})
	go func() {
		defer close(back)
		_, _ = io.Copy(c, up)
		finish(c)
	}()
	for {
		var b [16 << 10]byte
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, err := c.Read(b[:])
		p.mu.Lock()
		rec.buf.Write(b[:n])
		p.mu.Unlock()
		if n > 0 {
			if _, werr := up.Write(b[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	if tc, ok := up.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	select {
	case <-back:
	case <-p.done:
		_ = up.Close()
		<-back
	}
}

// ErrNotTLS is CheckTunnelBytes's finding.
var ErrNotTLS = errors.New("proxygen: bytes after the CONNECT head are not a TLS record")

// CheckTunnelBytes checks what the client sent after its CONNECT head: either
// nothing or TLS records (handshake 0x16, alert 0x15, change cipher spec 0x14
// or application data 0x17 — never a clear-text request).
func CheckTunnelBytes(after []byte) error {
	if len(after) == 0 {
		return nil
	}
	if after[0] < 0x14 || after[0] > 0x17 || bytes.Contains(after, []byte("HTTP/1.1")) {
		return fmt.Errorf("%w: %q", ErrNotTLS, after[:min(len(after), 40)])
	}
	return nil
}
