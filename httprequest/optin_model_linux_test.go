package httprequest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
)

// The opt-ins of §7.2 against the model of Godot's HTTPRequest: the same
// random exchanges as TestNodeGodotModel and TestNodeGodotModelBlocking,
// with one option on (or a few together). Each must leave the completion
// (result, code, headers, body or file) and the getters after it
// (get_downloaded_bytes, get_body_size, get_http_client_status) as the model
// has them; only what the option's doc announces may differ: the amounts per
// frame (drain per step), where the body goes (a body writer: the
// completion's body is then empty), the Accept-Encoding line (brotli), the
// partial file left by a failed or canceled download (in place,
// keep_partial_download: compared with Godot's), the Cookie line (a jar),
// connection reuse (keep-alive).
//
// What the comparison leaves out, and why:
//   - drain per step, Process: the frames are compared only once both have
//     completed; a reset is turned into a FIN and no case is canceled (the
//     draining node has read what the model meets a reset or a cancel
//     with); after a failure mid-body the downloaded count is what the
//     larger steps had read when the failure came (timing), and the partial
//     file is not compared;
//   - TestOptinKeepAliveSequence with the Process driver is compared with a
//     new node without options (the blocking model is use_threads' loop,
//     whose outcome may differ from non-blocking reads').
//
// GDHTTP_OPTIN_N sets the number of cases, GDHTTP_MODEL_SEED the seed.

// optinSet is the opt-ins a run turns on.
type optinSet struct {
	drain       bool // SetDrainPerStep
	keepAlive   bool // SetKeepAlive
	brotli      bool // SetAcceptBrotli
	inPlace     bool // SetDownloadInPlace
	writer      bool // SetBodyWriter with a bytes.Buffer
	progress    bool // OnProgress
	jar         bool // SetCookieJar (net/http/cookiejar)
	respFunc    bool // SetResponseFunc with a function that returns nil
	keepPartial bool // SetKeepPartialDownload
	fileWriter  bool // SetBodyWriter with an *os.File (spliced from the socket on Linux when it is the only destination and the body is not decoded)
	appendFile  bool // SetAppendToDownloadFile (no response is a 206: every one overwrites as usual)
	envProxy    bool // SetProxyFromEnvironment, HTTP_PROXY set to a dead port (loopback is never proxied; SetHTTPProxy wins)
}

func (o optinSet) String() string {
	var on []string
	for _, f := range []struct {
		on   bool
		name string
	}{{o.drain, "drain_per_step"}, {o.keepAlive, "keep_alive"}, {o.brotli, "brotli"}, {o.inPlace, "download_in_place"},
		{o.writer, "body_writer"}, {o.progress, "on_progress"}, {o.jar, "cookie_jar"},
		{o.respFunc, "response_func"}, {o.fileWriter, "body_writer_file"}, {o.appendFile, "append_to_download_file"}, {o.keepPartial, "keep_partial_download"}, {o.envProxy, "proxy_from_environment"}} {
		if f.on {
			on = append(on, f.name)
		}
	}
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, "+")
}

// randomOptins is one option (most of the time) or a random combination.
func randomOptins(r *rand.Rand) optinSet {
	var o optinSet
	set := func(k int) {
		switch k {
		case 0:
			o.drain = true
		case 1:
			o.keepAlive = true
		case 2:
			o.brotli = true
		case 3:
			o.inPlace = true
		case 4:
			o.writer = true
		case 5:
			o.progress = true
		case 6:
			o.jar = true
		case 7:
			o.respFunc = true
		case 8:
			o.keepPartial = true
		case 9:
			o.fileWriter = true
		case 10:
			o.appendFile = true
		default:
			o.envProxy = true
		}
	}
	if r.IntN(3) > 0 {
		set(r.IntN(12))
		return o
	}
	for range 2 + r.IntN(5) {
		set(r.IntN(12))
	}
	o.writer = o.writer && !o.fileWriter // one body writer
	return o
}

