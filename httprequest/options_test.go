package httprequest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// §2.2: every property's Godot default, and the §7.2 options off.
func TestDefaults(t *testing.T) {
	n := New()
	assert.True(t, n.IsAcceptingGzip())
	assert.Equal(t, int64(-1), n.BodySizeLimit())
	assert.Equal(t, 65536, n.DownloadChunkSize())
	assert.Equal(t, "", n.DownloadFile())
	assert.Equal(t, 8, n.MaxRedirects())
	assert.Equal(t, time.Duration(0), n.Timeout())
	assert.False(t, n.IsUsingThreads())
	assert.Equal(t, httpclient.StatusDisconnected, n.HTTPClientStatus())
	assert.Equal(t, int64(-1), n.BodySize())
	assert.Equal(t, int64(0), n.DownloadedBytes())
	assert.False(t, n.RFC9110Redirects())
	assert.False(t, n.AcceptBrotli())
	assert.False(t, n.DrainPerStep())
	assert.False(t, n.KeepAlive())
	assert.False(t, n.DownloadInPlace())
	assert.False(t, n.IsStrict())
	assert.Nil(t, n.BodyWriter())
	assert.NoError(t, n.LastError())
}

// §2.2: the setters Godot refuses while a request is active return godot.ErrBusy
// and keep the value — until the completion has been delivered (§2.4.2);
// the others work any time. §2.1.2, §2.4.2, §2.4.7: one request at a time,
// Request while busy is godot.ErrBusy.
func TestSettersWhileBusy(t *testing.T) {
	n := New()
	defer n.Close()
	srv := serve(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	done := false
	n.OnRequestCompleted(func(Result, int, []string, []byte) { done = true })
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))

	busySetters := map[string]func() error{
		"body_size_limit":     func() error { return n.SetBodySizeLimit(5) },
		"download_chunk_size": func() error { return n.SetDownloadChunkSize(1024) },
		"download_file":       func() error { return n.SetDownloadFile("x") },
		"use_threads":         func() error { return n.SetUseThreads(true) },
		"strict":              func() error { return n.SetStrict(true) },
		"rfc9110":             func() error { return n.SetRFC9110Redirects(true) },
		"brotli":              func() error { return n.SetAcceptBrotli(true) },
		"drain":               func() error { return n.SetDrainPerStep(true) },
		"keep-alive":          func() error { return n.SetKeepAlive(true) },
		"in place":            func() error { return n.SetDownloadInPlace(true) },
		"body writer":         func() error { return n.SetBodyWriter(&bytes.Buffer{}) },
		"response func":       func() error { return n.SetResponseFunc(func(int, []string) error { return nil }) },
		"request":             func() error { return n.Request(srv.URL("/"), nil, httpclient.MethodGet, "") },
	}
	threads := false
	check := func(when string) {
		for name, set := range busySetters {
			err := set()
			assert.ErrorIs(t, err, godot.ErrBusy, "%s %s", name, when)
			assert.ErrorContains(t, err, "HTTPRequest is processing a request")
		}
		assert.Equal(t, int64(-1), n.BodySizeLimit())
		assert.Equal(t, 65536, n.DownloadChunkSize())
		assert.Equal(t, "", n.DownloadFile())
		assert.Equal(t, threads, n.IsUsingThreads())
		assert.False(t, n.KeepAlive())
		// Any time (§2.2).
		n.SetAcceptGzip(false)
		n.SetAcceptGzip(true)
		assert.NoError(t, n.SetMaxRedirects(3))
		assert.NoError(t, n.SetTimeout(time.Minute))
		assert.NoError(t, n.SetTLSOptions(httpclient.TLSClientUnsafe(nil)))
		n.SetHTTPProxy("", -1)
		n.SetHTTPSProxy("", -1)
	}
	check("while active")
	n.Process()
	nodes.ProcessUntil(t, n, func() bool { return done }, func() string { return "no completion" })
	// With use_threads the worker queues the completion and Process
	// delivers it: in between, the node is still busy (§2.4.2).
	require.NoError(t, n.SetUseThreads(true))
	threads = true
	done = false
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	require.True(t, drive.Until(maxWait, func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		return len(n.queue) == 1
	}), "the completion queued")
	delete(busySetters, "use_threads")
	check("with the completion queued (§2.4.2)")
	n.Process()
	require.True(t, done)
	require.NoError(t, n.SetUseThreads(false))
	for name, set := range busySetters {
		if name != "request" {
			assert.NoError(t, set(), name)
		}
	}
	assert.Equal(t, int64(5), n.BodySizeLimit())
	assert.Equal(t, 1024, n.DownloadChunkSize())
	assert.Equal(t, "x", n.DownloadFile())
	assert.Equal(t, 3, n.MaxRedirects())
	assert.Equal(t, time.Minute, n.Timeout())
}

