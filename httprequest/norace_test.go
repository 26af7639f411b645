//go:build !race

package httprequest

// raceEnabled reports a -race build: allocation counts are not meaningful
// there.
const raceEnabled = false
