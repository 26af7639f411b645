package httpclient

import (
	"context"
	"errors"
	"net"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// The blocking-mode liveness check of CONNECTED and BODY (§1.6.3): Godot's
// is instantaneous (the socket is "closed" when readable with 0 bytes
// available, "error" on a socket error, §1.15.3), and so is this one.

const (
	probeCalls  = 301                    // Polls timed per state
	probeMedian = 200 * time.Microsecond // bound on their median; the old deadline probe took 1 ms
)

// gate is a point in a server script where the server tells the test it got
// there and then waits for the test to let it go on.
type gate struct{ reached, release chan struct{} }

func newGate() gate { return gate{make(chan struct{}), make(chan struct{})} }

// step is the gate as a script step; it gives up when the server closes.
func (g gate) step(name string) ts.Step {
	return ts.Do(name, func(c *ts.Conn) error {
		close(g.reached)
		select {
		case <-g.release:
			return nil
		case <-c.Done():
			return ts.ErrServerClosed
		}
	})
}

// pass waits until the server reached the gate, then lets it go on.
func (g gate) pass(t *testing.T) {
	t.Helper()
	select {
	case <-g.reached:
	case <-time.After(driveTimeout):
		t.Fatal("the server did not reach the gate")
	}
	close(g.release)
}

// wait waits until the server reached the gate.
func (g gate) wait(t *testing.T) {
	t.Helper()
	select {
	case <-g.reached:
	case <-time.After(driveTimeout):
		t.Fatal("the server did not reach the gate")
	}
}

// serverEnd is how the server ends the connection in a liveness test.
type serverEnd struct {
	name string
	step ts.Step
	tls  bool // TLS servers only
}

var serverEnds = []serverEnd{
	{"fin", ts.Close(), false},                   // plain: FIN; TLS: close_notify, then FIN
	{"rst", ts.Reset(), false},                   // RST
	{"fin-no-close-notify", ts.CloseTCP(), true}, // TLS: FIN without close_notify (§1.15.4)
}

// timePolls calls Poll probeCalls times in status want and returns the
// median duration of a call; every call must return nil and keep the status.
func timePolls(t *testing.T, c *Client, want Status) time.Duration {
	t.Helper()
	d := make([]time.Duration, probeCalls)
	for i := range d {
		start := time.Now()
		err := c.Poll()
		d[i] = time.Since(start)
		require.NoError(t, err)
		require.Equal(t, want, c.Status())
	}
	slices.Sort(d)
	t.Logf("%v: Poll median %v, max %v", want, d[len(d)/2], d[len(d)-1])
	return d[len(d)/2]
}

// pollUntilEnd polls until the status leaves want or the client has seen
// the end of the stream (a FIN in BODY is left to the body read), and
// returns the last Poll error.
func pollUntilEnd(t *testing.T, c *Client, want Status) error {
	t.Helper()
	var err error
	require.True(t, drive.Until(driveTimeout, func() bool {
		err = c.Poll()
		return c.Status() != want || c.rerr != nil
	}), "the end of the stream was not seen in %v", driveTimeout)
	return err
}

// livenessTarget is a server for the liveness tests: plain or TLS, with a
// client set up to reach it.
type livenessTarget struct {
	name  string
	tls   bool
	start func(t *testing.T, handler func(*ts.Conn)) (host string, port int, opts *TLSOptions)
}

var livenessTargets = []livenessTarget{
	{"plain", false, func(t *testing.T, h func(*ts.Conn)) (string, int, *TLSOptions) {
		srv := ts.New(t, h)
		return srv.Host(), srv.Port(), nil
	}},
	{"tls", true, func(t *testing.T, h func(*ts.Conn)) (string, int, *TLSOptions) {
		ca := ts.NewCA(t)
		srv := ts.NewTLS(t, ca.Issue(t, "localhost"), h)
		return "localhost", srv.Port(), TLSClient(ca.Pool(), "")
	}},
}

// TestPollLivenessConnected checks §1.6.3 (with §1.15.3) in blocking mode:
// a Poll while idle in CONNECTED returns at once — many calls, median well
// under the millisecond the deadline probe took — and still turns the
// peer's FIN (TLS: close_notify, or a FIN without it) or RST into
// CONNECTION_ERROR (§1.6.3.3), with the cause kept.
func TestPollLivenessConnected(t *testing.T) {
	if !peekSupported {
		t.Skip("no zero-wait peek on this platform: TestPollLivenessFallback covers it")
	}
	for _, tgt := range livenessTargets {
		for _, end := range serverEnds {
			if end.tls && !tgt.tls {
				continue
			}
			t.Run(tgt.name+"/"+end.name, func(t *testing.T) {
				g := newGate()
				host, port, opts := tgt.start(t, ts.Script(ts.Read(), ts.WriteString(okResp), g.step("idle"), end.step, ts.Hold()))
				c, tr := newClient(t, true)
				require.NoError(t, connect(t, c, host, port, opts))
				require.True(t, c.st.nb.NoWait(), "a TCP conn is peeked, not read in the background")
				// Fresh: under TLS 1.3 a session ticket arrives now, which
				// the check hands to crypto/tls without waiting for more.
				assert.Less(t, timePolls(t, c, StatusConnected), probeMedian, "fresh connection")
				r := exchange(t, c, getRoot, pathInto)
				require.Equal(t, "ok", r.Body)
				g.wait(t)

				assert.Less(t, timePolls(t, c, StatusConnected), probeMedian)

				g.pass(t)
				err := pollUntilEnd(t, c, StatusConnected)
				assert.Equal(t, StatusConnectionError, c.Status())
				assert.Equal(t, StatusConnectionError, (*tr)[len(*tr)-1])
				assert.True(t, errors.Is(err, ErrConnectionError), "%v", err)
				switch {
				case end.name == "rst":
					assert.True(t, errors.Is(err, syscall.ECONNRESET), "%v", err)
				case end.name == "fin-no-close-notify":
					assert.True(t, errors.Is(err, ErrTLSTruncated), "%v", err)
				default:
					assert.True(t, errors.Is(err, ErrPeerClosed), "%v", err)
				}
				assert.Equal(t, 200, c.ResponseCode(), "§1.6.3.2: no close()")
			})
		}
	}
}

// TestPollLivenessBody checks §1.6.3 in BODY, blocking mode: Poll returns at
// once both with nothing to read and with body bytes waiting, which it
// leaves in the socket for the body read (§1.6.3: the check never reads
// data; under TLS it takes one record, as Godot's mbedTLS poll does). Afterwards a clean end (a FIN; under TLS a close_notify, which
// waits in the socket like data) is left to the body read — a fixed-length
// body cut short ends DISCONNECTED (§1.10.1.4, §7 D3) — and a RST, or a TLS
// stream whose TCP connection ended without close_notify (§1.15.4), is
// CONNECTION_ERROR with its cause (ECONNRESET kept even though the peek
// took the error from the kernel).
func TestPollLivenessBody(t *testing.T) {
	if !peekSupported {
		t.Skip("no zero-wait peek on this platform: TestPollLivenessFallback covers it")
	}
	const head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc"
	for _, tgt := range livenessTargets {
		for _, end := range serverEnds {
			if end.tls && !tgt.tls {
				continue
			}
			t.Run(tgt.name+"/"+end.name, func(t *testing.T) {
				drained, waiting, ended := newGate(), newGate(), newGate()
				host, port, opts := tgt.start(t, ts.Script(ts.Read(), ts.WriteString(head), drained.step("drained"),
					ts.WriteString("defg"), waiting.step("waiting"), end.step, ended.step("ended")))
				c, tr := newClient(t, true)
				require.NoError(t, connect(t, c, host, port, opts))
				require.NoError(t, c.Request(MethodGet, "/", nil, ""))
				require.NoError(t, c.Poll())
				require.Equal(t, StatusBody, c.Status())
				buf := make([]byte, 64)
				n, err := c.ReadResponseBodyChunkInto(buf)
				require.NoError(t, err)
				require.Equal(t, "abc", string(buf[:n]))

				drained.wait(t) // nothing more will come until the gate opens
				assert.Less(t, timePolls(t, c, StatusBody), probeMedian, "nothing to read")

				drained.pass(t)
				waiting.wait(t) // "defg" is on its way to the client's socket
				waitArrived(t, c, len("defg"))
				assert.Less(t, timePolls(t, c, StatusBody), probeMedian, "bytes waiting")
				if tgt.tls {
					// Godot's TLS poll reads the record into mbedTLS
					// (a zero-length mbedtls_ssl_read), which holds it.
					assert.Equal(t, len("defg"), c.rw-c.rr, "the check takes the record, as mbedTLS does (§1.6.3.1)")
				} else {
					assert.Equal(t, c.rr, c.rw, "the check leaves the bytes in the socket")
				}
				n, err = c.ReadResponseBodyChunkInto(buf)
				require.NoError(t, err)
				assert.Equal(t, "defg", string(buf[:n]))

				waiting.pass(t)
				if end.name == "fin" {
					ended.pass(t)
					waitPeerEnded(t, c)
					assert.Less(t, timePolls(t, c, StatusBody), probeMedian, "a clean close is left to the body read (§7 D3)")
					_, err = c.ReadResponseBodyChunkInto(buf)
					var be *BodyError
					assert.ErrorAs(t, err, &be)
					assert.Equal(t, StatusDisconnected, c.Status(), "§1.10.1.4")
					return
				}
				ended.pass(t)
				err = pollUntilEnd(t, c, StatusBody)
				assert.Equal(t, StatusConnectionError, (*tr)[len(*tr)-1])
				assert.True(t, errors.Is(err, ErrConnectionError), "%v", err)
				if end.name == "rst" {
					assert.True(t, errors.Is(err, syscall.ECONNRESET), "%v", err)
				} else {
					assert.True(t, errors.Is(err, ErrTLSTruncated), "%v", err)
				}
			})
		}
	}
}

// hiddenConn hides the syscall.Conn of the conn it wraps: the client cannot
// peek its socket.
type hiddenConn struct{ net.Conn }

// dialHidden is a dial hook that dials TCP and hides the conn's
// syscall.Conn (hiddenConn).
func dialHidden(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return hiddenConn{conn}, nil
}

// idleHidden connects a client (blocking or not) whose conn hides its
// syscall.Conn (dialHidden: no peek) to a server that answers one GET and
// then, once the returned gate passes, ends as end says; it returns the
// client idle in CONNECTED after that exchange, its trace and the gate.
func idleHidden(t *testing.T, end serverEnd, blocking bool) (*Client, *[]Status, gate) {
	t.Helper()
	g := newGate()
	srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString(okResp), g.step("idle"), end.step, ts.Hold()))
	c, tr := newClient(t, blocking)
	c.dialFn = dialHidden
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.False(t, c.st.nb.NoWait())
	r := exchange(t, c, getRoot, pathChunks)
	require.Equal(t, "ok", r.Body)
	g.wait(t)
	return c, tr, g
}

