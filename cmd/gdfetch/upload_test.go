package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	tdrive "github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// uploadEcho answers with the request's method, path, framing, Content-Type
// media type, and for a form one line per part (name, file name, size,
// SHA-256), else the body's size and SHA-256.
func uploadEcho(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s len=%d te=%v\n", r.Method, r.URL.Path, r.ContentLength, r.TransferEncoding)
		if mr, err := r.MultipartReader(); err == nil {
			for {
				p, err := mr.NextPart()
				if err != nil {
					if err != io.EOF {
						fmt.Fprintf(w, "error %v\n", err)
					}
					return
				}
				n, sum, _ := tdrive.SHA256Of(p)
				fmt.Fprintf(w, "%s|%s|%d|%s\n", p.FormName(), p.FileName(), n, sum[:16])
			}
		}
		n, sum, _ := tdrive.SHA256Of(r.Body)
		fmt.Fprintf(w, "body %d %s\n", n, sum[:16])
	}))
	t.Cleanup(srv.Close)
	return srv
}

func shortSum(b []byte) string { return tdrive.SHA256(b)[:16] }

func TestParseUploadFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "save.bin")
	require.NoError(t, os.WriteFile(file, []byte("data"), 0o644))
	txt := filepath.Join(dir, "note.txt")
	require.NoError(t, os.WriteFile(txt, []byte("from a file"), 0o644))

	c, err := parseFetch(context.Background(), []string{"http://h/up", "-F", "name=Ada", "-F", "save=@" + file, "-F", "note=<" + txt})
	require.NoError(t, err)
	require.NotNil(t, c.upload)
	assert.Equal(t, httpclient.MethodPost, c.method, "-F: POST")
	assert.False(t, c.hasBody)

	c, err = parseFetch(context.Background(), []string{"-T", file, "http://h/dir/"})
	require.NoError(t, err)
	assert.Equal(t, httpclient.MethodPut, c.method, "-T: PUT")
	assert.Equal(t, "http://h/dir/save.bin", c.url, "curl's rule: a URL ending in / gets the file name")
	c, err = parseFetch(context.Background(), []string{"-T", file, "-X", "POST", "http://h/x"})
	require.NoError(t, err)
	assert.Equal(t, httpclient.MethodPost, c.method)
	assert.Equal(t, "http://h/x", c.url)

	for _, args := range [][]string{
		{"http://h/", "-F", "novalue"},
		{"http://h/", "-F", "=x"},
		{"http://h/", "-F", "f=@" + filepath.Join(dir, "missing")},
		{"http://h/", "-F", "f=<" + filepath.Join(dir, "missing")},
		{"http://h/", "-F", "a=b", "-T", file},
		{"http://h/", "-F", "a=b", "-d", "x"},
		{"http://h/", "-T", filepath.Join(dir, "missing")},
		{"http://h/", "-T", dir},
	} {
		_, err := parseFetch(context.Background(), args)
		var ue *usageError
		assert.ErrorAs(t, err, &ue, "%q", args)
	}
}

// TestFormUpload: gdfetch -F sends a multipart/form-data body (streamed
// files, a known Content-Length) that a server parses with mime/multipart;
// -v shows the head with the form's Content-Type.
func TestFormUpload(t *testing.T) {
	srv := uploadEcho(t)
	dir := t.TempDir()
	data := []byte(strings.Repeat("level-data ", 50_000))
	file := filepath.Join(dir, "level.dat")
	require.NoError(t, os.WriteFile(file, data, 0o644))

	code, out, errOut := gdfetch(t, srv.URL+"/form", "-s", "-v", "-F", "player=Ada", "-F", "level=@"+file)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	assert.True(t, strings.HasPrefix(lines[0], "POST /form len="), lines[0])
	assert.NotContains(t, lines[0], "len=-1")
	assert.Equal(t, "player||3|"+shortSum([]byte("Ada")), lines[1])
	assert.Equal(t, fmt.Sprintf("level|level.dat|%d|%s", len(data), shortSum(data)), lines[2])
	assert.Contains(t, errOut, "Content-Type: multipart/form-data; boundary=")
	assert.Contains(t, errOut, "Content-Length: ")
	assert.Contains(t, errOut, "uploaded ")
}