// modelSide is header lines the model sends before the case's (none: the
// options add nothing to a request the model does not; brotli's
// Accept-Encoding is swapped in by the caller).
func (o optinSet) modelSide() []string { return nil }

// optinObs records what the options let the test see: the body writer's
// bytes and the progress callback's values.
type optinObs struct {
	opts          optinSet
	sink          *bytes.Buffer
	sinkFile      *os.File
	calls         int
	calledNow     bool
	wire, decoded int64
	bad           string
	resps         []Completion // the response function's calls (code, headers)
}

// apply turns opts on in n.
func (o optinSet) apply(t testing.TB, n *HTTPRequest) *optinObs {
	obs := &optinObs{opts: o}
	if o.drain {
		require.NoError(t, n.SetDrainPerStep(true))
	}
	if o.keepAlive {
		require.NoError(t, n.SetKeepAlive(true))
	}
	if o.brotli {
		require.NoError(t, n.SetAcceptBrotli(true))
	}
	if o.inPlace {
		require.NoError(t, n.SetDownloadInPlace(true))
	}
	if o.writer {
		obs.sink = new(bytes.Buffer)
		require.NoError(t, n.SetBodyWriter(obs.sink))
	}
	if o.fileWriter {
		f, err := os.Create(filepath.Join(t.TempDir(), "writer"))
		require.NoError(t, err)
		t.Cleanup(func() { _ = f.Close() })
		obs.sinkFile = f
		require.NoError(t, n.SetBodyWriter(f))
	}
	if o.progress {
		n.OnProgress(func(wire, decoded int64) {
			obs.calls++
			obs.calledNow = true
			obs.wire, obs.decoded = wire, decoded
		})
	}
	if o.respFunc {
		require.NoError(t, n.SetResponseFunc(func(code int, headers []string) error {
			obs.resps = append(obs.resps, Completion{ResponseCode: code, Headers: headers})
			return nil
		}))
	}
	if o.keepPartial {
		require.NoError(t, n.SetKeepPartialDownload(true))
	}
	if o.appendFile {
		require.NoError(t, n.SetAppendToDownloadFile(true))
	}
	if o.envProxy {
		require.NoError(t, n.SetProxyFromEnvironment(true))
	}
	if o.jar {
		jar, err := cookiejar.New(nil)
		require.NoError(t, err)
		require.NoError(t, n.SetCookieJar(jar))
	}
	return obs
}

// reset forgets what the previous request showed (a node used again).
func (obs *optinObs) reset() {
	if obs.sink != nil {
		obs.sink.Reset()
	}
	if obs.sinkFile != nil {
		_ = obs.sinkFile.Truncate(0)
		_, _ = obs.sinkFile.Seek(0, io.SeekStart)
	}
	obs.calls, obs.calledNow, obs.wire, obs.decoded, obs.bad, obs.resps = 0, false, 0, 0, "", nil
}

// frame checks a Process frame: a progress call in it reports the
// getter's value of that moment (OnProgress: wireBytes is DownloadedBytes).
// Without drain per step the node's frames are the model's, so its
// decodedBytes is the model's final_body_size of the same frame.
func (obs *optinObs) frame(n *HTTPRequest, g *godotNode) string {
	defer func() { obs.calledNow = false }()
	if obs.opts.progress && obs.calledNow && obs.wire != n.DownloadedBytes() {
		return fmt.Sprintf("OnProgress said %d wire bytes, DownloadedBytes() is %d", obs.wire, n.DownloadedBytes())
	}
	if obs.opts.progress && obs.calledNow && !obs.opts.drain && !g.done && obs.decoded != g.finalSize {
		return fmt.Sprintf("OnProgress said %d decoded bytes, the model's final_body_size is %d", obs.decoded, g.finalSize)
	}
	return ""
}

