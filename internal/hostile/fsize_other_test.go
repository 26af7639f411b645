//go:build !linux

package hostile

import "testing"

// limitFileSize: RLIMIT_FSIZE scenarios run on linux only.
func limitFileSize(t *testing.T, n int64) func() {
	t.Skip("RLIMIT_FSIZE: linux only")
	return func() {}
}
