package httpclient

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// transportServer is an httptest server that counts the connections it
// accepted and has open.
type transportServer struct {
	*httptest.Server
	accepted atomic.Int32
	open     atomic.Int32
	maxOpen  atomic.Int32
}

func newTransportServer(t *testing.T, h http.HandlerFunc) *transportServer {
	t.Helper()
	s := &transportServer{}
	s.Server = httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.accepted.Add(1)
			n := s.open.Add(1)
			for {
				m := s.maxOpen.Load()
				if n <= m || s.maxOpen.CompareAndSwap(m, n) {
					break
				}
			}
		case http.StateClosed, http.StateHijacked:
			s.open.Add(-1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// newTransport returns a Transport whose idle connections are closed when
// the test ends.
func newTransport(t *testing.T) *Transport {
	tr := &Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

func get(t *testing.T, tr *Transport, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := (&http.Client{Transport: tr}).Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func echoHandler(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("X-Method", r.Method)
	w.Header().Set("X-UA", r.UserAgent())
	w.Header().Set("X-Accept", r.Header.Get("Accept"))
	w.Header().Set("X-Host", r.Host)
	w.Header().Set("X-Len", fmt.Sprint(r.ContentLength))
	w.Header().Set("X-URI", r.RequestURI)
	_, _ = w.Write(b)
}

func TestTransportGet(t *testing.T) {
	s := newTransportServer(t, echoHandler)
	resp, body := get(t, newTransport(t), s.URL+"/a/b?x=1")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "200 OK", resp.Status)
	assert.Equal(t, "GET", resp.Header.Get("X-Method"))
	assert.True(t, strings.HasPrefix(resp.Header.Get("X-UA"), "GodotEngine/"), resp.Header.Get("X-UA"))
	assert.Equal(t, "*/*", resp.Header.Get("X-Accept"))
	assert.Equal(t, "/a/b?x=1", resp.Header.Get("X-URI"))
	assert.Empty(t, body)
}

// The request bytes are Godot's (§1.7): user headers sorted by name, then
// Host, Content-Length, User-Agent and Accept.
func TestTransportRequestBytes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			got <- ""
			return
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		var head strings.Builder
		for {
			line, err := br.ReadString('\n')
			head.WriteString(line)
			if err != nil || line == "\r\n" {
				break
			}
		}
		body := make([]byte, 2)
		_, _ = io.ReadFull(br, body)
		got <- head.String() + string(body)
		_, _ = io.WriteString(conn, "HTTP/1.1 204 No Content\r\n\r\n")
	}()
	tr := newTransport(t)
	tr.UserAgent = "UA"
	req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/p?q=1", strings.NewReader("hi"))
	req.Header.Set("X-B", "2")
	req.Header.Add("X-A", "1")
	req.Header.Add("X-A", "0")
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 204, resp.StatusCode)
	want := "POST /p?q=1 HTTP/1.1\r\nX-A: 1\r\nX-A: 0\r\nX-B: 2\r\nHost: " + ln.Addr().String() +
		"\r\nContent-Length: 2\r\nUser-Agent: UA\r\nAccept: */*\r\n\r\nhi"
	assert.Equal(t, want, <-got)
}

func TestTransportMethodsAndBodies(t *testing.T) {
	s := newTransportServer(t, echoHandler)
	tr := newTransport(t)
	for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		t.Run(m, func(t *testing.T) {
			req, _ := http.NewRequest(m, s.URL+"/m", strings.NewReader("data-"+m))
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, m, resp.Header.Get("X-Method"))
			assert.Equal(t, "data-"+m, string(b))
			assert.Equal(t, fmt.Sprint(len("data-"+m)), resp.Header.Get("X-Len"))
		})
	}
	t.Run("POST without body has no Content-Length (§1.7.10)", func(t *testing.T) {
		req, _ := http.NewRequest("POST", s.URL+"/m", nil)
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, "0", resp.Header.Get("X-Len"))
	})
}

func TestTransportRefusesForeignMethod(t *testing.T) {
	req, _ := http.NewRequest("PROPFIND", "http://127.0.0.1:1/", nil)
	_, err := newTransport(t).RoundTrip(req)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PROPFIND")
}

func TestTransportRefusesBadInput(t *testing.T) {
	tr := newTransport(t)
	for _, u := range []string{"ftp://127.0.0.1/", "http:///x", "http://127.0.0.1:99999/"} {
		req, _ := http.NewRequest("GET", u, nil)
		_, err := tr.RoundTrip(req)
		assert.Error(t, err, u)
	}
	s := newTransportServer(t, echoHandler)
	req, _ := http.NewRequest("GET", s.URL, nil)
	req.Header["X-Evil"] = []string{"a\r\nInjected: 1"}
	_, err := tr.RoundTrip(req)
	assert.ErrorIs(t, err, ErrInvalidParameter, "§7 D2: CR/LF in a header is refused")
}

func TestTransportHead(t *testing.T) {
	s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1234")
		if r.Method != "HEAD" {
			_, _ = w.Write(make([]byte, 1234))
		}
	})
	tr := newTransport(t)
	req, _ := http.NewRequest("HEAD", s.URL, nil)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Empty(t, b)
	assert.EqualValues(t, 1234, resp.ContentLength)
	// The connection is reused for the next request.
	_, body := get(t, tr, s.URL)
	assert.Len(t, body, 1234)
	assert.EqualValues(t, 1, s.accepted.Load())
}

