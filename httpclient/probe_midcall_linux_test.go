//go:build linux

package httpclient

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProbeBlockingPollAfterNonBlockingWriteMissesRST: set_blocking_mode(true)
// between frames, after a non-blocking poll() wrote the request and before the
// response head was read (§1.6.4, §1.15.1, §1.6 "every call first lets the
// owned TCP socket update itself").
//
// Godot: HTTPClientTCP::poll() starts with `tcp_connection->poll();`, and
// StreamPeerTCP::poll() (core/io/stream_peer_tcp.cpp), the socket readable
// with bytes queued, goes on to
//
//	err = _sock->poll(NetSocket::POLL_TYPE_IN_OUT, 0);
//	if (err != OK && err != ERR_BUSY) {
//		// Got an error
//		disconnect_from_host();
//		status = STATUS_ERROR;
//
// so with the server's whole response and then its RST in the socket, the
// next poll() — blocking or not: `blocking` only changes _get_http_data —
// reads nothing: `_get_http_data(&byte, 1, rec)` → StreamPeerTCP::read()
// `if (status != STATUS_CONNECTED) return FAILED;` → close(),
// STATUS_CONNECTION_ERROR, the getters cleared. The port does that in
// non-blocking mode (pollRequesting's lookErr, checked below), but its
// blocking path reads and parses the head (BODY, code 200) when the request
// was written by an earlier, non-blocking Poll: it only looks for a pending
// error before writing ("a pending error fails that write"), and here
// nothing is left to write. The same frame in non-blocking mode gives
// CONNECTION_ERROR, so the mode switch alone changes the outcome.
//
// Found by TestProbeMidcallModel (seed 11, cases 9 and 258 before the probe
// excluded the pattern). Not timing-dependent: the RST is in the socket
// (waitPeerFIN) before the Poll.
func TestProbeBlockingPollAfterNonBlockingWriteMissesRST(t *testing.T) {
	for _, blockingPoll := range []bool{false, true} {
		name := "nonblocking-poll"
		if blockingPoll {
			name = "blocking-poll"
		}
		t.Run(name, func(t *testing.T) {
			ln := listenLoopback(t)
			c, _ := newClient(t, false)
			watchdog := time.AfterFunc(driveTimeout, c.Abort)
			defer watchdog.Stop()
			require.NoError(t, connect(t, c, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, nil))
			srv, err := ln.AcceptTCP()
			require.NoError(t, err)
			defer func() { _ = srv.Close() }()
			require.NoError(t, srv.SetDeadline(time.Now().Add(driveTimeout)))
			require.NoError(t, c.Request(MethodGet, "/", nil, ""))
			require.NoError(t, c.Poll()) // non-blocking: writes the request, no response yet
			require.Equal(t, StatusRequesting, c.Status())
			awaitRequestHead(t, srv, make([]byte, 4096))
			_, err = srv.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			require.NoError(t, err)
			waitAcked(t, srv)
			require.NoError(t, srv.SetLinger(0))
			require.NoError(t, srv.Close()) // RST
			waitPeerFIN(t, c)

			c.SetBlockingMode(blockingPoll) // between frames
			_ = c.Poll()
			assert.Equal(t, StatusConnectionError, c.Status(), "Godot: StreamPeerTCP::poll() sees the socket error first")
			assert.Equal(t, 0, c.ResponseCode(), "Godot: close() cleared the response")
			assert.False(t, c.HasResponse())
		})
	}
}