// Setter validation: download_chunk_size 256…2^24 (§1.3), timeout ≥ 0
// (§2.2), TLS options not nil and not server mode (§2.2).
func TestSetterValidation(t *testing.T) {
	n := New()
	for _, bad := range []int{0, 255, 1<<24 + 1} {
		assert.ErrorIs(t, n.SetDownloadChunkSize(bad), godot.ErrInvalidParameter, bad)
	}
	assert.Equal(t, 65536, n.DownloadChunkSize())
	for _, good := range []int{256, 1 << 24, 4096} {
		assert.NoError(t, n.SetDownloadChunkSize(good))
		assert.Equal(t, good, n.DownloadChunkSize())
	}
	assert.ErrorIs(t, n.SetTimeout(-time.Second), godot.ErrInvalidParameter)
	assert.Equal(t, time.Duration(0), n.Timeout())
	assert.ErrorIs(t, n.SetTLSOptions(nil), godot.ErrInvalidParameter)
	ca := testserver.NewCA(t)
	assert.ErrorIs(t, n.SetTLSOptions(httpclient.TLSServer(ca.Issue(t, "localhost"))), godot.ErrInvalidParameter)
	assert.NoError(t, n.SetMaxRedirects(-1))
	assert.NoError(t, n.SetMaxRedirects(100), "no range check (§2.2)")
	assert.NoError(t, n.SetBodySizeLimit(-5))
}

// §7.3, §2.1.3: the callback never runs inside Request, only inside Process
// on its caller's goroutine, after the node reset itself — so it can start
// the next request. §2.13.1: with use_threads the worker starts the
// connection and its failure is a deferred RESULT_CANT_CONNECT; §2.13.2: the
// completion still arrives on the caller's goroutine.
func TestCallbackDelivery(t *testing.T) {
	for _, threads := range []bool{false, true} {
		t.Run(map[bool]string{false: "process", true: "threads"}[threads], func(t *testing.T) {
			n := New()
			defer n.Close()
			require.NoError(t, n.SetUseThreads(threads))
			srv := serve(t, route(func(line string, _ []byte) string {
				return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
			}))
			inProcess := false
			var results []Result
			n.OnRequestCompleted(func(res Result, code int, _ []string, _ []byte) {
				assert.True(t, inProcess, "delivered inside Process")
				assert.False(t, n.busy(), "reset before the callback (§2.1.3)")
				results = append(results, res)
				if len(results) == 1 {
					assert.NoError(t, n.Request(srv.URL("/second"), nil, httpclient.MethodGet, ""))
				}
			})
			// A connection that cannot start: error returned, completion deferred (§2.4.8).
			err := n.Request("http://[::1]:9/", nil, httpclient.MethodGet, "")
			if !threads {
				require.ErrorIs(t, err, godot.ErrCantConnect)
			} else {
				require.NoError(t, err)
			}
			assert.Empty(t, results, "never inside Request")
			frame := drive.ProcessFunc(func() {
				inProcess = true
				n.Process()
				inProcess = false
			})
			nodes.ProcessUntil(t, frame, func() bool { return len(results) >= 2 }, func() string { return fmt.Sprintf("completions %v", results) })
			assert.Equal(t, []Result{ResultCantConnect, ResultSuccess}, results)
		})
	}
}

// §2.1.3, §2.4.8: a completion queued during the callbacks — here by a
// Request that fails at once — is delivered in the same Process, as Godot's
// deferred-call flush runs the calls queued while it runs. A callback that
// queues one every time, which would freeze Godot's frame, lets Process
// return after flushRounds of them (§7 D1).
func TestCallbackQueuedDuringFlush(t *testing.T) {
	srv := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	n := newNode(t)
	frame, retries := 0, 1
	var frames []int
	var results []Result
	n.OnRequestCompleted(func(res Result, _ int, _ []string, _ []byte) {
		results, frames = append(results, res), append(frames, frame)
		if retries > 0 {
			retries--
			assert.ErrorIs(t, n.Request("http://[::1]:9/", nil, httpclient.MethodGet, ""), godot.ErrCantConnect)
		}
	})
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	nodes.ProcessUntil(t, drive.ProcessFunc(func() { frame++; n.Process() }),
		func() bool { return len(results) > 0 }, func() string { return "no completion" })
	assert.Equal(t, []Result{ResultSuccess, ResultCantConnect}, results)
	assert.Equal(t, frames[0], frames[1], "both in one Process")

	results, retries = nil, 1000
	require.ErrorIs(t, n.Request("http://[::1]:9/", nil, httpclient.MethodGet, ""), godot.ErrCantConnect)
	n.Process()
	assert.Len(t, results, flushRounds)
	n.Process()
	assert.Len(t, results, 2*flushRounds)
	retries = 0
	n.Process()
	assert.Len(t, results, 2*flushRounds+1)
	n.Process()
	assert.Len(t, results, 2*flushRounds+1)
}

