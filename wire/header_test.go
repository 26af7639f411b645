package wire

import (
	"net/http"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHeadersAsDictionary(t *testing.T) {
	for _, c := range []struct {
		name    string
		headers []string
		want    map[string]string
	}{
		{"§1.11.4 key and value are stripped", []string{"X-A :  1 ", "X-B:2"},
			map[string]string{"X-A": "1", "X-B": "2"}},
		{"§1.11.4 strings without ':' are skipped", []string{"HTTP/1.1 500 x", "X: y"},
			map[string]string{"X": "y"}},
		{"§1.11.4 duplicate keys: the last one wins", []string{"Set-Cookie: a=1", "Set-Cookie: b=2"},
			map[string]string{"Set-Cookie": "b=2"}},
		{"§1.11.4 keys are case-sensitive", []string{"Content-Type: a", "content-type: b"},
			map[string]string{"Content-Type": "a", "content-type": "b"}},
		{"§1.11.4 split at the first ':' only", []string{"Location: http://h:8080/p"},
			map[string]string{"Location": "http://h:8080/p"}},
		{"§1.11.4 ':x' gives the empty key", []string{":x"}, map[string]string{"": "x"}},
		{"§1.11.4 values are always strings", []string{"Content-Length: 12"},
			map[string]string{"Content-Length": "12"}},
		{"§1.11.4 no headers", nil, map[string]string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, HeadersAsDictionary(c.headers))
		})
	}
}

func TestHTTPHeader(t *testing.T) {
	for _, c := range []struct {
		name    string
		headers []string
		want    http.Header
	}{
		{"keys are canonical, values stripped", []string{"content-type:  text/plain ", "x-a-b: 1"},
			http.Header{"Content-Type": {"text/plain"}, "X-A-B": {"1"}}},
		{"all values kept in order", []string{"Set-Cookie: a=1", "set-cookie: b=2", "SET-COOKIE: c=3"},
			http.Header{"Set-Cookie": {"a=1", "b=2", "c=3"}}},
		{"lines without ':' and empty names are skipped", []string{"HTTP/1.1 500 x", ": y", "X: z"},
			http.Header{"X": {"z"}}},
		{"non-token names are kept as written", []string{"X Y: z"},
			http.Header{"X Y": {"z"}}},
		{"split at the first ':'", []string{"Location: http://h:8080/"},
			http.Header{"Location": {"http://h:8080/"}}},
		{"no headers", nil, http.Header{}},
		{"repeats in a row and apart", []string{"A: 1", "a: 2", "B: 3", "A: 4", "A: 5", "B: 6", "b: 7", "C: 8"},
			http.Header{"A": {"1", "2", "4", "5"}, "B": {"3", "6", "7"}, "C": {"8"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, HTTPHeader(c.headers))
		})
	}
}

// TestHTTPHeaderValuesDoNotAlias checks that appending to one key's values
// cannot overwrite another key's (the shared backing array is cut with a
// capacity of 1).
func TestHTTPHeaderValuesDoNotAlias(t *testing.T) {
	h := HTTPHeader([]string{"A: 1", "B: 2"})
	h["A"] = append(h["A"], "x")
	assert.Equal(t, []string{"2"}, h["B"])
	assert.Equal(t, []string{"1", "x"}, h["A"])

	// Values of a name repeated in a row share the array too, still cut
	// at their length.
	h = HTTPHeader([]string{"A: 1", "A: 2", "B: 3"})
	assert.Equal(t, 2, cap(h["A"]))
	h["A"] = append(h["A"], "x")
	assert.Equal(t, []string{"3"}, h["B"])
	assert.Equal(t, []string{"1", "2", "x"}, h["A"])
}

// A head of many lines of one name (a hostile server's 1 MiB of "a:b")
// costs what a head of as many distinct names costs at most: its values are
// not grown by doubling, and the map is not sized for names it does not
// have.
func TestHTTPHeaderManyLinesOfOneName(t *testing.T) {
	same := make([]string, 20000)
	for i := range same {
		same[i] = "a: b"
	}
	h := HTTPHeader(same)
	require.Len(t, h, 1)
	require.Len(t, h["A"], len(same))
	assert.Equal(t, len(same), cap(h["A"]))
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	_ = HTTPHeader(same)
	runtime.ReadMemStats(&m1)
	// The values array is 20000 × 16 bytes; the doubling and a map sized
	// for 20000 names cost well over twice that.
	assert.Less(t, m1.TotalAlloc-m0.TotalAlloc, uint64(2*16*len(same)))
}

// All values share one backing array, as in net/textproto: more keys do
// not mean more allocations.
func TestHTTPHeaderOneValueArray(t *testing.T) {
	one := []string{"A: 1"}
	four := []string{"A: 1", "B: 2", "C: 3", "D: 4"}
	a1 := testing.AllocsPerRun(100, func() { _ = HTTPHeader(one) })
	a4 := testing.AllocsPerRun(100, func() { _ = HTTPHeader(four) })
	assert.Equal(t, a1, a4)
}

