package httpclient

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/spin"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// TestYieldOnlyWhenSpinning: a non-blocking read that finds nothing gives
// up the CPU only when the caller spins (polls again at once). A caller
// that paces its polls — a game's frames, a loop over many clients — never
// pays for the yield (internal/spin).
func TestYieldOnlyWhenSpinning(t *testing.T) {
	srv := ts.New(t, ts.Script(ts.Read(), ts.Hold()))
	c, _ := newClient(t, false)
	require.NoError(t, connect(t, c, "127.0.0.1", srv.Port(), nil))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	time.Sleep(2 * spin.Window)
	c.spin.Spins = 0 // the connect's polls may have spun
	for range 20 {   // paced: one poll per 2 windows
		require.NoError(t, c.Poll())
		time.Sleep(2 * spin.Window)
	}
	require.Equal(t, StatusRequesting, c.Status())
	assert.Zero(t, c.spin.Spins, "a paced caller is not a spinner")
	for range 200 {
		require.NoError(t, c.Poll())
	}
	assert.Positive(t, c.spin.Spins, "a spin loop is")
}

// TestSpinYieldsToPendingWrite: a non-blocking Poll whose TLS request the
// socket does not take gives up the CPU (to the peer that must read) only
// when the caller spins (awaitPeer), as a read that finds nothing does.
func TestSpinYieldsToPendingWrite(t *testing.T) {
	ca := ts.NewCA(t)
	srv := ts.NewTLS(t, ca.Issue(t, "localhost"), func(c *ts.Conn) { _, _ = readReqHead(c); <-c.Done() })
	c, _ := newClient(t, false)
	require.NoError(t, connect(t, c, "localhost", srv.Port(), TLSClient(ca.Pool(), "")))
	require.NoError(t, c.RequestRaw(MethodPost, "/", nil, make([]byte, 32<<20))) // more than the socket buffers hold
	time.Sleep(2 * spin.Window)
	c.spin.Spins = 0
	for range 20 {
		require.NoError(t, c.Poll())
		time.Sleep(2 * spin.Window)
	}
	require.Equal(t, StatusRequesting, c.Status())
	require.Greater(t, len(c.st.tr.w.pend), c.st.tr.w.poff, "the server reads nothing: the write waits")
	assert.Zero(t, c.spin.Spins, "a paced caller is not a spinner")
	for range 200 {
		require.NoError(t, c.Poll())
	}
	assert.Positive(t, c.spin.Spins, "a spin loop is")
}
