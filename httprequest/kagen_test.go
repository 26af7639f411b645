package httprequest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/kagen"
)

// TestKagenNode is the seeded keep-alive harness of the node (SetKeepAlive,
// §7.2): one node runs a sequence of 2–6 requests (internal/kagen: GET,
// HEAD, POST; accept_gzip on or off; body_size_limit sometimes below the
// body; per request a driver among Process, use_threads, Do, Do with
// SetBodyWriter, download_file) against a server whose connections answer
// each request by its path with a generated answer, and every request is
// also run on a fresh node without keep-alive against a second server with
// the same answers.
//
// Invariants: each completion (result, code, headers, body, BodySize,
// DownloadedBytes, what the body writer or the file got) is the fresh
// node's — keep-alive changes nothing a user sees —, except a POST whose
// reused connection the server closed without answering, which ends
// RESULT_CONNECTION_ERROR (SetKeepAlive's doc); no body holds bytes of
// another response; no request is sent on a connection that an earlier
// answer retired (kagen.Answer.Reuse: close, until-close, HTTP/1.0, 1xx,
// no framing, ambiguous framing, a cut or failed body, bytes nobody asked
// for, a FIN while idle); each request reaches the server once, or twice
// for an idempotent one whose reused connection died before any answer; no
// hang; no descriptor left.
//
// GDHTTP_KAGEN_N (sequences, default 30), GDHTTP_KAGEN_SEED (default 1),
// GDHTTP_KAGEN_ONLY=i (one sequence).
func TestKagenNode(t *testing.T) {
	n := envInt("GDHTTP_KAGEN_N", 30)
	seed := uint64(envInt("GDHTTP_KAGEN_SEED", 1))
	only := envInt("GDHTTP_KAGEN_ONLY", -1)
	fds := drive.FDs()
	tally := map[string]int{}
	for i := range n {
		if only >= 0 && i != only {
			continue
		}
		steps := kagen.Generate(seed*1_000_003+uint64(i), kagen.Options{Drivers: len(kagenDrivers), Large: true})
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			runKagenNode(t, steps, tally)
		})
	}
	t.Logf("seed %d: %s", seed, drive.Counts(tally))
	drive.NoFDLeft(t, fds, 2)
}

// kagenDrivers: how a step runs its request.
var kagenDrivers = []string{"process", "threads", "do", "do-writer", "file"}

type kagenObs struct {
	C          Completion
	BodySize   int64
	Downloaded int64
	Written    []byte // the body writer's or the file's bytes
}

func (o kagenObs) String() string {
	return fmt.Sprintf("result=%v code=%d headers=%q body=%d bytes %q bodySize=%d downloaded=%d written=%d %q",
		o.C.Result, o.C.ResponseCode, o.C.Headers, len(o.C.Body), kagenTrim(o.C.Body), o.BodySize, o.Downloaded, len(o.Written), kagenTrim(o.Written))
}

func kagenTrim(b []byte) string {
	if len(b) > 48 {
		return string(b[:24]) + "…" + string(b[len(b)-24:])
	}
	return string(b)
}

