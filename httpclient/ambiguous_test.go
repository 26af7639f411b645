package httpclient

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// ambiguousCase is a response head the parser flags Ambiguous (§7 D2): one
// flag class of wire.HeadParser.Parse with one of Godot's framings.
type ambiguousCase struct {
	class   string
	framing wire.Framing
	lines   []string // header lines after the status line
	status  string   // the status line, when not "HTTP/1.1 200 OK"
	strict  bool
	stored  []string // what Godot stores (§1.8.5), when it differs from lines
	bodyLen int64
}

// The bytes after each head: Godot's framing reads "hello" from the first
// two; without framing they stay in Godot's socket (§1.9 row 3), and the
// port drops them with the connection.
var ambiguousBodies = map[wire.Framing]string{
	wire.FramingNone:    "hello",
	wire.FramingLength:  "hello",
	wire.FramingChunked: "5\r\nhello\r\n0\r\n\r\n",
}

var ambiguousCases = []ambiguousCase{
	// White space before the colon of a framing header: Godot ignores the line.
	{class: "space-before-colon", framing: wire.FramingNone, lines: []string{"Content-Length : 5"}, bodyLen: -1},
	{class: "space-before-colon", framing: wire.FramingLength, lines: []string{"Content-Length: 5", "Transfer-Encoding : chunked"}, bodyLen: 5},
	{class: "space-before-colon", framing: wire.FramingChunked, lines: []string{"Transfer-Encoding: chunked", "Content-Length : 5"}, bodyLen: -1},
	// A Content-Length that is not plain digits (Godot's to_int).
	{class: "length-not-digits", framing: wire.FramingNone, lines: []string{"Content-Length: -1"}, bodyLen: -1},
	{class: "length-not-digits", framing: wire.FramingLength, lines: []string{"Content-Length: 5x"}, bodyLen: 5},
	{class: "length-not-digits", framing: wire.FramingChunked, lines: []string{"Transfer-Encoding: chunked", "Content-Length: 1,2"}, bodyLen: 12},
	// Content-Length values that differ (the last wins).
	{class: "differing-lengths", framing: wire.FramingNone, lines: []string{"Content-Length: 3", "Content-Length: -1"}, bodyLen: -1},
	{class: "differing-lengths", framing: wire.FramingLength, lines: []string{"Content-Length: 3", "Content-Length: 5"}, bodyLen: 5},
	{class: "differing-lengths", framing: wire.FramingChunked, lines: []string{"Transfer-Encoding: chunked", "Content-Length: 3", "Content-Length: 5"}, bodyLen: 5},
	// Content-Length together with a Transfer-Encoding.
	{class: "length-and-transfer-encoding", framing: wire.FramingLength, lines: []string{"Content-Length: 5", "Transfer-Encoding: identity"}, bodyLen: 5},
	{class: "length-and-transfer-encoding", framing: wire.FramingChunked, lines: []string{"Content-Length: 5", "Transfer-Encoding: chunked"}, bodyLen: 5},
	{class: "length-and-transfer-encoding-strict", framing: wire.FramingChunked, strict: true, lines: []string{"Content-Length: 5", "Transfer-Encoding: chunked"}, bodyLen: -1}, // RFC 9112 §6.3: the length is unknown (issue 7 rule 10)
	// A framing header matched only through Godot's Unicode lower-casing.
	{class: "unicode-fold", framing: wire.FramingNone, lines: []string{"Transfer-Encod\u0130ng: identity"}, bodyLen: -1},
	{class: "unicode-fold", framing: wire.FramingLength, lines: []string{"Content-Length: 5", "Connect\u0130on: close"}, bodyLen: 5},
	{class: "unicode-fold", framing: wire.FramingChunked, lines: []string{"Transfer-Encod\u0130ng: chunked"}, bodyLen: -1},
	// A framing line folded onto the one before (obs-fold): Godot strips the
	// white space and frames by it; RFC parsers read a continuation.
	{class: "obs-fold", framing: wire.FramingLength, lines: []string{"X: a", " Content-Length: 5"},
		stored: []string{"X: a", "Content-Length: 5"}, bodyLen: 5},
	{class: "obs-fold", framing: wire.FramingChunked, lines: []string{"X: a", "\tTransfer-Encoding: chunked"},
		stored: []string{"X: a", "Transfer-Encoding: chunked"}, bodyLen: -1},
	// A bare CR inside a line (kept, as Godot keeps it) before a framing or
	// Connection line, which a parser that ends lines at a CR would read.
	{class: "bare-cr", framing: wire.FramingNone, lines: []string{"X-A: 1\rContent-Length: 5"}, bodyLen: -1},
	{class: "bare-cr", framing: wire.FramingLength, lines: []string{"Content-Length: 5", "X-A: 1\rTransfer-Encoding: chunked"}, bodyLen: 5},
	{class: "bare-cr", framing: wire.FramingChunked, lines: []string{"Transfer-Encoding: chunked", "X-A: 1\r connection: close"}, bodyLen: -1},
	// A NUL: Godot's String::utf8 drops the rest of the head, here with a
	// framing or Connection line in it.
	{class: "nul", framing: wire.FramingNone, lines: []string{"X-N: a\x00b", "Content-Length: 5"}, stored: []string{"X-N: a"}, bodyLen: -1},
	{class: "nul", framing: wire.FramingLength, lines: []string{"Content-Length: 5", "X-N: a\x00b", "Connection: close"},
		stored: []string{"Content-Length: 5", "X-N: a"}, bodyLen: 5},
	{class: "nul", framing: wire.FramingChunked, lines: []string{"Transfer-Encoding: chunked", "X-N: a\x00b\rContent-Length: 9"},
		stored: []string{"Transfer-Encoding: chunked", "X-N: a"}, bodyLen: -1},
	// RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message is faulty
	// framing (read until the close); Godot reads it chunked.
	{class: "http10-transfer-encoding", framing: wire.FramingChunked, status: "HTTP/1.0 200 OK",
		lines: []string{"Connection: keep-alive", "Transfer-Encoding: chunked"}, bodyLen: -1},
	{class: "http10-transfer-encoding-strict", framing: wire.FramingChunked, strict: true, status: "HTTP/1.0 200 OK",
		lines: []string{"Connection: keep-alive", "Transfer-Encoding: chunked"}, bodyLen: -1},
}

