//go:build unix

package main

// The generated gdfetch-beside-curl harness (TestFetchgen): each case
// draws a server behaviour (a raw 127.0.0.1 server: 1xx, 2xx, 204, 304,
// 4xx, 5xx; 301/302/303/307 chains with absolute, relative and odd
// Locations; Content-Length, chunked and until-close bodies; gzip; cuts,
// resets, stalls, empty replies, odd heads) and the flags a curl user
// types, runs curl 7.88 and gdfetch (in-process, run) against it, and
// compares the exit status, stdout, the -o file (exists? bytes?) and the
// gist of stderr (a failure reported or not; silence under -s). Every
// difference must be one doc.go or a Godot rule states: fgExplain names
// the rule (counted in the log); any other is an error that prints the
// case. Also: no panic, no hang (a watchdog), no file left beside -o.
// Skipped when curl is not installed. GDHTTP_FETCHGEN_N (default 50),
// GDHTTP_FETCHGEN_SEED (default 1), GDHTTP_FETCHGEN_V=1 logs every case.

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tdrive "github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// Final framings.
const (
	fgFixed   = iota // Content-Length
	fgChunked        // Transfer-Encoding: chunked
	fgClose          // Connection: close, no length: until close
	fgNone           // no length, no Connection: close (Godot: no body, §1.9)
)

// Odd heads and endings of the final response.
const (
	fgOddNone       = iota
	fgOddLF         // LF-only line ends
	fgOddNoHeaders  // a status line and no header line (§2.7.1)
	fgOddNoColon    // a header line without a colon
	fgOddEmpty      // the server closes without a byte
	fgOddPartial    // part of the status line, then close
	fgOddResetFirst // a reset before any byte
	fgOddStallFirst // nothing, for ever
	fgOddHTTP10     // HTTP/1.0 status line
	fgOddCount
)

// Ends after a cut body.
const (
	fgEndClose = iota
	fgEndReset
	fgEndStall
)

// Location forms of a redirect hop.
const (
	fgLocAbsolute  = iota // http://127.0.0.1:port/hN
	fgLocPath             // /hN
	fgLocRelative         // hN (§2.8.1.5: R4)
	fgLocSchemeRel        // //127.0.0.1:port/hN (Godot: a path)
	fgLocNoSpace          // "Location:/hN" (§2.8.1.3: not seen)
	fgLocUpper            // HTTP://127.0.0.1:port/hN (§2.8.1.5: not absolute)
	fgLocCount
)

type fgHop struct {
	Code int
	Loc  int
	Body bool // a Content-Length body on the 3xx
}

type fgFinal struct {
	Pre     int // 0; 1 a "100 Continue" head first; 2 a "103" head with a Link line first
	Code    int
	Framing int
	Size    int
	Gzip    int  // 0 no; 1 when the request accepts gzip; 2 always; 3 corrupt, when accepted
	Echo    bool // the body is the request line and the request body
	Odd     int
	Cut     int // -1: whole; else the body bytes sent (of the encoded body, before chunk framing)
	End     int
}

type fgCase struct {
	Seed    uint64
	Hops    []fgHop
	Final   fgFinal
	Args    []string // the flags; "OUT" stands for the -o file
	OldFile []byte   // the -o file before the run (nil: none)
	Stall   bool     // the server may stall: -m is given
	Shown   int      // the final's status line shows this code instead (a Godot-view variant for curl)
	NoOdd   bool     // the final's odd head line is left out (a Godot-view variant for curl)
	Orig    *fgCase  // the case as typed (gdfetch's flags), for an equivalent or variant
}

func (c *fgCase) has(flag string) bool {
	for _, a := range c.Args {
		if a == flag {
			return true
		}
	}
	return false
}

func (c *fgCase) flagValue(flag string) (string, bool) {
	for i, a := range c.Args {
		if a == flag && i+1 < len(c.Args) {
			return c.Args[i+1], true
		}
	}
	return "", false
}