func runKagenNode(t *testing.T, steps []kagen.Step, tally map[string]int) {
	srv, err := kagen.NewServer(steps)
	require.NoError(t, err)
	ref, err := kagen.NewServer(steps)
	require.NoError(t, err)
	defer ref.Close()
	defer srv.Close()
	var desc strings.Builder
	for _, st := range steps {
		desc.WriteString("\n  " + st.String() + " via " + kagenDrivers[st.Driver])
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf(format+"\nsequence:%s", append(args, desc.String())...)
	}
	node := newNode(t)
	require.NoError(t, node.SetKeepAlive(true))
	dir := t.TempDir()
	for i, st := range steps {
		if i > 0 && steps[i-1].Answer.NeedsGap() {
			drive.Idle(node, 1, kagen.Gap)
		}
		got := kagenRunStep(t, node, srv.Port(), st, filepath.Join(dir, "f"+strconv.Itoa(i)))
		fresh := newNode(t)
		want := kagenRunStep(t, fresh, ref.Port(), st, filepath.Join(dir, "r"+strconv.Itoa(i)))
		fresh.Close()
		tally[st.Answer.Kind+"/"+got.C.Result.String()]++
		// A POST dropped on a reused connection: the documented failure.
		dropped := false
		for _, a := range srv.Arrivals() {
			if a.Index == i && a.Dropped {
				dropped = true
			}
		}
		if dropped && !kagenRetryNode(st.Method) {
			tally["dropped-post"]++
			if got.C.Result != ResultConnectionError {
				fail("step %d: a POST whose reused connection died before any answer: %v, want RESULT_CONNECTION_ERROR", i, got)
			}
			continue
		}
		if st.Answer.Kind == "chunked-ext" {
			// §1.10.2.2: the doomed chunk is read as far as it has
			// arrived: DownloadedBytes depends on timing, on any connection.
			got.Downloaded, want.Downloaded = 0, 0
		}
		if !kagenSameObs(got, want) {
			fail("step %d (%s via %s): keep-alive node\n  got  %v\n  want %v (fresh node)", i, st.Answer.Kind, kagenDrivers[st.Driver], got, want)
		}
		for _, b := range [][]byte{got.C.Body, got.Written} {
			for j := range steps {
				if j != i && bytes.Contains(b, []byte(kagen.Marker(j))) {
					fail("step %d: body holds bytes of step %d's response", i, j)
				}
			}
			if bytes.Contains(b, []byte(kagen.EvilMarker)) && !strings.Contains(st.Answer.Kind, "lying") {
				fail("step %d: body holds bytes nobody asked for", i)
			}
		}
	}
	node.Close()
	srv.Close()
	arr := srv.Arrivals()
	for _, p := range kagen.Check(steps, arr, kagenRetryNode) {
		fail("%s", p)
	}
	reused := 0
	for _, a := range arr {
		if a.Pos > 0 {
			reused++
		}
	}
	tally["requests"] += len(steps)
	tally["reused"] += reused
	for _, e := range srv.Errors() {
		fail("server: %v", e)
	}
}

// kagenRetryNode: the methods SetKeepAlive sends again after a reused
// connection died before any answer.
func kagenRetryNode(m string) bool { return m == "GET" || m == "HEAD" }

func kagenMethod(m string) httpclient.Method {
	switch m {
	case "HEAD":
		return httpclient.MethodHead
	case "POST":
		return httpclient.MethodPost
	}
	return httpclient.MethodGet
}

type kagenWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *kagenWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func kagenRunStep(t *testing.T, n *HTTPRequest, port int, st kagen.Step, file string) kagenObs {
	t.Helper()
	n.SetAcceptGzip(st.Gzip)
	require.NoError(t, n.SetBodySizeLimit(st.Limit))
	drv := kagenDrivers[st.Driver]
	require.NoError(t, n.SetUseThreads(drv == "threads"))
	var w *kagenWriter
	if drv == "do-writer" {
		w = &kagenWriter{}
		require.NoError(t, n.SetBodyWriter(w))
	} else {
		require.NoError(t, n.SetBodyWriter(nil))
	}
	if drv == "file" {
		require.NoError(t, n.SetDownloadFile(file))
	} else {
		require.NoError(t, n.SetDownloadFile(""))
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + kagen.Path(st.Index)
	m := kagenMethod(st.Method)
	d := drive.Process
	switch drv {
	case "threads":
		d = drive.Threads
	case "do", "do-writer":
		d = drive.Do
	}
	o := nodes.Run(t, d, n, func() error { return n.RequestRaw(url, nil, m, st.Body) },
		func(ctx context.Context) (Completion, error) { return n.Do(ctx, url, nil, m, st.Body) })
	if o.Callbacks != 1 {
		t.Errorf("step %d: %d completions", st.Index, o.Callbacks)
	}
	obs := kagenObs{C: o.C, BodySize: n.BodySize(), Downloaded: n.DownloadedBytes()}
	if w != nil {
		obs.Written = w.b.Bytes()
	}
	if drv == "file" {
		obs.Written, _ = os.ReadFile(file)
	}
	return obs
}

func kagenSameObs(a, b kagenObs) bool {
	return a.C.Result == b.C.Result && a.C.ResponseCode == b.C.ResponseCode &&
		strings.Join(a.C.Headers, "\n") == strings.Join(b.C.Headers, "\n") &&
		bytes.Equal(a.C.Body, b.C.Body) && bytes.Equal(a.Written, b.Written) &&
		a.BodySize == b.BodySize && a.Downloaded == b.Downloaded
}
