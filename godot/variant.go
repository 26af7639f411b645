package godot

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// VariantString returns Godot's String(Variant) of v: what str(v) gives in
// GDScript for the Variant the Go value stands for. See AppendVariant for the
// mapping of Go values to Variants.
//
// Godot: Variant::stringify() (String(Variant))
func VariantString(v any) string {
	return string(AppendVariant(nil, v))
}

// AppendVariant appends VariantString(v) to dst. Go values are converted as
// Godot converts the Variant they stand for:
//
//	nil                         "<null>"
//	string (and string kinds)   the string itself
//	bool                        "true" / "false"
//	int*, uint* kinds           decimal; a uint64 above MaxInt64 wraps negative, as Variant(uint64_t) keeps it
//	                            in its int64 (math.MaxUint64 → "-1")
//	float64, float32            Godot's String(float): whole numbers as "1.0", "-3.0"; others with 14
//	                            decimals (14 − ⌊log10|x|⌋ when |x| > 10), trailing zeros removed ("1.5",
//	                            "0.1", "3.14159265358979"); NaN/±Inf as "nan", "inf", "-inf"; -0.0 as "0.0".
//	                            float32 is widened to float64 first, as a Variant holds it
//	                            (float32(1.1) → "1.10000002384186").
//	[]any, []bool, [][]T…       Array (see IsArray): "[1, "two", <null>]" — elements converted the same
//	                            way, strings quoted and C-escaped as Godot prints them inside containers
//	[]byte, []int32, []int64,   Packed*Array (the element kinds Godot packs: uint8, int32, int/int64,
//	[]float32, []float64,       float32, float64, string), same bracket syntax: []byte{1, 2, 3} →
//	[]string                    "[1, 2, 3]", []string{"a"} → "[\"a\"]"
//	maps                        Dictionary form "{ "k": 1, "x": 2.5 }" ("{  }" when empty); a Go map has
//	                            no insertion order, so entries are sorted by their printed key
//	nil pointer ((*T)(nil))     "<null>", as a null Variant
//	fmt.Stringer                its String()
//	anything else               fmt.Sprint(v)
//
// Nesting deeper than Godot's recursion limit (100) prints "[...]" or
// "{ ... }" as Godot does; so does a container where it contains itself
// (Godot repeats it up to the limit, 2^100 steps for two self-references: §7 D1).
//
// Godot: Variant::stringify() (String(Variant))
func AppendVariant(dst []byte, v any) []byte {
	var p variantPrinter
	return p.appendString(dst, v, 0)
}

// IsArray reports whether v stands for Godot's generic Array: a slice or
// array of anything Godot has no packed array for — an interface ([]any,
// []fmt.Stringer…), bool, a container, a struct… Slices and arrays of the
// kinds Godot packs (uint8, int32, int and int64, float32, float64, string)
// stand for Packed*Arrays, and nil for null.
//
// Godot: Variant::ARRAY
func IsArray(v any) bool {
	return v != nil && isVariantArray(reflect.ValueOf(v))
}

// isVariantArray is IsArray on a reflect.Value.
func isVariantArray(rv reflect.Value) bool {
	if k := rv.Kind(); k != reflect.Slice && k != reflect.Array {
		return false
	}
	switch rv.Type().Elem().Kind() {
	case reflect.Uint8, reflect.Int32, reflect.Int, reflect.Int64, reflect.Float32, reflect.Float64, reflect.String:
		return false // PackedByteArray … PackedStringArray
	}
	return true
}

// variantMaxRecursion is Godot's Variant::MAX_RECURSION for printing nested
// containers.
const variantMaxRecursion = 100

// variantPrinter converts Go values to Godot's String(Variant). It remembers
// the containers being printed so that a cycle ends instead of recursing.
type variantPrinter struct {
	open []openContainer
}

// openContainer is a container being printed: a slice is one only with
// the same data and length (a prefix of a slice is another value).
type openContainer struct {
	ptr uintptr
	n   int
}

