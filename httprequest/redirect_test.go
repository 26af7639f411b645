package httprequest

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gdhttp/gdhttp/wire"
)

// §2.7.3, §2.8.1.1 (Godot: 301/302 only) and §7.2 (RFC 9110 opt-in).
func TestIsRedirect(t *testing.T) {
	for code := 100; code < 600; code++ {
		godot := code == 301 || code == 302
		rfc := godot || code == 303 || code == 307 || code == 308
		assert.Equal(t, godot, isRedirect(code, false), "godot %d", code)
		assert.Equal(t, rfc, isRedirect(code, true), "rfc %d", code)
	}
}

// §2.8.1.5: an "http…" target is parsed as an absolute URL (errors ignored,
// fields partly set as Godot's _parse_url leaves them); anything else
// replaces the path verbatim on the same host, port and TLS.
func TestRedirectTargetGodot(t *testing.T) {
	cur := target{TLS: false, Host: "origin.test", Port: 8080, Path: "/old?x=1"}
	cases := []struct {
		loc  string
		want target
	}{
		{"/new", target{false, "origin.test", 8080, "/new"}},
		{"//other.test/p", target{false, "origin.test", 8080, "//other.test/p"}},
		{"foo/bar", target{false, "origin.test", 8080, "foo/bar"}},
		{"?q=1", target{false, "origin.test", 8080, "?q=1"}},
		{"HTTP://upper.test/", target{false, "origin.test", 8080, "HTTP://upper.test/"}}, // begins_with is case-sensitive
		{"http://other.test/p", target{false, "other.test", 80, "/p"}},
		{"https://Secure.Test", target{true, "secure.test", 443, "/"}},
		{"http://other.test:81/a#frag", target{false, "other.test", 81, "/a"}},
		{"http://user:pw@other.test/", target{false, "other.test", 80, "/"}},
		{"http://[::1]:9000/v6", target{false, "::1", 9000, "/v6"}},
		// _parse_url failures: TLS off, no defaults, fields as far as parsed.
		{"httpx://odd.test:99/p", target{false, "odd.test", 99, "/p"}}, // bad scheme: parsed fields, no TLS
		{"httpsfoo://odd.test", target{false, "odd.test", 0, ""}},
		{"https://", target{}},
		{"http://:80/x", target{false, "", 0, "/x"}},
		{"http://a:b:c/p", target{false, "", 0, "/p"}},
		{"http://[::1/p", target{false, "", 0, "/p"}},
		{"http://Example.test:abc/p", target{false, "example.test", 0, "/p"}},
		{"https://example.test:70000/p", target{false, "example.test", 70000, "/p"}},
		{"http://example.test:/p", target{false, "example.test", 0, "/p"}},
		{"http://[::2]:99999/", target{false, "::2", 99999, "/"}},
		{"http://example.test:4294967376/", target{false, "example.test", 80, "/"}}, // valid after 32-bit truncation
	}
	for _, c := range cases {
		got, ok := redirectTarget(cur, c.loc, false)
		assert.True(t, ok, c.loc)
		assert.Equal(t, c.want, got, c.loc)
	}
	_, ok := redirectTarget(cur, "", false)
	assert.False(t, ok, "§2.8.1.4: empty target is not a redirect")
}

// §7.2 RFC 9110 redirects: Location is a URI reference resolved against the
// current URL; a non-http(s) result is not followed.
func TestRedirectTargetRFC(t *testing.T) {
	cur := target{TLS: true, Host: "origin.test", Port: 8443, Path: "/dir/page?x=1"}
	cases := []struct {
		loc  string
		want target
		ok   bool
	}{
		{"/new", target{true, "origin.test", 8443, "/new"}, true},
		{"other", target{true, "origin.test", 8443, "/dir/other"}, true},
		{"../up", target{true, "origin.test", 8443, "/up"}, true},
		{"?q=2", target{true, "origin.test", 8443, "/dir/page?q=2"}, true},
		{"//cdn.test/a", target{true, "cdn.test", 443, "/a"}, true},
		{"http://plain.test/b#frag", target{false, "plain.test", 80, "/b"}, true},
		{"HTTP://Plain.Test:81", target{false, "plain.test", 81, "/"}, true},
		{"ftp://files.test/x", target{}, false},
		{"mailto:a@origin.test", target{}, false}, // a scheme and no authority: not a reference to cur's
		{"http://[::1", target{}, false},
		{"", target{}, false},
	}
	for _, c := range cases {
		got, ok := redirectTarget(cur, c.loc, true)
		assert.Equal(t, c.ok, ok, c.loc)
		if c.ok {
			assert.Equal(t, c.want, got, c.loc)
		}
	}
	v6 := target{Host: "::1", Port: 8080, Path: "/a"}
	got, ok := redirectTarget(v6, "b", true)
	assert.True(t, ok)
	assert.Equal(t, target{false, "::1", 8080, "/b"}, got)
	// A non-ASCII host stays as it is: a relative reference keeps the
	// authority (the request-bytes audit: net/url's String percent-encoded
	// it, a new host and another origin), an absolute one names it raw.
	idn := target{Host: "bücher.de", Port: 80, Path: "/a"}
	for loc, want := range map[string]target{
		"/next":                    {false, "bücher.de", 80, "/next"},
		"x?q=ü":                    {false, "bücher.de", 80, "/x?q=ü"},
		"http://bücher.de:81/b":    {false, "bücher.de", 81, "/b"},
		"//ÄRGER.de/c":             {false, "ärger.de", 80, "/c"},
		"https://user@bücher.de/d": {true, "bücher.de", 443, "/d"},
	} {
		got, ok := redirectTarget(idn, loc, true)
		assert.True(t, ok, loc)
		assert.Equal(t, want, got, loc)
		if loc == "/next" {
			assert.True(t, got.sameOrigin(idn), "same origin: credentials kept")
		}
	}
}

