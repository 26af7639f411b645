package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httprequest"
)

// cappedServer serves total bytes of 'x' (ETag "v1"): a GET without a
// Range gets the first byte and then a dropped connection (a cut download
// that -C - takes up), every "Range: bytes=S-" at most capped bytes from S.
func cappedServer(t *testing.T, total, capped int, reqs *atomic.Int64) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		w.Header().Set("ETag", `"v1"`)
		v, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes=")
		start, err := strconv.Atoi(strings.TrimSuffix(v, "-"))
		if !ok || err != nil {
			w.Header().Set("Content-Length", strconv.Itoa(total))
			_, _ = w.Write([]byte("x"))
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		end := min(start+capped, total) - 1
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, total))
		w.Header().Set("Content-Length", strconv.Itoa(end-start+1))
		w.WriteHeader(http.StatusPartialContent)
		_, _ = w.Write(bytes.Repeat([]byte("x"), end-start+1))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/f.bin"
}

// -C - against a server that caps every range: -m bounds the whole run,
// every request included (exit 28 near -m, the partial file and its state
// kept; it used to run until the file was whole, each request with its own
// -m), and --max-filesize bounds the file, not each request (exit 63, the
// file at the limit and resumable; it used to grow past it). The summary
// line of a run of several requests gives the offset it started from.
func TestResumeBoundsWholeRun(t *testing.T) {
	cut := func(t *testing.T, url, out string) {
		t.Helper()
		code, _, stderr := gdfetch(t, "-s", "-C", "-", "-o", out, url)
		require.Equal(t, exitPartial, code, stderr)
		require.FileExists(t, out+httprequest.ResumeSuffix)
	}
	t.Run("-m", func(t *testing.T) {
		var reqs atomic.Int64
		url := cappedServer(t, 8000, 1, &reqs) // 8000 requests: seconds
		out := filepath.Join(t.TempDir(), "f.bin")
		cut(t, url, out)
		start := time.Now()
		code, _, stderr := gdfetch(t, "-C", "-", "-m", "0.3", "-o", out, url)
		el := time.Since(start)
		assert.Equal(t, exitTimeout, code, stderr)
		assert.Contains(t, stderr, "RESULT_TIMEOUT")
		assert.Less(t, el, 1500*time.Millisecond, "%d requests", reqs.Load())
		fi, err := os.Stat(out)
		require.NoError(t, err)
		assert.Greater(t, fi.Size(), int64(1), "the bytes appended before the end are kept")
		assert.FileExists(t, out+httprequest.ResumeSuffix, "for the next run")
	})
	t.Run("--max-filesize", func(t *testing.T) {
		var reqs atomic.Int64
		url := cappedServer(t, 8000, 1, &reqs)
		out := filepath.Join(t.TempDir(), "f.bin")
		cut(t, url, out)
		code, _, stderr := gdfetch(t, "-C", "-", "--max-filesize", "100", "-m", "5", "-o", out, url)
		assert.Equal(t, exitBodySize, code, stderr)
		assert.Contains(t, stderr, "RESULT_BODY_SIZE_LIMIT_EXCEEDED")
		fi, err := os.Stat(out)
		require.NoError(t, err)
		assert.Equal(t, int64(100), fi.Size())
		assert.FileExists(t, out+httprequest.ResumeSuffix, "a run with a larger limit takes it up")
		assert.Equal(t, int64(1+100), reqs.Load(), "the cut GET, 99 one-byte ranges, one refused")
	})
	t.Run("summary", func(t *testing.T) {
		var reqs atomic.Int64
		url := cappedServer(t, 50, 10, &reqs)
		out := filepath.Join(t.TempDir(), "f.bin")
		cut(t, url, out)
		code, _, stderr := gdfetch(t, "-C", "-", "-m", "5", "-o", out, url)
		require.Equal(t, exitOK, code, stderr)
		assert.Contains(t, stderr, "* resume: appended from byte 1\n", "not the last request's 41")
		assert.Equal(t, bytes.Repeat([]byte("x"), 50), mustRead(t, out))
		assert.NoFileExists(t, out+httprequest.ResumeSuffix)
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
