package httprequest

// The node's lifecycle under use_threads and keep-alive (the lifecycle
// audit of session 21): randomized, seeded sequences of Request / Process /
// CancelRequest / Close / Do against real loopback servers, callbacks that
// cancel on the use_threads worker, timeouts racing cancels and completions.
// Every request not canceled has exactly one completion and a canceled one
// none (COMPAT Q6); nothing hangs; no goroutine, descriptor or temporary
// file is left; the node stays usable. LIFECYCLE_SEED replays a randomized
// run (the thread timing still varies); LIFECYCLE_SEQS, LIFECYCLE_OPS,
// LIFECYCLE_ITERS size it, and LIFECYCLE_FULL=1 runs every case of the
// callback matrix (a tenth of them by default).

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
)

var (
	lcDripPiece = bytes.Repeat([]byte("d"), 1000)
	lcGzPiece   = []byte(strings.Repeat("gzip text piece, ", 4000))
	lcBig       = bytes.Repeat([]byte("b"), 1<<20)
	lcUpLen     = int64(64 << 10)
)

// lcWant is the decoded body a path gives on success.
func lcWant(path string) []byte {
	switch path {
	case "/ok", "/cb":
		return []byte("hello-ok")
	case "/drip", "/redir":
		return bytes.Repeat(lcDripPiece, 10)
	case "/gz":
		return bytes.Repeat(lcGzPiece, 8)
	case "/upload":
		return []byte("up:" + strconv.FormatInt(lcUpLen, 10))
	case "/big":
		return lcBig
	}
	return nil
}

type lcSrv struct {
	*httptest.Server
	stop chan struct{}
}

func (s *lcSrv) url(p string) string { return s.URL + p }

func (s *lcSrv) close() {
	close(s.stop)
	s.CloseClientConnections()
	s.Close()
}

func lcServer() *lcSrv {
	s := &lcSrv{stop: make(chan struct{})}
	wait := func(r *http.Request, d time.Duration) bool {
		select {
		case <-r.Context().Done():
			return false
		case <-s.stop:
			return false
		case <-time.After(d):
			return true
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "8")
		_, _ = io.WriteString(w, "hello-ok")
	})
	mux.HandleFunc("/cb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "a=1")
		w.Header().Set("Content-Length", "8")
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "hello-ok")
	})
	mux.HandleFunc("/drip", func(w http.ResponseWriter, r *http.Request) {
		f := w.(http.Flusher)
		for i := 0; i < 10; i++ {
			_, _ = w.Write(lcDripPiece)
			f.Flush()
			if i < 9 && !wait(r, 3*time.Millisecond) {
				return
			}
		}
	})
	mux.HandleFunc("/redir", func(w http.ResponseWriter, r *http.Request) {
		wait(r, time.Millisecond)
		http.Redirect(w, r, "/redir2", http.StatusFound)
	})
	mux.HandleFunc("/redir2", func(w http.ResponseWriter, r *http.Request) {
		wait(r, time.Millisecond)
		http.Redirect(w, r, "/drip", http.StatusFound)
	})
	mux.HandleFunc("/gz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		f := w.(http.Flusher)
		gz := gzip.NewWriter(w)
		for i := 0; i < 8; i++ {
			_, _ = gz.Write(lcGzPiece)
			_ = gz.Flush()
			f.Flush()
			if !wait(r, 2*time.Millisecond) {
				return
			}
		}
		_ = gz.Close()
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		wait(r, time.Hour)
	})
	mux.HandleFunc("/hangbody", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		_, _ = w.Write(lcDripPiece[:100])
		w.(http.Flusher).Flush()
		wait(r, time.Hour)
	})
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		_, _ = fmt.Fprintf(w, "up:%d", n)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(lcBig)))
		for off := 0; off < len(lcBig); off += 64 << 10 {
			if _, err := w.Write(lcBig[off : off+64<<10]); err != nil {
				return
			}
		}
	})
	s.Server = httptest.NewServer(mux)
	return s
}

// lcSlowReader is an upload body: 4 KiB per Read, a pause before each.
type lcSlowReader struct {
	left  int64
	pause time.Duration
	hook  func()
}

func (r *lcSlowReader) Read(p []byte) (int, error) {
	if r.hook != nil {
		r.hook()
	}
	if r.left == 0 {
		return 0, io.EOF
	}
	if r.pause > 0 {
		time.Sleep(r.pause)
	}
	n := min(int64(len(p)), 4096, r.left)
	for i := range p[:n] {
		p[i] = 'u'
	}
	r.left -= n
	return int(n), nil
}

func lcFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// lcFDsBackTo waits up to 2 s for the process's descriptors to drop back to
// fd0, and fails naming the ones left.
func lcFDsBackTo(t *testing.T, fd0 int) {
	t.Helper()
	var fd1 int
	for range 200 {
		if fd1 = lcFDs(t); fd1 <= fd0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	ents, _ := os.ReadDir("/proc/self/fd")
	var links []string
	for _, e := range ents {
		l, _ := os.Readlink("/proc/self/fd/" + e.Name())
		links = append(links, e.Name()+"→"+l)
	}
	t.Errorf("fds: %d before, %d after: %v", fd0, fd1, links)
}

func lcDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// lcBounded runs f and fails the test with every goroutine's stack when it
// does not return within d.
func lcBounded(t *testing.T, d time.Duration, what string, f func()) bool {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		t.Errorf("%s: not done after %v (deadlock?)\n%s", what, d, lcDump())
		return false
	}
}

