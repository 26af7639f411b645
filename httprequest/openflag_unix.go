//go:build unix

package httprequest

import "syscall"

// openNoWait makes an open return at once where it would wait: a FIFO's
// for a writer (openRegular).
const openNoWait = syscall.O_NONBLOCK