// §1.7.10: Godot's findn(name) == 0 on the raw user header string.
func TestHasLinePrefix(t *testing.T) {
	for _, c := range []struct {
		name    string
		headers []string
		prefix  string
		want    bool
	}{
		{"case-insensitive", []string{"X: 1", "CONTENT-LENGTH: 2"}, "content-length:", true},
		{"nothing stripped: a leading space hides it", []string{" Host: h"}, "host:", false},
		{"the colon belongs to the prefix", []string{"Host : h"}, "host:", false},
		{"a longer name matches the prefix", []string{"Accept: */*"}, "accept:", true},
		{"Accept-Encoding is not Accept:", []string{"Accept-Encoding: gzip"}, "accept:", false},
		{"U+0130 lower-cases to i", []string{"Transfer-Encod\u0130ng: chunked"}, "transfer-encoding:", true},
		{"none", nil, "host:", false},
	} {
		assert.Equal(t, c.want, HasLinePrefix(c.headers, c.prefix), c.name)
	}
}

// §2.4.6: Godot's has_header: the stripped, lower-cased string begins with
// the name.
func TestHasHeader(t *testing.T) {
	for _, c := range []struct {
		name    string
		headers []string
		prefix  string
		want    bool
	}{
		{"case-insensitive", []string{"ACCEPT-Encoding: x"}, "accept-encoding", true},
		{"stripped first", []string{"\t Accept-Encoding: br"}, "accept-encoding", true},
		{"a prefix of the name is enough", []string{"Accept-Encodings: x"}, "accept-encoding", true},
		{"value text counts too", []string{"accept-encoding"}, "accept-encoding", true},
		{"space before the colon fails a prefix with colon", []string{"Content-Type : x"}, "content-type:", false},
		{"another header", []string{"Accept: */*"}, "accept-encoding", false},
		{"none", nil, "accept-encoding", false},
	} {
		assert.Equal(t, c.want, HasHeader(c.headers, c.prefix), c.name)
	}
}

// §2.7.4: Godot's get_header_value: the first string whose name before the
// first ':' (stripped, lower-cased) matches; Godot's split drops empty pieces.
func TestHeaderValue(t *testing.T) {
	for _, c := range []struct {
		name    string
		headers []string
		want    string
	}{
		{"plain", []string{"Content-Encoding: gzip"}, "gzip"},
		{"case of the name ignored, value kept", []string{"CONTENT-ENCODING:  GZip "}, "GZip"},
		{"name stripped", []string{" Content-Encoding\t: deflate"}, "deflate"},
		{"first wins", []string{"Content-Encoding: gzip", "Content-Encoding: br"}, "gzip"},
		{"colons opening the value vanish", []string{"Content-Encoding::gzip"}, "gzip"},
		{"later colons stay", []string{"Content-Encoding: a:b"}, "a:b"},
		{"nothing after the colons: skipped", []string{"Content-Encoding:::", "Content-Encoding: br"}, "br"},
		{"blank value: found, empty", []string{"Content-Encoding:  ", "Content-Encoding: br"}, ""},
		{"empty name: skipped", []string{":content-encoding: x"}, ""},
		{"no colon: skipped", []string{"Content-Encoding gzip"}, ""},
		{"U+212A in the name", []string{"\u212a: v"}, "v"},
		{"another name", []string{"Content-Encodings: gzip"}, ""},
		{"none", nil, ""},
	} {
		name := "content-encoding"
		if c.name == "U+212A in the name" {
			name = "k"
		}
		assert.Equal(t, c.want, HeaderValue(c.headers, name), c.name)
	}
	// Godot tests find_char(':') > 0 first: a string that opens with ':' is
	// skipped even when asked for the empty name; " :x" has a name that
	// strips to "".
	assert.Equal(t, "", HeaderValue([]string{":x"}, ""), "leading ':'")
	assert.Equal(t, "x", HeaderValue([]string{" :x"}, ""), "name stripped to empty")
}

// godotSplitOnce is Godot's String.split(":", false, 1) as the reference for
// HeaderValue: pieces between colons, empty pieces dropped, the rest of the
// string as the second piece.
func godotSplitOnce(s string) []string {
	var parts []string
	from := 0
	for {
		end := strings.IndexByte(s[from:], ':')
		if end < 0 {
			end = len(s)
		} else {
			end += from
		}
		if end > from {
			if len(parts) == 1 {
				return append(parts, s[from:])
			}
			parts = append(parts, s[from:end])
		}
		if end == len(s) {
			return parts
		}
		from = end + 1
	}
}

