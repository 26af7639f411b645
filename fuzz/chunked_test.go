package fuzz

import (
	"bytes"
	"errors"
	"io"
	"net/http/httputil"
	"testing"

	"github.com/gdhttp/gdhttp/chunked"
)

// Known differences between Godot's chunk parser (docs/behaviour.md
// §1.10.2, implemented by package chunked) and net/http's
// (net/http/internal/chunked.go, reached through httputil.NewChunkedReader).
// FuzzDiffChunked allows a disagreement only when the first place the two
// parsers part ways is one of these; any other disagreement in output bytes
// or in success vs error fails the target.
const (
	// diffNone: no known difference; both must give the same bytes and
	// both succeed or both fail.
	diffNone = ""
	// diffExtension: net/http strips a chunk extension (`5;a=b`); Godot
	// rejects the line as not hex (§1.10.2.2).
	diffExtension = "godot rejects chunk extensions"
	// diffWhitespace: net/http trims spaces and TABs after the size; Godot
	// rejects them as not hex (§1.10.2.2).
	diffWhitespace = "godot rejects whitespace in the size line"
	// diffSizeLine32: Godot caps the size line at 32 bytes, CR LF included
	// (§1.10.2.1); net/http at 4096.
	diffSizeLine32 = "godot caps the size line at 32 bytes"
	// diffOver16MiB: Godot refuses a chunk above 2^24 bytes (§1.10.2.3, §7
	// D1); net/http takes up to 16 hex digits of size.
	diffOver16MiB = "godot refuses chunks above 16 MiB"
	// diff16Digits: net/http refuses more than 16 hex digits even when they
	// are leading zeros; Godot only limits the line length and the value.
	diff16Digits = "net/http refuses more than 16 hex digits"
	// diffNotHexChunk: on a size line that both reject, Godot still
	// delivers the chunk when the digits before the bad byte are non-zero
	// (§1.10.2.2 quirk, §5 `5;a=b`; this covers bare LF and stray CR in the
	// size line, which net/http rejects at once and Godot reads past, as
	// CR LF alone ends its lines, §1.10.2.1).
	diffNotHexChunk = "godot delivers the chunk of a non-hex size line"
	// diffOverhead: net/http fails a body whose framing outweighs its data
	// ("too much non-data"); Godot has no such guard.
	diffOverhead = "net/http's chunk overhead guard"
	// diffTrailer: net/http stops after the last chunk's size line and
	// leaves the trailer section to its caller; Godot reads the trailer
	// and needs its final empty line (§1.10.2.6), bounded by 64 KiB (§7 D1),
	// so a missing or overlong trailer fails only ours.
	diffTrailer = "net/http does not read the trailer section"
)

// godotWalk is what Godot's rules (§1.10.2, with §7 D1/D3) make of a body,
// computed line by line, with where net/http first parts ways.
type godotWalk struct {
	out  []byte         // data Godot's rules deliver
	err  *chunked.Error // error they end with; nil: complete body
	diff string         // first known difference with net/http
	// At the difference, net/http has delivered exactly out[:agreed]; if
	// netFails it stops there with an error, if netOK it ends there with
	// success; otherwise it may go on.
	agreed   int
	netFails bool
	netOK    bool
}

// sizeLine is Godot's reading of the size line starting at pos: accumulate
// until longer than 2 bytes and ending in CR LF, more than 32 bytes is an
// error (§1.10.2.1); then hex digits until a non-hex byte or a value above
// 2^24 (§1.10.2.2–3).
type sizeLine struct {
	end  int          // offset after the CR LF
	v    int64        // the hex value before any stop
	kind chunked.Kind // 0, KindSizeLineTooLong, KindTruncated, KindNotHex, KindTooBig
	at   int          // offset of the byte behind kind
}

func godotSizeLine(in []byte, pos int) sizeLine {
	end := -1
	for i := pos; i < len(in); i++ {
		n := i - pos + 1
		if n > 32 { // Godot: "> 32"
			return sizeLine{kind: chunked.KindSizeLineTooLong, at: i}
		}
		if n > 2 && in[i-1] == '\r' && in[i] == '\n' {
			end = i + 1
			break
		}
	}
	if end < 0 {
		return sizeLine{kind: chunked.KindTruncated, at: len(in)}
	}
	l := sizeLine{end: end}
	for i := pos; i < end-2; i++ {
		c := in[i]
		var h int64
		switch {
		case '0' <= c && c <= '9':
			h = int64(c - '0')
		case 'a' <= c && c <= 'f':
			h = int64(c-'a') + 10
		case 'A' <= c && c <= 'F':
			h = int64(c-'A') + 10
		default:
			l.kind, l.at = chunked.KindNotHex, i
			return l
		}
		l.v = l.v*16 + h
		if l.v > 1<<24 { // Godot: "> (1 << 24)"
			l.kind, l.at = chunked.KindTooBig, i
			return l
		}
	}
	return l
}

