package testserver

import "strings"

// isReset reports whether err is a reset or a write to a closed peer: Plan
// 9 reports them as strings.
func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "hungup"))
}