// FuzzHeaderValue: HeaderValue agrees with get_header_value written as
// Godot writes it (split, strip, to_lower, compare).
func FuzzHeaderValue(f *testing.F) {
	for _, s := range []string{"Content-Encoding: gzip", "Content-Encoding::gzip", ":x", "a:", "a::", "a: :b", "A:b:c", "\u212a:v"} {
		f.Add(s, "x", "content-encoding")
	}
	f.Fuzz(func(t *testing.T, a, b, name string) {
		if foldReference(name) != name || !utf8.ValidString(name) {
			t.Skip("name is not lower case")
		}
		want := ""
		for _, h := range []string{a, b} {
			if strings.IndexByte(h, ':') <= 0 {
				continue
			}
			if parts := godotSplitOnce(h); len(parts) > 1 && foldReference(stripEdges(parts[0])) == name {
				want = stripEdges(parts[1])
				break
			}
		}
		if got := HeaderValue([]string{a, b}, name); got != want {
			t.Fatalf("HeaderValue(%q, %q) = %q, reference %q", []string{a, b}, name, got, want)
		}
	})
}

// §2.8.1.3: every header that contains "Location: " (case-insensitive, with
// the space) sets the target from its tenth character on, stripped; the last
// wins. (Moved from httprequest's TestGodotLocation.)
func TestRedirectLocation(t *testing.T) {
	cases := []struct {
		name    string
		headers []string
		want    string
	}{
		{"plain", []string{"Location: /new"}, "/new"},
		{"lower case", []string{"location: /x"}, "/x"},
		{"upper case", []string{"LOCATION:  /y  "}, "/y"},
		{"no space after the colon is not recognised", []string{"location:/x"}, ""},
		{"Content-Location yields garbage", []string{"Content-Location: /a"}, "ocation: /a"},
		{"X-Location", []string{"X-Location: foo"}, "n: foo"},
		{"last match wins", []string{"Location: /first", "Server: x", "Location: /second"}, "/second"},
		{"later Content-Location overrides", []string{"Location: /real", "Content-Location: /a"}, "ocation: /a"},
		{"characters, not bytes", []string{"Ü-Location: /z"}, "n: /z"},
		{"U+0130 lower-cases to i", []string{"Locat\u0130on: /i"}, "/i"},
		{"empty value", []string{"Location: "}, ""},
		{"none", []string{"Server: x", "Content-Length: 0"}, ""},
		{"absolute", []string{"Location: https://other.example:8443/p?q=1"}, "https://other.example:8443/p?q=1"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, RedirectLocation(c.headers), c.name)
	}
	// §1.8.2: Godot keeps a CR inside a line; the line is matched with it
	// ("Location:<CR>" is not "Location: "), and the target has SP for it
	// (§7 D2: no CR reaches a request line).
	assert.Equal(t, "/a b", RedirectLocation([]string{"Location:\r/cr", "X: a\rb", "Location: /a\rb"}))
	assert.Equal(t, "", RedirectLocation([]string{"Location:\r/cr", "X: a\rb"}), "Location:<CR> is not \"Location: \"")
}

// §7.2: the RFC 9110 field lookup of the opt-ins: the name before the first
// ':' exactly, case-insensitive, the first line winning. (Moved from
// httprequest's TestRFCLocation.)
func TestLookupField(t *testing.T) {
	v, ok := LookupField([]string{"Server: x", "location : /a ", "Location: /b"}, "location")
	assert.True(t, ok)
	assert.Equal(t, "/a", v)
	v, ok = LookupField([]string{"Content-Location: /a", "X-Location: /b"}, "location")
	assert.False(t, ok)
	assert.Equal(t, "", v)
	_, ok = LookupField(nil, "location")
	assert.False(t, ok)
	v, ok = LookupField([]string{"Cookie:"}, "cookie")
	assert.True(t, ok, "an empty value is still a field")
	assert.Equal(t, "", v)

	assert.Equal(t, "Content-Type", FieldName("  Content-Type\t: a:b"))
	assert.Equal(t, "", FieldName("no colon"))
	assert.Equal(t, "", FieldName(":x"))
}

// The lookups run on every response of the node (Location, Content-Encoding,
// cookies): none allocates.
func TestHeaderLookupsAllocateNothing(t *testing.T) {
	h := []string{"Server: x", "Content-Encoding: GZIP", "Set-Cookie: a=1", "Location: /next"}
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		_ = HasLinePrefix(h, "content-length:")
		_ = HasHeader(h, "accept-encoding")
		_ = HeaderValue(h, "content-encoding")
		_ = RedirectLocation(h)
		_, _ = LookupField(h, "cookie")
		_ = FieldValue(h, "location")
	}))
}

// NoCR: every CR is a space, wherever it is; a string without one is
// returned as it is.
func TestNoCR(t *testing.T) {
	assert.Equal(t, " a  b ", NoCR("\ra\r\rb\r"))
	assert.Equal(t, "a b", NoCR("a b"))
	assert.Equal(t, "", NoCR(""))
}
