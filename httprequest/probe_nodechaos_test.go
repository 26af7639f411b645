package httprequest

// Findings of the node's lifecycle-chaos harness (nodechaos_test.go), each
// pinned by one deterministic case that fails on the code it was found on.

import (
	"bufio"
	"bytes"
	"context"
	"io"
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
	port, conns, _ = ncProbeServer2(t, answer)
	return port, conns
}

// ncProbeServer2 is ncProbeServer that also counts the request heads it
// received.
func ncProbeServer2(t *testing.T, answer string) (port int, conns, reqs *atomic.Int64) {
	t.Helper()
	reqs = new(atomic.Int64)
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
					reqs.Add(1)
					if _, err := c.Write([]byte(answer)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, conns, reqs
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
// 0 → r.succeed()"), Godot's shortcut in _update_connection (§2.6.1.1,
// http_request.cpp: "if (!client->is_response_chunked() &&
// client->get_response_body_length() == 0) { _defer_done(RESULT_SUCCESS,
// ...); return true; }"), which is right for Godot — its client is closed
// right after — but leaves the kept client without the empty read: the
// client is still in STATUS_BODY with body.done false, so reset's
// client.Reusable() (STATUS_CONNECTED and a body read to its end) is false
// and the connection is closed. Every
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

// ncCancelReader is a streamed request body that calls CancelRequest once
// at bytes were read, and counts the Reads that come after.
type ncCancelReader struct {
	*bytes.Reader
	n     *HTTPRequest
	at    int
	fired bool
	after int
}

func (u *ncCancelReader) Read(p []byte) (int, error) {
	if u.fired {
		u.after++
	}
	if !u.fired && int(u.Size())-u.Len() >= u.at {
		u.fired = true
		u.n.CancelRequest()
	}
	return u.Reader.Read(p[:min(len(p), 4096)])
}

// TestProbeNodechaosUploadReaderCancelProcess: CancelRequest called from an
// upload's reader on the Process driver ends the upload there: the reader is
// not read again and no more of the body is sent.
//
// Rule: CancelRequest's doc comment: "No completion is ever delivered for a
// canceled request ... and nothing of it happens after the cancel"; the
// package doc (Concurrency) lets an upload's reader call CancelRequest
// ("None of those callbacks, nor an upload's reader, may call the node's
// methods except CancelRequest and Close"); §7.3, three drivers, one engine.
// Godot has no streamed upload (request_raw's body is one PackedByteArray
// written by HTTPClientTCP::request in one put_data, §2.4.10, §7.2 opt-in),
// so the port's own promise is the rule. The body writer's equivalent is
// kept within the step (sink.put: "errCanceledInWrite — a decoder would go
// on writing what it holds"), and the use_threads driver keeps it too
// (the cancel Aborts the client: the server gets the 8 KiB read before the
// cancel and the reader is not read again).
//
// gdhttp: on the Process driver the cancel only marks the run
// (cancel: "r.cancelInStep = true", taking effect "as the step returns"),
// and the step's RequestStream goes on reading the reader and writing the
// body — up to 1 MiB per frame (RequestStream's doc) — after CancelRequest
// returned: here the reader is read dozens more times and the server
// receives the whole 256 KiB body of a request the caller canceled at 8
// KiB. Deterministic (the count of Reads after the cancel; the server's
// byte count depends on the loopback socket buffers and is only logged).
func TestProbeNodechaosUploadReaderCancelProcess(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	got := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		for {
			l, err := br.ReadString('\n')
			if err != nil || strings.TrimRight(l, "\r\n") == "" {
				break
			}
		}
		n, _ := io.Copy(io.Discard, br)
		got <- n
	}()
	n := New()
	defer n.Close()
	completions := 0
	n.OnRequestCompleted(func(Result, int, []string, []byte) { completions++ })
	body := bytes.Repeat([]byte("x"), 256<<10)
	r := &ncCancelReader{Reader: bytes.NewReader(body), n: n, at: 8 << 10}
	require.NoError(t, n.RequestStream("http://"+ln.Addr().String()+"/", nil, httpclient.MethodPost, r, int64(len(body))))
	for i := 0; i < 2000 && !r.fired; i++ {
		n.Process()
		time.Sleep(100 * time.Microsecond)
	}
	require.True(t, r.fired, "the reader never reached the cancel")
	for range 20 {
		n.Process()
		time.Sleep(100 * time.Microsecond)
	}
	n.Close()
	sent := <-got
	t.Logf("the server received %d of %d body bytes; the reader was read %d times after CancelRequest", sent, len(body), r.after)
	assert.Zero(t, completions, "a completion for a canceled request")
	assert.Zero(t, r.after, "the upload's reader was read %d times after it called CancelRequest (nothing of it happens after the cancel)", r.after)
}