// §2.4.4, §2.4.6, §2.4.10, §2.3: the request the server receives (method,
// headers, UTF-8 body).
func TestRequestBytes(t *testing.T) {
	cases := []struct {
		name    string
		headers []string
		method  httpclient.Method
		body    string
		want    []string // header lines in order after the request line
		tail    string
	}{
		{"GET with a body gets Content-Length (§2.4.10)", []string{"X-A: 1"}, httpclient.MethodGet, "héllo",
			[]string{"X-A: 1", acceptGzipHeader, "Host: HOST", "Content-Length: 6", "User-Agent: " + wire.DefaultUserAgent(), "Accept: */*"}, "héllo"},
		{"POST with an empty body has none (§2.4.10)", nil, httpclient.MethodPost, "",
			[]string{acceptGzipHeader, "Host: HOST", "User-Agent: " + wire.DefaultUserAgent(), "Accept: */*"}, ""},
		{"own Accept-Encoding, stripped and any case, is kept (§2.4.6)", []string{"  ACCEPT-ENCODING: br"}, httpclient.MethodGet, "",
			[]string{"  ACCEPT-ENCODING: br", "Host: HOST", "User-Agent: " + wire.DefaultUserAgent(), "Accept: */*"}, ""},
		{"any header starting with accept-encoding counts (§2.4.6)", []string{"Accept-Encodings: x"}, httpclient.MethodGet, "",
			[]string{"Accept-Encodings: x", "Host: HOST", "User-Agent: " + wire.DefaultUserAgent(), "Accept: */*"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
				o := d.run(t, n, srv.URL("/p?q=1#frag"), c.headers, c.method, []byte(c.body))
				require.Equal(t, ResultSuccess, o.C.Result, "%v", o.Err)
				srv.Close()
				req := string(srv.Requests()[0])
				head, tail, _ := strings.Cut(req, "\r\n\r\n")
				lines := strings.Split(head, "\r\n")
				assert.Equal(t, c.method.String()+" /p?q=1 HTTP/1.1", lines[0], "fragment dropped (§2.5.3)")
				want := make([]string, len(c.want))
				for i, w := range c.want {
					want[i] = strings.Replace(w, "HOST", srv.Addr(), 1)
				}
				assert.Equal(t, want, lines[1:])
				assert.Equal(t, c.tail, tail)
			})
		})
	}
}

// §2.6.1.3, §2.14: one body read per Process frame (Godot caps a
// non-threaded download at download_chunk_size per frame, §4 #1); with
// SetDrainPerStep (§7.2) a frame takes everything available.
func TestOneReadPerFrameAndDrain(t *testing.T) {
	body := bigBody(64 << 10)
	resp := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body)
	for _, drain := range []bool{false, true} {
		t.Run(map[bool]string{false: "one read", true: "drain"}[drain], func(t *testing.T) {
			n := New()
			defer n.Close()
			require.NoError(t, n.SetDownloadChunkSize(256))
			require.NoError(t, n.SetDrainPerStep(drain))
			srv := serve(t, testserver.Respond(resp))
			var reads []int64
			n.OnProgress(func(w, _ int64) { reads = append(reads, w) })
			o := viaCallback(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
			require.Equal(t, ResultSuccess, o.C.Result)
			assert.Equal(t, body, o.C.Body)
			if drain {
				assert.Less(t, len(reads), 64, "many reads per frame")
			} else {
				assert.GreaterOrEqual(t, len(reads), len(body)/256, "at most one 256-byte read per frame")
				for i := 1; i < len(reads); i++ {
					assert.LessOrEqual(t, reads[i]-reads[i-1], int64(256))
				}
			}
		})
	}
}

