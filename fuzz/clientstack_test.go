package fuzz

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdhttp/gdhttp/chunked"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/wire"
)

type transition struct{ from, to httpclient.Status }

// observedTransitions is the status machine of §1.19 as a caller of the
// public API sees it when it calls ConnectToHost with an IP literal once and
// then only Poll, Request and the body reads (no Close in between), with the
// port's additions (httpclient's package documentation, COMPAT.md H2/H3/H5).
// httpclient keeps its own table unexported; this copy is taken from the
// spec, so the two are checked against each other by the fuzzer.
var observedTransitions = map[transition]string{
	{httpclient.StatusDisconnected, httpclient.StatusConnecting}:    "§1.5.10 connect_to_host(IP literal)",
	{httpclient.StatusConnecting, httpclient.StatusConnected}:       "§1.6.2.3 TCP connected",
	{httpclient.StatusConnecting, httpclient.StatusCantConnect}:     "§1.6.2.2 no candidate left",
	{httpclient.StatusConnected, httpclient.StatusRequesting}:       "§1.7.12 request()",
	{httpclient.StatusConnected, httpclient.StatusConnectionError}:  "§1.6.3 peer FIN while idle",
	{httpclient.StatusRequesting, httpclient.StatusBody}:            "§1.9 head parsed, a body follows",
	{httpclient.StatusRequesting, httpclient.StatusConnected}:       "§1.9 head parsed, no body",
	{httpclient.StatusRequesting, httpclient.StatusConnectionError}: "§1.6.4 read error or EOF before the head, bad head",
	{httpclient.StatusBody, httpclient.StatusConnected}:             "§1.10.3 body complete",
	{httpclient.StatusBody, httpclient.StatusDisconnected}:          "§1.10.1.4 EOF while reading (COMPAT H2/H3)",
	{httpclient.StatusBody, httpclient.StatusConnectionError}:       "§1.10.1.4 read error, §1.10.2 chunk protocol error",
}

// clientRun is what one run of the client over a server plan produced.
type clientRun struct {
	trace    []httpclient.Status
	code     int
	headers  []string
	body     []byte
	complete bool  // BodyComplete at the end
	readErr  error // the last error of ReadResponseBodyChunkInto (Into runs)
	final    httpclient.Status
	idle     httpclient.Status // after the server's close, when the response used every byte (else 0)
	lastErr  error
}

func (r clientRun) String() string {
	return fmt.Sprintf("trace=%v code=%d headers=%q complete=%v final=%v lastErr=%v readErr=%v body=%d bytes",
		r.trace, r.code, r.headers, r.complete, r.final, r.lastErr, r.readErr, len(r.body))
}

// success is a response read to its end: the body complete and the client in
// CONNECTED (also after an ambiguous head: the status stays Godot's, H5), or
// DISCONNECTED after a read-until-close body (never a failure status).
func (r clientRun) success() bool {
	return r.complete && (r.final == httpclient.StatusConnected || r.final == httpclient.StatusDisconnected)
}

// clientMode is one way of driving the client.
type clientMode struct {
	blocking, into, head, strict bool
	file                         bool // Godot's pieces through WriteResponseBodyChunkTo (spliced on Linux)
}

func (m clientMode) String() string {
	return fmt.Sprintf("blocking=%v into=%v head=%v strict=%v file=%v", m.blocking, m.into, m.head, m.strict, m.file)
}

