package testserver

import (
	"errors"
	"strconv"
)

// Errors returned by Conn methods and recorded by Server.Errors.
var (
	// ErrServerClosed is returned by every blocking Conn method once the
	// Server is closing; handlers should return when they see it. It is never
	// recorded in Server.Errors.
	ErrServerClosed = errors.New("testserver: server closed")

	// ErrMalformedRequest is returned by ReadRequest when the bytes received
	// cannot be framed as an HTTP/1.1 request (bad Content-Length, conflicting
	// Content-Length values, bad chunk size line or chunk terminator). The
	// error is wrapped with the detail.
	ErrMalformedRequest = errors.New("testserver: malformed request")

	// ErrRequestTooLarge is returned by ReadRequest when the request (head and
	// body) would exceed the limit set by WithMaxRequest.
	ErrRequestTooLarge = errors.New("testserver: request too large")

	// ErrBadSplit is returned by WriteSplit when the split offsets are not
	// strictly increasing inside (0, len(b)).
	ErrBadSplit = errors.New("testserver: split offsets must be strictly increasing inside (0, len)")

	// ErrNotClosed is returned by the WaitClosed step when the client did not
	// close its side of the connection in time.
	ErrNotClosed = errors.New("testserver: client did not close the connection")

	// ErrProxyTarget is recorded by the proxies when a request names a target
	// that is not a loopback authority (or not absolute-form http:// for the
	// forward proxy). The proxies never dial anything but loopback.
	ErrProxyTarget = errors.New("testserver: proxy target is not a loopback authority")
)

// ConnError is what Server.Errors records: the error of one operation on one
// connection. Conn is the connection's index in accept order, Step the index
// of the script step that failed (-1 outside a script), Op the step or
// operation name ("write", "handshake", "panic", "proxy-dial"...).
type ConnError struct {
	Conn int
	Step int
	Op   string
	Err  error
}

// Error implements error.
func (e *ConnError) Error() string {
	s := "testserver: conn " + strconv.Itoa(e.Conn)
	if e.Step >= 0 {
		s += " step " + strconv.Itoa(e.Step)
	}
	return s + " (" + e.Op + "): " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *ConnError) Unwrap() error { return e.Err }
