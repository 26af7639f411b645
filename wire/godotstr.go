package wire

import "math"

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
// while the accumulated value is still 0; overflow clamps to the int64 range.
func toInt[T string | []byte](s T) int64 {
	var v int64
	sign := int64(1)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			return v * sign
		case c >= '0' && c <= '9':
			d := int64(c - '0')
			if v > (math.MaxInt64-d)/10 {
				if sign < 0 {
					return math.MinInt64
				}
				return math.MaxInt64
			}
			v = v*10 + d
		case c == '-' && v == 0:
			sign = -sign
		}
	}
	return v * sign
}

// hasPrefixFold reports whether s begins with prefix, ASCII case-insensitively
// (Godot's findn(prefix) == 0 for ASCII prefixes). prefix must be lower case.
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

// containsFold reports whether s contains sub, ASCII case-insensitively
// (Godot's containsn for ASCII needles). sub must be lower case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if hasPrefixFold(s[i:], sub) {
			return true
		}
	}
	return false
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}
