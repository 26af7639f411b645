package testserver

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const parseLimit = 1 << 10

var parseCases = []struct {
	name string
	in   string
	n    int // request length; -1: the whole input
	err  error
}{
	{"no body, CRLF head", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", -1, nil},
	{"no body, bare LF head", "GET / HTTP/1.1\nHost: a\n\n", -1, nil},
	{"no body, LF then CRLF", "GET / HTTP/1.1\nHost: a\n\r\n", -1, nil},
	{"Content-Length body", "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", -1, nil},
	{"Content-Length name case, spaces", "POST / HTTP/1.1\r\ncontent-LENGTH:   3 \r\n\r\nabc", -1, nil},
	{"Content-Length 0", "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", -1, nil},
	{"same Content-Length twice", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na", -1, nil},
	{"pipelined: first request only", "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", len("GET /1 HTTP/1.1\r\n\r\n"), nil},
	{"body followed by next request", "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nabGET", len("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nab"), nil},
	{"chunked, extension, trailer", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nT: v\r\n\r\n", -1, nil},
	{"chunked, bare LF", "POST / HTTP/1.1\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n", -1, nil},
	{"chunked wins over Content-Length", "POST / HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", -1, nil},
	{"chunked as last coding", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n0\r\n\r\n", -1, nil},
	{"chunked not last: Content-Length frames", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 1\r\n\r\nx", -1, nil},
	{"header line without colon ignored", "GET / HTTP/1.1\r\nnonsense\r\n\r\n", -1, nil},
	{"incomplete head", "GET / HTTP/1.1\r\nHost: a\r\n", 0, errNeedMore},
	{"LF CR is not an end", "GET / HTTP/1.1\n\r", 0, errNeedMore},
	{"incomplete body", "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc", 0, errNeedMore},
	{"incomplete chunk", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 0, errNeedMore},
	{"no last chunk yet", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n", 0, errNeedMore},
	{"Content-Length not digits", "POST / HTTP/1.1\r\nContent-Length: 1,2\r\n\r\n", 0, ErrMalformedRequest},
	{"Content-Length negative", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 0, ErrMalformedRequest},
	{"Content-Length empty", "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 0, ErrMalformedRequest},
	{"conflicting Content-Length", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 0, ErrMalformedRequest},
	{"chunk size not hex", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, ErrMalformedRequest},
	{"chunk size empty", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 0, ErrMalformedRequest},
	{"chunk without CRLF", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX", 0, ErrMalformedRequest},
	{"chunk with CR junk", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\rX", 0, ErrMalformedRequest},
	{"chunk size line too long", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + strings.Repeat("0", maxChunkLine+1), 0, ErrMalformedRequest},
	{"head over limit", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", parseLimit), 0, ErrRequestTooLarge},
	{"Content-Length over limit", "POST / HTTP/1.1\r\nContent-Length: 2000\r\n\r\n", 0, ErrRequestTooLarge},
	{"Content-Length huge", "POST / HTTP/1.1\r\nContent-Length: 999999999999999999\r\n\r\n", 0, ErrRequestTooLarge},
	{"chunk over limit", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n", 0, ErrRequestTooLarge},
	{"endless trailer", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + strings.Repeat("T: v\r\n", 200), 0, ErrRequestTooLarge},
}

// TestParseRequest pins how ReadRequest frames a request (head to the first
// blank line; chunked, else Content-Length) and its typed errors.
func TestParseRequest(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := parseRequest([]byte(tc.in), parseLimit)
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				assert.Zero(t, n)
				return
			}
			require.NoError(t, err)
			want := tc.n
			if want < 0 {
				want = len(tc.in)
			}
			assert.Equal(t, want, n)
		})
	}
}

// TestParseRequestEveryPrefix splits every complete request at every byte
// boundary: each proper prefix needs more bytes, so a request that arrives in
// pieces is never cut early.
func TestParseRequestEveryPrefix(t *testing.T) {
	for _, tc := range parseCases {
		if tc.err != nil {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			n, err := parseRequest([]byte(tc.in), parseLimit)
			require.NoError(t, err)
			for i := range n {
				_, err := parseRequest([]byte(tc.in[:i]), parseLimit)
				require.ErrorIs(t, err, errNeedMore, "prefix of %d bytes", i)
			}
		})
	}
}

// TestParseRequestAllocs pins that framing a request allocates nothing.
func TestParseRequestAllocs(t *testing.T) {
	in := []byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nX: y\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := parseRequest(in, parseLimit); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

// FuzzParseRequest checks parseRequest's invariants on any input: no panic;
// a found request lies within the input and the limit; it is found again in
// its own bytes and with junk appended (it never reads past itself); one byte
// less needs more; errors are one of the three documented kinds.
func FuzzParseRequest(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		n, err := parseRequest(in, parseLimit)
		if err != nil {
			if !errors.Is(err, errNeedMore) && !errors.Is(err, ErrMalformedRequest) && !errors.Is(err, ErrRequestTooLarge) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			if n != 0 {
				t.Fatalf("n = %d with error %v", n, err)
			}
			return
		}
		if n <= 0 || n > len(in) || n > parseLimit {
			t.Fatalf("n = %d for %d bytes", n, len(in))
		}
		if m, err := parseRequest(in[:n], parseLimit); err != nil || m != n {
			t.Fatalf("own bytes: got (%d, %v), want %d", m, err, n)
		}
		more := append(append([]byte{}, in[:n]...), "0\r\nGET"...)
		if m, err := parseRequest(more, parseLimit); err != nil || m != n {
			t.Fatalf("with junk appended: got (%d, %v), want %d", m, err, n)
		}
		if _, err := parseRequest(in[:n-1], parseLimit); !errors.Is(err, errNeedMore) {
			t.Fatalf("one byte short: %v, want errNeedMore", err)
		}
	})
}
