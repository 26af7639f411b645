package httpclient

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
)

// patternBody is a request body of n bytes made as it is read: it never
// exists whole in memory. It records whether it was closed.
type patternBody struct {
	n, off int64
	closed bool
}

func (p *patternBody) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	k := min(int64(len(b)), p.n-p.off)
	for i := range b[:k] {
		b[i] = byte((p.off + int64(i)) % 251)
	}
	p.off += k
	return int(k), nil
}

func (p *patternBody) Close() error { p.closed = true; return nil }

func patternSum(n int64) string {
	_, sum, _ := drive.SHA256Of(&patternBody{n: n})
	return sum
}

// hashHandler answers with the request's framing and the SHA-256 of its body.
func hashHandler(w http.ResponseWriter, r *http.Request) {
	n, sum, err := drive.SHA256Of(r.Body)
	if err != nil {
		w.WriteHeader(400)
		return
	}
	w.Header().Set("X-Len", fmt.Sprint(r.ContentLength))
	w.Header().Set("X-TE", strings.Join(r.TransferEncoding, ","))
	w.Header().Set("X-Read", fmt.Sprint(n))
	w.Header().Set("X-Sum", sum)
}

// TestTransportStreamsRequestBody: the Transport streams http.Request.Body
// (issue 10): a 64 MiB body is sent without ever being in memory — the
// bytes allocated during the round trip stay far below its size — with
// Godot's Content-Length (§1.7.10); ContentLength −1 (and 0 with a body)
// goes chunked. The body is closed after the request was written.
func TestTransportStreamsRequestBody(t *testing.T) {
	s := newTransportServer(t, hashHandler)
	tr := newTransport(t)
	const size = 64 << 20
	tests := []struct {
		name    string
		length  int64
		wantLen string
		wantTE  string
	}{
		{"known_length", size, fmt.Sprint(size), ""},
		{"unknown_length_chunked", -1, "-1", "chunked"},
		{"zero_length_with_body_chunked", 0, "-1", "chunked"},
	}
	want := patternSum(size)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := &patternBody{n: size}
			req, err := http.NewRequest("PUT", s.URL+"/up", nil)
			require.NoError(t, err)
			req.Body, req.ContentLength = body, tt.length
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			resp, err := (&http.Client{Transport: tr}).Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			runtime.ReadMemStats(&after)
			assert.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, want, resp.Header.Get("X-Sum"), "every byte arrived")
			assert.Equal(t, fmt.Sprint(size), resp.Header.Get("X-Read"))
			assert.Equal(t, tt.wantLen, resp.Header.Get("X-Len"))
			assert.Equal(t, tt.wantTE, resp.Header.Get("X-TE"))
			assert.True(t, body.closed, "the body is closed")
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("allocated %d KiB for a %d MiB upload (server included)", alloc>>10, size>>20)
			assert.Less(t, alloc, uint64(8<<20), "the body is streamed, not buffered")
		})
	}
}

// TestTransportRequestBodyError: a body that fails to read ends the round
// trip with a *url.Error (http.Client's wrapping) that wraps the read error
// and a *RequestBodyError; the body is closed; the connection is not
// pooled.
func TestTransportRequestBodyError(t *testing.T) {
	s := newTransportServer(t, hashHandler)
	tr := newTransport(t)
	boom := errors.New("upload source broke")
	for _, length := range []int64{1 << 20, -1} {
		t.Run(fmt.Sprint(length), func(t *testing.T) {
			body := &errBody{failReader: failReader{n: 200_000, err: boom}}
			req, err := http.NewRequest("POST", s.URL+"/up", nil)
			require.NoError(t, err)
			req.Body, req.ContentLength = body, length
			_, err = (&http.Client{Transport: tr}).Do(req)
			var ue *url.Error
			require.ErrorAs(t, err, &ue)
			assert.ErrorIs(t, err, boom)
			assert.ErrorIs(t, err, ErrConnectionError)
			var be *RequestBodyError
			require.ErrorAs(t, err, &be)
			assert.EqualValues(t, 200_000, be.Read)
			assert.True(t, body.closed, "the body is closed on failure too")
		})
	}
	// A short body is an error too, never a desynced connection.
	req, _ := http.NewRequest("POST", s.URL+"/up", nil)
	req.Body, req.ContentLength = io.NopCloser(strings.NewReader("abc")), 10
	_, err := (&http.Client{Transport: tr}).Do(req)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	// The transport still works.
	resp, b := get(t, tr, s.URL+"/")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Empty(t, b)
}

type errBody struct {
	failReader
	closed bool
}

func (e *errBody) Close() error { e.closed = true; return nil }

// TestTransportRetryWithBody: a request whose reused connection failed
// before the response is sent again on a new connection with the body from
// GetBody; without GetBody a body already read is not resent and the error
// is returned (the retry rules are otherwise unchanged).
func TestTransportRetryWithBody(t *testing.T) {
	for _, withGetBody := range []bool{true, false} {
		t.Run(fmt.Sprint("GetBody=", withGetBody), func(t *testing.T) {
			bodies := make(chan string, 4)
			addr := sequenceServer(t, func(c1 net.Conn) {
				br := bufio.NewReader(c1)
				readHead(br)
				_, _ = io.WriteString(c1, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")
				readHead(br)
				b := make([]byte, 5)
				_, _ = io.ReadFull(br, b)
				bodies <- string(b)
				// No answer to the second request: closed on return.
			}, func(c2 net.Conn) {
				br := bufio.NewReader(c2)
				readHead(br)
				b := make([]byte, 5)
				_, _ = io.ReadFull(br, b)
				bodies <- string(b)
				_, _ = io.WriteString(c2, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nb")
			})
			tr := newTransport(t)
			u := "http://" + addr
			_, b := get(t, tr, u)
			assert.Equal(t, "a", string(b))
			req, _ := http.NewRequest("PUT", u, bytes.NewReader([]byte("hello")))
			if !withGetBody {
				req.GetBody = nil
			}
			resp, err := tr.RoundTrip(req)
			assert.Equal(t, "hello", <-bodies)
			if withGetBody {
				require.NoError(t, err)
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.Equal(t, "b", string(b))
				assert.Equal(t, "hello", <-bodies, "the retry sent the body again")
			} else {
				require.Error(t, err, "a body already read cannot be resent")
				// COMPAT U2: the reused connection's error itself, no retry
				// with the body already drained (which fails as a body
				// shorter than its ContentLength, after a second request
				// head reached the server).
				assert.False(t, errors.As(err, new(*RequestBodyError)), "the error of a retry: %v", err)
				select {
				case b := <-bodies:
					t.Errorf("a second request was sent, its body %q", b)
				case <-time.After(300 * time.Millisecond):
				}
			}
		})
	}
}
