package integration

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/peers"
)

// Peer variables that internal/peers has no accessor for; they are read after
// an accessor has loaded .peers.env.
const (
	envNginxFiles = "GDHTTP_NGINX_FILES" // directory of the generated files and SHA256SUMS
	envNginxTLS6  = "GDHTTP_NGINX_TLS6"  // [::1]:port of nginx over TLS
)

// pollGap is the pause of a non-blocking driver when a call made no progress
// (a game would wait for its next frame).
const pollGap = 100 * time.Microsecond

// driveTimeout bounds every wait of a driver; the 64 MiB transfers under
// -race on a loaded machine need the margin.
const driveTimeout = 60 * time.Second

// splitAddr splits a peer's host:port into what ConnectToHost takes.
func splitAddr(t *testing.T, hostport string) (string, int) {
	t.Helper()
	host, p, err := net.SplitHostPort(hostport)
	require.NoError(t, err)
	port, err := strconv.Atoi(p)
	require.NoError(t, err)
	return host, port
}

// optionalEnv returns a peer variable that internal/peers loads but does not
// check, after accessor has loaded .peers.env (and skipped when its own peer is
// absent); it skips the test when the variable is unset.
func optionalEnv(t *testing.T, name string, accessor func(testing.TB) string) string {
	t.Helper()
	accessor(t)
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		t.Skipf("%s is not set: run scripts/peers.sh start, or scripts/test.sh", name)
	}
	return v
}

// files is nginx's generated file tree with its SHA-256 sums.
type files struct {
	dir  string
	sums map[string]string // file name → lower-case hex SHA-256
}

// nginxFiles returns the generated files ($GDHTTP_NGINX_FILES) and their sums
// from SHA256SUMS; it skips when nginx is not configured.
func nginxFiles(t *testing.T) files {
	t.Helper()
	dir := optionalEnv(t, envNginxFiles, peers.Nginx)
	f, err := os.Open(filepath.Join(dir, "SHA256SUMS"))
	require.NoError(t, err, "%s=%s", envNginxFiles, dir)
	defer f.Close()
	fs := files{dir: dir, sums: map[string]string{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(strings.TrimSpace(sc.Text()), "  ")
		if ok {
			fs.sums[name] = sum
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, fs.sums, "SHA256SUMS lists no file")
	return fs
}

// sum returns the SHA-256 that SHA256SUMS lists for name.
func (fs files) sum(t *testing.T, name string) string {
	t.Helper()
	s, ok := fs.sums[name]
	require.True(t, ok, "%s is not in SHA256SUMS", name)
	return s
}

// size returns the size of the generated file name.
func (fs files) size(t *testing.T, name string) int64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(fs.dir, name))
	require.NoError(t, err)
	return fi.Size()
}

// skipBig skips a 64 MiB transfer under -short.
func skipBig(t *testing.T, name string) {
	t.Helper()
	if testing.Short() && strings.HasPrefix(name, "64m") {
		t.Skip("64 MiB transfer skipped under -short")
	}
}

