package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrNeedMore means the response head is not complete yet: append the next
// bytes received to the same buffer and call HeadParser.Parse again. It is
// never wrapped, so callers may compare it with ==.
var ErrNeedMore = errors.New("gdhttp: response head incomplete")

// HeadError is a response head the parser refuses: a strict-mode violation
// (§7.4) or one of the §7 deviations that refuse instead of hanging (D1). It
// is a protocol error, distinct from *LimitError (an oversized head).
type HeadError struct {
	// Offset is the byte offset in the buffer given to Parse where the
	// problem was found. For a head holding invalid UTF-8 (which Godot repairs
	// before parsing) it is the start of the offending line; for a problem of
	// the head as a whole (a 101 status, a Transfer-Encoding without chunked)
	// it is the start of that head.
	Offset int
	// Reason says what is wrong, in a few words.
	Reason string
}

// Error describes the problem and where it is.
func (e *HeadError) Error() string {
	return "gdhttp: malformed response head at byte " + strconv.Itoa(e.Offset) + ": " + e.Reason
}

// Head is a parsed response head (§1.8) with its framing decision (§1.9).
// A Head is caller-owned and reusable: Parse resets it and reuses the
// capacity of Headers.
type Head struct {
	// Code is the status code (§1.8.4): preset to 200, then to_int of the
	// second space-separated field of the first line when that line starts
	// with "HTTP" — so 0 when that field is not a number, 200 when the first
	// line is not a status line. Like Godot's int response_num it keeps the
	// low 32 bits of to_int's 64-bit result.
	//
	// Godot: HTTPClient.get_response_code()
	Code int
	// Headers are Godot's stored header strings (§1.8.5): every non-empty line
	// but the status line, stripped (§0.4.1), in order, duplicates and lines
	// without ':' included. They are substrings of one backing string holding
	// the head, valid UTF-8, and stay valid after the parser and the buffer
	// are reused.
	//
	// Godot: HTTPClient.get_response_headers()
	Headers []string
	// ContentLength is Godot's body_size (§1.11.5): the last Content-Length
	// read with to_int, −1 when there is none, 0 for a HEAD request. Below
	// −1 (Godot mode only) the framing is still FramingLength: a body Godot
	// stays in BODY for, reading nothing, for ever (§1.9 note); httpclient
	// fails its first read instead (§7 D1, COMPAT R2).
	//
	// Godot: HTTPClient.get_response_body_length()
	ContentLength int64
	// Chunked is true when a Transfer-Encoding value is exactly "chunked"
	// (§1.8.3). In strict mode: when chunked is the final transfer coding.
	//
	// Godot: HTTPClient.is_response_chunked()
	Chunked bool
	// KeepAlive is false once a stripped line starts, case-insensitively, with
	// "connection: close" (§1.8.3); true otherwise.
	KeepAlive bool
	// ProtoMinor is 0 for an "HTTP/1.0" status line, 1 otherwise (Godot
	// ignores the version, §1.8.8).
	ProtoMinor int
	// Persistent reports whether the server keeps the connection open after
	// this response by RFC 9112 §9.3, which Godot's KeepAlive test does not
	// follow: no "close" option in any Connection field (any case, any
	// spacing, anywhere in the list), and HTTP/1.1, or HTTP/1.0 with a
	// "keep-alive" option. The port's own connection reuse asks it
	// (httpclient.Client.Reusable); Godot never reuses a connection itself.
	Persistent bool
	// Framing is how the body is delimited (§1.9; RFC 9112 §6.3 in strict
	// mode).
	Framing Framing
	// Ambiguous reports framing that another HTTP parser could read
	// differently (§7 D2): the connection must not be reused after this
	// response. Lenient mode keeps Godot's decision and sets it for
	// Content-Length lines with differing values or a value that is not
	// plain digits (to_int reads "1,2" as 12); Content-Length beside any
	// Transfer-Encoding; a framing name with white space before the colon,
	// or a framing or Connection line with white space (or another byte
	// Godot strips) before its name, which other parsers read as the
	// previous line's continuation (obs-fold);
	// a framing line that matches only through Godot's Unicode lower-casing
	// (U+0130 "İ" → "i"); a bare CR inside a line, the status line
	// included (a line break to some parsers), where it could hide a
	// framing line or end the head: the line is a Content-Length,
	// Transfer-Encoding or Connection line, the text after a CR begins like
	// one, or a CR has only white space (or nothing) between it and another
	// CR or an end of the line; a NUL byte, where Godot's UTF-8 decoding
	// drops the rest of the head (the only repair that changes its ASCII
	// text, see godotDecode), when the text it drops holds such a line (or
	// cuts one); an LF CR LF before the end of the head (§1.6.4.2: RFC
	// parsers end the head there); a line folded onto a framing line; a
	// control byte other than HTAB in a framing line; two
	// Transfer-Encoding lines; a Transfer-Encoding Godot does not take for
	// chunked with no Content-Length (no body to Godot, one to RFC
	// parsers); a 204 or 304 with a non-zero Content-Length or a
	// Transfer-Encoding (§1.8.7: RFC parsers read no body); a
	// Transfer-Encoding in an HTTP/1.0 response (RFC 9112 §6.1: faulty
	// framing, the body read until the close; Godot frames it as for 1.1).
	// A 1xx taken as the final response is not flagged (§1.8.7). After a
	// HEAD request (HeadParser.HeadRequest), which no parser reads a body
	// after, only a bare CR or an LF CR LF that moves the end of the head
	// and a Transfer-Encoding in HTTP/1.0 are. Strict mode sets it for
	// Transfer-Encoding beside Content-Length or in an HTTP/1.0 response.
	Ambiguous bool
	// Informational is the number of 1xx heads skipped before this one
	// (strict mode only, §7.4).
	Informational int
}

