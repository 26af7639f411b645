package httprequest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/chunked"
	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// streamDriver is one of the three drivers of §7.3 for a streamed body:
// RequestStream, or DoStream with the same arguments.
type streamDriver struct{ drive.Driver }

func (d streamDriver) run(t *testing.T, n *HTTPRequest, url string, h []string, m httpclient.Method, b io.Reader, l int64) outcome {
	t.Helper()
	return nodes.Run(t, d.Driver, n, func() error { return n.RequestStream(url, h, m, b, l) },
		func(ctx context.Context) (Completion, error) { return n.DoStream(ctx, url, h, m, b, l) })
}

func eachStreamDriver(t *testing.T, f func(t *testing.T, d streamDriver, n *HTTPRequest)) {
	drive.Each(t, newNode, func(t *testing.T, d drive.Driver, n *HTTPRequest) { f(t, streamDriver{d}, n) })
}

// onlyReader hides every method of r but Read (not an io.Seeker).
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// TestRequestStreamNode: RequestStream and DoStream (§7.2 opt-in) send a
// body read from a reader, in the three drivers (§7.3): with a known length
// the request is byte for byte RequestRaw's for the same body (§2.4.10,
// §1.7.10 — the node's Accept-Encoding included, §2.4.6); with length −1 it
// is chunked. UploadedBytes and UploadSize report the upload.
func TestRequestStreamNode(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 300_000/16)
	for _, length := range []int64{int64(len(body)), -1} {
		eachStreamDriver(t, func(t *testing.T, d streamDriver, n *HTTPRequest) {
			reqs := make(chan []byte, 1)
			srv := serve(t, route(func(_ string, req []byte) string {
				reqs <- req
				return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
			}), testserver.WithMaxRequest(4<<20))
			var sizes []int64
			n.OnUploadProgress(func(sent, total int64) {
				sizes = append(sizes, sent)
				assert.Equal(t, length, total)
			})
			o := d.run(t, n, srv.URL("/up"), []string{"X-A: 1"}, httpclient.MethodPut, onlyReader{bytes.NewReader(body)}, length)
			assertCompletion(t, Completion{Result: ResultSuccess, ResponseCode: 200,
				Headers: []string{"Content-Length: 2"}, Body: []byte("ok")}, o)
			req := <-reqs
			hdrs := []string{"X-A: 1", acceptGzipHeader}
			if length >= 0 {
				want := wire.AppendRequest(nil, &wire.Request{Method: httpclient.MethodPut, URL: "/up",
					Headers: hdrs, Body: body, Host: srv.Host(), Port: srv.Port()})
				assert.True(t, bytes.Equal(want, req), "RequestRaw's bytes")
			} else {
				i := bytes.Index(req, []byte("\r\n\r\n")) + 4
				want := wire.AppendRequestHead(nil, &wire.Request{Method: httpclient.MethodPut, URL: "/up",
					Headers: hdrs, Host: srv.Host(), Port: srv.Port(), StreamLength: wire.StreamChunked})
				assert.Equal(t, string(want), string(req[:i]))
				got, err := io.ReadAll(chunked.NewReader(bytes.NewReader(req[i:])))
				require.NoError(t, err)
				assert.True(t, bytes.Equal(body, got))
			}
			assert.Equal(t, int64(len(body)), n.UploadedBytes())
			assert.Equal(t, length, n.UploadSize())
			require.NotEmpty(t, sizes, "upload progress reported (the check of its total ran)")
			if d.Name == "process" {
				assert.Equal(t, int64(len(body)), sizes[len(sizes)-1])
				assert.IsIncreasing(t, sizes)
			}
		})
	}
}

