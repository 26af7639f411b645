package httprequest

// Findings of the node's lifecycle-chaos harness (nodechaos_test.go), each
// pinned by one deterministic case that fails on the code it was found on.

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
)

// ncProbeServer answers every request on a connection with answer and
// counts the connections it accepted.
func ncProbeServer(t *testing.T, answer string) (port int, conns *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	conns = new(atomic.Int64)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
					for {
						l, err := br.ReadString('\n')
						if err != nil {
							return
						}
						if strings.TrimRight(l, "\r\n") == "" {
							break
						}
					}
					if _, err := c.Write([]byte(answer)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, conns
}

// TestProbeNodechaosKeepAliveContentLengthZero: with SetKeepAlive, a
// complete response framed by "Content-Length: 0" keeps its connection, and
// the node's next request to the same origin goes over it.
//
// Rule: SetKeepAlive's doc comment (§7.2 opt-in): "keeps the connection open
// after a complete response that allows it (no "Connection: close", framed
// by Content-Length or chunked, a final status) and sends the node's next
// request to the same scheme, host and port over it". Godot itself never
// keeps a connection (§2.1.4), so this is the port's promise alone; what
// Godot's client does with such a head is §1.9's note (wire/framing.go):
// "possibly 0: Godot then goes to BODY and back to CONNECTED after one empty
// read" — http_client_tcp.cpp, read_response_body_chunk() ends with
// "} else if (body_left == 0 && !chunked && !read_until_eof) { status =
// STATUS_CONNECTED; }".
//
// gdhttp: the node ends such a response at its first BODY step
// (engine.go stepBody: "!c.IsResponseChunked() && c.ResponseBodyLength() ==
// 0 → r.succeed()", Godot's _update_connection shortcut, §2.6.1.1) without
// the empty read, so the client is still in STATUS_BODY with body.done
// false; reset then asks client.Reusable(), which requires STATUS_CONNECTED
// and a body read to its end, gets false, and closes the connection. Every
// kept-alive request answered with an empty Content-Length body (a 201 or
// 202 without a body, an empty JSON API answer, a DELETE) costs a new
// connection for the next one. Deterministic; every driver.
func TestProbeNodechaosKeepAliveContentLengthZero(t *testing.T) {
	port, conns := ncProbeServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	n := New()
	defer n.Close()
	require.NoError(t, n.SetKeepAlive(true))
	url := urlFor("127.0.0.1", port, "/")
	for i := range 3 {
		c, err := n.Do(context.Background(), url, nil, httpclient.MethodGet, nil)
		require.NoError(t, err, "request %d", i)
		require.Equal(t, 200, c.ResponseCode)
	}
	assert.EqualValues(t, 1, conns.Load(),
		"three kept-alive requests answered with Content-Length: 0 used %d connections, want 1 (SetKeepAlive)", conns.Load())
}
