package httpclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type panicBody struct {
	n      int
	closed bool
}

func (p *panicBody) Read(b []byte) (int, error) {
	if p.n > 0 {
		p.n--
		return copy(b, "abc"), nil
	}
	panic("body reader")
}

func (p *panicBody) Close() error { p.closed = true; return nil }

// A request body whose Read panics, through the Transport: the panic
// reaches RoundTrip's caller (net/http's, on its write goroutine, ends the
// program). Once recovered, the Transport still works: with
// MaxConnsPerHost 1 the next request to the same host gets the slot, and
// the body was closed (RoundTrip closes it on every path).
func TestTransportBodyPanics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	tr := &Transport{MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	{
		pb := &panicBody{n: 1}
		ctx := context.Background()
		req, err := http.NewRequestWithContext(ctx, "POST", srv.URL, pb)
		require.NoError(t, err)
		req.ContentLength = 100
		assert.PanicsWithValue(t, "body reader", func() { _, _ = tr.RoundTrip(req) })
		assert.True(t, pb.closed, "the panicking request's body was not closed")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL, strings.NewReader("hello"))
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err, "the next request on the host could not get a connection slot")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "ok", string(b))
}

type failBody struct{ n, failAt int }

func (b *failBody) Read(p []byte) (int, error) {
	if b.n >= b.failAt {
		return 0, errors.New("disk read error")
	}
	k := min(len(p), b.failAt-b.n)
	clear(p[:k])
	b.n += k
	return k, nil
}

func (b *failBody) Close() error { return nil }

// A body read error on a reused connection is the caller's failure, not a
// stale connection: the Transport does not take the body again from
// GetBody and resend it (net/http never retries a body read error; the
// upload audit of session 21).
func TestTransportBodyErrorNotRetried(t *testing.T) {
	var puts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			puts.Add(1)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr}
	resp, err := cl.Get(srv.URL + "/warm")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())

	var gets atomic.Int32
	req, err := http.NewRequest(http.MethodPut, srv.URL+"/up", nil)
	require.NoError(t, err)
	req.Body, req.ContentLength = &failBody{failAt: 200_000}, 1<<20
	req.GetBody = func() (io.ReadCloser, error) { gets.Add(1); return &failBody{failAt: 200_000}, nil }
	_, err = cl.Do(req)
	var be *RequestBodyError
	require.ErrorAs(t, err, &be)
	srv.Close()
	assert.Zero(t, gets.Load(), "GetBody calls")
	assert.LessOrEqual(t, puts.Load(), int32(1), "PUT attempts that reached the server")
}
