package wire

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// want is the expected outcome of one headCase. err is "" (success), "need"
// (ErrNeedMore), "limit" (*LimitError) or "head" (*HeadError at offset at).
type want struct {
	code      int
	headers   []string
	length    int64 // Head.ContentLength
	framing   Framing
	chunked   bool
	closeConn bool // Head.KeepAlive == false
	ambiguous bool
	info      int
	err       string
	at        int
	reason    string // HeadError.Reason, checked when set
}

// headCase feeds head+body to a parser configured as p; on success the head
// must be exactly len(head) bytes long.
type headCase struct {
	name string // cites the rule
	head string
	body string
	p    HeadParser
	w    want
}

const none = -1 // Head.ContentLength when there is no body size

// runHeadCases runs every case whole, split at every byte boundary (prefix,
// then the whole buffer) and one byte at a time; all three must agree.
func runHeadCases(t *testing.T, cases []headCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.head + c.body)
			t.Run("whole", func(t *testing.T) {
				p := c.p
				var h Head
				n, err := p.Parse(in, &h)
				c.check(t, "whole", n, err, &h)
			})
			t.Run("split", func(t *testing.T) {
				step := 1
				if len(in) > 8192 {
					step = len(in) / 256 // every boundary would be quadratic
				}
				for k := 0; k <= len(in); k += step {
					p := c.p
					var h Head
					n, err := p.Parse(in[:k], &h)
					if err == ErrNeedMore {
						n, err = p.Parse(in, &h)
					}
					if !c.check(t, "split at "+itoa(k), n, err, &h) {
						break
					}
				}
			})
			t.Run("bytewise", func(t *testing.T) {
				p := c.p
				var h Head
				var n int
				err := ErrNeedMore
				for k := 0; k <= len(in) && err == ErrNeedMore; k++ {
					n, err = p.Parse(in[:k], &h)
				}
				c.check(t, "bytewise", n, err, &h)
			})
		})
	}
}

func itoa(i int) string { return string(appendInt(nil, i)) }

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

func (c headCase) check(t *testing.T, mode string, n int, err error, h *Head) bool {
	t.Helper()
	switch c.w.err {
	case "":
		if !assert.NoError(t, err, mode) {
			return false
		}
		ok := assert.Equal(t, len(c.head), n, "%s: n", mode)
		exp := Head{Code: c.w.code, Headers: c.w.headers, ContentLength: c.w.length,
			Chunked: c.w.chunked, KeepAlive: !c.w.closeConn, Framing: c.w.framing,
			Ambiguous: c.w.ambiguous, Informational: c.w.info}
		got := *h
		// RFC 9112 persistence is not Godot's: TestParsePersistent pins it.
		exp.ProtoMinor, exp.Persistent = got.ProtoMinor, got.Persistent
		if len(got.Headers) == 0 {
			got.Headers = nil
		}
		return assert.Equal(t, exp, got, mode) && ok
	case "need":
		return assert.Equal(t, ErrNeedMore, err, mode)
	case "limit":
		var le *LimitError
		return assert.ErrorAs(t, err, &le, mode)
	case "head":
		var he *HeadError
		return assert.ErrorAs(t, err, &he, mode) &&
			assert.Equal(t, c.w.at, he.Offset, "%s: offset (%s)", mode, he.Reason) &&
			(c.w.reason == "" || assert.Equal(t, c.w.reason, he.Reason, "%s: reason", mode))
	}
	t.Fatalf("bad want.err %q", c.w.err)
	return false
}

const st200 = "HTTP/1.1 200 OK\r\n"

func TestParseHeadEnd(t *testing.T) {
	runHeadCases(t, []headCase{
		{name: "§1.6.4.2 CR LF CR LF ends the head, body bytes stay (§5 row 1)",
			head: st200 + "Content-Length: 2\r\n\r\n", body: "ok",
			w: want{code: 200, headers: []string{"Content-Length: 2"}, length: 2, framing: FramingLength}},
		{name: "§1.6.4.2 LF LF ends a bare-LF head",
			head: "HTTP/1.1 200 OK\nContent-Length: 2\n\n", body: "ok",
			w: want{code: 200, headers: []string{"Content-Length: 2"}, length: 2, framing: FramingLength}},
		{name: "§1.6.4.2 CR LF LF ends the head",
			head: st200 + "Content-Length: 2\r\n\n", body: "ok",
			w: want{code: 200, headers: []string{"Content-Length: 2"}, length: 2, framing: FramingLength}},
		{name: "§1.6.4.2 LF CR LF does not end the head; §7 D2 ambiguous (RFC parsers end it there)",
			head: "HTTP/1.1 200 OK\nX: y\n\r\nZ: w\n\n",
			w:    want{code: 200, headers: []string{"X: y", "Z: w"}, length: none, ambiguous: true}},
		{name: "§1.6.4.2 LF CR LF alone keeps waiting",
			head: "HTTP/1.1 200 OK\n\r\nbody", w: want{err: "need"}},
		{name: "§1.6.4.2 LF field lines closed by CR LF keep waiting (strict mode ends there, §7.4)",
			head: "HTTP/1.1 200 OK\nContent-Length: 2\n\r\nok", w: want{err: "need"}},
		{name: "§1.6.4.2 a response starting with LF LF is an empty head",
			head: "\n\n", body: "HTTP/1.1 404 NF\r\n\r\n",
			w: want{code: 200, length: none}},
		{name: "§1.6.4.2 a response starting with CR LF CR LF is an empty head",
			head: "\r\n\r\n", body: "x",
			w: want{code: 200, length: none}},
		{name: "§1.6.4.2 incomplete head", head: st200 + "Content-Length: 2\r\n", w: want{err: "need"}},
		{name: "§1.6.4.2 nothing received", head: "", w: want{err: "need"}},
		{name: "§1.6.4.2 a lone LF is not an end", head: "\n", w: want{err: "need"}},
		{name: "§1.6.4.2 CR LF CR is not an end", head: "\r\n\r", w: want{err: "need"}},
		{name: "§1.6.4.2 the first end wins over later ones",
			head: st200 + "\r\n", body: "X: y\r\n\r\n",
			w: want{code: 200, length: none}},
	})
}

func TestParseLines(t *testing.T) {
	runHeadCases(t, []headCase{
		{name: "§1.8.2 lines are stripped of bytes ≤ 32",
			head: st200 + " \t X-A:  1 \t\r\n\x01X-B: 2\x02\r\n\r\n",
			w:    want{code: 200, headers: []string{"X-A:  1", "X-B: 2"}, length: none}},
		{name: "§1.8.2 lines empty after stripping are skipped",
			head: st200 + "\t\r\n\x01\r\nX: y\r\n\r\n",
			w:    want{code: 200, headers: []string{"X: y"}, length: none}},
		{name: "§1.8.2 split on LF only, a CR inside a line kept; §7 D2 ambiguous when a framing line follows the CR",
			head: st200 + "X: a\rContent-Length: 5\r\n\r\n",
			w:    want{code: 200, headers: []string{"X: a\rContent-Length: 5"}, length: none, ambiguous: true}},
		{name: "§1.8.2 a CR inside a line kept; not ambiguous when no framing line can hide behind it",
			head: st200 + "X: a\rb\r\nX-C: \rkeep-alive\r\n\r\n",
			w:    want{code: 200, headers: []string{"X: a\rb", "X-C: \rkeep-alive"}, length: none}},
		{name: "§1.8.2 §7 D2 Godot's tests see the CR: connection:<CR>close is not close; framing lines with a CR are ambiguous",
			head: st200 + "Connection:\rclose\r\nContent-Length:\r7\r\n\r\n",
			w: want{code: 200, headers: []string{"Connection:\rclose", "Content-Length:\r7"}, length: 7,
				framing: FramingLength, ambiguous: true}},
		{name: "§1.8.2 §7 D2 a framing line folded onto the one before (obs-fold): Godot frames by it; ambiguous",
			head: st200 + "X: a\r\n Content-Length: 5\r\n\r\n",
			w: want{code: 200, headers: []string{"X: a", "Content-Length: 5"}, length: 5,
				framing: FramingLength, ambiguous: true}},
		{name: "§1.8.2 §7 D2 a folded Transfer-Encoding or Connection line (tab, vertical tab); ambiguous",
			head: st200 + "X: a\r\n\tTransfer-Encoding: chunked\r\n\x0bConnection: close\r\n\r\n",
			w: want{code: 200, headers: []string{"X: a", "Transfer-Encoding: chunked", "Connection: close"}, length: none,
				chunked: true, closeConn: true, framing: FramingChunked, ambiguous: true}},
		{name: "§1.8.2 a folded line that is no framing line is not ambiguous",
			head: st200 + "X: a\r\n b\r\nContent-Length: 5\r\n\r\n",
			w:    want{code: 200, headers: []string{"X: a", "b", "Content-Length: 5"}, length: 5, framing: FramingLength}},
		{name: "§7 D2 CR CR inside a line: an empty line that ends the head to a CR-splitting parser; ambiguous",
			head: st200 + "X-A: 1\r\rX-B: 2\r\nContent-Length: 5\r\n\r\n",
			w: want{code: 200, headers: []string{"X-A: 1\r\rX-B: 2", "Content-Length: 5"}, length: 5,
				framing: FramingLength, ambiguous: true}},
		{name: "§7 D2 a CR at the end of a line before CR LF, or at its start: an empty line there; ambiguous",
			head: st200 + "X-A: 1\r\r\nContent-Length: 5\r\n\r\n",
			w: want{code: 200, headers: []string{"X-A: 1", "Content-Length: 5"}, length: 5,
				framing: FramingLength, ambiguous: true}},
		{name: "§7 D2 a leading CR before a framing line; ambiguous",
			head: st200 + "X-A: 1\r\n\rContent-Length: 5\r\n\r\n",
			w: want{code: 200, headers: []string{"X-A: 1", "Content-Length: 5"}, length: 5,
				framing: FramingLength, ambiguous: true}},
		{name: "§7 D2 a CR opening a line: an empty line there to a CR-splitting parser; ambiguous",
			head: st200 + "X-A: 1\r\n\r X-B: 2\r\nContent-Length: 5\r\n\r\n",
			w: want{code: 200, headers: []string{"X-A: 1", "X-B: 2", "Content-Length: 5"}, length: 5,
				framing: FramingLength, ambiguous: true}},
		{name: "§1.8.4 §7 D2 a CR in the status line hides a framing line; ambiguous",
			head: "HTTP/1.1 200 OK\rTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
			w: want{code: 200, headers: []string{"Content-Length: 5"}, length: 5,
				framing: FramingLength, ambiguous: true}},
		{name: "§7 D2 a CR then a Transfer-Encoding or Connection line, any case, after spaces",
			head: st200 + "X: a\r  TRANSFER-encoding: chunked\r\nY: b\rconnection: close\r\n\r\n",
			w: want{code: 200, headers: []string{"X: a\r  TRANSFER-encoding: chunked", "Y: b\rconnection: close"},
				length: none, ambiguous: true}},
		{name: "§1.8.5 name case, spacing, duplicates, lines without colon, obs-fold kept as entries",
			head: st200 + "set-COOKIE:a=1\r\nSet-Cookie:  b=2\r\nno colon here\r\nX-Long: part1\r\n  part2\r\n\r\n",
			w: want{code: 200, headers: []string{"set-COOKIE:a=1", "Set-Cookie:  b=2", "no colon here",
				"X-Long: part1", "part2"}, length: none}},
		{name: "§1.8.4 after a leading LF the status line is a stored line; a later CR is kept",
			head: "\n" + st200 + "X: a\rb\r\n\r\n",
			w:    want{code: 200, headers: []string{"HTTP/1.1 200 OK", "X: a\rb"}, length: none}},
		{name: "§1.11.1 a status line alone stores no headers (§5 row 2)",
			head: st200 + "\r\n",
			w:    want{code: 200, length: none}},
	})
}

