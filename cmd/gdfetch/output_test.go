package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// TestIncludeFormat: -i prints the result line, the headers exactly as
// request_completed delivers them (stripped lines, in order, duplicates
// kept, §1.8.5), an empty line, then the body.
func TestIncludeFormat(t *testing.T) {
	srv := testserver.New(t, testserver.Respond("HTTP/1.1 201 Created\r\nX-Dup: 1\r\n  X-Spaced: yes  \r\nX-Dup: 2\r\nContent-Length: 5\r\n\r\nhello"))
	code, out, stderr := gdfetch(t, srv.URL("/"), "-i")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "RESULT_SUCCESS (0) 201\nX-Dup: 1\nX-Spaced: yes\nX-Dup: 2\nContent-Length: 5\n\nhello", out)
	assert.Contains(t, stderr, "* RESULT_SUCCESS (0) 201, 5 B body")
}

// TestIncludeLargeBody: -i holds the body in the spool, not in memory: a
// 64 MiB body comes out whole after the result line and the headers, the
// command allocates a fraction of it, and the spool's temporary file is
// removed. A body cut short prints the head only, as the completion
// delivers no body then.
func TestIncludeLargeBody(t *testing.T) {
	const size = 64 << 20
	block := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.Header().Set("Content-Type", "application/octet-stream")
		if r.URL.Path == "/cut" {
			_, _ = w.Write(block)
			panic(http.ErrAbortHandler)
		}
		for range size / len(block) {
			_, _ = w.Write(block)
		}
	}))
	defer srv.Close()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)

	want := sha256.New()
	for range size / len(block) {
		want.Write(block)
	}
	out := &headThenHash{}
	var stderr bytes.Buffer
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	code := run([]string{"-i", srv.URL + "/"}, out, &stderr)
	runtime.ReadMemStats(&after)
	require.Equal(t, exitOK, code, stderr.String())
	assert.Regexp(t, `^RESULT_SUCCESS \(0\) 200\n(Content-Length: 67108864\nContent-Type: application/octet-stream\n|Content-Type: application/octet-stream\nContent-Length: 67108864\n)Date: .*\n\n$`, out.head.String())
	assert.Equal(t, int64(size), out.bodyLen)
	assert.Equal(t, want.Sum(nil), out.body.Sum(nil), "the body after the head, whole")
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(size/4), "allocated while printing a 64 MiB body")
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, left, "the spool's temporary file is removed")

	code, stdout, stderr2 := gdfetch(t, "-i", srv.URL+"/cut")
	assert.NotEqual(t, exitOK, code, stderr2)
	assert.True(t, strings.HasPrefix(stdout, "RESULT_"), stdout)
	assert.True(t, strings.HasSuffix(stdout, "\n\n"), "no body after the head of a failed request: %.200q", stdout)
	left, err = os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, left, "the spool's temporary file is removed")
}

// headThenHash keeps what is written up to the first empty line and hashes
// the rest.
type headThenHash struct {
	head    bytes.Buffer
	body    hash.Hash
	bodyLen int64
}

func (h *headThenHash) Write(p []byte) (int, error) {
	n := len(p)
	if h.body == nil {
		i := bytes.Index(append(h.head.Bytes()[max(h.head.Len()-1, 0):], p...), []byte("\n\n"))
		if i < 0 {
			h.head.Write(p)
			return n, nil
		}
		cut := i + 2 - min(h.head.Len(), 1)
		h.head.Write(p[:cut])
		p = p[cut:]
		h.body = sha256.New()
	}
	h.body.Write(p)
	h.bodyLen += int64(len(p))
	return n, nil
}

// TestHead: -I sends HEAD and prints the head as -i; no body is read
// (§1.8.6: a HEAD response has none whatever its Content-Length).
func TestHead(t *testing.T) {
	b := newBackend(t)
	code, out, stderr := gdfetch(t, "-I", b.url("/api/player"))
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `^RESULT_SUCCESS \(0\) 200\nContent-Type: application/json\nContent-Length: \d+\n\n$`, out)
	assert.True(t, strings.HasPrefix(b.lastRequest(), "HEAD /api/player HTTP/1.1\r\n"))
}

// TestSilent: -s prints no summary; a failure is still reported.
func TestSilent(t *testing.T) {
	b := newBackend(t)
	// -S (--show-error), curl's partner of -s, is accepted and changes
	// nothing: failures print anyway.
	for _, flags := range [][]string{{"-s"}, {"-sS"}, {"-s", "--show-error"}} {
		code, out, stderr := gdfetch(t, append(flags, b.url("/api/player"))...)
		require.Equal(t, 0, code, "%v: %s", flags, stderr)
		assert.Contains(t, out, `"level":12`)
		assert.Empty(t, stderr)
		code, _, stderr = gdfetch(t, append(flags, b.url("/no-headers"))...)
		assert.Equal(t, exitNoResponse, code)
		assert.Contains(t, stderr, "RESULT_NO_RESPONSE")
	}
}

