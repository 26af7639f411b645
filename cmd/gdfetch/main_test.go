package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
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

// TestMainProcess is gdfetch's main() in a child process: the test binary
// run with GDFETCH_MAIN_ARGS (the arguments, separated by \x1f).
func TestMainProcess(t *testing.T) {
	args, ok := os.LookupEnv("GDFETCH_MAIN_ARGS")
	if !ok {
		t.Skip("child process only")
	}
	os.Args = append([]string{"gdfetch"}, strings.Split(args, "\x1f")...)
	main()
}

// TestBrokenPipeExit: a stdout pipe its reader closed (gdfetch URL | head
// -c1) ends gdfetch with exit 23, curl's CURLE_WRITE_ERROR (curl 7.88 does
// the same when installed), not with death by SIGPIPE.
func TestBrokenPipeExit(t *testing.T) {
	body := strings.Repeat("x", 4<<20)
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\nConnection: close\r\n\r\n"+body))
	run := func(name string, args ...string) (code int, signaled bool) {
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "GDFETCH_MAIN_ARGS=-s\x1f"+srv.URL("/"), "http_proxy=", "HTTP_PROXY=", "NO_PROXY=", "no_proxy=")
		r, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		var one [1]byte
		_, err = io.ReadFull(r, one[:])
		require.NoError(t, err)
		require.NoError(t, r.Close())
		return pipeExit(t, cmd.Wait())
	}
	if path, err := exec.LookPath("curl"); err == nil {
		code, _ := run(path, "-s", srv.URL("/"))
		require.Equal(t, exitWrite, code, "curl")
	}
	code, signaled := run(os.Args[0], "-test.run=^TestMainProcess$")
	assert.False(t, signaled, "gdfetch was killed by SIGPIPE")
	assert.Equal(t, exitWrite, code)
}

// TestHeadersToClosedPipe: -i's and -I's block written to a stdout whose
// reader is gone exits 23, as curl's "Failed writing header" (curl 7.88
// does the same when installed), not 0: with SIGPIPE handled the failed
// write must be noticed.
func TestHeadersToClosedPipe(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
	run := func(env string, name string, args ...string) (code int, signaled bool) {
		r, w, err := os.Pipe()
		require.NoError(t, err)
		require.NoError(t, r.Close())
		cmd := exec.Command(name, args...)
		cmd.Stdout = w
		cmd.Env = append(os.Environ(), "http_proxy=", "HTTP_PROXY=", "NO_PROXY=", "no_proxy=")
		if env != "" {
			cmd.Env = append(cmd.Env, "GDFETCH_MAIN_ARGS="+env)
		}
		require.NoError(t, cmd.Start())
		require.NoError(t, w.Close())
		return pipeExit(t, cmd.Wait())
	}
	for _, flag := range []string{"-I", "-i"} {
		if path, err := exec.LookPath("curl"); err == nil {
			code, _ := run("", path, "-s", flag, srv.URL("/"))
			assert.Equal(t, exitWrite, code, "curl %s", flag)
		}
		code, signaled := run("-s\x1f"+flag+"\x1f"+srv.URL("/"), os.Args[0], "-test.run=^TestMainProcess$")
		assert.False(t, signaled, flag)
		assert.Equal(t, exitWrite, code, "gdfetch %s", flag)
	}
}

// TestIncludeToDeviceOrder: -i with -o /dev/stdout (a device: the body is
// not a download_file) prints the result line and the headers, then the
// body, as curl does — the body is held until the block is out.
func TestIncludeToDeviceOrder(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nBODY"))
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainProcess$")
	cmd.Env = append(os.Environ(), "GDFETCH_MAIN_ARGS=-s\x1f-i\x1f-o\x1f/dev/stdout\x1f"+srv.URL("/"), "http_proxy=", "HTTP_PROXY=", "NO_PROXY=", "no_proxy=")
	out, err := cmd.Output()
	require.NoError(t, err)
	assert.Equal(t, "RESULT_SUCCESS (0) 200\nContent-Length: 4\nConnection: close\n\nBODY", string(out))
}

// pipeExit is a child's exit status from cmd.Wait's error, and whether
// SIGPIPE killed it.
func pipeExit(t *testing.T, err error) (code int, signaled bool) {
	t.Helper()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), ee.ProcessState.String() == "signal: broken pipe"
	}
	require.NoError(t, err)
	return 0, false
}

// The README's gdfetch example prints what gdfetch prints: its failure
// line for /hop/12 is gdfetch's, word for word.
func TestREADMEFailureExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	const cmd = "$ go run ./cmd/gdfetch localhost:8080/hop/12; echo \"exit $?\"\n"
	_, after, ok := strings.Cut(string(readme), cmd)
	require.True(t, ok, "README.md has no %q", cmd)
	want, _, _ := strings.Cut(after, "\nexit 47\n")
	b := newBackend(t)
	code, out, stderr := gdfetch(t, b.url("/hop/12"))
	assert.Equal(t, exitRedirects, code)
	assert.Empty(t, out)
	assert.Equal(t, want, strings.TrimSuffix(stderr, "\n"))
}
