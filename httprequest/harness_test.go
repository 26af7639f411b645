package httprequest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
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

// outcome is what one request through one driver gave.
type outcome = drive.Outcome[Completion]

// nodes runs the requests of this package's tests through the drivers; the
// callback drivers' error is resultErr(result, LastError()), as Do's.
var nodes = drive.Nodes[Result, Completion]{
	Complete: func(r Result, code int, headers []string, body []byte) Completion {
		return Completion{r, code, headers, body}
	},
	Err:   func(c Completion, last error) error { return resultErr(c.Result, last) },
	Frame: frame,
	Wait:  maxWait,
}

// driverCase is one of the three drivers with the request of most tests:
// RequestRaw, or Do with the same arguments.
type driverCase struct{ drive.Driver }

func (d driverCase) run(t *testing.T, n *HTTPRequest, url string, h []string, m httpclient.Method, b []byte) outcome {
	t.Helper()
	return nodes.Run(t, d.Driver, n, func() error { return n.RequestRaw(url, h, m, b) },
		func(ctx context.Context) (Completion, error) { return n.Do(ctx, url, h, m, b) })
}

// drivers lists the three drivers (§7.3).
var drivers = []driverCase{{drive.Process}, {drive.Threads}, {drive.Do}}

// viaCallback starts a request and calls Process every frame until the
// completion arrives, then a few more frames to prove no second one comes.
func viaCallback(t *testing.T, n *HTTPRequest, url string, h []string, m httpclient.Method, b []byte) outcome {
	t.Helper()
	return nodes.Callback(t, n, func() error { return n.RequestRaw(url, h, m, b) })
}

// newNode returns a node closed when the test ends, every phase change
// checked against the machine (watchPhases).
func newNode(t *testing.T) *HTTPRequest {
	n := New()
	t.Cleanup(n.Close)
	watchPhases(t, n)
	return n
}

// processUntil calls Process once a frame until the node's client reaches
// status (the request must not complete before).
func processUntil(t *testing.T, n *HTTPRequest, status httpclient.Status) {
	t.Helper()
	nodes.ProcessUntil(t, n, func() bool { return n.HTTPClientStatus() == status },
		func() string { return fmt.Sprintf("status %v not reached (at %v)", status, n.HTTPClientStatus()) })
}

// eachDriver runs f once per driver as subtests, each with a new node.
func eachDriver(t *testing.T, f func(t *testing.T, d driverCase, n *HTTPRequest)) {
	drive.Each(t, newNode, func(t *testing.T, d drive.Driver, n *HTTPRequest) { f(t, driverCase{d}, n) })
}

// assertCompletion checks one driver's outcome: the completion's four
// values, and exactly one request_completed.
func assertCompletion(t *testing.T, want Completion, got outcome) {
	t.Helper()
	assert.Equal(t, want.Result, got.C.Result, "result (cause: %v)", got.Err)
	assert.Equal(t, want.ResponseCode, got.C.ResponseCode, "response code")
	assert.Equal(t, want.Headers, got.C.Headers, "headers")
	assert.Equal(t, string(want.Body), string(got.C.Body), "body")
	assert.Equal(t, len(want.Body) == 0, got.C.Body == nil, "empty body is nil")
	assert.Equal(t, 1, got.Callbacks, "exactly one completion")
	if want.Result == ResultSuccess {
		assert.NoError(t, got.Err)
	} else {
		assert.ErrorIs(t, got.Err, want.Result)
		var re *ResultError
		assert.ErrorAs(t, got.Err, &re)
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
