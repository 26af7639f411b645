//go:build !unix

package httpclient

import "net"

// peekSupported reports whether this platform reads and peeks sockets
// without waiting: no, nbConn always falls back to a background read.
const peekSupported = false

// nbSock is the socket under a connection read without waiting; this
// platform offers none, so nbConn always falls back to a background read.
type nbSock struct{}

// newNBSock returns nil: nbConn falls back to a background read.
func newNBSock(net.Conn) *nbSock { return nil }

func (*nbSock) tryRead([]byte) (int, error) { return 0, errWouldBlock }

func (*nbSock) tryWrite([]byte) (int, error) { return 0, nil }

func (*nbSock) peek() (nbState, bool, error) { return nbEmpty, false, nil }

func (*nbSock) readWith(func(uintptr) bool) (int, error) { return 0, errWouldBlock }

func (*nbSock) read(uintptr, []byte) bool { return true }

func (*nbSock) pendingErr() error { return nil }