// TestRequestStreamRedirect pins the redirect decision for a streamed body:
// Godot sends the method and body again on a 301/302 (§2.8.1.7); a body that
// is an io.Seeker is rewound and sent again; any other body cannot be, and
// the request ends with RESULT_REQUEST_FAILED, the redirect's code and
// headers, and ErrBodyNotReplayable. A redirect that drops the body
// (SetRFC9110Redirects, 303) never needs it.
func TestRequestStreamRedirect(t *testing.T) {
	const data = "upload-data"
	tests := []struct {
		name    string
		code    int
		rfc     bool
		body    func() io.Reader
		want    Result
		bodies  []string
		methods []string
	}{
		{"§2.8.1.7_seeker_sent_again", 302, false, func() io.Reader { return strings.NewReader(data) }, ResultSuccess,
			[]string{data, data}, []string{"POST", "POST"}},
		// COMPAT U3: rewound to where it was when RequestStream was
		// called, not to its start (a mutation seeking to 0 passed).
		{"§2.8.1.7_seeker_sent_again_from_its_offset", 302, false, func() io.Reader {
			r := strings.NewReader("skip:" + data)
			_, _ = r.Seek(int64(len("skip:")), io.SeekStart)
			return r
		}, ResultSuccess, []string{data, data}, []string{"POST", "POST"}},
		{"§2.8.1.7_not_replayable", 301, false, func() io.Reader { return onlyReader{strings.NewReader(data)} }, ResultRequestFailed,
			[]string{data}, []string{"POST"}},
		{"§7.2_rfc_303_drops_body", 303, true, func() io.Reader { return onlyReader{strings.NewReader(data)} }, ResultSuccess,
			[]string{data, ""}, []string{"POST", "GET"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachStreamDriver(t, func(t *testing.T, d streamDriver, n *HTTPRequest) {
				require.NoError(t, n.SetRFC9110Redirects(tt.rfc))
				var log requestLog
				srv := serve(t, route(func(line string, req []byte) string {
					log.add("", req)
					if strings.Contains(line, " /a ") {
						return redirect(tt.code, "/b")
					}
					return "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"
				}))
				o := d.run(t, n, srv.URL("/a"), nil, httpclient.MethodPost, tt.body(), int64(len(data)))
				reqs := log.all()
				var bodies, methods []string
				for _, r := range reqs {
					_, b, _ := strings.Cut(r, "\r\n\r\n")
					bodies = append(bodies, b)
					methods = append(methods, strings.Fields(r)[0])
				}
				assert.Equal(t, tt.bodies, bodies)
				assert.Equal(t, tt.methods, methods)
				if tt.want == ResultSuccess {
					assertCompletion(t, Completion{Result: ResultSuccess, ResponseCode: 200,
						Headers: []string{"Content-Length: 1"}, Body: []byte("b")}, o)
					return
				}
				assertCompletion(t, Completion{Result: tt.want, ResponseCode: tt.code,
					Headers: []string{"Location: /b", "Content-Length: 0"}}, o)
				assert.ErrorIs(t, o.Err, ErrBodyNotReplayable)
			})
		})
	}
}

// TestRequestStreamNodeFailures: a reader error or a body shorter than its
// length ends the request with RESULT_CONNECTION_ERROR wrapping the cause
// (§2.6: the client's CONNECTION_ERROR); bad arguments are refused by
// RequestStream itself with ErrInvalidParameter and no completion (§7 D6).
func TestRequestStreamNodeFailures(t *testing.T) {
	boom := errors.New("source gone")
	eachStreamDriver(t, func(t *testing.T, d streamDriver, n *HTTPRequest) {
		srv := serve(t, route(func(string, []byte) string { return "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" }))
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodPost, io.MultiReader(strings.NewReader("abc"), errReader{boom}), 10)
		assertCompletion(t, Completion{Result: ResultConnectionError}, o)
		assert.ErrorIs(t, o.Err, boom)
		var be *httpclient.RequestBodyError
		assert.ErrorAs(t, o.Err, &be)

		o = d.run(t, n, srv.URL("/"), nil, httpclient.MethodPost, strings.NewReader("abc"), 10)
		assertCompletion(t, Completion{Result: ResultConnectionError}, o)
		assert.ErrorIs(t, o.Err, io.ErrUnexpectedEOF)

		refused := func(o outcome) {
			t.Helper()
			err := o.ReqErr // Request's error; Do's is its own
			if err == nil {
				err = o.Err
			}
			assert.ErrorIs(t, err, godot.ErrInvalidParameter)
			assert.Equal(t, Completion{}, o.C, "no completion (§7 D6)")
		}
		refused(d.run(t, n, srv.URL("/"), []string{"Content-Length: 3"}, httpclient.MethodPost, strings.NewReader("abc"), -1))
		refused(d.run(t, n, srv.URL("/"), nil, httpclient.MethodPost, strings.NewReader("abc"), -7))
	})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// zeroReader gives n zero bytes, made as they are read.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), z.n)
	clear(p[:k])
	z.n -= k
	return int(k), nil
}

