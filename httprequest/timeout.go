package httprequest

import "time"

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
//     client's blocked call return at once (httpclient.Client.Abort).
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
	r.timer = time.AfterFunc(d-time.Since(r.begin), func() {
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
