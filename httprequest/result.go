package httprequest

import (
	"context"
	"errors"
	"strconv"
)

// Result is Godot's HTTPRequest.Result enum: how a request ended. The numbers
// and names are Godot 4's (§2.10, §3: the 3.4 renumbering).
//
// A Result is also an error, so Do can return it (wrapped in a *ResultError
// that keeps the real cause) and callers can test it with errors.Is. Do never
// returns ResultSuccess as an error: success is a nil error.
//
// Godot: HTTPRequest.Result
type Result int

// Godot's results, in Godot's order and with Godot's numbers (§2.10).
const (
	// ResultSuccess: the request completed; the response code, headers and
	// body are delivered (any status code, 4xx and 5xx included).
	ResultSuccess Result = iota // Godot: HTTPRequest.RESULT_SUCCESS
	// ResultChunkedBodySizeMismatch: a chunked body that did not match its
	// Content-Length, or (§7 D3) a chunked body cut short.
	ResultChunkedBodySizeMismatch // Godot: HTTPRequest.RESULT_CHUNKED_BODY_SIZE_MISMATCH
	// ResultCantConnect: the connection could not be made, or was lost before
	// a fixed-length body was complete.
	ResultCantConnect // Godot: HTTPRequest.RESULT_CANT_CONNECT
	// ResultCantResolve: the host name could not be resolved.
	ResultCantResolve // Godot: HTTPRequest.RESULT_CANT_RESOLVE
	// ResultConnectionError: an I/O or protocol error, or the client refused
	// the request.
	ResultConnectionError // Godot: HTTPRequest.RESULT_CONNECTION_ERROR
	// ResultTLSHandshakeError: the TLS handshake or certificate check failed.
	ResultTLSHandshakeError // Godot: HTTPRequest.RESULT_TLS_HANDSHAKE_ERROR
	// ResultNoResponse: the response head carried no header lines (§2.7.1).
	ResultNoResponse // Godot: HTTPRequest.RESULT_NO_RESPONSE
	// ResultBodySizeLimitExceeded: the body (decompressed) exceeded
	// body_size_limit.
	ResultBodySizeLimitExceeded // Godot: HTTPRequest.RESULT_BODY_SIZE_LIMIT_EXCEEDED
	// ResultBodyDecompressFailed: the body could not be decompressed.
	ResultBodyDecompressFailed // Godot: HTTPRequest.RESULT_BODY_DECOMPRESS_FAILED
	// ResultRequestFailed is never produced by Godot's paths (Godot never
	// produces it either). Two opt-ins end with it: a streamed upload
	// (RequestStream) whose redirect needs a body it cannot send again
	// (ErrBodyNotReplayable), and a response refused by the function of
	// SetResponseFunc; both carry the response's code and headers.
	ResultRequestFailed // Godot: HTTPRequest.RESULT_REQUEST_FAILED
	// ResultDownloadFileCantOpen: download_file could not be opened for
	// writing.
	ResultDownloadFileCantOpen // Godot: HTTPRequest.RESULT_DOWNLOAD_FILE_CANT_OPEN
	// ResultDownloadFileWriteError: writing the body to download_file (or to
	// the body writer) failed.
	ResultDownloadFileWriteError // Godot: HTTPRequest.RESULT_DOWNLOAD_FILE_WRITE_ERROR
	// ResultRedirectLimitReached: max_redirects redirects were followed and
	// another one was asked for.
	ResultRedirectLimitReached // Godot: HTTPRequest.RESULT_REDIRECT_LIMIT_REACHED
	// ResultTimeout: the timeout expired (§2.11), or Do's context deadline
	// passed.
	ResultTimeout // Godot: HTTPRequest.RESULT_TIMEOUT
)

var resultNames = [...]string{
	"RESULT_SUCCESS",
	"RESULT_CHUNKED_BODY_SIZE_MISMATCH",
	"RESULT_CANT_CONNECT",
	"RESULT_CANT_RESOLVE",
	"RESULT_CONNECTION_ERROR",
	"RESULT_TLS_HANDSHAKE_ERROR",
	"RESULT_NO_RESPONSE",
	"RESULT_BODY_SIZE_LIMIT_EXCEEDED",
	"RESULT_BODY_DECOMPRESS_FAILED",
	"RESULT_REQUEST_FAILED",
	"RESULT_DOWNLOAD_FILE_CANT_OPEN",
	"RESULT_DOWNLOAD_FILE_WRITE_ERROR",
	"RESULT_REDIRECT_LIMIT_REACHED",
	"RESULT_TIMEOUT",
}

// String returns Godot's constant name, e.g. "RESULT_TIMEOUT"; a value
// outside the enum prints as "Result(n)".
func (r Result) String() string {
	if r >= 0 && int(r) < len(resultNames) {
		return resultNames[r]
	}
	return "Result(" + strconv.Itoa(int(r)) + ")"
}

// Error implements error; the text is Godot's constant name.
func (r Result) Error() string { return r.String() }

// Completion is what Godot's request_completed signal carries: the result, the
// response code, the response headers (the raw stripped lines of §1.8.5, in
// order, duplicates kept) and the body (empty when it went to download_file or
// to a body writer). wire.HTTPHeader(c.Headers) gives the headers as an
// http.Header; wire.HeaderValue(c.Headers, "content-type") looks one up as
// Godot's node does.
//
// Godot: HTTPRequest.request_completed
type Completion struct {
	Result       Result
	ResponseCode int
	Headers      []string
	Body         []byte
}

// ResultError is the error Do returns for a request that ended with a Result
// other than ResultSuccess. It keeps the real cause, so both
//
//	errors.Is(err, httprequest.ResultCantResolve)
//	errors.As(err, &dnsErr) // *net.DNSError
//
// work on the same value. Every ResultError the node makes has a Cause.
//
// A timed-out request answers the checks net/http's Client.Timeout error
// answers, whichever deadline passed (the node's timeout, whose cause is
// godot.ErrTimeout, or Do's context deadline): errors.Is(err,
// context.DeadlineExceeded), os.IsTimeout(err) and a Timeout method.
// errors.Is(err, godot.ErrTimeout) tells the node's own timeout apart.
type ResultError struct {
	Result Result
	Cause  error
}

// Error returns "httprequest: RESULT_…" followed by the cause, if any.
func (e *ResultError) Error() string {
	s := "httprequest: " + e.Result.String()
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the Result and, when present, the cause.
func (e *ResultError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Result}
	}
	return []error{e.Result, e.Cause}
}

// Is reports that a RESULT_TIMEOUT is context.DeadlineExceeded, as
// net/http's Client.Timeout error is, whichever deadline passed: Do's context
// deadline (the cause says it already) or the node's timeout (SetTimeout).
// Godot's result is unchanged; only errors.Is sees it.
func (e *ResultError) Is(target error) bool {
	return target == context.DeadlineExceeded && e.Result == ResultTimeout
}

// Timeout reports whether the request ended because something took too long:
// RESULT_TIMEOUT, or a cause that reports a timeout itself (a TCP connect past
// its timeout, inside RESULT_CANT_CONNECT), as net/http's *url.Error reports
// its cause's. It makes os.IsTimeout(err) work on Do's error.
func (e *ResultError) Timeout() bool {
	if e.Result == ResultTimeout {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(e.Cause, &t) && t.Timeout()
}

// resultErr returns nil for ResultSuccess and a *ResultError otherwise.
func resultErr(r Result, cause error) error {
	if r == ResultSuccess {
		return nil
	}
	return &ResultError{Result: r, Cause: cause}
}
