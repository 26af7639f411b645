//go:build unix

package main

// What a curl user meets (an audit of gdfetch beside curl 7.88): the
// differences doc.go states are pinned here, so that a change to either
// shows; the ones that were bugs are fixed and tested as curl's.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// TestInterruptWhileReadingStdin: Ctrl-C (ctx) while -d @- or -H @- waits
// for standard input to end stops gdfetch at once, as curl: "interrupted",
// 130 (main then dies of the signal: TestInterruptLeavesNoFile). It waited
// for the end of standard input: `sleep 30 | gdfetch -d @- URL` ended 30 s
// later.
func TestInterruptWhileReadingStdin(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
	for _, flag := range []string{"-d", "-H", "--data-binary"} {
		r, w, err := os.Pipe() // standard input that never ends
		require.NoError(t, err)
		old := os.Stdin
		os.Stdin = r
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		var stdout, stderr bytes.Buffer
		start := time.Now()
		code := runContext(ctx, []string{"-s", flag, "@-", srv.URL("/")}, &stdout, &stderr)
		os.Stdin = old
		assert.Less(t, time.Since(start), 5*time.Second, flag)
		assert.Equal(t, exitInterrupted, code, "%s: %s", flag, stderr.String())
		assert.Equal(t, "gdfetch: interrupted\n", stderr.String(), flag)
		assert.Empty(t, srv.Requests(), "%s: nothing sent", flag)
		require.NoError(t, w.Close()) // the abandoned read ends
		require.NoError(t, r.Close())
	}
}

// TestCurlUserRelativeLocation: a Location that is neither absolute nor
// starts with "/" ("b?x=1") is Godot's request target as it stands, which
// the URL check refuses (§2.8.1.5): exit 56, where curl -L resolves it;
// --rfc-redirects resolves it as curl does (doc.go, -L).
func TestCurlUserRelativeLocation(t *testing.T) {
	srv := testserver.New(t, func(c *testserver.Conn) {
		for {
			req, err := c.ReadRequest()
			if err != nil {
				return
			}
			resp := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
			if strings.HasPrefix(string(req), "GET /a ") {
				resp = "HTTP/1.1 302 Found\r\nLocation: b?x=1\r\nContent-Length: 0\r\n\r\n"
			}
			if c.Write([]byte(resp)) != nil {
				return
			}
		}
	})
	code, out, errOut := gdfetch(t, "-s", "-L", srv.URL("/a"))
	assert.Equal(t, exitConnection, code, errOut)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "RESULT_CONNECTION_ERROR")
	code, out, errOut = gdfetch(t, "-s", "--rfc-redirects", srv.URL("/a"))
	assert.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "ok", out)
	reqs := srv.Requests()
	require.NotEmpty(t, reqs)
	assert.True(t, strings.HasPrefix(string(reqs[len(reqs)-1]), "GET /b?x=1 HTTP/1.1\r\n"), "%q", reqs[len(reqs)-1])
}

// TestCurlUserResumeWithoutValidator: a download cut short from a server
// that sent neither ETag nor Last-Modified leaves no state file, so the next
// -C - asks for the whole file, not "Range: bytes=10-" as curl (doc.go,
// -C: a partial file is never trusted without a validator to check it).
func TestCurlUserResumeWithoutValidator(t *testing.T) {
	var mu sync.Mutex
	var ranges []string
	body := strings.Repeat("0123456789", 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		first := len(ranges) == 1
		mu.Unlock()
		if first { // 10 of 100 bytes, then the connection breaks
			w.Header().Set("Content-Length", "100")
			_, _ = io.WriteString(w, body[:10])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		_, _ = io.WriteString(w, body)
	}))
	defer srv.Close()
	file := t.TempDir() + "/f"
	code, _, errOut := gdfetch(t, "-s", "-C", "-", "-o", file, srv.URL+"/file")
	require.Equal(t, exitPartial, code, "the first run is cut: %q", errOut)
	assert.NoFileExists(t, file+".gdhttp-resume", "no validator: no state")
	code, _, errOut = gdfetch(t, "-s", "-C", "-", "-o", file, srv.URL+"/file")
	require.Equal(t, exitOK, code, errOut)
	got, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, body, string(got))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"", ""}, ranges, "no Range without a validator")
}