// §2.8.1.7 (Godot: same method and body) and §7.2 (RFC: 303 → GET, 301/302
// POST → GET, 307/308 keep everything).
func TestRedirectMethod(t *testing.T) {
	cases := []struct {
		code     int
		in       wire.Method
		rfc      bool
		want     wire.Method
		keepBody bool
	}{
		{301, wire.MethodPost, false, wire.MethodPost, true},
		{302, wire.MethodPut, false, wire.MethodPut, true},
		{301, wire.MethodPost, true, wire.MethodGet, false},
		{302, wire.MethodPost, true, wire.MethodGet, false},
		{302, wire.MethodPut, true, wire.MethodPut, true},
		{303, wire.MethodPost, true, wire.MethodGet, false},
		{303, wire.MethodDelete, true, wire.MethodGet, false},
		{303, wire.MethodHead, true, wire.MethodHead, true},
		{303, wire.MethodGet, true, wire.MethodGet, true},
		{307, wire.MethodPost, true, wire.MethodPost, true},
		{308, wire.MethodPatch, true, wire.MethodPatch, true},
	}
	for _, c := range cases {
		m, keep := redirectMethod(c.code, c.in, c.rfc)
		assert.Equal(t, c.want, m, "%d %v rfc=%v", c.code, c.in, c.rfc)
		assert.Equal(t, c.keepBody, keep, "%d %v rfc=%v", c.code, c.in, c.rfc)
	}
}

// §7 D2: credentials are not sent to another origin.
func TestWithoutCredentials(t *testing.T) {
	in := []string{"Authorization: Bearer x", "X-A: 1", " cookie : a=b", "Proxy-Authorization: Basic y",
		"Cookie2: keep", "X-Authorization: keep", "Accept-Encoding: gzip, deflate"}
	assert.Equal(t, []string{"X-A: 1", "Cookie2: keep", "X-Authorization: keep", "Accept-Encoding: gzip, deflate"}, withoutCredentials(in))
	assert.Len(t, in, 7, "input untouched")
	clean := []string{"X-A: 1"}
	out := withoutCredentials(clean)
	assert.Equal(t, clean, out)
	assert.Same(t, &clean[0], &out[0], "no copy when nothing is removed")
}

func TestWithoutContentHeaders(t *testing.T) {
	in := []string{"Content-Type: application/json", "X-A: 1", "content-length: 5", "Transfer-Encoding: chunked", "Accept: */*"}
	assert.Equal(t, []string{"X-A: 1", "Accept: */*"}, withoutContentHeaders(in))
}

func TestTargetHelpers(t *testing.T) {
	a := target{TLS: true, Host: "h.test", Port: 443, Path: "/a"}
	assert.True(t, a.sameOrigin(target{TLS: true, Host: "h.test", Port: 443, Path: "/b"}))
	assert.False(t, a.sameOrigin(target{TLS: false, Host: "h.test", Port: 443}))
	assert.False(t, a.sameOrigin(target{TLS: true, Host: "h2.test", Port: 443}))
	assert.False(t, a.sameOrigin(target{TLS: true, Host: "h.test", Port: 444}))
	assert.Equal(t, "https://h.test:443/a", a.url())
	assert.Equal(t, "http://[::1]:80/", target{Host: "::1", Port: 80, Path: "/"}.url())
}
