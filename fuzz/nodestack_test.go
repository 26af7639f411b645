package fuzz

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gdhttp/gdhttp/chunked"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/wire"
)

// nodeDriver is one way of running the node (§7.3).
type nodeDriver int

const (
	driveDo      nodeDriver = iota // Do: blocking client on the caller's goroutine
	driveProcess                   // Request + a Process loop (one step per frame)
	driveThreads                   // use_threads + a Process loop that only delivers
)

func (d nodeDriver) String() string { return [...]string{"Do", "Process", "threads"}[d] }

// nodeOptions are the node settings one input runs with.
type nodeOptions struct {
	limit  int64 // body_size_limit (−1: none)
	strict bool
	brotli bool
	file   string // download_file ("": in memory); a successful run's body is the file's
}

// nodeRun is the completion one run delivered.
type nodeRun struct {
	c   httprequest.Completion
	err error // Do's error, or LastError after a Process-driven completion
}

func (r nodeRun) String() string {
	return fmt.Sprintf("result=%v code=%d headers=%q body=%d bytes err=%v", r.c.Result, r.c.ResponseCode, r.c.Headers, len(r.c.Body), r.err)
}

// runNode runs one GET through a fresh node against a server playing p.
// Redirects are never followed (max_redirects 0: R12), so the node connects
// to nothing but the loopback server whatever Location the bytes carry.
func runNode(t *testing.T, p plan, d nodeDriver, o nodeOptions) nodeRun {
	srv := serve(t, p)
	n := httprequest.New()
	fail := func(format string, args ...any) {
		n.Close()
		srv.wait(t)
		t.Fatalf("%s\n  driver: %v options: %+v\n  plan: %v", fmt.Sprintf(format, args...), d, o, p)
	}
	must := func(what string, err error) {
		if err != nil {
			fail("%s: %v", what, err)
		}
	}
	must("SetBodySizeLimit", n.SetBodySizeLimit(o.limit))
	must("SetStrict", n.SetStrict(o.strict))
	must("SetMaxRedirects", n.SetMaxRedirects(0))
	must("SetTimeout", n.SetTimeout(runDeadline))
	if o.brotli {
		must("SetAcceptBrotli", n.SetAcceptBrotli(true))
	}
	if o.file != "" {
		must("SetDownloadFile", n.SetDownloadFile(o.file))
	}
	url := fmt.Sprintf("http://127.0.0.1:%d%s", srv.port, srv.token)
	var run nodeRun
	switch d {
	case driveDo:
		ctx, cancel := context.WithTimeout(context.Background(), runDeadline+time.Second)
		c, err := n.Do(ctx, url, nil, httpclient.MethodGet, nil)
		cancel()
		run = nodeRun{c, err}
		if err != nil && !errors.Is(err, c.Result) {
			fail("Do: error %v does not carry the result %v", err, c.Result)
		}
		if (err == nil) != (c.Result == httprequest.ResultSuccess) {
			fail("Do: error %v with result %v", err, c.Result)
		}
	default:
		if d == driveThreads {
			must("SetUseThreads", n.SetUseThreads(true))
		}
		var got []httprequest.Completion
		n.OnRequestCompleted(func(r httprequest.Result, code int, headers []string, body []byte) {
			got = append(got, httprequest.Completion{Result: r, ResponseCode: code, Headers: headers, Body: body})
		})
		must("Request", n.Request(url, nil, httpclient.MethodGet, ""))
		if _, ok := drive.Await(n, 20*time.Microsecond, runDeadline+time.Second, func() bool { return len(got) > 0 }); !ok {
			fail("hang: no completion within %v (client status %v)", runDeadline, n.HTTPClientStatus())
		}
		run = nodeRun{got[0], n.LastError()}
		for range 3 { // exactly one completion per request (§7 D6)
			n.Process()
		}
		if len(got) != 1 {
			fail("%d completions for one request: %+v", len(got), got)
		}
	}
	n.Close()
	srv.wait(t)
	if o.file != "" && run.c.Result == httprequest.ResultSuccess {
		if len(run.c.Body) != 0 {
			fail("download_file: the completion carries a body")
		}
		b, err := os.ReadFile(o.file)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			fail("download_file: %v", err)
		}
		run.c.Body = b
	}
	return run
}

