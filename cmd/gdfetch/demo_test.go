package main

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDemo runs the whole demo in-process: at least six RESULT_SUCCESS
// completions, the HTTPClient poll loop's exact request bytes and status
// trace, and the RESULT_TIMEOUT at the end.
func TestDemo(t *testing.T) {
	for _, args := range [][]string{{"demo"}, {}} {
		code, out, stderr := gdfetch(t, args...)
		require.Equal(t, 0, code, stderr)
		assert.Empty(t, stderr)
		successes := 0
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "request_completed: RESULT_SUCCESS (0) 200") {
				successes++
			}
		}
		assert.GreaterOrEqual(t, successes, 6, out)
		for _, want := range []string{
			"status trace: STATUS_RESOLVING +", // HTTPClient: connect_to_host("localhost", …)
			"STATUS_BODY +",
			"    POST /api/score HTTP/1.1␍␊\n    X-Player: 42␍␊\n", // the exact request bytes
			"User-Agent: GodotEngine/",
			`"user_agent":"GodotEngine/`, // the REST reply echoes it
			`"received":{"level":3,"score":1200}`,
			"a 16×16 image/png",
			"body (decompressed): Patch 1.2 is out",
			`body: {"arrived":true}`,
			`body: "tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n"`,
			"request_completed: RESULT_TIMEOUT (13) 0",
			"gdfetch exits 28",
		} {
			assert.Contains(t, out, want)
		}
		assert.NotContains(t, out, "\x1b[", "no colour when stdout is not a terminal")
	}
}

func TestDemoPreviewForced(t *testing.T) {
	code, out, stderr := gdfetch(t, "demo", "--preview")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "\x1b[38;2;71;140;191m") // Godot blue, truecolor
}

func TestDemoBadArgs(t *testing.T) {
	code, _, stderr := gdfetch(t, "demo", "extra")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "unexpected")
	code, _, _ = gdfetch(t, "demo", "--nope")
	assert.Equal(t, exitUsage, code)
}

// TestHalfBlocks: two pixel rows per text row, the upper as the foreground
// of ▀, the lower as its background; transparency leaves the terminal's.
func TestHalfBlocks(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 2, 3))
	img.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})
	img.SetNRGBA(0, 1, color.NRGBA{0, 0, 255, 255})
	img.SetNRGBA(1, 1, color.NRGBA{0, 255, 0, 255}) // (1,0) transparent
	img.SetNRGBA(0, 2, color.NRGBA{9, 9, 9, 255})   // last row: no lower half
	got := halfBlocks(img)
	want := "  \x1b[38;2;255;0;0m\x1b[48;2;0;0;255m▀\x1b[49m\x1b[38;2;0;255;0m▄\x1b[0m\n" +
		"  \x1b[49m\x1b[38;2;9;9;9m▀\x1b[0m \x1b[0m\n"
	assert.Equal(t, want, got)
}

func TestIconIsAPNG(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(iconPNG()))
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 16, 16), img.Bounds())
}

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServe: "gdfetch serve" runs the backend on the chosen address until
// interrupted; curl-like clients (here a raw socket) and gdfetch reach it.
func TestServe(t *testing.T) {
	// A port free now, for serve to listen on (it must not stay bound).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer
	done := make(chan int)
	go func() {
		done <- runContext(ctx, []string{"serve", "--port", strconv.Itoa(port), "--addr", "127.0.0.1"}, &out, &errOut)
	}()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "game backend on http://"+addr) },
		5*time.Second, 5*time.Millisecond)
	assert.Contains(t, out.String(), "/api/player")

	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	_, err = io.WriteString(c, "GET /api/player HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8.0\r\nConnection: close\r\n\r\n")
	require.NoError(t, err)
	resp, err := io.ReadAll(bufio.NewReader(c))
	require.NoError(t, err)
	c.Close()
	assert.True(t, strings.HasPrefix(string(resp), "HTTP/1.1 200 OK\r\n"))
	assert.Contains(t, string(resp), `"user_agent":"curl/8.0"`)

	code, body, stderr := gdfetch(t, "http://"+addr+"/echo")
	require.Equal(t, 0, code, stderr)
	assert.True(t, strings.HasPrefix(body, "GET /echo HTTP/1.1\r\n"))

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code)
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop")
	}
	assert.Empty(t, errOut.String())
}

// TestServeHelp: gdfetch serve -h and --help describe serve (its flags,
// -p among them), not the fetch command.
func TestServeHelp(t *testing.T) {
	for _, flag := range []string{"-h", "--help"} {
		code, stdout, stderr := gdfetch(t, "serve", flag)
		assert.Equal(t, exitOK, code, flag)
		assert.Empty(t, stderr, flag)
		assert.True(t, strings.HasPrefix(stdout, "usage: gdfetch serve"), "%s: %q", flag, stdout)
		assert.Contains(t, stdout, "-p, --port N", flag)
		assert.Contains(t, stdout, "--addr ADDR", flag)
		assert.NotContains(t, stdout, "one request through", flag)
	}
}

func TestServeBadArgs(t *testing.T) {
	for _, args := range [][]string{{"serve", "--port", "70000"}, {"serve", "x"}, {"serve", "--what"}} {
		code, _, _ := gdfetch(t, args...)
		assert.Equal(t, exitUsage, code, args)
	}
	// A port in use: the listen error, exit 1.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	code, _, stderr := gdfetch(t, "serve", "--port", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stderr, "address already in use")
}

// TestInterrupt: a canceled context cancels the request: exit 130.
func TestInterrupt(t *testing.T) {
	b := newBackend(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	var out, errOut bytes.Buffer
	start := time.Now()
	code := runContext(ctx, []string{b.url("/never")}, &out, &errOut)
	assert.Equal(t, exitInterrupted, code)
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.Contains(t, errOut.String(), "interrupted")
}
