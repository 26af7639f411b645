package httpclient

import (
	"cmp"
	"io"
	"net"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/wire"
)

const pollOp = "poll"

// Poll advances the connection by at most one status change and returns
// Godot's code for the status (§1.6):
//
//	DISCONNECTED                      ErrUnconfigured
//	RESOLVING, CONNECTING             nil while in progress; the failure below when it fails
//	CONNECTED, BODY                   nil, or ErrConnectionError when the peer closed (§1.6.3)
//	REQUESTING                        nil, or ErrConnectionError on an I/O error (§1.6.4)
//	CANT_RESOLVE                      ErrCantResolve
//	CANT_CONNECT                      ErrCantConnect (a proxy error: see below)
//	CONNECTION_ERROR, TLS_HANDSHAKE_ERROR  ErrConnectionError
//
// The call that enters a failure status returns that code wrapping the
// cause, and LastError gives the same value: a TLS failure is
// ErrCantConnect with status TLS_HANDSHAKE_ERROR, a proxy refusal wraps a
// *ProxyError, a resolved name with a port outside 1…65535 is
// ErrInvalidParameter with status CANT_CONNECT, and when no address left
// can even start a connect (connect(2) fails at once: no route) the last
// start error is Failed with status CANT_CONNECT (§1.6.1.2, §1.6.2.2).
//
// Non-blocking mode (the default) does not wait, but for a caller that
// spins on this client alone: a Poll that finds nothing to do waits up to
// 1 ms for the socket or the client's goroutine (a TLS handshake, a
// CONNECT, a background write), instead of keeping the CPU they need (see
// the package doc). Blocking mode waits in RESOLVING, CONNECTING and
// REQUESTING until the status can change (§1.15.1).
// In REQUESTING, CONNECTED and BODY a pending socket error (an RST) comes
// first and ends the connection, whatever bytes are still unread (§1.6). In
// CONNECTED and BODY both modes check liveness without consuming data
// (pollLive, §1.6.3): a clean close of a body that still expects bytes is
// left to the body read (§1.10.1.4, §7 D3), and after an ambiguous response
// the next Poll gives CONNECTION_ERROR with ErrNotReusable (§7 D2). The
// package doc says where the socket cannot be looked at without waiting.
//
// Godot: HTTPClient.poll()
func (c *Client) Poll() error {
	if c.rb.reading {
		return nil // called by the request body's reader (RequestStream)
	}
	c.enter()
	if c.aborted.Load() {
		switch c.status {
		case StatusResolving, StatusConnecting, StatusConnected, StatusRequesting, StatusBody:
			return c.abortNow(pollOp)
		}
	}
	switch c.status {
	case StatusDisconnected:
		return ErrUnconfigured
	case StatusResolving, StatusConnecting:
		return c.pollDial()
	case StatusConnected, StatusBody:
		err := c.pendingErr()
		if err != nil {
			err = c.fail(StatusConnectionError, ErrConnectionError, pollOp, err)
		} else {
			err = c.pollLive()
		}
		if err != nil {
			c.socketGone()
		}
		return err
	case StatusRequesting:
		return c.pollRequesting() // it looks for a pending error itself
	case StatusCantResolve:
		return c.terminalErr(ErrCantResolve)
	case StatusCantConnect:
		return c.terminalErr(ErrCantConnect)
	default: // StatusConnectionError, StatusTLSHandshakeError
		return c.terminalErr(ErrConnectionError)
	}
}

// terminalErr is what Poll returns in a terminal status: Godot's code for
// the status, wrapping the cause of the failure when one is known.
func (c *Client) terminalErr(code Error) error {
	if godot.CodeOf(c.lastErr) == code {
		return c.lastErr
	}
	if c.cause != nil {
		return godot.Wrap(code, pollOp, c.cause)
	}
	return code
}

