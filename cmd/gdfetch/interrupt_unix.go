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

// cancelSignals are the signals that cancel the request, gdfetch cleaning
// up (temporary files, resume state, the bar) before it dies of them:
// Ctrl-C, and the SIGTERM of kill, timeout(1) or a service manager, and
// the SIGHUP of a closed terminal.
var cancelSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// dieOf ends the process by sig's default action: the handler main
// installed is removed and the signal sent again. (main leaves a signal
// the process started with ignored alone; should one survive, the process
// exits 128 plus the signal's number, the status a shell reports.)
func dieOf(sig os.Signal) {
	signal.Reset(sig)
	num, _ := sig.(syscall.Signal)
	_ = syscall.Kill(os.Getpid(), num)
	time.Sleep(100 * time.Millisecond) // the signal is delivered meanwhile
	os.Exit(128 + int(num))
}

// canUnlinkOpen says that a file can be removed while it is open, its
// data kept until it is closed: a temporary file is then removed at once,
// and nothing is left even by a SIGKILL.
const canUnlinkOpen = true

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
