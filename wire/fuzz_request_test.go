package wire

import (
	"bufio"
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gdhttp/gdhttp/godot"
)

// FuzzParseURL checks the invariants of Godot's parse_url port (§2.5):
// never a panic; on success a non-empty, lower-case host and a port that is
// 0 (absent) or 1…65535; re-serialising a result and parsing it again gives
// the same result whenever the parts can be written back unambiguously.
// Seeds: the table of TestParseURL plus the committed corpus in
// testdata/fuzz/FuzzParseURL.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"http://foo.com", "https://Foo.COM:8443/Path?q=1#frag", "http://[::1]:8080/",
		"http://user:pass@h:81/p", "http://h?x=1", "http://foo.com:8080:433", "ftp://x",
		"http://h:4294967376", "http://[a]b]:1", "://h", "mailto:x@y", "http://ÄBC/",
		"", "[", "http://[", "http://h:+80", "a://b://c", "http://h#a#b/c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURL(s)
		ru, rerr := ParseRequestURL(s)
		if err != nil {
			if rerr == nil {
				t.Fatalf("ParseRequestURL(%q) accepted what ParseURL refused: %v", s, err)
			}
			if godot.CodeOf(err) != godot.ErrInvalidParameter {
				t.Fatalf("ParseURL(%q): error %v is not ERR_INVALID_PARAMETER", s, err)
			}
			return
		}
		if u.Host == "" {
			t.Fatalf("ParseURL(%q): empty host", s)
		}
		if strings.ToLower(u.Host) != u.Host {
			t.Fatalf("ParseURL(%q): host %q is not lower-case", s, u.Host)
		}
		if u.Port != 0 && (u.Port < 1 || u.Port > 65535) {
			t.Fatalf("ParseURL(%q): port %d out of range", s, u.Port)
		}
		if strings.ToLower(u.Scheme) != u.Scheme || strings.Contains(u.Scheme, "://") {
			t.Fatalf("ParseURL(%q): scheme %q", s, u.Scheme)
		}
		if strings.ContainsRune(u.Fragment, 0) && !strings.ContainsRune(s, 0) {
			t.Fatalf("ParseURL(%q): invented a NUL", s)
		}
		if u.Path != "" && u.Path[0] != '/' {
			t.Fatalf("ParseURL(%q): path %q does not start with '/'", s, u.Path)
		}

		// ParseRequestURL agrees with ParseURL.
		switch u.Scheme {
		case "http", "https":
			if rerr != nil {
				t.Fatalf("ParseRequestURL(%q): %v", s, rerr)
			}
			if ru.TLS != (u.Scheme == "https") || ru.Host != u.Host || ru.Port < 1 || ru.Port > 65535 || ru.Path == "" {
				t.Fatalf("ParseRequestURL(%q) = %+v, ParseURL = %+v", s, ru, u)
			}
		default:
			if rerr == nil {
				t.Fatalf("ParseRequestURL(%q) accepted scheme %q", s, u.Scheme)
			}
		}

		// Stability: write the parts back and parse again.
		if u.Scheme == "" || strings.ContainsAny(u.Host, "@/#") {
			return
		}
		var b strings.Builder
		b.WriteString(u.Scheme + "://")
		if strings.Contains(u.Host, ":") || strings.HasPrefix(u.Host, "[") {
			b.WriteString("[" + u.Host + "]")
		} else {
			b.WriteString(u.Host)
		}
		if u.Port != 0 {
			b.WriteString(":" + strconv.Itoa(u.Port))
		}
		b.WriteString(u.Path)
		if u.Fragment != "" {
			b.WriteString("#" + u.Fragment)
		}
		u2, err := ParseURL(b.String())
		if err != nil {
			t.Fatalf("ParseURL(%q) = %+v; rebuilt %q fails: %v", s, u, b.String(), err)
		}
		if u2 != u {
			t.Fatalf("ParseURL(%q) = %+v; rebuilt %q gives %+v", s, u, b.String(), u2)
		}
	})
}

