package testserver_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// goroutine the package starts must be joined by Server.Close (t.Cleanup).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