// Reset empties h for reuse and keeps the capacity of Headers. The values are
// those of a Godot client after close(): code 0, body size −1, FramingNone.
func (h *Head) Reset() {
	clear(h.Headers) // drop references to the previous backing string
	*h = Head{Headers: h.Headers[:0], ContentLength: -1}
}

// HeadParser finds and parses a response head in the bytes received so far.
// The zero value is a lenient (Godot-identical) parser with default Limits.
// A HeadParser is not safe for concurrent use.
type HeadParser struct {
	// Strict switches on RFC 9110/9112 validation (§7.4).
	Strict bool
	// Limits bounds the head (§7 D1); the zero value means the defaults.
	Limits Limits
	// HeadRequest says the request was HEAD (§1.8.6).
	HeadRequest bool
	// Connect says the request was CONNECT (§1.14.2). A 2xx reply then has
	// no body: the tunnel begins after its head (§7 D5: whatever its
	// framing; RFC 9110 §9.3.6: a client ignores its Content-Length and
	// Transfer-Encoding). Its Head has FramingNone, ContentLength −1, and is
	// neither chunked nor ambiguous, and strict mode does not check its
	// framing fields.
	Connect bool

	scan  int    // next byte of buf to examine for the end of the head
	start int    // where the current head starts (after skipped 1xx heads)
	info  int    // 1xx heads skipped so far (strict mode)
	text  []byte // scratch: a head repaired by Godot's UTF-8 decoder
	last  string // the backing string of the last head (see headText)
}

// Reset forgets a partly scanned response, so the next Parse starts on a new
// one. Strict, Limits, HeadRequest and Connect are kept. Parse resets the parser
// itself whenever it returns something other than ErrNeedMore.
func (p *HeadParser) Reset() {
	p.scan, p.start, p.info = 0, 0, 0
}

// Parse is given every byte received since the response began (the caller
// appends and calls again after ErrNeedMore; Parse keeps no reference to
// buf). It returns the number of bytes that make up the head, so body bytes
// after it stay with the caller; h is filled only when err is nil. Scanning
// resumes where the last call stopped, so feeding one byte at a time costs
// O(n) in total.
//
// Errors: ErrNeedMore while the head is incomplete; *LimitError when the head
// exceeds Limits (§7 D1); *HeadError, with the offset, for a head refused by
// strict mode (§7.4, see strictState).
//
// The head ends where Godot's byte-wise reader stops (§1.6.4.2), its bytes
// are decoded as Godot's String::utf8 does (§0.4.5, see godotDecode), its
// lines parsed as §1.8 says and its body framed as §1.9 says; Head.Ambiguous
// marks the cases of §7 D2. docs/behaviour.md has a row for each rule.
//
// Godot: HTTPClient.poll() (reading and parsing the head in STATUS_REQUESTING)
func (p *HeadParser) Parse(buf []byte, h *Head) (n int, err error) {
	if p.scan > len(buf) || p.start > p.scan {
		p.Reset() // the caller started over with a shorter buffer
	}
	limit := p.Limits.HeaderBytes()
	for {
		end := p.findEnd(buf, limit)
		if end < 0 {
			if len(buf) >= limit {
				p.Reset()
				return 0, &LimitError{What: "header bytes", Limit: int64(limit)}
			}
			return 0, ErrNeedMore
		}
		skip, err := p.parseHead(buf, p.start, end, h)
		if err != nil {
			p.Reset()
			return 0, err
		}
		if !skip {
			h.Informational = p.info
			p.Reset()
			return end, nil
		}
		p.info++
		if p.info > StrictMaxInformational {
			p.Reset()
			return 0, &LimitError{What: "informational responses", Limit: StrictMaxInformational}
		}
		p.start, p.scan = end, end
	}
}

