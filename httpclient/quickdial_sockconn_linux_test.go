//go:build linux && !gdhttp_portable

package httpclient

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// TestSockConnErrors pins the net.Conn of a quick connect to what a
// *net.TCPConn reports: *net.OpError values, ECONNRESET from a reset peer,
// net.ErrClosed after Close, deadlines as os.ErrDeadlineExceeded (a
// net.Error whose Timeout is true) — and Connection() still a *net.TCPConn
// over the same socket, closed with it.
func TestSockConnErrors(t *testing.T) {
	g := newGate()
	srv := ts.New(t, ts.Script(g.step("up"), ts.Reset()))
	c, _ := newClient(t, true)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	sc, ok := c.st.conn.(*sockConn)
	require.True(t, ok, "%T", c.st.conn)
	assert.Equal(t, srv.Addr(), sc.RemoteAddr().String())
	require.NotNil(t, sc.LocalAddr())

	require.NoError(t, sc.SetWriteDeadline(time.Now().Add(time.Minute)))
	require.NoError(t, sc.SetDeadline(time.Time{}))
	require.NoError(t, sc.SetReadDeadline(time.Now().Add(time.Millisecond)))
	_, err := sc.Read(make([]byte, 1))
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout(), "%v", err)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	require.NoError(t, sc.SetReadDeadline(time.Time{}))

	g.wait(t)
	g.pass(t)
	_, err = sc.Read(make([]byte, 1))
	var oe *net.OpError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "read", oe.Op)
	assert.ErrorIs(t, err, syscall.ECONNRESET)

	tcp := c.Connection()
	_, isTCP := tcp.(*net.TCPConn)
	require.True(t, isTCP, "%T", tcp)
	require.NoError(t, sc.Close())
	_, err = sc.Write([]byte("x"))
	assert.ErrorIs(t, err, net.ErrClosed)
	_, err = tcp.Read(make([]byte, 1))
	assert.ErrorIs(t, err, net.ErrClosed, "the *net.TCPConn given out is closed with it")
	err = sc.SetDeadline(time.Now())
	require.ErrorAs(t, err, &oe)
	assert.ErrorIs(t, err, net.ErrClosed)

	// A connect timeout reads as net.Dialer's.
	assert.Equal(t, "i/o timeout", errConnectTimeout.Error())
	var te interface{ Temporary() bool }
	require.ErrorAs(t, errConnectTimeout, &te)
	assert.True(t, te.Temporary())
}
