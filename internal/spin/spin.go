// Package spin tells a caller that spins — one that calls again at once, as
// a loop of Poll() or Process() without frame pacing does — from one that
// paces its calls (a game's frames, a loop over many clients or nodes).
// Only a spinning caller gains when a call that found nothing to do gives
// up its CPU (sched_yield, runtime.Gosched) to the peer or the goroutine it
// waits for; a paced caller would only pay for the yield, once per object
// per frame (about 2 µs each, 2 ms a frame for a thousand idle nodes).
package spin

import (
	"sync/atomic"
	"time"
)

// Window is the longest gap between two calls that still counts as a spin:
// a spin loop calls again within microseconds, a 240 Hz frame is 4 ms
// apart, and a loop over many objects comes back to each much later.
const Window = 100 * time.Microsecond

// epoch makes the times monotonic (time.Since reads the monotonic clock).
var epoch = time.Now()

// marks counts every Detector's Marks, process-wide (Alone).
var marks atomic.Uint64

// aloneRun is how many spinning Marks in a row, with no other Detector's
// Mark between them, make a caller spin on its object alone (Alone): a
// caller that makes two calls in one frame makes one.
const aloneRun = 3

// Detector records one object's last call. The zero value is ready. It is
// for the object's owner goroutine only.
type Detector struct {
	last time.Duration
	spun bool   // the last Mark reported spinning
	seq  uint64 // marks at the last Mark
	run  int    // spinning Marks in a row, none of another Detector between
	// Spins counts the calls Mark reported as spinning (for tests).
	Spins int
}

// Mark records a call now and reports whether the previous one came within
// Window: the caller spins.
func (d *Detector) Mark() bool {
	now := time.Since(epoch)
	seq := marks.Add(1)
	spinning := d.last != 0 && now-d.last < Window
	switch {
	case spinning && seq == d.seq+1:
		d.run++
	case spinning:
		d.run = 1 // another object's call came between: a loop over several
	default:
		d.run = 0
	}
	d.last, d.seq = now, seq
	d.spun = spinning
	if spinning {
		d.Spins++
	}
	return spinning
}

// Alone reports whether the caller spins on this object and nothing else:
// its last aloneRun Marks spun, and no other Detector of the process was
// marked since the first of them. Only such a caller may be kept waiting
// in a call (a use_threads node's Process): one that calls the object
// twice in a frame, or drives other objects in the same loop, would have
// them all wait with it.
func (d *Detector) Alone() bool {
	return d.spun && d.run >= aloneRun && marks.Load() == d.seq
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
