//go:build linux

package httpclient

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// The connect to a name's addresses as Poll makes it (§1.6.1.2, §1.6.2),
// with real addresses of the loopback network (127.0.0.2 is a second
// address of this machine on Linux) rather than a custom dialer.

// forward listens on ip:port and forwards every connection to target.
func forward(t *testing.T, ip string, port int, target string) {
	t.Helper()
	ln, err := net.Listen("tcp4", net.JoinHostPort(ip, strconv.Itoa(port)))
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, u)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				var pair sync.WaitGroup
				pair.Add(2)
				go func() { defer pair.Done(); _, _ = io.Copy(u, c); _ = u.(*net.TCPConn).CloseWrite() }()
				go func() { defer pair.Done(); _, _ = io.Copy(c, u); _ = c.(*net.TCPConn).CloseWrite() }()
				pair.Wait()
				c.Close()
				u.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
}

// TestConnectTimeoutPerAddress: §1.6.2.1–2 on the path Poll drives (no
// custom dialer): the first address is a black hole, the second connects;
// when all time out, each had its own timeout.
func TestConnectTimeoutPerAddress(t *testing.T) {
	for _, m := range modes {
		t.Run("next-after-timeout/"+m.name, func(t *testing.T) {
			port := ts.BlackHolePort(t)
			srv := ts.New(t, ts.Respond(okResp))
			forward(t, "127.0.0.2", port, srv.Addr())
			c, tr := newClient(t, m.blocking)
			c.SetConnectTimeout(100 * time.Millisecond)
			c.lookup, _ = fakeLookup("127.0.0.1", "127.0.0.2")
			start := time.Now()
			r := roundTrip(t, c, tr, "slow.example", port, nil, getRoot, pathChunks, false)
			assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
			assert.Equal(t, concat(statuses(StatusResolving), concat(connected, StatusBody, StatusConnected)...), r.Trace)
			assert.Equal(t, "ok", r.Body)
		})
		t.Run("all-time-out/"+m.name, func(t *testing.T) {
			port := ts.BlackHolePort(t)
			c, tr := newClient(t, m.blocking)
			c.SetConnectTimeout(100 * time.Millisecond)
			c.lookup, _ = fakeLookup("127.0.0.1", "127.0.0.1")
			start := time.Now()
			err := connect(t, c, "slow.example", port, nil)
			assert.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond, "each address its own timeout")
			assert.Equal(t, statuses(StatusResolving, StatusConnecting, StatusCantConnect), *tr)
			assert.ErrorIs(t, err, ErrCantConnect)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		})
	}
}

// TestTCPEndDuringHandshakeNextAddress: COMPAT H9 on the path Poll drives:
// the first address ends the TCP connection during the handshake, the
// second (a real TLS server) works, with a fresh handshake.
func TestTCPEndDuringHandshakeNextAddress(t *testing.T) {
	ca := ts.NewCA(t)
	for _, m := range modes {
		for _, end := range []struct {
			name string
			h    func(*ts.Conn)
		}{{"fin", ts.Script(ts.ReadSome(), ts.Close())}, {"rst", ts.Script(ts.ReadSome(), ts.Reset())}} {
			t.Run(end.name+"/"+m.name, func(t *testing.T) {
				bad := ts.New(t, end.h)
				good := ts.NewTLS(t, ca.Issue(t, "multi.example"), ts.Respond(okResp))
				forward(t, "127.0.0.2", bad.Port(), good.Addr())
				c, tr := newClient(t, m.blocking)
				c.lookup, _ = fakeLookup("127.0.0.1", "127.0.0.2")
				r := roundTrip(t, c, tr, "multi.example", bad.Port(), TLSClient(ca.Pool(), ""), getRoot, pathChunks, false)
				assert.Equal(t, concat(statuses(StatusResolving), concat(connected, StatusBody, StatusConnected)...), r.Trace)
				assert.Equal(t, "ok", r.Body)
				c.Close()
				good.Close()
				assert.Equal(t, []string{"multi.example"}, good.ServerNames())
			})
		}
		t.Run("refused-then-tls/"+m.name, func(t *testing.T) {
			good := ts.NewTLS(t, ca.Issue(t, "multi.example"), ts.Respond(okResp))
			c, tr := newClient(t, m.blocking)
			c.lookup, _ = fakeLookup("127.0.0.2", "127.0.0.1")
			r := roundTrip(t, c, tr, "multi.example", good.Port(), TLSClient(ca.Pool(), ""), getRoot, pathChunks, false)
			assert.Equal(t, concat(statuses(StatusResolving), concat(connected, StatusBody, StatusConnected)...), r.Trace)
			assert.Equal(t, "ok", r.Body)
		})
	}
}

