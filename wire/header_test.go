package wire

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
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
}
