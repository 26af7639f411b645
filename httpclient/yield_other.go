//go:build !linux || gdhttp_portable

package httpclient

import "runtime"

// yieldCPU is called when a read without waiting found nothing (see
// yield_linux.go); here it lets other goroutines run first.
func yieldCPU() { runtime.Gosched() }
