package httpclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/wire"
)

// Transport is an http.RoundTripper over Godot's HTTPClient: every request
// leaves with the bytes Godot would write (§1.7) and every response is read
// with Godot's rules (§1.8–§1.10, or strict RFC 9112 with Strict), so an
// http.Client, a load tool or any code written against net/http can talk
// like a Godot game. It keeps a pool of idle connections per scheme, host,
// port and proxy (MaxIdleConnsPerHost, closed after IdleConnTimeout), each
// reused only while Client.Reusable holds (a framed, final response read to
// its end, nothing sent after it), and is safe for concurrent use. An idle
// connection is looked at every half second with the liveness
// check of §1.6.3, which never waits: one the server closed, or sent bytes
// on unasked, is closed then, its descriptor with it (net/http's read loop,
// a goroutine per connection, closes it at once; here no goroutine waits
// on an idle connection). It does not follow redirects nor keep cookies:
// that is http.Client's job.
// RoundTrip says how bodies, headers and errors are handled.
//
// What a net/http user may not expect, because Godot's rules say so (the
// list in RoundTrip's doc goes on with 1xx responses and unframed bodies):
//
//   - The status line is read as Godot reads it (§1.8.4, §1.8.8), unless
//     Strict: "garbage" is a 200 with an empty body, a line whose code is
//     not where Godot looks ("HTTP/1.1  200 OK", "HTTP/1.1 abc") has
//     StatusCode 0, "HTTP/1.1 2000" is 2000, and any version but HTTP/1.0
//     is Proto "HTTP/1.1" (HTTP/1.2 and HTTP/2.0 included). net/http
//     refuses the malformed lines; Strict does too.
//   - A chunk larger than 16 MiB fails the body (§1.10.2.3), in Strict
//     mode too; net/http reads it. Servers that write a large buffer at
//     once (Node's res.write) can send one.
//   - Over TLS, a body read until the close (Strict, or "Connection:
//     close" without framing) that the server ends without close_notify
//     fails with ERR_CONNECTION_ERROR after its bytes (§1.15.4); net/http
//     ends it with io.EOF.
//   - A nil User-Agent in Request.Header (req.Header["User-Agent"] = nil,
//     net/http's way to send none) sends Godot's User-Agent, or
//     UserAgent: Godot adds its automatic headers the request does not
//     carry (§1.7).
//   - Request.Host is sent as given: no IDNA conversion to punycode and no
//     check of its characters, where net/http converts a non-ASCII host
//     and drops an invalid one; only a control byte (CR, LF, NUL…) is
//     refused, before anything is dialed (§7 D2).
//   - Of a request's net/http/httptrace hooks, GetConn, DNSStart and
//     DNSDone (a name to resolve), ConnectStart and ConnectDone (each TCP
//     connect), TLSHandshakeStart and TLSHandshakeDone, GotConn (Conn,
//     Reused, WasIdle, IdleTime), WroteHeaders and WroteRequest,
//     GotFirstResponseByte and PutIdleConn are called. WroteHeaders comes
//     with WroteRequest, once the whole request is written: the head
//     leaves with the body's first bytes. Got1xxResponse, Got100Continue
//     and Wait100Continue are not called.
type Transport struct {
	// TLS configures https requests (nil: TLSClient(nil, ""), the system
	// roots and the URL's host name).
	TLS *TLSOptions
	// Proxy returns the proxy for a request, as http.Transport.Proxy
	// (http.ProxyFromEnvironment works); nil or a nil URL: no proxy. An
	// http target goes through it as an HTTP proxy (absolute-form target,
	// §1.14.1), an https target through a CONNECT tunnel (§1.14.2). A
	// proxy URL's user:password@ is sent to the proxy only, as
	// Proxy-Authorization (SetHTTPProxyCredentials, SetHTTPSProxyCredentials).
	// Only http:// proxies are spoken to (in clear text); any other scheme
	// fails the request with a *ProxySchemeError before anything is sent.
	// When the request's context cannot end (context.Background), a tunnel
	// is given one minute to connect (the CONNECT exchange and the TLS
	// handshake through it), as net/http bounds its CONNECT; then the
	// request fails with context.DeadlineExceeded.
	Proxy func(*http.Request) (*url.URL, error)
	// MaxIdleConnsPerHost bounds the idle connections kept per key (0: 2;
	// negative: none are kept, net/http's DisableKeepAlives). There is no
	// bound across keys (net/http's MaxIdleConns).
	MaxIdleConnsPerHost int
	// MaxConnsPerHost bounds the connections per key, idle or in use (0: no
	// bound); a request waits for one to be free or its context to end. A
	// response body never closed holds its connection's slot until the
	// request's context ends, as net/http's (then the connection is closed).
	MaxConnsPerHost int
	// IdleConnTimeout closes a connection idle that long (0: 90 s).
	IdleConnTimeout time.Duration
	// ConnectTimeout bounds each TCP connect (0: the client's default).
	ConnectTimeout time.Duration
	// UserAgent replaces Godot's User-Agent ("" keeps it); a User-Agent in
	// the request's headers wins over both.
	UserAgent string
	// Limits bounds what a server can make a connection hold.
	Limits Limits
	// Strict parses response heads and decides the body's framing per RFC
	// 9112 instead of Godot's rules (§7.4): 1xx responses are skipped,
	// HEAD/204/304 carry no body, a body without framing is read until the
	// close. Chunked bodies are still read with Godot's decoder, which
	// fails on a chunk extension (§1.10.2.2).
	Strict bool

	mu        sync.Mutex
	idle      map[connKey][]*pconn
	slots     map[connKey]*hostSlots
	closeIdle bool // CloseIdleConnections ran, and no request since
}

