package httpclient

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdhttp/gdhttp/wire"
)

// stream is one established connection.
type stream struct {
	raw  net.Conn // the TCP connection; closing it ends everything above it
	conn net.Conn // what requests and responses go through: raw, or TLS over it
	tls  *eofConn // under TLS: the transport below crypto/tls, which notes a TCP EOF
	sock *sock    // raw's socket for the zero-wait liveness check, or nil (§1.6.3)
}

// eofConn is the transport below crypto/tls. It notes whether it reached
// EOF: a *tls.Conn reports io.EOF both for a close_notify alert and for a
// TCP close at a record boundary; Godot (mbedTLS) treats only the first as
// EOF and the second as a connection error (§1.15.4). After tls.Conn.Read
// returned io.EOF, sawEOF tells them apart: a close_notify is consumed
// without reading the TCP EOF behind it.
//
// It also lets the blocking-mode liveness check (§1.6.3) read through TLS
// without waiting: with nowait set, Read takes only what the socket holds
// and returns errNoData when it holds nothing, which crypto/tls handles as
// a read timeout (the record read so far is kept, nothing is sticky). pend
// is a socket error the check's peek took from the kernel; the next Read
// returns it. Both are set on the owner's goroutine with no read
// outstanding.
//
// During the handshake (hs set, on the connector's goroutine only) it keeps
// the first error of the transport itself, a read error, EOF or a write
// error, in hsErr, and in hsLate whether bytes had arrived before it since
// the client last wrote (hsData): see tcpEnded (issue 7 rule 5).
type eofConn struct {
	net.Conn
	sawEOF atomic.Bool
	sock   *sock // the TCP socket under Conn, or nil
	nowait bool
	pend   error
	hs     bool
	hsData bool // bytes arrived since the last write
	hsLate bool // hsErr came after such bytes
	hsErr  error
}

func (e *eofConn) Read(p []byte) (n int, err error) {
	switch {
	case e.pend != nil:
		err, e.pend = e.pend, nil
	case e.nowait:
		n, err = e.readNow(p)
	default:
		n, err = e.Conn.Read(p)
	}
	if err == io.EOF {
		e.sawEOF.Store(true)
	}
	if e.hs {
		if err != nil && e.hsErr == nil {
			e.hsErr, e.hsLate = err, e.hsData
		}
		e.hsData = e.hsData || n > 0
	}
	return n, err
}