// pollDial applies the next connector report: RESOLVING → CONNECTING,
// CANT_RESOLVE or CANT_CONNECT (§1.6.1); CONNECTING → CONNECTED,
// CANT_CONNECT or TLS_HANDSHAKE_ERROR (§1.6.2), or the connect to the next
// address (§1.6.2.2), which a blocking Poll then waits for. At most one
// status change.
func (c *Client) pollDial() error {
	if c.dial.quick != nil {
		return c.pollQuick()
	}
	var ev dialEvent
	if c.blocking {
		ev = <-c.dial.ch
	} else {
		select {
		case ev = <-c.dial.ch:
		default:
			var ok bool
			if ev, ok = awaitReport(c, c.dial.ch); !ok { // the connector (a TLS handshake, a CONNECT)
				return nil
			}
		}
	}
	if c.aborted.Load() {
		if ev.st != nil {
			_ = ev.st.raw.Close()
		}
		return c.abortNow(pollOp)
	}
	switch {
	case ev.resolved:
		if ev.cands != nil {
			// §1.6.1.2: the goroutine has ended; this Poll starts the
			// connect to the first address that can start one.
			c.dial.cands = ev.cands
			if err := c.dial.startNext(); err != nil {
				c.release()
				return c.fail(StatusCantConnect, Failed, pollOp, err)
			}
		}
		c.setStatus(StatusConnecting)
		return nil
	case ev.st != nil:
		return c.connected(ev.st)
	case ev.next:
		return c.nextCandidate(ev.err)
	}
	switch ev.stage {
	case stageResolve:
		c.release()
		return c.fail(StatusCantResolve, ErrCantResolve, pollOp, ev.err)
	case stageTLS:
		c.release()
		return c.fail(StatusTLSHandshakeError, ErrCantConnect, pollOp, ev.err)
	default: // stageStart, stageTCP, stageProxy
		c.release()
		return c.fail(StatusCantConnect, ev.code, pollOp, ev.err)
	}
}

// connected takes the established stream: CONNECTING → CONNECTED.
func (c *Client) connected(st *stream) error {
	c.dial.cancel() // release the context; the goroutine has finished
	c.dial = nil
	c.st = st
	c.st.nb.spawn = c.spawn // Close joins the fallback's background read
	c.abortMu.Lock()
	c.abortDial, c.abortConn = nil, st
	c.abortMu.Unlock()
	if c.aborted.Load() { // Abort ran between the report and here
		return c.abortNow(pollOp)
	}
	c.setStatus(StatusConnected)
	c.watchIdle()
	return nil
}

// pollQuick is pollDial for a quick connect (quickdial_unix.go): it reads
// the outcome from the socket — waiting for it in blocking mode — and
// gives CONNECTED or CANT_CONNECT (§1.6.2).
func (c *Client) pollQuick() error {
	d := c.dial
	err := d.quickErr
	started := err == nil // a start error was traced (startQuickConnect)
	if err == nil {
		if c.blocking {
			err = d.quick.wait(d.hold)
		} else {
			var done bool
			if done, err = d.quick.check(); !done {
				if c.spin.Mark() {
					yieldCPU()
				}
				return nil
			}
		}
	}
	if c.aborted.Load() {
		if started {
			d.quick.connectDone(cmp.Or(err, ErrAborted))
		}
		return c.abortNow(pollOp)
	}
	var raw net.Conn
	if err == nil {
		raw, err = d.quick.conn()
	}
	if started {
		d.quick.connectDone(err)
	}
	if err != nil {
		return c.nextCandidate(err)
	}
	if p := d.quick.p; p.tls != nil || p.tunnel {
		// The CONNECT exchange and the TLS handshake run on the connector
		// goroutine, as after a dial of its own; CONNECTING goes on.
		d.quick = nil
		if !d.hold(raw) {
			_ = raw.Close()
			return c.abortNow(pollOp)
		}
		c.spawn(func() { d.setUpOne(raw, p) })
		return c.pollDial()
	}
	st, ev, _ := d.setUp(raw, d.quick.p) // plain TCP: nothing can fail
	if st == nil {
		c.release()
		return c.fail(StatusCantConnect, ErrCantConnect, pollOp, ev.err)
	}
	return c.connected(st)
}

// nextCandidate is CONNECTING after the connect to an address failed with
// err (§1.6.2.2): the connect to the next address that can start one takes
// over and the status stays CONNECTING; with no address left the status is
// CANT_CONNECT and the error ERR_CANT_CONNECT, and when addresses were left
// but none could start, the last start error (FAILED).
func (c *Client) nextCandidate(err error) error {
	d := c.dial
	if d.quick != nil {
		d.quick.close()
		d.quick = nil
	}
	if d.cands == nil || len(d.cands.addrs) == 0 {
		c.release()
		return c.fail(StatusCantConnect, ErrCantConnect, pollOp, err)
	}
	if err := d.startNext(); err != nil {
		c.release()
		return c.fail(StatusCantConnect, Failed, pollOp, err)
	}
	if c.blocking {
		return c.pollQuick() // a blocking Poll waits until the status can change
	}
	return nil
}

