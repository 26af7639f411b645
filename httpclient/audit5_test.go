package httpclient

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// Audit 5 against Godot 4's core/io/http_client_tcp.cpp (4.7 master,
// HTTPClientTCP::poll, ::read_response_body_chunk, ::_get_http_data, ::close)
// and core/io/stream_peer_tcp.cpp (StreamPeerTCP::poll, ::read): what a
// GDScript trace records — the status after each poll() and each
// read_response_body_chunk(), the bytes each call returns, the getters —
// with the whole response already in the client's socket, in both modes.

// step is one frame of a Godot trace: poll(), then read_response_body_chunk().
type step struct {
	Poll  Status // the status after poll()
	Piece string // what read_response_body_chunk() returned
	After Status // the status after it
}

// arrived sends req over a fresh client in mode m to a server that answers
// resp at once and then holds the connection (closeAfter: closes it), waits
// until the head was parsed and the rest of resp is at the client, and
// returns the client.
func arrived(t *testing.T, m mode, method Method, resp string, closeAfter bool) *Client {
	t.Helper()
	steps := []ts.Step{ts.Read(), ts.WriteString(resp), ts.Hold()}
	if closeAfter {
		steps = []ts.Step{ts.Read(), ts.WriteAndClose([]byte(resp))}
	}
	srv := ts.New(t, ts.Script(steps...))
	c, _ := newClient(t, m.blocking)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.Request(method, "/", nil, ""))
	_ = pollWhile(t, c, StatusRequesting)
	head := strings.Index(resp, "\r\n\r\n") + 4
	if rest := len(resp) - head; rest > 0 && c.st != nil {
		waitArrived(t, c, rest)
	}
	return c
}

// frames runs up to n frames (poll, then one read while the status is
// BODY) and returns them; it stops after the first frame that leaves BODY.
func frames(c *Client, n int) []step {
	var out []step
	for range n {
		_ = c.Poll()
		s := step{Poll: c.Status()}
		if s.Poll == StatusBody {
			s.Piece = string(c.ReadResponseBodyChunk())
		}
		s.After = c.Status()
		out = append(out, s)
		if s.After != StatusBody {
			break
		}
	}
	return out
}

// §1.10.2.4–6, §1.10.3: a chunked body that has fully arrived: one chunk per
// call, the last-chunk line alone in a call (empty, still BODY), the trailer
// in the next (empty, CONNECTED) — trailer fields included — in both modes.
// Upper-case hex and leading zeros are sizes like any other (§1.10.2.3).
func TestAudit5ChunkedCallsWhenArrived(t *testing.T) {
	head := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	tests := []struct {
		name, body string
		want       []step
	}{
		{"two-chunks-trailer-fields", "5\r\nhello\r\n3\r\nabc\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n", []step{
			{StatusBody, "hello", StatusBody}, {StatusBody, "abc", StatusBody},
			{StatusBody, "", StatusBody}, {StatusBody, "", StatusConnected}}},
		{"upper-hex-leading-zeros", "000A\r\n0123456789\r\n00\r\n\r\n", []step{
			{StatusBody, "0123456789", StatusBody},
			{StatusBody, "", StatusBody}, {StatusBody, "", StatusConnected}}},
		{"empty-body", "0\r\n\r\n", []step{
			{StatusBody, "", StatusBody}, {StatusBody, "", StatusConnected}}},
	}
	for _, tt := range tests {
		for _, m := range modes {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				c := arrived(t, m, MethodGet, head+tt.body, false)
				require.Equal(t, StatusBody, c.Status())
				assert.Equal(t, tt.want, frames(c, 10))
				assert.Equal(t, int64(-1), c.ResponseBodyLength())
				assert.True(t, c.IsResponseChunked())
			})
		}
	}
}

