package httpclient

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// TestTransportIdleClosedByServer: a pooled connection that the server
// closes (a FIN; under TLS a close_notify, then the FIN) or sends bytes on
// unasked while it is idle is closed by the Transport within about idleLook,
// not kept, with its descriptor, until IdleConnTimeout or the next request
// (net/http's read loop closes it at once). The server sees the client's
// close; a later request gets a new connection.
func TestTransportIdleClosedByServer(t *testing.T) {
	ca := ts.NewCA(t)
	for _, tlsOn := range []bool{false, true} {
		for _, how := range []string{"fin", "stray bytes"} {
			t.Run(map[bool]string{false: "tcp", true: "tls"}[tlsOn]+"/"+how, func(t *testing.T) {
				closed := make(chan bool, 2)
				handler := func(c *ts.Conn) {
					if _, err := c.ReadRequest(); err != nil {
						return
					}
					if c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) != nil {
						return
					}
					if c.Index() > 0 {
						_ = c.Hold() // the second connection, for the request after
						return
					}
					time.Sleep(50 * time.Millisecond) // the client pools the connection
					var err error
					if how == "fin" {
						err = c.CloseWrite()
					} else {
						err = c.Write([]byte("HTTP/1.1 200 OK\r\n"))
					}
					if err != nil {
						closed <- false
						return
					}
					closed <- c.WaitClosed(10 * idleLook)
				}
				var srv *ts.Server
				tr := newTransport(t)
				tr.IdleConnTimeout = time.Hour
				if tlsOn {
					srv = ts.NewTLS(t, ca.Issue(t, "localhost"), handler)
					tr.TLS = TLSClient(ca.Pool(), "localhost")
				} else {
					srv = ts.New(t, handler)
				}
				url := srv.URL("/")
				get := func() {
					resp, err := (&http.Client{Transport: tr}).Get(url)
					require.NoError(t, err)
					body, err := io.ReadAll(resp.Body)
					require.NoError(t, err)
					require.NoError(t, resp.Body.Close())
					assert.Equal(t, "ok", string(body))
				}
				get()
				start := time.Now()
				assert.True(t, <-closed, "the client kept the idle connection the server %s", map[string]string{"fin": "closed", "stray bytes": "wrote on"}[how])
				t.Logf("closed %v after the server's move", time.Since(start).Round(time.Millisecond))
				// The liveness check closes the socket (the server sees it) as
				// it finds the end, just before the pool drops the connection.
				assert.Eventually(t, func() bool {
					tr.mu.Lock()
					defer tr.mu.Unlock()
					return len(tr.idle) == 0
				}, time.Second, time.Millisecond, "nothing left in the pool")
				get()
				assert.Equal(t, 2, srv.Accepted(), "a new connection for the next request")
			})
		}
	}
}

// TestTransportWaiterGetsIdleConn: with MaxConnsPerHost, a request waiting
// for its key's only slot gets the connection that turns idle, whenever it
// turns idle: here just after the request joined the queue and before it
// waits (acquireWaits). Before the queue of waiters, putIdle offered the
// connection to whoever was already blocked on a channel, found no one,
// pooled it, and the request then waited for a slot that no one would free
// — until its context ended, or for ever.
func TestTransportWaiterGetsIdleConn(t *testing.T) {
	srv := ts.New(t, ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	tr := newTransport(t)
	tr.MaxConnsPerHost = 1
	first, err := tr.RoundTrip(mustRequest(t, srv.URL("/")))
	require.NoError(t, err)

	queued, release := make(chan struct{}), make(chan struct{})
	acquireWaits = func() { close(queued); <-release }
	t.Cleanup(func() { acquireWaits = nil })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	type result struct {
		body string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL("/"), nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		done <- result{string(b), err}
	}()
	<-queued
	body, err := io.ReadAll(first.Body) // the connection turns idle at its end
	require.NoError(t, err)
	require.NoError(t, first.Body.Close())
	assert.Equal(t, "ok", string(body))
	close(release)
	r := <-done
	require.NoError(t, r.err, "the waiting request did not get the connection that turned idle")
	assert.Equal(t, "ok", r.body)
	assert.Equal(t, 1, srv.Accepted(), "one connection, handed over")
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	return req
}
