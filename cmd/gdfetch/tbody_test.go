package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tdrive "github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/uploadgen"
)

// A seeded generated differential harness of gdfetch's uploads against
// curl's (skipped, with a message, when curl is not installed): each case
// runs both with the same upload flags (-d literal and @FILE and @-, with
// CR/LF to strip, several joined with '&'; --data-binary @FILE and @-;
// -F name=value, name=@FILE, name=<FILE; -T FILE; -T - from a pipe;
// optionally -X METHOD and -x through a proxy) against their own copy of
// the same scripted loopback server: per case the first request is read
// whole, read slowly, answered early (413) and closed, reset mid-body,
// answered with 100 Continue first, redirected (301/302/303/307/308: what
// is re-sent), or stalled past -m. Compared: the first request's method,
// body (a form: its parts) and framing, and the exit codes; after a 301
// or 302, what gdfetch re-sends (Godot keeps the method and body,
// §2.8.1.7). Differences doc.go documents are tallied, not failed
// (tbfAllowed). curl gets "-H Expect:" so that it does not wait a second
// for a 100 Continue before big bodies (gdfetch never asks for one).
//
// GDHTTP_TBODY_N (cases, default 30), GDHTTP_TBODY_SEED (default 1),
// GDHTTP_TBODY_ONLY=i, GDHTTP_TBODY_V=1.
func TestTbodyGdfetch(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed: the gdfetch-vs-curl half of the tbody harness is skipped")
	}
	n := tdrive.EnvInt("GDHTTP_TBODY_N", 30)
	seed := uint64(tdrive.EnvInt("GDHTTP_TBODY_SEED", 1))
	only := tdrive.EnvInt("GDHTTP_TBODY_ONLY", -1)
	verbose := tdrive.EnvInt("GDHTTP_TBODY_V", 0) == 1
	for _, k := range []string{"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"} {
		t.Setenv(k, "")
	}
	fds := tdrive.FDs()
	tally := map[string]int{}
	for i := range n {
		if only >= 0 && i != only {
			continue
		}
		c := genTbfCase(seed*1_000_003 + uint64(i))
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range c.files {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			gd := runTbfSide(t, c, dir, "")
			cu := runTbfSide(t, c, dir, curl)
			label := compareTbf(t, c, gd, cu)
			tally[label]++
			if verbose || t.Failed() {
				t.Logf("case %v\n gdfetch: %v\n curl:    %v", c, gd, cu)
			}
		})
	}
	t.Logf("seed %d, %d cases:%s", seed, n, tdrive.Counts(tally))
	tdrive.NoFDLeft(t, fds, 2)
}

type tbfAction int

const (
	tbfNormal tbfAction = iota
	tbfSlow
	tbfEarlyClose
	tbfReset
	tbfContinue100
	tbfRedirect
	tbfStall
)

func (a tbfAction) String() string {
	return [...]string{"normal", "slow", "earlyclose", "reset", "continue100", "redirect", "stall"}[a]
}

type tbfCase struct {
	args   []string // the upload flags, FILE paths relative to the case's directory ("{dir}/")
	files  map[string][]byte
	stdin  []byte // nil: none
	kind   string // "d", "bin", "F", "T", "T-"
	method string // -X, "" none
	proxy  bool
	action tbfAction
	at     int // tbfReset: bytes of the request (head included) read first
	code   int // tbfRedirect
}

func (c tbfCase) String() string {
	return fmt.Sprintf("%s X=%q proxy=%v stdin=%d action=%v at=%d code=%d args=%q", c.kind, c.method, c.proxy, len(c.stdin), c.action, c.at, c.code, c.args)
}

func tbfData(r *rand.Rand, binary bool) []byte {
	var size int
	switch p := r.IntN(100); {
	case p < 10:
	case p < 55:
		size = 1 + r.IntN(200)
	case p < 85:
		size = 200 + r.IntN(20_000)
	default:
		size = 200_000 + r.IntN(2<<20)
	}
	b := make([]byte, size)
	// Text has its line ends as CR LF or LF only: a bare CR (or a NUL)
	// in a -d @FILE is where curl cuts the line (TestDataFileCurlPieces).
	const text = "abcxyz=&%+ 019\n\n"
	for i := range b {
		if binary {
			b[i] = byte(r.Uint32())
		} else {
			b[i] = text[r.IntN(len(text))]
			if b[i] == '\n' && i > 0 && r.IntN(2) == 0 {
				b[i-1] = '\r'
			}
		}
	}
	return b
}