// §1.10.2.6: only CR LF ends a trailer line, and only a line that is just
// CR LF ends the trailer: `X: y LF CR LF` is one trailer line, so the body
// is still waiting (BODY) for the empty line — in both modes the calls
// return nothing and the status stays BODY.
func TestAudit5TrailerBareLF(t *testing.T) {
	for _, tr := range []string{"X: y\n\r\n", "\n\r\n"} {
		for _, m := range modes {
			if m.blocking {
				continue // the read would wait for the empty line (Godot's does too)
			}
			t.Run(m.name, func(t *testing.T) {
				c := arrived(t, m, MethodGet, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"+tr, false)
				got := frames(c, 4)
				assert.Equal(t, []step{{StatusBody, "", StatusBody}, {StatusBody, "", StatusBody},
					{StatusBody, "", StatusBody}, {StatusBody, "", StatusBody}}, got)
			})
		}
	}
}

// §1.8.6, §1.9, §1.10.1: bodies with nothing to read. Content-Length: 0 and
// any HEAD response (with a Content-Length, or with Connection: close and
// none) are BODY with body length 0; the first read returns nothing and
// gives CONNECTED. A response with neither length nor close is CONNECTED at
// once (204 included, §1.8.7).
func TestAudit5EmptyBodies(t *testing.T) {
	tests := []struct {
		name   string
		method Method
		resp   string
		status Status // after the head
		length int64
	}{
		{"length-0", MethodGet, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", StatusBody, 0},
		{"head-length", MethodHead, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", StatusBody, 0},
		{"head-close", MethodHead, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", StatusBody, 0},
		{"204", MethodGet, "HTTP/1.1 204 No Content\r\nX: 1\r\n\r\n", StatusConnected, -1},
	}
	for _, tt := range tests {
		for _, m := range modes {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				c := arrived(t, m, tt.method, tt.resp, false)
				require.Equal(t, tt.status, c.Status())
				assert.Equal(t, tt.length, c.ResponseBodyLength())
				if tt.status == StatusBody {
					assert.Equal(t, []step{{StatusBody, "", StatusConnected}}, frames(c, 3))
				}
				require.NoError(t, c.Poll())
				assert.Equal(t, StatusConnected, c.Status())
			})
		}
	}
}

// §1.10.1.1–4: read until close, read_chunk_size 256, 600 bytes then the
// FIN, all arrived: each call returns read_chunk_size bytes, and the call
// that meets the end returns the rest and gives DISCONNECTED (close():
// code 0, body length −1, no headers; the chunked flag stays).
func TestAudit5UntilCloseCalls(t *testing.T) {
	body := strings.Repeat("a", 256) + strings.Repeat("b", 256) + strings.Repeat("c", 88)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c := arrived(t, m, MethodGet, "HTTP/1.1 200 OK\r\nConnection: close\r\nX: 1\r\n\r\n"+body, true)
			require.NoError(t, c.SetReadChunkSize(256))
			require.Equal(t, StatusBody, c.Status())
			assert.Equal(t, int64(-1), c.ResponseBodyLength())
			assert.Equal(t, []step{
				{StatusBody, body[:256], StatusBody},
				{StatusBody, body[256:512], StatusBody},
				{StatusBody, body[512:], StatusDisconnected},
			}, frames(c, 5))
			assert.Equal(t, 0, c.ResponseCode())
			assert.False(t, c.HasResponse())
			assert.Nil(t, c.ResponseHeaders())
			assert.ErrorIs(t, c.Poll(), ErrUnconfigured)
			assert.ErrorIs(t, c.Request(MethodGet, "/", nil, ""), ErrInvalidParameter)
		})
	}
}

// §1.6.3.3, §1.12: the liveness check fails without close(): after a FIN
// seen by poll() in CONNECTED the last response's code, headers and body
// length are still there, and every later poll() repeats the error.
func TestAudit5LivenessFailureKeepsResponse(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c := arrived(t, m, MethodGet, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX: 1\r\n\r\nok", true)
			assert.Equal(t, []step{{StatusBody, "ok", StatusConnected}}, frames(c, 3))
			waitPeerFIN(t, c)
			assert.ErrorIs(t, c.Poll(), ErrConnectionError)
			assert.Equal(t, StatusConnectionError, c.Status())
			assert.Equal(t, 201, c.ResponseCode())
			assert.Equal(t, int64(2), c.ResponseBodyLength())
			assert.True(t, c.HasResponse())
			assert.Equal(t, []string{"Content-Length: 2", "X: 1"}, c.ResponseHeaders())
			assert.ErrorIs(t, c.Poll(), ErrConnectionError)
			assert.Nil(t, c.ReadResponseBodyChunk())
			assert.ErrorIs(t, c.Request(MethodGet, "/", nil, ""), ErrInvalidParameter)
			assert.Equal(t, StatusConnectionError, c.Status())
		})
	}
}

// §1.10.2.2: a chunk error sets CONNECTION_ERROR without close(): the code,
// headers and the chunked flag stay; poll() then returns
// ERR_CONNECTION_ERROR and read_response_body_chunk() nothing.
func TestAudit5ChunkErrorKeepsResponse(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c := arrived(t, m, MethodGet, "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\n\r\n", false)
			assert.Equal(t, []step{{StatusBody, "hello", StatusConnectionError}}, frames(c, 3))
			assert.Equal(t, 202, c.ResponseCode())
			assert.True(t, c.IsResponseChunked())
			assert.Equal(t, []string{"Transfer-Encoding: chunked"}, c.ResponseHeaders())
			assert.ErrorIs(t, c.Poll(), ErrConnectionError)
			assert.Nil(t, c.ReadResponseBodyChunk())
			assert.Equal(t, StatusConnectionError, c.Status())
		})
	}
}

// arrivedClosed is arrived with the server closing right after resp; it
// returns once the server has closed and the FIN had time to reach the
// client (waitPeerFIN).
func arrivedClosed(t *testing.T, m mode, resp string) *Client {
	t.Helper()
	closed := make(chan struct{})
	srv := ts.New(t, ts.Script(ts.Read(), ts.WriteAndClose([]byte(resp)),
		ts.Do("closed", func(*ts.Conn) error { close(closed); return nil })))
	c, _ := newClient(t, m.blocking)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	_ = pollWhile(t, c, StatusRequesting)
	awaitClosed(t, closed)
	waitPeerFIN(t, c)
	return c
}

// awaitClosed waits, bounded, for the server's signal that it closed.
func awaitClosed(t *testing.T, closed <-chan struct{}) {
	t.Helper()
	select {
	case <-closed:
	case <-time.After(driveTimeout):
		t.Fatal("the server did not close")
	}
}

