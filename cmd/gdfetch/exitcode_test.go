package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// TestResultExitTable pins the documented table (doc.go): one exit status
// per Result, curl's where curl has one.
func TestResultExitTable(t *testing.T) {
	want := map[httprequest.Result]int{
		httprequest.ResultSuccess:                 0,
		httprequest.ResultChunkedBodySizeMismatch: 18,
		httprequest.ResultCantConnect:             7,
		httprequest.ResultCantResolve:             6,
		httprequest.ResultConnectionError:         56,
		httprequest.ResultTLSHandshakeError:       35,
		httprequest.ResultNoResponse:              52,
		httprequest.ResultBodySizeLimitExceeded:   63,
		httprequest.ResultBodyDecompressFailed:    61,
		httprequest.ResultRequestFailed:           1,
		httprequest.ResultDownloadFileCantOpen:    23,
		httprequest.ResultDownloadFileWriteError:  23,
		httprequest.ResultRedirectLimitReached:    47,
		httprequest.ResultTimeout:                 28,
	}
	for r := httprequest.ResultSuccess; r <= httprequest.ResultTimeout; r++ {
		assert.Equal(t, want[r], resultExit(r, nil), r.String())
	}
	// §2.9.5: Godot reports a fixed-length body cut short as CANT_CONNECT;
	// for a curl user it is a partial transfer.
	assert.Equal(t, exitPartial, resultExit(httprequest.ResultCantConnect, httprequest.ErrBodyCutShort))
	// curl's CURLE_PEER_FAILED_VERIFICATION: the handshake failed on the
	// certificate; any other handshake failure stays 35.
	verify := []error{
		&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}},
		x509.UnknownAuthorityError{}, x509.HostnameError{Host: "h"},
		x509.CertificateInvalidError{Reason: x509.Expired},
	}
	for _, cause := range verify {
		err := godot.Wrap(godot.ErrCantConnect, "poll", cause)
		assert.Equal(t, exitPeerVerify, resultExit(httprequest.ResultTLSHandshakeError, err), "%T", cause)
	}
	assert.Equal(t, exitTLS, resultExit(httprequest.ResultTLSHandshakeError, errors.New("tls: handshake failure")))
	// curl's CURLE_GOT_NOTHING: the peer closed before the head was complete
	// (ErrPeerClosed); curl 7.88 exits 52 with nothing or part of the status
	// line received. A reset stays CURLE_RECV_ERROR.
	assert.Equal(t, exitNoResponse, resultExit(httprequest.ResultConnectionError, godot.Wrap(godot.ErrConnectionError, "poll", httpclient.ErrPeerClosed)))
	assert.Equal(t, exitConnection, resultExit(httprequest.ResultConnectionError, syscall.ECONNRESET))
}