// runClient drives a real client over loopback against a server playing p,
// through the public API only, recording every status change it observes
// after each call. A status change outside observedTransitions or a run that
// does not end within runDeadline fails the test with the trace.
func runClient(t *testing.T, p plan, m clientMode) clientRun {
	srv := serve(t, p)
	c := httpclient.New()
	c.SetBlockingMode(m.blocking)
	c.SetStrict(m.strict)
	var run clientRun
	var hung atomic.Bool
	watchdog := time.AfterFunc(runDeadline, func() {
		hung.Store(true)
		c.Abort()
	})
	fail := func(format string, args ...any) {
		watchdog.Stop()
		c.Close()
		srv.wait(t)
		t.Fatalf("%s\n  mode: %v\n  plan: %v\n  run: %v", fmt.Sprintf(format, args...), m, p, run)
	}
	last := c.Status()
	record := func(call string) {
		s := c.Status()
		if s == last {
			return
		}
		if _, ok := observedTransitions[transition{last, s}]; !ok {
			fail("illegal status transition %v → %v after %s", last, s, call)
		}
		run.trace = append(run.trace, s)
		last = s
	}
	step := func(what string) {
		if hung.Load() {
			fail("hang: no end within %v while %s (status %v)", runDeadline, what, c.Status())
		}
		if !m.blocking {
			time.Sleep(20 * time.Microsecond) // a frame: the non-blocking loop polls once a frame (hung bounds it)
		}
	}

	if err := c.ConnectToHost("127.0.0.1", srv.port, nil); err != nil {
		fail("ConnectToHost: %v", err)
	}
	record("ConnectToHost")
	for c.Status() == httpclient.StatusConnecting {
		_ = c.Poll()
		record("Poll")
		step("connecting")
	}
	if c.Status() != httpclient.StatusConnected {
		fail("loopback connect failed: %v", c.LastError())
	}
	method := httpclient.MethodGet
	if m.head {
		method = httpclient.MethodHead
	}
	if err := c.Request(method, srv.token, nil, ""); err != nil {
		fail("Request: %v", err)
	}
	record("Request")
	for c.Status() == httpclient.StatusRequesting {
		_ = c.Poll()
		record("Poll")
		step("requesting")
	}
	run.code = c.ResponseCode()
	run.headers = c.ResponseHeaders()
	buf := make([]byte, 7)
	if m.blocking {
		buf = make([]byte, 64<<10) // the direct and bulk read paths
	}
	var file *os.File
	if m.file {
		var err error
		if file, err = os.CreateTemp(t.TempDir(), "body"); err != nil {
			fail("temporary file: %v", err)
		}
		defer file.Close()
	}
	for c.Status() == httpclient.StatusBody {
		_ = c.Poll()
		record("Poll")
		if c.Status() != httpclient.StatusBody {
			break
		}
		if m.into {
			n, err := c.ReadResponseBodyChunkInto(buf)
			run.body = append(run.body, buf[:n]...)
			if err != nil {
				run.readErr = err
			}
			record("ReadResponseBodyChunkInto")
		} else if m.file {
			_, werr, _ := c.WriteResponseBodyChunkTo(file)
			if werr != nil {
				fail("writing the piece: %v", werr)
			}
			record("WriteResponseBodyChunkTo")
		} else {
			run.body = append(run.body, c.ReadResponseBodyChunk()...)
			record("ReadResponseBodyChunk")
		}
		step("reading the body")
	}
	if m.file {
		var err error
		if run.body, err = os.ReadFile(file.Name()); err != nil {
			fail("reading the file back: %v", err)
		}
	}
	run.complete = c.BodyComplete()
	run.final = c.Status()
	run.lastErr = c.LastError()
	if run.final == httpclient.StatusRequesting || run.final == httpclient.StatusBody {
		fail("still %v after the response ended", run.final)
	}
	// Idle after a complete response that used every byte the server sent:
	// the server's close must turn the next polls into CONNECTION_ERROR
	// (§1.6.3, §1.19 "CONNECTED --poll sees peer FIN--> CONNECTION_ERROR").
	// With bytes left over the socket stays readable, so Godot sees no FIN.
	if run.final == httpclient.StatusConnected && endsExactly(p.data, m.head, m.strict) {
		for c.Status() == httpclient.StatusConnected {
			_ = c.Poll()
			record("Poll (idle)")
			step("idle after the response")
			if m.blocking {
				time.Sleep(20 * time.Microsecond) // blocking Poll does not wait in CONNECTED
			}
		}
		run.idle = c.Status()
		if run.idle != httpclient.StatusConnectionError {
			fail("idle after the response: %v, want CONNECTION_ERROR once the server closed", run.idle)
		}
	}
	if hung.Load() {
		fail("hang: the watchdog fired (status %v)", run.final)
	}
	if !watchdog.Stop() {
		fail("hang: the watchdog fired")
	}
	c.Close()
	srv.wait(t)
	return run
}

