package httpclient

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/internal/uploadgen"
	"github.com/gdhttp/gdhttp/wire"
)

// A seeded generated harness for streamed request bodies (COMPAT U1,
// RequestStream; §1.7.10–§1.7.11, §1.6.4): random binary bodies (0 to a few
// MiB), random readers (internal/uploadgen: short reads, one byte at a time,
// (0, nil) reads, io.EOF with the last bytes, an error or a panic mid-way, a
// Read that blocks then resumes, shorter or longer than the declared
// length), a known length or −1 (chunked), blocking mode or the non-blocking
// Poll loop, plain or TLS, against a server that reads normally or slowly,
// sends an unsolicited 100 Continue, answers 413 early (and closes, or reads
// on), resets mid-body, closes after the head, or stalls a while.
//
// Invariants, on the bytes the server received (parsed independently,
// uploadgen.ParseRequests):
//   - one connection, at most one request; the head is Godot's (§1.7.8–11,
//     built here from the rule: user headers, Host, Content-Length only for
//     a body > 0 and no user Content-Length, or Transfer-Encoding: chunked
//     for −1, User-Agent, Accept), the body a prefix of the reader's bytes,
//     chunked framing exact, never more than declared, nothing after it;
//   - a request that failed on its body (a *RequestBodyError) never arrived
//     complete; a reader failure against a server that reads ends with
//     CONNECTION_ERROR wrapping *RequestBodyError wrapping the cause
//     (uploadgen.ErrBoom, io.ErrUnexpectedEOF, the panic, whose value goes
//     on to Poll's caller), and the server sees the connection end;
//   - a success: the whole request, byte for byte; exactly length bytes
//     taken from the reader (all of it when chunked); BytesSent = the body's
//     size; the response code of the server's answer;
//   - BytesSent never below what the server got of the body, never above
//     the body's size; no hang (a watchdog Aborts); goleak (TestMain) and an
//     fd count at the end.
//
// GDHTTP_UPLOADGEN_N (cases, default 60), GDHTTP_UPLOADGEN_SEED (default 1);
// GDHTTP_UPLOADGEN_ONLY=i runs case i alone. A failure logs the case.
func TestUploadgen(t *testing.T) {
	n := drive.EnvInt("GDHTTP_UPLOADGEN_N", 60)
	seed := uint64(drive.EnvInt("GDHTTP_UPLOADGEN_SEED", 1))
	only := drive.EnvInt("GDHTTP_UPLOADGEN_ONLY", -1)
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "localhost")
	srvTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	fds := drive.FDs()
	stats := map[string]int{}
	for i := range n {
		if only >= 0 && i != only {
			continue
		}
		uc := genUploadCase(seed*1_000_003 + uint64(i))
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			var cfg *tls.Config
			var opts *TLSOptions
			if uc.tls {
				cfg, opts = srvTLS, TLSClient(ca.Pool(), "")
			}
			stats[runUploadCase(t, uc, cfg, opts)]++
		})
	}
	t.Logf("seed %d, %d cases: %v", seed, n, stats)
	drive.NoFDLeft(t, fds, 2)
}

// uploadCase is one generated case.
type uploadCase struct {
	tls, blocking bool
	spec          uploadgen.ReaderSpec
	length        int64 // declared; −1 chunked
	headers       []string
	plan          uploadgen.Plan
}

func (u uploadCase) String() string {
	return fmt.Sprintf("tls=%v blocking=%v length=%d headers=%q %v plan=%v", u.tls, u.blocking, u.length, u.headers, u.spec, u.plan)
}

// genBodySize draws a body size: empty, tiny, around the 64 KiB read, a few
// hundred KiB, or up to 4 MiB.
func genBodySize(r *rand.Rand) int {
	switch k := r.IntN(20); {
	case k < 2:
		return 0
	case k < 7:
		return 1 + r.IntN(300)
	case k < 12:
		return 64<<10 - 50 + r.IntN(100) + r.IntN(3)*(64<<10)
	case k < 18:
		return 1 + r.IntN(600<<10)
	default:
		return 1 + r.IntN(4<<20)
	}
}

