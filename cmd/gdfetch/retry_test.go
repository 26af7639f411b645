package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/testserver"
)

// The waits --retry makes, as curl 7.88 computes them: 1 s doubling after
// each retry up to 10 minutes, or --retry-delay fixed; a transient
// response's Retry-After (seconds or an HTTP date) instead, whatever
// --retry-delay says; no retry when none are left, when --retry-max-time
// has passed, or when a Retry-After would pass it.
func TestRetryWaits(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := now
	r := newRetrier(retryOpts{count: 12}, func() time.Time { return clock })
	var waits []time.Duration
	for {
		wait, ok, warn := r.next(": timeout", nil)
		if !ok {
			break
		}
		assert.Equal(t, "Warning: Problem : timeout. Will retry in "+strconv.FormatInt(int64(wait/time.Second), 10)+" seconds. "+strconv.Itoa(r.left)+" retries left.\n", warn)
		waits = append(waits, wait)
		r.take()
	}
	s := time.Second
	assert.Equal(t, []time.Duration{1 * s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 64 * s, 128 * s, 256 * s, 512 * s, 600 * s, 600 * s}, waits)

	r = newRetrier(retryOpts{count: 3, delay: 5 * s}, func() time.Time { return clock })
	for range 3 {
		wait, ok, _ := r.next(": HTTP error", nil)
		assert.True(t, ok)
		assert.Equal(t, 5*s, wait, "--retry-delay 5")
		r.take()
	}
	_, ok, _ := r.next(": HTTP error", nil)
	assert.False(t, ok, "no retry left")

	r = newRetrier(retryOpts{count: 3, delay: 5 * s}, func() time.Time { return clock })
	for _, tt := range []struct {
		after string
		want  time.Duration
	}{
		{"3", 3 * s}, {" 20 ", 20 * s}, {"0", 5 * s}, {"x", 5 * s}, {"", 5 * s}, {"-2", 5 * s},
		{now.Add(7 * s).Format(http.TimeFormat), 7 * s}, {now.Add(-7 * s).Format(http.TimeFormat), 5 * s},
	} {
		wait, ok, _ := r.next(": HTTP error", []string{"Retry-After: " + tt.after})
		assert.True(t, ok, tt.after)
		assert.Equal(t, tt.want, wait, "Retry-After: %s", tt.after)
	}
	wait, _, _ := r.next(": timeout", []string{"Retry-After: 3"})
	assert.Equal(t, 5*s, wait, "Retry-After counts for a transient response only")

	r = newRetrier(retryOpts{count: 3, maxTime: 10 * s}, func() time.Time { return clock })
	clock = now.Add(4 * s)
	wait, ok, _ = r.next(": HTTP error", []string{"Retry-After: 6"})
	assert.True(t, ok, "4 s + 6 s is not past --retry-max-time 10")
	assert.Equal(t, 6*s, wait)
	_, ok, warn := r.next(": HTTP error", []string{"Retry-After: 7"})
	assert.False(t, ok, "4 s + 7 s is past --retry-max-time 10")
	assert.Equal(t, "Warning: The Retry-After: time would make this command line exceed the maximum allowed time for retries.\n", warn)
	clock = now.Add(10 * s)
	_, ok, _ = r.next(": timeout", nil)
	assert.False(t, ok, "--retry-max-time passed")
}

// A try's reason to be retried, as curl's: a timeout (and a name that did
// not resolve), a transient response code, a refused connection only with
// --retry-connrefused, anything else only with --retry-all-errors.
func TestRetryReason(t *testing.T) {
	r := newRetrier(retryOpts{count: 1}, time.Now)
	assert.Equal(t, ": timeout", r.reason(&exchange{}, exitTimeout))
	assert.Equal(t, ": timeout", r.reason(&exchange{}, exitResolve))
	for _, c := range []int{408, 429, 500, 502, 503, 504} {
		ex := &exchange{}
		ex.ResponseCode = c
		assert.Equal(t, ": HTTP error", r.reason(ex, exitOK), c)
		assert.Equal(t, ": HTTP error", r.reason(ex, exitHTTPError), c)
	}
	for _, c := range []int{200, 404, 501, 505} {
		ex := &exchange{}
		ex.ResponseCode = c
		assert.Empty(t, r.reason(ex, exitOK), c)
	}
	assert.Empty(t, r.reason(&exchange{}, exitConnect))
	assert.Empty(t, r.reason(&exchange{}, exitNoResponse))
	r.opts.allErrors = true
	assert.Equal(t, "(retrying all errors)", r.reason(&exchange{}, exitNoResponse))
	assert.Empty(t, r.reason(&exchange{}, exitOK))
}

// fastRetries makes --retry's waits instant for one test, and records them.
func fastRetries(t *testing.T) *[]time.Duration {
	var waits []time.Duration
	old := retrySleep
	retrySleep = func(_ context.Context, d time.Duration) { waits = append(waits, d) }
	t.Cleanup(func() { retrySleep = old })
	return &waits
}

