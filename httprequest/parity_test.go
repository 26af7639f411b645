package httprequest

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// Issue 7 ("Godot parity"), the node's rules. Every test runs in the three
// drivers of §7.3 against loopback servers.

// headersOf returns the header lines the client stores for head (Godot's
// §1.8.5 strings), computed with the lenient head parser.
func headersOf(t *testing.T, head string) []string {
	t.Helper()
	var p wire.HeadParser
	var h wire.Head
	_, err := p.Parse([]byte(head), &h)
	require.NoError(t, err)
	if len(h.Headers) == 0 {
		return nil
	}
	return append([]string(nil), h.Headers...)
}

// issue 7 rule 1, §7 D2 (COMPAT R4, H5): a response whose head is flagged
// ambiguous is delivered exactly as Godot delivers it — (result, code,
// headers, body), and BodySize — whichever way the client ends the
// connection afterwards (DISCONNECTED, or CONNECTED as Godot). The head is
// followed by no framing (keep-alive: Godot is CONNECTED at once, §2.6 → R0
// with an empty body), a Content-Length body (§2.6.1.7) or a chunked body.
func TestIssue7Rule1AmbiguousHeadKeepsResponse(t *testing.T) {
	flags := []struct {
		name string
		line string // a header line that flags the head (§7 D2), or "" with reason
		// status replaces the status line.
		status string
	}{
		{name: "space before the colon of Content-Length", line: "Content-Length : 5"},
		{name: "space before the colon of Transfer-Encoding", line: "Transfer-Encoding : chunked"},
		{name: "Content-Length -1", line: "Content-Length: -1"},
		{name: "Content-Length +0", line: "Content-Length: +0"},
		{name: "field name not a token", line: "Bad Name: x"},
		{name: "NUL in a value", line: "X-Nul: a\x00b"},
		{name: "invalid UTF-8 in a value", line: "X-Bad: a\xffb"},
		{name: "bare CR in a value", line: "X-CR: a\rb"},
		{name: "control byte in the reason phrase", status: "HTTP/1.1 200 O\x01K"},
	}
	bodies := []struct {
		name     string
		framing  string // header lines before the flag
		body     string
		want     string // delivered body
		bodySize int64  // BodySize() afterwards
	}{
		{name: "no framing", body: "", want: "", bodySize: -1},
		{name: "Content-Length 0", framing: "Content-Length: 0\r\n", body: "", want: "", bodySize: -1}, // §2.6.1.1
		{name: "Content-Length", framing: "Content-Length: 5\r\n", body: "hello", want: "hello", bodySize: 5},
		{name: "chunked", framing: "Transfer-Encoding: chunked\r\n", body: "5\r\nhello\r\n0\r\n\r\n", want: "hello", bodySize: -1},
	}
	for _, f := range flags {
		for _, b := range bodies {
			clFlag := strings.HasPrefix(f.line, "Content-Length: ")
			if clFlag && strings.HasPrefix(b.framing, "Content-Length") {
				continue // two Content-Length values: another case (R4 differing lengths)
			}
			t.Run("§7_D2_"+f.name+"/"+b.name, func(t *testing.T) {
				status := "HTTP/1.1 200 OK"
				if f.status != "" {
					status = f.status
				}
				head := status + "\r\n" + b.framing
				if f.line != "" {
					head += f.line + "\r\n"
				}
				head += "\r\n"
				wantHeaders := headersOf(t, head)
				want := Completion{Result: ResultSuccess, ResponseCode: 200, Headers: wantHeaders}
				if len(wantHeaders) == 0 {
					want = Completion{Result: ResultNoResponse} // §2.7.1
				} else if b.want != "" {
					want.Body = []byte(b.want)
				}
				bodySize := b.bodySize
				if f.line == "Content-Length: +0" && strings.HasPrefix(b.framing, "Transfer-Encoding") {
					// §2.6: chunked with a Content-Length the decoded size does not match.
					want = Completion{Result: ResultChunkedBodySizeMismatch, ResponseCode: 200, Headers: wantHeaders}
					bodySize = 0
				}
				eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
					srv := serve(t, testserver.Script(testserver.Read(), testserver.WriteString(head+b.body), testserver.Hold()))
					o := d.run(t, n, srv.URL("/"), nil, 0, nil)
					assertCompletion(t, want, o)
					if want.Result != ResultNoResponse {
						assert.Equal(t, bodySize, n.BodySize(), "BodySize")
						assert.Equal(t, int64(len(b.want)), n.DownloadedBytes(), "DownloadedBytes")
					}
				})
			})
		}
	}
}

