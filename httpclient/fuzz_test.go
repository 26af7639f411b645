package httpclient

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gdhttp/gdhttp/chunked"
)

// fuzzRun is what one run of the client over fuzzed server bytes produced.
type fuzzRun struct {
	trace    []Status
	code     int
	headers  []string
	body     []byte
	complete bool
	doomed   bool // the body read met a non-hex chunk-size line (§1.10.2.2)
}

// runOverPipe connects a client to a peer that reads the request and then
// writes data in two pieces (cut at split) and closes, over an in-memory
// pipe, and drives the client until the response is over. It fails the test
// when a status change is illegal, when the client is still REQUESTING or in
// BODY after the peer closed, or when a goroutine outlives Close.
func runOverPipe(t *testing.T, data []byte, split int, blocking bool, path readPath, head, strict bool) fuzzRun {
	var wg sync.WaitGroup
	c := New()
	c.SetBlockingMode(blocking)
	c.SetStrict(strict)
	var run fuzzRun
	c.onStatus = func(from, to Status) {
		if !legalTransition(from, to) {
			t.Fatalf("illegal status transition %v → %v", from, to)
		}
		run.trace = append(run.trace, to)
	}
	c.lookup = func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	c.dialFn = func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer server.Close()
			buf := make([]byte, 4096)
			n := 0
			for !bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
				m, err := server.Read(buf[n:])
				if err != nil {
					return
				}
				n += m
			}
			if _, err := server.Write(data[:split]); err != nil {
				return
			}
			_, _ = server.Write(data[split:])
		}()
		return client, nil
	}
	defer func() {
		c.Close()
		wg.Wait()
		if n := c.live.Load(); n != 0 {
			t.Fatalf("%d goroutines outlived Close", n)
		}
	}()

	deadline := time.Now().Add(5 * time.Second)
	step := func() {
		if time.Now().After(deadline) {
			t.Fatalf("stuck in %v", c.Status())
		}
		if !blocking {
			time.Sleep(10 * time.Microsecond) // a frame: the non-blocking loop polls once a frame (deadline bounds it)
		}
	}
	if err := c.ConnectToHost("fuzz.example", 80, nil); err != nil {
		t.Fatal(err)
	}
	for c.Status() == StatusResolving || c.Status() == StatusConnecting {
		_ = c.Poll()
		step()
	}
	method := MethodGet
	if head {
		method = MethodHead
	}
	if err := c.Request(method, "/", nil, ""); err != nil {
		t.Fatal(err)
	}
	for c.Status() == StatusRequesting {
		_ = c.Poll()
		step()
	}
	run.code = c.ResponseCode()
	run.headers = append([]string(nil), c.RawHeaders()...)
	buf := make([]byte, 5)
	if blocking {
		buf = make([]byte, 64<<10) // the direct and bulk read paths
	}
	// pathAppend's buffers, taken in turn: a chunk collected in one's spare
	// room and not complete moves to the client, and the next call has the
	// other (readChunkGodot).
	apps := [2][]byte{make([]byte, 0, 7), make([]byte, 0, 64<<10)}
	calls := 0
	for c.Status() == StatusBody {
		if !blocking { // over net.Pipe (no socket to peek) blocking mode's liveness check waits up to 1 ms: skip it
			_ = c.Poll()
			if c.Status() != StatusBody {
				break
			}
		}
		switch path {
		case pathInto:
			n, _ := c.ReadResponseBodyChunkInto(buf)
			run.body = append(run.body, buf[:n]...)
		case pathAppend:
			p, _ := c.AppendResponseBodyChunk(apps[calls%2][:0])
			apps[calls%2] = p
			calls++
			run.body = append(run.body, p...)
		default:
			run.body = append(run.body, c.ReadResponseBodyChunk()...)
		}
		step()
	}
	run.complete = c.BodyComplete()
	run.doomed = errors.Is(c.LastError(), chunked.ErrNotHex) || errors.Is(c.body.err, chunked.ErrNotHex)
	if s := c.Status(); s == StatusRequesting || s == StatusBody {
		t.Fatalf("still %v after the peer closed", s)
	}
	return run
}