func (a ambiguousCase) head() string {
	status := a.status
	if status == "" {
		status = "HTTP/1.1 200 OK"
	}
	return status + "\r\n" + strings.Join(a.lines, "\r\n") + "\r\n\r\n"
}

func (a ambiguousCase) name() string {
	return a.class + "/" + [...]string{"no-framing", "length", "chunked", "until-close"}[a.framing]
}

// TestAmbiguousResponses checks issue 7 rule 1 (§7 D2): a response whose
// head is flagged Ambiguous is delivered exactly as Godot delivers it —
// status path (CONNECTED after a head without framing, BODY → CONNECTED
// after a body), HasResponse, code, headers, body length, body — in both
// modes and on both read paths. Only the connection differs afterwards: the
// client has closed it (the server sees the close at once, the bytes after
// the response are dropped), KeepAlive is false, and the next step fails as
// in Godot once a server closed a kept-alive connection: a Poll in
// CONNECTED → CONNECTION_ERROR without close() (§1.6.3, the response
// getters keep their values), or a new Request → REQUESTING and its Poll →
// CONNECTION_ERROR with close() (§1.6.4.1), both with ErrNotReusable.
func TestAmbiguousResponses(t *testing.T) {
	for _, ac := range ambiguousCases {
		resp := ac.head() + ambiguousBodies[ac.framing]
		// The case must be what it claims: the parser flags it, with
		// Godot's framing.
		p := wire.HeadParser{Strict: ac.strict}
		var h wire.Head
		n, err := p.Parse([]byte(resp), &h)
		require.NoError(t, err, ac.name())
		require.Equal(t, len(ac.head()), n, ac.name())
		require.True(t, h.Ambiguous, "%s: the parser must flag it", ac.name())
		require.Equal(t, ac.framing, h.Framing, ac.name())
		stored := ac.stored
		if stored == nil {
			stored = ac.lines
		}
		body, trace := "hello", statuses(StatusBody, StatusConnected)
		if ac.framing == wire.FramingNone {
			body, trace = "", statuses(StatusConnected)
		}
		for _, next := range []string{"poll", "request"} {
			for _, m := range modes {
				for _, path := range []readPath{pathChunks, pathInto} {
					t.Run(ac.name()+"/"+next+"/"+m.name+"/"+path.String(), func(t *testing.T) {
						t.Parallel()
						closed := make(chan struct{})
						srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString(resp), ts.WaitClosed(driveTimeout),
							ts.Do("closed", func(*ts.Conn) error { close(closed); return nil })))
						c, tr := newClient(t, m.blocking)
						c.SetStrict(ac.strict)
						require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
						r := exchange(t, c, getRoot, path)

						// The response, exactly as Godot delivers it.
						assert.Equal(t, concat(connected, trace...), *tr, "issue 7 rule 1: Godot's status path")
						assert.Equal(t, 200, r.Code)
						assert.True(t, r.HasResp)
						assert.Equal(t, stored, r.Headers)
						assert.Equal(t, ac.bodyLen, r.BodyLen)
						assert.Equal(t, ac.framing == wire.FramingChunked, r.Chunked)
						assert.Equal(t, body, r.Body)
						if path == pathInto {
							assert.Equal(t, io.EOF, r.IntoErr)
						}
						assert.True(t, c.BodyComplete())
						assert.NoError(t, c.LastError())

						// The connection: closed by the client, not reusable.
						assert.False(t, c.KeepAlive(), "§7 D2")
						select {
						case <-closed: // the server saw the client close at the end of the response
						case <-time.After(driveTimeout):
							t.Error("the client did not close the connection")
						}
						assert.True(t, c.HasResponse(), "the response getters keep their values")

						switch next {
						case "poll":
							err := c.Poll()
							assert.True(t, errors.Is(err, ErrConnectionError), "%v", err)
							assert.True(t, errors.Is(err, ErrNotReusable), "%v", err)
							assert.Equal(t, concat(connected, append(trace, StatusConnectionError)...), *tr)
							assert.Equal(t, 200, c.ResponseCode(), "§1.6.3.1: no close()")
							assert.Equal(t, stored, c.ResponseHeaders())
							assert.True(t, errors.Is(c.Request(MethodGet, "/", nil, ""), ErrInvalidParameter), "§1.7.3")
						case "request":
							require.NoError(t, c.Request(MethodGet, "/", nil, ""))
							assert.Equal(t, StatusRequesting, c.Status())
							err := c.Poll()
							assert.True(t, errors.Is(err, ErrConnectionError), "%v", err)
							assert.True(t, errors.Is(err, ErrNotReusable), "%v", err)
							assert.Equal(t, concat(connected, append(trace, StatusRequesting, StatusConnectionError)...), *tr)
							assert.Equal(t, 0, c.ResponseCode(), "§1.6.4.1: close()")
						}
						assert.True(t, errors.Is(c.LastError(), ErrNotReusable))
						assert.Len(t, srv.Requests(), 1, "nothing else was sent")
					})
				}
			}
		}
	}
}

