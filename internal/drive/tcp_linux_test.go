package drive

import (
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// AwaitSent: bytes the peer's full receive window keeps unacknowledged are
// not sent; once the peer reads them, and after a FIN, everything is.
func TestAwaitSent(t *testing.T) {
	accepted := make(chan *net.TCPConn, 1)
	ln := Serve(t, func(conn net.Conn) {
		accepted <- conn.(*net.TCPConn)
		<-t.Context().Done()
	})
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	client, err := d.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer client.Close()
	srv := <-accepted
	const wait = 5 * time.Second
	assert.True(t, AwaitSent(srv, wait, 0), "nothing written")
	// Fill the client's window and the server's send buffer.
	require.NoError(t, srv.SetWriteDeadline(time.Now().Add(100*time.Millisecond)))
	_, err = srv.Write(make([]byte, 8<<20))
	require.Error(t, err, "8 MiB fit in the buffers")
	assert.False(t, AwaitSent(srv, 50*time.Millisecond, 0), "the window is full")
	go func() { _, _ = io.Copy(io.Discard, client) }()
	assert.True(t, AwaitSent(srv, wait, 0), "read by the peer")
	require.NoError(t, srv.CloseWrite())
	assert.True(t, AwaitSent(srv, wait, 0), "the FIN")
}
