package drive

import (
	"bytes"
	"runtime"
)

// Parked reports whether a goroutine with a frame whose name contains fn is
// parked in the network poller ("[IO wait]" in its stack dump): a blocking
// read or write that is waiting for its socket. It is the condition the
// tests used to sleep for ("give the read time to block"): a read blocked
// on a socket shows no other sign. fn is matched against the frames'
// function names, such as "httprequest.(*run)".
func Parked(fn string) bool {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	name := []byte(fn)
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		head, frames, _ := bytes.Cut(g, []byte("\n"))
		if bytes.Contains(head, []byte("[IO wait")) && bytes.Contains(frames, name) {
			return true
		}
	}
	return false
}
