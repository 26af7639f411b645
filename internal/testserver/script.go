package testserver

import (
	"errors"
	"io"
	"strconv"
	"time"
)

// Step is one action of a Script. Steps are values, so table-driven tests can
// hold whole server behaviours as data. String returns the step's name, as
// recorded in ConnError.Op.
type Step struct {
	name string
	run  func(c *Conn) error
}

// String returns the step's name.
func (s Step) String() string { return s.name }

// Script returns a handler that runs steps in order on each connection. The
// first failing step stops the script and is recorded in Server.Errors (a
// shutdown is not recorded). When the script ends the connection is closed
// gracefully, unless a step already closed it; end a script with Hold to keep
// the connection open until the client closes.
func Script(steps ...Step) func(c *Conn) {
	return func(c *Conn) {
		for i, st := range steps {
			if err := st.run(c); err != nil {
				if !errors.Is(err, ErrServerClosed) {
					c.srv.recordErr(&ConnError{Conn: c.index, Step: i, Op: st.name, Err: err})
				}
				return
			}
		}
	}
}

// Respond returns a handler that reads one request, writes resp and keeps the
// connection open until the client closes it (or the server closes).
func Respond(resp string) func(c *Conn) {
	return Script(Read(), WriteString(resp), Hold())
}

// RespondAndClose returns a handler that reads one request, then writes resp
// and closes in the same instant: the FIN travels with the data (§1.10.4).
func RespondAndClose(resp string) func(c *Conn) {
	return Script(Read(), WriteAndClose([]byte(resp)))
}

// RespondEach returns a handler that answers every request on the connection
// with resp (keep-alive) until the client closes.
func RespondEach(resp string) func(c *Conn) {
	return Script(Do("respond-each", func(c *Conn) error {
		for {
			if _, err := c.ReadRequest(); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
			if err := c.Write([]byte(resp)); err != nil {
				return err
			}
		}
	}))
}

// Read reads one whole request (Conn.ReadRequest).
func Read() Step {
	return Step{"read", func(c *Conn) error { _, err := c.ReadRequest(); return err }}
}

// ReadN reads exactly n bytes (Conn.ReadN).
func ReadN(n int) Step {
	return Step{"read-" + strconv.Itoa(n), func(c *Conn) error { _, err := c.ReadN(n); return err }}
}

// ReadSome reads whatever arrives first (Conn.ReadSome).
func ReadSome() Step {
	return Step{"read-some", func(c *Conn) error { _, err := c.ReadSome(); return err }}
}

// Write writes b in one write (Conn.Write).
func Write(b []byte) Step {
	return Step{"write", func(c *Conn) error { return c.Write(b) }}
}

// WriteString is Write for a string.
func WriteString(s string) Step { return Write([]byte(s)) }

// WriteSplit writes b cut at splits with gap between pieces (Conn.WriteSplit).
func WriteSplit(b []byte, splits []int, gap time.Duration) Step {
	return Step{"write-split", func(c *Conn) error { return c.WriteSplit(b, splits, gap) }}
}

// Trickle writes b one byte per interval (Conn.WriteTrickle).
func Trickle(b []byte, every time.Duration) Step {
	return Step{"trickle", func(c *Conn) error { return c.WriteTrickle(b, every) }}
}

// WriteAndClose writes b and closes with the FIN in the same segment
// (Conn.WriteAndClose).
func WriteAndClose(b []byte) Step {
	return Step{"write-and-close", func(c *Conn) error { return c.WriteAndClose(b) }}
}

// Sleep waits d (Conn.Sleep).
func Sleep(d time.Duration) Step {
	return Step{"sleep", func(c *Conn) error { return c.Sleep(d) }}
}

// CloseWrite half-closes (Conn.CloseWrite).
func CloseWrite() Step {
	return Step{"close-write", func(c *Conn) error { return c.CloseWrite() }}
}

// Close closes gracefully (Conn.Close).
func Close() Step {
	return Step{"close", func(c *Conn) error { return c.Close() }}
}

// CloseTCP closes without a TLS close_notify (Conn.CloseTCP).
func CloseTCP() Step {
	return Step{"close-tcp", func(c *Conn) error { return c.CloseTCP() }}
}

// Reset aborts with a RST (Conn.Reset).
func Reset() Step {
	return Step{"reset", func(c *Conn) error { return c.Reset() }}
}

// Hold keeps the connection open until the client closes (Conn.Hold).
func Hold() Step {
	return Step{"hold", func(c *Conn) error { return c.Hold() }}
}

// WaitClosed fails with ErrNotClosed unless the client closes within d
// (Conn.WaitClosed).
func WaitClosed(d time.Duration) Step {
	return Step{"wait-closed", func(c *Conn) error {
		if c.WaitClosed(d) {
			return nil
		}
		if c.srv.isClosing() {
			return ErrServerClosed
		}
		return ErrNotClosed
	}}
}

// Do is a custom step; name is what Server.Errors reports when f fails.
func Do(name string, f func(c *Conn) error) Step {
	return Step{name, f}
}
