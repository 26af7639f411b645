//go:build unix

package main

// Terminal tests: gdfetch run as a child process (this test binary's
// TestMainProcess) with its standard streams on a pseudo-terminal
// (python3's pty module; the tests skip without python3), the bytes the
// terminal receives rendered by a small VT emulator (screen) to see what a
// user sees.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
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
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	tdrive "github.com/gdhttp/gdhttp/internal/drive"
)

// ptyScript runs argv with stdin, stdout and stderr on one controlling pty
// (or stdout on a pipe, "out":"pipe"), sends ^C through the pty when the
// terminal output first contains "intr_on" and the file "intr_file" exists
// (either may be left out; after "intr_delay" s), resizes
// the terminal to "resize_cols" columns when the output first contains
// "resize_on", and prints one JSON object: the exit status (negative: the
// signal that killed it), the terminal's bytes, the pipe's bytes (base64)
// and how many terminal bytes had been read at the resize.
const ptyScript = `
import os, sys, pty, select, time, termios, fcntl, struct, subprocess, json, base64
cfg = json.loads(sys.argv[1])
cm, cs = pty.openpty()
fcntl.ioctl(cs, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cfg.get("cols", 80), 0, 0))
before = termios.tcgetattr(cs)
out_r = None
stdout = cs
if cfg.get("out") == "pipe":
    out_r, stdout = os.pipe()
def pre():
    os.setsid()
    fcntl.ioctl(cs, termios.TIOCSCTTY, 0)
env = dict(os.environ); env.update(cfg.get("env", {}))
p = subprocess.Popen(cfg["argv"], stdin=cs, stdout=stdout, stderr=cs, preexec_fn=pre, env=env)
if out_r is not None: os.close(stdout)
tty = b""; out = b""; t0 = time.time(); sent = False; rc = None; resized = -1
readers = [cm] + ([out_r] if out_r is not None else [])
intr_on = cfg.get("intr_on", "").encode()
intr_file = cfg.get("intr_file", "")
resize_on = cfg.get("resize_on", "").encode()
def read_ready(timeout):
    global tty, out
    r, _, _ = select.select(readers, [], [], timeout)
    for f in r:
        try: d = os.read(f, 65536)
        except OSError: d = b""
        if not d: readers.remove(f); continue
        if f == cm: tty += d
        else: out += d
while True:
    now = time.time() - t0
    if resized < 0 and resize_on and resize_on in tty:
        fcntl.ioctl(cs, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cfg["resize_cols"], 0, 0)); resized = len(tty)
    if not sent and (intr_on or intr_file) and intr_on in tty and (not intr_file or os.path.exists(intr_file)):
        time.sleep(cfg.get("intr_delay", 0)); os.write(cm, b"\x03"); sent = True
    read_ready(0.02)
    if rc is None: rc = p.poll()
    if rc is not None: break
    if now > cfg.get("timeout", 20): p.kill(); p.wait(); rc = "timeout"; break
# The child is gone: what it wrote may still be on its way to the master
# (the kernel pushes pty output from a work queue, late on a loaded
# machine) or in the pipe. Close the slave, then read every reader to its
# end: the master gives EIO only once its queued output was read.
termios_same = termios.tcgetattr(cs) == before
os.close(cs)
end = time.time() + 10
while readers and time.time() < end:
    read_ready(0.1)
print(json.dumps({"rc": rc, "sent": sent, "resized": resized, "termios_same": termios_same,
    "tty": base64.b64encode(tty).decode(), "out": base64.b64encode(out).decode()}))
`

// ptyRun is what ptyScript saw.
type ptyRun struct {
	RC          any    `json:"rc"` // a number, or "timeout"
	Sent        bool   `json:"sent"`
	Resized     int    `json:"resized"` // terminal bytes read before the resize; −1: none
	TermiosSame bool   `json:"termios_same"`
	TTY64       string `json:"tty"`
	Out64       string `json:"out"`
	tty, out    []byte
}

// diedOfSIGINT reports whether the child was killed by SIGINT (Python's
// Popen.returncode -2).
func (r *ptyRun) diedOfSIGINT() bool {
	rc, ok := r.RC.(float64)
	return ok && rc == -2
}

