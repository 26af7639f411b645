package httprequest

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// TestResetBeforeBodyStep checks what the node shows after the client's
// §1.6 rule (httpclient: TestPollSocketErrorFirst): Godot's BODY step polls
// the client before it reads (§2.6.1.2), and a poll that meets an RST ends
// the connection whatever was queued before it — so a whole response whose
// connection is reset before the first BODY step ends as RESULT_CONNECTION_ERROR
// with no code, headers or body (§2.6: R4 even mid-body after headers were
// seen), although every byte of the body had arrived.
func TestResetBeforeBodyStep(t *testing.T) {
	sent, reset := make(chan struct{}), make(chan struct{})
	gate := make(chan struct{})
	var opened bool
	t.Cleanup(func() {
		if !opened {
			close(gate) // a failed test does not leave the server waiting
		}
	})
	srv := serve(t, testserver.Script(testserver.Read(),
		testserver.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
		testserver.Do("sent", func(*testserver.Conn) error { close(sent); <-gate; return nil }),
		testserver.Reset(),
		testserver.Do("reset", func(*testserver.Conn) error { close(reset); return nil })))
	n := New()
	defer n.Close()
	var got []Completion
	n.OnRequestCompleted(func(r Result, code int, h []string, b []byte) {
		got = append(got, Completion{r, code, h, b})
	})
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	processUntil(t, n, httpclient.StatusBody)
	<-sent
	close(gate)
	opened = true
	<-reset
	nodes.ProcessUntil(t, n, func() bool { return len(got) > 0 }, func() string { return "no completion" })
	assert.Equal(t, []Completion{{Result: ResultConnectionError}}, got)
	assert.True(t, errors.Is(n.LastError(), syscall.ECONNRESET), "%v", n.LastError())
}

// TestResetDuringBody pins §2.6.1.2 in each driver for a reset that
// arrives mid-body, with bytes queued before it: Process and use_threads
// poll before every read, as Godot's step does, so the poll meets the reset
// and the queued bytes are never read; Do polls at its first BODY step only
// (no frames), so its next blocking read takes the queued bytes and then
// meets the reset — a Godot run where the reset came that much later. Every
// driver ends with RESULT_CONNECTION_ERROR, caused by ECONNRESET.
func TestResetDuringBody(t *testing.T) {
	const first, queued = 65536, 20 // first: one read of download_chunk_size
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		more, reset := make(chan struct{}), make(chan struct{})
		var once sync.Once
		srv := serve(t, testserver.Script(testserver.Read(),
			testserver.WriteString("HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(first+queued+100)+"\r\n\r\n"+strings.Repeat("a", first)),
			testserver.Do("more", func(*testserver.Conn) error { <-more; return nil }),
			testserver.WriteString(strings.Repeat("b", queued)),
			testserver.Reset(),
			testserver.Do("reset", func(*testserver.Conn) error { close(reset); return nil })))
		var got bytes.Buffer
		require.NoError(t, n.SetBodyWriter(writerFunc(func(p []byte) (int, error) {
			once.Do(func() { close(more); <-reset }) // the rest and the reset are in the socket before the next step
			return got.Write(p)
		})))
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		assert.Equal(t, ResultConnectionError, o.C.Result)
		assert.True(t, errors.Is(o.Err, syscall.ECONNRESET), "%v", o.Err)
		want := first
		if d.Do {
			want += queued
		}
		assert.Equal(t, want, got.Len(), "body bytes delivered before the reset")
	})
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
