package fuzz

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdhttp/gdhttp/internal/drive"
)

// Whole-stack fuzzing harness (issue 9 part 4): a scripted server on a
// loopback listener that writes the fuzzed bytes cut at fuzzer-chosen points
// and then ends the connection the fuzzer-chosen way, plus the invariants
// every input must keep: no hang (a per-input deadline), goroutines and file
// descriptors back to their count before the input, heap bounded.

// Bounds of one input.
const (
	// maxServerBytes bounds what the server writes for one input.
	maxServerBytes = 64 << 10
	// runDeadline is the generous per-run deadline: the server always ends the
	// connection after writing, so every call must return well before it.
	runDeadline = 10 * time.Second
	// ioDeadline bounds each server-side socket operation.
	ioDeadline = 5 * time.Second
	// heapBound is the most live heap one input may leave or reach: inputs
	// are at most 64 KiB, so anything near this is unbounded growth.
	heapBound = 512 << 20
)

// ending is how the server ends the connection after writing.
type ending uint8

const (
	endClose     ending = iota // Close: FIN right after the last byte
	endHalfClose               // CloseWrite (FIN), wait for the client to close, then Close
	endReset                   // SetLinger(0) + Close: RST instead of FIN
	endLateClose               // wait, then Close: the FIN comes after the client drained the data
	numEndings
)

func (e ending) String() string {
	return [...]string{"close", "half-close", "reset", "late-close"}[e]
}

// lateCloseDelay is how long endLateClose waits before the FIN (§1.10.4's
// "FIN after the data was drained", made timing-independent by §7 D3).
const lateCloseDelay = 3 * time.Millisecond

// plan is what the server does with one connection.
type plan struct {
	data []byte
	cuts []int         // strictly increasing offsets inside (0, len(data))
	gap  time.Duration // pause between pieces (0: back to back)
	end  ending
}

func (p plan) String() string {
	return fmt.Sprintf("cuts=%v gap=%v end=%v len=%d", p.cuts, p.gap, p.end, len(p.data))
}

// splitmix64 is a small deterministic generator for the choices derived
// from the fuzzer's seed.
type splitmix64 uint64

func (s *splitmix64) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// planFor derives the split points, the gap and the ending from seed: up to
// 3 cuts anywhere in data, or (one seed in eight) a cut after every byte of
// the first 64; a 200 µs gap between pieces (one seed in two, not with
// byte-wise cuts); and one of the four endings.
func planFor(data []byte, seed uint64) plan {
	rng := splitmix64(seed)
	p := plan{data: data, end: ending(seed % uint64(numEndings))}
	if len(data) > 1 {
		if seed>>5&7 == 0 {
			for i := 1; i < min(len(data), 65); i++ {
				p.cuts = append(p.cuts, i)
			}
			return p
		}
		for range seed >> 3 & 3 {
			p.cuts = append(p.cuts, 1+int(rng.next()%uint64(len(data)-1)))
		}
		slices.Sort(p.cuts)
		p.cuts = slices.Compact(p.cuts)
	}
	if seed>>2&1 == 1 {
		p.gap = 200 * time.Microsecond
	}
	return p
}

// pieces returns data cut at p.cuts.
func (p plan) pieces() [][]byte {
	var out [][]byte
	prev := 0
	for _, c := range p.cuts {
		out = append(out, p.data[prev:c])
		prev = c
	}
	return append(out, p.data[prev:])
}

var (
	lnOnce sync.Once
	ln     *net.TCPListener
	lnErr  error
	runSeq atomic.Uint64
)

// listener returns the process's loopback listener, shared by every input.
func listener(t testing.TB) *net.TCPListener {
	lnOnce.Do(func() {
		var l net.Listener
		l, lnErr = net.Listen("tcp", "127.0.0.1:0")
		if lnErr == nil {
			ln = l.(*net.TCPListener)
		}
	})
	if lnErr != nil {
		t.Fatalf("loopback listener: %v", lnErr)
	}
	return ln
}

// server is one scripted connection being served.
type server struct {
	port  int
	token string // in the request target, so a stray connection is never served
	done  chan struct{}
	err   error // set before done closes: a server-side failure that is not the client's doing
	quit  atomic.Bool
}

