package httpclient

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/chunked"
	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// TestDoomedChunk pins §1.10.2.2 where it depends on the mode. A non-hex
// chunk-size line (`5;a=b`, `5\n…`) makes Godot's status CONNECTION_ERROR
// as the line is parsed; the same read_response_body_chunk call then reads
// the chunk's n+2 bytes. Non-blocking, that is what has arrived: a chunk
// not all there is dropped, and nothing more is read (the status is
// already CONNECTION_ERROR). Blocking, the call waits for the whole chunk
// and returns it. Here the server sends part of the chunk and sends the
// rest only when the test lets it.
func TestDoomedChunk(t *testing.T) {
	lines := []struct{ name, line string }{
		{"extension", "5;a=b\r\n"},
		{"space", "5 \r\n"},
		{"lf-only", "5\nX\r\n"}, // a bare LF does not end the line (§1.10.2.1)
	}
	for _, ln := range lines {
		for _, path := range []readPath{pathAppend, pathInto} {
			for _, m := range modes {
				t.Run(ln.name+"/"+path.String()+"/"+m.name, func(t *testing.T) {
					release := make(chan struct{})
					srv := ts.New(t, ts.Script(ts.Read(),
						ts.WriteString(chunkedHead+ln.line+"hel"),
						ts.Do("wait", func(c *ts.Conn) error {
							select {
							case <-release:
							case <-c.Done():
							}
							return nil
						}),
						ts.WriteString("lo\r\n0\r\n\r\n"), ts.Hold()))
					c, _ := newClient(t, m.blocking)
					require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
					require.NoError(t, c.Request(MethodGet, "/", nil, ""))
					require.NoError(t, pollWhile(t, c, StatusRequesting))
					require.Equal(t, StatusBody, c.Status())
					if m.blocking {
						// The read waits for the rest of the chunk.
						time.AfterFunc(50*time.Millisecond, func() { close(release) })
					} else {
						defer close(release)
						// "hel" is at the client before the first read.
						waitArrived(t, c, len(ln.line)+len("hel"))
					}
					got, err := readDoomed(c, path)
					assert.Equal(t, StatusConnectionError, c.Status())
					assert.True(t, errors.Is(err, chunked.ErrNotHex), "error %v wraps ErrNotHex", err)
					assert.True(t, errors.Is(err, ErrConnectionError), "error %v wraps ERR_CONNECTION_ERROR", err)
					assert.True(t, errors.Is(c.LastError(), chunked.ErrNotHex), "LastError %v", c.LastError())
					want := "hello"
					switch {
					case !m.blocking && path == pathAppend:
						want = "" // §1.10.2.2: dropped, not all there in the call
					case !m.blocking:
						want = "hel" // the Into path streams what arrived, then fails
					}
					assert.Equal(t, want, got)
				})
			}
		}
	}
}

// readDoomed reads the body until the status leaves BODY and returns what
// was delivered and the last error.
func readDoomed(c *Client, path readPath) (string, error) {
	var out []byte
	var err error
	buf := make([]byte, 64)
	drive.Until(driveTimeout, func() bool { // one read, and a Poll, per look
		if c.Status() != StatusBody {
			return true
		}
		if path == pathAppend {
			out, err = c.AppendResponseBodyChunk(out)
		} else {
			var n int
			n, err = c.ReadResponseBodyChunkInto(buf)
			out = append(out, buf[:n]...)
		}
		if c.Status() == StatusBody {
			_ = c.Poll()
		}
		return false // the next look sees the status
	})
	return string(out), err
}

// TestDoomedChunkSmallInto is TestDoomedChunk's non-blocking Into path with
// a buffer smaller than the chunk, so that the decision of §1.10.2.2 — a
// chunk of a non-hex size line is read only if all of it is there now
// (haveDoomedChunk) — is taken by a later call, with part of the chunk
// already delivered and the rest buffered. All of it there: the chunk is
// delivered, then CONNECTION_ERROR, as when one call reads it. Only part of
// it there (the rest comes later): what the first call streamed stays
// delivered, the byte buffered behind it is dropped with the chunk, and
// nothing that comes after is read.
func TestDoomedChunkSmallInto(t *testing.T) {
	tests := []struct {
		name, sent, later string
		buf               int
		want              string
	}{
		{"all-there", "5;a=b\r\nhello\r\n", "0\r\n\r\n", 3, "hello"},
		{"part-there", "5;a=b\r\nhel", "lo\r\n0\r\n\r\n", 2, "he"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			srv := ts.New(t, ts.Script(ts.Read(),
				ts.WriteString(chunkedHead+tt.sent),
				ts.Do("wait", func(c *ts.Conn) error {
					select {
					case <-release:
					case <-c.Done():
					}
					return nil
				}),
				ts.WriteString(tt.later), ts.Hold()))
			defer close(release)
			c, _ := newClient(t, false)
			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			require.NoError(t, c.Request(MethodGet, "/", nil, ""))
			require.NoError(t, pollWhile(t, c, StatusRequesting))
			require.Equal(t, StatusBody, c.Status())
			waitArrived(t, c, len(tt.sent))
			var got []byte
			var err error
			buf := make([]byte, tt.buf)
			for i := 0; i < 10 && c.Status() == StatusBody; i++ {
				var n int
				n, err = c.ReadResponseBodyChunkInto(buf)
				got = append(got, buf[:n]...)
			}
			assert.Equal(t, tt.want, string(got))
			assert.Equal(t, StatusConnectionError, c.Status())
			assert.True(t, errors.Is(err, chunked.ErrNotHex), "error %v wraps ErrNotHex", err)
		})
	}
}
