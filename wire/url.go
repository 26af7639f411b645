package wire

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/gdhttp/gdhttp/godot"
)

// URL is the result of Godot's String.parse_url (§2.5.2–8): no
// percent-decoding, no normalisation beyond lower-casing scheme and host.
//
// Godot: String.parse_url() (C++ only)
type URL struct {
	// Scheme is the text before the first "://", lower-cased, when that text
	// is made only of ASCII letters, digits, '+', '-' and '.'; "" otherwise.
	// Godot's own result keeps the separator ("http://"); this field does not.
	Scheme string
	// Host is lower-cased; an IPv6 literal is given without its brackets.
	Host string
	// Port is 1…65535, or 0 when the URL names none.
	Port int
	// Path runs from the first '/' after the scheme to the end, query string
	// included; "" when there is no '/'.
	Path string
	// Fragment is the text after the first '#' (after the scheme), "" when
	// there is none.
	Fragment string
}

// URLError is the cause carried by the godot.ErrInvalidParameter that ParseURL and
// ParseRequestURL return. It does not quote the whole URL, which may carry
// credentials in its userinfo.
type URLError struct {
	Reason string // what is wrong, e.g. `port "0" is out of range 1-65535`
}

// Error returns "gdhttp: invalid URL: " and the reason.
func (e *URLError) Error() string { return "gdhttp: invalid URL: " + e.Reason }

const parseURLOp = "parse_url"

func urlErr(reason string) error {
	return godot.Wrap(godot.ErrInvalidParameter, parseURLOp, &URLError{Reason: reason})
}

// ParseURL splits s into scheme, host, port, path and fragment the way
// Godot's String::parse_url does, quirks included (§2.5.2–8; the steps are
// commented in the function): the scheme and host lower-cased, userinfo
// dropped, a '?' before any '/' left in the host, port 0 when s names none.
//
// Errors wrap godot.ErrInvalidParameter around a *URLError that says what is
// wrong: a '[' without ']', more than one ':' outside brackets, an empty host,
// a port that is not an integer or outside 1…65535. Like Godot's output
// parameters, the URL returned with an error holds the fields set before the
// failure, which HTTPRequest relies on for a redirect target whose parse
// error it ignores (§2.8.1.5).
//
// Godot: String.parse_url() (C++ only)
func ParseURL(s string) (URL, error) {
	var u URL
	base := s
	// §2.5.2 scheme: text before the first "://" made only of ASCII letters,
	// digits, '+', '-' and '.'; lower-cased; removed with the separator.
	// Otherwise there is no scheme and nothing is removed.
	if i := strings.Index(base, "://"); i >= 0 && isURLSchemeText(base[:i]) {
		u.Scheme = lowerASCII(base[:i])
		base = base[i+3:]
	}
	// §2.5.3 fragment: everything after the first '#' is cut off.
	if i := strings.IndexByte(base, '#'); i >= 0 {
		u.Fragment = base[i+1:]
		base = base[:i]
	}
	// §2.5.4 path: from the first '/' to the end, so a '?' with no '/' before
	// it stays in the host ("http://h?x=1" → host "h?x=1").
	if i := strings.IndexByte(base, '/'); i >= 0 {
		u.Path = base[i:]
		base = base[:i]
	}
	// §2.5.5 userinfo: text up to and including the first '@' is dropped.
	if i := strings.IndexByte(base, '@'); i >= 0 {
		base = base[i+1:]
	}
	// §2.5.6 host: "[…]" is the text between '[' and the last ']' (text after
	// ']' that is not ":port" is ignored); otherwise more than one ':' is an
	// error and the host is the text before the ':'.
	var host string
	if strings.HasPrefix(base, "[") {
		i := strings.LastIndexByte(base, ']')
		if i < 0 {
			return u, urlErr("IPv6 literal without closing ']'")
		}
		host, base = base[1:i], base[i+1:]
	} else {
		if strings.Count(base, ":") > 1 {
			return u, urlErr("more than one ':' in the authority (IPv6 literals need brackets)")
		}
		if i := strings.LastIndexByte(base, ':'); i >= 0 {
			host, base = base[:i], base[i:]
		} else {
			host, base = base, ""
		}
	}
	// §2.5.7: an empty host is an error; the host is lower-cased
	// (Unicode-aware, as Godot's to_lower; invalid UTF-8 becomes U+FFFD as
	// Godot's own decoding would have made it).
	if host == "" {
		return u, urlErr("empty host")
	}
	u.Host = lowerHost(host)
	// §2.5.8 port: the text after ':' must pass Godot's is_valid_int (an
	// optional '+' or '-' when more than one character, then only ASCII
	// digits, no length limit) and its value must be 1…65535 ("http://h:"
	// fails).
	if strings.HasPrefix(base, ":") {
		p := base[1:]
		if !isGodotValidInt(p) {
			return u, urlErr("port " + quoteShort(p) + " is not an integer")
		}
		// QUIRK: Godot assigns the int64 to_int() result to a C++ int, so the
		// range check sees it truncated modulo 2^32: ":4294967376" and
		// ":-4294967216" both give port 80; an overflowing value clamps to
		// the int64 limits first and then fails. On an error the port holds
		// the truncated value, as Godot's output parameter does.
		u.Port = int(int32(toInt(p)))
		if u.Port < 1 || u.Port > 65535 {
			return u, urlErr("port " + quoteShort(p) + " is out of range 1-65535")
		}
	}
	return u, nil
}

