package wire

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/gdhttp/gdhttp/godot"
)

// Request describes one request as Godot's HTTPClientTCP::request() builds it
// (§1.7). It is a plain value: ValidateRequest checks it, AppendRequest
// serializes it; neither keeps a reference to it.
//
// Godot: HTTPClient.request_raw()
type Request struct {
	Method    Method   // one of Godot's nine methods
	URL       string   // the request target exactly as the caller gave it
	Headers   []string // user header lines, written unmodified in order
	Body      []byte   // sent after the head; a non-empty body gets Content-Length
	Host      string   // conn_host, used verbatim for the automatic Host header
	Port      int      // conn_port
	TLS       bool     // the connection uses TLS (decides the default port of the Host rule)
	HTTPProxy bool     // plain HTTP through an HTTP proxy: absolute-form target (§1.7.7); ignored when TLS is set
	// BracketIPv6 writes an IPv6 Host in brackets in the absolute-form
	// target (RFC 3986), which Godot writes bare (§1.7.7, kept by default):
	// for a caller that must be understood by any proxy (the Transport).
	BracketIPv6 bool
	UserAgent   string // value of the automatic User-Agent header; "" means DefaultUserAgent()
	// StreamLength describes a body the caller writes itself after the head
	// (AppendRequestHead), when Body is empty: > 0 gets the automatic
	// "Content-Length: StreamLength", exactly where Godot writes it for a
	// body of that size; StreamChunked gets "Transfer-Encoding: chunked" in
	// that place instead (a streamed body of unknown length, an opt-in of
	// the port: Godot never sends a chunked request); 0 adds nothing.
	StreamLength int64
}

// StreamChunked is the Request.StreamLength of a chunked request body.
const StreamChunked = -1

// RequestError is the cause carried by the godot.ErrInvalidParameter that
// ValidateRequest, VerifyHeaders and ValidateConnect return. It names the
// part of the request that was refused; it never quotes header values, which
// may hold credentials.
type RequestError struct {
	// Field is what was refused: "request" (nil *Request), "method", "url",
	// "header", "host" or "user agent".
	Field string
	// Index is the position of the refused string in Request.Headers when
	// Field is "header", and -1 otherwise.
	Index int
	// Reason says what is wrong, e.g. "contains CR, LF or NUL".
	Reason string
}

// Error returns e.g. "gdhttp: invalid header at index 2: contains CR, LF or NUL".
func (e *RequestError) Error() string {
	s := "gdhttp: invalid " + e.Field
	if e.Index >= 0 {
		s += " at index " + strconv.Itoa(e.Index)
	}
	return s + ": " + e.Reason
}

// Reasons carried by RequestError.
const (
	reasonInjection     = "contains CR, LF or NUL"
	reasonEmptyHeader   = "empty"
	reasonNoColon       = "must contain a header-value pair delimited by ':'"
	reasonNameNotToken  = "name is not an RFC 9110 token"
	reasonValueCTL      = "value contains a control character"
	reasonBadMethod     = "not one of Godot's nine methods"
	reasonBadTarget     = "must start with '/', 'http://' or 'https://'"
	reasonBadAuthority  = "CONNECT target must be host:port"
	reasonEmptyHost     = "empty"
	reasonNilRequest    = "nil *Request"
	reasonBadOptionsURL = "must be '*' or start with '/', 'http://' or 'https://'"
)

// Operation names carried by the *godot.CodeError wrappers of this file.
const (
	requestOp       = "request"
	verifyHeadersOp = "verify_headers"
	connectOp       = "connect"
	noHeaderIndex   = -1
)

func requestErr(op, field string, index int, reason string) error {
	return godot.Wrap(godot.ErrInvalidParameter, op, &RequestError{Field: field, Index: index, Reason: reason})
}

