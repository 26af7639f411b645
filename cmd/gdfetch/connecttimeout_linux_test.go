package main

import (
	"strconv"
	"testing"
	"time"

	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/stretchr/testify/assert"
)

// A TCP connect that is never answered is cut by --connect-timeout: exit
// 28, as curl's "Failed to connect … Timeout was reached" (Godot's own
// connect timeout, 30 s, would give RESULT_CANT_CONNECT much later); the
// host by name (localhost: resolved, then connected) too.
func TestConnectTimeoutTCP(t *testing.T) {
	port := strconv.Itoa(testserver.BlackHolePort(t))
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
