package httpclient

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/hugepage"
)

// TestReadResponseBodyChunkHugePages: the pieces of a body that reaches
// hugeBody are cut from arrays of bigArray bytes marked for transparent huge
// pages — known from its Content-Length, or once that much of a chunked
// body has arrived — in both modes; the pieces are the body.
func TestReadResponseBodyChunkHugePages(t *testing.T) {
	if !hugepage.Supported() {
		t.Skip("this kernel has no transparent huge pages, or GODEBUG=disablethp=1")
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), (hugeBody+3*bigArray)/16)
	cases := []struct {
		name  string
		resp  []byte
		after int // body bytes received before the arrays are big
	}{
		{"length", append(fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(body)), body...), pieceArray / 4},
		{"chunked", []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedOf(string(body), 16<<10)), hugeBody},
	}
	for _, tc := range cases {
		for _, m := range modes {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				c := bodyClient(t, tc.resp, m.blocking, bodyServer{})
				var got []byte
				checked := 0
				for c.Status() == StatusBody {
					require.NoError(t, c.Poll())
					p := c.ReadResponseBodyChunk()
					if len(p) >= minPiece && len(got) >= tc.after+bigArray && checked < 3 {
						// Past the first big array: one from the heap's
						// marked ranges would be marked anyway.
						marked, err := hugepage.Marked(p)
						require.NoError(t, err)
						assert.True(t, marked, "a piece at byte %d is not in a marked array", len(got))
						checked++
					}
					got = append(got, p...)
				}
				require.True(t, c.BodyComplete(), "status %v, error %v", c.Status(), c.LastError())
				require.True(t, bytes.Equal(body, got), "body of %d bytes, want %d", len(got), len(body))
				assert.Equal(t, 3, checked)
			})
		}
	}
}
