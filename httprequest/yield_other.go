//go:build !linux || gdhttp_portable

package httprequest

// yieldToWorker does nothing here: its effect was measured on Linux only
// (yield_linux.go).
func yieldToWorker() {}
