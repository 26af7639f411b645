package drive

import (
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The process's sockets show, for a loopback connection, the bytes that
// arrived unread, then all of them read, then the server's FIN, and a RST.
func TestAwaitTCP(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("no socket table: AwaitTCP pauses")
	}
	send, closeIt := make(chan struct{}), make(chan struct{})
	ln := Serve(t, func(conn net.Conn) {
		<-send
		_, _ = conn.Write([]byte("0123456789"))
		<-closeIt
	})
	port := Port(ln)
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	const wait = 5 * time.Second
	socks, ok := tcpTable(port)
	require.True(t, ok)
	assert.NotEmpty(t, socks)
	assert.False(t, UnreadAtLeast(port, 1)(socks), "nothing sent yet")
	assert.True(t, AllRead(port)(socks), "nothing sent: nothing left to read")
	close(send)
	require.True(t, AwaitTCP(port, wait, 0, UnreadAtLeast(port, 10)), "10 bytes arrived")
	socks, _ = tcpTable(port)
	assert.False(t, UnreadAtLeast(port, 11)(socks))
	assert.False(t, AllRead(port)(socks), "not read yet")
	local := conn.LocalAddr().(*net.TCPAddr).Port
	assert.False(t, PeerEnded(local)(socks))
	_, err = conn.Read(make([]byte, 10))
	require.NoError(t, err)
	require.True(t, AwaitTCP(port, wait, 0, AllRead(port)), "all read")
	assert.False(t, NoneEstablished(port)(socks), "open")
	close(closeIt)
	require.True(t, AwaitTCP(port, wait, 0, PeerEnded(local)), "the server's FIN")
	socks, _ = tcpTable(port)
	assert.True(t, NoneEstablished(port)(socks), "FIN'd")

	// A RST: the server closes with linger 0 once the client's byte came.
	rst := Serve(t, func(conn net.Conn) {
		_, _ = conn.Read(make([]byte, 1))
		_ = conn.(*net.TCPConn).SetLinger(0)
	})
	conn2, err := net.Dial("tcp", rst.Addr().String())
	require.NoError(t, err)
	defer conn2.Close()
	_, err = conn2.Write([]byte("x"))
	require.NoError(t, err)
	local2 := conn2.LocalAddr().(*net.TCPAddr).Port
	require.True(t, AwaitTCP(local2, wait, 0, PeerEnded(local2)), "the server's RST")
	socks, _ = tcpTable(local2)
	require.Len(t, socks, 1)
	assert.Equal(t, TCPClose, socks[0].State)
}
