//go:build !plan9 && !windows

package main

import (
	"errors"
	"syscall"
)

// connRefused reports whether err is a refused connection (curl's
// --retry-connrefused).
func connRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