// hostSlots bounds one key's connections (MaxConnsPerHost): a connection
// holds a slot from its dial to its close; a request that finds none free
// waits for a slot or for a connection handed over as it turns idle.
type hostSlots struct {
	sem chan struct{}
	// waiters are the requests waiting for a slot, oldest first, under
	// Transport.mu; each channel has room for the one connection putIdle
	// hands over. A request is in the queue before it waits and putIdle
	// looks at the queue under the same lock, so a connection that turns
	// idle meanwhile is never pooled past a waiting request.
	waiters []chan *pconn
	// users counts, under Transport.mu, the connections holding a slot and
	// the requests waiting for one: the entry is dropped when it reaches 0,
	// so that the map does not grow with every host ever met (§7 D1).
	users int
}

// connKey says which connections can carry a request.
type connKey struct {
	tls       bool
	host      string
	port      int
	proxyHost string
	proxyPort int
	proxyUser string // the proxy URL's credentials (proxy.go), "" and "" for none
	proxyPass string
}

// pconn is a pooled connection.
type pconn struct {
	c   *Client
	key connKey
	// The idle timeout, under Transport.mu: idleAt is when the connection
	// last turned idle and idleFor the IdleConnTimeout of that moment;
	// timer, armed while armed is set, fires every idleLook at most
	// (expire): it closes the connection once it has been idle that long or
	// found closed by the server. It is armed again by expire, not by every
	// putIdle: a connection reused at a high rate costs no timer operation
	// per request.
	idleAt  time.Time
	idleFor time.Duration
	timer   *time.Timer
	armed   bool
}

// errClosedBody is what a response body returns after Close.
var errClosedBody = errors.New("httpclient: read on closed response body")

// RoundTrip sends one request and returns its response with the body still
// to be read (http.RoundTripper). Methods other than Godot's nine are
// refused (§1.7.1), and so is CONNECT, before anything is dialed: net/http
// returns the tunnel of a 2xx reply as its Body, an io.ReadWriteCloser,
// while Godot's client reads the reply as any other response; a tunnel is
// made with Client.Request and Client.Connection, or net/http's Transport.
// (A proxy given by Proxy is still reached through CONNECT for https.)
// The request body is streamed (Client.RequestStream), never held whole,
// and closed once written or failed: with ContentLength
// > 0 the request is Godot's for a body of that size (§1.7.10) and exactly
// that many bytes are sent (a body that ends earlier fails the request); a
// body of unknown length (ContentLength −1, or 0 with a Body other than nil
// and http.NoBody) is sent with "Transfer-Encoding: chunked", which Godot
// never sends. Request.Header is written sorted by name (http.Header has no
// order), each value on its own line in the order given, without
// Content-Length, Transfer-Encoding and Trailer (as net/http); Godot's
// client then adds the automatic headers (Host, Content-Length, User-Agent,
// Accept) the request does not carry; Request.Host, when it differs from
// URL.Host, is sent as Host (so is the URL's host for an IPv6 literal,
// bracketed), and Request.Close adds "Connection: close". A header name
// that is not a token, or a value (or Request.Host) holding a control
// byte other than HTAB, is refused before anything is dialed, as net/http
// refuses them. Nothing
// asks for compression (no Accept-Encoding is added, as Godot's client
// adds none) and nothing is decompressed: Uncompressed is false. A request
// that failed on a reused connection before any byte of its response is
// sent again
// (the idempotent methods, PUT and DELETE included, or, as net/http, a
// request with an Idempotency-Key or X-Idempotency-Key header, or any
// request none of whose bytes was written because the server had closed
// the connection first) when its
// body was not read yet or Request.GetBody gives it again: on the next
// idle connection, and on a new one once none is left (as net/http: it
// goes on while the connection that failed was a reused one, so several
// idle connections the server closed together cost no error). As in Godot
// the whole body is written
// before the response is read: a server that answers early and closes
// fails the request.
//
// The Response: Status is the code and net/http's text for it (Godot keeps
// no reason phrase); Proto is HTTP/1.0 for an HTTP/1.0 status line, else
// HTTP/1.1; Close says the server closes (RFC 9112 §9.3); the headers are
// Godot's (§1.8), but a chunked response has ContentLength −1 and neither
// Content-Length nor Transfer-Encoding in Header, as net/http; trailers are
// read and dropped (Godot returns none), so Trailer is nil; TLS is the
// connection's state over https; a response with nothing to read (HEAD, a
// length of 0, a 204 or 304 without framing: Godot reads the body of one
// with a Content-Length unless Strict) has http.NoBody, its connection
// already back in the pool. Unless Strict, Godot's rules decide what a
// net/http user may not expect: a 1xx (a reply to "Expect: 100-continue",
// a 103) is the final response, with an empty body and Close set; and a
// response with neither Content-Length nor chunked framing that does not
// say "Connection: close" has an empty body (§1.9), even when the server
// sends one and closes — with Strict it is read until the close. A 101 is
// not an upgrade: its body is empty and the connection is closed (Strict
// refuses it), so websocket libraries need net/http's Transport.
// Request.Trailer is not sent (Godot sends no trailers).
//
// Errors: a body that fails to read wraps a *RequestBodyError and the read
// error, and the connection is closed (a body that panics closes it too,
// and the panic reaches RoundTrip's caller: net/http's, read on its own
// goroutine, ends the program); a failure to connect or before the response
// head is the Godot code wrapping the cause (ErrCantResolve,
// ErrCantConnect, ErrConnectionError…), or the context's error (its cause)
// when the request's context ended; Request.Cancel (deprecated) is honoured
// as net/http's: its close ends the round trip, the body's reads included,
// with "net/http: request canceled"; a server that closed the connection
// before any byte of a response gives ErrConnectionError around
// ErrPeerClosed that is also io.EOF, as net/http's (a body's read errors
// never are); a request it does not send (a method Godot does not have,
// CONNECT, a scheme other than http and https, a bad port) is
// ErrInvalidParameter around the reason, and a proxy it cannot use (the
// Proxy function's error, a proxy that is not http://) ErrCantConnect
// around the cause. http.Client wraps each in a *url.Error.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		closeBody(req)
		return nil, refuse(errors.New("request has no URL"))
	}
	method, ok := parseMethod(req.Method)
	if !ok {
		closeBody(req)
		return nil, refuse(errors.New("method " + strconv.Quote(req.Method) + " is not one of Godot's"))
	}
	if method == MethodConnect {
		// Godot's client reads a reply to CONNECT as any other response
		// (§1.9): it has no tunnel to give as the Body (net/http's
		// io.ReadWriteCloser), so the request is refused before dialing.
		closeBody(req)
		return nil, refuse(errors.New("method CONNECT is not supported: the Transport has no tunnel to return as the Body (use net/http's Transport, or Client.Connection after a CONNECT sent with Client.Request)"))
	}
	key, err := t.keyFor(req)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if req.ContentLength != 0 && req.Body == nil {
		// As net/http: the length promises bytes there are none of.
		return nil, refuse(fmt.Errorf("Request.ContentLength=%d with nil Body", req.ContentLength))
	}
	body := &trackedBody{rc: req.Body}
	length := int64(0)
	if req.Body != nil && req.Body != http.NoBody {
		length = req.ContentLength
		if length <= 0 {
			length = -1 // unknown: chunked
		}
	} else {
		body.rc = nil
	}
	headers, err := requestHeaders(req, key)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	ctx, release := req.Context(), neverReleased
	trace := httptrace.ContextClientTrace(ctx)
	//lint:ignore SA1019 net/http's Transport honours it, and http.Client sets it for its Timeout on other RoundTrippers
	if cancelCh := req.Cancel; cancelCh != nil {
		ctx, release = cancelOnClose(ctx, cancelCh)
	}
	for {
		pc, reused, err := t.getConn(ctx, key, trace)
		if err != nil {
			body.close()
			release()
			return nil, err
		}
		resp, err := t.send(ctx, pc, req, method, headers, body, length, release, trace)
		if err == nil {
			return resp, nil
		}
		if reused && !pc.c.replied && ctx.Err() == nil && !errors.As(err, new(*RequestBodyError)) &&
			(retryable(method, req.Header) || errors.Is(err, errUnsent)) && body.rewind(req) {
			// The server may have closed the idle connection as it was
			// reused: it failed before any byte of a response (a
			// response begun, even cut short, is the server's answer),
			// and not because the body failed to read (net/http's
			// rules) — or, whatever the method, before any byte of the
			// request left (net/http's nothingWrittenError). The failed
			// connection is gone, so the pool shrinks at every turn and
			// a new connection, which ends the loop, comes last.
			continue
		}
		body.close()
		release()
		return nil, err
	}
}

