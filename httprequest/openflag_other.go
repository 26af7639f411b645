//go:build !unix

package httprequest

// openNoWait is 0 here: no open waits for a writer (openRegular).
const openNoWait = 0
