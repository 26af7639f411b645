package httpclient

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/internal/tlsgen"
)

// TestTLSGen is a seeded generated harness of TLS servers that misbehave
// (internal/tlsgen): record sizes and TCP pieces cut at any byte of the
// handshake and of the response, close_notify, a bare FIN, an RST, a fatal
// alert or garbage after the whole response or after any byte of it (head
// or body; Content-Length, chunked, until-close), NewSessionTickets,
// KeyUpdates, empty records and TLS 1.2 warning alerts between the
// response's records, a plain-HTTP answer to the ClientHello, a stall in
// the handshake, a server that asks for (or requires) a client
// certificate, TLS 1.2 and 1.3, chains up to and over mbedTLS's
// Certificate message limit. Each case runs in the non-blocking Poll loop
// (recording the status trace and every ReadResponseBodyChunk's amount)
// and in blocking mode, and both must give:
//   - the status path and final status of the rules: §1.6.2.5 (a handshake
//     failure is TLS_HANDSHAKE_ERROR, a stall stays CONNECTING: Godot has
//     no handshake timeout), §1.6.4.2 (an end before the head is complete
//     is CONNECTION_ERROR), §1.10.1.4/§1.10.2.7 with §1.15.4 (close_notify
//     is EOF → DISCONNECTED; a bare FIN, an alert, garbage are a
//     connection error), §1.10.3 (a whole fixed-length or chunked body →
//     CONNECTED), COMPAT H2/H3/H8/H15;
//   - the body bytes of those rules: the bytes sent for a fixed-length or
//     until-close body, the whole chunks sent for a chunked one (each
//     returned whole, one per call, §1.10.2.5), never more than
//     read_chunk_size a call (§1.10.1.1), in blocking mode exactly
//     min(left, read_chunk_size) but for a last short one (§1.10.1.2);
//     BodyComplete only for a body that is whole (COMPAT H3);
//   - the same trace, final status, body and completeness in both modes
//     (an RST's timing excepted: it may come before the bytes ahead of it
//     were taken, §1.6 — only a prefix is checked there);
//   - no hang, no goroutine (goleak) or descriptor left.
//
// GDHTTP_TLSGEN_N cases (default 60), GDHTTP_TLSGEN_SEED (default 1),
// GDHTTP_TLSGEN_ONLY=i runs case i alone. A failure logs the case.
func TestTLSGen(t *testing.T) {
	n := drive.EnvInt("GDHTTP_TLSGEN_N", 60)
	seed := uint64(drive.EnvInt("GDHTTP_TLSGEN_SEED", 1))
	only := drive.EnvInt("GDHTTP_TLSGEN_ONLY", -1)
	fds := drive.FDs()
	tally := map[string]int{}
	chains := map[[2]int]ts.Chain{}
	for i := range n {
		if only >= 0 && i != only {
			continue
		}
		c := tlsgen.Gen(seed*1_000_003 + uint64(i))
		key := [2]int{c.Intermediates, c.Padding}
		ch, ok := chains[key]
		if !ok {
			ch = ts.NewChain(t, c.Intermediates, c.Padding)
			chains[key] = ch
		}
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			tally[runTLSGenCase(t, c, ch)]++
		})
	}
	t.Logf("seed %d, %d cases:%s", seed, n, drive.Counts(tally))
	drive.NoFDLeft(t, fds, 2)
}

// tgResult is what one mode gave.
type tgResult struct {
	Trace    []Status
	Final    Status
	Body     []byte
	Pieces   []int
	Complete bool
	Err      error
}

func (r tgResult) String() string {
	return fmt.Sprintf("trace=%v final=%v body=%d pieces=%v complete=%v err=%v", r.Trace, r.Final, len(r.Body), r.Pieces, r.Complete, r.Err)
}

// tgWant is what the rules say.
type tgWant struct {
	Final    []Status // any of these
	Body     []byte
	Prefix   bool // the body may be any prefix of Body (an RST)
	Complete bool
	Cause    error // wrapped by LastError when not nil
}