// hasHeader reports whether lines holds exactly the header line want (as the
// client stores it, §1.8.5).
func hasHeader(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// headerValue returns the value of the first header line whose name is name
// (ASCII case-insensitive), and whether there was one.
func headerValue(lines []string, name string) (string, bool) {
	for _, l := range lines {
		k, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// tap is a transparent TCP relay on loopback in front of a real peer. It
// keeps the first bytes the client sent (what went on the wire, to compare
// with Godot's request bytes) and parses the chunk framing of the one response
// the peer sends, so a test can compare what the client delivered with the
// exact chunks the server produced on that connection (nginx's chunk sizes
// depend on timing: they cannot be learnt from another fetch).
type tap struct {
	addr  string
	mu    sync.Mutex
	up    []byte // the first upLimit bytes from the client
	scan  chunkScanner
	conns int // connections relayed
}

// upLimit bounds what a tap keeps of the client's bytes.
const upLimit = 16 << 10

// upRecorder is the io.Writer that records the client's bytes of a tap.
type upRecorder struct{ tp *tap }

func (u upRecorder) Write(p []byte) (int, error) {
	u.tp.mu.Lock()
	defer u.tp.mu.Unlock()
	if room := upLimit - len(u.tp.up); room > 0 {
		u.tp.up = append(u.tp.up, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// accepted returns how many connections the tap relayed.
func (tp *tap) accepted() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.conns
}

// sent returns the first bytes the client sent through the tap.
func (tp *tap) sent() string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return string(tp.up)
}

// newTap starts a relay to target; it is stopped, and its goroutines joined,
// when the test ends.
func newTap(t *testing.T, target string) *tap {
	t.Helper()
	tp := &tap{}
	ln := drive.Relay(t, target, func(_ int, dst io.Writer, src io.Reader) {
		_, _ = io.Copy(io.MultiWriter(upRecorder{tp}, dst), src)
	}, func(_ int, dst io.Writer, src io.Reader) {
		tp.mu.Lock()
		tp.conns++
		tp.mu.Unlock()
		// Parsed before it is forwarded: once the client has a byte, so has
		// the scanner.
		_, _ = io.Copy(io.MultiWriter(tp, dst), src)
	})
	tp.addr = ln.Addr().String()
	return tp
}

// port is the port the tap listens on.
func (tp *tap) port() int {
	_, p, _ := net.SplitHostPort(tp.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Write feeds bytes from the peer to the scanner.
func (tp *tap) Write(p []byte) (int, error) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	tp.scan.feed(p)
	return len(p), nil
}

// chunkSizes returns the sizes of the chunks of the response, the last (zero)
// chunk excluded; the test fails if the framing was not complete and valid.
func (tp *tap) chunkSizes(t *testing.T) []int {
	t.Helper()
	tp.mu.Lock()
	defer tp.mu.Unlock()
	require.NoError(t, tp.scan.err, "relay: chunk framing")
	require.True(t, tp.scan.done, "relay: the last chunk was not seen")
	return append([]int(nil), tp.scan.sizes...)
}

// chunkScanner is a minimal chunk-framing scanner for the relay: the head is
// skipped, then size lines are parsed and chunk data skipped, until the last
// chunk. It only needs to read what nginx writes.
type chunkScanner struct {
	tail   uint32 // the last four bytes of the head
	inBody bool
	done   bool
	line   []byte
	skip   int // bytes of chunk data and CRLF still to skip
	sizes  []int
	err    error
}

func (cs *chunkScanner) feed(p []byte) {
	for len(p) > 0 && !cs.done && cs.err == nil {
		switch {
		case !cs.inBody:
			cs.tail = cs.tail<<8 | uint32(p[0])
			p = p[1:]
			cs.inBody = cs.tail == 0x0d0a0d0a // CR LF CR LF
		case cs.skip > 0:
			n := min(cs.skip, len(p))
			cs.skip -= n
			p = p[n:]
		default:
			c := p[0]
			p = p[1:]
			if c != '\n' {
				if len(cs.line) > 64 {
					cs.err = errors.New("relay: chunk size line too long (not a chunked body?)")
					return
				}
				cs.line = append(cs.line, c)
				continue
			}
			n, err := strconv.ParseInt(strings.TrimSpace(string(cs.line)), 16, 32)
			cs.line = cs.line[:0]
			if err != nil {
				cs.err = err
				return
			}
			if n == 0 {
				cs.done = true
				return
			}
			cs.sizes = append(cs.sizes, int(n))
			cs.skip = int(n) + 2
		}
	}
}

// clientRun drives one httpclient.Client the way a Godot game does (Poll in a
// loop, non-blocking) or in blocking mode, and records the status trace: the
// status after every call that may change it, consecutive repeats merged.
// Status changes only inside those calls and each makes at most one change
// (except ConnectToHost from a connected client, which the tests avoid), so
// the trace is the full sequence of statuses.
type clientRun struct {
	t        *testing.T
	c        *httpclient.Client
	blocking bool
	trace    []httpclient.Status
}

// newClientRun returns a driver around a new client, closed when the test
// ends.
func newClientRun(t *testing.T, blocking bool) *clientRun {
	t.Helper()
	c := httpclient.New()
	c.SetBlockingMode(blocking)
	t.Cleanup(c.Close)
	return &clientRun{t: t, c: c, blocking: blocking}
}

// note records the current status if it differs from the last one.
func (r *clientRun) note() {
	s := r.c.Status()
	if n := len(r.trace); n == 0 || r.trace[n-1] != s {
		r.trace = append(r.trace, s)
	}
}

// poller is the run's poll loop; every Poll notes the status.
func (r *clientRun) poller() drive.Poller[httpclient.Status] {
	return drive.Poller[httpclient.Status]{Blocking: r.blocking, Gap: pollGap, Wait: driveTimeout, Note: r.note}
}

// pollWhile polls while the status is one of ss and returns the last Poll
// error.
func (r *clientRun) pollWhile(ss ...httpclient.Status) error {
	r.t.Helper()
	return r.poller().While(r.t, r.c, ss...)
}

// connect starts a connection and polls until it is up or failed; it returns
// the error of the last Poll.
func (r *clientRun) connect(host string, port int, opts *httpclient.TLSOptions) error {
	r.t.Helper()
	require.NoError(r.t, r.c.ConnectToHost(host, port, opts))
	r.note()
	return r.pollWhile(httpclient.StatusResolving, httpclient.StatusConnecting)
}

// readPath is how the body is read.
type readPath int

const (
	viaChunks readPath = iota // Godot's ReadResponseBodyChunk
	viaReader                 // the zero-copy BodyReader, 16 KiB at a time
)

func (p readPath) String() string { return [...]string{"chunks", "reader"}[p] }

// response is what one request gave, as a Godot user observes it.
type response struct {
	Code     int
	Headers  []string // RawHeaders: the stored lines (§1.8.5)
	BodyLen  int64    // ResponseBodyLength (§1.11.5)
	Chunked  bool     // IsResponseChunked (§1.11.6)
	Body     []byte
	Pieces   []int // sizes of the non-empty ReadResponseBodyChunk results
	Complete bool  // BodyComplete after the body
	ReadErr  error // the BodyReader error that ended the body
	After    httpclient.Status
}

// request sends a request on the connected client, polls until the head is
// parsed and reads the body to its end with path.
func (r *clientRun) request(m httpclient.Method, url string, headers []string, body string, path readPath) response {
	r.t.Helper()
	require.Equal(r.t, httpclient.StatusConnected, r.c.Status(), "request needs CONNECTED (cause: %v)", r.c.LastError())
	require.NoError(r.t, r.c.Request(m, url, headers, body))
	r.note()
	_ = r.pollWhile(httpclient.StatusRequesting)
	resp := response{
		Code:    r.c.ResponseCode(),
		Headers: append([]string(nil), r.c.RawHeaders()...),
		BodyLen: r.c.ResponseBodyLength(),
		Chunked: r.c.IsResponseChunked(),
	}
	r.readBody(path, &resp)
	resp.After = r.c.Status()
	return resp
}

// readBody reads the current body to its end: Godot's loop (Poll, then one
// read, while the status is BODY) or BodyReader.
func (r *clientRun) readBody(path readPath, resp *response) {
	r.t.Helper()
	var body bytes.Buffer
	buf := make([]byte, 16<<10)
	br := r.c.BodyReader()
	r.poller().Body(r.t, r.c, httpclient.StatusBody, func() (progress bool) {
		switch path {
		case viaChunks:
			p := r.c.ReadResponseBodyChunk()
			if len(p) > 0 {
				body.Write(p)
				resp.Pieces = append(resp.Pieces, len(p))
				progress = true
			}
		case viaReader:
			n, err := br.Read(buf)
			body.Write(buf[:n])
			progress = n > 0
			if err != nil {
				resp.ReadErr = err
			}
		}
		r.note()
		return progress
	})
	if path == viaReader && resp.ReadErr == nil {
		_, resp.ReadErr = br.Read(buf)
	}
	resp.Body = body.Bytes()
	resp.Complete = r.c.BodyComplete()
}

// pollUntilChange polls an idle CONNECTED client until its status changes
// (the peer closed, §1.6.3.3) or d passed.
func (r *clientRun) pollUntilChange(d time.Duration) {
	r.t.Helper()
	drive.Until(d, func() bool { // a Poll per look
		if r.c.Status() != httpclient.StatusConnected {
			return true
		}
		_ = r.c.Poll()
		r.note()
		return false
	})
}

// statuses builds an expected trace.
func statuses(ss ...httpclient.Status) []httpclient.Status { return ss }

// concat joins expected traces.
func concat(parts ...[]httpclient.Status) []httpclient.Status {
	var out []httpclient.Status
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Trace fragments (§1.19).
var (
	toConnected = statuses(httpclient.StatusConnecting, httpclient.StatusConnected)
	resolved    = statuses(httpclient.StatusResolving, httpclient.StatusConnecting, httpclient.StatusConnected)
	bodyThenOK  = statuses(httpclient.StatusRequesting, httpclient.StatusBody, httpclient.StatusConnected)
	bodyThenEOF = statuses(httpclient.StatusRequesting, httpclient.StatusBody, httpclient.StatusDisconnected)
	noBody      = statuses(httpclient.StatusRequesting, httpclient.StatusConnected)
)

// modes are the two ways of driving the client.
var modes = []struct {
	name     string
	blocking bool
}{{"nonblocking", false}, {"blocking", true}}
