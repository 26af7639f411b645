package hostile

import (
	"flag"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs more scenarios at once than -parallel's default (GOMAXPROCS):
// the runs mostly wait on sockets and timers, not on the CPU. An explicit
// -test.parallel wins.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", "8")
	}
	goleak.VerifyTestMain(m)
	os.Exit(0) // not reached: VerifyTestMain exits
}
