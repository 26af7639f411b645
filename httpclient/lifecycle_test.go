package httpclient

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// stuckLookup never answers until the connect attempt is cancelled.
func stuckLookup(ctx context.Context, _ string) ([]netip.Addr, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// failingLookup fails at once.
func failingLookup(context.Context, string) ([]netip.Addr, error) {
	return nil, errors.New("no such host (test)")
}

// reach drives a fresh client into the status named by target, against
// servers it starts; it returns the client.
type reacher struct {
	status Status
	reach  func(t *testing.T, c *Client)
}

func reachers(t *testing.T) []reacher {
	ca := ts.NewCA(t)
	silent := ts.New(t, ts.Script(ts.Hold()))             // accepts, never answers
	holdReq := ts.New(t, ts.Script(ts.Read(), ts.Hold())) // reads the request, never answers
	partial := ts.New(t, ts.Script(ts.Read(), ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), ts.Hold()))
	plain := ts.New(t, ts.Script(ts.ReadSome(), ts.WriteAndClose([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))))
	finIdle := ts.New(t, ts.Script(ts.Read(), ts.WriteString(okResp), ts.Close()))
	return []reacher{
		{StatusDisconnected, func(*testing.T, *Client) {}},
		{StatusResolving, func(t *testing.T, c *Client) {
			c.lookup = stuckLookup
			require.NoError(t, c.ConnectToHost("stuck.example", 80, nil))
			require.NoError(t, c.Poll())
		}},
		{StatusCantResolve, func(t *testing.T, c *Client) {
			c.lookup = failingLookup
			_ = connect(t, c, "fails.example", 80, nil)
		}},
		{StatusConnecting, func(t *testing.T, c *Client) { // a TLS handshake that never completes
			require.NoError(t, c.ConnectToHost(silent.Host(), silent.Port(), TLSClient(ca.Pool(), "")))
			require.NoError(t, c.Poll())
		}},
		{StatusCantConnect, func(t *testing.T, c *Client) { _ = connect(t, c, "127.0.0.1", ts.ClosedPort(t), nil) }},
		{StatusTLSHandshakeError, func(t *testing.T, c *Client) {
			_ = connect(t, c, plain.Host(), plain.Port(), TLSClient(ca.Pool(), ""))
		}},
		{StatusConnected, func(t *testing.T, c *Client) { _ = connect(t, c, holdReq.Host(), holdReq.Port(), nil) }},
		{StatusRequesting, func(t *testing.T, c *Client) {
			_ = connect(t, c, holdReq.Host(), holdReq.Port(), nil)
			require.NoError(t, c.Request(MethodPost, "/", nil, "body"))
			for i := 0; i < 5; i++ {
				require.NoError(t, c.Poll())
				time.Sleep(pollGap) // the scenario: polls while the server holds the request
			}
		}},
		{StatusBody, func(t *testing.T, c *Client) {
			_ = connect(t, c, partial.Host(), partial.Port(), nil)
			require.NoError(t, c.Request(MethodGet, "/", nil, ""))
			_ = pollWhile(t, c, StatusRequesting)
			_ = c.Poll() // a background read may now be outstanding
		}},
		{StatusConnectionError, func(t *testing.T, c *Client) {
			_ = connect(t, c, finIdle.Host(), finIdle.Port(), nil)
			exchange(t, c, getRoot, pathChunks)
			_ = pollWhile(t, c, StatusConnected)
		}},
	}
}

// TestCloseInEveryStatus checks §1.12: Close is safe in every status, ends
// in DISCONNECTED with the response state reset, and joins every goroutine
// the client started (goleak).
func TestCloseInEveryStatus(t *testing.T) {
	rs := reachers(t)
	for _, r := range rs {
		t.Run(r.status.String(), func(t *testing.T) {
			before := goleak.IgnoreCurrent()
			c := New()
			r.reach(t, c)
			require.Equal(t, r.status, c.Status())
			c.Close()
			assert.Zero(t, c.live.Load(), "Close returned before joining every goroutine")
			assert.Equal(t, StatusDisconnected, c.Status())
			assert.Equal(t, 0, c.ResponseCode())
			assert.Equal(t, int64(-1), c.ResponseBodyLength())
			assert.False(t, c.HasResponse())
			assert.NoError(t, c.LastError())
			assert.True(t, errors.Is(c.Poll(), ErrUnconfigured))
			c.Close() // twice is fine
			goleak.VerifyNone(t, before, goleak.IgnoreTopFunction("github.com/gdhttp/gdhttp/internal/testserver.(*Conn).Hold"),
				goleak.IgnoreAnyFunction("github.com/gdhttp/gdhttp/internal/testserver.(*Server).serve"))
		})
	}
}

