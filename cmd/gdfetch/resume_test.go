package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httprequest"
)

// -C -: a download cut mid-body exits 18 (partial) and leaves the partial
// file; the same command again resumes it with Range + If-Range and exits 0
// with the whole file.
func TestResumeFlagCutThenResume(t *testing.T) {
	content := bytes.Repeat([]byte("gdfetch resume "), 10000)
	var served atomic.Int32
	var mu sync.Mutex
	var ranges []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range")+"|"+r.Header.Get("If-Range"))
		mu.Unlock()
		w.Header().Set("ETag", `"gd1"`)
		if served.Add(1) == 1 {
			w.Header().Set("Content-Length", strconv.Itoa(len(content)))
			_, _ = w.Write(content[:50000])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
	}))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "big.bin")

	code, _, stderr := gdfetch(t, "-C", "-", "-o", out, srv.URL+"/big.bin")
	assert.Equal(t, exitPartial, code, stderr)
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Len(t, got, 50000, "the partial file is kept")
	assert.FileExists(t, out+httprequest.ResumeSuffix)

	code, _, stderr = gdfetch(t, srv.URL+"/big.bin", "--continue-at", "-", "-o", out, "-v")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "> Range: bytes=50000-␍␊\n> If-Range: \"gd1\"␍␊\n", "-v shows the request as sent")
	assert.Contains(t, stderr, "* resume: appended from byte 50000")
	assert.Contains(t, stderr, "RESULT_SUCCESS (0) 206")
	got, err = os.ReadFile(out)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(content, got), "the whole file")
	assert.NoFileExists(t, out+httprequest.ResumeSuffix)
	mu.Lock()
	assert.Equal(t, []string{"|", `bytes=50000-|"gd1"`}, ranges)
	mu.Unlock()

	// Once more: the file is complete, the server's 416 says so.
	require.NoError(t, os.WriteFile(out+httprequest.ResumeSuffix,
		[]byte(`{"url":"`+srv.URL+`/big.bin","etag":"\"gd1\"","length":`+strconv.Itoa(len(content))+`}`), 0o644))
	code, _, stderr = gdfetch(t, "-C", "-", "-o", out, srv.URL+"/big.bin")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "already complete")

	// With -f too: a 416 for a complete file is not a failure (curl's
	// http_should_fail), exit 0, the file as it was.
	require.NoError(t, os.WriteFile(out+httprequest.ResumeSuffix,
		[]byte(`{"url":"`+srv.URL+`/big.bin","etag":"\"gd1\"","length":`+strconv.Itoa(len(content))+`}`), 0o644))
	code, _, stderr = gdfetch(t, "-f", "-C", "-", "-o", out, srv.URL+"/big.bin")
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "already complete")
	got, err = os.ReadFile(out)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(content, got), "the file as it was")
}

// A 206 that does not continue the file exits 33 (curl's range error) and
// leaves the file; so does any answer DoResumable does not write (a 201,
// 204, 404: curl's "cannot resume"), with or without a partial file, except
// that with -f one of 400 or more is --fail's 22. The message names --fail
// only when it was given.
func TestResumeFlagRefusals(t *testing.T) {
	for _, c := range []struct {
		name           string
		handler        http.HandlerFunc
		code, withFail int
	}{
		{"206 from byte 0", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Range", "bytes 0-4/5")
			w.Header().Set("Content-Length", "5")
			w.WriteHeader(http.StatusPartialContent)
			_, _ = w.Write([]byte("hello"))
		}, exitRange, exitRange},
		{"404", func(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) }, exitRange, exitHTTPError},
		{"201", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte("created"))
		}, exitRange, exitRange},
		{"204", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }, exitRange, exitRange},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			for _, partial := range []bool{true, false} {
				out := filepath.Join(t.TempDir(), "f")
				if partial {
					require.NoError(t, os.WriteFile(out, []byte("abc"), 0o644))
					require.NoError(t, os.WriteFile(out+httprequest.ResumeSuffix, []byte(`{"url":"`+srv.URL+`/f","etag":"\"x\"","length":5}`), 0o644))
				}
				for _, fail := range []bool{false, true} {
					args := []string{"-C", "-", "-o", out, srv.URL + "/f"}
					want := c.code
					if fail {
						args, want = append(args, "-f"), c.withFail
					}
					code, _, stderr := gdfetch(t, args...)
					assert.Equal(t, want, code, "partial file %v, -f %v: %s", partial, fail, stderr)
					if !fail {
						assert.NotContains(t, stderr, "--fail", "partial file %v: -f was not given", partial)
					}
					if partial {
						got, err := os.ReadFile(out)
						require.NoError(t, err)
						assert.Equal(t, "abc", string(got), "-f %v: file untouched", fail)
					} else {
						assert.NoFileExists(t, out, "-f %v: nothing written", fail)
					}
				}
			}
		})
	}
}

