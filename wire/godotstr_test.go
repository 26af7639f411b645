package wire

import (
	"math"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// §0.4.1 strip_edges removes every byte ≤ 32 at both ends, nothing inside.
func TestStripEdges(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"\r\n\t x \x01\x1f", "x"},
		{" a b ", "a b"},
		{"\x7fa\x7f", "\x7fa\x7f"}, // DEL (127) is > 32: kept
		{"é ", "é"},                // bytes ≥ 128 are kept
	}
	for _, c := range cases {
		assert.Equal(t, c.want, stripEdges(c.in), "%q", c.in)
		assert.Equal(t, c.want, string(stripEdgesBytes([]byte(c.in))), "%q", c.in)
	}
}

// §0.4.2 to_int: non-digits skipped, '.' stops, '-' flips only while the value is 0, clamps.
func TestToInt(t *testing.T) {
	cases := []struct {
		in   string
		want int64
	}{
		{"", 0},
		{"12abc", 12},
		{"1,2", 12},
		{"1.5", 1},
		{"abc", 0},
		{" 200 OK", 200},
		{"-1", -1},
		{"--5", 5},
		{"5-", 5},
		{"-0-3", 3}, // the second '-' flips back while the value is still 0
		{".5", 0},
		{"9223372036854775807", math.MaxInt64},
		{"9223372036854775800", math.MaxInt64 - 7}, // the last digit that fits, not a clamp
		{"-9223372036854775807", -math.MaxInt64},   // fits: not clamped to MinInt64
		{"-9223372036854775808", math.MinInt64},
		// Godot 4.5 on checks for overflow from the 20th digit only: a
		// 19-digit value past the int64 range wraps.
		{"9223372036854775808", math.MinInt64},
		{"9999999999999999999", -8446744073709551617},
		{"-9999999999999999999", 8446744073709551617},
		{"-9223372036854775809", math.MaxInt64},
		// From the 20th digit an overflow clamps.
		{"99999999999999999999", math.MaxInt64},
		{"-99999999999999999999", math.MinInt64},
		{"99999999999999999999999", math.MaxInt64},
		{"-99999999999999999999999", math.MinInt64},
		{"10000000000000000000", math.MaxInt64},
		{"00000000000000000000000000000000000005", 5}, // leading zeros count as digits, overflow is by value
		// The digit count is 8 bits: past 255 digits the check is off for 19
		// more, and a uint64 that passes 2^64 there wraps.
		{strings.Repeat("0", 238) + "99999999999999999999", 7766279631452241919},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, toInt(c.in), "%q", c.in)
		assert.Equal(t, c.want, toInt([]byte(c.in)), "%q", c.in)
	}
}

// §0.4.3 case-insensitive prefix and substring tests.
func TestFoldHelpers(t *testing.T) {
	assert.True(t, hasPrefixFold("Content-Length: 2", "content-length:"))
	assert.True(t, hasPrefixFold([]byte("CONNECTION: close"), "connection: close"))
	assert.False(t, hasPrefixFold("Content-Lengt", "content-length:"))
	assert.False(t, hasPrefixFold("Xontent-Length:", "content-length:"))
	assert.True(t, ContainsFold("Content-Location: /a", "location: "))
	assert.False(t, ContainsFold("location:/a", "location: "))
	assert.True(t, ContainsFold("x", ""))
	assert.True(t, ContainsFold("xxLOCATION: y", "location: "))
	assert.False(t, ContainsFold("", "location: "))
	assert.True(t, HasPrefixFold("ACCEPT-Encoding: x", "accept-encoding"))
	assert.True(t, hasPrefixFold("AZ", "az"), "both ends of A–Z fold")
	assert.True(t, EqualFold("AZ", "az"), "both ends of A–Z fold")
}

