package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/wire"
)

// Cookies and proxies beyond Godot's (the node's §7.2 opt-ins):
//
//	-b, --cookie DATA|FILE   turn the cookie jar on (SetCookieJar); "a=1; b=2" starts
//	                         it with those cookies for the URL's host (path /), any
//	                         other value is a cookie file in curl's (Netscape)
//	                         format to load (a file that does not exist yet is an
//	                         empty jar, and a malformed line is skipped, -v says
//	                         which, as curl); "" only turns the jar on. Repeatable.
//	-c, --cookie-jar FILE    turn the jar on and write every cookie it holds at the
//	                         end to FILE, in curl's format ("-" for stdout)
//
// The jar is net/http/cookiejar's with its domain rules, and, unlike curl
// built with libpsl or a browser, no public suffix list (cookiejar without
// Options.PublicSuffixList; golang.org/x/net/publicsuffix is not a dependency
// of cmd): a Domain attribute naming a multi-label public suffix such as
// co.uk is accepted, so a host under co.uk can set a cookie that every other
// host under co.uk is sent (TestCookiePublicSuffixAccepted). curl's limits
// on what a jar takes and sends are kept (curlTakes, fetchJar.Cookies;
// TestFetchJarCurlRules).
//
//	    --proxy-user U:P     the proxy's credentials (Proxy-Authorization: Basic, sent to
//	                         the proxy only: on its absolute-form requests and CONNECTs)
//	    --noproxy LIST       hosts reached directly, NO_PROXY's syntax, instead of
//	                         NO_PROXY / no_proxy (with -x or the environment's proxies)
//
// Like curl, gdfetch uses the environment's proxies (HTTP_PROXY, HTTPS_PROXY,
// NO_PROXY and their lower-case forms) unless -x is given; -x "" uses none.
// The rules are net/http's (httpclient.ProxyFromEnvironment), which differ
// from curl's in two ways: HTTP_PROXY in capitals counts (curl reads only
// http_proxy, unless REQUEST_METHOD is set, where neither does), and localhost
// and loopback addresses are never proxied. With -x, as with curl, the
// no-proxy list (--noproxy, else NO_PROXY / no_proxy) still names the hosts
// reached directly; when there is one, it is matched by the same rules, so
// localhost and loopback addresses go direct too (curl sends them to -x's
// proxy unless the list names them).

// rawNetFlags are the flag values of this file as pflag fills them in.
type rawNetFlags struct {
	cookies   []string
	cookieJar string
	proxyUser string
	noProxy   string
}

func addNetFlags(fs *pflag.FlagSet, f *rawNetFlags) {
	fs.StringArrayVarP(&f.cookies, "cookie", "b", nil, `cookie jar on (option SetCookieJar): "a=1; b=2" for the URL's host, or a curl cookie FILE to load; "" jar only`)
	fs.StringVarP(&f.cookieJar, "cookie-jar", "c", "", "cookie jar on; write its cookies to FILE at the end, curl's format (\"-\": stdout); no public suffix list")
	fs.StringVar(&f.proxyUser, "proxy-user", "", "USER:PASSWORD for the proxy (Proxy-Authorization on the proxy hop and the CONNECT only)")
	fs.StringVar(&f.noProxy, "noproxy", "", "hosts reached directly, with -x or the environment's proxies; NO_PROXY's syntax (replaces NO_PROXY)")
}

// netFlags are the parsed values.
type netFlags struct {
	jar           bool     // the cookie jar is on
	cookieStrings []string // -b "a=1; b=2"
	cookieFiles   []string // -b FILE
	saveTo        string   // -c FILE
	proxyUser     *url.Userinfo
	noProxy       *string // --noproxy, nil when not given
	noEnvProxy    bool    // -x "": no proxy at all
}

