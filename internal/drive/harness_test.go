package drive

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordTB records NoFDLeft's failure instead of failing the test.
type recordTB struct {
	testing.TB
	failed bool
}

func (r *recordTB) Helper()               {}
func (r *recordTB) Errorf(string, ...any) { r.failed = true }

// TestNoFDLeft: a file left open past the slack is reported, one closed is
// not; Counts lists the tallies by name.
func TestNoFDLeft(t *testing.T) {
	before := FDs()
	if before < 0 {
		t.Skip("no /proc/self/fd")
	}
	// Twenty files, so that descriptors an earlier test leaves closing
	// meanwhile cannot hide them.
	var files []*os.File
	for range 20 {
		f, err := os.Open(os.DevNull)
		require.NoError(t, err)
		files = append(files, f)
	}
	r := &recordTB{TB: t}
	NoFDLeft(r, before, 0)
	assert.True(t, r.failed, "open files are descriptors left")
	r = &recordTB{TB: t}
	NoFDLeft(r, before, 40)
	assert.False(t, r.failed, "within the slack")
	for _, f := range files {
		require.NoError(t, f.Close())
	}
	r = &recordTB{TB: t}
	NoFDLeft(r, before, 0)
	assert.False(t, r.failed, "closed")
	assert.Equal(t, "\n      2 a\n     10 b", Counts(map[string]int{"b": 10, "a": 2}))
}
