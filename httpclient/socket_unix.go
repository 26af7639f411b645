//go:build unix && !linux && !gdhttp_portable

package httpclient

import (
	"os"
	"syscall"
)

// nonblockingSocket is a TCP socket of family, non-blocking and
// close-on-exec (set under ForkLock, so no child inherits it).
func nonblockingSocket(family int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return -1, os.NewSyscallError("setnonblock", err)
	}
	return fd, nil
}
