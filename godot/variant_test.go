package godot

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

type variantLevel int

func (l variantLevel) String() string { return "level-" + strconv.Itoa(int(l)) }

type variantInt int
type variantStr string

// String(Variant) for every mapping listed in AppendVariant's doc.
func TestVariantString(t *testing.T) {
	cyclic := []any{nil}
	cyclic[0] = cyclic
	cyclicMap := map[string]any{}
	cyclicMap["self"] = cyclicMap

	tests := []struct {
		name string
		in   any
		want string
	}{
		{"nil", nil, "<null>"},
		{"string", "a b", "a b"},
		{"bool", true, "true"},
		{"int8", int8(-5), "-5"},
		{"int64 min", int64(math.MinInt64), "-9223372036854775808"},
		{"uint8", uint8(255), "255"},
		{"uint64 max wraps, as Variant(uint64_t) stores it", uint64(math.MaxUint64), "-1"},
		{"uint64 2^63", uint64(1 << 63), "-9223372036854775808"},
		{"uint64 in an Array wraps too", []uint64{math.MaxUint64}, "[-1]"},
		{"typed nil Stringer is null", (*url.URL)(nil), "<null>"},
		{"typed nil pointer is null", (*int)(nil), "<null>"},
		{"typed nil Stringer in an Array", []any{(*url.URL)(nil), 1}, "[<null>, 1]"},
		{"bool slice is an Array", []bool{true, false}, "[true, false]"},
		{"uintptr", uintptr(7), "7"},
		{"named int", variantInt(7), "7"},
		{"named string", variantStr("s"), "s"},
		{"Stringer", variantLevel(3), "level-3"},
		{"Stringer duration", 1500 * time.Millisecond, "1.5s"},
		{"Array", []any{1, "two", nil, 2.5, []any{"x"}, true}, `[1, "two", <null>, 2.5, ["x"], true]`},
		{"empty Array", []any{}, "[]"},
		{"string escaped in Array", []any{"a\"b\\c\n\t'"}, `["a\"b\\c\n\t\'"]`},
		{"named string quoted in Array", []any{variantStr("s")}, `["s"]`},
		{"Stringer not quoted in Array", []any{variantLevel(1)}, `[level-1]`},
		{"PackedByteArray", []byte{1, 2, 3}, "[1, 2, 3]"},
		{"empty PackedByteArray", []byte{}, "[]"},
		{"PackedInt32Array", []int32{-1, 2}, "[-1, 2]"},
		{"PackedInt64Array", []int64{1 << 40}, "[1099511627776]"},
		{"PackedFloat32Array", []float32{1.5, 1.1}, "[1.5, 1.10000002384186]"},
		{"PackedFloat64Array", []float64{1, 0.1}, "[1.0, 0.1]"},
		{"PackedStringArray", []string{"a", "b\"c"}, `["a", "b\"c"]`},
		{"Go array", [2]int{1, 2}, "[1, 2]"},
		{"Dictionary", map[string]any{"b": 2, "a": "x"}, `{ "a": "x", "b": 2 }`},
		{"empty Dictionary", map[string]any{}, "{  }"},
		{"nil map", map[string]int(nil), "{  }"},
		{"int keys", map[int]bool{2: true, 1: false}, "{ 1: false, 2: true }"},
		{"struct", struct{ A int }{1}, "{1}"},
		{"cyclic Array", cyclic, "[[...]]"},
		{"cyclic Dictionary", cyclicMap, `{ "self": { ... } }`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p variantPrinter
			assert.Equal(t, tc.want, string(p.appendString(nil, tc.in, 0)))
			assert.Empty(t, p.open, "cycle guard unwound")
		})
	}
}

// Nesting deeper than Godot's MAX_RECURSION prints "[...]" at level 101.
func TestVariantStringRecursionLimit(t *testing.T) {
	var v any = 1
	for range 150 {
		v = []any{v}
	}
	var p variantPrinter
	got := string(p.appendString(nil, v, 0))
	assert.Equal(t, strings.Repeat("[", 101)+"[...]"+strings.Repeat("]", 101), got)

	var m any = 1
	for range 150 {
		m = map[string]any{"k": m}
	}
	got = string(p.appendString(nil, m, 0))
	assert.Equal(t, 101, strings.Count(got, `{ "k": `))
	assert.Contains(t, got, `{ ... }`)
}

