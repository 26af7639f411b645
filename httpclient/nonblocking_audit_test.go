package httpclient

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// Audit against Godot 4's http_client_tcp.cpp and stream_peer_tcp.cpp:
// non-blocking read_response_body_chunk() (§1.10.1.2, §1.15.3).
//
// Godot: read_response_body_chunk() loops `_get_http_data(w + _offset,
// to_read, rec)` until to_read is met or `rec <= 0`; in non-blocking mode
// _get_http_data is `connection->get_partial_data(...)`, i.e.
// StreamPeerTCP::read(..., p_block=false): one recv(2) that returns what the
// socket holds (ERR_BUSY → 0 bytes only when nothing has arrived). So a call
// made after the body arrived returns it, and a call made while more than
// read_chunk_size bytes wait returns exactly read_chunk_size bytes.

// settle is how long the tests wait for bytes the server wrote to be queued
// in the client's socket (loopback).
const auditSettle = 30 * time.Millisecond

// bodyAfterHead has a non-blocking client receive head, and body only once
// the head was parsed (status BODY); it returns the client after the first
// Poll that follows body's arrival in its socket.
func bodyAfterHead(t *testing.T, head, body string) *Client {
	t.Helper()
	gotHead := make(chan struct{})
	sent := make(chan struct{})
	srv := ts.New(t, ts.Script(
		ts.Read(),
		ts.WriteString(head),
		ts.Do("wait head", func(*ts.Conn) error { <-gotHead; return nil }),
		ts.WriteString(body),
		ts.Do("sent", func(*ts.Conn) error { close(sent); return nil }),
		ts.Hold(),
	))
	c, _ := newClient(t, false)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	_ = pollWhile(t, c, StatusRequesting)
	require.Equal(t, StatusBody, c.Status())
	close(gotHead)
	<-sent
	waitArrived(t, c, len(body))
	require.NoError(t, c.Poll())
	return c
}

// §1.10.1.2: the body arrives after the head was parsed; the first
// non-blocking read made once it is in the socket returns it whole and the
// body ends (CONNECTED), as Godot's recv returns it.
func TestAuditNonBlockingReadTakesArrivedBody(t *testing.T) {
	head := "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
	c := bodyAfterHead(t, head, "0123456789")
	assert.Equal(t, "0123456789", string(c.ReadResponseBodyChunk()), "one call takes what the socket holds")
	assert.Equal(t, StatusConnected, c.Status())
}

// §1.10.1.1–2: with more than read_chunk_size body bytes waiting, each
// non-blocking call returns exactly read_chunk_size bytes (Godot: one recv
// of to_read = min(body_left, read_chunk_size) bytes fills the target).
func TestAuditNonBlockingReadFillsChunkSize(t *testing.T) {
	const size = 200000
	body := strings.Repeat("x", size)
	resp := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(size) + "\r\n\r\n" + body
	srv := ts.New(t, ts.Respond(resp))
	c, _ := newClient(t, false)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	_ = pollWhile(t, c, StatusRequesting)
	require.Equal(t, StatusBody, c.Status())
	// The pause lets the socket fill as far as its window goes (how far
	// is the kernel's, so there is no byte count to wait for); the server
	// refills it while the calls read.
	time.Sleep(auditSettle)
	var pieces []int
	for range 3 {
		require.NoError(t, c.Poll())
		pieces = append(pieces, len(c.ReadResponseBodyChunk()))
	}
	assert.Equal(t, []int{65536, 65536, 65536}, pieces, "bytes per call (read_chunk_size 65536)")
}

// §1.10.2.1, §1.10.2.5: the chunked path. Godot's call reads the size line
// byte by byte and then the chunk with one recv of chunk_left bytes, all in
// the same call: a whole chunk already in the socket comes back at once.
func TestAuditNonBlockingChunkTakesArrivedChunk(t *testing.T) {
	head := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	c := bodyAfterHead(t, head, "5\r\nhello\r\n")
	assert.Equal(t, "hello", string(c.ReadResponseBodyChunk()), "one call takes the chunk the socket holds")
	assert.Equal(t, StatusBody, c.Status())
}
