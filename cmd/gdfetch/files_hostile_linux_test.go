//go:build linux

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/testserver"
)

// gdfetch -o FILE, -C - and -o - on a hostile file system (the hostile
// file-system audit of session 21).

const afBody = "hello world, this is the body"

func afServer(t *testing.T) *testserver.Server {
	return testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Length: "+strconv.Itoa(len(afBody))+"\r\n\r\n"+afBody))
}

func afNames(t *testing.T, dir string) []string {
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// Hostile -o paths, with and without -C -: exit 23 (CURLE_WRITE_ERROR) and
// nothing left beside them.
func TestFilesGdfetchHostileOutputs(t *testing.T) {
	srv := afServer(t)
	cases := map[string]func(t *testing.T, dir string) string{
		"directory": func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d")
			require.NoError(t, os.Mkdir(p, 0o755))
			return p
		},
		"missing dir": func(t *testing.T, dir string) string { return filepath.Join(dir, "nope", "f") },
		"5000 bytes":  func(t *testing.T, dir string) string { return dir + "/" + strings.Repeat("d/", 2499) + "f" },
	}
	for name, mk := range cases {
		for _, resume := range []bool{false, true} {
			t.Run(name+map[bool]string{false: "", true: "/-C -"}[resume], func(t *testing.T) {
				dir := t.TempDir()
				out := mk(t, dir)
				before := afNames(t, dir)
				args := []string{"-s", "-o", out, srv.URL("/")}
				if resume {
					args = append([]string{"-C", "-"}, args...)
				}
				code, _, stderr := gdfetch(t, args...)
				assert.Equal(t, exitWrite, code, stderr)
				assert.Equal(t, before, afNames(t, dir), "left behind")
			})
		}
	}
}

// -C - with a FIFO as -o: the node refuses the FIFO (exit 23), and no
// FIFO.gdhttp-resume is left (the state is written once the file is open).
func TestFilesGdfetchResumeFIFOLeavesState(t *testing.T) {
	srv := afServer(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	code, _, stderr := gdfetch(t, "-s", "-C", "-", "-o", fifo, srv.URL("/"))
	assert.Equal(t, exitWrite, code, stderr)
	assert.Equal(t, []string{"fifo"}, afNames(t, dir), "left behind")
}

// A 250-byte file name (valid: NAME_MAX is 255) as -o: curl writes it.
func TestFilesGdfetchLongName(t *testing.T) {
	srv := afServer(t)
	for _, resume := range []bool{false, true} {
		t.Run(map[bool]string{false: "-o", true: "-C -"}[resume], func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, strings.Repeat("n", 250))
			args := []string{"-s", "-o", out, srv.URL("/")}
			if resume {
				args = append([]string{"-C", "-"}, args...)
			}
			if c, ok := curlExit(t, dir, "-o", out, srv.URL("/")); ok {
				t.Logf("curl exit %d", c)
				os.Remove(out)
			}
			code, _, stderr := gdfetch(t, args...)
			assert.Equal(t, exitOK, code, stderr)
		})
	}
}

// -o /dev/full: a device gdfetch writes itself; ENOSPC on the write is 23
// with the cause on stderr (curl: 23).
func TestFilesGdfetchDevFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	srv := afServer(t)
	code, _, stderr := gdfetch(t, "-o", "/dev/full", srv.URL("/"))
	assert.Equal(t, exitWrite, code, stderr)
	assert.Contains(t, stderr, "no space left on device")
	if c, ok := curlExit(t, t.TempDir(), "-o", "/dev/full", srv.URL("/")); ok {
		assert.Equal(t, exitWrite, c, "curl")
	}
}

// -o FIFO without a reader: gdfetch's open for writing waits for a reader,
// as curl's does, and SIGINT (Ctrl-C) ends the wait (openDevice; Go retries
// an open interrupted by a signal, so the wait runs beside the context).
func TestFilesGdfetchFIFONoReaderSIGINT(t *testing.T) {
	srv := afServer(t)
	fifo := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	run := func(name string, env []string, args ...string) (exited bool, state string) {
		cmd := exec.Command(name, args...)
		cmd.Env = append(append(os.Environ(), "http_proxy=", "HTTP_PROXY=", "NO_PROXY=", "no_proxy="), env...)
		require.NoError(t, cmd.Start())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		time.Sleep(500 * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(os.Interrupt))
		select {
		case err := <-done:
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return true, ee.ProcessState.String()
			}
			return true, "exit 0"
		case <-time.After(3 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			return false, "still blocked 3 s after SIGINT"
		}
	}
	if path, err := exec.LookPath("curl"); err == nil {
		exited, state := run(path, nil, "-s", "-o", fifo, srv.URL("/"))
		t.Logf("curl: exited %v (%s)", exited, state)
	}
	exited, state := run(os.Args[0], []string{"GDFETCH_MAIN_ARGS=-s\x1f-o\x1f" + fifo + "\x1f" + srv.URL("/")}, "-test.run=^TestMainProcess$")
	assert.True(t, exited, "gdfetch: %s", state)
}
