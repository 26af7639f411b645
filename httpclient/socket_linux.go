//go:build linux && !gdhttp_portable

package httpclient

import (
	"os"
	"syscall"
)

// nonblockingSocket is a TCP socket of family, non-blocking and
// close-on-exec from the start (one system call, as net.Dialer makes it).
func nonblockingSocket(family int) (int, error) {
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	return fd, nil
}
