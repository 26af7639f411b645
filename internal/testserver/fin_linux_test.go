package testserver_test

import (
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// readEvent is what one non-blocking read(2) returned.
type readEvent string

const (
	evData   readEvent = "data"
	evEOF    readEvent = "eof"
	evAgain  readEvent = "again"
	evFailed readEvent = "error"
)

// godotReads plays Godot's TCP read primitive (§1.15.3): wait until the socket
// is readable once, then do non-blocking reads until EOF or until nothing is
// available. It returns the data and the event that ended the drain.
func godotReads(t *testing.T, c *net.TCPConn) (string, readEvent) {
	t.Helper()
	rc, err := c.SyscallConn()
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	var got strings.Builder
	buf := make([]byte, 64<<10)
	var last readEvent
	first := true
	require.NoError(t, rc.Read(func(fd uintptr) bool {
		for {
			n, err := syscall.Read(int(fd), buf)
			switch {
			case err == syscall.EAGAIN:
				if first {
					return false // wait for readability
				}
				last = evAgain
				return true
			case err != nil:
				last = evFailed
				return true
			case n == 0:
				last = evEOF
				return true
			}
			first = false
			got.Write(buf[:n])
		}
	}))
	return got.String(), last
}

// TestFINTiming pins §1.10.4 as a peer: RespondAndClose puts the FIN in the
// same segment as the data, so the reader that wakes for the data sees EOF in
// the same drain; a later close leaves the reader with "no data yet" (300 ms
// here rather than the spec's 50 ms, so that a loaded machine cannot delay the
// reader past the gap).
func TestFINTiming(t *testing.T) {
	const resp = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\ndata"
	tests := []struct {
		name    string
		handler func(*ts.Conn)
		want    readEvent
	}{
		{"FIN with the data", ts.RespondAndClose(resp), evEOF},
		{"FIN later", ts.Script(ts.Read(), ts.WriteString(resp), ts.Sleep(300*time.Millisecond), ts.Close()), evAgain},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 20 {
				srv := ts.New(t, tc.handler)
				c := dial(t, srv.Addr())
				_, err := c.Write([]byte(getReq))
				require.NoError(t, err)
				got, ev := godotReads(t, c)
				require.Equal(t, resp, got)
				require.Equal(t, tc.want, ev)
				srv.Close()
				assert.Empty(t, srv.Errors())
			}
		})
	}
}

// TestWriteAndCloseLarge: a response of many segments still arrives whole,
// followed by a clean EOF.
func TestWriteAndCloseLarge(t *testing.T) {
	body := strings.Repeat("0123456789abcdef", 64<<10) // 1 MiB
	srv := ts.New(t, ts.RespondAndClose(body))
	c := dial(t, srv.Addr())
	_, err := c.Write([]byte(getReq))
	require.NoError(t, err)
	got, end := readUntilEnd(t, c, 0, 5*time.Second)
	assert.Equal(t, len(body), len(got))
	assert.True(t, got == body)
	assert.Equal(t, endEOF, end)
}
