package httpclient

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// closedStep is a script step that closes ch: the server got there.
func closedStep(ch chan struct{}) ts.Step {
	return ts.Do("closed", func(*ts.Conn) error { close(ch); return nil })
}

// wantEndCause checks the cause of the CONNECTION_ERROR a server ending gives.
func wantEndCause(t *testing.T, end serverEnd, err error) {
	t.Helper()
	assert.True(t, errors.Is(err, ErrConnectionError), "%v", err)
	switch end.name {
	case "rst":
		assert.True(t, errors.Is(err, syscall.ECONNRESET), "%v", err)
	case "fin-no-close-notify":
		assert.True(t, errors.Is(err, ErrTLSTruncated), "%v", err)
	default:
		assert.True(t, errors.Is(err, ErrPeerClosed), "%v", err)
	}
}

// TestPollSeesFINInEveryMode checks issue 7 rule 2 (§1.6.3, §1.15.3):
// Godot's poll() in CONNECTED and BODY looks at the socket first, so the
// first Poll made after the peer closed (FIN; TLS: close_notify then FIN, or
// a FIN without close_notify; RST) reports CONNECTION_ERROR — in
// non-blocking mode exactly as in blocking mode, without waiting: idle in
// CONNECTED after a body, and in BODY when nothing more belongs to the body
// (Content-Length: 0, as redirect responses carry). Before the close, Polls
// return at once and change nothing.
func TestPollSeesFINInEveryMode(t *testing.T) {
	if !peekSupported {
		t.Skip("no zero-wait peek on this platform: TestPollFINFallbackNonBlocking covers it")
	}
	responses := []struct {
		name   string
		resp   string
		status Status // where the client waits for the close
	}{
		{"connected-after-body", okResp, StatusConnected},
		{"body-content-length-0", "HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n", StatusBody},
		{"connected-after-empty-body", "HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n", StatusConnected},
	}
	for _, tgt := range livenessTargets {
		for _, end := range serverEnds {
			if end.tls && !tgt.tls {
				continue
			}
			for _, rc := range responses {
				for _, m := range modes {
					t.Run(tgt.name+"/"+end.name+"/"+rc.name+"/"+m.name, func(t *testing.T) {
						g, closed := newGate(), make(chan struct{})
						host, port, opts := tgt.start(t, ts.Script(ts.Read(), ts.WriteString(rc.resp), g.step("idle"),
							end.step, closedStep(closed), ts.Hold()))
						c, tr := newClient(t, m.blocking)
						require.NoError(t, connect(t, c, host, port, opts))
						require.NoError(t, c.Request(MethodGet, "/", nil, ""))
						_ = pollWhile(t, c, StatusRequesting)
						if rc.status == StatusConnected {
							readBody(t, c, pathInto, &result{})
						}
						require.Equal(t, rc.status, c.Status())
						g.wait(t)
						assert.Less(t, timePolls(t, c, rc.status), probeMedian, "nothing happened yet")

						g.pass(t)
						waitClosed(t, c, closed)
						err := c.Poll()
						assert.Equal(t, StatusConnectionError, c.Status(), "the first Poll after the close (issue 7 rule 2)")
						wantEndCause(t, end, err)
						want := concat(connected, StatusBody)
						if tgt.tls {
							want = concat(statuses(StatusResolving), want...) // "localhost"
						}
						if rc.status == StatusConnected {
							want = append(want, StatusConnected)
						}
						assert.Equal(t, append(want, StatusConnectionError), *tr)
						assert.NotZero(t, c.ResponseCode(), "§1.6.3.1: no close()")
					})
				}
			}
		}
	}
}