func (c *fgCase) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d\n  hops:", c.Seed)
	for _, h := range c.Hops {
		fmt.Fprintf(&b, " %d(loc %d, body %v)", h.Code, h.Loc, h.Body)
	}
	f := c.Final
	fmt.Fprintf(&b, "\n  final: pre %d code %d framing %d size %d gzip %d echo %v odd %d cut %d end %d", f.Pre, f.Code, f.Framing, f.Size, f.Gzip, f.Echo, f.Odd, f.Cut, f.End)
	fmt.Fprintf(&b, "\n  args: %q old file %v", c.Args, c.OldFile != nil)
	return b.String()
}

// fgDraw draws a case from its seed.
func fgDraw(seed uint64) *fgCase {
	r := rand.New(rand.NewPCG(seed, 0xfe7c))
	c := &fgCase{Seed: seed}
	pick := func(p float64) bool { return r.Float64() < p }
	if pick(0.3) {
		n := 1 + r.IntN(3)
		if pick(0.1) {
			n = 9 + r.IntN(2)
		}
		for range n {
			h := fgHop{Code: []int{301, 302, 302, 301, 303, 307}[r.IntN(6)], Body: pick(0.5)}
			if pick(0.7) {
				h.Loc = []int{fgLocAbsolute, fgLocPath}[r.IntN(2)]
			} else {
				h.Loc = r.IntN(fgLocCount)
			}
			c.Hops = append(c.Hops, h)
		}
	}
	f := &c.Final
	f.Code = []int{200, 200, 200, 201, 204, 206, 304, 400, 404, 500, 503}[r.IntN(11)]
	f.Framing = []int{fgFixed, fgFixed, fgChunked, fgChunked, fgClose, fgNone}[r.IntN(6)]
	f.Size = []int{0, 5, 100, 3000, 70000}[r.IntN(5)]
	if pick(0.25) {
		f.Gzip = 1 + r.IntN(3)
	}
	f.Echo = pick(0.15)
	if pick(0.1) {
		f.Pre = 1 + r.IntN(2)
	}
	if pick(0.25) {
		f.Odd = 1 + r.IntN(fgOddCount-1)
	}
	f.Cut = -1
	if pick(0.2) {
		f.Cut = r.IntN(f.Size + 1)
		f.End = []int{fgEndClose, fgEndClose, fgEndReset, fgEndStall}[r.IntN(4)]
	}
	c.Stall = f.Odd == fgOddStallFirst || (f.Cut >= 0 && f.End == fgEndStall)

	var a []string
	add := func(p float64, flags ...string) {
		if pick(p) {
			a = append(a, flags...)
		}
	}
	add(0.8, "-s")
	add(0.3, "-S")
	add(0.25, "-f")
	head := pick(0.08)
	if head {
		a = append(a, "-I")
	} else {
		add(0.2, "-i")
	}
	out := pick(0.35)
	if out {
		a = append(a, "-o", "OUT")
		add(0.12, "-C", "-")
		if pick(0.5) {
			c.OldFile = []byte("OLD CONTENT\n")
		}
	}
	add(0.6, "-L")
	add(0.15, "--max-redirs", []string{"0", "1", "2", "3", "-1"}[r.IntN(5)])
	if c.Stall {
		a = append(a, "-m", "0.5")
	} else {
		add(0.3, "-m", "5")
	}
	add(0.12, "--max-filesize", []string{"0", "10", "100", "5000", "1k"}[r.IntN(5)])
	if !head {
		add(0.15, "-d", []string{"a=1", "", "hello world"}[r.IntN(3)])
	}
	add(0.1, "-X", []string{"GET", "POST", "PUT", "DELETE"}[r.IntN(4)])
	add(0.15, "-H", []string{"X-Test: 1", "Accept: text/plain", "Accept-Encoding: gzip"}[r.IntN(3)])
	add(0.3, "--compressed")
	add(0.08, "-v")
	c.Args = a
	return c
}

// fgBody is the final response's body before encoding.
func fgBody(size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789 \n"
	b := make([]byte, size)
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return b
}

