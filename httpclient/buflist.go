package httpclient

import "sync"

// bufList is a free list of read buffers of one size, shared by every
// Client. A Client gives its read buffer back whenever the buffer holds
// nothing and no bytes are there to read — while it waits for a response,
// and while a kept-alive connection is idle (restBuf) — so that thousands
// of waiting or idle connections hold none, and takes one again when bytes
// arrive. Unlike a sync.Pool, whose per-P slots a buffer given back on one
// P and wanted on another misses (a new buffer each time: a goroutine that
// parks between the two usually wakes on the other P), a bufList hands back
// the buffer it was given, on any P, and keeps it across garbage
// collections. It keeps at most max buffers; one given back beyond that is
// left to the garbage collector.
type bufList struct {
	mu   sync.Mutex
	free []*[]byte
	size int
	max  int
	out  int // buffers taken and not given back (for tests)
}

// get takes a buffer of l.size bytes: a free one, or a new one.
func (l *bufList) get() *[]byte {
	l.mu.Lock()
	l.out++
	if n := len(l.free); n > 0 {
		b := l.free[n-1]
		l.free[n-1] = nil
		l.free = l.free[:n-1]
		l.mu.Unlock()
		return b
	}
	l.mu.Unlock()
	b := make([]byte, l.size)
	return &b
}

// put gives b back, b no longer used.
func (l *bufList) put(b *[]byte) {
	l.mu.Lock()
	l.out--
	if len(l.free) < l.max {
		if l.free == nil {
			l.free = make([]*[]byte, 0, l.max)
		}
		l.free = append(l.free, b)
	}
	l.mu.Unlock()
}

var (
	// readBufs holds read buffers of readBufSize bytes: at most 64 free
	// ones (4 MiB).
	readBufs = bufList{size: readBufSize, max: 64}
	// bulkBufs holds the bulkBufSize read buffers of chunked bodies read in
	// bulk (growBuf): at most 8 free ones (2 MiB).
	bulkBufs = bufList{size: bulkBufSize, max: 8}
)

// taken reports how many buffers are taken and not given back.
func (l *bufList) taken() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.out
}