func TestParseStatusCode(t *testing.T) {
	cl := "Content-Length: 0\r\n\r\n"
	h0 := []string{"Content-Length: 0"}
	runHeadCases(t, []headCase{
		{name: "§1.8.4 HTTP/1.0 404", head: "HTTP/1.0 404 Not Found\r\n" + cl,
			w: want{code: 404, headers: h0, framing: FramingLength}},
		{name: "§1.8.4 two spaces: the second field is empty → 0", head: "HTTP/1.1  200 OK\r\n" + cl,
			w: want{code: 0, headers: h0, framing: FramingLength}},
		{name: "§1.8.4 no second field → 0", head: "HTTP/1.1\r\n" + cl,
			w: want{code: 0, headers: h0, framing: FramingLength}},
		{name: "§1.8.4 TAB is not a separator → 0", head: "HTTP/1.1\t200 OK\r\n" + cl,
			w: want{code: 0, headers: h0, framing: FramingLength}},
		{name: "§1.8.4 first line not HTTP: stored, code stays 200 (§5 row 10)",
			head: "FOO 500 bar\r\nX: y\r\nContent-Length: 2\r\n\r\n", body: "hi",
			w: want{code: 200, headers: []string{"FOO 500 bar", "X: y", "Content-Length: 2"}, length: 2, framing: FramingLength}},
		{name: "§1.8.4 the HTTP test is case-sensitive", head: "http/1.1 500 x\r\n" + cl,
			w: want{code: 200, headers: []string{"http/1.1 500 x", "Content-Length: 0"}, framing: FramingLength}},
		{name: "§1.8.4 the HTTP test is on the raw line: leading space → stored", head: " HTTP/1.1 500 x\r\n" + cl,
			w: want{code: 200, headers: []string{"HTTP/1.1 500 x", "Content-Length: 0"}, framing: FramingLength}},
		{name: "§1.8.4 leading blank line: the status line is stored, code 200",
			head: "\r\nHTTP/1.1 404 Not Found\r\nX: y\r\n\r\n",
			w:    want{code: 200, headers: []string{"HTTP/1.1 404 Not Found", "X: y"}, length: none}},
		{name: "§1.8.4 only the first line is a status line", head: st200 + "HTTP/1.1 500 X\r\n\r\n",
			w: want{code: 200, headers: []string{"HTTP/1.1 500 X"}, length: none}},
		{name: "§1.8.4 HTTPS… starts with HTTP", head: "HTTPS 302 Found\r\n" + cl,
			w: want{code: 302, headers: h0, framing: FramingLength}},
		{name: "§0.4.2 to_int skips non-digits", head: "HTTP/1.1 2x0x4 OK\r\n" + cl,
			w: want{code: 204, headers: h0, framing: FramingLength}},
		{name: "§0.4.2 to_int stops at '.'", head: "HTTP/1.1 200.5 OK\r\n" + cl,
			w: want{code: 200, headers: h0, framing: FramingLength}},
		{name: "§0.4.2 to_int '-' flips the sign", head: "HTTP/1.1 -404 X\r\n" + cl,
			w: want{code: -404, headers: h0, framing: FramingLength}},
		{name: "§1.8.4 response_num is a 32-bit int", head: "HTTP/1.1 4294967496 X\r\n" + cl,
			w: want{code: 200, headers: h0, framing: FramingLength}},
		{name: "§1.8.7 100 Continue is the final response (the real one answers the next request)",
			head: "HTTP/1.1 100 Continue\r\n\r\n", body: st200 + cl,
			w: want{code: 100, length: none}},
	})
}

func TestParseContentLength(t *testing.T) {
	cl := func(v ...string) string {
		s := st200
		for _, x := range v {
			s += "Content-Length:" + x + "\r\n"
		}
		return s + "\r\n"
	}
	lines := func(v ...string) []string {
		var out []string
		for _, x := range v {
			out = append(out, stripEdges("Content-Length:"+x))
		}
		return out
	}
	runHeadCases(t, []headCase{
		{name: "§1.8.3 Content-Length without a space", head: cl("5"),
			w: want{code: 200, headers: lines("5"), length: 5, framing: FramingLength}},
		{name: "§1.8.3 name is case-insensitive", head: st200 + "CONTENT-LENGTH: 5\r\n\r\n",
			w: want{code: 200, headers: []string{"CONTENT-LENGTH: 5"}, length: 5, framing: FramingLength}},
		{name: "§1.8.3 last occurrence wins; §7 D2 differing values are ambiguous", head: cl(" 5", " 7"),
			w: want{code: 200, headers: lines(" 5", " 7"), length: 7, framing: FramingLength, ambiguous: true}},
		{name: "§1.8.3 identical repeats are not ambiguous", head: cl(" 5", " 5"),
			w: want{code: 200, headers: lines(" 5", " 5"), length: 5, framing: FramingLength}},
		{name: "§1.8.3 to_int(1,2) = 12; §7 D2 not plain digits → ambiguous", head: cl(" 1,2"),
			w: want{code: 200, headers: lines(" 1,2"), length: 12, framing: FramingLength, ambiguous: true}},
		{name: "§1.8.3 to_int(5, 5) = 55, ambiguous", head: cl(" 5, 5"),
			w: want{code: 200, headers: lines(" 5, 5"), length: 55, framing: FramingLength, ambiguous: true}},
		{name: "§1.8.3 to_int(abc) = 0", head: cl(" abc"),
			w: want{code: 200, headers: lines(" abc"), length: 0, framing: FramingLength, ambiguous: true}},
		{name: "§1.8.3 empty value = 0", head: cl(""),
			w: want{code: 200, headers: lines(""), length: 0, framing: FramingLength, ambiguous: true}},
		{name: "§0.4.2 to_int stops at '.'", head: cl(" 1.5"),
			w: want{code: 200, headers: lines(" 1.5"), length: 1, framing: FramingLength, ambiguous: true}},
		{name: "§0.4.2 to_int clamps on overflow", head: cl(" 99999999999999999999"),
			w: want{code: 200, headers: lines(" 99999999999999999999"), length: math.MaxInt64, framing: FramingLength}},
		{name: "§0.4.2 to_int wraps a 19-digit overflow: a negative length (§1.9 note)", head: cl(" 9223372036854775808"),
			w: want{code: 200, headers: lines(" 9223372036854775808"), length: math.MinInt64, framing: FramingLength}},
		{name: "§1.8.3 -1 means no Content-Length", head: cl(" -1"),
			w: want{code: 200, headers: lines(" -1"), length: none, ambiguous: true}},
		{name: "§1.9 note a Content-Length below -1 frames a body that never ends (httpclient ends it, §7 D1)",
			head: cl(" 2", " -5"),
			w:    want{code: 200, headers: lines(" 2", " -5"), length: -5, framing: FramingLength, ambiguous: true}},
		{name: "§7 D2 white space before the colon: Godot ignores it, ambiguous",
			head: st200 + "Content-Length : 5\r\n\r\n",
			w:    want{code: 200, headers: []string{"Content-Length : 5"}, length: none, ambiguous: true}},
		{name: "§7 D2 white space before the colon and none after: ambiguous too",
			head: st200 + "Content-Length :5\r\n\r\n",
			w:    want{code: 200, headers: []string{"Content-Length :5"}, length: none, ambiguous: true}},
		{name: "§1.9 Content-Length: 0 → BODY with nothing to read", head: cl(" 0"),
			w: want{code: 200, headers: lines(" 0"), length: 0, framing: FramingLength}},
	})
}

