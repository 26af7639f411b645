package httprequest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// responseSeen is one call of the response function, with what had reached
// the body writer, download_file and the completion callback by then.
type responseSeen struct {
	code      int
	headers   []string
	written   int  // body bytes the body writer had been given
	fileThere bool // download_file, or its temporary file, existed
	completed bool // request_completed had run
}

// watchResponse sets n's response function and body writer to record into
// the returned slice; file is download_file ("" for none).
func watchResponse(t *testing.T, n *HTTPRequest, file string) *[]responseSeen {
	t.Helper()
	seen := new([]responseSeen)
	var w strings.Builder
	require.NoError(t, n.SetBodyWriter(&w))
	completed := false
	n.OnRequestCompleted(func(Result, int, []string, []byte) { completed = true })
	require.NoError(t, n.SetResponseFunc(func(code int, headers []string) error {
		s := responseSeen{code: code, headers: headers, written: w.Len(), completed: completed}
		if file != "" {
			entries, err := os.ReadDir(filepath.Dir(file))
			require.NoError(t, err)
			s.fileThere = len(entries) > 0
		}
		*seen = append(*seen, s)
		return nil
	}))
	return seen
}

// TestResponseFunc checks SetResponseFunc in every driver: one call, with
// the code and headers the completion reports, before any body byte reaches
// the body writer or download_file and before the completion; none for a
// redirect the node follows, nor when no response came.
func TestResponseFunc(t *testing.T) {
	final := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
	t.Run("after-redirects", func(t *testing.T) {
		eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
			srv := serve(t, route(func(line string, _ []byte) string {
				if strings.HasPrefix(line, "GET /a ") {
					return redirect(302, "/b")
				}
				return final
			}))
			file := filepath.Join(t.TempDir(), "out")
			require.NoError(t, n.SetDownloadFile(file))
			seen := watchResponse(t, n, file)
			got := d.run(t, n, srv.URL("/a"), nil, httpclient.MethodGet, nil)
			require.Equal(t, ResultSuccess, got.C.Result, "%v", got.Err)
			require.Len(t, *seen, 1, "one call, for the final response")
			s := (*seen)[0]
			assert.Equal(t, 200, s.code)
			assert.Equal(t, got.C.Headers, s.headers)
			assert.Equal(t, []string{"Content-Type: text/plain", "Transfer-Encoding: chunked"}, s.headers)
			assert.Zero(t, s.written, "before the body writer's first byte")
			assert.False(t, s.fileThere, "before download_file is opened")
			assert.False(t, s.completed, "before the completion")
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			assert.Equal(t, "hello", string(data))
		})
	})
	t.Run("no-body", func(t *testing.T) {
		eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
			srv := serve(t, route(func(string, []byte) string { return "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n" }))
			seen := watchResponse(t, n, "")
			got := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
			require.Equal(t, ResultSuccess, got.C.Result, "%v", got.Err)
			require.Len(t, *seen, 1)
			assert.Equal(t, 204, (*seen)[0].code)
			assert.Equal(t, []string{"X-A: 1"}, (*seen)[0].headers)
			assert.False(t, (*seen)[0].completed)
		})
	})
	t.Run("redirect-limit", func(t *testing.T) {
		// The completion reports the 3xx it did not follow: so does the
		// response function.
		eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
			srv := serve(t, route(func(string, []byte) string { return redirect(302, "/again") }))
			require.NoError(t, n.SetMaxRedirects(1))
			seen := watchResponse(t, n, "")
			got := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
			require.Equal(t, ResultRedirectLimitReached, got.C.Result, "%v", got.Err)
			require.Len(t, *seen, 1, "the followed hop is not reported")
			assert.Equal(t, 302, (*seen)[0].code)
			assert.Equal(t, got.C.Headers, (*seen)[0].headers)
		})
	})
	t.Run("error-code", func(t *testing.T) {
		eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
			srv := serve(t, route(func(string, []byte) string {
				return "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"
			}))
			seen := watchResponse(t, n, "")
			got := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
			require.Equal(t, ResultSuccess, got.C.Result, "%v", got.Err)
			require.Len(t, *seen, 1)
			assert.Equal(t, 404, (*seen)[0].code)
			assert.Zero(t, (*seen)[0].written)
		})
	})
	t.Run("no-response", func(t *testing.T) {
		eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
			srv := serve(t, route(func(string, []byte) string { return "" })) // reads, answers nothing, the client's close ends it
			require.NoError(t, n.SetTimeout(300e6))
			seen := watchResponse(t, n, "")
			got := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
			require.Equal(t, ResultTimeout, got.C.Result, "%v", got.Err)
			assert.Empty(t, *seen)
		})
	})
	t.Run("refused", func(t *testing.T) {
		// An error from the function ends the request at the head: the
		// body, which here never comes, is not waited for.
		eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
			srv := serve(t, testserver.Script(testserver.Read(),
				testserver.WriteString("HTTP/1.1 404 Not Found\r\nContent-Length: 100\r\n\r\nnot"), testserver.Hold()))
			file := filepath.Join(t.TempDir(), "out")
			require.NoError(t, n.SetDownloadFile(file))
			require.NoError(t, n.SetTimeout(10*time.Second))
			var w strings.Builder
			require.NoError(t, n.SetBodyWriter(&w))
			errRefused := errors.New("not a 2xx")
			require.NoError(t, n.SetResponseFunc(func(code int, _ []string) error {
				if code >= 300 {
					return errRefused
				}
				return nil
			}))
			begin := time.Now()
			got := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
			assert.Less(t, time.Since(begin), 5*time.Second, "not the timeout")
			assert.Equal(t, ResultRequestFailed, got.C.Result, "%v", got.Err)
			assert.Equal(t, 404, got.C.ResponseCode)
			assert.Equal(t, []string{"Content-Length: 100"}, got.C.Headers)
			assert.ErrorIs(t, got.Err, errRefused)
			assert.Empty(t, w.String(), "no body byte written")
			entries, err := os.ReadDir(filepath.Dir(file))
			require.NoError(t, err)
			assert.Empty(t, entries, "download_file never opened")
		})
	})
	t.Run("refusal-ignored-at-redirect-limit", func(t *testing.T) {
		eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
			srv := serve(t, route(func(string, []byte) string { return redirect(302, "/again") }))
			require.NoError(t, n.SetMaxRedirects(0))
			require.NoError(t, n.SetResponseFunc(func(int, []string) error { return errors.New("refused") }))
			got := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
			assert.Equal(t, ResultRedirectLimitReached, got.C.Result, "%v", got.Err)
			assert.Equal(t, 302, got.C.ResponseCode)
		})
	})
}

