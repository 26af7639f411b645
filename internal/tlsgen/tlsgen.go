// Package tlsgen is a test helper for the generated TLS harnesses
// (httpclient's and httprequest's tlsgen_test.go): seeded cases of TLS
// servers that misbehave, and a loopback server on 127.0.0.1 that plays
// one. crypto/tls does the handshake (TLS 1.2 or 1.3, its bytes cut into
// TCP pieces at generated points, optionally asking for or requiring a
// client certificate, a chain as large as the case says); after it the
// server's records are written by this package with the server's write
// keys (taken from crypto/tls's key log), so that their sizes, the TCP
// pieces they are cut into, and what comes between them are the case's:
// NewSessionTickets, KeyUpdates and empty records (TLS 1.3), warning
// alerts (TLS 1.2), then an ending — nothing (the connection held open),
// close_notify then FIN, a bare FIN, an RST, a fatal alert, or garbage —
// after the whole response or after any byte of it. Other cases answer the
// ClientHello with plain HTTP or stall inside the handshake.
//
// It imports no package of the module.
package tlsgen

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gdhttp/gdhttp/internal/tlsforge"
)

// Kind is what the server does with the handshake.
type Kind int

const (
	Normal       Kind = iota // a handshake, then the response
	PlainHTTP                // answers the ClientHello with a plain HTTP response and closes
	Stall                    // sends StallAt bytes of its handshake flight, then nothing (holds)
	RequireCert              // requires a client certificate (the client has none)
	BigChain                 // a chain whose Certificate message is over mbedTLS's 16 KiB
	HandshakeFIN             // sends StallAt bytes of its handshake flight, then a FIN
)

func (k Kind) String() string {
	return [...]string{"normal", "plain-http", "stall", "require-cert", "big-chain", "handshake-fin"}[k]
}

// Framing is the response's body framing (§1.9).
type Framing int

const (
	Length     Framing = iota // Content-Length
	Chunked                   // Transfer-Encoding: chunked
	UntilClose                // Connection: close, no length
)

func (f Framing) String() string { return [...]string{"length", "chunked", "until-close"}[f] }

// End is how the server ends after Cut bytes of the response.
type End int

const (
	Hold      End = iota // nothing: the connection stays open (only after a whole response)
	Notify               // close_notify, then FIN
	FIN                  // a TCP FIN without close_notify
	RST                  // a TCP RST, once the client has had time to read what came before
	Alert                // a fatal internal_error alert, then FIN
	Garbage              // bytes that are no TLS record, then the connection held
	TruncFIN             // part of one more record (response bytes after Cut, or junk), then a FIN
	TruncHold            // part of one more record, then nothing (a stall inside a record)
)

func (e End) String() string {
	return [...]string{"hold", "close_notify", "fin", "rst", "alert", "garbage", "trunc-record-fin", "trunc-record-stall"}[e]
}

// ExtraKind is a record that carries no response byte.
type ExtraKind int

const (
	Ticket             ExtraKind = iota // TLS 1.3 NewSessionTicket
	KeyUpdate                           // TLS 1.3 KeyUpdate (update_not_requested); the server's keys move on
	Empty                               // an empty application data record
	Warning                             // TLS 1.2 warning alert (unrecognized_name)
	KeyUpdateRequested                  // TLS 1.3 KeyUpdate asking the client to update its keys too (it writes one)
)

func (x ExtraKind) String() string {
	return [...]string{"ticket", "keyupdate", "empty", "warning", "keyupdate-requested"}[x]
}

// Extra is a record sent before the response's byte At.
type Extra struct {
	At   int
	What ExtraKind
}

// Case is one generated server.
type Case struct {
	Seed        uint64
	Version     uint16 // tls.VersionTLS12 or tls.VersionTLS13
	Kind        Kind
	RequestCert bool // asks for a client certificate without requiring one
	// Chain: the intermediates and the leaf's padding (testserver.NewChain).
	Intermediates, Padding int
	Framing                Framing
	Body                   []byte
	Chunks                 []int // Chunked: the chunk sizes (they sum to len(Body))
	Cut                    int   // bytes of Response() sent before End
	End                    End
	Records                []int // plaintext sizes of the response's records, cycled
	Extras                 []Extra
	HSSplits               []int         // TCP cut points in the server's handshake bytes
	Splits                 []int         // TCP cut points in the bytes after the handshake
	Gap                    time.Duration // pause between two TCP pieces
	StallAt                int           // Stall: bytes of the handshake flight sent
	ReadChunk              int           // the client's read_chunk_size / download_chunk_size
}

