package fuzz

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gdhttp/gdhttp/wire"
)

// FuzzDiffReadResponse runs wire.HeadParser in strict mode (§7.4, the mode
// meant to follow RFC 9110/9112) and net/http.ReadResponse on the same
// bytes, skipping 1xx responses on the net/http side as http.Transport does.
// Both must accept or refuse alike and, when both accept, agree on the
// status code, the head length, the number of 1xx heads, every header value
// and the body framing and length — unless the input shows one of the named
// differences listed in knownDifferences, each of which excuses only the
// aspects it names.
func FuzzDiffReadResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n",
		"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody",
		"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-A: 1 \t \r\nx-a:\t2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: close\r\nPragma: no-cache\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: \xc3\xa9\xff\r\n\r\n",
		"HTTP/1.1  200 OK\r\n\r\n",
		"HTTP/2.0 200 OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n",
		"HTTP/1.1 200 O\x01K\r\n\r\n",
		"HTTP/1.1 200 OK\n\r\nX: y\n\n",
		"HTTP/1.1 200 OK\nContent-Length: 2\n\r\nok",
		"HTTP/1.1 200 OK\r\nX: \xc3(z\r\nY: a\xc0\x8ab\xe2\x82(\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, headReq bool) {
		p := wire.HeadParser{Strict: true, HeadRequest: headReq, Limits: wire.Limits{MaxHeaderBytes: 1 << 16}}
		var h wire.Head
		n, err := p.Parse(data, &h)
		net := readNet(data, headReq)

		region := data
		if m := max(n, net.n); m > 0 {
			region = data[:m]
		}
		known := knownDifferences(region)
		excused := func(aspect int) string {
			for _, d := range known {
				if d.excuses&aspect != 0 {
					return d.name
				}
			}
			return ""
		}

		ours := err == nil
		theirs := net.err == nil
		if ours != theirs {
			if err == wire.ErrNeedMore && !theirs {
				return // net/http saw EOF in the same incomplete head
			}
			if excused(acceptance) == "" {
				t.Fatalf("acceptance differs on %q:\n  gdhttp:   n=%d err=%v\n  net/http: n=%d err=%v", data, n, err, net.n, net.err)
			}
			return
		}
		if !ours {
			return
		}

		mismatch := func(aspect int, what string, a, b any) {
			if a == b {
				return
			}
			if excused(aspect) == "" {
				t.Fatalf("%s differs on %q: gdhttp %#v, net/http %#v", what, data, a, b)
			}
		}
		mismatch(values, "status code", h.Code, net.resp.StatusCode)
		mismatch(values, "informational heads", h.Informational, net.info)
		mismatch(headLength, "head length", n, net.n)
		mismatch(framing, "framing", h.Framing, net.framing)
		if h.Framing == wire.FramingLength && net.framing == wire.FramingLength {
			mismatch(framing, "Content-Length", h.ContentLength, net.resp.ContentLength)
		}
		ourHdr, netHdr := comparable(wire.HTTPHeader(h.Headers)), comparable(net.resp.Header)
		mismatch(values, "header keys", len(ourHdr), len(netHdr))
		for k, vv := range ourHdr {
			mismatch(values, "header "+k, strings.Join(vv, "\n"), strings.Join(netHdr[k], "\n"))
		}
	})
}

// Aspects of a result that a known difference may excuse.
const (
	acceptance = 1 << iota // one side accepts, the other refuses
	values                 // code, header values
	framing                // body framing and length
	headLength             // where the head ends
)

// netResult is what net/http makes of the bytes, 1xx heads skipped.
type netResult struct {
	resp    *http.Response
	n       int // bytes consumed by all heads
	info    int
	framing wire.Framing
	err     error
}

func readNet(data []byte, headReq bool) netResult {
	rd := bytes.NewReader(data)
	br := bufio.NewReader(rd)
	req := &http.Request{Method: http.MethodGet}
	if headReq {
		req.Method = http.MethodHead
	}
	var r netResult
	for {
		resp, err := http.ReadResponse(br, req)
		r.n = len(data) - rd.Len() - br.Buffered()
		if err != nil {
			r.err = err
			return r
		}
		if resp.StatusCode/100 == 1 && resp.StatusCode != 101 && r.info < wire.StrictMaxInformational {
			r.info++ // http.Transport reads the next response after a 1xx
			continue
		}
		if resp.StatusCode/100 == 1 && resp.StatusCode != 101 {
			r.err = errTooManyInformational
			return r
		}
		r.resp = resp
		switch {
		case headReq || resp.StatusCode == 204 || resp.StatusCode == 304:
			r.framing = wire.FramingNone
		case len(resp.TransferEncoding) == 1 && resp.TransferEncoding[0] == "chunked":
			r.framing = wire.FramingChunked
		case resp.ContentLength >= 0:
			r.framing = wire.FramingLength
		default:
			r.framing = wire.FramingUntilClose
		}
		return r
	}
}

var errTooManyInformational = &wire.LimitError{What: "informational responses", Limit: wire.StrictMaxInformational}

// comparable drops the fields net/http rewrites while reading a response:
// Transfer-Encoding and Content-Length (compared through the framing),
// Connection (removed when it says close), Trailer (moved to
// Response.Trailer), and Cache-Control when Pragma is present (net/http adds
// "no-cache" for Pragma: no-cache).
func comparable(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		switch k {
		case "Transfer-Encoding", "Content-Length", "Connection", "Trailer":
			continue
		case "Cache-Control":
			if _, ok := h["Pragma"]; ok {
				continue
			}
		}
		out[k] = v
	}
	return out
}