// TestJSONOutputParsesBack: --json is one object holding the four values.
func TestJSONOutputParsesBack(t *testing.T) {
	b := newBackend(t)
	tests := []struct {
		name  string
		path  string
		code  int
		check func(t *testing.T, j jsonCompletion)
	}{
		{"success, gzip decoded", "/old-news", 0, func(t *testing.T, j jsonCompletion) {
			assert.Equal(t, "RESULT_SUCCESS", j.ResultName)
			assert.Equal(t, 200, j.ResponseCode)
			assert.Equal(t, []string{"Content-Type: text/plain; charset=utf-8", "Content-Encoding: gzip", "Content-Length: 68"}, j.Headers)
			require.NotNil(t, j.Body)
			assert.True(t, strings.HasPrefix(*j.Body, "Patch 1.2 is out"))
			assert.Empty(t, j.Error)
			assert.Equal(t, int64(68), j.BodySize) // §2.8.2.6: the compressed length
		}},
		{"binary body as base64", "/img/icon.png", 0, func(t *testing.T, j jsonCompletion) {
			assert.Nil(t, j.Body)
			require.NotNil(t, j.BodyBase64)
			assert.True(t, strings.HasPrefix(*j.BodyBase64, "iVBORw0KGgo")) // "\x89PNG\r\n\x1a\n"
		}},
		{"failure keeps its cause", "/corrupt-gzip", exitDecode, func(t *testing.T, j jsonCompletion) {
			assert.Equal(t, int(httprequest.ResultBodyDecompressFailed), j.Result)
			assert.Equal(t, "RESULT_BODY_DECOMPRESS_FAILED", j.ResultName)
			assert.Contains(t, j.Error, "gzip")
			assert.Nil(t, j.Body) // §2.10: no body with a failure
		}},
		{"no response: empty headers are []", "/no-headers", exitNoResponse, func(t *testing.T, j jsonCompletion) {
			assert.Equal(t, []string{}, j.Headers)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := gdfetch(t, "--json", b.url(tt.path))
			require.Equal(t, tt.code, code, stderr)
			require.Equal(t, 1, strings.Count(out, "\n"))
			var j jsonCompletion
			require.NoError(t, json.Unmarshal([]byte(out), &j))
			assert.Equal(t, tt.code, j.ExitCode)
			assert.Equal(t, b.url(tt.path), j.URL)
			require.NotNil(t, j.Frames)
			assert.Positive(t, *j.Frames)
			require.NotEmpty(t, j.Trace)
			assert.Equal(t, "STATUS_DISCONNECTED", j.Trace[len(j.Trace)-1].Status)
			tt.check(t, j)
		})
	}
}

// TestOutputFile: -o is download_file; stdout gets no body.
func TestOutputFile(t *testing.T) {
	b := newBackend(t)
	file := filepath.Join(t.TempDir(), "icon.png")
	code, out, stderr := gdfetch(t, "-o", file, b.url("/img/icon.png"))
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, out)
	got, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, iconPNG(), got)
	assert.Contains(t, stderr, "body saved to "+file)

	// The streamed and downloaded bytes agree for a larger body.
	code, out, _ = gdfetch(t, b.url("/bytes/300000"))
	require.Equal(t, 0, code)
	code, _, _ = gdfetch(t, "--chunk-size", "1024", "-o", file, b.url("/bytes/300000"))
	require.Equal(t, 0, code)
	got, err = os.ReadFile(file)
	require.NoError(t, err)
	assert.Len(t, got, 300000)
	assert.Equal(t, out, string(got))
}