// -C takes only "-", needs -o, and resumes a GET only.
func TestResumeFlagUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-C", "100", "-o", "f", "http://h/"},
		{"-C", "-", "http://h/"},
		{"-C", "-", "-o", "f", "-d", "x", "http://h/"},
		{"-C", "-", "-o", "f", "-X", "PUT", "http://h/"},
		{"-C", "-", "-o", "f", "-I", "http://h/"},
		{"-C", "-", "-o", "f", "-F", "a=b", "http://h/"},
		{"-C", "-", "-o", "f", "-T", "resume_test.go", "http://h/"},
	} {
		code, _, stderr := gdfetch(t, args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, stderr)
	}
	// A Range or If-Range of the user's: the message names the header, not
	// the URL.
	for _, h := range []string{"Range: bytes=0-", "if-range: \"x\""} {
		code, _, stderr := gdfetch(t, "-C", "-", "-o", "f", "-H", h, "http://h/")
		assert.Equal(t, exitUsage, code, stderr)
		assert.Contains(t, stderr, "-C - sends Range and If-Range itself", h)
		assert.NotContains(t, stderr, "bad URL", h)
	}
	c, err := parseFetch(context.Background(), []string{"http://h/", "-o", "f", "-C", "-"})
	require.NoError(t, err)
	assert.True(t, c.resume)
}

// The line -C - prints says what was done with the file: a 200 to the
// Range rewrote it from byte 0 (not "from" the offset it asked for); a file
// appended over several requests (a server capping ranges) was taken up
// at the first request's offset (From), not the last's.
func TestResumeLine(t *testing.T) {
	ok := httprequest.Completion{Result: httprequest.ResultSuccess, ResponseCode: 200}
	for _, c := range []struct {
		r    httprequest.Resumed
		want string
	}{
		{httprequest.Resumed{Completion: httprequest.Completion{Result: httprequest.ResultSuccess, ResponseCode: 206}, Outcome: httprequest.ResumeAppended, Offset: 1000, From: 1000},
			"* resume: appended from byte 1000\n"},
		{httprequest.Resumed{Completion: httprequest.Completion{Result: httprequest.ResultSuccess, ResponseCode: 206}, Outcome: httprequest.ResumeAppended, Offset: 7000, From: 1000},
			"* resume: appended from byte 1000\n"},
		{httprequest.Resumed{Completion: ok, Outcome: httprequest.ResumeFromStart, From: 1000},
			"* resume: the server sent the whole file (code 200): rewritten from byte 0\n"},
		{httprequest.Resumed{Completion: ok, Outcome: httprequest.ResumeFromStart, Offset: 1000},
			"* resume: the server sent the whole file (code 200): rewritten from byte 0\n"},
		{httprequest.Resumed{Completion: ok, Outcome: httprequest.ResumeFromStart},
			"* resume: downloaded from byte 0\n"},
		{httprequest.Resumed{Completion: httprequest.Completion{Result: httprequest.ResultSuccess, ResponseCode: 416}, Outcome: httprequest.ResumeAlreadyComplete, Offset: 11},
			"* resume: already complete (11 bytes)\n"},
		{httprequest.Resumed{Completion: httprequest.Completion{Result: httprequest.ResultTimeout}, Offset: 5}, ""},
	} {
		assert.Equal(t, c.want, resumeLine(c.r))
	}
}

