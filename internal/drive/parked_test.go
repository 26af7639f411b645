package drive

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parkedReader blocks in a read of conn; a named function, so its frame
// shows in the stack dump.
func parkedReader(conn net.Conn, done chan<- error) {
	_, err := conn.Read(make([]byte, 1))
	done <- err
}

// Parked sees a goroutine blocked in a socket read, and no longer once the
// read has returned; a goroutine blocked elsewhere (a channel) is not parked.
func TestParked(t *testing.T) {
	const fn = "drive.parkedReader"
	ln := Serve(t, func(conn net.Conn) {
		_, _ = conn.Read(make([]byte, 1)) // wait for the client's byte
		_, _ = conn.Write([]byte("x"))
	})
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	assert.False(t, Parked(fn), "no reader yet")
	done := make(chan error, 1)
	go parkedReader(conn, done)
	require.True(t, Until(5*time.Second, func() bool { return Parked(fn) }), "the read parked")
	_, err = conn.Write([]byte("y")) // the server answers: the read returns
	require.NoError(t, err)
	require.NoError(t, <-done)
	assert.False(t, Parked(fn), "the read returned")
	assert.False(t, Parked("drive.TestParked"), "this goroutine runs")
}

// chanWaiter blocks on a channel; a named function, so its frame shows.
func chanWaiter(ch <-chan struct{}, done chan<- struct{}) {
	<-ch
	close(done)
}

// Waiting sees a goroutine blocked on a channel (Parked does not: it is not
// on a socket) and not this running one.
func TestWaiting(t *testing.T) {
	const fn = "drive.chanWaiter"
	ch, done := make(chan struct{}), make(chan struct{})
	go chanWaiter(ch, done)
	require.True(t, Until(5*time.Second, func() bool { return Waiting(fn) }), "the receive blocked")
	assert.False(t, Parked(fn), "not on a socket")
	assert.False(t, Waiting(fn, "drive.noSuchFrame"), "every frame must be there")
	assert.False(t, Waiting("drive.TestWaiting"), "this goroutine runs")
	close(ch)
	<-done
	assert.False(t, Waiting(fn), "gone")
}