// FuzzClientStack runs the real client over loopback against a server that
// writes arbitrary bytes cut at fuzzer-chosen points and then closes,
// half-closes, resets or closes late. For every input:
//   - no panic, no hang (runDeadline), only legal status changes (§1.19),
//     no goroutine or fd left, heap bounded;
//   - non-blocking (Poll loop) and blocking mode, each with the Godot read
//     path (ReadResponseBodyChunk) and the zero-copy path
//     (ReadResponseBodyChunkInto), see the same status trace, code, headers
//     and completeness (§1.15: blocking mode changes only how the reads
//     wait; COMPAT H1/H2 make the FIN timing irrelevant), and the same
//     body bytes when the body completed; a body cut or refused mid-chunk is
//     delivered by the Into path but not by ReadResponseBodyChunk
//     (§1.10.2.5), so then only a prefix relation holds;
//   - after a non-hex chunk-size line (`5;a=b`) the runs may end apart:
//     non-blocking reads that chunk only within the call that parsed the
//     line and drops it when a pause cut it, blocking waits for it and may
//     meet the close (§1.10.2.2, TestDoomedChunk) — Godot's own timing
//     race; then the runs agree up to the body and end in CONNECTION_ERROR
//     or DISCONNECTED;
//   - with a RST ending the kernel may drop data the client had not read yet,
//     so only the invariants above (not the agreement) are checked for it;
//   - strict mode (§7.4) never succeeds where default mode fails: when the
//     strict and lenient head parsers (package wire) frame the head the same
//     way, a strict success implies a default success with the same code,
//     headers and body.
func FuzzClientStack(f *testing.F) {
	seeds := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
		"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nstale",
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nabc",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\nContent-Length: 1\n\nx",
		"not http at all\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1,2\r\n\r\n0123456789ab",
		"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
		"",
		"HTTP/1.1 200",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint64(i)*0x9e3779b9, uint8(i%4))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, flags uint8) {
		if len(data) > maxServerBytes {
			return
		}
		base := takeBaseline(t)
		p := planFor(data, seed)
		head := flags&1 != 0
		var runs []clientRun
		var modes []clientMode
		for _, blocking := range []bool{false, true} {
			for _, into := range []bool{false, true} {
				m := clientMode{blocking: blocking, into: into, head: head}
				modes = append(modes, m)
				runs = append(runs, runClient(t, p, m))
			}
		}
		strictMode := clientMode{blocking: flags&2 != 0, into: true, head: head, strict: true}
		strict := runClient(t, p, strictMode)
		fileMode := clientMode{blocking: flags&4 != 0, head: head, file: true}
		file := runClient(t, p, fileMode)
		base.check(t, func() string { return fmt.Sprintf("plan %v data %q", p, data) })

		switch {
		case p.end == endReset:
		case doomedChunk(runs):
			checkDoomedAgreement(t, p, modes, runs)
		default:
			checkAgreement(t, p, modes, runs)
			// The pieces written to a file are Godot's pieces.
			godot := runs[0]
			if fileMode.blocking {
				godot = runs[2]
			}
			if !emptyBodyFINRace(godot, file) && (!slices.Equal(file.trace, godot.trace) || file.code != godot.code ||
				file.complete != godot.complete || file.final != godot.final || file.idle != godot.idle || !bytes.Equal(file.body, godot.body)) {
				t.Fatalf("WriteResponseBodyChunkTo differs from ReadResponseBodyChunk\n  plan: %v\n  file:  %v\n  godot: %v", p, file, godot)
			}
		}
		// Strict success ⇒ default success, where both parsers frame alike.
		if strict.success() && sameFraming(data, head) {
			def := runs[3] // blocking Into: the same read path as the strict run's body
			if strictMode.blocking == false {
				def = runs[1]
			}
			if p.end == endReset && !def.success() {
				return // the RST may have dropped unread data in the default run only
			}
			if emptyBodyFINRace(def, strict) {
				return // Godot's own timing race after an empty body (httpclient: TestScenarios/content-length-0-fin-later)
			}
			if !def.success() || def.code != strict.code || !slices.Equal(def.headers, strict.headers) || !bytes.Equal(def.body, strict.body) {
				t.Fatalf("strict mode accepted what default mode did not (§7.4)\n  plan: %v\n  strict:  %v\n  default: %v\n  data: %q",
					p, strict, def, data)
			}
		}
	})
}