// RequestURL is what HTTPRequest keeps of a URL it accepted: whether to use
// TLS, the host and port to connect to, and the request target.
//
// Godot: HTTPRequest._parse_url() (internal)
type RequestURL struct {
	TLS  bool   // scheme was https
	Host string // as ParseURL returns it
	Port int    // the URL's port, or 443 / 80 by scheme when it names none
	Path string // the request target; "/" when the URL has no path
}

// ParseRequestURL is HTTPRequest's URL handling (§2.5.9–11): ParseURL, then
// the scheme must be "https" (TLS) or "http" — anything else, including no
// scheme, fails with godot.ErrInvalidParameter ("Invalid URL scheme"); a missing
// port becomes 443 or 80; an empty path becomes "/". The fragment is dropped.
//
// Godot: HTTPRequest._parse_url() (internal)
func ParseRequestURL(s string) (RequestURL, error) {
	u, err := ParseURL(s)
	if err != nil {
		return RequestURL{}, err
	}
	var r RequestURL
	switch u.Scheme {
	case "https":
		r.TLS = true
	case "http":
	default:
		if u.Scheme == "" {
			return RequestURL{}, urlErr("invalid URL scheme: none (want http:// or https://)")
		}
		return RequestURL{}, urlErr("invalid URL scheme " + quoteShort(u.Scheme) + " (want http:// or https://)")
	}
	r.Host, r.Port, r.Path = u.Host, u.Port, u.Path
	if r.Port == 0 {
		r.Port = 80
		if r.TLS {
			r.Port = 443
		}
	}
	if r.Path == "" {
		r.Path = "/"
	}
	return r, nil
}

// isURLSchemeText reports whether every byte of s is an ASCII letter, digit,
// '+', '-' or '.' (true for "", as in Godot: "://h" has an empty scheme).
func isURLSchemeText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// isGodotValidInt is Godot's String.is_valid_int(): non-empty; a leading '+'
// or '-' is allowed when the string is longer than one character; everything
// else must be an ASCII digit.
func isGodotValidInt(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	if len(s) > 1 && (s[0] == '+' || s[0] == '-') {
		i = 1
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// lowerASCII lower-cases an ASCII string, without allocating when it is
// already lower case.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lower(b[j])
			}
			return string(b)
		}
	}
	return s
}

// lowerHost is Godot's to_lower() on the host: ASCII fast path, Unicode
// lower-casing otherwise (godotLower).
func lowerHost(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return strings.Map(godotLower, s)
		}
	}
	return lowerASCII(s)
}

// godotLower is String::to_lower on one code point. Godot 4.4 on generates
// its case table (core/string/ucaps.h) from Unicode 16.0; Go's unicode
// package has Unicode 15.0, which lacks the lower case of 27 letters
// Unicode 16 added, so they are mapped here: CYRILLIC CAPITAL LETTER TJE,
// four Latin capitals (U+A7CB, U+A7CC, U+A7DA, U+A7DC) and the Garay
// capitals U+10D50–U+10D65. The other 1433 mappings are the same in both.
func godotLower(r rune) rune {
	switch {
	case r < 0x1C89:
		return unicode.ToLower(r)
	case r == 0x1C89:
		return 0x1C8A
	case r == 0xA7CB:
		return 0x0264
	case r == 0xA7CC:
		return 0xA7CD
	case r == 0xA7DA:
		return 0xA7DB
	case r == 0xA7DC:
		return 0x019B
	case r >= 0x10D50 && r <= 0x10D65:
		return r + 0x20
	}
	return unicode.ToLower(r)
}

// quoteShort quotes s for an error message, cutting very long input.
func quoteShort(s string) string {
	const limit = 64
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "…"
	}
	return strconv.Quote(s)
}