// appendString appends Godot's stringify(recursionCount) of v.
func (p *variantPrinter) appendString(dst []byte, v any, depth int) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "<null>"...)
	case string:
		return append(dst, x...)
	case bool:
		return strconv.AppendBool(dst, x)
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case int8:
		return strconv.AppendInt(dst, int64(x), 10)
	case int16:
		return strconv.AppendInt(dst, int64(x), 10)
	case int32:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case uint:
		return strconv.AppendInt(dst, int64(x), 10) // Variant(uint64_t): its int64
	case uint8:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint64:
		return strconv.AppendInt(dst, int64(x), 10)
	case uintptr:
		return strconv.AppendInt(dst, int64(x), 10)
	case float64:
		return appendGodotFloat(dst, x)
	case float32:
		return appendGodotFloat(dst, float64(x))
	case []byte:
		dst = append(dst, '[')
		for i, c := range x {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = strconv.AppendUint(dst, uint64(c), 10)
		}
		return append(dst, ']')
	case fmt.Stringer:
		if rv := reflect.ValueOf(x); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return append(dst, "<null>"...) // its String would dereference nil
		}
		return append(dst, x.String()...)
	}
	return p.appendReflect(dst, reflect.ValueOf(v), depth)
}

// appendClean is Godot's stringify_variant_clean: stringify, with strings
// C-escaped and quoted (how elements print inside containers).
func (p *variantPrinter) appendClean(dst []byte, v any, depth int) []byte {
	if v != nil {
		if _, isStringer := v.(fmt.Stringer); !isStringer {
			if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
				return appendQuotedCEscape(dst, rv.String())
			}
		}
	}
	return p.appendString(dst, v, depth)
}