func fgGzip(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// fgServe is the behaviour's server.
func fgServe(t *testing.T, c *fgCase) *testserver.Server {
	return testserver.New(t, func(conn *testserver.Conn) {
		addr := conn.Raw().LocalAddr().String() // the server's address (srv is not set yet for the race detector)
		for {
			req, err := conn.ReadRequest()
			if err != nil {
				return
			}
			if !fgRespond(conn, c, addr, req) {
				return
			}
		}
	}, testserver.WithIOTimeout(5*time.Second))
}

// fgRespond answers one request; false ends the connection.
func fgRespond(conn *testserver.Conn, c *fgCase, addr string, req []byte) bool {
	line, _, _ := bytes.Cut(req, []byte("\r\n"))
	parts := strings.SplitN(string(line), " ", 3)
	if len(parts) < 3 {
		_ = conn.Close()
		return false
	}
	method, path := parts[0], parts[1]
	head := method == "HEAD"
	lower := strings.ToLower(string(req[:bytes.Index(req, []byte("\r\n\r\n"))]))
	acceptsGzip := false
	for _, l := range strings.Split(lower, "\r\n") {
		if strings.HasPrefix(l, "accept-encoding:") && strings.Contains(l, "gzip") {
			acceptsGzip = true
		}
	}
	hop := -1
	if p, ok := strings.CutPrefix(path, "/h"); ok {
		if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= len(c.Hops) {
			hop = n
		}
	}
	switch {
	case hop < 0:
		body := "not found\n"
		resp := "HTTP/1.1 404 Not Found\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
		if !head {
			resp += body
		}
		return conn.Write([]byte(resp)) == nil
	case hop < len(c.Hops):
		h := c.Hops[hop]
		target := "/h" + strconv.Itoa(hop+1)
		var loc string
		switch h.Loc {
		case fgLocAbsolute:
			loc = "Location: http://" + addr + target
		case fgLocPath:
			loc = "Location: " + target
		case fgLocRelative:
			loc = "Location: " + target[1:]
		case fgLocSchemeRel:
			loc = "Location: //" + addr + target
		case fgLocNoSpace:
			loc = "Location:" + target
		case fgLocUpper:
			loc = "Location: HTTP://" + addr + target
		}
		body := ""
		if h.Body {
			body = "moved " + target + "\n"
		}
		resp := fmt.Sprintf("HTTP/1.1 %d Moved\r\n%s\r\nContent-Length: %d\r\n\r\n", h.Code, loc, len(body))
		if !head {
			resp += body
		}
		return conn.Write([]byte(resp)) == nil
	}
	f := c.Final
	switch f.Odd {
	case fgOddEmpty:
		_ = conn.Close()
		return false
	case fgOddPartial:
		_ = conn.WriteAndClose([]byte("HTTP/1.1 20"))
		return false
	case fgOddResetFirst:
		_ = conn.Reset()
		return false
	case fgOddStallFirst:
		_ = conn.Sleep(30 * time.Second)
		_ = conn.Close()
		return false
	}
	body := fgBody(f.Size, c.Seed)
	if f.Echo {
		_, reqBody, _ := bytes.Cut(req, []byte("\r\n\r\n"))
		body = append([]byte(method+" "+path+"\n"), reqBody...)
	}
	var hdrs []string
	if f.Odd == fgOddNoColon && !c.NoOdd {
		hdrs = append(hdrs, "X-No-Colon-Here")
	}
	switch {
	case f.Gzip == 2, f.Gzip == 1 && acceptsGzip:
		body = fgGzip(body)
		hdrs = append(hdrs, "Content-Encoding: gzip")
	case f.Gzip == 3 && acceptsGzip:
		body = append(fgGzip(body)[:10], []byte("not deflate data at all")...)
		hdrs = append(hdrs, "Content-Encoding: gzip")
	}
	if head {
		body = body[:0]
	}
	sent := body
	if f.Cut >= 0 && f.Cut < len(body) {
		sent = body[:f.Cut]
	}
	switch f.Framing {
	case fgFixed:
		n := len(body)
		if head {
			n = len(fgBody(f.Size, c.Seed))
		}
		hdrs = append(hdrs, "Content-Length: "+strconv.Itoa(n))
	case fgChunked:
		hdrs = append(hdrs, "Transfer-Encoding: chunked")
	case fgClose:
		hdrs = append(hdrs, "Connection: close")
	}
	hdrs = append(hdrs, "X-Case: "+strconv.FormatUint(c.Seed, 10))
	proto := "HTTP/1.1"
	if f.Odd == fgOddHTTP10 {
		proto = "HTTP/1.0"
	}
	nl := "\r\n"
	if f.Odd == fgOddLF {
		nl = "\n"
	}
	var resp bytes.Buffer
	switch f.Pre {
	case 1:
		resp.WriteString("HTTP/1.1 100 Continue" + nl + nl)
	case 2:
		resp.WriteString("HTTP/1.1 103 Early Hints" + nl + "Link: </s.css>; rel=preload" + nl + nl)
	}
	code := f.Code
	if c.Shown != 0 {
		code = c.Shown
	}
	resp.WriteString(fmt.Sprintf("%s %d Status%s", proto, code, nl))
	if f.Odd != fgOddNoHeaders {
		for _, h := range hdrs {
			resp.WriteString(h + nl)
		}
	}
	resp.WriteString(nl)
	if f.Framing == fgChunked && !head {
		for i := 0; i < len(sent); i += 1000 {
			part := sent[i:min(i+1000, len(sent))]
			fmt.Fprintf(&resp, "%x\r\n%s\r\n", len(part), part)
		}
		if f.Cut < 0 || f.Cut >= len(body) {
			resp.WriteString("0\r\n\r\n")
		}
	} else {
		resp.Write(sent)
	}
	whole := f.Cut < 0 || f.Cut >= len(body)
	switch {
	case whole && (f.Framing == fgFixed || f.Framing == fgChunked) && f.Odd != fgOddHTTP10 && f.Odd != fgOddNoHeaders:
		return conn.Write(resp.Bytes()) == nil // keep the connection
	case whole:
		_ = conn.WriteAndClose(resp.Bytes())
		return false
	}
	if conn.Write(resp.Bytes()) != nil {
		return false
	}
	switch f.End {
	case fgEndReset:
		time.Sleep(20 * time.Millisecond) // the bytes first
		_ = conn.Reset()
	case fgEndStall:
		_ = conn.Sleep(30 * time.Second)
		_ = conn.Close()
	default:
		_ = conn.Close()
	}
	return false
}

type fgResult struct {
	Code       int
	Stdout     []byte
	Stderr     string
	FileExists bool
	File       []byte
	Others     []string // files beside -o other than FILE and its -C - state
	Elapsed    time.Duration
}

// fgArgs is the case's arguments with the -o file and the URL.
func fgArgs(c *fgCase, out, url string) []string {
	args := make([]string, 0, len(c.Args)+1)
	for _, a := range c.Args {
		if a == "OUT" {
			a = out
		}
		args = append(args, a)
	}
	return append(args, url)
}

func fgPrepare(t *testing.T, c *fgCase) (dir, out string) {
	dir = t.TempDir()
	out = filepath.Join(dir, "out")
	if c.OldFile != nil {
		if err := os.WriteFile(out, c.OldFile, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, out
}

func fgCollect(res *fgResult, dir, out string) {
	if b, err := os.ReadFile(out); err == nil {
		res.FileExists, res.File = true, b
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "out" && e.Name() != "out.gdhttp-resume" {
			res.Others = append(res.Others, e.Name())
		}
	}
}

func fgCurl(t *testing.T, c *fgCase, url string) *fgResult {
	dir, out := fgPrepare(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "curl", fgArgs(c, out, url)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "http_proxy=", "HTTP_PROXY=", "https_proxy=", "HTTPS_PROXY=", "NO_PROXY=", "no_proxy=", "ALL_PROXY=", "all_proxy=", "CURL_HOME="+dir, "HOME="+dir)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	err := cmd.Run()
	res := &fgResult{Stdout: so.Bytes(), Stderr: se.String(), Elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
	case err != nil:
		t.Fatalf("curl: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("curl hung: %s", c)
	}
	fgCollect(res, dir, out)
	return res
}

func fgGdfetch(t *testing.T, c *fgCase, url string) *fgResult {
	dir, out := fgPrepare(t, c)
	res := &fgResult{}
	done := make(chan struct{})
	var so, se bytes.Buffer
	var panicked any
	start := time.Now()
	go func() {
		defer close(done)
		defer func() { panicked = recover() }()
		res.Code = run(fgArgs(c, out, url), &so, &se)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("gdfetch hung (watchdog, 20 s): %s", c)
	}
	if panicked != nil {
		t.Fatalf("gdfetch panicked: %v\n%s", panicked, c)
	}
	res.Elapsed = time.Since(start)
	res.Stdout, res.Stderr = so.Bytes(), se.String()
	fgCollect(res, dir, out)
	return res
}

// fgDiff is one difference between curl and gdfetch.
type fgDiff struct {
	What          string // "exit", "stdout", "file", "stderr"
	Curl, Gdfetch string
}

func (d fgDiff) String() string {
	return fmt.Sprintf("%s: curl %s, gdfetch %s", d.What, d.Curl, d.Gdfetch)
}

func fgShow(b []byte) string {
	if len(b) > 120 {
		return fmt.Sprintf("%q…(%d bytes)", b[:120], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// fgHeadBlock is one response head in curl's -i output.
type fgHeadBlock struct {
	Code    int
	Headers []string
}

// fgSplitCurlInclude splits curl's -i (or -I) output into its heads and the
// body that follows the last one.
func fgSplitCurlInclude(b []byte) ([]fgHeadBlock, []byte) {
	var heads []fgHeadBlock
	for bytes.HasPrefix(b, []byte("HTTP/")) {
		end, skip := bytes.Index(b, []byte("\r\n\r\n")), 4
		if lf := bytes.Index(b, []byte("\n\n")); lf >= 0 && (end < 0 || lf < end) {
			end, skip = lf, 2
		}
		if end < 0 {
			end, skip = len(b), 0
		}
		lines := strings.Split(strings.ReplaceAll(string(b[:end]), "\r\n", "\n"), "\n")
		hb := fgHeadBlock{}
		if f := strings.Fields(lines[0]); len(f) > 1 {
			hb.Code, _ = strconv.Atoi(f[1])
		}
		for _, l := range lines[1:] {
			if l = strings.TrimSpace(l); l != "" {
				hb.Headers = append(hb.Headers, l)
			}
		}
		heads = append(heads, hb)
		b = b[end+skip:]
	}
	return heads, b
}

// fgSplitInclude splits gdfetch's -i output: the result line, the headers,
// the body.
func fgSplitInclude(b []byte) (code int, headers []string, body []byte, ok bool) {
	end := bytes.Index(b, []byte("\n\n"))
	if end < 0 {
		return 0, nil, nil, false
	}
	lines := strings.Split(string(b[:end]), "\n")
	f := strings.Fields(lines[0])
	if len(f) < 3 {
		return 0, nil, nil, false
	}
	code, _ = strconv.Atoi(f[len(f)-1])
	return code, lines[1:], b[end+2:], true
}

// fgCompare lists the differences.
func fgCompare(c *fgCase, cu, gd *fgResult) []fgDiff {
	var d []fgDiff
	if cu.Code != gd.Code {
		d = append(d, fgDiff{"exit", strconv.Itoa(cu.Code), strconv.Itoa(gd.Code)})
	}
	curlOut, curlFile := cu.Stdout, cu.File
	include := c.has("-i") || c.has("-I")
	out := c.has("-o")
	if include && out {
		// curl writes the heads into FILE (doc.go -i: gdfetch to stdout)
		heads, body := fgSplitCurlInclude(cu.File)
		if len(heads) > 0 {
			var b bytes.Buffer
			for _, h := range heads {
				fmt.Fprintf(&b, "HTTP/1.1 %d X\r\n%s\r\n\r\n", h.Code, strings.Join(h.Headers, "\r\n"))
			}
			curlOut, curlFile = append(b.Bytes(), curlOut...), body
		}
	}
	if include && gd.Code != 0 {
		// -i on a failure: the result line and the headers Godot delivers
		// with it (doc.go -i; §2.10: none for most failures), no body.
		if !bytes.HasPrefix(gd.Stdout, []byte("RESULT_")) || !bytes.HasSuffix(gd.Stdout, []byte("\n\n")) {
			d = append(d, fgDiff{"stdout", "(-i failure block)", fgShow(gd.Stdout)})
		}
	} else if include {
		heads, cbody := fgSplitCurlInclude(curlOut)
		code, hdrs, gbody, ok := fgSplitInclude(gd.Stdout)
		switch {
		case !ok && len(heads) == 0:
			if !bytes.Equal(curlOut, gd.Stdout) {
				d = append(d, fgDiff{"stdout", fgShow(curlOut), fgShow(gd.Stdout)})
			}
		case !ok || len(heads) == 0:
			d = append(d, fgDiff{"stdout", fgShow(curlOut), fgShow(gd.Stdout)})
		default:
			last := heads[len(heads)-1]
			if c.Shown != 0 && last.Code == c.Shown {
				last.Code = c.Final.Code
			}
			if last.Code != code {
				d = append(d, fgDiff{"include-code", strconv.Itoa(last.Code), strconv.Itoa(code)})
			}
			if c.NoOdd {
				var kept []string
				for _, h := range hdrs {
					if h != "X-No-Colon-Here" {
						kept = append(kept, h)
					}
				}
				hdrs = kept
			}
			if strings.Join(last.Headers, "\n") != strings.Join(hdrs, "\n") {
				d = append(d, fgDiff{"include-headers", fmt.Sprintf("%q", last.Headers), fmt.Sprintf("%q", hdrs)})
			}
			if !bytes.Equal(cbody, gbody) {
				d = append(d, fgDiff{"stdout", fgShow(cbody), fgShow(gbody)})
			}
		}
	} else if !bytes.Equal(curlOut, gd.Stdout) {
		d = append(d, fgDiff{"stdout", fgShow(curlOut), fgShow(gd.Stdout)})
	}
	orig := c
	if c.Orig != nil {
		orig = c.Orig
	}
	if out && gd.Code != 0 && !orig.has("-C") {
		// doc.go -o: "a download that fails or is interrupted leaves FILE
		// as it was" (and -f: "-o FILE left as it was"), where curl keeps
		// what arrived.
		if gd.FileExists != (c.OldFile != nil) || !bytes.Equal(gd.File, c.OldFile) {
			d = append(d, fgDiff{"file", "(old file, doc.go -o) " + fgShow(c.OldFile), fgShow(gd.File)})
		}
	} else if out {
		switch {
		case cu.FileExists != gd.FileExists:
			d = append(d, fgDiff{"file-exists", strconv.FormatBool(cu.FileExists), strconv.FormatBool(gd.FileExists)})
		case !bytes.Equal(curlFile, gd.File):
			d = append(d, fgDiff{"file", fgShow(curlFile), fgShow(gd.File)})
		}
	}
	// The gist of stderr: a failure is reported (gdfetch always: doc.go -S).
	silent := c.has("-s") && !c.has("-v")
	if gd.Code != 0 && strings.TrimSpace(gd.Stderr) == "" {
		d = append(d, fgDiff{"stderr", "-", "no failure reported for exit " + strconv.Itoa(gd.Code)})
	}
	if gd.Code == 0 && silent && gd.Stderr != "" {
		d = append(d, fgDiff{"stderr", "-", "not silent under -s: " + strconv.Quote(gd.Stderr)})
	}
	if cu.Code != 0 && (!c.has("-s") || c.has("-S")) && !strings.Contains(cu.Stderr, "curl: (") {
		d = append(d, fgDiff{"stderr", "no curl: (N) line " + strconv.Quote(cu.Stderr), "-"})
	}
	if len(gd.Others) > 0 {
		d = append(d, fgDiff{"leftover", "-", strings.Join(gd.Others, " ")})
	}
	return d
}

// fgExplain names the doc.go or Godot rule that states the case's
// differences, or "" when none does (a finding).
func fgExplain(c *fgCase, cu, gd *fgResult, diffs []fgDiff) string {
	for _, r := range fgRules {
		if r.applies(c, cu, gd, diffs) {
			return r.name
		}
	}
	return ""
}

type fgRule struct {
	name    string
	applies func(c *fgCase, cu, gd *fgResult, diffs []fgDiff) bool
}

// fgRules are filled in as differences are classified (fetchgen_rules_test.go).
var fgRules []fgRule

func TestFetchgen(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	n := tdrive.EnvInt("GDHTTP_FETCHGEN_N", 50)
	seed := uint64(tdrive.EnvInt("GDHTTP_FETCHGEN_SEED", 1))
	verbose := os.Getenv("GDHTTP_FETCHGEN_V") != ""
	var mu sync.Mutex
	counts := map[string]int{}
	for i := range n {
		s := seed*1_000_003 + uint64(i)
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			c := fgDraw(s)
			srv := fgServe(t, c)
			url := srv.URL("/h0")
			cu := fgCurl(t, c, url)
			gd := fgGdfetch(t, c, url)
			defer srv.Close()
			diffs := fgCompare(c, cu, gd)
			if verbose {
				t.Logf("%s\n  curl %d %s / gdfetch %d %s", c, cu.Code, fgShow(cu.Stdout), gd.Code, fgShow(gd.Stdout))
			}
			if len(diffs) == 0 {
				mu.Lock()
				counts["same"]++
				mu.Unlock()
				return
			}
			rule := ""
			eq, path, notes := fgEquivalent(c)
			if len(notes) > 0 {
				cu2 := fgCurl(t, eq, srvURLFor(url, path))
				if d2 := fgCompare(eq, cu2, gd); len(d2) == 0 {
					rule = "curl " + strings.Join(notes, " + ")
				} else {
					cu, diffs = cu2, d2
				}
			}
			if v, vnotes := fgVariant(c, eq); rule == "" && len(vnotes) > 0 {
				srv2 := fgServe(t, v)
				defer srv2.Close()
				cu3 := fgCurl(t, v, srvURLFor(srv2.URL("/h0"), path))
				notes = append(notes, vnotes...)
				if d3 := fgCompare(v, cu3, gd); len(d3) == 0 {
					rule = "curl " + strings.Join(notes, " + ")
				} else {
					cu, diffs = cu3, d3
				}
			}
			if rule == "" {
				rule = fgExplain(c, cu, gd, diffs)
				if rule != "" && len(notes) > 0 {
					rule = "curl " + strings.Join(notes, " + ") + "; " + rule
				}
			}
			if rule == "" {
				var b strings.Builder
				for _, d := range diffs {
					b.WriteString("\n    " + d.String())
				}
				t.Errorf("unexplained difference (GDHTTP_FETCHGEN_SEED=%d case %d):\n  %s\n  equivalent curl: %q %s%s\n  curl stderr: %q\n  gdfetch stderr: %q",
					seed, i, c, eq.Args, path, b.String(), fgTrim(cu.Stderr), fgTrim(gd.Stderr))
				return
			}
			if strings.Contains(rule, "FINDING") {
				t.Errorf("known finding (GDHTTP_FETCHGEN_SEED=%d case %d): %s\n  %s", seed, i, rule, c)
			}
			mu.Lock()
			counts[rule]++
			mu.Unlock()
		})
	}
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t.Logf("%4d  %s", counts[k], k)
	}
}

func fgTrim(s string) string {
	if len(s) > 600 {
		return s[len(s)-600:]
	}
	return s
}

func srvURLFor(url, path string) string {
	if path == "" {
		return url
	}
	base := strings.TrimSuffix(url, "/h0")
	return base + strings.Replace(path, "127.0.0.1:PORT", strings.TrimPrefix(base, "http://"), 1)
}

// fgMaxRedirs is gdfetch's max_redirects for the case (doc.go: default 8).
func fgMaxRedirs(c *fgCase) int {
	if v, ok := c.flagValue("--max-redirs"); ok {
		n, _ := strconv.Atoi(v)
		return n
	}
	return 8
}

// fgGodotStop is where Godot's redirect rules (§2.8.1) end the chain: the
// hop index (len(Hops): the final response) and how.
const (
	fgStopFinal     = iota // every hop followed
	fgStopLimit            // REDIRECT_LIMIT_REACHED at hop k (§2.8.1.2)
	fgStopDelivered        // hop k delivered as the response (not 301/302, §2.8.1.1; Location not seen, §2.8.1.3)
	fgStopBadPath          // hop k's Location is a path that is not one (§2.8.1.5: R4)
	fgStopOddPath          // hop k's Location "//host/p" is sent as a path (§2.8.1.5)
)

func fgGodotStop(c *fgCase) (kind, k int) {
	max := fgMaxRedirs(c)
	for i, h := range c.Hops {
		if h.Code != 301 && h.Code != 302 {
			return fgStopDelivered, i
		}
		if max >= 0 && i >= max {
			return fgStopLimit, i
		}
		switch h.Loc {
		case fgLocNoSpace:
			return fgStopDelivered, i
		case fgLocRelative, fgLocUpper:
			return fgStopBadPath, i
		case fgLocSchemeRel:
			return fgStopOddPath, i
		}
	}
	return fgStopFinal, len(c.Hops)
}

// fgEquivalent is the curl command doc.go says gdfetch's run is: the case
// with its flags rewritten, the path to ask for ("" the start), and the
// rewrites made (each citing doc.go), none when curl as typed is already
// the equivalent.
func fgEquivalent(c *fgCase) (*fgCase, string, []string) {
	eq := *c
	eq.Orig = c
	var notes []string
	var args []string
	resume := fgResumes(c)
	skip := 0
	for i, a := range c.Args {
		if skip > 0 {
			skip--
			continue
		}
		switch a {
		case "-L":
			continue
		case "--max-redirs":
			skip = 1
			continue
		case "-C":
			// doc.go -C: without gdfetch's state file (the server sends no
			// validator) the download starts over from byte 0, no Range.
			if i+1 < len(c.Args) && c.Args[i+1] == "-" {
				skip = 1
				notes = append(notes, "without -C - (doc.go -C: no state file, from byte 0)")
				continue
			}
		case "--compressed":
			if resume {
				continue
			}
		}
		args = append(args, a)
	}
	switch {
	case resume:
		notes = append(notes, "without --compressed (doc.go -C: Accept-Encoding: identity)")
	case !c.has("--compressed"):
		args = append(args, "--compressed")
		notes = append(notes, "--compressed (doc.go: accept_gzip on by default)")
	}
	kind, k := fgGodotStop(c)
	path := ""
	switch kind {
	case fgStopFinal, fgStopLimit:
		if len(c.Hops) > 0 {
			args = append(args, "-L", "--post301", "--post302", "--max-redirs", strconv.Itoa(fgMaxRedirs(c)))
			notes = append(notes, "-L --post301 --post302 --max-redirs M (doc.go -L: the node follows 301/302, method kept, --max-redirs default 8)")
		}
	case fgStopDelivered, fgStopBadPath:
		path = "/h" + strconv.Itoa(k)
		notes = append(notes, "asking for the hop Godot stops at (doc.go -L, §2.8.1.1/.3/.5)")
	case fgStopOddPath:
		path = "//127.0.0.1:PORT/h" + strconv.Itoa(k+1) // the Location, sent as a path
		notes = append(notes, "asking for the hop Godot stops at (doc.go -L, §2.8.1.5)")
	}
	eq.Args = args
	return &eq, path, notes
}

// fgVariant is the case's server as Godot reads it, for curl: the
// response rewritten where a Godot rule reads it otherwise than curl.
func fgVariant(c, eq *fgCase) (*fgCase, []string) {
	v := *eq
	var notes []string
	if fgBodyOn204(c) {
		// §1.8.7: a 204 or 304 gets no special treatment: its framed body
		// is read (§1.9). curl reads none: shown to curl as a 200.
		v.Shown = 200
		notes = append(notes, "a 204/304 with a body, shown to curl as 200 (§1.8.7: no special treatment)")
	}
	if c.Final.Odd == fgOddNoColon {
		// §1.8.5: a line without a colon is stored as a header; curl 7.88
		// fails the response (exit 8, CURLE_WEIRD_SERVER_REPLY).
		v.NoOdd = true
		notes = append(notes, "the header line without a colon left out (§1.8.5: stored as a header)")
	}
	return &v, notes
}

// fgBodyOn204: Godot reaches a 204 or 304 final that carries a body.
func fgBodyOn204(c *fgCase) bool {
	f := c.Final
	return (f.Code == 204 || f.Code == 304) && fgReachesFinal(c) && fgServed(c) && f.Pre == 0 &&
		f.Odd != fgOddNoHeaders && (f.Framing == fgChunked || f.Framing == fgClose || f.Framing == fgFixed && (f.Size > 0 || f.Echo || f.Gzip != 0))
}

// fgResumes: the case has -C - (DoResumable).
func fgResumes(c *fgCase) bool {
	v, ok := c.flagValue("-C")
	return ok && v == "-"
}