// runPTY runs cfg (argv, cols, out, intr_on, intr_file, intr_delay, resize_on,
// resize_cols, env, timeout)
// through ptyScript, with no proxy variables and TERM=xterm unless env says
// otherwise.
func runPTY(t *testing.T, cfg map[string]any) *ptyRun {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is needed for a pseudo-terminal")
	}
	env := map[string]string{"http_proxy": "", "HTTP_PROXY": "", "NO_PROXY": "", "no_proxy": "", "TERM": "xterm", "NO_COLOR": ""}
	if e, ok := cfg["env"].(map[string]string); ok {
		for k, v := range e {
			env[k] = v
		}
	}
	cfg["env"] = env
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	raw, err := exec.Command(py, "-c", ptyScript, string(b)).Output()
	require.NoError(t, err, "%s", raw)
	var r ptyRun
	require.NoError(t, json.Unmarshal(raw, &r))
	r.tty, _ = base64.StdEncoding.DecodeString(r.TTY64)
	r.out, _ = base64.StdEncoding.DecodeString(r.Out64)
	return &r
}

// selfArgs is gdfetch's command line through this test binary's
// TestMainProcess (main() with GDFETCH_MAIN_ARGS), as TestBrokenPipeExit.
func selfArgs(args ...string) (argv []string, env map[string]string) {
	return []string{os.Args[0], "-test.run=^TestMainProcess$"},
		map[string]string{"GDFETCH_MAIN_ARGS": strings.Join(args, "\x1f")}
}

// screen renders terminal output as an xterm would (autowrap with the
// pending-wrap column, CR, LF, EL), one string per row, trailing blanks cut.
func screen(b []byte, cols int) []string {
	blank := func() []rune {
		r := make([]rune, cols)
		for i := range r {
			r[i] = ' '
		}
		return r
	}
	rows := [][]rune{blank()}
	r, c, pend := 0, 0, false
	newline := func() {
		r++
		if r == len(rows) {
			rows = append(rows, blank())
		}
	}
	s := string(b)
	for i := 0; i < len(s); {
		ch, size := utf8.DecodeRuneInString(s[i:])
		if ch == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';' || s[j] == '?') {
				j++
			}
			if j < len(s) {
				arg := s[i+2 : j]
				if s[j] == 'K' {
					switch arg {
					case "2":
						rows[r] = blank()
					case "", "0":
						for k := c; k < cols; k++ {
							rows[r][k] = ' '
						}
					}
				}
				i = j + 1
				continue
			}
		}
		i += size
		switch {
		case ch == '\r':
			c, pend = 0, false
		case ch == '\n':
			newline()
			pend = false
		case ch >= 0x20 && ch != 0x7f:
			if pend {
				newline()
				c, pend = 0, false
			}
			rows[r][c] = ch
			if c == cols-1 {
				pend = true
			} else {
				c++
			}
		}
	}
	lines := make([]string, 0, len(rows))
	for _, row := range rows {
		lines = append(lines, strings.TrimRight(string(row), " "))
	}
	return lines
}

