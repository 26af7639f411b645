package httpclient

import "syscall"

// yieldCPU is called when a read without waiting found nothing: the caller
// is likely to spin (a Poll loop), and the peer it waits for — over
// loopback, often woken on this very CPU — should get it first.
// sched_yield(2) returns at once when nothing else is runnable.
func yieldCPU() {
	_, _, _ = syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
}
