package wire

import (
	"math"
	"net/netip"
	"strings"
)

// IsValidIPAddress is Godot's String.is_valid_ip_address(), the test
// HTTPClient.connect_to_host uses to connect to a host without DNS (§1.5.9–10):
//
//   - without ':': exactly four '.'-separated parts, each a valid integer
//     (optional '+' or '-', then ASCII digits) whose to_int value, kept to
//     its low 32 bits as Godot's int does, is 0–255. So "127.000.000.001",
//     "+10.0.0.1" and "-0.0.0.0" are literals; "4294967296.0.0.1" is too
//     (2^32 keeps 0 in 32 bits).
//   - with ':': every non-empty ':'-separated part is a hexadecimal number
//     (optional sign, no "0x") whose hex_to_int value is 0–0xffff — a '+'
//     part reads as 0, a '-' part only when it is zero — or itself an IPv4
//     literal by the rule above. Empty parts and their number are not
//     checked: "1::2::3" and "::::" are literals.
//
// Godot: String.is_valid_ip_address()
func IsValidIPAddress(s string) bool {
	if strings.IndexByte(s, ':') < 0 {
		return validIPv4(s)
	}
	for part := range strings.SplitSeq(s, ":") {
		if part == "" {
			continue
		}
		if validHexNumber(part) {
			if v := hexToInt(part); v < 0 || v > 0xffff {
				return false
			}
			continue
		}
		if !validIPv4(part) {
			return false
		}
	}
	return true
}

// validIPv4 is the branch of is_valid_ip_address for a string without ':'.
func validIPv4(s string) bool {
	n := 0
	for part := range strings.SplitSeq(s, ".") {
		n++
		if n > 4 || !validInt(part) {
			return false
		}
		if v := int32(toInt(part)); v < 0 || v > 255 { // Godot: int val = n.to_int()
			return false
		}
	}
	return n == 4
}

// validInt is Godot's String.is_valid_int(): an optional sign (only when
// something follows it), then ASCII digits only.
func validInt(s string) bool {
	if s == "" {
		return false
	}
	if len(s) > 1 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	return allDigits(s)
}

// validHexNumber is Godot's String.is_valid_hex_number(false): an optional
// sign (only when something follows it), then ASCII hex digits only.
func validHexNumber(s string) bool {
	if s == "" {
		return false
	}
	if len(s) > 1 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		if hexVal(s[i]) < 0 {
			return false
		}
	}
	return true
}

// hexToInt is Godot's String.hex_to_int() for a string validHexNumber
// accepts: a leading '-' negates; a leading '+' is an invalid character,
// which makes the result 0; overflow clamps to the int64 range.
func hexToInt(s string) int64 {
	sign := int64(1)
	if s[0] == '-' {
		sign, s = -1, s[1:]
	}
	var v int64
	for i := 0; i < len(s); i++ {
		d := int64(hexVal(s[i]))
		if d < 0 {
			return 0
		}
		if v > (math.MaxInt64-d)/16 {
			if sign < 0 {
				return math.MinInt64
			}
			return math.MaxInt64
		}
		v = v*16 + d
	}
	return v * sign
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// ParseIPAddress is Godot's IPAddress(String) constructor (core/io/
// ip_address.cpp) for a string IsValidIPAddress accepts: the address
// HTTPClient.connect_to_host connects to. ok is false when s is not such a
// literal, or when Godot's parser would write past its fixed arrays (more
// than eight ':'-separated parts, or an IPv4 tail after "::" that does not
// fit): Godot's behaviour is undefined there.
//
// Without ':', each of the four parts gives one byte: its to_int value
// modulo 256 ("127.000.000.001" → 127.0.0.1, "+10.0.0.1" → 10.0.0.1). With
// ':', Godot's IPv6 parser is followed to the letter, quirks included: a
// part is read from its first four hex digits; a '+' or '-' anywhere stops
// the parse and leaves the address all zeros (::); "::" expands to the
// parts missing from eight, counting an IPv4 tail as one part; a part that
// contains '.' but is not the last stops reading that part; the IPv4 tail
// needs four '.'-separated parts, else it is left zero. An IPv4 address,
// and an IPv4-mapped IPv6 one (Godot's is_ipv4()), comes back as IPv4.
//
// Godot: IPAddress(const String &)
func ParseIPAddress(s string) (addr netip.Addr, ok bool) {
	if !IsValidIPAddress(s) {
		return netip.Addr{}, false
	}
	if strings.IndexByte(s, ':') < 0 {
		var b [4]byte
		parseIPv4Parts(s, b[:])
		return netip.AddrFrom4(b), true
	}
	var b [16]byte
	if !parseIPv6(s, &b) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom16(b).Unmap(), true // Godot: is_ipv4() is the mapped form
}

// parseIPv4Parts writes the to_int value of each of the four '.'-separated
// parts of s, modulo 256, to dst[0:4] (Godot's _parse_ipv4: p_ret[i] =
// slice.to_int(), a uint8_t). s must have four parts.
func parseIPv4Parts(s string, dst []byte) {
	i := 0
	for part := range strings.SplitSeq(s, ".") {
		dst[i] = byte(toInt(part))
		i++
	}
}

// parseIPv6 is Godot's IPAddress::_parse_ipv6 into b (all zeros on entry).
// It reports false where Godot would write past parts[8] or field16[8].
func parseIPv6(s string, b *[16]byte) bool {
	const partsTotal = 8
	var parts [partsTotal]int
	partsIdx, partsCount := 0, 0
	partFound, partSkip, partIPv4 := false, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			if i == 0 {
				continue
			}
			if !partFound {
				if partsIdx == partsTotal {
					return false
				}
				partSkip = true
				parts[partsIdx] = -1
				partsIdx++
			}
			partFound = false
		case c == '.':
			partIPv4 = true
		case hexVal(c) >= 0:
			if !partFound {
				if partsIdx == partsTotal {
					return false
				}
				parts[partsIdx] = i
				partsIdx++
				partFound = true
				partsCount++
			}
		default:
			// ERR_FAIL_MSG: Godot returns with the address still all zeros
			// (and the constructor marks it valid).
			return true
		}
	}
	extra := 0
	if partSkip {
		extra = partsTotal - partsCount
	}
	idx := 0 // index into field16
	for i := 0; i < partsIdx; i++ {
		if parts[i] == -1 {
			for j := 0; j < extra; j++ {
				if idx >= 8 {
					return false
				}
				idx++ // field16[idx++] = 0
			}
			continue
		}
		if partIPv4 && i == partsIdx-1 {
			// _parse_ipv4 writes four bytes at field16[idx] when the tail has
			// four parts, and nothing otherwise.
			tail := s[parts[i]:]
			if strings.Count(tail, ".") == 3 {
				if 2*idx+4 > len(b) {
					return false
				}
				parseIPv4Parts(tail, b[2*idx:2*idx+4])
			}
			continue
		}
		if idx >= 8 {
			return false
		}
		parseHexPart(s, parts[i], b[2*idx:2*idx+2])
		idx++
	}
	return true
}

// parseHexPart is Godot's _parse_hex: up to four hex digits of s from start,
// stopping at ':' or the end, big-endian into dst[0:2]; any other byte stops
// the parse and leaves dst unwritten.
func parseHexPart(s string, start int, dst []byte) {
	var v uint16
	for i := start; i < start+4 && i < len(s); i++ {
		c := s[i]
		if c == ':' {
			break
		}
		d := hexVal(c)
		if d < 0 {
			return
		}
		v = v<<4 | uint16(d)
	}
	dst[0], dst[1] = byte(v>>8), byte(v)
}
