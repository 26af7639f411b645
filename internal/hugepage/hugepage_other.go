//go:build !linux

package hugepage

import "errors"

// Advise does nothing: transparent huge pages are Linux's.
func Advise(b []byte) {}

// Supported reports false: transparent huge pages are Linux's.
func Supported() bool { return false }

// Marked reports an error: there is no mark to look at.
func Marked(b []byte) (bool, error) {
	return false, errors.New("hugepage: transparent huge pages are Linux's")
}