func TestParseTransferEncoding(t *testing.T) {
	runHeadCases(t, []headCase{
		{name: "§1.8.3 exactly chunked (§5 row 6)",
			head: st200 + "Transfer-Encoding: chunked\r\n\r\n", body: "5\r\nhello\r\n0\r\n\r\n",
			w: want{code: 200, headers: []string{"Transfer-Encoding: chunked"}, length: none, chunked: true, framing: FramingChunked}},
		{name: "§1.8.3 value is stripped", head: st200 + "transfer-encoding:chunked  \r\n\r\n",
			w: want{code: 200, headers: []string{"transfer-encoding:chunked"}, length: none, chunked: true, framing: FramingChunked}},
		{name: "§1.8.3 Chunked is not chunked: read until close; §7 D2 ambiguous (chunked to RFC parsers)",
			head: st200 + "Transfer-Encoding: Chunked\r\nConnection: close\r\n\r\n",
			w: want{code: 200, headers: []string{"Transfer-Encoding: Chunked", "Connection: close"}, length: none,
				closeConn: true, framing: FramingUntilClose, ambiguous: true}},
		{name: "§1.8.3 gzip, chunked is not chunked; §7 D2 ambiguous (no body to Godot, a chunked one to RFC parsers)",
			head: st200 + "Transfer-Encoding: gzip, chunked\r\n\r\n",
			w:    want{code: 200, headers: []string{"Transfer-Encoding: gzip, chunked"}, length: none, ambiguous: true}},
		{name: "§1.8.3 chunked is never reset by a later line; §7 D2 ambiguous (two Transfer-Encoding lines)",
			head: st200 + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
			w: want{code: 200, headers: []string{"Transfer-Encoding: chunked", "Transfer-Encoding: identity"},
				length: none, chunked: true, framing: FramingChunked, ambiguous: true}},
		{name: "§1.9 chunked wins over Content-Length; §7 D2 ambiguous",
			head: st200 + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
			w: want{code: 200, headers: []string{"Content-Length: 5", "Transfer-Encoding: chunked"},
				length: 5, chunked: true, framing: FramingChunked, ambiguous: true}},
		{name: "§7 D2 another Transfer-Encoding with Content-Length is ambiguous",
			head: st200 + "Transfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\n",
			w: want{code: 200, headers: []string{"Transfer-Encoding: gzip", "Content-Length: 5"},
				length: 5, framing: FramingLength, ambiguous: true}},
		{name: "§7 D2 Transfer-Encoding with white space before the colon is ambiguous",
			head: st200 + "Transfer-Encoding\t: chunked\r\nContent-Length: 5\r\n\r\n",
			w: want{code: 200, headers: []string{"Transfer-Encoding\t: chunked", "Content-Length: 5"},
				length: 5, framing: FramingLength, ambiguous: true}},
	})
}

func TestParseConnection(t *testing.T) {
	var cases []headCase
	for _, c := range []struct {
		line  string
		close bool
	}{
		{"Connection: close", true},
		{"Connection: Close", true},
		{"CONNECTION: CLOSE", true},
		{"Connection:close", false},
		{"Connection:  close", false},
		{"Connection: closed", true},
		{"Connection: close, TE", true},
		{"Connection: keep-alive, close", false},
	} {
		w := want{code: 200, headers: []string{c.line}, length: none, closeConn: c.close}
		if c.close {
			w.framing = FramingUntilClose
		}
		cases = append(cases, headCase{name: "§1.8.3 " + c.line, head: st200 + c.line + "\r\n\r\n", body: "data", w: w})
	}
	cases = append(cases,
		headCase{name: "§1.9 Connection: close with a length reads the length",
			head: st200 + "Connection: close\r\nContent-Length: 4\r\n\r\n", body: "data",
			w: want{code: 200, headers: []string{"Connection: close", "Content-Length: 4"}, length: 4,
				closeConn: true, framing: FramingLength}},
		headCase{name: "§5 row 4 Connection: close then data: read until close",
			head: "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", body: "data",
			w: want{code: 200, headers: []string{"Connection: close"}, length: none, closeConn: true, framing: FramingUntilClose}},
		headCase{name: "§5 row 11 301 with Location",
			head: "HTTP/1.1 301 Moved Permanently\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n",
			w:    want{code: 301, headers: []string{"Location: /new", "Content-Length: 0"}, length: 0, framing: FramingLength}},
		headCase{name: "§5 row 12 303 with Location",
			head: "HTTP/1.1 303 See Other\r\nLocation: /new\r\nContent-Length: 3\r\n\r\n", body: "see",
			w: want{code: 303, headers: []string{"Location: /new", "Content-Length: 3"}, length: 3, framing: FramingLength}},
		headCase{name: "§5 row 13 Content-Encoding is an ordinary header",
			head: "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 20\r\n\r\n",
			w:    want{code: 200, headers: []string{"Content-Encoding: gzip", "Content-Length: 20"}, length: 20, framing: FramingLength}},
		headCase{name: "§1.8.8 HTTP/1.0 without length or close has no body (§5 row 3)",
			head: "HTTP/1.0 200 OK\r\nServer: x\r\n\r\n", body: "body",
			w: want{code: 200, headers: []string{"Server: x"}, length: none}},
		headCase{name: "§1.8.8 HTTP/1.0 chunked is chunked to Godot; §7 D2 ambiguous (RFC 9112 §6.1: faulty framing, read until close)",
			head: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n", body: "5\r\nhello\r\n0\r\n\r\n",
			w: want{code: 200, headers: []string{"Connection: keep-alive", "Transfer-Encoding: chunked"}, length: none,
				chunked: true, framing: FramingChunked, ambiguous: true}},
		headCase{name: "§1.8.8 HTTP/1.1 chunked is not ambiguous",
			head: st200 + "Transfer-Encoding: chunked\r\n\r\n",
			w:    want{code: 200, headers: []string{"Transfer-Encoding: chunked"}, length: none, chunked: true, framing: FramingChunked}},
	)
	runHeadCases(t, cases)
}

// Persistent and ProtoMinor follow RFC 9112 §9.3, apart from Godot's
// KeepAlive (§1.8.3, §1.8.8), in both modes.
func TestParsePersistent(t *testing.T) {
	for _, c := range []struct {
		head       string
		persistent bool
		minor      int
	}{
		{"HTTP/1.1 200 OK\r\n\r\n", true, 1},
		{"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", false, 1},
		{"HTTP/1.1 200 OK\r\nConnection:close\r\n\r\n", false, 1},
		{"HTTP/1.1 200 OK\r\nconnection:\tCLOSE \r\n\r\n", false, 1},
		{"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\n\r\n", false, 1},
		{"HTTP/1.1 200 OK\r\nConnection: TE\r\nConnection: close\r\n\r\n", false, 1},
		{"HTTP/1.1 200 OK\r\nConnection: closed\r\n\r\n", true, 1},
		{"HTTP/1.1 200 OK\r\nX-Connection: close\r\n\r\n", true, 1},
		{"HTTP/1.0 200 OK\r\n\r\n", false, 0},
		{"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n", true, 0},
		{"HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n\r\n", false, 0},
	} {
		for _, strict := range []bool{false, true} {
			p := HeadParser{Strict: strict}
			var h Head
			_, err := p.Parse([]byte(c.head), &h)
			require.NoError(t, err, "%q strict %v", c.head, strict)
			assert.Equal(t, c.persistent, h.Persistent, "%q strict %v", c.head, strict)
			assert.Equal(t, c.minor, h.ProtoMinor, "%q strict %v", c.head, strict)
		}
	}
}

