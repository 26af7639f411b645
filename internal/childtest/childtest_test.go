//go:build linux

package childtest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunPattern(t *testing.T) {
	assert.Equal(t, `^TestA$/^x\.y$/^one$`, runPattern("TestA/x.y/one"))
}

// TestLimitInChild runs its subtest in a child, where the file-size limit
// makes a write past it fail with EFBIG; the parent is not limited.
func TestLimitInChild(t *testing.T) {
	t.Run("sub(1)", func(t *testing.T) {
		if !InChild(t) {
			Run(t, Options{})
			return
		}
		LimitFileSize(t, 100)
		f, err := os.Create(filepath.Join(t.TempDir(), "f"))
		require.NoError(t, err)
		defer f.Close()
		_, err = f.Write(make([]byte, 200))
		assert.ErrorIs(t, err, syscall.EFBIG)
	})
	if os.Getenv(env) != "" {
		return // the child: its limit is set
	}
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim))
	assert.NotEqual(t, uint64(100), lim.Cur, "the parent process is not limited")
}
