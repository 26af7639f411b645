package integration

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a goroutine outlives the tests: every client
// and node must release its goroutines and connections when it is closed,
// also against real peers.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