// errRequestCanceled is the cause of a request whose Request.Cancel
// closed: net/http's text.
var errRequestCanceled = errors.New("net/http: request canceled")

// cancelOnClose returns a context that ends, with errRequestCanceled, when
// ch closes (the deprecated Request.Cancel, which net/http's Transport
// still honours and http.Client sets for its Timeout on a RoundTripper
// other than net/http's), and the release that ends it once the round
// trip is over, its goroutine with it.
func cancelOnClose(parent context.Context, ch <-chan struct{}) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	go func() {
		select {
		case <-ch:
			cancel(errRequestCanceled)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}

func neverReleased() {}

// trackedBody is a request body being sent: it knows whether it was read,
// so that a retry can send it again untouched, or take a new one from
// GetBody.
type trackedBody struct {
	rc     io.ReadCloser // nil: no body
	read   bool
	mu     sync.Mutex // guards closed and the Close: the context's end closes the body too (send)
	closed bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	b.read = true
	return b.rc.Read(p)
}

// reader is what the client reads: nil without a body.
func (b *trackedBody) reader() io.Reader {
	if b.rc == nil {
		return nil
	}
	return b
}

// close closes the body once (RoundTrip must, on every path).
func (b *trackedBody) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rc != nil && !b.closed {
		b.closed = true
		_ = b.rc.Close()
	}
}

// rewind makes the body sendable again: untouched, or a new one from
// GetBody. It reports false when neither is possible.
func (b *trackedBody) rewind(req *http.Request) bool {
	if b.rc == nil || !b.read {
		return true
	}
	if req.GetBody == nil {
		return false
	}
	rc, err := req.GetBody()
	if err != nil {
		return false
	}
	b.close()
	b.mu.Lock()
	b.rc, b.read, b.closed = rc, false, false
	b.mu.Unlock()
	return true
}

// CloseIdleConnections closes the connections that carry no request now,
// and, as net/http's, those that finish one before the next request
// starts.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.closeIdle = true
	t.mu.Unlock()
	for _, list := range idle {
		for _, pc := range list {
			t.discard(pc)
		}
	}
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// parseMethod maps a method token to Godot's enum ("" is GET).
func parseMethod(s string) (Method, bool) {
	if s == "" {
		return MethodGet, true
	}
	for m := MethodGet; m < MethodMax; m++ {
		if m.String() == s {
			return m, true
		}
	}
	return 0, false
}