// TestUploadFile: gdfetch -T streams a file as the body of a PUT with its
// size as Content-Length, byte for byte.
func TestUploadFile(t *testing.T) {
	srv := uploadEcho(t)
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i * 13)
	}
	file := filepath.Join(t.TempDir(), "blob.bin")
	require.NoError(t, os.WriteFile(file, data, 0o644))
	for _, extra := range [][]string{nil, {"--threads"}} {
		args := append([]string{"-s", "-T", file, srv.URL + "/files/"}, extra...)
		code, out, errOut := gdfetch(t, args...)
		require.Equal(t, 0, code, errOut)
		assert.Equal(t, fmt.Sprintf("PUT /files/blob.bin len=%d te=[]\nbody %d %s\n", len(data), len(data), shortSum(data)), out)
	}
}

// TestProgressShowsUpload: with -F/-T the bar first shows the request body
// going out ("↑ upload", its size), then the response's.
func TestProgressShowsUpload(t *testing.T) {
	srv := uploadEcho(t)
	n := httprequest.New()
	defer n.Close()
	var bar bytes.Buffer
	p := newProgress(&bar, n, true)
	body := bytes.Repeat([]byte("u"), 400_000)
	ex, err := driveStart(t.Context(), n, func() error {
		return n.RequestStream(srv.URL+"/up", nil, httpclient.MethodPut, bytes.NewReader(body), int64(len(body)))
	}, p.update, p.upload)
	require.NoError(t, err)
	p.finish()
	require.Equal(t, httprequest.ResultSuccess, ex.Result)
	assert.Contains(t, bar.String(), "↑ upload")
	assert.Contains(t, bar.String(), "391 KiB")
	assert.Contains(t, string(ex.Body), "body 400000 ")
}

// TestUploadStdin: gdfetch -T - sends standard input chunked (its length is
// not known in advance), as curl does.
func TestUploadStdin(t *testing.T) {
	srv := uploadEcho(t)
	data := []byte(strings.Repeat("from stdin\n", 10_000))
	r, w, err := os.Pipe()
	require.NoError(t, err)
	go func() {
		_, _ = w.Write(data)
		_ = w.Close()
	}()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; _ = r.Close() }()
	code, out, errOut := gdfetch(t, "-s", "-T", "-", srv.URL+"/in")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, fmt.Sprintf("PUT /in len=-1 te=[chunked]\nbody %d %s\n", len(data), shortSum(data)), out)
}

// TestUploadStdinWaitingEnds: gdfetch -T - whose standard input has sent a
// part and then nothing more (a terminal, a slow producer) still ends on
// Ctrl-C (exit 130) and at --max-time (exit 28, as curl) promptly, not when
// stdin ends: the node reads the body inside Process, so stdin reaches it
// through a pipe that the ctx and the deadline close. The goroutine copying
// stdin ends once stdin does.
func TestUploadStdinWaitingEnds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		cancel bool
		code   int
		stderr string
	}{
		{"ctrl-c", []string{"-s", "-T", "-"}, true, exitInterrupted, "interrupted"},
		{"ctrl-c-threads", []string{"-s", "--threads", "-T", "-"}, true, exitInterrupted, "interrupted"},
		// The node's RESULT_TIMEOUT or errStdinMaxTime, whichever is first.
		{"max-time", []string{"-s", "-m", "0.3", "-T", "-"}, false, exitTimeout, "(exit 28)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testserver.New(t, func(c *testserver.Conn) { <-c.Done() })
			leaks := goleak.IgnoreCurrent()
			r, w, err := os.Pipe()
			require.NoError(t, err)
			old := os.Stdin
			os.Stdin = r
			defer func() { os.Stdin = old; _ = r.Close() }()
			_, err = w.Write([]byte("first part\n")) // then the producer waits
			require.NoError(t, err)

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tc.cancel {
				time.AfterFunc(300*time.Millisecond, cancel)
			}
			done := make(chan int, 1)
			var out, errOut bytes.Buffer
			start := time.Now()
			go func() {
				done <- runContext(ctx, append(tc.args, srv.URL("/in")), &out, &errOut)
			}()
			select {
			case code := <-done:
				assert.Less(t, time.Since(start), 3*time.Second)
				assert.Equal(t, tc.code, code, errOut.String())
				assert.Contains(t, errOut.String(), tc.stderr)
			case <-time.After(5 * time.Second):
				_ = w.Close()
				code := <-done
				t.Errorf("gdfetch -T - ended only when stdin closed (exit %d, after %v): %s", code, time.Since(start), errOut.String())
			}
			_ = w.Close() // stdin ends: the copying goroutine with it
			srv.Close()
			assert.Eventually(t, func() bool { return goleak.Find(leaks) == nil }, 2*time.Second, 10*time.Millisecond,
				"no goroutine left once stdin ended")
		})
	}
}