// serve starts a server for one run: it accepts the next connection whose
// request head names token, reads the request head, writes the pieces of p
// with p.gap between them and ends as p.end says. Connections from earlier
// runs (whose client gave up) are closed unread.
func serve(t testing.TB, p plan) *server {
	l := listener(t)
	s := &server{
		port:  l.Addr().(*net.TCPAddr).Port,
		token: "/r" + strconv.FormatUint(runSeq.Add(1), 36),
		done:  make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		deadline := time.Now().Add(runDeadline)
		for {
			if s.quit.Load() {
				return
			}
			_ = l.SetDeadline(time.Now().Add(50 * time.Millisecond))
			c, err := l.Accept()
			if err != nil {
				if time.Now().After(deadline) {
					s.err = fmt.Errorf("no connection within %v: %w", runDeadline, err)
					return
				}
				continue
			}
			conn := c.(*net.TCPConn)
			ok, err := readHead(conn, s.token)
			if !ok {
				_ = conn.Close()
				if err != nil && !errors.Is(err, io.EOF) {
					s.err = err
				}
				continue
			}
			s.script(conn, p)
			return
		}
	}()
	return s
}

// readHead reads one request head (the runs send no body) and reports
// whether it is this run's request.
func readHead(c *net.TCPConn, token string) (bool, error) {
	_ = c.SetReadDeadline(time.Now().Add(ioDeadline))
	buf := make([]byte, 0, 1024)
	tmp := make([]byte, 1024)
	for !bytes.Contains(buf, []byte("\r\n\r\n")) {
		n, err := c.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if err != nil {
			return false, err
		}
		if len(buf) > 64<<10 {
			return false, errors.New("request head over 64 KiB")
		}
	}
	line, _, _ := bytes.Cut(buf, []byte("\r\n"))
	return bytes.Contains(line, []byte(" "+token+" ")), nil
}

// script writes the pieces and ends the connection. Write errors end it
// early: the client may legitimately close first (a refused head).
func (s *server) script(c *net.TCPConn, p plan) {
	_ = c.SetNoDelay(true)
	_ = c.SetWriteDeadline(time.Now().Add(ioDeadline))
	for i, piece := range p.pieces() {
		if i > 0 && p.gap > 0 {
			time.Sleep(p.gap) // the scenario: the fuzzed pause between pieces
		}
		if _, err := c.Write(piece); err != nil {
			_ = c.Close()
			return
		}
	}
	switch p.end {
	case endClose:
		_ = c.Close()
	case endHalfClose:
		_ = c.CloseWrite()
		_ = c.SetReadDeadline(time.Now().Add(ioDeadline))
		_, _ = io.Copy(io.Discard, c) // until the client closes (or the deadline)
		_ = c.Close()
	case endReset:
		_ = c.SetLinger(0)
		_ = c.Close()
	case endLateClose:
		time.Sleep(lateCloseDelay) // the scenario: the close comes after the client went idle
		_ = c.Close()
	}
}

// wait joins the server goroutine: called after the client was closed, so a
// half-close ending sees the client's FIN at once.
func (s *server) wait(t testing.TB) {
	s.quit.Store(true)
	select {
	case <-s.done:
	case <-time.After(runDeadline + ioDeadline):
		t.Fatalf("server goroutine did not end")
	}
	if s.err != nil {
		t.Fatalf("server: %v", s.err)
	}
}

// baseline is the process state before an input, to check that the input
// left nothing behind.
type baseline struct {
	goroutines int
	fds        int
}

func takeBaseline(t testing.TB) baseline {
	listener(t) // opened once, before the first baseline
	return baseline{goroutines: runtime.NumGoroutine(), fds: openFDs()}
}

// openFDs counts this process's open file descriptors (Linux; −1 elsewhere).
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

// check fails when goroutines or file descriptors are above the baseline
// (after a grace period for runtime bookkeeping) or the heap is unbounded.
// what describes the input for the failure message.
func (b baseline) check(t testing.TB, what func() string) {
	var g, fds int
	if !drive.Until(2*time.Second, func() bool {
		g, fds = runtime.NumGoroutine(), openFDs()
		return g <= b.goroutines && fds <= b.fds
	}) {
		buf := make([]byte, 1<<16)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("left behind after the input: goroutines %d (before %d), fds %d (before %d)\n%s\n%s",
			g, b.goroutines, fds, b.fds, what(), buf)
	}
	metrics.Read(heapSample)
	if v := heapSample[0].Value; v.Kind() == metrics.KindUint64 && v.Uint64() > heapBound {
		runtime.GC()
		metrics.Read(heapSample)
		if h := heapSample[0].Value.Uint64(); h > heapBound {
			t.Fatalf("heap %d bytes after the input (bound %d)\n%s", h, heapBound, what())
		}
	}
}