// §7.2, §7 D1, §2.11: a drain stops after drainStepMax bytes read or
// decoded, so a body that arrives faster than the step consumes it — an
// endless stream into a slow body writer, or gzip decoding slower than the
// socket fills — cannot keep one Process from returning, and the timeout
// still ends the request.
func TestDrainStepBounded(t *testing.T) {
	zeros := gzipBytes(t, make([]byte, 1<<20)) // a member of 1 MiB decoded, ~1 KiB sent
	for _, c := range []struct {
		name      string
		encoding  string
		piece     []byte
		w         io.Writer
		chunkSize int
	}{
		{"slow body writer", "", bigBody(64 << 10), slowWriter{}, 0},
		{"gzip members", "Content-Encoding: gzip\r\n", zeros, io.Discard, 4096},
	} {
		t.Run(c.name, func(t *testing.T) {
			stop := make(chan struct{})
			var stopOnce sync.Once
			end := func() { stopOnce.Do(func() { close(stop) }) }
			defer end()
			srv := serve(t, func(conn *testserver.Conn) {
				if _, err := conn.ReadRequest(); err != nil {
					return
				}
				if conn.Write([]byte("HTTP/1.1 200 OK\r\n"+c.encoding+"Connection: close\r\n\r\n")) != nil {
					return
				}
				for {
					select {
					case <-stop:
						return
					default:
					}
					if conn.Write(c.piece) != nil {
						return
					}
				}
			})
			n := newNode(t)
			require.NoError(t, n.SetDrainPerStep(true))
			require.NoError(t, n.SetBodyWriter(c.w))
			if c.chunkSize > 0 {
				require.NoError(t, n.SetDownloadChunkSize(c.chunkSize))
			}
			require.NoError(t, n.SetTimeout(300*time.Millisecond))
			var got []Result
			n.OnRequestCompleted(func(r Result, _ int, _ []string, _ []byte) { got = append(got, r) })
			require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
			var longest time.Duration
			done := make(chan struct{})
			go func() {
				defer close(done)
				for start := time.Now(); len(got) == 0 && time.Since(start) < 30*time.Second; {
					f := time.Now()
					n.Process()
					longest = max(longest, time.Since(f))
				}
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				end() // the stream ends: Process can return
				<-done
				t.Fatalf("a Process call ran for 10 s (timeout 300 ms); then %v", got)
			}
			assert.Equal(t, []Result{ResultTimeout}, got)
			assert.Less(t, longest, 2*time.Second, "the longest Process")
		})
	}
}

// slowWriter takes a millisecond per write: a slow disk, a consumer that
// works on each piece.
type slowWriter struct{}

func (slowWriter) Write(p []byte) (int, error) { time.Sleep(time.Millisecond); return len(p), nil }

// §7.2 drain with a chunked body that has fully arrived: the first body
// frame reads every chunk, the last-chunk line and the trailer, so the
// client is CONNECTED after it and the next frame completes (Godot's
// CONNECTED step, §2.6) — as a Content-Length body is read in one frame.
func TestDrainReadsWholeChunkedBody(t *testing.T) {
	var resp strings.Builder
	resp.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
	for _, c := range []string{"abc", "def", "ghi"} {
		resp.WriteString("3\r\n" + c + "\r\n")
	}
	resp.WriteString("0\r\nX-Trailer: 1\r\n\r\n")
	n := newNode(t)
	require.NoError(t, n.SetDrainPerStep(true))
	srv := serve(t, testserver.Respond(resp.String()))
	var got *Completion
	n.OnRequestCompleted(func(r Result, code int, h []string, b []byte) { got = &Completion{r, code, h, b} })
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	processUntil(t, n, httpclient.StatusBody)
	time.Sleep(80 * time.Millisecond) // the whole response has arrived
	n.Process()
	assert.Equal(t, httpclient.StatusConnected, n.HTTPClientStatus(), "the first body frame read the whole body")
	assert.Equal(t, int64(9), n.DownloadedBytes())
	n.Process()
	require.NotNil(t, got)
	assert.Equal(t, ResultSuccess, got.Result)
	assert.Equal(t, "abcdefghi", string(got.Body))
}

// §7.2 progress callback: wire bytes (compressed, de-chunked) and decoded
// bytes, increasing, ending at the totals; on the caller's goroutine.
func TestProgress(t *testing.T) {
	text := sampleText(300 << 10)
	gz := gzipBytes(t, text)
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		srv := serve(t, testserver.Respond(chunkedHeadGzip+chunkedBody(gz, 8192)))
		var wires, decs []int64
		n.OnProgress(func(w, dec int64) { wires, decs = append(wires, w), append(decs, dec) })
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		require.Equal(t, ResultSuccess, o.C.Result, "%v", o.Err)
		require.NotEmpty(t, wires)
		assert.Equal(t, int64(len(gz)), wires[len(wires)-1])
		assert.Equal(t, int64(len(text)), decs[len(decs)-1])
		for i := 1; i < len(wires); i++ {
			assert.GreaterOrEqual(t, wires[i], wires[i-1])
			assert.GreaterOrEqual(t, decs[i], decs[i-1])
		}
	})
}

const chunkedHeadGzip = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"

// §7.2 body writer (Godot keeps the body in memory and has no streaming
// callback, §2.9.8): the decoded body streams to an io.Writer; the
// completion's body is empty (as with download_file).
func TestBodyWriter(t *testing.T) {
	text := sampleText(200 << 10)
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		srv := serve(t, respondBody("Content-Encoding: gzip", gzipBytes(t, text)))
		var w bytes.Buffer
		require.NoError(t, n.SetBodyWriter(&w))
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		require.Equal(t, ResultSuccess, o.C.Result)
		assert.Nil(t, o.C.Body)
		assert.True(t, bytes.Equal(text, w.Bytes()))
	})
}