// TestProxyEndsDuringConnect: the proxy closes the TCP connection (nothing
// sent) after reading the CONNECT: Godot's poll checks its TCP socket before stepping the proxy
// sub-client (http_client_tcp.cpp: tcp_connection->poll() first, then the
// STATUS_CONNECTING case sees StreamPeerTCP::STATUS_NONE), so the next
// address is tried and, with none left, CANT_CONNECT with ERR_CANT_CONNECT
// — not the sub-client's ERR_CONNECTION_ERROR. On the next address the
// port sends a fresh CONNECT where Godot stalls (COMPAT H9).
func TestProxyEndsDuringConnect(t *testing.T) {
	for _, m := range modes {
		t.Run("one-address/"+m.name, func(t *testing.T) {
			proxy := ts.NewConnectProxy(t, ts.ProxyReply(""), ts.ProxyCloseAfterReply())
			c, tr := newClient(t, m.blocking)
			c.SetHTTPSProxy("127.0.0.1", proxy.Port())
			err := connect(t, c, "localhost", 443, TLSClient(nil, ""))
			assert.Equal(t, statuses(StatusConnecting, StatusCantConnect), *tr)
			assert.ErrorIs(t, err, ErrCantConnect, "Godot: the TCP check sees the FIN first (ERR_CANT_CONNECT)")
		})
		t.Run("two-addresses/"+m.name, func(t *testing.T) {
			proxy := ts.NewConnectProxy(t, ts.ProxyReply(""), ts.ProxyCloseAfterReply())
			c, _ := newClient(t, m.blocking)
			c.lookup, _ = fakeLookup("127.0.0.1", "127.0.0.1")
			c.SetHTTPSProxy("proxy.example", proxy.Port())
			_ = connect(t, c, "localhost", 443, TLSClient(nil, ""))
			c.Close()
			proxy.Close()
			assert.Equal(t, 2, proxy.Accepted(), "Godot goes on to the next proxy address (§1.6.2.2)")
		})
	}
}

// TestBlockingPollWaitsForChange: a blocking Poll waits in CONNECTING until
// the status can change (§1.15.1, COMPAT H1), also when a refused address
// hands over to the next one (a Poll that returned with the status still
// CONNECTING would spin a caller's loop).
func TestBlockingPollWaitsForChange(t *testing.T) {
	srv := ts.New(t, ts.Respond(okResp))
	port := 0
	for range 50 { // a port open on 127.0.0.2 only
		ln, err := net.Listen("tcp4", "127.0.0.2:0")
		require.NoError(t, err)
		p := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if c, err := net.Dial("tcp4", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			c.Close()
			continue
		}
		port = p
		break
	}
	require.NotZero(t, port)
	forward(t, "127.0.0.2", port, srv.Addr())
	c, _ := newClient(t, true)
	c.lookup, _ = fakeLookup("127.0.0.1", "127.0.0.2")
	require.NoError(t, c.ConnectToHost("multi.example", port, nil))
	unchanged := 0
	for i := 0; i < 10 && (c.Status() == StatusResolving || c.Status() == StatusConnecting); i++ {
		before := c.Status()
		require.NoError(t, c.Poll())
		if c.Status() == before {
			unchanged++
		}
	}
	assert.Equal(t, StatusConnected, c.Status())
	assert.Zero(t, unchanged, "blocking Polls that returned without a status change")
}