func genTbfCase(seed uint64) tbfCase {
	r := rand.New(rand.NewPCG(seed, 0x7bf))
	c := tbfCase{files: map[string][]byte{}}
	switch p := r.IntN(100); {
	case p < 25:
		c.kind = "d"
		for j := range 1 + r.IntN(3) {
			switch r.IntN(3) {
			case 0:
				v := tbfData(r, false)
				c.args = append(c.args, "-d", string(v[:min(len(v), r.IntN(41))]))
			case 1:
				name := fmt.Sprintf("d%d.txt", j)
				c.files[name] = tbfData(r, false)
				c.args = append(c.args, "-d", "@{dir}/"+name)
			default:
				if c.stdin == nil {
					c.stdin = tbfData(r, false)
					c.args = append(c.args, "-d", "@-")
				} else {
					c.args = append(c.args, "--data-binary", "x=1")
				}
			}
		}
	case p < 45:
		c.kind = "bin"
		if r.IntN(2) == 0 {
			c.files["b.bin"] = tbfData(r, true)
			c.args = []string{"--data-binary", "@{dir}/b.bin"}
		} else {
			c.stdin = tbfData(r, true)
			c.args = []string{"--data-binary", "@-"}
		}
	case p < 65:
		c.kind = "F"
		c.args = []string{"-F", "player=Ada"}
		c.files["level.dat"] = tbfData(r, true)
		c.args = append(c.args, "-F", "level=@{dir}/level.dat")
		if r.IntN(2) == 0 {
			c.files["note.txt"] = []byte("a note\n")
			c.args = append(c.args, "-F", "note=<{dir}/note.txt")
		}
	case p < 85:
		c.kind = "T"
		c.files["up.bin"] = tbfData(r, true)
		c.args = []string{"-T", "{dir}/up.bin"}
	default:
		c.kind = "T-"
		c.stdin = tbfData(r, true)
		c.args = []string{"-T", "-"}
	}
	if r.IntN(4) == 0 {
		c.method = []string{"POST", "PUT", "PATCH", "DELETE"}[r.IntN(4)]
		c.args = append(c.args, "-X", c.method)
	}
	c.proxy = r.IntN(5) == 0
	switch p := r.IntN(100); {
	case p < 35:
		c.action = tbfNormal
	case p < 45:
		c.action = tbfSlow
	case p < 55:
		c.action = tbfEarlyClose
	case p < 65:
		c.action = tbfReset
		c.at = 1 + r.IntN(2000)
	case p < 72:
		c.action = tbfContinue100
	case p < 94:
		c.action = tbfRedirect
		c.code = []int{301, 302, 303, 307, 308}[r.IntN(5)]
	default:
		c.action = tbfStall
	}
	return c
}

// tbfReq is one request the server saw.
type tbfReq struct {
	method, target, framing string
	body                    string // a summary: length and hash, or a form's parts
	complete                bool
}

func (q tbfReq) String() string {
	return fmt.Sprintf("%s %s %s %s complete=%v", q.method, q.target, q.framing, q.body, q.complete)
}

type tbfResult struct {
	exit    int
	reqs    []tbfReq
	elapsed time.Duration
	stderr  string
}

func (r tbfResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "exit %d in %v", r.exit, r.elapsed.Round(time.Millisecond))
	for _, q := range r.reqs {
		b.WriteString("\n     " + q.String())
	}
	if r.stderr != "" {
		b.WriteString("\n     stderr: " + strings.TrimSpace(r.stderr))
	}
	return b.String()
}

