package httprequest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// phaseTrace records the phase changes of a node's runs and checks each
// against the machine (phase.go). Runs may change phase on a worker and be
// interrupted from the owner goroutine, hence the lock.
type phaseTrace struct {
	mu    sync.Mutex
	steps []phase
}

func (p *phaseTrace) get() []phase {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]phase(nil), p.steps...)
}

// watchPhases installs the check on n: every change must be legal.
func watchPhases(t *testing.T, n *HTTPRequest) *phaseTrace {
	tr := new(phaseTrace)
	n.onPhase = func(from, to phase) {
		if !legalPhase(from, to) {
			t.Errorf("illegal run phase change %v → %v", from, to)
		}
		tr.mu.Lock()
		tr.steps = append(tr.steps, to)
		tr.mu.Unlock()
	}
	return tr
}

// TestPhaseTable checks the machine itself: every transition names its
// rule, nothing leaves an end phase, nothing enters connecting's successors
// out of order, and the interruptions are legal from every running phase
// only.
func TestPhaseTable(t *testing.T) {
	for tr, why := range legalPhases {
		assert.NotEmpty(t, why, "%v → %v", tr[0], tr[1])
		assert.True(t, tr[0].running(), "%v → %v leaves an end phase", tr[0], tr[1])
	}
	all := []phase{phaseConnecting, phaseRequesting, phaseBody, phaseDone, phaseFailed, phaseTimedOut, phaseCanceled}
	for _, from := range all {
		for _, to := range all {
			_, listed := legalPhases[[2]phase{from, to}]
			_, end := endPhases[to]
			assert.Equal(t, listed || (end && from.running()), legalPhase(from, to), "%v → %v", from, to)
			if !from.running() {
				assert.False(t, legalPhase(from, to), "%v → %v: an ended run never changes", from, to)
			}
		}
	}
	// Godot's order: no response before the request, no success without one.
	assert.False(t, legalPhase(phaseConnecting, phaseBody))
	assert.False(t, legalPhase(phaseConnecting, phaseDone))
	assert.False(t, legalPhase(phaseRequesting, phaseDone))
	for _, p := range all {
		assert.NotContains(t, p.String(), "?")
	}
}

// TestPhaseTraces drives each driver through a redirect, a success, a
// failure and a timeout and checks the phases it went through.
func TestPhaseTraces(t *testing.T) {
	ok := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
	cases := []struct {
		name    string
		handler func(c *testserver.Conn)
		timeout time.Duration
		want    []phase
	}{
		{"success", func(c *testserver.Conn) {
			_, _ = c.ReadRequest()
			_ = c.WriteAndClose([]byte(ok))
		}, 0, []phase{phaseRequesting, phaseBody, phaseDone}},
		{"redirect", func(c *testserver.Conn) {
			_, _ = c.ReadRequest()
			if c.Index() == 0 {
				_ = c.WriteAndClose([]byte("HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n"))
				return
			}
			_ = c.WriteAndClose([]byte(ok))
		}, 0, []phase{phaseRequesting, phaseBody, phaseConnecting, phaseRequesting, phaseBody, phaseDone}},
		{"no-response", func(c *testserver.Conn) {
			_, _ = c.ReadRequest()
			_ = c.Close()
		}, 0, []phase{phaseRequesting, phaseFailed}},
		{"timeout", func(c *testserver.Conn) {
			_, _ = c.ReadRequest()
			_ = c.Hold()
		}, 50 * time.Millisecond, []phase{phaseRequesting, phaseTimedOut}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := serve(t, tc.handler)
				tr := watchPhases(t, n) // replaces eachDriver's, to read the trace
				if tc.timeout > 0 {
					require.NoError(t, n.SetTimeout(tc.timeout))
				}
				d.run(t, n, urlFor("127.0.0.1", srv.Port(), "/"), nil, httpclient.MethodGet, nil)
				assert.Equal(t, tc.want, tr.get())
			})
		})
	}
}

// TestPhaseCancel: a cancel ends the run from the owner goroutine.
func TestPhaseCancel(t *testing.T) {
	srv := serve(t, func(c *testserver.Conn) {
		_, _ = c.ReadRequest()
		_ = c.Hold()
	})
	n := New()
	t.Cleanup(n.Close)
	tr := watchPhases(t, n)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := n.Do(ctx, urlFor("127.0.0.1", srv.Port(), "/"), nil, httpclient.MethodGet, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []phase{phaseRequesting, phaseCanceled}, tr.get())
}
