package httpclient

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// exchange sends req on the connected client and reads the response.
func exchange(t *testing.T, c *Client, req request, path readPath) result {
	t.Helper()
	require.Equal(t, StatusConnected, c.Status())
	require.NoError(t, c.Request(req.method, req.url, req.headers, req.body))
	_ = pollWhile(t, c, StatusRequesting)
	r := result{Code: c.ResponseCode(), HasResp: c.HasResponse(), BodyLen: c.ResponseBodyLength(), Chunked: c.IsResponseChunked()}
	r.Headers = append([]string(nil), c.RawHeaders()...)
	readBody(t, c, path, &r)
	r.Final = c.Status()
	return r
}

// TestKeepAlive checks §1.1.2 and §1.10.3: several requests on one
// connection, each framing leaving the connection CONNECTED.
func TestKeepAlive(t *testing.T) {
	responses := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst",
		"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nsecond\r\n0\r\n\r\n",
		"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nthird",
	}
	for _, m := range modes {
		for _, path := range readPaths {
			t.Run(m.name+"/"+path.String(), func(t *testing.T) {
				steps := []ts.Step{}
				for _, r := range responses {
					steps = append(steps, ts.Read(), ts.WriteString(r))
				}
				srv := ts.New(t, ts.Script(append(steps, ts.Hold())...))
				c, _ := newClient(t, m.blocking)
				require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
				want := []struct {
					code int
					body string
				}{{200, "first"}, {201, "second"}, {204, ""}, {200, "third"}}
				for i, w := range want {
					r := exchange(t, c, request{MethodGet, "/" + string(rune('a'+i)), nil, ""}, path)
					assert.Equal(t, w.code, r.Code, "response %d", i)
					assert.Equal(t, w.body, r.Body, "response %d", i)
					assert.Equal(t, StatusConnected, r.Final, "response %d", i)
					assert.True(t, c.KeepAlive())
				}
				c.Close()
				srv.Close()
				assert.Equal(t, 1, srv.Accepted())
				assert.Len(t, srv.Requests(), 4)
			})
		}
	}
}

// TestStaleBytesCorruptNextResponse checks the §1.9 quirk (with §1.6.4.3:
// bytes after the head stay in the stream): the body of a
// response without framing stays in the stream and becomes the start of the
// next response head (code 200, §1.8.4: the first line no longer starts with
// HTTP).
func TestStaleBytesCorruptNextResponse(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ts.New(t, ts.Script(
				ts.Read(), ts.WriteString("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody"),
				ts.Read(), ts.WriteString("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"), ts.Hold()))
			c, _ := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			r1 := exchange(t, c, getRoot, pathChunks)
			assert.Equal(t, 200, r1.Code)
			assert.Equal(t, "", r1.Body, "§1.9 row 3: no body is read")
			r2 := exchange(t, c, getRoot, pathChunks)
			assert.Equal(t, 200, r2.Code, "the head now starts with the stale bytes")
			assert.Equal(t, []string{"bodyHTTP/1.1 201 Created", "Content-Length: 2"}, r2.Headers)
			assert.Equal(t, "ok", r2.Body)
		})
	}
}

// TestInformationalLeftover checks §1.8.7: a 100 Continue is taken as the
// final response and the real one answers the next request.
func TestInformationalLeftover(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ts.New(t, ts.Script(ts.Read(),
				ts.WriteString("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
				ts.Read(), ts.WriteString("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"), ts.Hold()))
			c, _ := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			r1 := exchange(t, c, request{MethodPost, "/", []string{"Expect: 100-continue"}, "x"}, pathChunks)
			assert.Equal(t, 100, r1.Code)
			assert.False(t, r1.HasResp)
			r2 := exchange(t, c, getRoot, pathChunks)
			assert.Equal(t, 200, r2.Code)
			assert.Equal(t, "ok", r2.Body)
			r3 := exchange(t, c, getRoot, pathChunks)
			assert.Equal(t, 404, r3.Code)
		})
	}
}

