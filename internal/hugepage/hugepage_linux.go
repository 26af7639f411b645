package hugepage

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Advise marks b's whole capacity for transparent huge pages when it is at
// least Min bytes and b starts on a page, as a fresh allocation of that size
// does (it is a span of its own). It is advice: any error (a kernel without
// huge pages, a range the kernel refuses) is ignored, and the buffer works
// the same.
func Advise(b []byte) {
	if off || cap(b) < Min {
		return
	}
	_ = syscall.Madvise(b[:cap(b)], syscall.MADV_HUGEPAGE)
}

// Supported reports whether this kernel has transparent huge pages and
// GODEBUG leaves them on: whether Advise can mark anything.
func Supported() bool {
	_, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && !off
}

// Marked reports whether the mapping that holds b's first byte is marked
// for huge pages ("hg" in its VmFlags in /proc/self/smaps). It is for tests.
func Marked(b []byte) (bool, error) {
	if len(b) == 0 {
		return false, fmt.Errorf("hugepage: empty slice")
	}
	addr, err := strconv.ParseUint(strings.TrimPrefix(fmt.Sprintf("%p", &b[0]), "0x"), 16, 64)
	if err != nil {
		return false, err
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return false, err
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "VmFlags:"); ok {
			if in {
				return slices.Contains(strings.Fields(v), "hg"), nil
			}
			continue
		}
		// A mapping's first line: "start-end perms offset dev inode [path]";
		// its other lines are "Key: value".
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasSuffix(fields[0], ":") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if ok && err1 == nil && err2 == nil {
			in = start <= addr && addr < end
		}
	}
	if err := sc.Err(); err != nil {
		return false, err
	}
	return false, fmt.Errorf("hugepage: no mapping holds %#x", addr)
}