func TestParseHeadRequestAndStatus(t *testing.T) {
	head := HeadParser{HeadRequest: true}
	runHeadCases(t, []headCase{
		{name: "§1.8.6 HEAD: length 0 regardless of Content-Length", p: head,
			head: st200 + "Content-Length: 100\r\n\r\n",
			w:    want{code: 200, headers: []string{"Content-Length: 100"}, length: 0, framing: FramingLength}},
		{name: "§1.8.6 HEAD without Content-Length: length 0", p: head,
			head: st200 + "\r\n",
			w:    want{code: 200, length: 0, framing: FramingLength}},
		{name: "§1.8.6 HEAD with a negative Content-Length is not refused", p: head,
			head: st200 + "Content-Length: -5\r\n\r\n",
			w:    want{code: 200, headers: []string{"Content-Length: -5"}, length: 0, framing: FramingLength}},
		// §7 D2 after HEAD: no parser reads a body (RFC 9112 §6.3 rule 1,
		// Godot's length 0), so framing fields another parser would read
		// otherwise change nothing; where the head ends still does.
		{name: "§7 D2 HEAD + a Transfer-Encoding Godot does not take for chunked: not ambiguous", p: head,
			head: st200 + "Transfer-Encoding: gzip\r\n\r\n",
			w:    want{code: 200, headers: []string{"Transfer-Encoding: gzip"}, length: 0, framing: FramingLength}},
		{name: "§7 D2 HEAD + Content-Length 1,234: not ambiguous", p: head,
			head: st200 + "Content-Length: 1,234\r\n\r\n",
			w:    want{code: 200, headers: []string{"Content-Length: 1,234"}, length: 0, framing: FramingLength}},
		{name: "§7 D2 HEAD answered 304 with a Content-Length: not ambiguous", p: head,
			head: "HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n",
			w:    want{code: 304, headers: []string{"Content-Length: 1234"}, length: 0, framing: FramingLength}},
		{name: "§7 D2 HEAD + chunked + Content-Length: not ambiguous", p: head,
			head: st200 + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
			w: want{code: 200, headers: []string{"Content-Length: 5", "Transfer-Encoding: chunked"}, length: 0, chunked: true,
				framing: FramingLength}},
		{name: "§7 D2 HEAD + a CR hiding a framing line: not ambiguous", p: head,
			head: st200 + "X-A: 1\rContent-Length: 5\r\n\r\n",
			w:    want{code: 200, headers: []string{"X-A: 1\rContent-Length: 5"}, length: 0, framing: FramingLength}},
		{name: "§7 D2 HEAD + a CR before an empty piece (another parser's end of the head): ambiguous", p: head,
			head: st200 + "X-A: 1\r\rX-B: 2\r\n\r\n",
			w:    want{code: 200, headers: []string{"X-A: 1\r\rX-B: 2"}, length: 0, framing: FramingLength, ambiguous: true}},
		{name: "§7 D2 HEAD + LF CR LF inside the head: ambiguous", p: head,
			head: st200 + "X-A: 1\n\r\nX-B: 2\r\n\r\n",
			w:    want{code: 200, headers: []string{"X-A: 1", "X-B: 2"}, length: 0, framing: FramingLength, ambiguous: true}},
		{name: "§7 D2 HEAD + Transfer-Encoding in HTTP/1.0: ambiguous (RFC 9112 §6.1: close after it)", p: head,
			head: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
			w: want{code: 200, headers: []string{"Transfer-Encoding: chunked"}, length: 0, chunked: true,
				framing: FramingLength, ambiguous: true}},
		{name: "§7 D1 HEAD + chunked: empty body instead of waiting for chunks", p: head,
			head: st200 + "Transfer-Encoding: chunked\r\n\r\n",
			w:    want{code: 200, headers: []string{"Transfer-Encoding: chunked"}, length: 0, chunked: true, framing: FramingLength}},
		{name: "§1.8.7 204 with a Content-Length waits for it; §7 D2 ambiguous (no body to RFC parsers)",
			head: "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
			w:    want{code: 204, headers: []string{"Content-Length: 5"}, length: 5, framing: FramingLength, ambiguous: true}},
		{name: "§1.8.7 304 with chunked is chunked; §7 D2 ambiguous",
			head: "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
			w: want{code: 304, headers: []string{"Transfer-Encoding: chunked"}, length: none, chunked: true,
				framing: FramingChunked, ambiguous: true}},
		{name: "§1.8.7 204 with Content-Length 0 is not ambiguous",
			head: "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
			w:    want{code: 204, headers: []string{"Content-Length: 0"}, length: 0, framing: FramingLength}},
		{name: "§7 D2 obs-fold after a framing line continues its value to RFC parsers; ambiguous",
			head: st200 + "Content-Length: 5\r\n 0\r\n\r\n",
			w:    want{code: 200, headers: []string{"Content-Length: 5", "0"}, length: 5, framing: FramingLength, ambiguous: true}},
		{name: "§7 D2 a control byte Godot strips around a framing value; ambiguous",
			head: st200 + "Transfer-Encoding: \x01chunked\x0b\r\n\r\n",
			w: want{code: 200, headers: []string{"Transfer-Encoding: \x01chunked"}, length: none, chunked: true,
				framing: FramingChunked, ambiguous: true}},
		{name: "a line that is no field is not ambiguous (net/http refuses the head; Godot reads it)",
			head: st200 + "Content-Length: 5\r\nno colon\r\n\r\n",
			w:    want{code: 200, headers: []string{"Content-Length: 5", "no colon"}, length: 5, framing: FramingLength}},
	})
}

func TestParseUTF8(t *testing.T) {
	// §0.4.5: Godot 4.4+ decodes the head with String::utf8 →
	// String::append_utf8 (see godotDecode for the rules).
	runHeadCases(t, []headCase{
		{name: "§0.4.5 valid UTF-8 is stored as sent",
			head: st200 + "X-Name: Zoë 日本\r\n\r\n",
			w:    want{code: 200, headers: []string{"X-Name: Zoë 日本"}, length: none}},
		{name: "§0.4.5 an invalid byte becomes U+FFFD",
			head: st200 + "X: a\xffb\r\n\r\n",
			w:    want{code: 200, headers: []string{"X: a\uFFFDb"}, length: none}},
		{name: "§0.4.5 a surrogate is U+FFFD per byte (ED takes 80–9F only)",
			head: st200 + "X: \xed\xa0\x80\r\n\r\n",
			w:    want{code: 200, headers: []string{"X: \uFFFD\uFFFD\uFFFD"}, length: none}},
		{name: "§0.4.5 a five-byte form is U+FFFD per byte",
			head: st200 + "X: \xf8\x88\x80\x80\x80!\r\n\r\n",
			w:    want{code: 200, headers: []string{"X: \uFFFD\uFFFD\uFFFD\uFFFD\uFFFD!"}, length: none}},
		{name: "§0.4.5 a four-byte form above U+10FFFF is U+FFFD per byte",
			head: st200 + "X: \xf4\x90\x80\x80\r\n\r\n",
			w:    want{code: 200, headers: []string{"X: \uFFFD\uFFFD\uFFFD\uFFFD"}, length: none}},
		{name: "§0.4.5 an overlong NUL is two U+FFFD",
			head: st200 + "X: \xc0\x80\r\n\r\n",
			w:    want{code: 200, headers: []string{"X: \uFFFD\uFFFD"}, length: none}},
		{name: "§0.4.5 a three-byte overlong 'A' is three U+FFFD",
			head: st200 + "X: \xe0\x81\x81\r\n\r\n",
			w:    want{code: 200, headers: []string{"X: \uFFFD\uFFFD\uFFFD"}, length: none}},
		{name: "§0.4.5 a broken lead is one U+FFFD and the valid pair after it is kept",
			head: st200 + "X: \xc3\xc3\xa9\r\n\r\n",
			w:    want{code: 200, headers: []string{"X: \uFFFD\u00e9"}, length: none}},
		{name: "§0.4.5 a three-byte form cut by ASCII is one U+FFFD and the ASCII byte stays",
			head: st200 + "X: \xe2\x82(\r\n\r\n",
			w:    want{code: 200, headers: []string{"X: \uFFFD("}, length: none}},
		{name: "§0.4.5 a leading BOM is dropped, so the status line counts",
			head: "\xef\xbb\xbfHTTP/1.1 404 Not Found\r\nX: y\r\n\r\n",
			w:    want{code: 404, headers: []string{"X: y"}, length: none}},
		{name: "§0.4.5 §7 D2 a NUL first drops the whole head; ambiguous",
			head: "\x00" + st200 + "Content-Length: 5\r\n\r\n",
			w:    want{code: 200, length: none, ambiguous: true}},
		{name: "§0.4.5 §7 D2 a NUL drops the rest of the head; ambiguous",
			head: st200 + "X: a\x00b\r\nContent-Length: 5\r\n\r\n",
			w:    want{code: 200, headers: []string{"X: a"}, length: none, ambiguous: true}},
		{name: "§0.4.5 a sequence cut by a NUL is U+FFFD, then the head ends; no framing dropped: not ambiguous",
			head: st200 + "X: ab\xc3\x00cd\r\nX-After: 1\r\n\r\n",
			w:    want{code: 200, headers: []string{"X: ab\uFFFD"}, length: none}},
		{name: "§0.4.5 §7 D2 a NUL inside a framing line; ambiguous",
			head: st200 + "Content-Length: 5\x00 6\r\n\r\n",
			w:    want{code: 200, headers: []string{"Content-Length: 5"}, length: 5, framing: FramingLength, ambiguous: true}},
		{name: "§0.4.5 §7 D2 a Connection line after a NUL and a CR; ambiguous",
			head: st200 + "X: a\x00b\rconnection: close\r\n\r\n",
			w:    want{code: 200, headers: []string{"X: a"}, length: none, ambiguous: true}},
		{name: "§0.4.5 a broken sequence before a bare LF keeps the LF",
			head: "HTTP/1.1 200 OK\nX: \xc3\nContent-Length: 5\n\n",
			w:    want{code: 200, headers: []string{"X: \uFFFD", "Content-Length: 5"}, length: 5, framing: FramingLength}},
		{name: "§0.4.5 Latin-1 before CR LF keeps the CR",
			head: st200 + "X: caf\xe9\r\nContent-Length: 5\r\n\r\n",
			w:    want{code: 200, headers: []string{"X: caf\uFFFD", "Content-Length: 5"}, length: 5, framing: FramingLength}},
		{name: "§0.4.5 an overlong LF is two U+FFFD, not a line break",
			head: st200 + "X: a\xc0\x8aContent-Length: 5\r\n\r\n",
			w:    want{code: 200, headers: []string{"X: a\uFFFD\uFFFDContent-Length: 5"}, length: none}},
		{name: "§1.8.3 §7 D2 İ lower-cases to i: Transfer-Encodİng is chunked; ambiguous",
			head: st200 + "Transfer-Encod\u0130ng: chunked\r\n\r\n",
			w: want{code: 200, headers: []string{"Transfer-Encod\u0130ng: chunked"}, length: none,
				chunked: true, framing: FramingChunked, ambiguous: true}},
		{name: "§1.8.3 §7 D2 Connectİon: close closes; ambiguous",
			head: st200 + "Connect\u0130on: close\r\n\r\n",
			w: want{code: 200, headers: []string{"Connect\u0130on: close"}, length: none,
				closeConn: true, framing: FramingUntilClose, ambiguous: true}},
		{name: "§1.8.3 other non-ASCII letters do not fold",
			head: st200 + "Transfer-Encod\u00cdng: chunked\r\n\r\n",
			w:    want{code: 200, headers: []string{"Transfer-Encod\u00cdng: chunked"}, length: none}},
	})
}

