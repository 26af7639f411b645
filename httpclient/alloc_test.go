package httpclient

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/chunked"
	"github.com/gdhttp/gdhttp/internal/drive"
)

// rawServer answers every request on every connection with resp, reading
// the request heads into a fixed buffer: it allocates nothing per request,
// so AllocsPerRun counts only the client.
func rawServer(t *testing.T, resp []byte) *net.TCPListener {
	t.Helper()
	return drive.Serve(t, func(conn net.Conn) {
		drive.EachHead(conn, 64<<10, func([]byte) error {
			_, err := conn.Write(resp)
			return err
		})
	})
}

// TestAllocsKeepAliveRoundTrip pins the allocations of one keep-alive GET
// round trip in blocking mode with a reused body buffer: 0 (issue 8). The
// request is written from a reused buffer, a head identical to the previous
// one reuses its string (wire.HeadParser), the body read allocates nothing.
func TestAllocsKeepAliveRoundTrip(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	ln := rawServer(t, []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world!"))
	c, _ := newClient(t, true)
	require.NoError(t, connect(t, c, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, nil))
	buf := make([]byte, 1024)
	headers := []string{"X-Game: 1"}
	var failed error
	roundTrip := func() {
		if err := c.RequestRaw(MethodGet, "/", headers, nil); err != nil {
			failed = err
			return
		}
		if err := c.Poll(); err != nil {
			failed = err
			return
		}
		if err := readToEOF(c, buf); err != nil {
			failed = err
		}
	}
	roundTrip()
	allocs := testing.AllocsPerRun(500, roundTrip)
	require.NoError(t, failed)
	t.Logf("allocs per keep-alive round trip: %v", allocs)
	assert.Zero(t, allocs)

	// Godot's path allocates the slice it returns, and nothing else.
	godot := func() {
		_ = c.RequestRaw(MethodGet, "/", headers, nil)
		_ = c.Poll()
		for c.Status() == StatusBody {
			_ = c.ReadResponseBodyChunk()
		}
	}
	t.Logf("allocs per round trip, ReadResponseBodyChunk: %v", testing.AllocsPerRun(200, godot))
}

// TestAllocsTransportKeepAlive pins what the http.RoundTripper allocates for
// a keep-alive GET on a pooled connection, beyond the client's round trip
// (0, above): the http.Response, its Header (3: the map and one backing
// array for the values) and the two body wrappers — 6 (there were 14
// before the header was built for the response alone and a context that
// never ends stopped costing an AfterFunc). No timer operation either: the
// idle timer is not reset per request.
func TestAllocsTransportKeepAlive(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	ln := rawServer(t, []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world!"))
	tr := &Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	req, err := http.NewRequest("GET", "http://"+ln.Addr().String()+"/", nil)
	require.NoError(t, err)
	buf := make([]byte, 64)
	var failed error
	roundTrip := func() {
		resp, err := tr.RoundTrip(req)
		if err != nil {
			failed = err
			return
		}
		n, err := io.ReadFull(resp.Body, buf[:13])
		if err == nil && n != 13 {
			err = io.ErrUnexpectedEOF
		}
		if _, end := resp.Body.Read(buf); end != io.EOF && err == nil {
			err = fmt.Errorf("after the body: %v", end)
		}
		if err == nil {
			err = resp.Body.Close()
		}
		if err != nil {
			failed = err
		}
	}
	roundTrip()
	allocs := testing.AllocsPerRun(300, roundTrip)
	require.NoError(t, failed)
	t.Logf("allocs per Transport keep-alive round trip: %v", allocs)
	assert.LessOrEqual(t, allocs, 6.0)
}

// TestAllocsKeepAliveChunkedAppend pins a keep-alive GET of a chunked body
// read Godot's way, one whole chunk per AppendResponseBodyChunk (§1.10.2),
// at 0 allocations with a reused dst: the chunk is collected straight in
// dst, or, when a call ends before it is complete, in a buffer the client
// keeps from response to response (reuseChunkBuf).
func TestAllocsKeepAliveChunkedAppend(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	chunk := "1000\r\n" + strings.Repeat("x", 0x1000) + "\r\n"
	ln := rawServer(t, []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"+chunk+chunk+"0\r\n\r\n"))
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c, _ := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, nil))
			dst := make([]byte, 0, 2*0x1000)
			var failed error
			got := 0
			roundTrip := func() {
				if err := c.RequestRaw(MethodGet, "/", nil, nil); err != nil {
					failed = err
					return
				}
				for c.Status() == StatusRequesting {
					_ = c.Poll()
				}
				for c.Status() == StatusBody {
					var err error
					dst, err = c.AppendResponseBodyChunk(dst[:0])
					got += len(dst)
					if err != nil && err != io.EOF {
						failed = err
						return
					}
				}
			}
			roundTrip()
			got = 0
			// AllocsPerRun runs with GOMAXPROCS 1, where a spinning
			// non-blocking client lets the server goroutine run only when
			// preempted: fewer runs.
			runs := 200
			if !m.blocking {
				runs = 20
			}
			allocs := testing.AllocsPerRun(runs, roundTrip)
			require.NoError(t, failed)
			assert.Equal(t, (runs+1)*2*0x1000, got, "every body read whole")
			assert.Zero(t, allocs, "allocs per keep-alive round trip")
		})
	}
}

