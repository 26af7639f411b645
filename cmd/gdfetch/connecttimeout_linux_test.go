package main

import (
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fullBacklogPort is a loopback port whose listen queue is full and never
// accepted from: a SYN to it is dropped, so a TCP connect neither succeeds
// nor fails until a timeout ends it (Linux: a backlog of 0 holds one).
func fullBacklogPort(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, syscall.Listen(fd, 0))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	port := sa.(*syscall.SockaddrInet4).Port
	for range 3 {
		d := net.Dialer{Timeout: 200 * time.Millisecond}
		if c, err := d.Dial("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			t.Cleanup(func() { _ = c.Close() })
		}
	}
	return port
}

// A TCP connect that is never answered is cut by --connect-timeout: exit
// 28, as curl's "Failed to connect … Timeout was reached" (Godot's own
// connect timeout, 30 s, would give RESULT_CANT_CONNECT much later); the
// host by name (localhost: resolved, then connected) too.
func TestConnectTimeoutTCP(t *testing.T) {
	port := strconv.Itoa(fullBacklogPort(t))
	for _, args := range [][]string{
		{"http://127.0.0.1:" + port + "/"},
		{"--threads", "http://127.0.0.1:" + port + "/"},
		{"http://localhost:" + port + "/"},
	} {
		start := time.Now()
		code, _, stderr := gdfetch(t, append([]string{"--connect-timeout", "0.2"}, args...)...)
		assert.Equal(t, exitTimeout, code, "%q: %s", args, stderr)
		assert.Contains(t, stderr, "--connect-timeout 0.2: Connection timed out after", args)
		assert.Less(t, time.Since(start), 5*time.Second, args)
		if args[0] == "--threads" {
			continue
		}
		if ccode, ok := curlExit(t, t.TempDir(), append([]string{"--connect-timeout", "0.2"}, args...)...); ok {
			assert.Equal(t, exitTimeout, ccode, "%q: curl", args)
		}
	}
}
