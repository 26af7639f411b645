package httpclient

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTransportContextEndFreesSlotOfUnclosedBody: with MaxConnsPerHost 1, a
// response whose context ends while its body is open, and whose Body is
// never closed, gives its connection's slot up, as net/http does: the next
// request to the host gets a connection at once. The slot was kept until
// Body.Close, so that request waited for its context to end (for ever
// without one). The context may end with no Read running, or during one;
// a Read after it returns the context's error.
func TestTransportContextEndFreesSlotOfUnclosedBody(t *testing.T) {
	for _, during := range []bool{false, true} {
		t.Run(map[bool]string{false: "no read", true: "during a read"}[during], func(t *testing.T) {
			block := make(chan struct{})
			s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/stall" {
					w.Header().Set("Content-Length", "100")
					_, _ = io.WriteString(w, "ab")
					w.(http.Flusher).Flush()
					<-block
					return
				}
				_, _ = io.WriteString(w, "ok")
			})
			defer close(block)
			tr := newTransport(t)
			tr.MaxConnsPerHost = 1
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/stall", nil)
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			t.Cleanup(func() { _ = resp.Body.Close() }) // after the checks: never closed before
			buf := make([]byte, 2)
			_, err = io.ReadFull(resp.Body, buf)
			require.NoError(t, err)
			readErr := make(chan error, 1)
			if during {
				go func() {
					_, err := resp.Body.Read(make([]byte, 10))
					readErr <- err
				}()
				time.Sleep(20 * time.Millisecond) // the Read blocks
			}
			cancel()
			if during {
				assert.ErrorIs(t, <-readErr, context.Canceled, "the Read in progress")
			}

			ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel2()
			req2, _ := http.NewRequestWithContext(ctx2, http.MethodGet, s.URL+"/ok", nil)
			resp2, err := tr.RoundTrip(req2)
			require.NoError(t, err, "the canceled body kept the host's only slot")
			b, err := io.ReadAll(resp2.Body)
			require.NoError(t, err)
			require.NoError(t, resp2.Body.Close())
			assert.Equal(t, "ok", string(b))

			_, err = resp.Body.Read(buf)
			assert.ErrorIs(t, err, context.Canceled, "a Read after the context ended")
		})
	}
}

// TestTransportClosedBeforeResponseIsEOF: a server that closes the
// connection before any byte of a response fails RoundTrip with an error
// that is io.EOF, as net/http's (retry logic looks for it), and still
// ErrConnectionError around ErrPeerClosed. A head cut short is not io.EOF
// (net/http's is not either), nor is a body cut short (io.ErrUnexpectedEOF
// for the reader), nor is the Client's own error for the same close.
func TestTransportClosedBeforeResponseIsEOF(t *testing.T) {
	addr := sequenceServer(t,
		func(c net.Conn) { readHead(bufio.NewReader(c)) },
		func(c net.Conn) {
			readHead(bufio.NewReader(c))
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Le")
		},
		func(c net.Conn) {
			readHead(bufio.NewReader(c))
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
		},
	)
	tr := newTransport(t)
	hc := &http.Client{Transport: tr}

	_, err := hc.Get("http://" + addr + "/")
	require.Error(t, err)
	assert.ErrorIs(t, err, io.EOF, "closed before any byte")
	assert.ErrorIs(t, err, ErrConnectionError)
	assert.ErrorIs(t, err, ErrPeerClosed)
	assert.NotErrorIs(t, err, io.ErrUnexpectedEOF)

	_, err = hc.Get("http://" + addr + "/")
	require.Error(t, err)
	assert.NotErrorIs(t, err, io.EOF, "a head cut short")
	assert.ErrorIs(t, err, ErrConnectionError)

	resp, err := hc.Get("http://" + addr + "/")
	require.NoError(t, err)
	_, err = io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "a body cut short")
	assert.NotErrorIs(t, err, io.EOF)
}

// TestClientClosedBeforeResponseNotEOF: the Client's own error for a server
// that closes before any byte of a response stays Godot's
// ERR_CONNECTION_ERROR around ErrPeerClosed, never io.EOF: only the
// Transport's RoundTrip error matches io.EOF.
func TestClientClosedBeforeResponseNotEOF(t *testing.T) {
	addr := sequenceServer(t, func(c net.Conn) { readHead(bufio.NewReader(c)) })
	host, portStr, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	port, err := strconv.Atoi(portStr)
	require.NoError(t, err)
	c := New()
	defer c.Close()
	c.SetBlockingMode(true)
	require.NoError(t, c.ConnectToHost(host, port, nil))
	for c.Status() == StatusResolving || c.Status() == StatusConnecting {
		require.NoError(t, c.Poll())
	}
	require.Equal(t, StatusConnected, c.Status())
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	for c.Status() == StatusRequesting {
		err = c.Poll()
	}
	assert.Equal(t, StatusConnectionError, c.Status())
	assert.ErrorIs(t, c.LastError(), ErrPeerClosed)
	assert.NotErrorIs(t, c.LastError(), io.EOF)
	assert.NotErrorIs(t, err, io.EOF)
}

