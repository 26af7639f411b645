package httprequest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// DoResumable (resume.go) against net/http's http.ServeContent, which
// implements Range and If-Range for real (RFC 9110 §14), and against scripted
// peers for what ServeContent never sends.

// resource is a file served by http.ServeContent that the test can change,
// cut after some body bytes, or serve without range support.
type resource struct {
	mu       sync.Mutex
	content  []byte
	etag     string    // "" for none
	modtime  time.Time // zero for no Last-Modified
	cutAfter int       // > 0: the next response stops after this many body bytes
	noRanges bool      // answer 200 with the whole file, whatever the Range
	maxRange int       // > 0: an open range "bytes=S-" is served as at most this many bytes
	requests []http.Header
}

func (r *resource) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests = append(r.requests, req.Header.Clone())
	content, etag, modtime, cut := r.content, r.etag, r.modtime, r.cutAfter
	r.cutAfter = 0
	noRanges, maxRange := r.noRanges, r.maxRange
	r.mu.Unlock()
	if start, ok := strings.CutPrefix(req.Header.Get("Range"), "bytes="); ok && maxRange > 0 {
		if s, err := strconv.Atoi(strings.TrimSuffix(start, "-")); err == nil && strings.HasSuffix(start, "-") {
			req.Header.Set("Range", "bytes="+start+strconv.Itoa(s+maxRange-1)) // a CDN capping ranges
		}
	}
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	if noRanges {
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		_, _ = w.Write(content)
		return
	}
	if cut > 0 {
		w = &cutWriter{ResponseWriter: w, left: cut}
	}
	http.ServeContent(w, req, "", modtime, bytes.NewReader(content))
}

// request returns the headers of the i-th request.
func (r *resource) request(i int) http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests[i]
}

func (r *resource) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

func (r *resource) set(f func(r *resource)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r)
}

// cutWriter sends left body bytes, then drops the connection (the server
// closes it without finishing the response).
type cutWriter struct {
	http.ResponseWriter
	left int
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if len(p) < c.left {
		c.left -= len(p)
		return c.ResponseWriter.Write(p)
	}
	_, _ = c.ResponseWriter.Write(p[:c.left])
	c.ResponseWriter.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// resumeFixture is a node whose download_file is in a fresh directory, and a
// server for res.
type resumeFixture struct {
	n     *HTTPRequest
	file  string
	url   string
	state string
}

// urlPort is the port of an http:// URL with one (a test server's).
func urlPort(t *testing.T, rawURL string) int {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	port, err := strconv.Atoi(u.Port())
	require.NoError(t, err)
	return port
}

// cappedResume is a 10 KiB resource (ETag "c") whose server caps ranges at
// 3000 bytes, and a download of it stopped after its first 1000 bytes.
func cappedResume(t *testing.T) ([]byte, *resource, *resumeFixture) {
	t.Helper()
	content := randomBytes(t, 10<<10)
	res := &resource{content: content, etag: `"c"`, maxRange: 3000}
	f := newResumeFixture(t, res)
	f.stoppedAt(t, content, 1000)
	return content, res, f
}

// stoppedAt leaves the fixture's file holding content[:n] and the state of
// that download of a resource with ETag "c".
func (f *resumeFixture) stoppedAt(t *testing.T, content []byte, n int) {
	t.Helper()
	require.NoError(t, os.WriteFile(f.file, content[:n], 0o644))
	require.NoError(t, writeResumeState(f.state, &resumeState{URL: f.url, ETag: `"c"`, Length: int64(len(content))}))
}

func newResumeFixture(t *testing.T, h http.Handler) *resumeFixture {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	n := New()
	t.Cleanup(n.Close)
	file := filepath.Join(t.TempDir(), "asset.pck")
	require.NoError(t, n.SetDownloadFile(file))
	return &resumeFixture{n: n, file: file, url: srv.URL + "/asset.pck", state: file + ResumeSuffix}
}

func (f *resumeFixture) do(t *testing.T) (Resumed, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), maxWait)
	defer cancel()
	return f.n.DoResumable(ctx, f.url, []string{"User-Agent: resume-test"})
}