// TestStdinBody: a regular file is the -T - body itself (a redirect can
// rewind it); anything else comes through a pipe that the ctx's end closes
// with its error and --max-time with errStdinMaxTime, while the data that
// did arrive is passed on.
func TestStdinBody(t *testing.T) {
	file := filepath.Join(t.TempDir(), "in")
	require.NoError(t, os.WriteFile(file, []byte("data"), 0o644))
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	body, release := stdinBody(t.Context(), f, time.Second)
	assert.Same(t, f, body)
	release()

	for _, tc := range []struct {
		name    string
		maxTime time.Duration
		want    error
	}{
		{"ctx", 0, context.Canceled},
		{"max-time", 50 * time.Millisecond, errStdinMaxTime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, feed := io.Pipe()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			body, release := stdinBody(ctx, in, tc.maxTime)
			go func() { _, _ = feed.Write([]byte("part")) }()
			got := make([]byte, 4)
			_, err := io.ReadFull(body, got)
			require.NoError(t, err)
			assert.Equal(t, "part", string(got))
			if tc.want == context.Canceled {
				time.AfterFunc(50*time.Millisecond, cancel)
			}
			_, err = body.Read(got)
			assert.ErrorIs(t, err, tc.want)
			release()
			_ = feed.Close() // stdin ends: the copying goroutine with it
		})
	}

	// Without a ctx end or a deadline the pipe passes stdin's EOF on.
	in, feed := io.Pipe()
	body, release = stdinBody(t.Context(), in, 0)
	go func() { _, _ = feed.Write([]byte("all")); _ = feed.Close() }()
	got, err := io.ReadAll(body)
	require.NoError(t, err)
	assert.Equal(t, "all", string(got))
	release()
}

// curl's -F part options (curl 7.88: "h=v;type=text/foo" sends the value "v"
// with "Content-Type: text/foo"; ";filename=", ";headers=", ";encoder=")
// are refused with exit 2 naming the option: Multipart takes no chosen
// Content-Type, file name or headers for a part, and sending "v;type=text/foo" as the value would
// silently differ from curl. A ';' without one of them stays in the value.
func TestFormPartOptionsRefused(t *testing.T) {
	clearProxyEnv(t)
	s := newCookieServer(t) // would answer 200 to a request; none is sent
	file := filepath.Join(t.TempDir(), "f.txt")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	for _, tt := range []struct{ arg, opt string }{
		{"h=v;type=text/foo", `";type="`},
		{"h=v; TYPE=text/foo", `";type="`},
		{"h=v;filename=a.txt", `";filename="`},
		{"h=@" + file + ";type=text/plain", `";type="`},
		{"h=@" + file + ";filename=z.txt", `";filename="`},
		{"h=<" + file + ";type=text/plain", `";type="`},
		{"h=v;headers=X-A: 1", `";headers="`},
		{"h=v;x;encoder=base64", `";encoder="`},
	} {
		code, _, stderr := gdfetch(t, "-s", "-F", tt.arg, s.URL("/up"))
		assert.Equal(t, exitUsage, code, "%q: %s", tt.arg, stderr)
		assert.Contains(t, stderr, tt.opt+" part option is not supported", tt.arg)
	}
	s.mu.Lock()
	assert.Empty(t, s.reqs, "nothing sent")
	s.mu.Unlock()

	u, err := parseUpload([]string{"h=a;b", "k=type=x"}, "")
	require.NoError(t, err)
	r, err := u.form.Open()
	require.NoError(t, err)
	defer r.Close()
	body, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Contains(t, string(body), "name=\"h\"\r\n\r\na;b\r\n")
	assert.Contains(t, string(body), "name=\"k\"\r\n\r\ntype=x\r\n")
}

