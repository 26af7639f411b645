// Package heapwatch samples the peak HeapInuse of the process while a
// download runs, for the benchmarks and the compare command (the
// download_file heap acceptance of issue 8).
package heapwatch

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Sampler records the peak HeapInuse while it runs.
type Sampler struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

// Start samples HeapInuse every interval until Stop.
func Start(every time.Duration) *Sampler {
	s := &Sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > s.peak.Load() {
				s.peak.Store(m.HeapInuse)
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends the sampling and returns the peak HeapInuse in bytes.
func (s *Sampler) Stop() uint64 {
	close(s.stop)
	<-s.done
	return s.peak.Load()
}
