package wire

import (
	"bytes"
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
//     skipped 1xx heads (then lenient stopped at the first, a 1xx head);
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
			n   int
			h   *Head
			err error
		}{{ln, lh, lerr}, {sn, sh, serr}} {
			if r.err != nil {
				continue
			}
			if r.n > len(data) || r.n <= 0 {
				t.Fatalf("n = %d for %d bytes", r.n, len(data))
			}
			for _, s := range r.h.Headers {
				if s == "" || s[0] <= ' ' || s[len(s)-1] <= ' ' || strings.ContainsAny(s, "\r\n") || !utf8.ValidString(s) {
					t.Fatalf("bad stored header %q", s)
				}
			}
			if r.h.Framing == FramingLength && r.h.ContentLength < 0 {
				t.Fatalf("FramingLength with ContentLength %d", r.h.ContentLength)
			}
		}

		checkReference(t, lenient, data, ln, lh, lerr)

		if serr == nil {
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
	if ref.Framing == FramingLength && ref.ContentLength < 0 {
		if _, ok := err.(*HeadError); !ok {
			t.Fatalf("negative length %d, got (%d, %v)", ref.ContentLength, n, err)
		}
		return
	}
	if err != nil || n != end {
		t.Fatalf("want (%d, nil), got (%d, %v)", end, n, err)
	}
	ref.Ambiguous = h.Ambiguous // not modelled by the reference
	if !equalHeads(&ref, h) {
		t.Fatalf("reference %+v\n   parser %+v", ref, *h)
	}
}

// godotReference is §1.8 and §1.9 transcribed line by line, as
// http_client_tcp.cpp does it, plus the port's two changes to what is
// stored and decided (a CR inside a stored line becomes SP; HEAD + chunked
// is an empty body).
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
			h.Headers = append(h.Headers, strings.ReplaceAll(header, "\r", " "))
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