// §7.2 connection reuse (Godot never reuses, §2.1.4): consecutive requests
// to one origin share a connection; a server that closed the idle
// connection, "Connection: close", another origin or the option off mean a
// new one.
func TestKeepAlive(t *testing.T) {
	ok := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	cases := []struct {
		name    string
		on      bool
		handler func(c *testserver.Conn)
		conns   int
	}{
		{"off: a connection per request (§2.1.4)", false, testserver.RespondEach(ok), 3},
		{"on: one connection", true, testserver.RespondEach(ok), 1},
		{"on, Connection: close", true, testserver.RespondEach("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"), 3},
		// RFC 9112 §9.3, where Godot's prefix test (§1.8.3) sees no close:
		// the node closes the connection itself (the server, which does
		// not, would otherwise keep it open until its idle timeout).
		{"on, Connection:close", true, testserver.RespondEach("HTTP/1.1 200 OK\r\nConnection:close\r\nContent-Length: 2\r\n\r\nok"), 3},
		{"on, Connection: keep-alive, close", true, testserver.RespondEach("HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\nok"), 3},
		{"on, HTTP/1.0", true, testserver.RespondEach("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"), 3},
		{"on, HTTP/1.0 with keep-alive", true, testserver.RespondEach("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok"), 1},
		{"on, server closes right after each response", true, testserver.Script(testserver.Read(), testserver.WriteAndClose([]byte(ok))), 3},
		{"on, server closes the idle connection a little later", true, testserver.Script(testserver.Read(), testserver.WriteString(ok),
			testserver.Sleep(5*time.Millisecond), testserver.Close()), 3}, // the scenario: the FIN comes after the response
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				require.NoError(t, n.SetKeepAlive(c.on))
				srv := serve(t, c.handler)
				for i := range 3 {
					if i > 0 && c.conns > 1 {
						// The last connection is done with: the node closed it,
						// or the server's FIN is in the kept one's socket.
						require.True(t, drive.AwaitTCP(srv.Port(), 2*time.Second, 20*time.Millisecond, drive.NoneEstablished(srv.Port())),
							"a connection still open")
					}
					o := d.run(t, n, srv.URL("/"+strconv.Itoa(i)), nil, httpclient.MethodGet, nil)
					assertCompletion(t, Completion{ResultSuccess, 200, o.C.Headers, []byte("ok")}, o)
					if d.Name == "threads" {
						require.NoError(t, n.SetUseThreads(false)) // d.run sets it again
					}
				}
				n.Close()
				srv.Close()
				assert.Len(t, srv.Requests(), 3)
				assert.Equal(t, c.conns, srv.Accepted())
			})
		})
	}
	// Another origin: a new connection, the kept one closed.
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		require.NoError(t, n.SetKeepAlive(true))
		a, b := serve(t, testserver.RespondEach(ok)), serve(t, testserver.RespondEach(ok))
		for _, u := range []string{a.URL("/"), b.URL("/"), a.URL("/")} {
			o := d.run(t, n, u, nil, httpclient.MethodGet, nil)
			require.Equal(t, ResultSuccess, o.C.Result)
			if d.Name == "threads" {
				require.NoError(t, n.SetUseThreads(false))
			}
		}
		n.Close()
		a.Close()
		b.Close()
		assert.Equal(t, 2, a.Accepted())
		assert.Equal(t, 1, b.Accepted())
	})
}

