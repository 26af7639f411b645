package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
)

func main() {
	handleBrokenPipe()
	ctx, cancel := context.WithCancel(context.Background())
	var caught atomic.Value // the os.Signal that canceled ctx
	sigs := make(chan os.Signal, 1)
	for _, sig := range cancelSignals {
		// One the process started with ignored stays ignored: nohup's
		// SIGHUP, a background job's SIGINT (Notify would turn it on).
		if !signal.Ignored(sig) {
			signal.Notify(sigs, sig)
		}
	}
	go func() {
		caught.Store(<-sigs)
		cancel()
	}()
	code := runContext(ctx, os.Args[1:], os.Stdout, os.Stderr)
	signal.Stop(sigs)
	if ctx.Err() != nil {
		// Ctrl-C (or SIGTERM, SIGHUP), after the cleanup (partial files,
		// resume state, the bar): die of that signal as curl does, so
		// that the shell sees an interrupted child and stops a loop or a
		// script (it still reports 130 for SIGINT). An exit(130) would
		// tell it the child handled the signal.
		dieOf(caught.Load().(os.Signal))
	}
	os.Exit(code)
}

// run is gdfetch with these arguments (without the program name); it
// returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

// runContext is run, canceled (exit 130; main then dies of the signal)
// when ctx ends.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return runDemo(ctx, nil, stdout, stderr)
	}
	switch args[0] {
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "help": // as "demo" and "serve": a word, not the host "help"
		io.WriteString(stdout, usage)
		return exitOK
	}
	return runFetch(ctx, args, stdout, stderr)
}
