package httpclient

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/internal/spin"
	"github.com/gdhttp/gdhttp/wire"
)

// Limits bounds what a server can make the client hold (§7 D1). The zero
// value means the defaults (1 MiB of response head).
type Limits = wire.Limits

// QueryField is one entry of a Godot Dictionary given to
// QueryStringFromDict, in insertion order.
type QueryField = wire.QueryField

// Defaults and bounds (§1.3, §1.5.7, §1.6.2.1).
const (
	// DefaultReadChunkSize is the default of ReadChunkSize (§1.3).
	DefaultReadChunkSize = 65536
	// MinReadChunkSize and MaxReadChunkSize bound SetReadChunkSize (§1.3).
	MinReadChunkSize = 256
	MaxReadChunkSize = 1 << 24
	// DefaultConnectTimeout bounds each TCP connect attempt, one per
	// resolved address (Godot's network/limits/tcp/connect_timeout_seconds,
	// §1.6.2.1).
	DefaultConnectTimeout = 30 * time.Second
	// PortHTTP and PortHTTPS are the ports used when ConnectToHost is given
	// a negative port (§1.5.7).
	PortHTTP  = 80
	PortHTTPS = 443
	// HostMinLen is the shortest host ConnectToHost accepts, in characters
	// (§1.5.6).
	HostMinLen = 4
)

// Client is Godot's HTTPClient (the TCP/TLS implementation, HTTPClientTCP):
// at most one connection and one request at a time, driven by Poll. See the
// package documentation for the status machine, the I/O model and the
// concurrency rules: all methods but Abort and BytesSent belong to one
// goroutine at a time.
//
// Godot: HTTPClient
type Client struct {
	// Settings; they survive Close (§1.12).
	blocking       bool
	strict         bool
	readChunkSize  int
	limits         wire.Limits
	userAgent      string
	connectTimeout time.Duration
	httpProxyHost  string
	httpProxyPort  int
	httpsProxyHost string
	httpsProxyPort int
	httpProxyAuth  string // Proxy-Authorization value (proxy.go), "" for none
	bracketIPv6    bool   // the Transport's: wire.Request.BracketIPv6
	httpsProxyAuth string

	// spin marks the reads and connect checks that found nothing: only a
	// caller that comes back at once (a spin loop) gets the CPU yielded.
	spin spin.Detector
	took bool // the current call (Poll, a body read) has bytes at hand (awaitSocket)

	// The target of the last ConnectToHost (Godot: conn_host, conn_port,
	// tls_options); they survive Close.
	connHost string
	connPort int
	tlsOpts  *TLSOptions

	status  Status
	lastErr error // the failure that set a terminal status (LastError)
	cause   error // its cause

	// onStatus, when set (tests), sees every status change.
	onStatus func(from, to Status)
	// lookup resolves a host name and dial opens a connection; tests may
	// replace them (nil: Go's resolver and net.Dialer).
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	dialFn func(ctx context.Context, network, addr string) (net.Conn, error)
	// dialTrace is the Transport's httptrace hooks for the connect (DNS,
	// TLS handshake), or nil.
	dialTrace *httptrace.ClientTrace

	dial *connector // the connect attempt in progress, or nil
	st   *stream    // the established connection, or nil
	// retired: the port closed st after a response whose framing was
	// ambiguous (§7 D2); the status is still Godot's.
	retired bool
	// handshaking is a *tls.Conn given to SetConnection whose handshake
	// has not completed yet: blocking mode's liveness check leaves it to
	// the request's write.
	handshaking *tls.Conn

	// Read side: bytes received and not consumed are rbuf[rr:rw]; rerr is
	// the end of the stream (io.EOF) or a read error, met after them.
	rbuf    []byte
	rr, rw  int
	rerr    error
	stray   bool       // the last liveness look in CONNECTED found bytes queued — under TLS, a record not whole yet (Reusable)
	rpool   *[]byte    // rbuf's array from a free list (readBufs or bulkBufs), or nil
	bufHint int        // the free lists' slot to look at first
	pipe    clientPipe // WriteResponseBodyChunkTo's pipe (splice_linux.go), closed with the connection
	// readWaiting's read callback, built once, and whether the read buffer
	// it gives back while it waits was the bulk buffer.
	readOrRestF func(fd uintptr) bool
	waitBulk    bool

	// Write side: the request bytes still to write are req[woff:]
	// (req[wpre:wpre+wpay] is body data, counted by sent); a streamed body
	// (rb) refills req as it is written; reqSent once all are written.
	req        []byte
	woff       int
	wpre, wpay int
	rb         reqBody
	sent       atomic.Int64 // body bytes written (BytesSent)
	wreq       wire.Request
	reqSent    bool
	replied    bool     // a failure in REQUESTING came after bytes of the response (Transport: no retry)
	wpending   bool     // a background write of req is outstanding
	wch        chan int // a background write's end: bytes written, its error in werr
	werr       error    // set by the background write before it sends on wch

	// trace is the Transport's httptrace hooks for this request, or nil.
	trace *reqTrace

	// Response state (Godot: response_num, response_headers, body_size,
	// chunked…).
	parser   wire.HeadParser
	head     wire.Head // the current response's head
	next     wire.Head // the head being parsed
	chunked  bool      // survives Close, like Godot's flag (§1.10.5); head is reset
	consumed bool      // ResponseHeaders or ResponseHeadersAsDictionary was called
	header   http.Header
	body     bodyState

	// Abort support: the only state another goroutine touches.
	aborted   atomic.Bool
	abortMu   sync.Mutex
	abortDial *connector
	abortConn *stream

	wg   sync.WaitGroup // every goroutine this client started
	live atomic.Int32   // how many of them are running (tests check Close joins them)
}

