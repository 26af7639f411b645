package wire

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseHead checks HeadParser.Parse against its invariants:
//   - no panic, n ≤ len(buf);
//   - the same bytes split anywhere (prefix, then all) and fed one byte at a
//     time give the same result as feeding them whole;
//   - lenient mode agrees with godotReference, a plain transcription of
//     §1.6.4.2 and §1.8/§1.9 written for clarity rather than speed;
//   - strict accepts ⊆ lenient accepts, with the same n unless strict
//     skipped 1xx heads (then lenient stopped at the first, a 1xx head) —
//     where strict mode's bytes hold no LF CR LF after a byte other than CR
//     (an end strict mode has and Godot's test lacks, §7.4);
//   - stored headers are non-empty valid UTF-8 without CR or LF and without
//     leading or trailing bytes ≤ 32.
func FuzzParseHead(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\ndata",
		"FOO 500 bar\r\nX: y\r\nContent-Length: 2\r\n\r\nhi",
		"\r\nHTTP/1.1 404 NF\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: -7\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\xc0\x8aContent-Length: 5\r\nY: \xc3\nZ: \x00\r\n\r\n",
		"\xef\xbb\xbfHTTP/1.1 200 OK\r\nTransfer-Encod\u0130ng: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\n\r\nX: a\rb\n\n",
		"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 101 Switching\r\n\r\n",
	} {
		f.Add([]byte(s), uint16(len(s)/2), false)
		f.Add([]byte(s), uint16(7), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16, headReq bool) {
		lenient := HeadParser{HeadRequest: headReq, Limits: Limits{MaxHeaderBytes: 4096}}
		strict := lenient
		strict.Strict = true

		ln, lh, lerr := parseThreeWays(t, lenient, data, int(split))
		sn, sh, serr := parseThreeWays(t, strict, data, int(split))

		for _, r := range []struct {
			n      int
			h      *Head
			err    error
			strict bool
		}{{ln, lh, lerr, false}, {sn, sh, serr, true}} {
			if r.err != nil {
				continue
			}
			if r.n > len(data) || r.n <= 0 {
				t.Fatalf("n = %d for %d bytes", r.n, len(data))
			}
			for _, s := range r.h.Headers {
				// Godot keeps a CR inside a line (§1.8.2); strict mode
				// refuses it.
				if s == "" || s[0] <= ' ' || s[len(s)-1] <= ' ' || strings.ContainsRune(s, '\n') ||
					r.strict && strings.ContainsRune(s, '\r') || !utf8.ValidString(s) {
					t.Fatalf("bad stored header %q", s)
				}
				// After HEAD no parser reads a body: a framing line hidden
				// by a CR changes nothing, an empty piece (another parser's
				// end of the head) still does (§7 D2).
				if !r.strict && !headReq && strings.ContainsRune(s, '\r') && hiddenFraming.MatchString(s) && !r.h.Ambiguous {
					t.Fatalf("stored header %q hides a framing line after a CR, and the head is not Ambiguous", s)
				}
				if !r.strict && emptyPiece.MatchString(s) && !r.h.Ambiguous {
					t.Fatalf("stored header %q has an empty piece between CRs, and the head is not Ambiguous", s)
				}
			}
			if r.strict && r.h.Framing == FramingLength && r.h.ContentLength < 0 {
				// Godot mode keeps a negative length (§1.9 note); strict
				// mode accepts digits only.
				t.Fatalf("strict: FramingLength with ContentLength %d", r.h.ContentLength)
			}
		}

		checkReference(t, lenient, data, ln, lh, lerr)

		if serr == nil && !strictOnlyEnd(data[:sn]) {
			if lerr != nil {
				t.Fatalf("strict accepts, lenient refuses: %v", lerr)
			}
			if sh.Informational == 0 && sn != ln {
				t.Fatalf("strict n %d, lenient n %d", sn, ln)
			}
			if sh.Informational > 0 && (ln >= sn || lh.Code/100 != 1) {
				t.Fatalf("strict skipped %d 1xx heads (n %d), lenient n %d code %d", sh.Informational, sn, ln, lh.Code)
			}
		}
	})
}