// §0.4.5, §1.8.2: the head is decoded as Godot 4.4+'s String::utf8
// (append_utf8): a broken sequence is U+FFFD and decoding resumes at the
// byte that broke it, so no CR or LF is swallowed and no overlong form
// makes one — what ends a line, and so the framing, is what the raw bytes
// say. Spelled out here, not derived from wire.
func TestHeadDecodedAsGodot(t *testing.T) {
	cases := []struct {
		name, resp string
		want       Completion
	}{
		{"broken 2-byte sequence before an LF keeps the LF", "HTTP/1.1 200 OK\nX: \xc3\nContent-Length: 5\n\nhello",
			Completion{ResultSuccess, 200, hdrs("X: \uFFFD", "Content-Length: 5"), []byte("hello")}},
		{"overlong LF is no line break", "HTTP/1.1 200 OK\r\nX: a\xc0\x8aContent-Length: 5\r\n\r\nhello",
			Completion{ResultSuccess, 200, hdrs("X: a\uFFFD\uFFFDContent-Length: 5"), nil}},
		{"the byte after a broken sequence is kept", "HTTP/1.1 200 OK\r\nX: \xc3(z\r\nContent-Length: 2\r\n\r\nok",
			Completion{ResultSuccess, 200, hdrs("X: \uFFFD(z", "Content-Length: 2"), []byte("ok")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := serve(t, testserver.Script(testserver.Read(), testserver.WriteString(c.resp), testserver.Hold()))
				assertCompletion(t, c.want, d.run(t, n, srv.URL("/"), nil, 0, nil))
			})
		})
	}
}

// issue 7 rule 1, §7 D2, §2.8.1: a 301 whose head is flagged ambiguous and
// has no body framing is followed, as Godot follows it from CONNECTED.
func TestIssue7Rule1AmbiguousRedirect(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		srv := serveHops(t, func(string) string {
			return "HTTP/1.1 301 Moved\r\nLocation: /b\r\nContent-Length : 0\r\n\r\n"
		})
		o := d.run(t, n, srv.URL("/a"), nil, 0, nil)
		assertCompletion(t, Completion{Result: ResultSuccess, ResponseCode: 200, Headers: hdrs("Content-Length: 2"), Body: []byte("ok")}, o)
		assert.Equal(t, 2, srv.Accepted(), "one connection per hop")
	})
}

// §1.9 note, §7 D1, COMPAT R2: a Content-Length below −1 frames a body
// Godot never ends. A redirect carrying one is followed, as Godot follows it
// on reaching BODY (§2.8.1); a 200 carrying one ends at the first body read
// with RESULT_CONNECTION_ERROR — Godot's result once the server closes —
// where Godot would wait for the timeout. The node's body size is Godot's
// body_len, the negative value.
func TestNegativeContentLengthNode(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		srv := serveHops(t, func(req string) string {
			if strings.HasPrefix(req, "GET /a ") {
				return "HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: -5\r\n\r\n"
			}
			return "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello"
		})
		o := d.run(t, n, srv.URL("/a"), nil, 0, nil)
		assertCompletion(t, Completion{Result: ResultSuccess, ResponseCode: 200, Headers: hdrs("Content-Length: 2"), Body: []byte("ok")}, o)

		o = d.run(t, n, srv.URL("/c"), nil, 0, nil)
		assertCompletion(t, Completion{Result: ResultConnectionError}, o)
		assert.ErrorIs(t, o.Err, httpclient.ErrNegativeLength)
		assert.Equal(t, int64(-5), n.BodySize(), "Godot's body_len")
		assert.Zero(t, n.DownloadedBytes())
	})
}

