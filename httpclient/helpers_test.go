package httpclient

import (
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// mode is one way of driving the client: Godot's non-blocking poll loop or
// blocking mode; the body is read with ReadResponseBodyChunk (Godot's path)
// or ReadResponseBodyChunkInto.
type mode struct {
	name     string
	blocking bool
}

var modes = []mode{{"nonblocking", false}, {"blocking", true}}

// pollGap is the pause between polls in non-blocking mode (tests only: a
// game calls Poll once per frame).
const pollGap = 200 * time.Microsecond

// driveTimeout bounds every wait of a test driver.
const driveTimeout = 10 * time.Second

// newClient returns a client whose every status change is checked against
// the table of legal transitions (§1.19) and recorded in the returned trace.
// The client is closed when the test ends (before the servers it talks to).
func newClient(t *testing.T, blocking bool) (*Client, *[]Status) {
	t.Helper()
	c := New()
	c.SetBlockingMode(blocking)
	tr := new([]Status)
	c.onStatus = func(from, to Status) {
		if !legalTransition(from, to) {
			t.Errorf("illegal status transition %v → %v (§1.19)", from, to)
		}
		*tr = append(*tr, to)
	}
	t.Cleanup(c.Close)
	return c, tr
}

// resetAfter is a server step: the RST (Conn.Reset) once ready is closed —
// by the test, when the client has taken what the RST must come after. A
// fixed pause before it raced a client held back that long: an RST that
// arrives before the bytes ahead of it were taken is Godot's POLLERR first
// (§1.6, pendingErr), and the bytes are never read.
func resetAfter(ready <-chan struct{}) ts.Step {
	return ts.Do("reset when ready", func(c *ts.Conn) error {
		select {
		case <-ready:
		case <-c.Done():
			return ts.ErrServerClosed
		case <-time.After(driveTimeout):
			return errors.New("the test never let the reset go")
		}
		return c.Reset()
	})
}

// onEntering makes c close the returned channel when its status first
// becomes s (c.onStatus, on the goroutine that polls it).
func onEntering(c *Client, s Status) <-chan struct{} {
	ch := make(chan struct{})
	var once sync.Once
	prev := c.onStatus
	c.onStatus = func(from, to Status) {
		if prev != nil {
			prev(from, to)
		}
		if to == s {
			once.Do(func() { close(ch) })
		}
	}
	return ch
}

// poller is c's poll loop: a tiny sleep between polls in non-blocking mode.
func poller(c *Client) drive.Poller[Status] {
	return drive.Poller[Status]{Blocking: c.blocking, Gap: pollGap, Wait: driveTimeout}
}

// pollWhile polls while the status is one of ss, with a tiny sleep between
// polls in non-blocking mode, and returns the last Poll error.
func pollWhile(t *testing.T, c *Client, ss ...Status) error {
	t.Helper()
	return poller(c).While(t, c, ss...)
}

// connect connects c to host:port and polls until the connect attempt
// ended; it returns the error of the last Poll.
func connect(t *testing.T, c *Client, host string, port int, tlsOpts *TLSOptions) error {
	t.Helper()
	require.NoError(t, c.ConnectToHost(host, port, tlsOpts))
	return pollWhile(t, c, StatusResolving, StatusConnecting)
}

// result is what one request produced, as a Godot user observes it.
type result struct {
	Trace    []Status // every status after ConnectToHost, in order
	Code     int
	Headers  []string
	HasResp  bool
	BodyLen  int64
	Chunked  bool
	Body     string
	Pieces   []string // the non-empty slices ReadResponseBodyChunk returned
	Final    Status
	Complete bool  // BodyComplete after the body
	IntoErr  error // ReadResponseBodyChunkInto: the error that ended the body
	LastErr  error
	// AfterPolls is how many Polls after the body it took the status to
	// change (afterBody only).
	AfterPolls int
}

// request is one request to send.
type request struct {
	method  Method
	url     string
	headers []string
	body    string
}

var getRoot = request{method: MethodGet, url: "/"}

// readPath is how a test reads a body.
type readPath int

const (
	pathChunks    readPath = iota // Godot's ReadResponseBodyChunk
	pathInto                      // ReadResponseBodyChunkInto, 7-byte buffer: many reads, boundaries crossed
	pathIntoLarge                 // ReadResponseBodyChunkInto, 64 KiB buffer: the direct and bulk read paths
	pathAppend                    // AppendResponseBodyChunk into a reused buffer: Godot's pieces, Into's errors
	pathFile                      // WriteResponseBodyChunkTo a file (zero-copy on Linux): Godot's pieces, Into's errors
)

var readPaths = []readPath{pathChunks, pathInto, pathIntoLarge, pathAppend, pathFile}

func (p readPath) String() string {
	return [...]string{"chunks", "into", "into-large", "append", "file"}[p]
}

// readBody reads the body of the current response to its end, Godot's way
// (Poll, then ReadResponseBodyChunk, while the status is BODY) or with
// ReadResponseBodyChunkInto, and records it in r.
func readBody(t *testing.T, c *Client, path readPath, r *result) {
	t.Helper()
	var body strings.Builder
	into := path == pathInto || path == pathIntoLarge
	var app []byte // pathAppend's reused buffer
	endedByRead := false
	var file *os.File // pathFile's file, and how much of it was read back
	var fileOff int64
	if path == pathFile {
		var err error
		file, err = os.CreateTemp(t.TempDir(), "body")
		require.NoError(t, err)
		defer file.Close()
	}
	buf := make([]byte, 7)
	if path == pathIntoLarge {
		buf = make([]byte, 64<<10)
	}
	poller(c).Body(t, c, StatusBody, func() (progress bool) {
		if into {
			n, err := c.ReadResponseBodyChunkInto(buf)
			body.Write(buf[:n])
			progress = n > 0
			if err != nil {
				r.IntoErr = err
			}
		} else {
			var p []byte
			if path == pathFile {
				n, werr, err := c.WriteResponseBodyChunkTo(file)
				assert.NoError(t, werr, "writing the piece")
				p = make([]byte, n)
				k, _ := file.ReadAt(p, fileOff)
				require.Equal(t, n, k, "the piece is in the file at its offset")
				fileOff += int64(n)
				r.IntoErr = err
				endedByRead = c.Status() != StatusBody
			} else if path == pathAppend {
				var err error
				app, err = c.AppendResponseBodyChunk(app[:0])
				p = app
				r.IntoErr = err // the last call's error tells how the body ended
				endedByRead = c.Status() != StatusBody
			} else {
				p = c.ReadResponseBodyChunk()
			}
			body.Write(p)
			if len(p) > 0 {
				r.Pieces = append(r.Pieces, string(p))
				progress = true
			}
		}
		return progress
	})
	if path == pathAppend && !endedByRead {
		// No body, or Poll ended it: the next call reports how.
		_, r.IntoErr = c.AppendResponseBodyChunk(nil)
	}
	if path == pathFile && !endedByRead {
		_, _, r.IntoErr = c.WriteResponseBodyChunkTo(file)
	}
	if into && r.IntoErr == nil {
		_, r.IntoErr = c.ReadResponseBodyChunkInto(buf)
	}
	r.Body = body.String()
	r.Complete = c.BodyComplete()
}

// roundTrip connects to host:port, sends req and reads the response to its
// end. afterBody, when set, polls after the body until the status changes or
// driveTimeout passed (§1.10.3: a FIN after a complete body).
func roundTrip(t *testing.T, c *Client, tr *[]Status, host string, port int, tlsOpts *TLSOptions, req request, path readPath, afterBody bool) result {
	t.Helper()
	return roundTripAfter(t, c, tr, host, port, tlsOpts, req, path, afterBody, nil)
}

// roundTripAfter is roundTrip that, when closed is not nil, waits after the
// head until the server has closed the connection (closed is closed), so
// the FIN is in the client's socket before the body is read.
func roundTripAfter(t *testing.T, c *Client, tr *[]Status, host string, port int, tlsOpts *TLSOptions, req request, path readPath, afterBody bool, closed <-chan struct{}) result {
	t.Helper()
	var r result
	if err := connect(t, c, host, port, tlsOpts); err == nil && c.Status() == StatusConnected {
		require.NoError(t, c.Request(req.method, req.url, req.headers, req.body))
		_ = pollWhile(t, c, StatusRequesting)
		r.Code, r.HasResp, r.BodyLen, r.Chunked = c.ResponseCode(), c.HasResponse(), c.ResponseBodyLength(), c.IsResponseChunked()
		r.Headers = append([]string(nil), c.RawHeaders()...)
		if closed != nil {
			waitClosed(t, c, closed)
		}
		readBody(t, c, path, &r)
		if afterBody && c.Status() == StatusConnected {
			deadline := time.Now().Add(driveTimeout)
			for c.Status() == StatusConnected && time.Now().Before(deadline) {
				_ = c.Poll()
				r.AfterPolls++
				if c.Status() == StatusConnected {
					time.Sleep(pollGap) // a frame (the loop is bounded by deadline)
				}
			}
		}
	}
	r.Trace = append([]Status(nil), *tr...)
	r.Final = c.Status()
	r.LastErr = c.LastError()
	return r
}

// ending is how a scripted server ends its response.
type ending int

const (
	endHold       ending = iota // keep the connection open
	endClose                    // FIN together with the last data
	endCloseLater               // FIN 50 ms after the data
	endCloseAfter               // FIN 20 ms after the data (keep-alive tests)
	endCloseFirst               // FIN after the data; the client reads the body once it is there (scriptClosed)
)

// finSettle is how long loopback needs to bring a FIN or a RST into the
// client's socket: the pause that stands for waitPeerEnded's wait where the
// socket cannot be looked at (drive.AwaitTCP, not Linux).
const finSettle = 5 * time.Millisecond

// waitClosed waits until closed is closed (the server closed the
// connection), then until its FIN or RST is in c's socket.
func waitClosed(t *testing.T, c *Client, closed <-chan struct{}) {
	t.Helper()
	select {
	case <-closed:
	case <-time.After(driveTimeout):
		t.Fatal("the server did not close")
	}
	waitPeerEnded(t, c)
}

// waitPeerEnded waits, bounded, until the peer's FIN or RST is in the
// socket of c's connection: a FIN shows no sign to the client short of a
// read.
func waitPeerEnded(t *testing.T, c *Client) {
	t.Helper()
	require.NotNil(t, c.st, "no connection")
	local := c.st.conn.LocalAddr().(*net.TCPAddr).Port
	require.True(t, drive.AwaitTCP(local, driveTimeout, finSettle, drive.PeerEnded(local)), "the peer's FIN or RST did not arrive")
}

// delivery is how a scripted server writes its response.
type delivery struct {
	name  string
	split int           // write in two pieces cut here (0: one write)
	every time.Duration // one byte per interval (trickle), when set
}

// script is the server side: read one request, write resp as d says, end.
func script(resp string, d delivery, end ending) func(*ts.Conn) {
	return scriptClosed(resp, d, end, nil)
}

// scriptClosed is script that closes closed once the server closed the
// connection (endCloseFirst).
func scriptClosed(resp string, d delivery, end ending, closed chan struct{}) func(*ts.Conn) {
	b := []byte(resp)
	steps := []ts.Step{ts.Read()}
	switch {
	case d.every > 0:
		steps = append(steps, ts.Trickle(b, d.every))
	case d.split > 0 && d.split < len(b):
		steps = append(steps, ts.WriteSplit(b, []int{d.split}, time.Millisecond))
	case end == endClose:
		return ts.Script(append(steps, ts.WriteAndClose(b))...)
	default:
		steps = append(steps, ts.Write(b))
	}
	switch end {
	case endHold:
		steps = append(steps, ts.Hold())
	case endClose:
		steps = append(steps, ts.Close())
	case endCloseLater:
		later := 50 * time.Millisecond
		if d.split > 0 || d.every > 0 {
			later = 10 * time.Millisecond // the FIN still comes after the data was drained
		}
		steps = append(steps, ts.Sleep(later), ts.Close())
	case endCloseAfter:
		steps = append(steps, ts.Sleep(20*time.Millisecond), ts.Close())
	case endCloseFirst:
		steps = append(steps, ts.Close())
	}
	if closed != nil {
		steps = append(steps, ts.Do("closed", func(*ts.Conn) error { close(closed); return nil }))
	}
	return ts.Script(steps...)
}

// ipv6Available reports whether [::1] can be listened on.
func ipv6Available() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	_ = ln.Close()
	return true
}

// statuses is a shorthand for a trace.
func statuses(ss ...Status) []Status { return ss }

// connected is the trace prefix of a connect to an IP literal and one request.
var connected = statuses(StatusConnecting, StatusConnected, StatusRequesting)

func concat(a []Status, b ...Status) []Status {
	return append(append([]Status(nil), a...), b...)
}
