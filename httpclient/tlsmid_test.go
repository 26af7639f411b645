package httpclient

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// SetBlockingMode / SetReadChunkSize / Close / Abort between frames (and
// concurrently) under TLS. Godot's set_blocking_mode only sets the flag,
// read by the next read of the head or body (§1.15.1), and mbedTLS keeps its
// record state across calls whatever the mode. So with every byte arrived,
// the frames of an exchange are the same whatever mode each frame runs in.
//
// The sweeps over cut points and trickled records (TestTLSMidSwitchArrived,
// TestTLSMidSwitchCut, TestTLSMidSwitchTrickle, TestTLSMidCutFrames) take
// about 30 s whole: they run whole with GDHTTP_TLSMID=1 (GDHTTP_TLSMID_STRIDE,
// GDHTTP_TLSMID_N widen them). Every go test plays a thin slice of each
// (tmThin): a quarter of the cases, TLS 1.3 only, one seed, strides eight
// times as wide — before, they skipped, and nothing ran them.

// tmThin reports whether the sweeps play their thin slice (GDHTTP_TLSMID
// is not 1).
func tmThin() bool { return os.Getenv("GDHTTP_TLSMID") != "1" }

// tmVersions are the TLS versions a sweep plays: 1.3 and 1.2, or 1.3 in the
// thin slice.
func tmVersions() []uint16 {
	if tmThin() {
		return []uint16{tls.VersionTLS13}
	}
	return []uint16{tls.VersionTLS13, tls.VersionTLS12}
}

// tmSlice: the cases of a sweep, or every fourth of them in the thin slice.
func tmSlice[T any](cases []T) []T {
	if !tmThin() {
		return cases
	}
	var out []T
	for i := 0; i < len(cases); i += 4 {
		out = append(out, cases[i])
	}
	return out
}

// tmStride is a sweep's stride over cut points: its own, eight times that in
// the thin slice, GDHTTP_TLSMID_STRIDE when set.
func tmStride(own int) int {
	if v, err := strconv.Atoi(os.Getenv("GDHTTP_TLSMID_STRIDE")); err == nil && v > 0 {
		return v
	}
	if tmThin() {
		return own * 8
	}
	return own
}

// tmCapConn is the server's transport: after the handshake its writes are
// captured (the record bytes), so that the test writes them to the raw
// socket cut where it wants.
type tmCapConn struct {
	net.Conn
	mu      sync.Mutex
	capture bool
	buf     []byte
}

func (c *tmCapConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.capture {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

type tmEnv struct {
	ln    *net.TCPListener
	cfg   *tls.Config
	roots *x509.CertPool
}

func newTMEnv(t *testing.T, version ...uint16) *tmEnv {
	ca := ts.NewCA(t)
	v := uint16(tls.VersionTLS13)
	if len(version) > 0 {
		v = version[0]
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, "localhost")}, SessionTicketsDisabled: true,
		DynamicRecordSizingDisabled: true, MinVersion: v, MaxVersion: v}
	return &tmEnv{ln: listenLoopback(t), cfg: cfg, roots: ca.Pool()}
}

type tmServer struct {
	raw *net.TCPConn
	cc  *tmCapConn
	tc  *tls.Conn
}

// records returns the wire bytes of pieces, each one record, then a
// close_notify when notify.
func (s *tmServer) records(t *testing.T, pieces []string, notify bool) []byte {
	s.cc.mu.Lock()
	s.cc.capture, s.cc.buf = true, nil
	s.cc.mu.Unlock()
	for _, p := range pieces {
		_, err := s.tc.Write([]byte(p))
		require.NoError(t, err)
	}
	if notify {
		require.NoError(t, s.tc.CloseWrite())
		// crypto/tls's closeNotify leaves a write deadline in the past.
		require.NoError(t, s.raw.SetWriteDeadline(time.Time{}))
	}
	s.cc.mu.Lock()
	defer s.cc.mu.Unlock()
	return append([]byte(nil), s.cc.buf...)
}

// open connects c to a fresh accepted connection, sends a GET and polls
// (non-blocking) until the server has read the request head.
func (e *tmEnv) open(t *testing.T, c *Client) *tmServer {
	t.Helper()
	ch := make(chan *tmServer, 1)
	go func() {
		raw, err := e.ln.AcceptTCP()
		if err != nil {
			ch <- nil
			return
		}
		_ = raw.SetDeadline(time.Now().Add(driveTimeout))
		cc := &tmCapConn{Conn: raw}
		tc := tls.Server(cc, e.cfg)
		if tc.Handshake() != nil {
			_ = raw.Close()
			ch <- nil
			return
		}
		ch <- &tmServer{raw: raw, cc: cc, tc: tc}
	}()
	blocking := c.IsBlockingModeEnabled()
	c.SetBlockingMode(false)
	require.NoError(t, connect(t, c, "localhost", e.ln.Addr().(*net.TCPAddr).Port, TLSClient(e.roots, "")))
	s := <-ch
	require.NotNil(t, s)
	t.Cleanup(func() { _ = s.raw.Close() })
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	got := make(chan struct{})
	go func() {
		defer close(got)
		var req []byte
		buf := make([]byte, 4096)
		for !strings.Contains(string(req), "\r\n\r\n") {
			n, err := s.tc.Read(buf)
			if err != nil {
				return
			}
			req = append(req, buf[:n]...)
		}
	}()
	deadline := time.Now().Add(driveTimeout)
	for {
		_ = c.Poll()
		select {
		case <-got:
			c.SetBlockingMode(blocking)
			require.Equal(t, StatusRequesting, c.Status())
			return s
		default:
		}
		require.True(t, time.Now().Before(deadline), "the request did not arrive")
		time.Sleep(pollGap)
	}
}