// retryable reports whether a request may be sent again after a reused
// connection failed before the response: the idempotent methods of RFC
// 9110 §9.2.2 (PUT and DELETE too, which net/http does not retry), or a
// request carrying an idempotency key (as net/http).
func retryable(m Method, h http.Header) bool {
	switch m {
	case MethodGet, MethodHead, MethodOptions, MethodTrace, MethodPut, MethodDelete:
		return true
	}
	// As net/http: a request carrying an idempotency key may be sent twice.
	_, key := h["Idempotency-Key"]
	_, xkey := h["X-Idempotency-Key"]
	return key || xkey
}

// refuse is the error of a request RoundTrip does not send: Godot's
// ERR_INVALID_PARAMETER around the reason, as the client's own refusals.
func refuse(reason error) error { return godot.Wrap(ErrInvalidParameter, "round_trip", reason) }

// keyFor decides where the request's connection goes.
func (t *Transport) keyFor(req *http.Request) (connKey, error) {
	var k connKey
	switch strings.ToLower(req.URL.Scheme) {
	case "http":
	case "https":
		k.tls = true
	default:
		return k, refuse(errors.New("unsupported protocol scheme " + strconv.Quote(req.URL.Scheme)))
	}
	k.host = req.URL.Hostname()
	if k.host == "" {
		return k, refuse(errors.New("no host in request URL"))
	}
	var err error
	if k.port, err = urlPort(req.URL.Port(), k.tls); err != nil {
		return k, refuse(err)
	}
	k.proxyPort = -1
	if t.Proxy == nil {
		return k, nil
	}
	pu, err := t.Proxy(req)
	if err != nil {
		return k, godot.Wrap(ErrCantConnect, "proxy", err) // as the node's SetProxyFunc
	}
	if pu == nil {
		return k, nil
	}
	// An https:// or socks5:// proxy is refused (*ProxySchemeError) before
	// anything is sent: the client speaks to proxies in clear text only,
	// and would send the credentials in it.
	host, port, user, err := SplitProxyURL(pu)
	if err != nil {
		return k, godot.Wrap(ErrCantConnect, "proxy", err)
	}
	if user != nil {
		k.proxyUser = user.Username()
		k.proxyPass, _ = user.Password()
	}
	k.proxyHost, k.proxyPort = host, port
	return k, nil
}

func urlPort(s string, tls bool) (int, error) {
	if s == "" {
		if tls {
			return PortHTTPS, nil
		}
		return PortHTTP, nil
	}
	p, err := strconv.Atoi(s)
	if err != nil || !validPort(p) {
		return 0, errors.New("invalid port " + strconv.Quote(s))
	}
	return p, nil
}

// requestHeaders lists the request's headers as Godot's client takes them.
// http.Header has no order, so they are sorted by name, each value its own
// line in the order given; Godot's client then adds its automatic headers
// (Host, Content-Length, User-Agent, Accept) that these do not carry.
// Content-Length, Transfer-Encoding and Trailer in Request.Header are
// ignored, as net/http does; Request.Host, when it differs from URL.Host, is
// sent as a Host header (so is the URL's host for an IPv6 literal, which
// Godot would write without brackets). Request.Close adds "Connection: close".
func requestHeaders(req *http.Request, k connKey) ([]string, error) {
	names := make([]string, 0, len(req.Header))
	for name := range req.Header {
		if !wire.IsToken(name) {
			// As net/http: "Transfer-Encoding " or "X-A:b" would be written
			// as a line another parser reads otherwise (§7 D2).
			return nil, refuse(fmt.Errorf("invalid header field name %q", name))
		}
		for _, v := range req.Header[name] {
			if !validFieldValue(v) {
				// As net/http, before anything is dialed (the client
				// would refuse CR, LF and NUL only once connected).
				return nil, refuse(fmt.Errorf("invalid header field value for %q", name))
			}
		}
		switch http.CanonicalHeaderKey(name) {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	var headers []string
	for _, name := range names {
		for _, v := range req.Header[name] {
			headers = append(headers, name+": "+v)
		}
	}
	if !validFieldValue(req.Host) {
		// As net/http, before anything is dialed (the client would refuse
		// CR, LF and NUL only once connected).
		return nil, refuse(fmt.Errorf("invalid Host %q", req.Host))
	}
	switch host := req.Host; {
	case host != "" && host != req.URL.Host:
		headers = append(headers, "Host: "+host)
	case strings.Contains(k.host, ":"): // an IPv6 literal: Godot would not bracket it
		headers = append(headers, "Host: "+req.URL.Host)
	}
	if req.Close && !closeAsked(req.Header) {
		headers = append(headers, "Connection: close") // once, as net/http
	}
	return headers, nil
}

// closeAsked reports whether a Connection header of h names close.
func closeAsked(h http.Header) bool {
	for _, v := range h.Values("Connection") {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "close") {
				return true
			}
		}
	}
	return false
}

// getConn returns an idle connection for key (reused true) or a new one,
// calling trace's GetConn and GotConn.
func (t *Transport) getConn(ctx context.Context, key connKey, trace *httptrace.ClientTrace) (*pconn, bool, error) {
	if trace != nil && trace.GetConn != nil {
		trace.GetConn(key.hostPort())
	}
	pc, reused, err := t.findConn(ctx, key, trace)
	if err == nil && trace != nil && trace.GotConn != nil {
		info := httptrace.GotConnInfo{Conn: pc.c.st.conn, Reused: reused}
		if reused && !pc.idleAt.IsZero() {
			info.WasIdle, info.IdleTime = true, time.Since(pc.idleAt)
		}
		trace.GotConn(info)
	}
	return pc, reused, err
}