// serveHops serves a redirect's hops: GET /b gets a complete 200 "ok" and
// the close; any other request gets resp(the request) on a connection then
// held open.
func serveHops(t *testing.T, resp func(req string) string) *testserver.Server {
	return serve(t, func(c *testserver.Conn) {
		req, err := c.ReadRequest()
		if err != nil {
			return
		}
		if strings.HasPrefix(string(req), "GET /b ") {
			_ = c.WriteAndClose([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			return
		}
		_ = c.Write([]byte(resp(string(req))))
		_ = c.Hold()
	})
}

// requestErrOf is what a driver's Request (or Do) returned.
func requestErrOf(d driverCase, o outcome) error {
	if d.Name == "do" {
		return o.Err
	}
	return o.ReqErr
}

// countCompletions counts the completions delivered over a few frames.
func countCompletions(n *HTTPRequest) int {
	count := 0
	n.OnRequestCompleted(func(Result, int, []string, []byte) { count++ })
	drive.Idle(n, 5, 2*time.Millisecond) // the scenario: nothing comes over a few frames
	return count
}

// issue 7 rule 3, §7 D2, §2.4.9, §7.4: CR, LF or NUL in a user header or in
// the URL — and in strict mode a header name that is not a token or a value
// with a control byte — make Request/RequestRaw (and Do) return
// godot.ErrInvalidParameter themselves: no connection is opened (the listener
// counts accepts) and no completion follows (§7 D6). Godot's own checks
// (empty header, no colon) keep Godot's behaviour: a connection, then
// RESULT_CONNECTION_ERROR with nothing sent.
func TestIssue7Rule3InjectionRefusedSynchronously(t *testing.T) {
	cases := []struct {
		name    string
		path    string
		headers []string
		strict  bool
		field   string // RequestError.Field
		index   int
	}{
		{name: "§7_D2_CR_LF_in_a_header", headers: hdrs("X-A: 1", "X-B: 1\r\nX-Injected: 2"), field: "header", index: 1},
		{name: "§7_D2_LF_in_a_header", headers: hdrs("X-B: 1\nX-Injected: 2"), field: "header", index: 0},
		{name: "§7_D2_CR_in_a_header", headers: hdrs("X-B: 1\rX"), field: "header", index: 0},
		{name: "§7_D2_NUL_in_a_header", headers: hdrs("X-B: a\x00b"), field: "header", index: 0},
		{name: "§7_D2_CR_LF_in_the_URL_path", path: "/a\r\nX-Injected: 1", field: "url", index: -1},
		{name: "§7_D2_NUL_in_the_URL_path", path: "/a\x00b", field: "url", index: -1},
		{name: "§7_D2_LF_in_the_URL_query", path: "/a?x=\n", field: "url", index: -1},
		{name: "§7.4_strict_name_not_a_token", headers: hdrs("Bad Name: x"), strict: true, field: "header", index: 0},
		{name: "§7.4_strict_control_byte_in_a_value", headers: hdrs("X-A: a\x01b"), strict: true, field: "header", index: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := serve(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				if tc.strict {
					require.NoError(t, n.SetStrict(true))
				}
				path := tc.path
				if path == "" {
					path = "/"
				}
				o := d.run(t, n, srv.URL(path), tc.headers, 0, nil)
				err := requestErrOf(d, o)
				require.ErrorIs(t, err, godot.ErrInvalidParameter)
				var re *wire.RequestError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, tc.field, re.Field)
				assert.Equal(t, tc.index, re.Index)
				assert.Zero(t, o.C.Result, "no completion values")
				assert.Equal(t, 0, countCompletions(n), "no completion (§7 D6)")
				assert.Equal(t, 0, srv.Accepted(), "no connection opened")
				// The node is not busy: the next request works.
				o = d.run(t, n, srv.URL("/"), nil, 0, nil)
				assertCompletion(t, Completion{Result: ResultSuccess, ResponseCode: 200, Headers: hdrs("Content-Length: 2"), Body: []byte("ok")}, o)
				// Accepted in order: a connection the refused request had
				// opened would have been accepted before this one.
				assert.Equal(t, 1, srv.Accepted(), "no connection opened but the next request's")
			})
		})
	}
	// Godot's own checks, and what Godot sends anyway.
	later := []struct {
		name    string
		headers []string
		want    Result
		sent    bool
	}{
		{name: "§2.4.9_empty_header", headers: hdrs("X-A: 1", ""), want: ResultConnectionError},
		{name: "§2.4.9_no_colon", headers: hdrs("X-A 1"), want: ResultConnectionError},
		{name: "§2.4.9_no_colon_and_CR_LF:_Godot_sends_nothing", headers: hdrs("foo\r\nbar"), want: ResultConnectionError},
		{name: "§7.4_lenient_name_not_a_token_is_sent", headers: hdrs("Bad Name: x"), want: ResultSuccess, sent: true},
	}
	for _, tc := range later {
		t.Run(tc.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := serve(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				o := d.run(t, n, srv.URL("/"), tc.headers, 0, nil)
				require.NoError(t, o.ReqErr)
				assert.Equal(t, tc.want, o.C.Result, "result (cause: %v)", o.Err)
				if tc.want == ResultConnectionError {
					assert.ErrorIs(t, o.Err, godot.ErrInvalidParameter)
				}
				srv.WaitAccepted(1, 5*time.Second)
				srv.Close()
				assert.Equal(t, 1, srv.Accepted(), "connected, as Godot")
				assert.Equal(t, tc.sent, len(srv.Requests()) == 1, "request sent")
			})
		})
	}
	// What parse_url drops — the fragment, the userinfo (§2.5.3, §2.5.5) —
	// never reaches the wire: a CR or LF there injects nothing, and Godot
	// sends the request without it.
	dropped := []struct{ name, url string }{
		{"§2.5_CR_LF_in_the_fragment", "http://127.0.0.1:PORT/x#frag\r\nX-Injected: 1"},
		{"§2.5_LF_ending_the_fragment", "http://127.0.0.1:PORT/x#\n"},
		{"§2.5_CR_LF_in_the_userinfo", "http://us\r\ner@127.0.0.1:PORT/x"},
	}
	for _, tc := range dropped {
		t.Run(tc.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := serve(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				o := d.run(t, n, strings.Replace(tc.url, "PORT", strconv.Itoa(srv.Port()), 1), nil, 0, nil)
				require.NoError(t, o.ReqErr)
				assertCompletion(t, Completion{Result: ResultSuccess, ResponseCode: 200, Headers: hdrs("Content-Length: 2"), Body: []byte("ok")}, o)
				srv.Close()
				require.Len(t, srv.Requests(), 1)
				req := string(srv.Requests()[0])
				assert.True(t, strings.HasPrefix(req, "GET /x HTTP/1.1\r\n"), "%q", req)
				assert.True(t, hasLine(req, "Host: 127.0.0.1:"+strconv.Itoa(srv.Port())), "%q", req)
				assert.NotContains(t, req, "Injected")
			})
		})
	}
	// In the host, a CR or LF would reach the Host header: refused.
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		o := d.run(t, n, "http://a\r\nX-Injected/x", nil, 0, nil)
		var re *wire.RequestError
		require.ErrorAs(t, requestErrOf(d, o), &re)
		assert.Equal(t, "url", re.Field)
	})
}

