package soak

import (
	"bufio"
	"context"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/drive"
)

// server answers every request on a kept-alive connection by its path:
//
//	/ok      200 with a 2-byte body
//	/chunked 200 with a chunked body
//	/reset   an RST instead of a response
//	/close   a response, then the connection closes
//	/stall   nothing (the client times out or cancels)
type server struct{ ln net.Listener }

func startServer(t *testing.T) *server {
	t.Helper()
	s := &server{}
	s.ln = drive.Serve(t, s.serve)
	return s
}

func (s *server) addr() string { return s.ln.Addr().String() }

const (
	okResponse      = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	chunkedResponse = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
	closeResponse   = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
)

// serve answers the requests of one connection (drive.Serve closes it).
func (s *server) serve(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		length := 0
		for {
			h, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if h == "\r\n" {
				break
			}
			if v, ok := strings.CutPrefix(strings.ToLower(h), "content-length:"); ok {
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if _, err := br.Discard(length); err != nil {
			return
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			return
		}
		switch fields[1] {
		case "/ok":
			_, err = c.Write([]byte(okResponse))
		case "/chunked":
			_, err = c.Write([]byte(chunkedResponse))
		case "/close":
			_, _ = c.Write([]byte(closeResponse))
			return
		case "/reset":
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			return
		case "/stall":
			_, _ = br.ReadByte() // until the client goes away
			return
		default:
			return
		}
		if err != nil {
			return
		}
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// snapshot is what must not grow.
type snapshot struct {
	goroutines int
	fds        int
	heap       uint64
}

func take() snapshot {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds := -1
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		fds = len(ents)
	}
	return snapshot{goroutines: runtime.NumGoroutine(), fds: fds, heap: ms.HeapInuse}
}

// settle waits until the goroutines and descriptors are back at base (the
// server's goroutines end as the client's close reaches them).
func settle(base snapshot) snapshot {
	var now snapshot
	drive.Until(10*time.Second, func() bool {
		now = take()
		return now.goroutines <= base.goroutines && now.fds <= base.fds
	})
	return now
}

// failurePath is the misbehaviour of request i, or "" for a normal one:
// every 97th request is reset, every 89th is closed after its response,
// every 1009th stalls (timeout) and every 1013th stalls and is canceled.
func failurePath(i int) string {
	switch {
	case i%1013 == 1012:
		return "/cancel"
	case i%1009 == 1008:
		return "/timeout"
	case i%97 == 96:
		return "/reset"
	case i%89 == 88:
		return "/close"
	case i%2 == 1:
		return "/chunked"
	}
	return "/ok"
}

func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak: skipped in short mode")
	}
	keepAlive := envInt("GDHTTP_SOAK_KEEPALIVE", 20000)
	newConn := envInt("GDHTTP_SOAK_NEWCONN", 2000)
	s := startServer(t)

	base := take()
	start := time.Now()
	okClient := soakClient(t, s.addr(), keepAlive/2, true)
	okNode := soakNode(t, s.addr(), keepAlive-keepAlive/2, true)
	okClientNew := soakClient(t, s.addr(), newConn/2, false)
	okNodeNew := soakNode(t, s.addr(), newConn-newConn/2, false)
	elapsed := time.Since(start)
	end := settle(base)

	t.Logf("%d keep-alive and %d new-connection requests in %v (client %d ok, node %d ok, client new %d ok, node new %d ok)",
		keepAlive, newConn, elapsed.Round(time.Millisecond), okClient, okNode, okClientNew, okNodeNew)
	t.Logf("goroutines %d → %d, fds %d → %d, heap in use %.1f → %.1f MiB",
		base.goroutines, end.goroutines, base.fds, end.fds, mib(base.heap), mib(end.heap))
	assert.LessOrEqual(t, end.goroutines, base.goroutines, "goroutines are back at the baseline")
	if base.fds >= 0 {
		assert.LessOrEqual(t, end.fds, base.fds, "no file descriptor is left open")
	}
	assert.Less(t, int64(end.heap)-int64(base.heap), int64(8<<20), "heap is flat (< 8 MiB growth)")
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// soakClient makes n requests with the raw client in blocking mode, on one
// kept-alive connection (reconnecting after a failure) or on a new
// connection each. It returns how many succeeded and fails the test when an
// outcome is not the one the server's behaviour calls for.
func soakClient(t *testing.T, addr string, n int, keep bool) int {
	host, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	c := httpclient.New()
	defer c.Close()
	c.SetBlockingMode(true)
	buf := make([]byte, 64)
	ok := 0
	for i := range n {
		path := failurePath(i)
		if path == "/timeout" || path == "/cancel" {
			// The raw client has no timeout: Abort is its cancellation.
			path = "/stall"
		}
		if !keep || c.Status() != httpclient.StatusConnected {
			if err := connect(c, host, port); err != nil {
				t.Fatalf("request %d: connect: %v", i, err)
			}
		}
		if err := c.Request(httpclient.MethodGet, path, nil, ""); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if path == "/stall" {
			timer := time.AfterFunc(time.Millisecond, c.Abort)
			_ = c.Poll()
			timer.Stop()
			c.Close()
			continue
		}
		_ = c.Poll()
		if c.Status() != httpclient.StatusBody {
			if path != "/reset" {
				t.Fatalf("request %d %s: status %v: %v", i, path, c.Status(), c.LastError())
			}
			c.Close()
			continue
		}
		body := 0
		for {
			m, err := c.ReadResponseBodyChunkInto(buf)
			body += m
			if err != nil {
				break
			}
		}
		if body != 2 && body != 5 {
			t.Fatalf("request %d %s: %d body bytes", i, path, body)
		}
		ok++
		if !keep || path == "/close" {
			c.Close()
		}
	}
	return ok
}

func connect(c *httpclient.Client, host string, port int) error {
	if err := c.ConnectToHost(host, port, nil); err != nil {
		return err
	}
	for c.Status() == httpclient.StatusResolving || c.Status() == httpclient.StatusConnecting {
		_ = c.Poll()
	}
	if c.Status() != httpclient.StatusConnected {
		return c.LastError()
	}
	return nil
}

// soakNode makes n requests with the node's Do, with connection reuse on
// (keep) or off, and checks each completion.
func soakNode(t *testing.T, addr string, n int, keep bool) int {
	node := httprequest.New()
	defer node.Close()
	require.NoError(t, node.SetKeepAlive(keep))
	ok := 0
	for i := range n {
		path := failurePath(i)
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		switch path {
		case "/timeout":
			require.NoError(t, node.SetTimeout(time.Millisecond))
			path = "/stall"
		case "/cancel":
			ctx, cancel = context.WithCancel(ctx)
			time.AfterFunc(time.Millisecond, cancel)
			path = "/stall"
		}
		done, err := node.Do(ctx, "http://"+addr+path, nil, httpclient.MethodGet, nil)
		cancel()
		require.NoError(t, node.SetTimeout(0))
		switch {
		case failurePath(i) == "/timeout":
			if done.Result != httprequest.ResultTimeout {
				t.Fatalf("request %d: %v, want RESULT_TIMEOUT (%v)", i, done.Result, err)
			}
		case failurePath(i) == "/cancel":
			if err == nil {
				t.Fatalf("request %d: canceled request ended %v", i, done.Result)
			}
		case path == "/reset":
			if done.Result == httprequest.ResultSuccess {
				t.Fatalf("request %d: a reset connection gave RESULT_SUCCESS", i)
			}
		default:
			if err != nil || done.ResponseCode != 200 || (string(done.Body) != "ok" && string(done.Body) != "abcde") {
				t.Fatalf("request %d %s: %v %d %q: %v", i, path, done.Result, done.ResponseCode, done.Body, err)
			}
			ok++
		}
	}
	return ok
}
