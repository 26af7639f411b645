package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFramingString(t *testing.T) {
	assert.Equal(t, "none", FramingNone.String())
	assert.Equal(t, "length", FramingLength.String())
	assert.Equal(t, "chunked", FramingChunked.String())
	assert.Equal(t, "until-close", FramingUntilClose.String())
	assert.Equal(t, "Framing(4)", Framing(4).String(), "one past FramingUntilClose")
	assert.Equal(t, "Framing(9)", Framing(9).String())
	assert.Equal(t, "Framing(-1)", Framing(-1).String())
}

// TestGodotFraming is the §1.9 table, row by row, in Godot's order.
func TestGodotFraming(t *testing.T) {
	for _, c := range []struct {
		name      string
		bodySize  int64
		chunked   bool
		keepAlive bool
		want      Framing
	}{
		{"§1.9 row 1: a body size → fixed length", 5, false, true, FramingLength},
		{"§1.9 row 1: size 0 is still BODY", 0, false, true, FramingLength},
		{"§1.9 row 1: a length wins over Connection: close", 5, false, false, FramingLength},
		{"§1.9 row 1: chunked", -1, true, true, FramingChunked},
		{"§1.9 row 1: chunked wins over a length", 5, true, true, FramingChunked},
		{"§1.9 row 1: chunked wins over Connection: close", -1, true, false, FramingChunked},
		{"§1.9 row 1: a negative size other than -1 is a length", -5, false, true, FramingLength},
		{"§1.9 row 2: Connection: close without a size → until EOF", -1, false, false, FramingUntilClose},
		{"§1.9 row 3: otherwise no body", -1, false, true, FramingNone},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, godotFraming(c.bodySize, c.chunked, c.keepAlive))
		})
	}
}

// TestStrictFraming is RFC 9112 §6.3 as strict mode applies it (§7.4).
func TestStrictFraming(t *testing.T) {
	for _, c := range []struct {
		name                          string
		code                          int
		head, teSeen, teChunked, clOK bool
		want                          Framing
	}{
		{"§7.4 HEAD has no body", 200, true, true, true, true, FramingNone},
		{"§7.4 204 has no body", 204, false, true, true, true, FramingNone},
		{"§7.4 304 has no body", 304, false, false, false, true, FramingNone},
		{"§7.4 chunked last → chunked, over Content-Length", 200, false, true, true, true, FramingChunked},
		{"§7.4 Transfer-Encoding without chunked → until close", 200, false, true, false, true, FramingUntilClose},
		{"§7.4 Content-Length → length", 200, false, false, false, true, FramingLength},
		{"§7.4 nothing → until close", 200, false, false, false, false, FramingUntilClose},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, strictFraming(c.code, c.head, c.teSeen, c.teChunked, c.clOK))
		})
	}
}
