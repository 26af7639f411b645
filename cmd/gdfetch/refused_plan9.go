package main

import "strings"

// connRefused reports whether err is a refused connection (curl's
// --retry-connrefused): Plan 9's errors are strings.
func connRefused(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection refused")
}
