package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/testserver"
)

// contentDispositionName reads a Content-Disposition value as curl 7.88's
// tool_header_cb and parse_filename do.
func TestContentDispositionName(t *testing.T) {
	for _, tt := range []struct {
		value string
		name  string
		ok    bool
	}{
		{" attachment; filename=cd.txt", "cd.txt", true},
		{" attachment;filename=semi.txt;x=1", "semi.txt", true},
		{` attachment; filename="a b.txt"; size=5`, "a b.txt", true},
		{` attachment; filename='sq.txt'; x=1`, "sq.txt", true},
		{` attachment; filename="un.txt`, "un.txt", true}, // no closing quote: to the end
		{` attachment; filename="../../etc/x.txt"`, "x.txt", true},
		{` attachment; filename="C:\\dir\\bs.txt"`, "bs.txt", true},
		{` attachment; filename="dir/"`, "", false}, // nothing after the '/': the URL's name
		{` attachment; filename="dir\\"`, "", false},
		{` attachment; filename=""`, "", true}, // an empty name: curl refuses it
		{" attachment; filename=", "", true},
		{" attachment; filename=..", "..", true},
		{" attachment; filename*=UTF-8''star.txt", "", false}, // filename*= is not read
		{" attachment; FILENAME=up.txt", "", false},           // nor FILENAME=
		{" attachment; xfilename=x.txt; myfilename=y.txt", "", false},
		{" attachment; filename = sp.txt", "", false},                                     // no space before '='
		{` attachment; name="a;filename=evil.txt"; filename=good.txt`, `evil.txt"`, true}, // curl does not read quotes when skipping
		{" inline", "", false},
		{"", "", false},
		{" attachment; filename=a\x00b", "a", true}, // a C string
		{" attachment; filename=tr.txt  ", "tr.txt  ", true},
	} {
		name, ok := contentDispositionName(tt.value)
		assert.Equal(t, tt.ok, ok, "%q", tt.value)
		assert.Equal(t, tt.name, name, "%q", tt.value)
	}
}

// headerFileName takes the first Content-Disposition line with a filename
// (any case in the header's name) and tells when a line without one came
// before it.
func TestHeaderFileName(t *testing.T) {
	name, found, early := headerFileName([]string{"Content-Length: 5", "CONTENT-DISPOSITION: attachment; filename=one.txt", "Content-Disposition: attachment; filename=two.txt"})
	assert.Equal(t, "one.txt", name)
	assert.True(t, found)
	assert.False(t, early)
	_, found, early = headerFileName([]string{"Content-Disposition: inline", "Content-Disposition: attachment; filename=two.txt"})
	assert.True(t, found)
	assert.True(t, early)
	_, found, early = headerFileName([]string{"Content-Disposition: inline", "Content-Dispositio: filename=x"})
	assert.False(t, found)
	assert.False(t, early)
}

// headerNameRoutes are the responses of the -J tests, by path.
var headerNameRoutes = map[string]string{
	"/f/plain":   cdResponse("attachment; filename=cd.txt", "hello"),
	"/f/quoted":  cdResponse(`attachment; filename="a b.txt"; size=5`, "hello"),
	"/f/path":    cdResponse(`attachment; filename="../../etc/x.txt"`, "hello"),
	"/f/star":    cdResponse("attachment; filename*=UTF-8''star.txt", "hello"),
	"/f/none":    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
	"/f/inline":  cdResponse("inline", "hello"),
	"/f/slash":   cdResponse(`attachment; filename="dir/"`, "hello"),
	"/f/empty":   cdResponse(`attachment; filename=""`, "hello"),
	"/f/upper":   "HTTP/1.1 200 OK\r\nCONTENT-DISPOSITION: attachment; FILENAME=up.txt\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
	"/f/two":     "HTTP/1.1 200 OK\r\nContent-Disposition: attachment; filename=one.txt\r\nContent-Disposition: attachment; filename=two.txt\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
	"/f/odd":     cdResponse(`attachment; name="a;filename=evil.txt"; filename=good.txt`, "hello"),
	"/f/dots":    cdResponse("attachment; filename=..", "hello"),
	"/f/nobody":  cdResponse("attachment; filename=nb.txt", ""),
	"/f/fail":    "HTTP/1.1 404 Not Found\r\nContent-Disposition: attachment; filename=err.txt\r\nContent-Length: 5\r\nConnection: close\r\n\r\nerror",
	"/f/cut":     "HTTP/1.1 200 OK\r\nContent-Disposition: attachment; filename=cut.txt\r\nContent-Length: 50\r\nConnection: close\r\n\r\nhello",
	"/f/twob":    "HTTP/1.1 200 OK\r\nContent-Disposition: inline\r\nContent-Disposition: attachment; filename=two.txt\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
	"/f/redir":   "HTTP/1.1 302 Found\r\nLocation: /f/plain2\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	"/f/plain2":  cdResponse("attachment; filename=second.txt", "hello"),
	"/f/redircd": "HTTP/1.1 302 Found\r\nLocation: /f/plain2\r\nContent-Disposition: attachment; filename=first.txt\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	"/":          cdResponse("attachment; filename=root.txt", "hello"),
	"/f/":        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
}

