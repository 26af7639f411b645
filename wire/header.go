package wire

import (
	"net/http"
	"net/textproto"
	"strings"
)

// HeadersAsDictionary turns stored header strings (§1.8.5) into Godot's
// dictionary view (§1.11.4): for each string with a ':', the key is the
// stripped text before the first ':' (case kept, so "Content-Type" and
// "content-type" are different keys, and ":x" gives the key ""), the value is
// the stripped text after it, always a string; strings without ':' are
// skipped; for a repeated key the last value wins (several Set-Cookie lines
// keep only the last). Godot's Dictionary keeps insertion order, a Go map has
// none.
//
// Godot: HTTPClient.get_response_headers_as_dictionary()
func HeadersAsDictionary(headers []string) map[string]string {
	m := make(map[string]string, len(headers))
	for _, s := range headers {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			continue
		}
		m[stripEdges(s[:i])] = stripEdges(s[i+1:])
	}
	return m
}

// HTTPHeader is the Go view of stored header strings: keys canonicalised by
// textproto.CanonicalMIMEHeaderKey (a name holding bytes that are not token
// characters is kept as written), every value kept in order, names and values
// stripped as Godot strips them (§0.4.1). Strings without ':' and strings
// with an empty name are skipped, since an http.Header cannot carry them
// meaningfully. All values share one backing array, as in net/textproto.
func HTTPHeader(headers []string) http.Header {
	n := 0
	for _, s := range headers {
		if strings.IndexByte(s, ':') > 0 {
			n++
		}
	}
	h := make(http.Header, n)
	vals := make([]string, n)
	for _, s := range headers {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			continue
		}
		name := stripEdges(s[:i])
		if name == "" {
			continue
		}
		key := textproto.CanonicalMIMEHeaderKey(name)
		v := stripEdges(s[i+1:])
		if vv := h[key]; vv == nil && len(vals) > 0 {
			vv, vals = vals[:1:1], vals[1:]
			vv[0] = v
			h[key] = vv
		} else {
			h[key] = append(vv, v)
		}
	}
	return h
}