// TestCancelInsideCallback: CancelRequest called from the response function
// or the body writer while Process runs the step: the step stops there, no
// completion comes, download_file's temporary file is removed and no
// descriptor stays open, no byte is written after the cancel, and the node
// is free again when Process returns.
func TestCancelInsideCallback(t *testing.T) {
	body := strings.Repeat("x", 1<<20)
	plain := "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + body
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write([]byte(body))
	_ = zw.Close()
	// One read of this body decodes to many writes: the cancel stops them.
	gzipped := "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(z.Len()) + "\r\n\r\n" + z.String()
	for _, where := range []string{"response-func", "body-writer", "body-writer-gzip"} {
		t.Run(where, func(t *testing.T) {
			resp := plain
			if where == "body-writer-gzip" {
				resp = gzipped
			}
			srv := serve(t, testserver.RespondEach(resp))
			n := newNode(t)
			dir := t.TempDir()
			require.NoError(t, n.SetDownloadFile(filepath.Join(dir, "out")))
			require.NoError(t, n.SetDrainPerStep(true))
			completions := 0
			n.OnRequestCompleted(func(Result, int, []string, []byte) { completions++ })
			writes, afterCancel := 0, 0
			canceled := false
			cancel := func() {
				n.CancelRequest()
				canceled = true
				assert.ErrorIs(t, n.SetBodySizeLimit(5), godot.ErrBusy, "still busy inside the step")
			}
			require.NoError(t, n.SetBodyWriter(writerFunc(func(p []byte) (int, error) {
				writes++
				if canceled {
					afterCancel++
				}
				if where != "response-func" && writes == 1 {
					cancel()
				}
				return len(p), nil
			})))
			require.NoError(t, n.SetResponseFunc(func(int, []string) error {
				if where == "response-func" {
					cancel()
				}
				return nil
			}))
			fds := openFDs(t)
			require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
			for i := 0; i < 2000 && !canceled; i++ {
				n.Process()
				time.Sleep(frame)
			}
			require.True(t, canceled)
			assert.Zero(t, afterCancel, "no write after the cancel")
			assert.Equal(t, httpclient.StatusDisconnected, n.HTTPClientStatus())
			assert.NoError(t, n.SetBodySizeLimit(-1), "free again when Process returned")
			for range 5 {
				n.Process()
			}
			assert.Zero(t, completions, "no completion for a canceled request")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, entries, "the temporary file is removed")
			if fds >= 0 { // the server's side of the connection closes on its own time
				assert.True(t, drive.Until(maxWait, func() bool { return openFDs(t) <= fds }), "no descriptor left open")
			}
			require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""), "a new request can start")
			n.CancelRequest()
		})
	}
}

