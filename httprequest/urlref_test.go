package httprequest

// Differential tests of URL handling (from the URL audit): an independent reference
// of the Godot functions HTTPRequest runs on a URL, written from the C++
// (Godot 4.x master; stored copies read: core/string/ustring.cpp
// String::parse_url, is_valid_int, to_int, uri_encode, to_lower with
// core/string/ucaps.h; scene/main/http_request.cpp _parse_url and
// request_raw; core/io/http_client_tcp.cpp connect_to_host and request;
// core/io/http_client.cpp query_string_from_dict), compared with the port on
// every input by FuzzURLReference, FuzzQueryReference and
// FuzzConnectHostReference (the seeds run in every go test).
//
// The reference works on []rune, as Godot's String holds UTF-32 code
// points: every index, length and substring below is in code points, and
// every helper is named after the String method it stands for. It is not
// the port's code with the names changed: wire.ParseURL works on bytes.

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/wire"
)

// --- String primitives (ustring.cpp), on code points ---------------------

// gdFind is String::find(what, from) for a string needle: the first index
// ≥ from where what starts, or -1.
func gdFind(s []rune, what string, from int) int {
	w := []rune(what)
	for i := from; i+len(w) <= len(s); i++ {
		if string(s[i:i+len(w)]) == what {
			return i
		}
	}
	return -1
}

// gdFindChar is String::find_char(c).
func gdFindChar(s []rune, c rune) int {
	for i, r := range s {
		if r == c {
			return i
		}
	}
	return -1
}

// gdRFindChar is String::rfind_char(c).
func gdRFindChar(s []rune, c rune) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// gdSubstr is String::substr(from, chars): chars −1 is "to the end"; an
// empty string, a from outside the string or chars ≤ 0 give "".
func gdSubstr(s []rune, from, chars int) []rune {
	if chars == -1 {
		chars = len(s) - from
	}
	if len(s) == 0 || from < 0 || from >= len(s) || chars <= 0 {
		return nil
	}
	if from+chars > len(s) {
		chars = len(s) - from
	}
	return append([]rune(nil), s[from:from+chars]...)
}

// gdBeginsWith is String::begins_with (case-sensitive).
func gdBeginsWith(s []rune, p string) bool {
	pr := []rune(p)
	return len(s) >= len(pr) && string(s[:len(pr)]) == p
}

// gdGetSliceCount is String::get_slice_count(splitter): 0 for an empty
// string, else one more than the number of non-overlapping splitters.
func gdGetSliceCount(s []rune, splitter string) int {
	if len(s) == 0 || splitter == "" {
		return 0
	}
	n, pos := 1, 0
	for {
		pos = gdFind(s, splitter, pos)
		if pos < 0 {
			return n
		}
		n++
		pos += len([]rune(splitter))
	}
}

