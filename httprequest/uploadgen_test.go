package httprequest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/internal/uploadgen"
	"github.com/gdhttp/gdhttp/wire"
)

// A seeded generated harness for the node's streamed uploads (COMPAT U3:
// RequestStream / DoStream, RequestMultipart / DoMultipart) through the
// three drivers of §7.3, plain or TLS: random bodies and readers
// (internal/uploadgen; no panics here: under use_threads a panicking body
// ends the program, doc.go), a known length or −1, against a server that
// answers 200, or 301/302 after the body or early (before reading it, then
// reading on), which the node follows to /next re-sending the method and
// the body (§2.8.1.7).
//
// Invariants: the completion's result — SUCCESS with the final code, or
// RESULT_CONNECTION_ERROR with a *httpclient.RequestBodyError wrapping the
// reader's failure, or for a redirect with a body that is no io.Seeker
// RESULT_REQUEST_FAILED with the 3xx's code and ErrBodyNotReplayable —
// exactly one completion; every connection's bytes hold at most one
// request, head as package wire writes it (the client harness checks that
// against §1.7), body a prefix of the reader's bytes, chunked framing exact,
// complete on a success and never on a body failure; a body-keeping
// redirect sends the same body again (one rewind, no other request sent
// twice); UploadedBytes is the body's size after a success and never above
// it, UploadSize the length; no hang; goleak and an fd count.
//
// GDHTTP_UPLOADGEN_N (cases, default 45), GDHTTP_UPLOADGEN_SEED (default 1),
// GDHTTP_UPLOADGEN_ONLY=i.
func TestUploadgenNode(t *testing.T) {
	n := drive.EnvInt("GDHTTP_UPLOADGEN_N", 45)
	seed := uint64(drive.EnvInt("GDHTTP_UPLOADGEN_SEED", 1))
	only := drive.EnvInt("GDHTTP_UPLOADGEN_ONLY", -1)
	ca := testserver.NewCA(t)
	srvTLS := &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, "localhost")}}
	fds := drive.FDs()
	stats := map[string]int{}
	for i := range n {
		if only >= 0 && i != only {
			continue
		}
		nc := genNodeUpload(seed*1_000_003+uint64(i), t.TempDir())
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			var cfg *tls.Config
			var opts *httpclient.TLSOptions
			if nc.tls {
				cfg, opts = srvTLS, httpclient.TLSClient(ca.Pool(), "")
			}
			stats[runNodeUpload(t, nc, cfg, opts)]++
		})
	}
	t.Logf("seed %d, %d cases: %v", seed, n, stats)
	drive.NoFDLeft(t, fds, 2)
}

type nodeUpload struct {
	driver    drive.Driver
	tls       bool
	spec      uploadgen.ReaderSpec
	length    int64
	redirect  int  // 0, 301 or 302
	early     bool // the redirect is answered before the body was read
	multipart bool // a Multipart: a field, a file of spec.Data, a Reader part
	file      string
	method    httpclient.Method
}

func (u nodeUpload) String() string {
	return fmt.Sprintf("driver=%s tls=%v method=%v length=%d redirect=%d early=%v multipart=%v %v",
		u.driver.Name, u.tls, u.method, u.length, u.redirect, u.early, u.multipart, u.spec)
}

func genNodeUpload(seed uint64, dir string) nodeUpload {
	r := rand.New(rand.NewPCG(seed, 0x6e6f6465))
	size := 0
	switch k := r.IntN(10); {
	case k < 2:
		size = r.IntN(3)
	case k < 6:
		size = 1 + r.IntN(2000)
	case k < 9:
		size = 1 + r.IntN(300<<10)
	default:
		size = 1 + r.IntN(2<<20)
	}
	if raceEnabled {
		// A body of small reads is one chunk (and one TLS record) a read:
		// megabytes of them take the race detector tens of seconds.
		size = min(size, 256<<10)
	}
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	spec := uploadgen.ReaderSpec{Data: data, Shape: uploadgen.Shape(r.IntN(4)), ErrAt: -1, PanicAt: -1, BlockAt: -1,
		Seed: r.Uint64(), Zeros: r.IntN(4) == 0, EOFWithLast: r.IntN(2) == 0, Seeker: r.IntN(3) != 0}
	if (spec.Shape == uploadgen.OneByte || spec.Shape == uploadgen.Odd) && size > 8<<10 {
		spec.Shape = uploadgen.Short
	}
	if r.IntN(6) == 0 {
		spec.ErrAt = r.IntN(size + 1)
		spec.ErrWithLast = r.IntN(2) == 0
	}
	if r.IntN(6) == 0 {
		spec.BlockAt = r.IntN(size + 1)
		spec.BlockFor = time.Duration(1+r.IntN(15)) * time.Millisecond
	}
	u := nodeUpload{driver: drive.Drivers[r.IntN(3)], tls: r.IntN(3) == 0, spec: spec,
		method: []httpclient.Method{httpclient.MethodPost, httpclient.MethodPut}[r.IntN(2)]}
	switch k := r.IntN(10); {
	case k < 5:
		u.length = int64(size)
	case k < 8:
		u.length = -1
	case k < 9:
		u.length = int64(size + 1 + r.IntN(100))
	default:
		u.length = int64(r.IntN(size + 1))
	}
	if r.IntN(5) < 2 {
		u.redirect = 301 + r.IntN(2)
		u.early = r.IntN(3) == 0
	}
	if r.IntN(5) == 0 {
		u.multipart = true
		u.file = filepath.Join(dir, "part.bin")
		if err := os.WriteFile(u.file, data, 0o600); err != nil {
			panic(err)
		}
	}
	return u
}

