//go:build unix

package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
)

// lateNULServer sends 3000 text bytes, flushes, waits, then a NUL and a
// text tail (a text log with one stray NUL well past curl's 2000-byte
// window).
func lateNULServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "3006")
		_, _ = w.Write([]byte(strings.Repeat("a", 2999) + "\n"))
		w.(http.Flusher).Flush()
		time.Sleep(300 * time.Millisecond)
		_, _ = w.Write([]byte("\x00tail\n"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestBinaryGuardLateNUL: as curl 7.88's (tool_cb_wrt.c: "if(is_tty &&
// (outs->bytes < 2000) && !config->terminal_binary_ok)"), the binary check
// looks at the first 2000 bytes only: a text body with a NUL after them is
// written whole, exit 0, streamed or held (-f, -i).
func TestBinaryGuardLateNUL(t *testing.T) {
	srv := lateNULServer(t)
	if curl, err := exec.LookPath("curl"); err == nil {
		for _, f := range []string{"-s", "-sf", "-si"} {
			c := runPTY(t, map[string]any{"argv": []string{curl, f, srv.URL + "/late"}})
			t.Logf("curl %s: rc=%v tty has tail=%v", f, c.RC, bytes.Contains(c.tty, []byte("tail")))
		}
	}
	for _, flags := range [][]string{{}, {"-f"}, {"-i"}} {
		argv, env := selfArgs(append(append([]string{}, flags...), "-s", srv.URL+"/late")...)
		run := runPTY(t, map[string]any{"argv": argv, "env": env})
		assert.EqualValues(t, exitOK, run.RC, "%v: %q", flags, run.tty)
		assert.Contains(t, string(run.tty), "tail", "%v: the body after 3000 text bytes is cut", flags)
	}
}

// bigThenStall sends a 4 MiB Content-Length, 1.5 MiB of it at once, then
// stalls until the client goes. Its flushed file exists once the 1.5 MiB
// were sent: the transfer is under way (and gdfetch's SIGINT handler in
// place), however long the race-built child took to start.
func bigThenStall(t *testing.T) (srv *httptest.Server, flushed string) {
	flushed = filepath.Join(t.TempDir(), "flushed")
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(4<<20))
		w.Header().Set("ETag", `"v1"`)
		_, _ = w.Write(bytes.Repeat([]byte("x"), 3<<19))
		w.(http.Flusher).Flush()
		_ = os.WriteFile(flushed, nil, 0o644)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	return srv, flushed
}

// TestInterruptLeavesNoFile: SIGINT mid-transfer, for the drivers and
// holders TestInterruptDiesOfSIGINT does not run, and the SIGTERM (kill,
// timeout(1), a service manager) and SIGHUP (a closed terminal) that
// cancel the request as Ctrl-C does: no file left in the -o directory
// (the download's temporary file) nor in TMPDIR (the spool of -i), death
// by the same signal, as curl's.
func TestInterruptLeavesNoFile(t *testing.T) {
	type run struct {
		sig   syscall.Signal
		flags []string
	}
	var runs []run
	for _, flags := range [][]string{{"--threads", "-o", "F"}, {"-f", "-o", "F"}, {"-f", "--threads", "-o", "F"}, {"-i"}, {"-f"}, {"-i", "--threads"}} {
		runs = append(runs, run{syscall.SIGINT, flags})
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		runs = append(runs, run{sig, []string{"-o", "F"}}, run{sig, []string{"-i"}})
	}
	for _, r := range runs {
		flags := r.flags
		t.Run(r.sig.String()+" "+strings.Join(flags, " "), func(t *testing.T) {
			srv, flushed := bigThenStall(t)
			dir, tmp := t.TempDir(), t.TempDir()
			args := []string{"-s"}
			for _, f := range flags {
				if f == "F" {
					f = dir + "/f"
				}
				args = append(args, f)
			}
			args = append(args, srv.URL+"/big")
			argv, _ := selfArgs()
			cmd := exec.Command(argv[0], argv[1])
			cmd.Env = append(os.Environ(), "GDFETCH_MAIN_ARGS="+strings.Join(args, "\x1f"), "TMPDIR="+tmp,
				"http_proxy=", "HTTP_PROXY=", "NO_PROXY=", "no_proxy=")
			var errOut strings.Builder
			cmd.Stderr = &errOut
			cmd.Stdout = io.Discard
			require.NoError(t, cmd.Start())
			waitFile(t, flushed, "the transfer did not start")
			time.Sleep(200 * time.Millisecond) // the scenario: mid-transfer
			mid, _ := os.ReadDir(tmp)
			t.Logf("TMPDIR before SIGINT: %d entries", len(mid))
			require.NoError(t, cmd.Process.Signal(r.sig))
			err := cmd.Wait()
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee, errOut.String())
			assert.Equal(t, "signal: "+r.sig.String(), ee.ProcessState.String(), errOut.String())
			for _, d := range []string{dir, tmp} {
				entries, err := os.ReadDir(d)
				require.NoError(t, err)
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				assert.Empty(t, names, "%s: files left", d)
			}
		})
	}
}

