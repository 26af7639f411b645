package wire

import (
	"net/netip"
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
		{"::ffff:ffff", true, "::255.255.255.255"},
		{"::ffff:7f00:1", true, "127.0.0.1"}, // the mapped form is IPv4, as Godot's is_ipv4()
		{"0:0:0:0:0:ffff:127.0.0.1", true, "127.0.0.1"},
		{"1:2:3:4:5:6:1.2.3.4", true, "1:2:3:4:5:6:102:304"},
		{"00001::", true, "::"},    // hex_to_int 1; _parse_hex reads "0000"
		{"12345::1", false, ""},    // 0x12345 > 0xffff
		{"+1::1", true, "::"},      // '+' stops Godot's parse: all zeros
		{"-0::1", true, "::"},      // likewise
		{"-1::1", false, ""},       // hex_to_int −1
		{"1.2.3.4::1", true, "::"}, // first part stops at '.', tail "1" has one part
		{"::::", true, ""},         // each "::" expands to eight zero fields: past field16[8]
		{":::1", true, ""},
		{"1::2::3", true, ""},           // two "::" expand past eight fields
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
