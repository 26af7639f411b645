package httprequest

// The findings of the node's lifecycle-chaos harness (nodechaos_test.go), each
// pinned by one deterministic case (each failed on the code it was found on).

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

// TestKeepAliveContentLengthZero: with SetKeepAlive, a response framed by
// "Content-Length: 0" keeps its connection, as any framed body (the
// option's doc): three requests, one connection. The node completes such a
// response before its first read (§2.6.1.1), which left the client in
// BODY, so the connection was not reusable and every next request dialed
// anew; the node now has the client read the empty body's end, as Godot's
// client does at its next read (BODY → CONNECTED, §1.10.1).
func TestKeepAliveContentLengthZero(t *testing.T) {
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

// TestUploadReaderCancelProcess: CancelRequest called from an upload's
// reader (which the package doc allows) stops the upload there in the
// Process driver too (§2.12: nothing of a canceled request happens after
// the cancel; use_threads already stopped): the reader is not read again
// and the rest of the body is not sent. The step went on reading and
// sending, up to 1 MiB a frame: 61 more reads, the whole body sent.
func TestUploadReaderCancelProcess(t *testing.T) {
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
	// COMPAT U3: the bytes of the Read that canceled are not sent either
	// (cancelableBody drops them): only what was read before the cancel.
	assert.LessOrEqual(t, sent, int64(r.at), "body bytes the server received")
}