// streamServer answers the first request of each connection with head and
// then repeats piece until the client goes away: a body that never ends,
// so every measured read finds data.
func streamServer(t *testing.T, head, piece []byte) *net.TCPListener {
	t.Helper()
	return drive.Serve(t, func(conn net.Conn) {
		if _, err := conn.Write(head); err != nil {
			return
		}
		for {
			if _, err := conn.Write(piece); err != nil {
				return
			}
		}
	})
}

// streamingClient connects a client to a streamServer of head and piece and
// requests the body, which never ends: the client is in BODY.
func streamingClient(t *testing.T, head, piece string, blocking bool) *Client {
	t.Helper()
	ln := streamServer(t, []byte(head), []byte(piece))
	c, _ := newClient(t, blocking)
	require.NoError(t, connect(t, c, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, nil))
	require.NoError(t, c.RequestRaw(MethodGet, "/", nil, nil))
	_ = pollWhile(t, c, StatusRequesting)
	require.Equal(t, StatusBody, c.Status())
	return c
}

// TestAllocsAppendChunk pins AppendResponseBodyChunk (and
// ReadResponseBodyChunkInto) at zero allocations
// per call once its buffer is large enough (§1.10.1, §1.10.2: the same
// pieces as ReadResponseBodyChunk, appended instead of allocated), for a
// fixed-length and a chunked body.
// In non-blocking mode too: its reads go to the socket without a goroutine
// (issue 8), so a call that finds nothing allocates nothing either.
func TestAllocsAppendChunk(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	chunk := "1000\r\n" + strings.Repeat("x", 0x1000) + "\r\n"
	bodies := []struct {
		name        string
		head, piece string
		want        int // bytes per call in blocking mode
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n", strings.Repeat("y", 32<<10), DefaultReadChunkSize},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", strings.Repeat(chunk, 8), 0x1000},
	}
	for _, b := range bodies {
		for _, m := range modes {
			for _, into := range []bool{false, true} {
				api := "append"
				if into {
					api = "into"
				}
				t.Run(b.name+"/"+m.name+"/"+api, func(t *testing.T) {
					c := streamingClient(t, b.head, b.piece, m.blocking)
					buf := make([]byte, 0, DefaultReadChunkSize)
					var failed error
					got := 0
					read := func() {
						var err error
						if into {
							var n int
							n, err = c.ReadResponseBodyChunkInto(buf[:cap(buf)])
							got += n
						} else {
							buf, err = c.AppendResponseBodyChunk(buf[:0])
							got += len(buf)
						}
						if err != nil {
							failed = err
						}
					}
					for range 10 {
						read()
					}
					got = 0
					allocs := testing.AllocsPerRun(200, read)
					require.NoError(t, failed)
					assert.Zero(t, allocs, "allocs per AppendResponseBodyChunk")
					assert.Equal(t, StatusBody, c.Status())
					if m.blocking && !into {
						assert.Equal(t, 201*b.want, got, "blocking mode returns a whole target per call")
					}
				})
			}
		}
	}
}

