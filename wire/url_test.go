package wire

import (
	"strings"
	"testing"
	"unicode"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Godot's String::parse_url, rule by rule (§2.5.2–8).
func TestParseURL(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want URL
		err  string // URLError.Reason substring; "" means success
	}{
		{"§2.5.2 plain", "http://foo.com", URL{Scheme: "http", Host: "foo.com"}, ""},
		{"§2.5.2 scheme lower-cased", "HTTPS://foo.com", URL{Scheme: "https", Host: "foo.com"}, ""},
		{"§2.5.2 scheme charset", "x+y.z-9://h", URL{Scheme: "x+y.z-9", Host: "h"}, ""},
		{"§2.5.2 scheme charset: ends of the letter and digit ranges", "aAzZ09://h", URL{Scheme: "aazz09", Host: "h"}, ""},
		{"§2.5.2 empty scheme", "://h/p", URL{Host: "h", Path: "/p"}, ""},
		{"§2.5.2 no scheme", "foo.com/p", URL{Host: "foo.com", Path: "/p"}, ""},
		{"§2.5.2 invalid scheme text kept", "ht tp://h", URL{Host: "ht tp", Path: "//h"}, "not an integer"},
		{"§2.5.2 first :// only", "a://b://c", URL{Scheme: "a", Host: "b", Path: "//c"}, "not an integer"},
		{"§2.5.3 fragment", "http://h/p?q=1#frag", URL{Scheme: "http", Host: "h", Path: "/p?q=1", Fragment: "frag"}, ""},
		{"§2.5.3 fragment before path", "http://h#f/x", URL{Scheme: "http", Host: "h", Fragment: "f/x"}, ""},
		{"§2.5.3 first #", "http://h/p#a#b", URL{Scheme: "http", Host: "h", Path: "/p", Fragment: "a#b"}, ""},
		{"§2.5.3 empty fragment", "http://h/#", URL{Scheme: "http", Host: "h", Path: "/"}, ""},
		{"§2.5.3 # right after the scheme", "http://#a", URL{Scheme: "http", Fragment: "a"}, "empty host"},
		{"§2.5.4 / right after the scheme", "http:///p", URL{Scheme: "http", Path: "/p"}, "empty host"},
		{"§2.5.4 path keeps case and query", "http://h/A/B?C=D", URL{Scheme: "http", Host: "h", Path: "/A/B?C=D"}, ""},
		{"§2.5.4 ? without / stays in host", "http://h?x=1", URL{Scheme: "http", Host: "h?x=1"}, ""},
		{"§2.5.4 ? then /", "http://h?x=/y", URL{Scheme: "http", Host: "h?x=", Path: "/y"}, ""},
		{"§2.5.5 userinfo dropped", "http://user:pass@h:81/p", URL{Scheme: "http", Host: "h", Port: 81, Path: "/p"}, ""},
		{"§2.5.5 first @ only", "http://a@b@c/", URL{Scheme: "http", Host: "b@c", Path: "/"}, ""},
		{"§2.5.5 empty userinfo dropped", "http://@h/", URL{Scheme: "http", Host: "h", Path: "/"}, ""},
		{"§2.5.5 @ in path not userinfo", "http://h/a@b", URL{Scheme: "http", Host: "h", Path: "/a@b"}, ""},
		{"§2.5.5 no scheme userinfo", "mailto:x@y", URL{Host: "y"}, ""},
		{"§2.5.6 IPv6", "http://[::1]:8080/", URL{Scheme: "http", Host: "::1", Port: 8080, Path: "/"}, ""},
		{"§2.5.6 IPv6 no port", "https://[2001:DB8::1]", URL{Scheme: "https", Host: "2001:db8::1"}, ""},
		{"§2.5.6 text after ] ignored", "http://[::1]junk:80/", URL{Scheme: "http", Host: "::1", Path: "/"}, ""},
		{"§2.5.6 last ]", "http://[a]b]:1", URL{Scheme: "http", Host: "a]b", Port: 1}, ""},
		{"§2.5.6 IPv6 bad port", "http://[::1]:x", URL{Scheme: "http", Host: "::1"}, "not an integer"},
		{"§2.5.6 missing ]", "http://[::1/", URL{Scheme: "http", Path: "/"}, "closing ']'"},
		{"§2.5.6 two colons", "http://foo.com:8080:433", URL{Scheme: "http"}, "more than one ':'"},
		{"§2.5.6 bare IPv6", "http://::1/", URL{Scheme: "http", Path: "/"}, "more than one ':'"},
		{"§2.5.7 empty host", "http://", URL{Scheme: "http"}, "empty host"},
		{"§2.5.7 empty host with port", "http://:80/", URL{Scheme: "http", Path: "/"}, "empty host"},
		{"§2.5.7 empty brackets", "http://[]:80", URL{Scheme: "http"}, "empty host"},
		{"§2.5.7 empty input", "", URL{}, "empty host"},
		{"§2.5.7 userinfo only", "http://u@/p", URL{Scheme: "http", Path: "/p"}, "empty host"},
		{"§2.5.7 host lower-cased", "http://Foo.EXAMPLE.com/Path", URL{Scheme: "http", Host: "foo.example.com", Path: "/Path"}, ""},
		{"§2.5.7 Unicode host lower-cased", "http://ÄBC.example/", URL{Scheme: "http", Host: "äbc.example", Path: "/"}, ""},
		{"§2.5.7 host lower-cased: Z", "http://Z/", URL{Scheme: "http", Host: "z", Path: "/"}, ""},
		{"§2.5.7 an invalid byte in the host becomes U+FFFD", "http://a\x80/", URL{Scheme: "http", Host: "a\uFFFD", Path: "/"}, ""},
		{"§2.5.8 port", "http://h:8080", URL{Scheme: "http", Host: "h", Port: 8080}, ""},
		{"§2.5.8 port 1", "http://h:1", URL{Scheme: "http", Host: "h", Port: 1}, ""},
		{"§2.5.8 port 65535", "http://h:65535", URL{Scheme: "http", Host: "h", Port: 65535}, ""},
		{"§2.5.8 port plus sign", "http://h:+80", URL{Scheme: "http", Host: "h", Port: 80}, ""},
		{"§2.5.8 port leading zeros", "http://h:0080", URL{Scheme: "http", Host: "h", Port: 80}, ""},
		{"§2.5.8 empty port", "http://h:", URL{Scheme: "http", Host: "h"}, "not an integer"},
		{"§2.5.8 sign only", "http://h:+", URL{Scheme: "http", Host: "h"}, "not an integer"},
		{"§2.5.8 minus only", "http://h:-", URL{Scheme: "http", Host: "h"}, "not an integer"},
		{"§2.5.8 double sign", "http://h:+-1", URL{Scheme: "http", Host: "h"}, "not an integer"},
		{"§2.5.8 space in port", "http://h: 80", URL{Scheme: "http", Host: "h"}, "not an integer"},
		{"§2.5.8 letters in port", "http://h:80a", URL{Scheme: "http", Host: "h"}, "not an integer"},
		{"§2.5.8 fraction", "http://h:80.5", URL{Scheme: "http", Host: "h"}, "not an integer"},
		{"§2.5.8 port 0", "http://h:0", URL{Scheme: "http", Host: "h"}, "out of range"},
		{"§2.5.8 negative", "http://h:-80", URL{Scheme: "http", Host: "h", Port: -80}, "out of range"},
		{"§2.5.8 65536", "http://h:65536", URL{Scheme: "http", Host: "h", Port: 65536}, "out of range"},
		{"§2.5.8 int32 truncation (QUIRK)", "http://h:4294967376", URL{Scheme: "http", Host: "h", Port: 80}, ""},
		{"§2.5.8 negative truncation (QUIRK)", "http://h:-4294967216", URL{Scheme: "http", Host: "h", Port: 80}, ""},
		{"§2.5.8 2^31 truncates negative", "http://h:2147483648", URL{Scheme: "http", Host: "h", Port: -2147483648}, "out of range"},
		{"§2.5.8 int64 clamp then truncate", "http://h:99999999999999999999", URL{Scheme: "http", Host: "h", Port: -1}, "out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseURL(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, godot.ErrInvalidParameter)
				var ue *URLError
				require.ErrorAs(t, err, &ue)
				assert.Contains(t, ue.Reason, tc.err)
				// Godot's output parameters: the fields set before the failure.
				assert.Equal(t, tc.want, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// URLError text: the reason, never the userinfo.
func TestURLErrorText(t *testing.T) {
	_, err := ParseURL("http://user:s3cret@h:99999/")
	require.Error(t, err)
	assert.Equal(t, `parse_url: ERR_INVALID_PARAMETER: gdhttp: invalid URL: port "99999" is out of range 1-65535`, err.Error())
	assert.NotContains(t, err.Error(), "s3cret")

	// The port is quoted whole up to 64 bytes, cut after that.
	var ue *URLError
	p64 := strings.Repeat("x", 64)
	_, err = ParseURL("http://h:" + p64)
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, `port "`+p64+`" is not an integer`, ue.Reason)
	_, err = ParseURL("http://h:" + p64 + "y")
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, `port "`+p64+`"… is not an integer`, ue.Reason)

	long := "http://h:" + strings.Repeat("9", 200)
	_, err = ParseURL(long)
	require.Error(t, err)
	assert.Less(t, len(err.Error()), 200)
}

// HTTPRequest's _parse_url (§2.5.9–11), with the examples of
// test_http_request.h (§2.5.10).
func TestParseRequestURL(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want RequestURL
		err  string
	}{
		{"§2.5.10 two ports", "http://foo.com:8080:433", RequestURL{}, "more than one ':'"},
		{"§2.5.10 ftp", "ftp://foo.com", RequestURL{}, `invalid URL scheme "ftp"`},
		{"§2.5.10 port", "http://foo.com:8080", RequestURL{Host: "foo.com", Port: 8080, Path: "/"}, ""},
		{"§2.5.10 default http", "http://foo.com", RequestURL{Host: "foo.com", Port: 80, Path: "/"}, ""},
		{"§2.5.10 default https", "https://foo.com", RequestURL{TLS: true, Host: "foo.com", Port: 443, Path: "/"}, ""},
		{"§2.5.9 no scheme", "foo.com/x", RequestURL{}, "scheme: none"},
		{"§2.5.9 empty scheme", "://foo.com/x", RequestURL{}, "scheme: none"},
		{"§2.5.9 upper-case scheme", "HTTPS://Foo.com/A", RequestURL{TLS: true, Host: "foo.com", Port: 443, Path: "/A"}, ""},
		{"§2.5.9 https explicit port", "https://h:8443/a?b=c#frag", RequestURL{TLS: true, Host: "h", Port: 8443, Path: "/a?b=c"}, ""},
		{"§2.5.9 http on 443", "http://h:443", RequestURL{Host: "h", Port: 443, Path: "/"}, ""},
		{"§2.5.9 fragment only", "http://h#x", RequestURL{Host: "h", Port: 80, Path: "/"}, ""},
		{"§2.5.9 query without slash", "http://h?x=1", RequestURL{Host: "h?x=1", Port: 80, Path: "/"}, ""},
		{"§2.5.11 IPv6", "http://[::1]:8080/", RequestURL{Host: "::1", Port: 8080, Path: "/"}, ""},
		{"§2.5.9 ws scheme", "ws://h", RequestURL{}, "invalid URL scheme"},
		{"§2.5.8 bad port", "http://h:0", RequestURL{}, "out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRequestURL(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, godot.ErrInvalidParameter)
				var ue *URLError
				require.ErrorAs(t, err, &ue)
				assert.Contains(t, ue.Reason, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// Godot's is_valid_int, the gate of §2.5.8.
func TestIsGodotValidInt(t *testing.T) {
	valid := []string{"0", "1", "+1", "-1", "007", "99999999999999999999999"}
	invalid := []string{"", "+", "-", "+-1", "1+", " 1", "1 ", "1.0", "0x1", "١"}
	for _, s := range valid {
		assert.True(t, isGodotValidInt(s), s)
	}
	for _, s := range invalid {
		assert.False(t, isGodotValidInt(s), s)
	}
}

// ParseURL allocates nothing for an already lower-case ASCII URL.
func TestParseURLAllocs(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = ParseURL("https://user@example.com:8443/path?q=1#f")
	})
	assert.Zero(t, allocs)
}

// §2.5.7: the host is lower-cased with Godot's case table, Unicode 16 in
// Godot 4.4 on (core/string/ucaps.h), where Go's unicode package has
// Unicode 15: the letters Unicode 16 added lower-case too (godotLower).
func TestParseURLHostLowerUnicode16(t *testing.T) {
	for _, tc := range []struct{ url, host string }{
		{"http://\uA7DCabc.com/", "\u019Babc.com"},         // LATIN CAPITAL LETTER LAMBDA WITH STROKE
		{"http://\u1C89abc.com/", "\u1C8Aabc.com"},         // CYRILLIC CAPITAL LETTER TJE
		{"http://\U00010D50abc.com/", "\U00010D70abc.com"}, // GARAY CAPITAL LETTER A
		{"http://\U00010D65.\uA7CB\uA7CC\uA7DA.com/", "\U00010D85.\u0264\uA7CD\uA7DB.com"},
		{"http://\U00010D66\U00010D4F\u1C88\u1C8A.com/", "\U00010D66\U00010D4F\u1C88\u1C8A.com"}, // no case / already lower
		{"http://ÄBC\u0130/", "äbci"},                                                            // Unicode 15 mappings, İ → i as in Godot's table
	} {
		u, err := ParseURL(tc.url)
		require.NoError(t, err, tc.url)
		assert.Equal(t, tc.host, u.Host, tc.url)
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if want := unicode.ToLower(r); godotLower(r) != want {
			assert.True(t, r == 0x1C89 || r >= 0xA7CB && r <= 0xA7DC || r >= 0x10D50 && r <= 0x10D65,
				"%U: only the Unicode 16 letters differ from Go's table", r)
		}
	}
}

// §2.5.8 with §0.4.2: the port is to_int of its text kept to 32 bits; a
// 19-digit value past the int64 range wraps in Godot 4.5's to_int
// (2^63 + 80 is −2^63 + 80, whose low 32 bits are 80), a longer one clamps
// (int64 max: −1 in 32 bits, refused).
func TestParseURLPortToIntWrap(t *testing.T) {
	u, err := ParseURL("http://host:9223372036854775888/")
	require.NoError(t, err)
	assert.Equal(t, 80, u.Port)
	r, err := ParseRequestURL("http://host:9223372036854775888/")
	require.NoError(t, err)
	assert.Equal(t, 80, r.Port)
	_, err = ParseURL("http://host:99999999999999999999/")
	assert.ErrorIs(t, err, godot.ErrInvalidParameter)
}