// reads calls ReadResponseBodyChunk up to n times without polling, while
// the status is BODY.
func reads(c *Client, n int) []step {
	var out []step
	for range n {
		if c.Status() != StatusBody {
			break
		}
		s := step{Poll: c.Status(), Piece: string(c.ReadResponseBodyChunk())}
		s.After = c.Status()
		out = append(out, s)
	}
	return out
}

// §1.10.2.5, §1.10.2.7: Godot reads the data of a chunk with one read per
// call (non-blocking: `_get_http_data(&chunk[…], chunk_left, rec)` is one
// recv, then `break`): a chunk cut short by a FIN queued behind its first
// bytes returns nothing and stays BODY — the recv returned the bytes, not
// the EOF — and the next call meets the EOF: DISCONNECTED. Blocking mode's
// read loops to the EOF within the first call.
func TestAudit5ChunkCutShortCalls(t *testing.T) {
	resp := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c := arrivedClosed(t, m, resp)
			want := []step{{StatusBody, "", StatusBody}, {StatusBody, "", StatusDisconnected}}
			if m.blocking {
				want = want[1:]
			}
			assert.Equal(t, want, reads(c, 4))
			assert.False(t, c.BodyComplete(), "§7 D3: cut short")
		})
	}
}

// §1.10.2.2: `5;a=b` sets CONNECTION_ERROR as the size line is parsed and
// the same call reads the chunk once. A chunk cut short by a FIN queued
// behind its first bytes: non-blocking, that one recv returns the bytes
// (not the EOF), so the call ends in CONNECTION_ERROR and nothing more is
// read; blocking, the read loop meets the EOF and close() gives
// DISCONNECTED. With nothing of the chunk there, both modes meet the EOF:
// DISCONNECTED.
func TestAudit5DoomedChunkCutShort(t *testing.T) {
	head := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	tests := []struct {
		name, body string
		nb, bl     Status
	}{
		{"part-of-chunk", "5;a=b\r\nhel", StatusConnectionError, StatusDisconnected},
		{"none-of-chunk", "5;a=b\r\n", StatusDisconnected, StatusDisconnected},
	}
	for _, tt := range tests {
		for _, m := range modes {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				want := tt.nb
				if m.blocking {
					want = tt.bl
				}
				c := arrivedClosed(t, m, head+tt.body)
				assert.Equal(t, []step{{StatusBody, "", want}}, reads(c, 3))
				// ReadResponseBodyChunkInto takes the same status path.
				c = arrivedClosed(t, m, head+tt.body)
				for i := 0; i < 3 && c.Status() == StatusBody; i++ {
					_, _ = c.ReadResponseBodyChunkInto(make([]byte, 64))
				}
				assert.Equal(t, want, c.Status(), "Into")
			})
		}
	}
}

// §1.10.2.2, §1.10.2.4: a size line whose value is 0 when its hex parse
// stops (`0;ext`, a line starting with a non-hex byte) is the last chunk
// while the status is already CONNECTION_ERROR: the call returns nothing,
// reads no further (the FIN behind it is not met) and does not close().
func TestAudit5ZeroNotHexSizeLine(t *testing.T) {
	head := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	bodies := []struct{ name, body string }{
		{"zero-ext-trailer", "0;ext\r\n\r\n"}, {"zero-ext", "0;ext\r\n"}, {"leading-space", " 5\r\nhello\r\n"},
	}
	for _, b := range bodies {
		body := b.body
		for _, m := range modes {
			for _, fin := range []bool{false, true} {
				t.Run(b.name+"/"+m.name+"/fin="+strconv.FormatBool(fin), func(t *testing.T) {
					var c *Client
					if fin {
						c = arrivedClosed(t, m, head+body)
					} else {
						c = arrived(t, m, MethodGet, head+body, false)
					}
					assert.Equal(t, []step{{StatusBody, "", StatusConnectionError}}, reads(c, 3))
					assert.Equal(t, 200, c.ResponseCode(), "no close()")
				})
			}
		}
	}
}

// A model of Godot's HTTPClientTCP over plain TCP (http_client_tcp.cpp:
// poll() from CONNECTED on, request(), read_response_body_chunk(), close(),
// _get_http_data(); stream_peer_tcp.cpp: StreamPeerTCP::poll(), ::read()),
// fed the bytes that have arrived, for the differential tests below. The
// head is parsed with wire.HeadParser (pinned against Godot on its own); the
// model's subject is the status machine, the getters and the bytes of each
// call. The port's deviations that these responses can meet are built in:
// §7 D3 (COMPAT H2, H3) — a FIN in BODY while the body still expects bytes
// is left to the body read; §7 D1 (C1) — a chunk size above 2^24 stops
// there; §7 D2 (R3 through wire's framing of HEAD + chunked, H5) — after a
// response with an ambiguous head the connection is retired.
type godotModel struct {
	q          []byte // bytes in the socket
	fin        bool   // the peer's FIN is behind them
	rst        bool   // the peer's RST has arrived (NetSocketUnix::poll: POLLERR)
	closed     bool   // StreamPeerTCP's status is no longer CONNECTED
	status     Status
	head       []byte // response_str
	method     Method
	chunked    bool
	untilEOF   bool
	bodyLeft   int64
	chunk      []byte
	chunkLeft  int
	trailer    bool
	readChunk  int
	framingLen bool // fixed-length framing (body_size != -1, not chunked)
	blocking   bool
	written    bool // the request was written
	ambiguous  bool // the head's framing was ambiguous (§7 D2)
	headers    []string
	// headMismatch: wire's parser did not end the head where Godot does.
	headMismatch string
	retired      bool // the port closed the connection after it (COMPAT H5)
	// The getters: response_num, body_size, has_response(), chunked.
	code        int
	bodyLen     int64
	has         bool
	chunkedFlag bool
	// tls, when set, is the TLS stream over the socket (audit 6,
	// tlsModel): q is then unused, the records wait in tls.kernel.
	tls *tlsModel
}

