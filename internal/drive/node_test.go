package drive

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
)

// fakeNode completes its request on the after-th Process call, times times.
type fakeNode struct {
	after, times int
	calls        int
	threads      bool
	done         func(int, int, []string, []byte)
	last         error
}

func (f *fakeNode) Process() {
	f.calls++
	if f.calls >= f.after && f.times > 0 {
		f.times--
		f.done(7, 200, []string{"A: 1"}, []byte("ok"))
	}
}
func (f *fakeNode) SetUseThreads(on bool) error { f.threads = on; return nil }
func (f *fakeNode) OnRequestCompleted(fn func(int, int, []string, []byte)) {
	f.done = fn
}
func (f *fakeNode) LastError() error { return f.last }

type completion struct {
	r, code int
	h       []string
	b       string
}

var testNodes = Nodes[int, completion]{
	Complete: func(r, code int, h []string, b []byte) completion { return completion{r, code, h, string(b)} },
	Frame:    time.Microsecond,
	Wait:     time.Second,
}

func TestCallback(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name          string
		node          fakeNode
		start         error
		want          Outcome[completion]
		wantProcessed int
	}{
		{"completes on the third frame", fakeNode{after: 3, times: 1, last: boom}, nil,
			Outcome[completion]{C: completion{7, 200, []string{"A: 1"}, "ok"}, Err: boom, Frames: 3, Callbacks: 1}, 6},
		{"a second completion is counted", fakeNode{after: 1, times: 2}, nil,
			Outcome[completion]{C: completion{7, 200, []string{"A: 1"}, "ok"}, Frames: 1, Callbacks: 2}, 4},
		{"ErrCantConnect is followed by a completion", fakeNode{after: 1, times: 1}, godot.ErrCantConnect,
			Outcome[completion]{C: completion{7, 200, []string{"A: 1"}, "ok"}, ReqErr: godot.ErrCantConnect, Frames: 1, Callbacks: 1}, 4},
		{"a refusal has no completion", fakeNode{after: 100}, godot.ErrInvalidParameter,
			Outcome[completion]{ReqErr: godot.ErrInvalidParameter}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.node
			o := testNodes.Callback(t, &n, func() error { return tc.start })
			assert.Positive(t, o.Elapsed+1)
			o.Elapsed = 0
			assert.Equal(t, tc.want, o)
			assert.Equal(t, tc.wantProcessed, n.calls, "Process calls")
		})
	}
}

func TestRun(t *testing.T) {
	for _, d := range Drivers {
		t.Run(d.Name, func(t *testing.T) {
			n := fakeNode{after: 1, times: 1}
			did := false
			o := testNodes.Run(t, d, &n, func() error { return nil }, func(ctx context.Context) (completion, error) {
				did = true
				_, ok := ctx.Deadline()
				assert.True(t, ok, "Do runs with a deadline")
				return completion{r: 1}, errors.New("do")
			})
			assert.Equal(t, d.Do, did, "Do ran")
			assert.Equal(t, d.Threads, n.threads, "use_threads")
			assert.Equal(t, 1, o.Callbacks)
			if d.Do {
				assert.Equal(t, completion{r: 1}, o.C)
				assert.EqualError(t, o.Err, "do")
			} else {
				assert.Equal(t, 7, o.C.r)
			}
		})
	}
}

func TestAwaitGivesUp(t *testing.T) {
	n := fakeNode{after: 1 << 30, done: func(int, int, []string, []byte) {}}
	frames, ok := Await(&n, time.Millisecond, 20*time.Millisecond, func() bool { return false })
	assert.False(t, ok)
	assert.Equal(t, n.calls, frames)
	assert.Positive(t, frames)
}

func TestEach(t *testing.T) {
	var names []string
	made := 0
	Each(t, func(*testing.T) int { made++; return made }, func(t *testing.T, d Driver, n int) {
		names = append(names, d.Name)
		require.Equal(t, len(names), n, "a new node per driver")
	})
	assert.Equal(t, []string{"process", "threads", "do"}, names)
}

func TestUntil(t *testing.T) {
	calls := 0
	assert.True(t, Until(time.Second, func() bool { calls++; return calls == 3 }))
	assert.Equal(t, 3, calls)
	start := time.Now()
	assert.False(t, Until(20*time.Millisecond, func() bool { return false }))
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
}

func TestProcessFunc(t *testing.T) {
	calls := 0
	frames, ok := Await(ProcessFunc(func() { calls++ }), time.Microsecond, time.Second, func() bool { return calls == 2 })
	assert.True(t, ok)
	assert.Equal(t, 2, frames)
}

func TestIdle(t *testing.T) {
	var f fakeNode
	start := time.Now()
	Idle(&f, 4, 5*time.Millisecond)
	assert.Equal(t, 4, f.calls)
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
}
