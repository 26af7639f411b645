//go:build !race

package httpclient

// raceEnabled reports a -race build: allocation counts are not meaningful
// there.
const raceEnabled = false
