package httpclient

import (
	"crypto/tls"
	"runtime"
	"strconv"
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

// slowHandshake is a TLS server whose handshake pauses delay after the
// ClientHello: the client's connector (the goroutine that runs the
// handshake) waits on its socket that long.
func slowHandshake(t *testing.T, delay time.Duration) (*ts.Server, *TLSOptions) {
	ca := ts.NewCA(t)
	srv := ts.NewTLS(t, ca.Issue(t, "localhost"),
		ts.Script(ts.Read(), ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")),
		ts.WithTLSConfig(func(c *tls.Config) {
			c.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
				time.Sleep(delay)
				return nil, nil
			}
		}))
	return srv, TLSClient(ca.Pool(), "")
}

// TestSpinningPollWaitsForConnector: a loop of Poll() without frame pacing
// on one client whose TLS handshake runs in the connector parks in Poll
// until the connector reports, at most spinWait a call (awaitReport),
// instead of keeping its P. With GOMAXPROCS 1 the spin left the connector
// (and here the server) to run only when the runtime preempted the loop,
// every 10 ms: a TLS request on a new connection took 10 ms, 2.5 ms with
// the wait. A paced loop's Poll never waits, nor does one of a loop over
// two clients (the other's Polls would wait with it).
func TestSpinningPollWaitsForConnector(t *testing.T) {
	const delay = 30 * time.Millisecond
	// connect spins on Poll while the clients connect, each in turn within
	// one loop, and returns the calls made and the time taken.
	connect := func(t *testing.T, pace time.Duration, cs ...*Client) (int, time.Duration) {
		srv, opts := slowHandshake(t, delay)
		for _, c := range cs {
			require.NoError(t, c.ConnectToHost("localhost", srv.Port(), opts))
		}
		begin, calls := time.Now(), 0
		for pending := true; pending && time.Since(begin) < 10*time.Second; {
			if pace > 0 {
				time.Sleep(pace)
			}
			pending = false
			for _, c := range cs {
				if s := c.Status(); s == StatusResolving || s == StatusConnecting {
					require.NoError(t, c.Poll())
					calls++
					pending = true
				}
			}
		}
		for _, c := range cs {
			require.Equal(t, StatusConnected, c.Status())
		}
		return calls, time.Since(begin)
	}
	for _, procs := range []int{1, 2} {
		t.Run("spinning/GOMAXPROCS="+strconv.Itoa(procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			c, _ := newClient(t, false)
			calls, took := connect(t, 0, c)
			// A wait a call, up to 1 ms, but for calls after the test was
			// descheduled for longer than spin.Window (they do not spin).
			// Without the wait: about 100,000 calls in the 30 ms.
			assert.LessOrEqual(t, calls, 2*int(took/spinWait)+20, "a spinning Poll waits for the connector (%d calls in %v)", calls, took)
			assert.LessOrEqual(t, c.spinWaits, calls)
			t.Logf("%d calls in %v, %d waited", calls, took, c.spinWaits)
		})
	}
	t.Run("paced", func(t *testing.T) {
		c, _ := newClient(t, false)
		connect(t, 2*spin.Window, c)
		assert.Zero(t, c.spinWaits, "a paced Poll never waits")
	})
	t.Run("two-clients", func(t *testing.T) {
		a, _ := newClient(t, false)
		b, _ := newClient(t, false)
		connect(t, 0, a, b)
		assert.Zero(t, a.spinWaits, "a Poll waited in a loop that drives another client")
		assert.Zero(t, b.spinWaits, "a Poll waited in a loop that drives another client")
	})
}
