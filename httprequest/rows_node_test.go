package httprequest

import (
	"bytes"
	"compress/gzip"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// Tests for parts of rows of docs/behaviour.md §2.1–§2.14 that the rows'
// other tests did not pin.

// §2.14, §2.6: each status change costs at least one frame. Godot's
// _update_connection sends the request in the CONNECTED step
// (client->request(), which only queues the bytes, §1.7) and returns; the
// bytes go out at the next step's poll() in REQUESTING (§1.6.4.1), the head
// is read by a later poll(), the response is handled at the BODY step after
// it, and a body that arrives with the head is read and delivered in that
// same frame. So, from CONNECTED, with a server that answers at once:
// frame 1 request() (nothing on the wire), frame 2 poll() sends, frame 3
// poll() reads the head (BODY), frame 4 the completion.
func TestFrameTraceOneStatusPerFrame(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	got := make(chan struct{})      // the server received request bytes
	release := make(chan struct{})  // the test lets the server answer
	answered := make(chan struct{}) // the server wrote its response
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		var req []byte
		for !bytes.Contains(req, []byte("\r\n\r\n")) {
			n, err := c.Read(buf)
			if n > 0 && req == nil {
				close(got)
			}
			req = append(req, buf[:n]...)
			if err != nil {
				return
			}
		}
		<-release
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"))
		close(answered)
		_, _ = c.Read(buf) // until the client closes
	}()
	n := newNode(t)
	var done []Completion
	n.OnRequestCompleted(func(r Result, code int, h []string, b []byte) {
		done = append(done, Completion{r, code, h, b})
	})
	url := "http://127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) + "/"
	require.NoError(t, n.RequestRaw(url, nil, httpclient.MethodGet, nil))
	processUntil(t, n, httpclient.StatusConnected)

	n.Process() // frame 1: request() queues the bytes
	assert.Equal(t, httpclient.StatusRequesting, n.HTTPClientStatus())
	select {
	case <-got:
		t.Fatal("§2.14: the request went out in the frame that called request(); Godot sends it at the next poll()")
	case <-time.After(50 * time.Millisecond):
	}

	n.Process() // frame 2: poll() sends; the answer is not there yet
	assert.Equal(t, httpclient.StatusRequesting, n.HTTPClientStatus(), "frame 2 sends, the answer comes after")
	select {
	case <-got:
	case <-time.After(maxWait):
		t.Fatal("frame 2 did not send the request")
	}
	close(release)
	select {
	case <-answered:
	case <-time.After(maxWait):
		t.Fatal("the server never answered")
	}
	time.Sleep(50 * time.Millisecond) // the response crosses the loopback

	n.Process() // frame 3: poll() reads the head
	assert.Equal(t, httpclient.StatusBody, n.HTTPClientStatus(), "frame 3 reads the head only")
	assert.Empty(t, done, "no completion before the BODY step")

	n.Process() // frame 4: the BODY step reads the body and completes
	require.Len(t, done, 1, "frame 4 reads the body and delivers the completion")
	assert.Equal(t, Completion{ResultSuccess, 200, []string{"Content-Length: 2"}, []byte("hi")}, done[0])
}

// §2.2, §2.7.4: accept_gzip may be set at any time and is read twice: when
// request() builds the headers (§2.4.6) and when the response headers
// arrive (_handle_response looks at Content-Encoding only while it is
// on). Turned off after request(), the header was sent but the gzip body is delivered
// raw; turned on after request(), no header was sent but the body is
// decoded.
func TestAcceptGzipReadWhenResponseArrives(t *testing.T) {
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = zw.Write([]byte("hello hello hello"))
	require.NoError(t, zw.Close())
	resp := "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(zb.Len()) + "\r\n\r\n" + zb.String()
	headers := []string{"Content-Encoding: gzip", "Content-Length: " + strconv.Itoa(zb.Len())}
	for _, c := range []struct {
		name       string
		atRequest  bool
		atResponse bool
		header     bool
		body       string
	}{
		{"on_then_off_raw", true, false, true, zb.String()},
		{"off_then_on_decoded", false, true, false, "hello hello hello"},
	} {
		t.Run(c.name, func(t *testing.T) {
			reqs := make(chan []byte, 1)
			srv := serve(t, func(conn *testserver.Conn) {
				req, err := conn.ReadRequest()
				if err != nil {
					return
				}
				reqs <- req
				_ = conn.Write([]byte(resp))
			})
			n := newNode(t)
			n.SetAcceptGzip(c.atRequest)
			o := nodes.Callback(t, n, func() error {
				err := n.RequestRaw(srv.URL("/"), nil, httpclient.MethodGet, nil)
				n.SetAcceptGzip(c.atResponse) // before the first Process: before the response
				return err
			})
			assertCompletion(t, Completion{ResultSuccess, 200, headers, []byte(c.body)}, o)
			assert.Equal(t, c.header, bytes.Contains(<-reqs, []byte(acceptGzipHeader)), "Accept-Encoding sent")
		})
	}
}

