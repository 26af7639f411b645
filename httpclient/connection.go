package httpclient

import (
	"crypto/tls"
	"errors"
	"net"
	"reflect"

	"github.com/gdhttp/gdhttp/godot"
)

// ErrNotReusable is the cause of CONNECTION_ERROR on the connection the
// client closed itself after a response whose framing was ambiguous (§7
// D2, wire.Head.Ambiguous): the response was delivered exactly as Godot
// delivers it, then the connection was closed instead of being reused, so
// the next Poll in CONNECTED — or the Poll that would send a new request —
// fails as it does in Godot once a server has closed a kept-alive
// connection (§1.6.3, §1.6.4.1).
var ErrNotReusable = errors.New("httpclient: connection closed after a response with ambiguous framing")

// retire closes the connection at the end of a response whose framing was
// ambiguous (§7 D2) without changing the status: Godot's status path is
// kept up to the end of the response (CONNECTED), and what follows is what
// a Godot user sees when the server closes a kept-alive connection. The
// bytes buffered after the response (the ones another parser would frame
// differently) are dropped; the stream stays installed, closed, until Close
// (Connection still returns it, as Godot's get_connection() would).
func (c *Client) retire() {
	c.dropSocket()
	c.retired = true
}

// dropSocket closes the connection's socket, the stream staying installed,
// closed (retire, socketGone): no Abort reaches it any more, the
// background I/O is joined, and what was buffered from it — here and in
// the nbConn — goes with it.
func (c *Client) dropSocket() {
	c.abortMu.Lock()
	c.abortConn = nil
	c.abortMu.Unlock()
	if c.st != nil {
		_ = c.st.raw.Close()
	}
	c.wg.Wait()
	c.resetIO()
	if c.st != nil {
		c.st.nb.Forget()
	}
}

var (
	errNilConn = errors.New("httpclient: connection is nil")
	errNotTLS  = errors.New("httpclient: the client has TLS options: the connection must be a *tls.Conn")
)

// SetConnection installs conn as the client's connection, as Godot's
// set_connection() does (§1.13): nil, or a conn that is not a *tls.Conn
// while the client has TLS options (from the last ConnectToHost), is
// refused with ErrInvalidParameter and nothing changes (Godot prints and
// ignores); the current connection again is a no-op. Otherwise the client
// is closed (status DISCONNECTED, the response cleared), conn is installed
// and the status becomes CONNECTED. The client owns conn from now on: Close
// and Abort close it (a *tls.Conn without close_notify, as Godot's close()).
//
// As in Godot the target of the last ConnectToHost is kept, so the automatic
// Host header is built from it — "Host: :-1" on a client that never
// connected (§1.13.2): send your own Host header. TLS options, proxy
// settings and blocking mode apply as for a connection the client made; a
// *tls.Conn's handshake is left to crypto/tls.
//
// Unlike Godot, which reports CONNECTION_ERROR at once for a plain
// installed stream (§1.13.3), the liveness check (§1.6.3) looks at conn
// itself: a zero-wait peek for a syscall.Conn, else one background read at
// a time (a FIN is then seen a Poll later). Over an installed *tls.Conn a
// TCP close without close_notify ends like a close_notify: crypto/tls
// reports io.EOF for both (§1.15.4 holds for connections the client made).
//
// Godot: HTTPClient.set_connection()
func (c *Client) SetConnection(conn net.Conn) error {
	if conn == nil {
		return godot.Wrap(ErrInvalidParameter, "set_connection", errNilConn)
	}
	under := conn
	if h, ok := conn.(*heldConn); ok {
		if h.c == c && h.st == c.st && c.st != nil {
			return nil // this client's own connection (Connection)
		}
		under = h.Conn // another client's: its reads still come through h
	}
	tc, isTLS := under.(*tls.Conn)
	if c.tlsOpts != nil && !isTLS {
		return godot.Wrap(ErrInvalidParameter, "set_connection", errNotTLS)
	}
	if c.st != nil && (sameConn(c.st.conn, conn) || sameConn(c.givenConn(), conn)) {
		return nil
	}
	c.Close()
	// The conn is read through an nbConn: without waiting on a TCP socket,
	// by a background read otherwise (a *tls.Conn, net.Pipe, a wrapper).
	st := &stream{raw: conn, conn: conn, nb: newNBConn(conn, nil, c.spawn), installed: true}
	st.rd = st.nb
	if isTLS {
		// Closing the transport ends the TLS conn without a close_notify
		// write (which could block), as Godot's close() (§1.12).
		st.raw = tc.NetConn()
		if !tc.ConnectionState().HandshakeComplete {
			c.handshaking = tc
		}
	}
	c.st = st
	c.abortMu.Lock()
	c.abortConn = st
	c.abortMu.Unlock()
	c.setStatus(StatusConnected)
	return nil
}