// genReaderSpec draws a reader over size bytes.
func genReaderSpec(r *rand.Rand, size int) uploadgen.ReaderSpec {
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	s := uploadgen.ReaderSpec{Data: data, Shape: uploadgen.Shape(r.IntN(4)), ErrAt: -1, PanicAt: -1, BlockAt: -1, Seed: r.Uint64()}
	if (s.Shape == uploadgen.OneByte || s.Shape == uploadgen.Odd) && size > 8<<10 {
		s.Shape = uploadgen.Short
	}
	s.Zeros = r.IntN(4) == 0
	s.EOFWithLast = r.IntN(2) == 0
	s.Seeker = r.IntN(2) == 0
	if r.IntN(5) == 0 {
		s.ErrAt = r.IntN(size + 1)
		s.ErrWithLast = r.IntN(2) == 0
	}
	if r.IntN(12) == 0 {
		s.PanicAt = r.IntN(size + 1)
	}
	if r.IntN(6) == 0 {
		s.BlockAt = r.IntN(size + 1)
		s.BlockFor = time.Duration(1+r.IntN(20)) * time.Millisecond
	}
	return s
}

func genUploadCase(seed uint64) uploadCase {
	r := rand.New(rand.NewPCG(seed, 0x75706c6f6164))
	size := genBodySize(r)
	u := uploadCase{tls: r.IntN(3) == 0, blocking: r.IntN(2) == 0, spec: genReaderSpec(r, size)}
	switch k := r.IntN(20); {
	case k < 8:
		u.length = int64(size)
	case k < 14:
		u.length = -1
	case k < 17:
		u.length = int64(size + 1 + r.IntN(1000)) // the reader ends early
	default:
		u.length = int64(r.IntN(size + 1)) // the reader has more
	}
	switch r.IntN(4) {
	case 1:
		u.headers = []string{"X-Upload: " + strconv.Itoa(r.IntN(1000))}
	case 2:
		u.headers = []string{"Content-Type: application/octet-stream"}
	case 3:
		if u.length > 0 {
			u.headers = []string{"content-length: " + strconv.FormatInt(u.length, 10), "X-A: 1"}
		}
	}
	u.plan = genPlan(r, int(u.length)+300)
	return u
}

// genPlan draws the server's behaviour; total is about the request's size.
func genPlan(r *rand.Rand, total int) uploadgen.Plan {
	p := uploadgen.Plan{}
	switch k := r.IntN(20); {
	case k < 7:
		p.B = uploadgen.Normal
	case k < 9:
		p.B = uploadgen.Slow
	case k < 11:
		p.B = uploadgen.Continue100
	case k < 13:
		p.B = uploadgen.EarlyClose
	case k < 15:
		p.B = uploadgen.EarlyDrain
	case k < 17:
		p.B = uploadgen.ResetAt
		p.At = 1 + r.IntN(max(total, 1))
	case k < 18:
		p.B = uploadgen.CloseAfterHead
	default:
		p.B = uploadgen.Stall
		p.StallFor = time.Duration(5+r.IntN(60)) * time.Millisecond
	}
	return p
}

