package httpclient

import (
	"errors"
	"net"
	"net/http/httptrace"
	"strconv"
)

// reqTrace is what the Client calls of a Transport request's
// httptrace.ClientTrace (Client.trace): wrote once the whole request is
// written (the head leaves with the body's first bytes, so WroteHeaders
// comes with WroteRequest), firstByte at the first byte of the response.
type reqTrace struct {
	trace     *httptrace.ClientTrace
	written   bool
	firstByte func()
}

// newReqTrace returns the hooks the Client calls for trace, nil when there
// are none to call.
func newReqTrace(trace *httptrace.ClientTrace) *reqTrace {
	if trace == nil || trace.WroteHeaders == nil && trace.WroteRequest == nil && trace.GotFirstResponseByte == nil {
		return nil
	}
	return &reqTrace{trace: trace, firstByte: trace.GotFirstResponseByte}
}

// wrote is called by the Client when the whole request is written.
func (r *reqTrace) wrote() {
	r.written = true
	if r.trace.WroteHeaders != nil {
		r.trace.WroteHeaders()
	}
	if r.trace.WroteRequest != nil {
		r.trace.WroteRequest(httptrace.WroteRequestInfo{})
	}
}

// failed reports a request that failed before it was written whole:
// WroteRequest with the error, as net/http's.
func (r *reqTrace) failed(err error) {
	if r != nil && !r.written && r.trace.WroteRequest != nil {
		r.written = true
		r.trace.WroteRequest(httptrace.WroteRequestInfo{Err: err})
	}
}

// hostPort is what httptrace's GetConn is given: the address connected
// to, the proxy's when there is one (as net/http).
func (k connKey) hostPort() string {
	if k.proxyPort != -1 {
		return net.JoinHostPort(k.proxyHost, strconv.Itoa(k.proxyPort))
	}
	return net.JoinHostPort(k.host, strconv.Itoa(k.port))
}

// Why a connection that finished a response was not pooled (httptrace's
// PutIdleConn), with net/http's texts.
var (
	errKeepAlivesDisabled = errors.New("http: putIdleConn: keep alives disabled")
	errTooManyIdle        = errors.New("http: putIdleConn: too many idle connections for host")
	errCloseIdle          = errors.New("http: putIdleConn: CloseIdleConnections was called")
)