func (f *resumeFixture) readState(t *testing.T) *resumeState {
	t.Helper()
	st, err := readResumeState(f.state)
	require.NoError(t, err, "state file")
	return st
}

func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// A download cut mid-body and resumed ends with the original bytes: the
// first call leaves the partial file and its state (the validator, the
// length), the second sends Range from the file's size and If-Range with the
// validator, and appends the 206. With an ETag, with only Last-Modified.
func TestDoResumableCutThenResume(t *testing.T) {
	modtime := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name, etag string
		modtime    time.Time
		ifRange    string
	}{
		{"ETag", `"v1"`, time.Time{}, `"v1"`},
		{"ETag and Last-Modified: ETag wins", `"v1"`, modtime, `"v1"`},
		{"Last-Modified only", "", modtime, modtime.Format(http.TimeFormat)},
	} {
		t.Run(c.name, func(t *testing.T) {
			content := randomBytes(t, 200<<10)
			res := &resource{content: content, etag: c.etag, modtime: c.modtime, cutAfter: 70000}
			f := newResumeFixture(t, res)

			r, err := f.do(t)
			require.Error(t, err)
			assert.Equal(t, ResultCantConnect, r.Result, "a Content-Length body cut short (§2.9.5): %v", err)
			partial := fileBytes(t, f.file)
			require.Len(t, partial, 70000, "the partial file is kept")
			assert.Equal(t, content[:70000], partial)
			st := f.readState(t)
			assert.Equal(t, f.url, st.URL)
			assert.Equal(t, c.etag, st.ETag)
			assert.Equal(t, int64(len(content)), st.Length)
			assert.Empty(t, res.request(0).Get("Range"), "nothing to resume the first time")
			assert.Equal(t, "identity", res.request(0).Get("Accept-Encoding"))

			r, err = f.do(t)
			require.NoError(t, err)
			assert.Equal(t, ResultSuccess, r.Result)
			assert.Equal(t, 206, r.ResponseCode)
			assert.Equal(t, ResumeAppended, r.Outcome)
			assert.Equal(t, int64(70000), r.Offset)
			assert.Equal(t, []string{"User-Agent: resume-test", "Accept-Encoding: identity", "Range: bytes=70000-", "If-Range: " + c.ifRange}, r.Sent)
			assert.Equal(t, "bytes=70000-", res.request(1).Get("Range"))
			assert.Equal(t, c.ifRange, res.request(1).Get("If-Range"))
			assert.Equal(t, "resume-test", res.request(1).Get("User-Agent"), "the caller's headers are sent")
			assert.True(t, bytes.Equal(content, fileBytes(t, f.file)), "the file equals the original bytes")
			assert.NoFileExists(t, f.state, "the state file goes with success")
			assert.False(t, f.n.IsKeepingPartialDownload(), "properties restored")
			assert.False(t, f.n.IsAppendingToDownloadFile(), "properties restored")
			assert.Len(t, dirEntries(t, filepath.Dir(f.file)), 1, "no temporary file left")
		})
	}
}

// A file that changed between the two calls fails the If-Range: the server
// sends the whole new file with 200, which replaces the partial file from
// its first byte — two versions are never spliced.
func TestDoResumableChangedFileRestarts(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(r *resource)
	}{
		{"new ETag", func(r *resource) { r.etag = `"v2"` }},
		{"new Last-Modified", func(r *resource) { r.modtime = r.modtime.Add(time.Hour) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			old := randomBytes(t, 100<<10)
			res := &resource{content: old, cutAfter: 30000}
			if c.name == "new ETag" {
				res.etag = `"v1"`
			} else {
				res.modtime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			}
			f := newResumeFixture(t, res)
			_, err := f.do(t)
			require.Error(t, err)
			require.Len(t, fileBytes(t, f.file), 30000)

			changed := randomBytes(t, 80<<10)
			res.set(func(r *resource) { r.content = changed; c.change(r) })
			r, err := f.do(t)
			require.NoError(t, err)
			assert.Equal(t, 200, r.ResponseCode)
			assert.Equal(t, ResumeFromStart, r.Outcome)
			assert.Equal(t, int64(30000), r.Offset, "a Range was asked for")
			assert.Equal(t, "bytes=30000-", res.request(1).Get("Range"))
			assert.True(t, bytes.Equal(changed, fileBytes(t, f.file)), "the new file, not spliced")
			assert.NoFileExists(t, f.state)
		})
	}
}

