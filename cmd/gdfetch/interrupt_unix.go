//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"
)

// handleBrokenPipe handles SIGPIPE: a Go program that does not dies of it
// at a write to a closed stdout pipe (gdfetch URL | head -c1). Handled,
// the write fails with EPIPE instead, and gdfetch exits 23 as curl
// (CURLE_WRITE_ERROR).
func handleBrokenPipe() {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
}

// dieOfInterrupt ends the process by SIGINT's default action: the handler
// signal.NotifyContext installed is removed and the signal sent again. A
// process started with SIGINT ignored (a background job of a
// non-interactive shell) gets that disposition back and survives the
// signal: it exits 130, the status a shell reports for SIGINT.
func dieOfInterrupt() {
	signal.Reset(os.Interrupt)
	_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
	time.Sleep(100 * time.Millisecond) // the signal is delivered meanwhile
	os.Exit(exitInterrupted)
}

// openFIFOReader opens path for reading without waiting for a writer (nil
// when it cannot): what ends another goroutine's open of the FIFO for
// writing (openDevice).
func openFIFOReader(path string) *os.File {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil
	}
	return f
}