// issue 7 rule 7, §2.5.1, §2.4.2: Godot's _parse_url sets body_len −1 and
// downloaded 0 (and final_body_size 0) before it can fail, after the
// ERR_BUSY check: after a refused Request the getters show −1 and 0, not the
// previous response's values; a Request refused with ERR_BUSY changes
// nothing.
func TestIssue7Rule7RefusedRequestResetsCounters(t *testing.T) {
	refused := []struct {
		name    string
		url     string
		headers []string
	}{
		{name: "§2.5_invalid_scheme", url: "ftp://127.0.0.1/"},
		{name: "§2.5_empty_host", url: "http://:80/"},
		{name: "§7_D2_CR_LF_in_a_header", url: "", headers: hdrs("X: 1\r\nY: 2")},
	}
	for _, rc := range refused {
		t.Run(rc.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := serve(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
				o := d.run(t, n, srv.URL("/"), nil, 0, nil)
				require.Equal(t, ResultSuccess, o.C.Result)
				require.Equal(t, int64(5), n.BodySize())
				require.Equal(t, int64(5), n.DownloadedBytes())
				var progress [][2]int64
				n.OnProgress(func(w, dec int64) { progress = append(progress, [2]int64{w, dec}) })
				u := rc.url
				if u == "" {
					u = srv.URL("/")
				}
				o = d.run(t, n, u, rc.headers, 0, nil)
				require.ErrorIs(t, requestErrOf(d, o), godot.ErrInvalidParameter)
				assert.Equal(t, int64(-1), n.BodySize(), "BodySize")
				assert.Equal(t, int64(0), n.DownloadedBytes(), "DownloadedBytes")
				assert.Empty(t, progress, "no progress for a request that did not start")
			})
		})
	}
	t.Run("§2.4.2_ERR_BUSY_resets_nothing", func(t *testing.T) {
		eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
			srv := serve(t, testserver.Script(testserver.Read(),
				testserver.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"),
				testserver.Sleep(50*time.Millisecond), testserver.WriteString("world"), testserver.Hold()))
			var busy []error
			n.OnProgress(func(w, _ int64) {
				// Process sees 5 bytes first; a blocking read (use_threads,
				// Do) waits for min(left, download_chunk_size), §1.10.1.
				if w > 0 && len(busy) == 0 {
					busy = append(busy, n.Request("ftp://127.0.0.1/", nil, 0, ""))
					assert.Equal(t, int64(10), n.BodySize(), "BodySize")
					assert.Equal(t, w, n.DownloadedBytes(), "DownloadedBytes")
				}
			})
			o := d.run(t, n, srv.URL("/"), nil, 0, nil)
			assertCompletion(t, Completion{Result: ResultSuccess, ResponseCode: 200, Headers: hdrs("Content-Length: 10"), Body: []byte("helloworld")}, o)
			require.Len(t, busy, 1)
			assert.ErrorIs(t, busy[0], godot.ErrBusy)
		})
	})
}