// TestAmbiguousUntilClose checks issue 7 rule 1 for a read-until-close
// body (§1.9 row 2): the peer's close ends it, as in Godot (BODY →
// DISCONNECTED); there is no connection left to retire.
func TestAmbiguousUntilClose(t *testing.T) {
	resp := "HTTP/1.1 200 OK\r\nContent-Length: -1\r\nConnection: close\r\n\r\nhello"
	for _, m := range modes {
		for _, path := range []readPath{pathChunks, pathInto} {
			t.Run(m.name+"/"+path.String(), func(t *testing.T) {
				srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString(resp), ts.Sleep(10*time.Millisecond), ts.Close()))
				c, tr := newClient(t, m.blocking)
				require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
				r := exchange(t, c, getRoot, path)
				assert.Equal(t, concat(connected, StatusBody, StatusDisconnected), *tr)
				assert.Equal(t, "hello", r.Body)
				assert.Equal(t, []string{"Content-Length: -1", "Connection: close"}, r.Headers)
				assert.True(t, c.BodyComplete())
				assert.False(t, c.KeepAlive())
			})
		}
	}
}

// TestHarmlessCRAndNULKeepConnection: a bare CR inside a header line, or a
// NUL whose cut drops no framing or Connection line, is stored as Godot
// stores it (the CR kept, the text after the NUL gone, §1.8.2, §0.4.5), and
// the connection carries the next request as in Godot: no other parser can
// frame the response differently, so §7 D2 does not apply. Before, every
// bare CR was stored as SP and every NUL retired the connection (found by
// the session 24 COMPAT audit).
func TestHarmlessCRAndNULKeepConnection(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		stored     []string
	}{
		{"bare-cr", "X-A: a\rb", []string{"X-A: a\rb", "Content-Length: 5"}},
		{"cr-then-space", "X-A: \r keep-alive", []string{"X-A: \r keep-alive", "Content-Length: 5"}},
		{"nul", "X-N: a\x00b\r\nX-After: 1", []string{"X-N: a"}},
	} {
		for _, m := range modes {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				head := "HTTP/1.1 200 OK\r\n" + tc.line + "\r\nContent-Length: 5\r\n\r\n"
				if tc.name == "nul" {
					head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n" + tc.line + "\r\n\r\n"
					tc.stored = []string{"Content-Length: 5", "X-N: a"}
				}
				srv := ts.New(t, ts.RespondEach(head+"hello"))
				c, _ := newClient(t, m.blocking)
				require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
				for i := range 2 {
					r := exchange(t, c, getRoot, pathChunks)
					assert.Equal(t, 200, r.Code, "request %d", i)
					assert.Equal(t, tc.stored, r.Headers, "request %d: Godot's strings", i)
					assert.Equal(t, "hello", r.Body, "request %d", i)
					assert.True(t, c.KeepAlive(), "request %d", i)
				}
				c.Close()
				assert.Equal(t, 1, srv.Accepted(), "one connection carried both requests")
			})
		}
	}
}

