package httpclient

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine outlives the tests: Close must
// join every goroutine a Client started (the issue's "no goroutine or
// connection outlives Close").
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