// slowBody is a server that sends a 2000-byte body 100 bytes every 100 ms.
// Its arrived file exists once a request has come: gdfetch's main has then
// installed its SIGINT handler (signal.NotifyContext comes first), which a
// race-built child on a loaded machine may take a second or more to reach.
func slowBody(t *testing.T) (srv *httptest.Server, arrived string) {
	arrived = filepath.Join(t.TempDir(), "arrived")
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = os.WriteFile(arrived, nil, 0o644)
		w.Header().Set("Content-Length", "2000")
		for range 20 {
			if _, err := w.Write([]byte(strings.Repeat("s", 100))); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, arrived
}

// waitFile waits, bounded, until path exists: what a child process has done.
func waitFile(t *testing.T, path, what string) {
	t.Helper()
	require.True(t, tdrive.Until(20*time.Second, func() bool {
		_, err := os.Stat(path)
		return err == nil
	}), "%s (%s)", what, path)
}

// TestTerminalCtrlCStopsShellLoop: Ctrl-C in a shell loop over gdfetch
// stops the loop, as with curl: gdfetch cleans up, then dies of SIGINT. A
// normal exit(130) would tell the shell that the child handled the
// interrupt (bash's wait-and-cooperative-exit), and the loop would go on.
// A shell that traps SIGINT still reports 130 for it.
func TestTerminalCtrlCStopsShellLoop(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is needed")
	}
	// ^C once gdfetch's request has reached the server (its SIGINT handler
	// is in place), not a fixed time after the loop started it.
	srv, arrived := slowBody(t)
	argv, env := selfArgs("-s", "-o", "/dev/null", srv.URL+"/s")
	loop := fmt.Sprintf(`for i in 1 2; do echo "ITER $i"; %q %q; done; echo LOOP-END`, argv[0], argv[1])
	run := runPTY(t, map[string]any{"argv": []string{"bash", "-c", loop}, "env": env,
		"intr_on": "ITER 1", "intr_file": arrived, "intr_delay": 0.1, "timeout": 20})
	require.True(t, run.Sent)
	assert.Contains(t, string(run.tty), "gdfetch: interrupted", "%q", run.tty)
	assert.NotContains(t, string(run.tty), "ITER 2", "the loop went on after Ctrl-C: %q", run.tty)
	assert.NotContains(t, string(run.tty), "LOOP-END", "the loop went on after Ctrl-C: %q", run.tty)
	assert.True(t, run.TermiosSame)

	srv, arrived = slowBody(t)
	argv, env = selfArgs("-s", "-o", "/dev/null", srv.URL+"/s")
	trapped := fmt.Sprintf(`trap 'echo TRAPPED' INT; echo START; %q %q; echo "rc=$?"`, argv[0], argv[1])
	run = runPTY(t, map[string]any{"argv": []string{"bash", "-c", trapped}, "env": env,
		"intr_on": "START", "intr_file": arrived, "intr_delay": 0.1, "timeout": 20})
	require.True(t, run.Sent)
	assert.Contains(t, string(run.tty), "rc=130", "%q", run.tty)
}

// TestInterruptDiesOfSIGINT: gdfetch sent SIGINT mid-transfer removes its
// partial -o file (the node's atomic download), prints its message, and
// dies of SIGINT; started with SIGINT ignored (a background job of a
// non-interactive shell) it goes on, as curl, and a SIGTERM then ends it
// the same way.
func TestInterruptDiesOfSIGINT(t *testing.T) {
	for _, ignored := range []bool{false, true} {
		t.Run(fmt.Sprint("ignored=", ignored), func(t *testing.T) {
			srv, arrived := slowBody(t)
			dir := t.TempDir()
			file := filepath.Join(dir, "f")
			argv, _ := selfArgs()
			cmd := exec.Command(argv[0], argv[1])
			if ignored {
				if _, err := exec.LookPath("bash"); err != nil {
					t.Skip("bash is needed")
				}
				cmd = exec.Command("bash", "-c", `trap "" INT; exec "$0" "$1"`, argv[0], argv[1])
			}
			cmd.Env = append(os.Environ(), "GDFETCH_MAIN_ARGS=-s\x1f-o\x1f"+file+"\x1f"+srv.URL+"/s",
				"http_proxy=", "HTTP_PROXY=", "NO_PROXY=", "no_proxy=")
			var errOut strings.Builder
			cmd.Stderr = &errOut
			require.NoError(t, cmd.Start())
			// Mid-transfer: the request has arrived (the handler is in
			// place: a SIGINT before it kills, or is ignored, silently).
			waitFile(t, arrived, "gdfetch's request did not arrive")
			time.Sleep(100 * time.Millisecond)
			require.NoError(t, cmd.Process.Signal(os.Interrupt))
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			if ignored {
				select {
				case err := <-done:
					t.Fatalf("an ignored SIGINT ended gdfetch: %v: %s", err, errOut.String())
				case <-time.After(300 * time.Millisecond):
				}
				require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			}
			err := <-done
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee, errOut.String())
			if ignored {
				assert.Equal(t, "signal: terminated", ee.ProcessState.String(), errOut.String())
			} else {
				assert.Equal(t, "signal: interrupt", ee.ProcessState.String(), errOut.String())
			}
			assert.Contains(t, errOut.String(), "gdfetch: interrupted")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, entries, "a partial file is left")
		})
	}
}