func cdResponse(cd, body string) string {
	return "HTTP/1.1 200 OK\r\nContent-Disposition: " + cd + "\r\nContent-Length: " + itoa(int64(len(body))) + "\r\nConnection: close\r\n\r\n" + body
}

// routeServer answers each request with routes[its path] (a 404 for
// another), on as many requests as the connection carries.
func routeServer(t *testing.T, routes map[string]string) *testserver.Server {
	return testserver.New(t, func(c *testserver.Conn) {
		for {
			req, err := c.ReadRequest()
			if err != nil {
				return
			}
			line, _, _ := strings.Cut(string(req), "\r\n")
			path := strings.Fields(line)[1]
			resp, ok := routes[path]
			if !ok {
				resp = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
			}
			if c.Write([]byte(resp)) != nil || strings.Contains(resp, "Connection: close") {
				return
			}
		}
	})
}

// dirFiles is dir's regular files and their content.
func dirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		files[e.Name()] = string(b)
	}
	return files
}

// -O -J names the file as curl 7.88 does, checked against curl when it is
// installed: the same exit status and the same files, but for the
// differences doc.go lists (curlFiles).
func TestRemoteHeaderName(t *testing.T) {
	srv := routeServer(t, headerNameRoutes)
	tests := []struct {
		path      string
		pre       map[string]string // files there before
		args      []string
		code      int
		files     map[string]string // after gdfetch
		curlFiles map[string]string // after curl, when not files
	}{
		{path: "/f/plain", code: 0, files: map[string]string{"cd.txt": "hello"}},
		{path: "/f/quoted", code: 0, files: map[string]string{"a b.txt": "hello"}},
		{path: "/f/path", code: 0, files: map[string]string{"x.txt": "hello"}},
		{path: "/f/star", code: 0, files: map[string]string{"star": "hello"}},
		{path: "/f/none", code: 0, files: map[string]string{"none": "hello"}},
		{path: "/f/inline", code: 0, files: map[string]string{"inline": "hello"}},
		{path: "/f/slash", code: 0, files: map[string]string{"slash": "hello"}},
		{path: "/f/empty", code: exitWrite, files: map[string]string{}},
		{path: "/f/upper", code: 0, files: map[string]string{"upper": "hello"}},
		{path: "/f/two", code: 0, files: map[string]string{"one.txt": "hello"}},
		{path: "/f/odd", code: 0, files: map[string]string{`evil.txt"`: "hello"}},
		{path: "/f/dots", code: exitWrite, files: map[string]string{}},
		{path: "/f/nobody", code: 0, files: map[string]string{"nb.txt": ""}},
		{path: "/f/fail", code: 0, files: map[string]string{"err.txt": "error"}},
		{path: "/f/fail", args: []string{"--fail-with-body"}, code: exitHTTPError, files: map[string]string{"err.txt": "error"}},
		// -f: curl has made the file (empty) when it fails.
		{path: "/f/fail", args: []string{"-f"}, code: exitHTTPError, files: map[string]string{},
			curlFiles: map[string]string{"err.txt": ""}},
		// A name from the header never replaces a file.
		{path: "/f/plain", pre: map[string]string{"cd.txt": "old"}, code: exitWrite, files: map[string]string{"cd.txt": "old"}},
		{path: "/f/nobody", pre: map[string]string{"nb.txt": "old"}, code: exitWrite, files: map[string]string{"nb.txt": "old"}},
		// The URL's name does, as -O's.
		{path: "/f/none", pre: map[string]string{"none": "old"}, code: 0, files: map[string]string{"none": "hello"}},
		// A URL without a name: the header's, else exit 23.
		{path: "/", code: 0, files: map[string]string{"root.txt": "hello"}},
		{path: "/f/", code: exitWrite, files: map[string]string{}},
		// A cut body: gdfetch leaves no file, curl its part.
		{path: "/f/cut", code: exitPartial, files: map[string]string{}, curlFiles: map[string]string{"cut.txt": "hello"}},
		// A line without a filename first: 23 (curl has made the URL's file).
		{path: "/f/twob", code: exitWrite, files: map[string]string{}, curlFiles: map[string]string{"twob": ""}},
		// Redirects: the final response names the file; curl takes the
		// first response with a Content-Disposition filename, a 3xx's.
		{path: "/f/redir", args: []string{"-L"}, code: 0, files: map[string]string{"second.txt": "hello"}},
		{path: "/f/redircd", args: []string{"-L"}, code: 0, files: map[string]string{"second.txt": "hello"},
			curlFiles: map[string]string{"first.txt": "hello"}},
		// -J without -O: no effect, as curl's.
		{path: "/f/plain", args: []string{"-o", "out"}, code: 0, files: map[string]string{"out": "hello"}},
	}
	curl := curlPath() != ""
	if !curl {
		t.Log("curl is not installed: gdfetch checked alone")
	}
	for _, tt := range tests {
		name := strings.Join(append(append([]string{}, tt.args...), tt.path), " ")
		args := append(append([]string{"-s", "-J"}, tt.args...), srv.URL(tt.path))
		if !hasOutputFlag(tt.args) {
			args = append([]string{"-O"}, args...)
		}
		prepare := func() string {
			dir := t.TempDir()
			for f, content := range tt.pre {
				require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte(content), 0o644))
			}
			return dir
		}
		dir := prepare()
		t.Chdir(dir)
		code, stdout, stderr := gdfetch(t, args...)
		assert.Equal(t, tt.code, code, "%s: %s", name, stderr)
		assert.Empty(t, stdout, name)
		assert.Equal(t, tt.files, dirFiles(t, dir), "%s: no part file left either", name)
		if !curl {
			continue
		}
		cdir := prepare()
		ccode, _ := curlExit(t, cdir, args...)
		assert.Equal(t, tt.code, ccode, "%s: curl's exit status", name)
		want := tt.files
		if tt.curlFiles != nil {
			want = tt.curlFiles
		}
		assert.Equal(t, want, dirFiles(t, cdir), "%s: curl's files", name)
	}
}

