package httprequest

// The phases of a run. The first three are Godot's request_sent and
// got_response flags (§2.6) as one value; the last four are the ways a run
// ends. Exactly one transition out of the running phases happens (a
// compare-and-swap against the phase it leaves), which is what makes a
// completion, a timeout and a cancel mutually exclusive (no double
// completion, §2.11.5 and §2.12.4 are not reproduced). Every change goes
// through run.setPhase, checked against legalPhases in the tests.
type phase int32

const (
	phaseConnecting phase = iota // connecting; the request is not sent (Godot: !request_sent)
	phaseRequesting              // the request was sent, no response handled yet
	phaseBody                    // a response was handled (Godot: got_response): its body, or the end
	phaseDone                    // the response was complete: RESULT_SUCCESS, unless the decoder's or the file's end fails
	phaseFailed                  // ended with another result
	phaseTimedOut                // interrupted by the timeout (RESULT_TIMEOUT)
	phaseCanceled                // interrupted by a cancel: no completion
)

var phaseNames = [...]string{"connecting", "requesting", "body", "done", "failed", "timed-out", "canceled"}

func (p phase) String() string {
	if p >= 0 && int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "phase(?)"
}

// running reports whether the run has not ended.
func (p phase) running() bool { return p <= phaseBody }

// legalPhases is the run's machine, each transition with the rule that
// allows it. A running phase may also end in any of the four end phases
// listed under endPhases.
var legalPhases = map[[2]phase]string{
	{phaseConnecting, phaseRequesting}: "§2.6 CONNECTED: request_raw sent, request_sent = true",
	{phaseRequesting, phaseBody}:       "§2.7 _handle_response: got_response = true",
	{phaseRequesting, phaseConnecting}: "§7.2 connection reuse: a kept connection failed before any response; sent again on a new one",
	{phaseConnecting, phaseConnecting}: "§7.2 connection reuse: the retry's connection failed before the request was sent",
	{phaseBody, phaseConnecting}:       "§2.8.1 redirect: a new connection, request_sent = got_response = false",

	{phaseBody, phaseDone}: "§2.6, §2.6.1 a complete response: RESULT_SUCCESS (§2.8.2.4, §2.9: unless the decoder or the file fails at the end)",

	{phaseConnecting, phaseFailed}: "§2.6 CANT_RESOLVE / CANT_CONNECT / TLS / DISCONNECTED before the request",
	{phaseRequesting, phaseFailed}: "§2.6, §2.7.1 connection error, no response",
	{phaseBody, phaseFailed}:       "§2.6.1, §2.8, §2.9 a result from the response or its body",
}

// endPhases are the interruptions, legal from every running phase.
var endPhases = map[phase]string{
	phaseTimedOut: "§2.11 the timeout fired",
	phaseCanceled: "§2.12 cancel_request()",
}

// legalPhase reports whether from → to is in the machine.
func legalPhase(from, to phase) bool {
	if _, ok := legalPhases[[2]phase{from, to}]; ok {
		return true
	}
	_, ok := endPhases[to]
	return ok && from.running()
}

// phase returns the run's phase. Any goroutine may call it.
func (r *run) phase() phase { return phase(r.state.Load()) }

// setPhase moves a running run to phase to and reports whether it did; it
// does nothing once the run ended (an interruption won the race). Only the
// goroutine doing the steps moves between running phases; an interruption
// may end the run from another goroutine, hence the loop.
func (r *run) setPhase(to phase) bool {
	for {
		from := r.phase()
		if !from.running() {
			return false
		}
		if r.state.CompareAndSwap(int32(from), int32(to)) {
			if h := r.n.onPhase; h != nil {
				h(from, to)
			}
			return true
		}
	}
}

// requestSent is Godot's request_sent (true once the run ended).
func (r *run) requestSent() bool { return r.phase() != phaseConnecting }

// gotResponse is Godot's got_response (true once the run ended).
func (r *run) gotResponse() bool { return r.phase() >= phaseBody }
