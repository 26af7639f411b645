//go:build unix

package httpclient

import (
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// cpuTime returns the CPU time the process has used.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestBlockingModeDoesNotSpin checks §7 D1 against §1.15.2 (Godot's blocking
// reads busy-wait at 100 % CPU): blocking Poll and body reads wait for real.
func TestBlockingModeDoesNotSpin(t *testing.T) {
	srv := ts.New(t, ts.Script(ts.Read(), ts.Sleep(400*time.Millisecond),
		ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab"), ts.Sleep(400*time.Millisecond),
		ts.WriteString("cd"), ts.Hold()))
	c, _ := newClient(t, true)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	start, before := time.Now(), cpuTime(t)
	require.NoError(t, c.Poll()) // waits ~400 ms for the head
	require.Equal(t, StatusBody, c.Status())
	body := c.ReadResponseBodyChunk() // waits ~400 ms: a blocking read fills its target (§1.10.1.2)
	wall, cpu := time.Since(start), cpuTime(t)-before
	assert.Equal(t, "abcd", string(body))
	assert.GreaterOrEqual(t, wall, 700*time.Millisecond)
	t.Logf("waited %v using %v of CPU", wall, cpu)
	assert.Less(t, cpu, wall/4, "blocking mode must not spin")
}