// New returns a client in STATUS_DISCONNECTED with Godot's defaults:
// non-blocking, read chunk size 65536, no proxies, lenient parsing.
//
// Godot: HTTPClient.new()
func New() *Client {
	c := &Client{
		readChunkSize:  DefaultReadChunkSize,
		connectTimeout: DefaultConnectTimeout,
		httpProxyPort:  -1,
		httpsProxyPort: -1,
		connPort:       -1,
		wch:            make(chan int, 1),
	}
	c.body.dec.ReportLastChunk = true // the Godot path stops there (§1.10.2.4)
	c.head.Reset()
	return c
}

// setStatus is the only place the status changes. §1.19
func (c *Client) setStatus(s Status) {
	if s != c.status && c.onStatus != nil {
		c.onStatus(c.status, s)
	}
	c.status = s
}

// fail records a failure, moves to the terminal status s and returns the
// error Poll (or the caller) reports: code wrapping cause.
func (c *Client) fail(s Status, code Error, op string, cause error) error {
	err := godot.Wrap(code, op, cause)
	c.lastErr, c.cause = err, cause
	c.setStatus(s)
	return err
}

// Status returns the current status.
//
// Godot: HTTPClient.get_status()
func (c *Client) Status() Status { return c.status }

// LastError returns the error that put the client in its current failure
// status (CANT_RESOLVE, CANT_CONNECT, CONNECTION_ERROR, TLS_HANDSHAKE_ERROR):
// the Godot code that Poll (or the body read) reported, wrapping the real
// cause (a *net.OpError, a crypto/tls or x509 error, a *wire.HeadError, a
// *chunked.Error, a *ProxyError, ErrPeerClosed…). It is nil in every other
// status. Godot has no equivalent: it only prints the cause.
func (c *Client) LastError() error {
	if !c.status.Terminal() {
		return nil
	}
	return c.lastErr
}

