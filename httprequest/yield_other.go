//go:build !linux || gdhttp_portable

package httprequest

// yieldCPU and yieldToWorker do nothing here: their effect was measured on
// Linux only (yield_linux.go).
func yieldCPU()      {}
func yieldToWorker() {}