// -C - runs through DoResumable's blocking Do: --json leaves out frames and
// status_trace (there are none), the summary counts no frames, -v says so.
func TestResumeNoFrames(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"e"`)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader([]byte("hello world")))
	}))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "f")
	code, stdout, stderr := gdfetch(t, "--json", "-C", "-", "-o", out, srv.URL+"/f")
	require.Equal(t, exitOK, code, stderr)
	var j map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &j), stdout)
	assert.Equal(t, "RESULT_SUCCESS", j["result_name"])
	assert.NotContains(t, j, "frames")
	assert.NotContains(t, j, "status_trace")

	require.NoError(t, os.Remove(out))
	code, _, stderr = gdfetch(t, "-v", "-C", "-", "-o", out, srv.URL+"/f")
	require.Equal(t, exitOK, code, stderr)
	assert.NotRegexp(t, `\d frames`, stderr)
	assert.NotContains(t, stderr, "status trace (")
	assert.Contains(t, stderr, "(blocking Do: no frames, no status trace)")
	assert.Contains(t, stderr, "body saved to "+out+", ")
}

// -C - -v prints the request as it went out: the jar's Cookie line (-b)
// and, through an environment proxy, the absolute form.
func TestResumeVerboseAsSent(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.RequestURI+"|"+r.Header.Get("Cookie"))
		mu.Unlock()
		w.Header().Set("ETag", `"e"`)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader([]byte("hello world")))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name, proxy, line string
	}{
		{"direct", "", "> GET /f HTTP/1.1␍␊"},
		{"environment proxy", srv.URL, "> GET http://gdfetch.test:80/f HTTP/1.1␍␊"}, // Godot names the port
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := srv.URL + "/f"
			if tc.proxy != "" {
				target = "http://gdfetch.test/f" // the proxy (srv itself) answers for it
			}
			t.Setenv("http_proxy", tc.proxy)
			t.Setenv("HTTP_PROXY", tc.proxy)
			t.Setenv("NO_PROXY", "")
			t.Setenv("no_proxy", "")
			out := filepath.Join(t.TempDir(), "f")
			code, _, stderr := gdfetch(t, "-v", "-b", "flavour=mint", "-C", "-", "-o", out, target)
			require.Equal(t, exitOK, code, stderr)
			assert.Contains(t, stderr, tc.line)
			assert.Contains(t, stderr, "> Cookie: flavour=mint␍␊")
			mu.Lock()
			last := got[len(got)-1]
			mu.Unlock()
			if tc.proxy != "" {
				assert.Equal(t, "http://gdfetch.test:80/f|flavour=mint", last, "what the proxy received")
			} else {
				assert.Equal(t, "/f|flavour=mint", last)
			}
		})
	}
}

// TestResumeVerboseCookieAsSent: -C - -v prints the request after it went,
// with the Cookie line the jar gave it — not a cookie its response set.
func TestResumeVerboseCookieAsSent(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Cookie"))
		mu.Unlock()
		w.Header().Set("Set-Cookie", "sid=new; Path=/")
		w.Header().Set("ETag", `"e"`)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader([]byte("hello world")))
	}))
	defer srv.Close()
	t.Setenv("http_proxy", "")
	t.Setenv("HTTP_PROXY", "")
	out := filepath.Join(t.TempDir(), "f")
	code, _, stderr := gdfetch(t, "-v", "-b", "", "-C", "-", "-o", out, srv.URL+"/f")
	require.Equal(t, exitOK, code, stderr)
	mu.Lock()
	require.Equal(t, []string{""}, got, "the request carried no cookie")
	mu.Unlock()
	assert.NotContains(t, stderr, "> Cookie:")
}