// TestPollFINLeftToBodyRead checks that issue 7 rule 2 keeps §7 D3 in both
// modes: in BODY, while the body still expects bytes, a clean close is left
// to the body read (the first Poll after the FIN changes nothing), which
// ends a read-until-close body (complete) or a body cut short (*BodyError),
// DISCONNECTED either way (§1.10.1.4, §1.10.2.7).
func TestPollFINLeftToBodyRead(t *testing.T) {
	tests := []struct {
		name, resp string
		complete   bool
	}{
		{"until-close", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", true},
		{"fixed-cut-short", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", false},
		{"chunked-cut-short", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false},
	}
	for _, tt := range tests {
		for _, m := range modes {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				closed := make(chan struct{})
				srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString(tt.resp), ts.Close(), closedStep(closed)))
				c, tr := newClient(t, m.blocking)
				require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
				require.NoError(t, c.Request(MethodGet, "/", nil, ""))
				_ = pollWhile(t, c, StatusRequesting)
				require.Equal(t, StatusBody, c.Status())
				waitClosed(t, c, closed)
				assert.NoError(t, c.Poll(), "§7 D3: left to the body read")
				assert.Equal(t, StatusBody, c.Status())
				r := result{}
				readBody(t, c, pathInto, &r)
				assert.Equal(t, concat(connected, StatusBody, StatusDisconnected), *tr)
				assert.Equal(t, tt.complete, r.Complete)
			})
		}
	}
}

// TestPollFINFallbackNonBlocking checks issue 7 rule 2 where the socket
// cannot be peeked (a conn that is not a syscall.Conn; every platform
// without the peek): non-blocking Poll still never waits — it reads in the
// background — and reports the FIN on a later Poll, with the same trace as
// blocking mode (TestPollLivenessFallback).
func TestPollFINFallbackNonBlocking(t *testing.T) {
	for _, end := range serverEnds[:2] {
		t.Run(end.name, func(t *testing.T) {
			c, tr, g := idleHidden(t, end, false)
			assert.Less(t, timePolls(t, c, StatusConnected), probeMedian, "non-blocking mode never waits")
			g.pass(t)
			err := pollUntilEnd(t, c, StatusConnected)
			assert.Equal(t, concat(connected, StatusBody, StatusConnected, StatusConnectionError), *tr)
			wantEndCause(t, end, err)
		})
	}
}

// TestAllocsPollLivenessNonBlocking pins the non-blocking liveness check at
// zero allocations, like the blocking one (TestAllocsPollLiveness): it is
// the same zero-wait peek, run on every Poll of a game loop.
func TestAllocsPollLivenessNonBlocking(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	if !peekSupported {
		t.Skip("no zero-wait peek on this platform")
	}
	for _, tgt := range livenessTargets {
		t.Run(tgt.name, func(t *testing.T) {
			c, allocs := idlePollAllocs(t, tgt, false)
			assert.False(t, c.st.nb.pending, "no background read was started")
			assert.Zero(t, allocs)
		})
	}
}