// A server without range support answers 200: the file is downloaded again
// from its first byte.
func TestDoResumableServerIgnoresRange(t *testing.T) {
	content := randomBytes(t, 64<<10)
	res := &resource{content: content, etag: `"a"`, cutAfter: 10000}
	f := newResumeFixture(t, res)
	_, err := f.do(t)
	require.Error(t, err)
	res.set(func(r *resource) { r.noRanges = true })
	r, err := f.do(t)
	require.NoError(t, err)
	assert.Equal(t, 200, r.ResponseCode)
	assert.Equal(t, ResumeFromStart, r.Outcome)
	assert.Equal(t, "bytes=10000-", res.request(1).Get("Range"))
	assert.True(t, bytes.Equal(content, fileBytes(t, f.file)))
}

// A partial file with no state (or state for another URL, or no validator)
// is not trusted: a plain GET, and the 200 replaces the file.
func TestDoResumableUntrustedPartialRestarts(t *testing.T) {
	for _, c := range []struct {
		name  string
		state *resumeState
		etag  string
	}{
		{"no state file", nil, `"a"`},
		{"state for another URL", &resumeState{URL: "http://elsewhere/x", ETag: `"a"`, Length: -1}, `"a"`},
		{"state without a validator", &resumeState{URL: "", Length: -1}, `"a"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			content := randomBytes(t, 20<<10)
			res := &resource{content: content, etag: c.etag}
			f := newResumeFixture(t, res)
			require.NoError(t, os.WriteFile(f.file, []byte("some other bytes"), 0o644))
			if c.state != nil {
				st := *c.state
				if st.URL == "" {
					st.URL = f.url
				}
				require.NoError(t, writeResumeState(f.state, &st))
			}
			r, err := f.do(t)
			require.NoError(t, err)
			assert.Equal(t, ResumeFromStart, r.Outcome)
			assert.Equal(t, int64(0), r.Offset)
			assert.Empty(t, res.request(0).Get("Range"))
			assert.Empty(t, res.request(0).Get("If-Range"))
			assert.True(t, bytes.Equal(content, fileBytes(t, f.file)))
			assert.NoFileExists(t, f.state)
		})
	}
}

// A weak ETag cannot be used in If-Range (RFC 9110 §13.1.5): with no
// Last-Modified either, a cut download keeps no state and the next call
// starts again.
func TestDoResumableWeakETagKeepsNoState(t *testing.T) {
	content := randomBytes(t, 50<<10)
	res := &resource{content: content, etag: `W/"weak"`, cutAfter: 20000}
	f := newResumeFixture(t, res)
	_, err := f.do(t)
	require.Error(t, err)
	assert.Len(t, fileBytes(t, f.file), 20000)
	assert.NoFileExists(t, f.state)
	r, err := f.do(t)
	require.NoError(t, err)
	assert.Equal(t, ResumeFromStart, r.Outcome)
	assert.Empty(t, res.request(1).Get("Range"))
	assert.True(t, bytes.Equal(content, fileBytes(t, f.file)))
}

// A complete file whose state was left behind (the process died after the
// last byte): the server's 416 "bytes */<size>" says it is whole — success,
// code 416, the file untouched, the state removed. A 416 for another length
// (the file is longer than the resource), or for the file's size where the
// state recorded another (the resource changed: another representation, as
// for a 206), starts once more without a Range.
func TestDoResumable416(t *testing.T) {
	t.Run("complete", func(t *testing.T) {
		content := randomBytes(t, 10<<10)
		res := &resource{content: content, etag: `"c"`}
		f := newResumeFixture(t, res)
		require.NoError(t, os.WriteFile(f.file, content, 0o644))
		require.NoError(t, writeResumeState(f.state, &resumeState{URL: f.url, ETag: `"c"`, Length: int64(len(content))}))
		r, err := f.do(t)
		require.NoError(t, err)
		assert.Equal(t, ResultSuccess, r.Result)
		assert.Equal(t, 416, r.ResponseCode)
		assert.Equal(t, ResumeAlreadyComplete, r.Outcome)
		assert.Equal(t, "bytes=10240-", res.request(0).Get("Range"))
		assert.True(t, bytes.Equal(content, fileBytes(t, f.file)), "untouched (not overwritten by the 416 page)")
		assert.NoFileExists(t, f.state)
	})
	t.Run("file longer than the resource", func(t *testing.T) {
		content := randomBytes(t, 10<<10)
		res := &resource{content: content, etag: `"c"`}
		f := newResumeFixture(t, res)
		require.NoError(t, os.WriteFile(f.file, randomBytes(t, 12<<10), 0o644))
		require.NoError(t, writeResumeState(f.state, &resumeState{URL: f.url, ETag: `"c"`, Length: -1}))
		r, err := f.do(t)
		require.NoError(t, err)
		assert.Equal(t, 200, r.ResponseCode)
		assert.Equal(t, ResumeFromStart, r.Outcome)
		require.Equal(t, 2, res.count())
		assert.Equal(t, "bytes=12288-", res.request(0).Get("Range"))
		assert.Empty(t, res.request(1).Get("Range"), "the second request asks for the whole file")
		assert.True(t, bytes.Equal(content, fileBytes(t, f.file)))
	})
	t.Run("the file's size, not the state's length", func(t *testing.T) {
		// Half of a 1000-byte version is on disk; the resource (same ETag,
		// a server that did not change it) now has 500 bytes.
		content := randomBytes(t, 500)
		res := &resource{content: content, etag: `"v"`}
		f := newResumeFixture(t, res)
		require.NoError(t, os.WriteFile(f.file, randomBytes(t, 500), 0o644))
		require.NoError(t, writeResumeState(f.state, &resumeState{URL: f.url, ETag: `"v"`, Length: 1000}))
		r, err := f.do(t)
		require.NoError(t, err)
		assert.NotEqual(t, ResumeAlreadyComplete, r.Outcome, "half of the recorded length is not a whole file")
		assert.Equal(t, ResumeFromStart, r.Outcome)
		assert.Equal(t, 200, r.ResponseCode)
		require.Equal(t, 2, res.count())
		assert.Equal(t, "bytes=500-", res.request(0).Get("Range"))
		assert.Empty(t, res.request(1).Get("Range"), "the second request asks for the whole file")
		assert.True(t, bytes.Equal(content, fileBytes(t, f.file)))
	})
}

// Step 5: a server that caps ranges answers "bytes S-E/L" with E+1 < L;
// the file is not whole, so DoResumable asks for the rest, round after
// round, and succeeds only with all L bytes (it used to succeed with the
// first range appended, the file short and its state removed).
func TestDoResumableCappedRanges(t *testing.T) {
	content, res, f := cappedResume(t)
	r, err := f.do(t)
	require.NoError(t, err)
	assert.Equal(t, ResultSuccess, r.Result)
	assert.Equal(t, 206, r.ResponseCode)
	assert.Equal(t, ResumeAppended, r.Outcome)
	assert.True(t, bytes.Equal(content, fileBytes(t, f.file)), "the whole file")
	assert.NoFileExists(t, f.state)
	require.Equal(t, 4, res.count())
	for i, offset := range []int{1000, 4000, 7000, 10000} {
		assert.Equal(t, "bytes="+strconv.Itoa(offset)+"-", res.request(i).Get("Range"))
		assert.Equal(t, `"c"`, res.request(i).Get("If-Range"))
	}
	assert.Equal(t, int64(10000), r.Offset, "the last request's")

	// A round cut short fails the call and leaves the file and the state;
	// the next call goes on from there.
	f.stoppedAt(t, content, 1000)
	res.set(func(r *resource) { r.cutAfter = 500 })
	_, err = f.do(t)
	require.Error(t, err)
	assert.Len(t, fileBytes(t, f.file), 1500)
	assert.FileExists(t, f.state)
	r, err = f.do(t)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(content, fileBytes(t, f.file)))
	assert.Equal(t, 4+1+3, res.count(), "then 1500-4499, 4500-7499, 7500-10239")
}

// The rounds after a capped range end: a 206 announcing another complete
// length is another representation (RFC 9110 §14.4), refused — a server
// that moved the length one byte further each round kept DoResumable asking
// until its context ended — and a 416 met in a later round (the resource
// shrank) starts once more without a Range, as in the first round (it
// returned success with a file of the old representation).
func TestDoResumableCappedRangeRoundsEnd(t *testing.T) {
	rangeRe := regexp.MustCompile(`Range: bytes=(\d+)-`)
	start := func(req []byte) (int, bool) {
		m := rangeRe.FindSubmatch(req)
		if m == nil {
			return 0, false
		}
		s, _ := strconv.Atoi(string(m[1]))
		return s, true
	}
	setup := func(t *testing.T, respond func(req []byte) string, length int64) (*HTTPRequest, string, string, *atomic.Int64) {
		var reqs atomic.Int64
		srv := serve(t, route(func(_ string, req []byte) string { reqs.Add(1); return respond(req) }))
		n := New()
		t.Cleanup(n.Close)
		file := filepath.Join(t.TempDir(), "f.bin")
		require.NoError(t, n.SetDownloadFile(file))
		require.NoError(t, os.WriteFile(file, []byte("hello "), 0o644))
		url := srv.URL("/f.bin")
		require.NoError(t, writeResumeState(file+ResumeSuffix, &resumeState{URL: url, ETag: `"e"`, Length: length}))
		return n, url, file, &reqs
	}
	t.Run("length moves", func(t *testing.T) {
		n, url, file, reqs := setup(t, func(req []byte) string {
			s, ok := start(req)
			if !ok {
				return "HTTP/1.1 500 X\r\nContent-Length: 0\r\n\r\n"
			}
			return fmt.Sprintf("HTTP/1.1 206 Partial Content\r\nETag: \"e\"\r\nContent-Range: bytes %d-%d/%d\r\nContent-Length: 1\r\n\r\nx", s, s, s+2)
		}, 8)
		ctx, cancel := context.WithTimeout(context.Background(), maxWait)
		defer cancel()
		_, err := n.DoResumable(ctx, url, nil)
		require.ErrorIs(t, err, ErrResumeMismatch)
		assert.EqualValues(t, 2, reqs.Load(), "6-6/8, then 7-7/9: another length")
		assert.Equal(t, "hello x", string(fileBytes(t, file)), "the second body was not appended")
	})
	t.Run("416 in a later round", func(t *testing.T) {
		n, url, file, reqs := setup(t, func(req []byte) string {
			switch s, ok := start(req); {
			case !ok:
				return "HTTP/1.1 200 OK\r\nETag: \"new\"\r\nContent-Length: 3\r\n\r\nnew"
			case s == 6:
				return "HTTP/1.1 206 Partial Content\r\nETag: \"e\"\r\nContent-Range: bytes 6-7/11\r\nContent-Length: 2\r\n\r\nwo"
			}
			return "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */3\r\nContent-Length: 0\r\n\r\n"
		}, 11)
		ctx, cancel := context.WithTimeout(context.Background(), maxWait)
		defer cancel()
		r, err := n.DoResumable(ctx, url, nil)
		require.NoError(t, err)
		assert.Equal(t, 200, r.ResponseCode)
		assert.Equal(t, "new", string(fileBytes(t, file)))
		assert.EqualValues(t, 3, reqs.Load(), "206 (capped), 416, then once more without a Range")
	})
}

// The checks Godot's node leaves to the game: a 206 that does not continue
// the file, or any status but 200/206, never touches the file or the state.
func TestDoResumableRefusals(t *testing.T) {
	const size = 6 // "hello "
	for _, c := range []struct {
		name, resp string
		cause      error
	}{
		{"206 starting elsewhere", "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-10/11\r\nContent-Length: 11\r\n\r\nhello world", ErrResumeMismatch},
		{"206 starting past the end", "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 7-10/11\r\nContent-Length: 4\r\n\r\norld", ErrResumeMismatch},
		{"206 without Content-Range", "HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\n\r\nworld", ErrResumeMismatch},
		{"206 multipart/byteranges", "HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=x\r\nContent-Length: 5\r\n\r\nworld", ErrResumeMismatch},
		{"206 end past the length", "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 6-11/11\r\nContent-Length: 6\r\n\r\nworld!", ErrResumeMismatch},
		{"206 gzip-encoded", "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 6-10/11\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nworld", ErrResumeMismatch},
		{"206 with another ETag", "HTTP/1.1 206 Partial Content\r\nETag: \"other\"\r\nContent-Range: bytes 6-10/11\r\nContent-Length: 5\r\n\r\nworld", ErrResumeMismatch},
		{"206 without a body", "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 6-10/11\r\nContent-Length: 0\r\n\r\n", ErrResumeMismatch},
		{"206 longer than its range", "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 6-10/11\r\nContent-Length: 12\r\n\r\nworld-EXTRA!", ErrResumeMismatch},
		{"206 shorter than its range", "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 6-10/11\r\nContent-Length: 2\r\n\r\nwo", ErrResumeMismatch},
		{"404 with a body", "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", ErrResumeStatus},
		{"500 without a body", "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", ErrResumeStatus},
		{"416 for another length", "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */3\r\nContent-Length: 3\r\n\r\nbad", ErrResumeStatus},
	} {
		t.Run(c.name, func(t *testing.T) {
			var reqs []string
			var mu sync.Mutex
			srv := serve(t, route(func(_ string, req []byte) string {
				mu.Lock()
				reqs = append(reqs, string(req))
				mu.Unlock()
				return c.resp
			}))
			n := New()
			defer n.Close()
			file := filepath.Join(t.TempDir(), "f.bin")
			require.NoError(t, n.SetDownloadFile(file))
			require.NoError(t, os.WriteFile(file, []byte("hello "), 0o644))
			url := srv.URL("/f.bin")
			st := &resumeState{URL: url, ETag: `"e"`, Length: 11}
			require.NoError(t, writeResumeState(file+ResumeSuffix, st))
			stateBefore := fileBytes(t, file+ResumeSuffix)

			ctx, cancel := context.WithTimeout(context.Background(), maxWait)
			defer cancel()
			r, err := n.DoResumable(ctx, url, nil)
			require.Error(t, err)
			assert.ErrorIs(t, err, c.cause)
			assert.ErrorIs(t, err, ResultDownloadFileCantOpen)
			assert.Equal(t, ResultDownloadFileCantOpen, r.Result)
			assert.Equal(t, "hello ", string(fileBytes(t, file)), "file untouched")
			assert.Equal(t, stateBefore, fileBytes(t, file+ResumeSuffix), "state untouched")
			mu.Lock()
			defer mu.Unlock()
			require.NotEmpty(t, reqs)
			assert.Contains(t, reqs[0], "\r\nRange: bytes="+strconv.Itoa(size)+"-\r\nIf-Range: \"e\"\r\n")
		})
	}
}

// A 206 body without a length is measured once read: one that does not
// end where its Content-Range says is taken back out of the file, which is
// left as it was, and the call fails with ErrResumeMismatch; one that does
// is appended.
func TestDoResumableBodyOutsideRange(t *testing.T) {
	head := "HTTP/1.1 206 Partial Content\r\nETag: \"e\"\r\nContent-Range: bytes 6-10/11\r\n"
	for _, c := range []struct {
		name, resp string
		close, ok  bool
	}{
		{"chunked, longer", head + "Transfer-Encoding: chunked\r\n\r\nc\r\nworld-EXTRA!\r\n0\r\n\r\n", false, false},
		{"chunked, shorter", head + "Transfer-Encoding: chunked\r\n\r\n2\r\nwo\r\n0\r\n\r\n", false, false},
		{"until close, longer", head + "Connection: close\r\n\r\nworld-EXTRA!", true, false},
		{"chunked, exact", head + "Transfer-Encoding: chunked\r\n\r\n5\r\nworld\r\n0\r\n\r\n", false, true},
		{"until close, exact", head + "Connection: close\r\n\r\nworld", true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			step := testserver.WriteString(c.resp)
			if c.close {
				step = testserver.WriteAndClose([]byte(c.resp))
			}
			srv := serve(t, testserver.Script(testserver.Read(), step, testserver.Hold()))
			n, file, url := partialHello(t, srv)
			ctx, cancel := context.WithTimeout(context.Background(), maxWait)
			defer cancel()
			r, err := n.DoResumable(ctx, url, nil)
			if c.ok {
				require.NoError(t, err)
				assert.Equal(t, ResumeAppended, r.Outcome)
				assert.Equal(t, "hello world", string(fileBytes(t, file)))
				assert.NoFileExists(t, file+ResumeSuffix)
				return
			}
			assert.ErrorIs(t, err, ErrResumeMismatch)
			assert.Equal(t, ResultDownloadFileCantOpen, r.Result)
			assert.Equal(t, 206, r.ResponseCode)
			assert.Equal(t, "hello ", string(fileBytes(t, file)), "the appended bytes are taken back")
			assert.FileExists(t, file+ResumeSuffix, "kept for the next call")
		})
	}
}

// The arguments DoResumable refuses: no download_file, and headers that
// would fight its own Range.
func TestDoResumableArguments(t *testing.T) {
	n := New()
	defer n.Close()
	ctx := context.Background()
	_, err := n.DoResumable(ctx, "http://127.0.0.1:1/", nil)
	assert.ErrorIs(t, err, godot.ErrInvalidParameter)
	require.NoError(t, n.SetDownloadFile(filepath.Join(t.TempDir(), "x")))
	for _, h := range []string{"Range: bytes=0-", "if-range: \"x\""} {
		_, err = n.DoResumable(ctx, "http://127.0.0.1:1/", []string{h})
		assert.ErrorIs(t, err, godot.ErrInvalidParameter, h)
	}
	srv := serve(t, testserver.Script(testserver.Read(), testserver.Hold()))
	require.NoError(t, n.Request(srv.URL("/"), nil, 0, ""))
	_, err = n.DoResumable(ctx, srv.URL("/"), nil)
	assert.ErrorIs(t, err, godot.ErrBusy)
	n.CancelRequest()
}

// A Do canceled mid-body (ctx) keeps the partial file and its state; the
// next call completes it.
func TestDoResumableCanceledThenResumed(t *testing.T) {
	content := randomBytes(t, 100<<10)
	release, flushed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("ETag", `"s"`)
		if req.Header.Get("Range") == "" {
			// The first response stalls after 40000 bytes until the test ends.
			w.Header().Set("Content-Length", strconv.Itoa(len(content)))
			_, _ = w.Write(content[:40000])
			w.(http.Flusher).Flush()
			close(flushed)
			select {
			case <-release:
			case <-req.Context().Done():
			}
			return
		}
		http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(content))
	})
	f := newResumeFixture(t, h)
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	ctx, cancel := context.WithCancel(context.Background())
	port := urlPort(t, f.url)
	go func() {
		<-flushed
		waitReadHolds(t, port)
		cancel()
	}()
	_, err := f.n.DoResumable(ctx, f.url, nil)
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, fileBytes(t, f.file), 40000)
	assert.Equal(t, `"s"`, f.readState(t).ETag)
	once.Do(func() { close(release) })

	r, err := f.do(t)
	require.NoError(t, err)
	assert.Equal(t, ResumeAppended, r.Outcome)
	assert.True(t, bytes.Equal(content, fileBytes(t, f.file)))
}

// The state file is JSON with the fields the package documents.
func TestResumeStateFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s"+ResumeSuffix)
	require.NoError(t, writeResumeState(path, &resumeState{URL: "http://h/f", ETag: `"e"`, LastModified: "Sun, 01 Mar 2026 12:00:00 GMT", Length: 42}))
	var m map[string]any
	require.NoError(t, json.Unmarshal(fileBytes(t, path), &m))
	assert.Equal(t, map[string]any{"url": "http://h/f", "etag": `"e"`, "last_modified": "Sun, 01 Mar 2026 12:00:00 GMT", "length": float64(42)}, m)
	assert.Len(t, dirEntries(t, filepath.Dir(path)), 1)
}

func TestParseContentRange(t *testing.T) {
	for _, c := range []struct {
		in                 string
		start, end, length int64
		ok                 bool
	}{
		{"bytes 0-9/10", 0, 9, 10, true},
		{"bytes 5-9/*", 5, 9, -1, true},
		{"bytes */10", -1, -1, 10, true},
		{"BYTES 1-2/3", 1, 2, 3, true},
		{"bytes */*", 0, 0, 0, false},
		{"bytes 1-2", 0, 0, 0, false},
		{"bytes -1-2/3", 0, 0, 0, false},
		{"bytes +1-2/3", 0, 0, 0, false},
		{"items 1-2/3", 0, 0, 0, false},
		{"", 0, 0, 0, false},
		{"bytes 1-x/3", 0, 0, 0, false},
	} {
		s, e, l, ok := parseContentRange(c.in)
		assert.Equal(t, c.ok, ok, c.in)
		if c.ok {
			assert.Equal(t, []int64{c.start, c.end, c.length}, []int64{s, e, l}, c.in)
		}
	}
	assert.False(t, strings.Contains(ResumeSuffix, "/"))
}

// An empty 200 (Content-Length: 0) opens no file (§2.9.2), but the resource
// is empty: DoResumable leaves an empty file, not the old partial one.
func TestDoResumableEmpty200(t *testing.T) {
	srv := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\nETag: \"e\"\r\nContent-Length: 0\r\n\r\n"))
	n, file, url := partialHello(t, srv)
	r, err := n.DoResumable(context.Background(), url, nil)
	require.NoError(t, err)
	assert.Equal(t, 200, r.ResponseCode)
	assert.Equal(t, ResumeFromStart, r.Outcome)
	assert.Empty(t, fileBytes(t, file))
	assert.NoFileExists(t, file+ResumeSuffix)
}

// partialHello returns a node whose download_file holds "hello " with the
// state of a previous call for srv's /f.bin (ETag "e", 11 bytes in all),
// the file's path and the URL.
func partialHello(t *testing.T, srv *testserver.Server) (*HTTPRequest, string, string) {
	t.Helper()
	n := New()
	t.Cleanup(n.Close)
	file := filepath.Join(t.TempDir(), "f.bin")
	require.NoError(t, n.SetDownloadFile(file))
	require.NoError(t, os.WriteFile(file, []byte("hello "), 0o644))
	url := srv.URL("/f.bin")
	require.NoError(t, writeResumeState(file+ResumeSuffix, &resumeState{URL: url, ETag: `"e"`, Length: 11}))
	return n, file, url
}

// An ETag with a CR inside (stored as Godot stores it, §1.8.2) cannot go
// back in If-Range — the request would be refused (§7 D2) — so it is no
// validator: the cut download keeps no state and the next call downloads
// the file again, instead of failing at every call. Found by the session 24
// review.
func TestDoResumableUnsendableETag(t *testing.T) {
	var mu sync.Mutex
	var heads []string
	srv := testserver.New(t, func(c *testserver.Conn) {
		req, err := c.ReadRequest()
		if err != nil {
			return
		}
		mu.Lock()
		first := len(heads) == 0
		heads = append(heads, string(req))
		mu.Unlock()
		if first {
			_ = c.WriteAndClose([]byte("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nETag: \"v1\rx\"\r\n\r\n12345")) // cut
			return
		}
		_ = c.WriteAndClose([]byte("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nETag: \"v1\rx\"\r\n\r\n1234567890"))
	})
	n := New()
	defer n.Close()
	file := filepath.Join(t.TempDir(), "f")
	require.NoError(t, n.SetDownloadFile(file))
	url := srv.URL("/f")
	_, err := n.DoResumable(context.Background(), url, nil)
	require.Error(t, err, "the first response is cut")
	assert.NoFileExists(t, file+ResumeSuffix, "no validator, no state")
	r, err := n.DoResumable(context.Background(), url, nil)
	require.NoError(t, err)
	assert.Equal(t, ResumeFromStart, r.Outcome)
	assert.Equal(t, "1234567890", string(fileBytes(t, file)))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, heads, 2)
	assert.NotContains(t, heads[1], "If-Range")
	assert.NotContains(t, heads[1], "Range:")
}