// ConnectToHost starts connecting to host:port and returns at once; Poll
// drives the connection. It first closes any current connection (§1.5.1),
// so even a refused call leaves the client DISCONNECTED.
//
// A case-insensitive "http://" prefix is removed and turns TLS off even when
// tls is given; "https://" is removed and turns it on (TLSClient(nil, "")
// when tls is nil); nothing else is removed (§1.5.3). A negative port means
// 443 with TLS, else 80 (§1.5.7). An IP literal as Godot reads it (IPv6
// without brackets, "127.000.000.001": wire.IsValidIPAddress, §1.5.9) is
// connected to at once, status CONNECTING; a name is resolved first, status
// RESOLVING (§1.5.10–11) — each time, by this client alone: there is no
// engine-wide resolver with Godot's cache, 256-lookup queue and single
// thread (COMPAT H19). The Host header and the TLS name keep the host text
// as given.
//
// The port is never read from host: pass a URL's Hostname() and its port
// apart (an httptest server's URL included). "localhost:8080" goes to the
// resolver as a name, and "127.0.0.1:8080" is IPv6 text to Godot, connected
// to as [::] on port, so neither reaches port 8080.
//
// Errors (status DISCONNECTED unless noted): ErrInvalidParameter for
// server-mode TLSOptions (§1.5.4), a host shorter than 4 characters after
// the prefix such as "::1" (§1.5.6), or an IP literal with a port outside
// 1…65535 or an address Godot leaves undefined such as "1::2::3" (status
// CANT_CONNECT, §1.5.10, COMPAT.md); Failed, with the cause, when the TCP
// connect to an IP literal cannot start (status CANT_CONNECT; where the
// platform has no non-blocking connect the first Poll reports it instead,
// COMPAT.md H14).
//
// Godot: HTTPClient.connect_to_host()
func (c *Client) ConnectToHost(host string, port int, tls *TLSOptions) error {
	c.Close()
	c.connHost, c.connPort, c.tlsOpts = host, port, tls
	switch {
	case wire.HasPrefixFold(host, "http://"): // §1.5.3; ASCII, so len(prefix) bytes matched
		c.connHost, c.tlsOpts = host[len("http://"):], nil
	case wire.HasPrefixFold(host, "https://"):
		c.connHost = host[len("https://"):]
		if c.tlsOpts == nil {
			c.tlsOpts = TLSClient(nil, "")
		}
	}
	if c.tlsOpts.IsServer() {
		return godot.Wrap(ErrInvalidParameter, "connect_to_host", errServerTLS)
	}
	if utf8.RuneCountInString(c.connHost) < HostMinLen {
		return godot.Wrap(ErrInvalidParameter, "connect_to_host", errShortHost)
	}
	if c.connPort < 0 {
		c.connPort = PortHTTP
		if c.tlsOpts != nil {
			c.connPort = PortHTTPS
		}
	}
	p := dialParams{
		serverHost: c.connHost, serverPort: c.connPort,
		connHost: c.connHost, connPort: c.connPort,
		tls: c.tlsOpts, timeout: c.connectTimeout, userAgent: c.userAgent,
		limits: c.limits, strict: c.strict, lookup: c.lookup, dial: c.dialFn,
		trace: c.dialTrace,
	}
	switch {
	case c.tlsOpts != nil && c.httpsProxyPort != -1:
		p.serverHost, p.serverPort, p.tunnel = c.httpsProxyHost, c.httpsProxyPort, true
		p.proxyAuth = c.httpsProxyAuth
	case c.tlsOpts == nil && c.httpProxyPort != -1:
		p.serverHost, p.serverPort = c.httpProxyHost, c.httpProxyPort
		p.httpAuth = c.httpProxyAuth
	}
	if p.lookup == nil {
		p.lookup = lookupHost
	}
	if addr, literal, valid := ipLiteral(p.serverHost); literal {
		if !valid {
			return c.fail(StatusCantConnect, ErrInvalidParameter, "connect_to_host", errBadLiteral)
		}
		if !validPort(p.serverPort) {
			err := c.fail(StatusCantConnect, ErrInvalidParameter, "connect_to_host", errBadPort)
			return err
		}
		p.literal = addr
		c.startDial(p)
		if c.dial.quick != nil && c.dial.quickErr != nil {
			// §1.5.10: the connect could not even start (no route, no
			// socket): Godot returns FAILED, status CANT_CONNECT.
			err := c.dial.quickErr
			c.release()
			return c.fail(StatusCantConnect, Failed, "connect_to_host", err)
		}
		c.setStatus(StatusConnecting)
		return nil
	}
	c.startDial(p)
	c.setStatus(StatusResolving)
	return nil
}

var (
	errServerTLS    = errors.New("httpclient: TLSOptions are in server mode")
	errShortHost    = errors.New("httpclient: host shorter than 4 characters")
	errBadPort      = errors.New("httpclient: port must be between 1 and 65535")
	errBadLiteral   = errors.New("httpclient: IP literal whose address Godot leaves undefined")
	errNoBody       = errors.New("httpclient: no response body is being read")
	errBadChunkSize = errors.New("httpclient: read chunk size must be between 256 and 16777216")
)

// notConnectedError is the cause of a request refused because the status is
// not CONNECTED (§1.7.3; Godot prints "Condition status != STATUS_CONNECTED"):
// it names the status and what the caller has to do first.
type notConnectedError struct{ status Status }

func (e notConnectedError) Error() string {
	s := "httpclient: status is " + e.status.String() + ", not STATUS_CONNECTED: "
	switch e.status {
	case StatusDisconnected:
		return s + "ConnectToHost (or SetConnection) first"
	case StatusResolving, StatusConnecting:
		return s + "Poll until the connection is made"
	case StatusRequesting:
		return s + "Poll until the response to the last request has arrived"
	case StatusBody:
		return s + "read the last response's body to its end first (BodyReader until io.EOF)"
	}
	return s + "the connection failed (LastError says why); ConnectToHost again"
}

