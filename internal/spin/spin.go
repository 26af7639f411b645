// Package spin tells a caller that spins — one that calls again at once, as
// a loop of Poll() or Process() without frame pacing does — from one that
// paces its calls (a game's frames, a loop over many clients or nodes).
// Only a spinning caller gains when a call that found nothing to do gives
// up its CPU (sched_yield, runtime.Gosched) to the peer or the goroutine it
// waits for; a paced caller would only pay for the yield, once per object
// per frame (about 2 µs each, 2 ms a frame for a thousand idle nodes).
package spin

import "time"

// Window is the longest gap between two calls that still counts as a spin:
// a spin loop calls again within microseconds, a 240 Hz frame is 4 ms
// apart, and a loop over many objects comes back to each much later.
const Window = 100 * time.Microsecond

// epoch makes the times monotonic (time.Since reads the monotonic clock).
var epoch = time.Now()

// Detector records one object's last call. The zero value is ready. It is
// for the object's owner goroutine only.
type Detector struct {
	last time.Duration
	spun bool // the last Mark reported spinning
	// Spins counts the calls Mark reported as spinning (for tests).
	Spins int
}

// Mark records a call now and reports whether the previous one came within
// Window: the caller spins.
func (d *Detector) Mark() bool {
	now := time.Since(epoch)
	spinning := d.last != 0 && now-d.last < Window
	d.last = now
	d.spun = spinning
	if spinning {
		d.Spins++
	}
	return spinning
}

// Spinning reports, without recording a call, whether the caller spins
// now: its last Mark found it spinning and came within Window of now. A
// paced caller's other call right after its frame's call — a request made
// from a completion handler, or just after Process — is not a spin: that
// Mark came after a whole frame's gap.
func (d *Detector) Spinning() bool {
	return d.spun && d.last != 0 && time.Since(epoch)-d.last < Window
}

// Stretch moves the last call's time to now, keeping what its Mark found:
// for a call that may last — a spinning caller's Process that waited for a
// worker — the gap to the caller's next call counts from the call's end.
func (d *Detector) Stretch() {
	if d.last != 0 {
		d.last = time.Since(epoch)
	}
}