// Head is the response head.
func (c Case) Head() string {
	switch c.Framing {
	case Length:
		return "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(c.Body)) + "\r\n\r\n"
	case Chunked:
		return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	}
	return "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
}

// Headers are the response's header lines as the client reports them.
func (c Case) Headers() []string {
	h := strings.Split(strings.TrimSuffix(c.Head(), "\r\n\r\n"), "\r\n")
	return h[1:]
}

// Encoded is the body as it is on the wire (chunk framing included).
func (c Case) Encoded() []byte {
	if c.Framing != Chunked {
		return c.Body
	}
	var b []byte
	off := 0
	for _, n := range c.Chunks {
		b = fmt.Appendf(b, "%x\r\n", n)
		b = append(b, c.Body[off:off+n]...)
		b = append(b, "\r\n"...)
		off += n
	}
	return append(b, "0\r\n\r\n"...)
}

// Response is the whole response: head and encoded body.
func (c Case) Response() []byte { return append([]byte(c.Head()), c.Encoded()...) }

// Whole reports whether the whole response is sent before the ending.
func (c Case) Whole() bool { return c.Cut >= len(c.Response()) }

// InHead reports whether the ending comes before the head is complete.
func (c Case) InHead() bool { return c.Cut < len(c.Head()) }

// BodySent is the part of the encoded body sent before the ending.
func (c Case) BodySent() []byte {
	if c.InHead() {
		return nil
	}
	return c.Encoded()[:c.Cut-len(c.Head())]
}

// WholeChunks is the body bytes of the chunks whose data and CR LF were
// all sent (Chunked): what Godot's chunked reader can have returned.
func (c Case) WholeChunks() []byte {
	sent := len(c.BodySent())
	enc, pos := 0, 0
	for _, n := range c.Chunks {
		enc += len(fmt.Sprintf("%x\r\n", n)) + n + 2
		if enc > sent {
			break
		}
		pos += n
	}
	return c.Body[:pos]
}

func (c Case) String() string {
	s := fmt.Sprintf("seed=%d tls1.%d %v", c.Seed, c.Version-tls.VersionTLS10, c.Kind)
	if c.RequestCert {
		s += " request-cert"
	}
	s += fmt.Sprintf(" chain=%d+%dB", c.Intermediates, c.Padding)
	if c.Kind == Stall || c.Kind == HandshakeFIN {
		return s + fmt.Sprintf(" stall-at=%d hs-splits=%v", c.StallAt, c.HSSplits)
	}
	if c.Kind != Normal && c.Kind != RequireCert {
		return s
	}
	s += fmt.Sprintf(" %v body=%d", c.Framing, len(c.Body))
	if c.Framing == Chunked {
		s += fmt.Sprintf(" chunks=%v", c.Chunks)
	}
	s += fmt.Sprintf(" cut=%d/%d (head %d) end=%v records=%v extras=%v hs-splits=%v splits=%v gap=%v read-chunk=%d",
		c.Cut, len(c.Response()), len(c.Head()), c.End, c.Records, c.Extras, c.HSSplits, c.Splits, c.Gap, c.ReadChunk)
	return s
}

