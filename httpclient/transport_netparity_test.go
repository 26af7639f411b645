package httpclient

import (
	"io"
	"net/http"
	"strings"
	"sync"
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

// TestTransportCloseIdleHandoff: CloseIdleConnections does not take a
// finished connection from a request waiting for its slot
// (MaxConnsPerHost): the waiter reuses it, as net/http's.
func TestTransportCloseIdleHandoff(t *testing.T) {
	srv := ts.New(t, ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	c := &http.Client{Transport: &Transport{MaxConnsPerHost: 1}}
	defer c.CloseIdleConnections()
	r1, err := c.Get(srv.URL("/1"))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		r2, err := c.Get(srv.URL("/2"))
		if err == nil {
			_, _ = io.ReadAll(r2.Body)
			r2.Body.Close()
		}
		done <- err
	}()
	time.Sleep(100 * time.Millisecond) // the second request waits for the slot
	c.CloseIdleConnections()
	_, _ = io.ReadAll(r1.Body)
	r1.Body.Close()
	require.NoError(t, <-done)
	assert.Equal(t, 1, srv.Accepted(), "the waiter takes the finished connection")
}

// TestTransportCloseIdleRace: a body ending as CloseIdleConnections runs
// never leaves its connection pooled once both returned (the flag and the
// pool are looked at under one lock).
func TestTransportCloseIdleRace(t *testing.T) {
	srv := ts.New(t, ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	deadline := time.Now().Add(2 * time.Second)
	for i := 0; i < 3000 && time.Now().Before(deadline); i++ {
		tr := &Transport{MaxConnsPerHost: 4}
		req, err := http.NewRequest("GET", srv.URL("/"), nil)
		require.NoError(t, err)
		r, err := tr.RoundTrip(req)
		require.NoError(t, err)
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); <-start; _, _ = io.ReadAll(r.Body); r.Body.Close() }()
		go func() { defer wg.Done(); <-start; tr.CloseIdleConnections() }()
		close(start)
		wg.Wait()
		tr.mu.Lock()
		n := 0
		for _, l := range tr.idle {
			n += len(l)
		}
		closing := tr.closeIdle
		tr.mu.Unlock()
		tr.CloseIdleConnections()
		require.False(t, n > 0 && closing, "iteration %d: a connection stayed pooled after CloseIdleConnections", i)
	}
}

// TestTransportHeaderValueRefused: a value with a control byte other than
// HTAB is refused before anything is dialed, as net/http refuses it (the
// client itself refuses CR, LF and NUL only once connected, §7 D2).
func TestTransportHeaderValueRefused(t *testing.T) {
	tr := &Transport{}
	for _, v := range []string{"a\rb", "a\nb", "a\x00b", "a\x01b", "a\x7fb"} {
		req, err := http.NewRequest("GET", "http://127.0.0.1:1/", nil) // nothing listens: refused before the dial
		require.NoError(t, err)
		req.Header.Set("X-A", "ok")
		req.Header["X-A"] = []string{v}
		_, err = tr.RoundTrip(req)
		assert.ErrorIs(t, err, ErrInvalidParameter, "%q", v)
	}
	req, err := http.NewRequest("GET", "http://127.0.0.1:1/", nil)
	require.NoError(t, err)
	req.Header.Set("X-A", "tab\tand UTF-8 é")
	_, err = tr.RoundTrip(req)
	assert.ErrorIs(t, err, ErrCantConnect, "a valid value gets as far as the connect")
}

// TestTransportChunkedExactReadPooled: as net/http's chunked reader, the
// read that takes a chunked body's last bytes returns io.EOF with them when
// the rest of the framing is already at hand, so a caller that reads
// exactly the body (io.ReadFull of a size it knows) and closes it gives the
// connection back. A framing error found there ends the body at the next
// read, and the connection is not kept.
func TestTransportChunkedExactReadPooled(t *testing.T) {
	for _, tc := range []struct {
		name, resp string
		accepted   int
		nextErr    bool
	}{
		{"last-chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n", 1, false},
		{"trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n", 1, false},
		{"bad-terminator", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 3, true},
		{"no-last-chunk-yet", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", 3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := ts.New(t, ts.RespondEach(tc.resp))
			tr := &Transport{}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			for range 3 {
				r, err := c.Get(srv.URL("/"))
				require.NoError(t, err)
				buf := make([]byte, 5)
				_, err = io.ReadFull(r.Body, buf)
				require.NoError(t, err)
				assert.Equal(t, "hello", string(buf))
				if tc.nextErr {
					_, err = r.Body.Read(buf)
					assert.Error(t, err)
					assert.NotErrorIs(t, err, io.EOF)
				}
				require.NoError(t, r.Body.Close())
			}
			tr.CloseIdleConnections()
			srv.Close()
			assert.Equal(t, tc.accepted, srv.Accepted())
		})
	}
}