// ipLiteral reports whether host is an IP literal as Godot's
// String.is_valid_ip_address decides it, and the address Godot's
// IPAddress(String) makes of it (§1.5.9–10, issue 7 rule 6): "127.000.000.001"
// and "+10.0.0.1" are literals, connected to without DNS; a bracketed or
// zoned IPv6 address is not. valid is false for a literal whose address
// Godot's parser leaves undefined (it writes past its arrays, e.g. "1::2::3"):
// the connect cannot start.
func ipLiteral(host string) (addr netip.Addr, literal, valid bool) {
	if !wire.IsValidIPAddress(host) {
		return netip.Addr{}, false, false
	}
	addr, valid = wire.ParseIPAddress(host)
	return addr, true, valid
}

func validPort(p int) bool { return p >= 1 && p <= 65535 }

// Request sends a request with a string body (UTF-8 bytes; Content-Length is
// the byte length, §1.7). It is RequestRaw with []byte(body); a non-empty
// body costs one copy.
//
// Godot: HTTPClient.request()
func (c *Client) Request(method Method, url string, headers []string, body string) error {
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return c.RequestRaw(method, url, headers, b)
}

// RequestRaw prepares a request on the connection; nothing is sent until
// Poll (§1.7). The request is validated first, in Godot's order, with the
// port's additions (wire.ValidateRequest): a bad method, a URL of the wrong
// form, a malformed header, a CR, LF or NUL anywhere in the head (§7 D2) or,
// in strict mode, a header name that is not a token all fail with
// ErrInvalidParameter and nothing is sent; so does a status other than
// CONNECTED (§1.7.3). The head is written into a buffer the client reuses:
// no allocation beyond the caller's arguments. The status becomes
// REQUESTING. The previous response's code and headers stay readable until
// the new head is parsed (§1.7.13). headers and body are not retained after
// the call.
//
// Godot: HTTPClient.request_raw()
func (c *Client) RequestRaw(method Method, url string, headers []string, body []byte) error {
	return c.request(method, url, headers, body, 0)
}

// request is RequestRaw and RequestStream: body, or a streamed body of
// stream bytes (wire.Request.StreamLength) that RequestStream attaches.
func (c *Client) request(method Method, url string, headers []string, body []byte, stream int64) error {
	c.wreq = wire.Request{
		Method: method, URL: url, Headers: headers, Body: body,
		Host: c.connHost, Port: c.connPort, TLS: c.tlsOpts != nil,
		HTTPProxy: c.tlsOpts == nil && c.httpProxyPort != -1, BracketIPv6: c.bracketIPv6,
		UserAgent: c.userAgent, StreamLength: stream,
	}
	err := wire.ValidateRequest(&c.wreq, c.strict)
	if err == nil && c.status != StatusConnected {
		err = godot.Wrap(ErrInvalidParameter, "request", notConnectedError{c.status})
	}
	if err == nil {
		c.req = c.appendProxyAuth(wire.AppendRequestHead(c.req[:0], &c.wreq), headers)
		c.req = append(c.req, body...)
	}
	c.wreq = wire.Request{} // keep no reference to the caller's data
	if err != nil {
		return err
	}
	c.reqSent, c.stray, c.replied = false, false, false
	c.woff, c.wpre, c.wpay, c.rb = 0, len(c.req)-len(body), len(body), reqBody{}
	c.sent.Store(0)
	c.body.start(wire.FramingNone, 0)
	c.parser.Strict, c.parser.Limits, c.parser.HeadRequest = c.strict, c.limits, method == MethodHead
	c.parser.Reset()
	c.setStatus(StatusRequesting)
	return nil
}

// HasResponse reports whether the last response head had header lines that
// were not consumed yet by ResponseHeaders or ResponseHeadersAsDictionary
// (§1.11.1): a head with only a status line gives false.
//
// Godot: HTTPClient.has_response()
func (c *Client) HasResponse() bool { return !c.consumed && len(c.head.Headers) > 0 }

// IsResponseChunked reports whether the last response said exactly
// "Transfer-Encoding: chunked" (§1.8.3). Like Godot's getter it keeps its
// value after Close (§1.10.5).
//
// Godot: HTTPClient.is_response_chunked()
func (c *Client) IsResponseChunked() bool { return c.chunked }