// gdIsASCIIAlphanumeric is is_ascii_alphanumeric_char.
func gdIsASCIIAlphanumeric(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// gdIsValidInt is String::is_valid_int: not empty; a leading '+' or '-'
// skipped when the length is not 1; then only '0'…'9'.
func gdIsValidInt(s []rune) bool {
	if len(s) == 0 {
		return false
	}
	from := 0
	if len(s) != 1 && (s[0] == '+' || s[0] == '-') {
		from++
	}
	for _, c := range s[from:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// refToIntMaster selects master's _to_int, whose overflow test only runs
// from the 20th digit on (`if (unlikely(digits > 18))`), so a 19-digit value
// above INT64_MAX wraps instead of clamping ("http://h:9223372036854775888/"
// is port 80). The port follows it (wire's toInt); false makes the
// reference the older to_int, which tests every digit and clamps.
var refToIntMaster = true

// gdToInt is String::to_int (the _to_int template of master): only the text
// before the first '.'; digits accumulated in a uint64; a '-' flips the sign
// while the value is still 0; every other character skipped; past INT64_MAX
// (or below INT64_MIN) the error return is INT64_MAX / INT64_MIN.
func gdToInt(s []rune) int64 {
	if len(s) == 0 {
		return 0
	}
	to := len(s)
	if i := gdFindChar(s, '.'); i >= 0 {
		to = i
	}
	var integer uint64
	var digits uint8 // uint8_t digits
	positive := true
	for _, c := range s[:to] {
		switch {
		case c >= '0' && c <= '9':
			if digits > 18 || !refToIntMaster {
				overflow := integer > math.MaxInt64/10 ||
					integer == math.MaxInt64/10 && (positive && c > '7' || !positive && c > '8')
				if overflow {
					if positive {
						return math.MaxInt64
					}
					return math.MinInt64
				}
			}
			integer = integer*10 + uint64(c-'0')
			digits++
		case integer == 0 && c == '-':
			positive = !positive
		}
	}
	if positive {
		return int64(integer)
	}
	return int64(integer * math.MaxUint64) // integer * uint64(-1)
}

// unicode16Lower lists the simple lower-case mappings of UnicodeData.txt
// 16.0.0 that Go's unicode tables (Unicode 15.0.0) do not have. Godot's
// ucaps.h is generated from UnicodeData.txt (PR #90726, UCD 16.0.0, Godot
// 4.4+; PR #115121 moved it to 17.0.0 for 4.7): its reverse_caps_table has
// 1460 entries, Go's unicode.ToLower changes 1433 code points, and these are
// the 27 between them (read off the stored ucaps.h: { 0x1C89, 0x1C8A },
// { 0xA7CB, 0x0264 }, { 0xA7CC, 0xA7CD }, { 0xA7DA, 0xA7DB },
// { 0xA7DC, 0x019B }, { 0x10D50, 0x10D70 } … { 0x10D65, 0x10D85 }).
func unicode16Lower(c rune) (rune, bool) {
	switch {
	case c == 0x1C89:
		return 0x1C8A, true
	case c == 0xA7CB:
		return 0x0264, true
	case c == 0xA7CC:
		return 0xA7CD, true
	case c == 0xA7DA:
		return 0xA7DB, true
	case c == 0xA7DC:
		return 0x019B, true
	case c >= 0x10D50 && c <= 0x10D65:
		return c + 0x20, true
	}
	return c, false
}

// gdToLower is String::to_lower: _find_lower (a binary search of ucaps.h's
// reverse_caps_table) on every code point.
func gdToLower(s []rune) []rune {
	out := make([]rune, len(s))
	for i, c := range s {
		if l, ok := unicode16Lower(c); ok {
			out[i] = l
			continue
		}
		out[i] = unicode.ToLower(c)
	}
	return out
}

// --- String::parse_url -----------------------------------------------------

// refURL holds parse_url's output parameters, the scheme with its "://" as
// Godot returns it.
type refURL struct {
	scheme, host, path, fragment string
	port                         int
}

// refParseURL is String::parse_url(r_scheme, r_host, r_port, r_path,
// r_fragment), step by step; on an error the output parameters keep what was
// assigned before it.
func refParseURL(in string) (u refURL, err godot.Error) {
	base := []rune(in)
	pos := gdFind(base, "://", 0)
	// Scheme
	if pos != -1 {
		valid := true
		for i := 0; i < pos; i++ {
			if !gdIsASCIIAlphanumeric(base[i]) && base[i] != '+' && base[i] != '-' && base[i] != '.' {
				valid = false
				break
			}
		}
		if valid {
			u.scheme = string(gdToLower(gdSubstr(base, 0, pos+3)))
			base = gdSubstr(base, pos+3, len(base)-pos-3)
		}
	}
	// Fragment
	pos = gdFindChar(base, '#')
	if pos != -1 {
		u.fragment = string(gdSubstr(base, pos+1, -1))
		base = gdSubstr(base, 0, pos)
	}
	// Path
	pos = gdFindChar(base, '/')
	if pos != -1 {
		u.path = string(gdSubstr(base, pos, len(base)-pos))
		base = gdSubstr(base, 0, pos)
	}
	// Host: credentials stripped
	pos = gdFindChar(base, '@')
	if pos != -1 {
		base = gdSubstr(base, pos+1, len(base)-pos-1)
	}
	var host []rune
	if gdBeginsWith(base, "[") {
		pos = gdRFindChar(base, ']')
		if pos == -1 {
			return u, godot.ErrInvalidParameter
		}
		host = gdSubstr(base, 1, pos-1)
		base = gdSubstr(base, pos+1, len(base)-pos-1)
	} else {
		if gdGetSliceCount(base, ":") > 2 {
			return u, godot.ErrInvalidParameter
		}
		pos = gdRFindChar(base, ':')
		if pos == -1 {
			host = base
			base = nil
		} else {
			host = gdSubstr(base, 0, pos)
			base = gdSubstr(base, pos, len(base)-pos)
		}
	}
	if len(host) == 0 {
		return u, godot.ErrInvalidParameter
	}
	u.host = string(gdToLower(host))
	// Port
	if gdBeginsWith(base, ":") {
		base = gdSubstr(base, 1, len(base)-1)
		if !gdIsValidInt(base) {
			return u, godot.ErrInvalidParameter
		}
		u.port = int(int32(gdToInt(base))) // r_port is a C++ int
		if u.port < 1 || u.port > 65535 {
			return u, godot.ErrInvalidParameter
		}
	}
	return u, 0
}

// --- HTTPRequest::_parse_url and what request_raw does with it ------------

// refTarget is the node's fields after _parse_url: use_tls, url (the host),
// port, request_string.
type refTarget struct {
	tls  bool
	host string
	port int
	path string
}

// refNodeParse is HTTPRequest::_parse_url: the reset (use_tls false, path "",
// port 80), parse_url into the members, then the scheme test and defaults.
func refNodeParse(in string) (t refTarget, err godot.Error) {
	t.port = 80
	u, perr := refParseURL(in)
	t.host, t.port, t.path = u.host, u.port, u.path
	if perr != 0 {
		return t, perr
	}
	switch u.scheme {
	case "https://":
		t.tls = true
	case "http://":
	default:
		return t, godot.ErrInvalidParameter
	}
	if t.port == 0 {
		t.port = 80
		if t.tls {
			t.port = 443
		}
	}
	if t.path == "" {
		t.path = "/"
	}
	return t, 0
}

// refConnect is HTTPClientTCP::connect_to_host(host, port, tls) up to the
// checks that can refuse it (the http:// / https:// prefix, HOST_MIN_LEN 4
// in code points), and returns conn_host and conn_port.
func refConnect(host string, port int, tls bool) (connHost string, connPort int, useTLS bool, err godot.Error) {
	h := []rune(host)
	useTLS = tls
	lower := gdToLower(h)
	switch {
	case gdBeginsWith(lower, "http://"):
		h, useTLS = gdSubstr(h, 7, -1), false
	case gdBeginsWith(lower, "https://"):
		h, useTLS = gdSubstr(h, 8, -1), true
	}
	if len(h) < 4 {
		return "", 0, useTLS, godot.ErrInvalidParameter
	}
	if port < 0 {
		port = 80
		if useTLS {
			port = 443
		}
	}
	return string(h), port, useTLS, 0
}

// refHTTPProxyRequest is the request line and Host line HTTPClientTCP::request
// writes for method GET and target path, plain, through an HTTP proxy
// (uri = "http://%s:%d%s" of conn_host, conn_port, the target; Host with the
// port unless it is 80).
func refHTTPProxyRequest(connHost string, connPort int, path string) (line, host string) {
	line = "GET http://" + connHost + ":" + strconv.Itoa(connPort) + path + " HTTP/1.1"
	host = "Host: " + connHost
	if connPort != 80 {
		host += ":" + strconv.Itoa(connPort)
	}
	return line, host
}

// --- HTTPClient::query_string_from_dict -----------------------------------

// gdURIEncode is String::uri_encode: the UTF-8 bytes, '.', '-', '_', '~',
// ASCII letters and digits kept, every other byte %XX upper case.
func gdURIEncode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c == '.' || c == '-' || c == '_' || c == '~' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)>>4, 16)) + strings.ToUpper(strconv.FormatUint(uint64(c)&15, 16)))
		}
	}
	return b.String()
}