// TestTrailerBareLFRetires: a chunked body whose trailer holds a bare LF
// ("0\r\n\n…") ends where Godot ends it — at the first CR LF line, past
// the LF (§1.10.2.6) — but a parser that takes the LF for a line end ends
// it at once and reads what follows as the next response: the connection
// is not reused (§7 D2), by the client or the Transport, and a smuggled
// response never answers the next request. Found by the session 24
// desync audit.
func TestTrailerBareLFRetires(t *testing.T) {
	const first = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\nHTTP/1.1 299 Smuggled\r\nContent-Length: 4\r\n\r\nevil"
	const fresh = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh"
	for _, m := range modes {
		t.Run("client/"+m.name, func(t *testing.T) {
			srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString(first), ts.Read(), ts.WriteString(fresh), ts.Hold()))
			c, _ := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			r := exchange(t, c, getRoot, pathChunks)
			assert.Equal(t, "hello", r.Body, "Godot's body")
			assert.Equal(t, StatusConnected, c.Status())
			assert.False(t, c.KeepAlive(), "§7 D2: not reused")
			assert.False(t, c.Reusable())
		})
	}
	t.Run("transport", func(t *testing.T) {
		var conns atomic.Int32
		srv := ts.New(t, func(c *ts.Conn) {
			n := conns.Add(1)
			if _, err := c.ReadRequest(); err != nil {
				return
			}
			if n == 1 {
				_ = c.Write([]byte(first))
				if _, err := c.ReadRequest(); err == nil {
					_ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nreuse"))
				}
				return
			}
			_ = c.Write([]byte(fresh))
		})
		tr := newTransport(t)
		for i, want := range []string{"hello", "fresh"} {
			_, b := get(t, tr, srv.URL("/"))
			assert.Equal(t, want, string(b), "request %d", i)
		}
		assert.EqualValues(t, 2, conns.Load(), "a new connection for the second request")
	})
}

// After HEAD no parser reads a body (§1.8.6: Godot's length is 0; RFC
// 9112 §6.3 rule 1), so framing fields that another parser would read
// otherwise leave nothing ambiguous: the connection is reused as in Godot
// — the Poll after the response is OK and the next request goes on it.
func TestHeadOddFramingKeepsConnection(t *testing.T) {
	heads := []string{
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1,234\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-A: 1\rContent-Length: 5\r\n\r\n",
	}
	for i, head := range heads {
		for _, m := range modes {
			t.Run(strconv.Itoa(i)+"/"+m.name, func(t *testing.T) {
				srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString(head),
					ts.Read(), ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), ts.Hold()))
				c, _ := newClient(t, m.blocking)
				require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
				require.NoError(t, c.Request(MethodHead, "/", nil, ""))
				require.NoError(t, pollWhile(t, c, StatusRequesting))
				require.Equal(t, StatusBody, c.Status())
				assert.Empty(t, c.ReadResponseBodyChunk())
				require.Equal(t, StatusConnected, c.Status())
				time.Sleep(10 * time.Millisecond)
				require.NoError(t, c.Poll(), "Godot's poll after the HEAD response")
				require.Equal(t, StatusConnected, c.Status())
				require.NoError(t, c.Request(MethodGet, "/", nil, ""))
				require.NoError(t, pollWhile(t, c, StatusRequesting))
				assert.Equal(t, 200, c.ResponseCode())
				assert.Equal(t, "ok", string(c.ReadResponseBodyChunk()), "the same connection")
			})
		}
	}
}