// ResponseCode returns the last response's status code (§1.8.4): 200 when
// the first line did not start with "HTTP", 0 initially and after Close.
// Request does not reset it (§1.7.13).
//
// Godot: HTTPClient.get_response_code()
func (c *Client) ResponseCode() int { return c.head.Code }

// ResponseHeaders returns the last response's header lines as Godot stores
// them (§1.8.5: stripped lines, in order, duplicates kept) and, like Godot,
// consumes them: a second call returns nil and HasResponse becomes false
// (§1.11.3). The slice is the caller's. Header and RawHeaders do not consume.
//
// Godot: HTTPClient.get_response_headers()
func (c *Client) ResponseHeaders() []string {
	if c.consumed || len(c.head.Headers) == 0 {
		return nil
	}
	c.consumed = true
	return append([]string(nil), c.head.Headers...)
}

// ResponseHeadersAsDictionary returns the header lines as Godot's
// dictionary (§1.11.4, wire.HeadersAsDictionary: key before the first ':'
// and value after it, both stripped, case kept, the last duplicate wins,
// lines without ':' skipped) and consumes them like ResponseHeaders. It
// returns an empty map when there is nothing to return.
//
// Godot: HTTPClient.get_response_headers_as_dictionary()
func (c *Client) ResponseHeadersAsDictionary() map[string]string {
	if c.consumed || len(c.head.Headers) == 0 {
		return map[string]string{}
	}
	c.consumed = true
	return wire.HeadersAsDictionary(c.head.Headers)
}

// RawHeaders returns the last response's header lines without consuming
// them. The slice belongs to the client and stays valid until the next
// response head is parsed or Close; do not modify it.
func (c *Client) RawHeaders() []string { return c.head.Headers }

// Header returns the last response's headers as an http.Header (canonical
// keys, every value kept in order, lines without ':' skipped) without
// consuming them. The map is built once per response, belongs to the client
// and stays valid until the next response head is parsed or Close.
func (c *Client) Header() http.Header {
	if c.header == nil {
		c.header = wire.HTTPHeader(c.head.Headers)
	}
	return c.header
}

// ResponseBodyLength returns the last response's Content-Length (64-bit):
// 0 for a HEAD request, −1 when there is none (chunked without a length,
// read until close, no body), initially and after Close (§1.11.5).
//
// Godot: HTTPClient.get_response_body_length()
func (c *Client) ResponseBodyLength() int64 { return c.head.ContentLength }

// KeepAlive reports whether the connection may carry another request after
// the current response: false when the response said "Connection: close"
// (§1.8.3), when its framing was ambiguous (§7 D2: the client closes the
// connection at the end of the response, the status staying Godot's, so
// the next Poll in CONNECTED gives CONNECTION_ERROR), before the first
// response, and when there is no connection. Godot's client does not act
// on "Connection: close" (§1.10.3); it is information for the caller.
func (c *Client) KeepAlive() bool {
	if c.st == nil || c.retired {
		return false
	}
	return c.head.KeepAlive && !c.head.Ambiguous
}

// Reusable reports whether the connection can carry a new request now: the
// status is CONNECTED; nothing has arrived that no request asked for — no
// byte past the last response's end, neither in the client's buffer nor
// queued in the socket (under TLS: no application data, nor a record not
// whole yet; a session ticket, a KeyUpdate or a warning alert, which the
// look reads and crypto/tls takes in passing, is none); and, when a request
// was made on the connection, its response was a final one (code 200 or
// above) read to its end, framed (a length or chunks; 204 and 304 have no
// body) and kept alive: by Godot's test (KeepAlive) and by RFC 9112 §9.3
// (no "close" anywhere in Connection, HTTP/1.0 only with "keep-alive"): a
// server that said it closes would close under the next request.
// The socket is as the last Poll saw it (its liveness check looks without
// waiting and without consuming, §1.6.3): ask right after a Poll, which
// also reports a close or an error first.
//
// Godot's client writes the next request on whatever connection the caller
// keeps, and reads stray bytes as its response. The port's own connection
// reuse (Transport, the node's SetKeepAlive) asks this first instead: bytes
// sent before the request was made would be delivered as its response
// (§7 D2, response desync; net/http's "unsolicited response").
func (c *Client) Reusable() bool {
	if c.status != StatusConnected || c.retired || c.rr < c.rw {
		return false // (retired: the port closed it after the response, §7 D2)
	}
	if c.reqSent && !(c.body.done && c.endKnown() && c.KeepAlive() && c.head.Persistent) {
		return false
	}
	if c.st.tr != nil && c.st.tr.held && c.rerr == nil {
		// A read sized to the body's end can leave the rest of its record
		// in crypto/tls, where neither the buffer nor the socket shows it;
		// the read may also start a record that has not all arrived (look).
		c.tryTLS()
		if c.rr < c.rw || c.rerr != nil || c.st.tr.partial() {
			return false
		}
	}
	return !c.stray
}

