package httpclient

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http/httptrace"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdhttp/gdhttp/wire"
)

// stream is one established connection.
type stream struct {
	raw  net.Conn     // the TCP connection (or the installed conn); closing it ends everything above it
	conn net.Conn     // what requests are written to: raw, or TLS over it
	nb   *nbConn      // raw read with and without waiting (issue 8)
	rd   streamReader // what responses are read from: nb, or tr
	tr   *nbTLSReader // under TLS made by the client: the TLS reader over nb, or nil
	// proxyAuth is the Proxy-Authorization value of the HTTP proxy the
	// connection was made to ("" for a direct one, a tunnel, or none set):
	// the only place the credentials may go (appendProxyAuth).
	proxyAuth string
	// installed: the conn came from SetConnection (its deadlines are the
	// caller's).
	installed bool
}

// streamReader reads a stream with (Read) and without (TryRead) waiting:
// an *nbConn or an *nbTLSReader.
type streamReader interface {
	TryRead(p []byte) (int, error)
	Read(p []byte) (int, error)
}

// tcpEnded reports whether the handshake error err is, in Godot's terms, a
// TCP failure (§1.6.2.2) rather than a TLS one (§1.6.2.5). Godot's poll
// checks the TCP status before it steps the handshake: a FIN or RST met
// while the client waits for the server with nothing unread (after its
// ClientHello, after its second flight) ends the TCP status, and the next
// address is tried. Bytes that arrive with the FIN are read by the handshake
// step first, which then meets the end itself and fails as TLS; the port
// takes bytes that arrived since the client last wrote as having come with
// the FIN. An alert, a certificate error or a malformed record is TLS.
func (w *nbTLSConn) tcpEnded(err error) bool {
	switch {
	case w.hsErr == nil || w.hsLate:
		return false
	case w.hsErr == io.EOF:
		return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	default:
		return errors.Is(err, w.hsErr)
	}
}

// lookupHost resolves host with Go's own resolver (Godot resolves with
// address family "any", §1.5.11), cancelled by ctx. IPv4 addresses come
// back as IPv4, not as IPv4-mapped IPv6, and each address once (uniqueAddrs).
func lookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	r := net.Resolver{PreferGo: true}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	return uniqueAddrs(addrs), err
}