// §2.2 proxies and TLS options through the node: an https request through a
// CONNECT proxy (§1.14.2 with §7 D5), an http request through a forward
// proxy (§1.14.1), https with the node's trusted CA, and client_unsafe.
func TestProxiesAndTLS(t *testing.T) {
	ca := testserver.NewCA(t)
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		tlsSrv := testserver.NewTLS(t, ca.Issue(t, "127.0.0.1"), testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntls"))
		require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(ca.Pool(), "")))
		o := d.run(t, n, tlsSrv.URL("/"), nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 3"), []byte("tls")}, o)

		p := testserver.NewConnectProxy(t)
		n.SetHTTPSProxy(p.Host(), p.Port())
		o = d.run(t, n, tlsSrv.URL("/via"), nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 3"), []byte("tls")}, o)
		require.Len(t, p.Requests(), 1)
		assert.True(t, strings.HasPrefix(string(p.Requests()[0]), "CONNECT 127.0.0.1:"+strconv.Itoa(tlsSrv.Port())+" HTTP/1.1\r\n"))
		n.SetHTTPSProxy("", -1)

		plain := serve(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain"))
		f := testserver.NewForwardProxy(t)
		n.SetHTTPProxy(f.Host(), f.Port())
		o = d.run(t, n, plain.URL("/abs"), nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 5"), []byte("plain")}, o)
		require.Len(t, f.Requests(), 1)
		assert.True(t, strings.HasPrefix(string(f.Requests()[0]), "GET http://127.0.0.1:"+strconv.Itoa(plain.Port())+"/abs HTTP/1.1\r\n"), "%q", f.Requests()[0])
		n.SetHTTPProxy("", -1)

		unknown := testserver.NewTLS(t, testserver.NewCA(t).Issue(t, "127.0.0.1"), testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nany"))
		require.NoError(t, n.SetTLSOptions(httpclient.TLSClientUnsafe(nil)))
		o = d.run(t, n, unknown.URL("/"), nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 3"), []byte("any")}, o)
	})
}

// §7 D3, §2.9.7: sizes are 64-bit — a Content-Length past 2^32 is reported
// as is (Godot's 32-bit counters wrap).
// §1.7.7, §2.2: Godot's set_http_proxy reaches the node's client at once,
// and the client picks the target form as it writes the request line: a
// proxy set or removed after Request, before the request is sent, decides
// its form on the connection already chosen.
func TestHTTPProxyChangedBeforeRequestSent(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	firstLine := func(srv *testserver.Server) string {
		srv.Close()
		require.Len(t, srv.Requests(), 1)
		line, _, _ := strings.Cut(string(srv.Requests()[0]), "\r\n")
		return line
	}
	t.Run("set", func(t *testing.T) {
		srv := serve(t, testserver.Respond(ok))
		n := newNode(t)
		o := nodes.Callback(t, n, func() error {
			err := n.Request(srv.URL("/x"), nil, httpclient.MethodGet, "")
			n.SetHTTPProxy("127.0.0.1", 9) // the connection goes to srv all the same
			return err
		})
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}, o)
		assert.Equal(t, "GET http://127.0.0.1:"+strconv.Itoa(srv.Port())+"/x HTTP/1.1", firstLine(srv))
	})
	t.Run("removed", func(t *testing.T) {
		proxy := serve(t, testserver.Respond(ok))
		n := newNode(t)
		n.SetHTTPProxy("127.0.0.1", proxy.Port())
		o := nodes.Callback(t, n, func() error {
			err := n.Request("http://example.invalid:81/x", nil, httpclient.MethodGet, "")
			n.SetHTTPProxy("", -1)
			return err
		})
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}, o)
		assert.Equal(t, "GET /x HTTP/1.1", firstLine(proxy))
	})
}

func TestSizesAre64Bit(t *testing.T) {
	n := New()
	defer n.Close()
	srv := serve(t, testserver.Script(testserver.Read(), testserver.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 5000000000\r\n\r\nabc"), testserver.Hold()))
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	nodes.ProcessUntil(t, n, func() bool { return n.DownloadedBytes() >= 3 },
		func() string { return fmt.Sprint("downloaded ", n.DownloadedBytes()) })
	assert.Equal(t, int64(5000000000), n.BodySize())
	n.CancelRequest()
	assert.Equal(t, int64(5000000000), n.BodySize(), "kept after the request (§2.9.7)")
}

// The getters may be read from another goroutine while a worker runs (the
// race detector checks this test).
func TestGettersConcurrent(t *testing.T) {
	n := New()
	defer n.Close()
	require.NoError(t, n.SetUseThreads(true))
	body := bigBody(2 << 20)
	srv := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+string(body)))
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			_ = n.BodySize()
			_ = n.DownloadedBytes()
			_ = n.HTTPClientStatus()
		}
	}()
	o := viaCallback(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
	stop.Store(true)
	wg.Wait()
	require.Equal(t, ResultSuccess, o.C.Result)
	assert.Equal(t, len(body), len(o.C.Body))
}

