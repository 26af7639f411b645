package httprequest

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

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
	n := drive.EnvInt("GDHTTP_KAGEN_N", 30)
	seed := uint64(drive.EnvInt("GDHTTP_KAGEN_SEED", 1))
	only := drive.EnvInt("GDHTTP_KAGEN_ONLY", -1)
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

// runKagenNode is runKagen2Node's plain mode: no TLS, no proxy, the part-1
// answers.
func runKagenNode(t *testing.T, steps []kagen.Step, tally map[string]int) {
	runKagen2Node(t, kagen2Mode{name: "plain"}, 0, kagen2TLS{}, steps, tally)
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

func kagenSameObs(a, b kagenObs) bool {
	return a.C.Result == b.C.Result && a.C.ResponseCode == b.C.ResponseCode &&
		strings.Join(a.C.Headers, "\n") == strings.Join(b.C.Headers, "\n") &&
		bytes.Equal(a.C.Body, b.C.Body) && bytes.Equal(a.Written, b.Written) &&
		a.BodySize == b.BodySize && a.Downloaded == b.Downloaded
}
