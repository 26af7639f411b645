package httpclient

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/kagen"
)

// The seeded keep-alive harnesses of the client: sequences of 2–6 requests
// (internal/kagen: GET, HEAD, POST) on one server connection whose answers
// are drawn from every framing, close and desync shape (see kagen).
//
// TestKagenTransport: one Transport (http.Client) runs the sequence, and
// each request also runs on a fresh Transport against a second server with
// the same answers. Invariants: every response (error or not, code, headers,
// body, body error) is the fresh Transport's — except a POST whose reused
// connection the server closed without answering, which fails (Transport's
// doc: only idempotent requests are sent again); no body holds bytes of
// another response; no request on a connection an earlier answer retired
// (kagen.Answer.Reuse); each request reaches the server once, or twice for
// an idempotent one whose reused connection died before any answer.
//
// TestKagenClient: one Client, Godot's loop (non-blocking Poll, or blocking
// mode), one request after another on its connection as a game would send
// them while the status is CONNECTED (§1.7.3). While every answer so far was
// framed and left nothing in the socket, each response (code, headers, body,
// the status after the body, BodyComplete) is a fresh client's; after an
// answer with ambiguous framing the next request fails with ErrNotReusable
// and never reaches the server (COMPAT H5); after the server closed, the
// next request ends CONNECTION_ERROR; a request in another status than
// CONNECTED is refused (ERR_INVALID_PARAMETER). The sequence stops where
// Godot would read stray bytes as the next response (pinned elsewhere:
// TestStaleBytesCorruptNextResponse).
//
// Both: no hang, no descriptor left. GDHTTP_KAGEN_N (sequences, default
// 40), GDHTTP_KAGEN_SEED (default 1), GDHTTP_KAGEN_ONLY=i.
func TestKagenTransport(t *testing.T) {
	n, seed, only := kagenEnv()
	fds := drive.FDs()
	tally := map[string]int{}
	for i := range n {
		if only >= 0 && i != only {
			continue
		}
		steps := kagen.Generate(seed*1_000_003+uint64(i), kagen.Options{Large: true})
		t.Run(strconv.Itoa(i), func(t *testing.T) { runKagenTransport(t, steps, tally) })
	}
	t.Logf("seed %d: %s", seed, drive.Counts(tally))
	drive.NoFDLeft(t, fds, 2)
}

func TestKagenClient(t *testing.T) {
	n, seed, only := kagenEnv()
	fds := drive.FDs()
	tally := map[string]int{}
	for i := range n {
		if only >= 0 && i != only {
			continue
		}
		steps := kagen.Generate(seed*1_000_003+uint64(i), kagen.Options{Large: true})
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			runKagenClient(t, kagen2Mode{name: "plain"}, 0, kagen2TLS{}, steps, i%2 == 1, tally)
		})
	}
	t.Logf("seed %d: %s", seed, drive.Counts(tally))
	drive.NoFDLeft(t, fds, 2)
}

func kagenEnv() (n int, seed uint64, only int) {
	return drive.EnvInt("GDHTTP_KAGEN_N", 40), uint64(drive.EnvInt("GDHTTP_KAGEN_SEED", 1)), drive.EnvInt("GDHTTP_KAGEN_ONLY", -1)
}

func kagenDescribe(steps []kagen.Step) string {
	var b strings.Builder
	for _, st := range steps {
		b.WriteString("\n  " + st.String())
	}
	return b.String()
}

type kagenResp struct {
	Err     bool
	Code    int
	Header  string
	Body    []byte
	BodyErr bool
	Close   bool
}

func (r kagenResp) String() string {
	b := r.Body
	if len(b) > 48 {
		b = append(append(append([]byte{}, b[:24]...), "…"...), b[len(b)-24:]...)
	}
	return fmt.Sprintf("err=%v code=%d header=%s body=%d bytes %q bodyErr=%v close=%v", r.Err, r.Code, r.Header, len(r.Body), b, r.BodyErr, r.Close)
}

// runKagenTransport is runKagen2Transport's plain mode: no TLS, no proxy,
// the part-1 answers.
func runKagenTransport(t *testing.T, steps []kagen.Step, tally map[string]int) {
	runKagen2Transport(t, kagen2Mode{name: "plain"}, 0, kagen2TLS{}, steps, tally)
}