// TestAllocsKeepAliveNonBlocking pins the keep-alive GET of the Into API
// in non-blocking mode at the blocking mode's count (issue 8: no goroutine
// per read or per small write; the one allocation left is the head's
// backing string, wire.HeadParser).
func TestAllocsKeepAliveNonBlocking(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	if !peekSupported {
		t.Skip("reads go through a background goroutine on this platform")
	}
	ln := rawServer(t, []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world!"))
	c, _ := newClient(t, false)
	require.NoError(t, connect(t, c, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, nil))
	buf := make([]byte, 1024)
	var failed error
	roundTrip := func() {
		if err := c.RequestRaw(MethodGet, "/", nil, nil); err != nil {
			failed = err
			return
		}
		for c.Status() == StatusRequesting {
			if err := c.Poll(); err != nil {
				failed = err
				return
			}
		}
		if err := readToEOF(c, buf); err != nil {
			failed = err
		}
	}
	roundTrip()
	// Not testing.AllocsPerRun: with GOMAXPROCS 1 a spinning Poll leaves
	// the network to sysmon (10 ms a round trip). The server allocates
	// nothing per request.
	const runs = 500
	mallocs, _ := memDelta(runs, roundTrip)
	require.NoError(t, failed)
	allocs := float64(mallocs) / runs
	t.Logf("allocs per non-blocking keep-alive round trip: %.2f", allocs)
	assert.LessOrEqual(t, allocs, 0.5) // a goroutine per read or write was 5, the head string 1
}

// TestAllocsNewConnection measures a GET on a new connection with a new
// Client each time, as an HTTPRequest node per download does: the read
// buffer comes from a pool (issue 8), so the bytes allocated per request
// are the connection's own state, not a 64 KiB buffer.
func TestAllocsNewConnection(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	port := smallServer(t, []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world!"))
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			buf := make([]byte, 1024)
			var failed error
			get := func() {
				c := New()
				c.SetBlockingMode(m.blocking)
				defer c.Close()
				if err := getOnce(c, port, buf); err != nil {
					failed = err
				}
			}
			get()
			const runs = 200
			mallocs, total := memDelta(runs, get)
			require.NoError(t, failed)
			bytesPer := total / runs
			allocsPer := mallocs / runs
			// The figures include the in-process server's accept.
			t.Logf("new connection, new Client: %d B, %d allocs per request", bytesPer, allocsPer)
			// Without the pool a request allocated over 64 KiB.
			assert.LessOrEqual(t, bytesPer, uint64(8<<10), "issue 8 target: ≤ 8 KB per new-connection request")
		})
	}
}

// TestAllocsNewConnectionChunked pins the 256 KiB read buffer of a chunked
// body read in bulk (ReadResponseBodyChunkInto with a 64 KiB buffer, as
// io.CopyBuffer does): a Client reused from connection to connection keeps
// it, even when garbage collections empty the pools in between; the
// Transport, which makes a Client per connection, takes it from a pool and
// gives it back (before, 270 KB per download).
func TestAllocsNewConnectionChunked(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	resp := []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
	piece := bytes.Repeat([]byte("x"), 16<<10)
	for range 32 { // 512 KiB: more than the first read takes
		resp = chunked.AppendChunk(resp, piece)
	}
	resp = append(resp, "0\r\n\r\n"...)
	port := smallServer(t, resp)
	buf := make([]byte, 64<<10)
	var failed error
	const runs = 30

	t.Run("reused-client", func(t *testing.T) {
		c := New()
		c.SetBlockingMode(true)
		defer c.Close()
		get := func() {
			c.Close()
			if err := c.ConnectToHost("127.0.0.1", port, nil); err != nil {
				failed = err
				return
			}
			for c.Status() == StatusResolving || c.Status() == StatusConnecting {
				_ = c.Poll()
			}
			if err := c.RequestRaw(MethodGet, "/", nil, nil); err != nil {
				failed = err
				return
			}
			for c.Status() == StatusRequesting {
				_ = c.Poll()
			}
			bulk := false
			for {
				_, err := c.ReadResponseBodyChunkInto(buf)
				bulk = bulk || len(c.rbuf) == bulkBufSize
				if err == io.EOF {
					break
				}
				if err != nil {
					failed = err
					return
				}
			}
			switch {
			case !bulk:
				failed = errors.New("the body was not read in bulk")
			case len(c.rbuf) != 0:
				failed = fmt.Errorf("the client keeps a %d-byte read buffer after the body", len(c.rbuf))
			}
		}
		get()
		_, total := memDelta(runs, get)
		require.NoError(t, failed)
		t.Logf("reused Client, 512 KiB chunked body read in bulk: %d B per request", total/runs)
		assert.Less(t, total/runs, uint64(16<<10), "the bulk buffer comes from its pool and goes back to it")
	})

	t.Run("transport", func(t *testing.T) {
		tr := &Transport{MaxIdleConnsPerHost: -1}
		req, err := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(port)+"/", nil)
		require.NoError(t, err)
		get := func() {
			resp, err := tr.RoundTrip(req)
			if err != nil {
				failed = err
				return
			}
			// Neither side's ReadFrom/WriteTo: reads of len(buf) bytes.
			n, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, struct{ io.Reader }{resp.Body}, buf)
			if err == nil && n != 512<<10 {
				err = fmt.Errorf("%d body bytes", n)
			}
			if err != nil {
				failed = err
			}
			_ = resp.Body.Close()
		}
		get()
		_, total := memDelta(runs, get)
		require.NoError(t, failed)
		t.Logf("Transport, a new connection each, 512 KiB chunked body: %d B per request", total/runs)
		assert.Less(t, total/runs, uint64(64<<10), "the bulk buffer (256 KiB) is pooled")
	})
}