// TestRequestStreamStalledPeer: a peer that never reads stalls the upload
// (the status stays REQUESTING, §1.6.4.1); the timeout ends it with
// RESULT_TIMEOUT (§2.11) and CancelRequest ends it at once with no
// completion (§2.12) in the three drivers — a blocked write is aborted, a
// background write joined (goleak checks none is left).
func TestRequestStreamStalledPeer(t *testing.T) {
	const size = 256 << 20
	stall := func(c *testserver.Conn) { <-c.Done() }
	eachStreamDriver(t, func(t *testing.T, d streamDriver, n *HTTPRequest) {
		srv := serve(t, stall)
		require.NoError(t, n.SetTimeout(300*time.Millisecond))
		start := time.Now()
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodPut, &zeroReader{n: size}, size)
		assertCompletion(t, Completion{Result: ResultTimeout}, o)
		assert.Less(t, time.Since(start), 5*time.Second)
		sent := n.UploadedBytes()
		assert.Greater(t, sent, int64(0))
		assert.Less(t, sent, int64(size))
	})
	for _, threads := range []bool{false, true} {
		t.Run(fmt.Sprint("cancel/threads=", threads), func(t *testing.T) {
			n := New()
			t.Cleanup(n.Close)
			srv := serve(t, stall)
			require.NoError(t, n.SetUseThreads(threads))
			delivered := 0
			n.OnRequestCompleted(func(Result, int, []string, []byte) { delivered++ })
			require.NoError(t, n.RequestStream(srv.URL("/"), nil, httpclient.MethodPut, &zeroReader{n: size}, size))
			nodes.ProcessUntil(t, n, func() bool { return n.UploadedBytes() > 0 && n.HTTPClientStatus() == httpclient.StatusRequesting }, func() string { return "the body being sent" })
			drive.Idle(n, 20, frame) // the scenario: frames while the upload is under way
			assert.Equal(t, httpclient.StatusRequesting, n.HTTPClientStatus(), "stalled while sending the body")
			start := time.Now()
			n.CancelRequest()
			assert.Less(t, time.Since(start), 2*time.Second, "cancel does not wait for the peer")
			for range 5 {
				n.Process()
			}
			assert.Zero(t, delivered, "no completion after a cancel")
		})
	}
}

// TestUploadProgressRaw: UploadedBytes and UploadSize also report a body
// given as bytes (Request, RequestRaw, Do), and start again with each
// request (0 before the request is sent, §7.2 opt-in getters).
func TestUploadProgressRaw(t *testing.T) {
	srv := serve(t, route(func(string, []byte) string { return "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" }))
	n := New()
	t.Cleanup(n.Close)
	body := bytes.Repeat([]byte("x"), 100_000)
	c, err := n.Do(context.Background(), srv.URL("/"), nil, httpclient.MethodPost, body)
	require.NoError(t, err)
	assert.Equal(t, ResultSuccess, c.Result)
	assert.Equal(t, int64(len(body)), n.UploadedBytes())
	assert.Equal(t, int64(len(body)), n.UploadSize())

	var seen [][2]int64
	n.OnUploadProgress(func(sent, total int64) { seen = append(seen, [2]int64{sent, total}) })
	o := nodes.Callback(t, n, func() error { return n.Request(srv.URL("/"), nil, httpclient.MethodGet, "") })
	assert.Equal(t, ResultSuccess, o.C.Result)
	assert.Zero(t, n.UploadedBytes())
	assert.Zero(t, n.UploadSize())
	assert.Empty(t, seen, "nothing to report for a request without a body")
}