// PartialResponse reports whether the last request failed in REQUESTING
// (CONNECTION_ERROR) after bytes of its response had arrived: the server
// had taken the request, so sending it again could repeat what it did.
// Under TLS they are application data: a close_notify or an alert alone,
// which a server closing the connection sends, is no response.
// net/http retries a request on a reused connection only when nothing of
// the response came; the Transport and the node's SetKeepAlive do the same.
func (c *Client) PartialResponse() bool { return c.replied }

// endKnown reports whether the last response ended where the server meant
// it to: a final response (a 1xx taken as final, §1.8.7, leaves the real one
// in the socket) with a body framed by a length or chunks, or one that has
// no body by definition (204, 304; a HEAD response has length 0). Godot
// reads a head without framing as a response without a body (§1.9), and a
// body the server sends anyway stays in the socket.
func (c *Client) endKnown() bool {
	code := c.head.Code
	return code >= 200 && (c.head.Framing != wire.FramingNone || code == 204 || code == 304)
}

// BodyComplete reports whether the current response's body was read to its
// end: all Content-Length bytes, the chunked terminator and trailer, or a
// clean close for a read-until-close body (§7 D3). It is true for a response
// without a body and false while the body is being read, after a body cut
// short (the status is then DISCONNECTED, as in Godot, §1.10.1.4 and
// §1.10.2.7) and after a body error.
func (c *Client) BodyComplete() bool { return c.body.done }

// SetReadChunkSize sets how many bytes ReadResponseBodyChunk returns at most
// for a fixed-length or read-until-close body (chunked bodies come a chunk at
// a time). n must be within 256…16777216, else ErrInvalidParameter and the
// size is unchanged (§1.3; Godot prints and ignores).
//
// Godot: HTTPClient.set_read_chunk_size()
func (c *Client) SetReadChunkSize(n int) error {
	if n < MinReadChunkSize || n > MaxReadChunkSize {
		return godot.Wrap(ErrInvalidParameter, "set_read_chunk_size", errBadChunkSize)
	}
	c.readChunkSize = n
	return nil
}

// ReadChunkSize returns the read chunk size (default 65536).
//
// Godot: HTTPClient.get_read_chunk_size()
func (c *Client) ReadChunkSize() int { return c.readChunkSize }

// SetBlockingMode switches blocking mode (§1.15). In blocking mode Poll waits
// in RESOLVING, CONNECTING and REQUESTING until the status can change, and
// body reads wait for data; the waits are real blocking I/O, never a spin
// (§7 D1). A background read left by non-blocking mode is waited for by the
// next blocking read. The owner may call it in any status.
//
// Godot: HTTPClient.set_blocking_mode()
func (c *Client) SetBlockingMode(on bool) { c.blocking = on }

// IsBlockingModeEnabled reports whether blocking mode is on (default off).
//
// Godot: HTTPClient.is_blocking_mode_enabled()
func (c *Client) IsBlockingModeEnabled() bool { return c.blocking }

// SetStrict switches strict RFC 9110/9112 parsing of response heads on or
// off (§7.4; see wire.HeadParser) and strict validation of request header
// names. It applies from the next Request (and to the CONNECT reply of the
// next ConnectToHost). Default off: Godot's lenient rules.
func (c *Client) SetStrict(on bool) { c.strict = on }

// IsStrict reports whether strict mode is on.
func (c *Client) IsStrict() bool { return c.strict }

// SetLimits sets the bounds on response heads (§7 D1; the zero Limits means
// the defaults). It applies from the next Request.
func (c *Client) SetLimits(l Limits) { c.limits = l }

// SetUserAgent sets the value of the automatic User-Agent header ("" means
// wire.DefaultUserAgent(), "GodotEngine/<version> (<OS>)", §1.7.10). It
// applies from the next Request (and to the next CONNECT).
func (c *Client) SetUserAgent(s string) { c.userAgent = s }