// runTbfSide runs gdfetch (curl == "") or curl with c's flags against a
// fresh scripted server.
func runTbfSide(t *testing.T, c tbfCase, dir, curl string) tbfResult {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	var mu sync.Mutex
	var conns [][]byte
	var wg sync.WaitGroup
	quit := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nil)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				tbfServe(c, i, conn, quit, func(b []byte) {
					mu.Lock()
					conns[i] = append(conns[i], b...)
					mu.Unlock()
				}, func() []byte {
					mu.Lock()
					defer mu.Unlock()
					return append([]byte(nil), conns[i]...)
				})
			}()
		}
	}()
	url := fmt.Sprintf("http://127.0.0.1:%d/up", port)
	var args []string
	if c.proxy {
		url = "http://upload.invalid/up"
		args = append(args, "-x", fmt.Sprintf("127.0.0.1:%d", port))
	}
	args = append(args, "-s")
	if c.action == tbfStall {
		args = append(args, "-m", "0.5")
	}
	for _, a := range c.args {
		args = append(args, strings.ReplaceAll(a, "{dir}", dir))
	}
	args = append(args, url)
	var res tbfResult
	start := time.Now()
	if curl == "" {
		res.exit, res.stderr = tbfRunGdfetch(t, args, c.stdin)
	} else {
		cmd := exec.Command(curl, append([]string{"-L", "-H", "Expect:", "-o", "/dev/null"}, args...)...)
		if c.stdin != nil {
			cmd.Stdin = bytes.NewReader(c.stdin)
		}
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		err := cmd.Run()
		res.exit = cmd.ProcessState.ExitCode()
		if err != nil && res.exit < 0 {
			t.Fatalf("curl: %v", err)
		}
		res.stderr = errOut.String()
	}
	res.elapsed = time.Since(start)
	close(quit)
	_ = ln.Close()
	wg.Wait()
	for _, b := range conns {
		reqs, _ := uploadgen.ParseRequests(b)
		for _, q := range reqs {
			if q.HeadEnd == 0 {
				continue
			}
			res.reqs = append(res.reqs, tbfSummarize(q))
		}
	}
	return res
}

// tbfRunGdfetch runs gdfetch in-process with stdin from a pipe.
func tbfRunGdfetch(t *testing.T, args []string, stdin []byte) (int, string) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; _ = r.Close() }()
	go func() {
		if stdin != nil {
			_, _ = w.Write(stdin)
		}
		_ = w.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := runContext(ctx, args, &out, &errOut)
	return code, errOut.String()
}

func tbfSummarize(q uploadgen.Request) tbfReq {
	line, rest, _ := strings.Cut(q.Head, "\r\n")
	f := strings.Fields(line)
	// Godot's absolute-form target names the port (http_client_tcp.cpp:
	// "http://" + conn_host + ":" + itos(conn_port)); curl's does not.
	s := tbfReq{method: f[0], target: strings.Replace(f[1], "http://upload.invalid:80/", "http://upload.invalid/", 1), complete: q.Complete()}
	switch {
	case q.Length < 0:
		s.framing = "chunked"
	case strings.Contains(strings.ToLower(q.Head), "\r\ncontent-length:") && q.Length > 0:
		s.framing = "cl"
	default:
		s.framing = "none"
	}
	if !s.complete {
		s.body = "incomplete"
		return s
	}
	var ctype string
	for _, l := range strings.Split(rest, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "content-type") {
			ctype = strings.TrimSpace(v)
		}
	}
	if mt, params, err := mime.ParseMediaType(ctype); err == nil && mt == "multipart/form-data" {
		mr := multipart.NewReader(bytes.NewReader(q.Data), params["boundary"])
		var parts []string
		for {
			p, err := mr.NextPart()
			if err != nil {
				if err != io.EOF {
					parts = append(parts, "error "+err.Error())
				}
				break
			}
			b, _ := io.ReadAll(p)
			sum := sha256.Sum256(b)
			parts = append(parts, fmt.Sprintf("%s|%s|%d|%s", p.FormName(), p.FileName(), len(b), hex.EncodeToString(sum[:4])))
		}
		s.body = "form[" + strings.Join(parts, " ") + "]"
		return s
	}
	sum := sha256.Sum256(q.Data)
	s.body = fmt.Sprintf("len=%d %s", len(q.Data), hex.EncodeToString(sum[:4]))
	return s
}

