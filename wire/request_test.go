package wire

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/internal/golden"
)

// reqTestUA is a fixed User-Agent so that golden files do not depend on GOOS.
const reqTestUA = "GodotEngine/4.5.1.stable.official (Linux)"

// requestGoldenCases: one golden file per §1.7 serialization rule.
var requestGoldenCases = []struct {
	name string
	rule string
	req  Request
}{
	// The §1.7 example: plain, port 8080, user header X-A: 1, body "hi".
	{"example", "§1.7 example", Request{Method: MethodPost, URL: "/p?q=1", Headers: []string{"X-A: 1"}, Body: []byte("hi"), Host: "example.com", Port: 8080, UserAgent: reqTestUA}},
	{"plain_port80", "§1.7.10 Host without :80 for plain", Request{Method: MethodGet, URL: "/", Host: "example.com", Port: 80, UserAgent: reqTestUA}},
	{"plain_port8080", "§1.7.10 Host with a non-default port", Request{Method: MethodGet, URL: "/", Host: "example.com", Port: 8080, UserAgent: reqTestUA}},
	{"plain_port443", "§1.7.10 443 is not default for plain", Request{Method: MethodGet, URL: "/", Host: "example.com", Port: 443, UserAgent: reqTestUA}},
	{"tls_port443", "§1.7.10 Host without :443 for TLS", Request{Method: MethodGet, URL: "/", Host: "example.com", Port: 443, TLS: true, UserAgent: reqTestUA}},
	{"tls_port80", "§1.7.10 80 is not default for TLS", Request{Method: MethodGet, URL: "/", Host: "example.com", Port: 80, TLS: true, UserAgent: reqTestUA}},
	{"host_verbatim", "§1.7.10 conn_host verbatim: case kept", Request{Method: MethodGet, URL: "/", Host: "Example.COM", Port: 80, UserAgent: reqTestUA}},
	{"host_ipv6", "§1.7.10 IPv6 host not bracketed", Request{Method: MethodGet, URL: "/", Host: "2001:db8::1", Port: 8080, UserAgent: reqTestUA}},
	{"user_headers_unmodified", "§1.7.9 user headers unmodified, in order", Request{Method: MethodGet, URL: "/", Headers: []string{" X-Lead: a", "x-b:b", "X-Trail: c  ", "X-Dup: 1", "X-Dup: 2"}, Host: "h.example", Port: 80, UserAgent: reqTestUA}},
	{"user_host", "§1.7.10 a user Host: suppresses the automatic one", Request{Method: MethodGet, URL: "/", Headers: []string{"host: custom.example"}, Host: "h.example", Port: 8080, UserAgent: reqTestUA}},
	{"host_prefix_test", "§1.7.10 prefix test on the raw string, colon included", Request{Method: MethodGet, URL: "/", Headers: []string{"X-Host: a", "Host : spaced"}, Host: "h.example", Port: 80, UserAgent: reqTestUA}},
	{"host_no_space", "§1.7.10 'Host:x' matches the prefix", Request{Method: MethodGet, URL: "/", Headers: []string{"HOST:x"}, Host: "h.example", Port: 80, UserAgent: reqTestUA}},
	{"get_with_body", "§1.7.10 Content-Length for any method with a body", Request{Method: MethodGet, URL: "/", Body: []byte("abc"), Host: "h.example", Port: 80, UserAgent: reqTestUA}},
	{"post_empty_body", "§1.7.10 no Content-Length for an empty body", Request{Method: MethodPost, URL: "/submit", Host: "h.example", Port: 80, UserAgent: reqTestUA}},
	{"user_content_length", "§1.7.10 a wrong user Content-Length wins; body sent in full", Request{Method: MethodPut, URL: "/", Headers: []string{"content-length: 99"}, Body: []byte("hi"), Host: "h.example", Port: 80, UserAgent: reqTestUA}},
	{"user_agent_user", "§1.7.10 a user User-Agent suppresses the automatic one", Request{Method: MethodGet, URL: "/", Headers: []string{"User-Agent: mine/1.0"}, Host: "h.example", Port: 80, UserAgent: reqTestUA}},
	{"accept_encoding", "§1.7.10 Accept-Encoding does not count as Accept", Request{Method: MethodGet, URL: "/", Headers: []string{"Accept-Encoding: gzip, deflate"}, Host: "h.example", Port: 80, UserAgent: reqTestUA}},
	{"accept_user", "§1.7.10 a user Accept: suppresses */*", Request{Method: MethodGet, URL: "/", Headers: []string{"ACCEPT: text/html"}, Host: "h.example", Port: 80, UserAgent: reqTestUA}},
	{"all_user", "§1.7.10 all four automatic headers suppressed", Request{Method: MethodPost, URL: "/", Headers: []string{"Accept: a/b", "User-Agent: u", "Content-Length: 1", "Host: x"}, Body: []byte("z"), Host: "h.example", Port: 80, UserAgent: reqTestUA}},
	{"proxy_absolute", "§1.7.7 HTTP proxy: absolute form, port always written", Request{Method: MethodGet, URL: "/path?x=1", Host: "example.com", Port: 80, HTTPProxy: true, UserAgent: reqTestUA}},
	{"proxy_ipv6", "§1.7.7 HTTP proxy: IPv6 host not bracketed", Request{Method: MethodGet, URL: "/x", Host: "2001:db8::1", Port: 8080, HTTPProxy: true, UserAgent: reqTestUA}},
	{"proxy_ipv6_bracketed", "§1.7.7 HTTP proxy, BracketIPv6 (the Transport): IPv6 host in brackets, Host header as Godot's", Request{Method: MethodGet, URL: "/x", Host: "2001:db8::1", Port: 8080, HTTPProxy: true, BracketIPv6: true, UserAgent: reqTestUA}},
	{"proxy_ipv6_leading_colon", "§1.7.7 BracketIPv6: an IPv6 host that starts with ':' is bracketed too", Request{Method: MethodGet, URL: "/x", Host: "::1", Port: 8080, HTTPProxy: true, BracketIPv6: true, UserAgent: reqTestUA}},
	{"proxy_bracket_name", "§1.7.7 BracketIPv6 leaves a host name as it is", Request{Method: MethodGet, URL: "/x", Host: "example.com", Port: 8080, HTTPProxy: true, BracketIPv6: true, UserAgent: reqTestUA}},
	{"proxy_options_star", "§1.7.7 HTTP proxy: '*' appended as is", Request{Method: MethodOptions, URL: "*", Host: "example.com", Port: 80, HTTPProxy: true, UserAgent: reqTestUA}},
	{"proxy_absolute_url", "§1.7.7 HTTP proxy: an absolute URL appended as is", Request{Method: MethodGet, URL: "http://other.example/x", Host: "example.com", Port: 80, HTTPProxy: true, UserAgent: reqTestUA}},
	{"proxy_tls_ignored", "§1.7.7 TLS never uses the absolute form", Request{Method: MethodGet, URL: "/x", Host: "example.com", Port: 443, TLS: true, HTTPProxy: true, UserAgent: reqTestUA}},
	{"connect_method", "§1.7.2/8 CONNECT through request(): target as given", Request{Method: MethodConnect, URL: "example.com:443", Host: "proxy.example", Port: 3128, UserAgent: reqTestUA}},
	{"options_star", "§1.7.2/8 OPTIONS *", Request{Method: MethodOptions, URL: "*", Host: "h.example", Port: 80, UserAgent: reqTestUA}},
	{"head", "§1.7.8 HEAD request line", Request{Method: MethodHead, URL: "/", Host: "h.example", Port: 80, UserAgent: reqTestUA}},
	{"raw_url", "§1.7.6 URL not encoded: spaces and UTF-8 go out raw", Request{Method: MethodGet, URL: "/a b/ä?x=ü", Host: "h.example", Port: 80, UserAgent: reqTestUA}},
	{"binary_body", "§1.7.11 body bytes after the empty line, verbatim", Request{Method: MethodPost, URL: "/", Body: []byte("\x00\r\n\r\nGET / HTTP/1.1\r\n\xff"), Host: "h.example", Port: 80, UserAgent: reqTestUA}},
}

