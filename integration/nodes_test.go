package integration

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
)

// The three drivers of §7.3 — Process (one update step per frame),
// use_threads (a worker, completions delivered by Process) and Do — run the
// same request against the real peer; every test asserts the same completion
// for all three.

// frame is the pause between two Process calls (a game frame is 16 ms;
// shorter keeps the tests fast).
const frame = 200 * time.Microsecond

// outcome is what one request through one driver gave.
type outcome struct {
	c         httprequest.Completion
	err       error // Do's error, or LastError after the callback
	reqErr    error // what RequestRaw returned (callback drivers)
	callbacks int   // completions delivered (must be 1)
	elapsed   time.Duration
}

type driver struct {
	name string
	run  func(t *testing.T, n *httprequest.HTTPRequest, url string, headers []string, m httpclient.Method, body []byte) outcome
}

var drivers = []driver{
	{"process", func(t *testing.T, n *httprequest.HTTPRequest, url string, h []string, m httpclient.Method, b []byte) outcome {
		return viaCallback(t, n, url, h, m, b)
	}},
	{"threads", func(t *testing.T, n *httprequest.HTTPRequest, url string, h []string, m httpclient.Method, b []byte) outcome {
		require.NoError(t, n.SetUseThreads(true))
		return viaCallback(t, n, url, h, m, b)
	}},
	{"do", func(t *testing.T, n *httprequest.HTTPRequest, url string, h []string, m httpclient.Method, b []byte) outcome {
		ctx, cancel := context.WithTimeout(context.Background(), driveTimeout)
		defer cancel()
		start := time.Now()
		c, err := n.Do(ctx, url, h, m, b)
		return outcome{c: c, err: err, callbacks: 1, elapsed: time.Since(start)}
	}},
}

// viaCallback starts a request and calls Process every frame until the
// completion arrives, then a few more frames to prove that no second one
// comes.
func viaCallback(t *testing.T, n *httprequest.HTTPRequest, url string, h []string, m httpclient.Method, b []byte) outcome {
	t.Helper()
	var o outcome
	var got []httprequest.Completion
	n.OnRequestCompleted(func(res httprequest.Result, code int, headers []string, body []byte) {
		got = append(got, httprequest.Completion{Result: res, ResponseCode: code, Headers: headers, Body: body})
	})
	start := time.Now()
	o.reqErr = n.RequestRaw(url, h, m, b)
	if o.reqErr != nil && !errors.Is(o.reqErr, godot.ErrCantConnect) {
		return o // no completion follows (§7 D6)
	}
	deadline := start.Add(driveTimeout)
	for len(got) == 0 {
		require.True(t, time.Now().Before(deadline), "no completion within %v", driveTimeout)
		n.Process()
		if len(got) == 0 {
			time.Sleep(frame)
		}
	}
	o.elapsed = time.Since(start)
	for range 3 {
		n.Process()
	}
	o.callbacks = len(got)
	o.c = got[0]
	o.err = n.LastError()
	return o
}

// eachDriver runs f once per driver as subtests, each with a new node set up
// by setup (nil: Godot's defaults); the node is closed when the subtest ends.
func eachDriver(t *testing.T, setup func(t *testing.T, n *httprequest.HTTPRequest), f func(t *testing.T, d driver, n *httprequest.HTTPRequest)) {
	t.Helper()
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			n := httprequest.New()
			t.Cleanup(n.Close)
			if setup != nil {
				setup(t, n)
			}
			f(t, d, n)
		})
	}
}

// want is the completion a test expects; body checks are separate.
type want struct {
	result  httprequest.Result
	code    int
	headers []string // lines that must be among the delivered headers (§1.8.5 form)
	noBody  bool     // the delivered body must be empty (nil)
}

// checkOutcome asserts the result, the code, the header lines, exactly one
// completion, and an error that matches the result (§2.10).
func checkOutcome(t *testing.T, w want, o outcome) {
	t.Helper()
	require.NoError(t, o.reqErr, "Request")
	assert.Equal(t, w.result, o.c.Result, "result (cause: %v)", o.err)
	assert.Equal(t, w.code, o.c.ResponseCode, "response code")
	for _, h := range w.headers {
		assert.True(t, hasHeader(o.c.Headers, h), "header %q in %q", h, o.c.Headers)
	}
	if w.noBody {
		assert.Nil(t, o.c.Body, "no body")
	}
	assert.Equal(t, 1, o.callbacks, "exactly one completion")
	if w.result == httprequest.ResultSuccess {
		assert.NoError(t, o.err)
		return
	}
	assert.ErrorIs(t, o.err, w.result)
	switch w.result {
	case httprequest.ResultChunkedBodySizeMismatch, httprequest.ResultBodySizeLimitExceeded, httprequest.ResultBodyDecompressFailed,
		httprequest.ResultDownloadFileCantOpen, httprequest.ResultDownloadFileWriteError, httprequest.ResultRedirectLimitReached:
		// §2.10: these carry the response's code and headers.
	default:
		assert.Nil(t, o.c.Headers, "§2.10: no headers with %v", w.result)
		assert.Zero(t, o.c.ResponseCode, "§2.10: code 0 with %v", w.result)
	}
	assert.Nil(t, o.c.Body, "§2.10: a body only with RESULT_SUCCESS")
}

// jsonBody decodes a JSON object body.
func jsonBody(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m), "JSON body %q", body)
	return m
}