// findConn returns an idle connection for key (reused true) or a new one,
// whose connect calls trace's DNS and TLS hooks.
func (t *Transport) findConn(ctx context.Context, key connKey, trace *httptrace.ClientTrace) (*pconn, bool, error) {
	// A context that has already ended fails here: the Abort it schedules
	// runs on another goroutine, and a fast exchange could finish first.
	if ctx.Err() != nil {
		return nil, false, context.Cause(ctx)
	}
	for {
		pc := t.popIdle(key)
		if pc == nil {
			break
		}
		if reusable(pc) {
			return pc, true, nil
		}
		t.discard(pc)
	}
	for {
		pc, err := t.acquire(ctx, key)
		if err != nil {
			return nil, false, err
		}
		if pc == nil {
			break // a slot of its own: a new connection
		}
		if reusable(pc) { // handed over by a request that finished
			return pc, true, nil
		}
		t.discard(pc) // frees the slot it brought
	}
	pc := &pconn{c: t.newClient(key), key: key}
	pc.c.dialTrace = trace
	err := t.connect(ctx, pc)
	if err != nil {
		t.discard(pc) // joins the connector: no hook is called after it
		return nil, false, err
	}
	pc.c.dialTrace = nil
	return pc, false, nil
}

// validFieldValue reports whether v may be a field value as net/http
// writes one: no control byte but HTAB (RFC 9110 §5.5).
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// reusable reports whether a kept connection may carry a request: the
// server neither closed it nor sent bytes unasked since its response
// (§1.6.3, §7 D2).
func reusable(pc *pconn) bool {
	return pc.c.Poll() == nil && pc.c.Reusable()
}

func (t *Transport) newClient(k connKey) *Client {
	c := New()
	c.SetBlockingMode(true)
	c.bracketIPv6 = true // a proxy must parse the absolute-form target (RFC 3986)
	c.SetStrict(t.Strict)
	c.SetLimits(t.Limits)
	if t.UserAgent != "" {
		c.SetUserAgent(t.UserAgent)
	}
	if t.ConnectTimeout > 0 {
		c.SetConnectTimeout(t.ConnectTimeout)
	}
	if k.proxyPort != -1 {
		if k.tls {
			c.SetHTTPSProxy(k.proxyHost, k.proxyPort)
			c.SetHTTPSProxyCredentials(k.proxyUser, k.proxyPass)
		} else {
			c.SetHTTPProxy(k.proxyHost, k.proxyPort)
			c.SetHTTPProxyCredentials(k.proxyUser, k.proxyPass)
		}
	}
	return c
}

// connect brings a new connection to CONNECTED, or fails with the client's
// error (or the context's).
func (t *Transport) connect(ctx context.Context, pc *pconn) error {
	c := pc.c
	if pc.key.tls && pc.key.proxyPort != -1 && ctx.Done() == nil {
		// A request whose context cannot end would wait forever for a
		// proxy that never answers its CONNECT: net/http bounds that
		// exchange at one minute, and so does this connect (the tunnel and
		// its TLS handshake). Godot's client has no bound (the node's
		// timeout is its caller's).
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, tunnelConnectTimeout)
		defer cancel()
	}
	stop := abortOnDone(ctx, c)
	defer stop()
	var opts *TLSOptions
	if pc.key.tls {
		opts = t.TLS
		if opts == nil {
			opts = TLSClient(nil, "")
		}
	}
	if err := c.ConnectToHost(connectHost(pc.key.host), pc.key.port, opts); err != nil {
		return err
	}
	if ctx.Err() != nil {
		// An Abort that ran before ConnectToHost's Close was cleared by it:
		// the blocking Polls below would wait for a connect nothing stops.
		return context.Cause(ctx)
	}
	for c.Status() == StatusResolving || c.Status() == StatusConnecting {
		if err := c.Poll(); err != nil {
			return ctxOr(ctx, err)
		}
	}
	if c.Status() != StatusConnected {
		return ctxOr(ctx, c.LastError())
	}
	return ctxOr(ctx, nil) // ended while connecting: its Abort may not have run yet
}

// tunnelConnectTimeout bounds the connect of a tunnel through an HTTPS
// proxy for a request whose context cannot end (connect); tests shorten it.
var tunnelConnectTimeout = time.Minute

// connectHost is the host given to ConnectToHost: an IPv6 literal shorter
// than Godot's 4-character minimum (§1.5.6: "::1") is written out in full.
func connectHost(host string) string {
	if len(host) < HostMinLen {
		if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
			return a.StringExpanded()
		}
	}
	return host
}

// ctxOr returns the context's error when it ended (the client was aborted
// because of it), else err.
func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

// pollRequest polls c until its request is sent and its head read; when a
// Poll panics (the request body's reader), cleanup runs before the panic
// goes on.
func pollRequest(c *Client, cleanup func()) {
	done := false
	defer func() {
		if !done {
			cleanup()
		}
	}()
	for c.Status() == StatusRequesting {
		_ = c.Poll()
	}
	done = true
}