// tgExpect is the rules' outcome for c (see TestTLSGen).
func tgExpect(c tlsgen.Case) tgWant {
	switch {
	case c.Kind == tlsgen.PlainHTTP, c.Kind == tlsgen.BigChain, c.Kind == tlsgen.RequireCert && c.Version == tls.VersionTLS12:
		return tgWant{Final: statuses(StatusTLSHandshakeError)}
	case c.Kind == tlsgen.RequireCert:
		// TLS 1.3: the client's handshake is over before the server
		// reads its (empty) certificate; the alert answers the request.
		return tgWant{Final: statuses(StatusConnectionError)}
	case c.Kind == tlsgen.Stall:
		return tgWant{Final: statuses(StatusConnecting)}
	case c.Kind == tlsgen.HandshakeFIN && c.StallAt == 0:
		// COMPAT H9: an end with nothing received since the ClientHello
		// is a TCP end: the next address, none left → CANT_CONNECT.
		return tgWant{Final: statuses(StatusCantConnect)}
	case c.Kind == tlsgen.HandshakeFIN:
		return tgWant{Final: statuses(StatusTLSHandshakeError)}
	case c.End == tlsgen.TruncHold && c.InHead():
		return tgWant{Final: statuses(StatusRequesting)}
	case c.End == tlsgen.TruncHold:
		body := c.BodySent()
		if c.Framing == tlsgen.Chunked {
			body = c.WholeChunks()
		}
		return tgWant{Final: statuses(StatusBody), Body: body}
	case c.InHead():
		return tgWant{Final: statuses(StatusConnectionError)}
	}
	w := tgWant{}
	sent := c.BodySent()
	switch c.Framing {
	case tlsgen.Length, tlsgen.Chunked:
		body := sent
		if c.Framing == tlsgen.Chunked {
			body = c.WholeChunks()
		}
		if c.Whole() {
			w = tgWant{Final: statuses(StatusConnected), Body: c.Body, Complete: true}
			if c.End == tlsgen.RST {
				w.Final = append(w.Final, StatusConnectionError)
				w.Prefix = true
			}
			if len(c.Body) == 0 && c.Framing == tlsgen.Length && c.End != tlsgen.Hold {
				// COMPAT H2: a FIN in BODY with nothing more for the
				// body is CONNECTION_ERROR at the next Poll.
				w.Final = append(w.Final, StatusConnectionError)
			}
			return w
		}
		switch c.End {
		case tlsgen.Notify:
			return tgWant{Final: statuses(StatusDisconnected), Body: body}
		case tlsgen.TruncFIN:
			return tgWant{Final: statuses(StatusConnectionError), Body: body}
		case tlsgen.FIN:
			return tgWant{Final: statuses(StatusConnectionError), Body: body, Cause: ErrTLSTruncated}
		case tlsgen.RST:
			return tgWant{Final: statuses(StatusConnectionError), Body: body, Prefix: true}
		default:
			return tgWant{Final: statuses(StatusConnectionError), Body: body}
		}
	}
	// Until close.
	switch c.End {
	case tlsgen.Notify:
		return tgWant{Final: statuses(StatusDisconnected), Body: sent, Complete: true}
	case tlsgen.TruncFIN:
		return tgWant{Final: statuses(StatusConnectionError), Body: sent}
	case tlsgen.FIN:
		return tgWant{Final: statuses(StatusConnectionError), Body: sent, Cause: ErrTLSTruncated}
	case tlsgen.RST:
		return tgWant{Final: statuses(StatusConnectionError), Body: sent, Prefix: true}
	}
	return tgWant{Final: statuses(StatusConnectionError), Body: sent}
}

