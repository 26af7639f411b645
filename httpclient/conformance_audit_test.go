package httpclient

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// Audit against Godot 4's http_client_tcp.cpp: areas found identical, pinned
// in both modes (these pass; they are the audit's evidence).

// §1.7.3, §1.10: request() outside CONNECTED fails with
// ERR_INVALID_PARAMETER and changes nothing (`ERR_FAIL_COND_V(status !=
// STATUS_CONNECTED, ERR_INVALID_PARAMETER)` comes before anything is
// touched); read_response_body_chunk() outside BODY returns an empty array
// and changes nothing (`ERR_FAIL_COND_V(status != STATUS_BODY, …)`).
func TestAuditRequestInBodyAndReadInConnected(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"))
			c, _ := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			assert.Nil(t, c.ReadResponseBodyChunk(), "read in CONNECTED")
			assert.Equal(t, StatusConnected, c.Status())
			require.NoError(t, c.Request(MethodGet, "/", nil, ""))
			assert.Nil(t, c.ReadResponseBodyChunk(), "read in REQUESTING")
			assert.ErrorIs(t, c.Request(MethodGet, "/", nil, ""), ErrInvalidParameter, "request in REQUESTING")
			_ = pollWhile(t, c, StatusRequesting)
			require.Equal(t, StatusBody, c.Status())
			assert.ErrorIs(t, c.Request(MethodGet, "/again", nil, ""), ErrInvalidParameter, "request in BODY")
			assert.Equal(t, StatusBody, c.Status())
			assert.Equal(t, 200, c.ResponseCode())
			assert.Equal(t, int64(5), c.ResponseBodyLength())
			assert.True(t, c.HasResponse())
			var r result
			readBody(t, c, pathChunks, &r)
			assert.Equal(t, "hello", r.Body)
			assert.Equal(t, StatusConnected, c.Status())
			assert.Nil(t, c.ReadResponseBodyChunk(), "read in CONNECTED after the body")
			assert.Equal(t, StatusConnected, c.Status())
			assert.Equal(t, []string{"Content-Length: 5", "X-A: 1"}, c.ResponseHeaders())
			assert.False(t, c.HasResponse())
			assert.Nil(t, c.ResponseHeaders(), "consumed")
		})
	}
}

// §1.8.7, §1.9: 100 Continue is the final response (code 100, no header
// lines: has_response() false, CONNECTED); the 200 that follows stays in the
// socket and answers the next request at once. 304 with a Content-Length
// waits for that many bytes in BODY (no special case for 1xx/204/304).
func TestAuditInformationalAndNotModified(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ts.New(t, ts.Script(ts.Read(),
				ts.WriteString("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
				ts.Read(),
				ts.WriteString("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"),
				ts.Hold()))
			c, _ := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			require.NoError(t, c.Request(MethodGet, "/", nil, ""))
			_ = pollWhile(t, c, StatusRequesting)
			assert.Equal(t, StatusConnected, c.Status())
			assert.Equal(t, 100, c.ResponseCode())
			assert.False(t, c.HasResponse())
			assert.Equal(t, int64(-1), c.ResponseBodyLength())
			require.NoError(t, c.Request(MethodGet, "/2", nil, ""))
			_ = pollWhile(t, c, StatusRequesting)
			require.Equal(t, StatusBody, c.Status())
			assert.Equal(t, 200, c.ResponseCode())
			var r result
			readBody(t, c, pathChunks, &r)
			assert.Equal(t, "ok", r.Body)
			require.NoError(t, c.Request(MethodGet, "/3", nil, ""))
			_ = pollWhile(t, c, StatusRequesting)
			require.Equal(t, StatusBody, c.Status())
			assert.Equal(t, 304, c.ResponseCode())
			assert.Equal(t, int64(5), c.ResponseBodyLength())
			if !m.blocking {
				for range 5 {
					require.NoError(t, c.Poll())
					assert.Empty(t, c.ReadResponseBodyChunk())
					time.Sleep(pollGap) // the scenario: nothing comes over a few polls
				}
				assert.Equal(t, StatusBody, c.Status(), "304 waits for its declared body")
			}
		})
	}
}

// §1.11.4: get_response_headers_as_dictionary(): key before the first ':',
// value after it, both stripped, the last duplicate wins, lines without ':'
// skipped, a line starting with ':' gives the key "" (Godot: `sp == -1` is
// the only skip); it consumes the headers.
func TestAuditHeadersAsDictionary(t *testing.T) {
	srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nSet-Cookie: c=3\r\n"+
		"NoColon\r\n: empty-name\r\nX-V:  a: b  \r\nContent-Length: 0\r\n\r\n"))
	c, _ := newClient(t, false)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	_ = pollWhile(t, c, StatusRequesting)
	assert.Equal(t, map[string]string{
		"Set-Cookie": "c=3", "set-cookie": "b=2", "": "empty-name", "X-V": "a: b", "Content-Length": "0",
	}, c.ResponseHeadersAsDictionary())
	assert.False(t, c.HasResponse())
	assert.Empty(t, c.ResponseHeadersAsDictionary())
}