// strictOnlyEnd reports an LF CR LF in b that does not follow a CR: strict
// mode ends a head there (RFC 9112 §2.2), Godot's end test does not
// (§1.6.4.2), so the two modes may cut the bytes differently.
func strictOnlyEnd(b []byte) bool {
	for i := 0; i+3 <= len(b); i++ {
		if b[i] == '\n' && b[i+1] == '\r' && b[i+2] == '\n' && (i == 0 || b[i-1] != '\r') {
			return true
		}
	}
	return false
}

// parseThreeWays parses data whole, split at split, and one byte at a time,
// and fails unless all three agree.
func parseThreeWays(t *testing.T, cfg HeadParser, data []byte, split int) (int, *Head, error) {
	t.Helper()
	p := cfg
	var whole Head
	n, err := p.Parse(data, &whole)

	p = cfg
	var h2 Head
	k := split % (len(data) + 1)
	n2, err2 := p.Parse(data[:k], &h2)
	if err2 == ErrNeedMore {
		n2, err2 = p.Parse(data, &h2)
	}
	sameResult(t, "split at "+itoa(k), n, err, &whole, n2, err2, &h2)

	if len(data) <= 1024 {
		p = cfg
		var h3 Head
		n3, err3 := 0, ErrNeedMore
		for i := 0; i <= len(data) && err3 == ErrNeedMore; i++ {
			n3, err3 = p.Parse(data[:i], &h3)
		}
		sameResult(t, "bytewise", n, err, &whole, n3, err3, &h3)
	}
	return n, &whole, err
}

