package httprequest

import (
	"context"
	"time"

	"github.com/gdhttp/gdhttp/godot"
)

// The timeout (§2.11): wall clock (§7 D4, as Godot 4.6+ ignores time_scale),
// measured from the Request call — before URL parsing (§2.4.3) — over DNS,
// connect, TLS, every redirect hop (§2.8.1.8) and the whole body; never
// extended by progress (§2.11.1). Expiry is cancel_request() plus
// RESULT_TIMEOUT with code 0 (§2.11.2).
//
// How each driver sees it:
//   - Process: checked after each step, on the caller's goroutine (Godot's
//     Timer is processed after the node in the same frame). A step that
//     completes the request wins over an expiry noticed in the same frame.
//   - use_threads and Do: a timer interrupts the request, making the
//     client's blocked call return at once (httpclient.Client.Abort). A
//     failure the steps meet once the timeout (or Do's context deadline)
//     has passed by the clock is the timeout too (overdue): on a loaded
//     machine the timer's goroutine may run after the steps met the end
//     the timeout came before — a server's reset after the deadline read
//     as RESULT_CONNECTION_ERROR.
//
// A completion and a timeout are mutually exclusive (the run's state changes
// once): Godot's race that can emit the real result and then RESULT_TIMEOUT
// (§2.11.5) is not reproduced (§7 D3/D6), nor the spurious RESULT_TIMEOUT
// after a Request that returned an error (§2.11.6, §7 D6).

// armTimer starts the timer of a blocking driver: after d from the run's
// beginning the run is interrupted with RESULT_TIMEOUT and cause.
func (r *run) armTimer(d time.Duration, cause error) {
	if d <= 0 {
		return
	}
	fired := make(chan struct{})
	r.timerFired = fired
	r.timer = afterFunc(d-time.Since(r.begin), func() {
		defer close(fired)
		r.interrupt(phaseTimedOut, cause)
	})
}

// stopTimer stops the timer and waits for its function if it already
// started, so that it never outlives the request.
func (r *run) stopTimer() {
	if r.timer == nil {
		return
	}
	if !r.timer.Stop() {
		<-r.timerFired
	}
	r.timer = nil
}

// afterFunc is time.AfterFunc; tests delay it to play a timer whose
// goroutine the scheduler runs late.
var afterFunc = time.AfterFunc

// overdue reports whether a blocking driver's request has passed its
// timeout or Do's context deadline by the clock, and the cause of that
// RESULT_TIMEOUT (the earlier of the two). The Process driver checks the
// timeout after each step instead, in Godot's order (§2.11): never overdue.
func (r *run) overdue() (bool, error) {
	if r.driver == driverProcess {
		return false, nil
	}
	var due time.Time
	var cause error
	if r.timeout > 0 {
		due, cause = r.begin.Add(r.timeout), godot.ErrTimeout
	}
	if r.ctx != nil && r.ctx.Err() != context.Canceled {
		// (A context canceled before its deadline is no timeout when the
		// request fails after it, before the cancel's interrupt ran: the
		// cause would say both, with a completion.)
		if d, ok := r.ctx.Deadline(); ok && (cause == nil || d.Before(due)) {
			due, cause = d, withCause(r.ctx, context.DeadlineExceeded)
		}
	}
	if cause == nil || time.Now().Before(due) {
		return false, nil
	}
	return true, cause
}