// TestExitCodesOverLoopback produces every exit status a loopback peer can
// cause, and checks the result name and the real cause reach stderr.
func TestExitCodesOverLoopback(t *testing.T) {
	b := newBackend(t)
	hold := testserver.New(t, testserver.Script(testserver.Read(), testserver.Hold()))
	statusCut := testserver.New(t, testserver.Script(testserver.Read(), testserver.WriteAndClose([]byte("HTTP/1.1 2"))))
	reset := testserver.New(t, testserver.Script(testserver.Read(), testserver.Reset()))
	chunkCut := testserver.New(t, testserver.Script(testserver.Read(), testserver.WriteAndClose([]byte(
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"))))
	missingDir := filepath.Join(t.TempDir(), "missing", "out.bin")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"success", []string{b.url("/api/player")}, 0, "RESULT_SUCCESS (0) 200"},
		{"404 is a success", []string{b.url("/nope")}, 0, "RESULT_SUCCESS (0) 404"},
		{"--fail on 404", []string{"-f", b.url("/nope")}, 22, "response code 404"},
		{"resolve", []string{"http://gdfetch-test.invalid/"}, 6, "RESULT_CANT_RESOLVE (3)"},
		{"connect", []string{"http://127.0.0.1:" + strconv.Itoa(testserver.ClosedPort(t)) + "/"}, 7, "RESULT_CANT_CONNECT (2)"},
		{"connect: host shorter than 4 characters (§2.4.8)", []string{"http://ab/"}, 7, "host shorter than 4 characters"},
		{"timeout", []string{"-m", "0.2", hold.URL("/")}, 28, "RESULT_TIMEOUT (13)"},
		// What failure's line does not say, on a line of its own.
		{"timeout: after how long", []string{"-m", "0.2", hold.URL("/")}, 28, "\ngdfetch: timed out after 200ms (-m, the node's timeout), 0 B of body received\n"},
		{"connect: [::1], how to write it", []string{"http://[::1]:1/"}, 7, "\ngdfetch: Godot's HTTPClient refuses a host shorter than 4 characters: write [::1] as [0:0:0:0:0:0:0:1]\n"},
		{"connect: a short name, what to do", []string{"http://ab/"}, 7, "\ngdfetch: Godot's HTTPClient refuses a host shorter than 4 characters: use a longer name or its address\n"},
		{"redirect limit", []string{b.url("/hop/9")}, 47, "RESULT_REDIRECT_LIMIT_REACHED (12) 302"},
		{"redirect limit: the flag that raises it", []string{b.url("/hop/9")}, 47, "\ngdfetch: --max-redirs N raises the limit (max_redirects, default 8; -1: none)\n"},
		{"--max-redirs", []string{"--max-redirs", "2", b.url("/hop/3")}, 47, "limit of 2"},
		{"--max-redirs within", []string{"--max-redirs", "3", b.url("/hop/3")}, 0, "RESULT_SUCCESS"},
		{"body size", []string{"--max-filesize", "10", b.url("/bytes/100")}, 63, "RESULT_BODY_SIZE_LIMIT_EXCEEDED (7)"},
		{"write: -o into a missing directory", []string{"-o", missingDir, b.url("/bytes/100")}, 23, "RESULT_DOWNLOAD_FILE_CANT_OPEN (10)"},
		{"decode: corrupt gzip", []string{b.url("/corrupt-gzip")}, 61, "RESULT_BODY_DECOMPRESS_FAILED (8)"},
		{"--no-gzip leaves it undecoded", []string{"--no-gzip", b.url("/corrupt-gzip")}, 0, "RESULT_SUCCESS"},
		{"partial: fixed length cut short", []string{b.url("/cut")}, 18, "RESULT_CANT_CONNECT (2)"},
		{"partial: chunked cut short", []string{chunkCut.URL("/")}, 18, "RESULT_CHUNKED_BODY_SIZE_MISMATCH (1)"},
		{"no response: a head without headers", []string{b.url("/no-headers")}, 52, "RESULT_NO_RESPONSE (6)"},
		{"empty reply: closed without answering", []string{b.url("/close")}, 52, "RESULT_CONNECTION_ERROR (4)"},
		{"empty reply: closed inside the status line", []string{statusCut.URL("/")}, 52, "connection closed by peer"},
		{"connection: reset without answering", []string{reset.URL("/")}, 56, "RESULT_CONNECTION_ERROR (4)"},
		{"bad URL", []string{"http://[::1/"}, 3, "bad URL"},
		{"unsupported scheme", []string{"htp://a.test/"}, 1, "bad URL"},
		{"upload file missing", []string{"-T", "/nonexistent/file", b.url("/")}, 26, "-T"},
		{"form file missing", []string{"-F", "a=</nonexistent/file", b.url("/")}, 26, "-F"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := gdfetch(t, tt.args...)
			assert.Equal(t, tt.code, code, stderr)
			assert.Contains(t, stderr, tt.stderr)
			switch tt.code {
			case exitOK, exitUsage, exitHTTPError, exitProtocol, exitURL, exitRead: // before any request
			default:
				assert.Contains(t, stderr, "(exit "+strconv.Itoa(tt.code)+")")
			}
		})
	}
}

// TestExitCodeWriteErrorStreaming: the body streams to stdout through the
// node's body writer; a failing stdout is RESULT_DOWNLOAD_FILE_WRITE_ERROR,
// curl's 23.
func TestExitCodeWriteErrorStreaming(t *testing.T) {
	b := newBackend(t)
	f, err := os.CreateTemp(t.TempDir(), "stdout")
	require.NoError(t, err)
	require.NoError(t, f.Close()) // writes to a closed file fail
	var errOut stringsBuilder
	code := run([]string{b.url("/bytes/1000")}, f, &errOut)
	assert.Equal(t, exitWrite, code)
	assert.Contains(t, errOut.String(), "RESULT_DOWNLOAD_FILE_WRITE_ERROR (11)")
}

type stringsBuilder struct{ b []byte }

func (s *stringsBuilder) Write(p []byte) (int, error) { s.b = append(s.b, p...); return len(p), nil }
func (s *stringsBuilder) String() string              { return string(s.b) }

// TestExitCodesTLS: an untrusted certificate or one for another name is
// RESULT_TLS_HANDSHAKE_ERROR, exit 60 as curl's CURLE_PEER_FAILED_VERIFICATION
// (curl 7.88 gives 60 too when installed); another handshake failure 35;
// --cacert trusts it; -k accepts anything (client_unsafe); --tls-name is
// common_name_override.
func TestExitCodesTLS(t *testing.T) {
	const resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	ca := testserver.NewCA(t)
	srv := testserver.NewTLS(t, ca.Issue(t, "127.0.0.1"), testserver.RespondEach(resp))
	other := testserver.NewTLS(t, ca.Issue(t, "game.example"), testserver.RespondEach(resp))
	plain := testserver.New(t, testserver.Script(testserver.ReadSome(), testserver.WriteAndClose([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))))
	pem := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(pem, ca.CertPEM(), 0o600))
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"untrusted", []string{srv.URL("/")}, 60, ""},
		{"not TLS", []string{"https://" + plain.Addr() + "/"}, 35, ""},
		{"--cacert", []string{"--cacert", pem, srv.URL("/")}, 0, "ok"},
		{"-k", []string{"-k", srv.URL("/")}, 0, "ok"},
		{"wrong name", []string{"--cacert", pem, other.URL("/")}, 60, ""},
		{"--tls-name", []string{"--cacert", pem, "--tls-name", "game.example", other.URL("/")}, 0, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, ok := curlExit(t, t.TempDir(), tt.args...); ok && tt.name != "--tls-name" { // curl has no --tls-name
				require.Equal(t, tt.code, code, "curl")
			}
			code, out, stderr := gdfetch(t, tt.args...)
			assert.Equal(t, tt.code, code, stderr)
			assert.Equal(t, tt.out, out)
			if tt.code == 60 {
				assert.Contains(t, stderr, "RESULT_TLS_HANDSHAKE_ERROR (5)")
				assert.Contains(t, stderr, "certificate")
				// What to do, on a line of its own: the flag that fixes it.
				if tt.name == "wrong name" {
					assert.Contains(t, stderr, "\ngdfetch: the certificate is for another name: --tls-name NAME")
				} else {
					assert.Contains(t, stderr, "\ngdfetch: the server's certificate is not trusted: --cacert FILE")
				}
				assert.Contains(t, stderr, "-k skips the check (TLSOptions.client_unsafe())\n")
			}
			if tt.code == 35 {
				assert.Contains(t, stderr, "RESULT_TLS_HANDSHAKE_ERROR (5)")
			}
		})
	}
}