func kagenRetryTransport(m string) bool { return m == "GET" || m == "HEAD" }

type kagenGodot struct {
	Code     int
	Headers  []string
	Body     []byte
	Status   Status
	Complete bool
}

// kagenClientStep sends st's request on c (CONNECTED) and reads the response
// Godot's way.
func kagenClientStep(t *testing.T, c *Client, st kagen.Step) (kagenGodot, error) {
	m := MethodGet
	switch st.Method {
	case "HEAD":
		m = MethodHead
	case "POST":
		m = MethodPost
	}
	if err := c.RequestRaw(m, kagen.Path(st.Index), nil, st.Body); err != nil {
		return kagenGodot{Status: c.Status()}, err
	}
	_ = pollWhile(t, c, StatusRequesting)
	var g kagenGodot
	g.Code = c.ResponseCode()
	g.Headers = c.ResponseHeaders()
	var body bytes.Buffer
	poller(c).Body(t, c, StatusBody, func() bool {
		p := c.ReadResponseBodyChunk()
		body.Write(p)
		return len(p) > 0
	})
	g.Body = body.Bytes()
	g.Status = c.Status()
	g.Complete = c.BodyComplete()
	return g, c.LastError()
}

func (g kagenGodot) String() string {
	b := g.Body
	if len(b) > 48 {
		b = append(append(append([]byte{}, b[:24]...), "…"...), b[len(b)-24:]...)
	}
	return fmt.Sprintf("code=%d headers=%q body=%d bytes %q status=%v complete=%v", g.Code, g.Headers, len(g.Body), b, g.Status, g.Complete)
}

// kagenGodotClean: after a, Godot's connection is as good as new: the
// answer was framed and read to its end, nothing follows it in the socket
// and the server keeps the connection.
func kagenGodotClean(a kagen.Answer) bool {
	if a.Ambiguous || len(a.Extra) > 0 || a.After != kagen.Keep {
		return false
	}
	switch a.Kind {
	case "1xx", "chunked-ext", "cut-cl", "cut-chunked", "until-close":
		return false
	case "no-framing":
		return len(a.Body) == 0
	}
	return true
}