// godotSetters are the four setters Godot refuses while its client is not
// DISCONNECTED (§2.2), with a new value and a check that it was kept.
func godotSetters(n *HTTPRequest, dir string) map[string]func() error {
	return map[string]func() error{
		"set_body_size_limit":     func() error { return n.SetBodySizeLimit(3) },
		"set_download_file":       func() error { return n.SetDownloadFile(filepath.Join(dir, "f")) },
		"set_download_chunk_size": func() error { return n.SetDownloadChunkSize(4096) },
		"set_use_threads":         func() error { return n.SetUseThreads(!n.IsUsingThreads()) },
	}
}

// issue 7 rule 8, §2.2: body_size_limit, download_file,
// download_chunk_size and use_threads are refused while the client's status
// is not DISCONNECTED — during the body (all three drivers, from the
// progress callback), and with a completion queued on a connection still
// open (threads) — but accepted while a completion is merely queued with
// the client DISCONNECTED (Process: a connection start that failed at once,
// §2.4.8; threads: a read-until-close body, §2.6.1.7). Do has no such
// window: it returns after the node reset itself.
func TestIssue7Rule8SettersFollowClientStatus(t *testing.T) {
	t.Run("§2.2_refused_during_the_body", func(t *testing.T) {
		eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
			srv := serve(t, testserver.Script(testserver.Read(),
				testserver.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"),
				testserver.Sleep(50*time.Millisecond), testserver.WriteString("world"), testserver.Hold()))
			threads := d.Name == "threads"
			calls, late := 0, 0
			n.OnProgress(func(int64, int64) {
				if threads && calls == 0 && n.HTTPClientStatus() == httpclient.StatusDisconnected {
					// The worker read the whole body before this goroutine's
					// first Process reported it (starved for the 50 ms the
					// server waits: seen once under -race on a loaded
					// machine): the request has ended, its completion is next.
					late++
					return
				}
				calls++
				assert.NotEqual(t, httpclient.StatusDisconnected, n.HTTPClientStatus())
				for name, set := range godotSetters(n, t.TempDir()) {
					assert.ErrorIs(t, set(), godot.ErrBusy, name)
				}
				assert.Equal(t, int64(-1), n.BodySizeLimit())
				assert.Equal(t, "", n.DownloadFile())
				assert.Equal(t, DefaultDownloadChunkSize, n.DownloadChunkSize())
				assert.Equal(t, threads, n.IsUsingThreads())
			})
			o := d.run(t, n, srv.URL("/"), nil, 0, nil)
			assertCompletion(t, Completion{Result: ResultSuccess, ResponseCode: 200, Headers: hdrs("Content-Length: 10"), Body: []byte("helloworld")}, o)
			assert.Positive(t, calls+late)
			if late > 0 {
				t.Logf("use_threads: the worker ended before the first progress report")
			}
		})
	})
	// §7 D1 (COMPAT Q15): Godot accepts use_threads while a non-threaded
	// request's client is DISCONNECTED before its last step (a fixed-length
	// body cut short, §2.9.5), and then never runs that step: no completion
	// ever. The port accepts it too but the request keeps its driver: R2.
	t.Run("§7_D1_use_threads_turned_on_before_the_last_step", func(t *testing.T) {
		n := New()
		defer n.Close()
		srv := serve(t, testserver.RespondAndClose("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"))
		var got []Result
		n.OnRequestCompleted(func(res Result, _ int, _ []string, _ []byte) { got = append(got, res) })
		require.NoError(t, n.Request(srv.URL("/"), nil, 0, ""))
		nodes.ProcessUntil(t, n, func() bool { return n.HTTPClientStatus() == httpclient.StatusDisconnected }, func() string { return "the client disconnected" })
		require.Empty(t, got, "the DISCONNECTED step has not run yet")
		require.NoError(t, n.SetUseThreads(true))
		n.Process()
		assert.Equal(t, []Result{ResultCantConnect}, got, "§2.9.5: R2, on the request's own driver")
	})
	t.Run("§2.2_accepted_with_a_completion_queued_and_the_client_DISCONNECTED", func(t *testing.T) {
		for _, threads := range []bool{false, true} {
			t.Run(map[bool]string{false: "process", true: "threads"}[threads], func(t *testing.T) {
				n := New()
				defer n.Close()
				require.NoError(t, n.SetUseThreads(threads))
				var got []Completion
				n.OnRequestCompleted(func(res Result, code int, h []string, b []byte) {
					got = append(got, Completion{res, code, h, b})
				})
				want := Completion{Result: ResultSuccess, ResponseCode: 200, Headers: hdrs("Connection: close"), Body: []byte("hello")}
				if threads {
					srv := serve(t, testserver.RespondAndClose("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello"))
					require.NoError(t, n.Request(srv.URL("/"), nil, 0, ""))
					require.True(t, drive.Until(maxWait, func() bool {
						n.mu.Lock()
						defer n.mu.Unlock()
						return len(n.queue) == 1
					}), "the completion queued")
				} else {
					// §2.4.8: host "::1" is too short for connect_to_host.
					err := n.Request("http://[::1]:"+strconv.Itoa(testserver.ClosedPort(t))+"/", nil, 0, "")
					require.ErrorIs(t, err, godot.ErrCantConnect)
					want = Completion{Result: ResultCantConnect}
				}
				require.Equal(t, httpclient.StatusDisconnected, n.HTTPClientStatus())
				assert.ErrorIs(t, n.Request("http://127.0.0.1/", nil, 0, ""), godot.ErrBusy, "§2.4.2: still requesting")
				dir := t.TempDir()
				for name, set := range godotSetters(n, dir) {
					assert.NoError(t, set(), name)
				}
				assert.Equal(t, int64(3), n.BodySizeLimit())
				assert.Equal(t, filepath.Join(dir, "f"), n.DownloadFile())
				assert.Equal(t, 4096, n.DownloadChunkSize())
				assert.Equal(t, !threads, n.IsUsingThreads())
				n.Process()
				for range 3 {
					n.Process()
				}
				require.Len(t, got, 1, "exactly one completion")
				assert.Equal(t, want, got[0], "the queued completion is unchanged")
				// The new values apply to the next request.
				srv := serve(t, testserver.RespondAndClose("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello"))
				got = nil
				require.NoError(t, n.Request(srv.URL("/"), nil, 0, ""))
				nodes.ProcessUntil(t, n, func() bool { return len(got) > 0 }, func() string { return "a completion" })
				assert.Equal(t, ResultBodySizeLimitExceeded, got[0].Result, "body_size_limit 3 applies")
			})
		}
	})
}