// refVariant is the small Variant model of the query fuzz: nil, bool, int64,
// string, and Array ([]any of those, nested).
func refStringify(v any, inArray bool) string {
	switch x := v.(type) {
	case nil:
		return "<null>"
	case bool:
		if x {
			return "true"
		}
		return "false"
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		if inArray {
			return `"` + x + `"` // only letters and digits are generated inside arrays
		}
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = refStringify(e, true)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	panic("refStringify: unexpected type")
}

// refQueryString is query_string_from_dict: for each entry in order, key
// String(key).uri_encode(); an ARRAY value adds "&key=" + String(element)
// per element, NIL adds "&key", anything else "&key=" + String(value); the
// result drops its first character (substr(1)).
func refQueryString(fields []wire.QueryField) string {
	q := ""
	for _, f := range fields {
		key := gdURIEncode(refStringify(f.Key, false))
		switch v := f.Value.(type) {
		case []any:
			for _, e := range v {
				q += "&" + key + "=" + gdURIEncode(refStringify(e, false))
			}
		case nil:
			q += "&" + key
		default:
			q += "&" + key + "=" + gdURIEncode(refStringify(v, false))
		}
	}
	return string(gdSubstr([]rune(q), 1, -1))
}

// --- the port's side -------------------------------------------------------

// proxySink is a loopback "HTTP proxy" (drive.Serve) that hands over the
// request head of each connection and answers 200 with an empty body.
type proxySink struct {
	ln    net.Listener
	heads chan []byte
}

func newProxySink(tb testing.TB) *proxySink {
	p := &proxySink{heads: make(chan []byte, 16)}
	p.ln = drive.Serve(tb, func(c net.Conn) {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		drive.EachHead(c, 256<<10, func(head []byte) error {
			select {
			case p.heads <- append([]byte(nil), head...):
			case <-time.After(10 * time.Second): // nobody reads it: Serve's cleanup must not wait
			}
			_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			return io.EOF // one request per connection
		})
	})
	return p
}

func (p *proxySink) port() int { return drive.Port(p.ln) }

// nodeOutcome is what the port's node did with a URL given to Do through
// the HTTP proxy p: the error code Do returned before any completion (0 when
// it started), the request line and the Host line the proxy received.
func nodeOutcome(tb testing.TB, n *HTTPRequest, p *proxySink, url string) (code godot.Error, line, host string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := n.Do(ctx, url, nil, httpclient.MethodGet, nil); err != nil {
		return godot.CodeOf(err), "", "", err // refused, or a completion other than success
	}
	select {
	case head := <-p.heads:
		lines := strings.Split(string(head), "\r\n")
		line = lines[0]
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, "Host:") {
				host = l
			}
		}
		return 0, line, host, nil
	case <-time.After(5 * time.Second):
		tb.Fatalf("%q: success without a request at the proxy", url)
	}
	return 0, "", "", nil
}

