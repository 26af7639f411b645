package httprequest

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/gdhttp/gdhttp/wire"
)

// Redirects (§2.8.1).
//
// Godot's rules (the default): only 301 and 302 are followed (§2.8.1.1); the
// target comes from the last header that *contains* "Location: " anywhere,
// case-insensitively, taken from its tenth character on (§2.8.1.3,
// wire.RedirectLocation); a target starting with "http" is parsed as an
// absolute URL, anything else replaces the request path verbatim (§2.8.1.5);
// method, body and every header are sent again unchanged (§2.8.1.7).
//
// §7 D2 (on in both modes): Authorization, Proxy-Authorization and Cookie
// header lines are not sent to a hop whose scheme, host or port differs from
// the original request's.
//
// RFC 9110 redirects (opt-in, §7.2): 301, 302, 303, 307 and 308 are followed;
// the target is the first header named exactly Location (case-insensitive,
// wire.LookupField), resolved as a URI reference against the current request
// URL (RFC 3986 §5); 303 turns any method but HEAD into GET without a body,
// 301 and 302 turn POST into GET without a body (RFC 9110 §15.4.2–4, as
// browsers and net/http do); 307 and 308 keep method and body. When the body
// is dropped, the user header lines that describe it (Content-*,
// Transfer-Encoding) are dropped too. A Location that does not resolve to an
// http or https URL is not followed: the 3xx is the final response.

// target is where a request goes: Godot's url, port, use_tls and
// request_string.
type target struct {
	TLS  bool
	Host string
	Port int
	Path string
}

// sameOrigin reports whether t and o have the same scheme, host and port
// (hosts are already lower-cased by the URL parser).
func (t target) sameOrigin(o target) bool {
	return t.TLS == o.TLS && t.Host == o.Host && t.Port == o.Port
}

// url returns t as an absolute URL (for resolving RFC redirects against it).
func (t target) url() string {
	scheme := "http://"
	if t.TLS {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) + t.Path
}

// parseTarget is HTTPRequest._parse_url (§2.5): the request target of a URL
// given to Request.
func parseTarget(s string) (target, error) {
	u, err := wire.ParseRequestURL(s)
	if err != nil {
		return target{}, err
	}
	return target{TLS: u.TLS, Host: u.Host, Port: u.Port, Path: u.Path}, nil
}

// parseRedirectTarget is _parse_url applied to an absolute redirect target,
// whose error Godot ignores (§2.8.1.5): the returned target is what Godot's
// fields hold afterwards. _parse_url first resets TLS off, port 80 and an
// empty path; String::parse_url then resets host, port and path and fills
// them in as it goes, so a failure leaves them partly set; on a failure
// _parse_url returns before choosing TLS, default ports and the "/" path.
// The connection start that follows then fails at once (empty host) or later
// (port 0).
func parseRedirectTarget(s string) target {
	if t, err := parseTarget(s); err == nil {
		return t
	}
	// Either parse_url failed part way (u holds the fields it had set), or
	// it succeeded with a scheme other than http/https: host, port and path
	// as parsed, no TLS, no defaults.
	u, _ := wire.ParseURL(s)
	return target{Host: u.Host, Port: u.Port, Path: u.Path}
}

// isRedirect reports whether the node follows a response with this code:
// 301/302 (§2.8.1.1), or with RFC 9110 redirects also 303, 307, 308.
func isRedirect(code int, rfc bool) bool {
	switch code {
	case 301, 302:
		return true
	case 303, 307, 308:
		return rfc
	}
	return false
}

// redirectTarget returns where a redirect to loc goes from cur, and false when
// it is not followed. Godot: an "http…" target is an absolute URL (parse
// errors ignored, §2.8.1.5), anything else replaces the path. RFC: loc is a
// URI reference resolved against cur.
func redirectTarget(cur target, loc string, rfc bool) (target, bool) {
	if loc == "" {
		return target{}, false // §2.8.1.4: not a redirect
	}
	if !rfc {
		if strings.HasPrefix(loc, "http") {
			return parseRedirectTarget(loc), true
		}
		cur.Path = loc
		return cur, true
	}
	base, err := url.Parse(cur.url())
	if err != nil {
		return target{}, false
	}
	ref, err := url.Parse(loc)
	if err != nil {
		return target{}, false
	}
	abs := base.ResolveReference(ref)
	if ref.Scheme == "" && ref.Host == "" {
		// The reference keeps the current authority: cur's, as it is
		// (url.URL.String would percent-encode a non-ASCII host).
		cur.Path = abs.RequestURI()
		return cur, true
	}
	// Written by hand for the same reason; the fragment and any userinfo
	// are dropped, as _parse_url drops them.
	t, err := parseTarget(abs.Scheme + "://" + abs.Host + abs.RequestURI())
	if err != nil {
		return target{}, false
	}
	return t, true
}

// redirectMethod returns the method for the next hop and whether the body is
// kept. Godot: always the same method with the same body (§2.8.1.7).
func redirectMethod(code int, m wire.Method, rfc bool) (wire.Method, bool) {
	if !rfc {
		return m, true
	}
	switch {
	case code == 303 && m != wire.MethodHead && m != wire.MethodGet:
		return wire.MethodGet, false
	case (code == 301 || code == 302) && m == wire.MethodPost:
		return wire.MethodGet, false
	}
	return m, true
}

// credentialHeaders are the header names §7 D2 keeps from other origins.
var credentialHeaders = [...]string{"authorization", "proxy-authorization", "cookie"}

// withoutCredentials returns headers minus Authorization, Proxy-Authorization
// and Cookie lines (§7 D2). It returns headers itself when none is present.
func withoutCredentials(headers []string) []string {
	return filterHeaders(headers, func(name string) bool {
		for _, c := range credentialHeaders {
			if strings.EqualFold(name, c) {
				return true
			}
		}
		return false
	})
}

// withoutContentHeaders returns headers minus the lines describing a request
// body (Content-*, Transfer-Encoding), for an RFC redirect that drops it.
func withoutContentHeaders(headers []string) []string {
	return filterHeaders(headers, func(name string) bool {
		return wire.HasPrefixFold(name, "content-") || strings.EqualFold(name, "transfer-encoding")
	})
}

func filterHeaders(headers []string, drop func(name string) bool) []string {
	for i, h := range headers {
		if drop(wire.FieldName(h)) {
			out := append([]string(nil), headers[:i]...)
			for _, h := range headers[i+1:] {
				if !drop(wire.FieldName(h)) {
					out = append(out, h)
				}
			}
			return out
		}
	}
	return headers
}