// TestUploadFileNameInURL: -T FILE to a URL whose path is empty or ends in
// '/' gets FILE's base name, percent-encoded, at the end of the path, before
// the query (curl's rule; curl 7.88 sends the same request line when it is
// installed). A path not ending in '/' is kept.
func TestUploadFileNameInURL(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o700))
	for _, name := range []string{"up.txt", "a b.txt", filepath.Join("sub", "in sub.txt")} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("content\n"), 0o600))
	}
	t.Chdir(dir)
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
	origin := "http://127.0.0.1:" + strconv.Itoa(srv.Port())
	tests := []struct {
		name, file, url, line string
	}{
		{"without path", "up.txt", origin, "PUT /up.txt HTTP/1.1"},
		{"with query", "up.txt", origin + "/dir/?q=1", "PUT /dir/up.txt?q=1 HTTP/1.1"},
		{"with fragment", "up.txt", origin + "/dir/#top", "PUT /dir/up.txt HTTP/1.1"},
		{"name escaped", "a b.txt", origin + "/dir/", "PUT /dir/a%20b.txt HTTP/1.1"},
		{"base name only", filepath.Join("sub", "in sub.txt"), origin + "/", "PUT /in%20sub.txt HTTP/1.1"},
		{"path kept", "up.txt", origin + "/dir/x?q=1", "PUT /dir/x?q=1 HTTP/1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, ok := curlExit(t, dir, "-H", "Expect:", "-T", tt.file, tt.url); ok { // no 1 s wait for a 100
				require.Equal(t, 0, code)
				line, _ := lastRequest(t, srv)
				require.Equal(t, tt.line, line, "curl")
			}
			code, _, stderr := gdfetch(t, "-s", "-T", tt.file, tt.url)
			assert.Equal(t, 0, code, stderr)
			line, _ := lastRequest(t, srv)
			assert.Equal(t, tt.line, line)
		})
	}
}

// What the -F doc and the part-option refusal say a part carries: a file
// part goes as filename="its base name" with Content-Type:
// application/octet-stream, a field (name=value, name=<FILE) with neither.
func TestFormPartHeadersAsDocumented(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "save.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"lvl":3}`), 0o600))
	u, err := parseUpload([]string{"name=ada", "save=@" + file, "note=<" + file}, "")
	require.NoError(t, err)
	r, err := u.form.Open()
	require.NoError(t, err)
	defer r.Close()
	body, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Contains(t, string(body), "Content-Disposition: form-data; name=\"name\"\r\n\r\nada\r\n")
	assert.Contains(t, string(body), "Content-Disposition: form-data; name=\"save\"; filename=\"save.json\"\r\n"+
		"Content-Type: application/octet-stream\r\n\r\n{\"lvl\":3}\r\n")
	assert.Contains(t, string(body), "Content-Disposition: form-data; name=\"note\"\r\n\r\n{\"lvl\":3}\r\n")
}

// -d @- and --data-binary @- read standard input whole, as curl does (they
// were refused): -d drops its CR and LF bytes, --data-binary keeps them.
func TestDataFromStdin(t *testing.T) {
	b := newBackend(t)
	for _, tc := range []struct{ flag, want string }{
		{"-d", `{"a":1,"b":2}`},
		{"--data-binary", "{\"a\":1,\r\n\"b\":2}\n"},
	} {
		r, w, err := os.Pipe()
		require.NoError(t, err)
		go func() {
			_, _ = w.Write([]byte("{\"a\":1,\r\n\"b\":2}\n"))
			_ = w.Close()
		}()
		old := os.Stdin
		os.Stdin = r
		code, out, errOut := gdfetch(t, "-s", tc.flag, "@-", b.url("/echo"))
		os.Stdin = old
		_ = r.Close()
		require.Equal(t, exitOK, code, errOut)
		assert.True(t, strings.HasPrefix(out, "POST /echo HTTP/1.1\r\n"), out)
		assert.Contains(t, out, fmt.Sprintf("Content-Length: %d\r\n", len(tc.want)), tc.flag)
		assert.True(t, strings.HasSuffix(out, "\r\n\r\n"+tc.want), "%s: %q", tc.flag, out)
	}
}