// §0.4.3: HasPrefixFold, EqualFold and ContainsFold give what lower-casing
// s code point by code point and then comparing gives, for needles that are
// ASCII, non-ASCII or empty, and text with the two non-ASCII code points
// that lower-case to ASCII (U+0130, U+212A), title case and invalid UTF-8.
func TestFoldTable(t *testing.T) {
	for _, c := range []struct {
		s, needle              string
		prefix, equal, contain bool
	}{
		{"Host: h", "host:", true, false, true},
		{"HOST:", "host:", true, true, true},
		{" Host:", "host:", false, false, true},
		{"Hos", "host:", false, false, false},
		{"Connect\u0130on: close", "connection: close", true, true, true},
		{"\u212aeep-Alive", "keep", true, false, true},
		{"x-\u212aeep", "keep", false, false, true},
		{"\u00c9t\u00e9", "\u00e9t\u00e9", true, true, true},
		{"ǅ", "ǆ", true, true, true},         // title case ǅ lower-cases to ǆ
		{"\xff", "\ufffd", true, true, true}, // invalid UTF-8 reads as U+FFFD
		{"\xffab", "ab", false, false, true},
		{"", "", true, true, true},
		{"abc", "", true, false, true},
		{"Location", "location: ", false, false, false},
	} {
		assert.Equal(t, c.prefix, HasPrefixFold(c.s, c.needle), "HasPrefixFold(%q, %q)", c.s, c.needle)
		assert.Equal(t, c.equal, EqualFold(c.s, c.needle), "EqualFold(%q, %q)", c.s, c.needle)
		assert.Equal(t, c.contain, ContainsFold(c.s, c.needle), "ContainsFold(%q, %q)", c.s, c.needle)
	}
}

// TestEqualFold: the allocation-free comparison gives what lower-casing code
// point by code point and comparing gives (§2.7.4: Godot's to_lower of the
// header name), including non-ASCII runes that lower-case to ASCII and
// invalid UTF-8. (Moved from httprequest, where it tested equalFoldRunes.)
func TestEqualFold(t *testing.T) {
	lowers := []string{"content-encoding", "k", "ǆ", ""}
	inputs := []string{
		"Content-Encoding", "content-encoding", "CONTENT-ENCODING", "Content-Encodin", "Content-Encodingg",
		"\u212a", "K", "k", "ǅ", "Ǆ", "ǆ", "\xff", "", "content-encoding\x00",
	}
	for _, lower := range lowers {
		for _, in := range inputs {
			assert.Equal(t, strings.Map(foldRune, in) == lower, EqualFold(in, lower), "%q vs %q", in, lower)
		}
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { EqualFold("Content-Length", "content-encoding") }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { ContainsFold("Content-Location: /a", "location: ") }))
}

// foldReference is §0.4.3 written the slow way: lower-case every code point
// (invalid UTF-8 becomes U+FFFD), then compare strings.
func foldReference(s string) string {
	r := []rune(s)
	for i := range r {
		r[i] = unicode.ToLower(r[i])
	}
	return string(r)
}

// FuzzFold: the three fold tests agree with foldReference for every text and
// every lower-case needle.
func FuzzFold(f *testing.F) {
	for _, seed := range [][2]string{
		{"Content-Length: 2", "content-length:"}, {"Connect\u0130on: close", "connection: close"},
		{"\u212aeep", "keep"}, {"\xff\xfe", "\ufffd"}, {"X-Location: /a", "location: "}, {"\u01c5", "\u01c6"},
		{"", ""}, {"a\u0130", "i"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, s, needle string) {
		if foldReference(needle) != needle || !utf8.ValidString(needle) {
			t.Skip("needle is not lower case")
		}
		low := foldReference(s)
		if got, want := HasPrefixFold(s, needle), strings.HasPrefix(low, needle); got != want {
			t.Fatalf("HasPrefixFold(%q, %q) = %v, reference %v", s, needle, got, want)
		}
		if got, want := EqualFold(s, needle), low == needle; got != want {
			t.Fatalf("EqualFold(%q, %q) = %v, reference %v", s, needle, got, want)
		}
		if got, want := ContainsFold(s, needle), strings.Contains(low, needle); got != want {
			t.Fatalf("ContainsFold(%q, %q) = %v, reference %v", s, needle, got, want)
		}
	})
}