func (e *eofConn) Write(p []byte) (int, error) {
	n, err := e.Conn.Write(p)
	if e.hs {
		if err != nil && e.hsErr == nil {
			e.hsErr = err
		}
		e.hsData = false
	}
	return n, err
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
func (e *eofConn) tcpEnded(err error) bool {
	switch {
	case e.hsErr == nil || e.hsLate:
		return false
	case e.hsErr == io.EOF:
		return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	default:
		return errors.Is(err, e.hsErr)
	}
}

// readNow reads what has arrived, without waiting: the bytes a proxy sent
// after its CONNECT reply first, then the socket.
func (e *eofConn) readNow(p []byte) (int, error) {
	if pc, ok := e.Conn.(*prefixConn); ok && len(pc.pre) > 0 {
		return pc.Read(p)
	}
	return e.sock.recv(p)
}

// peekState is what a look at the socket found (sock.peek).
type peekState uint8

const (
	peekEmpty peekState = iota // nothing queued: alive
	peekData                   // bytes queued: alive; they stay in the socket
	peekEOF                    // the peer's FIN, nothing queued before it
	peekError                  // a socket error, or the conn was closed
)

// errNoData is what a read without waiting returns when nothing has
// arrived. It is os.ErrDeadlineExceeded, the error of a read whose deadline
// passed, because crypto/tls must treat it as one: a temporary error that
// leaves the connection usable.
var errNoData = os.ErrDeadlineExceeded

// lookupHost resolves host with Go's own resolver (Godot resolves with
// address family "any", §1.5.11), cancelled by ctx. IPv4 addresses come
// back as IPv4, not as IPv4-mapped IPv6.
func lookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	r := net.Resolver{PreferGo: true}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	return addrs, err
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

// dialEvent is what the connector reports: a name resolved, the connection
// established (st), or a failure (stage, code, err).
type dialEvent struct {
	resolved bool
	st       *stream
	stage    dialStage
	code     Error
	err      error
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
	tunnel     bool // CONNECT through an HTTPS proxy first
	timeout    time.Duration
	userAgent  string
	limits     wire.Limits
	strict     bool
	lookup     func(ctx context.Context, host string) ([]netip.Addr, error)
	dial       func(ctx context.Context, network, addr string) (net.Conn, error)
}

// connector runs one connect attempt — resolve, dial every address in turn,
// the proxy CONNECT exchange, the TLS handshake — in one goroutine, and
// reports each step over ch (buffered: it never blocks). stop cancels it
// from any goroutine.
type connector struct {
	ch     chan dialEvent
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	raw     net.Conn // the connection being set up
	stopped bool
}

// startDial starts the connector goroutine for p.
func (c *Client) startDial(p dialParams) {
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

// drain closes the connection of an unconsumed success event. The
// goroutine must have ended.
func (d *connector) drain() {
	d.cancel()
	for {
		select {
		case ev := <-d.ch:
			if ev.st != nil {
				_ = ev.st.raw.Close()
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
		addrs, err = p.lookup(d.ctx, p.serverHost)
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
		raw, err := dial(ctx, "tcp", netip.AddrPortFrom(a, uint16(p.serverPort)).String())
		cancel()
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

// setUp runs the proxy CONNECT exchange and the TLS handshake over raw. It
// returns the stream, or the failure to report, or next: the TCP connection
// ended or broke during the handshake, so the next address is to be tried
// (with the cause in ev.err). On failure raw is closed.
//
// Godot checks the TCP status before each handshake step (§1.6.2): a FIN or
// RST seen there sends it to the next candidate, and CANT_CONNECT when none
// is left; a handshake step that fails on an alert or a certificate is
// TLS_HANDSHAKE_ERROR and tries no other address (§1.6.2.5). On the next
// address the port starts a fresh handshake, where Godot goes on with the
// stale one and stalls (COMPAT.md H9).
func (d *connector) setUp(raw net.Conn, p dialParams) (st *stream, ev dialEvent, next bool) {
	st = &stream{raw: raw, conn: raw, sock: newSock(raw)}
	if p.tunnel {
		conn, code, err := connectTunnel(raw, p)
		if err != nil {
			_ = raw.Close()
			return nil, dialEvent{stage: stageProxy, code: code, err: d.stopErr(err)}, false
		}
		st.conn = conn
	}
	if p.tls != nil {
		w := &eofConn{Conn: st.conn, sock: st.sock, hs: true}
		tc := tls.Client(w, p.tls.config(p.connHost))
		err := tc.HandshakeContext(d.ctx)
		w.hs = false
		if err != nil {
			_ = raw.Close()
			if d.ctx.Err() == nil && w.tcpEnded(err) {
				return nil, dialEvent{err: err}, true
			}
			return nil, dialEvent{stage: stageTLS, code: ErrCantConnect, err: d.stopErr(err)}, false
		}
		st.conn, st.tls = tc, w
	}
	return st, dialEvent{}, false
}

// readResult is the outcome of one background read.
type readResult struct {
	n   int
	err error
}

const (
	// readBufSize is the size of a connection's read buffer; it grows to
	// hold a response head larger than this, and to bulkBufSize for a
	// chunked body read in bulk.
	readBufSize = 64 << 10
	// bulkBufSize is the read buffer of a chunked body read into a large
	// caller buffer (ReadResponseBodyChunkInto with at least directChunked
	// bytes): each read takes up to this much from the socket and the body
	// is decoded from it. With chunks smaller than the caller's buffer this
	// costs the caller's goroutine less than reading into the caller's
	// buffer and moving the data over the framing (four times as many
	// reads): about 15 % less CPU per GiB over loopback with 16 KiB chunks
	// and a 64 KiB buffer.
	bulkBufSize = 256 << 10
	// minRead is the least room a read into the buffer is given.
	minRead = 4 << 10
	// probeWait bounds the liveness check of blocking mode where the socket
	// cannot be looked at without waiting (a platform without the peek, a
	// conn that is not a syscall.Conn): a read with a deadline this short
	// sees data or a FIN already queued, and otherwise returns as the
	// deadline passes (§1.6.3).
	probeWait = time.Millisecond
)

// buffered returns the bytes received and not consumed.
func (c *Client) buffered() []byte { return c.rbuf[c.rr:c.rw] }

// ensureRoom makes room for a read of at least min bytes at rbuf[rw:],
// keeping rbuf[rr:rw]. No read may be outstanding.
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
	size := max(readBufSize, 2*len(c.rbuf), c.rw+min)
	nb := make([]byte, size)
	copy(nb, c.rbuf[:c.rw])
	c.rbuf = nb
}

// growBuf makes the read buffer size bytes long when it is shorter, holds
// nothing and no read is outstanding.
func (c *Client) growBuf(size int) {
	if len(c.rbuf) < size && c.rr == c.rw && !c.rpending {
		c.rbuf = make([]byte, size)
		c.rr, c.rw = 0, 0
	}
}

// fill tries to receive more bytes into the buffer and reports whether the
// buffer or c.rerr changed. With block it waits for at least one byte or the
// end of the stream; without, it never waits: it takes the result of a
// finished background read, or starts one (at most one is outstanding) and
// returns false.
func (c *Client) fill(block bool) bool {
	if c.rerr != nil || c.st == nil {
		return false
	}
	if c.rpending {
		var res readResult
		if block {
			res = <-c.rch
		} else {
			select {
			case res = <-c.rch:
			default:
				return false
			}
		}
		c.rpending = false
		c.rw += res.n
		if res.err != nil {
			c.rerr = c.readErr(res.err)
		}
		return res.n > 0 || res.err != nil
	}
	c.ensureRoom(minRead)
	if !block {
		c.startRead()
		return false
	}
	n, err := c.st.conn.Read(c.rbuf[c.rw:])
	c.rw += n
	if err != nil {
		c.rerr = c.readErr(err)
	}
	return n > 0 || err != nil
}

// startRead starts the one background read, into rbuf[rw:].
func (c *Client) startRead() {
	c.rpending = true
	conn, buf, ch := c.st.conn, c.rbuf[c.rw:], c.rch
	c.spawn(func() {
		n, err := conn.Read(buf)
		ch <- readResult{n, err}
	})
}

// probe is the liveness check of blocking mode (§1.6.3). Like Godot's, it
// does not wait: the socket is looked at with a zero-wait peek (§1.15.3),
// and bytes that have arrived stay in the socket for the next read. A FIN
// (nothing queued before it) ends the stream with io.EOF and a socket error
// with that error, exactly as the next read would have.
//
// Under TLS the bytes are records, and crypto/tls may hold some already:
// when bytes arrive in CONNECTED (no response is being read: a close_notify,
// or a post-handshake message such as a session ticket), or the socket ended
// or failed, the check reads through crypto/tls without waiting, so a
// close_notify turns into CONNECTION_ERROR as in Godot (§1.6.3.1) and data
// crypto/tls still holds comes before the end. In BODY arrived bytes are
// left to the body read. (A close_notify that crypto/tls took in together
// with the last bytes of a response, with the TCP connection left open, is
// seen when the FIN comes.) The look allocates nothing.
func (c *Client) probe() {
	switch {
	case c.rpending:
		c.fill(false)
	case c.st.sock == nil:
		c.probeWait()
	default:
		c.probePeek()
	}
}

// probePeek is the zero-wait check.
func (c *Client) probePeek() {
	state, err := c.st.sock.peek()
	w := c.st.tls
	switch {
	case state == peekEmpty:
		return
	case w == nil && state == peekData:
		return
	case w == nil && state == peekEOF:
		c.rerr = c.readErr(io.EOF)
		return
	case w == nil:
		c.rerr = c.readErr(err)
		return
	case state == peekData && c.status == StatusBody:
		return
	case state == peekError:
		w.pend = err // the kernel hands an error out once: crypto/tls reads it next
	}
	c.probeTLS()
}

// probeTLS reads through crypto/tls what has arrived, without waiting.
func (c *Client) probeTLS() {
	c.ensureRoom(minRead)
	w := c.st.tls
	w.nowait = true
	n, err := c.st.conn.Read(c.rbuf[c.rw:])
	w.nowait = false
	c.rw += n
	if err != nil && !errors.Is(err, errNoData) {
		c.rerr = c.readErr(err)
	}
}

// probeWait is the check where the socket cannot be peeked: it receives
// what is already queued — data, or the end of the stream — waiting at most
// probeWait.
func (c *Client) probeWait() {
	c.ensureRoom(minRead)
	conn := c.st.conn
	_ = conn.SetReadDeadline(time.Now().Add(probeWait))
	n, err := conn.Read(c.rbuf[c.rw:])
	_ = conn.SetReadDeadline(time.Time{})
	c.rw += n
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		c.rerr = c.readErr(err)
	}
}

// readDirect reads into p, bypassing the buffer (blocking mode, nothing
// buffered, no read outstanding).
func (c *Client) readDirect(p []byte) int {
	n, err := c.st.conn.Read(p)
	if err != nil {
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
	if err == io.EOF && c.st != nil && c.st.tls != nil && c.st.tls.sawEOF.Load() {
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

// send writes the request (§1.6.4.1). It reports whether the write is over
// and how it ended. Blocking mode writes on the caller's goroutine;
// non-blocking mode hands the bytes to one background write and returns
// false until it finished (never a zero write deadline: STYLE.md).
func (c *Client) send() (done bool, err error) {
	switch {
	case c.wpending && c.blocking:
		err = <-c.wch
		c.wpending = false
	case c.wpending:
		select {
		case err = <-c.wch:
			c.wpending = false
		default:
			return false, nil
		}
	case c.blocking:
		_, err = c.st.conn.Write(c.req)
	default:
		c.wpending = true
		conn, req, ch := c.st.conn, c.req, c.wch
		c.spawn(func() {
			_, err := conn.Write(req)
			ch <- err
		})
		return false, nil
	}
	if err != nil {
		return true, c.ioCause(err)
	}
	c.reqSent = true
	return true, nil
}

// String describes a dial stage (for messages).
func (s dialStage) String() string {
	switch s {
	case stageResolve:
		return "resolve"
	case stageStart:
		return "start"
	case stageTCP:
		return "tcp"
	case stageProxy:
		return "proxy"
	case stageTLS:
		return "tls"
	}
	return "stage(" + strconv.Itoa(int(s)) + ")"
}
