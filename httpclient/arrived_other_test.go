//go:build !unix || gdhttp_portable

package httpclient

import (
	"testing"
	"time"
)

// waitArrived cannot look at the socket on this platform (no zero-wait
// peek): it gives loopback the time it needs instead.
func waitArrived(*testing.T, *Client, int) { time.Sleep(30 * time.Millisecond) }
