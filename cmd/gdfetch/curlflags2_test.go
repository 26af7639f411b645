package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/testserver"
)

// --url gives the URL as a flag, as curl's; gdfetch does one URL a run, so
// a --url with a URL argument, or two --url, is the usual "one URL" usage
// error (curl fetches each of them).
func TestURLFlag(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
	for _, args := range [][]string{{"--url", srv.URL("/u")}, {"-s", "--url=" + srv.URL("/u")}} {
		code, stdout, stderr := gdfetch(t, append([]string{"-s"}, args...)...)
		require.Equal(t, exitOK, code, "%q: %s", args, stderr)
		assert.Equal(t, "ok", stdout, "%q", args)
		line, _ := lastRequest(t, srv)
		assert.Equal(t, "GET /u HTTP/1.1", line, "%q", args)
	}
	if code, ok := curlExit(t, t.TempDir(), "-o", os.DevNull, "--url", srv.URL("/curl")); ok {
		require.Equal(t, 0, code)
		line, _ := lastRequest(t, srv)
		assert.Equal(t, "GET /curl HTTP/1.1", line, "curl --url")
	} else {
		t.Log("curl is not installed: gdfetch checked alone")
	}
	for _, args := range [][]string{
		{"--url", srv.URL("/a"), srv.URL("/b")},
		{srv.URL("/b"), "--url", srv.URL("/a")},
		{"--url", srv.URL("/a"), "--url", srv.URL("/b")},
	} {
		code, stdout, stderr := gdfetch(t, args...)
		assert.Equal(t, exitUsage, code, "%q", args)
		assert.Empty(t, stdout)
		assert.Contains(t, stderr, "one URL at a time", "%q", args)
	}
	code, _, stderr := gdfetch(t, "--url", "ftp://h.test/x")
	assert.Equal(t, exitProtocol, code, "--url's URL is checked as an argument's: %s", stderr)
}

// -N (--no-buffer) is accepted, alone or in a group, and changes
// nothing: gdfetch writes the body as it arrives anyway.
func TestNoBufferFlag(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"))
	for _, args := range [][]string{{"-N"}, {"--no-buffer"}, {"-sN"}} {
		code, stdout, stderr := gdfetch(t, append(append([]string{"-s"}, args...), srv.URL("/"))...)
		require.Equal(t, exitOK, code, "%q: %s", args, stderr)
		assert.Equal(t, "hello", stdout, "%q", args)
	}
}

// --create-dirs makes the missing directories of -o's path (mode 0750
// less the umask, as curl 7.88's mkdir) before the request; without it a
// missing directory is exit 23, and a path through a file cannot be made
// (23). curl does the same when installed.
func TestCreateDirs(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"))
	dir := t.TempDir()
	check := func(who, root string, run func(args ...string) int) {
		out := filepath.Join(root, "a", "b", "f")
		assert.Equal(t, exitWrite, run("-o", out, srv.URL("/")), "%s without --create-dirs", who)
		require.Equal(t, exitOK, run("--create-dirs", "-o", out, srv.URL("/")), who)
		got, err := os.ReadFile(out)
		require.NoError(t, err, who)
		assert.Equal(t, "hello", string(got), who)
		for _, d := range []string{filepath.Join(root, "a"), filepath.Join(root, "a", "b")} {
			fi, err := os.Stat(d)
			require.NoError(t, err, who)
			if runtime.GOOS != "windows" {
				assert.Equal(t, 0o750&^umask(t), fi.Mode().Perm(), "%s %s", who, d)
			}
		}
		assert.Equal(t, exitWrite, run("--create-dirs", "-o", filepath.Join(out, "g"), srv.URL("/")), "%s: a directory under a file", who)
	}
	check("gdfetch", filepath.Join(dir, "gdfetch"), func(args ...string) int {
		code, _, _ := gdfetch(t, append([]string{"-s"}, args...)...)
		return code
	})
	if _, ok := curlExit(t, dir, "--version"); ok {
		check("curl", filepath.Join(dir, "curl"), func(args ...string) int {
			code, _ := curlExit(t, dir, args...)
			return code
		})
	} else {
		t.Log("curl is not installed: gdfetch checked alone")
	}
}

// umask is the process's umask, as a directory made with mode 0777 shows it.
func umask(t *testing.T) os.FileMode {
	t.Helper()
	d := filepath.Join(t.TempDir(), "umask")
	require.NoError(t, os.Mkdir(d, 0o777))
	fi, err := os.Stat(d)
	require.NoError(t, err)
	return 0o777 &^ fi.Mode().Perm()
}