// A response with nothing to read — HEAD, Content-Length: 0 — closed
// without a Read (http.Client.Head then Close) leaves its connection to the
// pool, as net/http's http.NoBody does.
func TestTransportEmptyBodyClosedUnread(t *testing.T) {
	for _, c := range []struct{ name, method, path string }{
		{"HEAD", "HEAD", "/"},
		{"Content-Length 0", "GET", "/empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/empty" {
					w.Header().Set("Content-Length", "0")
					return
				}
				w.Header().Set("Content-Length", "5")
				_, _ = io.WriteString(w, "hello")
			})
			tr := newTransport(t)
			for range 3 {
				req, _ := http.NewRequest(c.method, s.URL+c.path, nil)
				resp, err := tr.RoundTrip(req)
				require.NoError(t, err)
				assert.Equal(t, http.NoBody, resp.Body)
				assert.False(t, resp.Close)
				require.NoError(t, resp.Body.Close())
			}
			assert.EqualValues(t, 1, s.accepted.Load(), "one connection for the three requests")
		})
	}
	t.Run("Connection close", func(t *testing.T) {
		var conns atomic.Int32
		addr := sequenceServer(t, func(c net.Conn) {
			conns.Add(1)
			readHead(bufio.NewReader(c))
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		}, func(c net.Conn) {
			conns.Add(1)
			readHead(bufio.NewReader(c))
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
		})
		tr := newTransport(t)
		for range 2 {
			req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
		}
		assert.EqualValues(t, 2, conns.Load(), "a connection the server closes is not pooled")
	})
}

func TestTransportStreamsChunkedBody(t *testing.T) {
	release := make(chan struct{})
	s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "second")
	})
	resp, err := (&http.Client{Transport: newTransport(t)}).Get(s.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
	assert.EqualValues(t, -1, resp.ContentLength)
	buf := make([]byte, 64)
	n, err := resp.Body.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "first", string(buf[:n]), "the first chunk arrives before the server sends the rest")
	close(release)
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "second", string(rest))
}

// A chunked response's length is unknown whatever its Content-Length says
// (Godot reads it chunked, §1.9, and its get_response_body_length keeps the
// header's value, COMPAT R4): ContentLength is −1 and the header no longer
// names the framing, as with net/http.
func TestTransportChunkedWithContentLength(t *testing.T) {
	for _, strict := range []bool{false, true} {
		t.Run(fmt.Sprint("strict=", strict), func(t *testing.T) {
			const head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n"
			addr := sequenceServer(t, func(c net.Conn) {
				readHead(bufio.NewReader(c))
				_, _ = io.WriteString(c, head+"5\r\nhello\r\n0\r\n\r\n")
			})
			tr := newTransport(t)
			tr.Strict = strict
			resp, body := get(t, tr, "http://"+addr+"/")
			assert.Equal(t, "hello", string(body))
			assert.EqualValues(t, -1, resp.ContentLength)
			assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
			assert.Equal(t, http.Header{"X-A": {"b"}}, resp.Header)
		})
	}
}

// HEAD has no body: a chunked HEAD response keeps its headers, and its
// ContentLength is the Content-Length it declares, as with net/http.
func TestTransportHeadChunkedContentLength(t *testing.T) {
	addr := sequenceServer(t, func(c net.Conn) {
		readHead(bufio.NewReader(c))
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
		time.Sleep(500 * time.Millisecond)
	})
	req, err := http.NewRequest("HEAD", "http://"+addr+"/", nil)
	require.NoError(t, err)
	resp, err := newTransport(t).RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.EqualValues(t, 5, resp.ContentLength)
	assert.Equal(t, "5", resp.Header.Get("Content-Length"))
	assert.Equal(t, "chunked", resp.Header.Get("Transfer-Encoding"))
}

func TestTransportLargeBody(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB
	s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		_, _ = w.Write(data)
	})
	resp, body := get(t, newTransport(t), s.URL)
	assert.EqualValues(t, len(data), resp.ContentLength)
	assert.True(t, bytes.Equal(data, body))
}

func TestTransportTrailersAreRead(t *testing.T) {
	s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		_, _ = io.WriteString(w, "body")
		w.Header().Set("X-Sum", "42")
	})
	tr := newTransport(t)
	_, body := get(t, tr, s.URL)
	assert.Equal(t, "body", string(body))
	_, body = get(t, tr, s.URL)
	assert.Equal(t, "body", string(body))
	assert.EqualValues(t, 1, s.accepted.Load(), "the trailer was consumed: the connection carried the next response")
}

func TestTransportReusesConnections(t *testing.T) {
	s := newTransportServer(t, echoHandler)
	tr := newTransport(t)
	for range 5 {
		get(t, tr, s.URL)
	}
	assert.EqualValues(t, 1, s.accepted.Load())
}