// TestTerminalResumeVerboseBarCleared: with -C - and -v on a terminal, the
// request bytes (printed after DoResumable, Range and If-Range included)
// come after the progress bar was removed, as on every other path: "> GET"
// starts its row, not glued to the bar's last frame.
func TestTerminalResumeVerboseBarCleared(t *testing.T) {
	const size = 400 << 10
	body := strings.Repeat("r", size)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if rg := r.Header.Get("Range"); strings.HasPrefix(rg, "bytes=") && r.Header.Get("If-Range") == `"v1"` {
			off, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, size-1, size))
			w.Header().Set("Content-Length", strconv.Itoa(size-off))
			w.WriteHeader(http.StatusPartialContent)
			for rest := body[off:]; len(rest) > 0; {
				n := min(32<<10, len(rest))
				_, _ = w.Write([]byte(rest[:n]))
				w.(http.Flusher).Flush()
				rest = rest[n:]
				time.Sleep(20 * time.Millisecond)
			}
			return
		}
		// The first run: cut after 40 KiB, so that -C - has a state to resume.
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(body[:40<<10]))
		w.(http.Flusher).Flush()
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "f")
	argv, env := selfArgs("-C", "-", "-o", file, srv.URL+"/f")
	first := runPTY(t, map[string]any{"argv": argv, "env": env})
	require.EqualValues(t, exitPartial, first.RC, "%q", first.tty)
	require.FileExists(t, file+".gdhttp-resume")

	argv, env = selfArgs("-C", "-", "-v", "-o", file, srv.URL+"/f")
	run := runPTY(t, map[string]any{"argv": argv, "env": env})
	require.EqualValues(t, exitOK, run.RC, "%q", run.tty)
	require.Contains(t, string(run.tty), "appended from byte", "%q", run.tty)
	require.Contains(t, string(run.tty), "% |", "no progress bar was drawn: %q", run.tty)
	found := false
	for _, line := range screen(run.tty, 200) {
		if i := strings.Index(line, "> GET "); i >= 0 {
			found = true
			assert.Equal(t, 0, i, "-v's request line shares its row with the progress bar: %q\n(bytes: %q)", line, run.tty)
		}
		assert.NotContains(t, line, "% |", "a bar frame is left on the screen: %q", line)
	}
	assert.True(t, found, "no request line: %q", run.tty)
}

// stallServer answers one request with a 10000-byte Content-Length, 1000
// body bytes 300 ms later, 1000 more 20 ms after them, and then nothing
// until the client goes; it returns the URL.
func stallServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		_, _ = c.Read(buf)
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n"))
		time.Sleep(300 * time.Millisecond)
		_, _ = c.Write([]byte(strings.Repeat("a", 1000)))
		time.Sleep(20 * time.Millisecond)
		_, _ = c.Write([]byte(strings.Repeat("a", 1000)))
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _ = c.Read(buf) // the stall, until gdfetch closes
	}()
	return "http://" + ln.Addr().String() + "/"
}

// TestTerminalBarStaleDuringStall: 1000 body bytes, 20 ms later 1000 more,
// then the server stalls. The bar redraws the latest values at most
// redrawEvery apart, idle frames included: during the stall it shows the
// 2000 bytes received, and the rate falls to 0 (no bytes in the last
// second), not its first sample's. With -C - (DoResumable's blocking Do:
// no frames, 1000-byte chunks) the ticker alone redraws.
func TestTerminalBarStaleDuringStall(t *testing.T) {
	for _, flags := range [][]string{{"--in-place"}, {"-C", "-", "--chunk-size", "1000"}} {
		argv, env := selfArgs(append(flags, "-o", filepath.Join(t.TempDir(), "f"), stallServer(t))...)
		// ^C 1.5 s into the stall.
		run := runPTY(t, map[string]any{"argv": argv, "env": env, "intr_on": "% |", "intr_delay": 1.5})
		require.True(t, run.diedOfSIGINT(), "%v: %q", run.RC, run.tty)
		tty := string(run.tty)
		i := strings.LastIndex(tty, "% |")
		require.GreaterOrEqual(t, i, 0, "%q", tty)
		last := tty[i:]
		if j := strings.IndexAny(last, "\r\x1b"); j >= 0 {
			last = last[:j]
		}
		assert.Contains(t, last, "(2.0/9.8 KiB, 0 B/s)", "%v: the bar shown during the stall is not the bytes received (2000) at 0 B/s: %q\n(bytes %q)", flags, last, tty)
	}
}

