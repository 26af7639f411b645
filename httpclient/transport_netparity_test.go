package httpclient

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// The Transport where a net/http user expects net/http's behaviour (found
// by the Transport audit, each compared with net/http's Transport).

// TestTransportHeaderNameRefused: a header name that is not a token is
// refused before anything is sent, as net/http refuses it: written as is,
// "Transfer-Encoding " (a trailing space) beside Godot's Content-Length is
// the classic smuggling line, and "X-A:b" reads as the field X-A (§7 D2).
func TestTransportHeaderNameRefused(t *testing.T) {
	for _, strict := range []bool{false, true} {
		srv := ts.New(t, ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		tr := &Transport{Strict: strict}
		for _, name := range []string{"Bad Name", "X-A:b", "Transfer-Encoding ", ""} {
			req, err := http.NewRequest("POST", srv.URL("/"), strings.NewReader("0\r\n\r\n"))
			require.NoError(t, err)
			req.Header[name] = []string{"v"}
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
			assert.ErrorIs(t, err, ErrInvalidParameter, "strict=%v: %q", strict, name)
		}
		tr.CloseIdleConnections()
		srv.Close()
		assert.Empty(t, srv.Requests(), "strict=%v: nothing sent", strict)
	}
}

// TestTransportCloseIdleInFlight: CloseIdleConnections also closes a
// connection that carries a request at the time, once it finishes (as
// net/http's, until the next request starts): the usual shutdown call
// leaves no descriptor for IdleConnTimeout.
func TestTransportCloseIdleInFlight(t *testing.T) {
	srv := ts.New(t, ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	c := &http.Client{Transport: &Transport{}}
	get := func() {
		r, err := c.Get(srv.URL("/"))
		require.NoError(t, err)
		_, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	r, err := c.Get(srv.URL("/"))
	require.NoError(t, err)
	c.CloseIdleConnections() // the response's connection is in use
	_, _ = io.ReadAll(r.Body)
	r.Body.Close()
	get() // a new connection
	get() // kept again: the request above ended the closing
	c.CloseIdleConnections()
	srv.Close()
	assert.Equal(t, 2, srv.Accepted())
}

// TestTransportIdempotencyKeyRetried: as net/http, a POST carrying an
// Idempotency-Key (or X-Idempotency-Key) is sent again on a new connection
// when the server closed the kept one under it; without the key it is not.
func TestTransportIdempotencyKeyRetried(t *testing.T) {
	closeOnSecond := func(c *ts.Conn) {
		if c.Index() > 0 {
			ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")(c)
			return
		}
		ts.Script(ts.Read(), ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), ts.Read(), ts.Close())(c)
	}
	for _, key := range []string{"Idempotency-Key", "X-Idempotency-Key", ""} {
		t.Run("key="+key, func(t *testing.T) {
			srv := ts.New(t, closeOnSecond)
			tr := &Transport{}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			r, err := c.Get(srv.URL("/"))
			require.NoError(t, err)
			_, _ = io.ReadAll(r.Body)
			r.Body.Close()
			time.Sleep(10 * time.Millisecond)
			req, err := http.NewRequest("POST", srv.URL("/"), strings.NewReader("x"))
			require.NoError(t, err)
			if key != "" {
				req.Header.Set(key, "k1")
			}
			r, err = c.Do(req)
			if key == "" {
				assert.Error(t, err, "a POST without a key is not sent twice")
				return
			}
			require.NoError(t, err)
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			assert.Equal(t, "ok", string(b))
		})
	}
}