// String(float) is num_real(x, true); vectors from Godot's test_string.h
// where marked.
func TestGodotFloatString(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{1.0, "1.0"},                                         // test_string.h
		{9.9, "9.9"},                                         // test_string.h
		{9.99, "9.99"},                                       // test_string.h
		{9.999, "9.999"},                                     // test_string.h
		{9.9999, "9.9999"},                                   // test_string.h
		{3.141593, "3.141593"},                               // test_string.h
		{3.141, "3.141"},                                     // test_string.h
		{123.456789, "123.456789"},                           // test_string.h
		{-123.456789, "-123.456789"},                         // test_string.h
		{math.Pi, "3.14159265358979"},                        // test_string.h
		{float64(float32(3.1415)), "3.1414999961853"},        // test_string.h
		{0.0000012345432123454321, "0.00000123454321"},       // test_string.h (num)
		{-0.0000012345432123454321, "-0.00000123454321"},     // test_string.h (num)
		{-10000.0000012345432123454321, "-10000.0000012345"}, // test_string.h (num)
		{0.0000000000012345432123454321, "0.00000000000123"}, // test_string.h (num)
		{0.0000056789876567898765, "0.00000567898766"},       // test_string.h (num)
		{10000.000005678999999999, "10000.000005679"},        // test_string.h (num)
		{0, "0.0"},
		{math.Copysign(0, -1), "0.0"},
		{-3, "-3.0"},
		{1.5, "1.5"},
		{0.1, "0.1"},
		{1.0 / 3, "0.33333333333333"},
		{2.0 / 3, "0.66666666666667"},
		{12.5, "12.5"},
		{1e-20, "0.0"},
		{1e20, "100000000000000000000.0"},
		{100000000000000.5, "100000000000000"}, // 0 decimals: no point at all
		{1e15 + 0.5, "1000000000000000.5"},     // negative decimals: %lf
		{1 << 63, "9223372036854775808.0"},
		{-(1 << 63), "-9223372036854775808.0"},
		{math.NaN(), "nan"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, string(appendGodotFloat(nil, tc.in)), "%v", tc.in)
	}
	// The largest double prints as its full integer expansion plus ".0".
	maxF := string(appendGodotFloat(nil, math.MaxFloat64))
	assert.Equal(t, 309+2, len(maxF))
	assert.True(t, strings.HasPrefix(maxF, "179769313486231570"), maxF)
	assert.True(t, strings.HasSuffix(maxF, ".0"), maxF)
	// float32 values are widened to float64 first, as a Variant holds them.
	var p variantPrinter
	assert.Equal(t, "1.10000002384186", string(p.appendString(nil, float32(1.1), 0)))
}

func TestFloorLog10(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want int
	}{{10.5, 1}, {99.9, 1}, {100, 2}, {1000.0000000000001, 3}, {1e16, 16}, {1e18, 18},
		// glibc's log10 rounds these to the power of ten above them.
		{999.9999999999999, 3}, {99999.99999999991, 5}, {math.Nextafter(99999.99999999991, 0), 4}} {
		assert.Equal(t, tc.want, floorLog10(tc.in), "%v", tc.in)
	}
}

// String::num_real just below a power of ten: glibc's log10 gives k, so
// Godot keeps one decimal fewer and the value prints as the power of ten
// (values from a C copy of num_real built against glibc 2.36).
func TestGodotFloatJustBelowPowerOfTen(t *testing.T) {
	for _, tc := range []struct {
		bits uint64
		want string
	}{
		{0x40f869fffffffffa, "100000.0"},
		{0x416312cffffffffb, "10000000.0"},
		{0x41cdcd64fffffff7, "1000000000.0"},
		{0xc0f869fffffffffa, "-100000.0"},
	} {
		assert.Equal(t, tc.want, string(appendGodotFloat(nil, math.Float64frombits(tc.bits))), "%#x", tc.bits)
	}
	assert.Equal(t, "99999.9999999999", string(appendGodotFloat(nil, math.Nextafter(math.Float64frombits(0x40f869fffffffffa), 0))),
		"one double lower: log10 is below 5")
}

// The exported forms: AppendVariant appends to dst, VariantString is the
// same text, IsArray tells Godot's Array from Packed*Arrays and null.
func TestAppendVariant(t *testing.T) {
	for _, v := range []any{nil, "s", 7, 2.5, []any{1, "a"}, []byte{1}, map[string]any{"k": nil}} {
		want := VariantString(v)
		assert.Equal(t, "x="+want, string(AppendVariant([]byte("x="), v)), "%#v", v)
	}
	assert.Equal(t, `[1, "a", [2.0]]`, VariantString([]any{1, "a", []any{2.0}}))

	for _, tc := range []struct {
		in   any
		want bool
	}{
		{[]any{}, true}, {[]any(nil), true}, {[1]any{}, true}, {[]fmt.Stringer{}, true},
		{nil, false}, {[]byte{}, false}, {[]string{"a"}, false}, {"s", false}, {map[string]any{}, false},
		{[]int32{}, false}, {[]int{}, false}, {[]int64{}, false}, {[]float32{}, false}, {[]float64{}, false},
		// No packed array in Godot: only an Array can hold these.
		{[]bool{true}, true}, {[][]any{}, true}, {[][]byte{}, true}, {[]map[string]any{}, true},
		{[]uint16{}, true}, {[]*url.URL{}, true},
	} {
		assert.Equal(t, tc.want, IsArray(tc.in), "%#v", tc.in)
	}

	buf := make([]byte, 0, 64)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = AppendVariant(buf[:0], 12.5) }))
}

// §1.16.3, COMPAT W3: "[...]" marks a container printed inside itself; a
// slice that holds a prefix of itself is another value, printed in full
// (Godot has no cycle check, only the recursion limit).
func TestVariantSubSliceNotACycle(t *testing.T) {
	s := []any{1, nil}
	s[1] = s[:1]
	assert.Equal(t, "[1, [1]]", VariantString(s))
	rows := []any{"a", "b", nil}
	rows[2] = rows[:2]
	assert.Equal(t, `["a", "b", ["a", "b"]]`, VariantString(rows))
	self := []any{1, nil}
	self[1] = self
	assert.Equal(t, "[1, [...]]", VariantString(self), "a real cycle still ends")
}
