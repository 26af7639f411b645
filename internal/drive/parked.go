package drive

import (
	"bytes"
	"runtime"
)

// Parked reports whether a goroutine with frames whose names contain each
// of fns is parked in the network poller ("[IO wait]" in its stack dump): a
// blocking read or write that is waiting for its socket. It is the
// condition the tests used to sleep for ("give the read time to block"): a
// read blocked on a socket shows no other sign. fns are matched against the
// frames' function names, such as "httprequest.(*run)".
func Parked(fns ...string) bool {
	return goroutineIn(func(state []byte) bool { return bytes.HasPrefix(state, []byte("IO wait")) }, fns)
}

// Waiting reports whether a goroutine with frames whose names contain each
// of fns is blocked — on its socket, a channel, a select, a lock, a
// condition — rather than running or about to run: a call that has reached
// the point where it waits for another goroutine or the network.
func Waiting(fns ...string) bool {
	return goroutineIn(func(state []byte) bool {
		for _, busy := range []string{"running", "runnable", "syscall", "preempted"} {
			if bytes.HasPrefix(state, []byte(busy)) {
				return false
			}
		}
		return true
	}, fns)
}

// goroutineIn reports whether a goroutine's state (the bracketed part of
// its stack dump's first line) satisfies in and its frames contain fns.
func goroutineIn(in func(state []byte) bool, fns []string) bool {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
next:
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		head, frames, _ := bytes.Cut(g, []byte("\n"))
		frames, _, _ = bytes.Cut(frames, []byte("\ncreated by ")) // who started it is no frame
		_, state, _ := bytes.Cut(head, []byte("["))
		if !in(state) {
			continue
		}
		for _, fn := range fns {
			if !bytes.Contains(frames, []byte(fn)) {
				continue next
			}
		}
		return true
	}
	return false
}
