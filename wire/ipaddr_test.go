package wire

import (
	"math"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestIPAddress pins Godot's String.is_valid_ip_address() and IPAddress(String)
// (issue 7 rule 6, §1.5.9–10): which hosts connect_to_host treats as literals
// (no DNS), and the address it then connects to.
func TestIPAddress(t *testing.T) {
	tests := []struct {
		in    string
		valid bool   // is_valid_ip_address
		addr  string // the address; "" when valid but Godot's parse is undefined
	}{
		// IPv4: four parts, each is_valid_int with to_int 0–255 (low 32 bits).
		{"127.0.0.1", true, "127.0.0.1"},
		{"127.000.000.001", true, "127.0.0.1"},
		{"+10.0.0.1", true, "10.0.0.1"},
		{"10.+0.-0.1", true, "10.0.0.1"},
		{"0255.0.0.1", true, "255.0.0.1"},
		{"4294967296.0.0.1", true, "0.0.0.1"},            // 2^32: int keeps 0
		{"4294967423.0.0.1", true, "127.0.0.1"},          // 2^32+127
		{"-99999999999999999999.0.0.1", true, "0.0.0.1"}, // clamps to INT64_MIN: low 32 bits 0
		{"99999999999999999999.0.0.1", false, ""},        // clamps to INT64_MAX: low 32 bits −1
		{"256.0.0.1", false, ""},
		{"-1.0.0.1", false, ""},
		{"1.2.3", false, ""},
		{"1.2.3.4.5", false, ""},
		{"1..2.3", false, ""},
		{"1.2.3.", false, ""},
		{"+.1.2.3", false, ""},
		{" 1.2.3.4", false, ""},
		{"1.2.3.4 ", false, ""},
		{"0x7f.0.0.1", false, ""},
		{"１.2.3.4", false, ""}, // fullwidth digit: not ASCII
		{"localhost", false, ""},
		{"example.com", false, ""},
		{"a.b.c.d", false, ""},
		{"[::1]", false, ""}, // §1.5.9: brackets go to DNS
		{"::1%lo", false, ""},
		// IPv6: non-empty parts are hex ≤ 0xffff or IPv4 literals.
		{"::1", true, "::1"},
		{"0:0:0:0:0:0:0:1", true, "::1"},
		{"2001:db8::1", true, "2001:db8::1"},
		{"2001:DB8::A", true, "2001:db8::a"},
		{"a:f::A:F", true, "a:f::a:f"}, // both ends of a–f and A–F are hex digits
		{"::ffff:ffff", true, "::255.255.255.255"},
		{"::ffff:7f00:1", true, "127.0.0.1"}, // the mapped form is IPv4, as Godot's is_ipv4()
		{"0:0:0:0:0:ffff:127.0.0.1", true, "127.0.0.1"},
		{"1:2:3:4:5:6:1.2.3.4", true, "1:2:3:4:5:6:102:304"},
		{"00001::", true, "::"},    // hex_to_int 1; _parse_hex reads "0000"
		{"12345::1", false, ""},    // 0x12345 > 0xffff
		{"10000::1", false, ""},    // 0x10000 > 0xffff: a '0' is a digit like the others
		{"1::-", false, ""},        // a lone sign is not a hex number (nor an IPv4 literal)
		{"+1::1", true, "::"},      // '+' stops Godot's parse: all zeros
		{"-0::1", true, "::"},      // likewise
		{"-1::1", false, ""},       // hex_to_int −1
		{"1.2.3.4::1", true, "::"}, // first part stops at '.', tail "1" has one part
		{"::::", true, ""},         // each "::" expands to eight zero fields: past field16[8]
		{":::1", true, ""},
		{"1::2::3", true, ""},           // two "::" expand past eight fields
		{":::1:2:3:4", true, ""},        // two "::" fill all eight fields: "1" lands on field16[8]
		{"1:2:3:4:5:6:7:8:9", true, ""}, // nine parts: past parts[8]
		{"::1.2.3.4", true, ""},         // IPv4 tail after "::" lands past field16[8]
		{"1:2:3:4:5:6:7:1.2.3.4", true, ""},
		{"1:g::", false, ""},
		{"1:1.2.3::", false, ""},
		{"0x1::", false, ""},
		{"fe80::1%eth0", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.valid, IsValidIPAddress(tt.in), "is_valid_ip_address")
			a, ok := ParseIPAddress(tt.in)
			if !tt.valid || tt.addr == "" {
				assert.False(t, ok, "%v", a)
				return
			}
			if assert.True(t, ok) {
				assert.Equal(t, netip.MustParseAddr(tt.addr), a)
			}
		})
	}
}

// TestHexToInt pins Godot's String.hex_to_int() on the strings
// validHexNumber accepts (the parts of an IPv6 literal, §1.5.9): a '-'
// negates, a '+' reads as 0, overflow clamps to the int64 range.
func TestHexToInt(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"ffff", 0xffff},
		{"FfFf", 0xffff},
		{"10000", 0x10000},
		{"-10", -16},
		{"-0", 0},
		{"+1", 0},
		{"7ffffffffffffff0", math.MaxInt64 - 15}, // fits: not clamped
		{"7fffffffffffffff", math.MaxInt64},
		{"8000000000000000", math.MaxInt64},
		{"-7fffffffffffffff", -math.MaxInt64},
		{"-8000000000000000", math.MinInt64},
		{"fffffffffffffffffff", math.MaxInt64},
		{"-fffffffffffffffffff", math.MinInt64},
	} {
		assert.Equal(t, c.want, hexToInt(c.in), "%q", c.in)
	}
}

// FuzzIPAddress checks that Godot's IP literal rules never panic on any
// input and stay consistent: ParseIPAddress succeeds only for a valid
// literal, a literal without ':' always parses to IPv4, and a valid
// dotted quad of plain decimal 0–255 parses to the same address as Go's
// parser (issue 7 rule 6).
func FuzzIPAddress(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "127.000.000.001", "+10.0.0.1", "::1", "1::2::3", "::ffff:127.0.0.1",
		"1:2:3:4:5:6:7:8:9", "-0::+1", "1.2.3.4::1", "4294967423.0.0.1", "fe80::1%eth0", "[::1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		valid := IsValidIPAddress(s)
		a, ok := ParseIPAddress(s)
		if ok && !valid {
			t.Fatalf("%q parsed to %v but is not a valid literal", s, a)
		}
		if valid && !strings.Contains(s, ":") && (!ok || !a.Is4()) {
			t.Fatalf("%q: a valid literal without ':' must parse to IPv4, got %v %v", s, a, ok)
		}
		if g, err := netip.ParseAddr(s); err == nil && g.Is4() && !valid {
			t.Fatalf("%q: Go's canonical IPv4 %v is not a Godot literal", s, g)
		} else if err == nil && g.Is4() && a != g {
			t.Fatalf("%q: Godot address %v, Go's %v", s, a, g)
		}
	})
}