// SetConnectTimeout sets how long each TCP connect attempt may take before
// the next resolved address is tried (default 30 s, Godot's
// network/limits/tcp/connect_timeout_seconds, §1.6.2.1); d ≤ 0 means the
// default. It applies from the next ConnectToHost.
func (c *Client) SetConnectTimeout(d time.Duration) {
	if d <= 0 {
		d = DefaultConnectTimeout
	}
	c.connectTimeout = d
}

// QueryStringFromDict builds a URL query string from fields in order
// (§1.16, wire.QueryStringFromDict). A value that is a []any (Godot's
// Array) repeats its key once per element: {"multiple": []any{22, 33, 44}}
// gives multiple=22&multiple=33&multiple=44. A []int, []string or another
// slice with a packed counterpart is one value, printed as Godot prints a
// packed array (multiple=%5B22%2C%2033%2C%2044%5D); wire.QueryStringFromDict
// says which Go types are which.
//
// Godot: HTTPClient.query_string_from_dict()
func (c *Client) QueryStringFromDict(fields []QueryField) string {
	return wire.QueryStringFromDict(fields)
}

// QueryStringFromDict is Client.QueryStringFromDict without a client.
//
// Godot: HTTPClient.query_string_from_dict()
func QueryStringFromDict(fields []QueryField) string {
	return wire.QueryStringFromDict(fields)
}

// Close closes the connection, stops the connect attempt, and waits for
// every goroutine the client started before it returns. The response state
// is cleared (code 0, no headers, body length −1); the settings, the target
// of the last ConnectToHost and IsResponseChunked are kept (§1.12). Unlike
// Godot nothing of a half-read chunked body survives (§7 D3 against
// §1.10.5). It is safe in any status. Status: DISCONNECTED.
//
// A client that is done with must be closed, as an *os.File is: Godot
// closes an HTTPClient when its last reference goes, Go has no such moment.
// On unix the garbage collector does close the socket of a client dropped
// unclosed; where the socket cannot be peeked (Windows, Plan 9, wasm) the
// background read that watches a connection keeps it, and its goroutine,
// until the server closes it.
//
// Godot: HTTPClient.close()
func (c *Client) Close() {
	c.close()
	c.aborted.Store(false)
}

// close is Godot's close() (everything but the abort flag): release, then
// status DISCONNECTED.
func (c *Client) close() {
	c.release()
	c.setStatus(StatusDisconnected)
}

// release is close() without the status change, for the failure paths that
// close and then set a failure status: Godot's intermediate DISCONNECTED is
// never observable.
func (c *Client) release() {
	c.abortMu.Lock()
	c.abortDial, c.abortConn = nil, nil
	c.abortMu.Unlock()
	if c.dial != nil {
		c.dial.stop()
	}
	if c.st != nil {
		_ = c.st.raw.Close()
	}
	c.wg.Wait()
	if c.dial != nil {
		c.dial.drain()
		c.dial = nil
	}
	if c.st != nil && c.st.tr != nil {
		c.st.tr.w.releaseBuf()
	}
	if c.st != nil {
		c.st.nb.Forget() // a conn Connection gave out reads the close from now on
	}
	c.st, c.retired, c.handshaking = nil, false, nil
	c.releasePipe()
	c.resetIO()
	c.clearResponse()
	c.lastErr, c.cause = nil, nil
}

// resetIO forgets the buffered bytes and the finished background I/O. The
// goroutines must have been joined.
func (c *Client) resetIO() {
	select {
	case <-c.wch:
	default:
	}
	c.wpending, c.reqSent, c.stray, c.werr = false, false, false, nil
	c.rr, c.rw, c.rerr = 0, 0, nil
	c.req, c.woff, c.wpre, c.wpay, c.rb = c.req[:0], 0, 0, 0, reqBody{}
	c.putBuf()
}

// clearResponse is the response part of Godot's close(): code 0, headers
// cleared, body length −1; the chunked flag stays (§1.12).
func (c *Client) clearResponse() {
	c.head.Reset()
	c.consumed, c.header = false, nil
	c.body.clear()
	c.parser.Reset()
	c.parser.HeadRequest = false
}

// Abort makes a blocking call in progress on another goroutine return
// promptly: it cancels the connect attempt and closes the connection. It is
// the one method that may be called concurrently with the others. The
// blocked call (or the next Poll) ends with status CANT_CONNECT (while
// resolving or connecting) or CONNECTION_ERROR, with ErrAborted as the
// cause; the owner then calls Close, which also clears the abort. So does
// the Close inside ConnectToHost and SetConnection: an Abort that runs
// before they return is forgotten, and a caller whose cancellation may come
// that early looks at it again after ConnectToHost (as the Transport does).
// Godot has no equivalent: its cancel_request() waits for a blocked read
// (§4 #7).
func (c *Client) Abort() {
	c.aborted.Store(true)
	c.abortMu.Lock()
	d, st := c.abortDial, c.abortConn
	c.abortMu.Unlock()
	if d != nil {
		d.stop()
	}
	if st != nil {
		_ = st.raw.Close()
	}
}