// Gen draws case seed.
func Gen(seed uint64) Case {
	r := rand.New(rand.NewPCG(seed, 0x746c7367656e))
	c := Case{Seed: seed, Version: tls.VersionTLS13, ReadChunk: 65536}
	if r.IntN(2) == 0 {
		c.Version = tls.VersionTLS12
	}
	switch k := r.IntN(40); {
	case k < 2:
		c.Kind = PlainHTTP
	case k < 4:
		c.Kind = Stall
	case k < 6:
		c.Kind = RequireCert
	case k < 7:
		c.Kind = BigChain
	case k < 9:
		c.Kind = HandshakeFIN
	}
	c.RequestCert = c.Kind == Normal && r.IntN(6) == 0
	c.Intermediates = r.IntN(3)
	if r.IntN(5) == 0 {
		c.Padding = r.IntN(9000) // a large chain, under the limit
	}
	if c.Kind == BigChain {
		c.Padding = 17000 + r.IntN(8000)
	}
	switch r.IntN(6) {
	case 0:
		c.ReadChunk = 256 + r.IntN(1000)
	case 1:
		c.ReadChunk = 256 << r.IntN(8)
	}
	// The handshake's TCP pieces.
	for range r.IntN(4) {
		c.HSSplits = append(c.HSSplits, 1+r.IntN(3000))
	}
	if r.IntN(6) == 0 {
		for i := range 5 + r.IntN(20) {
			c.HSSplits = append(c.HSSplits, i+1) // its first bytes one at a time
		}
	}
	slices.Sort(c.HSSplits)
	c.HSSplits = slices.Compact(c.HSSplits)
	c.StallAt = r.IntN(400)
	if r.IntN(3) == 0 {
		c.StallAt = 0
	}
	c.Gap = time.Duration(r.IntN(3)) * 300 * time.Microsecond

	c.Framing = Framing(r.IntN(3))
	size := 0
	switch k := r.IntN(10); {
	case k < 1:
		size = 0
	case k < 5:
		size = 1 + r.IntN(200)
	case k < 8:
		size = 1 + r.IntN(20000)
	default:
		size = 1 + r.IntN(200000)
	}
	c.Body = make([]byte, size)
	for i := range c.Body {
		c.Body[i] = byte('a' + (i*7+int(seed))%26)
	}
	if c.Framing == Chunked {
		for left := size; left > 0; {
			n := 1 + r.IntN(min(left, []int{8, 300, 5000, 40000}[r.IntN(4)]))
			c.Chunks = append(c.Chunks, n)
			left -= n
		}
	}
	full := len(c.Response())
	switch k := r.IntN(10); {
	case k < 5:
		c.Cut = full
	case k < 6:
		c.Cut = r.IntN(len(c.Head()) + 1)
	default:
		c.Cut = len(c.Head()) + r.IntN(full-len(c.Head())+1)
	}
	switch k := r.IntN(14); {
	case k < 1:
		c.End = TruncFIN
	case k < 2 && c.Cut < full:
		c.End = TruncHold
	case k < 2:
		c.End = Hold
	case k < 5:
		c.End = Notify
	case k < 8:
		c.End = FIN
	case k < 9:
		c.End = RST
	case k < 11:
		c.End = Alert
	default:
		c.End = Garbage
	}
	if c.End == Hold && c.Cut < full {
		c.End = FIN // a response cut and held would only wait
	}
	if c.End == Hold && c.Framing == UntilClose {
		c.End = Notify
	}
	// Records: a few sizes, cycled.
	for range 1 + r.IntN(4) {
		switch r.IntN(4) {
		case 0:
			c.Records = append(c.Records, 1+r.IntN(8))
		case 1:
			c.Records = append(c.Records, 1+r.IntN(600))
		case 2:
			c.Records = append(c.Records, 1+r.IntN(16384))
		default:
			c.Records = append(c.Records, 16384)
		}
	}
	for range r.IntN(4) {
		x := Extra{At: r.IntN(c.Cut + 1)}
		if c.Version == tls.VersionTLS13 {
			x.What = []ExtraKind{Ticket, KeyUpdate, Empty, KeyUpdateRequested}[r.IntN(4)]
		} else {
			x.What = []ExtraKind{Empty, Warning}[r.IntN(2)]
		}
		c.Extras = append(c.Extras, x)
	}
	slices.SortStableFunc(c.Extras, func(a, b Extra) int { return a.At - b.At })
	wire := c.Cut + 200 // about the bytes after the handshake
	for range r.IntN(6) {
		c.Splits = append(c.Splits, 1+r.IntN(wire))
	}
	if r.IntN(5) == 0 {
		at := r.IntN(wire)
		for i := range 1 + r.IntN(30) {
			c.Splits = append(c.Splits, at+i+1) // a stretch one byte at a time
		}
	}
	slices.Sort(c.Splits)
	c.Splits = slices.Compact(c.Splits)
	return c
}

