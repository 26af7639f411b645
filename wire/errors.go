package wire

import "strconv"

// LimitError reports that input exceeded one of the configured Limits. Like
// http.MaxBytesError it is distinct and typed, so a caller can tell a hostile
// or oversized peer from a protocol error.
type LimitError struct {
	What  string // which limit, e.g. "header bytes" or "header fields"
	Limit int64  // the limit in force
}

// Error returns e.g. "gdhttp: header bytes exceed the limit of 1048576".
func (e *LimitError) Error() string {
	return "gdhttp: " + e.What + " exceed the limit of " + strconv.FormatInt(e.Limit, 10)
}