func parseNetFlags(fs *pflag.FlagSet, f *rawNetFlags) (netFlags, error) {
	var nf netFlags
	for _, c := range f.cookies {
		nf.jar = true
		switch {
		case c == "":
		case strings.Contains(c, "="):
			nf.cookieStrings = append(nf.cookieStrings, c)
		default:
			nf.cookieFiles = append(nf.cookieFiles, c)
		}
	}
	if fs.Changed("cookie-jar") {
		if f.cookieJar == "" {
			return nf, usagef("-c: a file name is needed")
		}
		nf.jar, nf.saveTo = true, f.cookieJar
	}
	if fs.Changed("proxy-user") {
		user, pass, ok := strings.Cut(f.proxyUser, ":")
		if !ok {
			return nf, usagef("--proxy-user: expected USER:PASSWORD") // no echo: it may be the password
		}
		nf.proxyUser = url.UserPassword(user, pass)
	}
	if fs.Changed("noproxy") {
		nf.noProxy = &f.noProxy
	}
	if v, _ := fs.GetString("proxy"); fs.Changed("proxy") && v == "" {
		nf.noEnvProxy = true
	}
	return nf, nil
}

// configureNet sets the cookie jar and the proxies from the flags: -x's,
// or a proxy function (proxyFunc).
func configureNet(n *httprequest.HTTPRequest, cfg *config) error {
	nf := cfg.net
	if nf.jar {
		jar, err := newFetchJar()
		if err != nil {
			return err
		}
		for _, file := range nf.cookieFiles {
			// A file that does not exist yet is an empty jar, as curl:
			// "-b jar.txt -c jar.txt" on the first run.
			if err := jar.load(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return usagef("-b %s: %v", file, err)
			}
		}
		for _, s := range nf.cookieStrings {
			if err := jar.seed(cfg.url, s); err != nil {
				return usagef("-b %q: %v", s, err)
			}
		}
		if err := n.SetCookieJar(jar); err != nil {
			return err
		}
	}
	if f := proxyFunc(cfg); f != nil {
		return n.SetProxyFunc(f)
	}
	if cfg.proxyHost != "" {
		n.SetHTTPProxy(cfg.proxyHost, cfg.proxyPort)
		n.SetHTTPSProxy(cfg.proxyHost, cfg.proxyPort)
		if u := nf.proxyUser; u != nil {
			pass, _ := u.Password()
			n.SetHTTPProxyCredentials(u.Username(), pass)
			n.SetHTTPSProxyCredentials(u.Username(), pass)
		}
	}
	return nil
}

// proxyFunc is the node's proxy function for the flags, nil when it needs
// none: without -x the environment's proxies (envProxy); with -x and a
// no-proxy list (--noproxy, else NO_PROXY / no_proxy) -x's proxy except for
// the hosts the list names (explicitProxy), as curl; with -x and no list,
// or -x "", nil (configureNet sets -x's proxy on the node directly).
func proxyFunc(cfg *config) func(*url.URL) (*url.URL, error) {
	nf := cfg.net
	switch {
	case cfg.proxyHost != "":
		list := httpclient.ProxyConfigFromEnvironment().NoProxy
		if nf.noProxy != nil {
			list = *nf.noProxy
		}
		if list == "" {
			return nil
		}
		return explicitProxy(cfg.proxyHost, cfg.proxyPort, nf.proxyUser, list)
	case nf.noEnvProxy:
		return nil
	}
	return envProxy(nf)
}

// explicitProxy is -x's proxy (with --proxy-user's credentials) for http
// and https URLs, except those noProxy names: the environment path's
// matching (httpclient.ProxyConfig, NO_PROXY's syntax), which also sends
// localhost and loopback addresses direct.
func explicitProxy(host string, port int, user *url.Userinfo, noProxy string) func(*url.URL) (*url.URL, error) {
	p := (&url.URL{Scheme: "http", Host: net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port)), User: user}).String()
	pc := httpclient.ProxyConfig{HTTPProxy: p, HTTPSProxy: p, NoProxy: noProxy}
	return pc.ProxyForURL
}