// TestOutputEmptyBody: -o FILE with a response without a body leaves FILE
// empty (created or truncated), as curl, where the node never opens
// download_file (§2.9.2); not for a 304, nor for a code of 400 or more under
// -f (FILE left as it was).
func TestOutputEmptyBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(code)
	}))
	defer srv.Close()
	for _, code := range []int{200, 204, 304, 404} {
		for _, extra := range [][]string{nil, {"-f"}, {"--in-place"}, {"-f", "--in-place"}} {
			fail := len(extra) > 0 && extra[0] == "-f"
			kept := code == 304 || fail && code >= 400
			for _, old := range []bool{true, false} {
				name := fmt.Sprintf("%d %v old file %v", code, extra, old)
				out := filepath.Join(t.TempDir(), "f")
				if old {
					require.NoError(t, os.WriteFile(out, []byte("OLD"), 0o644))
				}
				exit, _, stderr := gdfetch(t, append([]string{"-o", out, srv.URL + "/" + strconv.Itoa(code)}, extra...)...)
				if fail && code >= 400 {
					assert.Equal(t, exitHTTPError, exit, "%s: %s", name, stderr)
				} else {
					assert.Equal(t, exitOK, exit, "%s: %s", name, stderr)
				}
				got, err := os.ReadFile(out)
				switch {
				case kept && old:
					assert.Equal(t, "OLD", string(got), name)
				case kept:
					assert.ErrorIs(t, err, fs.ErrNotExist, name)
				default:
					require.NoError(t, err, name)
					assert.Empty(t, got, name)
					assert.Contains(t, stderr, "body saved to "+out, name)
				}
				entries, err := os.ReadDir(filepath.Dir(out))
				require.NoError(t, err)
				assert.LessOrEqual(t, len(entries), 1, "%s: nothing left beside it", name)
			}
		}
	}
}

// TestVerboseShowsExactRequestBytes: -v's request bytes are the bytes the
// server received, byte for byte, and the status trace ends in
// STATUS_DISCONNECTED.
func TestVerboseShowsExactRequestBytes(t *testing.T) {
	tests := [][]string{
		{"-v", "URL/a?b=1"},
		{"-v", "-X", "PUT", "-H", "X-One: 1", "-H", "Accept-Encoding: identity", "-d", `{"a":1}`, "URL/p"},
		{"-v", "--brotli", "-A", "Game/2", "URL/"},
		{"-v", "--no-gzip", "URL/"},
	}
	for i, args := range tests {
		srv := testserver.New(t, testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		args[len(args)-1] = strings.Replace(args[len(args)-1], "URL", "http://"+srv.Addr(), 1)
		code, _, stderr := gdfetch(t, args...)
		require.Equal(t, 0, code, stderr)
		srv.Close()
		reqs := srv.Requests()
		require.Len(t, reqs, 1)
		var want bytes.Buffer
		writeRequest(&want, reqs[0])
		assert.Contains(t, stderr, want.String(), "case %d", i)
		assert.Contains(t, stderr, "> "+strings.SplitN(string(reqs[0]), "\r\n", 2)[0]+"␍␊\n", "case %d", i)
		assert.Contains(t, stderr, "STATUS_DISCONNECTED\n")
		assert.Contains(t, stderr, "< Content-Length: 2\n")
	}
}

// TestProgressSilentWhenNotATerminal: stderr that is not a terminal gets no
// progress bar; the same transfer with the bar forced on draws one.
func TestProgressSilentWhenNotATerminal(t *testing.T) {
	b := newBackend(t)
	code, _, stderr := gdfetch(t, b.url("/bytes/400000"))
	require.Equal(t, 0, code)
	assert.NotContains(t, stderr, "\r")
	assert.NotContains(t, stderr, "KiB/s")

	f, err := os.CreateTemp(t.TempDir(), "stderr")
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, isTerminal(f))
	assert.False(t, isTerminal(&bytes.Buffer{}))

	// Forced on: the node's OnProgress feeds the bar.
	n := httprequest.New()
	defer n.Close()
	var bar bytes.Buffer
	p := newProgress(&bar, n, true)
	ex, err := drive(t.Context(), n, b.url("/bytes/400000"), nil, 0, nil, p.update)
	require.NoError(t, err)
	p.finish()
	assert.Equal(t, httprequest.ResultSuccess, ex.Result)
	assert.Contains(t, bar.String(), "100%")
	assert.Contains(t, bar.String(), "391 KiB")
	assert.Nil(t, newProgress(&bar, n, false))
}

// TestProgressShowsDecodedBytes: for a compressed body the bar shows the
// wire bytes and, apart, the decoded bytes.
func TestProgressShowsDecodedBytes(t *testing.T) {
	b := newBackend(t)
	n := httprequest.New()
	defer n.Close()
	var bar bytes.Buffer
	p := newProgress(&bar, n, true)
	ex, err := drive(t.Context(), n, b.url("/news"), nil, 0, nil, p.update)
	require.NoError(t, err)
	p.finish()
	require.Equal(t, httprequest.ResultSuccess, ex.Result)
	assert.Equal(t, int64(320), ex.Decoded)
	assert.Contains(t, bar.String(), "320 B decoded")
}