// uniqueAddrs unmaps IPv4-mapped addresses and drops every address seen
// before, in place, keeping the order: Godot's resolver adds an address to
// its list only when the list does not hold it yet (ip_unix.cpp), where Go's
// gives a name listed twice in the hosts file twice — and each copy would
// be one more connect attempt (§1.6.2.2).
func uniqueAddrs(addrs []netip.Addr) []netip.Addr {
	out := addrs[:0]
	for _, a := range addrs {
		if a = a.Unmap(); !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// numericHost reads host as getaddrinfo does a name that is a numeric IPv4
// address in inet_aton's forms, which Godot's is_valid_ip_address does not
// take for a literal but its resolver (getaddrinfo, ip_unix.cpp) turns into
// the address without a lookup, where Go's resolver looks the name up (the
// connector answers it before the lookup): 1 to 4 parts, each
// decimal, octal (a leading 0) or hex (0x), the last one filling the bytes
// left — "127.1", "0x7f.1" and "2130706433" are 127.0.0.1. Nothing may
// follow (glibc's __inet_aton_exact).
func numericHost(host string) (netip.Addr, bool) {
	limit := [...]uint64{0xffffffff, 0xffffff, 0xffff, 0xff} // the last part's, by the parts before it
	var b [4]byte
	for i := 0; ; i++ {
		part, rest, more := strings.Cut(host, ".")
		v, ok := inetPart(part)
		if !ok {
			return netip.Addr{}, false
		}
		if more {
			if v > 0xff || i == len(b)-1 {
				return netip.Addr{}, false
			}
			b[i], host = byte(v), rest
			continue
		}
		if v > limit[i] {
			return netip.Addr{}, false
		}
		for j := 3; j >= i; j-- {
			b[j], v = byte(v), v>>8
		}
		return netip.AddrFrom4(b), true
	}
}

// inetPart is one part of an inet_aton address: strtoul with base 0 from a
// digit, at most 32 bits, nothing after it.
func inetPart(s string) (uint64, bool) {
	base := 10
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		s, base = s[2:], 16
	case len(s) > 1 && s[0] == '0':
		base = 8
	case s == "" || s[0] < '0' || s[0] > '9':
		return 0, false
	}
	v, err := strconv.ParseUint(s, base, 32)
	return v, err == nil
}

// dialStage says where a connect attempt failed.
type dialStage uint8

const (
	stageNone    dialStage = iota
	stageResolve           // DNS (§1.6.1.3)
	stageStart             // no connect could be started: invalid port (§1.6.1.2)
	stageTCP               // every address failed (§1.6.2.2)
	stageProxy             // the CONNECT exchange (§1.14.2)
	stageTLS               // handshake or verification (§1.6.2.5)
)

// dialEvent is what the connector reports: a name resolved (with its
// addresses when the owner is to connect to them itself), the connection
// established (st), or a failure (stage, code, err; next: the TCP
// connection ended during the CONNECT exchange or the handshake, so the
// next address is to be tried).
type dialEvent struct {
	resolved bool
	cands    *candidates
	st       *stream
	stage    dialStage
	code     Error
	err      error
	next     bool
}

// dialParams is everything the connector needs, copied so that it never
// touches the Client.
type dialParams struct {
	serverHost string // where the socket goes: the target or a proxy
	serverPort int
	literal    netip.Addr // valid when serverHost is an IP literal
	connHost   string     // the target: SNI, certificate name, CONNECT authority
	connPort   int
	tls        *TLSOptions
	tunnel     bool   // CONNECT through an HTTPS proxy first
	proxyAuth  string // the CONNECT's Proxy-Authorization value, "" for none
	httpAuth   string // the HTTP proxy's, when the socket goes to one (stream.proxyAuth)
	timeout    time.Duration
	userAgent  string
	limits     wire.Limits
	strict     bool
	lookup     func(ctx context.Context, host string) ([]netip.Addr, error)
	dial       func(ctx context.Context, network, addr string) (net.Conn, error)
	trace      *httptrace.ClientTrace // the Transport's request's, or nil
}

// connector runs one connect attempt: the name's resolution, the proxy
// CONNECT exchange and the TLS handshake in a goroutine that reports each
// step over ch (buffered: it never blocks), and the TCP connects as quick
// connects the owner's Poll drives (quickdial_unix.go) — or, where there
// are none, dialed on the goroutine too, every address in turn. stop
// cancels it from any goroutine.
type connector struct {
	ch     chan dialEvent
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	raw     net.Conn // the connection being set up
	stopped bool

	// A quick connect instead of the goroutine (quickdial_unix.go): the
	// socket being connected, or the error that stopped it from starting.
	quick    *quickConnect
	quickErr error

	// The owner's, once the goroutine handed a name's addresses over.
	cands *candidates
}

// candidates are a name's resolved addresses not tried yet (Godot's
// ip_candidates, §1.6.1.2) and the parameters to connect to them with,
// handed by the connector goroutine to the owner's Poll. (Not in the
// connector itself: the connect to an IP literal, the hot path of a new
// connection, would allocate them for nothing.)
type candidates struct {
	addrs []netip.Addr
	p     dialParams
}

// startDial starts the connect attempt for p: a quick connect when the
// socket goes to an IP literal (for a TLS target or a CONNECT tunnel the
// connector goroutine takes over once the TCP connect succeeded, so that
// the connect starts inside ConnectToHost for every target, as Godot's,
// §1.5.10), else the connector goroutine.
func (c *Client) startDial(p dialParams) {
	if quickConnectSupported && p.literal.IsValid() && p.literal.Zone() == "" && p.dial == nil {
		d := &connector{cancel: noCancel}
		if p.tls != nil || p.tunnel {
			d.ch = make(chan dialEvent, 1)
			d.ctx, d.cancel = context.WithCancel(context.Background())
		}
		d.quick, d.quickErr = startQuickConnect(p, netip.AddrPortFrom(p.literal, uint16(p.serverPort)))
		c.dial = d
		c.abortMu.Lock()
		c.abortDial = d
		c.abortMu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &connector{ch: make(chan dialEvent, 2), ctx: ctx, cancel: cancel}
	c.dial = d
	c.abortMu.Lock()
	c.abortDial = d
	c.abortMu.Unlock()
	c.spawn(func() { d.run(p) })
}

// stop cancels the attempt and closes the connection being set up.
func (d *connector) stop() {
	d.mu.Lock()
	d.stopped = true
	raw := d.raw
	d.mu.Unlock()
	d.cancel()
	if raw != nil {
		_ = raw.Close()
	}
}

// hold registers raw so that stop closes it; false if already stopped.
func (d *connector) hold(raw net.Conn) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return false
	}
	d.raw = raw
	return true
}

func noCancel() {}

// drain closes the connection of an unconsumed success event, or the
// socket of a quick connect. The goroutine must have ended.
func (d *connector) drain() {
	d.cancel()
	if d.quick != nil {
		d.quick.close()
	}
	for {
		select {
		case ev := <-d.ch:
			if ev.st != nil {
				_ = ev.st.raw.Close()
				if ev.st.tr != nil {
					ev.st.tr.w.releaseBuf()
				}
			}
		default:
			return
		}
	}
}

// stopErr is the cause reported when the attempt was stopped.
func (d *connector) stopErr(err error) error {
	d.mu.Lock()
	stopped := d.stopped
	d.mu.Unlock()
	if stopped {
		return ErrAborted
	}
	return err
}