// request is HTTPClientTCP::request(): REQUESTING; the response state is
// not reset (§1.7.13).
func (g *godotModel) request(m Method) {
	g.method, g.status, g.head, g.written = m, StatusRequesting, nil, false
}

// retire is COMPAT H5 (§7 D2): after a response whose head was ambiguous,
// once it is complete, the port closes the connection, dropping what
// follows.
func (g *godotModel) retire() {
	if g.ambiguous {
		g.retired, g.q, g.fin = true, nil, false
		if g.tls != nil {
			g.tls.kernel, g.tls.held = nil, nil
		}
	}
}

// close is HTTPClientTCP::close() (the status is set by the caller).
func (g *godotModel) close() {
	g.closed, g.retired = true, false
	g.code, g.bodyLen, g.has, g.headers = 0, -1, false, nil
	g.bodyLeft, g.chunkLeft, g.trailer, g.untilEOF = 0, 0, false, false
}

var (
	errModelEOF   = io.EOF
	errModelReset = syscall.ECONNRESET
)

// recv is HTTPClientTCP::_get_http_data(): in non-blocking mode
// StreamPeerTCP::read(p_block=false), one recv(2); in blocking mode a loop
// of those until n bytes, the end of the stream or an error. The tests
// deliver the FIN before a blocking frame can wait for bytes that never
// come.
func (g *godotModel) recv(n int) ([]byte, error) {
	if g.tls != nil {
		return g.tls.recv(g, n)
	}
	if g.blocking && !g.closed {
		var out []byte
		for len(out) < n {
			if len(g.q) == 0 {
				if !g.fin {
					panic("the model would wait forever")
				}
				g.closed = true
				return out, errModelEOF
			}
			k := min(n-len(out), len(g.q))
			out = append(out, g.q[:k]...)
			g.q = g.q[k:]
		}
		return out, nil
	}
	switch {
	case g.closed:
		return nil, Failed
	case len(g.q) > 0:
		k := min(n, len(g.q))
		b := g.q[:k]
		g.q = g.q[k:]
		return b, nil
	case g.rst: // recv(2) gives the bytes queued before the RST first
		g.closed = true
		return nil, errModelReset
	case g.fin:
		g.closed = true
		return nil, errModelEOF
	}
	return nil, nil
}

func (g *godotModel) bodyExpectsBytes() bool {
	// A negative length (COMPAT R2) is not: the port's poll ends it as
	// Godot's does (CONNECTION_ERROR, getters kept).
	return !g.framingLen || g.bodyLeft > 0
}

// poll is HTTPClientTCP::poll() in REQUESTING, CONNECTED and BODY.
// pollReturn is what HTTPClientTCP::poll() returns, from the status it
// began in and the one it left: ERR_UNCONFIGURED in DISCONNECTED, the
// terminal statuses' own codes, ERR_CONNECTION_ERROR when this call moved
// to CONNECTION_ERROR (a dead connection in CONNECTED or BODY, a failed
// write or read in REQUESTING), OK otherwise.
func pollReturn(before, after Status) godot.Error {
	switch before {
	case StatusDisconnected:
		return godot.ErrUnconfigured
	case StatusConnectionError, StatusTLSHandshakeError:
		return godot.ErrConnectionError
	case StatusCantConnect:
		return godot.ErrCantConnect
	case StatusCantResolve:
		return godot.ErrCantResolve
	}
	if after == StatusConnectionError {
		return godot.ErrConnectionError
	}
	return 0 // OK
}