// TestProxyFlag: -x sends a plain http request through the proxy in
// absolute form (§1.7.7).
func TestProxyFlag(t *testing.T) {
	clearProxyEnv(t) // a NO_PROXY list would send the loopback backend direct
	b := newBackend(t)
	p := testserver.NewForwardProxy(t)
	code, out, stderr := gdfetch(t, "-v", "-x", p.Addr(), b.url("/api/player"))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, `"name":"Ada"`)
	p.Close()
	reqs := p.Requests()
	require.Len(t, reqs, 1)
	assert.True(t, strings.HasPrefix(string(reqs[0]), "GET "+b.url("/api/player")+" HTTP/1.1\r\n"))
	var want bytes.Buffer
	writeRequest(&want, reqs[0]) // -v shows the bytes the proxy received
	assert.Contains(t, stderr, want.String())
}

// TestThreadsSameCompletion: use_threads gives the same completion.
func TestThreadsSameCompletion(t *testing.T) {
	b := newBackend(t)
	for _, args := range [][]string{{"-i"}, {"-i", "--threads"}, {"-i", "--drain"}, {"-i", "--keep-alive", "--strict"}} {
		start := time.Now()
		code, out, stderr := gdfetch(t, append(args, b.url("/old-news"))...)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, out, "RESULT_SUCCESS (0) 200\nContent-Type: text/plain; charset=utf-8\nContent-Encoding: gzip\n", args)
		assert.Contains(t, out, "\n\nPatch 1.2 is out", args)
		assert.Less(t, time.Since(start), 5*time.Second)
	}
}