func (d *connector) run(p dialParams) {
	addrs := []netip.Addr{p.literal}
	if !p.literal.IsValid() {
		var err error
		if a, ok := numericHost(p.serverHost); ok {
			addrs = []netip.Addr{a} // what getaddrinfo answers without a lookup
		} else {
			if p.trace != nil && p.trace.DNSStart != nil {
				p.trace.DNSStart(httptrace.DNSStartInfo{Host: p.serverHost})
			}
			addrs, err = p.lookup(d.ctx, p.serverHost)
			if p.trace != nil && p.trace.DNSDone != nil {
				info := httptrace.DNSDoneInfo{Err: err}
				for _, a := range addrs {
					info.Addrs = append(info.Addrs, net.IPAddr{IP: a.AsSlice(), Zone: a.Zone()})
				}
				p.trace.DNSDone(info)
			}
		}
		if err == nil && len(addrs) == 0 {
			err = &net.DNSError{Err: "no addresses", Name: p.serverHost, IsNotFound: true}
		}
		if err != nil {
			d.ch <- dialEvent{stage: stageResolve, code: ErrCantResolve, err: d.stopErr(err)}
			return
		}
		if !validPort(p.serverPort) {
			d.ch <- dialEvent{stage: stageStart, code: ErrInvalidParameter, err: errBadPort}
			return
		}
		if quickConnectSupported && p.dial == nil && !zoned(addrs) {
			// The owner's Poll connects to each address in turn, as
			// Godot's (§1.6.1.2, §1.6.2.2): an address whose connect
			// cannot start is skipped there, and when none can, the
			// status goes from RESOLVING to CANT_CONNECT.
			d.ch <- dialEvent{resolved: true, cands: &candidates{addrs: addrs, p: p}}
			return
		}
		d.ch <- dialEvent{resolved: true}
	}
	var lastErr error
	dial := p.dial
	if dial == nil {
		var dl net.Dialer
		dial = dl.DialContext
	}
	for _, a := range addrs {
		// §1.6.2.1: each address gets its own connect timeout.
		ctx, cancel := context.WithTimeout(d.ctx, p.timeout)
		addr := netip.AddrPortFrom(a, uint16(p.serverPort))
		traceConnectStart(p, addr)
		raw, err := dial(ctx, "tcp", addr.String())
		cancel()
		if err != nil && p.dial == nil && d.ctx.Err() == nil {
			err = dialTimeoutErr(err)
		}
		traceConnectDone(p, addr, err)
		if err != nil {
			lastErr = err
			if d.ctx.Err() != nil {
				break
			}
			continue
		}
		if !d.hold(raw) {
			_ = raw.Close()
			d.ch <- dialEvent{stage: stageTCP, code: ErrCantConnect, err: ErrAborted}
			return
		}
		st, ev, next := d.setUp(raw, p)
		if next {
			// issue 7 rule 5: the TCP connection ended during the TLS
			// handshake; like Godot (§1.6.2.2) try the next address.
			lastErr = ev.err
			continue
		}
		if st == nil {
			d.ch <- ev
			return
		}
		d.ch <- dialEvent{st: st}
		return
	}
	d.ch <- dialEvent{stage: stageTCP, code: ErrCantConnect, err: d.stopErr(lastErr)}
}

// errConnectTimeout is the cause of a connect that timed out (§1.6.2.1),
// from a quick connect or from the connector's net.Dialer: what net.Dialer
// reports for a dial past its context's deadline ("i/o timeout", a
// net.Error whose Timeout is true, errors.Is context.DeadlineExceeded and
// os.ErrDeadlineExceeded).
var errConnectTimeout error = connectTimeoutError{}

type connectTimeoutError struct{}

func (connectTimeoutError) Error() string   { return "i/o timeout" }
func (connectTimeoutError) Timeout() bool   { return true }
func (connectTimeoutError) Temporary() bool { return true }
func (connectTimeoutError) Is(target error) bool {
	return target == context.DeadlineExceeded || target == os.ErrDeadlineExceeded
}

// dialTimeoutErr makes a timed-out connect of the connector's own
// net.Dialer say errConnectTimeout, as a quick connect does: net.Dialer
// reports the socket's deadline (os.ErrDeadlineExceeded, which is not
// context.DeadlineExceeded) when it fires just before the context's.
func dialTimeoutErr(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Timeout() {
		c := *oe
		c.Err = errConnectTimeout
		return &c
	}
	return err
}

// zoned reports whether an address has an IPv6 zone, which a quick connect
// does not take.
func zoned(addrs []netip.Addr) bool {
	for _, a := range addrs {
		if a.Zone() != "" {
			return true
		}
	}
	return false
}