func lcSeed(t *testing.T) int64 {
	if s := os.Getenv("LIFECYCLE_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return time.Now().UnixNano()
}

// lcReq is one request of a sequence.
type lcReq struct {
	i        int
	path     string
	timeout  time.Duration
	file     string
	canceled bool // CancelRequest or Close was called before its completion
	got      int
	res      Result
	body     []byte
	code     int
	err      error
}

var lcPaths = []string{"/ok", "/drip", "/redir", "/gz", "/hang", "/hangbody", "/upload", "/big"}

// TestLifecycleStress: randomized sequences, every driver × keep-alive
// on/off. LIFECYCLE_SEED reproduces a run; LIFECYCLE_SEQS and
// LIFECYCLE_OPS size it.
func TestLifecycleStress(t *testing.T) {
	seed := lcSeed(t)
	t.Logf("seed %d (LIFECYCLE_SEED=%d to reproduce)", seed, seed)
	seqs, ops := drive.EnvInt("LIFECYCLE_SEQS", 3), drive.EnvInt("LIFECYCLE_OPS", 10)

	// netpoll's epoll fd etc. exist before the baseline
	if l, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		_ = l.Close()
	}
	ignore := goleak.IgnoreCurrent()
	fd0 := lcFDs(t)
	srv := lcServer()
	dir := t.TempDir()

	seq := 0
	for _, drv := range []string{"process", "threads", "do"} {
		for _, keep := range []bool{false, true} {
			for s := 0; s < seqs; s++ {
				sseed := seed + int64(seq)
				seq++
				name := fmt.Sprintf("%s/keep=%v/seed=%d", drv, keep, sseed)
				sub := filepath.Join(dir, strconv.Itoa(seq))
				_ = os.Mkdir(sub, 0o755)
				var files []*lcReq
				ok := lcBounded(t, 60*time.Second, name, func() {
					files = lcSequence(t, name, rand.New(rand.NewSource(sseed)), srv, drv, keep, ops, sub)
				})
				if !ok {
					t.Fatalf("%s: stuck (LIFECYCLE_SEED=%d)", name, seed)
				}
				// no temporary file left; the target exists only after a success
				ents, _ := os.ReadDir(sub)
				want := map[string]bool{}
				byName := map[string]*lcReq{}
				for _, q := range files {
					if q.file != "" {
						byName[filepath.Base(q.file)] = q
					}
					if q.file != "" && q.got == 1 && q.res == ResultSuccess {
						want[filepath.Base(q.file)] = true
					}
				}
				for _, e := range ents {
					if !want[e.Name()] {
						q := byName[e.Name()]
						info, _ := e.Info()
						if q != nil {
							t.Errorf("%s: file %s (%d bytes) left in the download dir: req %s canceled=%v completions=%d result=%v", name, e.Name(), info.Size(), q.path, q.canceled, q.got, q.res)
						} else {
							t.Errorf("%s: file %s (%d bytes) left in the download dir", name, e.Name(), info.Size())
						}
					}
				}
			}
		}
	}
	srv.close()
	lcFDsBackTo(t, fd0)
	goleak.VerifyNone(t, ignore)
}

