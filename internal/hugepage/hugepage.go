// Package hugepage asks the kernel to back a large buffer that is about to
// be filled with transparent huge pages.
//
// A body kept in memory is written once, front to back, into memory the
// process has just taken from the kernel. With 4 KiB pages every page is a
// fault; on a virtual machine a fault can cost tens of microseconds, and a
// 256 MiB body then spends most of its time in the kernel: the node's
// in-memory download ran at 218 MB/s where the socket gives 4000 MB/s, on
// the project's 2-core machine, and at 1881 MB/s with this advice
// (benchmarks/cmd/compare, cl/node-process). Linux's default
// transparent-huge-page mode, "madvise", backs with 2 MiB pages only the
// ranges a process marks with madvise(MADV_HUGEPAGE): 512 times fewer
// faults. The Go runtime marks none of its heap (it stopped in Go 1.21.1),
// so a buffer that will be filled is marked here.
//
// The mark stays on the range after the buffer is freed: the Go heap may
// reuse it for other objects, which then get huge pages too, so the
// process's resident memory in that range stays within the buffer's size,
// which it held while the buffer was live. GODEBUG=disablethp=1, the Go
// runtime's own switch for huge pages, turns the advice off.
package hugepage

import (
	"os"
	"strconv"
	"strings"
)

// Min is the smallest buffer Advise marks: a range must hold one whole,
// aligned 2 MiB page for the mark to change anything, and smaller buffers
// come from memory the Go heap already holds.
const Min = 4 << 20

// off is GODEBUG's disablethp=1, read once at start-up as the runtime does.
var off = disabled(os.Getenv("GODEBUG"))

// disabled reports whether a GODEBUG value turns huge pages off: its last
// disablethp setting that is a number is not 0, as the runtime reads it.
func disabled(godebug string) bool {
	on := false
	for kv := range strings.SplitSeq(godebug, ",") {
		if v, ok := strings.CutPrefix(kv, "disablethp="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				on = n != 0
			}
		}
	}
	return on
}