// TestAbortInEveryStatus checks Abort from another goroutine in every
// status: the next Poll ends an activity with CANT_CONNECT or
// CONNECTION_ERROR (cause ErrAborted), leaves the other statuses alone, and
// Close then joins everything.
func TestAbortInEveryStatus(t *testing.T) {
	for _, r := range reachers(t) {
		t.Run(r.status.String(), func(t *testing.T) {
			c := New()
			r.reach(t, c)
			require.Equal(t, r.status, c.Status())
			done := make(chan struct{})
			go func() { defer close(done); c.Abort() }()
			<-done
			err := c.Poll()
			switch r.status {
			case StatusResolving, StatusConnecting:
				assert.Equal(t, StatusCantConnect, c.Status())
				assert.True(t, errors.Is(err, ErrAborted), "%v", err)
			case StatusConnected, StatusRequesting, StatusBody:
				assert.Equal(t, StatusConnectionError, c.Status())
				assert.True(t, errors.Is(err, ErrAborted), "%v", err)
			default:
				assert.Equal(t, r.status, c.Status(), "nothing to abort")
			}
			c.Close()
			assert.Zero(t, c.live.Load())
			assert.Equal(t, StatusDisconnected, c.Status())
		})
	}
}

// abortAfter calls c.Abort from another goroutine after d.
func abortAfter(t *testing.T, c *Client, d time.Duration) {
	var wg sync.WaitGroup
	wg.Add(1)
	timer := time.AfterFunc(d, func() { defer wg.Done(); c.Abort() })
	t.Cleanup(func() {
		if timer.Stop() {
			wg.Done()
		}
		wg.Wait()
	})
}

// TestAbortBlockedCalls checks that Abort, from another goroutine, makes a
// blocked call return promptly with CANT_CONNECT (while resolving or
// connecting) or CONNECTION_ERROR, cause ErrAborted (§4 #7); Close then makes
// the client reusable.
func TestAbortBlockedCalls(t *testing.T) {
	rs := reachers(t)
	byStatus := map[Status]reacher{}
	for _, r := range rs {
		byStatus[r.status] = r
	}
	okSrv := ts.New(t, ts.RespondEach(okResp))
	tests := []struct {
		name  string
		from  Status
		call  func(c *Client) error
		final Status
	}{
		{"poll-resolving", StatusResolving, (*Client).Poll, StatusCantConnect},
		{"poll-connecting", StatusConnecting, (*Client).Poll, StatusCantConnect},
		{"poll-requesting", StatusRequesting, (*Client).Poll, StatusConnectionError},
		{"read-body", StatusBody, func(c *Client) error {
			for c.Status() == StatusBody {
				c.ReadResponseBodyChunk()
			}
			return c.LastError()
		}, StatusConnectionError},
		{"read-body-into", StatusBody, func(c *Client) error {
			buf := make([]byte, 64)
			for {
				if _, err := c.ReadResponseBodyChunkInto(buf); err != nil {
					return err
				}
			}
		}, StatusConnectionError},
		{"read-body-to-file", StatusBody, func(c *Client) error {
			f, err := os.CreateTemp(t.TempDir(), "body")
			if err != nil {
				return err
			}
			defer f.Close()
			for {
				if _, _, err := c.WriteResponseBodyChunkTo(f); err != nil {
					return err
				}
			}
		}, StatusConnectionError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New()
			defer c.Close()
			byStatus[tt.from].reach(t, c)
			require.Equal(t, tt.from, c.Status())
			c.SetBlockingMode(true)
			abortAfter(t, c, 50*time.Millisecond)
			start := time.Now()
			err := tt.call(c)
			assert.Less(t, time.Since(start), 5*time.Second, "returned promptly")
			assert.Equal(t, tt.final, c.Status())
			assert.True(t, errors.Is(err, ErrAborted), "%v", err)
			assert.True(t, errors.Is(c.LastError(), ErrAborted), "%v", c.LastError())
			c.Close()
			// Reusable after Close.
			require.NoError(t, connect(t, c, okSrv.Host(), okSrv.Port(), nil))
			assert.Equal(t, "ok", exchange(t, c, getRoot, pathChunks).Body)
		})
	}
	t.Run("idle-then-poll", func(t *testing.T) {
		for _, m := range modes {
			c, _ := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, okSrv.Host(), okSrv.Port(), nil))
			c.Abort()
			err := c.Poll()
			assert.Equal(t, StatusConnectionError, c.Status())
			assert.True(t, errors.Is(err, ErrAborted), "%v", err)
			assert.Nil(t, c.ReadResponseBodyChunk())
		}
	})
	t.Run("before-connect-report", func(t *testing.T) {
		c, _ := newClient(t, false)
		require.NoError(t, c.ConnectToHost(okSrv.Host(), okSrv.Port(), nil))
		c.Abort()
		err := pollWhile(t, c, StatusConnecting)
		assert.Equal(t, StatusCantConnect, c.Status())
		assert.True(t, errors.Is(err, ErrCantConnect) && errors.Is(err, ErrAborted), "%v", err)
	})
}