// lcSequence runs one random sequence on a new node and returns its requests.
func lcSequence(t *testing.T, name string, rng *rand.Rand, srv *lcSrv, drv string, keep bool, ops int, dir string) []*lcReq {
	n := New()
	watchPhases(t, n)
	errorf := func(format string, args ...any) {
		t.Errorf(name+": "+format, args...)
	}
	must := func(err error, what string) {
		if err != nil {
			errorf("%s: %v", what, err)
		}
	}
	must(n.SetUseThreads(drv == "threads"), "SetUseThreads")
	must(n.SetKeepAlive(keep), "SetKeepAlive")
	downloads := rng.Intn(3) == 0

	// getters from another goroutine, all the time (allowed)
	stopG := make(chan struct{})
	doneG := make(chan struct{})
	go func() {
		defer close(doneG)
		for {
			select {
			case <-stopG:
				return
			default:
			}
			_ = n.BodySize() + n.DownloadedBytes() + n.UploadedBytes() + n.UploadSize()
			_ = n.HTTPClientStatus()
			time.Sleep(50 * time.Microsecond)
		}
	}()
	defer func() { close(stopG); <-doneG }()

	var cur *lcReq
	n.OnRequestCompleted(func(res Result, code int, h []string, body []byte) {
		if drv == "do" {
			errorf("request_completed called for Do")
			return
		}
		if cur == nil {
			errorf("completion (%v) with no request", res)
			return
		}
		cur.got++
		if cur.canceled {
			errorf("req %d %s: completion %v after CancelRequest/Close", cur.i, cur.path, res)
		}
		if cur.got > 1 {
			errorf("req %d %s: completion #%d (%v)", cur.i, cur.path, cur.got, res)
		}
		cur.res, cur.code, cur.body, cur.err = res, code, body, n.LastError()
	})
	var reqs []*lcReq

	pump := func(d time.Duration, until func() bool) {
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			n.Process()
			if until != nil && until() {
				return
			}
			if rng.Intn(4) == 0 {
				runtime.Gosched()
			} else {
				time.Sleep(time.Duration(rng.Intn(800)) * time.Microsecond)
			}
		}
	}

	check := func(q *lcReq) {
		if q.got != 1 {
			return
		}
		hang := q.path == "/hang" || q.path == "/hangbody"
		switch {
		case q.res == ResultSuccess && !hang:
			want := lcWant(q.path)
			if q.file != "" {
				b, err := os.ReadFile(q.file)
				if err != nil || !bytes.Equal(b, want) {
					errorf("req %d %s: download file %d bytes (%v), want %d", q.i, q.path, len(b), err, len(want))
				}
				if len(q.body) != 0 {
					errorf("req %d %s: body with download_file", q.i, q.path)
				}
			} else if !bytes.Equal(q.body, want) {
				errorf("req %d %s: body %d bytes, want %d (%.40q)", q.i, q.path, len(q.body), len(want), q.body)
			}
			if q.code != 200 {
				errorf("req %d %s: code %d", q.i, q.path, q.code)
			}
		case q.res == ResultTimeout && q.timeout > 0:
		default:
			errorf("req %d %s (timeout %v, keep %v): result %v code %d cause %v", q.i, q.path, q.timeout, keep, q.res, q.code, q.err)
		}
	}

	for i := 0; i < ops; i++ {
		q := &lcReq{i: i, path: lcPaths[rng.Intn(len(lcPaths))]}
		reqs = append(reqs, q)
		// idle-time calls, allowed between requests
		switch rng.Intn(8) {
		case 0:
			n.CancelRequest()
		case 1:
			n.Close()
		case 2:
			if drv != "do" {
				keep = !keep
				must(n.SetKeepAlive(keep), "SetKeepAlive (idle)")
			}
		case 3:
			if drv != "do" {
				must(n.SetUseThreads(!n.IsUsingThreads()), "SetUseThreads (idle)")
			}
		case 4:
			if drv != "do" {
				must(n.SetTimeout(0), "SetTimeout")
				must(n.SetDownloadFile(""), "SetDownloadFile")
				cur = nil
				c, err := n.Do(context.Background(), srv.url("/ok"), nil, httpclient.MethodGet, nil)
				if err != nil || string(c.Body) != "hello-ok" {
					errorf("idle Do: %v %v", c.Result, err)
				}
			}
		}
		// action: 0 wait, 1 cancel, 2 close
		action := rng.Intn(3)
		hang := q.path == "/hang" || q.path == "/hangbody"
		if rng.Intn(3) == 0 || (hang && action == 0) {
			q.timeout = time.Duration(5+rng.Intn(60)) * time.Millisecond
		}
		must(n.SetTimeout(q.timeout), "SetTimeout")
		if downloads {
			q.file = filepath.Join(dir, fmt.Sprintf("f%d", i))
		}
		must(n.SetDownloadFile(q.file), "SetDownloadFile")
		delay := time.Duration(rng.Intn(40000)) * time.Microsecond

		if drv == "do" {
			ctx, cancel := context.WithCancel(context.Background())
			var fired chan struct{}
			var tm *time.Timer
			if action != 0 {
				fired = make(chan struct{})
				tm = time.AfterFunc(delay, func() { defer close(fired); cancel() })
			}
			var c Completion
			var err error
			if q.path == "/upload" {
				c, err = n.DoStream(ctx, srv.url(q.path), nil, httpclient.MethodPost, &lcSlowReader{left: lcUpLen, pause: time.Duration(rng.Intn(1500)) * time.Microsecond}, lcUpLen)
			} else {
				c, err = n.Do(ctx, srv.url(q.path), nil, httpclient.MethodGet, nil)
			}
			if tm != nil && !tm.Stop() {
				<-fired
			}
			canceled := ctx.Err() != nil
			cancel()
			if errors.Is(err, context.Canceled) {
				if !canceled {
					errorf("req %d: context.Canceled without a cancel", i)
				}
				if c.Result != 0 || c.ResponseCode != 0 || c.Body != nil {
					errorf("req %d: canceled Do with a completion %+v", i, c)
				}
				q.canceled = true
				continue
			}
			q.got, q.res, q.code, q.body = 1, c.Result, c.ResponseCode, c.Body
			var re *ResultError
			if errors.As(err, &re) {
				q.err = re.Cause
			}
			if hang && q.timeout == 0 && !canceled {
				errorf("req %d %s: Do returned without cancel or timeout: %v", i, q.path, err)
			}
			check(q)
			continue
		}

		cur = q
		var err error
		if q.path == "/upload" {
			err = n.RequestStream(srv.url(q.path), nil, httpclient.MethodPost, &lcSlowReader{left: lcUpLen, pause: time.Duration(rng.Intn(1500)) * time.Microsecond}, lcUpLen)
		} else {
			err = n.Request(srv.url(q.path), nil, httpclient.MethodGet, "")
		}
		if err != nil {
			errorf("req %d %s: Request: %v", i, q.path, err)
			continue
		}
		switch action {
		case 0:
			pump(15*time.Second, func() bool { return q.got > 0 })
			if q.got == 0 {
				errorf("req %d %s (timeout %v): no completion after 15 s", i, q.path, q.timeout)
				n.CancelRequest()
				q.canceled = true
			}
		default:
			pump(delay, func() bool { return q.got > 0 && rng.Intn(2) == 0 })
			if q.got == 0 {
				q.canceled = true
			}
			if action == 1 {
				n.CancelRequest()
			} else {
				n.Close()
			}
			if n.busy() {
				errorf("req %d: busy after CancelRequest/Close", i)
			}
			if s := n.HTTPClientStatus(); s != httpclient.StatusDisconnected && action == 2 {
				errorf("req %d: status %v after Close", i, s)
			}
		}
		if rng.Intn(2) == 0 {
			pump(time.Duration(rng.Intn(5000))*time.Microsecond, nil) // a late completion would show
		}
		check(q)
	}
	// a late completion of the last one
	if drv != "do" {
		pump(5*time.Millisecond, nil)
	}
	// the node is usable: a final request succeeds
	must(n.SetTimeout(0), "SetTimeout")
	must(n.SetDownloadFile(""), "SetDownloadFile")
	q := &lcReq{i: ops, path: "/ok"}
	cur = q
	if drv == "do" {
		c, err := n.Do(context.Background(), srv.url("/ok"), nil, httpclient.MethodGet, nil)
		q.got, q.res, q.code, q.body, q.err = 1, c.Result, c.ResponseCode, c.Body, err
	} else {
		must(n.Request(srv.url("/ok"), nil, httpclient.MethodGet, ""), "final Request")
		pump(15*time.Second, func() bool { return q.got > 0 })
		pump(2*time.Millisecond, nil)
	}
	if q.got != 1 || q.res != ResultSuccess {
		errorf("final request: %d completions, result %v (%v)", q.got, q.res, q.err)
	}
	check(q)
	n.Close()
	return reqs
}