func (g *godotModel) poll() {
	if g.tls != nil {
		g.tls.tcpPoll(g)
	} else if g.rst {
		g.closed = true // StreamPeerTCP::poll: the socket reports an error, bytes queued or not (§1.6)
	} else if !g.closed && len(g.q) == 0 && g.fin && !(g.status == StatusBody && g.bodyExpectsBytes()) {
		g.closed = true // StreamPeerTCP::poll: readable with 0 bytes (§7 D3 aside)
	}
	switch g.status {
	case StatusConnected, StatusBody:
		if g.tls != nil && !g.retired {
			g.tls.livePoll(g)
		}
		if g.closed || g.retired || (g.tls != nil && g.tls.dead) {
			g.status = StatusConnectionError
		}
	case StatusRequesting:
		if !g.written && g.retired {
			// COMPAT H5: the write to the connection the port closed.
			g.close()
			g.status = StatusConnectionError
			return
		}
		if !g.written {
			// The request is small: one write takes it, unless the FIN
			// made StreamPeerTCP::poll() disconnect (write() → FAILED).
			if g.closed || (g.tls != nil && g.tls.dead) {
				g.close()
				g.status = StatusConnectionError
				return
			}
			g.written = true
		}
		for {
			b, err := g.recv(1)
			if err != nil {
				g.close()
				g.status = StatusConnectionError
				return
			}
			if len(b) == 0 {
				return
			}
			g.head = append(g.head, b[0])
			if !godotHeadEnded(g.head) {
				continue
			}
			gh := parseGodotHead(g.head)
			// §7 D2 (COMPAT R4, H5) is the port's own decision: wire's
			// Ambiguous flag says when the port retires the connection.
			var p wire.HeadParser
			p.HeadRequest = g.method == MethodHead
			var h wire.Head
			h.Reset()
			if n, err := p.Parse(g.head, &h); err != nil || n != len(g.head) {
				g.headMismatch = fmt.Sprintf("wire.HeadParser: %d of %d bytes, %v", n, len(g.head), err)
			}
			bodySize := gh.bodySize
			if g.method == MethodHead {
				bodySize = 0 // if (head_request) { body_size = 0; body_left = 0; }
			}
			g.code, g.bodyLen, g.has, g.chunkedFlag, g.headers = gh.code, bodySize, len(gh.headers) > 0, gh.chunked, gh.headers
			// §7 D1 (COMPAT R3): HEAD + chunked is read as an empty body.
			g.chunked = gh.chunked && g.method != MethodHead
			g.untilEOF, g.framingLen, g.bodyLeft = false, false, bodySize
			g.head = nil
			g.ambiguous = h.Ambiguous
			switch {
			case bodySize != -1 || gh.chunked:
				g.status, g.framingLen = StatusBody, !g.chunked
			case !gh.keepAlive:
				g.status, g.untilEOF, g.bodyLeft = StatusBody, true, 0
			default:
				g.status, g.bodyLeft = StatusConnected, 0
				g.retire()
			}
			return
		}
	}
}

// read is HTTPClientTCP::read_response_body_chunk().
func (g *godotModel) read() string {
	if g.status != StatusBody {
		return ""
	}
	var ret []byte
	var err error
	if g.framingLen && g.bodyLeft < 0 {
		// §7 D1 (COMPAT R2): Godot returns nothing, in BODY, for ever;
		// the port's first read gives its CONNECTION_ERROR once the server
		// closes (§1.6.3): no close(), the getters stay.
		g.status = StatusConnectionError
		return ""
	}
	if g.chunked {
		for {
			if g.trailer {
				var b []byte
				b, err = g.recv(1)
				if len(b) == 0 {
					break
				}
				g.chunk = append(g.chunk, b[0])
				if n := len(g.chunk); b[0] == '\n' && (n < 2 || g.chunk[n-2] != '\r') {
					// §7 D2 (COMPAT R4, H5): a trailer holding a bare LF
					// retires the connection once the body is over.
					g.ambiguous = true
				}
				if n := len(g.chunk); n >= 2 && g.chunk[n-2] == '\r' && g.chunk[n-1] == '\n' {
					if n == 2 {
						g.trailer, g.status, g.chunk = false, StatusConnected, nil
						g.retire()
						break
					}
					g.chunk = nil
				}
			} else if g.chunkLeft == 0 {
				var b []byte
				b, err = g.recv(1)
				if len(b) == 0 {
					break
				}
				g.chunk = append(g.chunk, b[0])
				if len(g.chunk) > 32 {
					g.status = StatusConnectionError
					break
				}
				if n := len(g.chunk); n > 2 && g.chunk[n-2] == '\r' && g.chunk[n-1] == '\n' {
					l := 0
					for _, c := range g.chunk[:n-2] {
						v := -1
						switch {
						case c >= '0' && c <= '9':
							v = int(c - '0')
						case c >= 'a' && c <= 'f':
							v = int(c-'a') + 10
						case c >= 'A' && c <= 'F':
							v = int(c-'A') + 10
						}
						if v < 0 {
							g.status = StatusConnectionError
							break
						}
						l = l<<4 | v
						if l > 1<<24 {
							// §7 D1 (COMPAT C1): the port stops here; Godot
							// goes on to read the oversized chunk.
							g.status = StatusConnectionError
							return ""
						}
					}
					if l == 0 {
						g.trailer, g.chunk = true, nil
						break
					}
					g.chunkLeft = l + 2
					g.chunk = nil
				}
			} else {
				var b []byte
				b, err = g.recv(g.chunkLeft)
				if len(b) == 0 {
					break
				}
				g.chunk = append(g.chunk, b...)
				g.chunkLeft -= len(b)
				if g.chunkLeft == 0 {
					n := len(g.chunk)
					if g.chunk[n-2] != '\r' || g.chunk[n-1] != '\n' {
						g.status = StatusConnectionError
						break
					}
					ret = g.chunk[:n-2]
					g.chunk = nil
				}
				break
			}
		}
	} else {
		toRead := g.readChunk
		if !g.untilEOF {
			toRead = int(min(g.bodyLeft, int64(g.readChunk)))
		}
		for toRead > 0 {
			var b []byte
			b, err = g.recv(toRead)
			if len(b) == 0 {
				break
			}
			ret = append(ret, b...)
			toRead -= len(b)
			if !g.untilEOF {
				g.bodyLeft -= int64(len(b))
			}
			if err != nil {
				break
			}
		}
	}
	if err != nil {
		g.close()
		g.status = StatusConnectionError
		if err == errModelEOF {
			g.status = StatusDisconnected
		}
	} else if g.bodyLeft == 0 && !g.chunked && !g.untilEOF {
		g.status = StatusConnected
		g.retire()
	}
	return string(ret)
}