// runKagenClient runs steps over one Client in Godot's loop, in mode m
// (part 1: kagen2Mode{name: "plain"}), each step against a fresh client.
func runKagenClient(t *testing.T, m kagen2Mode, v uint16, tl kagen2TLS, steps []kagen.Step, blocking bool, tally map[string]int) {
	plain := !m.tls && m.proxy == "" && !m.opts.TLS && !m.opts.Resets
	cfg := kagen2Config(m, v, tl)
	srv, err := kagen.NewServerConfig(steps, cfg)
	require.NoError(t, err)
	srv.Godot = true
	ref, err := kagen.NewServerConfig(steps, cfg)
	require.NoError(t, err)
	defer ref.Close()
	defer srv.Close()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf(format+" (mode %s tls=%x blocking=%v)\nsequence:%s", append(args, m.name, v, blocking, kagenDescribe(steps))...)
	}
	var opts *TLSOptions
	if m.tls {
		opts = TLSClient(tl.pool, "")
	}
	c, _ := newClient(t, blocking)
	require.NoError(t, connect(t, c, "127.0.0.1", srv.Port(), opts))
	sent := 0
	for i, st := range steps {
		if i > 0 {
			prev := steps[i-1].Answer
			if prev.NeedsGap2() {
				srv.Settle(kagen.SettleWait) // its late ending has happened
				time.Sleep(kagen.Gap)
			}
			_ = c.Poll() // a frame: Godot's liveness check (§1.6.3)
			if !kagenGodotClean(prev) {
				sent += kagenClientAfterDirty(t, c, st, prev, srv.Arrivals, fail, tally)
				break
			}
		}
		if c.Status() != StatusConnected {
			fail("step %d: status %v before the request, want CONNECTED", i, c.Status())
			break
		}
		got, gerr := kagenClientStep(t, c, st)
		sent++
		rc, _ := newClient(t, blocking)
		require.NoError(t, connect(t, rc, "127.0.0.1", ref.Port(), opts))
		want, werr := kagenClientStep(t, rc, st)
		rc.Close()
		ended := false
		for _, a := range srv.Arrivals() {
			if a.Index == i && (a.Dropped || a.Partial) {
				ended = true
			}
		}
		if ended {
			// Godot has no retry: the server's close or reset under the
			// request is CONNECTION_ERROR (§1.6.4.2).
			tally["dropped"]++
			if got.Status != StatusConnectionError {
				fail("step %d: the server ended the connection under the request: %v (%v), want CONNECTION_ERROR", i, got, gerr)
			}
			break
		}
		tally[m.name+"/"+st.Answer.Kind+"/"+got.Status.String()]++
		if st.Answer.Kind == "chunked-ext" {
			got.Body, want.Body = nil, nil
		}
		if len(got.Body) == 0 && len(want.Body) == 0 && st.Answer.After != kagen.Keep {
			// H2: a FIN after a response with nothing to read (HEAD, no
			// length) is CONNECTION_ERROR at the next Poll, as in Godot:
			// whether a Poll came after it depends on timing.
			for _, g := range []*kagenGodot{&got, &want} {
				if g.Status == StatusConnectionError {
					g.Status, g.Complete = StatusConnected, true
				}
			}
			gerr, werr = nil, nil
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			fail("step %d (%s): on the kept connection\n  got  %v (%v)\n  want %v (%v) (fresh client)", i, st.Answer.Kind, got, gerr, want, werr)
		}
		if plain && kagenGodotClean(st.Answer) && st.Answer.Kind != "head-chunked" && got.Status != StatusConnected {
			fail("step %d (%s): status %v after the body, want CONNECTED (§1.10.3)", i, st.Answer.Kind, got.Status)
		}
		if got.Status != StatusConnected {
			// §1.7.3: a request in another status is refused.
			if plain {
				if err := c.RequestRaw(MethodGet, "/x", nil, nil); !errors.Is(err, ErrInvalidParameter) && got.Status != StatusBody {
					fail("step %d: Request in %v: %v, want ERR_INVALID_PARAMETER", i, got.Status, err)
				}
			}
			break
		}
	}
	c.Close()
	srv.Close()
	for _, p := range kagen.Check(steps[:sent], srv.Arrivals(), func(string) bool { return false }) {
		fail("%s", p)
	}
	tally["requests"] += sent
	for _, e := range srv.Errors() {
		fail("server: %v", e)
	}
}

// kagenClientAfterDirty checks the request after an answer that left the
// connection not as new, and returns how many requests reached the wire.
func kagenClientAfterDirty(t *testing.T, c *Client, st kagen.Step, prev kagen.Answer, arr func() []kagen.Arrival, fail func(string, ...any), tally map[string]int) int {
	switch {
	case prev.Ambiguous && c.Status() == StatusConnected || c.Status() == StatusConnectionError && prev.Ambiguous:
		tally["after-ambiguous"]++
		if c.Status() == StatusConnected {
			got, err := kagenClientStep(t, c, st)
			for _, a := range arr() {
				if a.Index == st.Index {
					fail("after an ambiguous answer (%s): request #%d reached the server (H5)", prev.Kind, st.Index)
				}
			}
			if got.Status != StatusConnectionError || !errors.Is(err, ErrNotReusable) {
				fail("after an ambiguous answer (%s): %v (%v), want CONNECTION_ERROR with ErrNotReusable (H5)", prev.Kind, got, err)
			}
		} else if !errors.Is(c.LastError(), ErrNotReusable) {
			fail("after an ambiguous answer (%s): CONNECTION_ERROR with %v, want ErrNotReusable (H5)", prev.Kind, c.LastError())
		}
		return 0
	case prev.After != kagen.Keep && c.Status() == StatusConnected:
		// The FIN may not have been seen yet: the request then meets it.
		got, _ := kagenClientStep(t, c, st)
		tally["after-close"]++
		if got.Status != StatusConnectionError {
			fail("after the server closed (%s): %v, want CONNECTION_ERROR", prev.Kind, got)
		}
	}
	return 0
}