// TestTransportUntilCloseBodyCloses: with Strict an HTTP/1.1 response
// without framing is read until the close, and Close says so, as net/http
// (transfer.go: a body delimited by the close). Found by the session 24
// Transport audit.
func TestTransportUntilCloseBodyCloses(t *testing.T) {
	srv := ts.New(t, ts.RespondAndClose("HTTP/1.1 200 OK\r\n\r\nhello"))
	tr := newTransport(t)
	tr.Strict = true
	resp, b := get(t, tr, srv.URL("/"))
	assert.Equal(t, "hello", string(b))
	assert.True(t, resp.Close, "a body read until the close ends the connection")
}

// TestTransportReadAfterEOFAndClose: a body read to its end and then closed
// reads "read on closed response body", as net/http's (not io.EOF again).
// Found by the session 24 Transport audit.
func TestTransportReadAfterEOFAndClose(t *testing.T) {
	srv := ts.New(t, ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	resp, b := get(t, newTransport(t), srv.URL("/")) // read to the end, then closed
	assert.Equal(t, "ok", string(b))
	require.NoError(t, resp.Body.Close(), "a second Close")
	_, err := resp.Body.Read(make([]byte, 1))
	assert.ErrorIs(t, err, errClosedBody)
	assert.NotErrorIs(t, err, io.EOF)
}

// TestTransportRequestShapes: as net/http, a ContentLength with a nil Body
// is refused before anything is sent, and Request.Close beside a
// "Connection: close" header writes the line once. Found by the session 24
// Transport audit.
func TestTransportRequestShapes(t *testing.T) {
	srv := ts.New(t, ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	tr := &Transport{}
	defer tr.CloseIdleConnections()

	req, err := http.NewRequest("POST", srv.URL("/"), nil)
	require.NoError(t, err)
	req.ContentLength = 5
	_, err = tr.RoundTrip(req)
	assert.ErrorIs(t, err, ErrInvalidParameter)
	assert.ErrorContains(t, err, "ContentLength=5 with nil Body")

	for _, v := range []string{"close", "Keep-Alive, Close"} {
		req, err = http.NewRequest("GET", srv.URL("/"), nil)
		require.NoError(t, err)
		req.Header.Set("Connection", v)
		req.Close = true
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	srv.Close()
	reqs := srv.Requests()
	require.Len(t, reqs, 2, "the refused request was not sent")
	assert.Equal(t, 1, strings.Count(string(reqs[0]), "Connection:"), "%q", reqs[0])
	assert.Equal(t, 1, strings.Count(string(reqs[1]), "Connection:"), "%q", reqs[1])
}

// TestTransportNegativeContentLength: a Content-Length below −1 is refused
// by RoundTrip, as net/http refuses it ("bad Content-Length"): the client
// fails the body's first read (ErrNegativeLength, §7 D1), and http.Client
// follows no redirect that carries one. Nothing is retried.
func TestTransportNegativeContentLength(t *testing.T) {
	for _, code := range []string{"200 OK", "302 Found\r\nLocation: /b"} {
		srv := ts.New(t, ts.RespondEach("HTTP/1.1 "+code+"\r\nContent-Length: -5\r\n\r\nhello"))
		resp, err := (&http.Client{Transport: &Transport{}}).Get(srv.URL("/a"))
		if err == nil {
			resp.Body.Close()
		}
		assert.ErrorIs(t, err, ErrConnectionError, code)
		assert.ErrorIs(t, err, ErrNegativeLength, code)
		srv.Close()
		assert.Len(t, srv.Requests(), 1, code)
	}
}