// smallServer answers one request per connection with resp, from pooled
// 1 KiB buffers: it allocates little per connection, so that MemStats
// deltas are mostly the client's.
func smallServer(t *testing.T, resp []byte) int {
	t.Helper()
	pool := sync.Pool{New: func() any { b := make([]byte, 1024); return &b }}
	return drive.Port(drive.Serve(t, func(conn net.Conn) {
		bp := pool.Get().(*[]byte)
		defer pool.Put(bp)
		buf := *bp
		n := 0
		for !bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
			m, err := conn.Read(buf[n:])
			if err != nil || n+m == len(buf) {
				return
			}
			n += m
		}
		if _, err := conn.Write(resp); err != nil {
			return
		}
		_, _ = conn.Read(buf) // until the client closes
	}))
}

// getOnce connects c to port on 127.0.0.1, sends GET / and reads the body
// to its end with buf, Polling while the status says to.
func getOnce(c *Client, port int, buf []byte) error {
	if err := c.ConnectToHost("127.0.0.1", port, nil); err != nil {
		return err
	}
	for c.Status() == StatusResolving || c.Status() == StatusConnecting {
		_ = c.Poll()
	}
	if err := c.RequestRaw(MethodGet, "/", nil, nil); err != nil {
		return err
	}
	for c.Status() == StatusRequesting {
		_ = c.Poll()
	}
	return readToEOF(c, buf)
}

// readToEOF reads the body with ReadResponseBodyChunkInto until io.EOF and
// returns any other error that ended it.
func readToEOF(c *Client, buf []byte) error {
	for {
		_, err := c.ReadResponseBodyChunkInto(buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// mallocsAlone counts the heap allocations of one call of f that waits for
// no other goroutine. It runs with GOMAXPROCS 1, as testing.AllocsPerRun
// does, so that a goroutine left by an earlier test (a server logging a
// handshake error, say) does not run meanwhile and count.
func mallocsAlone(f func()) uint64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	mallocs, _ := memDelta(1, f)
	return mallocs
}

// memDelta runs f runs times and returns the heap allocations (count and
// bytes) they made, from runtime.MemStats (process-wide, as
// testing.AllocsPerRun counts).
func memDelta(runs int, f func()) (mallocs, bytes uint64) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc
}

// TestAllocsReadResponseBodyChunk pins ReadResponseBodyChunk, Godot's form,
// on a large body at one allocation per three calls that return bytes or
// fewer — the pieces are carved from one array of 256 KiB or more
// (pieceRoom), read straight into it — in both modes and for both
// framings, the non-blocking drain included. A call that returns nothing
// allocates nothing.
func TestAllocsReadResponseBodyChunk(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	chunk := "1000\r\n" + strings.Repeat("x", 0x1000) + "\r\n"
	bodies := []struct {
		name, head, piece string
		readChunk         int
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n", strings.Repeat("y", 16<<10), DefaultReadChunkSize},
		{"length-1MiB", "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n", strings.Repeat("y", 16<<10), 1 << 20}, // a target larger than the read buffer
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", strings.Repeat(chunk, 8), DefaultReadChunkSize},
	}
	for _, b := range bodies {
		for _, m := range modes {
			t.Run(b.name+"/"+m.name, func(t *testing.T) {
				c := streamingClient(t, b.head, b.piece, m.blocking)
				require.NoError(t, c.SetReadChunkSize(b.readChunk))
				calls, got := 0, 0
				read := func() {
					// Non-blocking: until bytes come (a loaded machine may not
					// run the server between two calls); empty calls allocate
					// nothing.
					for deadline := time.Now().Add(time.Second); ; runtime.Gosched() {
						if p := c.ReadResponseBodyChunk(); len(p) > 0 {
							calls++
							got += len(p)
							return
						}
						if m.blocking || time.Now().After(deadline) {
							return
						}
					}
				}
				for range 10 {
					read()
				}
				calls, got = 0, 0
				const runs = 300
				mallocs, _ := memDelta(runs, read)
				require.Equal(t, StatusBody, c.Status())
				require.Positive(t, calls)
				t.Logf("%d calls returned %d bytes, %d allocations", calls, got, mallocs)
				// The server and the runtime may allocate now and then.
				assert.LessOrEqual(t, mallocs, uint64(calls)/3+runs/10, "allocations per call that returned bytes")
			})
		}
	}
}
