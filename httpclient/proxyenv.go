package httpclient

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Proxies from the environment (§7.2 opt-in; Godot reads no environment,
// §1.14): net/http's rules (golang.org/x/net/http/httpproxy, which
// http.ProxyFromEnvironment uses), reimplemented because library packages
// may not import golang.org/x/net, and read again at every call — unlike
// http.ProxyFromEnvironment, which reads the environment once per process.
//
//   - HTTP_PROXY / http_proxy for http targets, HTTPS_PROXY / https_proxy for
//     https targets (the upper-case name first; an empty value counts as
//     unset). A value without a scheme or host ("proxy:3128") is read as
//     "http://" + value.
//   - NO_PROXY / no_proxy: comma-separated entries, matched lower-cased and
//     trimmed: "*" (no proxy at all); an IP address, optionally with a port
//     ("1.2.3.4", "1.2.3.4:80", "[::1]:80"); a CIDR ("10.0.0.0/8"); a domain,
//     optionally with a port, that matches itself and its subdomains
//     ("foo.com"), only its subdomains with a leading "." (".foo.com"), and
//     "*.foo.com" is ".foo.com". Malformed entries are skipped.
//   - "localhost" and loopback addresses are never proxied, whatever the
//     variables say.
//   - With REQUEST_METHOD set (a CGI handler, where HTTP_PROXY may come
//     from a client's "Proxy:" header, golang.org/s/cgihttpproxy), an http
//     target that would use HTTP_PROXY is an error; HTTPS_PROXY is still
//     used.
//
// One difference: httpproxy converts non-ASCII host names with the full IDNA
// (UTS #46) mapping; here each non-ASCII label is lower-cased and
// Punycode-encoded (RFC 3492), which gives the same result for host names
// already in their normal form.

// ProxyConfig holds the proxy settings net/http reads from the environment.
type ProxyConfig struct {
	HTTPProxy  string // HTTP_PROXY or http_proxy: the proxy of http targets
	HTTPSProxy string // HTTPS_PROXY or https_proxy: the proxy of https targets
	NoProxy    string // NO_PROXY or no_proxy: the hosts reached directly
	CGI        bool   // REQUEST_METHOD is set: HTTPProxy is refused
}

// ProxyConfigFromEnvironment reads HTTP_PROXY, HTTPS_PROXY and NO_PROXY (or
// their lower-case forms, used when the upper-case one is empty or unset)
// and REQUEST_METHOD now.
func ProxyConfigFromEnvironment() ProxyConfig {
	return ProxyConfig{
		HTTPProxy:  getenvAny("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: getenvAny("HTTPS_PROXY", "https_proxy"),
		NoProxy:    getenvAny("NO_PROXY", "no_proxy"),
		CGI:        os.Getenv("REQUEST_METHOD") != "",
	}
}

func getenvAny(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// ProxyFromEnvironment returns the proxy for target as net/http would choose
// it from the environment as it is now (ProxyConfigFromEnvironment), or nil
// for a direct connection. Its signature suits HTTPRequest.SetProxyFunc;
// for http.Transport.Proxy or Transport.Proxy wrap it:
// func(r *http.Request) (*url.URL, error) { return ProxyFromEnvironment(r.URL) }.
func ProxyFromEnvironment(target *url.URL) (*url.URL, error) {
	cfg := ProxyConfigFromEnvironment()
	return cfg.ProxyForURL(target)
}

var errCGIProxy = errors.New("refusing to use HTTP_PROXY value in CGI environment; see golang.org/s/cgihttpproxy")

// ProxyForURL returns the proxy for target under c (net/http's rules, see
// above): nil, nil when target goes direct — no proxy for its scheme (only
// http and https have one), NO_PROXY matches, or it is localhost or a
// loopback address. A proxy value that does not parse is ignored, as in
// net/http. The URL's scheme is returned as written (Client and HTTPRequest
// accept only http:// proxies).
func (c ProxyConfig) ProxyForURL(target *url.URL) (*url.URL, error) {
	var raw string
	switch target.Scheme {
	case "https":
		raw = c.HTTPSProxy
	case "http":
		raw = c.HTTPProxy
	}
	proxy, err := parseProxyValue(raw)
	if err != nil || proxy == nil {
		return nil, nil // an unusable value is ignored (httpproxy's init)
	}
	if target.Scheme == "http" && c.CGI {
		return nil, errCGIProxy
	}
	if !c.useProxy(canonicalAddr(target)) {
		return nil, nil
	}
	return proxy, nil
}

// parseProxyValue is how net/http reads a proxy variable: a URL with a
// scheme and a host, or else "http://" + the value.
func parseProxyValue(s string) (*url.URL, error) {
	if s == "" {
		return nil, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		if u2, err2 := url.Parse("http://" + s); err2 == nil {
			return u2, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("invalid proxy address %q: %v", s, err)
	}
	return u, nil
}

// defaultPorts are the ports canonicalAddr assumes.
var defaultPorts = map[string]string{"http": "80", "https": "443", "socks5": "1080"}

// canonicalAddr is target's host (IDNA-encoded) and port (the scheme's
// default when absent), joined.
func canonicalAddr(target *url.URL) string {
	host := target.Hostname()
	if v, err := idnaToASCII(host); err == nil {
		host = v
	}
	port := target.Port()
	if port == "" {
		port = defaultPorts[target.Scheme]
	}
	return net.JoinHostPort(host, port)
}

// useProxy reports whether addr (host:port) goes through the proxy under
// NO_PROXY.
func (c ProxyConfig) useProxy(addr string) bool {
	if addr == "" {
		return true
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return false
	}
	var ip net.IP
	if a, err := netip.ParseAddr(host); err == nil {
		ip = net.IP(a.AsSlice())
		if ip.IsLoopback() {
			return false
		}
	}
	host = strings.ToLower(strings.TrimSpace(host))
	for _, m := range cachedNoProxy(c.NoProxy) {
		if m.matches(host, port, ip) {
			return false
		}
	}
	return true
}

// noProxyEntry is one NO_PROXY entry: all (the "*" entry), an IP network, an
// IP address with an optional port, or a domain suffix with an optional port.
type noProxyEntry struct {
	all       bool
	cidr      *net.IPNet
	ip        net.IP
	domain    string // with its leading '.'
	matchHost bool   // the domain itself matches too (no leading '.' written)
	port      string // "" matches any port
}

// noProxyCache keeps the entries of the last NO_PROXY value parsed: the
// environment is read at every call, but parsed again only when it changed.
var noProxyCache struct {
	sync.Mutex
	raw     string
	entries []noProxyEntry
}

// cachedNoProxy is parseNoProxy(s), from the cache when s was the last value
// parsed. The returned slice is never modified.
func cachedNoProxy(s string) []noProxyEntry {
	noProxyCache.Lock()
	defer noProxyCache.Unlock()
	if s != noProxyCache.raw || (s != "" && noProxyCache.entries == nil) {
		noProxyCache.raw, noProxyCache.entries = s, parseNoProxy(s)
	}
	return noProxyCache.entries
}

// parseNoProxy parses a NO_PROXY value the way httpproxy does. With a "*"
// entry the result is that entry alone.
func parseNoProxy(s string) []noProxyEntry {
	var out []noProxyEntry
	for _, p := range strings.Split(s, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if p == "*" {
			return []noProxyEntry{{all: true}}
		}
		if _, network, err := net.ParseCIDR(p); err == nil {
			out = append(out, noProxyEntry{cidr: network})
			continue
		}
		host, port, err := net.SplitHostPort(p)
		if err == nil {
			if host == "" {
				continue // ":80": no host
			}
			if host[0] == '[' && host[len(host)-1] == ']' {
				host = host[1 : len(host)-1]
			}
		} else {
			host, port = p, ""
		}
		if ip := net.ParseIP(host); ip != nil {
			out = append(out, noProxyEntry{ip: ip, port: port})
			continue
		}
		if host == "" {
			continue
		}
		if strings.HasPrefix(host, "*.") {
			host = host[1:]
		}
		matchHost := false
		if host[0] != '.' {
			matchHost = true
			host = "." + host
		}
		if v, err := idnaToASCII(host); err == nil {
			host = v
		}
		out = append(out, noProxyEntry{domain: host, matchHost: matchHost, port: port})
	}
	return out
}

// matches reports whether the entry excludes host:port (host lower-cased;
// ip is its address when host is an IP literal, else nil).
func (e noProxyEntry) matches(host, port string, ip net.IP) bool {
	switch {
	case e.all:
		return true
	case e.cidr != nil:
		return ip != nil && e.cidr.Contains(ip)
	case e.ip != nil:
		return ip != nil && e.ip.Equal(ip) && (e.port == "" || e.port == port)
	}
	if ip != nil {
		return false // a domain never matches an IP literal (CVE-2025-22870)
	}
	if strings.HasSuffix(host, e.domain) || (e.matchHost && host == e.domain[1:]) {
		return e.port == "" || e.port == port
	}
	return false
}

// idnaToASCII returns s unchanged when it is ASCII; otherwise each label
// that is not ASCII is lower-cased and Punycode-encoded with the "xn--"
// prefix (see the package note on IDNA above).
func idnaToASCII(s string) (string, error) {
	if isASCII(s) {
		return s, nil
	}
	labels := strings.Split(s, ".")
	for i, l := range labels {
		if isASCII(l) {
			continue
		}
		enc, err := punycode(strings.ToLower(l))
		if err != nil {
			return "", err
		}
		labels[i] = "xn--" + enc
	}
	return strings.Join(labels, "."), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

var errPunycode = errors.New("httpclient: label cannot be Punycode-encoded")

// punycode is RFC 3492's encoder (the label without its "xn--" prefix).
func punycode(label string) (string, error) {
	const (
		base, tmin, tmax  = 36, 1, 26
		skew, damp        = 38, 700
		initialBias       = 72
		initialN          = 128
		maxLabelCodepoint = 63 // a DNS label is at most 63 bytes anyway
	)
	if !utf8.ValidString(label) || utf8.RuneCountInString(label) > maxLabelCodepoint {
		return "", errPunycode
	}
	runes := []rune(label)
	out := make([]byte, 0, 2*len(runes))
	for _, r := range runes {
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
		}
	}
	basic := len(out)
	if basic > 0 {
		out = append(out, '-')
	}
	adapt := func(delta, points int, first bool) int {
		if first {
			delta /= damp
		} else {
			delta /= 2
		}
		delta += delta / points
		k := 0
		for delta > ((base-tmin)*tmax)/2 {
			delta /= base - tmin
			k += base
		}
		return k + (base-tmin+1)*delta/(delta+skew)
	}
	digit := func(d int) byte {
		if d < 26 {
			return byte('a' + d)
		}
		return byte('0' + d - 26)
	}
	n, delta, bias := rune(initialN), 0, initialBias
	for h := basic; h < len(runes); {
		m := rune(utf8.MaxRune + 1)
		for _, r := range runes {
			if r >= n && r < m {
				m = r
			}
		}
		delta += int(m-n) * (h + 1)
		n = m
		for _, r := range runes {
			if r < n {
				delta++
			}
			if r != n {
				continue
			}
			q := delta
			for k := base; ; k += base {
				t := k - bias
				if t < tmin {
					t = tmin
				} else if t > tmax {
					t = tmax
				}
				if q < t {
					break
				}
				out = append(out, digit(t+(q-t)%(base-t)))
				q = (q - t) / (base - t)
			}
			out = append(out, digit(q))
			bias = adapt(delta, h+1, h == basic)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return string(out), nil
}

// ProxySchemeError is the cause when a proxy URL's scheme is not http.
type ProxySchemeError struct {
	Scheme string
}

// Error names the scheme.
func (e *ProxySchemeError) Error() string {
	return "httpclient: proxy scheme " + strconv.Quote(e.Scheme) + " is not supported (only http:// proxies; a TLS connection to the proxy itself is not)"
}

// SplitProxyURL returns where an http:// proxy URL points — host, port (80
// when absent) — and its credentials (user:password@, nil when none). A URL
// whose scheme is not http gives a *ProxySchemeError: the client speaks to
// proxies in clear text only (https targets go through a CONNECT tunnel
// over that clear connection).
func SplitProxyURL(u *url.URL) (host string, port int, user *url.Userinfo, err error) {
	if !strings.EqualFold(u.Scheme, "http") {
		return "", -1, nil, &ProxySchemeError{Scheme: u.Scheme}
	}
	host = u.Hostname()
	if host == "" {
		return "", -1, nil, errors.New("httpclient: proxy URL " + strconv.Quote(u.Redacted()) + " has no host")
	}
	port = PortHTTP
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || !validPort(port) {
			return "", -1, nil, errors.New("httpclient: proxy URL " + strconv.Quote(u.Redacted()) + " has an invalid port")
		}
	}
	return host, port, u.User, nil
}