// findEnd returns the end of the head that starts at p.start (one past its
// final LF), or −1 when buf[:limit] holds no end yet. §1.6.4.2: the head
// ends at the first point where the bytes end in LF LF or CR LF CR LF,
// counted from the start of the response, so a response that starts with
// LF LF is an empty head and LF CR LF does not end a head. Strict mode
// (§7.4, RFC 9112 §2.2: a line ends in CR LF or a bare LF) also ends it at
// LF CR LF, an empty line after a line ended by a bare LF.
func (p *HeadParser) findEnd(buf []byte, limit int) int {
	stop := min(len(buf), limit)
	for i := p.scan; i < stop; {
		j := bytes.IndexByte(buf[i:stop], '\n')
		if j < 0 {
			break
		}
		k := i + j
		i = k + 1
		if k-p.start >= 1 && buf[k-1] == '\n' ||
			k-p.start >= 3 && buf[k-1] == '\r' && buf[k-2] == '\n' && buf[k-3] == '\r' ||
			p.Strict && k-p.start >= 2 && buf[k-1] == '\r' && buf[k-2] == '\n' {
			p.scan = i
			return i
		}
	}
	p.scan = max(p.scan, stop)
	return -1
}

// parseHead parses the complete head buf[start:end] into h. skip reports a
// strict-mode 1xx head that was validated and must be skipped.
func (p *HeadParser) parseHead(buf []byte, start, end int, h *Head) (skip bool, err error) {
	raw := buf[start:end]
	var dec decodeResult
	fold := false // Godot lower-cases Unicode: needed only for non-ASCII text
	if !plainASCII(raw) {
		fold = true
		switch {
		case p.Strict && bytes.HasPrefix(raw, utf8BOM):
			return false, &HeadError{Offset: start, Reason: "byte order mark before the status line"}
		case p.Strict && !utf8.Valid(raw):
			// issue 7 rule 10, RFC 9110 §5.5: obs-text is allowed; each
			// byte that is not UTF-8 becomes U+FFFD and no ASCII byte is
			// swallowed, so the lines are those of the raw head. A NUL
			// stays, for the control-character check to refuse.
			p.text, dec = strictDecode(p.text[:0], raw), decodeResult{changed: true}
		case !p.Strict && (bytes.IndexByte(raw, 0) >= 0 || !utf8.Valid(raw) || bytes.HasPrefix(raw, utf8BOM)):
			p.text, dec = godotDecode(p.text[:0], raw)
		}
	}
	text := raw
	if dec.changed {
		text = p.text
	}
	return p.parseText(raw, p.headText(text), dec, fold, start, h)
}

// headText returns the head as the string its Headers are cut from. A head
// identical to the previous one — a keep-alive client polling one resource
// gets them back to back, the Date line changing once a second — reuses its
// string, so parsing it allocates nothing; strings are immutable, so the
// previous Headers stay valid.
func (p *HeadParser) headText(b []byte) string {
	if string(b) != p.last { // compared without a conversion
		p.last = string(b)
	}
	return p.last
}