// checkURL compares one input: parse_url, _parse_url, and for a plain URL
// that starts, the bytes the node sends through an HTTP proxy.
func checkURL(t *testing.T, n *HTTPRequest, p *proxySink, in string) {
	// Godot's String cannot hold what a Go string holds beyond valid UTF-8
	// without NUL: the port documents invalid UTF-8 as "may differ".
	if !utf8.ValidString(in) || strings.ContainsRune(in, 0) {
		return
	}
	want, wantErr := refParseURL(in)
	got, gotErr := wire.ParseURL(in)
	if godot.CodeOf(gotErr) != wantErr {
		t.Fatalf("ParseURL(%q): error %v, Godot %v", in, gotErr, wantErr)
	}
	wantScheme := strings.TrimSuffix(want.scheme, "://")
	if got.Host != want.host || got.Port != want.port || got.Path != want.path ||
		(wantErr == 0 || gotErr == nil) && (got.Scheme != wantScheme || got.Fragment != want.fragment) {
		t.Fatalf("ParseURL(%q) = %+v, Godot scheme %q host %q port %d path %q fragment %q",
			in, got, want.scheme, want.host, want.port, want.path, want.fragment)
	}

	wt, werr := refNodeParse(in)
	gt, gerr := wire.ParseRequestURL(in)
	if godot.CodeOf(gerr) != werr {
		t.Fatalf("ParseRequestURL(%q): error %v, Godot %v", in, gerr, werr)
	}
	if werr == 0 && (gt.TLS != wt.tls || gt.Host != wt.host || gt.Port != wt.port || gt.Path != wt.path) {
		t.Fatalf("ParseRequestURL(%q) = %+v, Godot %+v", in, gt, wt)
	}
	// A redirect target that starts with "http" keeps what _parse_url left
	// in the members even when it failed (§2.8.1.5).
	if strings.HasPrefix(in, "http") {
		rt := parseRedirectTarget(in)
		if rt.TLS != wt.tls || rt.Host != wt.host || rt.Port != wt.port || rt.Path != wt.path {
			t.Fatalf("parseRedirectTarget(%q) = %+v, Godot's members %+v", in, rt, wt)
		}
	}

	if n == nil || werr != 0 || wt.tls {
		return
	}
	// §7 D2 (COMPAT Q14): CR, LF or NUL in the host or path is refused.
	if strings.ContainsAny(wt.host, "\r\n") || strings.ContainsAny(wt.path, "\r\n") {
		code, _, _, err := nodeOutcome(t, n, p, in)
		if code != godot.ErrInvalidParameter {
			t.Fatalf("Do(%q) with CR/LF in host or path: %v, want ERR_INVALID_PARAMETER (COMPAT Q14)", in, err)
		}
		return
	}
	connHost, connPort, _, cerr := refConnect(wt.host, wt.port, false)
	code, line, host, err := nodeOutcome(t, n, p, in)
	if cerr != 0 {
		// request_raw: connect_to_host failed → ERR_CANT_CONNECT (and R2).
		if !errors.Is(err, ResultCantConnect) || code != godot.ErrInvalidParameter {
			t.Fatalf("Do(%q): %v, Godot: connect_to_host refuses (ERR_INVALID_PARAMETER → RESULT_CANT_CONNECT)", in, err)
		}
		return
	}
	if code != 0 {
		t.Fatalf("Do(%q): %v, Godot sends the request", in, err)
	}
	wantLine, wantHost := refHTTPProxyRequest(connHost, connPort, wt.path)
	if line != wantLine || host != wantHost {
		t.Fatalf("Do(%q) sent %q / %q, Godot %q / %q", in, line, host, wantLine, wantHost)
	}
}

