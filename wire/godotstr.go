package wire

import (
	"math"
	"unicode/utf8"
)

// Godot's string primitives (§0.4). They decide many edge cases, so every
// parser in this package goes through these and nothing else.

// StripEdges is Godot's String.strip_edges(): it removes leading and trailing
// bytes whose value is ≤ 32 (§0.4.1). Exported for the packages above wire,
// which apply Godot's rules to header text.
//
// Godot: String.strip_edges()
func StripEdges(s string) string { return stripEdges(s) }

// stripEdges is Godot's String.strip_edges(): it removes leading and trailing
// bytes whose value is ≤ 32 (space, TAB, CR, LF and every C0 control). §0.4.1
func stripEdges(s string) string {
	i, j := 0, len(s)
	for i < j && s[i] <= ' ' {
		i++
	}
	for j > i && s[j-1] <= ' ' {
		j--
	}
	return s[i:j]
}

// stripEdgesBytes is stripEdges over a byte slice (no allocation). §0.4.1
func stripEdgesBytes(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && b[i] <= ' ' {
		i++
	}
	for j > i && b[j-1] <= ' ' {
		j--
	}
	return b[i:j]
}

// toInt is Godot's String.to_int() (§0.4.2): empty → 0; only the text before
// the first '.' counts; every non-digit is skipped; a '-' flips the sign only
// while the accumulated value is still 0. The digits are summed in a uint64
// and, as in Godot 4.5 on, checked for overflow only from the 20th digit on
// (an 8-bit count of the digits read so far above 18): a value past the
// int64 range clamps to its bound there, but a 19-digit one from 2^63 up
// wraps — "9223372036854775808" is −2^63, "-9223372036854775809" is
// 2^63−1 — where the older to_int clamped every overflow.
func toInt[T string | []byte](s T) int64 {
	var v uint64
	var digits uint8 // Godot's uint8_t: it wraps after 255 digits
	positive := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			break
		}
		switch {
		case c >= '0' && c <= '9':
			if digits > 18 {
				const tenth = math.MaxInt64 / 10
				if v > tenth || v == tenth && (positive && c > '7' || !positive && c > '8') {
					if positive {
						return math.MaxInt64
					}
					return math.MinInt64
				}
			}
			v = v*10 + uint64(c-'0')
			digits++
		case c == '-' && v == 0:
			positive = !positive
		}
	}
	if positive {
		return int64(v)
	}
	return -int64(v)
}

// Godot's case-insensitive tests (§0.4.3) lower-case code point by code
// point (String.to_lower, String.findn, String.containsn) and compare, with
// Godot's case table (godotLower). Only U+0130 → 'i' and U+212A KELVIN SIGN
// → 'k' lower-case to ASCII besides 'A'–'Z', which is all that a lower-case
// ASCII needle can see. Invalid UTF-8 decodes to U+FFFD, byte by byte, as in
// Godot.

// HasPrefixFold reports whether s begins with lowerPrefix when s is
// lower-cased code point by code point. lowerPrefix must be lower case.
//
// Godot: s.to_lower().begins_with(prefix), s.findn(prefix) == 0
func HasPrefixFold(s, lowerPrefix string) bool {
	for i := 0; i < len(lowerPrefix); i++ { // ASCII fast path (inlined)
		if i == len(s) {
			return false
		}
		if c, want := s[i], lowerPrefix[i]; c|want >= utf8.RuneSelf {
			_, ok, _ := foldPrefix(s, lowerPrefix, i)
			return ok
		} else if lower(c) != want {
			return false
		}
	}
	return true
}

// EqualFold reports whether s lower-cased code point by code point equals
// lower, without building the lower-cased copy. lower must be lower case.
//
// Godot: s.to_lower() == lower
func EqualFold(s, lower string) bool {
	n, ok, _ := foldPrefix(s, lower, 0)
	return ok && n == len(s)
}

// ContainsFold reports whether s contains lowerSub when s is lower-cased code
// point by code point. lowerSub must be lower case.
//
// Godot: s.containsn(sub), s.findn(sub) != -1
func ContainsFold(s, lowerSub string) bool {
	for i := 0; ; {
		if _, ok, _ := foldPrefix(s[i:], lowerSub, 0); ok {
			return true
		}
		if i == len(s) {
			return false
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
}

// foldPrefix is the one implementation of the tests above: whether s begins
// with lowerPrefix when lower-cased code point by code point, the number of
// bytes of s that matched, and whether a non-ASCII code point of s matched an
// ASCII one of lowerPrefix (U+0130, U+212A: text some parsers read
// differently, §7 D2). The first from bytes of both are ASCII and already
// known to match.
func foldPrefix(s, lowerPrefix string, from int) (n int, ok, viaUnicode bool) {
	i, j := from, from
	for i < len(lowerPrefix) {
		if j == len(s) {
			return 0, false, false
		}
		if c, want := s[j], lowerPrefix[i]; c|want < utf8.RuneSelf {
			if lower(c) != want {
				return 0, false, false
			}
			i, j = i+1, j+1
			continue
		}
		want, wsize := utf8.DecodeRuneInString(lowerPrefix[i:])
		r, size := utf8.DecodeRuneInString(s[j:])
		if foldRune(r) != want {
			return 0, false, false
		}
		viaUnicode = viaUnicode || r >= utf8.RuneSelf && want < utf8.RuneSelf
		i, j = i+wsize, j+size
	}
	return j, true, viaUnicode
}

// foldRune is Godot's per-code-point to_lower (see above).
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		return rune(lower(byte(r)))
	}
	return godotLower(r)
}

// hasPrefixFold is HasPrefixFold for text known to be ASCII (the response
// head parser's fast path) or a needle no non-ASCII code point lower-cases
// to: byte by byte, ASCII letters only. prefix must be lower case.
func hasPrefixFold[T string | []byte](s T, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lower(s[i]) != prefix[i] {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}