// -f -o FILE, as curl: a response of 400 or more never replaces FILE (nor
// leaves a file beside it); one below 400 does. --in-place does not change
// that (the help: "-o FILE is then left as it was").
func TestFailKeepsOutputFile(t *testing.T) {
	b := newBackend(t)
	for _, extra := range [][]string{nil, {"--in-place"}} {
		dir := t.TempDir()
		out := filepath.Join(dir, "keep.txt")
		require.NoError(t, os.WriteFile(out, []byte("old"), 0o644))
		code, _, stderr := gdfetch(t, append([]string{"-s", "-f", "-o", out, b.url("/nope")}, extra...)...)
		assert.Equal(t, exitHTTPError, code, stderr)
		got, err := os.ReadFile(out)
		require.NoError(t, err)
		assert.Equal(t, "old", string(got), "%v: an error page does not replace the -o file", extra)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, entries, 1, "%v: nothing left beside it", extra)

		code, _, stderr = gdfetch(t, append([]string{"-s", "-f", "-o", out, b.url("/api/player")}, extra...)...)
		assert.Equal(t, exitOK, code, stderr)
		got, err = os.ReadFile(out)
		require.NoError(t, err)
		assert.Contains(t, string(got), `"name":"Ada"`, "%v: a success replaces it", extra)
		entries, err = os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, entries, 1, "%v: nothing left beside it", extra)
	}
}

// -o /dev/null, as with curl: the body is discarded and the exit status is
// 0 (as download_file, Godot's node refuses a device: gdfetch writes to it
// itself).
func TestOutputToDevice(t *testing.T) {
	if _, err := os.Stat(os.DevNull); err != nil {
		t.Skip("no " + os.DevNull)
	}
	b := newBackend(t)
	code, stdout, stderr := gdfetch(t, "-s", "-o", os.DevNull, b.url("/api/player"))
	assert.Equal(t, exitOK, code, stderr)
	assert.Empty(t, stdout)
}

// -f without -o, as curl: no body on stdout for a code of 400 or more (-i:
// the result line and the headers only); a body below 400 reaches stdout
// whole, also one larger than what the spool keeps in memory, and the
// spool's temporary file is removed either way.
func TestFailNoBodyOnStdout(t *testing.T) {
	b := newBackend(t)
	big := bytes.Repeat([]byte("error page "), 2*spoolMemory/11)
	bigErr := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(big)
	}))
	defer bigErr.Close()
	_, whole, _ := gdfetch(t, "-s", b.url("/bytes/3000000"))
	require.Len(t, whole, 3000000)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
	}{
		{"404", []string{b.url("/nope")}, exitHTTPError, ""},
		{"500, larger than the memory part", []string{bigErr.URL + "/"}, exitHTTPError, ""},
		{"404 -i", []string{"-i", b.url("/nope")}, exitHTTPError,
			"RESULT_REQUEST_FAILED (9) 404\nContent-Type: text/plain\nContent-Length: 10\n\n"}, // refused at the head
		{"200", []string{"-A", "Test/1", b.url("/api/player")}, exitOK, `{"guild":"Nodes & Signals","level":12,"name":"Ada","user_agent":"Test/1"}`},
		{"200, larger than the memory part", []string{b.url("/bytes/3000000")}, exitOK, whole},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			code, stdout, stderr := gdfetch(t, append([]string{"-s", "-f"}, tc.args...)...)
			assert.Equal(t, tc.code, code, stderr)
			assert.True(t, stdout == tc.stdout, "stdout: %d bytes %.200q, want %d bytes %.200q", len(stdout), stdout, len(tc.stdout), tc.stdout)
			left, err := os.ReadDir(tmp)
			require.NoError(t, err)
			assert.Empty(t, left, "the spool's temporary file is removed")
		})
	}
}

