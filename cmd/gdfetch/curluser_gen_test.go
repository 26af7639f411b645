//go:build unix

package main

// The findings of the generated gdfetch-beside-curl audit (TestFetchgen),
// each as one hand-written case (each failed on the code it was found on).

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

// TestCurlUserHeadWithMethod: "curl -I -X GET URL" (the idiom for the head
// of a GET) sends GET and prints the heads only: -I is CURLOPT_NOBODY, -X
// only renames the method. gdfetch does the same: the method is -X's, and
// no body is printed or written to -o FILE (doc.go, -I). It printed the
// whole body after the headers, and wrote it to FILE.
func TestCurlUserHeadWithMethod(t *testing.T) {
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

// TestCurlUserResumeTakesGetOnly: "-C - -o FILE" with -X (other than
// GET), -d or -I is a usage error (exit 2), where curl runs the request; a
// deliberate refusal, which doc.go's -C entry and --help now state (they
// listed every other way -C - differs from curl's, not this one).
func TestCurlUserResumeTakesGetOnly(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	file := filepath.Join(t.TempDir(), "f")
	code, _, errOut := gdfetch(t, "-s", "-I", "-C", "-", "-o", file, srv.URL("/"))
	require.Equal(t, exitUsage, code, "the refusal: %s", errOut)
	assert.Contains(t, usage, "a GET only (with -X, -d, -F, -T or -I: exit 2)", "--help states it (the refusal: %q)", strings.TrimSpace(errOut))
	assert.Contains(t, packageDoc(t), "a GET only: with -X (other than GET), -d, -F, -T or -I it is a usage", "doc.go states it")
}

// packageDoc is doc.go's text.
func packageDoc(t *testing.T) string {
	b, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	return string(b)
}

// TestCurlUserMaxFilesizeZero: curl's --max-filesize 0 is no limit
// (CURLOPT_MAXFILESIZE_LARGE's default); so is gdfetch's (body_size_limit
// −1). It passed 0 to body_size_limit, which refuses every byte (§2.9.1):
// exit 63 for any body.
func TestCurlUserMaxFilesizeZero(t *testing.T) {
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

// TestCurlUserFailAndMaxFilesize: an error page whose Content-Length is
// over --max-filesize, with -f: curl checks the size as the Content-Length
// line is read, before -f looks at the code, and exits 63; so does gdfetch
// (failResponse leaves it to body_size_limit). It exited 22.
func TestCurlUserFailAndMaxFilesize(t *testing.T) {
	page := strings.Repeat("e", 3000)
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 500 Oops\r\nContent-Length: 3000\r\n\r\n"+page))
	if _, err := exec.LookPath("curl"); err == nil {
		code, _ := curlExit(t, t.TempDir(), "-f", "--max-filesize", "100", srv.URL("/"))
		require.Equal(t, exitBodySize, code, "curl 7.88")
	}
	code, _, errOut := gdfetch(t, "-s", "-f", "--max-filesize", "100", srv.URL("/"))
	assert.Equal(t, exitBodySize, code, "as curl: the size before -f: %s", errOut)
}