// TestTransportRefusesConnect: CONNECT, in net/http's form (URL.Host, an
// empty path) or the Opaque one, is refused with ErrInvalidParameter
// before anything is dialed, its body closed: Godot's client has no tunnel
// to return as the Body. The request was dialed and then failed
// ("CONNECT target must be host:port"), or, in the Opaque form, sent and
// its 200 returned with an empty Body.
func TestTransportRefusesConnect(t *testing.T) {
	s := newTransportServer(t, echoHandler)
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	for _, form := range []string{"host", "opaque"} {
		t.Run(form, func(t *testing.T) {
			req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Scheme: "http", Host: u.Host}, Host: "example.com:443", Header: http.Header{}}
			if form == "opaque" {
				req.URL.Opaque = "example.com:443"
			}
			body := &closeTracker{Reader: strings.NewReader("x")}
			req.Body, req.ContentLength = body, 1
			resp, err := newTransport(t).RoundTrip(req)
			if resp != nil {
				_ = resp.Body.Close()
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidParameter)
			assert.Contains(t, err.Error(), "CONNECT")
			assert.True(t, body.closed.Load(), "the request body is closed")
			assert.Zero(t, s.accepted.Load(), "nothing is dialed")
		})
	}
}

type closeTracker struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeTracker) Close() error { c.closed.Store(true); return nil }

// TestTransportRequestCancelChannel: closing the deprecated Request.Cancel
// ends the round trip, as net/http's Transport does ("net/http: request
// canceled"): while the request waits for its head, and while its body is
// read. It was ignored: the request waited for the server. A round trip
// that ends without it leaves no goroutine behind (TestMain's goleak).
func TestTransportRequestCancelChannel(t *testing.T) {
	block := make(chan struct{})
	s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/body":
			w.Header().Set("Content-Length", "100")
			_, _ = io.WriteString(w, "ab")
			w.(http.Flusher).Flush()
		case "/ok":
			_, _ = io.WriteString(w, "ok")
			return
		}
		<-block
	})
	defer close(block)
	tr := newTransport(t)

	t.Run("head", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // a bound if Cancel is ignored
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/head", nil)
		ch := make(chan struct{})
		req.Cancel = ch //lint:ignore SA1019 the deprecated field under test
		time.AfterFunc(50*time.Millisecond, func() { close(ch) })
		start := time.Now()
		_, err := tr.RoundTrip(req)
		require.Error(t, err)
		assert.ErrorIs(t, err, errRequestCanceled)
		assert.Less(t, time.Since(start), 5*time.Second)
	})
	t.Run("body", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // a bound if Cancel is ignored
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/body", nil)
		ch := make(chan struct{})
		req.Cancel = ch //lint:ignore SA1019 the deprecated field under test
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		buf := make([]byte, 2)
		_, err = io.ReadFull(resp.Body, buf)
		require.NoError(t, err)
		time.AfterFunc(20*time.Millisecond, func() { close(ch) })
		_, err = io.ReadAll(resp.Body)
		assert.ErrorIs(t, err, errRequestCanceled)
	})
	t.Run("not closed", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/ok", nil)
		req.Cancel = make(chan struct{}) //lint:ignore SA1019 the deprecated field under test
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, "ok", string(b))
	})
}

// TestTransportClientTimeoutWithCancelChannel: http.Client's Timeout, over
// a RoundTripper other than net/http's, closes a Request.Cancel of its own
// as well as ending the context; whichever comes first, the error is a
// timeout (DeadlineExceeded, Timeout()), waiting for the head or reading
// the body.
func TestTransportClientTimeoutWithCancelChannel(t *testing.T) {
	block := make(chan struct{})
	s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			w.Header().Set("Content-Length", "100")
			w.(http.Flusher).Flush()
		}
		<-block
	})
	defer close(block)
	hc := &http.Client{Transport: newTransport(t), Timeout: 100 * time.Millisecond}
	_, err := hc.Get(s.URL + "/head")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())

	resp, err := hc.Get(s.URL + "/body")
	require.NoError(t, err)
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestTransportRefusesBadHostBeforeDialing: a Request.Host holding a
// control byte is refused with ErrInvalidParameter before anything is
// dialed, as net/http refuses it and as header values are refused. The
// client refused CR, LF and NUL too, but only once connected.
func TestTransportRefusesBadHostBeforeDialing(t *testing.T) {
	s := newTransportServer(t, echoHandler)
	tr := newTransport(t)
	for _, h := range []string{"a\r\nX-Injected: 1", "a\x00b", "a\nb", "a\x01b"} {
		req, _ := http.NewRequest(http.MethodGet, s.URL, nil)
		req.Host = h
		resp, err := tr.RoundTrip(req)
		if resp != nil {
			_ = resp.Body.Close()
		}
		assert.ErrorIs(t, err, ErrInvalidParameter, "%q", h)
	}
	assert.Zero(t, s.accepted.Load(), "nothing is dialed")
}
