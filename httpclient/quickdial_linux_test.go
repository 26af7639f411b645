package httpclient

import (
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuickConnect pins the connect to an IP literal made without a
// goroutine (§1.6.2, issue 8): the SYN leaves in ConnectToHost, Poll reads
// the outcome from the socket, and the outcomes and causes are those of a
// dial: CONNECTED with both addresses known, CANT_CONNECT with
// ECONNREFUSED, CANT_CONNECT with a timeout (§1.6.2.1) that is a net.Error
// and errors.Is context.DeadlineExceeded, and Abort.
func TestQuickConnect(t *testing.T) {
	for _, m := range modes {
		t.Run("connected/"+m.name, func(t *testing.T) {
			for _, network := range []string{"tcp4", "tcp6"} {
				ln, err := net.Listen(network, map[string]string{"tcp4": "127.0.0.1:0", "tcp6": "[::1]:0"}[network])
				if err != nil {
					t.Logf("%s: %v", network, err)
					continue
				}
				defer ln.Close()
				addr := ln.Addr().(*net.TCPAddr)
				host := addr.IP.String()
				if network == "tcp6" {
					host = "0:0:0:0:0:0:0:1" // "::1" is too short for Godot (§1.5.4)
				}
				c, tr := newClient(t, m.blocking)
				before := runtime.NumGoroutine()
				require.NoError(t, c.ConnectToHost(host, addr.Port, nil))
				require.Equal(t, StatusConnecting, c.Status())
				// A dial goroutine would still be running here: started, not
				// yet scheduled or connecting.
				assert.Zero(t, c.live.Load(), "no goroutine for the connect")
				require.NoError(t, pollWhile(t, c, StatusConnecting))
				// Goroutines of earlier tests may still be ending: none more.
				assert.LessOrEqual(t, runtime.NumGoroutine(), before, "no goroutine for the connect")
				assert.Equal(t, statuses(StatusConnecting, StatusConnected), *tr)
				conn := c.Connection()
				require.NotNil(t, conn)
				assert.Equal(t, addr.String(), conn.RemoteAddr().String())
				_, isTCP := conn.(*net.TCPConn)
				assert.True(t, isTCP, "a *net.TCPConn: %T", conn)
				srv, err := ln.Accept()
				require.NoError(t, err)
				assert.Equal(t, conn.LocalAddr().String(), srv.RemoteAddr().String())
				srv.Close()
				c.Close()
			}
		})
		t.Run("refused/"+m.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			port := ln.Addr().(*net.TCPAddr).Port
			ln.Close()
			c, tr := newClient(t, m.blocking)
			err = connect(t, c, "127.0.0.1", port, nil)
			assert.Equal(t, statuses(StatusConnecting, StatusCantConnect), *tr)
			assert.True(t, errors.Is(err, ErrCantConnect), "%v", err)
			assert.True(t, errors.Is(err, syscall.ECONNREFUSED), "%v", err)
			var op *net.OpError
			assert.True(t, errors.As(err, &op) && op.Op == "dial", "a dial *net.OpError: %v", err)
		})
		t.Run("timeout/"+m.name, func(t *testing.T) {
			port := ts.BlackHolePort(t)
			c, tr := newClient(t, m.blocking)
			c.SetConnectTimeout(100 * time.Millisecond)
			start := time.Now()
			err := connect(t, c, "127.0.0.1", port, nil)
			assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
			assert.Equal(t, statuses(StatusConnecting, StatusCantConnect), *tr)
			assert.True(t, errors.Is(err, ErrCantConnect), "%v", err)
			assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
			assert.True(t, errors.Is(err, os.ErrDeadlineExceeded), "%v", err)
			var ne net.Error
			assert.True(t, errors.As(err, &ne) && ne.Timeout(), "a timeout net.Error: %v", err)
		})
		t.Run("abort/"+m.name, func(t *testing.T) {
			port := ts.BlackHolePort(t)
			c, tr := newClient(t, m.blocking)
			require.NoError(t, c.ConnectToHost("127.0.0.1", port, nil))
			abortAfter(t, c, 50*time.Millisecond)
			start := time.Now()
			err := pollWhile(t, c, StatusConnecting)
			assert.Less(t, time.Since(start), 5*time.Second, "returned promptly")
			assert.Equal(t, statuses(StatusConnecting, StatusCantConnect), *tr)
			assert.True(t, errors.Is(err, ErrCantConnect) && errors.Is(err, ErrAborted), "%v", err)
			c.Close()
		})
	}
}

// TestConnectStartFails pins §1.5.10: when the TCP connect to an IP
// literal cannot even start (here: no route to the broadcast address),
// ConnectToHost itself returns FAILED with the cause, status CANT_CONNECT,
// and no Poll is needed — for a plain target, a TLS target, and an HTTPS
// proxy's CONNECT tunnel, as in Godot (the TLS handshake and the tunnel
// come after the TCP connect).
func TestConnectStartFails(t *testing.T) {
	targets := []struct {
		name  string
		setUp func(c *Client)
		tls   *TLSOptions
	}{
		{name: "plain"},
		{name: "tls", tls: TLSClient(nil, "")},
		{name: "https proxy", setUp: func(c *Client) { c.SetHTTPSProxy("255.255.255.255", 3128) }, tls: TLSClient(nil, "")},
	}
	d := net.Dialer{Timeout: time.Second}
	if _, err := d.Dial("tcp4", "255.255.255.255:80"); !errors.Is(err, syscall.ENETUNREACH) && !errors.Is(err, syscall.EACCES) {
		t.Skipf("a connect to 255.255.255.255 does not fail at once here: %v", err)
	}
	for _, m := range modes {
		for _, target := range targets {
			t.Run(m.name+"/"+target.name, func(t *testing.T) {
				c, tr := newClient(t, m.blocking)
				host := "255.255.255.255"
				if target.setUp != nil {
					target.setUp(c)
					host = "127.0.0.1"
				}
				err := c.ConnectToHost(host, 80, target.tls)
				require.Error(t, err)
				assert.True(t, errors.Is(err, Failed), "%v", err)
				var errno syscall.Errno
				assert.True(t, errors.As(err, &errno), "the cause: %v", err)
				assert.Equal(t, StatusCantConnect, c.Status())
				assert.Equal(t, statuses(StatusCantConnect), *tr)
				assert.Equal(t, err, c.LastError())
				assert.True(t, errors.Is(c.Poll(), ErrCantConnect), "Poll in CANT_CONNECT")
			})
		}
	}
}
