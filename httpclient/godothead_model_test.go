package httpclient

import (
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/gdhttp/gdhttp/internal/drive"
)

// The model's own reading of a response head, written from Godot's C++
// (core/io/http_client_tcp.cpp, HTTPClientTCP::poll, case STATUS_REQUESTING;
// core/string/ustring.cpp: String::utf8/append_utf8, strip_edges, to_lower,
// to_int, get_slicec) without wire's parser, so that the differential tests
// compare the port's head parsing with an independent one (§0.4, §1.8, §1.9).
//
// In Godot's words, restated: the head ends at LF LF or CR LF CR LF; the
// bytes are decoded as UTF-8 and split at each LF; every line is stripped
// (strip_edges) and lower-cased for the tests, and an empty one skipped; a
// line that begins with "content-length:" sets the body size to the to_int
// of its stripped value, one that begins with "transfer-encoding:" sets
// chunked when its stripped value (original case) is exactly "chunked", one
// that begins with "connection: close" clears keep-alive; the first line,
// when it begins with "HTTP", gives the code (to_int of the text between
// its first and second space) and is not stored; every other line is stored
// stripped.

// godotHeadEnded is the end-of-head test above, on the raw bytes.
func godotHeadEnded(h []byte) bool {
	n := len(h)
	return (n >= 2 && h[n-2] == '\n' && h[n-1] == '\n') ||
		(n >= 4 && h[n-4] == '\r' && h[n-3] == '\n' && h[n-2] == '\r' && h[n-1] == '\n')
}

// godotUTF8 is String::utf8 for what the generators send: a BOM at the
// start is skipped, decoding stops at the first NUL. The generators send
// valid UTF-8 only (Godot's repair of invalid sequences is not modelled).
func godotUTF8(b []byte) string {
	s := strings.TrimPrefix(string(b), "\xEF\xBB\xBF")
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if !utf8.ValidString(s) {
		panic("model: invalid UTF-8 in a head")
	}
	return s
}

// godotStrip is strip_edges: code points ≤ 32 at both ends.
func godotStrip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r <= 32 })
}

// godotToInt is String::to_int as Godot 4.5 has it (_to_int): only what
// precedes the first '.', every non-digit skipped, a '-' flips the sign
// while the value is 0; the digits summed in a uint64, the overflow test
// (INT64_MAX or INT64_MIN returned) made only while more than 18 digits
// were read — an 8-bit count — so a 19-digit value past the range wraps.
func godotToInt(s string) int64 {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = s[:i]
	}
	var v uint64
	var digits uint8
	positive := true
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			if digits > 18 && (v > math.MaxInt64/10 || v == math.MaxInt64/10 && (positive && c > '7' || !positive && c > '8')) {
				if positive {
					return math.MaxInt64
				}
				return math.MinInt64
			}
			v = v*10 + uint64(c-'0')
			digits++
		case v == 0 && c == '-':
			positive = !positive
		}
	}
	if positive {
		return int64(v)
	}
	return int64(v * math.MaxUint64) // v * uint64(-1)
}

// godotSlice is get_slicec(' ', n): the n-th field split on single spaces.
func godotSlice(s string, n int) string {
	f := strings.Split(s, " ")
	if n < len(f) {
		return f[n]
	}
	return ""
}

// godotHeadModel is what HTTPClientTCP::poll makes of a complete head.
type godotHeadModel struct {
	code      int
	headers   []string
	bodySize  int64
	chunked   bool
	keepAlive bool
}

func parseGodotHead(raw []byte) godotHeadModel {
	h := godotHeadModel{code: 200, bodySize: -1, keepAlive: true}
	for i, line := range strings.Split(godotUTF8(raw), "\n") {
		header := godotStrip(line)
		s := strings.ToLower(header)
		if s == "" {
			continue
		}
		switch {
		case strings.HasPrefix(s, "content-length:"):
			h.bodySize = godotToInt(godotStrip(s[strings.IndexByte(s, ':')+1:]))
		case strings.HasPrefix(s, "transfer-encoding:"):
			if godotStrip(header[strings.IndexByte(header, ':')+1:]) == "chunked" {
				h.chunked = true
			}
		case strings.HasPrefix(s, "connection: close"):
			h.keepAlive = false
		}
		if i == 0 && strings.HasPrefix(line, "HTTP") {
			// int response_num (http_client_tcp.h): the int64 is cut to 32 bits.
			h.code = int(int32(godotToInt(godotSlice(line, 1))))
		} else {
			h.headers = append(h.headers, header)
		}
	}
	return h
}

