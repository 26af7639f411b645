package httpclient

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/gdhttp/gdhttp/godot"
)

// Error is Godot's global Error enum, re-exported from package godot so that
// users of this package need import nothing else. OK is a nil error.
//
// This file is the one place in the module that re-exports Godot's codes:
// users of the client write httpclient.ErrCantConnect (the same value as
// godot.ErrCantConnect); code inside the module, httprequest included, names
// them from package godot.
//
// Every error this package returns carries one of these codes (the
// exceptions, where Godot has no error, are in the package doc's Errors): a
// bare Error, or a *godot.CodeError whose Unwrap yields the code and the
// real cause, so
//
//	errors.Is(err, httpclient.ErrCantConnect) // the Godot code
//	var code httpclient.Error
//	errors.As(err, &code)                     // code.Code() == 25
//	var uerr x509.UnknownAuthorityError
//	errors.As(err, &uerr)                     // the cause
//
// all work on the same value.
//
// Godot: @GlobalScope.Error
type Error = godot.Error

// The Godot Error codes this package returns, with Godot's numbers (the
// values of package godot).
const (
	Failed              = godot.Failed              // Godot: FAILED (1)
	ErrUnavailable      = godot.ErrUnavailable      // Godot: ERR_UNAVAILABLE (2)
	ErrUnconfigured     = godot.ErrUnconfigured     // Godot: ERR_UNCONFIGURED (3)
	ErrFileEOF          = godot.ErrFileEOF          // Godot: ERR_FILE_EOF (18)
	ErrAlreadyInUse     = godot.ErrAlreadyInUse     // Godot: ERR_ALREADY_IN_USE (22)
	ErrTimeout          = godot.ErrTimeout          // Godot: ERR_TIMEOUT (24)
	ErrCantConnect      = godot.ErrCantConnect      // Godot: ERR_CANT_CONNECT (25)
	ErrCantResolve      = godot.ErrCantResolve      // Godot: ERR_CANT_RESOLVE (26)
	ErrConnectionError  = godot.ErrConnectionError  // Godot: ERR_CONNECTION_ERROR (27)
	ErrInvalidData      = godot.ErrInvalidData      // Godot: ERR_INVALID_DATA (30)
	ErrInvalidParameter = godot.ErrInvalidParameter // Godot: ERR_INVALID_PARAMETER (31)
	ErrBusy             = godot.ErrBusy             // Godot: ERR_BUSY (44)
	ErrBug              = godot.ErrBug              // Godot: ERR_BUG (47)
)

// Causes wrapped inside the Godot codes above. They are not Godot codes
// themselves; test for them with errors.Is.
var (
	// ErrAborted is the cause of the failure status a blocked call ends
	// with after Client.Abort.
	ErrAborted = errors.New("httpclient: aborted")

	// ErrPeerClosed is the cause of CONNECTION_ERROR when the peer closed
	// the connection while the client was idle in CONNECTED (§1.6.3.3), or
	// before the response head was complete (§1.6.4.2).
	ErrPeerClosed = errors.New("httpclient: connection closed by peer")

	// errUnsent is ErrPeerClosed for a request none of whose bytes was
	// written: the peer had closed the connection before the first write
	// (§1.6.4.1). The Transport sends such a request again whatever its
	// method, as net/http does when nothing was written.
	errUnsent = fmt.Errorf("%w", ErrPeerClosed)

	// ErrTLSTruncated is the cause of CONNECTION_ERROR when a TLS peer
	// closed the TCP connection without sending close_notify (§1.15.4).
	ErrTLSTruncated = errors.New("httpclient: TLS connection closed without close_notify")

	// ErrNegativeLength is the cause of CONNECTION_ERROR at the first read
	// of a body whose Content-Length is below −1. Godot stays in BODY for
	// ever, each read returning nothing (§1.9 note); the port ends the body
	// there (§7 D1, COMPAT R2). The head before it is Godot's: status BODY,
	// the code, the headers, ResponseBodyLength the negative value.
	ErrNegativeLength = errors.New("httpclient: negative Content-Length: the body can never be read")
)

// ProxyError is the cause of CANT_CONNECT when an HTTPS proxy answered a
// CONNECT request with a non-2xx status (§1.14.2 with §7 D5).
type ProxyError struct {
	Code    int      // the proxy's status code
	Headers []string // the proxy's header lines (§1.8.5 form)
}

// Error says which status the proxy answered.
func (e *ProxyError) Error() string {
	return "httpclient: proxy refused CONNECT with status " + strconv.Itoa(e.Code)
}

// TunnelError is the cause of a failed CONNECT exchange with an HTTPS proxy
// that did not answer it with a status (§1.14.2): the proxy closed or reset
// the connection before or during its reply, the reply was malformed or
// over the head limit, or a read or write failed. Err is the cause. The
// status is CANT_CONNECT with ERR_CANT_CONNECT for a TCP end and
// ERR_CONNECTION_ERROR otherwise (§1.6.2.2, §1.14.2.5); a reply with a status
// other than 2xx is a *ProxyError instead.
type TunnelError struct {
	Err error
}

// Error says that the CONNECT exchange failed, and why.
func (e *TunnelError) Error() string {
	return "httpclient: CONNECT through the HTTPS proxy failed: " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *TunnelError) Unwrap() error { return e.Err }

// HandshakeEndError is the cause of CANT_CONNECT when the server (or the
// HTTPS proxy's tunnel) ended the TCP connection, by a FIN or a reset,
// during the TLS handshake: Godot moves on to the next address, and reports
// CANT_CONNECT with ERR_CANT_CONNECT when none is left (§1.6.2.2, COMPAT
// H9). Err is the cause. A handshake refused by an alert or a certificate is
// TLS_HANDSHAKE_ERROR instead (§1.6.2.5).
type HandshakeEndError struct {
	Err error
}

// Error says that the handshake was cut, and how.
func (e *HandshakeEndError) Error() string {
	return "httpclient: the TLS handshake ended with the connection: " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *HandshakeEndError) Unwrap() error { return e.Err }

// BodyError reports that a response body ended before it was complete: the
// connection closed cleanly in the middle of a fixed-length or chunked body.
// Godot reports this as a plain DISCONNECTED (§1.10.1.4, §1.10.2.7); the
// port keeps the status and adds this error (§7 D3). errors.Is(err,
// io.ErrUnexpectedEOF) holds for every BodyError.
type BodyError struct {
	Framing  string // "length" or "chunked"
	Received int64  // body bytes delivered before the cut
	// Err is io.ErrUnexpectedEOF for a fixed-length body, and a
	// *chunked.Error for a chunked one: of KindTruncated (which unwraps
	// to io.ErrUnexpectedEOF), or of KindNotHex when the cut came inside a
	// chunk whose size line held a byte that is not hex ("b;x"), which
	// Godot reads on before it fails (§1.10.2.2).
	Err error
}

// Error says which body was cut and after how many bytes.
func (e *BodyError) Error() string {
	return "httpclient: " + e.Framing + " body cut short after " + strconv.FormatInt(e.Received, 10) + " bytes: " + e.Err.Error()
}

// Unwrap returns Err.
func (e *BodyError) Unwrap() error { return e.Err }

// Is reports that a BodyError is io.ErrUnexpectedEOF, whatever its Err.
func (e *BodyError) Is(target error) bool { return target == io.ErrUnexpectedEOF }