// TestAbortConcurrentWithClose runs Abort from another goroutine while the
// owner connects, requests and closes (run with -race).
func TestAbortConcurrentWithClose(t *testing.T) {
	srv := ts.New(t, ts.RespondEach(okResp))
	c := New()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				c.Abort()
				time.Sleep(50 * time.Microsecond) // the scenario: a storm of Aborts, paced
			}
		}
	}()
	for i := 0; i < 50; i++ {
		c.SetBlockingMode(i%2 == 0)
		if err := c.ConnectToHost(srv.Host(), srv.Port(), nil); err != nil {
			continue
		}
		for j := 0; j < 1000 && (c.Status() == StatusConnecting || c.Status() == StatusRequesting || c.Status() == StatusBody); j++ {
			_ = c.Poll()
			if c.Status() == StatusBody {
				c.ReadResponseBodyChunk()
			}
		}
		if c.Status() == StatusConnected {
			_ = c.Request(MethodGet, "/", nil, "")
			_ = c.Poll()
		}
		c.Close()
	}
	close(stop)
	wg.Wait()
	c.Close()
}

// TestNonBlockingNeverWaits checks §1.6 for non-blocking mode: Poll and the
// body reads return at once while the server is slow.
func TestNonBlockingNeverWaits(t *testing.T) {
	srv := ts.New(t, ts.Script(ts.Read(), ts.Sleep(300*time.Millisecond),
		ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab"), ts.Sleep(300*time.Millisecond),
		ts.WriteString("cd"), ts.Hold()))
	c, _ := newClient(t, false)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	var worst time.Duration
	timed := func(f func()) {
		start := time.Now()
		f()
		worst = max(worst, time.Since(start))
	}
	var body []byte
	deadline := time.Now().Add(driveTimeout)
	for c.Status() == StatusRequesting || c.Status() == StatusBody {
		require.True(t, time.Now().Before(deadline))
		timed(func() { _ = c.Poll() })
		if c.Status() == StatusBody {
			timed(func() { body = append(body, c.ReadResponseBodyChunk()...) })
		}
		time.Sleep(time.Millisecond) // a frame (the loop is bounded by deadline)
	}
	assert.Equal(t, "abcd", string(body))
	assert.Less(t, worst, 200*time.Millisecond, "no call waited for the server (it pauses 300 ms)")
}

// TestStatusChangesOnlyInPoll checks §1.1.3 and §1.5.12: the network may
// progress in the background, but the status changes only inside the calls
// (ConnectToHost only starts; Request only prepares, §1.7.12). The name is
// resolved in the background, but the connect starts in the Poll that takes
// the addresses (§1.6.1.2), as Godot's.
func TestStatusChangesOnlyInPoll(t *testing.T) {
	srv := ts.New(t, ts.Respond(okResp))
	c, _ := newClient(t, false)
	resolved := make(chan struct{})
	c.lookup = func(context.Context, string) ([]netip.Addr, error) {
		defer close(resolved)
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	require.NoError(t, c.ConnectToHost("name.example", srv.Port(), nil))
	<-resolved
	assert.Zero(t, srv.WaitAccepted(1, 50*time.Millisecond), "no connect before the Poll that takes the addresses")
	assert.Equal(t, StatusResolving, c.Status())
	for c.Status() == StatusResolving {
		require.NoError(t, c.Poll())
	}
	assert.Equal(t, StatusConnecting, c.Status(), "one change per Poll (§1.6.1.2)")
	require.Equal(t, 1, srv.WaitAccepted(1, driveTimeout), "connected in the background")
	assert.Equal(t, StatusConnecting, c.Status())
	require.NoError(t, c.Poll())
	assert.Equal(t, StatusConnected, c.Status())
	require.NoError(t, c.Request(MethodHead, "/", nil, ""))
	assert.Equal(t, StatusRequesting, c.Status(), "§1.7.12")
	time.Sleep(50 * time.Millisecond) // the scenario: nothing is sent for a while
	assert.Equal(t, StatusRequesting, c.Status(), "nothing is sent before Poll")
	srv.Close()
	assert.Empty(t, srv.Requests(), "nothing was sent: the server saw no request")
}

// TestResolvingWaits checks §1.6.1.1: while the resolver works Poll returns
// OK and the status stays RESOLVING.
func TestResolvingWaits(t *testing.T) {
	c, _ := newClient(t, false)
	c.lookup = stuckLookup
	require.NoError(t, c.ConnectToHost("stuck.example", 80, nil))
	for i := 0; i < 5; i++ {
		assert.NoError(t, c.Poll())
		assert.Equal(t, StatusResolving, c.Status())
	}
}

// TestWriteError checks §1.6.4.1–2: a write error while sending the request
// is CONNECTION_ERROR, and a server that answers early and closes produces a
// write error, not a response (the response is read only after the whole
// request was written).
func TestWriteError(t *testing.T) {
	body := make([]byte, 32<<20)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ts.New(t, ts.Script(ts.ReadN(64), ts.WriteString("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n"), ts.Reset()))
			c, tr := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			require.NoError(t, c.RequestRaw(MethodPost, "/upload", nil, body))
			err := pollWhile(t, c, StatusRequesting)
			assert.Equal(t, concat(connected, StatusConnectionError), *tr)
			assert.True(t, errors.Is(err, ErrConnectionError), "%v", err)
			assert.Equal(t, 0, c.ResponseCode(), "no response was read")
		})
	}
}
