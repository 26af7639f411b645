package main

import (
	"errors"
	"syscall"
)

// wsaeConnRefused is Winsock's WSAECONNREFUSED, which package syscall does
// not name.
const wsaeConnRefused syscall.Errno = 10061

// connRefused reports whether err is a refused connection (curl's
// --retry-connrefused).
func connRefused(err error) bool { return errors.Is(err, wsaeConnRefused) }