// Server plays one case on every connection it accepts.
type Server struct {
	ln    net.Listener
	c     Case
	cert  tls.Certificate
	done  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	errs  []error
	// Accepted counts the connections accepted.
	accepted int
}

// Serve starts a server for c with cert on 127.0.0.1:0.
func Serve(c Case, cert tls.Certificate) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, c: c, cert: cert, done: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Port is the port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Accepted is how many connections the server accepted.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Close stops the server, closes every connection and joins its
// goroutines; it returns the errors of the server's own machinery.
func (s *Server) Close() error {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	_ = s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		raw, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[raw] = struct{}{}
		s.accepted++
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, raw)
				s.mu.Unlock()
				_ = raw.Close()
			}()
			if err := s.play(raw); err != nil {
				s.mu.Lock()
				s.errs = append(s.errs, err)
				s.mu.Unlock()
			}
		}()
	}
}

// hold waits until the server closes.
func (s *Server) hold() { <-s.done }

// pause sleeps d, or less when the server closes.
func (s *Server) pause(d time.Duration) {
	if d <= 0 {
		return
	}
	select {
	case <-s.done:
	case <-time.After(d):
	}
}

// splitWriter writes through to the connection, cut into TCP pieces at the
// given offsets of everything it wrote, a pause between pieces; with a
// budget ≥ 0 it writes that many bytes in all and then holds.
type splitWriter struct {
	net.Conn
	s      *Server
	cuts   []int
	off    int
	budget int
	fin    bool   // at the end of the budget a FIN, not a hold
	first  []byte // the first bytes written (the ServerHello record)
}

func (w *splitWriter) Write(p []byte) (int, error) {
	if len(w.first) < 64 {
		w.first = append(w.first, p[:min(len(p), 64)]...)
	}
	written := 0
	for len(p) > 0 {
		n := len(p)
		for _, c := range w.cuts {
			if c > w.off {
				n = min(n, c-w.off)
				break
			}
		}
		if w.budget >= 0 {
			if w.budget == 0 {
				if w.fin {
					_ = w.Conn.(*net.TCPConn).CloseWrite()
				}
				w.s.hold()
				return written, net.ErrClosed
			}
			n = min(n, w.budget)
			w.budget -= n
		}
		m, err := w.Conn.Write(p[:n])
		written += m
		w.off += m
		if err != nil {
			return written, err
		}
		p = p[n:]
		if len(p) > 0 || w.budget == 0 {
			w.s.pause(w.s.c.Gap + 200*time.Microsecond)
		}
	}
	return written, nil
}

// play runs the case on one connection.
func (s *Server) play(raw net.Conn) error {
	c := s.c
	if err := raw.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return nil
	}
	if c.Kind == PlainHTTP {
		buf := make([]byte, 4096)
		if _, err := raw.Read(buf); err != nil {
			return nil
		}
		_, _ = raw.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad Request"))
		_ = raw.(*net.TCPConn).CloseWrite()
		s.pause(50 * time.Millisecond)
		return nil
	}
	w := &splitWriter{Conn: raw, s: s, cuts: c.HSSplits, budget: -1}
	if c.Kind == Stall || c.Kind == HandshakeFIN {
		w.budget = c.StallAt
		w.fin = c.Kind == HandshakeFIN
	}
	var keylog strings.Builder
	cfg := &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: c.Version, MaxVersion: c.Version,
		SessionTicketsDisabled: true, KeyLogWriter: &keylog}
	if c.Version == tls.VersionTLS12 {
		cfg.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	}
	if c.RequestCert {
		cfg.ClientAuth = tls.RequestClientCert
	}
	if c.Kind == RequireCert {
		cfg.ClientAuth = tls.RequireAnyClientCert
	}
	tc := tls.Server(w, cfg)
	if err := tc.Handshake(); err != nil {
		if c.Kind == Stall || c.Kind == HandshakeFIN {
			s.hold()
		}
		return nil // the client gave up, or the case fails the handshake
	}
	if c.Kind == Stall || c.Kind == HandshakeFIN {
		s.hold()
		return nil
	}
	br := bufio.NewReader(tc)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil
		}
		if line == "\r\n" {
			break
		}
	}
	if c.Kind != Normal {
		return fmt.Errorf("tlsgen: %v: the handshake succeeded", c.Kind)
	}
	if err := raw.SetDeadline(time.Time{}); err != nil {
		return nil
	}
	sealer, err := tlsforge.New(keylog.String(), w.first, tc.ConnectionState())
	if err != nil {
		return err
	}
	f := &forger{s: sealer}
	stream := c.records(f)
	out := &splitWriter{Conn: raw, s: s, cuts: c.Splits, budget: -1}
	if _, err := out.Write(stream); err != nil {
		return nil
	}
	tcp := raw.(*net.TCPConn)
	switch c.End {
	case Hold, Garbage, TruncHold:
		s.hold()
	case Notify, FIN, Alert, TruncFIN:
		_ = tcp.CloseWrite()
		s.hold()
	case RST:
		s.pause(30 * time.Millisecond)
		_ = tcp.SetLinger(0)
		_ = tcp.Close()
	}
	return nil
}