// send writes the request on pc and reads the response head.
// release, called once the response's body is over, ends what RoundTrip
// derived ctx for (cancelOnClose).
func (t *Transport) send(ctx context.Context, pc *pconn, req *http.Request, m Method, headers []string, body *trackedBody, length int64, release func(), trace *httptrace.ClientTrace) (*http.Response, error) {
	c := pc.c
	rt := newReqTrace(trace)
	c.trace = rt
	stop := abortOnDone(ctx, c)
	if body.rc != nil && ctx.Done() != nil {
		// A Read blocked in the caller's body (an io.Pipe waiting for its
		// writer) returns when the body is closed, as net/http closes it:
		// aborting the connection alone would not end it.
		defer context.AfterFunc(ctx, body.close)()
	}
	if err := c.RequestStream(m, req.URL.RequestURI(), headers, body.reader(), length); err != nil {
		c.trace = nil
		stop()
		t.discard(pc)
		rt.failed(err)
		return nil, err
	}
	pollRequest(c, func() {
		// The request's Body panicked (RequestStream: the client ended
		// the request, CONNECTION_ERROR): the rest of the cleanup, then
		// the panic goes on to RoundTrip's caller, who may recover — with
		// the connection's slot free and the body closed, as on any
		// failure.
		stop()
		t.discard(pc)
		body.close()
	})
	c.trace = nil // before the connection can go back to the pool
	st := c.Status()
	if st == StatusBody || st == StatusConnected {
		body.close() // written in full
	}
	if st == StatusBody && c.bodyReadable() != nil {
		st = c.Status() // a Content-Length below −1: refused, as net/http does
	}
	// A context that ended while the request went out fails it even when
	// the response came first: its Abort runs on a goroutine of its own
	// (abortOnDone), which a quick server can beat.
	if st != StatusBody && st != StatusConnected || ctx.Err() != nil {
		stop()
		err := ctxOr(ctx, c.LastError())
		if ctx.Err() == nil && !c.replied && errors.Is(err, ErrPeerClosed) {
			err = &closedBeforeResponse{err}
		}
		t.discard(pc)
		rt.failed(err)
		return nil, err
	}
	code := c.ResponseCode()
	resp := &http.Response{
		Status:        statusLine(code),
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    c.head.ProtoMinor,
		Header:        wire.HTTPHeader(c.RawHeaders()), // a map of its own
		ContentLength: c.ResponseBodyLength(),
		Close:         !c.KeepAlive() || !c.head.Persistent || req.Close,
		Request:       req,
	}
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	if resp.ProtoMinor == 0 {
		resp.Proto = "HTTP/1.0"
	}
	if c.IsResponseChunked() && m == MethodHead {
		resp.TransferEncoding = []string{"chunked"} // no body: the headers stay, as net/http's
	} else if c.IsResponseChunked() {
		// The body's length is unknown whatever a Content-Length says
		// (Godot reads it chunked, §1.9): net/http's ContentLength −1 and
		// header, which no longer name the framing.
		resp.TransferEncoding = []string{"chunked"}
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
		resp.Header.Del("Transfer-Encoding")
	}
	// The client's own conn, not Connection(): that dups a quick connect's
	// plain socket into a *net.TCPConn kept for the connection's life.
	if tc, ok := c.st.conn.(*tls.Conn); ok {
		cs := tc.ConnectionState()
		resp.TLS = &cs
	}
	// A 1xx taken as the final response (Godot's rules, §1.8) leaves the
	// real response in the socket, and so does a body sent after a head
	// without framing: the connection must not carry another request
	// (§7 D2, endKnown). A body read until the close (Strict) ends the
	// connection: Close, as net/http.
	keep := !req.Close && c.endKnown() && c.head.Framing != wire.FramingUntilClose
	if !keep {
		resp.Close = true
	}
	b := &transportBody{t: t, pc: pc, stop: stop, ctx: ctx, keep: keep, release: release, trace: trace}
	if m == MethodHead {
		resp.ContentLength = headContentLength(resp.Header)
	}
	if st == StatusBody && c.body.framing == wire.FramingLength && c.body.left == 0 {
		// A HEAD response or a Content-Length of 0: Godot reaches
		// CONNECTED at the first read (§1.10.1), which reads nothing. It
		// is done here, so that a body closed unread, as net/http's
		// http.NoBody, leaves the connection to the pool.
		if c.bodyReadable() == nil {
			_, _ = c.readPlainInto(nil) // nothing left to read: ends the body
		}
		st = StatusConnected // finish pools it only if it is CONNECTED now
	}
	if st == StatusConnected { // no body (§1.9)
		b.finish(true)
		resp.Body = http.NoBody
		if m != MethodHead {
			resp.ContentLength = 0
		}
		return resp, nil
	}
	if ctx.Done() != nil {
		// A body left unclosed when the context ends must not keep the
		// connection's slot (MaxConnsPerHost): net/http frees it then.
		// Under b.mu: a context already ended runs contextEnded at once,
		// and its finish reads stopEnd.
		b.mu.Lock()
		b.stopEnd = context.AfterFunc(ctx, b.contextEnded)
		b.mu.Unlock()
	}
	resp.Body = b
	return resp, nil
}

// closedBeforeResponse is RoundTrip's error when the server closed the
// connection before any byte of a response: it is also io.EOF, as
// net/http's, which retry logic looks for. Only RoundTrip's error is: a
// Client's error and a body's read error never match io.EOF, which a read
// loop would take for the end.
type closedBeforeResponse struct{ err error }

func (e *closedBeforeResponse) Error() string   { return e.err.Error() }
func (e *closedBeforeResponse) Unwrap() []error { return []error{e.err, io.EOF} }

// abortOnDone aborts c's blocked call when ctx ends, until the returned
// stop is called (context.AfterFunc); stop reports whether it came first.
// A context that never ends costs nothing.
func abortOnDone(ctx context.Context, c *Client) (stop func() bool) {
	if ctx.Done() == nil {
		return neverAborted
	}
	return context.AfterFunc(ctx, c.Abort)
}

