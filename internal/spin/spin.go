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

// MaxWait is the longest one call of a caller that spins on its object
// alone (Alone) waits for what the object waits for — a goroutine's report
// (Await), the socket — instead of returning at once: parked, the caller
// leaves its CPU to them, and the runtime polls the network.
const MaxWait = time.Millisecond

// epoch makes the times monotonic (time.Since reads the monotonic clock).
var epoch = time.Now()

// lastLoop is the loop of the process's latest Mark (Alone): the id of its
// Detector, or of the Detector's owner (Join).
var lastLoop atomic.Uint64

// ids numbers the Detectors as they first Mark.
var ids atomic.Uint64

// ClientDetector returns an httpclient.Client's Detector; package httpclient
// sets it. httprequest joins the Detector of a node's client to the node's.
var ClientDetector func(client any) *Detector

// aloneRun is how many spinning Marks in a row, with no other Detector's
// Mark between them, make a caller spin on its object alone (Alone): a
// caller that makes two calls in one frame makes one.
const aloneRun = 3

// Detector records one object's last call. The zero value is ready. It is
// for the object's owner goroutine only.
type Detector struct {
	last  time.Duration
	spun  bool      // the last Mark reported spinning
	id    uint64    // from ids, at the first Mark (or Join)
	owner *Detector // Join's
	run   int       // spinning Marks in a row, none of another loop's between
	// broken: a Touch found another loop's call since the last Mark.
	broken bool
	timer  *time.Timer // Await's, made at its first wait
	// Spins counts the calls Mark reported as spinning (for tests).
	Spins int
	// Waits counts the waits of the caller's calls (Waited; for tests).
	Waits int
}

// Mark records a call now and reports whether the previous one came within
// Window: the caller spins.
func (d *Detector) Mark() bool {
	now := time.Since(epoch)
	loop := d.loop()
	same := lastLoop.Swap(loop) == loop && !d.broken
	d.broken = false
	spinning := d.last != 0 && now-d.last < Window
	switch {
	case spinning && same:
		d.run++
	case spinning:
		d.run = 1 // another object's call came between: a loop over several
	default:
		d.run = 0
	}
	d.last = now
	d.spun = spinning
	if spinning {
		d.Spins++
	}
	return spinning
}

// Alone reports whether the caller spins on this object and nothing else:
// its last aloneRun Marks spun, and no Detector of another loop (Join) was
// marked since the first of them. Only such a caller may be kept waiting
// in a call (a use_threads node's Process, a Poll waiting for the client's
// goroutine): one that calls the object twice in a frame, or drives other
// objects in the same loop, would have them all wait with it.
//
// A Detector joined to an owner (Join) is alone when its owner is: the
// caller's loop is over the owner's calls.
func (d *Detector) Alone() bool {
	if d.owner != nil {
		return d.owner.Alone()
	}
	return d.spun && d.run >= aloneRun && lastLoop.Load() == d.loop()
}

// Touch records a call to the object that is no Mark — one that found
// something to do, or found nothing where no yield follows: the caller's
// loop is on this object now, so another object's run of Marks ends there
// (Alone). An object driven with others in one loop is then never alone,
// though only the others make progress and only it marks.
func (d *Detector) Touch() {
	if loop := d.loop(); lastLoop.Load() != loop {
		lastLoop.Store(loop)
		d.broken = true
	}
}

// Join makes d's Marks part of owner's loop: an object that another one
// drives (the HTTPClient a node polls in its Process) is alone with its
// owner when the caller spins on the owner alone, and Marks of either do
// not end the other's run. owner must have no owner itself. Join comes
// before either Marks; d may then Mark on another goroutine than owner's.
func (d *Detector) Join(owner *Detector) {
	if owner.id == 0 {
		owner.id = ids.Add(1)
	}
	d.owner = owner
}

// loop is the id of the loop d's Marks belong to: its owner's, or its own.
func (d *Detector) loop() uint64 {
	if d.owner != nil {
		d = d.owner
	}
	if d.id == 0 {
		d.id = ids.Add(1)
	}
	return d.id
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

// Waited records that the caller's call just waited (at most MaxWait): the
// gap to its next call counts from now (Stretch), so that call still spins
// if it comes at once.
func (d *Detector) Waited() {
	d.Stretch()
	d.Waits++
}

// Await is a wait of the caller's call for a report on ch, at most MaxWait,
// for a caller that spins on d's object alone; ok says the report came (a
// value, or ch closed). It is Waited.
func Await[T any](d *Detector, ch <-chan T) (v T, ok bool) {
	if d.timer == nil {
		d.timer = time.NewTimer(MaxWait)
	} else {
		d.timer.Reset(MaxWait)
	}
	select {
	case v = <-ch:
		d.timer.Stop()
		ok = true
	case <-d.timer.C:
	}
	d.Waited()
	return v, ok
}
