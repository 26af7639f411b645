//go:build !linux

package drive

// tcpTable: no socket table to read on this platform.
func tcpTable(int) ([]TCPSocket, bool) { return nil, false }
