package main

import (
	"bytes"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// gdfetch runs the command in-process and returns its exit status, stdout
// and stderr.
func gdfetch(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// newBackend starts the demo backend on a free loopback port for one test.
func newBackend(t *testing.T) *backend {
	t.Helper()
	b, err := startBackend("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.close)
	return b
}