// parseText is parseHead on the head's text (raw, decoded when dec.changed).
func (p *HeadParser) parseText(raw []byte, text string, dec decodeResult, fold bool, start int, h *Head) (skip bool, err error) {

	h.Reset()
	h.Code = 200 // §1.8.1
	h.ProtoMinor = 1
	var (
		bodySize  int64 = -1
		chunked   bool
		keepAlive = true
		conn      connOptions
		ambiguous bool             // where the response ends or whether it may be followed (§7 D2)
		framing   = dec.structural // how long the body is (§7 D2): no matter after HEAD
		clSeen    bool
		teOther   bool
		teSeen    bool
		prevFrame bool // the last non-empty line was a framing or Connection line
		st        strictState
	)
	if !p.Strict && bytes.Contains(raw[:len(raw)-1], []byte("\n\r\n")) {
		// §7 D2, §1.6.4.2: LF CR LF does not end Godot's head; RFC
		// parsers end it there.
		ambiguous = true
	}
	maxFields := p.Limits.HeaderFields(p.Strict)
	// One line per LF but the last (the empty one) and the status line:
	// Headers made once at that size, not grown by doubling — the
	// doubling's garbage was twice the Headers' size, a 1 MiB head of tiny
	// lines 11 MiB of it.
	n := strings.Count(text, "\n") - 1
	if strings.HasPrefix(text, "HTTP") {
		n--
	}
	if maxFields > 0 {
		n = min(n, maxFields)
	}
	if n > cap(h.Headers) {
		h.Headers = make([]string, 0, n)
	}
	for idx, off := 0, 0; off < len(text); idx++ {
		line, next := text[off:], len(text)
		if j := strings.IndexByte(line, '\n'); j >= 0 {
			line, next = line[:j], off+j+1
		}
		if p.Strict {
			if at, reason := st.line(idx, line, p.Connect && h.Code/100 == 2); reason != "" {
				return false, &HeadError{Offset: p.rawOffset(raw, text, dec.changed, off, at) + start, Reason: reason}
			}
		}
		if r := strings.TrimSuffix(line, "\r"); strings.IndexByte(r, '\r') >= 0 {
			// §7 D2: a CR inside a line (Godot keeps it, §1.8.2) is a
			// line break to some parsers, which would read a framing
			// line there, or an empty line that ends the head.
			hides, ends := crHides(r)
			framing = framing || hides
			ambiguous = ambiguous || ends
		}
		s := stripEdges(line) // §1.8.2
		if s == "" {
			off = next
			continue
		}
		frame := framingLike(s)
		if line[0] <= ' ' && (frame || prevFrame) {
			// §7 D2: Godot strips what precedes the name; to another
			// parser the line continues the one before (obs-fold) — a
			// framing value goes on, or a framing line is no field.
			framing = true
		}
		if frame && hasCTL(strings.TrimSuffix(line, "\r")) {
			// §7 D2: a control byte Godot strips (or keeps) in a framing
			// line makes its value another one to other parsers.
			framing = true
		}
		prevFrame = frame
		// §1.8.3: lower-cased prefix tests, in Godot's order.
		switch lower(s[0]) {
		case 'c':
			if ok, viaUnicode := prefixFold(s, "content-length:", fold); ok {
				v := stripEdges(s[strings.IndexByte(s, ':')+1:])
				n := toInt(v)
				if viaUnicode || !allDigits(v) || clSeen && n != bodySize {
					framing = true
				}
				bodySize, clSeen = n, true
			} else if ok, viaUnicode := prefixFold(s, "connection: close", fold); ok {
				keepAlive = false
				framing = framing || viaUnicode
			} else if spacedFramingName(s) {
				framing = true
			}
			if hasPrefixFold(s, "connection") {
				conn.add(s)
			}
		case 't':
			if ok, viaUnicode := prefixFold(s, "transfer-encoding:", fold); ok {
				framing = framing || teSeen // §7 D2: two lines; parsers take the first, the last, or all
				teSeen = true
				if stripEdges(s[strings.IndexByte(s, ':')+1:]) == "chunked" {
					chunked = true
				} else {
					teOther = true
				}
				framing = framing || viaUnicode
			} else if spacedFramingName(s) {
				framing = true
			}
		}
		// §1.8.4: the first line of the split, tested raw and case-sensitively.
		if idx == 0 && strings.HasPrefix(line, "HTTP") {
			h.Code = int(int32(toInt(secondField(line))))
			if strings.HasPrefix(line, "HTTP/1.0 ") {
				h.ProtoMinor = 0
			}
		} else {
			if maxFields > 0 && len(h.Headers) >= maxFields {
				return false, &LimitError{What: "header fields", Limit: int64(maxFields)}
			}
			h.Headers = append(h.Headers, s) // §1.8.5, a CR inside kept as Godot keeps it
		}
		off = next
	}

	if code := h.Code; code == 204 || code == 304 {
		// §7 D2: RFC parsers read no body after these; Godot frames a
		// 204/304 by its length (§1.8.7). (A 1xx Godot takes as final
		// leaves the real response for the next request: §1.8.7 says so,
		// and the port keeps it.)
		framing = framing || chunked || teOther || bodySize > 0
	} else if teOther && !chunked && !clSeen {
		// §7 D2: a Transfer-Encoding Godot does not take for chunked
		// ("Chunked", "chunked, identity") leaves no framing; RFC parsers
		// read a body.
		framing = true
	}
	if h.ProtoMinor == 0 && (chunked || teOther) {
		// §7 D2, RFC 9112 §6.1: a recipient treats the framing of an
		// HTTP/1.0 message with Transfer-Encoding as faulty and closes
		// the connection after it.
		ambiguous = true
	}
	if p.HeadRequest {
		bodySize = 0 // §1.8.6
	}
	h.ContentLength = bodySize
	h.KeepAlive = keepAlive
	h.Persistent = !conn.close && (h.ProtoMinor == 1 || conn.keepAlive)
	if p.Connect && h.Code/100 == 2 {
		h.ContentLength, h.Chunked, h.Framing, h.Ambiguous = -1, false, FramingNone, false
		if p.Strict {
			if reason := st.finish(); reason != "" {
				return false, &HeadError{Offset: start, Reason: reason}
			}
		}
		return false, nil
	}

	if p.Strict {
		if reason := st.finish(); reason != "" {
			return false, &HeadError{Offset: start, Reason: reason}
		}
		if h.Code/100 == 1 {
			if h.Code == 101 {
				return false, &HeadError{Offset: start, Reason: "101 Switching Protocols: upgrades are not supported"}
			}
			return true, nil
		}
		h.Chunked = st.teSeen && st.teChunked
		h.Framing = strictFraming(h.Code, p.HeadRequest, st.teSeen, st.teChunked, st.clSeen)
		h.Ambiguous = st.teSeen && (st.clSeen || h.ProtoMinor == 0) // RFC 9112 §6.1
		if st.teSeen && !p.HeadRequest {
			// issue 7 rule 10, RFC 9112 §6.3: a Content-Length beside
			// Transfer-Encoding is ignored; the length is unknown.
			h.ContentLength = -1
		}
		return false, nil
	}

	h.Chunked = chunked
	h.Framing = godotFraming(bodySize, chunked, keepAlive) // §1.9
	if p.HeadRequest && h.Framing == FramingChunked {
		// §7 D1: Godot would wait for chunk data a HEAD response never has.
		h.Framing = FramingLength
	}
	// After HEAD no parser reads a body, whatever the framing fields say
	// (§1.8.6, RFC 9112 §6.3 rule 1; HEAD + chunked is framed empty, §7
	// D1): only where the head ends, and a Transfer-Encoding in HTTP/1.0,
	// make it ambiguous then.
	h.Ambiguous = ambiguous || !p.HeadRequest && (framing || clSeen && (chunked || teOther))
	return false, nil
}