// ValidateRequest applies the checks Godot's request() makes before it
// writes anything, in Godot's order, and then the port's own:
//
//  1. the method is one of the nine (§1.7.1);
//  2. the URL has the form the method needs (§1.7.2): CONNECT wants
//     host:port (a ':' that is neither first nor last), OPTIONS also accepts
//     exactly "*", everything else must begin, case-sensitively, with "/",
//     "http://" or "https://" (so "" is refused);
//  3. VerifyHeaders (§1.7.5, §1.17);
//  4. §7 D2: no CR, LF or NUL byte in any user header string, in the URL, in
//     Host or in UserAgent (Godot writes them verbatim, which allows header
//     and request injection; the port refuses such a request so nothing is
//     sent). Host and UserAgent are covered because they are written into
//     the head as well;
//  5. strict mode only (§7.4): every user header name — the text before the
//     first ':', with no surrounding whitespace — is an RFC 9110 token, and
//     no value contains a control character other than HTAB.
//
// The connection checks of §1.7.3–4 (status must be CONNECTED, a stream must
// exist) are the client's business and are not made here.
//
// Every failure wraps godot.ErrInvalidParameter around a *RequestError that says
// which part was refused. A valid request is checked without allocating.
//
// Godot: HTTPClient.request() (its validation)
func ValidateRequest(r *Request, strict bool) error {
	if r == nil {
		return requestErr(requestOp, "request", noHeaderIndex, reasonNilRequest)
	}
	if !r.Method.Valid() {
		return requestErr(requestOp, "method", noHeaderIndex, reasonBadMethod)
	}
	if !checkRequestTarget(r.Method, r.URL) {
		reason := reasonBadTarget
		switch r.Method {
		case MethodConnect:
			reason = reasonBadAuthority
		case MethodOptions:
			reason = reasonBadOptionsURL
		}
		return requestErr(requestOp, "url", noHeaderIndex, reason)
	}
	if i, reason := verifyHeaders(r.Headers); i >= 0 {
		return requestErr(requestOp, "header", i, reason)
	}
	// §7 D2.
	if hasCRLFNUL(r.URL) {
		return requestErr(requestOp, "url", noHeaderIndex, reasonInjection)
	}
	for i, h := range r.Headers {
		if hasCRLFNUL(h) {
			return requestErr(requestOp, "header", i, reasonInjection)
		}
	}
	if hasCRLFNUL(r.Host) {
		return requestErr(requestOp, "host", noHeaderIndex, reasonInjection)
	}
	if hasCRLFNUL(r.UserAgent) {
		return requestErr(requestOp, "user agent", noHeaderIndex, reasonInjection)
	}
	if strict {
		for i, h := range r.Headers {
			if reason := strictHeaderProblem(h); reason != "" {
				return requestErr(requestOp, "header", i, reason)
			}
		}
	}
	return nil
}

// VerifyHeaders is Godot's header check (§1.17), exactly: each string is
// stripped (§0.4.1); an empty result, or one without a ':' or with ':' as its
// first character, is refused with godot.ErrInvalidParameter around a
// *RequestError naming the index. "Header: " (empty value) is valid. It does
// not look for CR/LF (that is ValidateRequest's §7 D2 check).
//
// Godot: HTTPClient.verify_headers()
func VerifyHeaders(headers []string) error {
	if i, reason := verifyHeaders(headers); i >= 0 {
		return requestErr(verifyHeadersOp, "header", i, reason)
	}
	return nil
}

// verifyHeaders returns the index of the first header Godot refuses and why,
// or -1.
func verifyHeaders(headers []string) (int, string) {
	for i, h := range headers {
		s := stripEdges(h)
		if s == "" {
			return i, reasonEmptyHeader
		}
		if strings.IndexByte(s, ':') < 1 {
			return i, reasonNoColon
		}
	}
	return -1, ""
}

// checkRequestTarget is §1.7.2.
func checkRequestTarget(m Method, url string) bool {
	switch m {
	case MethodConnect:
		// Authority form host:port; brackets are not required.
		i := strings.IndexByte(url, ':')
		return i > 0 && i < len(url)-1
	case MethodOptions:
		if url == "*" {
			return true
		}
	}
	return strings.HasPrefix(url, "/") || strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://")
}

// hasCRLFNUL reports whether s holds a byte that would end a line of the
// request head (CR, LF) or that Godot's strings cannot carry (NUL). §7 D2
func hasCRLFNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 {
			return true
		}
	}
	return false
}

