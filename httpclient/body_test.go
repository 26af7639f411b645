package httpclient

import (
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// TestBodyReader checks BodyReader (ReadResponseBodyChunkInto behind an
// io.Reader) with io.ReadAll in blocking mode: io.EOF at the clean end of
// every framing (§1.10.1, §1.10.2, §7 D3), io.ErrUnexpectedEOF in a
// *BodyError for a body cut short.
func TestBodyReader(t *testing.T) {
	long := strings.Repeat("z", 300000)
	tests := []struct {
		name, resp string
		end        ending
		body       string
		err        error
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n" + long, endHold, long, nil},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedOf(long, 4096), endHold, long, nil},
		{"until-close", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + long, endClose, long, nil},
		{"no-body", "HTTP/1.1 200 OK\r\n\r\n", endHold, "", nil},
		{"length-cut", "HTTP/1.1 200 OK\r\nContent-Length: 300001\r\n\r\n" + long, endClose, long, io.ErrUnexpectedEOF},
		{"chunked-cut", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n" + long[:100], endClose, long[:100], io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ts.New(t, script(tt.resp, delivery{}, tt.end))
			c, _ := newClient(t, true)
			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			require.NoError(t, c.Request(MethodGet, "/", nil, ""))
			require.NoError(t, c.Poll())
			got, err := io.ReadAll(c.BodyReader())
			assert.Equal(t, len(tt.body), len(got))
			assert.Equal(t, tt.body, string(got))
			if tt.err == nil {
				assert.NoError(t, err)
				assert.True(t, c.BodyComplete())
			} else {
				assert.True(t, errors.Is(err, tt.err), "%v", err)
				var be *BodyError
				require.True(t, errors.As(err, &be))
				assert.Equal(t, int64(len(tt.body)), be.Received)
				assert.False(t, c.BodyComplete())
				assert.Equal(t, StatusDisconnected, c.Status(), "as in Godot (§1.10.1.4, §1.10.2.7)")
				_, again := c.ReadResponseBodyChunkInto(make([]byte, 8))
				assert.Equal(t, err, again, "the error is sticky")
			}
		})
	}
	c := New()
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = c.BodyReader() }), "BodyReader allocates nothing")
}

// TestIntoNonBlockingNoData checks ReadResponseBodyChunkInto in non-blocking
// mode: (0, nil) while nothing has arrived, never a wait.
func TestIntoNonBlockingNoData(t *testing.T) {
	srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n"), ts.Hold()))
	c, _ := newClient(t, false)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	_ = pollWhile(t, c, StatusRequesting)
	require.Equal(t, StatusBody, c.Status())
	for i := 0; i < 10; i++ {
		n, err := c.ReadResponseBodyChunkInto(make([]byte, 16))
		assert.Zero(t, n)
		assert.NoError(t, err)
	}
	assert.Equal(t, StatusBody, c.Status())
}

// TestResetInBody checks §1.10.1.4 and §1.10.2.7: a read error (here a RST)
// in the middle of a body is CONNECTION_ERROR, not DISCONNECTED, for every
// framing and both read paths.
func TestResetInBody(t *testing.T) {
	heads := map[string]string{
		"length":      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc",
		"chunked":     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10\r\nxy",
		"until-close": "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc",
	}
	for name, resp := range heads {
		for _, m := range modes {
			for _, path := range readPaths {
				t.Run(name+"/"+m.name+"/"+path.String(), func(t *testing.T) {
					// The RST once the client is in BODY, not 30 ms after the
					// response: a client held back that long met it in
					// REQUESTING, with the head unread (§1.6).
					c, tr := newClient(t, m.blocking)
					srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString(resp), resetAfter(onEntering(c, StatusBody))))
					r := roundTrip(t, c, tr, srv.Host(), srv.Port(), nil, getRoot, path, false)
					assert.Equal(t, concat(connected, StatusBody, StatusConnectionError), r.Trace)
					assert.True(t, errors.Is(r.LastErr, ErrConnectionError), "%v", r.LastErr)
					assert.True(t, errors.Is(r.LastErr, syscall.ECONNRESET), "%v", r.LastErr)
					assert.False(t, r.Complete)
				})
			}
		}
	}
}

// TestIntoEdgeCases: an empty buffer reads nothing; an Abort noticed at the
// start of the call ends the body with ErrAborted.
func TestIntoEdgeCases(t *testing.T) {
	srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd"))
	c, _ := newClient(t, true)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	require.NoError(t, c.Poll())
	n, err := c.ReadResponseBodyChunkInto(nil)
	assert.Zero(t, n)
	assert.NoError(t, err)
	assert.Equal(t, StatusBody, c.Status())
	c.Abort()
	n, err = c.ReadResponseBodyChunkInto(make([]byte, 8))
	assert.Zero(t, n)
	assert.True(t, errors.Is(err, ErrAborted), "%v", err)
	assert.Equal(t, StatusConnectionError, c.Status())
	_, again := c.ReadResponseBodyChunkInto(make([]byte, 8))
	assert.Equal(t, err, again)
}
