package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// silentPort is a loopback port whose server accepts TCP connections and
// never sends a byte: a TLS handshake, or a proxy's CONNECT, waits there
// forever; a plain HTTP request waits for its response.
func silentPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// --connect-timeout takes curl's seconds: fractions, to the millisecond
// (less than one: none, as curl's secs2ms makes 0); a negative or
// non-numeric value is a usage error (exit 2), as curl's.
func TestConnectTimeoutFlag(t *testing.T) {
	for v, want := range map[string]time.Duration{
		"0.5": 500 * time.Millisecond, "2": 2 * time.Second, "1e-1": 100 * time.Millisecond,
		".25": 250 * time.Millisecond, "0.0004": 0, "0": 0, "0.0019": time.Millisecond,
	} {
		cfg, err := parseFetch(t.Context(), []string{"--connect-timeout", v, "http://h.test/"})
		require.NoError(t, err, v)
		assert.Equal(t, want, cfg.connectTimeout, v)
	}
	for _, v := range []string{"abc", "-1", "0.2s", "NaN", ""} {
		code, _, stderr := gdfetch(t, "--connect-timeout", v, "http://h.test/")
		assert.Equal(t, exitUsage, code, "%q: %s", v, stderr)
		assert.Contains(t, stderr, "connect-timeout", v)
		if ccode, ok := curlExit(t, t.TempDir(), "--connect-timeout", v, "http://h.test/"); ok && v != "NaN" {
			assert.Equal(t, exitUsage, ccode, "%q: curl", v) // strtod reads "NaN"
		}
	}
}

// A connect phase that lasts past --connect-timeout ends the request with
// RESULT_TIMEOUT, exit 28, and curl's message, whichever way the request
// runs (frames, --threads, -C -'s blocking Do), for a TLS handshake that
// is never answered and an HTTPS proxy's CONNECT that is never answered;
// curl 7.88 exits 28 too.
func TestConnectTimeoutHandshake(t *testing.T) {
	port := silentPort(t)
	target := "https://127.0.0.1:" + strconv.Itoa(port) + "/f"
	dir := t.TempDir()
	for _, tt := range []struct {
		name   string
		args   []string
		noCurl bool // a flag of gdfetch's
	}{
		{"tls", []string{target}, false},
		{"tls threads", []string{"--threads", target}, true},
		{"tls -C -", []string{"-C", "-", "-o", filepath.Join(dir, "f"), target}, false},
		{"proxy CONNECT", []string{"-x", "127.0.0.1:" + strconv.Itoa(port), "https://h.test/f"}, false},
	} {
		start := time.Now()
		code, stdout, stderr := gdfetch(t, append([]string{"--connect-timeout", "0.3"}, tt.args...)...)
		took := time.Since(start)
		assert.Equal(t, exitTimeout, code, "%s: %s", tt.name, stderr)
		assert.Empty(t, stdout, tt.name)
		assert.Contains(t, stderr, "gdfetch: RESULT_TIMEOUT (13) 0: --connect-timeout 0.3: Connection timed out after 3", tt.name)
		assert.Contains(t, stderr, "milliseconds (STATUS_CONNECTING) (exit 28)\n", tt.name)
		assert.NotContains(t, stderr, "-m, the node's timeout", tt.name)
		assert.GreaterOrEqual(t, took, 300*time.Millisecond, tt.name)
		assert.Less(t, took, 5*time.Second, tt.name)
		if tt.noCurl {
			continue
		}
		if ccode, ok := curlExit(t, dir, append([]string{"--connect-timeout", "0.3"}, tt.args...)...); ok {
			assert.Equal(t, exitTimeout, ccode, "%s: curl", tt.name)
		}
	}
	_, err := os.Stat(filepath.Join(dir, "f"))
	assert.ErrorIs(t, err, os.ErrNotExist, "-C -: nothing written")
}

// The cut try is reported as the node's own timeout would be: -v shows the
// status trace up to it, --json the result and the cause; --retry makes it
// again, as any timeout.
func TestConnectTimeoutReport(t *testing.T) {
	target := "https://127.0.0.1:" + strconv.Itoa(silentPort(t)) + "/"
	code, _, stderr := gdfetch(t, "-v", "--connect-timeout", "0.1", target)
	assert.Equal(t, exitTimeout, code)
	assert.Contains(t, stderr, httpclient.StatusConnecting.String())

	code, stdout, _ := gdfetch(t, "--json", "--connect-timeout", "0.1", target)
	assert.Equal(t, exitTimeout, code)
	var j jsonCompletion
	require.NoError(t, json.Unmarshal([]byte(stdout), &j))
	assert.Equal(t, "RESULT_TIMEOUT", j.ResultName)
	assert.Equal(t, exitTimeout, j.ExitCode)
	assert.Contains(t, j.Error, "Connection timed out after")
	require.NotEmpty(t, j.Trace)
	assert.Equal(t, "STATUS_CONNECTING", j.Trace[len(j.Trace)-1].Status)

	slept := 0
	old := retrySleep
	retrySleep = func(context.Context, time.Duration) { slept++ }
	defer func() { retrySleep = old }()
	code, _, stderr = gdfetch(t, "--retry", "2", "--connect-timeout", "0.1", target)
	assert.Equal(t, exitTimeout, code)
	assert.Equal(t, 2, slept)
	assert.Contains(t, stderr, "Warning: Problem : timeout. Will retry in 1 seconds. 2 retries left.")
}

// Once connected, --connect-timeout has no say: a server that never
// answers the request is -m's (the node's timeout), and a fast server's
// request succeeds with the watch on.
func TestConnectTimeoutAfterConnect(t *testing.T) {
	target := "http://127.0.0.1:" + strconv.Itoa(silentPort(t)) + "/"
	start := time.Now()
	code, _, stderr := gdfetch(t, "--connect-timeout", "0.1", "-m", "0.5", target)
	assert.Equal(t, exitTimeout, code, stderr)
	assert.GreaterOrEqual(t, time.Since(start), 500*time.Millisecond)
	assert.NotContains(t, stderr, "--connect-timeout")
	assert.Contains(t, stderr, "-m, the node's timeout")
	if ccode, ok := curlExit(t, t.TempDir(), "--connect-timeout", "0.1", "-m", "0.5", target); ok {
		assert.Equal(t, exitTimeout, ccode, "curl")
	}

	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
	code, stdout, stderr := gdfetch(t, "-s", "--connect-timeout", "0.05", srv.URL("/"))
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, "ok", stdout)
}

// The cause is curl 7.88's message for the phase the status shows.
func TestConnectTimeoutMessage(t *testing.T) {
	e := &connectTimeoutError{limit: 1500 * time.Millisecond, after: 1501 * time.Millisecond, status: httpclient.StatusResolving, flagArg: formatSeconds(1500 * time.Millisecond)}
	assert.Equal(t, "--connect-timeout 1.5: Resolving timed out after 1501 milliseconds (STATUS_RESOLVING)", e.Error())
	e.status = httpclient.StatusConnecting
	assert.Equal(t, "--connect-timeout 1.5: Connection timed out after 1501 milliseconds (STATUS_CONNECTING)", e.Error())
	assert.True(t, e.Timeout())
}
