package fuzz

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine outlives the tests (the
// whole-stack targets also check goroutines and fds after every input).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
