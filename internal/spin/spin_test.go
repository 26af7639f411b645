package spin

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestDetector: calls back to back spin, calls further apart than Window do
// not; the first call never does; Recent looks without recording.
func TestDetector(t *testing.T) {
	var d Detector
	assert.False(t, d.Recent(), "no call yet")
	assert.False(t, d.Mark(), "the first call")
	assert.True(t, d.Recent())
	spins := 0
	for range 100 {
		if d.Mark() {
			spins++
		}
	}
	assert.Positive(t, spins, "back-to-back calls")
	assert.Equal(t, spins, d.Spins)
	time.Sleep(2 * Window)
	assert.False(t, d.Recent(), "a gap longer than Window")
	assert.False(t, d.Recent(), "Recent records nothing")
	assert.False(t, d.Mark(), "a paced call")
	for range 3 {
		time.Sleep(2 * Window)
		assert.False(t, d.Mark(), "paced calls never spin")
	}
}