// requireRequestGolden compares got with testdata/request_<name>.golden
// (go test ./wire -run Golden -update rewrites the files).
func requireRequestGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, "request_"+name, got)
}

// Golden bytes for every §1.7 serialization rule, compared byte-exact.
func TestAppendRequestGolden(t *testing.T) {
	for _, tc := range requestGoldenCases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req
			require.NoError(t, ValidateRequest(&r, false), tc.rule)
			got := AppendRequest(nil, &r)
			requireRequestGolden(t, tc.name, got)

			// Head and body split exactly at the empty line.
			head := AppendRequestHead(nil, &r)
			assert.Equal(t, got, append(head, r.Body...))
			assert.True(t, bytes.HasSuffix(head, []byte("\r\n\r\n")))
		})
	}
}

// The §1.7 example spelled out, so the golden file itself is checked once
// against the spec text.
func TestAppendRequestSpecExample(t *testing.T) {
	r := requestGoldenCases[0].req
	want := "POST /p?q=1 HTTP/1.1\r\nX-A: 1\r\nHost: example.com:8080\r\nContent-Length: 2\r\n" +
		"User-Agent: " + reqTestUA + "\r\nAccept: */*\r\n\r\nhi"
	assert.Equal(t, want, string(AppendRequest(nil, &r)))
	file, err := os.ReadFile(golden.Path("request_example"))
	require.NoError(t, err)
	assert.Equal(t, want, string(file))
}