// pendingErr is the first thing Godot's poll() does while connected: its
// StreamPeerTCP looks at the socket, and a socket error (POLLERR: an RST)
// ends the connection there — before any byte still queued is read, and
// whatever the status (§1.6, §1.15.3). Bytes the client has buffered are
// bytes Godot would still have in the socket (its reads take only what a
// call returns), so they do not count either: every Poll looks, whatever is
// buffered, and a reset that arrived after the client read ahead fails the
// Poll as Godot's fails with those bytes unread. Under TLS the look is at
// the TCP socket below, as Godot's is. SO_ERROR also hands out a "soft"
// error (an ICMP report while retransmitting) that poll(2) does not flag;
// on a live connection there is none in practice.
func (c *Client) pendingErr() error {
	if c.rr == c.rw && c.peekSeesErr() {
		return nil // pollLive's look: the peek reports it, or looks (look)
	}
	return c.lookErr()
}

// lookErr asks the socket for a pending error now (pendingErr); none on a
// retired connection, which the port closed itself (§7 D2, see pollLive).
func (c *Client) lookErr() error {
	if c.st == nil || c.retired {
		return nil
	}
	if err := c.st.nb.PendingErr(); err != nil {
		return c.readErr(err)
	}
	return nil
}

// pollLive is the liveness check of CONNECTED and BODY (§1.6.3), the same
// in both modes: Godot's poll() looks at the socket first, so a Poll made
// after the peer's FIN arrived (nothing left to read) reports it. It never
// consumes data: bytes received stay buffered for the next response or the
// body read.
//
// Under TLS the check reads, as Godot's does, the next application-data
// record into the buffer when nothing is buffered (look), and nothing
// otherwise: buffered bytes are the plaintext mbedTLS would hold. In
// CONNECTED (and in BODY when nothing more belongs to the body) the check
// then looks at the TCP socket only (lookBelowTLS): one unsolicited record
// followed by a FIN is CONNECTED at the Poll that reads it and
// CONNECTION_ERROR at the next (§1.6.3.1).
//
// In BODY the end of the stream is left to the body read when the body
// still expects bytes — the read ends a read-until-close body, or a body
// cut short, with DISCONNECTED (§1.10.1.4, §7 D3) — and is CONNECTION_ERROR,
// as in Godot, when nothing more belongs to the body (Content-Length: 0, a
// HEAD response).
func (c *Client) pollLive() error {
	if c.retired {
		// §7 D2: the port closed the connection after the response; this is
		// what Godot reports once a server has closed a kept-alive one.
		return c.fail(StatusConnectionError, ErrConnectionError, pollOp, ErrNotReusable)
	}
	if c.rr == c.rw && c.rerr == nil && c.st != nil && !c.bodyReadDecides() {
		c.look()
	} else if c.rr < c.rw && c.rerr == nil && c.tlsIdle() {
		c.lookBelowTLS()
	}
	if c.rerr == nil || (c.rr < c.rw && !c.tlsIdle()) {
		return nil
	}
	if c.status == StatusBody && c.rerr == io.EOF && c.bodyExpectsBytes() {
		return nil // the body read ends the body (§7 D3)
	}
	cause := c.rerr
	if cause == io.EOF {
		cause = ErrPeerClosed
	}
	// Godot does not close() here (Poll closes the socket: socketGone).
	return c.fail(StatusConnectionError, ErrConnectionError, pollOp, cause)
}

// socketGone closes the socket once the liveness check has found it ended
// (a FIN with nothing before it, an RST or another socket error): Godot's
// StreamPeerTCP::poll closes its socket there (disconnect_from_host, §1.6),
// though its client does not close() — so the server sees the close at
// that Poll, not when the caller gets to Close. As in retire (dropSocket),
// the stream stays installed, closed, until Close (Connection returns it),
// and what was buffered from it goes with the socket. Under TLS, where Godot's TLS
// layer answers a close_notify with its own, the socket is closed without
// one, as Close does (§1.12). A conn given to SetConnection is the
// caller's: Godot checks its own socket, not that stream (§1.13.3).
func (c *Client) socketGone() {
	if c.st != nil && !c.st.installed && !c.retired {
		c.dropSocket()
	}
}

// tlsIdle reports whether the connection is TLS made by the client and
// no body bytes are being read (CONNECTED, or BODY with nothing more
// belonging to the body): the liveness check is then Godot's to the
// letter, whatever is buffered (lookBelowTLS). In a BODY that expects
// bytes the body read decides instead (COMPAT.md H15).
func (c *Client) tlsIdle() bool {
	return c.st != nil && c.st.tr != nil && (c.status == StatusConnected || !c.bodyExpectsBytes())
}