// BenchmarkPollLiveness measures one Poll idle in CONNECTED (the liveness
// check of §1.6.3) in each mode over loopback.
func BenchmarkPollLiveness(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			srv := ts.New(b, ts.Script(ts.Read(), ts.WriteString(okResp), ts.Hold()))
			c := New()
			c.SetBlockingMode(m.blocking)
			b.Cleanup(c.Close)
			require.NoError(b, c.ConnectToHost(srv.Host(), srv.Port(), nil))
			for c.Status() == StatusConnecting {
				_ = c.Poll()
			}
			require.NoError(b, c.Request(MethodGet, "/", nil, ""))
			for c.Status() == StatusRequesting {
				_ = c.Poll()
			}
			buf := make([]byte, 64)
			for c.Status() == StatusBody {
				_, _ = c.ReadResponseBodyChunkInto(buf)
			}
			require.Equal(b, StatusConnected, c.Status())
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Poll(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPollSocketErrorFirst checks §1.6 with §1.15.3: every poll() of
// Godot's starts with the TCP socket's own poll, and a socket error there
// (POLLERR: an RST) ends the connection whatever is still queued — the bytes
// that came before the RST are never read. Bytes the client has already
// buffered are bytes Godot would still have in its socket, so the first
// Poll after the RST is CONNECTION_ERROR (cause ECONNRESET) in BODY with
// body bytes unread, and in CONNECTED with bytes after the response. A
// body read without a Poll still gets the queued bytes first, as Godot's
// recv does.
func TestPollSocketErrorFirst(t *testing.T) {
	if !peekSupported {
		t.Skip("no socket to look at on this platform: the error comes after the bytes")
	}
	cases := []struct {
		name, resp string
		status     Status // where the client is when the RST arrives
	}{
		{"body-bytes-unread", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", StatusBody},
		{"connected-bytes-after", okResp + "HTTP/1.1 200 OK\r\n", StatusConnected},
	}
	for _, tgt := range livenessTargets {
		for _, tc := range cases {
			for _, m := range modes {
				t.Run(tgt.name+"/"+tc.name+"/"+m.name, func(t *testing.T) {
					g, closed := newGate(), make(chan struct{})
					host, port, opts := tgt.start(t, ts.Script(ts.Read(), ts.WriteString(tc.resp), g.step("sent"),
						ts.Reset(), closedStep(closed)))
					c, tr := newClient(t, m.blocking)
					require.NoError(t, connect(t, c, host, port, opts))
					require.NoError(t, c.Request(MethodGet, "/", nil, ""))
					_ = pollWhile(t, c, StatusRequesting)
					g.wait(t)
					if tc.status == StatusConnected {
						readBody(t, c, pathInto, &result{})
					}
					require.Equal(t, tc.status, c.Status())
					g.pass(t)
					waitClosed(t, c, closed)
					err := c.Poll()
					assert.Equal(t, StatusConnectionError, c.Status(), "the first Poll after the RST, bytes queued or not")
					assert.True(t, errors.Is(err, ErrConnectionError), "%v", err)
					assert.True(t, errors.Is(err, syscall.ECONNRESET), "%v", err)
					want := concat(connected, StatusBody)
					if tgt.tls {
						want = concat(statuses(StatusResolving), want...)
					}
					if tc.status == StatusConnected {
						want = append(want, StatusConnected)
					}
					assert.Equal(t, append(want, StatusConnectionError), *tr)
				})
			}
		}
	}
	// Non-blocking, the whole response and the RST arrive between two Polls
	// in REQUESTING: the Poll that finds them fails, no head is seen.
	t.Run("requesting-response-queued/nonblocking", func(t *testing.T) {
		g, closed := newGate(), make(chan struct{})
		c, tr := requestOn(t, false, ts.Read(), g.step("read"), ts.WriteString(okResp), ts.Reset(), closedStep(closed))
		require.NoError(t, c.Poll()) // writes the request; nothing has come back
		require.Equal(t, StatusRequesting, c.Status())
		pollAfterReset(t, c, g, closed)
		assert.False(t, c.HasResponse(), "the head queued before the RST is never read")
		assert.Equal(t, concat(connected, StatusConnectionError), *tr)
	})
	// Idle in CONNECTED with nothing buffered, bytes then an RST arrive:
	// the Poll's look finds the bytes queued and the error behind them.
	for _, m := range modes {
		t.Run("connected-bytes-queued-in-socket/"+m.name, func(t *testing.T) {
			g, closed := newGate(), make(chan struct{})
			c, tr := requestOn(t, m.blocking, ts.Read(), ts.WriteString(okResp), g.step("idle"),
				ts.WriteString("HTTP/1.1 200 OK\r\n"), ts.Reset(), closedStep(closed))
			_ = pollWhile(t, c, StatusRequesting)
			readBody(t, c, pathInto, &result{})
			require.Equal(t, StatusConnected, c.Status())
			require.NoError(t, c.Poll(), "idle, nothing yet")
			pollAfterReset(t, c, g, closed)
			assert.Equal(t, concat(connected, StatusBody, StatusConnected, StatusConnectionError), *tr)
		})
	}
	// A request on a connection reset while idle: the write meets the
	// error (Godot's poll would have found it first): CONNECTION_ERROR.
	for _, m := range modes {
		t.Run("request-after-reset/"+m.name, func(t *testing.T) {
			g, closed := newGate(), make(chan struct{})
			c, tr := requestOn(t, m.blocking, ts.Read(), ts.WriteString(okResp), g.step("sent"), ts.Reset(), closedStep(closed))
			_ = pollWhile(t, c, StatusRequesting)
			readBody(t, c, pathInto, &result{})
			require.Equal(t, StatusConnected, c.Status())
			g.wait(t)
			g.pass(t)
			waitClosed(t, c, closed)
			require.NoError(t, c.Request(MethodGet, "/again", nil, ""))
			err := c.Poll()
			assert.Equal(t, StatusConnectionError, c.Status())
			assert.True(t, errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE), "%v", err)
			assert.Equal(t, concat(connected, StatusBody, StatusConnected, StatusRequesting, StatusConnectionError), *tr)
		})
	}
	// Without a Poll the body read gets what came before the RST first.
	for _, m := range modes {
		t.Run("read-without-poll/"+m.name, func(t *testing.T) {
			g, closed := newGate(), make(chan struct{})
			c, _ := requestOn(t, m.blocking, ts.Read(), ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"),
				g.step("sent"), ts.Reset(), closedStep(closed))
			_ = pollWhile(t, c, StatusRequesting)
			g.wait(t)
			require.Equal(t, StatusBody, c.Status())
			g.pass(t)
			waitClosed(t, c, closed)
			var got []byte
			var err error
			for err == nil {
				got, err = c.AppendResponseBodyChunk(got)
			}
			assert.Equal(t, "hello", string(got))
			assert.True(t, errors.Is(err, syscall.ECONNRESET), "%v", err)
			assert.Equal(t, StatusConnectionError, c.Status())
		})
	}
	// The client holds body bytes it read ahead of what the calls returned
	// (the head's read took them; a call takes read_chunk_size), then the
	// RST comes: Godot would still have those bytes in its socket, so the
	// next Poll — not the first in BODY — fails and they are never returned.
	for _, tgt := range livenessTargets {
		for _, m := range modes {
			t.Run("body-read-ahead-then-reset/"+tgt.name+"/"+m.name, func(t *testing.T) {
				g, closed := newGate(), make(chan struct{})
				resp := "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + strings.Repeat("x", 600)
				host, port, opts := tgt.start(t, ts.Script(ts.Read(), ts.WriteString(resp), g.step("sent"),
					ts.Reset(), closedStep(closed)))
				c, _ := newClient(t, m.blocking)
				require.NoError(t, c.SetReadChunkSize(256))
				require.NoError(t, connect(t, c, host, port, opts))
				require.NoError(t, c.Request(MethodGet, "/", nil, ""))
				_ = pollWhile(t, c, StatusRequesting)
				g.wait(t)
				require.Equal(t, StatusBody, c.Status())
				require.NoError(t, c.Poll(), "the first Poll in BODY, before the RST")
				require.Len(t, c.ReadResponseBodyChunk(), 256)
				require.Less(t, c.rr, c.rw, "the rest of the body is buffered")
				g.pass(t)
				waitClosed(t, c, closed)
				err := c.Poll()
				assert.Equal(t, StatusConnectionError, c.Status(), "the Poll after the RST, bytes buffered")
				assert.True(t, errors.Is(err, syscall.ECONNRESET), "%v", err)
				assert.Nil(t, c.ReadResponseBodyChunk())
			})
		}
	}
}

// requestOn starts a client in the given mode, connected to a plain server
// that runs steps, and makes a GET request (sent by the next Poll).
func requestOn(t *testing.T, blocking bool, steps ...ts.Step) (*Client, *[]Status) {
	t.Helper()
	srv := ts.New(t, ts.Script(steps...))
	c, tr := newClient(t, blocking)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	return c, tr
}

// pollAfterReset lets the server go on to its RST, waits until it is sent,
// and checks that the next Poll ends the connection with it.
func pollAfterReset(t *testing.T, c *Client, g gate, closed chan struct{}) {
	t.Helper()
	g.wait(t)
	g.pass(t)
	waitClosed(t, c, closed)
	err := c.Poll()
	assert.Equal(t, StatusConnectionError, c.Status(), "the first Poll after the RST")
	assert.True(t, errors.Is(err, ErrConnectionError), "%v", err)
	assert.True(t, errors.Is(err, syscall.ECONNRESET), "%v", err)
}