// modelCase is one exchange for the differential test: one or two
// requests on the connection, the responses' bytes and the pieces they
// arrive in, whether the peer's FIN follows the last.
type modelCase struct {
	methods   []Method
	resps     []string
	cuts      [][]int // piece boundaries of each response, increasing
	fin       bool
	rst       bool // the last response ends with an RST instead of the FIN (non-blocking)
	finFirst  bool // with two requests: the FIN follows the first response, the second gets none
	readChunk int
	odd       []bool // the response was made by oddResponse
	// mid: the frames also make API calls between them (midcall_test.go,
	// midcall): setters, refused calls, consuming getters, mode changes.
	mid bool
}

// genResponse makes a random well-formed head (no ambiguous framing: §7 D2
// changes what follows it) with a fixed-length, chunked, read-until-close or
// no body; last allows what only a last response can have (read until
// close, a corrupt body, extra bytes after it, a cut).
func genResponse(r *rand.Rand, last, fin bool) string {
	var b strings.Builder
	b.WriteString([]string{"HTTP/1.1 200 OK\r\nX-A: 1\r\n", "HTTP/1.1 404 Not Found\r\n", "HTTP/1.0 201 Created\r\nX-B: 2\r\n"}[r.IntN(3)])
	body := func(n int) string { return strings.Repeat(string(rune('a'+r.IntN(26))), n) }
	kinds := 3
	if last {
		kinds = 4
	}
	if r.IntN(8) == 0 {
		// §7 D2 (COMPAT R4, H5): framing another parser would read otherwise.
		b.WriteString([]string{"Content-Length: 3\r\n", "Content-Length: 0,3\r\n", "Transfer-Encoding: gzip\r\n", "Content-Length : 2\r\n"}[r.IntN(4)])
	}
	switch r.IntN(kinds) {
	case 0: // fixed length
		n := r.IntN(700)
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", n, body(n))
	case 1: // chunked
		b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		for range r.IntN(4) {
			n := 1 + r.IntN(400)
			size := fmt.Sprintf("%x", n)
			if r.IntN(4) == 0 {
				size = "0" + strings.ToUpper(size)
			}
			if last && r.IntN(10) == 0 {
				size += ";a=b" // §1.10.2.2
			}
			b.WriteString(size + "\r\n" + body(n) + "\r\n")
		}
		b.WriteString("0\r\n")
		for range r.IntN(3) {
			b.WriteString("X-T: 1\r\n")
		}
		b.WriteString("\r\n")
	case 2: // no body
		b.WriteString("\r\n")
	default: // read until close
		b.WriteString("Connection: close\r\n\r\n" + body(r.IntN(900)))
	}
	resp := b.String()
	if !last {
		return resp
	}
	headLen := strings.Index(resp, "\r\n\r\n") + 4
	if r.IntN(4) == 0 && len(resp) > headLen {
		// A corrupt byte in the body (chunk size lines, terminators).
		at := headLen + r.IntN(len(resp)-headLen)
		resp = resp[:at] + string("\r\n; 0aZ"[r.IntN(7)]) + resp[at+1:]
	}
	if r.IntN(5) == 0 {
		resp += "HTTP/1.1 204 No Content\r\n\r\n" // bytes after the response
	}
	if fin && r.IntN(3) == 0 {
		resp = resp[:r.IntN(len(resp))+1] // cut short
	}
	return resp
}

func genModelCase(r *rand.Rand) modelCase {
	c := modelCase{fin: r.IntN(3) > 0, readChunk: []int{256, 300, 65536}[r.IntN(3)]}
	n := 1 + r.IntN(modelMaxRequests)
	for i := range n {
		m := MethodGet
		if r.IntN(5) == 0 {
			m = MethodHead
		}
		resp := genResponse(r, i == n-1, c.fin)
		odd := modelWide && r.IntN(3) == 0
		if odd {
			resp = oddResponse(r)
		}
		c.odd = append(c.odd, odd)
		var cuts []int
		for range r.IntN(6) {
			cuts = append(cuts, 1+r.IntN(len(resp)))
		}
		slices.Sort(cuts)
		c.methods = append(c.methods, m)
		c.resps = append(c.resps, resp)
		c.cuts = append(c.cuts, slices.Compact(cuts))
	}
	c.finFirst = n == 2 && r.IntN(4) == 0
	c.rst = c.fin && !c.finFirst && r.IntN(3) == 0
	return c
}

// mstep is one frame of the differential test: a step and the getters.
type mstep struct {
	step
	Code    int
	Len     int64
	Has     bool
	Chunked bool
	Headers []string // while Has
}

// awaitRequestHead reads from conn until a whole request head has come.
func awaitRequestHead(t *testing.T, conn net.Conn, buf []byte) {
	t.Helper()
	var req []byte
	for !strings.Contains(string(req), "\r\n\r\n") {
		n, err := conn.Read(buf)
		require.NoError(t, err)
		req = append(req, buf[:n]...)
	}
}

