//go:build !unix

package main

import "os"

// handleBrokenPipe does nothing: there is no SIGPIPE to die of here.
func handleBrokenPipe() {}

// cancelSignals are the signals that cancel the request: Ctrl-C.
var cancelSignals = []os.Signal{os.Interrupt}

// dieOf exits 130: a process cannot die of its own Ctrl-C here (Windows
// has no SIGINT to re-raise).
func dieOf(os.Signal) {
	os.Exit(exitInterrupted)
}

// canUnlinkOpen is false: an open file cannot be removed everywhere here
// (Windows); a temporary file is removed when it is closed.
const canUnlinkOpen = false

// openFIFOReader returns nil: an open that waits for a FIFO's reader is a
// unix matter (openDevice).
func openFIFOReader(string) *os.File { return nil }
