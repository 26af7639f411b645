package main

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/testserver"
)

// curlFlagLines are the request lines TestCurlFlagHeaders compares: the
// ones curl's -u, -r and -e make, and the Authorization, Range and Referer
// lines an -H gives.
func curlFlagLines(req string) []string {
	var out []string
	for _, l := range strings.Split(req, "\r\n") {
		name, _, _ := strings.Cut(l, ":")
		switch strings.ToLower(name) {
		case "authorization", "range", "referer":
			out = append(out, l)
		}
	}
	return out
}

// -u, -r and -e make the lines curl 7.88 makes of them — -u's value as
// given (not percent-decoded) and winning over the URL's user:password, an
// -H line of the same name winning over the flag ("Name:" removing it),
// -e "" sending no Referer — in curl's order (Authorization, Range, then
// Referer), checked against curl itself when it is installed.
func TestCurlFlagHeaders(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
	basic := func(s string) string { return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	withUser := "http://x:y@" + srv.Addr() + "/p"
	tests := []struct {
		args []string
		url  string
		want []string
	}{
		{[]string{"-u", "a:b"}, "", []string{basic("a:b")}},
		{[]string{"--user", "a:"}, "", []string{basic("a:")}},
		{[]string{"-u", ":b"}, "", []string{basic(":b")}},
		{[]string{"-u", "a%40b:c:d"}, "", []string{basic("a%40b:c:d")}},
		{[]string{"-u", "a:b"}, withUser, []string{basic("a:b")}},
		{nil, withUser, []string{basic("x:y")}},
		{[]string{"-u", "a:b", "-H", "Authorization: Z"}, "", []string{"Authorization: Z"}},
		{[]string{"-u", "a:b", "-H", "Authorization:"}, "", nil},
		{[]string{"-e", "http://ref/"}, "", []string{"Referer: http://ref/"}},
		{[]string{"--referer", ""}, "", nil},
		{[]string{"-e", "http://ref/", "-H", "Referer: mine"}, "", []string{"Referer: mine"}},
		{[]string{"-r", "0-9"}, "", []string{"Range: bytes=0-9"}},
		{[]string{"--range", "0-9,20-"}, "", []string{"Range: bytes=0-9,20-"}},
		{[]string{"-r", "-5"}, "", []string{"Range: bytes=-5"}},
		{[]string{"-r", "abc"}, "", []string{"Range: bytes=abc"}},
		{[]string{"-r", "0-1", "-H", "Range: bytes=5-"}, "", []string{"Range: bytes=5-"}},
		{[]string{"-e", "r", "-r", "1-2", "-u", "a:b"}, "", []string{basic("a:b"), "Range: bytes=1-2", "Referer: r"}},
	}
	for _, tt := range tests {
		u := tt.url
		if u == "" {
			u = srv.URL("/p")
		}
		args := append(append([]string{}, tt.args...), u)
		if code, ok := curlExit(t, t.TempDir(), append([]string{"-o", os.DevNull}, args...)...); ok {
			require.Equal(t, 0, code, "curl %q", args)
			reqs := srv.Requests()
			assert.Equal(t, tt.want, curlFlagLines(string(reqs[len(reqs)-1])), "curl %q", args)
		}
		code, _, stderr := gdfetch(t, append([]string{"-s", "-o", os.DevNull}, args...)...)
		require.Equal(t, exitOK, code, "%q: %s", args, stderr)
		reqs := srv.Requests()
		req := string(reqs[len(reqs)-1])
		assert.Equal(t, tt.want, curlFlagLines(req), "gdfetch %q", args)
		assert.True(t, strings.HasSuffix(req, "\r\nAccept: */*\r\n\r\n"), "%q: Godot's lines follow the custom ones: %q", args, req)
	}
}

// What -u, -r, -e and -O refuse, before anything is sent: -u without a
// password (curl asks for it on the terminal), -r with -C - (which sends
// its own Range), -e's ";auto" (the node sends one set of headers on
// every hop), CR, LF or NUL in a value (§7 D2), -O with -o, and -O for a
// URL without a file name (curl's exit 23).
func TestCurlFlagMistakes(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-u", "alice"}, exitUsage, "-u USER:PASSWORD"},
		{[]string{"-u", ""}, exitUsage, "-u USER:PASSWORD"},
		{[]string{"-r", "0-9", "-C", "-", "-o", "f"}, exitUsage, "-r does not go with -C -"},
		{[]string{"-e", "http://r/;auto"}, exitUsage, ";auto"},
		{[]string{"-e", "a\r\nX-Injected: 1"}, exitUsage, "-e: a header value cannot hold CR, LF or NUL"},
		{[]string{"-r", "0-1\x00"}, exitUsage, "-r: a header value cannot hold CR, LF or NUL"},
		{[]string{"-u", "a:b\nX: y"}, exitUsage, "-u: a header value cannot hold CR, LF or NUL"},
		{[]string{"-A", "a\rb"}, exitUsage, "-A: a header value cannot hold CR, LF or NUL"},
		{[]string{"-O", "-o", "f"}, exitUsage, "-O and -o both name the file"},
		{[]string{"-O", "http://h.test/dir/"}, exitWrite, "has no file name"},
		{[]string{"-O", "http://h.test"}, exitWrite, "has no file name"},
	}
	for _, tt := range tests {
		args := tt.args
		if !strings.HasPrefix(args[len(args)-1], "http://h.test") {
			args = append(append([]string{}, args...), "http://h.test/p")
		}
		_, err := parseFetch(context.Background(), args)
		var ue *usageError
		require.ErrorAs(t, err, &ue, "%q", args)
		assert.Contains(t, ue.Error(), tt.msg, "%q", args)
		assert.Equal(t, tt.code, ue.exitCode(), "%q", args)
	}
}