// LastError keeps the cause of the last delivered completion.
// §7.2 connection reuse, §7 D2: a connection on which the server sent bytes
// no request asked for — with the response, while it was idle, a body after
// a head without framing, the real response after a 1xx that Godot takes as
// final — is not reused: the next request gets a new connection and its own
// response, in every driver.
func TestKeepAliveUnsolicitedNotReused(t *testing.T) {
	first := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	spoof := "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nspoofd"
	fresh := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh"
	w, rd, sleep := testserver.WriteString, testserver.Read, testserver.Sleep
	// steps is what the first connection sends; it then reads the next
	// request, if one comes, and holds. present: the stray bytes are there
	// before the second request (the test waits until they were written:
	// loopback delivers a write before it returns); otherwise they come
	// after it.
	for _, c := range []struct {
		name    string
		steps   []testserver.Step
		present bool
	}{
		{"with the response", []testserver.Step{rd(), w(first + spoof)}, true},
		{"while idle", []testserver.Step{rd(), w(first), sleep(30 * time.Millisecond), w(spoof)}, true},
		{"body after a head without framing", []testserver.Step{rd(), w("HTTP/1.0 200 OK\r\nServer: x\r\n\r\n"), sleep(150 * time.Millisecond), w(spoof)}, false},
		{"real response after a 1xx", []testserver.Step{rd(), w("HTTP/1.1 103 Early Hints\r\nContent-Length: 2\r\n\r\nok"), sleep(150 * time.Millisecond), w(spoof)}, false},
		// Under TLS one record: the body read leaves the rest in crypto/tls.
		{"in the body's record", []testserver.Step{rd(), w("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"), sleep(20 * time.Millisecond), w("ok" + spoof)}, true},
	} {
		for _, tlsOn := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/tls=%v", c.name, tlsOn), func(t *testing.T) {
				eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
					require.NoError(t, n.SetKeepAlive(true))
					written := make(chan struct{})
					steps := append(append([]testserver.Step{}, c.steps...),
						testserver.Do("written", func(*testserver.Conn) error { close(written); return nil }), rd(), testserver.Hold())
					handler := func(conn *testserver.Conn) {
						if conn.Index() == 0 {
							testserver.Script(steps...)(conn)
							return
						}
						testserver.RespondEach(fresh)(conn)
					}
					var srv *testserver.Server
					url := func(p string) string { return srv.URL(p) }
					if tlsOn {
						ca := testserver.NewCA(t)
						srv = testserver.NewTLS(t, ca.Issue(t, "localhost"), handler)
						require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(ca.Pool(), "")))
						url = func(p string) string { return fmt.Sprintf("https://localhost:%d%s", srv.Port(), p) }
					} else {
						srv = serve(t, handler)
					}
					o := d.run(t, n, url("/1"), nil, httpclient.MethodGet, nil)
					require.Equal(t, ResultSuccess, o.C.Result)
					if d.Name == "threads" {
						require.NoError(t, n.SetUseThreads(false)) // d.run sets it again
					}
					if c.present {
						// 30 ms after the response: a 60 ms pause was a race.
						require.True(t, drive.Closed(written, maxWait), "the server did not write its stray bytes")
					} else {
						time.Sleep(60 * time.Millisecond) // the scenario: the second request comes before the late bytes
					}
					o = d.run(t, n, url("/2"), nil, httpclient.MethodGet, nil)
					assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 5"), []byte("fresh")}, o)
					n.Close()
					srv.Close()
					assert.Equal(t, 2, srv.Accepted())
				})
			})
		}
	}
}

func TestLastError(t *testing.T) {
	n := New()
	defer n.Close()
	o := viaCallback(t, n, urlFor("127.0.0.1", testserver.ClosedPort(t), "/"), nil, httpclient.MethodGet, nil)
	require.Equal(t, ResultCantConnect, o.C.Result)
	assert.ErrorIs(t, n.LastError(), godot.ErrCantConnect)
	srv := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
	o = viaCallback(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
	require.Equal(t, ResultSuccess, o.C.Result)
	assert.NoError(t, n.LastError())
	_, err := n.Do(context.Background(), "bad", nil, httpclient.MethodGet, nil)
	assert.ErrorIs(t, err, godot.ErrInvalidParameter)
}

// §7.2 connection reuse: a request that fails on a kept connection before
// any response (the server closed it as the request went out) is sent once
// more on a new connection when the method is idempotent; a POST is not
// repeated (RESULT_CONNECTION_ERROR).
func TestKeepAliveRetry(t *testing.T) {
	ok := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	for _, m := range []httpclient.Method{httpclient.MethodGet, httpclient.MethodPost} {
		t.Run(m.String(), func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				require.NoError(t, n.SetKeepAlive(true))
				srv := serve(t, func(c *testserver.Conn) {
					if c.Index() == 0 {
						testserver.Script(testserver.Read(), testserver.WriteString(ok), testserver.Read(), testserver.Close())(c)
						return
					}
					testserver.RespondEach(ok)(c)
				})
				o := d.run(t, n, srv.URL("/1"), nil, m, nil)
				require.Equal(t, ResultSuccess, o.C.Result)
				if d.Name == "threads" {
					require.NoError(t, n.SetUseThreads(false))
				}
				o = d.run(t, n, srv.URL("/2"), nil, m, nil)
				n.Close()
				srv.Close()
				if m == httpclient.MethodGet {
					assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}, o)
					assert.Equal(t, 2, srv.Accepted())
					assert.Len(t, srv.Requests(), 3)
				} else {
					assertCompletion(t, Completion{Result: ResultConnectionError}, o)
					assert.Equal(t, 1, srv.Accepted())
				}
			})
		})
	}
}

