package httpclient

import (
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
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

// pollAll Polls every client of cs in turn, in one loop — a spin, or paced
// by pace — while any of them is in one of the statuses waiting (one loop
// drives them all, whatever their status), and returns the calls made and
// the time taken (at most 10 s).
func pollAll(t *testing.T, pace time.Duration, cs []*Client, waiting ...Status) (int, time.Duration) {
	begin, calls := time.Now(), 0
	for pending := true; pending && time.Since(begin) < 10*time.Second; {
		if pace > 0 {
			time.Sleep(pace)
		}
		pending = false
		for _, c := range cs {
			s := c.Status()
			require.NoError(t, c.Poll())
			calls++
			pending = pending || slices.Contains(waiting, s)
		}
	}
	return calls, time.Since(begin)
}

// slowHandshake is a TLS server whose handshake pauses delay after the
// ClientHello: the client's connector (the goroutine that runs the
// handshake) waits on its socket that long.
func slowHandshake(t *testing.T, delay time.Duration) (*ts.Server, *TLSOptions) {
	ca := ts.NewCA(t)
	srv := ts.NewTLS(t, ca.Issue(t, "localhost"),
		ts.Script(ts.Read(), ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")),
		ts.WithHandshakeDelay(delay))
	return srv, TLSClient(ca.Pool(), "")
}

// TestSpinningPollWaitsForConnector: a loop of Poll() without frame pacing
// on one client whose TLS handshake runs in the connector parks in Poll
// until the connector reports, at most spin.MaxWait a call (awaitReport),
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
		calls, took := pollAll(t, pace, cs, StatusResolving, StatusConnecting)
		for _, c := range cs {
			require.Equal(t, StatusConnected, c.Status())
		}
		return calls, took
	}
	for _, procs := range []int{1, 2} {
		t.Run("spinning/GOMAXPROCS="+strconv.Itoa(procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			c, _ := newClient(t, false)
			calls, took := connect(t, 0, c)
			// A wait a call, up to 1 ms, but for calls after the test was
			// descheduled for longer than spin.Window (they do not spin).
			// Without the wait: about 100,000 calls in the 30 ms.
			assert.LessOrEqual(t, calls, 2*int(took/spin.MaxWait)+20, "a spinning Poll waits for the connector (%d calls in %v)", calls, took)
			assert.LessOrEqual(t, c.spin.Waits, calls)
			t.Logf("%d calls in %v, %d waited", calls, took, c.spin.Waits)
		})
	}
	t.Run("paced", func(t *testing.T) {
		c, _ := newClient(t, false)
		connect(t, 2*spin.Window, c)
		assert.Zero(t, c.spin.Waits, "a paced Poll never waits")
	})
	t.Run("two-clients", func(t *testing.T) {
		a, _ := newClient(t, false)
		b, _ := newClient(t, false)
		connect(t, 0, a, b)
		assert.Zero(t, a.spin.Waits, "a Poll waited in a loop that drives another client")
		assert.Zero(t, b.spin.Waits, "a Poll waited in a loop that drives another client")
	})
}

