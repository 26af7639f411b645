package httprequest

// Re-entrancy and panics: the user's callbacks calling the node back or
// panicking, in every driver (from a re-entrancy audit).

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// arBounded runs f on its own goroutine and fails the test after d (a
// deadlock fails fast instead of hanging the run).
func arBounded(t *testing.T, d time.Duration, what string, f func()) bool {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		t.Errorf("%s: still blocked after %v (deadlock)", what, d)
		return false
	}
}

func arPanics(f func()) (p any) {
	defer func() { p = recover() }()
	f()
	return nil
}

const arBody = 200000

func arServer(t *testing.T) *testserver.Server {
	return serve(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nContent-Length: 200000\r\n\r\n"+strings.Repeat("x", arBody)))
}

// arInstall makes the callback `where` call hook.
func arInstall(t *testing.T, n *HTTPRequest, where string, hook func()) (body io.Reader) {
	body = strings.NewReader("hello")
	switch where {
	case "body-writer":
		require.NoError(t, n.SetBodyWriter(writerFunc(func(p []byte) (int, error) { hook(); return len(p), nil })))
	case "response-func":
		require.NoError(t, n.SetResponseFunc(func(int, []string) error { hook(); return nil }))
	case "progress":
		n.OnProgress(func(int64, int64) { hook() })
	case "upload-progress":
		n.OnUploadProgress(func(int64, int64) { hook() })
	case "proxy-func":
		require.NoError(t, n.SetProxyFunc(func(*url.URL) (*url.URL, error) { hook(); return nil, nil }))
	case "cookie-jar":
		require.NoError(t, n.SetCookieJar(&arJar{hook: hook}))
	case "upload-read":
		body = &arReader{hook: hook, r: body}
	}
	return body
}

// TestReentryDoPanicFreesNode: a callback that panics inside Do (the body
// writer, the response function, the progress callbacks, the proxy
// function, the cookie jar, the upload body's Read) reaches Do's caller, and
// the request has ended as a cancel: the connection closed, the node free
// for the next Do — as net/http's Client stays usable after a panicking
// Jar, Proxy or CheckRedirect.
func TestReentryDoPanicFreesNode(t *testing.T) {
	srv := arServer(t)
	for _, where := range []string{"body-writer", "response-func", "progress", "upload-progress", "proxy-func", "cookie-jar", "upload-read"} {
		t.Run(where, func(t *testing.T) {
			n := New()
			defer n.Close()
			fired := false
			up := arInstall(t, n, where, func() {
				if !fired {
					fired = true
					panic("callback panic")
				}
			})
			require.NoError(t, n.SetTimeout(time.Second))
			arBounded(t, 5*time.Second, "DoStream", func() {
				p := arPanics(func() {
					_, _ = n.DoStream(context.Background(), srv.URL("/"), nil, httpclient.MethodPost, up, 5)
				})
				require.NotNil(t, p, "the panic reaches Do's caller")
			})
			n.Close() // what a caller does after recovering
			assert.Equal(t, httpclient.StatusDisconnected, n.HTTPClientStatus(), "Close closed the connection")
			assert.False(t, n.busy(), "the node is free after Close")
			_ = n.SetBodyWriter(nil)
			_ = n.SetResponseFunc(nil)
			_ = n.SetProxyFunc(nil)
			_ = n.SetCookieJar(nil)
			n.OnProgress(nil)
			n.OnUploadProgress(nil)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := n.Do(ctx, srv.URL("/again"), nil, httpclient.MethodGet, nil)
			assert.NoError(t, err, "a new Do after the panic")
			assert.Equal(t, ResultSuccess, c.Result)
		})
	}
}

// TestReentryProcessPanicFreesNode: a callback that panics inside a
// Process step (body writer, response function, cookie jar, upload Read)
// reaches Process's caller; the request has ended as a cancel, so Close
// leaves no connection and the node is free.
func TestReentryProcessPanicFreesNode(t *testing.T) {
	srv := arServer(t)
	for _, where := range []string{"body-writer", "response-func", "cookie-jar", "upload-read"} {
		t.Run(where, func(t *testing.T) {
			n := New()
			defer n.Close()
			fired := false
			up := arInstall(t, n, where, func() {
				if !fired {
					fired = true
					panic("callback panic")
				}
			})
			require.NoError(t, n.RequestStream(srv.URL("/"), nil, httpclient.MethodPost, up, 5))
			arBounded(t, 5*time.Second, "Process loop", func() {
				p := arPanics(func() {
					for i := 0; i < 5000 && !fired; i++ {
						n.Process()
						time.Sleep(time.Millisecond)
					}
				})
				require.NotNil(t, p)
			})
			assert.False(t, n.busy(), "the node is free at once")
			n.Close()
			assert.Equal(t, httpclient.StatusDisconnected, n.HTTPClientStatus(), "Close closed the connection")
			assert.False(t, n.busy(), "the node is free after Close")
			assert.NoError(t, n.SetBodyWriter(nil), "setters work after Close")
		})
	}
}

// TestReentryProgressPanicKeepsCompletion: OnProgress panics on the report
// of the step that completed the request (Process driver): the completion
// was queued first, so a later Process delivers it and frees the node.
func TestReentryProgressPanicKeepsCompletion(t *testing.T) {
	srv := serve(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	n := New()
	defer n.Close()
	fired := false
	n.OnProgress(func(w, d int64) {
		if d == 2 && !fired {
			fired = true
			panic("progress panic")
		}
	})
	completions := 0
	n.OnRequestCompleted(func(Result, int, []string, []byte) { completions++ })
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	arBounded(t, 5*time.Second, "Process loop", func() {
		p := arPanics(func() {
			for i := 0; i < 5000 && !fired; i++ {
				n.Process()
				time.Sleep(time.Millisecond)
			}
		})
		require.NotNil(t, p)
	})
	for range 200 {
		n.Process()
		time.Sleep(time.Millisecond)
	}
	assert.Equal(t, 1, completions, "the completion is still delivered by a later Process")
	assert.False(t, n.busy(), "the node is free once it was delivered")
	assert.NotErrorIs(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""), godot.ErrBusy)
}

// TestReentryProcessFromProxyFunc: the proxy function of a Process-driven
// node runs inside Request; a Process called from it returns at once, so
// Request neither panics nor sees its run delivered under it.
func TestReentryProcessFromProxyFunc(t *testing.T) {
	srv := arServer(t)
	n := New()
	defer n.Close()
	once := false
	require.NoError(t, n.SetProxyFunc(func(*url.URL) (*url.URL, error) {
		if !once {
			once = true
			n.Process()
		}
		return nil, nil
	}))
	arBounded(t, 5*time.Second, "Request", func() {
		p := arPanics(func() { _ = n.Request(srv.URL("/"), nil, httpclient.MethodGet, "") })
		assert.Nil(t, p, "Request does not panic")
	})
}

// TestReentryProcessFromCookieJar: a Process called from the cookie jar
// (inside the step that sends the request) returns at once: the request is
// sent once and succeeds.
func TestReentryProcessFromCookieJar(t *testing.T) {
	srv := arServer(t)
	n := New()
	defer n.Close()
	once := false
	require.NoError(t, n.SetCookieJar(&arJar{hook: func() {
		if !once {
			once = true
			n.Process()
		}
	}}))
	var got []Result
	n.OnRequestCompleted(func(r Result, _ int, _ []string, _ []byte) { got = append(got, r) })
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	arBounded(t, 10*time.Second, "Process loop", func() {
		for i := 0; i < 5000 && len(got) == 0; i++ {
			n.Process()
			time.Sleep(time.Millisecond)
		}
	})
	assert.Equal(t, []Result{ResultSuccess}, got)
}

// TestReentryProcessFromBodyWriter: a Process called from the body writer
// returns at once, so no nested read reuses the buffer the writer was
// given: the body arrives intact.
func TestReentryProcessFromBodyWriter(t *testing.T) {
	want := make([]byte, arBody)
	for i := range want {
		want[i] = byte('a' + i%26)
	}
	srv := serve(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n"+string(want)))
	n := New()
	defer n.Close()
	require.NoError(t, n.SetDownloadChunkSize(4096))
	var got bytes.Buffer
	once := false
	require.NoError(t, n.SetBodyWriter(writerFunc(func(p []byte) (int, error) {
		if !once {
			once = true
			n.Process()
		}
		got.Write(p)
		return len(p), nil
	})))
	var res []Result
	n.OnRequestCompleted(func(r Result, _ int, _ []string, _ []byte) { res = append(res, r) })
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	arBounded(t, 10*time.Second, "Process loop", func() {
		for i := 0; i < 10000 && len(res) == 0; i++ {
			n.Process()
			time.Sleep(100 * time.Microsecond)
		}
	})
	require.Len(t, res, 1)
	if res[0] == ResultSuccess {
		assert.True(t, bytes.Equal(want, got.Bytes()), "a RESULT_SUCCESS body is the server's body (got %d bytes, first diff at %d)", got.Len(), firstDiff(want, got.Bytes()))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestReentryThreadsCancelFromOtherCallbacks: CancelRequest from the proxy
// function, the cookie jar or the upload body's Read, which run on the
// use_threads worker, returns (it does not join the goroutine it runs on).
func TestReentryThreadsCancelFromOtherCallbacks(t *testing.T) {
	srv := arServer(t)
	for _, where := range []string{"proxy-func", "cookie-jar", "upload-read"} {
		t.Run(where, func(t *testing.T) {
			n := New()
			require.NoError(t, n.SetUseThreads(true))
			fired := make(chan struct{})
			returned := make(chan struct{})
			once := false
			up := arInstall(t, n, where, func() {
				if !once {
					once = true
					close(fired)
					n.CancelRequest()
					close(returned)
				}
			})
			require.NoError(t, n.RequestStream(srv.URL("/"), nil, httpclient.MethodPost, up, 5))
			select {
			case <-fired:
			case <-time.After(5 * time.Second):
				t.Fatal("callback not called")
			}
			select {
			case <-returned:
			case <-time.After(5 * time.Second):
				t.Errorf("CancelRequest from the %s on the worker: still blocked after 5 s (it joins its own goroutine)", where)
			}
		})
	}
}

// TestReentryGettersRace: the documented any-goroutine getters, called
// in a loop from another goroutine while every driver runs requests through
// every phase (redirect, upload, body, keep-alive reuse, cancel, timeout,
// Close). Run with -race.
func TestReentryGettersRace(t *testing.T) {
	body := strings.Repeat("y", 100000)
	srv := serve(t, func(c *testserver.Conn) {
		for {
			req, err := c.ReadRequest()
			if err != nil {
				return
			}
			line := string(req[:bytes.IndexByte(req, '\r')])
			switch {
			case strings.Contains(line, "/redir"):
				_ = c.Write([]byte("HTTP/1.1 302 Found\r\nLocation: /body\r\nContent-Length: 0\r\n\r\n"))
			case strings.Contains(line, "/slow"):
				_ = c.WriteSplit([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"+body), []int{1000, 50000}, 30*time.Millisecond)
			default:
				_ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + body))
			}
		}
	})
	n := New()
	defer n.Close()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = n.BodySize() + n.DownloadedBytes() + n.UploadedBytes() + n.UploadSize()
			_ = n.HTTPClientStatus()
		}
	}()
	up := func() io.Reader { return bytes.NewReader(bytes.Repeat([]byte("u"), 300000)) }
	completions := 0
	n.OnRequestCompleted(func(Result, int, []string, []byte) { completions++ })
	pump := func(want int) {
		for i := 0; i < 20000 && completions < want; i++ {
			n.Process()
			time.Sleep(100 * time.Microsecond)
		}
	}
	arBounded(t, 60*time.Second, "drivers", func() {
		for _, threads := range []bool{false, true} {
			require.NoError(t, n.SetUseThreads(threads))
			require.NoError(t, n.SetKeepAlive(!threads))
			for _, path := range []string{"/redir", "/body", "/slow"} {
				c0 := completions
				require.NoError(t, n.RequestStream(srv.URL(path), nil, httpclient.MethodPut, up(), 300000))
				pump(c0 + 1)
			}
			// cancel mid-body, and Close mid-body
			require.NoError(t, n.Request(srv.URL("/slow"), nil, httpclient.MethodGet, ""))
			for range 20 {
				n.Process()
				time.Sleep(time.Millisecond)
			}
			n.CancelRequest()
			require.NoError(t, n.Request(srv.URL("/slow"), nil, httpclient.MethodGet, ""))
			for range 20 {
				n.Process()
				time.Sleep(time.Millisecond)
			}
			n.Close()
			// timeout
			require.NoError(t, n.SetTimeout(20*time.Millisecond))
			c0 := completions
			require.NoError(t, n.Request(srv.URL("/slow"), nil, httpclient.MethodGet, ""))
			pump(c0 + 1)
			require.NoError(t, n.SetTimeout(0))
		}
		require.NoError(t, n.SetKeepAlive(true))
		for _, path := range []string{"/redir", "/body", "/body", "/slow"} {
			_, _ = n.DoStream(context.Background(), srv.URL(path), nil, httpclient.MethodPut, up(), 300000)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, _ = n.Do(ctx, srv.URL("/slow"), nil, httpclient.MethodGet, nil)
		cancel()
	})
	close(stop)
	<-done
}

// TestReentryCloseFromProxyFuncInRequest: Close called from the proxy
// function, which a Process-driven node runs inside Request: nothing
// connects afterwards — no connection that no request owns.
func TestReentryCloseFromProxyFuncInRequest(t *testing.T) {
	srv := arServer(t)
	n := New()
	defer n.Close()
	once := false
	require.NoError(t, n.SetProxyFunc(func(*url.URL) (*url.URL, error) {
		if !once {
			once = true
			n.Close()
		}
		return nil, nil
	}))
	err := n.Request(srv.URL("/"), nil, httpclient.MethodGet, "")
	t.Logf("Request: %v", err)
	for range 50 {
		n.Process()
		time.Sleep(time.Millisecond)
	}
	assert.False(t, n.busy())
	assert.Equal(t, httpclient.StatusDisconnected, n.HTTPClientStatus(), "no connection after Close")
	assert.Equal(t, 0, srv.Accepted(), "no connection was opened after Close")
}

// arJar is a cookie jar that calls hook.
type arJar struct{ hook func() }

func (j *arJar) SetCookies(u *url.URL, c []*http.Cookie) { j.hook() }
func (j *arJar) Cookies(u *url.URL) []*http.Cookie       { j.hook(); return nil }

// arReader reads r, calling hook first.
type arReader struct {
	hook func()
	r    io.Reader
}

func (r *arReader) Read(p []byte) (int, error) { r.hook(); return r.r.Read(p) }

// TestReentryProcessFromProgressFunc: a Process called from the progress
// function (Process driver) returns at once: no nested step, no nested
// progress report, and the request completes (from the review of the
// re-entrancy change).
func TestReentryProcessFromProgressFunc(t *testing.T) {
	body := strings.Repeat("x", 1<<20)
	srv := serve(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n"+body))
	n := newNode(t)
	require.NoError(t, n.SetDownloadChunkSize(4096))
	depth, maxDepth := 0, 0
	n.OnProgress(func(w, d int64) {
		depth++
		maxDepth = max(maxDepth, depth)
		n.Process()
		depth--
	})
	done := 0
	n.OnRequestCompleted(func(Result, int, []string, []byte) { done++ })
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	deadline := time.Now().Add(10 * time.Second)
	for done == 0 && time.Now().Before(deadline) {
		n.Process()
		time.Sleep(50 * time.Microsecond)
	}
	require.Equal(t, 1, done)
	assert.Equal(t, 1, maxDepth, "no nested progress report (a nested Process stepped the request)")
}