// --retry makes a try that got a transient response again; the body of a
// retried response reaches neither stdout nor -o FILE (curl writes it to
// stdout, and truncates FILE), only the last try's; the warnings are
// curl's, and -s silences them. curl retries as many times when installed.
func TestRetryHTTP(t *testing.T) {
	waits := fastRetries(t)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		if strings.HasPrefix(r.URL.Path, "/flaky") && n%3 != 0 {
			if r.URL.Path == "/flaky-ra" {
				w.Header().Set("Retry-After", "2")
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("busy\n"))
			return
		}
		w.Write([]byte("ok " + strconv.Itoa(int(n)) + "\n"))
	}))
	defer srv.Close()

	code, stdout, stderr := gdfetch(t, "--retry", "3", srv.URL+"/flaky")
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, "ok 3\n", stdout, "the retried responses' bodies are not written")
	assert.Contains(t, stderr, "Warning: Problem : HTTP error. Will retry in 1 seconds. 3 retries left.\nWarning: Problem : HTTP error. Will retry in 2 seconds. 2 retries left.\n")
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, *waits)
	assert.EqualValues(t, 3, hits.Load())

	*waits = nil
	hits.Store(0)
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr = gdfetch(t, "-s", "--retry", "1", "--retry-delay", "4", "-o", out, srv.URL+"/flaky-ra")
	assert.Equal(t, exitOK, code, "curl exits 0 with the last 503: %s", stderr)
	assert.NotContains(t, stderr, "Warning", "-s")
	assert.Equal(t, []time.Duration{2 * time.Second}, *waits, "Retry-After wins over --retry-delay, as curl 7.88's")
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "busy\n", string(got), "no retry left: the last 503 is written, as curl's")

	hits.Store(0)
	code, stdout, _ = gdfetch(t, "-s", srv.URL+"/flaky")
	assert.Equal(t, exitOK, code)
	assert.Equal(t, "busy\n", stdout, "no --retry: one try")
	assert.EqualValues(t, 1, hits.Load())

	hits.Store(0)
	code, _, _ = gdfetch(t, "-s", "-f", "--retry", "1", srv.URL+"/flaky")
	assert.Equal(t, exitHTTPError, code, "-f: the last 503 is 22")
	assert.EqualValues(t, 2, hits.Load())

	if path := curlPath(); path != "" {
		hits.Store(0)
		code, _ := curlExit(t, t.TempDir(), "-o", "f", "--retry", "1", "--retry-max-time", "60", srv.URL+"/flaky")
		assert.Equal(t, 0, code)
		assert.EqualValues(t, 2, hits.Load(), "curl --retry 1: two tries")
	} else {
		t.Log("curl is not installed: gdfetch checked alone")
	}
}

// A timeout is retried, a refused connection only with
// --retry-connrefused (or --retry-all-errors), and the last try's exit
// status is gdfetch's. curl does the same when installed.
func TestRetryFailures(t *testing.T) {
	waits := fastRetries(t)
	closed := "http://127.0.0.1:" + strconv.Itoa(testserver.ClosedPort(t)) + "/"
	code, _, stderr := gdfetch(t, "--retry", "2", closed)
	assert.Equal(t, exitConnect, code)
	assert.NotContains(t, stderr, "Warning", "a refused connection is not transient")
	assert.Empty(t, *waits)
	code, _, stderr = gdfetch(t, "--retry", "2", "--retry-connrefused", closed)
	assert.Equal(t, exitConnect, code)
	assert.Contains(t, stderr, "Warning: Problem : connection refused. Will retry in 1 seconds. 2 retries left.\n")
	assert.Len(t, *waits, 2)
	*waits = nil
	code, _, stderr = gdfetch(t, "--retry", "1", "--retry-all-errors", closed)
	assert.Equal(t, exitConnect, code)
	assert.Contains(t, stderr, "Warning: Problem (retrying all errors). Will retry in 1 seconds. 1 retries left.\n")
	assert.Len(t, *waits, 1)
	if curlPath() != "" {
		code, _ := curlExit(t, t.TempDir(), "--retry", "1", "--retry-connrefused", "--retry-delay", "1", closed)
		assert.Equal(t, exitConnect, code, "curl")
	}

	*waits = nil
	var tries atomic.Int32
	srv := testserver.New(t, func(c *testserver.Conn) {
		tries.Add(1)
		_, _ = c.ReadRequest()
		_ = c.Hold()
	})
	code, _, stderr = gdfetch(t, "--retry", "2", "-m", "0.2", srv.URL("/"))
	assert.Equal(t, exitTimeout, code, stderr)
	assert.Contains(t, stderr, "Warning: Problem : timeout. Will retry in 1 seconds. 2 retries left.\n")
	assert.Contains(t, stderr, "Warning: Problem : timeout. Will retry in 2 seconds. 1 retries left.\n")
	assert.EqualValues(t, 3, tries.Load(), "-m bounds each try, as curl's")
}

// With -C - -o FILE a retry after a timeout resumes the file where the
// try stopped.
func TestRetryResumes(t *testing.T) {
	fastRetries(t)
	content := strings.Repeat("0123456789", 100)
	var n atomic.Int32
	srv := testserver.New(t, func(c *testserver.Conn) {
		req, err := c.ReadRequest()
		if err != nil {
			return
		}
		if n.Add(1) == 1 {
			_ = c.Write([]byte("HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Length: 1000\r\n\r\n" + content[:400]))
			_ = c.Hold()
			return
		}
		if !strings.Contains(string(req), "Range: bytes=400-\r\n") {
			_ = c.Write([]byte("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			return
		}
		_ = c.Write([]byte("HTTP/1.1 206 Partial Content\r\nETag: \"v1\"\r\nContent-Range: bytes 400-999/1000\r\nContent-Length: 600\r\nConnection: close\r\n\r\n" + content[400:]))
	})
	out := filepath.Join(t.TempDir(), "f")
	code, _, stderr := gdfetch(t, "--retry", "1", "-m", "0.5", "-C", "-", "-o", out, srv.URL("/f"))
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "Problem : timeout")
	assert.Contains(t, stderr, "appended from byte 400")
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, content, string(got))
}

// curlPath is the installed curl, "" for none.
func curlPath() string {
	path, _ := exec.LookPath("curl")
	return path
}