// netSizeLine is net/http's reading of the size line at pos (readChunkLine,
// trimTrailingWhitespace, removeChunkExtension, parseHexUint): ok is false
// where it fails.
func netSizeLine(in []byte, pos int) (end int, v uint64, content int, ok bool) {
	lf := bytes.IndexByte(in[pos:], '\n')
	if lf < 0 || lf+1 > 4096 {
		return 0, 0, 0, false
	}
	line := in[pos : pos+lf+1]
	if cr := bytes.IndexByte(line, '\r'); cr < 0 || cr != len(line)-2 {
		return 0, 0, 0, false // bare LF, or a CR elsewhere
	}
	p := line[:len(line)-2]
	content = len(p)
	for len(p) > 0 && (p[len(p)-1] == ' ' || p[len(p)-1] == '\t') {
		p = p[:len(p)-1]
	}
	p, _, _ = bytes.Cut(p, []byte(";"))
	if len(p) == 0 || len(p) > 16 {
		return 0, 0, 0, false
	}
	for _, c := range p {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | uint64(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | uint64(c-'A'+10)
		default:
			return 0, 0, 0, false
		}
	}
	return pos + lf + 1, v, content, true
}

// whyRejected names the difference when net/http accepts a size line that
// Godot rejects.
func whyRejected(in []byte, pos int, l sizeLine) string {
	switch l.kind {
	case chunked.KindSizeLineTooLong:
		return diffSizeLine32
	case chunked.KindTooBig:
		return diffOver16MiB
	case chunked.KindNotHex:
		if in[l.at] == ';' {
			return diffExtension
		}
		if in[l.at] == ' ' || in[l.at] == '\t' {
			return diffWhitespace
		}
	}
	return diffNone
}

func walkGodot(in []byte) (w godotWalk) {
	fail := func(k chunked.Kind, at int, size int64) godotWalk {
		w.err = &chunked.Error{Kind: k, Offset: int64(at), Size: size}
		return w
	}
	part := func(diff string, netFails, netOK bool) {
		if w.diff == diffNone && diff != diffNone {
			w.diff, w.agreed, w.netFails, w.netOK = diff, len(w.out), netFails, netOK
		}
	}
	var excess int64 // net/http's overhead account
	pos := 0
	for {
		l := godotSizeLine(in, pos)
		nEnd, nV, nContent, nOK := netSizeLine(in, pos)
		if w.diff == diffNone {
			switch {
			case l.kind == 0 && nOK:
				if nEnd != l.end || nV != uint64(l.v) {
					panic("walk: both accept a size line but read it differently")
				}
				excess += int64(nContent) + 2 - 16 - 2*l.v
				excess = max(excess, 0)
				if excess > 16<<10 && l.v != 0 {
					part(diffOverhead, true, false)
				}
			case l.kind == 0 && !nOK:
				if end := l.end - 2; end-pos > 16 {
					part(diff16Digits, true, false)
				}
			case l.kind != 0 && nOK:
				part(whyRejected(in, pos, l), false, false)
			case l.kind == chunked.KindNotHex && l.v > 0 && l.end < len(in):
				// Both reject; Godot delivers (part of) the chunk first.
				part(diffNotHexChunk, true, false)
			}
		}
		switch l.kind {
		case chunked.KindNotHex:
			if l.v == 0 {
				return fail(l.kind, l.at, 0)
			}
			// §1.10.2.2 quirk: the chunk is read, then the error.
			dEnd := min(l.end+int(l.v), len(in))
			w.out = append(w.out, in[l.end:dEnd]...)
			if l.end+int(l.v)+2 <= len(in) && !bytes.Equal(in[dEnd:dEnd+2], []byte("\r\n")) {
				return fail(chunked.KindBadTerminator, dEnd, l.v)
			}
			return fail(l.kind, l.at, l.v)
		case chunked.KindTooBig:
			return fail(l.kind, l.at, l.v)
		case chunked.KindSizeLineTooLong:
			return fail(l.kind, l.at, 0)
		case chunked.KindTruncated:
			return fail(l.kind, l.at, 0)
		}
		if l.v == 0 {
			// net/http's reader ends here with success; Godot goes on.
			part(diffTrailer, false, true)
			return walkTrailer(in, l.end, w)
		}
		dEnd := min(l.end+int(l.v), len(in))
		w.out = append(w.out, in[l.end:dEnd]...)
		if dEnd+2 > len(in) {
			return fail(chunked.KindTruncated, len(in), l.v)
		}
		if !bytes.Equal(in[dEnd:dEnd+2], []byte("\r\n")) {
			return fail(chunked.KindBadTerminator, dEnd, l.v)
		}
		pos = dEnd + 2
	}
}