// withoutCookies drops the Cookie lines a cookie jar adds (O1: meant to
// change the request) from request heads.
func withoutCookies(heads []string) []string {
	out := make([]string, len(heads))
	for i, h := range heads {
		for {
			at := strings.Index(h, "\r\nCookie: ")
			if at < 0 {
				break
			}
			end := strings.Index(h[at+2:], "\r\n")
			h = h[:at] + h[at+2+end:]
		}
		out[i] = h
	}
	return out
}

// expect is the completion the node must deliver where the model delivers
// want: with a body writer the body goes to the writer and the
// completion's body is empty (SetBodyWriter).
func (o optinSet) expect(want Completion) Completion {
	if o.writer || o.fileWriter {
		want.Body = nil
	}
	return want
}

// delivered is the body the model delivered: to download_file or in the
// completion.
func (g *godotNode) delivered(mc nodeModelCase) []byte {
	if mc.toFile {
		return g.file
	}
	return g.body
}

// check compares what the options deliver with the model once both are
// done: the body writer's bytes and the last progress values after a
// success, the partial file left in place after a failure (§2.9.3: Godot
// stores each chunk as it comes and leaves the file when the request
// fails or is canceled).
func (obs *optinObs) check(n *HTTPRequest, g *godotNode, mc nodeModelCase, file string, got []Completion) string {
	if !g.done {
		return ""
	}
	success := !g.canceled && g.got.Result == ResultSuccess && len(got) == 1
	if obs.opts.writer && success && !bytes.Equal(obs.sink.Bytes(), g.delivered(mc)) {
		return fmt.Sprintf("the body writer got %d bytes %.80q, the model delivered %d %.80q", obs.sink.Len(), obs.sink.Bytes(), len(g.delivered(mc)), g.delivered(mc))
	}
	if obs.opts.fileWriter && success {
		b, err := os.ReadFile(obs.sinkFile.Name())
		if err != nil || !bytes.Equal(b, g.delivered(mc)) {
			return fmt.Sprintf("the body writer's file got %d bytes %.80q (%v), the model delivered %d %.80q", len(b), b, err, len(g.delivered(mc)), g.delivered(mc))
		}
	}
	if obs.opts.progress && success && g.downloaded > 0 {
		if obs.wire != g.downloaded || obs.decoded != int64(len(g.delivered(mc))) {
			return fmt.Sprintf("the last OnProgress was (%d, %d), the model downloaded %d and delivered %d", obs.wire, obs.decoded, g.downloaded, len(g.delivered(mc)))
		}
	}
	if obs.opts.respFunc {
		// Once per request for the response not followed, with its code
		// and headers; none when no response came (SetResponseFunc).
		switch {
		case len(obs.resps) > 1:
			return fmt.Sprintf("the response function was called %d times", len(obs.resps))
		case len(got) == 1 && got[0].ResponseCode != 0 && len(obs.resps) == 0:
			return "the response function was not called for the completion's response"
		case len(got) == 1 && got[0].ResponseCode != 0 && (obs.resps[0].ResponseCode != got[0].ResponseCode || !slices.Equal(nilIfEmpty(obs.resps[0].Headers), got[0].Headers)):
			return fmt.Sprintf("the response function was told %d %q, the completion has %d %q", obs.resps[0].ResponseCode, obs.resps[0].Headers, got[0].ResponseCode, got[0].Headers)
		}
	}
	if (obs.opts.inPlace || obs.opts.keepPartial) && !obs.opts.drain && mc.toFile && !success && !mc.cantOpen {
		// (With drain per step the partial file is what the larger steps
		// stored before the failure: the amounts per step differ.)
		b, err := os.ReadFile(file)
		switch {
		case g.opened && (err != nil || !bytes.Equal(b, g.file)):
			return fmt.Sprintf("in place, the failed download left %d bytes (%v), Godot's file holds %d", len(b), err, len(g.file))
		case !g.opened && !errors.Is(err, fs.ErrNotExist):
			return fmt.Sprintf("in place, download_file was written (%d bytes, %v), Godot never opens it", len(b), err)
		}
	}
	return ""
}

