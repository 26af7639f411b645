package wire

import (
	"net/http"
	"net/textproto"
	"strings"
	"unicode/utf8"
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
// stripped as Godot strips them (§0.4.1), a CR inside a line as SP (NoCR).
// Strings without ':' and strings
// with an empty name are skipped, since an http.Header cannot carry them
// meaningfully. All values share one backing array, as in net/textproto.
func HTTPHeader(headers []string) http.Header {
	n := 0
	for _, s := range headers {
		if strings.IndexByte(s, ':') > 0 {
			n++
		}
	}
	// The map is sized for the lines, up to maxKeysHint: a head of many
	// lines of one name (a hostile server's 1 MiB of "a:b") would get a map
	// sized for hundreds of thousands of names it does not have.
	h := make(http.Header, min(n, maxKeysHint))
	vals := make([]string, n)
	used := 0
	last, lastStart := "", 0 // the key whose values end at vals[used-1], from lastStart
	for _, s := range headers {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			continue
		}
		s = NoCR(s) // a CR kept inside the line (§1.8.2) is SP in an http.Header
		name := stripEdges(s[:i])
		if name == "" {
			continue
		}
		key := textproto.CanonicalMIMEHeaderKey(name)
		vals[used] = stripEdges(s[i+1:])
		used++
		switch vv := h[key]; {
		case vv == nil:
			last, lastStart = key, used-1
			h[key] = vals[lastStart:used:used]
		case key == last:
			// The same name as the line before: its values grow in place,
			// not by doubling a copy.
			h[key] = vals[lastStart:used:used]
		default:
			last = ""
			h[key] = append(vv, vals[used-1])
		}
	}
	return h
}

// maxKeysHint bounds HTTPHeader's map size hint (net/textproto bounds its
// own at 1000 too).
const maxKeysHint = 1000

// Header lookups over stored or user header strings ("Name: value"). Godot
// looks a header up in several ways, each at its own site, and each way is
// reproduced once here; the port's own opt-ins use one RFC 9110 lookup:
//
//	HasLinePrefix     HTTPClient.request: findn(name) == 0 on the raw line (§1.7.10)
//	HasHeader         HTTPRequest.has_header: stripped line, to_lower().begins_with (§2.4.6)
//	HeaderValue       HTTPRequest.get_header_value: name before the first ':' (§2.7.4)
//	RedirectLocation  HTTPRequest._handle_response: containsn("Location: ") (§2.8.1.3)
//	LookupField       RFC 9110 field lookup (and FieldValue, FieldName): RFC redirects,
//	                  the cookie jar, resuming (§7.2)
//
// The response head parser applies Godot's own prefix tests (§1.8.3) itself,
// on the lines as it splits them (HeadParser.Parse).

// HasLinePrefix reports whether some header string begins with lowerPrefix,
// lower-cased code point by code point, with nothing stripped first: Godot's
// test of the user's headers before it adds Host, Content-Length, User-Agent
// or Accept (§1.7.10). The port applies the same test to its own additions
// (Proxy-Authorization) and refusals (RequestStream). lowerPrefix is lower
// case and includes the colon ("content-length:").
//
// Godot: HTTPClient.request() (p_headers[i].findn("Host:") == 0)
func HasLinePrefix(headers []string, lowerPrefix string) bool {
	for _, h := range headers {
		if HasPrefixFold(h, lowerPrefix) {
			return true
		}
	}
	return false
}

// HasHeader reports whether some header string, stripped (§0.4.1) and
// lower-cased, begins with lowerPrefix (§2.4.6). The prefix is what the caller
// gives: "accept-encoding" also matches "Accept-Encodings: x", and
// "content-type:" asks for the colon.
//
// Godot: HTTPRequest.has_header()
func HasHeader(headers []string, lowerPrefix string) bool {
	for _, h := range headers {
		if HasPrefixFold(stripEdges(h), lowerPrefix) {
			return true
		}
	}
	return false
}

// HeaderValue returns the stripped value of the first header string whose
// name (the text before its first ':', stripped and lower-cased) is lowerName,
// or "" when there is none (§2.7.4). Godot splits the string on ':' dropping
// empty pieces, so a string whose first ':' is its first character is
// skipped, a string with nothing after its colons is skipped, and colons that
// open the value vanish ("Name::gzip" has the value "gzip").
//
// Godot: HTTPRequest.get_header_value()
func HeaderValue(headers []string, lowerName string) string {
	for _, h := range headers {
		i := strings.IndexByte(h, ':')
		if i <= 0 {
			continue
		}
		rest := strings.TrimLeft(h[i+1:], ":")
		if rest == "" {
			continue
		}
		if EqualFold(stripEdges(h[:i]), lowerName) {
			return stripEdges(rest)
		}
	}
	return ""
}

// RedirectLocation returns the target of a 301/302 as Godot finds it
// (§2.8.1.3): every header string that contains "Location: " (lower-cased
// code point by code point, the space included) sets it to the string from
// its tenth character on, stripped; the last such string wins. "" means none.
// So "Content-Location: /a" gives "ocation: /a" and "location:/x" nothing.
//
// A CR inside the string (Godot keeps it, §1.8.2) is SP in the target, so
// that no CR reaches the next request line (§7 D2): "Location:<CR>/x"
// matches nothing, as in Godot.
//
// Godot: HTTPRequest._handle_response() (containsn("Location: "), substr(9))
func RedirectLocation(headers []string) string {
	loc := ""
	for _, h := range headers {
		if ContainsFold(h, "location: ") {
			loc = stripEdges(skipRunes(h, 9))
		}
	}
	return NoCR(loc)
}

// NoCR returns s with every CR replaced by SP (RFC 9112 §2.2): for a value
// taken from a stored header line, which keeps a CR inside as Godot does,
// before it goes where a CR would end a line (a request, an http.Header).
func NoCR(s string) string {
	if strings.IndexByte(s, '\r') < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\r", " ")
}

// skipRunes returns s without its first n code points (Godot indexes
// strings by code point).
func skipRunes(s string, n int) string {
	for ; n > 0 && s != ""; n-- {
		_, size := utf8.DecodeRuneInString(s)
		s = s[size:]
	}
	return s
}

// FieldName returns the stripped text before the first ':' of a header
// string, or "" when it has no ':'.
func FieldName(h string) string {
	name, _, ok := strings.Cut(h, ":")
	if !ok {
		return ""
	}
	return stripEdges(name)
}

// LookupField returns the stripped value of the first header string whose
// FieldName equals name under strings.EqualFold, and whether there is one:
// the RFC 9110 field lookup of the port's opt-ins (RFC redirects, the cookie
// jar, resuming; §7.2), not one of Godot's. Godot's own sites use HasHeader,
// HeaderValue and RedirectLocation.
func LookupField(headers []string, name string) (string, bool) {
	for _, h := range headers {
		if strings.EqualFold(FieldName(h), name) {
			_, v, _ := strings.Cut(h, ":")
			return stripEdges(v), true
		}
	}
	return "", false
}

// FieldValue is LookupField's value alone: "" when there is no such field.
func FieldValue(headers []string, name string) string {
	v, _ := LookupField(headers, name)
	return v
}