// -O's name is the URL path's last segment as given, without the query or
// the fragment (curl 7.88 does not decode it either); a URL whose path is
// empty, ends in '/', or ends in "." or ".." has none.
func TestRemoteName(t *testing.T) {
	for u, want := range map[string]string{
		"http://h/dir/file.txt?q=1/x":    "file.txt",
		"http://h/a%20b":                 "a%20b",
		"http://h/x#frag/y":              "x",
		"https://u:p@h:8443/p/asset.bin": "asset.bin",
		"http://h/dir/":                  "",
		"http://h":                       "",
		"http://h/":                      "",
		"http://h?q=/a":                  "",
		"http://h/a/..":                  "",
		"http://h/.":                     "",
	} {
		got, err := remoteName(u)
		if want == "" {
			assert.Error(t, err, u)
			continue
		}
		require.NoError(t, err, u)
		assert.Equal(t, want, got, u)
	}
}

// -O writes the body to the URL's file name in the current directory, as
// curl -O does, through download_file (a resumable one with -C -).
func TestRemoteNameDownload(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
	dir := t.TempDir()
	t.Chdir(dir)
	code, stdout, stderr := gdfetch(t, "-s", "-O", srv.URL("/files/asset.bin?v=2"))
	require.Equal(t, exitOK, code, stderr)
	assert.Empty(t, stdout)
	got, err := os.ReadFile(filepath.Join(dir, "asset.bin"))
	require.NoError(t, err)
	assert.Equal(t, "hello", string(got))
	if code, ok := curlExit(t, dir, "-O", srv.URL("/files/curl.bin")); ok {
		require.Equal(t, 0, code)
		got, err := os.ReadFile(filepath.Join(dir, "curl.bin"))
		require.NoError(t, err)
		assert.Equal(t, "hello", string(got), "curl -O writes the same file")
	}
	code, _, stderr = gdfetch(t, "-s", "-C", "-", "-O", srv.URL("/files/asset.bin"))
	require.Equal(t, exitOK, code, stderr)
	got, err = os.ReadFile(filepath.Join(dir, "asset.bin"))
	require.NoError(t, err)
	assert.Equal(t, "hello", string(got), "-C - -O: the file is the URL's name")
}

