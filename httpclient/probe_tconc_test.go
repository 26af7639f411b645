package httpclient

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// Findings of the concurrent Transport harness (tconc_test.go), each a
// hand-written case that fails on the code it was found on.

// TestProbeTconcNoKeepAliveHandoff: with MaxIdleConnsPerHost < 0 — "none
// are kept, net/http's DisableKeepAlives" (the field's doc) — and
// MaxConnsPerHost, a connection that finishes a response while another
// request waits for the host's slot is handed to that request (putIdle
// looks at the waiters before it looks at the bound), so the connection
// carries a second request. net/http never does: tryPutIdleConn returns
// first ("if t.DisableKeepAlives || t.MaxIdleConnsPerHost < 0 { return
// errKeepAlivesDisabled }"), the connection is closed and the waiter dials
// its own. Godot has no pool (its HTTPRequest uses a fresh connection per
// request, §2.1.4); the rule is the Transport's documented bound and
// net/http parity. Found by TestTransportConcurrentChaos (the server saw
// request #2 of a connection in every run with MaxIdleConnsPerHost -1 and
// MaxConnsPerHost > 0). Deterministic: the second request is queued
// (acquireWaits) before the first body ends.
func TestProbeTconcNoKeepAliveHandoff(t *testing.T) {
	srv := ts.New(t, ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	tr := &Transport{MaxIdleConnsPerHost: -1, MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	first, err := tr.RoundTrip(mustRequest(t, srv.URL("/1")))
	require.NoError(t, err)

	queued := make(chan struct{})
	acquireWaits = func() { close(queued) }
	t.Cleanup(func() { acquireWaits = nil })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL("/2"), nil)
		resp, err := tr.RoundTrip(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			_ = resp.Body.Close()
		}
		done <- err
	}()
	<-queued
	_, err = io.ReadAll(first.Body) // the connection ends its response: not kept
	require.NoError(t, err)
	require.NoError(t, first.Body.Close())
	require.NoError(t, <-done)
	tr.CloseIdleConnections()
	srv.Close()
	assert.Equal(t, 2, srv.Accepted(), "MaxIdleConnsPerHost -1: each request on a connection of its own")
}

// TestProbeTconcRetryAfterEarlyAnswer: a PUT on a reused connection whose
// server answers before reading the body (a 413, "Connection: close"),
// waits until the client's socket has acknowledged the whole answer, and
// closes without draining the body (an RST) is sent a second time, on a
// new connection: the body's write fails, failRequesting sets replied from
// the client's own buffer only (len(c.buffered()) > 0), which holds
// nothing since nothing was read yet, so RoundTrip takes the failure for
// a stale connection. The Transport's doc allows a retry only "before any
// byte of its response", Client.PartialResponse's names net/http's rule
// ("only when nothing of the response came"): here all of it had come.
// net/http's Transport, against the same server, returns the 413 and sends
// the PUT once (checked by hand while writing this probe). Godot has no
// retry: its write failure ends the request — http_client_tcp.cpp,
// STATUS_REQUESTING: "err = connection->put_data(data.ptr() + pos, avail);
// ... if (err != OK) { close(); status = STATUS_CONNECTION_ERROR; return
// ERR_CONNECTION_ERROR; }" (§1.6.4) — so the error the caller gets is
// Godot's (the Transport's doc: "a server that answers early and closes
// fails the request"); what the rule forbids is the second PUT the server
// receives and answers. Found by TestTransportConcurrentChaos (reset
// "early": "sent again after its response had come"). Deterministic: the
// answer is acknowledged (TIOCOUTQ 0) before the reset, and the 16 MiB
// body cannot fit the socket buffers.
func TestProbeTconcRetryAfterEarlyAnswer(t *testing.T) {
	var puts atomic.Int32
	ln := drive.Serve(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			method, hdr, ok := tcReadHead(br)
			if !ok {
				return
			}
			if method == http.MethodPut {
				puts.Add(1)
				if _, err := c.Write([]byte("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")); err == nil {
					drive.AwaitSent(c.(*net.TCPConn), time.Second, 20*time.Millisecond)
				}
				_ = c.(*net.TCPConn).SetLinger(0)
				return // the body unread: the close resets
			}
			tcReadBody(br, hdr)
			if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")); err != nil {
				return
			}
		}
	})
	url := "http://" + ln.Addr().String() + "/"
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(mustRequest(t, url)) // the connection the PUT reuses
	require.NoError(t, err)
	_, _ = io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())

	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(make([]byte, 16<<20)))
	require.NoError(t, err)
	resp, err = tr.RoundTrip(req)
	if err == nil {
		t.Logf("status %d", resp.StatusCode)
		_ = resp.Body.Close()
	} else {
		t.Logf("error %v", err)
	}
	assert.EqualValues(t, 1, puts.Load(), "PUTs the server received: its answer had come, the request is not sent again")
}