func TestParseLimits(t *testing.T) {
	small := HeadParser{Limits: Limits{MaxHeaderBytes: len(st200 + "\r\n")}}
	fields := HeadParser{Limits: Limits{MaxHeaderFields: 2}}
	runHeadCases(t, []headCase{
		{name: "§7 D1 a head of exactly MaxHeaderBytes is accepted", p: small, head: st200 + "\r\n", body: "xyz",
			w: want{code: 200, length: none}},
		{name: "§7 D1 one byte more is refused", p: small, head: st200 + "X\r\n\r\n",
			w: want{err: "limit"}},
		{name: "§7 D1 no end within the budget is refused", p: small, head: st200 + "X: very long header\r\n",
			w: want{err: "limit"}},
		{name: "§7 D1 exactly MaxHeaderBytes bytes and no end yet: refused at once", p: small, head: st200 + "X:",
			w: want{err: "limit"}},
		{name: "§7 D1 default budget: 1 MiB", head: st200 + "X: " + strings.Repeat("a", DefaultMaxHeaderBytes),
			w: want{err: "limit"}},
		// The default itself (docs/limits.md): a head of exactly 1 MiB is
		// accepted, one byte more refused.
		{name: "§7 D1 a head of exactly 1 MiB is accepted by default", head: mibHead(0), body: "xyz",
			w: want{code: 200, headers: []string{"X: " + strings.Repeat("a", 1<<20-len(st200)-7)}, length: none}},
		{name: "§7 D1 a head of 1 MiB and one byte is refused by default", head: mibHead(1),
			w: want{err: "limit"}},
		{name: "§7 D1 MaxHeaderFields bounds stored lines", p: fields, head: st200 + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n",
			w: want{err: "limit"}},
		{name: "§7 D1 MaxHeaderFields lines are accepted", p: fields, head: st200 + "A: 1\r\nB: 2\r\n\r\n",
			w: want{code: 200, headers: []string{"A: 1", "B: 2"}, length: none}},
		{name: "§7 D1 lenient mode has no default field limit",
			head: st200 + strings.Repeat("A: 1\r\n", 150) + "\r\n",
			w:    want{code: 200, headers: repeat("A: 1", 150), length: none}},
	})
}

