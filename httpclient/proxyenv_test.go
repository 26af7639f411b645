package httpclient

import (
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The table of golang.org/x/net/http/httpproxy's TestProxyForURL (§7.2 proxies
// from the environment follow net/http's rules exactly).
func TestProxyForURL(t *testing.T) {
	cgiErr := errors.New("refusing to use HTTP_PROXY value in CGI environment; see golang.org/s/cgihttpproxy")
	tests := []struct {
		cfg     ProxyConfig
		req     string // "" means http://example.com
		want    string
		wantErr error
	}{
		{cfg: ProxyConfig{HTTPProxy: "127.0.0.1:8080"}, want: "http://127.0.0.1:8080"},
		{cfg: ProxyConfig{HTTPProxy: "cache.corp.example.com:1234"}, want: "http://cache.corp.example.com:1234"},
		{cfg: ProxyConfig{HTTPProxy: "cache.corp.example.com"}, want: "http://cache.corp.example.com"},
		{cfg: ProxyConfig{HTTPProxy: "localhost"}, want: "http://localhost"}, // a single label parses as a scheme
		{cfg: ProxyConfig{HTTPProxy: "https://cache.corp.example.com"}, want: "https://cache.corp.example.com"},
		{cfg: ProxyConfig{HTTPProxy: "http://127.0.0.1:8080"}, want: "http://127.0.0.1:8080"},
		{cfg: ProxyConfig{HTTPProxy: "https://127.0.0.1:8080"}, want: "https://127.0.0.1:8080"},
		{cfg: ProxyConfig{HTTPProxy: "socks5://127.0.0.1"}, want: "socks5://127.0.0.1"},
		{cfg: ProxyConfig{HTTPProxy: "foo://host"}, want: "foo://host"}, // unknown schemes kept
		{cfg: ProxyConfig{HTTPProxy: "http.proxy.tld", HTTPSProxy: "secure.proxy.tld"}, req: "http://insecure.tld/", want: "http://http.proxy.tld"},
		{cfg: ProxyConfig{HTTPProxy: "http.proxy.tld", HTTPSProxy: "secure.proxy.tld"}, req: "https://secure.tld/", want: "http://secure.proxy.tld"},
		{cfg: ProxyConfig{HTTPProxy: "http.proxy.tld", HTTPSProxy: "https://secure.proxy.tld"}, req: "https://secure.tld/", want: "https://secure.proxy.tld"},
		{cfg: ProxyConfig{HTTPProxy: "http.proxy.tld"}, req: "https://secure.tld/", want: "<nil>"},
		{cfg: ProxyConfig{HTTPProxy: "http.proxy.tld"}, req: "ftp://insecure.tld/", want: "<nil>"},
		{cfg: ProxyConfig{HTTPProxy: "http://10.1.2.3:8080", CGI: true}, want: "<nil>", wantErr: cgiErr},
		{cfg: ProxyConfig{HTTPSProxy: "https://secure.proxy.tld", CGI: true}, req: "https://secure.tld/", want: "https://secure.proxy.tld"},
		{want: "<nil>"},
		{cfg: ProxyConfig{NoProxy: "example.com", HTTPProxy: "proxy"}, req: "http://example.com/", want: "<nil>"},
		{cfg: ProxyConfig{NoProxy: ".example.com", HTTPProxy: "proxy"}, req: "http://example.com/", want: "http://proxy"},
		{cfg: ProxyConfig{NoProxy: "ample.com", HTTPProxy: "proxy"}, req: "http://example.com/", want: "http://proxy"},
		{cfg: ProxyConfig{NoProxy: "example.com", HTTPProxy: "proxy"}, req: "http://foo.example.com/", want: "<nil>"},
		{cfg: ProxyConfig{NoProxy: ".foo.com", HTTPProxy: "proxy"}, req: "http://example.com/", want: "http://proxy"},
		{cfg: ProxyConfig{NoProxy: ".示例.com", HTTPProxy: "proxy"}, req: "http://www.示例.com", want: "<nil>"},
		{cfg: ProxyConfig{NoProxy: "xn--fsq092h.com", HTTPProxy: "proxy"}, req: "http://www.示例.com", want: "<nil>"},
		{cfg: ProxyConfig{NoProxy: "示例.com", HTTPProxy: "proxy"}, req: "http://www.xn--fsq092h.com", want: "<nil>"},
		{cfg: ProxyConfig{NoProxy: "example.com", HTTPProxy: "proxy"}, req: "http://[1000::%25.example.com]:123", want: "http://proxy"}, // CVE-2025-22870
	}
	for _, tt := range tests {
		req := tt.req
		if req == "" {
			req = "http://example.com"
		}
		t.Run(fmt.Sprintf("%+v/%s", tt.cfg, req), func(t *testing.T) {
			u, err := url.Parse(req)
			require.NoError(t, err)
			got, err := tt.cfg.ProxyForURL(u)
			assert.Equal(t, fmt.Sprint(tt.wantErr), fmt.Sprint(err))
			assert.Equal(t, tt.want, urlString(got))
		})
	}
}

// httpproxy's TestUseProxy, TestAllNoProxy and TestInvalidNoProxy: NO_PROXY's
// IP, IP:port, CIDR, domain, .domain, *.domain matching, and localhost and
// loopback never proxied.
func TestNoProxyMatching(t *testing.T) {
	const noProxy = "foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, 10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, 2002:db8:a::45/64"
	tests := []struct {
		host  string
		proxy bool
	}{
		{"localhost", false},
		{"127.0.0.1", false},
		{"127.0.0.2", false},
		{"[::1]", false},
		{"[::2]", true}, // not a loopback address
		{"192.168.1.1", false},
		{"192.168.1.2", true}, // ports do not match
		{"192.168.1.3", false},
		{"192.168.1.4", true},
		{"10.0.0.2", false},
		{"[2001:db8::52:0:1]", false},
		{"[2001:db8::52:0:2]", true},
		{"[2001:db8::52:0:3]", false},
		{"[2002:db8:a::123]", false},
		{"[fe80::424b:c8be:1643:a1b6]", true},
		{"barbaz.net", true},
		{"www.barbaz.net", false},
		{"foobar.com", false},
		{"www.foobar.com", false},
		{"foofoobar.com", true},
		{"baz.com", true},
		{"localhost.net", true},
		{"local.localhost", true},
		{"barbarbaz.net", true},
		{"wildcard.io", true},
		{"nested.wildcard.io", false},
		{"awildcard.io", true},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			assert.Equal(t, tt.proxy, ProxyConfig{NoProxy: noProxy}.useProxy(tt.host+":80"))
			assert.False(t, ProxyConfig{NoProxy: "*"}.useProxy(tt.host+":80"), "* excludes every host")
		})
	}
	assert.True(t, ProxyConfig{NoProxy: ":1"}.useProxy("example.com:80"), "a malformed entry is skipped")
	assert.False(t, ProxyConfig{NoProxy: "Example.COM:8080"}.useProxy("EXAMPLE.com:8080"), "case-insensitive, port matched")
	assert.True(t, ProxyConfig{NoProxy: "example.com:8080"}.useProxy("example.com:80"))
}

