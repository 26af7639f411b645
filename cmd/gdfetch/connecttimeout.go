package main

import (
	"context"
	"fmt"
	"time"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
)

// --connect-timeout SECONDS, as curl 7.88's: each connection of the
// request — the first, and a redirect's — must be made within SECONDS
// (whole milliseconds; less than one is none), from the start of its
// connect phase: the name's resolution, the TCP connect (every address in
// turn), a proxy's CONNECT and the TLS handshake. The node shows that phase
// as its client's status (get_http_client_status): STATUS_RESOLVING, then
// STATUS_CONNECTING until STATUS_CONNECTED. A watcher reads the status
// (HTTPClientStatus, safe from any goroutine) every millisecond and, when
// the phase has lasted SECONDS, cancels the try (its context: the frame
// loop's CancelRequest, DoResumable's context under -C -), which gdfetch
// then reports as the node's own timeout would end it — cancel_request,
// then RESULT_TIMEOUT, exit 28 — with curl's message ("Resolving timed out
// after N milliseconds", "Connection timed out after N milliseconds") as
// the cause. The node's TCP connect timeout (Godot's 30 s per address)
// stays; -m bounds the whole request as before, whichever ends first; with
// --retry a connect timeout is retried as any timeout.
//
// Unlike curl, gdfetch has no connect timeout by default (curl's is 300 s),
// and the message does not tell the TCP connect ("Failed to connect to …:
// Timeout was reached"), the TLS handshake ("SSL connection timeout") and
// a proxy's CONNECT ("Proxy CONNECT aborted due to timeout") apart: the
// node's STATUS_CONNECTING covers all three.

// connectPoll is how often the watcher reads the node's status.
const connectPoll = time.Millisecond

// connectTimeoutError is the cause of a try the connect timeout ended.
type connectTimeoutError struct {
	limit   time.Duration     // --connect-timeout
	after   time.Duration     // how long the phase had lasted
	status  httpclient.Status // STATUS_RESOLVING or STATUS_CONNECTING
	flagArg string            // the flag's value as given, for the message
}

func (e *connectTimeoutError) Error() string {
	what := "Connection"
	if e.status == httpclient.StatusResolving {
		what = "Resolving"
	}
	return fmt.Sprintf("--connect-timeout %s: %s timed out after %d milliseconds (%s)",
		e.flagArg, what, e.after.Milliseconds(), e.status)
}

// Timeout reports true, as a net.Error's.
func (e *connectTimeoutError) Timeout() bool { return true }

// connecting reports whether s is the connect phase.
func connecting(s httpclient.Status) bool {
	return s == httpclient.StatusResolving || s == httpclient.StatusConnecting
}

// watchConnect returns ctx for one try, canceled with a
// *connectTimeoutError when n's client stays in its connect phase for
// limit; stop ends the watch (call it when the try has ended).
func watchConnect(ctx context.Context, n *httprequest.HTTPRequest, limit time.Duration) (tctx context.Context, stop func()) {
	tctx, cancel := context.WithCancelCause(ctx)
	go func() {
		t := time.NewTicker(connectPoll)
		defer t.Stop()
		var since time.Time // when the current connect phase was first seen, zero outside one
		for {
			select {
			case <-tctx.Done():
				return
			case now := <-t.C:
				s := n.HTTPClientStatus()
				switch {
				case !connecting(s):
					since = time.Time{}
				case since.IsZero():
					since = now
				case now.Sub(since) >= limit:
					cancel(&connectTimeoutError{limit: limit, after: now.Sub(since), status: s,
						flagArg: formatSeconds(limit)})
					return
				}
			}
		}
	}()
	return tctx, func() { cancel(nil) }
}

// formatSeconds is d in seconds as a flag takes it ("0.5", "2").
func formatSeconds(d time.Duration) string {
	return fmt.Sprint(d.Seconds())
}

// connectTimedOut is the exchange of a try the connect timeout ended, from
// what the try had (its status trace, frames), or nil when ctx's end was
// not the connect timeout's.
func connectTimedOut(tctx context.Context, ex *exchange) *exchange {
	cause, ok := context.Cause(tctx).(*connectTimeoutError)
	if !ok {
		return nil
	}
	if ex == nil {
		ex = &exchange{}
	}
	ex.Completion = httprequest.Completion{Result: httprequest.ResultTimeout}
	ex.Cause = cause
	return ex
}