func hasOutputFlag(args []string) bool {
	for _, a := range args {
		if a == "-o" {
			return true
		}
	}
	return false
}

// A refusal says why, with curl's words, and exits 23; the summary and
// --json name the file the header gave.
func TestRemoteHeaderNameMessages(t *testing.T) {
	srv := routeServer(t, headerNameRoutes)
	dir := t.TempDir()
	t.Chdir(dir)
	code, _, stderr := gdfetch(t, "-OJ", srv.URL("/f/plain"))
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "body saved to cd.txt")
	code, _, stderr = gdfetch(t, "-s", "-OJ", srv.URL("/f/plain"))
	assert.Equal(t, exitWrite, code)
	assert.Contains(t, stderr, "-J: Failed to open the file cd.txt: file already exists")
	assert.Contains(t, stderr, "(exit 23)")
	code, _, stderr = gdfetch(t, "-s", "-OJ", srv.URL("/f/empty"))
	assert.Equal(t, exitWrite, code)
	assert.Contains(t, stderr, "Remote filename has no length!")

	code, stdout, stderr := gdfetch(t, "--json", "-OJ", srv.URL("/f/quoted"))
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, `"download_file":"a b.txt"`)
}

// -J does not go with -i, -I or -C -, whether -O is given or not: curl's
// usage errors, exit 2.
func TestRemoteHeaderNameUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-OJ", "-i"}, "showing headers and --remote-header-name cannot be combined"},
		{[]string{"-J", "-I"}, "showing headers and --remote-header-name cannot be combined"},
		{[]string{"--remote-header-name", "-O", "-C", "-"}, "--continue-at and --remote-header-name cannot be combined"},
	} {
		args := append(tt.args, "http://h.test/f")
		code, _, stderr := gdfetch(t, args...)
		assert.Equal(t, exitUsage, code, "%q", args)
		assert.Contains(t, stderr, tt.msg, "%q", args)
		if ccode, ok := curlExit(t, t.TempDir(), args...); ok {
			assert.Equal(t, exitUsage, ccode, "%q: curl", args)
		}
	}
}

