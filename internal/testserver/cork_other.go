//go:build !linux

package testserver

import "net"

// cork is a no-op without TCP_CORK: data and FIN leave back to back.
func cork(*net.TCPConn) {}

// uncork is a no-op without TCP_CORK.
func uncork(*net.TCPConn) {}