// tmEnding is how the server ends after the response.
type tmEnding int

const (
	tmHold       tmEnding = iota // nothing more
	tmNotify                     // close_notify, then FIN
	tmFIN                        // FIN without close_notify
	tmRST                        // an RST
	tmNotifyOnly                 // close_notify, the TCP connection left open
)

func (e tmEnding) String() string {
	return [...]string{"hold", "notify+FIN", "FIN", "RST", "notify"}[e]
}

// end sends the ending (the close_notify is part of the stream bytes).
func (s *tmServer) end(t *testing.T, e tmEnding) {
	switch e {
	case tmNotify, tmFIN:
		require.NoError(t, s.raw.CloseWrite())
	case tmRST:
		require.NoError(t, s.raw.SetLinger(0))
		require.NoError(t, s.raw.Close())
	}
}

// tmCase is one response: its pieces (one record each) and its ending.
type tmCase struct {
	name   string
	pieces []string
	end    tmEnding
}

func tmCases() []tmCase {
	const cl = "HTTP/1.1 200 OK\r\nContent-Length: 40\r\nX-A: b\r\n\r\n"
	body := "0123456789abcdefghijklmnopqrstuvwxyzABCD"
	const ch = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	const uc = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
	big := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz", 84)[:3000]
	return []tmCase{
		{"cl-one-record", []string{cl + body}, tmHold},
		{"cl-split", []string{cl[:10], cl[10:], body[:3], body[3:17], body[17:18], body[18:]}, tmHold},
		{"cl-split-FIN", []string{cl, body[:20], body[20:]}, tmFIN},
		{"chunked-split", []string{ch, "5\r\nhel", "lo", "\r\n", "a\r\n0123456789", "\r", "\n0\r", "\n\r\n"}, tmHold},
		{"chunked-one", []string{ch + "5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n"}, tmNotify},
		{"until-close-notify", []string{uc, body[:7], body[7:30], body[30:]}, tmNotify},
		{"until-close-FIN", []string{uc, body[:7], body[7:30], body[30:]}, tmFIN},
		{"until-close-one-notify", []string{uc + body}, tmNotify},
		{"until-close-notify-only", []string{uc, body[:7], body[7:]}, tmNotifyOnly},
		{"cl-notify-only", []string{cl, body[:7], body[7:]}, tmNotifyOnly},
		// Records larger than read_chunk_size: a read ends inside a record.
		{"cl-big", []string{"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n" + big[:100], big[100:1800], big[1800:]}, tmHold},
		{"until-close-big-notify", []string{uc, big[:1700], big[1700:]}, tmNotify},
		{"chunked-big", []string{ch + "bb8\r\n" + big[:500], big[500:], "\r\n0\r\n\r\n"}, tmFIN},
	}
}

// tmFrame is one frame: Poll, then one read in BODY, then the getters.
func tmFrame(c *Client) mstep {
	_ = c.Poll()
	return observe(c, true)
}

// tmRun drives c until the exchange is over (or 300 frames), each frame
// preceded by setup(i) (mode and chunk size changes).
func tmRun(c *Client, setup func(i int)) []mstep {
	var out []mstep
	tail := 0
	for i := range 300 {
		setup(i)
		out = append(out, tmFrame(c))
		if s := c.Status(); s != StatusBody && s != StatusRequesting {
			if tail++; tail == 3 {
				break
			}
		}
	}
	return out
}

// TestTLSMidSwitchArrived: every byte of the response (and its end)
// in the client's socket, then frames each run in a random mode with a
// random read_chunk_size set before it; the frames must be those of the
// same schedule of chunk sizes run non-blocking throughout (§1.15.1,
// §1.15.3, §1.15.4: blocking only changes how long a read waits, and with
// everything arrived no read waits).
func TestTLSMidSwitchArrived(t *testing.T) {
	for _, v := range tmVersions() {
		t.Run(tls.VersionName(v), func(t *testing.T) { tmArrived(t, newTMEnv(t, v)) })
	}
}

func tmArrived(t *testing.T, e *tmEnv) {
	sizes := []int{256, 257, 300, 1000, 65536}
	const cl = "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n"
	body := "0123456789abcdefghijklmnopqrstuvwxyzABCD"
	rst := []tmCase{
		{"cl-RST", []string{cl, body[:20], body[20:]}, tmRST},
		{"chunked-RST", []string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "5\r\nhello", "\r\n0\r\n\r\n"}, tmRST},
	}
	for _, tc := range tmSlice(append(tmCases(), rst...)) {
		for seed := range tmSeeds(2) {
			t.Run(fmt.Sprintf("%s/%d", tc.name, seed), func(t *testing.T) {
				run := func(modeOf func(r *rand.Rand) bool) []mstep {
					r := rand.New(rand.NewPCG(seed, 9))
					c, _ := newClient(t, false)
					s := e.open(t, c)
					stream := s.records(t, tc.pieces, (tc.end == tmNotify || tc.end == tmNotifyOnly))
					_, err := s.raw.Write(stream)
					require.NoError(t, err)
					s.end(t, tc.end)
					if tc.end == tmHold || tc.end == tmNotifyOnly {
						waitAcked(t, s.raw)
					} else {
						waitPeerEnded(t, c)
					}
					return tmRun(c, func(int) {
						require.NoError(t, c.SetReadChunkSize(sizes[r.IntN(len(sizes))]))
						c.SetBlockingMode(modeOf(r))
					})
				}
				want := run(func(r *rand.Rand) bool { r.IntN(2); return false })
				got := run(func(r *rand.Rand) bool { return r.IntN(2) == 0 })
				assert.Equal(t, want, got, "random modes vs non-blocking")
				got = run(func(r *rand.Rand) bool { r.IntN(2); return true })
				assert.Equal(t, want, got, "blocking vs non-blocking")
			})
		}
	}
}

