package drive

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gdhttp/gdhttp/godot"
)

// Processor is what the frame loop calls: httprequest.HTTPRequest.Process.
type Processor interface{ Process() }

// ProcessFunc is a Processor made of a function: a frame that does more
// than Process (records a counter, marks that it is inside Process).
type ProcessFunc func()

// Process calls f.
func (f ProcessFunc) Process() { f() }

// Await calls n.Process once a frame until done reports true, and returns
// how many calls it made; ok is false when wait passed first.
func Await(n Processor, frame, wait time.Duration, done func() bool) (frames int, ok bool) {
	deadline := time.Now().Add(wait)
	for !done() {
		if !time.Now().Before(deadline) {
			return frames, false
		}
		n.Process()
		frames++
		if !done() {
			time.Sleep(frame)
		}
	}
	return frames, true
}

// Until waits, without a frame, until done reports true, looking every
// millisecond; after wait it gives up. It returns whether done came.
func Until(wait time.Duration, done func() bool) bool {
	deadline := time.Now().Add(wait)
	for !done() {
		if !time.Now().Before(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// Closed waits until ch is closed, at most wait. It returns whether it was.
func Closed(ch <-chan struct{}, wait time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(wait):
		return false
	}
}

// Idle calls n.Process for frames frames, frame apart: for the tests whose
// point is that nothing happens meanwhile (no completion after a cancel),
// where the pause is the scenario.
func Idle(n Processor, frames int, frame time.Duration) {
	for range frames {
		n.Process()
		time.Sleep(frame)
	}
}

// Node is the part of httprequest.HTTPRequest the drivers call; R is
// httprequest.Result.
type Node[R any] interface {
	Processor
	SetUseThreads(on bool) error
	OnRequestCompleted(f func(result R, responseCode int, headers []string, body []byte))
	LastError() error
}

// Driver is one of the three drivers of §7.3.
type Driver struct {
	Name    string // "process", "threads" or "do": the subtest's name
	Threads bool   // use_threads: a worker runs the request, Process delivers
	Do      bool   // Do instead of a request plus Process
}

// The three drivers of §7.3, in the order Drivers lists them.
var (
	Process = Driver{Name: "process"}
	Threads = Driver{Name: "threads", Threads: true}
	Do      = Driver{Name: "do", Do: true}
)

// Drivers lists the three drivers: every node scenario runs through each.
var Drivers = []Driver{Process, Threads, Do}

// Outcome is what one request through one driver gave.
type Outcome[C any] struct {
	C         C             // the completion (the first one, for the callback drivers)
	Err       error         // Do's error, or Nodes.Err for the callback drivers
	ReqErr    error         // what the request call returned (callback drivers); nil for Do
	Frames    int           // Process calls until the completion (callback drivers)
	Callbacks int           // completions delivered (must be 1; 0 after a refusal)
	Elapsed   time.Duration // from the request call to the completion
}

// Nodes runs requests through the drivers for one package's tests. R is the
// node's Result type and C its Completion type.
type Nodes[R, C any] struct {
	// Complete builds a completion from request_completed's four values.
	Complete func(result R, responseCode int, headers []string, body []byte) C
	// Err is the callback drivers' Outcome.Err, from the completion and the
	// node's LastError; nil: LastError.
	Err func(c C, lastErr error) error
	// Frame is the pause between two Process calls (a game frame is 16 ms;
	// tests use less); Wait bounds every wait (Do's context included).
	Frame, Wait time.Duration
}

// Run runs one request through d: start begins it for the callback drivers
// (RequestRaw, RequestStream, RequestMultipart…), do runs it for Do.
func (h Nodes[R, C]) Run(t testing.TB, d Driver, n Node[R], start func() error, do func(ctx context.Context) (C, error)) Outcome[C] {
	t.Helper()
	if d.Do {
		ctx, cancel := context.WithTimeout(context.Background(), h.Wait)
		defer cancel()
		begin := time.Now()
		c, err := do(ctx)
		return Outcome[C]{C: c, Err: err, Callbacks: 1, Elapsed: time.Since(begin)}
	}
	if d.Threads {
		if err := n.SetUseThreads(true); err != nil {
			t.Fatalf("SetUseThreads(true): %v", err)
		}
	}
	return h.Callback(t, n, start)
}

// Callback starts a request with start and calls Process every frame until
// the completion arrives, then a few more times to prove that no second one
// comes. A request that start refuses (any error but ErrCantConnect, which
// Godot reports with a completion too) has no completion (§7 D6): the
// outcome then holds the refusal and the count of completions that came
// anyway.
func (h Nodes[R, C]) Callback(t testing.TB, n Node[R], start func() error) Outcome[C] {
	t.Helper()
	var o Outcome[C]
	var got []C
	n.OnRequestCompleted(func(res R, code int, headers []string, body []byte) {
		got = append(got, h.Complete(res, code, headers, body))
	})
	begin := time.Now()
	o.ReqErr = start()
	if o.ReqErr != nil && !errors.Is(o.ReqErr, godot.ErrCantConnect) {
		o.Callbacks = settle(n, func() int { return len(got) })
		return o
	}
	var ok bool
	o.Frames, ok = Await(n, h.Frame, h.Wait, func() bool { return len(got) > 0 })
	if !ok {
		t.Fatalf("no completion within %v", h.Wait)
	}
	o.Elapsed = time.Since(begin)
	o.Callbacks = settle(n, func() int { return len(got) })
	o.C = got[0]
	if h.Err != nil {
		o.Err = h.Err(o.C, n.LastError())
	} else {
		o.Err = n.LastError()
	}
	return o
}

// settle calls Process three more times and returns count(): how many
// completions came in all.
func settle(n Processor, count func() int) int {
	for range 3 {
		n.Process()
	}
	return count()
}

// Each runs f once per driver as subtests, each with a new node from
// newNode (which also arranges its Close).
func Each[N any](t *testing.T, newNode func(t *testing.T) N, f func(t *testing.T, d Driver, n N)) {
	t.Helper()
	for _, d := range Drivers {
		t.Run(d.Name, func(t *testing.T) {
			f(t, d, newNode(t))
		})
	}
}

// ProcessUntil calls n.Process once a frame until done reports true and
// returns how many calls it made; after h.Wait it fails the test, with what()
// saying what did not happen.
func (h Nodes[R, C]) ProcessUntil(t testing.TB, n Processor, done func() bool, what func() string) int {
	t.Helper()
	frames, ok := Await(n, h.Frame, h.Wait, done)
	if !ok {
		t.Fatalf("not within %v: %s", h.Wait, what())
	}
	return frames
}
