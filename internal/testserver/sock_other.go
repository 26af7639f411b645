//go:build !unix

package testserver

import "net"

// drainOnce is a no-op where the socket cannot be read without blocking.
func drainOnce(*net.TCPConn, []byte) int { return 0 }
