package wire

import (
	"reflect"
	"slices"

	"github.com/gdhttp/gdhttp/godot"
)

// QueryField is one Dictionary entry for QueryStringFromDict. A slice of
// them keeps the insertion order a Godot Dictionary iterates in.
//
// Godot: Dictionary (one key/value pair)
type QueryField struct {
	Key, Value any
}

// QueryStringFromDict builds a URL query string from fields (§1.16), in
// order: each key is converted to a String and URI-encoded (§0.4.4); a nil
// value gives the key alone; a value that stands for Godot's Array
// (godot.IsArray: a []any, or a slice of a kind Godot has no packed array
// for, such as []bool) gives one key=value pair per element and nothing
// when empty; any other value gives
// key=URIEncode(String(value)). Pairs are joined with '&'; no fields give "".
//
// Keys and values are converted to String as Godot converts the Variant
// they stand for: godot.AppendVariant (Godot's String(Variant)) has the
// mapping of Go values, the recursion limit and the cycle rule (§7 D1).
//
// The §1.16.5 example: {"key1":"value","key2":123,"key3":[1,2,3],"key4":null}
// → "key1=value&key2=123&key3=1&key3=2&key3=3&key4".
//
// Godot: HTTPClient.query_string_from_dict()
func QueryStringFromDict(fields []QueryField) string {
	var b []byte
	var tmp []byte
	for _, f := range fields {
		tmp = godot.AppendVariant(tmp[:0], f.Key)
		key := tmp // encoded below, before tmp is reused
		switch v := f.Value.(type) {
		case nil:
			b = append(b, '&')
			b = appendURIEncodeBytes(b, key)
		case []any:
			encKey := appendURIEncodeBytes(nil, key)
			for _, e := range v {
				b = append(b, '&')
				b = append(b, encKey...)
				b = append(b, '=')
				tmp = godot.AppendVariant(tmp[:0], e)
				b = appendURIEncodeBytes(b, tmp)
			}
		default:
			if godot.IsArray(v) {
				rv := reflect.ValueOf(v)
				encKey := appendURIEncodeBytes(nil, key)
				for i := 0; i < rv.Len(); i++ {
					b = append(b, '&')
					b = append(b, encKey...)
					b = append(b, '=')
					tmp = godot.AppendVariant(tmp[:0], rv.Index(i).Interface())
					b = appendURIEncodeBytes(b, tmp)
				}
				continue
			}
			b = append(b, '&')
			b = appendURIEncodeBytes(b, key)
			b = append(b, '=')
			tmp = godot.AppendVariant(tmp[:0], v)
			b = appendURIEncodeBytes(b, tmp)
		}
	}
	if len(b) == 0 {
		return ""
	}
	// Godot prefixes every pair with '&' and drops the first character, so a
	// leading empty key still leaves its separator behind ("&k=v").
	return string(b[1:])
}

// QueryStringFromMap is QueryStringFromDict for a Go map. A map has no
// insertion order, so the keys are taken in sorted (byte-wise) order, which
// makes the result deterministic.
//
// Godot: HTTPClient.query_string_from_dict()
func QueryStringFromMap(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fields := make([]QueryField, len(keys))
	for i, k := range keys {
		fields[i] = QueryField{Key: k, Value: m[k]}
	}
	return QueryStringFromDict(fields)
}

// URIEncode is Godot's String.uri_encode() (§0.4.4): the bytes A–Z a–z 0–9
// '-' '.' '_' '~' are kept, every other byte becomes %XX with upper-case hex;
// a space becomes %20, never '+'. The string's bytes are encoded as they are
// (Godot's String would hold U+FFFD for invalid UTF-8, giving %EF%BF%BD).
//
// Godot: String.uri_encode()
func URIEncode(s string) string {
	for i := 0; i < len(s); i++ {
		if !uriUnreserved[s[i]] {
			return string(AppendURIEncode(make([]byte, 0, len(s)+16), s))
		}
	}
	return s
}

// AppendURIEncode appends URIEncode(s) to dst.
//
// Godot: String.uri_encode()
func AppendURIEncode(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if uriUnreserved[c] {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return dst
}

func appendURIEncodeBytes(dst, s []byte) []byte {
	for _, c := range s {
		if uriUnreserved[c] {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return dst
}

const upperHex = "0123456789ABCDEF"

var uriUnreserved = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	t['-'], t['.'], t['_'], t['~'] = true, true, true, true
	return t
}()
