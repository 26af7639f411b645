package httpclient

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
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
			waitEnd(t, c)
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

// waitEnd waits until the peer's FIN is at the client (nothing else queued).
func waitEnd(t *testing.T, c *Client) {
	t.Helper()
	deadline := time.Now().Add(driveTimeout)
	for c.st != nil && c.rr == c.rw && c.rerr == nil && time.Now().Before(deadline) {
		if st, _ := c.st.nb.Peek(); st != nbEmpty {
			return
		}
		time.Sleep(time.Millisecond) // loopback delivery of the FIN
	}
}

// arrivedClosed is arrived with the server closing right after resp; it
// returns once the server has closed and the FIN had time to reach the
// client (waitClosed).
func arrivedClosed(t *testing.T, m mode, resp string) *Client {
	t.Helper()
	closed := make(chan struct{})
	srv := ts.New(t, ts.Script(ts.Read(), ts.WriteAndClose([]byte(resp)),
		ts.Do("closed", func(*ts.Conn) error { close(closed); return nil })))
	c, _ := newClient(t, m.blocking)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	_ = pollWhile(t, c, StatusRequesting)
	waitClosed(t, closed)
	return c
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
	for _, body := range []string{"0;ext\r\n\r\n", "0;ext\r\n", " 5\r\nhello\r\n"} {
		for _, m := range modes {
			for _, fin := range []bool{false, true} {
				t.Run(strings.TrimSpace(body[:5])+"/"+m.name+"/fin="+map[bool]string{false: "no", true: "yes"}[fin], func(t *testing.T) {
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
