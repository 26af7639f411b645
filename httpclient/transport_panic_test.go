package httpclient

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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
