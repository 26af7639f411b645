package integration

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/drive"
)

// The three drivers of §7.3 — Process (one update step per frame),
// use_threads (a worker, completions delivered by Process) and Do — run the
// same request against the real peer; every test asserts the same completion
// for all three.

// frame is the pause between two Process calls (a game frame is 16 ms;
// shorter keeps the tests fast).
const frame = 200 * time.Microsecond

// outcome is what one request through one driver gave.
type outcome = drive.Outcome[httprequest.Completion]

// nodes runs the requests through the drivers; the callback drivers' error
// is Do's for the same completion: a *httprequest.ResultError around the
// node's LastError (the cause).
var nodes = drive.Nodes[httprequest.Result, httprequest.Completion]{
	Complete: func(r httprequest.Result, code int, headers []string, body []byte) httprequest.Completion {
		return httprequest.Completion{Result: r, ResponseCode: code, Headers: headers, Body: body}
	},
	Err: func(c httprequest.Completion, last error) error {
		if c.Result == httprequest.ResultSuccess {
			return nil
		}
		return &httprequest.ResultError{Result: c.Result, Cause: last}
	},
	Frame: frame,
	Wait:  driveTimeout,
}

// driver is one of the three drivers with the request of most tests:
// RequestRaw, or Do with the same arguments.
type driver struct{ drive.Driver }

func (d driver) run(t *testing.T, n *httprequest.HTTPRequest, url string, h []string, m httpclient.Method, b []byte) outcome {
	t.Helper()
	return nodes.Run(t, d.Driver, n, func() error { return n.RequestRaw(url, h, m, b) },
		func(ctx context.Context) (httprequest.Completion, error) { return n.Do(ctx, url, h, m, b) })
}

// eachDriver runs f once per driver as subtests, each with a new node set up
// by setup (nil: Godot's defaults); the node is closed when the subtest ends.
func eachDriver(t *testing.T, setup func(t *testing.T, n *httprequest.HTTPRequest), f func(t *testing.T, d driver, n *httprequest.HTTPRequest)) {
	t.Helper()
	drive.Each(t, func(t *testing.T) *httprequest.HTTPRequest {
		n := httprequest.New()
		t.Cleanup(n.Close)
		if setup != nil {
			setup(t, n)
		}
		return n
	}, func(t *testing.T, d drive.Driver, n *httprequest.HTTPRequest) { f(t, driver{d}, n) })
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
	require.NoError(t, o.ReqErr, "Request")
	assert.Equal(t, w.result, o.C.Result, "result (cause: %v)", o.Err)
	assert.Equal(t, w.code, o.C.ResponseCode, "response code")
	for _, h := range w.headers {
		assert.True(t, hasHeader(o.C.Headers, h), "header %q in %q", h, o.C.Headers)
	}
	if w.noBody {
		assert.Nil(t, o.C.Body, "no body")
	}
	assert.Equal(t, 1, o.Callbacks, "exactly one completion")
	if w.result == httprequest.ResultSuccess {
		assert.NoError(t, o.Err)
		return
	}
	assert.ErrorIs(t, o.Err, w.result)
	switch w.result {
	case httprequest.ResultChunkedBodySizeMismatch, httprequest.ResultBodySizeLimitExceeded, httprequest.ResultBodyDecompressFailed,
		httprequest.ResultDownloadFileCantOpen, httprequest.ResultDownloadFileWriteError, httprequest.ResultRedirectLimitReached:
		// §2.10: these carry the response's code and headers.
	default:
		assert.Nil(t, o.C.Headers, "§2.10: no headers with %v", w.result)
		assert.Zero(t, o.C.ResponseCode, "§2.10: code 0 with %v", w.result)
	}
	assert.Nil(t, o.C.Body, "§2.10: a body only with RESULT_SUCCESS")
}

// jsonBody decodes a JSON object body.
func jsonBody(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m), "JSON body %q", body)
	return m
}
