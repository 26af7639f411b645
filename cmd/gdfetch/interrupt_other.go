//go:build !unix

package main

import "os"

// dieOfInterrupt exits 130: a process cannot die of its own Ctrl-C here
// (Windows has no SIGINT to re-raise).
func dieOfInterrupt() {
	os.Exit(exitInterrupted)
}