// observe is what a frame shows of the client after its poll: the status,
// one read while in BODY (when the frame reads), the status after it and
// the getters.
func observe(c *Client, read bool) mstep {
	s := mstep{step: step{Poll: c.Status()}}
	if read && s.Poll == StatusBody {
		s.Piece = string(c.ReadResponseBodyChunk())
	}
	s.After = c.Status()
	s.Code, s.Len, s.Has, s.Chunked = c.ResponseCode(), c.ResponseBodyLength(), c.HasResponse(), c.IsResponseChunked()
	if s.Has {
		// RawHeaders' strings may share the client's buffer: copy them.
		for _, h := range c.RawHeaders() {
			s.Headers = append(s.Headers, strings.Clone(h))
		}
	}
	return s
}

// observe is the same for the model.
func (g *godotModel) observe(read bool) mstep {
	m := mstep{step: step{Poll: g.status}}
	if read && m.Poll == StatusBody {
		m.Piece = g.read()
	}
	m.After = g.status
	m.Code, m.Len, m.Has, m.Chunked = g.code, g.bodyLen, g.has, g.chunkedFlag
	if m.Has {
		m.Headers = g.headers
	}
	return m
}

// TestAudit5GodotModel runs random exchanges through the client and
// through the model of Godot's client above, delivering the responses piece
// by piece over loopback and waiting after each piece (and after the FIN)
// until the client's socket holds it; after each arrival one or two frames
// are run — poll(), then read_response_body_chunk() in BODY — and every
// frame must give the same statuses, bytes and getters (§1.6.3, §1.6.4,
// §1.8.6, §1.9, §1.10.1, §1.10.2, §1.10.3, §1.11, §1.12, §1.15.3;
// non-blocking, plain TCP). A second request goes out on the connection when
// both are CONNECTED after the first response.
func TestAudit5GodotModel(t *testing.T) {
	seed, n := modelRuns(5, 150)
	r := rand.New(rand.NewPCG(seed, 1))
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	if testing.Short() {
		n = 30
	}
	for i := range n {
		mc := genModelCase(r)
		t.Run(strconv.Itoa(i), func(t *testing.T) { runModelCase(t, ln, mc, uint64(i), false) })
	}
}

// TestAudit5GodotModelBlocking is TestAudit5GodotModel in blocking mode
// (§1.15.1–2: the head read and the body reads wait, Godot's
// _get_http_data loops to its target or the end): each response is
// delivered whole, the last one followed by the FIN, before its frames run,
// so no call can wait for bytes that never come.
func TestAudit5GodotModelBlocking(t *testing.T) {
	seed, n := modelRuns(6, 100)
	r := rand.New(rand.NewPCG(seed, 1))
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	if testing.Short() {
		n = 20
	}
	for i := range n {
		mc := genModelCase(r)
		for ambiguousFirst(mc) {
			// An ambiguous response before the last can frame more body
			// than it sends (no body, and Content-Length: 3): the blocking
			// reads, Godot's and the port's, would wait for bytes that only
			// a FIN could end, and the FIN comes after the last response.
			mc = genModelCase(r)
		}
		mc.fin, mc.finFirst, mc.rst = true, false, false
		for j := range mc.cuts {
			mc.cuts[j] = nil
		}
		t.Run(strconv.Itoa(i), func(t *testing.T) { runModelCase(t, ln, mc, uint64(i), true) })
	}
}