// §2.6.1.1, §2.9.1: the up-front check is `body_len > body_size_limit`, so a
// Content-Length equal to the limit is read and delivered; one byte more is
// R7 with the code and headers and no body.
func TestBodySizeLimitEqualContentLength(t *testing.T) {
	for _, c := range []struct {
		name string
		cl   int
		want Result
	}{
		{"equal_R0", 5, ResultSuccess},
		{"one_more_R7", 6, ResultBodySizeLimitExceeded},
	} {
		t.Run(c.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				body := "abcdef"[:c.cl]
				h := "Content-Length: " + strconv.Itoa(c.cl)
				srv := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\n"+h+"\r\n\r\n"+body))
				require.NoError(t, n.SetBodySizeLimit(5))
				o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
				want := Completion{c.want, 200, []string{h}, nil}
				if c.want == ResultSuccess {
					want.Body = []byte(body)
				}
				assertCompletion(t, want, o)
				assert.Equal(t, int64(c.cl), n.BodySize(), "get_body_size()")
			})
		})
	}
}

// §2.2, §2.8.1.2: max_redirects may be set at any time and _handle_response
// compares it with the redirects followed at each 301/302, so lowering it while a chain is being followed ends
// the chain at the next redirect with R12, that response's code and
// headers.
func TestMaxRedirectsReadAtEachRedirect(t *testing.T) {
	atB := make(chan struct{})
	release := make(chan struct{})
	srv := serve(t, route(func(line string, _ []byte) string {
		switch {
		case strings.HasPrefix(line, "GET /a "):
			return "HTTP/1.1 301 Moved\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n"
		case strings.HasPrefix(line, "GET /b "):
			close(atB)
			<-release
			return "HTTP/1.1 302 Found\r\nLocation: /c\r\nContent-Length: 0\r\n\r\n"
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	}))
	n := newNode(t)
	var done []Completion
	n.OnRequestCompleted(func(r Result, code int, h []string, b []byte) {
		done = append(done, Completion{r, code, h, b})
	})
	require.NoError(t, n.RequestRaw(srv.URL("/a"), nil, httpclient.MethodGet, nil))
	nodes.ProcessUntil(t, n, func() bool {
		select {
		case <-atB:
			return true
		default:
			return false
		}
	}, func() string { return "the redirect to /b was not followed" })
	require.NoError(t, n.SetMaxRedirects(1))
	close(release)
	nodes.ProcessUntil(t, n, func() bool { return len(done) > 0 }, func() string { return "no completion" })
	require.Len(t, done, 1)
	assert.Equal(t, Completion{ResultRedirectLimitReached, 302, []string{"Location: /c", "Content-Length: 0"}, nil}, done[0])
}

// §2.2, §2.11.1: timeout may be set at any time but only request_raw()
// reads it, to start the timer: set during a request it changes nothing for that request — no timeout
// where none was armed, and the armed one still fires after it is set to 0.
func TestTimeoutSetDuringRequestAffectsNextOnly(t *testing.T) {
	const short = 60 * time.Millisecond
	for _, c := range []struct {
		name          string
		before, after time.Duration
		want          Result
	}{
		{"armed_none_then_set", 0, short, ResultSuccess},
		{"armed_then_set_to_0", short, 0, ResultTimeout},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := serve(t, testserver.Script(testserver.Read(), testserver.Sleep(4*short),
				testserver.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")))
			n := newNode(t)
			require.NoError(t, n.SetTimeout(c.before))
			o := nodes.Callback(t, n, func() error {
				err := n.RequestRaw(srv.URL("/"), nil, httpclient.MethodGet, nil)
				require.NoError(t, n.SetTimeout(c.after))
				return err
			})
			assert.Equal(t, c.want, o.C.Result, "%v", o.Err)
			assert.Equal(t, 1, o.Callbacks)
		})
	}
}

// §2.14 (test_http_request.h): timeout 1 s and one 2 s frame while the
// client is still connecting give request_completed(13, 0, [], []) and no
// client.request() call: the frame's step only polls the connection, then
// the Timer, processed after the node, expires. Scaled down: a 40 ms
// timeout, one frame 120 ms after request().
func TestTimeoutLongFrameBeforeRequestSent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	received := make(chan int, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		b := make([]byte, 4096)
		n, _ := c.Read(b)
		received <- n
	}()
	n := newNode(t)
	require.NoError(t, n.SetTimeout(40*time.Millisecond))
	var done []Completion
	n.OnRequestCompleted(func(r Result, code int, h []string, b []byte) {
		done = append(done, Completion{r, code, h, b})
	})
	url := "http://127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) + "/"
	require.NoError(t, n.RequestRaw(url, nil, httpclient.MethodGet, nil))
	time.Sleep(120 * time.Millisecond) // one long frame
	n.Process()
	require.Len(t, done, 1, "the completion comes in the long frame")
	assert.Equal(t, Completion{Result: ResultTimeout}, done[0])
	for range 5 {
		n.Process()
	}
	assert.Len(t, done, 1)
	assert.Zero(t, <-received, "no request bytes reached the server")
}