// mibHead is a response head of 1 MiB plus extra bytes: one field line
// "X: aaa…" after st200.
func mibHead(extra int) string {
	return st200 + "X: " + strings.Repeat("a", 1<<20-len(st200)-7+extra) + "\r\n\r\n"
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestParseStrict(t *testing.T) {
	s := HeadParser{Strict: true}
	ok := func(name, head string, w want) headCase {
		return headCase{name: "§7.4 accepts " + name, head: head, p: s, w: w}
	}
	bad := func(name, head string, at int) headCase {
		return headCase{name: "§7.4 rejects " + name, head: head, p: s, w: want{err: "head", at: at}}
	}
	badWhy := func(name, head string, at int, reason string) headCase {
		c := bad(name, head, at)
		c.w.reason = reason
		return c
	}
	cl5 := []string{"Content-Length: 5"}
	l := len(st200)
	runHeadCases(t, []headCase{
		// Status line.
		ok("a CRLF head", st200+"Content-Length: 5\r\n\r\n", want{code: 200, headers: cl5, length: 5, framing: FramingLength}),
		ok("bare LF line ends", "HTTP/1.1 200 OK\nContent-Length: 5\n\n", want{code: 200, headers: cl5, length: 5, framing: FramingLength}),
		ok("mixed line ends", "HTTP/1.1 200 OK\nContent-Length: 5\r\n\r\n", want{code: 200, headers: cl5, length: 5, framing: FramingLength}),
		ok("HTTP/1.0", "HTTP/1.0 200 OK\r\n\r\n", want{code: 200, length: none, framing: FramingUntilClose}),
		ok("no reason phrase", "HTTP/1.1 200\r\n\r\n", want{code: 200, length: none, framing: FramingUntilClose}),
		ok("an empty reason phrase", "HTTP/1.1 200 \r\n\r\n", want{code: 200, length: none, framing: FramingUntilClose}),
		ok("HTAB and obs-text in the reason", "HTTP/1.1 200 O\tK \xc3\xa9\xff\r\n\r\n", want{code: 200, length: none, framing: FramingUntilClose}),
		ok("code 999", "HTTP/1.1 999 Request denied\r\n\r\n", want{code: 999, length: none, framing: FramingUntilClose}),
		bad("HTTP/2", "HTTP/2 200 OK\r\n\r\n", 0),
		bad("a lower-case version", "http/1.1 200 OK\r\n\r\n", 0),
		bad("HTTP/1.x", "HTTP/1.x 200 OK\r\n\r\n", 0),
		badWhy("a status line that is only the version", "HTTP/1.1\r\n\r\n", 8, "no single space after the HTTP version"),
		badWhy("a version and a space only", "HTTP/1.1 \r\n\r\n", 9, "status code is not three digits from 100 to 999"),
		bad("two spaces before the code", "HTTP/1.1  200 OK\r\n\r\n", 9),
		bad("TAB before the code", "HTTP/1.1\t200 OK\r\n\r\n", 8),
		bad("a two-digit code", "HTTP/1.1 20\r\n\r\n", 9),
		bad("a four-digit code", "HTTP/1.1 2000 OK\r\n\r\n", 12),
		bad("a code below 100", "HTTP/1.1 099 OK\r\n\r\n", 9),
		bad("a control in the reason", "HTTP/1.1 200 O\x01K\r\n\r\n", 14),
		bad("a control opening the reason", "HTTP/1.1 200 \x01K\r\n\r\n", 13),
		bad("a CR in the reason", "HTTP/1.1 200 O\rK\r\n\r\n", 14),
		bad("a first line that is not a status line", "FOO 500 bar\r\n\r\n", 0),
		bad("an empty line before the status line", "\r\n"+st200+"\r\n", 0),
		bad("an empty head", "\n\n", 0),
		bad("an empty head ended by LF CR LF", "\n\r\n", 0), // complete: no waiting for more
		bad("a byte order mark", "\xef\xbb\xbf"+st200+"\r\n", 0),
		// Field lines.
		ok("token names", st200+"X-Custom_Header.1~!#$%&'*+^`|: v\r\n\r\n",
			want{code: 200, headers: []string{"X-Custom_Header.1~!#$%&'*+^`|: v"}, length: none, framing: FramingUntilClose}),
		ok("token names with the ends of DIGIT and ALPHA", st200+"09AZaz: v\r\n\r\n",
			want{code: 200, headers: []string{"09AZaz: v"}, length: none, framing: FramingUntilClose}),
		ok("HTAB and obs-text in values", st200+"X: a\tb \xc3\xa9 \xff\r\n\r\n",
			want{code: 200, headers: []string{"X: a\tb é \uFFFD"}, length: none, framing: FramingUntilClose}),
		ok("an empty value", st200+"X:\r\n\r\n", want{code: 200, headers: []string{"X:"}, length: none, framing: FramingUntilClose}),
		badWhy("space in a name", st200+"X Y: z\r\n\r\n", l+1, "white space in the field name"),
		badWhy("TAB in a name", st200+"X\tY: z\r\n\r\n", l+1, "white space in the field name"),
		bad("space before the colon", st200+"Content-Length : 5\r\n\r\n", l+14),
		badWhy("a non-token name", st200+"(x): y\r\n\r\n", l, "invalid byte in field name"),
		bad("a non-ASCII name", st200+"\xc3\xa9: y\r\n\r\n", l),
		badWhy("an empty name", st200+": y\r\n\r\n", l, "empty field name"),
		badWhy("a line without a colon", st200+"garbage\r\n\r\n", l, "field line without a colon"),
		bad("a control in a value", st200+"X: a\x01b\r\n\r\n", l+4),
		bad("a control first in a value", st200+"X:\x01\r\n\r\n", l+2),
		bad("DEL in a value", st200+"X: a\x7fb\r\n\r\n", l+4),
		bad("a bare CR in a value", st200+"X: a\rb\r\n\r\n", l+4),
		bad("obs-fold", st200+"X: a\r\n b\r\n\r\n", l+len("X: a\r\n")),
		// RFC 9112 §2.2: the empty line may end in CR LF after lines ended
		// by a bare LF (Godot's byte-wise end test does not stop there).
		{name: "§7.4 accepts LF field lines closed by a CR LF empty line", p: s,
			head: "HTTP/1.1 200 OK\nContent-Length: 2\n\r\n", body: "ok",
			w: want{code: 200, headers: []string{"Content-Length: 2"}, length: 2, framing: FramingLength}},
		{name: "§7.4 accepts a CR LF empty line right after a bare-LF status line", p: s,
			head: "HTTP/1.1 200 OK\n\r\n", body: "X: y\n\n",
			w: want{code: 200, length: none, framing: FramingUntilClose}},
		{name: "§7.4 accepts a bare-LF 1xx head closed by CR LF, then the final head", p: s,
			head: "HTTP/1.1 100 Continue\n\r\nHTTP/1.1 200 OK\nContent-Length: 2\n\r\n", body: "ok",
			w: want{code: 200, headers: []string{"Content-Length: 2"}, length: 2, framing: FramingLength, info: 1}},
		bad("a NUL byte", st200+"X: a\x00\r\n\r\n", l+4),
		// issue 7 rule 10 (RFC 9110 §5.5): obs-text is allowed; a byte that is
		// not UTF-8 is stored as U+FFFD and swallows no ASCII byte.
		ok("an overlong form as obs-text (issue 7 rule 10)", st200+"X: a\xc0\x8aY: b\r\n\r\n",
			want{code: 200, headers: []string{"X: a\uFFFD\uFFFDY: b"}, length: none, framing: FramingUntilClose}),
		ok("invalid UTF-8 before an ASCII byte (issue 7 rule 10)", st200+"X: \xc3Y\r\n\r\n",
			want{code: 200, headers: []string{"X: \uFFFDY"}, length: none, framing: FramingUntilClose}),
		ok("Latin-1 obs-text before CRLF (issue 7 rule 10)", st200+"X: caf\xe9\r\nContent-Length: 5\r\n\r\n",
			want{code: 200, headers: []string{"X: caf\uFFFD", "Content-Length: 5"}, length: 5, framing: FramingLength}),
		ok("Latin-1 obs-text before a bare LF (issue 7 rule 10)", "HTTP/1.1 200 OK\nX: caf\xe9\nContent-Length: 5\n\n",
			want{code: 200, headers: []string{"X: caf\uFFFD", "Content-Length: 5"}, length: 5, framing: FramingLength}),
		ok("obs-text in the reason and a value (issue 7 rule 10)", "HTTP/1.1 200 \xe9\r\nX: \xfe\xff\r\n\r\n",
			want{code: 200, headers: []string{"X: \uFFFD\uFFFD"}, length: none, framing: FramingUntilClose}),
		bad("a NUL beside obs-text", st200+"X: \xff\x00\r\n\r\n", l),
		bad("a control beside obs-text", st200+"X: \xff\x01\r\n\r\n", l),
		// Content-Length.
		ok("Content-Length with OWS", st200+"Content-Length:  5 \r\n\r\n",
			want{code: 200, headers: []string{"Content-Length:  5"}, length: 5, framing: FramingLength}),
		ok("identical Content-Length lines", st200+"Content-Length: 5\r\ncontent-length: 5\r\n\r\n",
			want{code: 200, headers: []string{"Content-Length: 5", "content-length: 5"}, length: 5, framing: FramingLength}),
		bad("+5", st200+"Content-Length: +5\r\n\r\n", l+15),
		bad("a list 5, 5", st200+"Content-Length: 5, 5\r\n\r\n", l+15),
		bad("1.5", st200+"Content-Length: 1.5\r\n\r\n", l+15),
		bad("an empty Content-Length", st200+"Content-Length:\r\n\r\n", l+15),
		bad("-1", st200+"Content-Length: -1\r\n\r\n", l+15),
		bad("an overflowing Content-Length", st200+"Content-Length: 9223372036854775808\r\n\r\n", l+15),
		bad("differing Content-Length values", st200+"Content-Length: 5\r\nContent-Length: 6\r\n\r\n", l+19+15),
		bad("5 and 05", st200+"Content-Length: 5\r\nContent-Length: 05\r\n\r\n", l+19+15),
		// Transfer-Encoding.
		ok("chunked", st200+"Transfer-Encoding: chunked\r\n\r\n",
			want{code: 200, headers: []string{"Transfer-Encoding: chunked"}, length: none, chunked: true, framing: FramingChunked}),
		ok("Chunked in any case", st200+"Transfer-Encoding: Chunked\r\n\r\n",
			want{code: 200, headers: []string{"Transfer-Encoding: Chunked"}, length: none, chunked: true, framing: FramingChunked}),
		// issue 7 rule 10: any coding but chunked is refused (the body would
		// reach the caller with the coding still on it).
		bad("gzip, chunked (issue 7 rule 10)", st200+"Transfer-Encoding: gzip , chunked\r\n\r\n", l+18),
		bad("gzip then chunked over two lines (issue 7 rule 10)", st200+"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", l+18),
		bad("an unknown coding before chunked (issue 7 rule 10)", st200+"Transfer-Encoding: foo;q=1, chunked\r\n\r\n", l+18),
		bad("gzip beside Content-Length (issue 7 rule 10)", st200+"Content-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\n", l+19+18),
		bad("identity (issue 7 rule 10)", st200+"Transfer-Encoding: identity\r\n\r\n", l+18),
		ok("empty list elements", st200+"Transfer-Encoding: , chunked,\r\n\r\n",
			want{code: 200, headers: []string{"Transfer-Encoding: , chunked,"}, length: none, chunked: true, framing: FramingChunked}),
		bad("gzip alone (issue 7 rule 10)", st200+"Transfer-Encoding: gzip\r\n\r\n", l+18),
		// issue 7 rule 10, RFC 9112 §6.3: the Content-Length is ignored, the length unknown.
		ok("chunked with Content-Length: chunked, length −1, ambiguous", st200+"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
			want{code: 200, headers: []string{"Content-Length: 5", "Transfer-Encoding: chunked"}, length: none, chunked: true,
				framing: FramingChunked, ambiguous: true}),
		ok("Content-Length after chunked: length −1, ambiguous", st200+"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
			want{code: 200, headers: []string{"Transfer-Encoding: chunked", "Content-Length: 5"}, length: none, chunked: true,
				framing: FramingChunked, ambiguous: true}),
		bad("chunked before gzip", st200+"Transfer-Encoding: chunked, gzip\r\n\r\n", l+18),
		bad("chunked twice", st200+"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", l+28+18),
		bad("an unknown coding without chunked", st200+"Transfer-Encoding: foo\r\n\r\n", l+18),
		bad("an empty Transfer-Encoding", st200+"Transfer-Encoding: , \r\n\r\n", 0),
		badWhy("a coding that is not a token", st200+"Transfer-Encoding: g zip, chunked\r\n\r\n", l+18, "invalid transfer coding"),
		// Connection keeps Godot's rule.
		ok("Connection: close (KeepAlive false, length still decides)", st200+"Connection: close\r\nContent-Length: 5\r\n\r\n",
			want{code: 200, headers: []string{"Connection: close", "Content-Length: 5"}, length: 5, closeConn: true, framing: FramingLength}),
	})
}

func TestParseStrictFramingAndInformational(t *testing.T) {
	s := HeadParser{Strict: true}
	sHead := HeadParser{Strict: true, HeadRequest: true}
	sConnect := HeadParser{Strict: true, Connect: true}
	cont := "HTTP/1.1 100 Continue\r\n\r\n"
	final := st200 + "Content-Length: 2\r\n\r\n"
	finalW := want{code: 200, headers: []string{"Content-Length: 2"}, length: 2, framing: FramingLength}
	w10 := finalW
	w10.info = 10
	w2 := finalW
	w2.info = 2
	w1 := finalW
	w1.info = 1
	runHeadCases(t, []headCase{
		{name: "§7.4 HEAD → no body, ContentLength 0", p: sHead, head: st200 + "Content-Length: 9\r\n\r\n",
			w: want{code: 200, headers: []string{"Content-Length: 9"}, length: 0, framing: FramingNone}},
		{name: "§7.4 HEAD + chunked → no body", p: sHead, head: st200 + "Transfer-Encoding: chunked\r\n\r\n",
			w: want{code: 200, headers: []string{"Transfer-Encoding: chunked"}, length: 0, chunked: true, framing: FramingNone}},
		{name: "§7.4 HEAD + chunked + Content-Length → no body, ContentLength 0 (issue 7 rule 10)", p: sHead,
			head: st200 + "Transfer-Encoding: chunked\r\nContent-Length: 7\r\n\r\n",
			w: want{code: 200, headers: []string{"Transfer-Encoding: chunked", "Content-Length: 7"}, length: 0, chunked: true,
				framing: FramingNone, ambiguous: true}},
		{name: "§7.4 304 + chunked + Content-Length → no body, ContentLength −1 (issue 7 rule 10)", p: s,
			head: "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nContent-Length: 7\r\n\r\n",
			w: want{code: 304, headers: []string{"Transfer-Encoding: chunked", "Content-Length: 7"}, length: none, chunked: true,
				framing: FramingNone, ambiguous: true}},
		{name: "§7.4 HTTP/1.0 chunked → chunked, ambiguous (RFC 9112 §6.1: the connection closes after it)", p: s,
			head: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n",
			w: want{code: 200, headers: []string{"Connection: keep-alive", "Transfer-Encoding: chunked"}, length: none, chunked: true,
				framing: FramingChunked, ambiguous: true}},
		{name: "§7.4 204 → no body", p: s, head: "HTTP/1.1 204 No Content\r\n\r\n", body: "next",
			w: want{code: 204, length: none, framing: FramingNone}},
		{name: "§7.4 304 → no body, ContentLength keeps the declared value", p: s,
			head: "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
			w:    want{code: 304, headers: []string{"Content-Length: 5"}, length: 5, framing: FramingNone}},
		{name: "§7.4 no length → read until close (RFC 9112 §6.3)", p: s, head: st200 + "Server: x\r\n\r\n", body: "data",
			w: want{code: 200, headers: []string{"Server: x"}, length: none, framing: FramingUntilClose}},
		{name: "§7.4 a 1xx head is skipped", p: s, head: cont + final, body: "ok", w: w1},
		{name: "§7.4 103 Early Hints with fields is skipped", p: s,
			head: "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n" + cont + final, w: w2},
		{name: "§7.4 ten 1xx heads are skipped", p: s, head: strings.Repeat(cont, 10) + final, w: w10},
		// §1.6.4.2: the end of the next head is counted from its own start,
		// never from the bytes of the 1xx head before it.
		{name: "§7.4 §1.6.4.2 a LF after a 1xx head is not an end", p: s, head: cont + "\n", w: want{err: "need"}},
		{name: "§7.4 §1.6.4.2 a CR LF after a 1xx head is not an end", p: s, head: cont + "\r\n", w: want{err: "need"}},
		{name: "§7.4 an eleventh 1xx head is refused", p: s, head: strings.Repeat(cont, 11) + final,
			w: want{err: "limit"}},
		{name: "§7.4 101 is refused (no upgrades)", p: s, head: cont + "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
			w: want{err: "head", at: len(cont)}},
		{name: "§7.4 an invalid 1xx head is refused", p: s, head: "HTTP/1.1 100 Continue\r\nbad line\r\n\r\n" + final,
			w: want{err: "head", at: len("HTTP/1.1 100 Continue\r\n")}},
		{name: "§7.4 offsets in a later head count from the start of the response", p: s,
			head: cont + "HTTP/1.1 200 OK\r\nX: \x01\r\n\r\n", w: want{err: "head", at: len(cont) + len(st200) + 3}},
		{name: "§7.4 1xx bytes count in the header budget",
			p:    HeadParser{Strict: true, Limits: Limits{MaxHeaderBytes: len(cont) + len(final) - 1}},
			head: cont + final, w: want{err: "limit"}},
		{name: "§7.4 1xx heads within the budget",
			p:    HeadParser{Strict: true, Limits: Limits{MaxHeaderBytes: len(cont) + len(final)}},
			head: cont + final, w: w1},
		{name: "§7.4 at most 100 fields", p: s, head: st200 + strings.Repeat("A: 1\r\n", 101) + "\r\n",
			w: want{err: "limit"}},
		{name: "§7.4 100 fields are accepted", p: s, head: st200 + strings.Repeat("A: 1\r\n", 100) + "\r\n",
			w: want{code: 200, headers: repeat("A: 1", 100), length: none, framing: FramingUntilClose}},
		// §1.14.2, §7 D5, RFC 9110 §9.3.6: a 2xx reply to CONNECT has no
		// framing, so its framing fields are not checked; any other reply
		// to CONNECT, and every reply to another method, is.
		{name: "§7.4 §7 D5 a 2xx to CONNECT: Content-Length not checked", p: sConnect,
			head: st200 + "Content-Length: abc\r\nContent-Length: 1\r\n\r\n",
			w:    want{code: 200, headers: []string{"Content-Length: abc", "Content-Length: 1"}, length: none, framing: FramingNone}},
		{name: "§7.4 §7 D5 a 2xx to CONNECT: Transfer-Encoding not checked", p: sConnect,
			head: "HTTP/1.1 204 Tunnel\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding:\r\n\r\n",
			w:    want{code: 204, headers: []string{"Transfer-Encoding: gzip", "Transfer-Encoding:"}, length: none, framing: FramingNone}},
		{name: "§7.4 §7 D5 a 407 to CONNECT: Content-Length checked", p: sConnect,
			head: "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: abc\r\n\r\n",
			w:    want{err: "head", at: len("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length:")}},
		{name: "§7.4 §7 D5 a 2xx to CONNECT: other fields still checked", p: sConnect,
			head: st200 + "X: \x01\r\n\r\n", w: want{err: "head", at: len(st200) + 3}},
		{name: "§7 D5 a 2xx to CONNECT, lenient: no body whatever its framing", p: HeadParser{Connect: true},
			head: st200 + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
			w:    want{code: 200, headers: []string{"Transfer-Encoding: chunked", "Content-Length: 5"}, length: none, framing: FramingNone}},
		{name: "§7.4 a 2xx to another method: Content-Length checked", p: s,
			head: st200 + "Content-Length: abc\r\n\r\n", w: want{err: "head", at: len(st200) + len("Content-Length:")}},
		{name: "§7.4 MaxHeaderFields overrides the strict default",
			p:    HeadParser{Strict: true, Limits: Limits{MaxHeaderFields: 3}},
			head: st200 + strings.Repeat("A: 1\r\n", 4) + "\r\n", w: want{err: "limit"}},
	})
}

// TestParseResumes checks that a call after ErrNeedMore scans only the new
// bytes: the scan position always reaches the end of what was given.
func TestParseResumes(t *testing.T) {
	in := []byte(st200 + strings.Repeat("X-Filler: abcdefghijklmnopqrstuvwxyz\r\n", 2000) + "\r\n")
	var p HeadParser
	var h Head
	for k := 1; k < len(in); k++ {
		_, err := p.Parse(in[:k], &h)
		require.Equal(t, ErrNeedMore, err, "prefix %d", k)
		require.Equal(t, k, p.scan, "scan position after %d bytes", k)
	}
	n, err := p.Parse(in, &h)
	require.NoError(t, err)
	assert.Equal(t, len(in), n)
	assert.Len(t, h.Headers, 2000)
	assert.Zero(t, p.scan, "the parser resets itself after a result")

	// White-box: the bytes before the scan position are not looked at
	// again. A rescan would find the LF LF planted behind it.
	part := []byte(st200 + "X-A: 1\r\n")
	_, err = p.Parse(part, &h)
	require.Equal(t, ErrNeedMore, err)
	planted := append([]byte(nil), part...)
	planted[len(st200)] = '\n' // "…OK\r\n\n": an end, had it been scanned
	_, err = p.Parse(append(planted, "X-B"...), &h)
	assert.Equal(t, ErrNeedMore, err, "resumed at the scan position")
}

func TestParseKeepsNoReference(t *testing.T) {
	buf := []byte(st200 + "X-A: 1\r\n\r\n")
	var p HeadParser
	var h Head
	_, err := p.Parse(buf, &h)
	require.NoError(t, err)
	for i := range buf {
		buf[i] = 'z'
	}
	assert.Equal(t, []string{"X-A: 1"}, h.Headers)
}

func TestParseReuse(t *testing.T) {
	var p HeadParser
	var h Head
	first := []byte(st200 + "A: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 1\r\n\r\n")
	_, err := p.Parse(first, &h)
	require.NoError(t, err)
	capBefore := cap(h.Headers)

	// A different, shorter response without Reset: the parser starts over.
	_, err = p.Parse(first[:10], &h)
	require.Equal(t, ErrNeedMore, err)
	second := []byte("HTTP/1.1 404 Not Found\r\nD: 4\r\n\r\n")
	n, err := p.Parse(second, &h)
	require.NoError(t, err)
	assert.Equal(t, len(second), n)
	assert.Equal(t, 404, h.Code)
	assert.Equal(t, []string{"D: 4"}, h.Headers)
	assert.Equal(t, int64(-1), h.ContentLength)
	assert.Equal(t, capBefore, cap(h.Headers), "Headers capacity is reused")

	// Reset forgets a partial scan but keeps the configuration.
	p = HeadParser{Strict: true}
	_, err = p.Parse([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2"), &h)
	require.Equal(t, ErrNeedMore, err)
	require.Equal(t, 1, p.info)
	p.Reset()
	assert.True(t, p.Strict)
	assert.Zero(t, p.info)
	assert.Zero(t, p.start)
}

func TestHeadReset(t *testing.T) {
	h := Head{Code: 404, Headers: make([]string, 3, 8), ContentLength: 7, Chunked: true, KeepAlive: true,
		Framing: FramingChunked, Ambiguous: true, Informational: 2}
	h.Reset()
	assert.Equal(t, Head{Headers: h.Headers, ContentLength: -1}, h)
	assert.Empty(t, h.Headers)
	assert.Equal(t, 8, cap(h.Headers))
}

func TestHeadErrorMessage(t *testing.T) {
	e := &HeadError{Offset: 17, Reason: "empty field name"}
	assert.Equal(t, "gdhttp: malformed response head at byte 17: empty field name", e.Error())
}

// TestGodotDecode pins godotDecode to String::append_utf8 of Godot 4.4+
// (PR #99826), each row derived from its source.
func TestGodotDecode(t *testing.T) {
	const r = "\uFFFD"
	for _, c := range []struct {
		name, in, out string
		nul           bool // structural: a NUL cut dropped text holding a framing line
	}{
		{name: "valid UTF-8 unchanged", in: "a é 日 😀", out: "a é 日 😀"},
		{name: "the ends of each valid range", in: "\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 \xf0\x90\x80\x80 \xf4\x8f\xbf\xbf",
			out: "\u0080 \u07ff \u0800 \ud7ff \ue000 \U00010000 \U0010ffff"},
		{name: "BOM dropped", in: "\xef\xbb\xbfab", out: "ab"},
		{name: "BOM only at the start", in: "a\xef\xbb\xbf", out: "a\ufeff"},
		{name: "a BOM cut short is not one", in: "\xef\xbb", out: r + r},
		{name: "NUL cuts", in: "ab\x00cd", out: "ab"},
		{name: "NUL cuts a framing line away", in: "ab\x00\r\nTransfer-Encoding: x", out: "ab", nul: true},
		{name: "NUL cuts a framing line", in: "Content-Length: 1\x002", out: "Content-Length: 1", nul: true},
		{name: "a sequence cut by NUL is U+FFFD", in: "ab\xc3\x00cd", out: "ab" + r},
		{name: "a three-byte sequence cut by NUL after two bytes: U+FFFD per byte", in: "\xe2\x82\x00z", out: r + r},
		{name: "stray continuation byte", in: "a\x80b", out: "a" + r + "b"},
		{name: "0xFE and 0xFF", in: "\xfe\xff", out: r + r},
		{name: "a broken two-byte sequence keeps the ASCII byte", in: "\xc3(x", out: r + "(x"},
		{name: "a broken two-byte sequence keeps the LF", in: "\xc3\n", out: r + "\n"},
		{name: "Latin-1 before CR LF keeps both", in: "caf\xe9\r\n", out: "caf" + r + "\r\n"},
		{name: "a broken lead, then a valid pair", in: "\xc3\xc3\xa9", out: r + "é"},
		{name: "a lead at the end", in: "a\xc3", out: "a" + r},
		{name: "C0 and C1 are overlong: U+FFFD per byte", in: "\xc0\x8a\xc1\xbf", out: r + r + r + r},
		{name: "overlong NUL", in: "\xc0\x80", out: r + r},
		{name: "three-byte overlong 'A' (E0 takes A0–BF)", in: "\xe0\x81\x81", out: r + r + r},
		{name: "three-byte overlong U+0080", in: "\xe0\x82\x80", out: r + r + r},
		{name: "surrogate (ED takes 80–9F)", in: "\xed\xb0\x80", out: r + r + r},
		{name: "a bad second byte of three: the lead alone", in: "\xe2(", out: r + "("},
		{name: "a bad third byte: one U+FFFD for the first two, then the byte alone", in: "\xe2\x82(\xe2\x82\xc3\xa9", out: r + "(" + r + "é"},
		{name: "three bytes cut by the end after two: U+FFFD per byte", in: "\xe2\x82", out: r + r},
		{name: "four-byte overlong (F0 takes 90–BF)", in: "\xf0\x8f\xbf\xbf", out: r + r + r + r},
		{name: "above U+10FFFF after F4 (F4 takes 80–8F)", in: "\xf4\x90\x80\x80", out: r + r + r + r},
		{name: "above U+10FFFF after F5: the lead alone", in: "\xf5\x80\x80\x80", out: r + r + r + r},
		{name: "F5–F7 take 80–BF as F1–F3 do: a bad third byte, one U+FFFD for two", in: "\xf5\x80(", out: r + "("},
		{name: "F5–F7 take 80–BF as F1–F3 do: a bad fourth byte, one U+FFFD for three", in: "\xf7\xbf\xbf(", out: r + "("},
		{name: "a bad third byte of four: one U+FFFD for two", in: "\xf0\x9f(", out: r + "("},
		{name: "a bad fourth byte: one U+FFFD for three", in: "\xf0\x9f\x98(", out: r + "("},
		{name: "four bytes cut by the end after three: U+FFFD per byte", in: "\xf0\x9f\x98", out: r + r + r},
		{name: "four bytes cut by the end after two: U+FFFD per byte", in: "\xf0\x9f", out: r + r},
		{name: "five-byte form", in: "\xf8\x88\x80\x80\x80!", out: r + r + r + r + r + "!"},
		{name: "six-byte form", in: "\xfc\x80\x80\x80\x80\xaf", out: r + r + r + r + r + r},
		{name: "BOM, then NUL", in: "\xef\xbb\xbfa\x00", out: "a"},
		{name: "a NUL after an overlong pair", in: "\xc0\x8a\x00", out: r + r},
	} {
		t.Run("§0.4.5 "+c.name, func(t *testing.T) {
			out, res := godotDecode(nil, []byte(c.in))
			assert.Equal(t, c.out, string(out))
			assert.Equal(t, c.nul, res.structural, "structural: only a NUL cut that drops framing")
			assert.True(t, res.changed)
		})
	}
}

func TestPrefixFold(t *testing.T) {
	for _, c := range []struct {
		s, prefix    string
		unicode      bool
		ok, unicode2 bool
	}{
		{"Content-Length: 5", "content-length:", false, true, false},
		{"Content-Lengt", "content-length:", false, false, false},
		{"Transfer-Encod\u0130ng:", "transfer-encoding:", false, false, false},
		{"Transfer-Encod\u0130ng:", "transfer-encoding:", true, true, true},
		{"Connect\u0130on: close", "connection: close", true, true, true},
		{"\u212aeep", "keep", true, true, true},
		{"\u00e9", "e", true, false, false},
		{"Transfer-Encoding:", "transfer-encoding:", true, true, false},
		{"\u0080", "\u0080", true, true, false}, // U+0080 matched itself: not ASCII
	} {
		ok, via := prefixFold(c.s, c.prefix, c.unicode)
		assert.Equal(t, c.ok, ok, "%q %q", c.s, c.prefix)
		assert.Equal(t, c.unicode2, via, "%q %q", c.s, c.prefix)
	}
}

func TestPlainASCII(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"", true},
		{"HTTP/1.1 200 OK\r\n", true},
		{"0123456789abcdef\x7f", true},
		{"01234567\x00", false},
		{"0123\x0089abcdef", false},
		{"0123456\x80", false},
		{"01234567\x80", false}, // 0x80 in the byte-wise tail
		{"012345678901234\xff", false},
	} {
		assert.Equal(t, c.ok, plainASCII([]byte(c.in)), "%q", c.in)
	}
}

func TestControlIndex(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"", -1},
		{"plain value, long enough to take the fast path", -1},
		{"tab\tinside a long value\tand more", -1},
		{"obs-text \xc3\xa9\xff\x80 and more bytes", -1},
		{"0123456789abcdef\x01", 16},
		{"\x01234567", 0},          // in the first 8-byte block
		{"0123456\x1f89abcdef", 7}, // likewise, at its last byte
		{"0123456\x7f89abcdef", 7},
		{"\x00", 0},
		{"01234567\x1f", 8},
		{"0123456789\r", 10},
		{"\t\t\t\t\t\t\t\t\t\x0b", 9},
	} {
		assert.Equal(t, c.want, controlIndex(c.in), "%q", c.in)
	}
}

