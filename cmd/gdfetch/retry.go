package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/wire"
)

// --retry N and its companions, as curl 7.88's post_per_transfer decides
// them: a try that failed for a transient reason — a timeout (exit 28; a
// name that did not resolve, 6 and 5, counts as one too, as curl's), a
// response code of 408, 429, 500, 502, 503 or 504, a refused connection
// with --retry-connrefused, any failure with --retry-all-errors — is made
// again, up to N more times, while --retry-max-time has not passed since
// the first try began. The wait before a retry is --retry-delay, or 1 s
// doubling after each retry (at most 10 minutes); a transient response's
// Retry-After (seconds, or an HTTP date) replaces it, as curl's does, and
// a retry it would push past --retry-max-time is not made.
//
// The body of a transient response that will be retried is not read
// (retryResponse refuses it at its head), so it reaches neither stdout
// nor -o FILE; curl writes it to stdout and truncates -o FILE.

// retryOpts are the --retry flags.
type retryOpts struct {
	count       int           // --retry: how many retries at most
	delay       time.Duration // --retry-delay: the wait, 0 for curl's doubling one
	maxTime     time.Duration // --retry-max-time: no retry after this long since the first try, 0 none
	connRefused bool          // --retry-connrefused
	allErrors   bool          // --retry-all-errors
}

// retrySleep waits d before a retry, or until ctx ends (Ctrl-C): a
// variable, so that tests need not wait seconds.
var retrySleep = func(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// retrySleepMax is curl's RETRY_SLEEP_MAX: the doubling wait stops there.
const retrySleepMax = 10 * time.Minute

// errRetryResponse is retryResponse's refusal of a transient response that
// will be retried: its body is not read.
var errRetryResponse = errors.New("gdfetch: --retry: a transient response, tried again")

// retrier is one run's retry state: the tries left, the next wait, and
// when the first try began.
type retrier struct {
	opts    retryOpts
	left    int
	backoff time.Duration // the wait without a Retry-After
	start   time.Time
	now     func() time.Time
}

func newRetrier(o retryOpts, now func() time.Time) *retrier {
	r := &retrier{opts: o, left: o.count, backoff: time.Second, start: now(), now: now}
	if o.delay > 0 {
		r.backoff = o.delay
	}
	return r
}

// transientCode reports whether curl retries a response with this code.
func transientCode(code int) bool {
	switch code {
	case 408, 429, 500, 502, 503, 504:
		return true
	}
	return false
}

// reason is curl's word for why a try is retried, "" for a try that is
// not: code is the try's exit status.
func (r *retrier) reason(ex *exchange, code int) string {
	switch {
	case code == exitTimeout || code == exitResolve || code == exitProxyName:
		return ": timeout"
	case r.opts.connRefused && code == exitConnect && connRefused(ex.Cause):
		return ": connection refused"
	case transientCode(ex.ResponseCode) && (code == exitOK || code == exitHTTPError ||
		errors.Is(ex.Cause, errRetryResponse) || errors.Is(ex.Cause, httprequest.ErrResumeStatus)):
		return ": HTTP error"
	case code != exitOK && r.opts.allErrors:
		return "(retrying all errors)"
	}
	return ""
}

// next decides a retry for a try that failed for reason, with the
// response's headers: the wait, or ok false when no retry follows (none
// left, --retry-max-time passed, or a Retry-After past it: warn says so).
// It does not count the retry: take does.
func (r *retrier) next(reason string, headers []string) (wait time.Duration, ok bool, warn string) {
	elapsed := r.now().Sub(r.start)
	if r.left <= 0 || reason == "" || r.opts.maxTime > 0 && elapsed >= r.opts.maxTime {
		return 0, false, ""
	}
	wait = r.backoff
	if reason == ": HTTP error" {
		if after, ok := retryAfter(wire.FieldValue(headers, "retry-after"), r.now()); ok {
			wait = after
			if r.opts.maxTime > 0 && elapsed.Truncate(time.Second)+after > r.opts.maxTime {
				return 0, false, "Warning: The Retry-After: time would make this command line exceed the maximum allowed time for retries.\n"
			}
		}
	}
	return wait, true, fmt.Sprintf("Warning: Problem %s. Will retry in %d seconds. %d retries left.\n", reason, int64(wait/time.Second), r.left)
}

// take counts a retry and doubles the next wait, as curl, unless
// --retry-delay fixed it.
func (r *retrier) take() {
	r.left--
	if r.opts.delay == 0 {
		r.backoff = min(2*r.backoff, retrySleepMax)
	}
}

// retryAfter reads a Retry-After value: seconds, or an HTTP date (the time
// until it); ok is false for none, a zero wait, or a value it cannot read
// (curl then waits as without one).
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0, false
		}
		return time.Duration(min(n, math.MaxInt64/int64(time.Second))) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil || !t.After(now) {
		return 0, false
	}
	return t.Sub(now).Truncate(time.Second), true
}

// retryResponse is the node's response function (SetResponseFunc) with
// --retry: a transient response that will be retried ends the request at
// its head, so that its body is written nowhere; any other goes to -f's
// check (failResponse) when -f is given.
func retryResponse(r *retrier, fail func(int, []string) error) func(int, []string) error {
	return func(code int, h []string) error {
		if transientCode(code) {
			if _, ok, _ := r.next(": HTTP error", h); ok {
				return errRetryResponse
			}
		}
		if fail != nil {
			return fail(code, h)
		}
		return nil
	}
}