// --data-urlencode makes the body parts curl 7.88 makes (NAME=CONTENT,
// =CONTENT, CONTENT, @FILE, NAME@FILE; a space '+', "-._~" kept), joined
// with -d's in command-line order; --data-raw sends its value as given
// ('@' and all: no file is read), joined likewise; and -G moves the data into the URL's
// query (GET, HEAD with -I, the -X method with -X; '&' after a query, before
// a fragment, "/" for a URL without a path): the request line and body
// are checked against curl itself when it is installed.
func TestDataURLEncodeAndGet(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
	dir := t.TempDir()
	lineFile, ampFile := filepath.Join(dir, "line"), filepath.Join(dir, "amp")
	require.NoError(t, os.WriteFile(lineFile, []byte("x y\n"), 0o600))
	require.NoError(t, os.WriteFile(ampFile, []byte("p&q=r"), 0o600))
	root := "http://" + srv.Addr()
	tests := []struct {
		args       []string
		url        string
		line, body string
	}{
		{[]string{"--data-urlencode", "a b"}, "/p", "POST /p", "a+b"},
		{[]string{"--data-urlencode", "=a b=c"}, "/p", "POST /p", "a+b%3Dc"},
		{[]string{"--data-urlencode", "n=a b&c=é~-._*"}, "/p", "POST /p", "n=a+b%26c%3D%C3%A9~-._%2A"},
		{[]string{"--data-urlencode", "n=a@b"}, "/p", "POST /p", "n=a%40b"},
		{[]string{"--data-urlencode", "@" + lineFile}, "/p", "POST /p", "x+y%0A"},
		{[]string{"--data-urlencode", "n@" + ampFile}, "/p", "POST /p", "n=p%26q%3Dr"},
		{[]string{"-d", "x", "--data-urlencode", "b=c d", "--data-binary", "z"}, "/p", "POST /p", "x&b=c+d&z"},
		{[]string{"-G", "-d", "a=1"}, "/p", "GET /p?a=1", ""},
		{[]string{"--get", "-d", "a=1"}, "/p?x=1", "GET /p?x=1&a=1", ""},
		{[]string{"-G", "-d", "a=1"}, "/p?", "GET /p?a=1", ""},
		{[]string{"-G", "-d", "a=1"}, "", "GET /?a=1", ""},
		{[]string{"-G", "-d", "a=1"}, "/p#frag", "GET /p?a=1", ""},
		{[]string{"-G", "-I", "-d", "a=1"}, "/p", "HEAD /p?a=1", ""},
		{[]string{"-G"}, "/p", "GET /p", ""},
		{[]string{"-G", "-d", ""}, "/p", "GET /p", ""},
		{[]string{"-G", "-d", "a=1", "--data-urlencode", "b=c d", "-X", "POST"}, "/p", "POST /p?a=1&b=c+d", ""},
		{[]string{"--data-raw", "@" + lineFile}, "/p", "POST /p", "@" + lineFile},
		{[]string{"--data-raw", "x\r\ny"}, "/p", "POST /p", "x\r\ny"},
		{[]string{"-d", "a", "--data-raw", "@b", "--data-urlencode", "c=d e", "--data-raw", "f"}, "/p", "POST /p", "a&@b&c=d+e&f"},
		{[]string{"-G", "--data-raw", "@q", "-d", "r"}, "/p", "GET /p?@q&r", ""},
	}
	for _, tt := range tests {
		args := append(append([]string{}, tt.args...), root+tt.url)
		check := func(who string) {
			reqs := srv.Requests()
			req := string(reqs[len(reqs)-1])
			line, _, _ := strings.Cut(req, "\r\n")
			assert.Equal(t, tt.line+" HTTP/1.1", line, "%s %q", who, args)
			_, body, _ := strings.Cut(req, "\r\n\r\n")
			assert.Equal(t, tt.body, body, "%s %q", who, args)
		}
		if code, ok := curlExit(t, dir, append([]string{"-o", os.DevNull}, args...)...); ok {
			require.Equal(t, 0, code, "curl %q", args)
			check("curl")
		}
		code, _, stderr := gdfetch(t, append([]string{"-s", "-o", os.DevNull}, args...)...)
		require.Equal(t, exitOK, code, "%q: %s", args, stderr)
		check("gdfetch")
	}

	for _, args := range [][]string{{"-G", "-d", "a", "-T", ampFile}, {"-G", "-F", "a=b"}} {
		code, _, stderr := gdfetch(t, append(args, root+"/p")...)
		assert.Equal(t, exitUsage, code, "%q", args)
		assert.Contains(t, stderr, "-G does not go with -F or -T", "%q", args)
	}
	code, _, stderr := gdfetch(t, "--data-urlencode", "n@/nonexistent/file", root+"/p")
	assert.Equal(t, exitRead, code)
	assert.Contains(t, stderr, "--data-urlencode @/nonexistent/file: open")
	code, _, stderr = gdfetch(t, "-G", "-d", "a\r\nX-Injected: 1", root+"/p")
	assert.NotEqual(t, exitOK, code, "CR LF in the query: refused (§7 D2)")
	assert.Contains(t, stderr, "CR, LF or NUL")
}

