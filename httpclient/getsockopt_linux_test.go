//go:build linux && !386

package httpclient

import (
	"syscall"
	"unsafe"
)

// getsockopt is getsockopt(2) for an option syscall has no getter for
// (TCP_INFO).
func getsockopt(fd uintptr, level, name int, val unsafe.Pointer, size *uint32) syscall.Errno {
	_, _, errno := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, uintptr(level), uintptr(name),
		uintptr(val), uintptr(unsafe.Pointer(size)), 0)
	return errno
}
