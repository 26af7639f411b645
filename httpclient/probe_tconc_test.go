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
