//go:build linux && !gdhttp_portable

package httprequest

import (
	"runtime"
	"syscall"
)

// yieldCPU is called by a Process() of a use_threads node whose request is
// still running, when the caller spins but not on this node alone (a loop
// of Process() over several nodes or clients, without frame pacing; alone,
// the Process waits for the worker instead, awaitWorker): the node's
// goroutine and the peer it waits for should get this CPU first.
// sched_yield(2) returns at once when nothing else is runnable. httpclient
// yields the same way when a spinning Poll loop finds nothing to read. A
// paced caller, such as a loop over a thousand nodes, never yields: it
// would pay 2 µs a node a frame.
func yieldCPU() {
	_, _, _ = syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
}

// yieldToWorker is called right after a use_threads worker goroutine is
// started: it runs at once, on this P, instead of waiting for another P to
// steal it from a caller that may spin on Process() (about 145 µs per
// request on a 2-core machine). With yieldCPU it took a spinning
// use_threads loop of small GETs on new connections from 0.35× to 0.72×
// fasthttp (benchmarks/cmd/compare, node-threads). It is made only when the
// caller spins on Process (HTTPRequest.spin, internal/spin): a paced
// caller's frame would stall behind every worker it started.
func yieldToWorker() { runtime.Gosched() }