// Connection returns the connection requests and responses go through: the
// TCP connection, or the *tls.Conn over it (through the proxy tunnel, if
// any), or the conn given to SetConnection. It is nil before a connect
// attempt succeeded — Godot returns its TCP stream, then its TLS stream,
// already while connecting (§1.13.4, §1.6.2.6): here the connection is made
// on another goroutine and exists only once it is established — and after
// Close or a failure that closed the connection. After a CONNECTION_ERROR
// found by Poll, and after the client retired the connection (§7 D2), it
// still returns the (closed) conn, as Godot keeps its stream until close().
// Reading from or writing to it desynchronises the client, as in Godot.
//
// A read from the conn gets the bytes that come next on the connection —
// after a 101 response, the upgraded protocol's; after a CONNECT, the
// tunnelled one's — as from Godot's stream, which its client never reads
// past a head or a body (§1.6.4.3, §1.10.1). This client reads ahead, so
// when bytes past what it has consumed have already arrived (with the head,
// or behind the body) the conn returned is a wrapper whose Read hands those
// bytes out first, taking them from the client as Godot's stream would,
// then reads the connection; its NetConn method returns the connection
// itself. Otherwise the connection itself is returned. Where the socket
// cannot be peeked (Windows, Plan 9, wasm) the client reads an idle
// connection in the background (nbConn.Watch); Connection stops that, and
// what that read had received comes first in the same way.
//
// Godot: HTTPClient.get_connection()
func (c *Client) Connection() net.Conn {
	if c.st == nil {
		return nil
	}
	c.st.nb.Unwatch()
	conn := c.st.conn
	if sc, ok := conn.(interface{ tcpConn() net.Conn }); ok {
		conn = sc.tcpConn() // a quick connect's socket, as a *net.TCPConn
	}
	if c.rr < c.rw || (c.st.tr == nil && c.st.nb.Holds()) {
		return &heldConn{Conn: conn, c: c, st: c.st}
	}
	return conn
}

// heldConn is the connection Connection gives out while the client holds
// bytes received from it that it has not consumed: Read hands them out
// first — the client's read buffer, then (plain connections) what its
// nbConn holds — and then reads the connection. The bytes are taken from
// the client when read, not when Connection is called, so a caller that
// only looks at the conn leaves them to the client.
type heldConn struct {
	net.Conn
	c  *Client
	st *stream // the client's stream when Connection was called
}

// Read hands out the bytes the client held, then reads the connection.
func (h *heldConn) Read(p []byte) (int, error) {
	if c := h.c; c.st == h.st && c.rr < c.rw {
		n := copy(p, c.rbuf[c.rr:c.rw])
		c.rr += n
		return n, nil
	}
	if h.st.tr == nil {
		if n, held, err := h.st.nb.TakeHeld(p); held {
			return n, err
		}
	}
	return h.Conn.Read(p)
}

// NetConn returns the connection under the held bytes.
func (h *heldConn) NetConn() net.Conn { return h.Conn }

// givenConn is the *net.TCPConn Connection gave out over a quick
// connect's socket, or nil.
func (c *Client) givenConn() net.Conn {
	if sc, ok := c.st.conn.(interface{ givenTCP() net.Conn }); ok {
		return sc.givenTCP()
	}
	return nil
}

// sameConn reports whether a and b are the same conn without the panic of
// == on two values of one non-comparable type.
func sameConn(a, b net.Conn) bool {
	ta := reflect.TypeOf(a)
	return ta == reflect.TypeOf(b) && ta.Comparable() && a == b
}

// handshakePending reports whether a *tls.Conn given to SetConnection is
// still before the end of its handshake, which the liveness check leaves to
// the request's write or the response's read in blocking mode.
func (c *Client) handshakePending() bool {
	if c.handshaking == nil {
		return false
	}
	if c.handshaking.ConnectionState().HandshakeComplete {
		c.handshaking = nil
		return false
	}
	return true
}