// A connection the server closed while idle is not used: the liveness
// check (§1.6.3) sees the FIN and a new connection is made.
func TestTransportServerClosedIdleConnection(t *testing.T) {
	s := newTransportServer(t, echoHandler)
	tr := newTransport(t)
	get(t, tr, s.URL)
	s.CloseClientConnections()
	require.Eventually(t, func() bool { return s.open.Load() == 0 }, 5*time.Second, time.Millisecond)
	resp, _ := get(t, tr, s.URL)
	assert.Equal(t, 200, resp.StatusCode)
	assert.EqualValues(t, 2, s.accepted.Load())
}

// A reused connection that fails before the response is retried once on a
// new connection for an idempotent method.
func TestTransportRetriesReusedConnection(t *testing.T) {
	addr := sequenceServer(t, func(c1 net.Conn) {
		// First connection: answers once, then reads the second request
		// and closes without answering.
		br := bufio.NewReader(c1)
		readHead(br)
		_, _ = io.WriteString(c1, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")
		readHead(br)
	}, func(c2 net.Conn) {
		readHead(bufio.NewReader(c2))
		_, _ = io.WriteString(c2, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nb")
	})
	tr := newTransport(t)
	_, b := get(t, tr, "http://"+addr)
	assert.Equal(t, "a", string(b))
	_, b = get(t, tr, "http://"+addr)
	assert.Equal(t, "b", string(b))
}

// Two idle connections the server closed together (each reads the next
// request and closes without answering): the retry after the first takes
// the second, and the one after that a new connection — as net/http, which
// goes on while the failed connection was a reused one. Before, the second
// failure was the request's error. Found by the session 24 Transport audit.
func TestTransportRetriesPastTwoStaleConnections(t *testing.T) {
	var both sync.WaitGroup
	both.Add(2)
	stale := func(body string) func(net.Conn) {
		return func(c net.Conn) {
			br := bufio.NewReader(c)
			readHead(br)
			both.Done()
			both.Wait() // both first requests in flight: two connections
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n"+body)
			readHead(br)
		}
	}
	addr := sequenceServer(t, stale("a"), stale("b"), func(c net.Conn) {
		readHead(bufio.NewReader(c))
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nc")
	})
	tr := newTransport(t)
	var wg sync.WaitGroup
	var first [2]string
	for i := range first {
		wg.Go(func() { // (assert, not require: not the test's goroutine)
			resp, err := (&http.Client{Transport: tr}).Get("http://" + addr + "/")
			if assert.NoError(t, err) {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				first[i] = string(b)
			}
		})
	}
	wg.Wait()
	assert.ElementsMatch(t, []string{"a", "b"}, first[:])
	_, b := get(t, tr, "http://"+addr)
	assert.Equal(t, "c", string(b), "retried on the other idle connection, then on a new one")
}

// A request whose response had begun on a reused connection — a head cut
// short — is not sent again: the server answered it (net/http's rule). Before,
// any failure on a reused connection was retried. Found by the session 24
// review.
func TestTransportNoRetryAfterResponseBegun(t *testing.T) {
	var got atomic.Int32
	addr := sequenceServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		readHead(br)
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")
		readHead(br)
		got.Add(1)
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Le") // then the close
	}, func(c net.Conn) {
		readHead(bufio.NewReader(c))
		got.Add(1)
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nb")
	})
	tr := newTransport(t)
	_, b := get(t, tr, "http://"+addr)
	assert.Equal(t, "a", string(b))
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
	require.NoError(t, err)
	resp, err := tr.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
	}
	assert.ErrorIs(t, err, ErrConnectionError, "the cut response is the request's error")
	assert.EqualValues(t, 1, got.Load(), "the second request was sent once")
}

// sequenceServer serves the n-th connection it accepts with handlers[n-1]
// (later ones are closed at once), each closed when its handler returns,
// and returns the server's address.
func sequenceServer(t *testing.T, handlers ...func(net.Conn)) string {
	t.Helper()
	var next atomic.Int32
	return drive.Serve(t, func(c net.Conn) {
		if i := int(next.Add(1)) - 1; i < len(handlers) {
			handlers[i](c)
		}
	}).Addr().String()
}

func readHead(br *bufio.Reader) {
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" {
			return
		}
	}
}