func neverAborted() bool { return true }

// statusLine is http.Response.Status for code: "200 OK"; the lines of the
// codes net/http names are made once.
func statusLine(code int) string {
	if code >= 100 && code < 600 {
		if s := statusLines()[code-100]; s != "" {
			return s
		}
	}
	if text := http.StatusText(code); text != "" {
		return strconv.Itoa(code) + " " + text
	}
	return strconv.Itoa(code) // as net/http's Status for a code it has no text for
}

var statusLines = sync.OnceValue(func() []string {
	lines := make([]string, 500)
	for i := range lines {
		if text := http.StatusText(100 + i); text != "" {
			lines[i] = strconv.Itoa(100+i) + " " + text
		}
	}
	return lines
})

// headContentLength is the length a HEAD response declares, −1 if none.
func headContentLength(h http.Header) int64 {
	n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// transportBody is a response body being read from its connection. Close
// may be called while a Read is blocked (from another goroutine): it aborts
// the read.
type transportBody struct {
	t    *Transport
	pc   *pconn
	stop func() bool
	ctx  context.Context
	keep bool // the connection may be pooled after a complete body
	// stopEnd stops the context's contextEnded (nil: the context cannot
	// end).
	stopEnd func() bool
	release func() // RoundTrip's, once the body is over (finish)
	trace   *httptrace.ClientTrace

	mu   sync.Mutex // held by Read, and by Close once no Read runs
	done bool
	err  error

	// endMu orders Close's abort against the end of the body: a
	// connection is aborted only while this body still owns it.
	endMu   sync.Mutex
	closing bool
	ended   bool
}

func (b *transportBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, b.err
	}
	n, err := b.pc.c.ReadResponseBodyChunkInto(p)
	if err == nil && n > 0 && b.pc.c.chunkedEndAtHand() {
		err = io.EOF // net/http's rule: the end already read comes with the last bytes
	}
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		b.finish(true)
		b.err = io.EOF
	default:
		// The error before finish: its release ends the context.
		b.err = ctxOr(b.ctx, err)
		if b.ctx.Err() == nil && errors.Is(err, ErrAborted) {
			b.err = errClosedBody
		}
		b.finish(false)
	}
	return n, b.err
}

func (b *transportBody) Close() error {
	b.endMu.Lock()
	b.closing = true
	if !b.mu.TryLock() {
		if !b.ended {
			b.pc.c.Abort() // a Read is blocked: make it return
		}
		b.endMu.Unlock()
		b.mu.Lock()
	} else {
		b.endMu.Unlock()
	}
	defer b.mu.Unlock()
	if !b.done {
		b.finish(false)
	}
	b.err = errClosedBody // also after io.EOF, as net/http
	return nil
}

// contextEnded ends the body when its context ends, whether or not the
// body is ever read or closed again: the connection is closed and its slot
// freed, as net/http does. The context's other AfterFunc (abortOnDone)
// aborts the connection, so a Read in progress returns, ending the body
// itself, before b.mu is free; a later Read returns the context's error.
func (b *transportBody) contextEnded() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.done {
		b.finish(false)
		b.err = context.Cause(b.ctx)
	}
}

// finish ends the body: the connection goes back to the pool when the body
// was read to its end and the connection can carry another request.
func (b *transportBody) finish(complete bool) {
	b.done = true
	if b.stopEnd != nil {
		b.stopEnd()
	}
	aborted := !b.stop()
	b.endMu.Lock()
	b.ended = true
	closing := b.closing
	b.endMu.Unlock()
	defer b.release()
	c := b.pc.c
	if complete && b.keep && !aborted && !closing && c.Status() == StatusConnected && c.KeepAlive() {
		err := b.t.putIdle(b.pc)
		if b.trace != nil && b.trace.PutIdleConn != nil {
			b.trace.PutIdleConn(err)
		}
		return
	}
	b.t.discard(b.pc)
}

// acquire takes one of key's connection slots (MaxConnsPerHost), or
// returns a connection that turned idle since getConn looked, or one
// another request handed over while this one waited.
func (t *Transport) acquire(ctx context.Context, key connKey) (*pconn, error) {
	if t.MaxConnsPerHost <= 0 {
		return nil, nil
	}
	t.mu.Lock()
	if list := t.idle[key]; len(list) > 0 {
		pc := list[len(list)-1] // pooled after getConn's popIdle (it brings its slot)
		t.idle[key] = list[:len(list)-1]
		t.mu.Unlock()
		return pc, nil
	}
	if t.slots == nil {
		t.slots = make(map[connKey]*hostSlots)
	}
	hs := t.slots[key]
	if hs == nil {
		hs = &hostSlots{sem: make(chan struct{}, t.MaxConnsPerHost)}
		t.slots[key] = hs
	}
	hs.users++
	w := make(chan *pconn, 1)
	hs.waiters = append(hs.waiters, w)
	t.mu.Unlock()
	if acquireWaits != nil {
		acquireWaits()
	}
	select {
	case pc := <-w:
		t.leaveSlots(key, hs) // pc brings the slot it holds
		return pc, nil
	case hs.sem <- struct{}{}:
		if pc := t.leaveQueue(hs, w); pc != nil {
			<-hs.sem // handed a connection as a slot freed: the connection wins
			t.leaveSlots(key, hs)
			return pc, nil
		}
		return nil, nil // the request now holds the slot: still a user
	case <-ctx.Done():
		if pc := t.leaveQueue(hs, w); pc != nil {
			_ = t.putIdle(pc) // handed over as the context ended: the next one takes it
		}
		t.leaveSlots(key, hs)
		return nil, context.Cause(ctx)
	}
}