// setOptinProxyEnv points the environment's proxies at a port nobody
// listens on: a node with proxy_from_environment that used them for a
// request (none of the cases may: loopback targets go direct, and a
// SetHTTPProxy proxy wins) would fail to connect.
func setOptinProxyEnv(t *testing.T) {
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"} {
		t.Setenv(k, "http://127.0.0.1:1")
	}
	for _, k := range []string{"NO_PROXY", "no_proxy", "REQUEST_METHOD"} {
		t.Setenv(k, "")
	}
}

// optinRuns is the seed and number of cases of an opt-in test
// (GDHTTP_MODEL_SEED, GDHTTP_OPTIN_N).
func optinRuns(n int) (uint64, int) {
	return uint64(drive.EnvInt("GDHTTP_MODEL_SEED", 11)), drive.EnvInt("GDHTTP_OPTIN_N", n)
}

// TestOptinNodeGodotModel is TestNodeGodotModel (Process, frame by frame)
// with random opt-ins on.
func TestOptinNodeGodotModel(t *testing.T) {
	setOptinProxyEnv(t)
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	conns := make(chan sideConn, 8)
	go acceptSides(ln, conns)
	port := ln.Addr().(*net.TCPAddr).Port
	seed, n := optinRuns(40)
	r := rand.New(rand.NewPCG(seed, 5))
	for i := range n {
		mc := genNodeModelCase(t, r, port)
		mc.id = 100000 + i
		opts := randomOptins(r)
		if opts.drain {
			// A reset behind body bytes: the model, reading one chunk a
			// frame, meets it with bytes unread (R4); the draining node has
			// read them all before it came. That is the timing the option
			// changes, not a difference: the drained cases end with a FIN.
			for k := range mc.hops {
				if mc.hops[k].end == endRST {
					mc.hops[k].end = endFIN
				}
			}
		}
		if r.IntN(5) == 0 && !opts.drain {
			// With drain per step the node may complete in a frame where
			// the model has not: a cancel then ends only the model.
			mc.cancelAt = 1 + r.IntN(20)
		}
		t.Run(strconv.Itoa(i)+"/"+opts.String(), func(t *testing.T) { runNodeModelCase(t, port, conns, mc, uint64(i), opts) })
	}
}

// holdAfter says whether a server may keep the connection open after
// writing resp to a request with method m: the response is one complete
// final response, framed by a single Content-Length or by chunked alone,
// without "Connection: close" and with nothing after it — read the same
// by Godot and net/http, so that both clients complete without a FIN.
func holdAfter(resp string, m httpclient.Method) bool {
	br := bufio.NewReader(strings.NewReader(resp))
	res, err := http.ReadResponse(br, &http.Request{Method: m.String()})
	if err != nil || res.StatusCode < 200 || res.StatusCode == 204 || res.StatusCode == 304 || res.Close || res.ProtoMinor != 1 {
		// 204 and 304 have no body for net/http, Godot waits for a
		// declared one (§7.4).
		return false
	}
	if _, err := io.ReadAll(res.Body); err != nil || br.Buffered() > 0 {
		return false
	}
	head := strings.ToLower(resp[:strings.Index(resp, "\r\n\r\n")+2])
	cl := strings.Count(head, "\ncontent-length: ")
	te := strings.Count(head, "\ntransfer-encoding: ")
	switch {
	case cl == 1 && te == 0:
		return !strings.Contains(head, "content-length: 0,") && res.ContentLength >= 0
	case cl == 0 && te == 1:
		// After HEAD a chunked head leaves Godot in BODY waiting for
		// chunks (§1.8.6): never held.
		return m != httpclient.MethodHead && strings.Contains(head, "\ntransfer-encoding: chunked\r")
	}
	return false
}

