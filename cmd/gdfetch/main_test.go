package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gdhttp/gdhttp/internal/testserver"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// gdfetch runs the command in-process and returns its exit status, stdout
// and stderr.
func gdfetch(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// newBackend starts the demo backend on a free loopback port for one test.
func newBackend(t *testing.T) *backend {
	t.Helper()
	b, err := startBackend("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.close)
	return b
}

// curlExit runs curl 7.88 (-s, no proxy variables) with args in dir: the
// reference a test compares gdfetch with. ok is false when curl is not
// installed; the test then checks gdfetch alone.
func curlExit(t *testing.T, dir string, args ...string) (code int, ok bool) {
	t.Helper()
	path, err := exec.LookPath("curl")
	if err != nil {
		return 0, false
	}
	cmd := exec.Command(path, append([]string{"-s"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "http_proxy=", "HTTP_PROXY=", "https_proxy=", "HTTPS_PROXY=", "NO_PROXY=", "no_proxy=")
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), true
	}
	require.NoError(t, err)
	return 0, true
}

// lastRequest is the last request srv received, split into its first line
// and its body.
func lastRequest(t *testing.T, srv *testserver.Server) (line, body string) {
	t.Helper()
	reqs := srv.Requests()
	require.NotEmpty(t, reqs)
	req := string(reqs[len(reqs)-1])
	line, _, _ = strings.Cut(req, "\r\n")
	_, body, _ = strings.Cut(req, "\r\n\r\n")
	return line, body
}