// godotHead is the head §1.7.8–§1.7.11 gives a POST /up with the case's
// headers and a body of length (−1: Transfer-Encoding: chunked in
// Content-Length's place), built from the rule, not from package wire's
// writer.
func godotHead(host string, port int, headers []string, length int64) string {
	var b strings.Builder
	b.WriteString("POST /up HTTP/1.1\r\n")
	has := func(prefix string) bool {
		for _, h := range headers {
			if len(h) >= len(prefix) && strings.EqualFold(h[:len(prefix)], prefix) {
				return true
			}
		}
		return false
	}
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if !has("Host:") {
		b.WriteString("Host: " + host + ":" + strconv.Itoa(port) + "\r\n")
	}
	switch {
	case length < 0:
		b.WriteString("Transfer-Encoding: chunked\r\n")
	case length > 0 && !has("Content-Length:"):
		b.WriteString("Content-Length: " + strconv.FormatInt(length, 10) + "\r\n")
	}
	if !has("User-Agent:") {
		b.WriteString("User-Agent: " + wire.DefaultUserAgent() + "\r\n")
	}
	if !has("Accept:") {
		b.WriteString("Accept: */*\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// uploadWant is what a case must give when the server cooperates.
type uploadWant struct {
	need    int   // body bytes to send: length, or all the reader's when chunked
	failAt  int   // −1: the reader gives need bytes; else where it fails
	cause   error // uploadgen.ErrBoom, io.ErrUnexpectedEOF, errReaderPanicked
	panics  bool
	eitherS bool // a reader error with the last needed bytes: success or failure both fine
}

func wantOf(u uploadCase) uploadWant {
	s := u.spec
	w := uploadWant{need: int(u.length), failAt: -1}
	if u.length == 0 {
		return w // no body is read
	}
	chunked := u.length < 0
	if chunked {
		w.need = len(s.Data)
	}
	type stop struct {
		at    int
		cause error
		panic bool
	}
	var stops []stop
	if s.ErrAt >= 0 {
		stops = append(stops, stop{s.ErrAt, uploadgen.ErrBoom, false})
	}
	if s.PanicAt >= 0 && !(s.PanicAt == len(s.Data) && s.PanicAt > 0 && s.EOFWithLast && (s.ErrAt < 0 || s.ErrAt > s.PanicAt)) {
		// (A panic at the end of data whose last bytes come with io.EOF
		// is never reached: no Read follows the EOF.)
		stops = append(stops, stop{s.PanicAt, errReaderPanicked, true})
	}
	if !chunked && len(s.Data) < w.need {
		stops = append(stops, stop{len(s.Data), io.ErrUnexpectedEOF, false})
	}
	best := -1
	for i, st := range stops {
		reached := st.at < w.need || (chunked && st.at <= w.need)
		if !reached {
			if !chunked && st.at == w.need && st.cause == uploadgen.ErrBoom && s.ErrWithLast {
				w.eitherS = true
			}
			continue
		}
		if best < 0 || st.at < stops[best].at || (st.at == stops[best].at && st.panic) {
			best = i
		}
	}
	if best >= 0 {
		w.failAt, w.cause, w.panics = stops[best].at, stops[best].cause, stops[best].panic
		if w.cause == uploadgen.ErrBoom && s.PanicAt == w.failAt {
			// Both at one offset: the panic comes first (uploadgen.Reader).
			w.cause, w.panics = errReaderPanicked, true
		}
	}
	return w
}

// cooperative reports whether the plan lets the request be sent whole.
func cooperative(p uploadgen.Plan, total int) bool {
	switch p.B {
	case uploadgen.Normal, uploadgen.Slow, uploadgen.Continue100, uploadgen.Stall, uploadgen.EarlyDrain:
		return true
	case uploadgen.ResetAt:
		return p.At > total
	}
	return false
}

// runUploadCase runs one case and checks it; it returns a label for the
// statistics.
func runUploadCase(t *testing.T, u uploadCase, cfg *tls.Config, opts *TLSOptions) (label string) {
	t.Logf("case: %v", u)
	srv, err := uploadgen.NewServer(cfg, func(int) uploadgen.Plan { return u.plan })
	require.NoError(t, err)
	defer srv.Close()
	c, _ := newClient(t, u.blocking)
	host := "127.0.0.1"
	if u.tls {
		host = "localhost"
	}
	require.NoError(t, connect(t, c, host, srv.Port(), opts))
	require.Equal(t, StatusConnected, c.Status())
	body, rd := uploadgen.New(u.spec)
	require.NoError(t, c.RequestStream(MethodPost, "/up", u.headers, body, u.length))

	watchdog := time.AfterFunc(15*time.Second, c.Abort)
	defer watchdog.Stop()
	var pollErr error
	var panicked any
	func() {
		defer func() { panicked = recover() }()
		for c.Status() == StatusRequesting {
			pollErr = c.Poll()
			if !u.blocking {
				time.Sleep(50 * time.Microsecond)
			}
		}
	}()
	if !watchdog.Stop() {
		t.Fatalf("hang: aborted after 15 s (status %v)", c.Status())
	}
	failedAt := time.Now()
	status := c.Status()
	sent := c.BytesSent()
	code := c.ResponseCode()
	last := c.LastError()
	var be *RequestBodyError
	bodyErr := errors.As(last, &be)

	w := wantOf(u)
	head := godotHead(host, srv.Port(), u.headers, u.length)
	total := len(head) + max(w.need, 0)
	if u.length < 0 {
		total += 21*w.need + 5 // chunk framing, one byte a chunk at worst
	}
	coop := cooperative(u.plan, total)

	// Outcome checks.
	if panicked != nil {
		require.Equal(t, uploadgen.PanicValue, panicked, "a panic other than the reader's")
		require.True(t, w.panics, "the reader panicked where the case says it does not")
	}
	if w.panics && coop && status == StatusConnectionError && bodyErr && errors.Is(last, errReaderPanicked) {
		require.NotNil(t, panicked, "the reader's panic must go on to Poll's caller")
	}
	switch {
	case status == StatusConnectionError:
		require.ErrorIs(t, last, ErrConnectionError)
		if pollErr != nil || panicked == nil {
			require.ErrorIs(t, pollErr, ErrConnectionError, "Poll's error")
		}
		if bodyErr {
			require.True(t, w.failAt >= 0 || w.eitherS, "a *RequestBodyError but the reader did not fail: %v", last)
			require.ErrorIs(t, last, w.cause, "the cause")
			require.Equal(t, u.length, be.Length)
			label = "bodyerr/" + causeName(w.cause)
		} else {
			require.False(t, coop && (w.failAt >= 0 && !w.panics), "the reader failed (%v at %d), the server read on; got %v", w.cause, w.failAt, last)
			require.False(t, coop && w.failAt < 0 && !w.eitherS, "a cooperative server, a good reader: %v", last)
			label = "connerr/" + u.plan.B.String()
		}
	case status == StatusBody || status == StatusConnected:
		require.True(t, w.failAt < 0 || w.eitherS && w.failAt < 0, "the reader failed (%v at %d) but the request succeeded", w.cause, w.failAt)
		require.Equal(t, int64(w.need), sent, "BytesSent after a success")
		switch u.plan.B {
		case uploadgen.Continue100:
			require.Equal(t, 100, code, "§1.8.7: 100 Continue taken as the response")
		case uploadgen.EarlyClose, uploadgen.EarlyDrain:
			require.Equal(t, 413, code)
		default:
			require.Equal(t, 200, code)
		}
		if u.length >= 0 {
			require.Equal(t, w.need, rd.Offset(), "exactly length bytes taken from the reader")
		} else {
			require.Equal(t, len(u.spec.Data), rd.Offset(), "the whole reader")
		}
		label = "ok/" + u.plan.B.String()
	default:
		t.Fatalf("status %v after the request (last error %v)", status, last)
	}
	if w.panics && coop && status != StatusConnectionError {
		t.Fatalf("the reader panicked but status is %v", status)
	}

	// The server's side: wait for the connection to end. A failed request
	// closed it (the client's job); a finished one is closed now.
	failed := status == StatusConnectionError
	if !failed {
		c.Close()
	}
	drive.Until(5*time.Second, func() bool { return len(srv.Conns()) > 0 })
	conns := srv.Conns()
	require.Len(t, conns, 1, "one connection")
	sc := conns[0]
	select {
	case <-sc.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("the server's connection did not end within 5 s of the client's %s", map[bool]string{true: "failure", false: "Close"}[failed])
	}
	_ = failedAt
	got := sc.Got()
	reqs, perr := uploadgen.ParseRequests(got)
	require.NoError(t, perr, "the request's framing (%d bytes received)", len(got))
	require.LessOrEqual(t, len(reqs), 1, "one request")
	want := u.spec.Data
	if w.need <= len(want) {
		want = want[:w.need]
	}
	if len(reqs) == 0 || reqs[0].HeadEnd == 0 {
		require.True(t, strings.HasPrefix(head, string(got)), "a prefix of Godot's head: got %q", got)
		require.True(t, failed, "the head did not arrive whole, the request succeeded")
		return label
	}
	rq := reqs[0]
	require.Equal(t, head, rq.Head, "§1.7 head")
	require.True(t, bytes.HasPrefix(want, rq.Data), "the body the server got is a prefix of the reader's bytes (%d of %d)", len(rq.Data), len(want))
	require.GreaterOrEqual(t, sent, int64(len(rq.Data)), "BytesSent below what the server got")
	require.LessOrEqual(t, sent, int64(w.need), "BytesSent above the body's size")
	if rq.Complete() {
		require.Equal(t, len(got), rq.End, "bytes after the request")
		require.Equal(t, len(want), len(rq.Data))
		if bodyErr {
			t.Fatalf("the body failed (%v) but the server got a complete request", last)
		}
	} else if !failed && coop {
		t.Fatalf("the request succeeded but the server got %d of %d body bytes", len(rq.Data), len(want))
	}
	return label
}

func causeName(err error) string {
	switch err {
	case uploadgen.ErrBoom:
		return "readerr"
	case io.ErrUnexpectedEOF:
		return "short"
	case errReaderPanicked:
		return "panic"
	}
	return fmt.Sprint(err)
}
