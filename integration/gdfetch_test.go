package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/peers"
)

// gdfetch's end-to-end tests (issue 10 part 5): the command built as a
// user builds it, run as a process against the real peers, its exit status,
// stdout and stderr checked as a user (or a script) reads them.

var (
	gdfetchOnce sync.Once
	gdfetchBin  string
	gdfetchErr  error
	gdfetchNoGo bool // no go command to build it with: the tests skip
)

// gdfetchBinary builds cmd/gdfetch once per test run; a build that fails
// fails the test.
func gdfetchBinary(t *testing.T) string {
	t.Helper()
	gdfetchOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			gdfetchErr, gdfetchNoGo = err, true
			return
		}
		dir, err := os.MkdirTemp("", "gdfetch-e2e-")
		if err != nil {
			gdfetchErr = err
			return
		}
		gdfetchBin = filepath.Join(dir, "gdfetch")
		out, err := exec.Command(goTool, "build", "-o", gdfetchBin, "github.com/gdhttp/gdhttp/cmd/gdfetch").CombinedOutput()
		if err != nil {
			gdfetchErr = errors.New(string(out) + err.Error())
		}
	})
	if gdfetchNoGo {
		t.Skipf("no go command to build gdfetch with: %v", gdfetchErr)
	}
	// A build that fails is a failure, not a reason to skip the tests.
	require.NoError(t, gdfetchErr, "go build ./cmd/gdfetch")
	return gdfetchBin
}

// runGdfetch runs the built command with args; it returns the exit status,
// stdout and stderr.
func runGdfetch(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), driveTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, gdfetchBinary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return code, stdout.String(), stderr.String()
}

// gdfetchJSON runs gdfetch --json and decodes its one object.
func gdfetchJSON(t *testing.T, args ...string) (int, map[string]any) {
	t.Helper()
	code, out, stderr := runGdfetch(t, append([]string{"--json", "-s"}, args...)...)
	var j map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &j), "stdout %q, stderr %q", out, stderr)
	return code, j
}