func TestTransportConcurrent(t *testing.T) {
	s := newTransportServer(t, echoHandler)
	tr := newTransport(t)
	tr.MaxConnsPerHost = 4
	tr.MaxIdleConnsPerHost = 4
	hc := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	var failures atomic.Int32
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				msg := fmt.Sprintf("g%d-i%d", g, i)
				resp, err := hc.Post(s.URL, "text/plain", strings.NewReader(msg))
				if err != nil {
					failures.Add(1)
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(b) != msg {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	assert.Zero(t, failures.Load())
	assert.LessOrEqual(t, s.maxOpen.Load(), int32(4), "MaxConnsPerHost")
	assert.LessOrEqual(t, s.accepted.Load(), int32(8), "connections are pooled")
}

func TestTransportContextCanceledBeforeConnect(t *testing.T) {
	s := newTransportServer(t, echoHandler)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL, nil)
	_, err := (&http.Client{Transport: newTransport(t)}).Do(req)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
}

// endsWhileConnecting is a context that is live the first time its Err is
// asked and ended from the second on: RoundTrip finds it live, and it ends
// while the connection is being made, before any Abort it schedules can
// run.
type endsWhileConnecting struct {
	context.Context
	asked atomic.Int32
	once  sync.Once
	done  chan struct{}
}

func (c *endsWhileConnecting) Done() <-chan struct{} { return c.done }

func (c *endsWhileConnecting) Err() error {
	if c.asked.Add(1) == 1 {
		return nil
	}
	c.once.Do(func() { close(c.done) })
	return context.Canceled
}

// A context that ends while the connection is made fails the request with
// its error, and the connection is not used: nothing is sent.
func TestTransportContextCanceledWhileConnecting(t *testing.T) {
	var served atomic.Int32
	s := newTransportServer(t, func(http.ResponseWriter, *http.Request) { served.Add(1) })
	ctx := &endsWhileConnecting{Context: context.Background(), done: make(chan struct{})}
	req, err := http.NewRequestWithContext(ctx, "GET", s.URL, nil)
	require.NoError(t, err)
	_, err = newTransport(t).RoundTrip(req)
	require.ErrorIs(t, err, context.Canceled)
	assert.GreaterOrEqual(t, ctx.asked.Load(), int32(2), "the context was asked again after connecting")
	assert.Zero(t, served.Load(), "a request was sent on the connection")
}

// endsAtBodyEnd is a context that ends when the request body's reader
// reaches its end (ended) and closes Done only when the test is over: the
// abort its end schedules has not run when the response comes back, as when
// a quick server beats the goroutine of context.AfterFunc.
type endsAtBodyEnd struct {
	context.Context
	ended atomic.Bool
	done  chan struct{}
}

func (c *endsAtBodyEnd) Done() <-chan struct{} { return c.done }

func (c *endsAtBodyEnd) Err() error {
	if c.ended.Load() {
		return context.Canceled
	}
	return nil
}

// endingBody reads r and ends ctx when the last byte is read (a body of
// known length is not read again for its io.EOF).
type endingBody struct {
	r   *strings.Reader
	ctx *endsAtBodyEnd
}

func (b *endingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if b.r.Len() == 0 {
		b.ctx.ended.Store(true)
	}
	return n, err
}

// A context that ends while the request is sent fails the request with its
// error even when the whole response is already there, and the connection
// is not reused.
func TestTransportContextCanceledWhileSending(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusTemporaryRedirect)
			})
			tr := newTransport(t)
			ctx := &endsAtBodyEnd{Context: context.Background(), done: make(chan struct{})}
			t.Cleanup(func() { close(ctx.done) })
			body := &endingBody{r: strings.NewReader(strings.Repeat("x", 5000)), ctx: ctx}
			req, err := http.NewRequestWithContext(ctx, "PUT", s.URL, body)
			require.NoError(t, err)
			if !chunked {
				req.ContentLength = 5000
			}
			resp, err := tr.RoundTrip(req)
			if resp != nil {
				resp.Body.Close()
			}
			require.ErrorIs(t, err, context.Canceled, "the response came first")
			require.True(t, ctx.ended.Load())

			// The next request takes a new connection.
			req, err = http.NewRequest("GET", s.URL, nil)
			require.NoError(t, err)
			resp, err = tr.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusTemporaryRedirect, resp.StatusCode)
			assert.EqualValues(t, 2, s.accepted.Load())
		})
	}
}

func TestTransportContextCanceledWaitingForHead(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) { <-block })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL, nil)
	start := time.Now()
	_, err := (&http.Client{Transport: newTransport(t)}).Do(req)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
	var uerr *url.Error
	assert.ErrorAs(t, err, &uerr, "http.Client reports a *url.Error")
}

func TestTransportContextCanceledDuringBody(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		_, _ = io.WriteString(w, "part")
		w.(http.Flusher).Flush()
		<-block
	})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL, nil)
	resp, err := newTransport(t).RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	buf := make([]byte, 4)
	_, err = io.ReadFull(resp.Body, buf)
	require.NoError(t, err)
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = io.ReadAll(resp.Body)
	assert.ErrorIs(t, err, context.Canceled)
}

// Close from another goroutine ends a blocked Read; the connection is not
// pooled.
func TestTransportBodyCloseAbortsRead(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.(http.Flusher).Flush()
		<-block
	})
	tr := newTransport(t)
	req, _ := http.NewRequest("GET", s.URL, nil)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	time.AfterFunc(20*time.Millisecond, func() { resp.Body.Close() })
	_, err = io.ReadAll(resp.Body)
	assert.ErrorIs(t, err, errClosedBody)
	tr.mu.Lock()
	assert.Empty(t, tr.idle)
	tr.mu.Unlock()
}

func TestTransportConnectErrors(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(ts.ClosedPort(t))
	_, err := (&http.Client{Transport: newTransport(t)}).Get("http://" + addr)
	var uerr *url.Error
	require.ErrorAs(t, err, &uerr)
	assert.ErrorIs(t, err, ErrCantConnect)
	var oerr *net.OpError
	assert.ErrorAs(t, err, &oerr, "the real cause is kept")
}

