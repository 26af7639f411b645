package httprequest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/spin"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// TestYieldOnlyWhenSpinning: a use_threads node's Process, and a request
// started right after one, give up the CPU to the worker only when the
// caller spins on Process. A loop that paces its calls — a game's frames,
// a farm of nodes each processed once a frame — never pays for the yields
// (internal/spin; a thousand waiting nodes cost 2 ms a frame in sched_yield
// and a callback that started a request per node stalled the frame behind
// every new worker).
func TestYieldOnlyWhenSpinning(t *testing.T) {
	s := serve(t, testserver.Script(testserver.Read(), testserver.Hold()))
	n := newNode(t)
	require.NoError(t, n.SetUseThreads(true))
	require.NoError(t, n.Request(urlFor(s.Host(), s.Port(), "/"), nil, httpclient.MethodGet, ""))
	for range 20 {
		n.Process()
		time.Sleep(2 * spin.Window)
	}
	assert.Zero(t, n.spin.Spins, "a paced caller is not a spinner")
	assert.False(t, n.spin.Recent(), "a request started now does not yield")
	for range 200 {
		n.Process()
	}
	assert.Positive(t, n.spin.Spins, "a spin loop is")
	// Recent looks 100 µs back: a loaded machine may deschedule the test
	// between the last Process and the look, so a few tries.
	recent := false
	for range 50 {
		n.Process()
		if recent = n.spin.Recent(); recent {
			break
		}
	}
	assert.True(t, recent, "a request started now yields")
	n.CancelRequest()
}