// startNext starts a quick connect to the first of the remaining addresses
// whose connect can start, dropping the ones tried: Godot's loop over
// ip_candidates (§1.6.1.2, §1.6.2.2). It returns the last start error when
// none could start.
func (d *connector) startNext() error {
	var err error
	for cs := d.cands; len(cs.addrs) > 0; {
		a := cs.addrs[0]
		cs.addrs = cs.addrs[1:]
		var q *quickConnect
		if q, err = startQuickConnect(cs.p, netip.AddrPortFrom(a, uint16(cs.p.serverPort))); err == nil {
			d.quick = q
			return nil
		}
	}
	return err
}

// traceConnectStart calls p.trace's ConnectStart for a TCP connect to
// addr (httptrace, for the Transport).
func traceConnectStart(p dialParams, addr netip.AddrPort) {
	if p.trace != nil && p.trace.ConnectStart != nil {
		p.trace.ConnectStart("tcp", addr.String())
	}
}

// traceConnectDone calls p.trace's ConnectDone for the connect to addr.
func traceConnectDone(p dialParams, addr netip.AddrPort, err error) {
	if p.trace != nil && p.trace.ConnectDone != nil {
		p.trace.ConnectDone("tcp", addr.String(), err)
	}
}

// connectDone calls ConnectDone for the quick connect's address.
func (q *quickConnect) connectDone(err error) { traceConnectDone(q.p, q.addr, err) }

// setUpOne is setUp for the address of a quick connect: the TCP connection
// ending during the CONNECT exchange or the handshake is reported with next
// set, for the owner to
// try its next address or give CANT_CONNECT (§1.6.2.2).
func (d *connector) setUpOne(raw net.Conn, p dialParams) {
	st, ev, next := d.setUp(raw, p)
	switch {
	case next:
		ev = dialEvent{err: d.stopErr(ev.err), next: true}
	case st != nil:
		ev = dialEvent{st: st}
	}
	d.ch <- ev
}

// setUp runs the proxy CONNECT exchange and the TLS handshake over raw. It
// returns the stream, or the failure to report, or next: the TCP connection
// ended or broke during the CONNECT exchange (before any reply) or the
// handshake, so the next address is to be tried (with the cause in ev.err).
// On failure raw is closed.
//
// Godot checks the TCP status before each CONNECT or handshake step
// (§1.6.2): a FIN or RST seen there sends it to the next candidate, and
// CANT_CONNECT when none is left; a handshake step that fails on an alert or a certificate is
// TLS_HANDSHAKE_ERROR and tries no other address (§1.6.2.5). On the next
// address the port starts a fresh handshake, where Godot goes on with the
// stale one and stalls (COMPAT.md H9).
func (d *connector) setUp(raw net.Conn, p dialParams) (st *stream, ev dialEvent, next bool) {
	var rest []byte
	if p.tunnel {
		var code Error
		var err error
		rest, code, err = connectTunnel(raw, p)
		if err != nil {
			_ = raw.Close()
			if d.ctx.Err() == nil && tunnelEnded(err) {
				// §1.6.2.2, as a TCP end during the handshake below; on
				// the next address the port sends a fresh CONNECT, where
				// Godot's sub-client has sent its own and stalls (COMPAT
				// H9).
				return nil, dialEvent{err: err}, true
			}
			return nil, dialEvent{stage: stageProxy, code: code, err: d.stopErr(err)}, false
		}
	}
	// The owner sets nb's spawn when it takes the stream (pollDial); the
	// handshake below reads with waiting and starts no goroutine.
	st = &stream{raw: raw, conn: raw, nb: newNBConn(raw, rest, nil), proxyAuth: p.httpAuth}
	st.rd = st.nb
	if p.tls != nil {
		tr := newNBTLS(raw, st.nb, p.tls.config(p.connHost))
		if p.trace != nil && p.trace.TLSHandshakeStart != nil {
			p.trace.TLSHandshakeStart()
		}
		tr.w.hs = true
		err := tr.tc.HandshakeContext(d.ctx)
		tr.w.hs = false
		if p.trace != nil && p.trace.TLSHandshakeDone != nil {
			var cs tls.ConnectionState
			if err == nil {
				cs = tr.tc.ConnectionState()
			}
			p.trace.TLSHandshakeDone(cs, err)
		}
		if err != nil {
			_ = raw.Close()
			tr.w.releaseBuf() // the handshake returned: nothing reads it any more
			if d.ctx.Err() == nil && tr.w.tcpEnded(err) {
				return nil, dialEvent{err: &HandshakeEndError{err}}, true
			}
			return nil, dialEvent{stage: stageTLS, code: ErrCantConnect, err: d.stopErr(err)}, false
		}
		st.conn, st.rd, st.tr = tr.tc, tr, tr
	}
	return st, dialEvent{}, false
}