// TestTerminalNarrowBarCleared: on a 40-column terminal the bar's frame,
// at its widest about 70 columns, is made to fit in 39 (a shorter bar,
// then fewer parts): a frame that wraps cannot be erased by "\r" and one
// line's erase, and its rows stay on the screen above the summary.
func TestTerminalNarrowBarCleared(t *testing.T) {
	srv := tickingBody(t)
	argv, env := selfArgs("-o", filepath.Join(t.TempDir(), "f"), srv.URL+"/n")
	run := runPTY(t, map[string]any{"argv": argv, "env": env, "cols": 40})
	require.EqualValues(t, exitOK, run.RC, "%q", run.tty)
	require.Contains(t, string(run.tty), "KiB", "no bar drawn: %q", run.tty)
	for _, line := range screen(run.tty, 40) {
		assert.NotContains(t, line, "%", "a progress bar frame is left on the screen: %q\n(bytes: %q)", line, run.tty)
	}
	for _, f := range frames(run.tty) {
		assert.LessOrEqual(t, utf8.RuneCountInString(f), 39, "a frame wider than the terminal less one column: %q", f)
	}
}

// TestTerminalShrunkBar: the terminal shrinks from 80 to 30 columns during
// the transfer; the frames drawn after it fit in 29 columns (the width is
// read at each redraw), and the bar is gone from the screen at the end.
func TestTerminalShrunkBar(t *testing.T) {
	srv := tickingBody(t)
	argv, env := selfArgs("-o", filepath.Join(t.TempDir(), "f"), srv.URL+"/n")
	run := runPTY(t, map[string]any{"argv": argv, "env": env, "cols": 80, "resize_on": "% |", "resize_cols": 30})
	require.EqualValues(t, exitOK, run.RC, "%q", run.tty)
	require.GreaterOrEqual(t, run.Resized, 0)
	after := frames(run.tty[run.Resized:])
	require.Greater(t, len(after), 2, "%q", run.tty)
	for _, f := range after[1:] { // the first may have been written before the resize
		assert.LessOrEqual(t, utf8.RuneCountInString(f), 29, "a frame wider than the shrunk terminal: %q", f)
	}
	for _, line := range screen(run.tty[run.Resized:], 30) {
		assert.NotContains(t, line, "%", "a progress bar frame is left on the screen: %q", line)
	}
}

