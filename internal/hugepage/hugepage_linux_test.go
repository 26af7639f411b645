package hugepage

import (
	"os"
	"syscall"
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

// Supported is the kernel's transparent-huge-page switch in sysfs, unless
// GODEBUG turned huge pages off. The tests that need huge pages skip when it
// is false, so it is checked on its own here.
func TestSupported(t *testing.T) {
	_, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled")
	assert.Equal(t, err == nil && !off, Supported(), "sysfs file: %v, GODEBUG off: %v", err, off)

	defer func(was bool) { off = was }(off)
	off = true
	assert.False(t, Supported(), "GODEBUG=disablethp=1")
}

func mark(t *testing.T, b []byte) bool {
	t.Helper()
	m, err := Marked(b)
	require.NoError(t, err)
	return m
}

// Advise marks a fresh buffer of at least Min bytes, Min itself included
// (the package doc: "when it is at least Min bytes"), over its whole
// capacity.
func TestAdviseMarksLargeBuffer(t *testing.T) {
	requireSupported(t)
	for _, size := range []int{Min, 16 << 20} {
		b := make([]byte, 0, size)
		marked = append(marked, b)
		require.False(t, mark(t, b[:1]), "the Go heap is not marked before Advise (cap %d)", size)
		Advise(b)
		assert.True(t, mark(t, b[:1]), "cap %d", size)
		assert.True(t, mark(t, b[cap(b)-1:cap(b)]), "the whole capacity is marked (cap %d)", size)
	}
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

	// A slice whose first byte no mapping holds (a page mapped, then
	// unmapped; Marked only reads the address): an error, not "unmarked".
	// The runtime (the race detector's shadow memory, the heap) may map
	// the freed address again before Marked reads smaps: then another page
	// is tried.
	var m bool
	var markedErr error
	for range 20 {
		b, err := syscall.Mmap(-1, 0, os.Getpagesize(), syscall.PROT_READ, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		require.NoError(t, err)
		require.NoError(t, syscall.Munmap(b))
		if m, markedErr = Marked(b); markedErr != nil {
			break
		}
	}
	assert.Error(t, markedErr)
	assert.False(t, m)
}
