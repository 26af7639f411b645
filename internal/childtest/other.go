//go:build !linux

package childtest

import "testing"

// InChild reports whether this process is the child started for t.
func InChild(testing.TB) bool { return false }

// Options say how Run starts the child.
type Options struct {
	Unprivileged bool
	Args         []string
}

// Run skips t: child runs are Linux-only.
func Run(t testing.TB, _ Options) {
	t.Helper()
	t.Skip("childtest: child processes run on linux only")
}

// LimitFileSize is never reached (Run skips first).
func LimitFileSize(t testing.TB, _ uint64) {
	t.Helper()
	t.Skip("childtest: linux only")
}
