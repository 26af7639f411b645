package httpclient

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// closingKeepAliveServer answers every request on a connection with a
// kept-alive 200 "ok", and closes the first connection closeAfter after its
// first response: a server whose keep-alive timeout is short.
func closingKeepAliveServer(t *testing.T, closeAfter time.Duration) string {
	url, _ := keepAliveServer(t, func() { time.Sleep(closeAfter) })
	return url
}

// keepAliveServer answers every request on a connection with a kept-alive
// 200 "ok", and closes the first connection once endFirst returns, after
// its first response. accepted is how many connections came.
func keepAliveServer(t *testing.T, endFirst func()) (url string, accepted func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	var n atomic.Int32
	go func() {
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			go func(first bool, c net.Conn) {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); err != nil {
						return
					}
					if first {
						endFirst()
						return // the FIN, with the connection idle at the client
					}
				}
			}(i == 0, c)
		}
	}()
	return "http://" + ln.Addr().String() + "/", func() int { return int(n.Load()) }
}

// TestTransportPOSTAfterIdleClose: the server closed a pooled connection
// while it was idle (its FIN arrived 80 ms before the next request, before
// the pool's own look at 500 ms). A POST, which is not retried on a reused
// connection, goes out on a new connection and succeeds (§1.6.3: the
// connection is not reused). On unix the reuse decision peeks at the
// socket; with the portable fallback (Windows, Plan 9; -tags
// gdhttp_portable here) the look used to start the background read only
// then, found nothing and wrote the POST on the dead connection: every
// round failed. The fallback now starts that read when the connection goes
// idle (nbConn.Watch).
func TestTransportPOSTAfterIdleClose(t *testing.T) {
	for range 3 {
		url := closingKeepAliveServer(t, 20*time.Millisecond)
		tr := &Transport{}
		hc := &http.Client{Transport: tr}
		resp, err := hc.Get(url)
		require.NoError(t, err)
		_, _ = io.ReadAll(resp.Body)
		require.NoError(t, resp.Body.Close())
		time.Sleep(100 * time.Millisecond) // the FIN is at the client
		resp, err = hc.Post(url, "text/plain", strings.NewReader("hello"))
		require.NoError(t, err, "a POST on a connection the server closed while idle")
		body, _ := io.ReadAll(resp.Body)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, "ok", string(body))
		tr.CloseIdleConnections()
	}
}

// TestTransportUnsentRetried: the server ends a pooled connection after the
// Transport has taken it for the next request (GotConn) and before the
// request is written. The client sees the FIN before its first write
// (§1.6.4.1: no byte of the request leaves), and the Transport sends the
// request again on a new connection whatever its method, as net/http does
// when nothing was written (nothingWrittenError): a POST with GetBody, and
// one whose body cannot be re-made but was never read. A POST that was
// written when the server closed is still not sent again
// (TestTransportIdempotencyKeyRetried/key=).
func TestTransportUnsentRetried(t *testing.T) {
	bodies := map[string]func() io.Reader{
		"get-body":   func() io.Reader { return strings.NewReader("hello") },
		"unreadable": func() io.Reader { return io.MultiReader(strings.NewReader("hello")) },
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			kill := make(chan struct{})
			var once sync.Once
			end := func() { once.Do(func() { close(kill) }) }
			t.Cleanup(end)
			url, accepted := keepAliveServer(t, func() { <-kill }) // the FIN once the Transport has the connection
			tr := &Transport{}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr}
			resp, err := hc.Get(url)
			require.NoError(t, err)
			_, _ = io.ReadAll(resp.Body)
			require.NoError(t, resp.Body.Close())

			var reused []bool
			trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
				reused = append(reused, i.Reused)
				if i.Reused {
					end()
					time.Sleep(50 * time.Millisecond) // the FIN is at the client
				}
			}}
			req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodPost, url, body())
			require.NoError(t, err)
			resp, err = hc.Do(req)
			require.NoError(t, err, "a POST none of whose bytes was written is sent again (net/http: nothingWrittenError)")
			got, _ := io.ReadAll(resp.Body)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, "ok", string(got))
			require.Equal(t, []bool{true, false}, reused, "the reused connection, then a new one")
			require.Equal(t, 2, accepted())
		})
	}
}