// oddStatusLines are status lines Godot reads deterministically (§1.8.4):
// the code is the second space-separated field of a raw first line that
// begins with "HTTP"; any other first line is a header and the code 200.
var oddStatusLines = []string{
	"HTTP/1.0 200 OK\r\n", "HTTP/1.1 200\r\n", "HTTP/1.1 404 \r\n", "HTTP/1.1  200 OK\r\n",
	"ICY 200 OK\r\n", "http/1.1 404 Not Found\r\n", " HTTP/1.1 404 X\r\n", "HTTP/1.1 404abc\r\n",
	"HTTP/1.1\t404 X\r\n", "\xEF\xBB\xBFHTTP/1.1 201 Bom\r\n", "\r\nHTTP/1.1 404 Blank\r\n",
	"HTTPS 302 x\r\n", "HTTP/1.1 -5 Neg\r\n", "HTTP/1.1 2.5 Dot\r\n", "HTTP/1.1 99999999999 Big\r\n",
	"HTTP/1.1 200 OK\n", "HTTP/1.1 200 \xc3\xa9t\xc3\xa9\r\n",
	"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", // §1.8.7: the 100 is the response
	"HTTP/1.1 103 Early\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\n",
}

// oddHeaderLines are header lines (each ending its own line) that Godot
// reads deterministically but a generator of well-formed heads never sends.
var oddHeaderLines = []string{
	"X-Fold: a\r\n  folded\r\n", "X-Fold: a\r\n\tContent-Length: 4\r\n", "NoColon\r\n", ": empty-name\r\n",
	"X-U: h\xc3\xa9llo\r\n", "X-CR: a\rb\r\n", "X-CR: a\rContent-Length: 9\r\n", "X-Ctl: a\x01b\r\n",
	"Connection: keep-alive\r\n", "Connection:close\r\n", "Connection: keep-alive, close\r\n",
	"Transfer-Encoding: identity\r\n", "X-Long: " + strings.Repeat("v", 300) + "\r\n",
	"x-empty:\r\n", "X-LF: a\nX-LF2: b\r\n", "X-LFCRLF: a\n\r\nX-After: b\r\n",
	"  X-Lead: 1\r\n", "X-Trail: 1 \t\r\n", "X-Dup: 1\r\nX-Dup: 2\r\n",
	"X-Nul: a\x00b\r\n",
}

// oddLengths are Content-Length values read by to_int (§0.4.2, §1.8.3);
// oddTE and oddClose are Transfer-Encoding and Connection lines.
var (
	oddLengths = []string{"1,2", "+5", " 5 ", "5.9", "05", "abc", "-0", "--5", "5-", "0x10", "1 2", "\t3",
		"12345678901234567890123", "9223372036854775808", "-9223372036854775809", "-1", "-7", "", "0", "3"}
	oddTE = []string{"Transfer-Encoding: Chunked\r\n", "Transfer-Encoding:chunked\r\n", "TRANSFER-ENCODING: chunked \r\n",
		"Transfer-Encoding: gzip, chunked\r\n", "Transfer-Encoding: chunked, gzip\r\n", "Transfer-Encod\xc4\xb0ng: chunked\r\n",
		"transfer-encoding :chunked\r\n", " Transfer-Encoding: chunked\r\n"}
	oddClose = []string{"Connection: close\r\n", "CONNECTION: CLOSE\r\n", "Connection: closed\r\n", "Connection: close, TE\r\n",
		"Connect\xc4\xb0on: close\r\n", "Connection:  close\r\n", " Connection: close\r\n"}
)

// oddResponse makes a response with a head from the odd shapes above and a
// body of random bytes after it: Godot's framing decides what is read.
func oddResponse(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString(oddStatusLines[r.IntN(len(oddStatusLines))])
	for range r.IntN(4) {
		switch r.IntN(5) {
		case 0:
			b.WriteString("Content-Length: " + oddLengths[r.IntN(len(oddLengths))] + "\r\n")
		case 1:
			b.WriteString(oddTE[r.IntN(len(oddTE))])
		case 2:
			b.WriteString(oddClose[r.IntN(len(oddClose))])
		default:
			b.WriteString(oddHeaderLines[r.IntN(len(oddHeaderLines))])
		}
	}
	end := "\r\n"
	if r.IntN(6) == 0 {
		end = "\n" // a head ended by LF LF (the line before ends in CR LF: "\r\n\n")
	}
	b.WriteString(end)
	switch r.IntN(3) {
	case 0: // a chunked body
		b.WriteString("3\r\nabc\r\n0\r\n\r\n")
	case 1:
		b.WriteString(strings.Repeat("q", r.IntN(40)))
	}
	return b.String()
}

// modelRuns returns the seed and number of cases of a model test:
// GDHTTP_MODEL_SEED and GDHTTP_MODEL_N override the defaults.
func modelRuns(seed uint64, n int) (uint64, int) {
	return uint64(drive.EnvInt("GDHTTP_MODEL_SEED", int(seed))), drive.EnvInt("GDHTTP_MODEL_N", n)
}

// modelWide turns on oddResponse in genModelCase; GDHTTP_MODEL_WIDE=0
// turns it off (the shapes of the first model runs only).
var modelWide = os.Getenv("GDHTTP_MODEL_WIDE") != "0"
