//go:build linux

package httprequest

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
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