// tbfServe runs one connection: the first request of the first connection
// gets the case's action, the others a 200.
func tbfServe(c tbfCase, idx int, conn net.Conn, quit chan struct{}, add func([]byte), got func() []byte) {
	write := func(s string) bool {
		_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, err := io.WriteString(conn, s)
		return err == nil
	}
	rng := rand.New(rand.NewPCG(uint64(idx), 5))
	buf := make([]byte, 64<<10)
	answered, acted := 0, false
	slowLeft := 128 // slow reads are bounded: each re-parses what came (as TestTbodyTransport's)
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-quit:
			return
		default:
		}
		reqs, _ := uploadgen.ScanRequests(got())
		scripted := idx == 0 && len(reqs) > 0 && reqs[0].HeadEnd > 0
		want := len(buf)
		if idx == 0 && c.action == tbfSlow && slowLeft > 0 {
			slowLeft--
			want = 1 + rng.IntN(4096)
			time.Sleep(time.Duration(rng.IntN(200)) * time.Microsecond)
		}
		if idx == 0 && c.action == tbfReset {
			// The reset comes c.at body bytes in: the head is read a byte at
			// a time, so that no read takes the body past that point with
			// it (a head longer than c.at used to let the first read take the
			// whole request, and no reset came).
			want = 1
			if scripted {
				left := reqs[0].HeadEnd + c.at - len(got())
				if left <= 0 && !reqs[0].Complete() {
					_ = conn.(*net.TCPConn).SetLinger(0)
					return
				}
				want = len(buf)
				if left > 0 {
					want = min(left, len(buf))
				}
			}
		}
		if scripted && !acted {
			acted = true
			switch c.action {
			case tbfEarlyClose:
				write("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
				return
			case tbfContinue100:
				if !write("HTTP/1.1 100 Continue\r\n\r\n") {
					return
				}
			case tbfStall:
				select {
				case <-time.After(time.Second):
				case <-quit:
					return
				}
			}
		}
		for ; answered < len(reqs) && reqs[answered].Complete(); answered++ {
			resp := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
			if idx == 0 && answered == 0 && c.action == tbfRedirect {
				resp = fmt.Sprintf("HTTP/1.1 %d Moved\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n", c.code)
			}
			if !write(resp) {
				return
			}
		}
		_ = conn.SetReadDeadline(deadline)
		n, err := conn.Read(buf[:want])
		add(buf[:n])
		if err != nil {
			return
		}
	}
}

// compareTbf fails t on a difference doc.go does not document, and returns
// the case's label.
func compareTbf(t *testing.T, c tbfCase, gd, cu tbfResult) string {
	t.Helper()
	label := fmt.Sprintf("%s %v: exit %d / %d", c.kind, c.action, gd.exit, cu.exit)
	first := func(r tbfResult) tbfReq {
		if len(r.reqs) == 0 {
			return tbfReq{}
		}
		return r.reqs[0]
	}
	g, k := first(gd), first(cu)
	// What the first request carried.
	if g.complete && k.complete {
		if g.method != k.method || g.target != k.target || g.body != k.body {
			t.Errorf("first request: gdfetch %v, curl %v", g, k)
		}
		if g.framing != k.framing {
			t.Errorf("first request's framing: gdfetch %s, curl %s", g.framing, k.framing)
		}
	}
	// A 301 or 302: gdfetch re-sends the method and the body (Godot,
	// §2.8.1.7), except -T - (stdin cannot be re-read: exit 1).
	if c.action == tbfRedirect && (c.code == 301 || c.code == 302) && g.complete {
		if c.kind == "T-" {
			if gd.exit != 1 {
				t.Errorf("-T - through a %d: exit %d, doc.go says 1", c.code, gd.exit)
			}
		} else if len(gd.reqs) < 2 {
			t.Errorf("%d: gdfetch did not follow it (exit %d)", c.code, gd.exit)
		} else if s := gd.reqs[1]; s.method != g.method || s.body != g.body || s.framing != g.framing || s.target != "/next" && !strings.HasSuffix(s.target, "/next") {
			t.Errorf("%d: gdfetch re-sent %v after %v", c.code, s, g)
		}
	}
	if why := tbfAllowed(c, gd, cu); why != "" {
		return label + " [allowed: " + why + "]"
	}
	if gd.exit != cu.exit {
		t.Errorf("exit: gdfetch %d, curl %d", gd.exit, cu.exit)
	}
	return label
}

func tbfAllowed(c tbfCase, gd, cu tbfResult) string {
	switch {
	case c.action == tbfRedirect:
		return "doc.go -L: Godot's 301/302 (method and body kept), 303/307/308 not followed"
	case c.action == tbfContinue100:
		return "a 1xx is Godot's final response (§1.8); a status line without header lines is RESULT_NO_RESPONSE, 52 (--help)"
	case c.action == tbfEarlyClose && gd.exit == exitConnection:
		// Godot writes the whole request before it reads (§1.7.11): a
		// 413 sent early, then a close, is a failed write (or a reset
		// that drops the 413) for gdfetch, an answer for curl.
		return "Godot writes the whole body before reading the answer (doc.go, -T: unlike curl, a body is sent whole before the response is read)"
	case c.action == tbfReset && gd.exit == exitConnection && (cu.exit == 55 || cu.exit == 56):
		return "a reset mid-upload: curl says 55 (send) or 56 (recv) by timing"
	}
	return ""
}