// --fail-with-body exits 22 for a response code of 400 or more and still
// writes the body, to stdout or -o FILE; below 400 it changes nothing; and
// it is refused with -f (exit 2, curl 7.88's message). curl does the same
// when installed.
func TestFailWithBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/404" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "notfound\n")
			return
		}
		io.WriteString(w, "ok\n")
	}))
	defer srv.Close()
	dir := t.TempDir()
	tests := []struct {
		path string
		code int
		body string
	}{
		{"/404", exitHTTPError, "notfound\n"},
		{"/ok", exitOK, "ok\n"},
	}
	for _, tt := range tests {
		code, stdout, stderr := gdfetch(t, "-s", "--fail-with-body", srv.URL+tt.path)
		assert.Equal(t, tt.code, code, "%s: %s", tt.path, stderr)
		assert.Equal(t, tt.body, stdout, tt.path)
		out := filepath.Join(dir, "gdfetch.out")
		code, _, _ = gdfetch(t, "-s", "--fail-with-body", "-o", out, srv.URL+tt.path)
		assert.Equal(t, tt.code, code, tt.path)
		got, err := os.ReadFile(out)
		require.NoError(t, err)
		assert.Equal(t, tt.body, string(got), "%s -o", tt.path)
		if code, ok := curlExit(t, dir, "--fail-with-body", "-o", "curl.out", srv.URL+tt.path); ok {
			assert.Equal(t, tt.code, code, "curl %s", tt.path)
			got, err := os.ReadFile(filepath.Join(dir, "curl.out"))
			require.NoError(t, err)
			assert.Equal(t, tt.body, string(got), "curl %s -o", tt.path)
		}
	}
	_, _, stderr := gdfetch(t, "--fail-with-body", srv.URL+"/404")
	assert.Contains(t, stderr, "gdfetch: response code 404 (--fail-with-body, exit 22)")
	for _, args := range [][]string{{"-f", "--fail-with-body"}, {"--fail-with-body", "--fail"}} {
		code, stdout, stderr := gdfetch(t, append(args, srv.URL+"/404")...)
		assert.Equal(t, exitUsage, code, "%q", args)
		assert.Empty(t, stdout, "%q", args)
		assert.Contains(t, stderr, "You must select either --fail or --fail-with-body, not both.", "%q", args)
		if code, ok := curlExit(t, dir, append(args, srv.URL+"/404")...); ok {
			assert.Equal(t, exitUsage, code, "curl %q", args)
		} else {
			t.Log("curl is not installed: gdfetch checked alone")
		}
	}
}

// -D writes -i's block — the result line, the headers as the node delivers
// them, an empty line — to FILE, or with "-" to stdout before the body
// (-D - -o FILE: the block alone on stdout); --create-dirs makes FILE's
// directories. curl writes the same header lines after its status line
// (compared when installed); a -f 404 still has its headers written, and
// a refused connection leaves FILE empty, as curl's.
func TestDumpHeader(t *testing.T) {
	const head = "Content-Length: 4\nX-Id: 42\nSet-Thing: a\nSet-Thing: b\nConnection: close\n\n"
	crlf := strings.ReplaceAll(head, "\n", "\r\n") + "body"
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\n"+crlf))
	notFound := testserver.New(t, testserver.RespondEach("HTTP/1.1 404 Not Found\r\n"+crlf))
	dir := t.TempDir()
	block := "RESULT_SUCCESS (0) 200\n" + head

	file := filepath.Join(dir, "sub", "dir", "h")
	code, stdout, stderr := gdfetch(t, "-s", "--create-dirs", "-D", file, srv.URL("/"))
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, "body", stdout)
	got, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, block, string(got))
	if code, ok := curlExit(t, dir, "-o", os.DevNull, "-D", "curl.h", srv.URL("/")); ok {
		require.Equal(t, 0, code)
		b, err := os.ReadFile(filepath.Join(dir, "curl.h"))
		require.NoError(t, err)
		status, rest, _ := strings.Cut(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
		assert.Equal(t, "HTTP/1.1 200 OK", status)
		assert.Equal(t, head, rest, "curl -D: the same header lines")
	} else {
		t.Log("curl is not installed: gdfetch checked alone")
	}

	code, stdout, _ = gdfetch(t, "-s", "-D", "-", srv.URL("/"))
	require.Equal(t, exitOK, code)
	assert.Equal(t, block+"body", stdout, "-D -: the block, then the body")
	code, stdout, _ = gdfetch(t, "-s", "-D", "-", "-o", filepath.Join(dir, "out"), srv.URL("/"))
	require.Equal(t, exitOK, code)
	assert.Equal(t, block, stdout, "-D - -o FILE: the block alone")
	_, stdout, _ = gdfetch(t, "-s", "-i", "-D", "-", srv.URL("/"))
	assert.Equal(t, block+block+"body", stdout, "-i -D -: the block twice, as curl's headers")

	code, _, _ = gdfetch(t, "-s", "-f", "-D", file, notFound.URL("/"))
	assert.Equal(t, exitHTTPError, code)
	got, err = os.ReadFile(file)
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(string(got), " 404\n"+head), "-f 404: the headers written (%q)", got)

	closed := "http://127.0.0.1:" + strconv.Itoa(testserver.ClosedPort(t)) + "/"
	code, _, _ = gdfetch(t, "-s", "-D", file, closed)
	assert.Equal(t, exitConnect, code)
	got, err = os.ReadFile(file)
	require.NoError(t, err)
	assert.Empty(t, got, "no response: FILE empty")
	code, _, stderr = gdfetch(t, "-D", "-", "--json", srv.URL("/"))
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "-D - does not go with --json")
}