const (
	// readBufSize is the size of a connection's read buffer; it grows to
	// hold a response head larger than this, and to bulkBufSize for a
	// chunked body read in bulk.
	readBufSize = 64 << 10
	// bulkBufSize is the read buffer of a chunked body read into a large
	// caller buffer (ReadResponseBodyChunkInto with at least bulkMinBuf
	// bytes): each read takes up to this much from the socket and the body
	// is decoded from it. With chunks smaller than the caller's buffer this
	// costs the caller's goroutine less than reading into the caller's
	// buffer and moving the data over the framing, which takes four times
	// as many reads (benchmarks: BenchmarkClientChunked1GiB); with larger
	// chunks it costs no more than reading into the caller's buffer and
	// decoding in place (BenchmarkClientChunkedLarge1GiB, within the noise).
	bulkBufSize = 256 << 10
	// minRead is the least room a read into the buffer is given.
	minRead = 4 << 10
	// maxRecordPlaintext is the most plaintext one TLS record carries.
	maxRecordPlaintext = 16 << 10
)

// writePiece is the most one Write of a request is given, so that
// BytesSent moves during a large upload and an Abort is seen between pieces.
const writePiece = 128 << 10

// tlsWriter is the TLS transport a non-blocking Poll writes through
// without a goroutine (send), or nil: blocking mode, plain TCP, a TLS conn
// given to SetConnection, or a conn that is not a syscall.Conn.
func (c *Client) tlsWriter() *nbTLSConn {
	if c.blocking || c.st.tr == nil || c.st.nb.sock == nil {
		return nil
	}
	return c.st.tr.w
}

// awaitPeer is a non-blocking Poll whose write found the socket full: a
// caller that spins gives the CPU to the peer that must read (yieldCPU).
func (c *Client) awaitPeer() {
	if c.spin.Mark() {
		yieldCPU()
	}
}

