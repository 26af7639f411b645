package testserver

import (
	"bytes"
	"errors"
	"fmt"
)

// errNeedMore is parseRequest's "the request is not complete yet".
var errNeedMore = errors.New("testserver: need more bytes")

// maxChunkLine bounds a chunk size line or a trailer line of a request.
const maxChunkLine = 4096

// parseRequest finds the end of the first HTTP/1.1 request in b and returns
// its length. The head ends at the first blank line (CRLF CRLF, or LF LF, or a
// mix such as LF CRLF); the body is framed by Transfer-Encoding: chunked (last
// coding) or else Content-Length, and is empty without either. It returns
// errNeedMore while b holds an incomplete request, ErrRequestTooLarge when the
// request cannot fit in limit bytes and ErrMalformedRequest (wrapped) for
// unframeable input. It never reads past the request, so pipelined requests
// are left for the next call. It is a pure function (no I/O, no allocation on
// success).
func parseRequest(b []byte, limit int) (int, error) {
	n, err := parseFramed(b, limit)
	if err == errNeedMore && len(b) > limit {
		// Everything in b belongs to the unfinished request.
		return 0, fmt.Errorf("%w: request longer than %d bytes", ErrRequestTooLarge, limit)
	}
	return n, err
}

func parseFramed(b []byte, limit int) (int, error) {
	headEnd := headLength(b)
	if headEnd < 0 {
		return 0, errNeedMore
	}
	if headEnd > limit {
		return 0, fmt.Errorf("%w: head longer than %d bytes", ErrRequestTooLarge, limit)
	}
	length, chunked, err := framing(b[:headEnd])
	if err != nil {
		return 0, err
	}
	if chunked {
		return chunkedEnd(b, headEnd, limit)
	}
	if length > int64(limit-headEnd) {
		return 0, fmt.Errorf("%w: Content-Length %d over the %d-byte limit", ErrRequestTooLarge, length, limit)
	}
	end := headEnd + int(length)
	if len(b) < end {
		return 0, errNeedMore
	}
	return end, nil
}

// headLength returns the length of the head including its blank line, or -1
// when b holds no blank line yet.
func headLength(b []byte) int {
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 2
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 3
		}
	}
	return -1
}

// framing reads the Content-Length and Transfer-Encoding fields of a head.
func framing(head []byte) (length int64, chunked bool, err error) {
	haveLength := false
	first := true
	for len(head) > 0 {
		var line []byte
		line, head = cutLine(head)
		if first {
			first = false // request line
			continue
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, ok := parseDecimal(value)
			if !ok {
				return 0, false, fmt.Errorf("%w: Content-Length %q", ErrMalformedRequest, value)
			}
			if haveLength && n != length {
				return 0, false, fmt.Errorf("%w: conflicting Content-Length values %d and %d", ErrMalformedRequest, length, n)
			}
			length, haveLength = n, true
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			last := value
			if i := bytes.LastIndexByte(value, ','); i >= 0 {
				last = bytes.TrimSpace(value[i+1:])
			}
			chunked = bytes.EqualFold(last, []byte("chunked"))
		}
	}
	return length, chunked, nil
}

// cutLine splits b after its first LF and drops the line's CR LF or LF.
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.TrimSuffix(b, []byte{'\r'}), nil
	}
	return bytes.TrimSuffix(b[:i], []byte{'\r'}), b[i+1:]
}

// parseDecimal parses a non-empty run of ASCII digits that fits in 62 bits.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// chunkedEnd walks a chunked body that starts at b[pos:] and returns the end
// of the request (after the trailer section).
func chunkedEnd(b []byte, pos, limit int) (int, error) {
	for {
		i := bytes.IndexByte(b[pos:], '\n')
		if i < 0 {
			if len(b)-pos > maxChunkLine {
				return 0, fmt.Errorf("%w: chunk size line longer than %d bytes", ErrMalformedRequest, maxChunkLine)
			}
			return 0, errNeedMore
		}
		if i > maxChunkLine {
			return 0, fmt.Errorf("%w: chunk size line longer than %d bytes", ErrMalformedRequest, maxChunkLine)
		}
		line := bytes.TrimSuffix(b[pos:pos+i], []byte{'\r'})
		pos += i + 1
		if j := bytes.IndexByte(line, ';'); j >= 0 {
			line = line[:j] // chunk extensions are ignored
		}
		size, ok := parseHex(bytes.TrimSpace(line), int64(limit)+1)
		if !ok {
			return 0, fmt.Errorf("%w: chunk size %q", ErrMalformedRequest, line)
		}
		if size == 0 {
			return trailerEnd(b, pos, limit)
		}
		if size > int64(limit-pos) {
			return 0, fmt.Errorf("%w: chunk of %d bytes over the %d-byte limit", ErrRequestTooLarge, size, limit)
		}
		pos += int(size)
		switch {
		case len(b) <= pos:
			return 0, errNeedMore
		case b[pos] == '\n':
			pos++
		case b[pos] != '\r':
			return 0, fmt.Errorf("%w: chunk not followed by CRLF", ErrMalformedRequest)
		case len(b) <= pos+1:
			return 0, errNeedMore
		case b[pos+1] == '\n':
			pos += 2
		default:
			return 0, fmt.Errorf("%w: chunk not followed by CRLF", ErrMalformedRequest)
		}
		if pos > limit {
			return 0, fmt.Errorf("%w: request over the %d-byte limit", ErrRequestTooLarge, limit)
		}
	}
}

// trailerEnd skips trailer lines up to and including the empty line; the
// trailer counts in the request's limit.
func trailerEnd(b []byte, pos, limit int) (int, error) {
	for {
		i := bytes.IndexByte(b[pos:], '\n')
		if i < 0 {
			if len(b)-pos > maxChunkLine {
				return 0, fmt.Errorf("%w: trailer line longer than %d bytes", ErrMalformedRequest, maxChunkLine)
			}
			return 0, errNeedMore
		}
		line := bytes.TrimSuffix(b[pos:pos+i], []byte{'\r'})
		pos += i + 1
		if pos > limit {
			return 0, fmt.Errorf("%w: request over the %d-byte limit", ErrRequestTooLarge, limit)
		}
		if len(line) == 0 {
			return pos, nil
		}
	}
}

// parseHex parses a non-empty hexadecimal number; values above max are
// clamped to max.
func parseHex(b []byte, max int64) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = min(n*16+int64(d), max)
	}
	return n, true
}