func (p *variantPrinter) appendReflect(dst []byte, rv reflect.Value, depth int) []byte {
	switch rv.Kind() {
	case reflect.String:
		return append(dst, rv.String()...)
	case reflect.Bool:
		return strconv.AppendBool(dst, rv.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(dst, rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendInt(dst, int64(rv.Uint()), 10) // Variant(uint64_t): its int64
	case reflect.Pointer:
		if rv.IsNil() {
			return append(dst, "<null>"...)
		}
	case reflect.Float32, reflect.Float64:
		return appendGodotFloat(dst, rv.Float())
	case reflect.Slice, reflect.Array:
		if isVariantArray(rv) {
			// Godot's Array counts recursion; Packed*Arrays cannot nest.
			if depth > variantMaxRecursion {
				return append(dst, "[...]"...)
			}
			depth++
		}
		if rv.Kind() == reflect.Slice && rv.Len() > 0 {
			c := openContainer{rv.Pointer(), rv.Len()}
			if slices.Contains(p.open, c) {
				return append(dst, "[...]"...)
			}
			p.open = append(p.open, c)
			defer func() { p.open = p.open[:len(p.open)-1] }()
		}
		dst = append(dst, '[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = p.appendClean(dst, rv.Index(i).Interface(), depth)
		}
		return append(dst, ']')
	case reflect.Map:
		if depth > variantMaxRecursion {
			return append(dst, "{ ... }"...)
		}
		depth++
		if rv.IsNil() {
			return append(dst, "{  }"...)
		}
		c := openContainer{rv.Pointer(), -1}
		if slices.Contains(p.open, c) {
			return append(dst, "{ ... }"...)
		}
		p.open = append(p.open, c)
		defer func() { p.open = p.open[:len(p.open)-1] }()
		type pair struct{ k, v string }
		pairs := make([]pair, 0, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			k := string(p.appendClean(nil, it.Key().Interface(), depth))
			v := string(p.appendClean(nil, it.Value().Interface(), depth))
			pairs = append(pairs, pair{k, v})
		}
		slices.SortFunc(pairs, func(a, b pair) int { return strings.Compare(a.k, b.k) })
		dst = append(dst, "{ "...)
		for i, kv := range pairs {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, kv.k...)
			dst = append(dst, ": "...)
			dst = append(dst, kv.v...)
		}
		return append(dst, " }"...)
	}
	return append(dst, fmt.Sprint(rv.Interface())...)
}

// appendQuotedCEscape is Godot's s.c_escape().quote().
func appendQuotedCEscape(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		var esc byte
		switch c {
		case '\\':
			esc = '\\'
		case '\a':
			esc = 'a'
		case '\b':
			esc = 'b'
		case '\f':
			esc = 'f'
		case '\n':
			esc = 'n'
		case '\r':
			esc = 'r'
		case '\t':
			esc = 't'
		case '\v':
			esc = 'v'
		case '\'':
			esc = '\''
		case '"':
			esc = '"'
		}
		if esc != 0 {
			dst = append(dst, '\\', esc)
		} else {
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// appendGodotFloat is Godot's String::num_real(double, trailing=true), the
// String(float) conversion:
//   - NaN and ±Inf print as "nan", "inf", "-inf";
//   - a whole number that fits an int64 prints as the integer plus ".0"
//     (-0.0 → "0.0");
//   - otherwise String::num with 14 − ⌊log10|x|⌋ decimals (14 when |x| ≤ 10);
//     a negative count means "%lf" (6 decimals); trailing zeros are then
//     removed, keeping one digit after the point.
//
// Godot casts to int64 before the whole-number test; at ±2^63 and beyond
// that cast is platform-defined. This follows x86-64, where every such value
// takes the "%lf" path (the printed digits are the same on all platforms
// except for exactly 2^63, which ARM builds print as 9223372036854775807.0).
func appendGodotFloat(dst []byte, x float64) []byte {
	switch {
	case math.IsNaN(x):
		return append(dst, "nan"...)
	case math.IsInf(x, 1):
		return append(dst, "inf"...)
	case math.IsInf(x, -1):
		return append(dst, "-inf"...)
	}
	const two63 = 1 << 63
	if x >= -two63 && x < two63 && x == math.Trunc(x) {
		dst = strconv.AppendInt(dst, int64(x), 10)
		return append(dst, ".0"...)
	}
	abs := math.Abs(x)
	decimals := 14
	if abs > 10 {
		decimals -= floorLog10(abs)
	}
	// String::num repeats the same computation for a negative count and then
	// falls back to "%lf".
	if decimals < 0 {
		decimals = 6
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, x, 'f', decimals, 64)
	// Destroy trailing zeros, except one after the period.
	if bytes.IndexByte(dst[start:], '.') < 0 {
		return dst
	}
	end := len(dst)
	for end > start+1 && dst[end-1] == '0' {
		end--
	}
	if dst[end-1] == '.' {
		end++ // keep one zero
	}
	return dst[:end]
}

// floorLog10 returns ⌊log10 a⌋ for a > 10 as Godot's String::num_real
// computes it: std::floor of the C library's log10. That is the exact floor
// (found by comparing with powers of ten; math.Log10 can be one off just
// above a power of ten), except for the few doubles just below 10^k whose
// log10 rounds to k itself (glibc, as Linux builds use; log10Up).
func floorLog10(a float64) int {
	e := 0
	for p := 10.0; p <= a && e < 400; p *= 10 {
		e++
	}
	if e+1 < len(log10Up) && a >= log10Up[e+1] {
		e++
	}
	return e
}

// log10Up[k] is the smallest double whose glibc log10 is exactly k (k from
// 2 to 16; above 4.5e15 every double is a whole number, printed before
// num_real's count matters). Correctly rounded log10 differs by one double
// at k = 3, 5, 6, 9, 12 and 14.
var log10Up = [...]float64{
	2: 99.999999999999986, 3: 999.99999999999943, 4: 9999.9999999999964, 5: 99999.999999999913,
	6: 999999.99999999895, 7: 9999999.9999999907, 8: 99999999.999999911, 9: 999999999.99999785,
	10: 9999999999.9999809, 11: 99999999999.999802, 12: 999999999999.99792, 13: 9999999999999.9805,
	14: 99999999999999.812, 15: 999999999999998, 16: 9999999999999980,
}
