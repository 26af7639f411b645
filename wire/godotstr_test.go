package wire

import (
	"math"
	"testing"

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
		{"9223372036854775808", math.MaxInt64},
		{"-9223372036854775808", math.MinInt64},
		{"99999999999999999999999", math.MaxInt64},
		{"-99999999999999999999999", math.MinInt64},
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
	assert.True(t, containsFold("Content-Location: /a", "location: "))
	assert.False(t, containsFold("location:/a", "location: "))
	assert.True(t, containsFold("x", ""))
}