// TestFINWhileIdle checks §1.6.3.3: a peer FIN while idle in CONNECTED is
// CONNECTION_ERROR (never DISCONNECTED), found by Poll, without close()
// (§1.6.3.2: the response getters keep their values); a new request is then
// refused (§1.7.3).
func TestFINWhileIdle(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString(okResp), ts.Sleep(30*time.Millisecond), ts.Close()))
			c, tr := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			r := exchange(t, c, getRoot, pathChunks)
			require.Equal(t, "ok", r.Body)
			err := pollWhile(t, c, StatusConnected)
			assert.Equal(t, concat(connected, StatusBody, StatusConnected, StatusConnectionError), *tr)
			assert.True(t, errors.Is(err, ErrConnectionError), "%v", err)
			assert.True(t, errors.Is(err, ErrPeerClosed), "%v", err)
			assert.Equal(t, 200, c.ResponseCode(), "no close(): the response is still there")
			assert.True(t, errors.Is(c.Request(MethodGet, "/", nil, ""), ErrInvalidParameter))
			assert.True(t, errors.Is(c.Poll(), ErrConnectionError))
		})
	}
}

// TestRSTWhileIdle checks §1.6.3: a reset connection is CONNECTION_ERROR.
func TestRSTWhileIdle(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			// The RST once the exchange is over, not 30 ms after the
			// response: a client held back that long met it with the
			// response unread (§1.6), never idle.
			idle := make(chan struct{})
			srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString(okResp), resetAfter(idle)))
			c, _ := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			exchange(t, c, getRoot, pathChunks)
			close(idle)
			err := pollWhile(t, c, StatusConnected)
			assert.Equal(t, StatusConnectionError, c.Status())
			assert.True(t, errors.Is(err, ErrConnectionError), "%v", err)
		})
	}
}

// TestResponseAccessors checks §1.11, §1.8.5 (stored strings: case, order,
// duplicates, lines without ':') and §1.7.13: the consuming getters,
// the Go views that do not consume, and that Request does not reset the
// previous response.
func TestResponseAccessors(t *testing.T) {
	resp := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-type: x\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nNoColon\r\nContent-Length: 2\r\n\r\nok"
	srv := ts.New(t, ts.RespondEach(resp))
	c, _ := newClient(t, true)
	assert.Equal(t, 0, c.ResponseCode(), "§1.11.2: 0 initially")
	assert.Equal(t, int64(-1), c.ResponseBodyLength(), "§1.11.5: −1 initially")
	assert.False(t, c.HasResponse())
	assert.Nil(t, c.ResponseHeaders())
	assert.Empty(t, c.ResponseHeadersAsDictionary())
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	exchange(t, c, getRoot, pathChunks)

	lines := []string{"Content-Type: text/plain", "content-type: x", "Set-Cookie: a=1", "Set-Cookie: b=2", "NoColon", "Content-Length: 2"}
	assert.Equal(t, lines, c.RawHeaders())
	assert.Equal(t, http.Header{"Content-Type": {"text/plain", "x"}, "Set-Cookie": {"a=1", "b=2"}, "Content-Length": {"2"}}, c.Header())
	assert.True(t, c.HasResponse())
	assert.Equal(t, int64(2), c.ResponseBodyLength())

	// §1.7.13: a new request does not reset the response state.
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	assert.Equal(t, 200, c.ResponseCode())
	assert.True(t, c.HasResponse())
	assert.Equal(t, int64(2), c.ResponseBodyLength())
	_ = pollWhile(t, c, StatusRequesting)
	readBody(t, c, pathChunks, &result{})

	// §1.11.3: get_response_headers consumes.
	got := c.ResponseHeaders()
	assert.Equal(t, lines, got)
	got[0] = "changed" // the caller owns the slice
	assert.Nil(t, c.ResponseHeaders())
	assert.False(t, c.HasResponse())
	assert.Equal(t, lines, c.RawHeaders(), "RawHeaders does not consume")
	assert.Equal(t, []string{"text/plain", "x"}, c.Header()["Content-Type"], "Header does not consume")

	// §1.11.4: the dictionary (consumes too; case-sensitive keys, last wins).
	exchange(t, c, getRoot, pathChunks)
	assert.Equal(t, map[string]string{"Content-Type": "text/plain", "content-type": "x", "Set-Cookie": "b=2", "Content-Length": "2"},
		c.ResponseHeadersAsDictionary())
	assert.Empty(t, c.ResponseHeadersAsDictionary())
	assert.False(t, c.HasResponse())

	// §1.12: Close resets the response state but not the chunked flag.
	c.Close()
	assert.Equal(t, 0, c.ResponseCode())
	assert.Equal(t, int64(-1), c.ResponseBodyLength())
	assert.Empty(t, c.RawHeaders())
	assert.Empty(t, c.Header())
	assert.True(t, errors.Is(c.Poll(), ErrUnconfigured), "§1.6: DISCONNECTED → ERR_UNCONFIGURED")
}

