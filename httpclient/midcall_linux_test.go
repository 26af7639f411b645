//go:build linux

package httpclient

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBlockingPollAfterNonBlockingWriteSeesRST: set_blocking_mode(true)
// between frames, after a non-blocking poll() wrote the request and before
// the response head was read (§1.6, §1.6.4, §1.15.1).
//
// Godot's poll() first lets its TCP stream poll the socket; with bytes
// queued and a socket error behind them (the server's whole response, then
// its RST) the stream disconnects and turns to its error status, so the
// head read that follows fails: close(), CONNECTION_ERROR, the getters
// cleared — in both modes, since blocking mode only changes how the head
// is read. The port's blocking Poll read and parsed the head (BODY, code
// 200) when an earlier, non-blocking Poll had written the request: it
// looked for a pending error only before a write. Found by
// TestMidcallModel. Not timing-dependent: the RST is in the socket
// (waitPeerFIN) before the Poll.
func TestBlockingPollAfterNonBlockingWriteSeesRST(t *testing.T) {
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
