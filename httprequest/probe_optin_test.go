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

// Probes of the opt-in audit (optin_model_linux_test.go): an opt-in of §7.2
// that changes what the node delivers, or a getter after the completion,
// where its doc and COMPAT.md announce no such change.

// TestProbeOptinKeepAliveStatusAfterCompletion: §2.9.7 / §2.12.3 — after
// the completion Godot's client is DISCONNECTED: _request_done ends with
// cancel_request(), which runs client->close() (scene/main/http_request.cpp:
//
//	void HTTPRequest::_request_done(int p_status, int p_code, const PackedStringArray &p_headers, const PackedByteArray &p_data) {
//		cancel_request();
//		...
//	void HTTPRequest::cancel_request() {
//		...
//		client->close();
//
// ), so get_http_client_status() is STATUS_DISCONNECTED (0). §7.2 lets
// SetKeepAlive reuse the connection; the brief of the opt-ins (and
// SetKeepAlive's doc, which speaks of reuse only) leaves the getters after
// the completion as Godot's. gdhttp: with SetKeepAlive(true), after a
// complete Content-Length response HTTPClientStatus() is STATUS_CONNECTED in
// every driver (the kept connection), where the option off gives
// DISCONNECTED. A game that polls get_http_client_status() to know the node
// is idle (== STATUS_DISCONNECTED) waits for good.
func TestProbeOptinKeepAliveStatusAfterCompletion(t *testing.T) {
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

// TestProbeOptinKeepAliveRetriesAfterPartialResponse: §2.7 / §2.6 — Godot
// sends each request once: a response cut off inside its head (some of its
// bytes, then the server's FIN) is STATUS_CONNECTION_ERROR in
// HTTPClientTCP::poll, STATUS_REQUESTING, which reads the head a byte at a
// time:
//
//	Error err = _get_http_data(&byte, 1, rec);
//	if (err != OK) {
//		close();
//		status = STATUS_CONNECTION_ERROR;
//		return ERR_CONNECTION_ERROR;
//	}
//
// and _update_connection's STATUS_CONNECTION_ERROR case is
// `_defer_done(RESULT_CONNECTION_ERROR, 0, ...)` (§2.6, R4). SetKeepAlive's
// doc allows one retry for "a request with an idempotent method ... that
// fails on it before any response", as net/http does — and net/http retries
// only a failure before the first response byte (transportReadFromServerError
// / errServerClosedIdle, from the Peek(1) of persistConn.readLoop). gdhttp
// (engine.go retryReused: `!r.gotResponse()`, i.e. no complete head yet)
// also retries when part of a response had arrived: the server sees the GET
// twice and the completion is the second connection's response (R0, 200)
// where the node with the option off, or Godot, ends R4.
func TestProbeOptinKeepAliveRetriesAfterPartialResponse(t *testing.T) {
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