// tmOutcome is what an exchange gave, whatever the per-read cuts.
type tmOutcome struct {
	Body    string
	Final   Status
	Code    int
	Headers []string
}

func tmOutcomeOf(steps []mstep) tmOutcome {
	var o tmOutcome
	for _, s := range steps {
		o.Body += s.Piece
		o.Final, o.Code = s.After, s.Code
		if s.Has && o.Headers == nil {
			o.Headers = s.Headers
		}
	}
	return o
}

// TestTLSMidSwitchCut: the response's records cut at every byte k:
// stream[:k] arrives, two non-blocking frames run (they must not wait),
// then blocking mode is switched on and the rest (and the end) arrives a
// moment later while a blocking frame waits; then frames in random modes
// and chunk sizes. The body, the final status, the code and the headers
// must be those of the exchange read with everything arrived (§1.15.1,
// §1.15.3, §1.15.4: mbedTLS keeps a partial record across calls — its
// in_left/in_hdr — and blocking only changes how long a read waits); a
// blocking read of a fixed-length body returns min(read_chunk_size, left)
// bytes (HTTPClientTCP::read_response_body_chunk reads the smaller of the
// two, and _get_http_data in blocking mode loops until it has them all).
func TestTLSMidSwitchCut(t *testing.T) {
	e := newTMEnv(t)
	sizes := []int{256, 300, 65536}
	for _, tc := range tmSlice(tmCases()) {
		if testing.Short() && strings.Contains(tc.name, "big") {
			continue
		}
		var want tmOutcome
		var k0 int
		{
			c, _ := newClient(t, false)
			s := e.open(t, c)
			stream := s.records(t, tc.pieces, (tc.end == tmNotify || tc.end == tmNotifyOnly))
			_, err := s.raw.Write(stream)
			require.NoError(t, err)
			s.end(t, tc.end)
			if tc.end == tmHold || tc.end == tmNotifyOnly {
				waitAcked(t, s.raw)
			} else {
				waitPeerEnded(t, c)
			}
			want = tmOutcomeOf(tmRun(c, func(int) {}))
			c.Close()
			k0 = len(stream)
		}
		stride := tmStride(17) // GDHTTP_TLSMID_STRIDE=1: every byte
		if strings.Contains(tc.name, "big") {
			stride = tmStride(97)
		}
		for k := 1; k < k0; k += stride {
			t.Run(fmt.Sprintf("%s/%d", tc.name, k), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(k), 3))
				c, _ := newClient(t, false)
				s := e.open(t, c)
				stream := s.records(t, tc.pieces, (tc.end == tmNotify || tc.end == tmNotifyOnly))
				_, err := s.raw.Write(stream[:k])
				require.NoError(t, err)
				waitAcked(t, s.raw)
				var steps []mstep
				for range 2 {
					t0 := time.Now()
					steps = append(steps, tmFrame(c))
					require.Less(t, time.Since(t0), 2*time.Second, "a non-blocking frame waited")
				}
				c.SetBlockingMode(true)
				done := make(chan struct{})
				go func() {
					defer close(done)
					time.Sleep(2 * time.Millisecond)
					_, _ = s.raw.Write(stream[k:])
					s.end(t, tc.end)
				}()
				watchdog := time.AfterFunc(driveTimeout, c.Abort)
				defer watchdog.Stop()
				var got []byte
				for _, st := range steps {
					got = append(got, st.Piece...)
				}
				tail := 0
				for range 2000 {
					blocking := c.IsBlockingModeEnabled()
					size := c.ReadChunkSize()
					_ = c.Poll()
					left := int(c.ResponseBodyLength()) - len(got)
					fixed := c.Status() == StatusBody && c.ResponseBodyLength() >= 0 && !c.IsResponseChunked()
					st := observe(c, true)
					steps = append(steps, st)
					got = append(got, st.Piece...)
					if blocking && fixed {
						assert.Equal(t, min(size, left), len(st.Piece), "a blocking fixed-length read (frame %d)", len(steps))
					}
					if blocking && st.Poll == StatusBody && c.IsResponseChunked() {
						// One whole chunk's data per read, or nothing (the
						// read that meets the last chunk's size line).
						assert.Contains(t, []string{"", "hello", "0123456789", "abc", strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz", 84)[:3000]},
							st.Piece, "a blocking chunked read (frame %d)", len(steps))
					}
					if s := c.Status(); s != StatusBody && s != StatusRequesting {
						if tail++; tail == 3 {
							break
						}
					}
					c.SetBlockingMode(r.IntN(2) == 0)
					require.NoError(t, c.SetReadChunkSize(sizes[r.IntN(len(sizes))]))
					if !c.IsBlockingModeEnabled() {
						time.Sleep(pollGap)
					}
				}
				<-done
				assert.Equal(t, want, tmFinish(t, c, s, tc.end, steps, want), "cut at %d of %d", k, len(stream))
			})
		}
	}
}