// writePieces writes p, the request bytes from offset off on, in pieces of
// writePiece, adding to sent the bytes of each piece that fall in the body
// [pre, end) as they go (BytesSent, any goroutine). It returns the bytes
// written, the failed piece's included.
func writePieces(conn net.Conn, p []byte, off, pre, end int, sent *atomic.Int64) (int, error) {
	total := 0
	for len(p) > 0 {
		n, err := conn.Write(p[:min(len(p), writePiece)])
		if lo, hi := max(off+total, pre), min(off+total+n, end); hi > lo {
			sent.Add(int64(hi - lo))
		}
		total += n
		p = p[n:]
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// buffered returns the bytes received and not consumed.
func (c *Client) buffered() []byte { return c.rbuf[c.rr:c.rw] }

// ensureRoom makes room for a read of at least min bytes at rbuf[rw:],
// keeping rbuf[rr:rw].
func (c *Client) ensureRoom(min int) {
	if c.rr == c.rw {
		c.rr, c.rw = 0, 0
	}
	if len(c.rbuf)-c.rw >= min {
		return
	}
	if c.rr > 0 {
		c.rw = copy(c.rbuf, c.rbuf[c.rr:c.rw])
		c.rr = 0
		if len(c.rbuf)-c.rw >= min {
			return
		}
	}
	if len(c.rbuf) == 0 && min <= readBufSize {
		c.rpool = readBufs.get(&c.bufHint)
		c.rbuf = *c.rpool
		return
	}
	size := max(readBufSize, 2*len(c.rbuf), c.rw+min)
	nb := make([]byte, size)
	copy(nb, c.rbuf[:c.rw])
	c.dropBuf()
	c.rbuf = nb
}

// putBuf gives a readBufSize buffer back to readBufs (emptying rbuf). A
// larger one — the bulk buffer, or one grown for a large head — is kept
// for the next connection.
func (c *Client) putBuf() {
	if c.rpool != nil && len(*c.rpool) != bulkBufSize {
		readBufs.put(c.rpool, &c.bufHint)
		c.rpool, c.rbuf = nil, nil
	}
}

// dropBuf gives the read buffer back to its free list, whichever it came
// from: when it is replaced, when it holds nothing (restBuf), or when the
// Client will not connect again. One grown for a large head is kept.
func (c *Client) dropBuf() {
	if c.rpool != nil && len(*c.rpool) == bulkBufSize {
		bulkBufs.put(c.rpool, &c.bufHint)
		c.rpool, c.rbuf = nil, nil
	}
	c.putBuf()
}

// growBuf makes the read buffer bulkBufSize bytes long, from bulkBufs,
// when it is shorter and holds nothing.
func (c *Client) growBuf() {
	if len(c.rbuf) < bulkBufSize && c.rr == c.rw {
		c.dropBuf()
		c.rpool = bulkBufs.get(&c.bufHint)
		c.rbuf = *c.rpool
		c.rr, c.rw = 0, 0
	}
}

// fill tries to receive more bytes into the buffer and reports whether the
// buffer or c.rerr changed. With block it waits for at least one byte or the
// end of the stream; without, it never waits: it takes what has arrived
// (Godot's non-blocking read, §1.15.3). Under TLS one call takes one
// record, waiting or not: what is buffered is then never more than Godot's
// reads would have taken from the socket — the rest of the record holding
// the last byte they needed, which mbedTLS keeps (the head's last byte in
// REQUESTING, the body's in BODY) — and later records stay in the socket
// for the liveness check to see (pollLive).
func (c *Client) fill(block bool) bool {
	if c.rerr != nil || c.st == nil {
		return false
	}
	c.ensureRoom(minRead)
	var n int
	var err error
	switch {
	case block && c.st.tr != nil:
		if c.rr == c.rw {
			// Wait for the record with no read buffer held (restBuf); a
			// bulk buffer is taken again after the wait, as readWaiting does.
			bulk := len(c.rbuf) == bulkBufSize
			c.restBuf()
			c.st.tr.awaitData()
			c.retakeBuf(bulk)
		}
		// One record, as mbedTLS reads them (ReadRecord).
		n, err = c.st.tr.ReadRecord(c.rbuf[c.rw:])
	case block && c.st.nb.canWait():
		n, err = c.readWaiting()
	case block:
		n, err = c.st.rd.Read(c.rbuf[c.rw:])
	case c.st.tr != nil:
		// One record, as mbedTLS reads them (TryReadRecord).
		n, err = c.st.tr.TryReadRecord(c.rbuf[c.rw:])
	default:
		n, err = c.st.rd.TryRead(c.rbuf[c.rw:])
	}
	if err == errWouldBlock {
		c.restBuf()
		if c.spin.Mark() {
			c.awaitSocket()
		}
		return false
	}
	c.rw += n
	c.took = c.took || n > 0
	if err != nil {
		c.rerr = c.readErr(err)
	}
	return n > 0 || err != nil
}

// readWaiting is the blocking read of a plain TCP socket read without
// waiting: read(2), and while nothing has arrived a wait for the socket
// with the read buffer given back (restBuf), so that a request waiting for
// its response holds none — a load tool keeps thousands waiting. The
// system calls are net.Conn.Read's: a read, and the wait after EAGAIN, in
// one RawConn.Read (readOrRest), which does not lose a readiness that
// comes between the two. A bulk buffer (a chunked body read in bulk,
// growBuf) is taken again after the wait.
func (c *Client) readWaiting() (int, error) {
	if c.readOrRestF == nil {
		c.readOrRestF = c.readOrRest // built once: no allocation per read
	}
	c.waitBulk = len(c.rbuf) == bulkBufSize
	return c.st.nb.sock.readWith(c.readOrRestF)
}

// readOrRest is readWaiting's read callback, run by RawConn.Read: one
// read(2) into the read buffer, taken from its free list when it was given
// back; when nothing has arrived the buffer goes back (restBuf) and
// RawConn.Read waits for the socket, then calls again.
func (c *Client) readOrRest(fd uintptr) bool {
	c.retakeBuf(c.waitBulk)
	if c.st.nb.sock.read(fd, c.rbuf[c.rw:]) {
		return true
	}
	c.restBuf()
	return false
}

// retakeBuf makes room for a read after a wait that gave the buffer back
// (restBuf): the bulk buffer again when bulk, else a read buffer.
func (c *Client) retakeBuf(bulk bool) {
	if bulk {
		c.growBuf()
	}
	c.ensureRoom(minRead)
}

// restBuf gives the read buffer back to its free list (dropBuf) while it
// holds nothing: a read that found nothing, a response read to its end.
// Waiting and idle connections then hold no read buffer (a load tool keeps
// thousands); the next read takes one from the list again.
func (c *Client) restBuf() {
	if c.rr == c.rw {
		c.rr, c.rw = 0, 0
		c.dropBuf()
	}
	if c.st != nil && c.st.tr != nil {
		c.st.tr.w.restBuf()
	}
}

// look is the look at the connection of the liveness check (§1.6.3), the
// same in both modes and never waiting: a zero-wait peek at the socket
// (§1.15.3) — or, where the conn is not a syscall.Conn or the platform has
// no such read, the result of a background read (the end of the stream is
// then seen by a later Poll). Bytes that have arrived stay where they are
// for the next read. A FIN (nothing queued before it) ends the stream with
// io.EOF and a socket error with that error, exactly as the next read would
// have.
//
// Under TLS the bytes are records, read one at a time as mbedTLS reads
// them (recordCut): when bytes arrive in CONNECTED (no response is being
// read: a close_notify, a post-handshake message such as a session ticket,
// unsolicited data), or in BODY when nothing more belongs to the body
// (Content-Length: 0, HEAD), or the socket failed, the check reads without
// waiting up to the first application-data record (tryTLS: Godot's
// zero-length mbedtls_ssl_read), so a close_notify turns into
// CONNECTION_ERROR as in Godot (§1.6.3.1) and a data record is held, the
// records behind it staying in the socket — and only those, or a record not
// whole yet, are stray (Reusable), not the records read in passing; a FIN
// with nothing before it
// ends the connection there, as Godot's TCP poll does first. In BODY the
// same read takes the next record of the body, so a record that does not
// decrypt, or one cut by the FIN, fails the Poll as in Godot; a
// close_notify there is left to the body read (pollLive, §7 D3). The look
// allocates nothing.
func (c *Client) look() {
	if c.st.tr == nil && c.blocking && c.handshakePending() {
		// SetConnection's *tls.Conn before its handshake: left to the
		// request (blocking mode starts no read that would run it).
		return
	}
	var state nbState
	var err error
	if c.st.tr != nil {
		// The bytes read ahead of crypto/tls count as still in the socket.
		state, err = c.st.tr.Peek()
	} else {
		state, err = c.st.nb.Peek()
	}
	// In CONNECTED no request is waiting for bytes: queued ones are stray
	// (Reusable); under TLS the records are read below, and what is stray
	// is decided after them.
	if c.st.tr == nil {
		c.stray = c.status == StatusConnected && state == nbData
	}
	switch {
	case state == nbEmpty:
	case c.st.tr == nil && state == nbData:
		// Bytes are queued: an RST behind them is Godot's POLLERR all the
		// same (§1.6, pendingErr left it to this look).
		if err := c.lookErr(); err != nil {
			c.rerr = err
		}
	case c.st.tr == nil && state == nbEOF:
		c.rerr = c.readErr(io.EOF)
	case c.st.tr == nil:
		c.rerr = c.readErr(err)
	case state == nbEOF && c.tlsIdle():
		// Godot's TCP poll sees the FIN first: the connection ends, even
		// with plaintext of a record still held (in crypto/tls here).
		c.rerr = ErrTLSTruncated
	default:
		c.tryTLS()
	}
	if c.st.tr != nil {
		// Under TLS the queued bytes are records, and only application
		// data is a byte no request asked for: a data record read above
		// waits in the buffer (Reusable sees it there), and a session
		// ticket, a KeyUpdate or a warning alert, which crypto/tls takes
		// in passing (as mbedTLS takes a ticket or a warning alert, §1.6.3:
		// still CONNECTED), leaves nothing behind — the raw look counted
		// them, and a kept connection was dropped for a TLS 1.3 server's
		// late ticket. A record not whole yet may be data (every TLS 1.3
		// record looks like data until it is decrypted): stray, at this
		// look and at every later one until it completes — crypto/tls
		// holds its start, where no look at the socket sees it. Where the
		// socket is read by a background read (the fallback), the read
		// that found no record after them only started one, which may
		// bring data already queued: there the raw look still decides.
		fallback := state == nbData && !c.st.nb.NoWait()
		c.stray = c.status == StatusConnected && c.rerr == nil && (c.st.tr.partial() || fallback)
	}
}

// tryTLS is StreamPeerMbedTLS::poll's zero-length read: without waiting,
// it takes the next application-data record that has arrived (after the
// handshake messages before it), or meets the close_notify, the end or the
// error that comes first. Room is made for a whole record, so that nothing
// of it stays in crypto/tls.
func (c *Client) tryTLS() {
	c.ensureRoom(maxRecordPlaintext)
	n, err := c.st.tr.TryReadRecord(c.rbuf[c.rw:])
	c.rw += n
	if err != nil && err != errWouldBlock {
		c.rerr = c.readErr(err)
	}
}

// readDirect reads into p, bypassing the buffer (blocking mode, nothing
// buffered).
func (c *Client) readDirect(p []byte) int {
	n, err := c.st.rd.Read(p)
	if err != nil {
		c.rerr = c.readErr(err)
	}
	return n
}

// tryDirect reads what has arrived into p without waiting, bypassing the
// buffer (non-blocking mode, nothing buffered).
func (c *Client) tryDirect(p []byte) int {
	n, err := c.st.rd.TryRead(p)
	if err != nil && err != errWouldBlock {
		c.rerr = c.readErr(err)
	}
	return n
}

// readErr classifies the error that ended a read: io.EOF stays io.EOF (a
// clean end: TCP FIN, or a TLS close_notify); a TLS stream whose TCP
// connection ended without close_notify gives ErrTLSTruncated (§1.15.4);
// after Abort, ErrAborted.
func (c *Client) readErr(err error) error {
	if c.aborted.Load() {
		return ErrAborted
	}
	if err == io.EOF && c.st != nil && c.st.tr != nil && c.st.tr.w.sawEOF.Load() {
		return ErrTLSTruncated
	}
	return err
}

// ioCause is the cause reported for a failed write or a read error.
func (c *Client) ioCause(err error) error {
	if c.aborted.Load() {
		return ErrAborted
	}
	return err
}

// send writes the request (§1.6.4.1), and a streamed body as it reads it
// (RequestStream). It reports whether the write is over and how it ended.
// Blocking mode writes on the caller's goroutine; non-blocking mode writes
// what a plain TCP socket takes at once (one write(2), issue 8) and the
// rest at the next Polls, as Godot's put_partial_data (§1.6.4.1),
// returning false until all of it left. Under TLS made by the client it
// encrypts on the caller's goroutine too, and what the socket does not
// take waits whole in the transport for the next Poll (tlsWriter); over a
// conn that is not a syscall.Conn all of it goes to one background write
// (never a zero write deadline: STYLE.md). A streamed body is then read
// and written piece by piece, up to pollWriteBudget bytes per non-blocking
// call.
func (c *Client) send() (done bool, err error) {
	if c.rb.r != nil && !c.rb.started && c.woff == 0 {
		// The first piece of a streamed body goes out with the head.
		if err := c.fillBody(); err != nil {
			return true, err
		}
	}
	budget := pollWriteBudget
	for {
		if c.wpending {
			var n int
			if c.blocking {
				n = <-c.wch
			} else {
				select {
				case n = <-c.wch:
				default:
					var ok bool
					if n, ok = awaitReport(c, c.wch); !ok { // the background write
						return false, nil
					}
				}
			}
			c.wpending = false
			c.woff += n // BytesSent was counted as it went (writePieces)
			if err := c.werr; err != nil {
				c.werr = nil
				return true, c.ioCause(err)
			}
		}
		w := c.tlsWriter()
		if w == nil && c.st.tr != nil {
			// Blocking mode now, with a record a non-blocking Poll left
			// waiting: it goes first, whole, as mbedTLS flushes its
			// pending record before anything else (§1.6.4.1).
			if err := c.st.tr.w.flushWait(); err != nil {
				return true, c.ioCause(err)
			}
		}
		if w != nil {
			// TLS: crypto/tls encrypts on this goroutine, a record at a
			// time; what the socket does not take waits in the transport
			// for the next Poll — no goroutine, no record cut (§1.6.4.1).
			// Its body bytes count as sent once they have left.
			w.sent = &c.sent
			if ok, err := w.flush(); err != nil {
				return true, c.ioCause(err)
			} else if !ok {
				c.awaitPeer()
				return false, nil
			}
			for rest := c.req[c.woff:]; len(rest) > 0; rest = c.req[c.woff:] {
				w.wnb = true
				n, err := c.st.conn.Write(rest[:min(len(rest), tlsWritePiece)])
				w.wnb = false
				body := c.passWritten(n)
				if err != nil {
					if w.poff >= len(w.pend) {
						// The records of n had left, whole, before the
						// one that failed: their body bytes were sent (as
						// writePieces counts a failed Write's n).
						c.sent.Add(body)
					}
					return true, c.ioCause(err)
				}
				if w.poff < len(w.pend) {
					w.held = body
					return false, nil // the next Poll flushes it
				}
				c.sent.Add(body)
			}
		} else if rest := c.req[c.woff:]; len(rest) > 0 {
			if c.blocking {
				n, err := writePieces(c.st.conn, rest, c.woff, c.wpre, c.wpre+c.wpay, &c.sent)
				c.woff += n
				if err != nil {
					return true, c.ioCause(err)
				}
			} else {
				if s := c.st.nb.sock; s != nil && c.st.tr == nil {
					// Plain TCP: Godot's non-blocking write — what the
					// socket takes now, on this goroutine, the rest at the
					// next Poll, no goroutine (§1.6.4.1). (TLS above.)
					n, err := s.tryWrite(rest)
					if err != nil {
						return true, c.ioCause(err)
					}
					c.wrote(n)
					if rest = rest[n:]; len(rest) > 0 {
						return false, nil
					}
				}
				if len(rest) > 0 {
					c.wpending = true
					conn, ch, werr := c.st.conn, c.wch, &c.werr
					from, pre, end, sent := c.woff, c.wpre, c.wpre+c.wpay, &c.sent
					c.spawn(func() {
						n, err := writePieces(conn, rest, from, pre, end, sent)
						*werr = err // read after the send on ch
						ch <- n
					})
					return false, nil
				}
			}
		}
		if c.rb.r == nil {
			c.reqSent = true
			if c.trace != nil {
				c.trace.wrote()
			}
			return true, nil
		}
		if !c.blocking {
			// The piece just written counts: at most pollWriteBudget
			// bytes read per Poll.
			if budget -= c.wpay; budget <= 0 {
				return false, nil
			}
		}
		c.req, c.woff, c.wpre, c.wpay = c.req[:0], 0, 0, 0
		if err := c.fillBody(); err != nil {
			return true, err
		}
	}
}