// TestChunkedFlagSurvivesClose checks §1.10.5 / §1.11.6: IsResponseChunked
// keeps its value after Close, while nothing else of the chunked body does
// (§7 D3).
func TestChunkedFlagSurvivesClose(t *testing.T) {
	srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"))
	c, _ := newClient(t, false)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	_ = pollWhile(t, c, StatusRequesting)
	require.Equal(t, StatusBody, c.Status())
	// Read until the decoder holds part of the chunk ("hel" of 5 bytes):
	// the non-blocking read takes what has arrived and returns nothing.
	deadline := time.Now().Add(driveTimeout)
	for !c.body.dec.InChunk() && time.Now().Before(deadline) {
		require.Empty(t, c.ReadResponseBodyChunk(), "the chunk is not complete")
		time.Sleep(time.Millisecond)
	}
	require.True(t, c.body.dec.InChunk(), "the decoder is in the middle of the chunk")
	c.Close() // abandoned in the middle of a chunk
	assert.True(t, c.IsResponseChunked())
	assert.False(t, c.body.dec.InChunk(), "§7 D3: the decoder was reset")
	assert.Nil(t, c.body.chunkOut)
}

// TestKeepAliveFlag checks KeepAlive: false after "Connection: close"
// (§1.8.3) and after an ambiguous head (§7 D2, issue 7 rule 1), where the
// status path stays Godot's (CONNECTED) but the client has closed the
// connection (TestAmbiguousResponses has every flag class).
func TestKeepAliveFlag(t *testing.T) {
	tests := []struct {
		name, resp string
		keep       bool
		retired    bool
	}{
		{"keep-alive", okResp, true, false},
		{"connection-close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", false, false},
		{"ambiguous", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 2\r\n\r\nok", false, true},
		{"ambiguous-no-body", "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello", false, true},
	}
	for _, tt := range tests {
		for _, m := range modes {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				srv := ts.New(t, ts.Respond(tt.resp))
				c, _ := newClient(t, m.blocking)
				require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
				require.NoError(t, c.Request(MethodGet, "/", nil, ""))
				_ = pollWhile(t, c, StatusRequesting)
				if c.Status() == StatusBody {
					assert.Equal(t, tt.keep, c.KeepAlive())
				}
				readBody(t, c, pathChunks, &result{})
				assert.Equal(t, StatusConnected, c.Status(), "§1.10.3 / §1.9 row 3")
				assert.Equal(t, tt.keep, c.KeepAlive())
				assert.Equal(t, tt.retired, c.retired)
				assert.Equal(t, 200, c.ResponseCode())
				assert.True(t, c.BodyComplete())
			})
		}
	}
}

// TestLargeHead checks that a response head larger than the read buffer is
// read (the buffer grows up to the head limit) and that one beyond the limit
// is refused (§7 D1).
func TestLargeHead(t *testing.T) {
	big := "X-Big: " + strings.Repeat("v", 100<<10)
	srv := ts.New(t, ts.RespondEach("HTTP/1.1 200 OK\r\n"+big+"\r\nContent-Length: 2\r\n\r\nok"))
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c, _ := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			r := exchange(t, c, getRoot, pathChunks)
			assert.Equal(t, []string{big, "Content-Length: 2"}, r.Headers)
			assert.Equal(t, "ok", r.Body)
		})
	}
}
