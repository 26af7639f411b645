package httpclient

import (
	"errors"
)

// ErrNotReusable is the cause of CONNECTION_ERROR on the connection the
// client closed itself after a response whose framing was ambiguous (§7
// D2, wire.Head.Ambiguous): the response was delivered exactly as Godot
// delivers it, then the connection was closed instead of being reused, so
// the next Poll in CONNECTED — or the Poll that would send a new request —
// fails as it does in Godot once a server has closed a kept-alive
// connection (§1.6.3, §1.6.4.1).
var ErrNotReusable = errors.New("httpclient: connection closed after a response with ambiguous framing")

// retire closes the connection at the end of a response whose framing was
// ambiguous (§7 D2) without changing the status: Godot's status path is
// kept up to the end of the response (CONNECTED), and what follows is what
// a Godot user sees when the server closes a kept-alive connection. The
// bytes buffered after the response (the ones another parser would frame
// differently) are dropped; the stream stays installed, closed, until Close
// (Connection still returns it, as Godot's get_connection() would).
func (c *Client) retire() {
	c.abortMu.Lock()
	c.abortConn = nil
	c.abortMu.Unlock()
	if c.st != nil {
		_ = c.st.raw.Close()
	}
	c.wg.Wait()
	c.resetIO()
	c.retired = true
}
