package drive

import (
	"fmt"
	"maps"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// FDs is how many descriptors the test process has open (/proc/self/fd),
// or −1 where there is no such directory. The runtime's network poller
// (on Linux an epoll and an eventfd, made at the first network use and
// kept for the process) is made first, so that a test run alone, which
// counts before its first socket, does not take them for a leak.
func FDs() int {
	pollerOnce.Do(startPoller)
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

var pollerOnce sync.Once

func startPoller() {
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		_ = ln.Close()
	}
}

// NoFDLeft fails t when more than slack descriptors beyond before (FDs at
// the start; −1 checks nothing) are still open after up to 2 s: closes in
// flight, and files dropped unclosed (their finalizers, after a GC), get
// that time.
func NoFDLeft(t testing.TB, before, slack int) {
	t.Helper()
	if before < 0 {
		return
	}
	deadline := time.Now().Add(2 * time.Second)
	for FDs() > before+slack && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if now := FDs(); now > before+slack {
		t.Errorf("%d descriptors before, %d after", before, now)
	}
}

// Counts lists a harness's tallies, one "count name" line each (every
// line begins with a newline), in name order: what a generated test logs
// at its end.
func Counts(tally map[string]int) string {
	names := slices.Sorted(maps.Keys(tally))
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "\n  %5d %s", tally[k], k)
	}
	return b.String()
}

// EnvInt is the integer in the environment variable name (a harness's
// knob, GDHTTP_…_N and the like), def when it is unset or empty. A value
// that is not an integer panics with a message naming the variable: a
// typo in a knob must not run the default silently.
func EnvInt(name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		panic(fmt.Sprintf("%s=%q: not an integer", name, s))
	}
	return v
}