// The environment is read at every call (t.Setenv works, unlike
// http.ProxyFromEnvironment's process-wide cache); the upper-case name wins,
// the lower-case one is used when it is empty; REQUEST_METHOD means CGI.
func TestProxyFromEnvironmentReadsEachCall(t *testing.T) {
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "REQUEST_METHOD"} {
		t.Setenv(k, "")
	}
	target, _ := url.Parse("http://game.example/x")
	secure, _ := url.Parse("https://game.example/x")
	get := func(u *url.URL) string {
		p, err := ProxyFromEnvironment(u)
		if err != nil {
			return "error: " + err.Error()
		}
		return urlString(p)
	}
	assert.Equal(t, "<nil>", get(target))
	t.Setenv("http_proxy", "lower:1")
	assert.Equal(t, "http://lower:1", get(target))
	t.Setenv("HTTP_PROXY", "upper:2")
	assert.Equal(t, "http://upper:2", get(target), "upper case preferred")
	assert.Equal(t, "<nil>", get(secure), "HTTP_PROXY is not for https")
	t.Setenv("https_proxy", "http://u:p@sec:3")
	assert.Equal(t, "http://u:p@sec:3", get(secure))
	t.Setenv("no_proxy", "example")
	assert.Equal(t, "<nil>", get(target))
	t.Setenv("NO_PROXY", "other.example")
	assert.Equal(t, "http://upper:2", get(target), "NO_PROXY preferred over no_proxy")
	t.Setenv("REQUEST_METHOD", "GET")
	assert.Contains(t, get(target), "error: refusing to use HTTP_PROXY value in CGI environment")
	assert.Equal(t, "http://u:p@sec:3", get(secure), "HTTPS_PROXY still used under CGI")
	assert.Equal(t, ProxyConfig{HTTPProxy: "upper:2", HTTPSProxy: "http://u:p@sec:3", NoProxy: "other.example", CGI: true},
		ProxyConfigFromEnvironment())
}