func runModelCase(t *testing.T, ln *net.TCPListener, mc modelCase, seed uint64, blocking bool) {
	idle := rand.New(rand.NewPCG(seed, 2))
	c, _ := newClient(t, blocking)
	// A blocking call that waits where Godot's would not is a failure,
	// not a hang: Abort ends it (the frames then differ).
	watchdog := time.AfterFunc(driveTimeout, c.Abort)
	defer watchdog.Stop()
	require.NoError(t, c.SetReadChunkSize(mc.readChunk))
	require.NoError(t, connect(t, c, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, nil))
	srv, err := ln.AcceptTCP()
	require.NoError(t, err)
	defer func() { _ = srv.Close() }()
	require.NoError(t, srv.SetDeadline(time.Now().Add(driveTimeout)))
	g := &godotModel{status: StatusConnected, readChunk: mc.readChunk, code: 0, bodyLen: -1, blocking: blocking}
	var got, want []mstep
	var gotMid, wantMid []string
	var gotPoll, wantPoll []godot.Error // what each poll() returned
	midR := rand.New(rand.NewPCG(seed, 3))
	frame := func(mustPoll bool) {
		// Mostly poll() then a read; sometimes a frame without the read or
		// without the poll (a script may do either).
		kind := idle.IntN(6)
		poll, read := kind != 5 || mustPoll, kind != 4
		if mc.mid {
			gm, wm := midcall(c, g, midR, poll, read)
			gotMid, wantMid = append(gotMid, gm...), append(wantMid, wm...)
		}
		if poll {
			gotPoll = append(gotPoll, godot.CodeOf(c.Poll()))
		}
		got = append(got, observe(c, read))
		if poll {
			before := g.status
			g.poll()
			wantPoll = append(wantPoll, pollReturn(before, g.status))
		}
		want = append(want, g.observe(read))
	}
	buf := make([]byte, 4096)
	for i, resp := range mc.resps {
		if c.Status() != StatusConnected || g.status != StatusConnected {
			break
		}
		if i == 1 && mc.finFirst && !c.retired {
			// The FIN arrives while the client is idle, and the next
			// request() comes before any poll() could see it.
			require.NoError(t, srv.CloseWrite())
			waitAcked(t, srv)
			g.fin = true
		}
		retired := c.retired
		require.NoError(t, c.Request(mc.methods[i], "/", nil, ""))
		g.request(mc.methods[i])
		if blocking {
			// The whole response (and the FIN after the last) is there
			// before the Poll that writes the request and reads the head.
			_, err := srv.Write([]byte(resp))
			require.NoError(t, err)
			waitAcked(t, srv)
			g.q = append(g.q, resp...)
			if i == len(mc.resps)-1 {
				require.NoError(t, srv.CloseWrite())
				waitAcked(t, srv)
				g.fin = true
			}
		}
		frame(true) // writes the request
		if mc.mid && c.Status() == StatusDisconnected && g.status == StatusDisconnected {
			break // close() between frames (midcall)
		}
		if (i == 1 && mc.finFirst && !c.retired) || retired {
			// The request met the FIN, or the connection the port closed
			// after an ambiguous response (COMPAT H5): nothing reaches the
			// server.
			for range 4 {
				frame(false)
			}
			break
		}
		awaitRequestHead(t, srv, buf)
		prev := 0
		if blocking {
			prev = len(resp)
		}
		for _, cut := range append(mc.cuts[i], len(resp)) {
			if cut <= prev {
				continue
			}
			if c.retired || (c.st == nil && g.closed) {
				// COMPAT H5: the rest goes nowhere (the model drops it
				// too); or both closed the connection (COMPAT R2).
				break
			}
			_, err := srv.Write([]byte(resp[prev:cut]))
			require.NoError(t, err)
			waitAcked(t, srv)
			if !g.retired {
				g.q = append(g.q, resp[prev:cut]...)
			}
			prev = cut
			for range 1 + idle.IntN(2) {
				frame(false)
			}
		}
		if i == len(mc.resps)-1 && mc.fin && !mc.finFirst && !blocking && !c.retired && !(c.st == nil && g.closed) {
			if mc.rst {
				require.NoError(t, srv.SetLinger(0))
				require.NoError(t, srv.Close())
				if c.st != nil { // the port may have closed it (COMPAT R2)
					waitPeerFIN(t, c)
				}
				g.rst = true
			} else {
				require.NoError(t, srv.CloseWrite())
				waitAcked(t, srv)
				g.fin = true
			}
		}
		for range 6 {
			frame(false)
		}
	}
	assert.Equal(t, want, got, "responses %q to %v cut at %v, FIN %v (after the first: %v, an RST: %v), read_chunk_size %d, calls between frames %q",
		mc.resps, mc.methods, mc.cuts, mc.fin, mc.finFirst, mc.rst, mc.readChunk, wantMid)
	assert.Equal(t, wantMid, gotMid, "calls between frames; responses %q", mc.resps)
	assert.Equal(t, wantPoll, gotPoll, "poll()'s return values; responses %q to %v, FIN %v, an RST %v", mc.resps, mc.methods, mc.fin, mc.rst)
	assert.Empty(t, g.headMismatch, "responses %q", mc.resps)
}

// §1.10.2.7, §1.15.4 under TLS: Godot's StreamPeerMbedTLS::get_partial_data
// loops over records until its count or no more data, so the one read of a
// chunk's data goes on to the end of the stream: a chunk cut short ends in
// the call that took its first bytes — DISCONNECTED after a close_notify,
// CONNECTION_ERROR after a FIN without one — in both modes.
func TestAudit5TLSChunkCutShortSameCall(t *testing.T) {
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "localhost")
	resp := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"
	for _, notify := range []bool{true, false} {
		for _, m := range modes {
			t.Run(m.name+"/close_notify="+strconv.FormatBool(notify), func(t *testing.T) {
				closed := make(chan struct{})
				end := ts.CloseTCP()
				if notify {
					end = ts.Close()
				}
				srv := ts.NewTLS(t, cert, ts.Script(ts.Read(), ts.WriteString(resp), end,
					ts.Do("closed", func(*ts.Conn) error { close(closed); return nil })))
				c, _ := newClient(t, m.blocking)
				require.NoError(t, connect(t, c, "localhost", srv.Port(), TLSClient(ca.Pool(), "")))
				require.NoError(t, c.Request(MethodGet, "/", nil, ""))
				_ = pollWhile(t, c, StatusRequesting)
				require.Equal(t, StatusBody, c.Status())
				awaitClosed(t, closed)
				waitPeerFIN(t, c)
				want := StatusConnectionError
				if notify {
					want = StatusDisconnected
				}
				assert.Equal(t, []step{{StatusBody, "", want}}, reads(c, 3))
			})
		}
	}
}

// modelMaxRequests is how many requests a model case makes on its
// connection at most: 2, or GDHTTP_MODEL_REQUESTS for longer keep-alive
// chains (6 ran about 2,000 cases, seeds 31 and 32, without a difference).
var modelMaxRequests = func() int {
	if v, err := strconv.Atoi(os.Getenv("GDHTTP_MODEL_REQUESTS")); err == nil && v > 0 {
		return v
	}
	return 2
}()