// envProxy is the environment's proxy for a URL, with --noproxy instead of
// NO_PROXY and --proxy-user instead of the URL's own credentials.
func envProxy(nf netFlags) func(*url.URL) (*url.URL, error) {
	return func(target *url.URL) (*url.URL, error) {
		pc := httpclient.ProxyConfigFromEnvironment()
		if nf.noProxy != nil {
			pc.NoProxy = *nf.noProxy
		}
		p, err := pc.ProxyForURL(target)
		if p != nil && nf.proxyUser != nil {
			cp := *p
			cp.User = nf.proxyUser
			p = &cp
		}
		return p, err
	}
}

// saveCookies writes the jar for -c: to the file, or for "-" to stdout
// (runFetch calls it then after everything else it prints there, as curl).
func saveCookies(n *httprequest.HTTPRequest, cfg *config, stdout io.Writer) error {
	if cfg.net.saveTo == "" {
		return nil
	}
	jar, ok := n.CookieJar().(*fetchJar)
	if !ok {
		return nil
	}
	b := jar.netscape(time.Now())
	if cfg.net.saveTo == "-" {
		if _, err := stdout.Write(b); err != nil {
			return fmt.Errorf("-c -: %w", err)
		}
		return nil
	}
	if err := os.WriteFile(cfg.net.saveTo, b, 0o600); err != nil {
		return fmt.Errorf("-c: %w", err)
	}
	return nil
}

// verboseRequest is the request head and body -v prints (requestBytes, or
// the upload's head for -F and -T) with what this file adds: the absolute
// form when the request goes to a proxy (-x or the environment's), the jar's
// Cookie line after the node's header lines (the caller's, the form's
// Content-Type and the automatic Accept-Encoding), and the proxy's
// Proxy-Authorization last — the bytes the node sends for the first hop.
func verboseRequest(n *httprequest.HTTPRequest, cfg *config) []byte {
	target, err := url.Parse(cfg.url)
	if err != nil {
		target = nil
	}
	viaProxy, auth := cfg.proxyHost != "", cfg.net.proxyUser
	if f := proxyFunc(cfg); f != nil && target != nil {
		p, _ := f(target)
		viaProxy, auth = p != nil, nil
		if p != nil {
			auth = p.User
		}
	}
	var b []byte
	var nodeLines int // the header lines the node passes to the client; its automatic ones follow
	if cfg.upload != nil {
		hdrs := cfg.upload.nodeHeaders(n, cfg.headers)
		b, nodeLines = cfg.upload.head(cfg.url, hdrs, cfg.method, viaProxy), len(hdrs)
	} else {
		b = requestBytes(n, cfg.url, cfg.headers, cfg.method, cfg.body, viaProxy)
		nodeLines = len(withAcceptEncoding(n, slices.Clip(cfg.headers)))
	}
	headEnd := bytes.Index(b, []byte("\r\n\r\n"))
	if headEnd < 0 {
		return b
	}
	lines := strings.Split(string(b[:headEnd]), "\r\n")
	// The node's test for a user Cookie line (cookies.go) and the client's
	// for a user Proxy-Authorization line (proxy.go).
	_, userCookie := wire.LookupField(cfg.headers, "cookie")
	if jar := n.CookieJar(); jar != nil && target != nil && !userCookie && nodeLines+1 <= len(lines) {
		req := http.Request{Header: http.Header{}}
		for _, c := range jarCookies(jar, target, cfg.sent) {
			req.AddCookie(c)
		}
		if line := req.Header.Get("Cookie"); line != "" {
			lines = append(lines[:nodeLines+1], append([]string{"Cookie: " + line}, lines[nodeLines+1:]...)...)
		}
	}
	if u, err := wire.ParseRequestURL(cfg.url); err == nil && viaProxy && auth != nil && !u.TLS && !wire.HasLinePrefix(cfg.headers, "proxy-authorization:") {
		pass, _ := auth.Password()
		lines = append(lines, "Proxy-Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte(auth.Username()+":"+pass)))
	}
	return append([]byte(strings.Join(lines, "\r\n")), b[headEnd:]...)
}

// jarCookies is the jar's Cookie line for target: for a request printed
// after it went (sent), what the jar gave the node for it, not what it holds
// now (the response may have set more).
func jarCookies(jar http.CookieJar, target *url.URL, sent bool) []*http.Cookie {
	if fj, ok := jar.(*fetchJar); ok && sent {
		return fj.lastGiven()
	}
	return jar.Cookies(target)
}

// fetchJar is a net/http/cookiejar.Jar that also remembers the cookies it
// was given, so that -c can write them out (a cookiejar.Jar cannot list
// its cookies).
type fetchJar struct {
	*cookiejar.Jar
	mu    sync.Mutex
	kept  map[cookieKey]keptCookie
	order []cookieKey

	skipped []string // the -b files' lines load skipped, for -v

	// given is what Cookies last answered (the Cookie line of the node's
	// last request), for -C -'s -v, printed after the request went.
	given []*http.Cookie
}

// curl's limits on what its jar takes and sends (lib/cookie.h, 7.84 and
// later): net/http/cookiejar has none, so a server could grow the jar, the
// -c file and every later request's Cookie line without bound.
const (
	maxSetCookies  = 50   // cookies taken from one response
	maxCookieBytes = 4096 // a cookie's name and value together
	maxCookiesSent = 150  // cookies in one Cookie line
	maxCookieLine  = 8190 // the Cookie line's value
	// Max-Age is capped at 400 days (RFC 6265bis section 5.6.2, as curl 8;
	// curl 7.88 keeps any): a larger one overflows cookiejar's time
	// arithmetic and deletes the cookie.
	maxCookieAge = 400 * 24 * 60 * 60
)

// Cookies is the jar's answer, up to curl's limits (maxCookiesSent cookies,
// a maxCookieLine-byte line), remembered as given.
func (j *fetchJar) Cookies(u *url.URL) []*http.Cookie {
	c := j.Jar.Cookies(u)
	size := 0
	for i, k := range c {
		if size += len(k.Name) + 1 + len(k.Value) + 2; i == maxCookiesSent || size-2 > maxCookieLine {
			c = c[:i]
			break
		}
	}
	j.mu.Lock()
	j.given = c
	j.mu.Unlock()
	return c
}

// lastGiven returns what Cookies last answered.
func (j *fetchJar) lastGiven() []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.given
}

