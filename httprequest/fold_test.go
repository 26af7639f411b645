package httprequest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestEqualFoldRunes: the allocation-free test contentEncoding uses gives
// what lower-casing code point by code point and comparing gives (§2.7.4:
// Godot's to_lower of the header name), including non-ASCII runes that
// lower-case to ASCII and invalid UTF-8.
func TestEqualFoldRunes(t *testing.T) {
	lowers := []string{"content-encoding", "k", "ǆ", ""}
	inputs := []string{
		"Content-Encoding", "content-encoding", "CONTENT-ENCODING", "Content-Encodin", "Content-Encodingg",
		"\u212a", "K", "k", "ǅ", "Ǆ", "ǆ", "\xff", "", "content-encoding\x00",
	}
	for _, lower := range lowers {
		for _, in := range inputs {
			assert.Equal(t, strings.Map(foldRune, in) == lower, equalFoldRunes(in, lower), "%q vs %q", in, lower)
		}
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { equalFoldRunes("Content-Length", "content-encoding") }))
}