// runTLSGenCase runs c in both modes and checks them; it returns the
// tally's name for the case.
func runTLSGenCase(t *testing.T, c tlsgen.Case, ch ts.Chain) string {
	t.Logf("case: %v", c)
	srv, err := tlsgen.Serve(c, ch.Cert)
	require.NoError(t, err)
	want := tgExpect(c)
	var got [2]tgResult
	for i, m := range modes {
		got[i] = tgRun(t, c, ch, srv.Port(), m.blocking)
		tgCheck(t, m.name, c, want, got[i])
	}
	switch {
	case want.Prefix:
		// An RST: its timing decides how much was taken.
	case len(want.Final) > 1:
		// Content-Length: 0 then the end: whether a Poll sees the end
		// before the read is timing (COMPAT H2), in both modes alike.
	default:
		if !equalStatuses(got[0].Trace, got[1].Trace) || got[0].Final != got[1].Final || !bytes.Equal(got[0].Body, got[1].Body) || got[0].Complete != got[1].Complete {
			t.Errorf("the modes differ:\n nonblocking %v\n blocking    %v", got[0], got[1])
		}
	}
	require.NoError(t, srv.Close(), "the server's machinery")
	name := fmt.Sprintf("%v %v", c.Kind, got[0].Final)
	if c.Kind == tlsgen.Normal {
		name = fmt.Sprintf("%v/%v/%v %v", c.Framing, map[bool]string{true: "whole", false: "cut"}[c.Whole()], c.End, got[0].Final)
	}
	return name
}

func equalStatuses(a, b []Status) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// tgCheck compares one mode's result with the rules.
func tgCheck(t *testing.T, mode string, c tlsgen.Case, w tgWant, r tgResult) {
	t.Helper()
	ok := false
	for _, s := range w.Final {
		ok = ok || r.Final == s
	}
	if !ok {
		t.Errorf("%s: final %v, want one of %v (%v)", mode, r.Final, w.Final, r)
		return
	}
	if w.Prefix {
		if !bytes.HasPrefix(w.Body, r.Body) {
			t.Errorf("%s: body (%d bytes) is not a prefix of the %d sent", mode, len(r.Body), len(w.Body))
		}
	} else if !bytes.Equal(r.Body, w.Body) {
		t.Errorf("%s: body %d bytes, want %d (%v)", mode, len(r.Body), len(w.Body), r)
	}
	if r.Complete && !(w.Complete && bytes.Equal(r.Body, w.Body)) {
		t.Errorf("%s: BodyComplete for a body that is not whole (%v)", mode, r)
	}
	if !r.Complete && w.Complete && !w.Prefix && r.Final != StatusConnectionError {
		t.Errorf("%s: a whole body not marked complete (%v)", mode, r)
	}
	if w.Cause != nil && !errors.Is(r.Err, w.Cause) {
		t.Errorf("%s: cause %v, want %v", mode, r.Err, w.Cause)
	}
	if r.Final == StatusConnectionError && r.Err == nil {
		t.Errorf("%s: CONNECTION_ERROR without a cause", mode)
	}
	// Per-call amounts.
	if c.Kind != tlsgen.Normal {
		return
	}
	switch c.Framing {
	case tlsgen.Chunked:
		for i, p := range r.Pieces {
			if i >= len(c.Chunks) || p != c.Chunks[i] {
				t.Errorf("%s: piece %d is %d bytes, want the whole chunk (%v)", mode, i, p, c.Chunks)
				break
			}
		}
	default:
		left := len(c.Body)
		for i, p := range r.Pieces {
			if p > c.ReadChunk {
				t.Errorf("%s: piece %d is %d bytes, over read_chunk_size %d", mode, i, p, c.ReadChunk)
			}
			target := c.ReadChunk
			if c.Framing == tlsgen.Length {
				target = min(target, left)
			}
			if mode == "blocking" && p != target && i != len(r.Pieces)-1 {
				t.Errorf("%s: piece %d is %d bytes, want %d (blocking reads wait, §1.10.1.2)", mode, i, p, target)
			}
			left -= p
		}
	}
}

// tgRun runs c once in one mode.
func tgRun(t *testing.T, c tlsgen.Case, ch ts.Chain, port int, blocking bool) tgResult {
	t.Helper()
	cl, tr := newClient(t, blocking)
	defer cl.Close()
	require.NoError(t, cl.SetReadChunkSize(c.ReadChunk))
	var r tgResult
	require.NoError(t, cl.ConnectToHost("127.0.0.1", port, TLSClient(ch.Pool(), "")))
	if c.Kind == tlsgen.Stall {
		if tgStall(t, cl, blocking) {
			return tgResult{Trace: statuses(StatusConnecting), Final: StatusConnecting}
		}
	} else {
		_ = pollWhile(t, cl, StatusResolving, StatusConnecting)
	}
	if cl.Status() == StatusConnected && c.End == tlsgen.TruncHold {
		require.NoError(t, cl.Request(MethodGet, "/", nil, ""))
		return tgStallBody(t, cl, blocking, tr)
	}
	if cl.Status() == StatusConnected {
		require.NoError(t, cl.Request(MethodGet, "/", nil, ""))
		_ = pollWhile(t, cl, StatusRequesting)
		var body []byte
		poller(cl).Body(t, cl, StatusBody, func() bool {
			p := cl.ReadResponseBodyChunk()
			if len(p) > 0 {
				r.Pieces = append(r.Pieces, len(p))
				body = append(body, p...)
			}
			return len(p) > 0
		})
		r.Body = body
		r.Complete = cl.BodyComplete()
	}
	r.Trace = append([]Status(nil), *tr...)
	r.Final = cl.Status()
	r.Err = cl.LastError()
	return r
}