// blockingServer answers the requests of the current case in order, several
// per connection: after a response holdAfter allows it waits for the next
// request on the same connection, otherwise it ends the connection with a
// FIN (as TestNodeGodotModelBlocking's server does after every response).
type blockingServer struct {
	mu     sync.Mutex
	mc     nodeModelCase
	next   int
	heads  []string
	conns  int
	reused int // requests read on a connection that had answered one
}

func (s *blockingServer) serve(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(maxWait))
	s.mu.Lock()
	s.conns++
	s.mu.Unlock()
	for k := 0; ; k++ {
		req, err := readRequest(conn)
		if err != nil {
			return
		}
		s.mu.Lock()
		i, mc := s.next, s.mc
		s.next++
		s.heads = append(s.heads, string(req))
		if k > 0 {
			s.reused++
		}
		s.mu.Unlock()
		if i >= len(mc.hops) {
			return
		}
		resp := mc.hops[i].resp
		if _, err := conn.Write([]byte(resp)); err != nil {
			return
		}
		if !holdAfter(resp, mc.method) {
			_ = conn.(*net.TCPConn).CloseWrite()
			_, _ = io.Copy(io.Discard, conn)
			return
		}
	}
}

// start begins a run of mc and returns the request heads of the one before.
func (s *blockingServer) start(mc nodeModelCase) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.heads
	s.mc, s.next, s.heads = mc, 0, nil
	return prev
}

// configureCaseNode sets the case's properties on a node used before
// (caseNode for a node that lives across cases): it undoes what the last
// case set.
var proxied = map[*HTTPRequest]bool{} // the proxy configureCaseNode set on a node

func configureCaseNode(t *testing.T, n *HTTPRequest, port int, mc nodeModelCase) string {
	// The proxy only when it changes: setting it drops a kept connection.
	if mc.proxy != proxied[n] {
		if mc.proxy {
			n.SetHTTPProxy("127.0.0.1", port)
		} else {
			n.SetHTTPProxy("", -1)
		}
		proxied[n] = mc.proxy
	}
	require.NoError(t, n.SetDownloadChunkSize(mc.chunk))
	require.NoError(t, n.SetBodySizeLimit(mc.limit))
	require.NoError(t, n.SetMaxRedirects(mc.maxRedirects))
	n.SetAcceptGzip(!mc.noGzip)
	file := filepath.Join(t.TempDir(), "download")
	if mc.cantOpen {
		file = filepath.Join(t.TempDir(), "missing", "download")
	}
	if mc.toFile {
		require.NoError(t, n.SetDownloadFile(file))
	} else {
		require.NoError(t, n.SetDownloadFile(""))
	}
	return file
}

// blockingCases are random cases for the blocking drivers, as
// TestNodeGodotModelBlocking makes them.
func blockingCases(t *testing.T, r *rand.Rand, port, n int) []nodeModelCase {
	var out []nodeModelCase
	for len(out) < n {
		mc := genNodeModelCase(t, r, port)
		for k := range mc.hops {
			mc.hops[k].end = endFIN
		}
		if last := mc.hops[len(mc.hops)-1].resp; mc.method == httpclient.MethodHead && strings.Contains(strings.ToLower(last), "transfer-encoding: chunked") {
			continue // a race in Godot's blocking loop too (TestNodeGodotModelBlocking)
		}
		out = append(out, mc)
	}
	return out
}