// TestBinaryGuardMatrix: a binary body to a terminal through
// the drivers and framings TestTerminalBinaryBody does not run.
func TestBinaryGuardMatrix(t *testing.T) {
	body := make([]byte, 256)
	for i := range body {
		body[i] = byte(i)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(body)
	_ = zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gz":
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Length", strconv.Itoa(gz.Len()))
			_, _ = w.Write(gz.Bytes())
		case "/chunked":
			_, _ = w.Write(body[:10])
			w.(http.Flusher).Flush()
			_, _ = w.Write(body[10:])
		default:
			_, _ = w.Write(body)
		}
	}))
	defer srv.Close()
	const warning = `Warning: Binary output can mess up your terminal.`
	for _, c := range []struct {
		path  string
		flags []string
	}{
		{"/bin", []string{"--threads"}}, {"/gz", nil}, {"/gz", []string{"--threads"}}, {"/chunked", nil},
		{"/chunked", []string{"--threads"}}, {"/bin", []string{"-i", "--threads"}}, {"/bin", []string{"-f", "-i"}},
		{"/bin", []string{"-v"}}, {"/bin", []string{"--drain"}}, {"/bin", []string{"--keep-alive"}},
	} {
		argv, env := selfArgs(append(append([]string{}, c.flags...), srv.URL+c.path)...)
		run := runPTY(t, map[string]any{"argv": argv, "env": env})
		name := fmt.Sprint(c.path, c.flags)
		assert.EqualValues(t, exitWrite, run.RC, "%v: %q", name, run.tty)
		assert.NotContains(t, string(run.tty), "\x1b\x1c\x1d", "%v: raw binary written", name)
		assert.Equal(t, 1, strings.Count(string(run.tty), warning), "%v: %q", name, run.tty)
		assert.NotContains(t, string(run.tty), "gdfetch:", "%v: %q", name, run.tty)
	}
}

// TestIncludeDevNullNotSpooled: -i -o /dev/null (headers on stdout, the
// body discarded) writes the body to /dev/null as it comes: only a device
// that is stdout itself holds it (TestIncludeToDeviceOrder); no spool file
// grows in TMPDIR with a body bound elsewhere.
func TestIncludeDevNullNotSpooled(t *testing.T) {
	srv, flushed := bigThenStall(t)
	tmp := t.TempDir()
	argv, _ := selfArgs()
	cmd := exec.Command(argv[0], argv[1])
	cmd.Env = append(os.Environ(), "GDFETCH_MAIN_ARGS=-s\x1f-i\x1f-o\x1f/dev/null\x1f"+srv.URL+"/big", "TMPDIR="+tmp,
		"http_proxy=", "HTTP_PROXY=", "NO_PROXY=", "no_proxy=")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	require.NoError(t, cmd.Start())
	waitFile(t, flushed, "the transfer did not start")
	time.Sleep(200 * time.Millisecond) // the scenario: mid-transfer
	var sizes []int64
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			sizes = append(sizes, fi.Size())
		}
	}
	_ = cmd.Process.Signal(os.Interrupt)
	_ = cmd.Wait()
	assert.Empty(t, sizes, "a body bound for /dev/null is spooled to TMPDIR (file sizes)")
}