// RFC 3492 §7.1 samples and the IDNA examples above.
func TestPunycode(t *testing.T) {
	tests := map[string]string{
		"示例":                "fsq092h",
		"bücher":            "bcher-kva",
		"münchen":           "mnchen-3ya",
		"他们为什么不说中文":         "ihqwcrb4cv8a8dqg056pqjye",
		"ليهمابتكلموشعربي؟": "egbpdaj6bu4bxfgehfvwxn",
		"3年B組金八先生":          "3B-ww4c5e180e575a65lsy2b",
	}
	for in, want := range tests {
		got, err := punycode(in)
		require.NoError(t, err)
		assert.Equal(t, want, got, in)
	}
	got, err := idnaToASCII("WWW.Bücher.example")
	require.NoError(t, err)
	assert.Equal(t, "WWW.xn--bcher-kva.example", got, "ASCII labels as given, the others lower-cased and encoded")
}

// Proxy URLs: only http:// (a clear error for https:// and others), port 80
// by default, the credentials returned.
func TestSplitProxyURL(t *testing.T) {
	tests := []struct {
		in, host string
		port     int
		user     string
		err      string
	}{
		{in: "http://proxy.example:3128", host: "proxy.example", port: 3128},
		{in: "http://proxy.example", host: "proxy.example", port: 80},
		{in: "HTTP://u:p%40ss@[::1]:8080", host: "::1", port: 8080, user: "u:p%40ss"},
		{in: "https://proxy.example", port: -1, err: `httpclient: proxy scheme "https" is not supported`},
		{in: "socks5://proxy.example", port: -1, err: `httpclient: proxy scheme "socks5" is not supported`},
		{in: "http://:80", port: -1, err: "has no host"},
		{in: "http://proxy.example:0", port: -1, err: "invalid port"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := url.Parse(tt.in)
			require.NoError(t, err)
			host, port, user, err := SplitProxyURL(u)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				if tt.port == -1 && u.Scheme != "http" && u.Scheme != "HTTP" {
					var se *ProxySchemeError
					assert.ErrorAs(t, err, &se)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.host, host)
			assert.Equal(t, tt.port, port)
			if tt.user == "" {
				assert.Nil(t, user)
			} else {
				assert.Equal(t, tt.user, user.String())
			}
		})
	}
}

// urlString is u.String(), "<nil>" for nil (as httpproxy's tests print it).
func urlString(u *url.URL) string {
	if u == nil {
		return "<nil>"
	}
	return u.String()
}
