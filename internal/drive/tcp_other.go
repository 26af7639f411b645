//go:build !linux

package drive

import "syscall"

// tcpTable: no socket table to read on this platform.
func tcpTable(int) ([]TCPSocket, bool) { return nil, false }

// unacked: no send queue to look at on this platform.
func unacked(syscall.Conn) (int, bool) { return 0, false }