// TestResumeInterruptKeepsState: -C - interrupted keeps the partial file
// and its state for a later -C -.
func TestResumeInterruptKeepsState(t *testing.T) {
	srv, _ := bigThenStall(t)
	dir := t.TempDir()
	argv, _ := selfArgs()
	cmd := exec.Command(argv[0], argv[1])
	cmd.Env = append(os.Environ(), "GDFETCH_MAIN_ARGS=-s\x1f-C\x1f-\x1f-o\x1f"+dir+"/f\x1f"+srv.URL+"/big",
		"http_proxy=", "HTTP_PROXY=", "NO_PROXY=", "no_proxy=")
	var errOut strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &errOut
	require.NoError(t, cmd.Start())
	// Interrupted once the download has begun: the state file and some of
	// the body are on disk (a fixed sleep interrupted a slow start, before
	// the head, on a loaded machine).
	assert.Eventually(t, func() bool {
		fi, err := os.Stat(dir + "/f")
		_, serr := os.Stat(dir + "/f.gdhttp-resume")
		return err == nil && fi.Size() > 0 && serr == nil
	}, 20*time.Second, 10*time.Millisecond, "the download did not start")
	_ = cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fi, _ := e.Info()
		t.Logf("%s %d", e.Name(), fi.Size())
	}
	t.Logf("%v %q", err, errOut.String())
	assert.FileExists(t, dir+"/f.gdhttp-resume")
	assert.FileExists(t, dir+"/f")
}

// TestBinaryGuardSilent: -s refuses a binary body to a terminal without a
// word, exit 23, as curl -s (its warnf is muted by -s: tool_msgs.c voutf
// "if(!config->silent)").
func TestBinaryGuardSilent(t *testing.T) {
	body := make([]byte, 256)
	for i := range body {
		body[i] = byte(i)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	if curl, err := exec.LookPath("curl"); err == nil {
		for _, f := range [][]string{{"-s"}, {"-sS"}, {"-s", "-f"}, {"-s", "-i"}} {
			c := runPTY(t, map[string]any{"argv": append(append([]string{curl}, f...), srv.URL+"/bin")})
			t.Logf("curl %v: rc=%v tty=%q", f, c.RC, c.tty)
		}
	}
	for _, f := range [][]string{{"-s"}, {"-s", "-f"}, {"-s", "-i"}} {
		argv, env := selfArgs(append(append([]string{}, f...), srv.URL+"/bin")...)
		run := runPTY(t, map[string]any{"argv": argv, "env": env})
		assert.EqualValues(t, exitWrite, run.RC, "%v: %q", f, run.tty)
		assert.NotContains(t, string(run.tty), "Binary output", "%v: -s prints the warning: %q", f, run.tty)
	}
}

// TestBinaryGuardCookieJarOut: -c - after a binary body the terminal
// refused: the cookie file still goes to stdout at the end, streamed or held
// (-i, -f), as curl's.
func TestBinaryGuardCookieJarOut(t *testing.T) {
	body := make([]byte, 256)
	for i := range body {
		body[i] = byte(i)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sess", Value: "abc123", Path: "/"})
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	for _, f := range [][]string{{}, {"-i"}, {"-f"}} {
		if curl, err := exec.LookPath("curl"); err == nil {
			c := runPTY(t, map[string]any{"argv": append(append([]string{curl, "-s", "-c", "-"}, f...), srv.URL+"/bin")})
			t.Logf("curl %v: rc=%v cookie file written=%v", f, c.RC, bytes.Contains(c.tty, []byte("sess\tabc123")))
		}
		argv, env := selfArgs(append(append([]string{"-s", "-c", "-"}, f...), srv.URL+"/bin")...)
		run := runPTY(t, map[string]any{"argv": argv, "env": env})
		assert.EqualValues(t, exitWrite, run.RC, "%v: %q", f, run.tty)
		assert.Contains(t, string(run.tty), "sess\tabc123", "%v: -c - not written after the refusal: %q", f, run.tty)
	}
}