// The URL's name, when the header gives none, is written as -O writes it:
// a link followed (the file it names replaced, the link kept), the file's
// permissions kept; --in-place and --threads too; a failure leaves no part
// file, --in-place's neither.
func TestRemoteHeaderNameURLName(t *testing.T) {
	srv := routeServer(t, headerNameRoutes)
	dir := t.TempDir()
	t.Chdir(dir)
	require.NoError(t, os.WriteFile("real", []byte("old"), 0o600))
	if runtime.GOOS != "windows" {
		require.NoError(t, os.Symlink("real", "none"))
	}
	code, _, stderr := gdfetch(t, "-s", "-OJ", srv.URL("/f/none"))
	require.Equal(t, exitOK, code, stderr)
	target := "none"
	if runtime.GOOS != "windows" {
		fi, err := os.Lstat("none")
		require.NoError(t, err)
		assert.NotZero(t, fi.Mode()&fs.ModeSymlink, "the link is kept")
		target = "real"
	}
	got, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(got))
	if runtime.GOOS != "windows" {
		fi, err := os.Stat("real")
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), "permissions kept")
	}

	for _, extra := range [][]string{{"--in-place"}, {"--threads"}, {"--in-place", "--threads"}} {
		sub := t.TempDir()
		t.Chdir(sub)
		code, _, stderr := gdfetch(t, append(append([]string{"-s", "-OJ"}, extra...), srv.URL("/f/plain"))...)
		require.Equal(t, exitOK, code, "%q: %s", extra, stderr)
		assert.Equal(t, map[string]string{"cd.txt": "hello"}, dirFiles(t, sub), "%q", extra)
		code, _, _ = gdfetch(t, append(append([]string{"-s", "-OJ"}, extra...), srv.URL("/f/cut"))...)
		assert.Equal(t, exitPartial, code, "%q", extra)
		assert.Equal(t, map[string]string{"cd.txt": "hello"}, dirFiles(t, sub), "%q: no part file", extra)
	}
}

// renameNoReplace never replaces a file; replaceFile does.
func TestRenameNoReplace(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	require.NoError(t, os.WriteFile(a, []byte("new"), 0o644))
	require.NoError(t, os.WriteFile(b, []byte("old"), 0o644))
	err := renameNoReplace(a, b)
	require.ErrorIs(t, err, fs.ErrExist)
	assert.Equal(t, map[string]string{"a": "new", "b": "old"}, dirFiles(t, dir))
	require.NoError(t, replaceFile(a, b))
	assert.Equal(t, map[string]string{"b": "new"}, dirFiles(t, dir))
	require.NoError(t, os.WriteFile(a, []byte("newer"), 0o644))
	require.NoError(t, renameNoReplace(a, filepath.Join(dir, "c")))
	assert.Equal(t, map[string]string{"b": "new", "c": "newer"}, dirFiles(t, dir))
}