type cookieKey struct{ domain, path, name string }

type keptCookie struct {
	subdomains, secure, httpOnly bool
	expires                      int64 // Unix seconds; 0: a session cookie
	value                        string
	quoted                       bool // the value came in double quotes, written back in them
	deleted                      bool
}

func newFetchJar() (*fetchJar, error) {
	j, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	return &fetchJar{Jar: j, kept: map[cookieKey]keptCookie{}}, nil
}

// SetCookies stores the cookies in the jar and remembers those the jar
// accepts, filed as it files them (jarHost, jarDomain), so that -c writes
// what the jar holds and nothing it refused. As curl's jar it takes at most
// maxSetCookies at a time, none larger than maxCookieBytes, and no Secure
// cookie from a plain-http URL (localhost excepted: RFC 6265bis section 5.7);
// Max-Age is capped at maxCookieAge.
func (j *fetchJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	cookies = curlTakes(u, cookies)
	j.Jar.SetCookies(u, cookies)
	if u.Scheme != "http" && u.Scheme != "https" {
		return // the jar ignores other schemes
	}
	host := jarHost(u.Host)
	now := time.Now()
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cookies {
		domain, hostOnly, ok := jarDomain(host, c.Domain)
		if !ok {
			continue // the jar refused it
		}
		path := c.Path
		if !strings.HasPrefix(path, "/") {
			path = defaultCookiePath(u.Path)
		}
		k := keptCookie{subdomains: !hostOnly, secure: c.Secure, httpOnly: c.HttpOnly, value: c.Value, quoted: c.Quoted}
		switch {
		case c.MaxAge < 0:
			k.deleted = true
		case c.MaxAge > 0:
			k.expires = now.Add(time.Duration(c.MaxAge) * time.Second).Unix()
		case !c.Expires.IsZero():
			k.expires = c.Expires.Unix()
			k.deleted = !c.Expires.After(now)
		}
		key := cookieKey{domain, path, c.Name}
		if _, ok := j.kept[key]; !ok {
			j.order = append(j.order, key)
		}
		j.kept[key] = k
	}
}