// acquireWaits, when set (by tests), runs after a request joined the queue
// of waiters and before it waits.
var acquireWaits func()

// leaveQueue takes w out of hs's waiters, and returns the connection a
// putIdle handed over through w before that, if any.
func (t *Transport) leaveQueue(hs *hostSlots, w chan *pconn) *pconn {
	t.mu.Lock()
	if i := slices.Index(hs.waiters, w); i >= 0 {
		hs.waiters = slices.Delete(hs.waiters, i, i+1)
	}
	t.mu.Unlock()
	select {
	case pc := <-w:
		return pc
	default:
		return nil
	}
}

// hostSlots returns key's slots, nil when connections are not bounded or
// key has none.
func (t *Transport) hostSlots(key connKey) *hostSlots {
	if t.MaxConnsPerHost <= 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.slots[key]
}

// leaveSlots ends one use of key's slots, dropping them when none is left.
func (t *Transport) leaveSlots(key connKey, hs *hostSlots) {
	t.mu.Lock()
	if hs.users--; hs.users == 0 && t.slots[key] == hs {
		delete(t.slots, key)
	}
	t.mu.Unlock()
}

// discard closes a connection and frees its slot.
func (t *Transport) discard(pc *pconn) {
	t.mu.Lock()
	if pc.armed {
		pc.timer.Stop()
		pc.armed = false
	}
	if list, ok := t.idle[pc.key]; ok && len(list) == 0 {
		delete(t.idle, pc.key) // no key without a connection (§7 D1)
	}
	t.mu.Unlock()
	pc.c.Close()
	pc.c.dropBuf() // the Client is not used again
	if hs := t.hostSlots(pc.key); hs != nil {
		<-hs.sem
		t.leaveSlots(pc.key, hs)
	}
}

// putIdle pools a connection that finished a response, or hands it to the
// oldest request waiting for one of its key's slots — unless connections
// are not kept at all (MaxIdleConnsPerHost < 0, net/http's
// DisableKeepAlives): then it is closed, its slot going to that request,
// which dials. The error says why a connection was closed instead
// (httptrace's PutIdleConn).
func (t *Transport) putIdle(pc *pconn) error {
	max := t.MaxIdleConnsPerHost
	if max < 0 {
		t.discard(pc)
		return errKeepAlivesDisabled
	}
	if max == 0 {
		max = 2
	}
	t.mu.Lock()
	if hs := t.slots[pc.key]; hs != nil && len(hs.waiters) > 0 {
		w := hs.waiters[0]
		hs.waiters = slices.Delete(hs.waiters, 0, 1)
		pc.idleAt = time.Time{} // handed over, never idle (httptrace's WasIdle)
		w <- pc                 // room for one: never blocks
		t.mu.Unlock()
		return nil
	}
	// closeIdle: CloseIdleConnections ran while pc carried its request (a
	// request waiting for the slot took it above, as net/http's does).
	if t.closeIdle || len(t.idle[pc.key]) >= max {
		err := errTooManyIdle
		if t.closeIdle {
			err = errCloseIdle
		}
		t.mu.Unlock()
		t.discard(pc)
		return err
	}
	if t.idle == nil {
		t.idle = make(map[connKey][]*pconn)
	}
	t.idle[pc.key] = append(t.idle[pc.key], pc)
	pc.idleAt, pc.idleFor = time.Now(), t.IdleConnTimeout
	if pc.idleFor <= 0 {
		pc.idleFor = 90 * time.Second
	}
	if !pc.armed {
		pc.armed = true
		if pc.timer == nil {
			pc.timer = time.AfterFunc(min(pc.idleFor, idleLook), func() { t.expire(pc) })
		} else {
			pc.timer.Reset(min(pc.idleFor, idleLook))
		}
	}
	t.mu.Unlock()
	return nil
}

// popIdle takes the most recently pooled connection for key.
func (t *Transport) popIdle(key connKey) *pconn {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closeIdle = false // a request starts: connections are kept again
	list := t.idle[key]
	if len(list) == 0 {
		return nil
	}
	// The key stays while pc is in use (putIdle reuses its slice), and so
	// does pc's timer: expire sees it in use.
	pc := list[len(list)-1]
	t.idle[key] = list[:len(list)-1]
	return pc
}

// idleLook is how often an idle connection is looked at (expire).
const idleLook = 500 * time.Millisecond

// expire runs when pc's timer fires: it closes pc if it has been idle for
// the whole timeout, or if the server closed it or sent bytes on it since
// (reusable: a look that never waits, made under the lock so that no
// request takes pc meanwhile). A connection in use is left alone (putIdle
// arms the timer again); an idle one is looked at again after idleLook or
// the rest of its time.
func (t *Transport) expire(pc *pconn) {
	t.mu.Lock()
	list := t.idle[pc.key]
	i := slices.Index(list, pc)
	if i < 0 || !pc.armed {
		pc.armed = false
		t.mu.Unlock()
		return
	}
	if rest := pc.idleFor - time.Since(pc.idleAt); rest > 0 && reusable(pc) {
		pc.timer.Reset(min(rest, idleLook))
		t.mu.Unlock()
		return
	}
	t.idle[pc.key] = slices.Delete(list, i, i+1)
	t.mu.Unlock()
	t.discard(pc)
}

var _ http.RoundTripper = (*Transport)(nil)