// §1.7.8: the request line carries Godot's method token.
func TestAppendRequestMethodTokens(t *testing.T) {
	for m := MethodGet; m < MethodMax; m++ {
		url := "/x"
		if m == MethodConnect {
			url = "h:1"
		}
		r := Request{Method: m, URL: url, Host: "h.example", Port: 80}
		require.NoError(t, ValidateRequest(&r, true))
		line, _, ok := strings.Cut(string(AppendRequest(nil, &r)), "\r\n")
		require.True(t, ok)
		assert.Equal(t, m.String()+" "+url+" HTTP/1.1", line)
	}
}

// §1.7.10: the automatic headers appear in Godot's order after the user
// headers; each is suppressed only by a case-insensitive prefix match.
func TestAppendRequestAutomaticHeaders(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		body    string
		want    []string // automatic header names present, in order
	}{
		{"none", nil, "", []string{"Host", "User-Agent", "Accept"}},
		{"body", nil, "x", []string{"Host", "Content-Length", "User-Agent", "Accept"}},
		{"host lower", []string{"host: a"}, "", []string{"User-Agent", "Accept"}},
		{"host upper", []string{"HOST: a"}, "", []string{"User-Agent", "Accept"}},
		{"host with space before colon", []string{"Host : a"}, "", []string{"Host", "User-Agent", "Accept"}},
		{"leading space", []string{" Host: a"}, "", []string{"Host", "User-Agent", "Accept"}},
		{"x-host", []string{"X-Host: a"}, "", []string{"Host", "User-Agent", "Accept"}},
		{"hostname", []string{"Hostname: a"}, "", []string{"Host", "User-Agent", "Accept"}},
		{"content-length without body", []string{"Content-Length: 0"}, "", []string{"Host", "User-Agent", "Accept"}},
		{"content-length with body", []string{"content-LENGTH:2"}, "xy", []string{"Host", "User-Agent", "Accept"}},
		{"user-agent", []string{"user-agent: x"}, "", []string{"Host", "Accept"}},
		{"accept-encoding", []string{"Accept-Encoding: br"}, "", []string{"Host", "User-Agent", "Accept"}},
		{"accept-language", []string{"Accept-Language: de"}, "", []string{"Host", "User-Agent", "Accept"}},
		{"accept", []string{"accept:*/*"}, "", []string{"Host", "User-Agent"}},
		{"connection never added", []string{"X: y"}, "", []string{"Host", "User-Agent", "Accept"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Request{Method: MethodPost, URL: "/", Headers: tc.headers, Body: []byte(tc.body), Host: "h", Port: 80, UserAgent: reqTestUA}
			require.NoError(t, ValidateRequest(&r, false))
			head := string(AppendRequestHead(nil, &r))
			lines := strings.Split(strings.TrimSuffix(head, "\r\n\r\n"), "\r\n")
			require.Equal(t, 1+len(tc.headers)+len(tc.want), len(lines), head)
			assert.Equal(t, tc.headers, requestNilIfEmpty(lines[1:1+len(tc.headers)]))
			var got []string
			for _, l := range lines[1+len(tc.headers):] {
				name, _, _ := strings.Cut(l, ":")
				got = append(got, name)
			}
			assert.Equal(t, tc.want, got)
			for _, never := range []string{"Connection", "Accept-Encoding", "Transfer-Encoding", "Expect"} {
				for _, l := range lines[1+len(tc.headers):] {
					assert.False(t, hasPrefixFold(l, strings.ToLower(never)+":"), "added %s", never)
				}
			}
		})
	}
}

