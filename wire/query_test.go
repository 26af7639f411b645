package wire

import (
	"fmt"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

// §1.16.5: the cases of Godot's test_http_client.h.
func TestQueryStringFromDictGodotTests(t *testing.T) {
	assert.Equal(t, "", QueryStringFromDict(nil))
	assert.Equal(t, "", QueryStringFromDict([]QueryField{}))
	assert.Equal(t, "key=value", QueryStringFromDict([]QueryField{{"key", "value"}}))
	assert.Equal(t, "key1=value&key2=123&key3=1&key3=2&key3=3&key4",
		QueryStringFromDict([]QueryField{
			{"key1", "value"},
			{"key2", 123},
			{"key3", []any{1, 2, 3}},
			{"key4", nil},
		}))
}

// §1.16.1–4, rule by rule.
func TestQueryStringFromDict(t *testing.T) {
	tests := []struct {
		name   string
		fields []QueryField
		want   string
	}{
		{"§1.16.1 insertion order kept", []QueryField{{"b", 1}, {"a", 2}}, "b=1&a=2"},
		{"§1.16.2 key encoded", []QueryField{{"a b&c", "v"}}, "a%20b%26c=v"},
		{"§1.16.2 non-string key", []QueryField{{1, "x"}, {2.5, "y"}, {true, "z"}}, "1=x&2.5=y&true=z"},
		{"§1.16.2 nil key", []QueryField{{nil, "x"}}, "%3Cnull%3E=x"},
		{"§1.16.3 value encoded", []QueryField{{"k", "c&d=é /+"}}, "k=c%26d%3D%C3%A9%20%2F%2B"},
		{"§1.16.3 null value: key alone", []QueryField{{"a", nil}, {"b", nil}}, "a&b"},
		{"§1.16.3 array repeats key", []QueryField{{"k", []any{"x y", 2, true}}}, "k=x%20y&k=2&k=true"},
		{"§1.16.3 interface slice is an Array", []QueryField{{"k", []fmt.Stringer{queryLevel(1), queryLevel(2)}}}, "k=level-1&k=level-2"},
		{"§1.16.3 typed nil Array", []QueryField{{"a", []any(nil)}, {"b", 1}}, "b=1"},
		{"§1.16.3 empty array contributes nothing", []QueryField{{"a", []any{}}, {"b", 1}}, "b=1"},
		{"§1.16.3 only an empty array", []QueryField{{"a", []any{}}}, ""},
		{"§1.16.3 null inside array", []QueryField{{"k", []any{nil, 1}}}, "k=%3Cnull%3E&k=1"},
		{"§1.16.3 nested array printed", []QueryField{{"k", []any{[]any{1, "a"}}}}, "k=%5B1%2C%20%22a%22%5D"},
		{"§1.16.3 bool", []QueryField{{"t", true}, {"f", false}}, "t=true&f=false"},
		{"§1.16.3 int", []QueryField{{"k", -42}}, "k=-42"},
		{"§1.16.3 float", []QueryField{{"a", 1.5}, {"b", 1.0}}, "a=1.5&b=1.0"},
		{"§1.16.3 a slice Godot has no packed array for is an Array", []QueryField{{"k", []bool{true, false}}}, "k=true&k=false"},
		{"§1.16.3 typed nil Stringer is null", []QueryField{{(*url.URL)(nil), (*url.URL)(nil)}}, "%3Cnull%3E=%3Cnull%3E"},
		{"§1.16.3 uint64 wraps as Variant(uint64_t)", []QueryField{{"k", uint64(1<<64 - 1)}}, "k=-1"},
		{"§1.16.3 packed byte array", []QueryField{{"k", []byte{1, 2, 3}}}, "k=%5B1%2C%202%2C%203%5D"},
		{"§1.16.3 packed string array", []QueryField{{"k", []string{"a"}}}, "k=%5B%22a%22%5D"},
		{"§1.16.3 dictionary value", []QueryField{{"k", map[string]any{"a": 1}}}, "k=%7B%20%22a%22%3A%201%20%7D"},
		{"§1.16.4 empty key keeps its separator", []QueryField{{"", nil}, {"b", 1}}, "&b=1"},
		{"§1.16.4 empty key and value", []QueryField{{"", ""}}, "="},
		{"§1.16.4 duplicate keys written twice", []QueryField{{"a", 1}, {"a", 2}}, "a=1&a=2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, QueryStringFromDict(tc.fields))
		})
	}
}

func TestQueryStringFromMap(t *testing.T) {
	assert.Equal(t, "", QueryStringFromMap(nil))
	assert.Equal(t, "a=1&b=x%20y&c&d=1&d=2",
		QueryStringFromMap(map[string]any{"d": []any{1, 2}, "c": nil, "b": "x y", "a": 1}))
}

type queryLevel int

func (l queryLevel) String() string { return "level-" + strconv.Itoa(int(l)) }

// §0.4.4.
func TestURIEncode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"AZaz09-._~", "AZaz09-._~"},
		{"Godot Engine:'docs'", "Godot%20Engine%3A%27docs%27"}, // test_string.h
		{" ", "%20"},
		{"+", "%2B"},
		{"/?#&=*!()", "%2F%3F%23%26%3D%2A%21%28%29"},
		{"é", "%C3%A9"},
		{"\x00\xff", "%00%FF"},
		{"100%", "100%25"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, URIEncode(tc.in), "%q", tc.in)
		assert.Equal(t, "x"+tc.want, string(AppendURIEncode([]byte("x"), tc.in)))
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = URIEncode("unchanged-string_1.0~") }))
	buf := make([]byte, 0, 64)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = AppendURIEncode(buf[:0], "a b/c?d") }))
}
