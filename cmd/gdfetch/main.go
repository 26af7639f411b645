package main

import (
	"context"
	"io"
	"os"
	"os/signal"
)

func main() {
	handleBrokenPipe()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := runContext(ctx, os.Args[1:], os.Stdout, os.Stderr)
	interrupted := ctx.Err() != nil
	stop()
	if interrupted {
		// Ctrl-C, after the cleanup (partial files, resume state, the
		// bar): die of SIGINT as curl does, so that the shell sees an
		// interrupted child and stops a loop or a script (it still reports
		// 130). An exit(130) would tell it the child handled the signal.
		dieOfInterrupt()
	}
	os.Exit(code)
}

// run is gdfetch with these arguments (without the program name); it
// returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

// runContext is run, canceled (exit 130; main then dies of SIGINT) when
// ctx ends.
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