// AppendRequestHead with Request.StreamLength (a body the caller writes
// itself): a length above 0 gets "Content-Length: n" where Godot writes it
// for a body of that size; StreamChunked gets "Transfer-Encoding: chunked"
// in that place; 0 adds nothing; a non-empty Body decides over it.
func TestAppendRequestHeadStreamLength(t *testing.T) {
	const ua = "\r\nUser-Agent: " + reqTestUA + "\r\nAccept: */*\r\n\r\n"
	tests := []struct {
		name   string
		stream int64
		body   string
		want   string
	}{
		{"length", 5, "", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5" + ua},
		{"chunked", StreamChunked, "", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked" + ua},
		{"none", 0, "", "POST / HTTP/1.1\r\nHost: h" + ua},
		{"body decides", StreamChunked, "xy", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2" + ua},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Request{Method: MethodPost, URL: "/", Body: []byte(tc.body), Host: "h", Port: 80, UserAgent: reqTestUA, StreamLength: tc.stream}
			require.NoError(t, ValidateRequest(&r, false))
			assert.Equal(t, tc.want, string(AppendRequestHead(nil, &r)))
		})
	}
}

func requestNilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// §1.7.10: an empty Request.UserAgent means DefaultUserAgent().
func TestAppendRequestDefaultUserAgent(t *testing.T) {
	r := Request{Method: MethodGet, URL: "/", Host: "h", Port: 80}
	assert.Contains(t, string(AppendRequest(nil, &r)), "\r\nUser-Agent: "+DefaultUserAgent()+"\r\n")
	r.UserAgent = "GodotEngine/4.4.1.stable.official (Windows)"
	assert.Contains(t, string(AppendRequest(nil, &r)), "\r\nUser-Agent: GodotEngine/4.4.1.stable.official (Windows)\r\n")
}

// AppendRequest appends: what dst already holds is kept.
func TestAppendRequestAppends(t *testing.T) {
	r := Request{Method: MethodGet, URL: "/", Host: "h", Port: 80, UserAgent: reqTestUA}
	got := AppendRequest([]byte("prefix|"), &r)
	assert.True(t, bytes.HasPrefix(got, []byte("prefix|GET / HTTP/1.1\r\n")))
	assert.Equal(t, []byte("x"), AppendRequest([]byte("x"), nil), "nil request appends nothing")
	assert.Equal(t, []byte("x"), AppendRequestHead([]byte("x"), nil))
}

// Validation (§1.7.1–2, .5, §1.17, §7 D2, §7.4), in Godot's order.
func TestValidateRequest(t *testing.T) {
	ok := func(m Method, url string, headers ...string) Request {
		return Request{Method: m, URL: url, Headers: headers, Host: "h.example", Port: 80}
	}
	tests := []struct {
		name   string
		req    Request
		strict bool
		field  string // "" means valid
		index  int
		reason string
	}{
		// §1.7.1 method range.
		{"§1.7.1 method -1", ok(-1, "/"), false, "method", -1, reasonBadMethod},
		{"§1.7.1 method max", ok(MethodMax, "/"), false, "method", -1, reasonBadMethod},
		{"§1.7.1 method before url", ok(42, "no-slash"), false, "method", -1, reasonBadMethod},
		{"§1.7.1 PATCH", ok(MethodPatch, "/"), false, "", 0, ""},
		// §1.7.2 URL forms.
		{"§1.7.2 slash", ok(MethodGet, "/"), false, "", 0, ""},
		{"§1.7.2 http absolute", ok(MethodGet, "http://x/y"), false, "", 0, ""},
		{"§1.7.2 https absolute", ok(MethodDelete, "https://x"), false, "", 0, ""},
		{"§1.7.2 empty", ok(MethodGet, ""), false, "url", -1, reasonBadTarget},
		{"§1.7.2 relative", ok(MethodGet, "x/y"), false, "url", -1, reasonBadTarget},
		{"§1.7.2 case-sensitive scheme", ok(MethodGet, "HTTP://x"), false, "url", -1, reasonBadTarget},
		{"§1.7.2 ftp", ok(MethodGet, "ftp://x"), false, "url", -1, reasonBadTarget},
		{"§1.7.2 star only for OPTIONS", ok(MethodGet, "*"), false, "url", -1, reasonBadTarget},
		{"§1.7.2 OPTIONS star", ok(MethodOptions, "*"), false, "", 0, ""},
		{"§1.7.2 OPTIONS path", ok(MethodOptions, "/a"), false, "", 0, ""},
		{"§1.7.2 OPTIONS double star", ok(MethodOptions, "**"), false, "url", -1, reasonBadOptionsURL},
		{"§1.7.2 CONNECT host:port", ok(MethodConnect, "h:443"), false, "", 0, ""},
		{"§1.7.2 CONNECT bracketed", ok(MethodConnect, "[::1]:443"), false, "", 0, ""},
		{"§1.7.2 CONNECT any text around colon", ok(MethodConnect, "a:b"), false, "", 0, ""},
		{"§1.7.2 CONNECT colon first", ok(MethodConnect, ":443"), false, "url", -1, reasonBadAuthority},
		{"§1.7.2 CONNECT colon last", ok(MethodConnect, "h:"), false, "url", -1, reasonBadAuthority},
		{"§1.7.2 CONNECT no colon", ok(MethodConnect, "h"), false, "url", -1, reasonBadAuthority},
		{"§1.7.2 CONNECT path", ok(MethodConnect, "/x"), false, "url", -1, reasonBadAuthority},
		{"§1.7.2 CONNECT empty", ok(MethodConnect, ""), false, "url", -1, reasonBadAuthority},
		{"§1.7.2 url before headers", ok(MethodGet, "x", ""), false, "url", -1, reasonBadTarget},
		// §1.7.5 / §1.17 verify_headers.
		{"§1.17 empty header", ok(MethodGet, "/", "A: 1", ""), false, "header", 1, reasonEmptyHeader},
		{"§1.17 whitespace header", ok(MethodGet, "/", " \t "), false, "header", 0, reasonEmptyHeader},
		{"§1.17 no colon", ok(MethodGet, "/", "InvalidHeader"), false, "header", 0, reasonNoColon},
		{"§1.17 colon first", ok(MethodGet, "/", ":"), false, "header", 0, reasonNoColon},
		{"§1.17 colon first after strip", ok(MethodGet, "/", "  :x"), false, "header", 0, reasonNoColon},
		{"§1.17 empty value", ok(MethodGet, "/", "Header: "), false, "", 0, ""},
		{"§1.17 leading space lenient", ok(MethodGet, "/", " X: a"), false, "", 0, ""},
		// §7 D2 after Godot's checks.
		{"§7 D2 CRLF in header", ok(MethodGet, "/", "X: a\r\nInjected: 1"), false, "header", 0, reasonInjection},
		{"§7 D2 LF in header", ok(MethodGet, "/", "A: 1", "X: a\nY: b"), false, "header", 1, reasonInjection},
		{"§7 D2 CR in header", ok(MethodGet, "/", "X: a\rb"), false, "header", 0, reasonInjection},
		{"§7 D2 NUL in header", ok(MethodGet, "/", "X: a\x00b"), false, "header", 0, reasonInjection},
		{"§7 D2 trailing CRLF in header", ok(MethodGet, "/", "X: a\r\n"), false, "header", 0, reasonInjection},
		{"§7 D2 CRLF in URL", ok(MethodGet, "/ HTTP/1.1\r\nX: y\r\n\r\nGET /"), false, "url", -1, reasonInjection},
		{"§7 D2 NUL in URL", ok(MethodGet, "/a\x00b"), false, "url", -1, reasonInjection},
		{"§7 D2 LF in CONNECT target", ok(MethodConnect, "h:1\n"), false, "url", -1, reasonInjection},
		{"§7 D2 CRLF in host", Request{Method: MethodGet, URL: "/", Host: "h\r\nX: y", Port: 80}, false, "host", -1, reasonInjection},
		{"§7 D2 CRLF in user agent", Request{Method: MethodGet, URL: "/", Host: "h", Port: 80, UserAgent: "a\r\nX: y"}, false, "user agent", -1, reasonInjection},
		// Godot's verify_headers runs before D2: a later empty header wins over an earlier CRLF.
		{"§1.7 order: verify_headers before D2", ok(MethodGet, "/", "X: a\r\nY: b", ""), false, "header", 1, reasonEmptyHeader},
		{"§1.7 order: verify_headers before D2 in URL", ok(MethodGet, "/\r\n", "bad"), false, "header", 0, reasonNoColon},
		// §7.4 strict.
		{"§7.4 strict token name", ok(MethodGet, "/", "X-Custom_1.~!#$%&'*+^`|: v"), true, "", 0, ""},
		{"§7.4 strict token name: ends of the DIGIT and ALPHA ranges", ok(MethodGet, "/", "09AZaz: v"), true, "", 0, ""},
		{"§7.4 strict leading space", ok(MethodGet, "/", " X: a"), true, "header", 0, reasonNameNotToken},
		{"§7.4 strict space before colon", ok(MethodGet, "/", "X : a"), true, "header", 0, reasonNameNotToken},
		{"§7.4 strict space in name", ok(MethodGet, "/", "X Y: a"), true, "header", 0, reasonNameNotToken},
		{"§7.4 strict separator in name", ok(MethodGet, "/", "X(y): a"), true, "header", 0, reasonNameNotToken},
		{"§7.4 strict non-ASCII name", ok(MethodGet, "/", "Ä: a"), true, "header", 0, reasonNameNotToken},
		{"§7.4 strict DEL in name", ok(MethodGet, "/", "X\x7f: a"), true, "header", 0, reasonNameNotToken},
		{"§7.4 strict tab in name", ok(MethodGet, "/", "X\t: a"), true, "header", 0, reasonNameNotToken},
		{"§7.4 strict HTAB in value", ok(MethodGet, "/", "X:\ta\tb"), true, "", 0, ""},
		{"§7.4 strict obs-text value", ok(MethodGet, "/", "X: caf\xc3\xa9"), true, "", 0, ""},
		{"§7.4 strict CTL in value", ok(MethodGet, "/", "A: 1", "X: a\x01"), true, "header", 1, reasonValueCTL},
		{"§7.4 strict DEL in value", ok(MethodGet, "/", "X: a\x7f"), true, "header", 0, reasonValueCTL},
		{"§7.4 strict ESC in value", ok(MethodGet, "/", "X: \x1b[31m"), true, "header", 0, reasonValueCTL},
		{"§7.4 lenient accepts CTL in value", ok(MethodGet, "/", "X: \x1b[31m"), false, "", 0, ""},
		{"§7.4 strict D2 still first", ok(MethodGet, "/", "X Y: a\r\n"), true, "header", 0, reasonInjection},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req
			err := ValidateRequest(&r, tc.strict)
			if tc.field == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, godot.ErrInvalidParameter)
			assert.Equal(t, godot.ErrInvalidParameter, godot.CodeOf(err))
			var re *RequestError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.field, re.Field)
			assert.Equal(t, tc.index, re.Index)
			assert.Equal(t, tc.reason, re.Reason)
			var ce *godot.CodeError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "request", ce.Op)
		})
	}
}