// TestCancelInsideCallbackThreads is TestCancelInsideCallback with
// use_threads: the callbacks run on the worker, which CancelRequest (or
// Close) called from there cannot join. The call returns at once, the node
// is free for a new request at once, no byte is written after it and no
// completion comes; the worker ends as the callback returns, and the
// owner's next call finishes the reset: the temporary file removed, no
// descriptor or goroutine left.
func TestCancelInsideCallbackThreads(t *testing.T) {
	body := strings.Repeat("x", 1<<20)
	plain := "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + body
	for _, where := range []string{"response-func", "body-writer", "proxy-func", "close-in-body-writer"} {
		t.Run(where, func(t *testing.T) {
			srv := serve(t, testserver.RespondEach(plain))
			n := newNode(t)
			require.NoError(t, n.SetUseThreads(true))
			dir := t.TempDir()
			require.NoError(t, n.SetDownloadFile(filepath.Join(dir, "out")))
			completions := 0
			n.OnRequestCompleted(func(Result, int, []string, []byte) { completions++ })
			var writes, afterCancel atomic.Int32
			var canceled atomic.Bool
			returned := make(chan struct{})
			cancel := func() {
				if where == "close-in-body-writer" {
					n.Close()
				} else {
					n.CancelRequest()
				}
				canceled.Store(true)
				close(returned)
			}
			require.NoError(t, n.SetBodyWriter(writerFunc(func(p []byte) (int, error) {
				if canceled.Load() {
					afterCancel.Add(1)
				}
				if strings.Contains(where, "body-writer") && writes.Add(1) == 1 {
					cancel()
				}
				return len(p), nil
			})))
			require.NoError(t, n.SetResponseFunc(func(int, []string) error {
				if where == "response-func" {
					cancel()
				}
				return nil
			}))
			if where == "proxy-func" {
				require.NoError(t, n.SetProxyFunc(func(*url.URL) (*url.URL, error) {
					cancel()
					return nil, nil
				}))
			}
			fds := openFDs(t)
			before := runtime.NumGoroutine()
			require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
			select {
			case <-returned:
			case <-time.After(maxWait):
				t.Fatal("the cancel called on the worker did not return")
			}
			assert.Equal(t, httpclient.StatusDisconnected, n.HTTPClientStatus())
			assert.True(t, drive.Until(maxWait, func() bool {
				n.Process()
				entries, err := os.ReadDir(dir)
				return err == nil && len(entries) == 0 && runtime.NumGoroutine() <= before
			}), "the worker ends and Process removes the temporary file")
			assert.Zero(t, afterCancel.Load(), "no write after the cancel")
			assert.Zero(t, completions, "no completion for a canceled request")
			if fds >= 0 {
				assert.True(t, drive.Until(maxWait, func() bool { return openFDs(t) <= fds }), "no descriptor left open")
			}
			require.NoError(t, n.SetProxyFunc(nil))
			require.NoError(t, n.SetResponseFunc(nil))
			require.NoError(t, n.SetBodyWriter(nil))
			require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""), "a new request can start")
			for i := 0; i < 2000 && completions == 0; i++ {
				n.Process()
				time.Sleep(frame)
			}
			assert.Equal(t, 1, completions, "the new request completes")
		})
	}
	// A new request made at once after the cancel, before the worker
	// ended: Request waits for it.
	t.Run("request-at-once", func(t *testing.T) {
		srv := serve(t, testserver.RespondEach(plain))
		n := newNode(t)
		require.NoError(t, n.SetUseThreads(true))
		release, canceled := make(chan struct{}), make(chan struct{})
		var once sync.Once
		require.NoError(t, n.SetResponseFunc(func(int, []string) error {
			once.Do(func() {
				n.CancelRequest()
				close(canceled)
				<-release // the worker stays in the callback
			})
			return nil
		}))
		require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
		select {
		case <-canceled:
		case <-time.After(maxWait):
			t.Fatal("the cancel called on the worker did not return")
		}
		go func() { time.Sleep(50 * time.Millisecond); close(release) }()
		var got Completion
		n.OnRequestCompleted(func(r Result, code int, _ []string, b []byte) {
			got = Completion{Result: r, ResponseCode: code, Body: b}
		})
		require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
		for i := 0; i < 2000 && got.ResponseCode == 0; i++ {
			n.Process()
			time.Sleep(frame)
		}
		assert.Equal(t, ResultSuccess, got.Result)
		assert.Len(t, got.Body, len(body))
	})
}

// TestCancelInProxyFunc: CancelRequest from the proxy function, which a
// Process-driven node calls inside Request: Request returns nil, nothing
// connects, no completion comes, and the node is free at once.
func TestCancelInProxyFunc(t *testing.T) {
	srv := serve(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	n := newNode(t)
	completions := 0
	n.OnRequestCompleted(func(Result, int, []string, []byte) { completions++ })
	require.NoError(t, n.SetProxyFunc(func(*url.URL) (*url.URL, error) {
		n.CancelRequest()
		return nil, nil
	}))
	fds := openFDs(t)
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	assert.Equal(t, httpclient.StatusDisconnected, n.HTTPClientStatus())
	assert.Equal(t, fds, openFDs(t), "nothing connects")
	for range 5 {
		n.Process()
	}
	assert.Zero(t, completions)
	require.NoError(t, n.SetProxyFunc(nil))
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""), "free again")
	for i := 0; i < 2000 && completions == 0; i++ {
		n.Process()
		time.Sleep(frame)
	}
	assert.Equal(t, 1, completions)
}

// openFDs counts this process's open descriptors, −1 where it cannot.
func openFDs(*testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}