// strictHead parses head as the strict parser does (§7.4).
func strictHead(head string) (wire.Head, error) {
	var p wire.HeadParser
	p.Strict = true
	var h wire.Head
	_, err := p.Parse([]byte(head), &h)
	return h, err
}

// issue 7 rule 10, §7.4, §2.6.1.1, §2.9.7: in strict mode a response with
// Transfer-Encoding: chunked and a Content-Length has no known length: the
// whole chunked body is read and BodySize is −1, as the client reports it —
// the node never re-reads a Content-Length itself. A Transfer-Encoding with
// any coding but chunked is refused: RESULT_CONNECTION_ERROR with the
// parser's typed cause. Every driver.
func TestIssue7Rule10StrictFraming(t *testing.T) {
	const teCL = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
	t.Run("§7.4_chunked_with_Content-Length:_length_unknown", func(t *testing.T) {
		h, err := strictHead(teCL)
		require.NoError(t, err)
		require.Equal(t, int64(-1), h.ContentLength, "the strict parser: chunked + Content-Length has no known length (issue 7 rule 10)")
		eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
			srv := serve(t, testserver.Script(testserver.Read(),
				testserver.WriteString(teCL+"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), testserver.Hold()))
			require.NoError(t, n.SetStrict(true))
			o := d.run(t, n, srv.URL("/"), nil, 0, nil)
			assertCompletion(t, Completion{Result: ResultSuccess, ResponseCode: 200,
				Headers: hdrs("Transfer-Encoding: chunked", "Content-Length: 5"), Body: []byte("hello world")}, o)
			assert.Equal(t, int64(-1), n.BodySize(), "BodySize")
			assert.Equal(t, int64(11), n.DownloadedBytes(), "DownloadedBytes")
		})
	})
	t.Run("§2.6.1.7_lenient_chunked_with_Content-Length_ends_at_body_len", func(t *testing.T) {
		eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
			srv := serve(t, testserver.Script(testserver.Read(),
				testserver.WriteString(teCL+"5\r\nhel\r\n\r\n6\r\n world\r\n0\r\n\r\n"), testserver.Hold()))
			o := d.run(t, n, srv.URL("/"), nil, 0, nil)
			// §2.6.1.7: the first chunk makes downloaded == body_len → R0.
			assertCompletion(t, Completion{Result: ResultSuccess, ResponseCode: 200,
				Headers: hdrs("Transfer-Encoding: chunked", "Content-Length: 5"), Body: []byte("hel\r\n")}, o)
			assert.Equal(t, int64(5), n.BodySize(), "BodySize is Godot's body_len")
		})
	})
	for _, te := range []string{"gzip", "gzip, chunked, identity", "identity", "compress"} {
		head := "HTTP/1.1 200 OK\r\nTransfer-Encoding: " + te + "\r\nConnection: close\r\n\r\n"
		t.Run("§7.4_Transfer-Encoding_"+te+"_refused", func(t *testing.T) {
			_, err := strictHead(head)
			require.Error(t, err, "the strict parser refuses Transfer-Encoding %q (issue 7 rule 10)", te)
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := serve(t, testserver.RespondAndClose(head+"body"))
				require.NoError(t, n.SetStrict(true))
				o := d.run(t, n, srv.URL("/"), nil, 0, nil)
				assertCompletion(t, Completion{Result: ResultConnectionError}, o)
				var he *wire.HeadError
				assert.ErrorAs(t, o.Err, &he, "typed cause")
				assert.Equal(t, int64(-1), n.BodySize())
			})
		})
	}
}