// FuzzAppendRequest checks that no request ValidateRequest accepts can
// inject anything (§7 D2): the head is exactly the request line, the user
// headers as given, the automatic headers (§1.7.10, in order, at most once
// each) and the empty line, and no line holds a CR, LF or NUL. When the
// method, URL, host and headers are simple, the bytes also parse back with
// net/http.ReadRequest to the same method, target and header values.
// Seeds: the golden cases plus the committed corpus in
// testdata/fuzz/FuzzAppendRequest.
func FuzzAppendRequest(f *testing.F) {
	for _, tc := range requestGoldenCases {
		r := tc.req
		var h [3]string
		copy(h[:], r.Headers)
		flags := uint8(min(len(r.Headers), 3))
		if r.TLS {
			flags |= 1 << 2
		}
		if r.HTTPProxy {
			flags |= 1 << 3
		}
		flags |= 1 << 4 // strict
		f.Add(int(r.Method), r.URL, h[0], h[1], h[2], r.Body, r.Host, r.Port, flags, r.UserAgent)
	}
	f.Add(0, "/\r\nX: y", "A: b\r\nC: d", "", "", []byte(nil), "h", 80, uint8(1), "")
	f.Add(7, "h:443", "", "", "", []byte(nil), "p", 3128, uint8(0), "")
	f.Add(2, "/", "X: \x00", " Host: a", "host:", []byte("body"), "H", 443, uint8(3|1<<2), "ua\n")

	f.Fuzz(func(t *testing.T, method int, url, h0, h1, h2 string, body []byte, host string, port int, flags uint8, ua string) {
		r := Request{
			Method:    Method(method),
			URL:       url,
			Headers:   []string{h0, h1, h2}[:min(int(flags&3), 3)],
			Body:      body,
			Host:      host,
			Port:      port,
			TLS:       flags&(1<<2) != 0,
			HTTPProxy: flags&(1<<3) != 0,
			UserAgent: ua,
		}
		strict := flags&(1<<4) != 0
		// Never panics, accepted or not.
		full := AppendRequest(nil, &r)
		if err := ValidateRequest(&r, strict); err != nil {
			if godot.CodeOf(err) != godot.ErrInvalidParameter {
				t.Fatalf("error %v is not ERR_INVALID_PARAMETER", err)
			}
			return
		}
		head := AppendRequestHead(nil, &r)
		if !bytes.Equal(full, append(slices.Clip(head), body...)) {
			t.Fatalf("AppendRequest != head + body")
		}
		if !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
			t.Fatalf("head does not end with an empty line: %q", head)
		}
		lines := strings.Split(string(head[:len(head)-4]), "\r\n")
		for i, l := range lines {
			if l == "" || strings.ContainsAny(l, "\r\n\x00") {
				t.Fatalf("line %d is empty or holds CR/LF/NUL: %q (head %q)", i, l, head)
			}
		}
		target := url
		if r.HTTPProxy && !r.TLS {
			target = "http://" + host + ":" + strconv.Itoa(port) + url
		}
		if want := r.Method.String() + " " + target + " HTTP/1.1"; lines[0] != want {
			t.Fatalf("request line %q, want %q", lines[0], want)
		}
		n := len(r.Headers)
		if len(lines) < 1+n || !slices.Equal(lines[1:1+n], r.Headers) {
			t.Fatalf("user headers not written verbatim: %q", head)
		}
		auto := []string{"Host: ", "Content-Length: ", "User-Agent: ", "Accept: */*"}
		next := 0
		for _, l := range lines[1+n:] {
			for next < len(auto) && !strings.HasPrefix(l, auto[next]) {
				next++
			}
			if next == len(auto) {
				t.Fatalf("unexpected automatic line %q in %q", l, head)
			}
			next++
		}

		if !strict || !fuzzSimpleForNetHTTP(&r) {
			return
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(full)))
		if err != nil {
			t.Fatalf("net/http cannot read %q: %v", full, err)
		}
		if req.Method != r.Method.String() || req.RequestURI != target {
			t.Fatalf("net/http read %s %s, want %s %s", req.Method, req.RequestURI, r.Method, target)
		}
		for _, h := range r.Headers {
			name, value, _ := strings.Cut(h, ":")
			if !slices.Contains(req.Header.Values(name), strings.Trim(value, " \t")) {
				t.Fatalf("net/http lost header %q: %v", h, req.Header)
			}
		}
	})
}

// fuzzSimpleForNetHTTP reports whether net/http can be expected to read the
// request back: an origin-form path without escapes, a plain host name, a
// real port and no user header that net/http interprets (Host, framing).
func fuzzSimpleForNetHTTP(r *Request) bool {
	if r.Method == MethodConnect || r.Port < 0 || r.Port > 65535 || r.Host == "" || r.UserAgent != "" && !fuzzPrintableASCII(r.UserAgent) {
		return false
	}
	if len(r.URL) == 0 || r.URL[0] != '/' {
		return false
	}
	for i := 0; i < len(r.URL); i++ {
		c := r.URL[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("/._~-?=&", c) >= 0) {
			return false
		}
	}
	for i := 0; i < len(r.Host); i++ {
		c := r.Host[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	for _, h := range r.Headers {
		name, _, _ := strings.Cut(h, ":")
		switch strings.ToLower(name) {
		case "host", "content-length", "transfer-encoding":
			return false
		}
	}
	return true
}

func fuzzPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