// A redirect hop that drops the body (RFC 9110 303) sends none: UploadSize
// is then 0, as UploadedBytes, so that progress ends complete, not at 0 of
// the first hop's size.
func TestUploadSizeAfterBodyDroppingRedirect(t *testing.T) {
	srv := redirectPost(t, 303)
	n := newNode(t)
	require.NoError(t, n.SetRFC9110Redirects(true))
	var calls [][2]int64
	n.OnUploadProgress(func(sent, total int64) { calls = append(calls, [2]int64{sent, total}) })
	c, err := n.Do(context.Background(), srv.URL("/up"), nil, httpclient.MethodPost, bytes.Repeat([]byte("x"), 1000))
	require.NoError(t, err)
	require.Equal(t, 200, c.ResponseCode)
	assert.Equal(t, int64(0), n.UploadSize())
	assert.Equal(t, int64(0), n.UploadedBytes())
	require.NotEmpty(t, calls, "upload progress reported")
	assert.Equal(t, [2]int64{0, 0}, calls[len(calls)-1], "the last progress call (all: %v)", calls)
}

// While the hop after a body-dropping redirect connects, UploadedBytes is
// not the first hop's count above an UploadSize of 0 (found by the
// goroutine-safety audit: several frames said 1000 sent of 0).
func TestUploadedNeverAboveSizeAcrossRedirect(t *testing.T) {
	srv := redirectPost(t, 303)
	n := newNode(t)
	require.NoError(t, n.SetRFC9110Redirects(true))
	done := false
	n.OnRequestCompleted(func(Result, int, []string, []byte) { done = true })
	require.NoError(t, n.RequestRaw(srv.URL("/up"), nil, httpclient.MethodPost, bytes.Repeat([]byte("x"), 1000)))
	for i := 0; i < 5000 && !done; i++ {
		n.Process()
		if size := n.UploadSize(); size >= 0 {
			require.LessOrEqual(t, n.UploadedBytes(), size, "frame %d, status %v", i, n.HTTPClientStatus())
		}
		time.Sleep(frame)
	}
	require.True(t, done)
}

// UploadedBytes starts at 0 with each redirect hop, a body-keeping one too
// (Godot's 302 keeps a POST's method and body): while the next hop
// connects it does not say the first hop's count.
func TestUploadedRestartsOnBodyKeepingRedirect(t *testing.T) {
	srv := redirectPost(t, 302)
	n := newNode(t)
	done := false
	n.OnRequestCompleted(func(Result, int, []string, []byte) { done = true })
	require.NoError(t, n.RequestRaw(srv.URL("/up"), nil, httpclient.MethodPost, bytes.Repeat([]byte("x"), 1000)))
	var stale []string
	sawFull := false
	for i := 0; i < 5000 && !done; i++ {
		n.Process()
		st, up := n.HTTPClientStatus(), n.UploadedBytes()
		if sawFull && (st == httpclient.StatusResolving || st == httpclient.StatusConnecting) && up != 0 {
			stale = append(stale, st.String())
		}
		sawFull = sawFull || up == 1000
		time.Sleep(frame)
	}
	require.True(t, done)
	assert.True(t, sawFull)
	assert.Empty(t, stale, "frames of the second hop's connect where UploadedBytes said the first hop's count")
}

// redirectPost serves a redirect with code to /done for a POST, and "ok"
// for anything else.
func redirectPost(t *testing.T, code int) *testserver.Server {
	return serve(t, route(func(line string, _ []byte) string {
		if strings.HasPrefix(line, "POST") {
			return redirect(code, "/done")
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	}))
}
