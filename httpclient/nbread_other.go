//go:build !unix || gdhttp_portable

// The build tag gdhttp_portable selects this file and the other portable
// ones (quickdial_other.go, splice_other.go, yield_other.go, and httprequest's
// yield_other.go) on Linux too, so that the tests run the paths Windows,
// Plan 9 and wasm take: go test -tags gdhttp_portable ./httpclient (CI runs
// the hostile corpus and the keep-alive tests so).

package httpclient

import (
	"net"
	"time"
)

// peekSupported reports whether this platform reads and peeks sockets
// without waiting: no, nbConn always falls back to a background read.
const peekSupported = false

// nbSock is the socket under a connection read without waiting; this
// platform offers none, so nbConn always falls back to a background read.
type nbSock struct{}

// newNBSock returns nil: nbConn falls back to a background read.
func newNBSock(net.Conn) *nbSock { return nil }

func (*nbSock) tryRead([]byte) (int, error) { return 0, errWouldBlock }

func (*nbSock) waitReadable(time.Duration) (bool, error) { return false, nil }

func (*nbSock) tryWrite([]byte) (int, error) { return 0, nil }

func (*nbSock) peek() (nbState, bool, error) { return nbEmpty, false, nil }

func (*nbSock) readWith(func(uintptr) bool) (int, error) { return 0, errWouldBlock }

func (*nbSock) read(uintptr, []byte) bool { return true }

func (*nbSock) pendingErr() error { return nil }