// TestFailureLine: a failure is one line on stderr naming its result once,
// with the cause after it — the same line whether the request went through
// the node's callback (LastError) or DoResumable (-C -).
func TestFailureLine(t *testing.T) {
	closed := "http://127.0.0.1:" + strconv.Itoa(testserver.ClosedPort(t)) + "/"
	code, _, plain := gdfetch(t, closed)
	assert.Equal(t, exitConnect, code)
	assert.Equal(t, 1, strings.Count(plain, "RESULT_CANT_CONNECT"), plain)
	assert.Contains(t, plain, "connection refused")
	assert.Equal(t, 1, strings.Count(plain, "\n"), plain)
	code, _, resumed := gdfetch(t, "-C", "-", "-o", filepath.Join(t.TempDir(), "out"), closed)
	assert.Equal(t, exitConnect, code)
	assert.Equal(t, plain, resumed, "the same failure, the same line")

	srv := testserver.New(t, testserver.Script(testserver.Read(), testserver.WriteAndClose([]byte(
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"))))
	code, _, stderr := gdfetch(t, "-s", srv.URL("/"))
	assert.Equal(t, exitPartial, code)
	assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
	assert.Contains(t, stderr, "unexpected EOF")
}

// TestFailStreams: with -f the body streams to stdout as it arrives, as
// curl's: the node's response function gives the code before the first
// byte, so nothing waits for the completion. The server sends the second
// half of the body only once the first half is on stdout.
func TestFailStreams(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	stdout := &watchWriter{seen: make(chan struct{}), want: "first half,"}
	streamed := make(chan bool, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			streamed <- false
			return
		}
		defer c.Close()
		_, _ = c.Read(make([]byte, 4096))
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 22\r\n\r\nfirst half,")
		select {
		case <-stdout.seen:
			streamed <- true
		case <-time.After(5 * time.Second):
			streamed <- false
		}
		_, _ = io.WriteString(c, "second half")
	}()
	var errOut bytes.Buffer
	code := run([]string{"-s", "-f", "http://" + ln.Addr().String() + "/"}, stdout, &errOut)
	assert.Equal(t, exitOK, code, errOut.String())
	assert.True(t, <-streamed, "the first half reached stdout before the rest of the body was sent")
	assert.Equal(t, "first half,second half", stdout.String())
}

// watchWriter is a stdout that closes seen once what was written starts
// with want.
type watchWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.HasPrefix(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestFailStopsAtHead: -f refuses a code of 400 or more at the head, as curl
// -f: the error page is not read, so a page cut short or stalled still
// exits 22 at once, and an -o symlink is written through (the node's
// download_file), never replaced.
func TestFailStopsAtHead(t *testing.T) {
	page := func(tail func(c net.Conn)) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					_, _ = c.Read(make([]byte, 4096))
					_, _ = io.WriteString(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 100\r\n\r\nnot")
					tail(c)
				}()
			}
		}()
		return "http://" + ln.Addr().String() + "/"
	}
	cut := page(func(net.Conn) {})
	stalled := page(func(c net.Conn) { _, _ = io.Copy(io.Discard, c) }) // until the client closes
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"cut", []string{cut}},
		{"stalled", []string{"-m", "8", stalled}},
		{"stalled -i", []string{"-i", "-m", "8", stalled}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			begin := time.Now()
			code, stdout, stderr := gdfetch(t, append([]string{"-s", "-f"}, tc.args...)...)
			assert.Equal(t, exitHTTPError, code, stderr)
			assert.Less(t, time.Since(begin), 4*time.Second, "not the stall's timeout")
			assert.NotContains(t, stdout, "not", "no byte of the error page")
			assert.Contains(t, stderr, "response code 404 (--fail, exit 22)")
		})
	}
	t.Run("symlink", func(t *testing.T) {
		b := newBackend(t)
		dir := t.TempDir()
		target, link := filepath.Join(dir, "target"), filepath.Join(dir, "link")
		require.NoError(t, os.WriteFile(target, []byte("OLD"), 0o644))
		require.NoError(t, os.Symlink(target, link))
		code, _, stderr := gdfetch(t, "-s", "-f", "-o", link, b.url("/nope"))
		assert.Equal(t, exitHTTPError, code, stderr)
		code, _, stderr = gdfetch(t, "-s", "-f", "-o", link, b.url("/bytes/5"))
		assert.Equal(t, exitOK, code, stderr)
		fi, err := os.Lstat(link)
		require.NoError(t, err)
		assert.Equal(t, os.ModeSymlink, fi.Mode()&os.ModeType, "-o's symlink is still a symlink")
		data, err := os.ReadFile(target)
		require.NoError(t, err)
		assert.Equal(t, "abcde", string(data), "written through the link")
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, entries, 2, "no file left beside them")
	})
}

// A fixed-length body cut short is Godot's RESULT_CANT_CONNECT, exit 18:
// --help's exit table says so, or a user reading "RESULT_CANT_CONNECT" for
// a server that answered looks for a connect problem.
func TestUsageCutShortIsCantConnect(t *testing.T) {
	b := newBackend(t)
	code, _, stderr := gdfetch(t, b.url("/cut"))
	require.Equal(t, exitPartial, code, stderr)
	assert.Contains(t, stderr, "RESULT_CANT_CONNECT (2)")
	assert.Contains(t, usage, "18 partial body\n(CHUNKED_BODY_SIZE_MISMATCH, or CANT_CONNECT for a fixed-length body cut short")
}