// TestProgressRedrawsLatest: the bar's callbacks are throttled (a second
// value 20 ms after the first is not drawn at once), and a ticker redraws
// the latest values while nothing arrives: the count within a redraw
// period, the rate falling to 0 once a second passed without bytes. The
// ticker's goroutine ends with finish.
func TestProgressRedrawsLatest(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	n := httprequest.New()
	defer n.Close()
	var bar lockedBuffer
	p := newProgress(&bar, n, true)
	p.upload(1000, 10000)
	p.upload(2000, 10000)
	assert.NotContains(t, bar.String(), "2.0/9.8 KiB", "not throttled")
	assert.Eventually(t, func() bool { return strings.Contains(lastFrame(bar.String()), "(2.0/9.8 KiB") },
		3*redrawEvery, 10*time.Millisecond, "the latest count is not redrawn: %q", bar.String())
	assert.Eventually(t, func() bool { return strings.Contains(lastFrame(bar.String()), "(2.0/9.8 KiB, 0 B/s)") },
		rateSamples*redrawEvery+5*redrawEvery, 20*time.Millisecond, "the rate does not fall during a stall: %q", bar.String())
	p.finish()
	assert.True(t, strings.HasSuffix(bar.String(), "\r\x1b[2K"), "the bar is not cleared: %q", bar.String())
	assert.NoError(t, goleak.Find(leaks), "the ticker outlives finish")
}

// TestProgressFitsWidth: a frame is never wider than asked: the bar
// shrinks, then the description, the times, the bar, the rate and the
// percentage go, in that order; below the counts' width there is no frame.
func TestProgressFitsWidth(t *testing.T) {
	now := time.Now()
	p := &progress{total: 10000, cur: 2000, decoded: 5000, origin: now.Add(-3 * time.Second)}
	full := " 20% |████                    | (2.0/9.8 KiB, 1.2 KiB/s) [3s:6s] → 4.9 KiB decoded"
	for width := range 100 {
		b, ok := p.appendFitted(nil, now, 1234, width)
		f := string(b)
		if width < len("(2.0/9.8 KiB)") {
			assert.False(t, ok, "%d: %q", width, f)
			continue
		}
		require.True(t, ok, width)
		assert.LessOrEqual(t, utf8.RuneCountInString(f), width, f)
		switch w := utf8.RuneCountInString(full); {
		case width >= w:
			assert.Equal(t, full, f)
		case width >= w-(barWidth-minBarWidth):
			assert.Equal(t, width, utf8.RuneCountInString(f), "the bar shrinks to fit: %q", f)
			assert.Contains(t, f, "decoded")
		}
	}
	b, _ := p.appendFitted(nil, now, 1234, 40)
	assert.Equal(t, " 20% |█       | (2.0/9.8 KiB, 1.2 KiB/s)", string(b))
	b, _ = p.appendFitted(nil, now, 1234, 20)
	assert.Equal(t, " 20% (2.0/9.8 KiB)", string(b))
}

// lastFrame is the last frame of a bar's output.
func lastFrame(s string) string {
	s = strings.TrimSuffix(s, "\x1b[K")
	return s[strings.LastIndexByte(s, '\r')+1:]
}

// TestProgressAllocs: feeding the bar, a redraw included, does not
// allocate (the frame is built in a buffer kept between redraws).
func TestProgressAllocs(t *testing.T) {
	n := httprequest.New()
	defer n.Close()
	p := newProgress(io.Discard, n, true)
	defer p.finish()
	p.upload(1, 1<<30)
	var i int64
	assert.Zero(t, testing.AllocsPerRun(200, func() {
		i += 4096
		p.upload(i, 1<<30)
		p.mu.Lock()
		p.redraw(time.Now())
		p.mu.Unlock()
	}))
}

func TestShowProgress(t *testing.T) {
	tests := []struct {
		silent            bool
		output            string
		stderrTTY, outTTY bool
		want              bool
	}{
		{false, "", true, false, true},    // body piped, stderr on the terminal
		{false, "f", true, true, true},    // -o: stdout is free
		{false, "", true, true, false},    // body on the terminal: no bar
		{false, "f", false, false, false}, // stderr not a terminal
		{true, "f", true, true, false},    // -s
	}
	for _, tt := range tests {
		cfg := &config{silent: tt.silent, output: tt.output}
		assert.Equal(t, tt.want, showProgress(cfg, tt.stderrTTY, tt.outTTY), "%+v", tt)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB"} {
		assert.Equal(t, want, humanBytes(n))
	}
}

// longIPv6 writes every group, so that Godot's 4-character host minimum
// lets the address through.
func TestLongIPv6(t *testing.T) {
	for in, want := range map[string]string{
		"::1":         "0:0:0:0:0:0:0:1",
		"::":          "0:0:0:0:0:0:0:0",
		"fe80::ab:1":  "fe80:0:0:0:0:0:ab:1",
		"2001:db8::1": "2001:db8:0:0:0:0:0:1",
	} {
		assert.Equal(t, want, longIPv6(netip.MustParseAddr(in)), in)
	}
}
