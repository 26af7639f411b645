package drive

import (
	"slices"
	"testing"
	"time"
)

// Client is the part of httpclient.Client the poll loops call; S is
// httpclient.Status.
type Client[S comparable] interface {
	Status() S
	Poll() error
}

// Poller runs a client's poll loops the way a Godot game does: Poll in a
// loop, with a pause between polls in non-blocking mode (a game polls once a
// frame) and none in blocking mode (Poll itself waits).
type Poller[S comparable] struct {
	Blocking bool          // the client is in blocking mode: no pauses
	Gap      time.Duration // the pause after a call that made no progress
	Wait     time.Duration // bounds every loop: the test fails after it
	Note     func()        // called after every Poll (a status trace); may be nil
}

// While polls c while its status is one of ss and returns the last Poll's
// error.
func (p Poller[S]) While(t testing.TB, c Client[S], ss ...S) error {
	t.Helper()
	deadline := time.Now().Add(p.Wait)
	var err error
	for slices.Contains(ss, c.Status()) {
		if !time.Now().Before(deadline) {
			t.Fatalf("still %v after %v", c.Status(), p.Wait)
		}
		err = c.Poll()
		p.note()
		if !p.Blocking && slices.Contains(ss, c.Status()) {
			time.Sleep(p.Gap)
		}
	}
	return err
}

// Body runs Godot's body loop while c's status is body: Poll, then, if the
// status is still body, read — one read call, which reports whether it got
// bytes; a read without bytes in non-blocking mode is followed by a pause.
func (p Poller[S]) Body(t testing.TB, c Client[S], body S, read func() bool) {
	t.Helper()
	deadline := time.Now().Add(p.Wait)
	for c.Status() == body {
		if !time.Now().Before(deadline) {
			t.Fatalf("body not finished after %v (status %v)", p.Wait, c.Status())
		}
		_ = c.Poll()
		p.note()
		if c.Status() != body {
			return
		}
		if !read() && !p.Blocking && c.Status() == body {
			time.Sleep(p.Gap)
		}
	}
}

func (p Poller[S]) note() {
	if p.Note != nil {
		p.Note()
	}
}