func TestTransportTLS(t *testing.T) {
	s := httptest.NewTLSServer(http.HandlerFunc(echoHandler))
	defer s.Close()
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	t.Run("trusted", func(t *testing.T) {
		tr := newTransport(t)
		tr.TLS = TLSClient(pool, "")
		resp, _ := get(t, tr, s.URL)
		assert.Equal(t, 200, resp.StatusCode)
		// http.Response.TLS: the connection's state, nil only in clear text.
		require.NotNil(t, resp.TLS)
		assert.True(t, resp.TLS.HandshakeComplete)
		assert.Equal(t, s.Certificate().Raw, resp.TLS.PeerCertificates[0].Raw)
		resp, _ = get(t, tr, s.URL) // a pooled connection
		require.NotNil(t, resp.TLS)
		resp, _ = get(t, newTransport(t), newTransportServer(t, echoHandler).URL)
		assert.Nil(t, resp.TLS)
	})
	t.Run("untrusted", func(t *testing.T) {
		_, err := (&http.Client{Transport: newTransport(t)}).Get(s.URL)
		assert.ErrorIs(t, err, ErrCantConnect)
		var uerr x509.UnknownAuthorityError
		assert.ErrorAs(t, err, &uerr)
	})
	t.Run("name override", func(t *testing.T) {
		tr := newTransport(t)
		tr.TLS = TLSClient(pool, "example.com")
		resp, _ := get(t, tr, s.URL)
		assert.Equal(t, 200, resp.StatusCode)
	})
}

func TestTransportHTTPProxy(t *testing.T) {
	var seen atomic.Value
	proxy := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.RequestURI)
		_, _ = io.WriteString(w, "via proxy")
	})
	tr := newTransport(t)
	pu, _ := url.Parse(proxy.URL)
	tr.Proxy = http.ProxyURL(pu)
	_, body := get(t, tr, "http://example.test:8080/x?y=1")
	assert.Equal(t, "via proxy", string(body))
	assert.Equal(t, "http://example.test:8080/x?y=1", seen.Load(), "absolute-form target (§1.14.1)")

	// §7.2 proxy credentials: user:password@ goes to the proxy as
	// Proxy-Authorization, on a connection of its own (another pool key).
	var auth atomic.Value
	proxy2 := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Proxy-Authorization"))
		_, _ = io.WriteString(w, "via proxy")
	})
	pu2, _ := url.Parse(proxy2.URL)
	tr.Proxy = http.ProxyURL(&url.URL{Scheme: "http", User: url.UserPassword("u", "p"), Host: pu2.Host})
	_, body = get(t, tr, "http://example.test/")
	assert.Equal(t, "via proxy", string(body))
	assert.Equal(t, "Basic dTpw", auth.Load())
}

func TestTransportHostOverride(t *testing.T) {
	s := newTransportServer(t, echoHandler)
	req, _ := http.NewRequest("GET", s.URL, nil)
	req.Host = "game.example"
	resp, err := newTransport(t).RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "game.example", resp.Header.Get("X-Host"))
}

func TestTransportIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	s := httptest.NewUnstartedServer(http.HandlerFunc(echoHandler))
	s.Listener = ln
	s.Start()
	defer s.Close()
	resp, _ := get(t, newTransport(t), s.URL)
	assert.Equal(t, strings.TrimPrefix(s.URL, "http://"), resp.Header.Get("X-Host"), "bracketed Host")
}

func TestTransportConnectionClose(t *testing.T) {
	s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		_, _ = io.WriteString(w, "x")
	})
	tr := newTransport(t)
	resp, _ := get(t, tr, s.URL)
	assert.True(t, resp.Close)
	get(t, tr, s.URL)
	assert.EqualValues(t, 2, s.accepted.Load())

	s2 := newTransportServer(t, echoHandler)
	req, _ := http.NewRequest("GET", s2.URL, nil)
	req.Close = true
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	get(t, tr, s2.URL)
	assert.EqualValues(t, 2, s2.accepted.Load(), "Request.Close: not pooled")

	// RFC 9112 §9.3, where Godot's KeepAlive sees no close (§1.8.3,
	// §1.8.8): the server closes; the connection is not pooled.
	for _, head := range []string{"HTTP/1.0 200 OK\r\n", "HTTP/1.1 200 OK\r\nConnection:close\r\n"} {
		var conns atomic.Int32
		serveOne := func(c net.Conn) {
			conns.Add(1)
			br := bufio.NewReader(c)
			readHead(br)
			_, _ = io.WriteString(c, head+"Content-Length: 1\r\n\r\nx")
			_, _ = io.Copy(io.Discard, br) // a request sent here is never answered
		}
		addr := sequenceServer(t, serveOne, serveOne)
		for range 2 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/", nil)
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err, head)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			resp.Body.Close()
			cancel()
			assert.Equal(t, "x", string(body))
			assert.True(t, resp.Close, head)
			if strings.HasPrefix(head, "HTTP/1.0") {
				assert.Equal(t, "HTTP/1.0", resp.Proto)
				assert.Equal(t, 0, resp.ProtoMinor)
			}
		}
		assert.EqualValues(t, 2, conns.Load(), head)
	}
}