// TestPollLivenessFallback checks §1.6.3 over a conn that is not a
// syscall.Conn (and so on every platform without the peek) in blocking
// mode: as in non-blocking mode (TestPollFINFallbackNonBlocking) the check
// never waits — a background read — and still reports a FIN or RST, on a
// later Poll.
func TestPollLivenessFallback(t *testing.T) {
	for _, end := range serverEnds[:2] {
		t.Run(end.name, func(t *testing.T) {
			c, tr, g := idleHidden(t, end, true)
			med := timePolls(t, c, StatusConnected)
			assert.Less(t, med, probeMedian, "the fallback never waits: it reads in the background")

			g.pass(t)
			err := pollUntilEnd(t, c, StatusConnected)
			assert.Equal(t, StatusConnectionError, (*tr)[len(*tr)-1])
			assert.True(t, errors.Is(err, ErrConnectionError), "%v", err)
			if end.name == "rst" {
				assert.True(t, errors.Is(err, syscall.ECONNRESET), "%v", err)
			} else {
				assert.True(t, errors.Is(err, ErrPeerClosed), "%v", err)
			}
		})
	}
}

// idlePollAllocs connects a client (blocking or not) to tgt, runs one
// exchange, and returns the client and the allocations of one Poll idle in
// CONNECTED (the liveness check), which must neither fail nor change the
// status.
func idlePollAllocs(t *testing.T, tgt livenessTarget, blocking bool) (*Client, float64) {
	t.Helper()
	host, port, opts := tgt.start(t, ts.Script(ts.Read(), ts.WriteString(okResp), ts.Hold()))
	c, _ := newClient(t, blocking)
	require.NoError(t, connect(t, c, host, port, opts))
	r := exchange(t, c, getRoot, pathInto)
	require.Equal(t, "ok", r.Body)
	var failed error
	allocs := testing.AllocsPerRun(200, func() {
		if err := c.Poll(); err != nil {
			failed = err
		}
	})
	require.NoError(t, failed)
	assert.Equal(t, StatusConnected, c.Status())
	return c, allocs
}

// TestAllocsPollLiveness pins the blocking-mode liveness check at zero
// allocations (§1.6.3: it runs on every Poll of a game loop).
func TestAllocsPollLiveness(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	for _, tgt := range livenessTargets {
		t.Run(tgt.name, func(t *testing.T) {
			_, allocs := idlePollAllocs(t, tgt, true)
			assert.Zero(t, allocs)
		})
	}
}
