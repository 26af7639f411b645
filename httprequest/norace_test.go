//go:build !race

package httprequest

// raceEnabled reports a -race build: allocation counts are not meaningful
// there, and long single-goroutine tests skip (skipUnderRace).
const raceEnabled = false