// spawn runs f in a goroutine that Close (and every internal close) joins.
func (c *Client) spawn(f func()) {
	c.wg.Add(1)
	c.live.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.live.Add(-1)
		f()
	}()
	if !c.blocking && c.spin.Spinning() {
		// A caller spinning on Poll keeps its P: the new goroutine would
		// wait for another P to steal it (about 90 µs a TLS request on
		// two cores). Let it run now, on this one.
		runtime.Gosched()
	}
}

func init() {
	spin.ClientDetector = func(c any) *spin.Detector { return &c.(*Client).spin }
}

// awaitReport is a non-blocking Poll that found the client's goroutine (the
// connector, a background write) not done yet; ch is where it reports. A
// paced caller (a game's frames) returns at once, as Godot's poll does. A
// caller that spins on this client alone (spin.Detector.Alone: a loop of
// Poll() and reads on this client, nothing else) waits for the report, at
// most spin.MaxWait, and ok says the report came: the Poll goes on with it as
// if the goroutine had ended before the call. Parked, the caller leaves its
// P to the scheduler, which polls the network and runs the goroutine as
// soon as its socket is ready; a spinning caller keeps the P, and with
// GOMAXPROCS 1 the goroutine then runs only when the runtime preempts the
// loop, every 10 ms (a TLS request on a new connection took 45 ms, 19.5
// with the wait; on two CPUs, where the spin also takes the server's CPU,
// 1.2–1.4 ms, 1.1 with it). A loop that drives other clients or nodes too
// (their Polls would wait with it) gives the goroutine this P and returns.
func awaitReport[T any](c *Client, ch <-chan T) (v T, ok bool) {
	if !c.spin.Mark() {
		return v, false
	}
	if !c.spin.Alone() {
		runtime.Gosched()
		return v, false
	}
	return spin.Await(&c.spin, ch)
}

// enter begins a call of the caller's loop — Poll, a body read: the caller
// drives this client now (spin.Detector.Touch), and the call has bytes at
// hand only if earlier calls left some in the read buffer (awaitSocket: a
// call with bytes to return must not wait to return them).
func (c *Client) enter() {
	c.spin.Touch()
	c.took = c.rr < c.rw
}

// awaitSocket is a non-blocking read that found nothing in the socket, for
// a caller that spins. If the call has no byte at hand (taken by it, or
// left in the read buffer by an earlier call: a read that drains what has
// arrived returns it at once), one that spins on this client alone
// waits, at most spin.MaxWait, for something to arrive — bytes, the FIN, an
// error — as awaitReport waits for the goroutine, and for the same reasons:
// over loopback the peer often needs this very CPU (2 CPUs, server in
// another process: small GETs on a new connection each rose from 0.91×
// fasthttp to 1.01–1.06×), and with GOMAXPROCS 1 and the server in this
// process the spin let it run every 10 ms only (a TLS keep-alive GET took
// 13 ms, 35 µs with the wait). The wait takes nothing: the next call reads,
// so a call still takes what the socket held when it read (§1.10.3). A conn
// given to SetConnection is not waited on (the wait sets its read
// deadline). Any other caller gives up the CPU (yieldCPU).
func (c *Client) awaitSocket() {
	// Non-blocking mode only: a use_threads node's client (blocking) is
	// driven on the worker's goroutine, and its Detector joined to the
	// node's is the caller's goroutine's to read (spin.Detector.Alone).
	if !c.blocking && !c.took && c.spin.Alone() && !c.st.installed && c.st.nb.canWait() {
		c.st.nb.WaitReadable(spin.MaxWait)
		c.spin.Waited()
		return
	}
	yieldCPU() // nothing yet, and the caller spins (yield_linux.go)
}

// abortNow turns a pending Abort into the failure status it stands for.
func (c *Client) abortNow(op string) error {
	s, code := StatusConnectionError, ErrConnectionError
	if c.status == StatusResolving || c.status == StatusConnecting {
		s, code = StatusCantConnect, ErrCantConnect
	}
	c.release()
	return c.fail(s, code, op, ErrAborted)
}