// connOptions collects the options of a head's Connection fields (RFC 9112
// §9.3, RFC 9110 §7.6.1).
type connOptions struct{ close, keepAlive bool }

// add reads s, a stripped line that starts with "connection": a
// Connection field's comma-separated options, any case, white space around
// them.
func (o *connOptions) add(s string) {
	if !strings.EqualFold(FieldName(s), "connection") {
		return
	}
	for opt := range strings.SplitSeq(s[strings.IndexByte(s, ':')+1:], ",") {
		switch opt = strings.Trim(opt, " \t"); {
		case strings.EqualFold(opt, "close"):
			o.close = true
		case strings.EqualFold(opt, "keep-alive"):
			o.keepAlive = true
		}
	}
}

// rawOffset maps the offset off+col of the decoded text to an offset in raw.
// When the text was repaired the mapping is per line: the start of the raw
// line with the same index.
func (p *HeadParser) rawOffset(raw []byte, text string, changed bool, off, col int) int {
	if !changed {
		return off + col
	}
	n := strings.Count(text[:off], "\n")
	i := 0
	for ; n > 0; n-- {
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			return i
		}
		i += j + 1
	}
	return i
}

// secondField is Godot's get_slicec(' ', 1): the text between the first and
// the second space, or "" when there is no space. §1.8.4
func secondField(line string) string {
	i := strings.IndexByte(line, ' ')
	if i < 0 {
		return ""
	}
	rest := line[i+1:]
	if j := strings.IndexByte(rest, ' '); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// prefixFold is Godot's s.to_lower().begins_with(prefix) (HasPrefixFold)
// for a lower-case ASCII prefix, reporting whether a non-ASCII code point
// lower-cased to a letter of the prefix (U+0130 → 'i', U+212A → 'k'). With
// unicode false, s is plain ASCII and only ASCII letters are folded.
func prefixFold(s, prefix string, unicode bool) (ok, viaUnicode bool) {
	if !unicode {
		return hasPrefixFold(s, prefix), false
	}
	_, ok, viaUnicode = foldPrefix(s, prefix, 0)
	return ok, viaUnicode
}

// spacedFramingName reports a Content-Length or Transfer-Encoding field whose
// name is followed by white space before the colon: Godot's prefix test does
// not see it, other parsers may. §7 D2
func spacedFramingName(s string) bool {
	i := strings.IndexByte(s, ':')
	if i < 0 {
		return false
	}
	j := i
	for j > 0 && s[j-1] <= ' ' {
		j--
	}
	if j == i {
		return false
	}
	name := s[:j]
	return len(name) == len("content-length") && hasPrefixFold(name, "content-length") ||
		len(name) == len("transfer-encoding") && hasPrefixFold(name, "transfer-encoding")
}

// hasCTL reports whether s holds a control byte other than HTAB.
func hasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// crHides reports whether line (without its line end) holds a CR behind
// which a parser that ends lines at a CR as well would read something that
// changes the framing: hides, the line is a framing or Connection line or
// a piece between CRs begins like one; ends, a piece is blank — an empty
// line, the end of the head.
func crHides(line string) (hides, ends bool) {
	for seg := range strings.SplitSeq(line, "\r") {
		hides = hides || framingLike(seg)
		ends = ends || strings.TrimLeft(seg, " \t") == ""
	}
	return hides, ends
}

// framingLike reports whether text, white space stripped from its start,
// begins like a Content-Length, Transfer-Encoding or Connection field
// name, in any case: the fields whose reading decides where the response
// ends and whether the connection goes on (§7 D2).
func framingLike(text string) bool {
	text = strings.TrimLeft(text, " \t")
	if text == "" {
		return false
	}
	switch lower(text[0]) { // every line of every head comes here
	case 'c':
		return hasPrefixFold(text, "content-length") || hasPrefixFold(text, "connection")
	case 't':
		return hasPrefixFold(text, "transfer-encoding")
	}
	return false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// plainASCII reports whether b holds only bytes 1–127, the text that Godot's
// UTF-8 decoding leaves unchanged without further checks.
func plainASCII(b []byte) bool {
	const high, ones = 0x8080808080808080, 0x0101010101010101
	for len(b) >= 8 {
		v := binary.LittleEndian.Uint64(b)
		if v&high != 0 || (v-ones)&^v&high != 0 { // a byte ≥ 0x80, or a zero byte
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c == 0 || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// decodeResult describes what godotDecode changed.
type decodeResult struct {
	changed    bool // the text is in the scratch buffer, not the raw bytes
	structural bool // a NUL cut dropped text that holds or cuts a framing line (framingCut)
}

// godotDecode appends to dst the UTF-8 encoding of what Godot's
// String::utf8(ptr, size) makes of src (§0.4.5): String::append_utf8 of
// Godot 4.4 and later (PR #99826), called with the length and without CR
// skipping. A UTF-8 BOM at the start is dropped. Decoding stops at the
// first NUL byte, dropping the rest of the head. Each ill-formed sequence
// becomes U+FFFD (godotSequence says for how many bytes) and decoding
// resumes at the byte that broke it, so a repair never swallows an ASCII
// byte (a CR or LF after a broken sequence stays a line break) and never
// produces one (overlong forms are U+FFFD). The ASCII text of the
// head is therefore the raw head's, in order, up to the first NUL: only the
// NUL cut makes the head differ from what another parser sees, and the
// result marks it structural (the head is Ambiguous, §7 D2) when the text
// it drops could change the framing (framingCut). Strict mode uses
// strictDecode instead.
func godotDecode(dst, src []byte) ([]byte, decodeResult) {
	r := decodeResult{changed: true}
	src = bytes.TrimPrefix(src, utf8BOM)
	if i := bytes.IndexByte(src, 0); i >= 0 {
		// append_utf8 loops while the byte is not NUL; a NUL met as a
		// continuation byte reads as a missing one, as the end does.
		src, r.structural = src[:i], framingCut(src, i)
	}
	for i := 0; i < len(src); {
		if c := src[i]; c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		c, size := godotSequence(src[i:])
		dst = utf8.AppendRune(dst, c)
		i += size
	}
	return dst, r
}

// framingCut reports whether cutting head at its NUL at i drops framing
// that another parser, which reads past the NUL, would see: the line the
// NUL is in, or a line after it (ended by LF, CR or another NUL), is a
// framing or Connection line (framingLike).
func framingCut(head []byte, i int) bool {
	start := bytes.LastIndexByte(head[:i], '\n') + 1
	for _, line := range bytes.FieldsFunc(head[start:], func(r rune) bool { return r == '\n' || r == '\r' || r == 0 }) {
		if framingLike(string(line)) {
			return true
		}
	}
	return false
}

// godotSequence decodes the sequence that starts with the non-ASCII byte
// b[0], as one step of append_utf8's loop: it returns the code point and
// the bytes it takes, or U+FFFD and the bytes the replacement stands for.
// b holds no NUL; a byte past its end reads as 0, as append_utf8 reads a
// byte past the length. The rules:
//   - C0–DF: a continuation byte must follow; a value below U+0080
//     (C0, C1: overlong) is U+FFFD for the lead alone;
//   - E0–EF: the second byte must be in A0–BF after E0, 80–9F after ED
//     (no overlong forms, no surrogates), 80–BF otherwise, the third a
//     continuation byte;
//   - F0–F7: the second byte in 90–BF after F0, 80–8F after F4, 80–BF
//     otherwise, then two continuation bytes; a value above U+10FFFF
//     (F5–F7) is U+FFFD for the lead alone;
//   - 80–BF (a stray continuation byte) and F8–FF: U+FFFD.
//
// A broken sequence is replaced by one U+FFFD for the lead alone, except
// where the Unicode Standard (section 3.9) lets one U+FFFD stand for a
// truncated sequence (append_utf8's size 2 and 3): after a valid second
// (and third) byte of a 3- or 4-byte form, a following byte that is present
// but not a continuation byte ends the replacement, and decoding resumes at
// that byte. A sequence cut by the end (or a NUL) is U+FFFD for the lead
// alone, and its continuation bytes then become U+FFFD one by one.
func godotSequence(b []byte) (rune, int) {
	at := func(k int) byte {
		if k < len(b) {
			return b[k]
		}
		return 0
	}
	cont := func(c byte) bool { return c&0xC0 == 0x80 }
	c, c2, c3, c4 := b[0], at(1), at(2), at(3)
	switch {
	case c&0xE0 == 0xC0:
		if cont(c2) {
			if v := rune(c&0x1F)<<6 | rune(c2&0x3F); v >= 0x80 {
				return v, 2
			}
		}
	case c&0xF0 == 0xE0:
		lo, hi := secondByteRange(c)
		switch {
		case c2 < lo || c2 > hi: // also a missing byte (0)
		case cont(c3):
			return rune(c&0x0F)<<12 | rune(c2&0x3F)<<6 | rune(c3&0x3F), 3
		case c3 != 0:
			return utf8.RuneError, 2
		}
	case c&0xF8 == 0xF0:
		lo, hi := secondByteRange(c)
		switch {
		case c2 < lo || c2 > hi:
		case !cont(c3):
			if c3 != 0 {
				return utf8.RuneError, 2
			}
		case cont(c4):
			if v := rune(c&0x07)<<18 | rune(c2&0x3F)<<12 | rune(c3&0x3F)<<6 | rune(c4&0x3F); v <= utf8.MaxRune {
				return v, 4
			}
		case c4 != 0:
			return utf8.RuneError, 3
		}
	}
	return utf8.RuneError, 1
}

// secondByteRange is the range the byte after lead c must fall in for a
// 3- or 4-byte form: A0–BF after E0 and 90–BF after F0 (no overlong
// forms), 80–9F after ED (no surrogates), 80–8F after F4 (nothing above
// U+10FFFF), 80–BF otherwise.
func secondByteRange(c byte) (lo, hi byte) {
	switch c {
	case 0xE0:
		return 0xA0, 0xBF
	case 0xED:
		return 0x80, 0x9F
	case 0xF0:
		return 0x90, 0xBF
	case 0xF4:
		return 0x80, 0x8F
	}
	return 0x80, 0xBF
}

// strictDecode appends src to dst with every byte that is not part of a
// valid UTF-8 sequence replaced by U+FFFD (strict mode's reading of obs-text,
// RFC 9110 §5.5): valid sequences and every ASCII byte are kept as they are,
// so no ASCII byte is swallowed. Strict mode refuses a BOM and, as control
// characters, NUL bytes before it gets here.
func strictDecode(dst, src []byte) []byte {
	for len(src) > 0 {
		r, size := utf8.DecodeRune(src)
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, src[:size]...)
		}
		src = src[size:]
	}
	return dst
}

// strictState collects what strict mode (§7.4) checks across the lines of
// one head. Each violation is a *HeadError: a status line other than
// HTTP/1.x SP 3DIGIT [SP reason], a code outside 100–999, a reason with
// controls other than HTAB; a field name that is not a token directly
// followed by ':'; a value with controls other than HTAB; obs-fold; a
// line not ending in CR LF or LF (the head ends at its first empty line);
// a Content-Length that is not digits, overflows int64 or repeats with
// another value; a Transfer-Encoding that is not a case-insensitive list
// naming chunked once and last, with no other coding (the body would reach
// the caller still coded). Transfer-Encoding with Content-Length is chunked
// with ContentLength −1 (0 for HEAD; RFC 9112 §6.3) and Ambiguous. 1xx heads
// are validated and skipped (at most StrictMaxInformational, then a
// *LimitError; their bytes count in the budget); 101 is refused (no
// upgrades); more than Limits.HeaderFields(true) fields is a *LimitError.
// The framing is strictFraming's.
type strictState struct {
	clSeen    bool
	cl        string // the first Content-Length value, OWS-trimmed
	teSeen    bool   // a Transfer-Encoding field was seen
	teAny     bool   // it named at least one coding
	teChunked bool   // chunked was seen (nothing may follow it)
}

// line checks one line of the head (without its LF). It returns a reason
// when the line is invalid, and the offset of the problem within the line.
// tunnel (a 2xx reply to CONNECT) leaves the framing fields unchecked.
func (st *strictState) line(idx int, line string, tunnel bool) (at int, reason string) {
	body := strings.TrimSuffix(line, "\r")
	if idx == 0 {
		return statusLineError(body)
	}
	if body == "" {
		return 0, "" // findEnd ends a strict head at its first empty line: the last one
	}
	if body[0] == ' ' || body[0] == '\t' {
		return 0, "obs-fold (line starts with white space)"
	}
	colon := strings.IndexByte(body, ':')
	if colon < 0 {
		return 0, "field line without a colon"
	}
	if colon == 0 {
		return 0, "empty field name"
	}
	name := body[:colon]
	for i := 0; i < len(name); i++ {
		if c := name[i]; !tokenBytes[c] {
			if c == ' ' || c == '\t' {
				return i, "white space in the field name"
			}
			return i, "invalid byte in field name"
		}
	}
	value := body[colon+1:]
	if i := controlIndex(value); i >= 0 {
		return colon + 1 + i, "control character in field value"
	}
	if tunnel {
		return 0, ""
	}
	v := trimOWS(value)
	switch {
	case len(name) == len("content-length") && hasPrefixFold(name, "content-length"):
		if !allDigits(v) {
			return colon + 1, "Content-Length is not a decimal number"
		}
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return colon + 1, "Content-Length overflows int64"
		}
		if st.clSeen && v != st.cl {
			return colon + 1, "differing Content-Length values"
		}
		st.clSeen, st.cl = true, v
	case len(name) == len("transfer-encoding") && hasPrefixFold(name, "transfer-encoding"):
		st.teSeen = true
		for rest := v; rest != ""; {
			elem := rest
			if i := strings.IndexByte(rest, ','); i >= 0 {
				elem, rest = rest[:i], rest[i+1:]
			} else {
				rest = ""
			}
			coding := trimOWS(elem)
			if coding == "" {
				continue // empty list element (RFC 9110 §5.6.1)
			}
			if i := strings.IndexByte(coding, ';'); i >= 0 {
				coding = trimOWS(coding[:i])
			}
			if !IsToken(coding) {
				return colon + 1, "invalid transfer coding"
			}
			if st.teChunked {
				return colon + 1, "chunked is not the last transfer coding"
			}
			if len(coding) != len("chunked") || !hasPrefixFold(coding, "chunked") {
				// issue 7 rule 10: the body would reach the caller with the
				// coding still on it; RFC 9112 §6.1 allows refusing it.
				return colon + 1, "transfer coding other than chunked"
			}
			st.teAny, st.teChunked = true, true
		}
	}
	return 0, ""
}

// finish checks what needs the whole head.
func (st *strictState) finish() string {
	if st.teSeen && !st.teAny {
		return "empty Transfer-Encoding"
	}
	return ""
}

// statusLineError checks HTTP/1.x SP 3DIGIT [SP reason-phrase] (§7.4).
func statusLineError(b string) (at int, reason string) {
	switch {
	case len(b) < 8 || b[:7] != "HTTP/1." || !isDigit(b[7]):
		return 0, "status line does not start with HTTP/1.x"
	case len(b) < 9 || b[8] != ' ':
		return 8, "no single space after the HTTP version"
	case len(b) < 12 || b[9] < '1' || b[9] > '9' || !isDigit(b[10]) || !isDigit(b[11]):
		return 9, "status code is not three digits from 100 to 999"
	case len(b) > 12 && b[12] != ' ':
		return 12, "no space after the status code"
	}
	if i := controlIndex(b[min(len(b), 13):]); i >= 0 {
		return 13 + i, "control character in reason phrase"
	}
	return 0, ""
}

// controlIndex returns the index of the first control character other than
// HTAB (0x00–0x1F, 0x7F) in s, or −1. It tests eight bytes at a time.
func controlIndex(s string) int {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		v := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		del := v ^ 0x7F*ones
		// A byte below 0x20 or equal to 0x7F (HTAB gives a false alarm).
		if (v-0x20*ones)&^v&high != 0 || (del-ones)&^del&high != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7F {
			return i
		}
	}
	return -1
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// tokenBytes marks the RFC 9110 tchar bytes.
var tokenBytes = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c < utf8.RuneSelf && strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0
	}
	return t
}()

// IsToken reports whether s is an RFC 9110 token: what a field name, a
// method or a transfer coding must be.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenBytes[s[i]] {
			return false
		}
	}
	return true
}

// trimOWS removes RFC 9110 optional white space (SP, HTAB) at both ends.
func trimOWS(s string) string {
	i, j := 0, len(s)
	for i < j && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	return s[i:j]
}