func TestTransportIdleTimeoutAndCloseIdle(t *testing.T) {
	s := newTransportServer(t, echoHandler)
	tr := newTransport(t)
	tr.IdleConnTimeout = 30 * time.Millisecond
	get(t, tr, s.URL)
	require.Eventually(t, func() bool { return s.open.Load() == 0 }, 5*time.Second, 5*time.Millisecond,
		"the idle connection is closed after IdleConnTimeout")

	tr.IdleConnTimeout = time.Hour
	get(t, tr, s.URL)
	assert.EqualValues(t, 1, s.open.Load())
	tr.CloseIdleConnections()
	require.Eventually(t, func() bool { return s.open.Load() == 0 }, 5*time.Second, 5*time.Millisecond)
}

// TestTransportIdleTimeoutFromLastUse: the idle timeout counts from when a
// connection last turned idle, not from when it was first pooled (the
// timer is armed once and re-armed by its own expiry): a connection reused
// just before its first timeout stays open for a whole timeout after that
// reuse, then closes.
func TestTransportIdleTimeoutFromLastUse(t *testing.T) {
	const timeout = 600 * time.Millisecond
	s := newTransportServer(t, echoHandler)
	tr := newTransport(t)
	tr.IdleConnTimeout = timeout
	get(t, tr, s.URL)
	first := time.Now()
	time.Sleep(timeout / 2)
	if time.Since(first) > timeout*3/4 {
		t.Skip("the machine is too slow for this timing")
	}
	// Taken before the request: the connection turns idle again during it
	// (an empty body is done in RoundTrip), so a whole timeout from its
	// last use ends after reused+timeout. Taken after get returned, it was
	// later than that by however long the goroutine was held back, and the
	// 10 ms slack of the bound below need not cover that.
	reused := time.Now()
	get(t, tr, s.URL)
	require.EqualValues(t, 1, s.accepted.Load(), "reused before its timeout")
	// Past the first timeout, well within the second.
	time.Sleep(time.Until(first.Add(timeout + timeout/8)))
	if time.Since(reused) < timeout*3/4 { // a loaded machine may have slept much longer
		assert.EqualValues(t, 1, s.open.Load(), "closed by the timeout of its first idle period")
	} else {
		t.Logf("slept past the check (%v since the reuse)", time.Since(reused))
	}
	require.Eventually(t, func() bool { return s.open.Load() == 0 }, 5*time.Second, 5*time.Millisecond,
		"closed a timeout after its last use")
	assert.GreaterOrEqual(t, time.Since(reused), timeout, "not before a whole timeout")
	get(t, tr, s.URL)
	assert.EqualValues(t, 2, s.accepted.Load(), "a new connection after the expiry")
}

// TestTransportIdleTimeoutAfterLongUse: a connection whose idle timer fires
// while it carries a request (longer than the timeout) is not closed then,
// and is given a whole timeout again once it turns idle.
func TestTransportIdleTimeoutAfterLongUse(t *testing.T) {
	const timeout = 200 * time.Millisecond
	s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(3 * timeout)
		}
		_, _ = io.WriteString(w, "x")
	})
	tr := newTransport(t)
	tr.IdleConnTimeout = timeout
	get(t, tr, s.URL)
	req, err := http.NewRequest(http.MethodGet, s.URL+"/slow", nil)
	require.NoError(t, err)
	resp, err := tr.RoundTrip(req) // in use when the first timeout ends
	require.NoError(t, err)
	// The connection turns idle when its body has been read (at io.EOF),
	// not before this: taken after the body was read, returned was later
	// than that by however long the goroutine was held back, and the 10 ms
	// slack of the bound below need not cover that.
	returned := time.Now()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "x", string(body))
	require.EqualValues(t, 1, s.accepted.Load(), "the slow request reused the idle connection")
	require.Eventually(t, func() bool { return s.open.Load() == 0 }, 5*time.Second, 5*time.Millisecond,
		"closed a timeout after the slow request")
	assert.GreaterOrEqual(t, time.Since(returned), timeout, "not before a whole timeout")
}

// In Godot's mode a 1xx is the final response (§1.8); in strict mode it is
// skipped (§7.4).
func TestTransportInformational(t *testing.T) {
	s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</a.css>")
		w.WriteHeader(http.StatusEarlyHints)
		_, _ = io.WriteString(w, "final")
	})
	tr := newTransport(t)
	tr.Strict = true
	resp, body := get(t, tr, s.URL)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "final", string(body))
}

func TestTransportStatusCodes(t *testing.T) {
	s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
		var code int
		_, _ = fmt.Sscanf(r.URL.Path, "/%d", &code)
		w.WriteHeader(code)
	})
	tr := newTransport(t)
	for _, code := range []int{200, 204, 301, 404, 500} {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/%d", s.URL, code), nil)
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, code, resp.StatusCode)
	}
	assert.EqualValues(t, 1, s.accepted.Load())
}

