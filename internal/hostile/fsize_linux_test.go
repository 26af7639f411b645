//go:build linux

package hostile

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// limitFileSize sets RLIMIT_FSIZE for the duration of one run (runs are
// serial); Go ignores SIGXFSZ, so writes past it fail with EFBIG.
func limitFileSize(t *testing.T, n int64) func() {
	t.Helper()
	var old syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old))
	lim := old
	lim.Cur = uint64(n)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim))
	return func() { _ = syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old) }
}
