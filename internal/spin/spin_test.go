package spin

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestDetector: calls back to back spin, calls further apart than Window do
// not; the first call never does; Spinning looks without recording, and is
// true only after a Mark that found a spin, within Window of it.
func TestDetector(t *testing.T) {
	var d Detector
	assert.False(t, d.Spinning(), "no call yet")
	assert.False(t, d.Mark(), "the first call")
	assert.False(t, d.Spinning(), "one call is no spin, however recent")
	spins := 0
	for range 100 {
		if d.Mark() {
			spins++
		}
	}
	assert.Positive(t, spins, "back-to-back calls")
	assert.Equal(t, spins, d.Spins)
	// The look right after a spinning Mark (a few tries: a loaded machine
	// may deschedule the test between the two).
	spinning := false
	for range 50 {
		if d.Mark() && d.Spinning() {
			spinning = true
			break
		}
	}
	assert.True(t, spinning, "right after a spinning Mark")
	spins = d.Spins
	time.Sleep(2 * Window)
	assert.False(t, d.Spinning(), "a gap longer than Window")
	assert.False(t, d.Mark(), "a paced call")
	assert.False(t, d.Spinning(), "right after a paced call: a paced caller's second call in its frame")
	for range 3 {
		time.Sleep(2 * Window)
		assert.False(t, d.Mark(), "paced calls never spin")
		assert.False(t, d.Spinning())
	}
	assert.Equal(t, spins, d.Spins, "paced calls and Spinning add no spin")
}

// TestStretch: a call that lasted longer than Window is still followed by a
// spin when the next call comes right after its end; Stretch keeps what the
// call's Mark found, and does nothing before the first Mark.
func TestStretch(t *testing.T) {
	var d Detector
	d.Stretch()
	assert.False(t, d.Mark(), "the first call, after a Stretch with none before")
	stretched := false
	for range 50 { // a loaded machine may deschedule the test between two calls
		time.Sleep(2 * Window) // the call lasts
		d.Stretch()
		if d.Mark() {
			stretched = true
			break
		}
	}
	assert.True(t, stretched, "a call right after a long one's end spins")
	time.Sleep(2 * Window)
	assert.False(t, d.Mark(), "without Stretch the gap counts from the call's start")
	spinning := false
	for range 50 {
		if d.Mark() {
			d.Stretch()
			if spinning = d.Spinning(); spinning {
				break
			}
		}
	}
	assert.True(t, spinning, "Stretch keeps the Mark's finding")
}

// TestAlone: a caller spins on an object alone once aloneRun Marks in a row
// spun with no other Detector marked between them; a Mark of another object
// in between (a loop over several), or a paced call, starts the count
// again.
func TestAlone(t *testing.T) {
	alone := func(d *Detector, calls int) bool {
		for range 50 { // a loaded machine may deschedule the test between two calls
			for range calls {
				d.Mark()
			}
			if d.Alone() {
				return true
			}
		}
		return false
	}
	var a, b Detector
	assert.False(t, a.Alone(), "no call yet")
	assert.True(t, alone(&a, aloneRun+1), "a loop over one object")
	b.Mark()
	assert.False(t, a.Alone(), "another object's call since the last")
	for range 100 { // a loop over two objects
		a.Mark()
		b.Mark()
		assert.False(t, a.Alone())
		assert.False(t, b.Alone())
	}
	time.Sleep(2 * Window)
	a.Mark() // a paced call: the count starts again
	for range aloneRun - 1 {
		a.Mark()
	}
	assert.False(t, a.Alone(), "fewer than aloneRun spinning calls") // a late one only restarts the count
	assert.True(t, alone(&a, 1), "and then alone again")
}

// TestJoin: Marks of a Detector joined to an owner (a node's client, marked
// inside the node's Process) count as the owner's loop: a caller that spins
// on the owner alone spins on both alone. Another object's Mark ends both
// runs.
func TestJoin(t *testing.T) {
	var owner, client, other Detector
	client.Join(&owner)
	both := func() bool {
		for range 50 { // a loaded machine may deschedule the test between two calls
			for range aloneRun + 1 {
				owner.Mark()
				client.Mark()
			}
			if owner.Alone() && client.Alone() {
				return true
			}
		}
		return false
	}
	assert.True(t, both(), "a loop over the owner, which drives its client")
	other.Mark()
	assert.False(t, owner.Alone(), "another object's call since the owner's last")
	assert.False(t, client.Alone(), "another object's call since the client's last")
	for range 100 { // a loop over the owner and another object
		owner.Mark()
		client.Mark()
		other.Mark()
		assert.False(t, client.Alone())
		assert.False(t, owner.Alone())
		assert.False(t, other.Alone())
	}
	assert.True(t, both(), "and then alone again")
}

// TestAwait: a wait ends with the report (a value, or the channel closed)
// or after MaxWait without one, and each counts in Waits.
func TestAwait(t *testing.T) {
	var d Detector
	ch := make(chan int, 1)
	ch <- 7
	v, ok := Await(&d, ch)
	assert.True(t, ok)
	assert.Equal(t, 7, v)
	begin := time.Now()
	_, ok = Await(&d, ch)
	assert.False(t, ok, "nothing reported")
	assert.GreaterOrEqual(t, time.Since(begin), MaxWait)
	done := make(chan struct{})
	close(done)
	_, ok = Await(&d, done)
	assert.True(t, ok, "a closed channel is the report")
	assert.Equal(t, 3, d.Waits)
}