// emptyBodyFINRace reports whether a and b differ only by Godot's own timing
// race after a response whose body is empty (Content-Length: 0, HEAD) when
// the server then closes: the first Poll in BODY sees the FIN (BODY →
// CONNECTION_ERROR, §1.6.3) or the read comes first (BODY → CONNECTED, then
// CONNECTION_ERROR). The client scenario matrix accepts exactly these two
// (httpclient: TestScenarios/content-length-0-fin-later).
func emptyBodyFINRace(a, b clientRun) bool {
	short := []httpclient.Status{httpclient.StatusBody, httpclient.StatusConnectionError}
	long := []httpclient.Status{httpclient.StatusBody, httpclient.StatusConnected, httpclient.StatusConnectionError}
	split := func(tr []httpclient.Status) ([]httpclient.Status, bool, bool) {
		switch {
		case len(tr) >= len(long) && slices.Equal(tr[len(tr)-len(long):], long):
			return tr[:len(tr)-len(long)], true, true
		case len(tr) >= len(short) && slices.Equal(tr[len(tr)-len(short):], short):
			return tr[:len(tr)-len(short)], false, true
		}
		return nil, false, false
	}
	pa, la, oka := split(a.trace)
	pb, lb, okb := split(b.trace)
	return oka && okb && la != lb && slices.Equal(pa, pb) && a.code == b.code &&
		slices.Equal(a.headers, b.headers) && len(a.body) == 0 && len(b.body) == 0
}

// checkAgreement compares the four default-mode runs.
func checkAgreement(t *testing.T, p plan, modes []clientMode, runs []clientRun) {
	ref := runs[0]
	for i, r := range runs {
		if emptyBodyFINRace(ref, r) {
			continue
		}
		if !slices.Equal(r.trace, ref.trace) || r.code != ref.code || !slices.Equal(r.headers, ref.headers) ||
			r.complete != ref.complete || r.final != ref.final || r.idle != ref.idle {
			t.Fatalf("runs differ (§1.15, COMPAT H1/H2)\n  plan: %v\n  %v: %v\n  %v: %v", p, modes[0], ref, modes[i], r)
		}
	}
	// Same read path, blocking vs not: same bytes.
	for i := 2; i < 4; i++ {
		if !bytes.Equal(runs[i].body, runs[i-2].body) {
			t.Fatalf("blocking and non-blocking bodies differ\n  plan: %v\n  %v: %q\n  %v: %q", p, modes[i-2], runs[i-2].body, modes[i], runs[i].body)
		}
	}
	// Godot's path vs the zero-copy path.
	godot, into := runs[0], runs[1]
	if godot.complete && !bytes.Equal(godot.body, into.body) {
		t.Fatalf("complete body differs between ReadResponseBodyChunk and ReadResponseBodyChunkInto\n  plan: %v\n  %q\n  %q", p, godot.body, into.body)
	}
	if !bytes.HasPrefix(into.body, godot.body) {
		t.Fatalf("Into body does not extend the chunk body\n  plan: %v\n  %q\n  %q", p, godot.body, into.body)
	}
	// The Into path's error says how the body ended (COMPAT H3).
	if into.complete && into.readErr != nil && !errors.Is(into.readErr, io.EOF) {
		t.Fatalf("BodyComplete but the read ended with %v\n  plan: %v", into.readErr, p)
	}
	if !into.complete && errors.Is(into.readErr, io.EOF) {
		t.Fatalf("io.EOF from a body that is not complete (final %v)\n  plan: %v", into.final, p)
	}
}