// tgStall: a server stalled in the handshake keeps the client CONNECTING
// (§1.6.2.5: no handshake timeout). Non-blocking: 150 ms of polls;
// blocking: the Poll is still waiting after 150 ms, and Abort ends it.
func tgStall(t *testing.T, cl *Client, blocking bool) (stillConnecting bool) {
	t.Helper()
	const wait = 150 * time.Millisecond
	if !blocking {
		deadline := time.Now().Add(wait)
		for time.Now().Before(deadline) {
			_ = cl.Poll()
			if cl.Status() != StatusConnecting {
				return false
			}
			time.Sleep(pollGap)
		}
		return true
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for cl.Status() == StatusConnecting {
			if err := cl.Poll(); err != nil {
				return
			}
		}
	}()
	select {
	case <-done:
		return false // the status changed: the check reports it
	case <-time.After(wait):
	}
	cl.Abort()
	select {
	case <-done:
	case <-time.After(driveTimeout):
		t.Fatal("Abort did not end the blocked Poll")
	}
	return errors.Is(cl.LastError(), ErrAborted)
}

// tgStallBody: the server stops inside a record (head or body). The
// non-blocking loop polls and reads for 150 ms; blocking mode does the same
// on a goroutine, and Abort ends the call still waiting then. The status
// reached (REQUESTING or BODY) and the body read are the result.
func tgStallBody(t *testing.T, cl *Client, blocking bool, tr *[]Status) tgResult {
	t.Helper()
	var r tgResult
	var stalled Status
	loop := func(stop func() bool) {
		for !stop() {
			s := cl.Status()
			if s != StatusRequesting && s != StatusBody {
				return
			}
			stalled = s
			_ = cl.Poll()
			if !errors.Is(cl.LastError(), ErrAborted) {
				stalled = cl.Status()
			}
			if cl.Status() == StatusBody {
				if p := cl.ReadResponseBodyChunk(); len(p) > 0 {
					r.Pieces = append(r.Pieces, len(p))
					r.Body = append(r.Body, p...)
				}
			}
			if !blocking {
				time.Sleep(pollGap)
			}
		}
	}
	const wait = 150 * time.Millisecond
	if !blocking {
		deadline := time.Now().Add(wait)
		loop(func() bool { return !time.Now().Before(deadline) })
		stalled = cl.Status()
	} else {
		done := make(chan struct{})
		var aborted atomicBool
		go func() {
			defer close(done)
			loop(aborted.load)
		}()
		time.Sleep(wait)
		aborted.store()
		cl.Abort()
		select {
		case <-done:
		case <-time.After(driveTimeout):
			t.Fatal("Abort did not end the blocked call")
		}
		if !errors.Is(cl.LastError(), ErrAborted) {
			stalled = cl.Status()
		}
	}
	r.Trace = append([]Status(nil), *tr...)
	r.Final = stalled
	r.Complete = cl.BodyComplete()
	if !errors.Is(cl.LastError(), ErrAborted) {
		r.Err = cl.LastError()
	}
	if n := len(r.Trace); n > 0 && errors.Is(cl.LastError(), ErrAborted) {
		r.Trace = r.Trace[:n-1] // the abort's own status
	}
	return r
}

type atomicBool struct{ v atomic.Bool }

func (a *atomicBool) load() bool { return a.v.Load() }
func (a *atomicBool) store()     { a.v.Store(true) }