func TestValidateRequestNil(t *testing.T) {
	err := ValidateRequest(nil, false)
	assert.ErrorIs(t, err, godot.ErrInvalidParameter)
	var re *RequestError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "request", re.Field)
}

// Error text names the part and the index but never the header value.
func TestRequestErrorText(t *testing.T) {
	r := Request{Method: MethodGet, URL: "/", Headers: []string{"A: 1", "Authorization: Bearer s3cret\r\nX: y"}, Host: "h", Port: 80}
	err := ValidateRequest(&r, false)
	require.Error(t, err)
	assert.Equal(t, "request: ERR_INVALID_PARAMETER: gdhttp: invalid header at index 1: contains CR, LF or NUL", err.Error())
	assert.NotContains(t, err.Error(), "s3cret")
	r.Headers = r.Headers[1:]
	assert.Equal(t, "request: ERR_INVALID_PARAMETER: gdhttp: invalid header at index 0: contains CR, LF or NUL", ValidateRequest(&r, false).Error())

	r = Request{Method: MethodGet, URL: "x", Host: "h", Port: 80}
	assert.Equal(t, "request: ERR_INVALID_PARAMETER: gdhttp: invalid url: must start with '/', 'http://' or 'https://'", ValidateRequest(&r, false).Error())
}

// §7 D2: nothing that passes validation can add a line to the head.
func TestValidatedRequestHasNoInjectedLines(t *testing.T) {
	bad := []string{"\r", "\n", "\x00", "\r\n", "a\rb", "a\nb"}
	for _, b := range bad {
		for _, r := range []Request{
			{Method: MethodGet, URL: "/" + b, Host: "h", Port: 80},
			{Method: MethodGet, URL: "/", Headers: []string{"X: " + b + "y"}, Host: "h", Port: 80},
			{Method: MethodGet, URL: "/", Headers: []string{"X" + b + "Y: y"}, Host: "h", Port: 80},
			{Method: MethodGet, URL: "/", Host: "h" + b, Port: 80},
			{Method: MethodGet, URL: "/", Host: "h", Port: 80, UserAgent: "u" + b},
		} {
			err := ValidateRequest(&r, false)
			assert.ErrorIs(t, err, godot.ErrInvalidParameter, "%q", b)
		}
	}
}

