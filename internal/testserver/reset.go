//go:build !plan9

package testserver

import (
	"errors"
	"syscall"
)

// isReset reports whether err is a reset or a write to a closed peer.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