// §7.2 connection reuse with Do: the run of one request is reused by the
// next on the kept connection, so what a completion delivered must stay
// the caller's — every body and header list intact after later requests,
// whichever framing, and with a context deadline (a timer) in between.
func TestKeepAliveDoKeepsCompletions(t *testing.T) {
	resps := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-N: 0\r\n\r\nfirst",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-N: 1\r\n\r\n3\r\nsec\r\n3\r\nond\r\n0\r\n\r\n",
		"HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-N: 2\r\n\r\nthird",
		"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-N: 3\r\n\r\nfourth",
	}
	srv := serve(t, testserver.Script(
		testserver.Read(), testserver.WriteString(resps[0]),
		testserver.Read(), testserver.WriteString(resps[1]),
		testserver.Read(), testserver.WriteString(resps[2]),
		testserver.Read(), testserver.WriteString(resps[3]), testserver.Hold()))
	n := New()
	defer n.Close()
	require.NoError(t, n.SetKeepAlive(true))
	var got []Completion
	for i := range resps {
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		if i == 2 {
			ctx, cancel = context.WithTimeout(ctx, time.Minute)
		}
		c, err := n.Do(ctx, srv.URL("/"+strconv.Itoa(i)), nil, httpclient.MethodGet, nil)
		cancel()
		require.NoError(t, err)
		got = append(got, c)
	}
	assert.Equal(t, []Completion{
		{ResultSuccess, 200, hdrs("Content-Length: 5", "X-N: 0"), []byte("first")},
		{ResultSuccess, 200, hdrs("Transfer-Encoding: chunked", "X-N: 1"), []byte("second")},
		{ResultSuccess, 201, hdrs("Content-Length: 5", "X-N: 2"), []byte("third")},
		{ResultSuccess, 200, hdrs("Content-Length: 6", "X-N: 3"), []byte("fourth")},
	}, got)
	assert.Equal(t, 1, srv.Accepted(), "one kept connection")
}

// §7.2: a drain (SetDrainPerStep) ends at a read that gives nothing — for a
// chunked body at the second in a row — so a frame takes what has arrived
// and returns; it never waits in Process for the rest of a body that comes
// later. The server sends the rest only once the test has seen the first
// part delivered by a Process that returned (or after 2 s: a Process that
// spun on empty reads until then has read the whole body).
func TestDrainEndsAtEmptyRead(t *testing.T) {
	for _, c := range []struct{ name, head, first, rest string }{
		{"length", "Content-Length: 10", "hello", "world"},
		{"chunked", "Transfer-Encoding: chunked", "5\r\nhello\r\n", "5\r\nworld\r\n0\r\n\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rest := make(chan struct{})
			srv := serve(t, testserver.Script(testserver.Read(),
				testserver.WriteString("HTTP/1.1 200 OK\r\n"+c.head+"\r\n\r\n"+c.first),
				testserver.Do("wait", func(*testserver.Conn) error {
					select {
					case <-rest:
					case <-time.After(2 * time.Second):
					}
					return nil
				}),
				testserver.WriteString(c.rest), testserver.Hold()))
			n := newNode(t)
			require.NoError(t, n.SetDrainPerStep(true))
			var got []byte
			done := false
			n.OnRequestCompleted(func(res Result, _ int, _ []string, body []byte) {
				assert.Equal(t, ResultSuccess, res)
				got, done = body, true
			})
			require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
			seen := false
			for deadline := time.Now().Add(maxWait); !done && time.Now().Before(deadline); time.Sleep(frame) {
				n.Process()
				if d := n.DownloadedBytes(); d > 0 && !seen {
					seen = true
					assert.Equal(t, int64(5), d, "a Process read past what had arrived")
					close(rest)
				}
			}
			require.True(t, done, "no completion")
			assert.Equal(t, "helloworld", string(got))
		})
	}
}

// §7.2: each frame's drain is bounded by what that frame read or decoded
// (drainStepMax, 4 MiB), not by the body's total: a body of 10 MiB, read 4
// KiB at a time, takes a few frames (at one read per frame once the bound
// was reached, its last 6 MiB alone would take 1536 frames).
func TestDrainBoundIsPerFrame(t *testing.T) {
	body := bigBody(10 << 20)
	resp := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body)
	n := newNode(t)
	require.NoError(t, n.SetDownloadChunkSize(4096))
	require.NoError(t, n.SetDrainPerStep(true))
	srv := serve(t, testserver.Respond(resp))
	o := viaCallback(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
	require.Equal(t, ResultSuccess, o.C.Result)
	assert.Equal(t, body, o.C.Body)
	assert.Less(t, o.Frames, 300, "frames for the body")
	t.Logf("%d frames", o.Frames)
}