// lookBelowTLS is Godot's liveness check while mbedTLS holds plaintext not
// read yet (the buffered bytes: the rest of a record): its TLS poll reads
// nothing then (mbedtls_ssl_read of 0 bytes with data pending), and the
// outcome is the TCP socket's (StreamPeerTCP::poll, §1.6.3.1): a FIN with
// nothing queued before it — no further record, no close_notify — ends the
// connection, and the buffered bytes are never read; records still queued
// keep it alive (for good: nothing reads them until the next request). The
// records behind the buffered one are still in the socket, as in Godot's
// (recordCut, fill) — or in the bulk buffer below crypto/tls, which the
// look counts as the socket (nbTLSReader.Peek).
func (c *Client) lookBelowTLS() {
	switch state, err := c.st.tr.Peek(); state {
	case nbEOF:
		c.rerr = ErrTLSTruncated
	case nbError:
		c.rerr = c.readErr(err)
	}
}

// peekSeesErr reports whether pollLive's look will peek at a plain TCP
// socket: the peek hands out a socket error when nothing is queued before
// it, and when bytes are queued the look asks for the error behind them
// (look) — so pendingErr need not ask first (one system call fewer in an
// idle CONNECTED, the node's keep-alive check).
func (c *Client) peekSeesErr() bool {
	return c.st != nil && !c.retired && c.st.tr == nil && c.st.nb.sock != nil && !c.bodyReadDecides()
}

// bodyReadDecides reports whether the look can be left out: in BODY, over
// plain TCP, while the body expects bytes, pendingErr has already seen any
// socket error, and whatever else the look could find — bytes, nothing, a
// FIN — leaves the outcome to the body read (below). One system call fewer
// per Poll on the hot path.
func (c *Client) bodyReadDecides() bool {
	return c.status == StatusBody && c.st.tr == nil && c.st.nb.sock != nil && c.bodyExpectsBytes()
}

// bodyExpectsBytes reports whether the body of the current response still
// needs bytes from the stream: false only for a fixed-length body with
// nothing left to read (Content-Length: 0, HEAD).
func (c *Client) bodyExpectsBytes() bool {
	return c.body.framing != wire.FramingLength || c.body.left > 0
}

// peerGone reports, without waiting, whether the peer's FIN has arrived
// with nothing before it — bytes still unread in the socket keep it open,
// as they do for Godot's TCP poll: over plain TCP the buffered bytes (Godot
// would not have read them yet), under TLS the records below crypto/tls.
// Plaintext buffered under TLS does not: it is what mbedTLS would hold (an
// unsolicited record the liveness check read in CONNECTED), out of the
// socket, and Godot's TCP poll ends the connection whatever mbedTLS holds
// (§1.6.3.1, lookBelowTLS) — so the write fails (§1.6.4.1) instead of the
// request going out and that plaintext being read as its response.
func (c *Client) peerGone() bool {
	if c.st == nil || c.rerr != nil || (c.st.tr == nil && c.rr < c.rw) {
		return false
	}
	if c.st.tr == nil && c.blocking && c.handshakePending() {
		return false // SetConnection's *tls.Conn before its handshake: no read may run it (look)
	}
	var state nbState
	if c.st.tr != nil {
		state, _ = c.st.tr.Peek()
	} else {
		state, _ = c.st.nb.Peek()
	}
	return state == nbEOF
}

