//go:build linux && !gdhttp_portable

package httpclient

import "syscall"

// yieldCPU is called when a non-blocking read or connect found nothing
// yet: the caller is likely to spin (a Poll loop), and the peer it waits
// for — over loopback, often woken on this very CPU — should get it first.
// sched_yield(2) returns at once when nothing else is runnable. Under load
// it more than doubled a spinning Poll loop's rate of new-connection GETs
// and kept its downloads at the blocking client's speed. It is called only
// when the caller spins (Client.spin, internal/spin): a caller that paces
// its polls would pay about 2 µs a poll for nothing.
func yieldCPU() {
	_, _, _ = syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
}
