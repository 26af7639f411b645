package httpclient

import (
	"syscall"
	"unsafe"
)

// getsockopt is getsockopt(2) for an option syscall has no getter for
// (TCP_INFO). linux/386 has no getsockopt system call of its own: it goes
// through socketcall(2), whose call number for it is 15 (linux/net.h).
func getsockopt(fd uintptr, level, name int, val unsafe.Pointer, size *uint32) syscall.Errno {
	const sysGetsockopt = 15
	args := [5]uintptr{fd, uintptr(level), uintptr(name), uintptr(val), uintptr(unsafe.Pointer(size))}
	_, _, errno := syscall.Syscall(syscall.SYS_SOCKETCALL, sysGetsockopt, uintptr(unsafe.Pointer(&args)), 0)
	return errno
}
