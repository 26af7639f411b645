package httprequest

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// The harness runs one server behaviour through each of the three drivers of
// §7.3 — Process (one step per frame), use_threads (worker + Process), Do —
// and the tests assert that all three give the same four values.

// frame is the pause between two Process calls in the tests (a game frame is
// 16 ms; shorter keeps the tests fast).
const frame = 200 * time.Microsecond

// maxWait bounds every wait in the tests (the machine may be loaded).
const maxWait = 15 * time.Second

type outcome struct {
	c         Completion
	err       error // Do's error, or resultErr(result, LastError()) for the callback drivers
	reqErr    error // what Request returned (callback drivers); nil for Do
	frames    int   // Process calls until the completion (callback drivers)
	callbacks int   // completions delivered (must be 1)
}

type driverCase struct {
	name string
	run  func(t *testing.T, n *HTTPRequest, url string, headers []string, method httpclient.Method, body []byte) outcome
}

var drivers = []driverCase{
	{"process", func(t *testing.T, n *HTTPRequest, url string, h []string, m httpclient.Method, b []byte) outcome {
		return viaCallback(t, n, url, h, m, b)
	}},
	{"threads", func(t *testing.T, n *HTTPRequest, url string, h []string, m httpclient.Method, b []byte) outcome {
		require.NoError(t, n.SetUseThreads(true))
		return viaCallback(t, n, url, h, m, b)
	}},
	{"do", func(t *testing.T, n *HTTPRequest, url string, h []string, m httpclient.Method, b []byte) outcome {
		ctx, cancel := context.WithTimeout(context.Background(), maxWait)
		defer cancel()
		c, err := n.Do(ctx, url, h, m, b)
		return outcome{c: c, err: err, callbacks: 1}
	}},
}

// viaCallback starts a request and calls Process every frame until the
// completion arrives, then a few more frames to prove no second one comes.
func viaCallback(t *testing.T, n *HTTPRequest, url string, h []string, m httpclient.Method, b []byte) outcome {
	t.Helper()
	var o outcome
	var got []Completion
	n.OnRequestCompleted(func(res Result, code int, headers []string, body []byte) {
		got = append(got, Completion{res, code, headers, body})
	})
	o.reqErr = n.RequestRaw(url, h, m, b)
	if o.reqErr != nil && !errors.Is(o.reqErr, godot.ErrCantConnect) {
		return o // no completion follows (§7 D6)
	}
	deadline := time.Now().Add(maxWait)
	for len(got) == 0 {
		require.True(t, time.Now().Before(deadline), "no completion within %v", maxWait)
		n.Process()
		o.frames++
		if len(got) == 0 {
			time.Sleep(frame)
		}
	}
	for range 3 {
		n.Process()
	}
	o.callbacks = len(got)
	o.c = got[0]
	o.err = resultErr(o.c.Result, n.LastError())
	return o
}

// eachDriver runs f once per driver as subtests, each with a new node.
func eachDriver(t *testing.T, f func(t *testing.T, d driverCase, n *HTTPRequest)) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			n := New()
			t.Cleanup(n.Close)
			watchPhases(t, n) // every phase change is checked against the machine
			f(t, d, n)
		})
	}
}

// assertCompletion checks one driver's outcome: the completion's four
// values, and exactly one request_completed.
func assertCompletion(t *testing.T, want Completion, got outcome) {
	t.Helper()
	assert.Equal(t, want.Result, got.c.Result, "result (cause: %v)", got.err)
	assert.Equal(t, want.ResponseCode, got.c.ResponseCode, "response code")
	assert.Equal(t, want.Headers, got.c.Headers, "headers")
	assert.Equal(t, string(want.Body), string(got.c.Body), "body")
	assert.Equal(t, len(want.Body) == 0, got.c.Body == nil, "empty body is nil")
	assert.Equal(t, 1, got.callbacks, "exactly one completion")
	if want.Result == ResultSuccess {
		assert.NoError(t, got.err)
	} else {
		assert.ErrorIs(t, got.err, want.Result)
		var re *ResultError
		assert.ErrorAs(t, got.err, &re)
	}
}

func urlFor(host string, port int, path string) string {
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + path
}

// serve starts a loopback server with handler for one driver run.
func serve(t *testing.T, handler func(c *testserver.Conn), opts ...testserver.Option) *testserver.Server {
	t.Helper()
	return testserver.New(t, handler, opts...)
}

// acceptGzipHeader is the header the node adds (§2.4.6).
const acceptGzipHeader = "Accept-Encoding: gzip, deflate"