// §1.17, the cases of Godot's test_http_client.h and a few more.
func TestVerifyHeaders(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		index   int // -1: valid
		reason  string
	}{
		{"nil", nil, -1, ""},
		{"godot valid", []string{"Accept: text/html", "Content-Type: application/json", "Authorization: Bearer 123"}, -1, ""},
		{"godot empty", []string{""}, 0, reasonEmptyHeader},
		{"godot no colon", []string{"InvalidHeader"}, 0, reasonNoColon},
		{"godot colon only", []string{":"}, 0, reasonNoColon},
		{"godot empty value", []string{"Header: "}, -1, ""},
		{"index named", []string{"A: 1", "B: 2", "C"}, 2, reasonNoColon},
		{"first failure wins", []string{"A: 1", "", "C"}, 1, reasonEmptyHeader},
		{"control chars stripped", []string{"\x01\x02"}, 0, reasonEmptyHeader},
		{"strip then colon first", []string{"\t: v"}, 0, reasonNoColon},
		{"colon at end", []string{"a:"}, -1, ""},
		{"CRLF is not checked here", []string{"A: 1\r\nB: 2"}, -1, ""},
		{"space before colon ok", []string{"A : 1"}, -1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyHeaders(tc.headers)
			if tc.index < 0 {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, godot.ErrInvalidParameter)
			var re *RequestError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "header", re.Field)
			assert.Equal(t, tc.index, re.Index)
			assert.Equal(t, tc.reason, re.Reason)
			var ce *godot.CodeError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "verify_headers", ce.Op)
		})
	}
}