// checkCompletion checks what §2.10 says every completion carries.
func checkCompletion(t *testing.T, p plan, d nodeDriver, o nodeOptions, r nodeRun) {
	bad := func(what string) {
		t.Fatalf("%s (§2.10)\n  driver: %v options: %+v\n  plan: %v\n  run: %v", what, d, o, p, r)
	}
	c := r.c
	switch c.Result {
	case httprequest.ResultSuccess:
	case httprequest.ResultCantConnect, httprequest.ResultConnectionError, httprequest.ResultNoResponse:
		if c.ResponseCode != 0 || len(c.Headers) != 0 || len(c.Body) != 0 {
			bad("a connection failure carries a code, headers or a body")
		}
	case httprequest.ResultChunkedBodySizeMismatch, httprequest.ResultBodySizeLimitExceeded,
		httprequest.ResultBodyDecompressFailed, httprequest.ResultRedirectLimitReached:
		if len(c.Body) != 0 {
			bad("a failed body is delivered")
		}
	case httprequest.ResultTimeout:
		bad("timeout: the request did not end although the server closed the connection")
	default:
		// CANT_RESOLVE, TLS_HANDSHAKE_ERROR, REQUEST_FAILED, DOWNLOAD_FILE_*:
		// impossible here (IP literal, plain HTTP, no file).
		bad(fmt.Sprintf("result %v cannot happen for this request", c.Result))
	}
	if o.limit >= 0 && int64(len(c.Body)) > o.limit {
		bad(fmt.Sprintf("body of %d bytes delivered beyond body_size_limit %d", len(c.Body), o.limit))
	}
}