// ---------------------------------------------------------------------------
// Callbacks canceling on the use_threads worker, then the owner's calls.

type lcJar struct {
	get, set func()
}

func (j *lcJar) SetCookies(*url.URL, []*http.Cookie) {
	if j.set != nil {
		j.set()
	}
}

func (j *lcJar) Cookies(*url.URL) []*http.Cookie {
	if j.get != nil {
		j.get()
	}
	return nil
}

type lcWriter struct{ hook func() }

func (w lcWriter) Write(p []byte) (int, error) { w.hook(); return len(p), nil }

var lcCallbackKinds = []string{"body-writer", "response-func", "proxy-func", "jar-cookies", "jar-setcookies", "upload-read"}

func lcActs() []string {
	if a := os.Getenv("LIFECYCLE_ACTS"); a != "" {
		return strings.Split(a, ",")
	}
	return []string{"cancel", "close", "cancel-cancel", "close-close", "cancel-close", "close-cancel"}
}

var lcOwnerOps = []string{"Request", "Do", "Process", "CancelRequest", "Close", "getters", "SetKeepAlive", "SetTimeout", "SetUseThreads", "SetDownloadFile", "SetBodyWriter"}

// lcInstall makes callback kind call hook; the upload body is returned.
func lcInstall(t *testing.T, n *HTTPRequest, kind string, hook func()) {
	switch kind {
	case "body-writer":
		if err := n.SetBodyWriter(lcWriter{hook}); err != nil {
			t.Fatal(err)
		}
	case "response-func":
		if err := n.SetResponseFunc(func(int, []string) error { hook(); return nil }); err != nil {
			t.Fatal(err)
		}
	case "proxy-func":
		if err := n.SetProxyFunc(func(*url.URL) (*url.URL, error) { hook(); return nil, nil }); err != nil {
			t.Fatal(err)
		}
	case "jar-cookies":
		if err := n.SetCookieJar(&lcJar{get: hook}); err != nil {
			t.Fatal(err)
		}
	case "jar-setcookies":
		if err := n.SetCookieJar(&lcJar{set: hook}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLifecycleCallbackCancelMatrix: CancelRequest or Close from each
// callback on the worker (once, or twice in a row), then every ordered pair
// of owner calls; no completion for the canceled requests, the node usable,
// nothing left.
func TestLifecycleCallbackCancelMatrix(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	fd0 := lcFDs(t)
	srv := lcServer()
	seed := lcSeed(t)
	t.Logf("seed %d (LIFECYCLE_SEED=%d to reproduce the sample)", seed, seed)
	sample := rand.New(rand.NewSource(seed))
	full := os.Getenv("LIFECYCLE_FULL") != ""
	cases := 0
	for _, kind := range lcCallbackKinds {
		for _, act := range lcActs() {
			for _, keep := range []bool{false, true} {
				for _, twice := range []bool{false, true} {
					for ai, a := range lcOwnerOps {
						for bi, b := range lcOwnerOps {
							if keep && twice && (ai+bi)%3 != 0 {
								continue // fewer cases
							}
							if strings.Contains(act, "-") && (ai+bi)%4 != 0 {
								continue
							}
							if !full && sample.Intn(10) != 0 {
								continue // a tenth of the cases by default
							}
							linger := (ai+bi)%2 == 0
							name := fmt.Sprintf("%s/%s/keep=%v/twice=%v/linger=%v/%s,%s", kind, act, keep, twice, linger, a, b)
							cases++
							if !lcBounded(t, 20*time.Second, name, func() {
								lcCallbackCase(t, name, srv, kind, act, keep, twice, linger, []string{a, b})
							}) {
								t.FailNow()
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d cases", cases)
	srv.close()
	lcFDsBackTo(t, fd0)
	goleak.VerifyNone(t, ignore)
}

func lcCallbackCase(t *testing.T, name string, srv *lcSrv, kind, act string, keep, twice, linger bool, owner []string) {
	n := New()
	watchPhases(t, n)
	errorf := func(format string, args ...any) {
		t.Helper()
		t.Errorf(name+": "+format, args...)
	}
	must := func(err error, what string) {
		t.Helper()
		if err != nil {
			errorf("%s: %v", what, err)
		}
	}
	must(n.SetUseThreads(true), "SetUseThreads")
	must(n.SetKeepAlive(keep), "SetKeepAlive")
	var mu sync.Mutex
	shots := 1
	if twice {
		shots = 2
	}
	fired := make(chan struct{}, 2)
	hook := func() {
		mu.Lock()
		fire := shots > 0
		if fire {
			shots--
		}
		mu.Unlock()
		if !fire {
			return
		}
		for _, a := range strings.Split(act, "-") {
			if a == "cancel" {
				n.CancelRequest()
			} else {
				n.Close()
			}
		}
		fired <- struct{}{}
		if linger {
			time.Sleep(3 * time.Millisecond)
		}
	}
	lcInstall(t, n, kind, hook)
	completions := 0
	expected := 0
	n.OnRequestCompleted(func(res Result, code int, h []string, body []byte) {
		completions++
		if res != ResultSuccess {
			errorf("completion %v (%v)", res, n.LastError())
		}
	})
	var upHook func()
	if kind == "upload-read" {
		upHook = hook
	}
	request := func() {
		t.Helper()
		var err error
		if kind == "upload-read" {
			err = n.RequestStream(srv.url("/cb"), nil, httpclient.MethodPost, &lcSlowReader{left: 16 << 10, hook: upHook}, 16<<10)
		} else {
			err = n.Request(srv.url("/cb"), nil, httpclient.MethodGet, "")
		}
		must(err, "Request")
	}
	pumpUntil := func(d time.Duration, until func() bool) bool {
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			n.Process()
			if until != nil && until() {
				return true
			}
			time.Sleep(100 * time.Microsecond)
		}
		return false
	}
	orphanOnce := func(what string) bool {
		t.Helper()
		request()
		got := false
		if !pumpUntil(10*time.Second, func() bool {
			select {
			case <-fired:
				got = true
				return true
			default:
				return false
			}
		}) {
			errorf("%s: the callback was not called (completions %d)", what, completions)
			return false
		}
		_ = got
		if n.busy() {
			errorf("%s: busy right after the %s from the worker", what, act)
		}
		if s := n.HTTPClientStatus(); s != httpclient.StatusDisconnected {
			errorf("%s: status %v right after the %s from the worker", what, s, act)
		}
		return true
	}
	if !orphanOnce("first") {
		n.Close()
		return
	}
	if twice {
		if !orphanOnce("second") {
			n.Close()
			return
		}
	}
	for _, op := range owner {
		switch op {
		case "Request":
			expected++
			request()
			if !pumpUntil(10*time.Second, func() bool { return completions >= expected }) {
				errorf("Request after the orphan: no completion")
			}
		case "Do":
			var c Completion
			var err error
			if kind == "upload-read" {
				c, err = n.DoStream(context.Background(), srv.url("/cb"), nil, httpclient.MethodPost, &lcSlowReader{left: 16 << 10}, 16<<10)
			} else {
				c, err = n.Do(context.Background(), srv.url("/cb"), nil, httpclient.MethodGet, nil)
			}
			if err != nil || c.Result != ResultSuccess {
				errorf("Do after the orphan: %v %v", c.Result, err)
			}
		case "Process":
			pumpUntil(3*time.Millisecond, nil)
		case "CancelRequest":
			n.CancelRequest()
		case "Close":
			n.Close()
		case "getters":
			_ = n.BodySize() + n.DownloadedBytes() + n.UploadedBytes() + n.UploadSize()
			_, _, _ = n.HTTPClientStatus(), n.IsUsingThreads(), n.KeepAlive()
			_, _ = n.Timeout(), n.DownloadFile()
			if n.busy() {
				errorf("getters: busy")
			}
		case "SetKeepAlive":
			keep = !keep
			must(n.SetKeepAlive(keep), "SetKeepAlive")
		case "SetTimeout":
			must(n.SetTimeout(5*time.Second), "SetTimeout")
		case "SetUseThreads":
			must(n.SetUseThreads(true), "SetUseThreads")
		case "SetDownloadFile":
			must(n.SetDownloadFile(""), "SetDownloadFile")
		case "SetBodyWriter":
			if kind == "body-writer" {
				must(n.SetBodyWriter(lcWriter{hook}), "SetBodyWriter")
			} else {
				must(n.SetBodyWriter(nil), "SetBodyWriter")
			}
		}
	}
	// the node is usable
	expected++
	request()
	if !pumpUntil(10*time.Second, func() bool { return completions >= expected }) {
		errorf("final request: no completion")
	}
	pumpUntil(2*time.Millisecond, nil)
	if completions != expected {
		errorf("%d completions, want %d", completions, expected)
	}
	n.Close()
	n.mu.Lock()
	o := n.orphan
	n.mu.Unlock()
	if o != nil {
		errorf("orphan left after Close")
	}
}

// TestLifecycleTimeoutRaces: under use_threads, a timeout set to about
// the request's own duration, racing CancelRequest and the completion; Do's
// context canceled at about the completion. At most one completion, none
// after CancelRequest, only RESULT_SUCCESS or RESULT_TIMEOUT, and the next
// request on the (kept) connection succeeds.
func TestLifecycleTimeoutRaces(t *testing.T) {
	seed := lcSeed(t)
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	ignore := goleak.IgnoreCurrent()
	srv := lcServer()
	iters := drive.EnvInt("LIFECYCLE_ITERS", 150)
	for _, keep := range []bool{false, true} {
		n := New()
		watchPhases(t, n)
		if err := n.SetUseThreads(true); err != nil {
			t.Fatal(err)
		}
		if err := n.SetKeepAlive(keep); err != nil {
			t.Fatal(err)
		}
		var got []Result
		n.OnRequestCompleted(func(res Result, code int, h []string, body []byte) {
			got = append(got, res)
			if res == ResultSuccess && string(body) != "hello-ok" {
				t.Errorf("body %q", body)
			}
			if res != ResultSuccess && res != ResultTimeout {
				t.Errorf("keep=%v: result %v (%v)", keep, res, n.LastError())
			}
		})
		lcBounded(t, 60*time.Second, "threads races", func() {
			for i := 0; i < iters; i++ {
				d := time.Duration(100+rng.Intn(1500)) * time.Microsecond
				_ = n.SetTimeout(d)
				got = got[:0]
				if err := n.Request(srv.url("/ok"), nil, httpclient.MethodGet, ""); err != nil {
					t.Errorf("Request: %v", err)
					continue
				}
				wait := time.Duration(rng.Intn(2500)) * time.Microsecond
				end := time.Now().Add(wait)
				for time.Now().Before(end) {
					if rng.Intn(2) == 0 {
						n.Process()
					}
					runtime.Gosched()
				}
				before := len(got)
				if rng.Intn(2) == 0 {
					n.CancelRequest()
				} else {
					n.Close()
				}
				for range 5 {
					n.Process()
					time.Sleep(100 * time.Microsecond)
				}
				if len(got) != before {
					t.Errorf("iter %d: completion %v after CancelRequest", i, got[before:])
				}
				if len(got) > 1 {
					t.Errorf("iter %d: %d completions %v", i, len(got), got)
				}
				// the node (and a kept connection) is usable
				_ = n.SetTimeout(0)
				got = got[:0]
				if err := n.Request(srv.url("/ok"), nil, httpclient.MethodGet, ""); err != nil {
					t.Errorf("Request: %v", err)
					continue
				}
				for end := time.Now().Add(10 * time.Second); len(got) == 0 && time.Now().Before(end); {
					n.Process()
					time.Sleep(100 * time.Microsecond)
				}
				if len(got) != 1 || got[0] != ResultSuccess {
					t.Errorf("iter %d: next request: %v (%v)", i, got, n.LastError())
				}
			}
		})
		n.Close()

		// Do: ctx canceled at about the completion, with a timeout too.
		lcBounded(t, 60*time.Second, "Do races", func() {
			for i := 0; i < iters; i++ {
				_ = n.SetTimeout(time.Duration(200+rng.Intn(2000)) * time.Microsecond)
				ctx, cancel := context.WithCancel(context.Background())
				fired := make(chan struct{})
				tm := time.AfterFunc(time.Duration(rng.Intn(1500))*time.Microsecond, func() { defer close(fired); cancel() })
				c, err := n.Do(ctx, srv.url("/ok"), nil, httpclient.MethodGet, nil)
				if !tm.Stop() {
					<-fired
				}
				cancel()
				switch {
				case err == nil:
					if c.Result != ResultSuccess || string(c.Body) != "hello-ok" {
						t.Errorf("Do %d: %+v", i, c)
					}
				case errors.Is(err, context.Canceled):
					if c.Result != 0 || c.Body != nil || c.ResponseCode != 0 {
						t.Errorf("Do %d: canceled with %+v", i, c)
					}
				case errors.Is(err, ResultTimeout):
				default:
					t.Errorf("Do %d: %v %v", i, c.Result, err)
				}
				_ = n.SetTimeout(0)
				c, err = n.Do(context.Background(), srv.url("/ok"), nil, httpclient.MethodGet, nil)
				if err != nil || string(c.Body) != "hello-ok" {
					t.Errorf("Do %d: next: %v %v", i, c.Result, err)
				}
			}
		})
		n.Close()
	}
	srv.close()
	goleak.VerifyNone(t, ignore)
}

// TestLifecycleCancelAfterWorkerFinished: use_threads, download_file in
// atomic mode. The worker finished the request and queued its completion;
// a CancelRequest before the next Process drops that completion (COMPAT
// Q6) — and leaves download_file as it was, as every canceled download
// does: the file is committed only as a completion is delivered. In place,
// the body is written to download_file as it comes, and stays. The test
// waits for the queued completion before it cancels.
func TestLifecycleCancelAfterWorkerFinished(t *testing.T) {
	srv := lcServer()
	defer srv.close()
	for _, inPlace := range []bool{false, true} {
		t.Run(map[bool]string{false: "atomic", true: "in place"}[inPlace], func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "out")
			require.NoError(t, os.WriteFile(target, []byte("old good file"), 0o644))
			n := New()
			defer n.Close()
			require.NoError(t, n.SetUseThreads(true))
			require.NoError(t, n.SetDownloadFile(target))
			require.NoError(t, n.SetDownloadInPlace(inPlace))
			completions := 0
			n.OnRequestCompleted(func(Result, int, []string, []byte) { completions++ })
			require.NoError(t, n.Request(srv.url("/ok"), nil, httpclient.MethodGet, ""))
			queued := func() bool { n.mu.Lock(); defer n.mu.Unlock(); return len(n.queue) > 0 }
			require.Eventually(t, queued, 10*time.Second, 100*time.Microsecond, "the worker did not finish")
			n.CancelRequest() // the owner's frame: before the Process that would deliver
			for range 10 {
				n.Process()
			}
			assert.Zero(t, completions)
			want := "old good file"
			if inPlace {
				want = string(lcWant("/ok"))
			}
			assert.Equal(t, want, string(fileBytes(t, target)))
			assert.Equal(t, []string{"out"}, dirEntries(t, dir), "no temporary file left")

			// Delivered, the same request replaces the file.
			require.NoError(t, n.Request(srv.url("/ok"), nil, httpclient.MethodGet, ""))
			require.Eventually(t, func() bool { n.Process(); return completions == 1 }, 10*time.Second, 100*time.Microsecond)
			assert.Equal(t, string(lcWant("/ok")), string(fileBytes(t, target)))
		})
	}
}

// TestLifecycleResponseFuncAfterJarCancel: the cookie jar's SetCookies
// calls CancelRequest or Close (allowed); the response function is not
// called after it (nothing of the request happens after a cancel), in the
// Process and use_threads drivers.
func TestLifecycleResponseFuncAfterJarCancel(t *testing.T) {
	srv := lcServer()
	defer srv.close()
	for _, threads := range []bool{false, true} {
		for _, act := range []string{"cancel", "close"} {
			t.Run(fmt.Sprintf("threads=%v/%s", threads, act), func(t *testing.T) {
				n := New()
				defer n.Close()
				if err := n.SetUseThreads(threads); err != nil {
					t.Fatal(err)
				}
				var mu sync.Mutex
				canceled := false
				if err := n.SetCookieJar(&lcJar{set: func() {
					if act == "cancel" {
						n.CancelRequest()
					} else {
						n.Close()
					}
					mu.Lock()
					canceled = true
					mu.Unlock()
				}}); err != nil {
					t.Fatal(err)
				}
				after := lcResponsesAfterCancel(t, n, srv.url("/cb"), func() bool { mu.Lock(); defer mu.Unlock(); return canceled })
				mu.Lock()
				defer mu.Unlock()
				if !canceled {
					t.Fatal("jar not called")
				}
				if len(after) > 0 {
					t.Errorf("the response function was called %d time(s) after %s from the cookie jar", len(after), act)
				}
			})
		}
	}
}

// lcResponsesAfterCancel requests url on n with a response function that
// records the codes it is given once canceled() holds, calls Process every
// 100 µs until canceled() and the node is free (5 s at most), then closes
// the node (joining its worker) and returns those codes.
func lcResponsesAfterCancel(t *testing.T, n *HTTPRequest, url string, canceled func() bool) []int {
	t.Helper()
	var mu sync.Mutex
	var codes []int
	require.NoError(t, n.SetResponseFunc(func(code int, _ []string) error {
		if canceled() {
			mu.Lock()
			codes = append(codes, code)
			mu.Unlock()
		}
		return nil
	}))
	require.NoError(t, n.Request(url, nil, httpclient.MethodGet, ""))
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); {
		n.Process()
		if canceled() && !n.busy() {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	n.Close()
	mu.Lock()
	defer mu.Unlock()
	return codes
}

// TestLifecycleResponseFuncAfterProxyCancelOnRedirect: the proxy
// function, called for the redirect hop, calls CancelRequest; the response
// function is not called with the 302 (the canceled hop is not a §2.8.1.6
// failed connection that makes the 3xx the final response).
func TestLifecycleResponseFuncAfterProxyCancelOnRedirect(t *testing.T) {
	srv := lcServer()
	defer srv.close()
	for _, threads := range []bool{false, true} {
		t.Run(fmt.Sprintf("threads=%v", threads), func(t *testing.T) {
			n := New()
			defer n.Close()
			if err := n.SetUseThreads(threads); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			calls, canceled := 0, false
			if err := n.SetProxyFunc(func(*url.URL) (*url.URL, error) {
				mu.Lock()
				calls++
				c := calls
				mu.Unlock()
				if c == 2 { // the first redirect hop
					n.CancelRequest()
					mu.Lock()
					canceled = true
					mu.Unlock()
				}
				return nil, nil
			}); err != nil {
				t.Fatal(err)
			}
			codes := lcResponsesAfterCancel(t, n, srv.url("/redir"), func() bool { mu.Lock(); defer mu.Unlock(); return canceled })
			mu.Lock()
			defer mu.Unlock()
			if !canceled {
				t.Fatal("proxy function not called for the hop")
			}
			if len(codes) > 0 {
				t.Errorf("the response function was called after CancelRequest from the proxy function, with %v", codes)
			}
		})
	}
}

// TestLifecycleOwnerAndWorkerCancelOverlap: the owner's CancelRequest
// joins a worker held in the body writer, which then calls CancelRequest
// itself. The worker's cancel finds the run still active (reset clears it
// only after the join) but already dropped: it leaves the run to the
// owner's reset instead of making it an orphan that would outlive the
// owner's CancelRequest and be reset a second time.
func TestLifecycleOwnerAndWorkerCancelOverlap(t *testing.T) {
	srv := lcServer()
	defer srv.close()
	n := New()
	defer n.Close()
	if err := n.SetUseThreads(true); err != nil {
		t.Fatal(err)
	}
	in := make(chan struct{})
	once := sync.Once{}
	if err := n.SetBodyWriter(lcWriter{func() {
		first := false
		once.Do(func() { first = true })
		if first {
			close(in)
			time.Sleep(30 * time.Millisecond) // the owner's cancel is joining us now
			n.CancelRequest()
		}
	}}); err != nil {
		t.Fatal(err)
	}
	if err := n.Request(srv.url("/drip"), nil, httpclient.MethodGet, ""); err != nil {
		t.Fatal(err)
	}
	<-in
	n.CancelRequest()
	n.mu.Lock()
	o := n.orphan
	n.mu.Unlock()
	if o != nil {
		t.Errorf("after the owner's CancelRequest returned, the node still holds an orphan (phase %v) that it already reset", o.phase())
	}
	// usable
	c, err := n.Do(context.Background(), srv.url("/ok"), nil, httpclient.MethodGet, nil)
	if err != nil || c.Result != ResultSuccess {
		t.Errorf("Do: %v", err)
	}
}

// TestLifecycleOrphanDownloadFile: download_file with a callback that
// cancels on the worker mid-body (or at the head): no temporary file is left,
// the previous file is intact, in atomic and in-place modes.
func TestLifecycleOrphanDownloadFile(t *testing.T) {
	srv := lcServer()
	defer srv.close()
	for _, kind := range []string{"body-writer", "response-func", "jar-setcookies", "proxy-func"} {
		for _, inPlace := range []bool{false, true} {
			for _, act := range []string{"cancel", "close"} {
				t.Run(fmt.Sprintf("%s/inplace=%v/%s", kind, inPlace, act), func(t *testing.T) {
					dir := t.TempDir()
					target := filepath.Join(dir, "out")
					if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
						t.Fatal(err)
					}
					n := New()
					if err := n.SetUseThreads(true); err != nil {
						t.Fatal(err)
					}
					if err := n.SetDownloadInPlace(inPlace); err != nil {
						t.Fatal(err)
					}
					if err := n.SetDownloadFile(target); err != nil {
						t.Fatal(err)
					}
					var calls atomic32
					fired := make(chan struct{})
					lcInstall(t, n, kind, func() {
						if calls.add() == 3 || (kind != "body-writer" && calls.get() == 1) {
							if act == "cancel" {
								n.CancelRequest()
							} else {
								n.Close()
							}
							close(fired)
						}
					})
					path := "/big"
					if kind == "jar-setcookies" {
						path = "/cb"
					}
					if err := n.Request(srv.url(path), nil, httpclient.MethodGet, ""); err != nil {
						t.Fatal(err)
					}
					completions := 0
					n.OnRequestCompleted(func(Result, int, []string, []byte) { completions++ })
					for end := time.Now().Add(5 * time.Second); time.Now().Before(end); {
						n.Process()
						select {
						case <-fired:
							end = time.Time{}
						default:
						}
						time.Sleep(100 * time.Microsecond)
					}
					for range 20 {
						n.Process()
						time.Sleep(100 * time.Microsecond)
					}
					n.Close()
					ents, _ := os.ReadDir(dir)
					var names []string
					for _, e := range ents {
						names = append(names, e.Name())
					}
					b, _ := os.ReadFile(target)
					if completions != 0 {
						t.Errorf("%d completions", completions)
					}
					if !inPlace && (len(names) != 1 || string(b) != "old") {
						t.Errorf("atomic mode: dir %v, target %d bytes", names, len(b))
					}
					if inPlace && len(names) != 1 {
						t.Errorf("in place: dir %v", names)
					}
				})
			}
		}
	}
}

type atomic32 struct {
	mu sync.Mutex
	n  int
}

func (a *atomic32) add() int { a.mu.Lock(); defer a.mu.Unlock(); a.n++; return a.n }
func (a *atomic32) get() int { a.mu.Lock(); defer a.mu.Unlock(); return a.n }
