package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSpool: a held body keeps spoolMemory bytes in memory and the rest in
// a temporary file, gives them back in order, and the file is gone after
// Close (on unix from its creation on).
func TestSpool(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	for _, size := range []int{0, 10, spoolMemory, spoolMemory + 1, 3*spoolMemory + 7} {
		body := make([]byte, size)
		for i := range body {
			body[i] = byte(i * 7)
		}
		s := &spool{}
		for p := body; len(p) > 0; {
			k := min(len(p), 65536+3)
			n, err := s.Write(p[:k])
			require.NoError(t, err)
			require.Equal(t, k, n)
			p = p[k:]
		}
		assert.LessOrEqual(t, len(s.mem), spoolMemory, "%d", size)
		assert.Equal(t, size > spoolMemory, s.file != nil, "%d: a file only beyond the memory part", size)
		if canUnlinkOpen {
			left, err := os.ReadDir(tmp)
			require.NoError(t, err)
			assert.Empty(t, left, "%d: the open file is already removed (nothing left if the process is killed)", size)
		}
		var out bytes.Buffer
		n, err := s.WriteTo(&out)
		require.NoError(t, err)
		assert.Equal(t, int64(size), n)
		assert.True(t, bytes.Equal(body, out.Bytes()), "%d: the body in order", size)
		require.NoError(t, s.Close())
		left, err := os.ReadDir(tmp)
		require.NoError(t, err)
		assert.Empty(t, left, "%d: Close removes the file", size)
	}
}