// tickingBody is a server that sends a 30000-byte body 3000 bytes every
// 40 ms.
func tickingBody(t *testing.T) *httptest.Server {
	body := strings.Repeat("n", 30000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		for rest := body; len(rest) > 0; {
			n := min(3000, len(rest))
			if _, err := w.Write([]byte(rest[:n])); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			rest = rest[n:]
			time.Sleep(40 * time.Millisecond)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// frames are the bar's frames in terminal output: the text after each
// "\r", escape sequences and what follows a line end cut.
func frames(tty []byte) []string {
	var out []string
	for _, f := range strings.Split(string(tty), "\r")[1:] {
		if i := strings.IndexAny(f, "\x1b\n"); i >= 0 {
			f = f[:i]
		}
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// TestTerminalInterruptMessageOwnLine: a body streamed to the terminal
// without a final newline, then Ctrl-C: "gdfetch: interrupted" starts a
// row of its own, as the summary and a failure's line do (runFetch ends
// such a body with "\n" before any of them).
func TestTerminalInterruptMessageOwnLine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	defer func() { ln.Close(); <-done }()
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		_, _ = c.Read(buf)
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + strings.Repeat("b", 100)))
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _ = c.Read(buf) // until gdfetch closes
	}()
	argv, env := selfArgs("http://" + ln.Addr().String() + "/b")
	run := runPTY(t, map[string]any{"argv": argv, "env": env, "intr_on": strings.Repeat("b", 100), "intr_delay": 0.2})
	require.True(t, run.diedOfSIGINT(), "%v: %q", run.RC, run.tty)
	found := false
	for _, line := range screen(run.tty, 300) {
		if strings.Contains(line, "gdfetch: interrupted") {
			found = true
			assert.NotContains(t, line, "b", "the message shares the body's row: %q (bytes %q)", line, run.tty)
		}
	}
	assert.True(t, found, "%q", run.tty)
}

// TestTerminalBinaryBody: a binary body (NUL, ESC, SO/SI…) with stdout on
// a terminal and no -o is not written, as curl 7.88: a warning on stderr
// and exit 23 (curl too, when installed); with -o - it is written, and so
// it is to a pipe. Streamed, and held by -f until the code is known.
func TestTerminalBinaryBody(t *testing.T) {
	body := make([]byte, 256)
	for i := range body {
		body[i] = byte(i)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	if curl, err := exec.LookPath("curl"); err == nil {
		c := runPTY(t, map[string]any{"argv": []string{curl, srv.URL + "/bin"}})
		require.EqualValues(t, exitWrite, c.RC, "curl: %q", c.tty)
		require.Contains(t, string(c.tty), "Binary output can mess up your terminal")
	}
	const warning = `Warning: Binary output can mess up your terminal. Use "-o -" to output it to your terminal anyway, or "-o FILE" to save to a file.`
	for _, flags := range [][]string{{}, {"-f"}, {"-i"}} {
		argv, env := selfArgs(append(flags, srv.URL+"/bin")...)
		run := runPTY(t, map[string]any{"argv": argv, "env": env})
		assert.EqualValues(t, exitWrite, run.RC, "%v: %q", flags, run.tty)
		assert.NotContains(t, string(run.tty), "\x1b\x1c\x1d", "%v: raw binary (ESC…) written to the terminal", flags)
		assert.Contains(t, string(run.tty), warning+"\r\n", flags)
		assert.NotContains(t, string(run.tty), "gdfetch:", "%v: %q", flags, run.tty) // the warning alone
		assert.NotContains(t, string(run.tty), "* RESULT_", "%v: %q", flags, run.tty)
	}

	argv, env := selfArgs("-s", "-o", "-", srv.URL+"/bin")
	run := runPTY(t, map[string]any{"argv": argv, "env": env})
	assert.EqualValues(t, exitOK, run.RC, "-o -: %q", run.tty)
	assert.Contains(t, string(run.tty), "\x1b\x1c\x1d", "-o -: the body is written")

	argv, env = selfArgs("-s", srv.URL+"/bin")
	run = runPTY(t, map[string]any{"argv": argv, "env": env, "out": "pipe"})
	assert.EqualValues(t, exitOK, run.RC, "a pipe: %q", run.tty)
	assert.Equal(t, body, run.out, "a pipe gets the body")
}

// TestTerminalDumbNoEscapes: TERM=dumb (Emacs shell-mode, some CI
// terminals) is the convention for "no escape sequences": gdfetch demo
// shows no colour preview there (as with NO_COLOR), and a fetch's bar is
// drawn with "\r" and spaces only, and erased the same way.
func TestTerminalDumbNoEscapes(t *testing.T) {
	argv, env := selfArgs("demo")
	env["TERM"] = "dumb"
	run := runPTY(t, map[string]any{"argv": argv, "env": env, "timeout": 30})
	require.EqualValues(t, exitOK, run.RC, "%q", run.tty)
	assert.NotContains(t, string(run.tty), "\x1b[", "gdfetch demo under TERM=dumb writes escape sequences")

	srv := tickingBody(t)
	argv, env = selfArgs("-o", filepath.Join(t.TempDir(), "f"), srv.URL+"/d")
	env["TERM"] = "dumb"
	run = runPTY(t, map[string]any{"argv": argv, "env": env})
	require.EqualValues(t, exitOK, run.RC, "%q", run.tty)
	require.Contains(t, string(run.tty), "% |", "no bar drawn: %q", run.tty)
	assert.NotContains(t, string(run.tty), "\x1b", "a fetch under TERM=dumb writes escape sequences: %q", run.tty)
	for _, line := range screen(run.tty, 80) {
		assert.NotContains(t, line, "%", "a progress bar frame is left on the screen: %q\n(bytes: %q)", line, run.tty)
	}
}