// records builds the bytes the server writes after the handshake: the
// first Cut bytes of the response in records of the case's sizes, the
// extras at their offsets, the ending's record.
func (c Case) records(f *forger) []byte {
	resp := c.Response()[:min(c.Cut, len(c.Response()))]
	extras := c.Extras
	sizes := c.Records
	i := 0
	emit := func(at int) {
		for len(extras) > 0 && extras[0].At <= at {
			switch extras[0].What {
			case Ticket:
				f.ticket()
			case KeyUpdate:
				f.keyUpdate(false)
			case KeyUpdateRequested:
				f.keyUpdate(true)
			case Empty:
				f.record(tlsforge.RecordApplication, nil)
			case Warning:
				f.record(tlsforge.RecordAlert, []byte{tlsforge.AlertWarning, tlsforge.AlertUnrecognizedSNI})
			}
			extras = extras[1:]
		}
	}
	for off := 0; off < len(resp); {
		n := min(sizes[i%len(sizes)], len(resp)-off)
		// An extra inside this record cuts it there.
		if len(extras) > 0 && extras[0].At > off && extras[0].At < off+n {
			n = extras[0].At - off
		}
		emit(off)
		f.record(tlsforge.RecordApplication, resp[off:off+n])
		off += n
		i++
	}
	emit(len(resp))
	switch c.End {
	case Notify:
		f.record(tlsforge.RecordAlert, []byte{tlsforge.AlertWarning, tlsforge.AlertCloseNotify})
	case Alert:
		f.record(tlsforge.RecordAlert, []byte{tlsforge.AlertFatal, tlsforge.AlertInternalError})
	case TruncFIN, TruncHold:
		// One more record, its last bytes never sent: what it holds
		// must never be delivered.
		more := c.Response()[min(c.Cut, len(c.Response())):]
		more = more[:min(len(more), 50)]
		if len(more) == 0 {
			more = []byte("JUNK")
		}
		n := len(f.out)
		f.record(tlsforge.RecordApplication, more)
		f.out = f.out[:n+1+int(c.Seed%uint64(len(f.out)-n-1))]
	case Garbage:
		// A record header that names application data, then bytes no
		// key made: the record fails its authentication.
		g := []byte{tlsforge.RecordApplication, 3, 3, 0, 40}
		for j := range 40 {
			g = append(g, byte(j*37+int(c.Seed)))
		}
		f.out = append(f.out, g...)
	}
	return f.out
}

// forger seals records with the server's write keys into out.
type forger struct {
	out []byte
	s   *tlsforge.Sealer
}

func (f *forger) record(typ byte, data []byte) { f.out = f.s.Append(f.out, typ, data) }
func (f *forger) ticket()                      { f.out = f.s.AppendTicket(f.out) }
func (f *forger) keyUpdate(requested bool)     { f.out = f.s.AppendKeyUpdate(f.out, requested) }