// strictHeaderProblem returns why a user header string fails §7.4, or "".
func strictHeaderProblem(h string) string {
	colon := strings.IndexByte(h, ':')
	if colon < 1 {
		return reasonNameNotToken
	}
	for i := 0; i < colon; i++ {
		if !requestTchar[h[i]] {
			return reasonNameNotToken
		}
	}
	for i := colon + 1; i < len(h); i++ {
		if c := h[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return reasonValueCTL
		}
	}
	return ""
}

// requestTchar marks RFC 9110 tchar: "!#$%&'*+-.^_`|~", DIGIT, ALPHA.
var requestTchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// AppendRequest appends the bytes Godot's request() puts in its request
// buffer for r — the head (AppendRequestHead) followed by the body — and
// returns the extended slice. It does not validate: call ValidateRequest
// first. It allocates nothing when dst has room. A nil r appends nothing.
//
// Strings are written as the bytes they hold; Godot would first have decoded
// them from UTF-8 (invalid sequences becoming U+FFFD), so only invalid UTF-8
// can differ.
//
// Godot: HTTPClient.request_raw()
func AppendRequest(dst []byte, r *Request) []byte {
	if r == nil {
		return dst
	}
	dst = AppendRequestHead(dst, r)
	return append(dst, r.Body...)
}