// TestParseRepeatedHead: a head identical to the previous one reuses its
// string and allocates nothing (issue 8); a different one gets its own,
// and the Headers of earlier heads stay as they were.
func TestParseRepeatedHead(t *testing.T) {
	a := []byte("HTTP/1.1 200 OK\r\nDate: Thu, 03 Dec 2026 18:00:00 GMT\r\nContent-Length: 2\r\n\r\n")
	b := []byte("HTTP/1.1 200 OK\r\nDate: Thu, 03 Dec 2026 18:00:01 GMT\r\nContent-Length: 2\r\n\r\n")
	var p HeadParser
	var h1, h2, h3 Head
	_, err := p.Parse(a, &h1)
	require.NoError(t, err)
	first := append([]string(nil), h1.Headers...)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := p.Parse(a, &h2); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "the same head again")
	assert.Equal(t, first, h2.Headers)
	_, err = p.Parse(b, &h3)
	require.NoError(t, err)
	assert.Equal(t, []string{"Date: Thu, 03 Dec 2026 18:00:01 GMT", "Content-Length: 2"}, h3.Headers)
	assert.Equal(t, first, h1.Headers, "earlier Headers unchanged")
	// A buffer reused for the next head changes nothing already parsed.
	buf := append([]byte(nil), a...)
	var h4 Head
	_, err = p.Parse(buf, &h4)
	require.NoError(t, err)
	copy(buf, b)
	assert.Equal(t, first, h4.Headers)
}

// TestIsToken checks IsToken byte by byte against RFC 9110 §5.6.2's tchar,
// written out here: the 15 symbols, digits and ASCII letters, and nothing
// else (no byte ≥ 0x80, no control, no separator); and the empty string is
// no token.
func TestIsToken(t *testing.T) {
	const tchar = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	for c := range 256 {
		want := strings.IndexByte(tchar, byte(c)) >= 0
		assert.Equal(t, want, IsToken(string([]byte{byte(c)})), "byte %#x", c)
		assert.Equal(t, want, IsToken("a"+string([]byte{byte(c)})+"z"), "byte %#x inside", c)
	}
	assert.False(t, IsToken(""))
	assert.True(t, IsToken(tchar))
}