// FuzzNodeStack runs the HTTPRequest node over loopback against a server that
// writes arbitrary bytes cut at fuzzer-chosen points and ends the fuzzer-chosen
// way, with body_size_limit from the input. For every input:
//   - no panic, no hang, no goroutine or fd left, heap bounded;
//   - every driver (Do, the Process loop, use_threads) delivers exactly one
//     completion, whose result is one that can happen for a plain-HTTP
//     request to an IP literal, with §2.10's code/headers/body rules;
//   - the delivered body never exceeds body_size_limit (§2.9.1, §2.8.2.3);
//   - the three drivers deliver the same completion (§7.3: one update step
//     per frame or real blocking I/O reach the same end; COMPAT Q3 makes the
//     FIN timing irrelevant), except after a RST ending (the kernel may drop
//     data not yet read), for R7 against R8 (piecesDecide) and for Godot's
//     race on a chunked body with Content-Length 0 (emptyLengthRace);
//   - strict mode (§7.4) succeeds only where default mode succeeds with the
//     same code, headers and body, when both head parsers frame alike.
func FuzzNodeStack(f *testing.F) {
	seeds := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found",
		"HTTP/1.1 301 Moved\r\nLocation: http://10.1.2.3/elsewhere\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 302 Found\r\nLocation: /next\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\nabc",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello",
		"HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: -5\r\n\r\n",
		"garbage",
		"",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint64(i)*0x9e3779b9, int32(i%7)-1, uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, limit int32, flags uint8) {
		if len(data) > maxServerBytes {
			return
		}
		base := takeBaseline(t)
		p := planFor(data, seed)
		o := nodeOptions{limit: int64(limit), brotli: flags&1 != 0}
		if o.limit < -1 {
			o.limit = -1
		}
		var runs []nodeRun
		for d := driveDo; d <= driveThreads; d++ {
			r := runNode(t, p, d, o)
			checkCompletion(t, p, d, o, r)
			runs = append(runs, r)
		}
		so := o
		so.strict = true
		strictDriver := nodeDriver(flags >> 1 % 3)
		strict := runNode(t, p, strictDriver, so)
		checkCompletion(t, p, strictDriver, so, strict)
		fo := o
		fo.file = filepath.Join(t.TempDir(), "body")
		fileDriver := nodeDriver(flags >> 3 % 3)
		file := runNode(t, p, fileDriver, fo)
		base.check(t, func() string { return fmt.Sprintf("plan %v data %q", p, data) })

		doomed := false
		for _, r := range runs {
			// §1.10.2.2: after a non-hex chunk-size line Process (the
			// non-blocking client) drops a chunk a pause cut and fails
			// (R4); the blocking drivers wait for it and may meet the close
			// (R2). Godot's drivers part the same way.
			doomed = doomed || errors.Is(r.err, chunked.ErrNotHex)
		}
		if p.end != endReset && !doomed {
			// download_file (spliced on Linux) delivers what memory does.
			if r := runs[fileDriver]; !sameCompletion(file.c, r.c) && !piecesDecide(file.c, r.c) && !emptyLengthRace(data, file.c, r.c) {
				t.Fatalf("download_file and memory deliver different completions\n  plan: %v options: %+v\n  %v file:   %v\n  %v memory: %v\n  data: %q",
					p, o, fileDriver, file, fileDriver, r, data)
			}
			for i, r := range runs {
				// An R8 says the body does not decode: R7 elsewhere is
				// Godot's pieces deciding (piecesDecide).
				if !sameCompletion(r.c, runs[0].c) && !piecesDecide(r.c, runs[0].c) && !emptyLengthRace(data, r.c, runs[0].c) {
					t.Fatalf("drivers deliver different completions (§7.3)\n  plan: %v options: %+v\n  %v: %v\n  %v: %v\n  data: %q",
						p, o, driveDo, runs[0], nodeDriver(i), r, data)
				}
			}
		}
		if strict.c.Result == httprequest.ResultSuccess && sameFraming(data, false) {
			def := runs[strictDriver]
			if p.end == endReset && def.c.Result != httprequest.ResultSuccess {
				return
			}
			if !sameCompletion(def.c, strict.c) && !emptyLengthRace(data, def.c, strict.c) {
				t.Fatalf("strict mode accepted what default mode did not (§7.4)\n  plan: %v options: %+v\n  strict:  %v\n  default: %v\n  data: %q",
					p, o, strict, def, data)
			}
		}
	})
}

// emptyLengthRace reports whether two completions differ as Godot's own
// race lets them (§2.6.1.7, hostile chunked/te-chunked-cl-zero): for a
// chunked response whose Content-Length reads as 0, the node is done when
// downloaded == 0 after a BODY step's read, so a first read that finds no
// whole chunk yet completes with RESULT_SUCCESS and an empty body. The
// Process loop can meet that read; the blocking drivers wait for a whole
// chunk and go on to whatever the body gives (R1, R7, the end of a body cut
// short, …). One of a and b is that empty success with the head's code.
func emptyLengthRace(data []byte, a, b httprequest.Completion) bool {
	var h wire.Head
	p := wire.HeadParser{}
	if _, err := p.Parse(data, &h); err != nil || !h.Chunked || h.ContentLength != 0 {
		return false
	}
	empty := func(c httprequest.Completion) bool {
		return c.Result == httprequest.ResultSuccess && len(c.Body) == 0 && c.ResponseCode == h.Code
	}
	return empty(a) || empty(b)
}

func sameCompletion(a, b httprequest.Completion) bool {
	return a.Result == b.Result && a.ResponseCode == b.ResponseCode &&
		slices.Equal(a.Headers, b.Headers) && bytes.Equal(a.Body, b.Body)
}