// TestSpinningPollWaitsForSocket: a loop of Poll() without frame pacing on
// one client whose response is late waits in Poll until the socket has
// something, at most spin.MaxWait a call (awaitSocket), instead of giving up
// the CPU with sched_yield, which leaves the P to the loop: with GOMAXPROCS
// 1 and the server in the same process, the server then ran only when the
// runtime preempted the loop (a TLS request on a new connection took 19.5
// ms, 0.85 ms with the wait; blocking mode 0.83 ms). The wait takes
// nothing: the next Poll reads. A paced loop's Poll never waits, nor does
// one of a loop over two clients, nor one over a conn given to
// SetConnection (the wait sets the conn's read deadline).
func TestSpinningPollWaitsForSocket(t *testing.T) {
	const delay = 30 * time.Millisecond
	const resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	// request sends a GET on each client and Polls them in turn, in one
	// loop, until the responses' heads have come; it returns the calls made
	// and the time taken.
	request := func(t *testing.T, pace time.Duration, cs ...*Client) (int, time.Duration) {
		for _, c := range cs {
			require.NoError(t, c.Request(MethodGet, "/", nil, ""))
		}
		calls, took := pollAll(t, pace, cs, StatusRequesting)
		for _, c := range cs {
			require.Equal(t, StatusBody, c.Status())
			assert.Equal(t, "ok", string(c.ReadResponseBodyChunk()))
		}
		return calls, took
	}
	late := func(t *testing.T) *ts.Server {
		return ts.New(t, ts.Script(ts.Read(), ts.Sleep(delay), ts.WriteString(resp)))
	}
	newConnected := func(t *testing.T, srv *ts.Server) *Client {
		c, _ := newClient(t, false)
		require.NoError(t, connect(t, c, "127.0.0.1", srv.Port(), nil))
		return c
	}
	for _, procs := range []int{1, 2} {
		t.Run("spinning/GOMAXPROCS="+strconv.Itoa(procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			c := newConnected(t, late(t))
			calls, took := request(t, 0, c)
			// As TestSpinningPollWaitsForConnector. Without the wait: about
			// 30,000 calls in the 30 ms.
			assert.LessOrEqual(t, calls, 2*int(took/spin.MaxWait)+20, "a spinning Poll waits for the response (%d calls in %v)", calls, took)
			assert.LessOrEqual(t, c.spin.Waits, calls)
			t.Logf("%d calls in %v, %d waited", calls, took, c.spin.Waits)
		})
	}
	t.Run("paced", func(t *testing.T) {
		c := newConnected(t, late(t))
		request(t, 2*spin.Window, c)
		assert.Zero(t, c.spin.Waits, "a paced Poll never waits")
	})
	t.Run("two-clients", func(t *testing.T) {
		a, b := newConnected(t, late(t)), newConnected(t, late(t))
		request(t, 0, a, b)
		assert.Zero(t, a.spin.Waits, "a Poll waited in a loop that drives another client")
		assert.Zero(t, b.spin.Waits, "a Poll waited in a loop that drives another client")
	})
	t.Run("beside-a-download", func(t *testing.T) {
		// The loop drives a client waiting for a late response and one
		// reading a body that has all arrived, one chunk per read (§1.10.2):
		// only the waiting client finds nothing, so only it marks
		// (spin.Detector.Mark), but the other's calls end its runs (Touch).
		// Waits would give the download one chunk a millisecond.
		var body strings.Builder
		body.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
		for range 200 {
			body.WriteString("1\r\nx\r\n")
		}
		body.WriteString("0\r\n\r\n")
		fast := ts.New(t, ts.Script(ts.Read(), ts.WriteString(body.String())))
		slow := ts.New(t, ts.Script(ts.Read(), ts.Sleep(2*time.Second), ts.WriteString(resp)))
		a, b := newConnected(t, slow), newConnected(t, fast)
		require.NoError(t, a.Request(MethodGet, "/", nil, ""))
		require.NoError(t, b.Request(MethodGet, "/", nil, ""))
		got := 0
		for begin := time.Now(); b.Status() != StatusConnected && time.Since(begin) < 5*time.Second; {
			require.NoError(t, a.Poll())
			if b.Status() == StatusRequesting {
				require.NoError(t, b.Poll())
			}
			got += len(b.ReadResponseBodyChunk()) // in BODY, no Poll of b: the reads drive it
		}
		assert.Equal(t, 200, got)
		assert.Zero(t, a.spin.Waits, "the waiting client's Poll waited in a loop that drives a download")
	})
	t.Run("reset-during-the-wait", func(t *testing.T) {
		// The wait looks with recv(MSG_PEEK), to which the kernel hands a
		// socket error out, once: the reset is kept for the next read
		// (nbConn.WaitReadable), which reports it. Dropped, the next read
		// met a clean end: "closed by peer" instead of ECONNRESET (found by
		// gdfetch's exit-code test: curl's 56 became 52).
		// 300 ms: time enough for the loop to spin, and wait, on a loaded
		// machine (with 30 ms, 4 runs in 100 never waited beside a CI run).
		srv := ts.New(t, ts.Script(ts.Read(), ts.Sleep(10*delay), ts.Reset()))
		c := newConnected(t, srv)
		require.NoError(t, c.Request(MethodGet, "/", nil, ""))
		var err error
		for begin := time.Now(); c.Status() == StatusRequesting && time.Since(begin) < 10*time.Second; {
			err = c.Poll()
		}
		assert.Equal(t, StatusConnectionError, c.Status())
		assert.ErrorIs(t, err, syscall.ECONNRESET)
		assert.Positive(t, c.spin.Waits, "the loop spun on the client alone")
	})
	t.Run("not-after-bytes", func(t *testing.T) {
		// A call with bytes to return returns them at once: only a call
		// that has none at hand waits (Client.took). The body comes a byte
		// every 5 ms, so a read that drains it and then waited would return
		// them up to 1 ms late. The first byte may come with the head, read
		// by the Poll: the first read has it at hand before it reads (failed
		// in CI before enter counted the bytes left in the read buffer).
		srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n"),
			ts.Trickle([]byte(strings.Repeat("x", 20)), 5*time.Millisecond)))
		c := newConnected(t, srv)
		require.NoError(t, c.Request(MethodGet, "/", nil, ""))
		pollAll(t, 0, []*Client{c}, StatusRequesting)
		got := 0
		for begin := time.Now(); c.Status() == StatusBody && time.Since(begin) < 10*time.Second; {
			before := c.spin.Waits
			n := len(c.ReadResponseBodyChunk())
			got += n
			if n > 0 {
				require.Equal(t, before, c.spin.Waits, "a read that took %d bytes waited", n)
			}
		}
		assert.Equal(t, 20, got)
		t.Logf("%d waits", c.spin.Waits)
	})
	t.Run("installed-conn", func(t *testing.T) {
		// 300 ms: time enough for the loop to spin on a loaded machine.
		srv := ts.New(t, ts.Script(ts.Read(), ts.Sleep(10*delay), ts.WriteString(resp)))
		conn, err := net.Dial("tcp", srv.Addr())
		require.NoError(t, err)
		c, _ := newClient(t, false)
		require.NoError(t, c.SetConnection(conn))
		request(t, 0, c)
		assert.Zero(t, c.spin.Waits, "a Poll waited on a conn given to SetConnection")
		assert.Positive(t, c.spin.Spins, "the loop spun on the installed conn")
	})
}