var urlSeeds = []string{
	"http://foo.com:8080:433", "ftp://foo.com", "http://foo.com:8080", "http://foo.com", "https://foo.com",
	"http://[::1]:8080/", "http://[2001:db8::1]:8080/a?b#c", "http://h?x=1", "http://user:pw@Example.COM/p",
	"HTTP://EXAMPLE.com:0080/A#F", "http://h:", "http://h:+80/", "http://h:-1/", "http://h:4294967376/",
	"http://h:99999999999999999999/", "://host/x", "http:/host", "http://a@b@c.com/", "http://[x]y:5/",
	"http://[]/", "http://[abc", "http://host:8o/", "x+y.z://host/", "http://İSTANBUL.com/", "http://ÉCOLE.fr/",
	"http://\U00010D50abc.com/", "http://\ua7dcabc.com/", "http://h/pa th?q=a b", "http://h#frag/x", "https://h:80/",
	"http://h:443/", "http://abc/", "http://ab:9/", "http://h\r\nX: y/", "http://[::ffff:1.2.3.4]/",
	"http://0/", "http://-1:5/", "http://h:-0/", "http://h:00000000000000000000000080/", "http://h: 80/",
	"http://h:٨٠/", "http://héllo.com:8080/ü?ä#ö", "http://h:1e3/",
	"http://host:+80/", "http://host:4294967376/", "http://[x]yyyy:5/", "http://host/pa th?q=a b",
	"http://host#frag/x", "http://host:443/", "http://[2001:db8::1]/", "http://host:00000000000000000000000080/",
	"http://ÀÉ/", "http://hostİ/", "http://KELVINK/", "http://ᲉᲉᲉᲉ/",
	"http://host:9223372036854775888/", "http://host:99999999999999999999/",
}

// FuzzURLReference compares the port's URL handling with the
// reference above on every input: parse_url (accepted or refused, the error
// code, scheme, host, port, path, fragment), _parse_url (the request
// target), the redirect members after a failed _parse_url, and — through the
// node and a loopback HTTP proxy, for plain URLs — whether the connection
// starts and the exact request line and Host line sent.
func FuzzURLReference(f *testing.F) {
	for _, s := range urlSeeds {
		f.Add(s)
	}
	p := newProxySink(f)
	n := New()
	f.Cleanup(n.Close)
	n.SetHTTPProxy("127.0.0.1", p.port())
	f.Fuzz(func(t *testing.T, in string) {
		checkURL(t, n, p, in)
	})
}

// genQueryFields builds a random Dictionary (kept in insertion order, as
// Godot's Dictionary iterates) from data.
func genQueryFields(data []byte) []wire.QueryField {
	i := 0
	next := func() byte {
		if i >= len(data) {
			return 0
		}
		b := data[i]
		i++
		return b
	}
	str := func(alnum bool) string {
		n := int(next() % 6)
		var b []rune
		for range n {
			c := next()
			switch {
			case alnum:
				b = append(b, rune("abcXYZ019"[c%9]))
			case c%7 == 0:
				b = append(b, []rune("é漢 &=%+/?#~._-\U0001F600")[int(c/7)%15])
			default:
				b = append(b, rune(' '+c%95))
			}
		}
		return string(b)
	}
	var value func(depth int, inArray bool) any
	value = func(depth int, inArray bool) any {
		switch k := next() % 6; {
		case k == 0:
			return nil
		case k == 1:
			return next()%2 == 1
		case k == 2:
			return int64(int8(next())) * int64(next())
		case k == 3 && depth < 3:
			m := int(next() % 4)
			arr := make([]any, m)
			for j := range arr {
				arr[j] = value(depth+1, true)
			}
			return arr
		default:
			return str(inArray)
		}
	}
	var fields []wire.QueryField
	for n := int(next() % 6); len(fields) < n; {
		var key any
		switch next() % 4 {
		case 0:
			key = int64(int8(next()))
		case 1:
			key = nil
		default:
			key = str(false)
		}
		fields = append(fields, wire.QueryField{Key: key, Value: value(0, false)})
	}
	return fields
}

