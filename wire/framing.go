package wire

import "strconv"

// Framing is how the body of a response is delimited: the §1.9 decision,
// taken once when the head is parsed and frozen as a value, so the body
// reader is chosen by one switch instead of by re-reading flags.
type Framing int

// The four ways a response body can be delimited.
const (
	// FramingNone: no body is read. Godot's status becomes CONNECTED right
	// away; any bytes the server sent after the head stay in the socket
	// (§1.9 third row).
	FramingNone Framing = iota
	// FramingLength: exactly Head.ContentLength bytes (possibly 0: Godot then
	// goes to BODY and back to CONNECTED after one empty read, §1.9 note).
	FramingLength
	// FramingChunked: chunked transfer coding (§1.10.2).
	FramingChunked
	// FramingUntilClose: everything up to the end of the stream (§1.9 second
	// row, Godot's read_until_eof).
	FramingUntilClose
)

var framingNames = [...]string{"none", "length", "chunked", "until-close"}

// String returns "none", "length", "chunked" or "until-close".
func (f Framing) String() string {
	if f >= 0 && int(f) < len(framingNames) {
		return framingNames[f]
	}
	return "Framing(" + strconv.Itoa(int(f)) + ")"
}

// godotFraming is the §1.9 table in Godot's order: a body size other than −1
// or the chunked flag gives BODY (chunked wins over a length); otherwise
// `Connection: close` gives read-until-EOF; otherwise there is no body.
func godotFraming(bodySize int64, chunked, keepAlive bool) Framing {
	switch {
	case bodySize != -1 || chunked:
		if chunked {
			return FramingChunked
		}
		return FramingLength
	case !keepAlive:
		return FramingUntilClose
	default:
		return FramingNone
	}
}

// strictFraming is RFC 9112 §6.3 as strict mode (§7.4) applies it: no body
// for a HEAD request or a 204/304 response; a Transfer-Encoding decides over
// Content-Length (chunked when chunked is the final coding, else read until
// close — the parser refuses every coding but chunked before it gets here,
// issue 7 rule 10); then Content-Length; otherwise the body runs until the
// connection closes (RFC 9112 §6.3 rule 8, where Godot would leave those
// bytes in the socket). 1xx responses never get here: strict mode skips them.
func strictFraming(code int, headRequest, teSeen, teChunked, clSeen bool) Framing {
	switch {
	case headRequest || code == 204 || code == 304:
		return FramingNone
	case teSeen && teChunked:
		return FramingChunked
	case teSeen:
		return FramingUntilClose
	case clSeen:
		return FramingLength
	default:
		return FramingUntilClose
	}
}