// knownDifference is a documented way in which strict mode and net/http
// disagree, recognised from the input bytes.
type knownDifference struct {
	name    string
	excuses int // the aspects it may change
	holds   func(lines []string, region []byte) bool
}

// knownDifferences lists every known difference that holds for the head
// bytes in region. Any disagreement not excused by one of these fails.
func knownDifferences(region []byte) []knownDifference {
	lines := strings.Split(string(region), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	var out []knownDifference
	for _, d := range differences {
		if d.holds(lines, region) {
			out = append(out, d)
		}
	}
	return out
}

var differences = []knownDifference{
	// net/http takes any three bytes that strconv.Atoi reads as ≥ 0 ("099",
	// "+99"); strict mode wants three digits from 100 to 999.
	{"status code below 100 or signed", acceptance, func(lines []string, _ []byte) bool {
		return anyStatusLine(lines, func(_, code string) bool {
			return len(code) == 3 && (code[0] < '1' || code[0] > '9')
		})
	}},
	// net/http accepts HTTP/d.d for any digits; strict mode only HTTP/1.x.
	{"HTTP version other than 1.x", acceptance | values | framing, func(lines []string, _ []byte) bool {
		return anyStatusLine(lines, func(proto, _ string) bool {
			return !strings.HasPrefix(proto, "HTTP/1.")
		})
	}},
	// net/http skips any number of spaces before the code.
	{"several spaces before the status code", acceptance, func(lines []string, _ []byte) bool {
		for _, l := range lines {
			if _, status, ok := strings.Cut(l, " "); ok && strings.HasPrefix(l, "HTTP/") && strings.HasPrefix(status, " ") {
				return true
			}
		}
		return false
	}},
	// net/http does not check the reason phrase; strict mode refuses controls.
	{"control character in the status line", acceptance, func(lines []string, _ []byte) bool {
		for _, l := range lines {
			if strings.HasPrefix(l, "HTTP/") && strings.ContainsFunc(l, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
				return true
			}
		}
		return false
	}},
	// net/http accepts field names with spaces (go.dev/issue/34540) without
	// canonicalising them; strict mode refuses white space in a name.
	{"space in a field name", acceptance, func(lines []string, _ []byte) bool {
		for _, l := range lines[1:] {
			if name, _, ok := strings.Cut(l, ":"); ok && strings.Contains(name, " ") {
				return true
			}
		}
		return false
	}},
	// net/http unfolds obs-fold continuation lines; strict mode refuses them.
	{"obs-fold", acceptance | values, func(lines []string, _ []byte) bool {
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
				return true
			}
		}
		return false
	}},
	// Strict mode allows at most 100 fields (StrictMaxHeaderFields); net/http
	// has no count limit in ReadResponse.
	{"more than 100 field lines", acceptance, func(lines []string, _ []byte) bool {
		return len(lines) > wire.StrictMaxHeaderFields
	}},
	// net/http supports exactly one Transfer-Encoding field equal to
	// "chunked"; strict mode accepts a list with chunked last and the
	// compression codings alone (read until close).
	{"Transfer-Encoding other than one chunked field", acceptance | framing, func(lines []string, _ []byte) bool {
		var te []string
		for _, l := range lines[1:] {
			if name, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "transfer-encoding") {
				te = append(te, strings.Trim(v, " \t"))
			}
		}
		return len(te) > 1 || len(te) == 1 && !strings.EqualFold(te[0], "chunked")
	}},
	// net/http ignores Transfer-Encoding in HTTP/1.0 responses (Go issue
	// 12785); strict mode honours it.
	{"Transfer-Encoding in an HTTP/1.0 response", acceptance | framing, func(lines []string, _ []byte) bool {
		old := anyStatusLine(lines, func(proto, _ string) bool { return proto == "HTTP/1.0" })
		for _, l := range lines[1:] {
			if name, _, ok := strings.Cut(l, ":"); ok && old && strings.EqualFold(strings.TrimSpace(name), "transfer-encoding") {
				return true
			}
		}
		return false
	}},
	// Strict mode refuses 101 (no upgrades); net/http returns it.
	{"101 Switching Protocols", acceptance, func(lines []string, _ []byte) bool {
		return anyStatusLine(lines, func(_, code string) bool { return code == "101" })
	}},
	// net/http refuses a Trailer field naming Transfer-Encoding,
	// Content-Length or Trailer in a chunked response; strict mode does not
	// read Trailer.
	{"forbidden name in Trailer", acceptance, func(lines []string, _ []byte) bool {
		for _, l := range lines[1:] {
			if name, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "trailer") {
				v = strings.ToLower(v)
				if strings.Contains(v, "transfer-encoding") || strings.Contains(v, "content-length") || strings.Contains(v, "trailer") {
					return true
				}
			}
		}
		return false
	}},
	// Strict mode decodes the head as UTF-8 (§7.4, wire.strictDecode):
	// invalid bytes are stored as U+FFFD where net/http keeps them as
	// obs-text.
	{"invalid UTF-8", values, func(_ []string, region []byte) bool {
		return !utf8.Valid(region)
	}},
}

// anyStatusLine applies f to the version and code (as net/http cuts them) of
// every line that starts with "HTTP/".
func anyStatusLine(lines []string, f func(proto, code string) bool) bool {
	for _, l := range lines {
		if !strings.HasPrefix(l, "HTTP/") {
			continue
		}
		proto, status, _ := strings.Cut(l, " ")
		code, _, _ := strings.Cut(strings.TrimLeft(status, " "), " ")
		if f(proto, code) {
			return true
		}
	}
	return false
}