// curlTakes is what curl's jar takes of cookies set by u (SetCookies). As
// curl's, the limit of maxSetCookies counts the cookies kept: one the jar
// refuses (a Domain the host does not match, jarDomain) takes no place.
func curlTakes(u *url.URL, cookies []*http.Cookie) []*http.Cookie {
	host := jarHost(u.Host)
	secure := u.Scheme == "https" || isLocalhost(host)
	out := make([]*http.Cookie, 0, min(len(cookies), maxSetCookies))
	for _, c := range cookies {
		if len(out) == maxSetCookies {
			break
		}
		if _, _, ok := jarDomain(host, c.Domain); !ok {
			continue
		}
		if len(c.Name)+len(c.Value) > maxCookieBytes || (c.Secure && !secure) {
			continue
		}
		if c.MaxAge > maxCookieAge {
			cp := *c
			cp.MaxAge = maxCookieAge
			c = &cp
		}
		out = append(out, c)
	}
	return out
}

// isLocalhost reports whether host (jarHost's form) is localhost or a
// loopback address: a secure context for cookies, as for curl and
// net/http/cookiejar.
func isLocalhost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// jarHost is net/http/cookiejar's canonical host of a URL's Host, the
// domain its cookies are filed under: without the port (an IPv6 literal
// without its brackets, "[::1]:8080" → "::1"), without a trailing dot, in
// lower case. cookiejar also turns a non-ASCII name into punycode; here it
// stays as it is (a -b file with it files the cookie under the same entry).
func jarHost(host string) string {
	colons := strings.Count(host, ":")
	if colons == 1 || (colons > 1 && host[0] == '[' && strings.Contains(host, "]:")) {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// jarDomain is net/http/cookiejar's domainAndType without a public suffix
// list (cookiejar.New(nil)): the domain a cookie with the Domain attribute
// attr, set by host (jarHost), is filed under, whether it is host-only (no
// subdomains), and ok false when the jar refuses it. No attribute: host-only.
// An IP host: only an attribute equal to the host, host-only (so
// "Domain=.127.0.0.1" is refused). A name: the attribute without one leading
// dot, in ASCII, not ending in a dot, that the host domain-matches. With no
// public suffix list a public suffix such as "co.uk" is a domain like any
// other (TestCookiePublicSuffixAccepted).
func jarDomain(host, attr string) (domain string, hostOnly, ok bool) {
	if attr == "" {
		return host, true, true
	}
	if strings.ContainsAny(host, ":%") || net.ParseIP(host) != nil { // cookiejar's isIP
		return host, true, host == attr
	}
	d := strings.TrimPrefix(attr, ".")
	if d == "" || d[0] == '.' || d[len(d)-1] == '.' || !isASCII(d) {
		return "", false, false
	}
	d = strings.ToLower(d)
	if host != d && !strings.HasSuffix(host, "."+d) {
		return "", false, false
	}
	return d, false, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// defaultCookiePath is RFC 6265 §5.1.4's default path of a request path
// (cookiejar's defaultPath).
func defaultCookiePath(p string) string {
	if p == "" || p[0] != '/' {
		return "/"
	}
	i := strings.LastIndexByte(p, '/')
	if i == 0 {
		return "/"
	}
	return p[:i]
}

// seed adds "a=1; b=2" as cookies of rawURL's host, path "/".
func (j *fetchJar) seed(rawURL, s string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	cookies, err := http.ParseCookie(s)
	if err != nil {
		return err
	}
	for _, c := range cookies {
		c.Path = "/"
	}
	j.SetCookies(u, cookies)
	return nil
}

// load reads a cookie file in curl's (Netscape) format: one cookie a line,
// seven tab-separated fields (domain, subdomains TRUE/FALSE, path, secure
// TRUE/FALSE, expiry in Unix seconds or 0, name, value); "#HttpOnly_"
// before the domain marks an HttpOnly cookie; other "#" lines and blank
// lines are skipped. As curl 7.88 reads it: runs of tabs count as one
// (strtok), six fields are a cookie with an empty value (curl writes an
// empty value as a trailing tab, which editors strip), TRUE and FALSE in
// any case; any other line (another number of fields, an expiry that is not
// a number) is skipped and noted in j.skipped (-v prints it). Only a file
// that cannot be read is an error.
func (j *fetchJar) load(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	skip := func(line int, format string, a ...any) {
		j.skipped = append(j.skipped, fmt.Sprintf("%s line %d skipped: ", file, line)+fmt.Sprintf(format, a...))
	}
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		httpOnly := false
		if rest, ok := strings.CutPrefix(text, "#HttpOnly_"); ok {
			text, httpOnly = rest, true
		}
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.FieldsFunc(text, func(r rune) bool { return r == '\t' })
		if len(fields) == 6 {
			fields = append(fields, "")
		}
		if len(fields) != 7 {
			skip(line, "want 7 tab-separated fields, got %d", len(fields))
			continue
		}
		expires, err := strconv.ParseInt(fields[4], 10, 64)
		if err != nil {
			skip(line, "expiry %q is not a number", fields[4])
			continue
		}
		host := strings.TrimPrefix(fields[0], ".")
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]") // curl writes "::1"; "[::1]" too
		secure := strings.EqualFold(fields[3], "TRUE")
		path := fields[2]
		if len(path) > 1 && strings.HasSuffix(path, "/") {
			path = path[:len(path)-1] // curl writes "/p/" for /p's cookies and matches on "/p"
		}
		value, quoted := fields[6], false
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value, quoted = value[1:len(value)-1], true // as http.ParseSetCookie keeps it
		}
		c := &http.Cookie{Name: fields[5], Value: value, Quoted: quoted, Path: path, Secure: secure, HttpOnly: httpOnly}
		if strings.EqualFold(fields[1], "TRUE") {
			c.Domain = host
		}
		if expires != 0 {
			c.Expires = time.Unix(expires, 0)
		}
		// With a port, so that an IPv6 literal ("::1") is bracketed, as
		// url.URL's Host must be.
		scheme, port := "http", "80"
		if secure {
			scheme, port = "https", "443"
		}
		j.SetCookies(&url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port), Path: path}, []*http.Cookie{c})
	}
	return sc.Err()
}

// netscape writes the cookies that are still alive at now in curl's format.
func (j *fetchJar) netscape(now time.Time) []byte {
	j.mu.Lock()
	defer j.mu.Unlock()
	var b strings.Builder
	b.WriteString("# Netscape HTTP Cookie File\n# Written by gdfetch.\n\n")
	tf := func(v bool) string {
		if v {
			return "TRUE"
		}
		return "FALSE"
	}
	for _, key := range j.order {
		k := j.kept[key]
		if k.deleted || (k.expires != 0 && k.expires <= now.Unix()) {
			continue
		}
		domain := key.domain
		if k.subdomains {
			domain = "." + domain
		}
		if k.httpOnly {
			domain = "#HttpOnly_" + domain
		}
		value := k.value
		if k.quoted {
			value = `"` + value + `"`
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", domain, tf(k.subdomains), key.path, tf(k.secure), k.expires, key.name, value)
	}
	return []byte(b.String())
}
