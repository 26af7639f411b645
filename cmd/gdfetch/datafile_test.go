package main

import (
	"bytes"
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

// TestDataFileCurlPieces: -d @FILE takes a file as curl 7.88's file2string
// does (tool_paramhlp.c): fgets pieces of up to 255 bytes (or to a LF), each
// kept up to its first CR, LF or NUL. For CR LF and LF line ends that is
// "without CR/LF"; a bare CR (a classic Mac line end, a stray CR) or a NUL
// drops the rest of its piece: for "ab\rcd\nef\r\ngh" curl sends "abefgh",
// for "a\x00b\ncd" "acd" (both checked with curl 7.88.1). gdfetch removed
// every CR and LF byte and kept the rest ("abcdefgh", "a\x00bcd").
func TestDataFileCurlPieces(t *testing.T) {
	clearProxyEnv(t)
	for i, tc := range []struct{ file, curl string }{
		{"ab\rcd\nef\r\ngh", "abefgh"},
		{"a\x00b\ncd", "acd"},
		// A blank line is a piece of its own, kept up to its CR or LF: nothing.
		{"a\n\nb\r\n\r\nc", "abc"},
		// A piece ends after 255 bytes: the CR at byte 255 cuts nothing
		// after it, the one at byte 257 cuts its piece's "b".
		{strings.Repeat("a", 254) + "\r" + strings.Repeat("b", 10) + "\nc", strings.Repeat("a", 254) + strings.Repeat("b", 10) + "c"},
		{strings.Repeat("a", 256) + "\rb\nd", strings.Repeat("a", 256) + "d"},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "data.txt")
			require.NoError(t, os.WriteFile(path, []byte(tc.file), 0o644))
			body := func(args ...string) string {
				srv := testserver.New(t, testserver.RespondAndClose("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
				url := "http://127.0.0.1:" + strconv.Itoa(srv.Port()) + "/up"
				if args[0] == "gdfetch" {
					code, _, errOut := gdfetch(t, "-s", "-d", "@"+path, url)
					require.Zero(t, code, errOut)
				} else if err := exec.Command(args[0], "-s", "-o", "/dev/null", "-d", "@"+path, url).Run(); err != nil {
					t.Logf("curl: %v", err)
					return tc.curl
				}
				reqs := srv.Requests()
				require.Len(t, reqs, 1)
				_, b, _ := bytes.Cut(reqs[0], []byte("\r\n\r\n"))
				return string(b)
			}
			if curl, err := exec.LookPath("curl"); err == nil {
				if got := body(curl); got != tc.curl {
					t.Logf("this curl sends %q for %q (curl 7.88: %q)", got, tc.file, tc.curl)
				}
			}
			assert.Equal(t, tc.curl, body("gdfetch"), "-d @FILE holding %q (doc.go: curl's rules)", tc.file)
		})
	}
}