// genReusableResponse is a response a server may follow with another on
// the same connection: HTTP/1.1, a final status, framed by Content-Length
// or chunked, sometimes gzip or deflate, sometimes a header Godot reads
// oddly but frames the same; nothing after it.
func genReusableResponse(t testing.TB, r *rand.Rand) string {
	var b strings.Builder
	b.WriteString([]string{"HTTP/1.1 200 OK\r\nX-A: 1\r\n", "HTTP/1.1 404 Not Found\r\n", "HTTP/1.1 201 Created\r\n", "HTTP/1.1 500\r\n"}[r.IntN(4)])
	if r.IntN(3) == 0 {
		b.WriteString([]string{"Connection: keep-alive\r\n", "X-U: h\u00e9\r\n", "Set-Cookie: a=1\r\n", "Content-Location: /cl\r\n", "X: " + strings.Repeat("v", 200) + "\r\n"}[r.IntN(5)])
	}
	body := make([]byte, r.IntN(2500))
	for i := range body {
		body[i] = "alpha beta gamma\n"[r.IntN(17)]
	}
	switch r.IntN(3) {
	case 0:
		b.WriteString("Content-Encoding: gzip\r\n")
		body = gzipBytes(t, body)
	case 1:
		b.WriteString("Content-Encoding: deflate\r\n")
		body = zlibBytes(t, body)
	}
	if len(body) > 0 && r.IntN(5) == 0 {
		// A body the node stops reading part-way (decompress failure,
		// or a limit below): the connection must not be reused then.
		body[r.IntN(len(body))] ^= 0x20
	}
	if r.IntN(2) == 0 {
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
		return b.String()
	}
	b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
	for len(body) > 0 {
		k := min(len(body), 1+r.IntN(900))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", k, body[:k])
		body = body[k:]
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

// runOptinBlocking runs mc in the model (blocking, as _thread_func) and
// through n with driver d, and compares: the request heads, the
// completion, the counters, the file and what the options delivered.
func runOptinBlocking(t *testing.T, s *blockingServer, port int, d driverCase, n *HTTPRequest, obs *optinObs, mc nodeModelCase, label string) {
	t.Helper()
	s.start(mc)
	var g *godotNode
	if d.Driver == drive.Process {
		// The blocking model is Godot's use_threads loop; the Process
		// driver's reads are non-blocking, where Godot's outcome may
		// differ (a FIN seen by a blocking read or not, §1.10). Its
		// reference is a new node with no option on, driven the same way.
		g = referenceNode(t, d, port, mc)
	} else {
		g = runBlockingModel(t, port, mc)
	}
	modelHeads := s.start(mc)
	file := configureCaseNode(t, n, port, mc)
	obs.reset()
	o := d.run(t, n, mc.url(port), mc.headers, mc.method, []byte(mc.body))
	status := n.HTTPClientStatus() // DISCONNECTED, kept connection or not (TestKeepAliveStatusAfterCompletion)
	nodeHeads := slices.Clone(s.start(mc))
	if obs.opts.brotli {
		for i := range modelHeads {
			modelHeads[i] = strings.Replace(modelHeads[i], "\r\n"+acceptGzipHeader+"\r\n", "\r\n"+acceptGzipBr+"\r\n", 1)
		}
	}
	fail := func(what string) {
		t.Helper()
		t.Fatalf("%s %s: %s\noptions: %v\ncase: %v\nnode:  %+v (%v), downloaded %d, body size %d, status %v\nmodel: %+v, downloaded %d, body size %d",
			label, d.Name, what, obs.opts, mc, o.C, o.Err, n.DownloadedBytes(), n.BodySize(), status, g.got, g.downloaded, g.bodyLen)
	}
	if obs.opts.jar {
		nodeHeads = withoutCookies(nodeHeads)
	}
	if !slices.Equal(nodeHeads, modelHeads) {
		fail(fmt.Sprintf("the request heads differ\nnode:  %q\nmodel: %q", nodeHeads, modelHeads))
	}
	if !completionEqual(o.C, obs.opts.expect(g.got)) {
		fail("completions differ")
	}
	if n.DownloadedBytes() != g.downloaded || n.BodySize() != g.bodyLen {
		fail("counters differ")
	}
	if status != httpclient.StatusDisconnected {
		// Godot's _request_done → cancel_request → client->close() (§2.9.7).
		fail(fmt.Sprintf("get_http_client_status() after the completion is %v, Godot's DISCONNECTED", status))
	}
	if msg := g.fileDiffers(mc, file); msg != "" {
		fail(msg)
	}
	if g.c == nil && (obs.opts.inPlace || obs.opts.keepPartial) && g.got.Result != ResultSuccess {
		return // the reference node leaves no partial file to compare with
	}
	if msg := obs.check(n, g, mc, file, []Completion{o.C}); msg != "" {
		fail(msg)
	}
}

// referenceNode runs mc on a new node without options and returns what it
// showed in the model's shape (completion, counters, body or file).
func referenceNode(t *testing.T, d driverCase, port int, mc nodeModelCase) *godotNode {
	n, file := caseNode(t, port, mc)
	o := d.run(t, n, mc.url(port), mc.headers, mc.method, []byte(mc.body))
	n.Close()
	g := &godotNode{done: true, got: o.C, downloaded: n.DownloadedBytes(), bodyLen: n.BodySize(), body: o.C.Body, finalSize: int64(len(o.C.Body))}
	if mc.toFile {
		b, err := os.ReadFile(file)
		g.opened, g.file, g.finalSize = err == nil, b, int64(len(b))
	}
	return g
}

// TestOptinNodeGodotModelBlocking is TestNodeGodotModelBlocking (use_threads
// and Do) with random opt-ins on, each case on a new node.
func TestOptinNodeGodotModelBlocking(t *testing.T) {
	setOptinProxyEnv(t)
	s := &blockingServer{}
	port := drive.Port(drive.Serve(t, s.serve))
	seed, cases := optinRuns(24)
	r := rand.New(rand.NewPCG(seed, 6))
	for i, mc := range blockingCases(t, r, port, cases) {
		opts := randomOptins(r)
		t.Run(strconv.Itoa(i)+"/"+opts.String(), func(t *testing.T) {
			for _, d := range []driverCase{{drive.Threads}, {drive.Do}} {
				n := newNode(t)
				obs := opts.apply(t, n)
				runOptinBlocking(t, s, port, d, n, obs, mc, "case "+strconv.Itoa(i))
				n.Close()
			}
		})
	}
}

// TestOptinKeepAliveSequence runs random cases in a row on ONE node with
// keep-alive on (and random other opt-ins), per driver, against a server
// that answers several requests per connection whenever the response
// allows it: every completion must be the model's, as on a new node.
func TestOptinKeepAliveSequence(t *testing.T) {
	setOptinProxyEnv(t)
	s := &blockingServer{}
	port := drive.Port(drive.Serve(t, s.serve))
	seed, cases := optinRuns(16)
	for di, d := range []driverCase{{drive.Process}, {drive.Threads}, {drive.Do}} {
		t.Run(d.Name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			opts := randomOptins(rand.New(rand.NewPCG(seed, 8+uint64(di))))
			opts.keepAlive = true
			n := newNode(t)
			obs := opts.apply(t, n)
			for i, mc := range blockingCases(t, r, port, cases) {
				if r.IntN(3) > 0 {
					// Mostly a response after which the connection is kept.
					resp := genReusableResponse(t, r)
					if mc.method == httpclient.MethodHead {
						// HEAD: the head alone (a chunked one only to GET, §1.8.6).
						if strings.Contains(resp, "Transfer-Encoding: chunked") {
							mc.method, mc.body = httpclient.MethodGet, ""
						} else {
							resp = resp[:strings.Index(resp, "\r\n\r\n")+4]
						}
					}
					mc.hops[len(mc.hops)-1].resp = resp
					if mc.limit >= 0 && mc.limit < 3000 && r.IntN(2) == 0 {
						mc.limit = -1
					}
				}
				runOptinBlocking(t, s, port, d, n, obs, mc, "case "+strconv.Itoa(i))
			}
			s.mu.Lock()
			t.Logf("%s with %v: %d connections, %d requests on a reused connection", d.Name, opts, s.conns, s.reused)
			s.conns, s.reused = 0, 0
			s.mu.Unlock()
		})
	}
}