// walkTrailer applies §1.10.2.6 from pos: CR LF ends a line, an empty line
// ends the body, 64 KiB at most (§7 D1).
func walkTrailer(in []byte, pos int, w godotWalk) godotWalk {
	lineStart := pos
	for i := pos; i < len(in); i++ {
		if i-pos+1 > 64<<10 { // §7 D1 default bound
			w.err = &chunked.Error{Kind: chunked.KindTrailerTooLong, Offset: int64(i), Size: chunked.DefaultMaxTrailerBytes}
			return w
		}
		if in[i] == '\n' && i > lineStart && in[i-1] == '\r' {
			if i-lineStart == 1 {
				return w // complete
			}
			lineStart = i + 1
		}
	}
	w.err = &chunked.Error{Kind: chunked.KindTruncated, Offset: int64(len(in))}
	return w
}

// FuzzDiffChunked runs gdhttp's chunked.Reader and net/http's
// httputil.NewChunkedReader on the same bytes. gdhttp must match Godot's
// rules (walkGodot) exactly; the two must agree on output bytes and on
// success vs error unless they first part ways at one of the named
// differences above, and even then they agree on everything before it.
func FuzzDiffChunked(f *testing.F) {
	for _, s := range []string{
		"5\r\nhello\r\n0\r\n\r\n",
		"5;a=b\r\nhello\r\n0\r\n\r\n",
		"5 \r\nhello\r\n0\r\n\r\n",
		"5\nhello\r\n0\r\n\r\n",
		"5\r\nhello\r\n0\r\n",
		"5\r\nhello\r\n0\r\nX: y\r\n\r\n",
		"1000001\r\nabc",
		"00000000000000000005\r\nhello\r\n0\r\n\r\n",
		"000000000000000000000000000000005\r\nhello\r\n0\r\n\r\n",
		"5\r\nhelloXY0\r\n\r\n",
		"5\r\nhel",
		"\r\n5\r\nhello\r\n0\r\n\r\n",
		"5\r\r\nhello\r\n0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		gOut, gErr := io.ReadAll(chunked.NewReader(bytes.NewReader(in)))
		hOut, hErr := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(in)))
		w := walkGodot(in)

		// Ours follows Godot's rules exactly, byte for byte and error for error.
		if !bytes.Equal(gOut, w.out) {
			t.Fatalf("gdhttp output %q, Godot's rules give %q", gOut, w.out)
		}
		if w.err == nil {
			if gErr != nil {
				t.Fatalf("gdhttp error %v, Godot's rules complete the body", gErr)
			}
		} else {
			var e *chunked.Error
			if !errors.As(gErr, &e) || *e != *w.err {
				t.Fatalf("gdhttp error %v, Godot's rules give %v", gErr, w.err)
			}
		}

		if w.diff == diffNone {
			if !bytes.Equal(gOut, hOut) || (gErr == nil) != (hErr == nil) {
				t.Fatalf("unexplained disagreement:\ngdhttp  %q, %v\nnet/http %q, %v", gOut, gErr, hOut, hErr)
			}
			return
		}
		// A named difference: up to it, both agree.
		agreed := w.out[:w.agreed]
		if !bytes.HasPrefix(hOut, agreed) {
			t.Fatalf("%s: net/http output %q does not start with the agreed %q", w.diff, hOut, agreed)
		}
		if w.netFails && (hErr == nil || !bytes.Equal(hOut, agreed)) {
			t.Fatalf("%s: net/http should fail after %q, got %q, %v", w.diff, agreed, hOut, hErr)
		}
		if w.netOK && (hErr != nil || !bytes.Equal(hOut, agreed)) {
			t.Fatalf("%s: net/http should end after %q, got %q, %v", w.diff, agreed, hOut, hErr)
		}
	})
}