func sameResult(t *testing.T, mode string, n int, err error, h *Head, n2 int, err2 error, h2 *Head) {
	t.Helper()
	if n != n2 || errString(err) != errString(err2) {
		t.Fatalf("%s: (%d, %v), whole: (%d, %v)", mode, n2, err2, n, err)
	}
	if err == nil && !equalHeads(h, h2) {
		t.Fatalf("%s: %+v, whole: %+v", mode, *h2, *h)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func equalHeads(a, b *Head) bool {
	if len(a.Headers) != len(b.Headers) {
		return false
	}
	for i := range a.Headers {
		if a.Headers[i] != b.Headers[i] {
			return false
		}
	}
	return a.Code == b.Code && a.ContentLength == b.ContentLength && a.Chunked == b.Chunked &&
		a.KeepAlive == b.KeepAlive && a.Framing == b.Framing && a.Ambiguous == b.Ambiguous &&
		a.Informational == b.Informational
}

// checkReference compares a lenient result with godotReference.
func checkReference(t *testing.T, cfg HeadParser, data []byte, n int, h *Head, err error) {
	t.Helper()
	end := -1
	for i := 1; i <= len(data) && i <= cfg.Limits.HeaderBytes(); i++ {
		if i >= 2 && data[i-2] == '\n' && data[i-1] == '\n' || i >= 4 && string(data[i-4:i]) == "\r\n\r\n" {
			end = i
			break
		}
	}
	switch {
	case end < 0 && len(data) >= cfg.Limits.HeaderBytes():
		if _, ok := err.(*LimitError); !ok {
			t.Fatalf("no end within the budget, got (%d, %v)", n, err)
		}
		return
	case end < 0:
		if err != ErrNeedMore {
			t.Fatalf("no end yet, got (%d, %v)", n, err)
		}
		return
	}
	ref := godotReference(data[:end], cfg.HeadRequest)
	if err != nil || n != end {
		t.Fatalf("want (%d, nil), got (%d, %v)", end, n, err)
	}
	ref.Ambiguous = h.Ambiguous // not modelled by the reference
	if !equalHeads(&ref, h) {
		t.Fatalf("reference %+v\n   parser %+v", ref, *h)
	}
}

// godotReference is §1.8 and §1.9 transcribed line by line, as
// http_client_tcp.cpp does it, plus the port's change to what is decided
// (HEAD + chunked is an empty body).
func godotReference(head []byte, headRequest bool) Head {
	text, _ := godotDecode(nil, head)
	h := Head{Code: 200, ContentLength: -1, KeepAlive: true}
	chunked := false
	for i, raw := range strings.Split(string(text), "\n") {
		header := stripEdges(raw)
		s := strings.ToLower(header) // Unicode lower-casing, like String::to_lower
		if s == "" {
			continue
		}
		switch {
		case strings.HasPrefix(s, "content-length:"):
			h.ContentLength = toInt(stripEdges(s[strings.Index(s, ":")+1:]))
		case strings.HasPrefix(s, "transfer-encoding:"):
			if stripEdges(header[strings.Index(header, ":")+1:]) == "chunked" {
				chunked = true
			}
		case strings.HasPrefix(s, "connection: close"):
			h.KeepAlive = false
		}
		if i == 0 && strings.HasPrefix(raw, "HTTP") {
			field := ""
			if parts := strings.Split(raw, " "); len(parts) > 1 {
				field = parts[1]
			}
			h.Code = int(int32(toInt(field)))
		} else {
			h.Headers = append(h.Headers, header)
		}
	}
	if headRequest {
		h.ContentLength = 0
	}
	h.Chunked = chunked
	switch {
	case h.ContentLength != -1 || chunked:
		h.Framing = FramingLength
		if chunked && !headRequest {
			h.Framing = FramingChunked
		}
	case !h.KeepAlive:
		h.Framing = FramingUntilClose
	}
	return h
}

// TestGodotReferenceAgrees runs the reference against the rule-table
// inputs, so that the reference itself is checked where the expected
// values are known.
func TestGodotReferenceAgrees(t *testing.T) {
	in := []byte("FOO 500 bar\r\nX: y\r\nContent-Length: 2\r\n\r\n")
	ref := godotReference(in, false)
	var p HeadParser
	var h Head
	_, err := p.Parse(in, &h)
	if err != nil || !equalHeads(&ref, &h) || !bytes.Equal([]byte(h.Headers[0]), []byte("FOO 500 bar")) {
		t.Fatalf("reference %+v, parser %+v (%v)", ref, h, err)
	}
}

// FuzzGodotDecode checks godotDecode against subpartDecode, a model of
// String::append_utf8 built on unicode/utf8 instead of byte ranges, and
// checks that the ASCII bytes of the input (after a leading BOM, up to the
// first NUL) are those of the output, in order.
func FuzzGodotDecode(f *testing.F) {
	for _, s := range []string{
		"a é 日 😀", "\xef\xbb\xbfab\x00cd", "\xc3(\xc3\n\xc3\xc3\xa9", "\xc0\x8a\xc1\xbf\xe0\x81\x81",
		"\xed\xa0\x80\xf4\x90\x80\x80\xf5\x80\x80\x80", "\xe2\x82(\xf0\x9f(\xf0\x9f\x98(", "\xf0\x9f\x98",
		"\xe2\x82\x00z", "\xf8\x88\x80\x80\x80!\xfc\x80\x80\x80\x80\xaf\xfe\xff", "\xf5\x80(\xf7\xbf\xbf(\xf6\x80",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		out, r := godotDecode(nil, src)
		in := src
		if bytes.HasPrefix(in, utf8BOM) {
			in = in[3:]
		}
		if i := bytes.IndexByte(in, 0); i >= 0 {
			in = in[:i]
		}
		if want := subpartDecode(in); !bytes.Equal(out, want) {
			t.Fatalf("godotDecode(%q) = %q, model %q", src, out, want)
		}
		if !utf8.Valid(out) || !bytes.Equal(asciiOf(out), asciiOf(in)) {
			t.Fatalf("godotDecode(%q) = %q: invalid, or the ASCII text differs", src, out)
		}
		want := false
		if i := bytes.IndexByte(src, 0); i >= 0 {
			want = hiddenFraming.Match(src[bytes.LastIndexByte(src[:i], '\n')+1:])
		}
		if r.structural != want {
			t.Fatalf("godotDecode(%q): structural %v", src, r.structural)
		}
	})
}

// hiddenFraming matches a framing or Connection field name at the start of
// text or after a CR, LF or NUL, past spaces and tabs, in any case: what
// another parser could read as a line that decides the framing (§7 D2).
var hiddenFraming = regexp.MustCompile(`(?i)(?:^|[\r\n\x00])[ \t]*(?:content-length|transfer-encoding|connection)`)

// emptyPiece matches a stored header with nothing but white space between
// two CRs: a parser that ends lines at a CR reads an empty line there, the
// end of the head.
var emptyPiece = regexp.MustCompile(`\r[ \t]*\r`)

// subpartDecode is what append_utf8 makes of NUL-free src without a BOM,
// in the terms of the Unicode Standard (section 3.9, maximal subparts): a
// well-formed sequence is decoded; otherwise the longest prefix of a
// well-formed sequence that starts here (at least one byte) becomes one
// U+FFFD. Two exceptions: a prefix running to the end of src is U+FFFD per
// byte, since append_utf8 reads a missing byte as 0, replaces the lead
// alone and then meets each continuation byte as a stray one; and
// append_utf8 limits the second byte only after F0 and F4, so F5–F7 start
// prefixes as F1–F3 do, and only a complete four-byte form from them
// (above U+10FFFF) is replaced for the lead alone.
func subpartDecode(src []byte) []byte {
	var dst []byte
	for i := 0; i < len(src); {
		if c, size := utf8.DecodeRune(src[i:]); c != utf8.RuneError || size > 1 {
			dst = utf8.AppendRune(dst, c)
			i += size
			continue
		}
		seq := src[i:min(i+utf8.UTFMax, len(src))]
		if c := seq[0]; c >= 0xF5 && c <= 0xF7 {
			seq = append([]byte{0xF1}, seq[1:]...)
			if _, size := utf8.DecodeRune(seq); size == utf8.UTFMax {
				seq = seq[:1] // complete: the value is above U+10FFFF
			}
		}
		n := 1
		for k := 2; k <= 3 && k <= len(seq); k++ {
			if wellFormedPrefix(seq[:k]) {
				n = k
			}
		}
		if i+n == len(src) && wellFormedPrefix(seq) {
			n = 1
		}
		dst = utf8.AppendRune(dst, utf8.RuneError)
		i += n
	}
	return dst
}

// wellFormedPrefix reports whether p is a proper prefix of one well-formed
// UTF-8 sequence: whether some continuation bytes complete it to a single
// valid code point. The bytes tried include both ends of every range a
// second byte may be limited to (80–8F, 90–BF, 80–9F, A0–BF). Answers are
// kept, so that long inputs stay quick to check.
func wellFormedPrefix(p []byte) bool {
	if ok, seen := prefixSeen[string(p)]; seen {
		return ok
	}
	tail := []byte{0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF}
	var try func(b []byte) bool
	try = func(b []byte) bool {
		if len(b) > len(p) && utf8.Valid(b) && utf8.RuneCount(b) == 1 {
			return true
		}
		if len(b) == utf8.UTFMax {
			return false
		}
		for _, c := range tail {
			if try(append(b[:len(b):len(b)], c)) {
				return true
			}
		}
		return false
	}
	ok := try(p)
	prefixSeen[string(p)] = ok
	return ok
}

var prefixSeen = map[string]bool{}

func asciiOf(b []byte) []byte {
	var out []byte
	for _, c := range b {
		if c < utf8.RuneSelf {
			out = append(out, c)
		}
	}
	return out
}
