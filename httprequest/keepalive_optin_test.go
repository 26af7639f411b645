//go:build linux

package httprequest

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// SetKeepAlive (§7.2) reuses the connection; it must not change what the
// node delivers or what its getters show after the completion (found by the
// opt-in differential, optin_model_linux_test.go).

// TestKeepAliveStatusAfterCompletion: after the completion Godot's client
// is DISCONNECTED — _request_done runs cancel_request(), which closes it
// (§2.9.7, §2.12.3) — and a game may poll get_http_client_status() for
// STATUS_DISCONNECTED to know the node is idle. With SetKeepAlive(true) the
// kept connection left it CONNECTED in every driver; now the node shows
// DISCONNECTED until its next request connects.
func TestKeepAliveStatusAfterCompletion(t *testing.T) {
	ln := drive.Serve(t, func(conn net.Conn) {
		for {
			if _, err := readRequest(conn); err != nil {
				return
			}
			if _, err := conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")); err != nil {
				return
			}
		}
	})
	url := urlFor("127.0.0.1", drive.Port(ln), "/")
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		require.NoError(t, n.SetKeepAlive(true))
		o := d.run(t, n, url, nil, httpclient.MethodGet, nil)
		require.Equal(t, ResultSuccess, o.C.Result)
		n.Process() // a frame after the completion (Godot's client is closed by then)
		assert.Equal(t, httpclient.StatusDisconnected, n.HTTPClientStatus(),
			"get_http_client_status() after the completion: Godot's client was closed by cancel_request()")
	})
}

// TestKeepAliveNoRetryAfterPartialResponse: a response cut inside its head
// (some bytes, then the server's FIN) is CONNECTION_ERROR in Godot's
// REQUESTING poll, and the node delivers R4 (§2.6, §2.7). SetKeepAlive
// sends an idempotent request once more on a new connection when it fails
// on a kept one before any byte of a response came, as net/http does (its
// retry needs the first response byte not to have arrived). The node retried
// whenever no whole head had come — here after part of a 503's head: the
// server saw the GET twice, and the node delivered the second answer (R0,
// 200).
func TestKeepAliveNoRetryAfterPartialResponse(t *testing.T) {
	var (
		mu    sync.Mutex
		conns int
		reqs  int
	)
	ln := drive.Serve(t, func(conn net.Conn) {
		mu.Lock()
		conns++
		first := conns == 1
		mu.Unlock()
		for k := 0; ; k++ {
			if _, err := readRequest(conn); err != nil {
				return
			}
			mu.Lock()
			reqs++
			mu.Unlock()
			switch {
			case !first:
				_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nretried"))
			case k == 0:
				_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			default:
				// The second request on the kept connection: the server
				// dies inside the head.
				_, _ = conn.Write([]byte("HTTP/1.1 503 Service Unavailable\r\nX-A: "))
				_ = conn.(*net.TCPConn).CloseWrite()
				time.Sleep(50 * time.Millisecond)
				return
			}
		}
	})
	url := urlFor("127.0.0.1", drive.Port(ln), "/")
	n := newNode(t)
	require.NoError(t, n.SetKeepAlive(true))
	c, err := n.Do(context.Background(), url, nil, httpclient.MethodGet, nil)
	require.NoError(t, err)
	require.Equal(t, "ok", string(c.Body))
	c, err = n.Do(context.Background(), url, nil, httpclient.MethodGet, nil)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, ResultConnectionError, c.Result, "Godot: the response cut inside its head is R4 (%v, body %q)", err, c.Body)
	assert.Equal(t, 2, reqs, "the GET was sent "+strconv.Itoa(reqs-1)+" times; Godot sends it once")
}

// TestKeepAliveTLSRetryAfterCloseNotify: over TLS, a PUT on a kept
// connection whose server reads the head, sends its close_notify (what a
// TLS server's close sends) and closes without reading the body (a reset):
// the body's write fails with the close_notify waiting in the socket. An
// alert is no byte of a response, so SetKeepAlive sends the PUT once more
// on a new connection, as over plain TCP and as net/http does; the client
// took the raw record for the start of an answer, and the node delivered
// R4 (httpclient: TestTransportTLSRetryAfterCloseNotify, the Transport's
// side). Deterministic: the close_notify is acknowledged before the reset,
// and the 16 MiB body cannot fit the socket buffers.
func TestKeepAliveTLSRetryAfterCloseNotify(t *testing.T) {
	ca := testserver.NewCA(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, "127.0.0.1")}}
	var puts atomic.Int32
	ln := drive.Serve(t, func(raw net.Conn) {
		c := tls.Server(raw, cfg)
		defer c.Close()
		br := bufio.NewReader(c)
		for k := 0; ; k++ {
			method, length, ok := readHeadLength(br)
			if !ok {
				return
			}
			if method != "PUT" {
				_, _ = io.CopyN(io.Discard, br, length)
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				continue
			}
			puts.Add(1)
			if k > 0 { // a PUT on a kept connection
				_ = c.CloseWrite() // close_notify
				drive.AwaitSent(raw.(*net.TCPConn), time.Second, 20*time.Millisecond)
				_ = raw.(*net.TCPConn).SetLinger(0)
				_ = raw.Close() // the body unread: a reset
				return
			}
			n, _ := io.CopyN(io.Discard, br, length)
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.FormatInt(n, 10)+"\r\n\r\n")
			_, _ = io.CopyN(c, strings.NewReader(strings.Repeat("x", int(n))), n)
		}
	})
	url := "https://" + ln.Addr().String() + "/"
	body := make([]byte, 16<<20)
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		puts.Store(0)
		require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(ca.Pool(), "")))
		require.NoError(t, n.SetKeepAlive(true))
		o := d.run(t, n, url, nil, httpclient.MethodGet, nil)
		require.Equal(t, ResultSuccess, o.C.Result, "%v", o.Err)
		o = d.run(t, n, url, nil, httpclient.MethodPut, body)
		require.Equal(t, ResultSuccess, o.C.Result, "the PUT was not sent again: %v", o.Err)
		assert.Len(t, o.C.Body, len(body), "the answer to the PUT sent again, whole")
		assert.EqualValues(t, 2, puts.Load())
	})
}

// readHeadLength reads a request head from br: its method and
// Content-Length (0 when none).
func readHeadLength(br *bufio.Reader) (method string, length int64, ok bool) {
	for i := 0; ; i++ {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", 0, false
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return method, length, true
		}
		if i == 0 {
			method, _, _ = strings.Cut(line, " ")
		} else if k, v, found := strings.Cut(line, ":"); found && strings.EqualFold(k, "Content-Length") {
			length, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
}