// TestCurlUserGodotRequestBytes: where gdfetch sends Godot's request and
// curl another (doc.go, -H and -d): a Transfer-Encoding line goes as given,
// beside the Content-Length Godot adds and with the body not encoded (curl
// encodes it); an empty -d body has no Content-Length (curl sends 0); a URL
// with [ ] or { } is sent as it is, one request (curl globs it).
func TestCurlUserGodotRequestBytes(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
	last := func() string {
		reqs := srv.Requests()
		require.NotEmpty(t, reqs)
		return string(reqs[len(reqs)-1])
	}
	got := make(chan []byte, 1) // the request's bytes, read without framing it (a server reads it as chunked)
	teSrv := testserver.New(t, func(c *testserver.Conn) {
		var raw []byte
		for !bytes.Contains(raw, []byte("\r\n\r\nabc")) {
			b, err := c.ReadSome()
			if err != nil {
				return
			}
			raw = append(raw, b...)
		}
		got <- raw
		_ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
	})
	code, _, errOut := gdfetch(t, "-s", "-m", "10", "-H", "Transfer-Encoding: chunked", "-d", "abc", teSrv.URL("/te"))
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "POST /te HTTP/1.1\r\nTransfer-Encoding: chunked\r\nAccept-Encoding: gzip, deflate\r\nHost: "+teSrv.Addr()+
		"\r\nContent-Length: 3\r\n"+"User-Agent: "+wire.DefaultUserAgent()+"\r\nAccept: */*\r\n\r\nabc", string(<-got))

	for _, flag := range []string{"-d", "--data-binary"} {
		code, _, errOut = gdfetch(t, "-s", flag, "", srv.URL("/p"))
		require.Equal(t, exitOK, code, errOut)
		req := last()
		assert.True(t, strings.HasPrefix(req, "POST /p HTTP/1.1\r\n"), req)
		assert.NotContains(t, req, "Content-Length", "%s \"\": Godot's empty body", flag)
	}

	before := len(srv.Requests())
	code, _, errOut = gdfetch(t, "-s", srv.URL("/x[1-2]{a,b}"))
	require.Equal(t, exitOK, code, errOut)
	require.Len(t, srv.Requests(), before+1, "one request: no globbing")
	assert.True(t, strings.HasPrefix(last(), "GET /x[1-2]{a,b} HTTP/1.1\r\n"), last())
}

// TestCurlUserProxyEnvironment: ALL_PROXY is not read (net/http's rules;
// doc.go), where curl sends the request to it; and a proxy whose name does
// not resolve, from -x or the environment, exits 5 as curl's
// CURLE_COULDNT_RESOLVE_PROXY (Godot's RESULT_CANT_RESOLVE, which for the
// URL's own host stays 6).
func TestCurlUserProxyEnvironment(t *testing.T) {
	clearProxyEnv(t)
	proxy := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nvia proxy"))
	t.Setenv("all_proxy", proxy.URL(""))
	t.Setenv("ALL_PROXY", proxy.URL(""))
	code, _, errOut := gdfetch(t, "-s", "-m", "3", "http://gdfetch-test.invalid/x")
	assert.Contains(t, []int{exitResolve, exitTimeout}, code, "direct: %s", errOut)
	assert.Empty(t, proxy.Requests(), "ALL_PROXY is not used")

	port := testserver.ClosedPort(t)
	target := fmt.Sprintf("http://gdhttp-test.example:%d/", port)
	code, _, errOut = gdfetch(t, "-s", "-m", "10", "-x", "gdfetch-proxy.invalid:8080", target)
	assert.Contains(t, []int{exitProxyName, exitTimeout}, code, "-x: %s", errOut)
	t.Setenv("http_proxy", "gdfetch-proxy.invalid:3128")
	code, _, errOut = gdfetch(t, "-s", "-m", "10", target)
	assert.Contains(t, []int{exitProxyName, exitTimeout}, code, "http_proxy: %s", errOut)
	code, _, errOut = gdfetch(t, "-s", "-m", "10", "-x", "", "http://gdfetch-test.invalid/")
	assert.Contains(t, []int{exitResolve, exitTimeout}, code, "the URL's host: %s", errOut)
}

// TestCurlUserHeaderFileStdin: -H @- reads the header lines from standard
// input, as curl.
func TestCurlUserHeaderFileStdin(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
	r, w, err := os.Pipe()
	require.NoError(t, err)
	_, _ = io.WriteString(w, "X-In: 1\r\nX-Two: 2\n")
	require.NoError(t, w.Close())
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; r.Close() }()
	code, _, errOut := gdfetch(t, "-s", "-H", "@-", srv.URL("/h"))
	require.Equal(t, exitOK, code, "stderr %q", errOut)
	reqs := srv.Requests()
	require.NotEmpty(t, reqs)
	assert.True(t, strings.HasPrefix(string(reqs[len(reqs)-1]), "GET /h HTTP/1.1\r\nX-In: 1\r\nX-Two: 2\r\n"), "%q", reqs[len(reqs)-1])
}