// pollRequesting sends the request, then reads the response head
// (§1.6.4). In blocking mode it returns once the head is parsed or failed.
func (c *Client) pollRequesting() error {
	if c.retired && !c.reqSent {
		// §7 D2: the port closed the connection after the last response;
		// Godot's write to a closed socket fails the same way (§1.6.4.1).
		c.release()
		return c.fail(StatusConnectionError, ErrConnectionError, pollOp, ErrNotReusable)
	}
	if !c.reqSent && !c.wpending && c.peerGone() {
		// §1.6, §1.6.4.1: Godot's poll lets the TCP socket update itself
		// first; a FIN with nothing queued closes it, and the write of the
		// request (or of its rest) fails: no byte of it leaves.
		cause := ErrPeerClosed
		if c.woff == 0 && !c.rb.started {
			cause = errUnsent // none of this request had left either
		}
		c.release()
		return c.fail(StatusConnectionError, ErrConnectionError, pollOp, cause)
	}
	if c.reqSent && c.blocking {
		// The request was written by an earlier, non-blocking Poll (the
		// mode changed between frames): Godot's poll looks at the socket
		// before its blocking read of the head, and a pending error (an
		// RST queued behind the response) ends the connection there, the
		// bytes unread (§1.6, §1.15.1) — as the non-blocking path below
		// finds it once bytes have come.
		if err := c.lookErr(); err != nil {
			return c.failRequesting(err)
		}
	}
	if !c.reqSent {
		done, err := c.send()
		if !done || err == errReentered {
			return nil
		}
		if err != nil {
			return c.failRequesting(err)
		}
	}
	looked := false // the one look of this Poll (below)
	for {
		if c.trace != nil && c.trace.firstByte != nil && len(c.buffered()) > 0 {
			c.trace.firstByte()
			c.trace.firstByte = nil
		}
		n, err := c.parser.Parse(c.buffered(), &c.next)
		if err == nil {
			c.rr += n
			c.applyHead()
			return nil
		}
		if err != wire.ErrNeedMore {
			return c.failRequesting(err)
		}
		if c.rerr != nil {
			cause := c.rerr
			if cause == io.EOF {
				cause = ErrPeerClosed
			}
			return c.failRequesting(cause)
		}
		if !c.fill(c.blocking) && !c.blocking {
			return nil
		}
		// Non-blocking, bytes of the head have arrived since the last Poll:
		// Godot's poll would have met an RST queued behind them first
		// (§1.6). Looking once they are here, not on every Poll while
		// nothing comes, spares a spinning caller a system call per Poll;
		// it is Godot's outcome had the bytes come a moment before the
		// reset. One look per Poll, as Godot's: under TLS each fill takes
		// one record, and a head sent in 1-byte records would otherwise
		// cost a system call per byte (TestHeadOneByteRecordsOneLook); a
		// reset that comes later in this Poll fails a read of it, with
		// the same CONNECTION_ERROR. Blocking mode reads the head within
		// the Poll that wrote the request, as Godot's does after its one
		// look — and a pending error fails that write.
		if !c.blocking && !looked {
			looked = true
			if err := c.lookErr(); err != nil {
				return c.failRequesting(err) // as a failed read in REQUESTING (§1.6.4)
			}
		}
	}
}

// failRequesting ends the request in REQUESTING with CONNECTION_ERROR
// (§1.6.4), noting whether bytes of a response had arrived (replied):
// read, or waiting in the socket — a server that answered before it read
// the whole request body, then closed and so reset the connection, fails
// the write with its answer unread.
func (c *Client) failRequesting(cause error) error {
	c.replied = len(c.buffered()) > 0 || c.responseQueued()
	c.release()
	return c.fail(StatusConnectionError, ErrConnectionError, pollOp, cause)
}

// responseQueued reports, without waiting, whether bytes from the server
// wait unread in the socket (a peek). Under TLS they must be application
// data: the records are read (into the buffer, which the failure drops),
// so that a close_notify — which a TLS server's close sends — an alert or
// a session ticket is not taken for an answer. The start of a record whose
// rest never came (the reset dropped it) gives no data either: crypto/tls
// holds it, and it is no answer, as for net/http, which counts decrypted
// bytes; bytes that reach the socket while the records are read count.
// Where the socket cannot be peeked (the fallback of nbread_other.go) it
// says no.
func (c *Client) responseQueued() bool {
	if c.st == nil {
		return false
	}
	var state nbState
	switch {
	case c.st.tr != nil:
		c.ensureRoom(maxRecordPlaintext)
		n, err := c.st.tr.TryReadRecord(c.rbuf[c.rw:])
		c.rw += n
		if n > 0 || err != errWouldBlock {
			return n > 0 // data, or the close_notify, the end or an error first
		}
		state, _ = c.st.tr.Peek()
	case c.st.nb.sock != nil:
		state, _ = c.st.nb.Peek()
	default:
		return false
	}
	return state == nbData
}

// applyHead makes the parsed head the current response and freezes its
// framing (§1.8, §1.9): BODY, or CONNECTED when there is no body — also
// after an ambiguous head, whose connection is then retired (§7 D2).
func (c *Client) applyHead() {
	c.head, c.next = c.next, c.head
	h := &c.head
	c.chunked = h.Chunked
	c.consumed, c.header = false, nil
	c.body.start(h.Framing, h.ContentLength)
	if h.Framing != wire.FramingNone {
		c.setStatus(StatusBody)
		return
	}
	c.body.done = true
	c.setStatus(StatusConnected)
	c.restBuf()
	if h.Ambiguous {
		c.retire()
	}
	c.watchIdle()
}
