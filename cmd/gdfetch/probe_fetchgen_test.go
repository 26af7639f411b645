//go:build unix

package main

// Findings of the generated gdfetch-beside-curl audit (TestFetchgen). Each
// probe is one deterministic case that fails on the code it was found on.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/testserver"
)

// TestProbeFetchgenHeadWithMethodPrintsBody: "curl -I -X GET URL" — the
// idiom for the head of a GET, for servers that answer HEAD otherwise —
// sends GET and prints the heads only: -I is CURLOPT_NOBODY, and -X only
// changes the method's name, so curl 7.88 reads no body (stdout: the status
// line and the headers; with -o FILE, FILE gets them). doc.go says "-I,
// --head  method HEAD, printed as -i" and nothing of -X after it; gdfetch
// lets -X replace the method (flags.go: c.method set again by -X after -I)
// and prints as -i, so the whole body follows the headers on stdout (and
// with -o FILE the body is written to FILE). Generated as
// GDHTTP_FETCHGEN_SEED=2 case 39 (-s -S -f -I --max-redirs 3 -X GET).
func TestProbeFetchgenHeadWithMethodPrintsBody(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nTHE-BODY\n"))
	if _, err := exec.LookPath("curl"); err == nil {
		out, _ := exec.Command("curl", "-s", "-I", "-X", "GET", srv.URL("/")).Output()
		require.NotContains(t, string(out), "THE-BODY", "curl 7.88 -I -X GET: heads only")
	}
	code, out, errOut := gdfetch(t, "-s", "-I", "-X", "GET", srv.URL("/"))
	require.Equal(t, exitOK, code, errOut)
	line, _ := lastRequest(t, srv)
	assert.Equal(t, "GET / HTTP/1.1", line, "-X GET is sent, as curl")
	assert.NotContains(t, out, "THE-BODY", "-I: the result line and headers only, as curl -I prints no body")

	file := filepath.Join(t.TempDir(), "f")
	code, _, errOut = gdfetch(t, "-s", "-I", "-X", "GET", "-o", file, srv.URL("/"))
	require.Equal(t, exitOK, code, errOut)
	got, _ := os.ReadFile(file)
	assert.NotContains(t, string(got), "THE-BODY", "-I -o FILE: no body in FILE")
}

// TestProbeFetchgenResumeRefusesMethodUndocumented: "-C - -o FILE" with
// -X (other than GET), -d or -I is a usage error (exit 2, resume.go's
// resumeFlag: "-C - resumes a GET download (no -X, -d, -F, -T, -I)"),
// where curl 7.88 runs the request (curl -C - -I -o FILE URL: exit 0, the
// heads in FILE). A deliberate refusal, but doc.go's -C paragraph and
// --help's -C line list every other way gdfetch's -C - differs from curl's
// and not this one: a curl user cannot learn it before meeting it.
// Generated as GDHTTP_FETCHGEN_SEED=2 case 31 (-I -o OUT -C - -L -X DELETE).
func TestProbeFetchgenResumeRefusesMethodUndocumented(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	file := filepath.Join(t.TempDir(), "f")
	code, _, errOut := gdfetch(t, "-s", "-I", "-C", "-", "-o", file, srv.URL("/"))
	require.Equal(t, exitUsage, code, "the refusal: %s", errOut)
	cLine := ""
	for _, l := range strings.Split(usage, "\n") {
		if strings.Contains(l, "--continue-at") {
			cLine = l
		}
	}
	text := usage + packageDoc(t)
	assert.True(t, strings.Contains(text, "-C - resumes a GET") || strings.Contains(text, "-C - with -X") || strings.Contains(cLine, "-I"),
		"doc.go or --help states that -C - refuses -X, -d, -I (it does: %q)", strings.TrimSpace(errOut))
}

// packageDoc is doc.go's text.
func packageDoc(t *testing.T) string {
	b, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	return string(b)
}

// TestProbeFetchgenMaxFilesizeZero: curl 7.88's --max-filesize 0 is no
// limit (CURLOPT_MAXFILESIZE_LARGE: "The default is zero which means no
// limit"; the generated runs: curl exit 0 with the body). gdfetch passes 0
// to body_size_limit, where 0 means not one byte (§2.9.1), so any body is
// refused: exit 63, nothing on stdout. doc.go's --max-filesize line says
// only "body_size_limit (k/M/G suffixes; default -1)". Generated as
// GDHTTP_FETCHGEN_SEED=8 case 38 (-o OUT --max-filesize 0, a 404 page).
func TestProbeFetchgenMaxFilesizeZero(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
	if _, err := exec.LookPath("curl"); err == nil {
		out, err := exec.Command("curl", "-s", "--max-filesize", "0", srv.URL("/")).Output()
		require.NoError(t, err, "curl 7.88: 0 is no limit")
		require.Equal(t, "hello", string(out))
	}
	code, out, errOut := gdfetch(t, "-s", "--max-filesize", "0", srv.URL("/"))
	assert.Equal(t, exitOK, code, "curl's --max-filesize 0 is no limit: %s", errOut)
	assert.Equal(t, "hello", out)
}

// TestProbeFetchgenFailBeforeMaxFilesize: an error page whose
// Content-Length is over --max-filesize, with -f: curl 7.88 checks the
// size as the Content-Length line is read, before -f looks at the code at
// the end of the head, and exits 63 (CURLE_FILESIZE_EXCEEDED); gdfetch's
// -f (the node's response function, at the head) refuses it first: exit
// 22. doc.go states neither order. Generated as GDHTTP_FETCHGEN_SEED=12
// case 60 (-f --max-filesize 100, a 500 with Content-Length: 3000).
func TestProbeFetchgenFailBeforeMaxFilesize(t *testing.T) {
	page := strings.Repeat("e", 3000)
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 500 Oops\r\nContent-Length: 3000\r\n\r\n"+page))
	if _, err := exec.LookPath("curl"); err == nil {
		code, _ := curlExit(t, t.TempDir(), "-f", "--max-filesize", "100", srv.URL("/"))
		require.Equal(t, exitBodySize, code, "curl 7.88")
	}
	code, _, errOut := gdfetch(t, "-s", "-f", "--max-filesize", "100", srv.URL("/"))
	assert.Equal(t, exitBodySize, code, "as curl: the size before -f: %s", errOut)
}
