package httpclient

import "sync/atomic"

// bufList is a free list of read buffers of one size, shared by every
// Client. A Client gives its read buffer back whenever the buffer holds
// nothing and no bytes are there to read — while it waits for a response,
// and while a kept-alive connection is idle (restBuf) — so that thousands
// of waiting or idle connections hold none, and takes one again when bytes
// arrive.
//
// The list is a fixed array of slots taken and filled with atomic swaps,
// each caller starting where it last found or left a buffer (its hint), so
// that a client usually finds the buffer it gave back at the first slot it
// looks at. Unlike a sync.Pool, whose per-P slots a buffer given back on
// one P and wanted on another misses (a new buffer each time: a goroutine
// that parks between the two usually wakes on the other P), it hands a
// buffer back on any P and keeps it across garbage collections; unlike a
// mutex, it cannot form a convoy when thousands of goroutines share two
// CPUs. It keeps at most len(slots) free buffers; one given back beyond
// that is left to the garbage collector.
type bufList struct {
	slots   []atomic.Pointer[[]byte]
	size    int
	made    atomic.Int64 // buffers allocated (for tests: taken)
	dropped atomic.Int64 // buffers given back with every slot full
}

func newBufList(size, slots int) *bufList {
	return &bufList{slots: make([]atomic.Pointer[[]byte], slots), size: size}
}

// get takes a free buffer of l.size bytes, or makes one. hint is the
// caller's slot to look at first; it is left at the slot used.
func (l *bufList) get(hint *int) *[]byte {
	n := len(l.slots)
	j := *hint % n
	for range n {
		if s := &l.slots[j]; s.Load() != nil {
			if b := s.Swap(nil); b != nil {
				*hint = j
				return b
			}
		}
		if j++; j == n {
			j = 0
		}
	}
	l.made.Add(1)
	b := make([]byte, l.size)
	return &b
}

// put gives b back, b no longer used; hint as for get.
func (l *bufList) put(b *[]byte, hint *int) {
	n := len(l.slots)
	j := *hint % n
	for range n {
		if s := &l.slots[j]; s.Load() == nil && s.CompareAndSwap(nil, b) {
			*hint = j
			return
		}
		if j++; j == n {
			j = 0
		}
	}
	l.dropped.Add(1)
}

// taken reports how many buffers are taken and not given back (for tests:
// exact only while no get or put runs).
func (l *bufList) taken() int {
	free := 0
	for i := range l.slots {
		if l.slots[i].Load() != nil {
			free++
		}
	}
	return int(l.made.Load()-l.dropped.Load()) - free
}

var (
	// readBufs holds read buffers of readBufSize bytes: at most 64 free
	// ones (4 MiB).
	readBufs = newBufList(readBufSize, 64)
	// bulkBufs holds the bulkBufSize read buffers of chunked bodies read in
	// bulk (growBuf): at most 8 free ones (2 MiB).
	bulkBufs = newBufList(bulkBufSize, 8)
)