// issue 7 rule 3, §2.8.1.3, §7 D2 (COMPAT R5): a Location cannot carry a
// line break into the next hop's request: the head parser splits lines on
// LF, the target has a space for a bare CR, and a NUL ends Godot's head
// string.
func TestIssue7Rule3RedirectLocationCannotInject(t *testing.T) {
	for _, loc := range []string{"/b\rX-Injected: 1", "/b\x00\r\nX-Injected: 1"} {
		t.Run(strings.NewReplacer("\r", "CR", "\x00", "NUL", "\n", "LF").Replace(loc), func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := serve(t, func(c *testserver.Conn) {
					req, err := c.ReadRequest()
					if err != nil {
						return
					}
					if strings.HasPrefix(string(req), "GET /a ") {
						_ = c.WriteAndClose([]byte("HTTP/1.1 301 Moved\r\nLocation: " + loc + "\r\nContent-Length: 0\r\n\r\n"))
						return
					}
					_ = c.WriteAndClose([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				})
				o := d.run(t, n, srv.URL("/a"), nil, 0, nil)
				assert.Equal(t, ResultSuccess, o.C.Result, "cause: %v", o.Err)
				srv.Close()
				reqs := srv.Requests()
				require.Len(t, reqs, 2)
				head := string(reqs[1])
				assert.NotContains(t, head, "\x00")
				assert.NotContains(t, strings.ReplaceAll(head, "\r\n", ""), "\r")
				assert.NotContains(t, strings.ReplaceAll(head, "\r\n", ""), "\n")
				for _, line := range strings.Split(head, "\r\n") {
					assert.False(t, strings.HasPrefix(line, "X-Injected"), "injected line %q", line)
				}
			})
		})
	}
}