// http.Response.Status is "200 OK", or the bare code when net/http has no
// text for it; Godot keeps no reason phrase (§1.8), so the server's is not
// used.
func TestTransportStatusLine(t *testing.T) {
	for line, want := range map[string]string{
		"HTTP/1.1 200 OK":     "200 OK",
		"HTTP/1.1 404 Nope":   "404 Not Found",
		"HTTP/1.1 299 Custom": "299",
		"HTTP/1.1 299":        "299",
		"HTTP/1.1 1000 Big":   "1000",
	} {
		addr := sequenceServer(t, func(c net.Conn) {
			readHead(bufio.NewReader(c))
			_, _ = io.WriteString(c, line+"\r\nContent-Length: 2\r\n\r\nok")
		})
		resp, _ := get(t, newTransport(t), "http://"+addr+"/")
		assert.Equal(t, want, resp.Status, line)
	}
}

// The per-host maps hold only keys with a connection, idle or in use, or a
// request waiting: a Transport that meets many hosts does not grow with
// them (§7 D1).
func TestTransportPerHostMapsShrink(t *testing.T) {
	tr := newTransport(t)
	tr.MaxConnsPerHost = 4
	tr.IdleConnTimeout = 20 * time.Millisecond
	for range 10 {
		s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "x") })
		_, body := get(t, tr, s.URL)
		assert.Equal(t, "x", string(body))
	}
	require.Eventually(t, func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return len(tr.idle) == 0 && len(tr.slots) == 0
	}, 5*time.Second, 10*time.Millisecond, "every connection expired: no key left")

	// A request that gave up waiting for a slot leaves nothing behind.
	tr.MaxConnsPerHost = 1
	s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "y") })
	req, _ := http.NewRequest("GET", s.URL, nil)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, "GET", s.URL, nil)
	_, err = tr.RoundTrip(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	resp.Body.Close() // not read to its end: closed
	tr.mu.Lock()
	assert.Empty(t, tr.slots)
	assert.Empty(t, tr.idle)
	tr.mu.Unlock()
}

func TestTransportErrorBeforeHead(t *testing.T) {
	s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	_, err := (&http.Client{Transport: newTransport(t)}).Get(s.URL)
	assert.ErrorIs(t, err, ErrConnectionError)
	assert.ErrorIs(t, err, ErrPeerClosed)
	assert.False(t, errors.Is(err, context.Canceled))
}

// A 1xx taken as the final response (Godot's rules, §1.8) leaves the real
// response in the socket: the connection is not pooled, so the next request
// gets its own answer (§7 D2).
func TestTransportInformationalNotPooled(t *testing.T) {
	s := newTransportServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hints" {
			w.WriteHeader(http.StatusEarlyHints)
		}
		_, _ = io.WriteString(w, "answer to "+r.URL.Path)
	})
	tr := newTransport(t)
	resp, _ := get(t, tr, s.URL+"/hints")
	assert.Equal(t, http.StatusEarlyHints, resp.StatusCode, "Godot takes the 1xx as final")
	assert.True(t, resp.Close)
	_, body := get(t, tr, s.URL+"/next")
	assert.Equal(t, "answer to /next", string(body))
	assert.EqualValues(t, 2, s.accepted.Load())
}

// The Transport speaks to http:// proxies only: an https:// or socks5://
// proxy URL fails the request with a *ProxySchemeError before any byte is
// sent — never the request, and its Proxy-Authorization, in clear text.
func TestTransportProxySchemeRefused(t *testing.T) {
	for _, scheme := range []string{"https", "socks5", "HTTPS"} {
		t.Run(scheme, func(t *testing.T) {
			srv := ts.New(t, ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			tr := newTransport(t)
			tr.Proxy = func(*http.Request) (*url.URL, error) {
				return &url.URL{Scheme: scheme, Host: srv.Addr(), User: url.UserPassword("user", "secret")}, nil
			}
			for _, target := range []string{"http://example.test/x", "https://example.test/x"} {
				req, err := http.NewRequest(http.MethodGet, target, nil)
				require.NoError(t, err)
				resp, err := tr.RoundTrip(req)
				if resp != nil {
					resp.Body.Close()
				}
				var se *ProxySchemeError
				assert.ErrorAs(t, err, &se, target)
			}
			srv.Close()
			assert.Zero(t, srv.Accepted(), "nothing reached the proxy")
		})
	}
}

// A request body whose Read blocks (an io.Pipe whose writer is idle) does
// not outlive the request's context: RoundTrip returns the context's error
// in time, the body closed, as net/http does.
func TestTransportBlockedBodyContext(t *testing.T) {
	srv := ts.New(t, func(c *ts.Conn) { _ = c.Hold() })
	tr := newTransport(t)
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+srv.Addr()+"/up", pr)
	require.NoError(t, err)
	done := roundTripAsync(tr, req)
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		_, werr := pw.Write([]byte("x"))
		assert.ErrorIs(t, werr, io.ErrClosedPipe, "the body was closed")
	case <-time.After(5 * time.Second):
		pw.CloseWithError(errors.New("test over")) // unblock it
		<-done
		t.Fatal("RoundTrip still blocked in the body's Read 5 s after its context ended")
	}
}

