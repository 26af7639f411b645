//go:build !unix

package main

import "os"

// handleBrokenPipe does nothing: there is no SIGPIPE to die of here.
func handleBrokenPipe() {}

// dieOfInterrupt exits 130: a process cannot die of its own Ctrl-C here
// (Windows has no SIGINT to re-raise).
func dieOfInterrupt() {
	os.Exit(exitInterrupted)
}

// openFIFOReader returns nil: an open that waits for a FIFO's reader is a
// unix matter (openDevice).
func openFIFOReader(string) *os.File { return nil }