// runNodeUpload runs one case and checks it.
func runNodeUpload(t *testing.T, u nodeUpload, cfg *tls.Config, opts *httpclient.TLSOptions) string {
	t.Logf("case: %v", u)
	redirect := ""
	if u.redirect != 0 {
		redirect = fmt.Sprintf("HTTP/1.1 %d Moved\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n", u.redirect)
	}
	plans := func(i int) uploadgen.Plan {
		if i == 0 && redirect != "" {
			if u.early {
				return uploadgen.Plan{B: uploadgen.EarlyDrain, EarlyResp: redirect}
			}
			return uploadgen.Plan{Responses: []string{redirect}}
		}
		return uploadgen.Plan{Responses: []string{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}
	}
	srv, err := uploadgen.NewServer(cfg, plans)
	require.NoError(t, err)
	defer srv.Close()

	n := newNode(t)
	host := "127.0.0.1"
	scheme := "http"
	if u.tls {
		host, scheme = "localhost", "https"
		require.NoError(t, n.SetTLSOptions(opts))
	}
	url := scheme + "://" + host + ":" + strconv.Itoa(srv.Port()) + "/up"

	// The body, and the bytes it must give.
	var body io.Reader
	var rd *uploadgen.Reader
	var want []byte // the body's bytes up to its length
	length := u.length
	failAt, cause := -1, error(nil)
	seekable := u.spec.Seeker
	var o outcome
	headers := []string{"X-Up: 1"}
	if u.multipart {
		m := NewMultipart()
		require.NoError(t, m.SetBoundary("uploadgenboundary"))
		m.Field("f", "v").File("file", u.file)
		rdr, r := uploadgen.New(u.spec)
		rd = r
		if u.length >= 0 {
			m.Reader("r", "r.bin", rdr, u.length)
		} else {
			m.Reader("r", "r.bin", rdr, -1)
		}
		// The expected bytes: the same form with good parts.
		ref := NewMultipart()
		require.NoError(t, ref.SetBoundary("uploadgenboundary"))
		ref.Field("f", "v").File("file", u.file)
		part := u.spec.Data
		if u.length >= 0 && int(u.length) <= len(part) {
			part = part[:u.length]
		}
		ref.Reader("r", "r.bin", bytes.NewReader(part), int64(len(part)))
		rr, err := ref.Open()
		require.NoError(t, err)
		want, err = io.ReadAll(rr)
		require.NoError(t, err)
		length = m.Len()
		prefix := len(want) - len(part) - len("\r\n--uploadgenboundary--\r\n")
		if f, c := readerFailure(u.spec, u.length); f >= 0 {
			failAt, cause = prefix+f, c
		}
		if int(u.length) > len(u.spec.Data) {
			want = want[:prefix+len(u.spec.Data)]
		}
		headers = append(headers, m.Header())
		o = nodes.Run(t, u.driver, n, func() error { return n.RequestMultipart(url, []string{"X-Up: 1"}, u.method, m) },
			func(ctx context.Context) (Completion, error) {
				return n.DoMultipart(ctx, url, []string{"X-Up: 1"}, u.method, m)
			})
	} else {
		body, rd = uploadgen.New(u.spec)
		want = u.spec.Data
		if u.length >= 0 && int(u.length) < len(want) {
			want = want[:u.length]
		}
		failAt, cause = readerFailure(u.spec, u.length)
		if u.length == 0 {
			want = nil
		}
		o = nodes.Run(t, u.driver, n, func() error { return n.RequestStream(url, headers, u.method, body, u.length) },
			func(ctx context.Context) (Completion, error) {
				return n.DoStream(ctx, url, headers, u.method, body, u.length)
			})
	}
	_ = rd
	if u.length == 0 {
		seekable = true // a body (or a Reader part) of size 0 is never read: nothing to rewind
	}
	require.Equal(t, 1, o.Callbacks, "one completion (err %v)", o.Err)

	// The expected outcome.
	label := ""
	wantConns := 1
	if failAt < 0 && u.redirect != 0 && (seekable || length == 0) {
		wantConns = 2
	}
	drive.Until(5*time.Second, func() bool { return len(srv.Conns()) >= wantConns })
	time.Sleep(2 * time.Millisecond) // a connection too many would show
	conns := srv.Conns()
	switch {
	case failAt >= 0:
		require.Equal(t, ResultConnectionError, o.C.Result, "a reader that fails at %d (%v): %v", failAt, cause, o.Err)
		var be *httpclient.RequestBodyError
		require.ErrorAs(t, o.Err, &be)
		require.ErrorIs(t, o.Err, cause)
		require.Len(t, conns, 1, "no second connection after a body failure")
		label = "bodyerr"
	case u.redirect != 0 && !seekable && length != 0:
		require.Equal(t, ResultRequestFailed, o.C.Result, "a redirect and a body that is no Seeker: %v", o.Err)
		require.Equal(t, u.redirect, o.C.ResponseCode)
		require.ErrorIs(t, o.Err, ErrBodyNotReplayable)
		require.Len(t, conns, 1)
		label = "notreplayable"
	default:
		require.Equal(t, ResultSuccess, o.C.Result, "cause: %v", o.Err)
		require.Equal(t, 200, o.C.ResponseCode)
		require.Equal(t, "ok", string(o.C.Body))
		require.Len(t, conns, wantConns)
		require.Equal(t, int64(len(want)), n.UploadedBytes(), "UploadedBytes after a success")
		require.Equal(t, length, n.UploadSize())
		label = "ok"
		if u.redirect != 0 {
			label = "ok/redirect"
		}
	}
	require.LessOrEqual(t, n.UploadedBytes(), int64(len(want)))

	// The bytes of every connection.
	n.Close()
	for i, sc := range conns {
		select {
		case <-sc.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("connection %d did not end", i)
		}
		got := sc.Got()
		reqs, perr := uploadgen.ParseRequests(got)
		require.NoError(t, perr, "connection %d framing", i)
		if len(reqs) == 0 && label == "bodyerr" {
			continue // the first read failed: nothing was sent
		}
		require.Len(t, reqs, 1, "connection %d: one request", i)
		rq := reqs[0]
		path := "/up"
		if i == 1 {
			path = "/next"
		}
		sl := length
		if sl == 0 {
			sl = 0
		}
		head := wire.AppendRequestHead(nil, &wire.Request{Method: u.method, URL: path,
			Headers: append(append([]string(nil), headers...), acceptGzipHeader), Host: host, Port: srv.Port(), TLS: u.tls,
			StreamLength: sl})
		if rq.HeadEnd == 0 {
			require.Equal(t, "bodyerr", label, "connection %d: no whole head", i)
			continue
		}
		require.Equal(t, string(head), rq.Head, "connection %d head", i)
		require.True(t, bytes.HasPrefix(want, rq.Data), "connection %d: the body is a prefix of the reader's bytes (%d)", i, len(rq.Data))
		if rq.Complete() {
			require.Equal(t, len(got), rq.End, "connection %d: bytes after the request", i)
			require.NotEqual(t, "bodyerr", label, "connection %d: a body failure, the request complete", i)
			require.Equal(t, len(want), len(rq.Data))
		} else {
			require.NotContains(t, []string{"ok", "ok/redirect"}, label, "connection %d: success, the request incomplete", i)
		}
	}
	return label
}

// readerFailure is where a reader of spec fails when length bytes are
// wanted (−1: all), and why; −1 when it does not.
func readerFailure(s uploadgen.ReaderSpec, length int64) (int, error) {
	if length == 0 {
		return -1, nil // a body (or a Reader part) of size 0 is never read
	}
	need := int(length)
	chunked := length < 0
	if chunked {
		need = len(s.Data)
	}
	at, cause := -1, error(nil)
	if s.ErrAt >= 0 && (s.ErrAt < need || chunked || (s.ErrAt == need && s.ErrWithLast)) {
		at, cause = s.ErrAt, uploadgen.ErrBoom
	}
	if !chunked && len(s.Data) < need && (at < 0 || len(s.Data) < at) {
		at, cause = len(s.Data), io.ErrUnexpectedEOF
	}
	if at < 0 {
		return -1, nil
	}
	return at, cause
}

var _ = errors.New
