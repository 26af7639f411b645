package main

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// The demo backend (gdfetch serve) bounds a request head at 64 KiB while
// it reads it: a client that sends one line without an end is refused
// after about that much, not buffered whole.
func TestBackendRequestHeadBounded(t *testing.T) {
	for _, src := range []string{
		strings.Repeat("a", 4<<20), // one line that never ends
		"GET / HTTP/1.1\r\nX-A: " + strings.Repeat("b", 4<<20) + "\r\n\r\n", // one huge header line
		"GET / HTTP/1.1\r\n" + strings.Repeat("X-A: b\r\n", 1<<19) + "\r\n", // many small lines
	} {
		cr := &countingReader{r: strings.NewReader(src)}
		_, err := readRequest(bufio.NewReader(cr))
		require.ErrorIs(t, err, io.ErrShortBuffer)
		assert.Less(t, cr.n, maxRequestHead+64<<10, "read before refusing")
	}
	q, err := readRequest(bufio.NewReader(strings.NewReader("GET /x HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi")))
	require.NoError(t, err)
	assert.Equal(t, "/x", q.path)
	assert.Equal(t, "hi", string(q.body))
}