// -w writes curl 7.88's write-out: the variables gdfetch knows as curl
// prints them, %header{NAME}, %{stderr}/%{stdout}, "\n" "\r" "\t" and
// "%%", everything else as it is, and an unknown variable as nothing, with
// a line on stderr — checked against curl itself when it is installed, for
// a response and for a refused connection (000, exit 7).
func TestWriteOut(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nX-Id: 42\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"))
	closed := strconv.Itoa(testserver.ClosedPort(t))
	dir := t.TempDir()
	format := filepath.Join(dir, "format")
	require.NoError(t, os.WriteFile(format, []byte(`%{response_code}\n`), 0o600))
	tests := []struct {
		format, url, stdout, stderr string
	}{
		{`%{http_code} %{response_code} %{size_download} %{exitcode} [%{errormsg}] %{content_type} %header{x-id} %header{X-None}|\n`, srv.URL("/p"),
			"201 201 5 0 [] text/plain 42 |\n", ""},
		{`a%xb|\q|%%|\\|\t|%{http_code`, srv.URL("/p"), "a%xb|\\q|%|\\\\|\t|%{http_code", ""},
		{`%{url}`, srv.URL("/p?q=1"), srv.URL("/p?q=1"), ""},
		{`x%{bogus}y`, srv.URL("/p"), "xy", "unknown --write-out variable: 'bogus'"},
		{`%{stderr}to-err%{stdout}to-out`, srv.URL("/p"), "to-out", "to-err"},
		{`@` + format, srv.URL("/p"), "201\n", ""},
		{`%{http_code} %{exitcode} %{size_download}`, "http://127.0.0.1:" + closed + "/", "000 7 0", ""},
	}
	for _, tt := range tests {
		code, stdout, stderr := gdfetch(t, "-s", "-o", os.DevNull, "-w", tt.format, tt.url)
		assert.Equal(t, tt.stdout, stdout, "%q", tt.format)
		assert.Contains(t, stderr, tt.stderr, "%q", tt.format)
		if tt.stdout == "000 7 0" {
			assert.Equal(t, exitConnect, code)
		} else {
			assert.Equal(t, exitOK, code, "%q: %s", tt.format, stderr)
		}
		if path, err := exec.LookPath("curl"); err == nil {
			cmd := exec.Command(path, "-s", "-o", os.DevNull, "-w", tt.format, tt.url)
			var out, errOut strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errOut
			_ = cmd.Run()
			assert.Equal(t, tt.stdout, out.String(), "curl %q", tt.format)
			assert.Contains(t, errOut.String(), tt.stderr, "curl %q", tt.format)
		}
	}
	// gdfetch's own: request_completed's result.
	_, stdout, _ := gdfetch(t, "-s", "-o", os.DevNull, "-w", `%{result} %{result_name} %{time_total} %{speed_download}`, srv.URL("/p"))
	assert.Regexp(t, `^0 RESULT_SUCCESS \d+\.\d{6} \d+$`, stdout)
}