// Through an HTTP proxy, the Transport writes an IPv6 target in brackets
// in the absolute-form request line (RFC 3986), as the proxy must parse it;
// Godot's client writes it bare (§1.7.7), which the Client keeps.
func TestTransportHTTPProxyIPv6Target(t *testing.T) {
	lines := make(chan string, 4)
	proxy := ts.New(t, func(c *ts.Conn) {
		for {
			req, err := c.ReadRequest()
			if err != nil {
				return
			}
			line, _, _ := strings.Cut(string(req), "\r\n")
			lines <- line
			if c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) != nil {
				return
			}
		}
	})
	tr := newTransport(t)
	tr.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: proxy.Addr()})
	for target, host := range map[string]string{
		"http://[2001:db8::1]:8080/x": "[2001:db8::1]:8080",
		"http://[::1]:8080/x":         "[0000:0000:0000:0000:0000:0000:0000:0001]:8080", // written out for Godot's 4-character minimum (§1.5.6)
	} {
		get(t, tr, target)
		line := <-lines
		u, err := url.Parse(strings.Fields(line)[1])
		require.NoError(t, err, "request line %q", line)
		assert.Equal(t, host, u.Host, "request line %q", line)
	}
}

// TestTransportRefusalsCarryCode: a request RoundTrip does not send is
// refused with ERR_INVALID_PARAMETER around the reason (a method Godot does
// not have, a scheme, a port), as the client's own refusals; a proxy the
// Transport cannot use is ERR_CANT_CONNECT around the cause, as the node's
// SetProxyFunc.
func TestTransportRefusalsCarryCode(t *testing.T) {
	srv := ts.New(t, ts.Script(ts.Read(), ts.Hold()))
	for _, tc := range []struct {
		name, method, url string
		proxy             func(*http.Request) (*url.URL, error)
		code              Error
		text              string
	}{
		{"method", "BREW", srv.URL("/"), nil, ErrInvalidParameter, `round_trip: ERR_INVALID_PARAMETER: method "BREW" is not one of Godot's`},
		{"scheme", "GET", "ftp://example.com/", nil, ErrInvalidParameter, `unsupported protocol scheme "ftp"`},
		{"port", "GET", "http://example.com:99999/", nil, ErrInvalidParameter, `invalid port "99999"`},
		{"proxy scheme", "GET", srv.URL("/"), http.ProxyURL(&url.URL{Scheme: "socks5", Host: "127.0.0.1:1080"}), ErrCantConnect, `proxy scheme "socks5"`},
		{"proxy function", "GET", srv.URL("/"), func(*http.Request) (*url.URL, error) { return nil, errors.New("no proxy today") }, ErrCantConnect, "no proxy today"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &Transport{Proxy: tc.proxy}
			defer tr.CloseIdleConnections()
			req, err := http.NewRequest(tc.method, tc.url, nil)
			require.NoError(t, err)
			_, err = (&http.Client{Transport: tr}).Do(req)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.code)
			assert.Contains(t, err.Error(), tc.text)
		})
	}
}

// A CONNECT the proxy never answers does not hang a request whose context
// cannot end: the tunnel's connect is bounded (one minute, as net/http's
// CONNECT; shortened here) and the request fails with
// context.DeadlineExceeded, the proxy's connection closed. A context that
// can end is the caller's bound: no other is added.
func TestTransportTunnelConnectBounded(t *testing.T) {
	defer func(d time.Duration) { tunnelConnectTimeout = d }(tunnelConnectTimeout)
	tunnelConnectTimeout = 300 * time.Millisecond
	closed := make(chan struct{}, 2)
	proxy := ts.New(t, func(c *ts.Conn) {
		if c.Hold() == nil {
			closed <- struct{}{}
		}
	})
	tr := newTransport(t)
	tr.Proxy = func(*http.Request) (*url.URL, error) {
		return &url.URL{Scheme: "http", Host: proxy.Addr()}, nil
	}
	roundTrip := func(ctx context.Context) (time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://example.test/x", nil)
		require.NoError(t, err)
		start := time.Now()
		select {
		case err := <-roundTripAsync(tr, req):
			return time.Since(start), err
		case <-time.After(15 * time.Second):
			t.Fatal("RoundTrip still waits for the CONNECT's answer after 15 s")
			return 0, nil
		}
	}
	proxyClosed := func() {
		t.Helper()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatal("the proxy's connection was not closed")
		}
	}

	took, err := roundTrip(context.Background())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.GreaterOrEqual(t, took, tunnelConnectTimeout)
	assert.Less(t, took, 10*time.Second)
	proxyClosed()
	require.Len(t, proxy.Received(), 1)
	assert.True(t, strings.HasPrefix(string(proxy.Received()[0]), "CONNECT example.test:443 "), "%q", proxy.Received()[0])

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(3*tunnelConnectTimeout, cancel)
	took, err = roundTrip(ctx)
	require.ErrorIs(t, err, context.Canceled, "a context that can end is not given the tunnel's bound")
	assert.Greater(t, took, 2*tunnelConnectTimeout, "not ended by the tunnel's bound")
	proxyClosed()
}

// roundTripAsync runs rt.RoundTrip(req) on a goroutine of its own (a
// response's body closed) and sends its error.
func roundTripAsync(rt http.RoundTripper, req *http.Request) <-chan error {
	done := make(chan error, 1)
	go func() {
		resp, err := rt.RoundTrip(req)
		if resp != nil {
			resp.Body.Close()
		}
		done <- err
	}()
	return done
}
