package hugepage

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// marked keeps the buffers the tests marked alive, so that no later
// allocation of the test process reuses a marked range.
var marked [][]byte

func requireSupported(t *testing.T) {
	t.Helper()
	if !Supported() {
		t.Skip("this kernel has no transparent huge pages, or GODEBUG=disablethp=1")
	}
}

func mark(t *testing.T, b []byte) bool {
	t.Helper()
	m, err := Marked(b)
	require.NoError(t, err)
	return m
}

func TestAdviseMarksLargeBuffer(t *testing.T) {
	requireSupported(t)
	b := make([]byte, 0, 16<<20)
	marked = append(marked, b)
	require.False(t, mark(t, b[:1]), "the Go heap is not marked before Advise")
	Advise(b)
	assert.True(t, mark(t, b[:1]))
	assert.True(t, mark(t, b[cap(b)-1:cap(b)]), "the whole capacity is marked")
}

func TestAdviseLeavesOthers(t *testing.T) {
	requireSupported(t)
	small := make([]byte, Min-8<<10)
	before := mark(t, small)
	Advise(small)
	assert.Equal(t, before, mark(t, small), "a buffer under Min is not marked")

	large := make([]byte, 16<<20)
	before = mark(t, large)
	assert.NotPanics(t, func() { Advise(large[1:]) }, "madvise refuses a range that does not start on a page; Advise ignores it")
	assert.Equal(t, before, mark(t, large))
}

func TestMarkedErrors(t *testing.T) {
	_, err := Marked(nil)
	assert.Error(t, err)
}