// FuzzQueryReference compares wire.QueryStringFromDict with
// query_string_from_dict on random dictionaries of null, bool, int, string
// and (nested) Array keys and values.
func FuzzQueryReference(f *testing.F) {
	f.Add([]byte{3, 2, 3, 'k', 'e', 'y', 4, 3, 'v', 'a', 'l'})
	f.Add([]byte{5, 1, 3, 3, 3, 2, 1, 2, 1, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		fields := genQueryFields(data)
		got := wire.QueryStringFromDict(fields)
		want := refQueryString(fields)
		if got != want {
			t.Fatalf("QueryStringFromDict(%#v) = %q, Godot %q", fields, got, want)
		}
	})
}

// FuzzConnectHostReference compares HTTPClient.connect_to_host(host,
// port) followed by request(GET, "/") — through a loopback HTTP proxy, so
// any host text reaches the wire — with connect_to_host's host rules (§1.5:
// the http:// / https:// prefix, HOST_MIN_LEN in code points, a negative
// port's default) and request()'s absolute-form target and Host line (§1.7.7,
// §1.7.10). Only plain connections (an https:// prefix turns TLS on, and the
// request would go through a CONNECT tunnel instead).
func FuzzConnectHostReference(f *testing.F) {
	for _, s := range []string{"example.com", "HTTP://Example.com", "http://abc", "::1", "2001:db8::1", "héllo", "a:b:c/d?e"} {
		f.Add(s, int64(-1))
		f.Add(s, int64(8080))
	}
	f.Add("host", int64(0))
	f.Add("host", int64(70000))
	f.Add("host", int64(80))
	p := newProxySink(f)
	f.Fuzz(func(t *testing.T, host string, port64 int64) {
		if !utf8.ValidString(host) || strings.ContainsAny(host, "\r\n\x00") {
			return // §7 D2 (COMPAT W1) refuses CR, LF and NUL; invalid UTF-8 has no Godot String
		}
		port := int(int32(port64)) // Godot's p_port is an int
		connHost, connPort, tls, cerr := refConnect(host, port, false)
		if tls {
			return
		}
		c := httpclient.New()
		defer c.Close()
		c.SetBlockingMode(true)
		c.SetHTTPProxy("127.0.0.1", p.port())
		err := c.ConnectToHost(host, port, nil)
		if godot.CodeOf(err) != cerr {
			t.Fatalf("ConnectToHost(%q, %d) = %v, Godot %v", host, port, err, cerr)
		}
		if cerr != 0 {
			return
		}
		for c.Status() == httpclient.StatusResolving || c.Status() == httpclient.StatusConnecting {
			if err := c.Poll(); err != nil {
				t.Fatalf("ConnectToHost(%q, %d): %v", host, port, err)
			}
		}
		if err := c.RequestRaw(httpclient.MethodGet, "/", nil, nil); err != nil {
			t.Fatalf("RequestRaw after ConnectToHost(%q, %d): %v", host, port, err)
		}
		for c.Status() == httpclient.StatusRequesting {
			if err := c.Poll(); err != nil {
				t.Fatalf("Poll (%q, %d): %v", host, port, err)
			}
		}
		var head []byte
		select {
		case head = <-p.heads:
		case <-time.After(5 * time.Second):
			t.Fatalf("(%q, %d): nothing reached the proxy", host, port)
		}
		lines := strings.Split(string(head), "\r\n")
		var hostLine string
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, "Host:") {
				hostLine = l
			}
		}
		wantLine, wantHost := refHTTPProxyRequest(connHost, connPort, "/")
		if lines[0] != wantLine || hostLine != wantHost {
			t.Fatalf("ConnectToHost(%q, %d) sent %q / %q, Godot %q / %q", host, port, lines[0], hostLine, wantLine, wantHost)
		}
	})
}