// AppendRequestHead appends the request head (§1.7.7–11, up to and including
// the empty line) without the body, for callers that write a large body
// separately. See AppendRequest.
//
//  1. Request line "METHOD SP target SP HTTP/1.1". The target is r.URL; when
//     r.HTTPProxy is set and r.TLS is not, it becomes "http://" + Host + ":" +
//     Port + URL — the port always written, an IPv6 host not bracketed
//     (unless r.BracketIPv6), the URL appended even when it is "*" or
//     already absolute (Godot's behaviour, kept).
//  2. Each user header string unmodified, in order, each followed by CRLF.
//  3. Automatic headers, each only when no user header string begins,
//     ASCII case-insensitively, with its name and colon ("Host:",
//     "Content-Length:", "User-Agent:", "Accept:"): "Host: <Host>" when
//     (TLS and Port 443) or (plain and Port 80), else "Host: <Host>:<Port>";
//     "Content-Length: <n>" only for a non-empty body (or a StreamLength
//     above 0; "Transfer-Encoding: chunked" for StreamChunked); "User-Agent: <ua>";
//     "Accept: */*".
//  4. An empty line.
//
// Godot: HTTPClient.request_raw() (the head part)
func AppendRequestHead(dst []byte, r *Request) []byte {
	if r == nil {
		return dst
	}
	if r.Method.Valid() {
		dst = append(dst, methodTokens[r.Method]...)
	} else {
		dst = append(dst, r.Method.String()...)
	}
	dst = append(dst, ' ')
	if r.HTTPProxy && !r.TLS {
		dst = append(dst, "http://"...)
		if r.BracketIPv6 && strings.IndexByte(r.Host, ':') >= 0 {
			dst = append(append(append(dst, '['), r.Host...), ']')
		} else {
			dst = append(dst, r.Host...)
		}
		dst = append(dst, ':')
		dst = strconv.AppendInt(dst, int64(r.Port), 10)
	}
	dst = append(dst, r.URL...)
	dst = append(dst, " HTTP/1.1\r\n"...)

	length := int64(len(r.Body))
	if length == 0 {
		length = r.StreamLength
	}
	addHost, addLength, addAgent, addAccept := true, length != 0, true, true
	for _, h := range r.Headers {
		dst = append(dst, h...)
		dst = append(dst, "\r\n"...)
		if h == "" {
			continue
		}
		// §1.7.10: findn(name) == 0, tested only for the name the first byte
		// can start (a non-ASCII first character lower-cases to 'i' or 'k'
		// at most, which starts none of them).
		switch lower(h[0]) {
		case 'h':
			addHost = addHost && !HasPrefixFold(h, "host:")
		case 'c':
			addLength = addLength && !HasPrefixFold(h, "content-length:")
		case 'u':
			addAgent = addAgent && !HasPrefixFold(h, "user-agent:")
		case 'a':
			addAccept = addAccept && !HasPrefixFold(h, "accept:")
		}
	}
	if addHost {
		dst = append(dst, "Host: "...)
		dst = append(dst, r.Host...)
		if !(r.TLS && r.Port == 443) && !(!r.TLS && r.Port == 80) {
			dst = append(dst, ':')
			dst = strconv.AppendInt(dst, int64(r.Port), 10)
		}
		dst = append(dst, "\r\n"...)
	}
	switch {
	case addLength && length < 0:
		dst = append(dst, "Transfer-Encoding: chunked\r\n"...)
	case addLength:
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, length, 10)
		dst = append(dst, "\r\n"...)
	}
	if addAgent {
		dst = append(dst, "User-Agent: "...)
		if r.UserAgent != "" {
			dst = append(dst, r.UserAgent...)
		} else {
			dst = append(dst, defaultUserAgent...)
		}
		dst = append(dst, "\r\n"...)
	}
	if addAccept {
		dst = append(dst, "Accept: */*\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// ValidateConnect checks the arguments of AppendConnect the way
// ValidateRequest checks a request. Godot's sub-client refuses a CONNECT
// target whose first ':' is its first byte (§1.7.2): an empty host, or one
// that begins with ':' — applied to the target AppendConnect writes, so an
// IPv6 literal, bracketed there (§7 D5), passes. §7 D2 adds a CR, LF or NUL
// in host or userAgent. Failures wrap godot.ErrInvalidParameter around a
// *RequestError.
//
// Godot: HTTPClient.poll() (the CONNECT request of the HTTPS proxy, §1.14.2)
func ValidateConnect(host, userAgent string) error {
	if host == "" {
		return requestErr(connectOp, "host", noHeaderIndex, reasonEmptyHost)
	}
	if host[0] == ':' && !bracketed(host) {
		return requestErr(connectOp, "host", noHeaderIndex, reasonBadAuthority)
	}
	if hasCRLFNUL(host) {
		return requestErr(connectOp, "host", noHeaderIndex, reasonInjection)
	}
	if hasCRLFNUL(userAgent) {
		return requestErr(connectOp, "user agent", noHeaderIndex, reasonInjection)
	}
	return nil
}

// AppendConnect appends the CONNECT request that opens a tunnel through an
// HTTPS proxy (§1.14.2) with the §7 D5 fix:
//
//	CONNECT host:port HTTP/1.1
//	Host: host:port
//	User-Agent: <userAgent, or DefaultUserAgent() when "">
//	Accept: */*
//	<empty line>
//
// Godot sends "Host: :-1" (its sub-client never learned a host) and an
// unbracketed IPv6 target. The D5 fix sends the target's authority in Host
// and, as part of the same fix, brackets an IPv6 address in both the target
// and Host, as RFC 9112 authority-form requires. Any other host is written
// as Godot writes it ("localhost:8443" stays "localhost:8443:443"). Call
// ValidateConnect first. It allocates nothing when dst has room.
//
// Godot: HTTPClient.poll() (the CONNECT request of the HTTPS proxy, §1.14.2)
func AppendConnect(dst []byte, host string, port int, userAgent string) []byte {
	dst = append(dst, "CONNECT "...)
	dst = appendAuthority(dst, host, port)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = appendAuthority(dst, host, port)
	dst = append(dst, "\r\nUser-Agent: "...)
	if userAgent == "" {
		userAgent = defaultUserAgent
	}
	dst = append(dst, userAgent...)
	return append(dst, "\r\nAccept: */*\r\n\r\n"...)
}

// appendAuthority appends host:port, bracketing an IPv6 literal.
func appendAuthority(dst []byte, host string, port int) []byte {
	bracket := bracketed(host)
	if bracket {
		dst = append(dst, '[')
	}
	dst = append(dst, host...)
	if bracket {
		dst = append(dst, ']')
	}
	dst = append(dst, ':')
	return strconv.AppendInt(dst, int64(port), 10)
}

// bracketed reports whether AppendConnect brackets host: an IPv6 address
// (§7 D5), in RFC 4291 text form. Godot's wider IPv6 test (IsValidIPAddress
// takes ":abc" and "1::2::3") would bracket targets Godot itself refuses or
// that no proxy can reach.
func bracketed(host string) bool {
	a, err := netip.ParseAddr(host)
	return err == nil && a.Is6()
}
