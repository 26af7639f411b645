package httprequest

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gdhttp/gdhttp/wire"
)

// Cookie jar (§7.2 opt-in; Godot sends no cookies of its own, §2.1.4).
//
// With a jar set, each hop of a request — the first and every redirect —
// asks the jar for the cookies of the hop's URL and, when there are any and
// the hop's headers carry no Cookie line, sends them as one
// "Cookie: a=1; b=2" line after all the other header lines the node passes
// to the client (the user's, then the automatic Accept-Encoding); the
// client's own automatic lines (Host, Content-Length, User-Agent, Accept)
// follow it, as they follow every header line. A user Cookie header is left
// alone: it is sent as given and the jar adds nothing to that hop (on a hop
// to another origin the user's line is dropped by §7 D2 and the jar's
// cookies for that origin are sent instead). After every response head —
// 3xx hops included — the jar is given the response's Set-Cookie lines,
// parsed by net/http's rules (http.Response.Cookies, limits included: a
// response with more than 3000 Set-Cookie lines gives the jar none, as
// http.Client's jar gets none; GODEBUG httpcookiemaxnum). So a redirect that sets a cookie sends it on
// the next hop, and a hop to another host gets only that host's cookies (the
// jar decides; net/http/cookiejar applies the domain and path rules).
// The jar also decides how much it keeps: net/http/cookiejar keeps every
// cookie it accepts, for as long as it lives, and sends them all, so a
// server that sets many or large cookies makes every later request to its
// domain as large (a Cookie line no server takes); a long-lived jar facing
// servers it does not trust wants limits of its own (gdfetch's are curl's).

// SetCookieJar sets the cookie jar (nil, the default: no cookies, as in
// Godot). net/http/cookiejar works. The jar is called on the goroutine that
// runs the steps (Process's or Do's caller, or the use_threads worker), so a
// jar shared between nodes must be safe for concurrent use
// (cookiejar.Jar is), and it must not call the node's methods except
// CancelRequest and Close (see the package documentation, Concurrency).
// godot.ErrBusy while a request is active.
func (n *HTTPRequest) SetCookieJar(jar http.CookieJar) error {
	return n.setOption("set_cookie_jar", func(o *options) { o.cookieJar = jar })
}

// CookieJar returns the cookie jar, or nil.
func (n *HTTPRequest) CookieJar() http.CookieJar { return n.opts.cookieJar }

// asURL is t as a URL (what a cookie jar and a proxy function see): scheme, host[:port], path and query
// (Godot's request_string may be anything; when it does not parse, the part
// before '?' is the path).
func (t target) asURL() *url.URL {
	if u, err := url.Parse(t.url()); err == nil {
		return u
	}
	scheme := "http"
	if t.TLS {
		scheme = "https"
	}
	u := &url.URL{Scheme: scheme, Host: net.JoinHostPort(t.Host, strconv.Itoa(t.Port))}
	u.Path, u.RawQuery, _ = strings.Cut(t.Path, "?")
	return u
}

// withJarCookies returns headers plus the jar's Cookie line for the current
// hop, or headers itself when there is no jar, no cookie, or a user Cookie
// line.
func (r *run) withJarCookies(headers []string) []string {
	jar := r.opts.cookieJar
	if jar == nil {
		return headers
	}
	if _, user := wire.LookupField(headers, "cookie"); user {
		return headers
	}
	cookies := jar.Cookies(r.cur.asURL())
	if len(cookies) == 0 {
		return headers
	}
	// net/http's own serialisation (names and values sanitised, quoting
	// kept): what http.Client sends for the same jar.
	req := http.Request{Header: http.Header{}}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	line := req.Header.Get("Cookie")
	if line == "" {
		return headers
	}
	out := make([]string, len(headers), len(headers)+1)
	copy(out, headers)
	return append(out, "Cookie: "+line)
}

// storeCookies gives the jar the Set-Cookie lines of the response head just
// received for the current hop (every hop, 3xx included). Only a line whose
// field name is exactly Set-Cookie counts: the lenient head keeps
// "Set-Cookie : a=1" as a Set-Cookie header (Godot's stripping of the
// name), but neither net/http nor curl takes a cookie from it (RFC 9112
// §5.1 forbids the space), and a cookie that an intermediary did not see is
// an ambiguity (§7 D2).
func (r *run) storeCookies() {
	jar := r.opts.cookieJar
	if jar == nil {
		return
	}
	var values []string
	for _, line := range r.n.client.RawHeaders() {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.EqualFold(name, "set-cookie") {
			values = append(values, strings.TrimSpace(value))
		}
	}
	if len(values) == 0 {
		return
	}
	// net/http's parsing and limits for the lines.
	h := http.Header{"Set-Cookie": values}
	if cookies := (&http.Response{Header: h}).Cookies(); len(cookies) > 0 {
		jar.SetCookies(r.cur.asURL(), cookies)
	}
}
