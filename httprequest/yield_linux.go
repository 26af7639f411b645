//go:build linux && !gdhttp_portable

package httprequest

import "runtime"

// yieldToWorker is called right after a use_threads worker goroutine is
// started: it runs at once, on this P, instead of waiting for another P to
// steal it from a caller that may spin on Process() (about 145 µs per
// request on a 2-core machine). It took a spinning use_threads
// loop of small GETs on new connections from 0.35× to 0.72× fasthttp
// (benchmarks/cmd/compare, node-threads; with the sched_yield(2) Process
// then made, since replaced by awaitWorker). It is made only when the
// caller spins on Process (HTTPRequest.spin, internal/spin): a paced
// caller's frame would stall behind every worker it started.
func yieldToWorker() { runtime.Gosched() }