// tmPlain serves one plain exchange on a fresh listener: it reads a
// request head and answers "plain".
func tmPlain(t *testing.T) int {
	ln := listenLoopback(t)
	go func() {
		raw, err := ln.AcceptTCP()
		if err != nil {
			return
		}
		defer func() { _ = raw.Close() }()
		_ = raw.SetDeadline(time.Now().Add(driveTimeout))
		buf := make([]byte, 4096)
		var req []byte
		for !strings.Contains(string(req), "\r\n\r\n") {
			n, err := raw.Read(buf)
			if err != nil {
				return
			}
			req = append(req, buf[:n]...)
		}
		_, _ = raw.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain"))
		_, _ = raw.Read(buf) // until the client closes
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// tmFinish is the end of a sweep's exchange: when the stream's end (a FIN,
// a close_notify) came after the sweep's frames, the two frames Godot would
// run once it is here; then the outcome, its headers taken from want when
// no frame ended in BODY to show them (that depends on the cuts).
func tmFinish(t *testing.T, c *Client, s *tmServer, end tmEnding, steps []mstep, want tmOutcome) tmOutcome {
	t.Helper()
	if end != tmHold && c.Status() == StatusConnected {
		if end == tmNotifyOnly {
			waitAcked(t, s.raw)
		} else {
			waitPeerEnded(t, c)
		}
		c.SetBlockingMode(false)
		for range 2 {
			steps = append(steps, tmFrame(c))
		}
	}
	out := tmOutcomeOf(steps)
	if want.Headers == nil || out.Headers == nil {
		out.Headers = want.Headers
	}
	return out
}

// tmStall accepts one TCP connection and never answers (a handshake that
// does not progress) — or, with partial, reads the ClientHello and sends
// the first bytes of a handshake record; the conn is closed when the test
// ends.
func tmStall(t *testing.T, partial ...bool) int {
	ln := listenLoopback(t)
	got := make(chan net.Conn, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			return
		}
		if len(partial) > 0 {
			buf := make([]byte, 4096)
			_, _ = raw.Read(buf)
			_, _ = raw.Write([]byte("\x16\x03\x03\x00\x50\x02\x00\x00"))
		}
		got <- raw
	}()
	t.Cleanup(func() {
		select {
		case raw := <-got:
			_ = raw.Close()
		default:
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// tmStage brings c (in mode blocking) to a stage of a TLS exchange and
// returns a func that makes a call block there (in blocking mode) — or
// nil when the stage has no blocking call.
type tmStage struct {
	name string
	// at brings c to the stage; it returns the blocking call to make there.
	at func(t *testing.T, e *tmEnv, c *Client) func()
}

func tmStages() []tmStage {
	const cl = "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n"
	body := "0123456789abcdefghijklmnopqrstuvwxyzABCD"
	partial := func(k int) func(t *testing.T, e *tmEnv, c *Client) func() {
		return func(t *testing.T, e *tmEnv, c *Client) func() {
			s := e.open(t, c)
			stream := s.records(t, []string{cl, body[:10], body[10:]}, false)
			_, err := s.raw.Write(stream[:k])
			require.NoError(t, err)
			waitAcked(t, s.raw)
			b := c.IsBlockingModeEnabled()
			c.SetBlockingMode(false)
			for range 3 {
				_ = tmFrame(c)
			}
			c.SetBlockingMode(b)
			return func() { _ = tmFrame(c) }
		}
	}
	return []tmStage{
		{"mid-handshake", func(t *testing.T, e *tmEnv, c *Client) func() {
			require.NoError(t, c.ConnectToHost("localhost", tmStall(t), TLSClient(e.roots, "")))
			b := c.IsBlockingModeEnabled()
			c.SetBlockingMode(false)
			for range 3 {
				_ = c.Poll()
				time.Sleep(time.Millisecond)
			}
			c.SetBlockingMode(b)
			require.Contains(t, []Status{StatusResolving, StatusConnecting}, c.Status())
			return func() {
				for c.Status() == StatusResolving || c.Status() == StatusConnecting {
					_ = c.Poll()
					if !c.IsBlockingModeEnabled() {
						time.Sleep(time.Millisecond)
					}
				}
			}
		}},
		{"mid-handshake-record", func(t *testing.T, e *tmEnv, c *Client) func() {
			require.NoError(t, c.ConnectToHost("localhost", tmStall(t, true), TLSClient(e.roots, "")))
			b := c.IsBlockingModeEnabled()
			c.SetBlockingMode(false)
			for range 5 {
				t0 := time.Now()
				_ = c.Poll()
				require.Less(t, time.Since(t0), time.Second, "a non-blocking Poll in CONNECTING waited")
				time.Sleep(2 * time.Millisecond)
			}
			c.SetBlockingMode(b)
			require.Contains(t, []Status{StatusResolving, StatusConnecting}, c.Status())
			return func() {
				for c.Status() == StatusResolving || c.Status() == StatusConnecting {
					_ = c.Poll()
					if !c.IsBlockingModeEnabled() {
						time.Sleep(time.Millisecond)
					}
				}
			}
		}},
		{"requesting-no-reply", func(t *testing.T, e *tmEnv, c *Client) func() {
			e.open(t, c)
			return func() { _ = c.Poll() }
		}},
		{"mid-head-record", partial(10)},
		{"after-head-record", partial(len(cl) + 22)},
		{"mid-body-record", partial(len(cl) + 22 + 15)},
		{"after-first-body-record", partial(len(cl) + 22 + 10 + 22 + 5)},
	}
}

// tmAgain: after Close, the client connects to a fresh TLS server and to a
// plain one, each exchange giving exactly its response (nothing left of the
// old connection).
func tmAgain(t *testing.T, e *tmEnv, c *Client) {
	t.Helper()
	c.Close()
	require.Equal(t, StatusDisconnected, c.Status())
	c.SetBlockingMode(false)
	require.NoError(t, c.SetReadChunkSize(65536))
	s := e.open(t, c)
	stream := s.records(t, []string{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", "new"}, false)
	_, err := s.raw.Write(stream)
	require.NoError(t, err)
	waitAcked(t, s.raw)
	o := tmOutcomeOf(tmRun(c, func(int) {}))
	assert.Equal(t, "new", o.Body, "TLS after Close")
	assert.Equal(t, StatusConnected, o.Final)
	c.Close()
	require.NoError(t, c.ConnectToHost("127.0.0.1", tmPlain(t), nil))
	require.NoError(t, pollWhile(t, c, StatusResolving, StatusConnecting))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	// The plain server answers when it gets to it: wait for the head, so
	// that the frames below do not outrun it (tmRun does not wait).
	require.NoError(t, pollWhile(t, c, StatusRequesting))
	o = tmOutcomeOf(tmRun(c, func(int) {}))
	assert.Equal(t, "plain", o.Body, "plain after Close")
	c.Close()
}

// TestTLSMidCloseReconnect: Close() at each stage of a TLS exchange
// (§1.12: close() drops the connection and the response, whatever the
// status), in both modes, then the same client connects again to a TLS
// server and to a plain one: each gives its own response.
func TestTLSMidCloseReconnect(t *testing.T) {
	e := newTMEnv(t)
	tmNoFDLeft(t)
	for _, st := range tmStages() {
		for _, m := range modes {
			t.Run(st.name+"/"+m.name, func(t *testing.T) {
				c, _ := newClient(t, m.blocking)
				st.at(t, e, c)
				t0 := time.Now()
				c.Close()
				assert.Less(t, time.Since(t0), time.Second, "Close waited")
				tmAgain(t, e, c)
			})
		}
	}
}

// TestTLSMidAbort: Abort() from another goroutine while the owner is
// in a call at each stage (blocked in blocking mode, spinning frames in
// non-blocking mode): the call returns promptly with CANT_CONNECT (before
// CONNECTED) or CONNECTION_ERROR and ErrAborted as the cause (Client.Abort's
// contract; COMPAT H1 — Godot has no cancellation), and after Close the
// client works again (TLS and plain).
func TestTLSMidAbort(t *testing.T) {
	e := newTMEnv(t)
	tmNoFDLeft(t)
	for _, st := range tmStages() {
		for _, m := range modes {
			t.Run(st.name+"/"+m.name, func(t *testing.T) {
				c, _ := newClient(t, m.blocking)
				call := st.at(t, e, c)
				before := c.Status()
				done := make(chan struct{})
				go func() {
					defer close(done)
					if m.blocking {
						call()
						return
					}
					for i := 0; i < 100000; i++ {
						call()
						if s := c.Status(); s != before && s != StatusBody && s != StatusRequesting && s != StatusConnecting {
							return
						}
						time.Sleep(100 * time.Microsecond)
					}
				}()
				time.Sleep(20 * time.Millisecond)
				c.Abort()
				select {
				case <-done:
				case <-time.After(3 * time.Second):
					t.Fatalf("the call did not return after Abort (status %v)", c.Status())
				}
				want := StatusConnectionError
				if before == StatusConnecting || before == StatusResolving {
					want = StatusCantConnect
				}
				assert.Equal(t, want, c.Status())
				assert.ErrorIs(t, c.LastError(), ErrAborted)
				tmAgain(t, e, c)
			})
		}
	}
}

// TestTLSMidSwitchTrickle: the response's records arrive a few bytes
// at a time (every record cut many times) while the owner runs frames in
// random modes with random read_chunk_size; a blocking frame waits for
// what the trickle brings. The body, final status and code must be those
// of the exchange read with everything arrived (§1.15.1: crypto/tls keeps
// a partial record across the temporary errors of non-blocking reads and
// across blocking reads in between).
func TestTLSMidSwitchTrickle(t *testing.T) {
	for _, v := range tmVersions() {
		t.Run(tls.VersionName(v), func(t *testing.T) { tmTrickle(t, newTMEnv(t, v)) })
	}
}

func tmTrickle(t *testing.T, e *tmEnv) {
	sizes := []int{256, 300, 4096}
	for _, tc := range tmSlice(tmCases()) {
		if testing.Short() && strings.Contains(tc.name, "big") {
			continue
		}
		for seed := range tmSeeds(1) {
			t.Run(fmt.Sprintf("%s/%d", tc.name, seed), func(t *testing.T) {
				var want tmOutcome
				{
					c, _ := newClient(t, false)
					s := e.open(t, c)
					stream := s.records(t, tc.pieces, (tc.end == tmNotify || tc.end == tmNotifyOnly))
					_, err := s.raw.Write(stream)
					require.NoError(t, err)
					s.end(t, tc.end)
					if tc.end == tmHold || tc.end == tmNotifyOnly {
						waitAcked(t, s.raw)
					} else {
						waitPeerEnded(t, c)
					}
					want = tmOutcomeOf(tmRun(c, func(int) {}))
					c.Close()
				}
				r := rand.New(rand.NewPCG(seed, 5))
				c, _ := newClient(t, false)
				s := e.open(t, c)
				stream := s.records(t, tc.pieces, (tc.end == tmNotify || tc.end == tmNotifyOnly))
				_ = s.raw.SetNoDelay(true)
				done := make(chan struct{})
				go func() {
					defer close(done)
					wr := rand.New(rand.NewPCG(seed, 6))
					for k := 0; k < len(stream); {
						n := min(1+wr.IntN(4), len(stream)-k)
						if _, err := s.raw.Write(stream[k : k+n]); err != nil {
							return
						}
						k += n
						time.Sleep(time.Duration(wr.IntN(300)) * time.Microsecond)
					}
					s.end(t, tc.end)
				}()
				watchdog := time.AfterFunc(driveTimeout, c.Abort)
				defer watchdog.Stop()
				var steps []mstep
				tail := 0
				for range 100000 {
					c.SetBlockingMode(r.IntN(3) == 0)
					require.NoError(t, c.SetReadChunkSize(sizes[r.IntN(len(sizes))]))
					steps = append(steps, tmFrameMixed(c, r))
					if s := c.Status(); s != StatusBody && s != StatusRequesting {
						if tail++; tail == 3 {
							break
						}
					}
					if !c.IsBlockingModeEnabled() {
						time.Sleep(50 * time.Microsecond)
					}
				}
				<-done
				assert.Equal(t, want, tmFinish(t, c, s, tc.end, steps, want))
				assert.NotErrorIs(t, c.LastError(), ErrAborted, "the watchdog fired: a blocking frame hung")
			})
		}
	}
}

// tmFrameMixed is tmFrame with the read made by one of the body readers,
// chosen at random (they may be mixed: ReadResponseBodyChunkInto's doc).
func tmFrameMixed(c *Client, r *rand.Rand) mstep {
	_ = c.Poll()
	if c.Status() != StatusBody {
		return observe(c, false)
	}
	switch r.IntN(3) {
	case 0:
		return observe(c, true)
	case 1:
		p := make([]byte, 1+r.IntN(5000))
		n, _ := c.ReadResponseBodyChunkInto(p)
		st := observe(c, false)
		st.Poll, st.Piece = StatusBody, string(p[:n])
		return st
	}
	b, _ := c.AppendResponseBodyChunk(nil)
	st := observe(c, false)
	st.Poll, st.Piece = StatusBody, string(b)
	return st
}

// tmNoFDLeft checks, once t and its subtests have ended (their cleanups
// closed every conn), that no more file descriptors are open than now.
func tmNoFDLeft(t *testing.T) {
	fds := tmFDs(t)
	t.Cleanup(func() {
		ok := false
		for range 100 {
			if ok = tmFDs(t) <= fds; ok {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		assert.True(t, ok, "fds before %d, after %d", fds, tmFDs(t))
	})
}

// tmFDs counts this process's open file descriptors.
func tmFDs(t *testing.T) int {
	d, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(d)
}

// TestTLSMidcallModel is TestAudit6TLSGodotModel with API calls between
// the frames (midcall, as TestMidcallModel for plain TCP): set_read_chunk_size,
// refused request()s, consuming header getters, read outside BODY,
// set_connection(get_connection()), close(), and frames run in blocking mode
// when the TLS model says none of their calls would wait (§1.3, §1.7.2–3,
// §1.10, §1.11.3, §1.13.1, §1.15). GDHTTP_MIDCALL_N raises the count.
func TestTLSMidcallModel(t *testing.T) {
	runTLSMidcall(t, false, 21, midcallRuns(15))
}

// TestTLSMidcallModelBlocking is the same from blocking mode (each
// response all there before its frames).
func TestTLSMidcallModelBlocking(t *testing.T) {
	runTLSMidcall(t, true, 22, midcallRuns(10))
}

func runTLSMidcall(t *testing.T, blocking bool, seed uint64, n int) {
	seed, _ = modelRuns(seed, 0)
	r := rand.New(rand.NewPCG(seed, 1))
	ca := ts.NewCA(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, "localhost")}, SessionTicketsDisabled: true,
		DynamicRecordSizingDisabled: true, MinVersion: tls.VersionTLS13}
	ln := listenLoopback(t)
	for i := range n {
		mc := genModelCase(r)
		for blocking && ambiguousFirst(mc) {
			mc = genModelCase(r)
		}
		mc.finFirst, mc.mid = false, true
		notify := r.IntN(2) == 0
		if blocking {
			mc.fin = true
			for j := range mc.cuts {
				mc.cuts[j] = nil
			}
		}
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			runTLSModelCase(t, ln, cfg, ca.Pool(), mc, notify, uint64(i), blocking)
		})
	}
}

// TestTLSMidBlockingPollInBody: in blocking mode a poll() in BODY (and in
// CONNECTED) does not wait for the body's bytes: Godot's poll there is
// StreamPeerTCP::poll and StreamPeerMbedTLS::poll (mbedtls_ssl_read of 0
// bytes over a non-blocking BIO), whatever the mode; only reads wait
// (§1.15.1; COMPAT H1 lists the waiting Polls: RESOLVING, CONNECTING,
// REQUESTING). At each cut of the records, mid-record included.
func TestTLSMidBlockingPollInBody(t *testing.T) {
	e := newTMEnv(t)
	const cl = "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n"
	body := "0123456789abcdefghijklmnopqrstuvwxyzABCD"
	for _, k := range []int{len(cl) + 22, len(cl) + 22 + 3, len(cl) + 22 + 10 + 22, len(cl) + 22 + 10 + 22 + 7} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			c, _ := newClient(t, false)
			s := e.open(t, c)
			stream := s.records(t, []string{cl, body[:10], body[10:]}, false)
			_, err := s.raw.Write(stream[:k])
			require.NoError(t, err)
			waitAcked(t, s.raw)
			var got []byte
			for range 3 {
				got = append(got, tmFrame(c).Piece...)
			}
			require.Equal(t, StatusBody, c.Status())
			c.SetBlockingMode(true)
			watchdog := time.AfterFunc(2*time.Second, c.Abort)
			defer watchdog.Stop()
			t0 := time.Now()
			_ = c.Poll()
			assert.Less(t, time.Since(t0), time.Second, "a blocking poll() in BODY waited")
			assert.Equal(t, StatusBody, c.Status())
			_, err = s.raw.Write(stream[k:])
			require.NoError(t, err)
			got = append(got, c.ReadResponseBodyChunk()...)
			assert.Equal(t, body, string(got))
			assert.Equal(t, StatusConnected, c.Status())
			t0 = time.Now()
			_ = c.Poll()
			assert.Less(t, time.Since(t0), time.Second, "a blocking poll() in CONNECTED waited")
			assert.Equal(t, StatusConnected, c.Status())
		})
	}
}

// TestTLSMidAbortMore: Abort() while the owner is blocked in a TLS
// request write the server does not read (a large body), and in the other
// body readers mid-record (ReadResponseBodyChunkInto, AppendResponseBodyChunk,
// WriteResponseBodyChunkTo): the call returns promptly, CONNECTION_ERROR,
// ErrAborted (Client.Abort's contract, COMPAT H1); then Close, and the
// client works again.
func TestTLSMidAbortMore(t *testing.T) {
	e := newTMEnv(t)
	const cl = "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n"
	body := "0123456789abcdefghijklmnopqrstuvwxyzABCD"
	midRecord := func(t *testing.T, c *Client) {
		s := e.open(t, c)
		stream := s.records(t, []string{cl, body[:10], body[10:]}, false)
		_, err := s.raw.Write(stream[:len(cl)+22+10+22+7])
		require.NoError(t, err)
		waitAcked(t, s.raw)
		for range 3 {
			_ = tmFrame(c)
		}
		require.Equal(t, StatusBody, c.Status())
	}
	tests := []struct {
		name string
		at   func(t *testing.T, c *Client)
		call func(c *Client)
	}{
		{"upload", func(t *testing.T, c *Client) {
			ch := make(chan *net.TCPConn, 1)
			go func() {
				raw, err := e.ln.AcceptTCP()
				if err != nil {
					ch <- nil
					return
				}
				tc := tls.Server(raw, e.cfg)
				_ = tc.Handshake()
				ch <- raw // then reads nothing
			}()
			require.NoError(t, connect(t, c, "localhost", e.ln.Addr().(*net.TCPAddr).Port, TLSClient(e.roots, "")))
			raw := <-ch
			require.NotNil(t, raw)
			t.Cleanup(func() { _ = raw.Close() })
			require.NoError(t, c.Request(MethodPost, "/", nil, strings.Repeat("x", 32<<20)))
		}, func(c *Client) {
			for c.Status() == StatusRequesting {
				_ = c.Poll()
			}
		}},
		{"into", midRecord, func(c *Client) {
			p := make([]byte, 100)
			for c.Status() == StatusBody {
				_, _ = c.ReadResponseBodyChunkInto(p)
			}
		}},
		{"append", midRecord, func(c *Client) {
			for c.Status() == StatusBody {
				_, _ = c.AppendResponseBodyChunk(nil)
			}
		}},
		{"to-file", midRecord, func(c *Client) {
			f, err := os.CreateTemp(t.TempDir(), "body")
			if err != nil {
				return
			}
			defer f.Close()
			for c.Status() == StatusBody {
				_, _, _ = c.WriteResponseBodyChunkTo(f)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newClient(t, false)
			tt.at(t, c)
			c.SetBlockingMode(true)
			done := make(chan struct{})
			go func() { defer close(done); tt.call(c) }()
			time.Sleep(30 * time.Millisecond)
			c.Abort()
			select {
			case <-done:
			case <-time.After(3 * time.Second):
				t.Fatalf("the call did not return after Abort (status %v)", c.Status())
			}
			assert.Equal(t, StatusConnectionError, c.Status())
			assert.ErrorIs(t, c.LastError(), ErrAborted)
			tmAgain(t, e, c)
		})
	}
}

// TestTLSMidCutFrames: the records of a response cut at every byte k;
// once stream[:k] is in the client's socket, two non-blocking frames
// (poll(), then read_response_body_chunk() in BODY) must show what Godot's
// show: mbedTLS decrypts only whole records (mbedtls_ssl_fetch_input waits
// for the rest of one: WANT_READ), poll() in REQUESTING reads the head a
// byte at a time from them (`Error err = _get_http_data(&byte, 1, rec);`),
// and the read takes every whole record's plaintext up to the body left
// (StreamPeerMbedTLS::get_partial_data loops mbedtls_ssl_read until the
// count or WANT_READ); the second frame finds nothing new (§1.6.4, §1.10.3,
// §1.15.3). Then blocking mode is switched on and the rest is read: the
// body must be whole.
func TestTLSMidCutFrames(t *testing.T) {
	e := newTMEnv(t)
	const cl = "HTTP/1.1 200 OK\r\nContent-Length: 40\r\nX-A: b\r\n\r\n"
	body := "0123456789abcdefghijklmnopqrstuvwxyzABCD"
	const uc = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
	cases := []struct {
		name   string
		pieces []string
		head   int // bytes of the head
		notify bool
	}{
		{"cl-split", []string{cl[:10], cl[10:] + body[:3], body[3:17], body[17:18], body[18:]}, len(cl), false},
		{"until-close", []string{uc[:20], uc[20:], body[:7], body[7:30], body[30:]}, len(uc), true},
	}
	stride := tmStride(7)
	for _, tc := range cases {
		plain := strings.Join(tc.pieces, "")
		for k := 1; k < 400; k += stride {
			var n int
			ok := t.Run(fmt.Sprintf("%s/%d", tc.name, k), func(t *testing.T) {
				c, _ := newClient(t, false)
				s := e.open(t, c)
				stream := s.records(t, tc.pieces, tc.notify)
				n = len(stream)
				if k >= len(stream) {
					return
				}
				// The plaintext of the whole records in stream[:k].
				whole, off := 0, 0
				for i := range tc.pieces {
					end := off + 5 + int(stream[off+3])<<8 + int(stream[off+4])
					if end > k {
						break
					}
					whole += len(tc.pieces[i])
					off = end
				}
				_, err := s.raw.Write(stream[:k])
				require.NoError(t, err)
				waitAcked(t, s.raw)
				f1, f2 := tmFrame(c), tmFrame(c)
				wantSt, wantPiece := StatusRequesting, ""
				if whole >= tc.head {
					wantSt, wantPiece = StatusBody, plain[tc.head:whole]
				}
				wantAfter := wantSt
				if wantSt == StatusBody && len(wantPiece) == len(body) && !tc.notify {
					wantAfter = StatusConnected
				}
				assert.Equal(t, []string{wantSt.String(), wantPiece, wantAfter.String()},
					[]string{f1.Poll.String(), f1.Piece, f1.After.String()}, "frame 1, %d bytes of whole records", whole)
				if wantSt == StatusBody && wantAfter == StatusBody {
					assert.Equal(t, "", f2.Piece, "frame 2")
				}
				got := f1.Piece + f2.Piece
				c.SetBlockingMode(true)
				_, err = s.raw.Write(stream[k:])
				require.NoError(t, err)
				if tc.notify {
					require.NoError(t, s.raw.CloseWrite())
				}
				watchdog := time.AfterFunc(driveTimeout, c.Abort)
				defer watchdog.Stop()
				for range 100 {
					if s := c.Status(); s != StatusBody && s != StatusRequesting {
						break
					}
					got += tmFrame(c).Piece
				}
				assert.Equal(t, body, got)
			})
			if !ok || (n > 0 && k+stride >= n) {
				break
			}
		}
	}
}

// TestTLSMidHandshakeModeSwitch: non-blocking polls in CONNECTING while
// the TLS handshake runs return at once (§1.15.1: the handshake proceeds
// step-wise via poll()); blocking mode switched on between them makes the
// next Poll wait until the status changes (COMPAT H1), here CONNECTED, with
// the statuses Godot shows (CONNECTING … CONNECTED), and the exchange then
// goes on in either mode.
func TestTLSMidHandshakeModeSwitch(t *testing.T) {
	e := newTMEnv(t)
	for n := range 4 {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ch := make(chan *tmServer, 1)
			go func() {
				raw, err := e.ln.AcceptTCP()
				if err != nil {
					ch <- nil
					return
				}
				time.Sleep(20 * time.Millisecond) // the handshake starts late
				cc := &tmCapConn{Conn: raw}
				tc := tls.Server(cc, e.cfg)
				if tc.Handshake() != nil {
					_ = raw.Close()
					ch <- nil
					return
				}
				ch <- &tmServer{raw: raw, cc: cc, tc: tc}
			}()
			c, tr := newClient(t, false)
			require.NoError(t, c.ConnectToHost("localhost", e.ln.Addr().(*net.TCPAddr).Port, TLSClient(e.roots, "")))
			for range n {
				t0 := time.Now()
				_ = c.Poll()
				assert.Less(t, time.Since(t0), 10*time.Millisecond, "a non-blocking Poll waited")
			}
			c.SetBlockingMode(true)
			for c.Status() == StatusResolving || c.Status() == StatusConnecting {
				require.NoError(t, c.Poll())
			}
			assert.Equal(t, StatusConnected, c.Status())
			assert.Equal(t, StatusConnected, (*tr)[len(*tr)-1])
			s := <-ch
			require.NotNil(t, s)
			t.Cleanup(func() { _ = s.raw.Close() })
		})
	}
}

// tmSeeds is how many random runs a tlsmid sweep makes per case: n (1 in
// the thin slice), or GDHTTP_TLSMID_N.
func tmSeeds(n uint64) uint64 {
	if v := drive.EnvInt("GDHTTP_TLSMID_N", 0); v > 0 {
		return uint64(v)
	}
	if tmThin() {
		return 1
	}
	return n
}