// httpbinEcho decodes an httpbin JSON reply.
func httpbinEcho(t *testing.T, body string) struct {
	Headers map[string]string `json:"headers"`
	Form    map[string]string `json:"form"`
	URL     string            `json:"url"`
	Gzipped bool              `json:"gzipped"`
} {
	t.Helper()
	var e struct {
		Headers map[string]string `json:"headers"`
		Form    map[string]string `json:"form"`
		URL     string            `json:"url"`
		Gzipped bool              `json:"gzipped"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &e), "%q", body)
	return e
}

func TestGdfetchHTTPBin(t *testing.T) {
	base := "http://" + peers.HTTPBin(t)
	t.Run("get-godot-user-agent", func(t *testing.T) {
		code, out, stderr := runGdfetch(t, base+"/get")
		require.Equal(t, 0, code, stderr)
		assert.True(t, strings.HasPrefix(httpbinEcho(t, out).Headers["User-Agent"], "GodotEngine/"), out)
	})
	t.Run("post-form-data", func(t *testing.T) {
		code, out, stderr := runGdfetch(t, "-X", "POST", "-H", "Content-Type: application/x-www-form-urlencoded", "-d", "level=3&name=gd", base+"/post")
		require.Equal(t, 0, code, stderr)
		assert.Equal(t, map[string]string{"level": "3", "name": "gd"}, httpbinEcho(t, out).Form)
	})
	t.Run("gzip-decoded-json", func(t *testing.T) {
		code, j := gdfetchJSON(t, base+"/gzip")
		require.Equal(t, 0, code)
		assert.Equal(t, "RESULT_SUCCESS", j["result_name"])
		assert.EqualValues(t, 200, j["response_code"])
		body, _ := j["body"].(string)
		assert.True(t, httpbinEcho(t, body).Gzipped, body)
		assert.Contains(t, j["headers"], "Content-Encoding: gzip")
	})
	t.Run("status-404-is-a-success", func(t *testing.T) {
		// §2.9: Godot delivers any status as RESULT_SUCCESS; curl exits 0 too.
		code, j := gdfetchJSON(t, base+"/status/404")
		assert.Equal(t, 0, code)
		assert.EqualValues(t, 404, j["response_code"])
		assert.EqualValues(t, 0, j["result"])
	})
	t.Run("redirects-followed", func(t *testing.T) {
		code, j := gdfetchJSON(t, base+"/redirect/3")
		require.Equal(t, 0, code)
		assert.EqualValues(t, 200, j["response_code"])
		body, _ := j["body"].(string)
		assert.Equal(t, "http://"+peers.HTTPBin(t)+"/get", httpbinEcho(t, body).URL)
	})
	t.Run("too-many-redirects", func(t *testing.T) {
		code, j := gdfetchJSON(t, "--max-redirs", "1", base+"/redirect/3")
		assert.Equal(t, 47, code, "curl's CURLE_TOO_MANY_REDIRECTS")
		assert.Equal(t, "RESULT_REDIRECT_LIMIT_REACHED", j["result_name"])
	})
	t.Run("timeout", func(t *testing.T) {
		code, j := gdfetchJSON(t, "-m", "0.5", base+"/delay/3")
		assert.Equal(t, 28, code, "curl's CURLE_OPERATION_TIMEDOUT")
		assert.Equal(t, "RESULT_TIMEOUT", j["result_name"])
	})
	t.Run("body-size-limit", func(t *testing.T) {
		code, j := gdfetchJSON(t, "--max-filesize", "100", base+"/bytes/1000")
		assert.Equal(t, 63, code, "curl's CURLE_FILESIZE_EXCEEDED")
		assert.Equal(t, "RESULT_BODY_SIZE_LIMIT_EXCEEDED", j["result_name"])
	})
	t.Run("headers-as-godot-delivers-them", func(t *testing.T) {
		code, out, stderr := runGdfetch(t, "-i", "-s", base+"/response-headers?X-Game=1")
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, out, "X-Game: 1")
	})
}

func TestGdfetchNginx(t *testing.T) {
	fs := nginxFiles(t)
	base := "http://" + peers.Nginx(t)
	t.Run("download-file", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "1m.bin")
		code, _, stderr := runGdfetch(t, "-s", "-o", out, base+"/static/1m.bin")
		require.Equal(t, 0, code, stderr)
		data, err := os.ReadFile(out)
		require.NoError(t, err)
		assert.Equal(t, fs.sums["1m.bin"], drive.SHA256(data))
	})
	t.Run("tls-with-cacert", func(t *testing.T) {
		addr, _ := peers.NginxTLS(t)
		ca := optionalEnv(t, "GDHTTP_NGINX_CA", peers.Nginx)
		_, port, _ := strings.Cut(addr, ":")
		code, out, stderr := runGdfetch(t, "--cacert", ca, "https://localhost:"+port+"/static/text.txt")
		require.Equal(t, 0, code, stderr)
		want, err := os.ReadFile(filepath.Join(fs.dir, "text.txt"))
		require.NoError(t, err)
		assert.Equal(t, string(want), out)
	})
	t.Run("tls-unknown-ca", func(t *testing.T) {
		addr, _ := peers.NginxTLS(t)
		_, port, _ := strings.Cut(addr, ":")
		code, _, stderr := runGdfetch(t, "-s", "https://localhost:"+port+"/static/text.txt")
		assert.Equal(t, 60, code, "curl's CURLE_PEER_FAILED_VERIFICATION: %s", stderr)
	})
	t.Run("verbose-request-bytes", func(t *testing.T) {
		code, _, stderr := runGdfetch(t, "-v", "-o", filepath.Join(t.TempDir(), "x"), base+"/static/1k.bin")
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stderr, "GET /static/1k.bin HTTP/1.1")
		assert.Contains(t, stderr, "STATUS_BODY")
	})
}

func TestGdfetchProxy(t *testing.T) {
	proxy := peers.Proxy(t)
	target := "http://" + peers.HTTPBin(t) + "/get"
	code, out, stderr := runGdfetch(t, "-v", "-x", "http://"+proxy, target)
	require.Equal(t, 0, code, stderr)
	// §1.14.1: the absolute-form target that only a proxy accepts.
	assert.Contains(t, stderr, "GET "+target+" HTTP/1.1")
	assert.True(t, strings.HasPrefix(httpbinEcho(t, out).Headers["User-Agent"], "GodotEngine/"), out)
}
