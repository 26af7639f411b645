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

// The findings of the concurrent Transport harness (tconc_test.go), each as
// one hand-written case.

// TestTransportNoKeepAliveNoHandoff: with MaxIdleConnsPerHost < 0 — "none
// are kept, net/http's DisableKeepAlives" (the field's doc) — and
// MaxConnsPerHost, a connection that finishes a response while another
// request waits for the host's slot is closed, and the waiter dials its
// own, as net/http's tryPutIdleConn refuses it (errKeepAlivesDisabled). It
// was handed over and carried a second request. Godot has no pool (§2.1.4):
// the rule is the field's doc and net/http's. Deterministic: the second
// request is queued (acquireWaits) before the first body ends.
func TestTransportNoKeepAliveNoHandoff(t *testing.T) {
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

// TestTransportNoRetryAfterEarlyAnswer: a PUT on a reused connection whose
// server answers before reading the body (a 413, "Connection: close"),
// waits until the client's socket has acknowledged the whole answer, and
// closes without draining the body (an RST): the body's write fails, and
// the request ends with Godot's error (§1.6.4: a failed write in
// REQUESTING closes, CONNECTION_ERROR) — sent once. The answer waits in
// the socket, so the response had begun (PartialResponse), and a retry is
// allowed only before any byte of it (the Transport's doc, net/http's
// rule). It was sent a second time: only the client's own buffer was
// looked at. Deterministic: the answer is acknowledged (TIOCOUTQ 0) before
// the reset, and the 16 MiB body cannot fit the socket buffers.
func TestTransportNoRetryAfterEarlyAnswer(t *testing.T) {
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