// FuzzResponse runs the whole client over arbitrary server bytes: no panic,
// only legal status changes, never stuck, no goroutine left; and the six
// ways of driving it (non-blocking / blocking × Godot's chunk reads / the
// zero-copy reader / AppendResponseBodyChunk into two buffers in turn, a
// small and a large one) see the same statuses, code and headers, and the
// same body when it completed (§1.19, §1.10; a chunk cut or refused mid-way
// is delivered by ReadResponseBodyChunkInto but not by ReadResponseBodyChunk,
// §1.10.2.5, so then only a prefix relation holds). AppendResponseBodyChunk
// delivers Godot's pieces: always the same body as ReadResponseBodyChunk.
func FuzzResponse(f *testing.F) {
	for _, sc := range scenarios {
		if len(sc.resp) < 4096 {
			f.Add([]byte(sc.resp), uint16(len(sc.resp)/2), uint8(0))
		}
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), uint16(3), uint8(2))  // HEAD
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), uint16(20), uint8(4)) // strict
	f.Fuzz(func(t *testing.T, data []byte, split uint16, flags uint8) {
		if len(data) > 1<<16 {
			return
		}
		cut := int(split) % (len(data) + 1)
		head, strict := flags&2 != 0, flags&4 != 0
		var runs []fuzzRun
		for _, path := range []readPath{pathChunks, pathInto, pathAppend} {
			for _, blocking := range []bool{false, true} {
				runs = append(runs, runOverPipe(t, data, cut, blocking, path, head, strict))
			}
		}
		// runs: Godot's reads, Into, Append; each non-blocking, then blocking.
		godot, zero := runs[0], runs[2]
		if godot.doomed || runs[1].doomed {
			// §1.10.2.2: a chunk of a non-hex size line is read only within
			// the call that parsed the line. Non-blocking drops it when the
			// peer paused inside it; blocking waits, and may then meet the
			// close: Godot's own timing race.
			checkDoomed(t, runs)
			return
		}
		for i, r := range runs {
			if !reflect.DeepEqual(r.trace, godot.trace) || r.code != godot.code || !reflect.DeepEqual(r.headers, godot.headers) {
				t.Fatalf("run %d differs: %v %d %q, want %v %d %q", i, r.trace, r.code, r.headers, godot.trace, godot.code, godot.headers)
			}
			if r.complete != godot.complete {
				t.Fatalf("run %d: complete %v, want %v", i, r.complete, godot.complete)
			}
		}
		for i := 1; i < len(runs); i += 2 {
			if !bytes.Equal(runs[i].body, runs[i-1].body) {
				t.Fatalf("blocking and non-blocking bodies differ (run %d): %q vs %q", i, runs[i].body, runs[i-1].body)
			}
		}
		if !bytes.Equal(runs[4].body, godot.body) {
			t.Fatalf("AppendResponseBodyChunk's body %q, ReadResponseBodyChunk's %q", runs[4].body, godot.body)
		}
		if godot.complete && !bytes.Equal(godot.body, zero.body) {
			t.Fatalf("complete body differs: %q (chunks) vs %q (into)", godot.body, zero.body)
		}
		if !bytes.HasPrefix(zero.body, godot.body) {
			t.Fatalf("into body %q does not start with %q", zero.body, godot.body)
		}
	})
}

// checkDoomed compares the runs of a body with a non-hex chunk-size line.
// Godot reads that chunk only within the call that parsed the line
// (§1.10.2.2): whether it is all there then, cut by a pause or by the close
// is Godot's own timing race, and blocking mode waits for it. The runs
// agree on the code, the headers and the trace up to the body's end, end in
// CONNECTION_ERROR or DISCONNECTED, and deliver bytes that are prefixes of
// one another.
func checkDoomed(t *testing.T, runs []fuzzRun) {
	t.Helper()
	ref := runs[0]
	n := len(ref.trace) - 1
	for i, r := range runs {
		if n < 0 || len(r.trace) != len(ref.trace) || !reflect.DeepEqual(r.trace[:n], ref.trace[:n]) ||
			r.code != ref.code || !reflect.DeepEqual(r.headers, ref.headers) {
			t.Fatalf("run %d differs before the body's end: %v %d %q vs %v %d %q", i, r.trace, r.code, r.headers, ref.trace, ref.code, ref.headers)
		}
		if last := r.trace[n]; last != StatusConnectionError && last != StatusDisconnected {
			t.Fatalf("run %d ended %v after a non-hex size line", i, last)
		}
		if !bytes.HasPrefix(r.body, ref.body) && !bytes.HasPrefix(ref.body, r.body) {
			t.Fatalf("run %d: bodies %q and %q are not prefixes of one another", i, r.body, ref.body)
		}
	}
}
