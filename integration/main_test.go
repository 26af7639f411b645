package integration

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a goroutine outlives the tests: every client
// and node must release its goroutines and connections when it is closed,
// also against real peers. It removes the gdfetch binary the end-to-end
// tests built.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if gdfetchBin != "" {
			_ = os.RemoveAll(filepath.Dir(gdfetchBin))
		}
		os.Exit(code)
	}))
}
