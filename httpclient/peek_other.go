//go:build !unix || aix

package httpclient

import "net"

// peekSupported reports whether this platform has the zero-wait socket peek
// of the blocking-mode liveness check (§1.6.3). Without it the check is a
// read with a short deadline (probeWait).
const peekSupported = false

// sock is the raw TCP socket under a connection; this platform has none to
// offer.
type sock struct{}

// newSock returns nil: the caller falls back to a read with a short deadline.
func newSock(net.Conn) *sock { return nil }

func (*sock) peek() (peekState, error) { return peekEmpty, nil }

func (*sock) recv([]byte) (int, error) { return 0, errNoData }