// sameFraming reports whether the lenient and strict head parsers read the
// head in data the same way (no 1xx skipped, same code, headers and
// framing), so strict and default mode must read the same body.
func sameFraming(data []byte, head bool) bool {
	var lh, sh wire.Head
	lp := wire.HeadParser{HeadRequest: head}
	sp := wire.HeadParser{HeadRequest: head, Strict: true}
	ln, lerr := lp.Parse(data, &lh)
	sn, serr := sp.Parse(data, &sh)
	if lerr != nil || serr != nil || ln != sn || sh.Informational != 0 {
		return false
	}
	return lh.Code == sh.Code && lh.Framing == sh.Framing && lh.ContentLength == sh.ContentLength &&
		lh.Chunked == sh.Chunked && slices.Equal(lh.Headers, sh.Headers)
}

// endsExactly reports whether the response in data, parsed as the client in
// that mode parses it, ends at the last byte: a head without a body, or a
// Content-Length body, and nothing after it.
func endsExactly(data []byte, head, strict bool) bool {
	var h wire.Head
	p := wire.HeadParser{HeadRequest: head, Strict: strict}
	n, err := p.Parse(data, &h)
	if err != nil {
		return false
	}
	switch h.Framing {
	case wire.FramingNone:
		return n == len(data)
	case wire.FramingLength:
		return int64(len(data)-n) == h.ContentLength
	}
	return false
}

// doomedChunk reports whether some run's body met a non-hex chunk-size line.
func doomedChunk(runs []clientRun) bool {
	for _, r := range runs {
		if errors.Is(r.lastErr, chunked.ErrNotHex) || errors.Is(r.readErr, chunked.ErrNotHex) {
			return true
		}
	}
	return false
}

// checkDoomedAgreement is checkAgreement after a non-hex chunk-size line
// (§1.10.2.2). Godot reads that chunk only within the call that parsed the
// line, so in non-blocking mode the outcome is Godot's own timing race: the
// chunk all there (delivered, then CONNECTION_ERROR), cut by a pause
// (dropped: CONNECTION_ERROR) or by the close (DISCONNECTED); blocking mode
// waits for it (CONNECTION_ERROR or DISCONNECTED). Every run must agree on
// the code, the headers and the trace up to the body's end, end in one of
// those two statuses, and deliver bytes that are prefixes of one another.
func checkDoomedAgreement(t *testing.T, p plan, modes []clientMode, runs []clientRun) {
	ref := runs[0]
	n := len(ref.trace) - 1
	for i, r := range runs {
		if n < 0 || len(r.trace) != len(ref.trace) || !slices.Equal(r.trace[:n], ref.trace[:n]) ||
			r.code != ref.code || !slices.Equal(r.headers, ref.headers) {
			t.Fatalf("runs differ before the body's end after a non-hex size line\n  plan: %v\n  %v: %v\n  %v: %v", p, modes[0], ref, modes[i], r)
		}
		if last := r.trace[n]; last != httpclient.StatusConnectionError && last != httpclient.StatusDisconnected {
			t.Fatalf("%v after a non-hex size line, want CONNECTION_ERROR or DISCONNECTED\n  plan: %v\n  %v: %v", last, p, modes[i], r)
		}
		if !bytes.HasPrefix(r.body, ref.body) && !bytes.HasPrefix(ref.body, r.body) {
			t.Fatalf("bodies are not prefixes of one another\n  plan: %v\n  %q\n  %q", p, ref.body, r.body)
		}
	}
}