// §1.14.2 with the §7 D5 fix.
func TestAppendConnectGolden(t *testing.T) {
	tests := []struct {
		name, host string
		port       int
	}{
		{"connect", "example.com", 443},
		{"connect_ipv6", "2001:db8::1", 8443},
		{"connect_ipv6_bracketed", "[2001:db8::1]", 443},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, ValidateConnect(tc.host, reqTestUA))
			requireRequestGolden(t, tc.name, AppendConnect(nil, tc.host, tc.port, reqTestUA))
		})
	}
}

func TestAppendConnect(t *testing.T) {
	got := string(AppendConnect(nil, "example.com", 443, reqTestUA))
	// §7 D5: Host carries host:port (Godot sends "Host: :-1").
	assert.Equal(t, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: "+reqTestUA+"\r\nAccept: */*\r\n\r\n", got)
	assert.NotContains(t, got, ":-1")
	// §7 D5: IPv6 literal bracketed in target and Host.
	got = string(AppendConnect(nil, "::1", 8080, reqTestUA))
	assert.True(t, strings.HasPrefix(got, "CONNECT [::1]:8080 HTTP/1.1\r\nHost: [::1]:8080\r\n"), got)
	got = string(AppendConnect(nil, "::ffff:10.0.0.1", 443, reqTestUA))
	assert.True(t, strings.HasPrefix(got, "CONNECT [::ffff:10.0.0.1]:443 HTTP/1.1\r\n"), got)
	// §1.14.2.1, §1.5.3: a host with ':' that is no IPv6 literal (the port
	// connect_to_host leaves in the host) is written as Godot writes it.
	got = string(AppendConnect(nil, "localhost:8443", 443, reqTestUA))
	assert.True(t, strings.HasPrefix(got, "CONNECT localhost:8443:443 HTTP/1.1\r\nHost: localhost:8443:443\r\n"), got)
	// Default User-Agent.
	got = string(AppendConnect([]byte("p"), "h", 1, ""))
	assert.Equal(t, "pCONNECT h:1 HTTP/1.1\r\nHost: h:1\r\nUser-Agent: "+DefaultUserAgent()+"\r\nAccept: */*\r\n\r\n", got)
	// The head ends after Accept: no Content-Length, Connection or Proxy-* headers.
	for _, h := range []string{"Content-Length", "Connection", "Proxy-"} {
		assert.NotContains(t, got, h)
	}
}

func TestValidateConnect(t *testing.T) {
	tests := []struct {
		name, host, ua, field, reason string
	}{
		{"ok", "example.com", "", "", ""},
		{"ok ipv6", "::1", reqTestUA, "", ""},
		{"§1.7.2 empty host", "", "", "host", reasonEmptyHost},
		{"§1.7.2 a target that begins with ':'", ":abc", "", "host", reasonBadAuthority},
		{"§7 D5 an IPv6 literal that begins with ':' is bracketed: passes", "::ffff", "", "", ""},
		{"ok a ':' inside the host", "localhost:8443", "", "", ""},
		{"§7 D2 host CRLF", "h\r\nX: y", "", "host", reasonInjection},
		{"§7 D2 host NUL", "h\x00", "", "host", reasonInjection},
		{"§7 D2 user agent LF", "h", "u\n", "user agent", reasonInjection},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateConnect(tc.host, tc.ua)
			if tc.field == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, godot.ErrInvalidParameter)
			var re *RequestError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.field, re.Field)
			assert.Equal(t, tc.reason, re.Reason)
			assert.True(t, errors.Is(err, godot.ErrInvalidParameter))
		})
	}
}
