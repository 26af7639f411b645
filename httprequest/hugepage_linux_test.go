package httprequest

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/hugepage"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// TestBodyInMemoryHugePages: a large body kept in memory is written into a
// buffer marked for transparent huge pages (internal/hugepage), whatever
// the framing and the driver, and arrives whole. Without the mark, a
// 256 MiB body spent most of its time in page faults (hugepage's doc).
func TestBodyInMemoryHugePages(t *testing.T) {
	if !hugepage.Supported() {
		t.Skip("this kernel has no transparent huge pages, or GODEBUG=disablethp=1")
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), (hugepage.Min+3<<20)/16)
	gz := gzipBytes(t, body)
	var chunked bytes.Buffer
	for rest := body; len(rest) > 0; {
		n := min(len(rest), 16<<10)
		fmt.Fprintf(&chunked, "%x\r\n%s\r\n", n, rest[:n])
		rest = rest[n:]
	}
	chunked.WriteString("0\r\n\r\n")
	framings := []struct {
		name, head string
		payload    []byte
	}{
		{"content-length", fmt.Sprintf("Content-Length: %d", len(body)), body},
		{"chunked", "Transfer-Encoding: chunked", chunked.Bytes()},
		{"until-close", "Connection: close", body},
		{"gzip", fmt.Sprintf("Content-Encoding: gzip\r\nContent-Length: %d", len(gz)), gz},
	}
	for _, f := range framings {
		t.Run(f.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := serve(t, func(c *testserver.Conn) {
					if _, err := c.ReadRequest(); err != nil {
						return
					}
					if c.Write([]byte("HTTP/1.1 200 OK\r\n"+f.head+"\r\n\r\n")) == nil && c.Write(f.payload) == nil {
						_ = c.CloseWrite()
					}
				})
				got := d.run(t, n, srv.URL("/"), nil, 0, nil)
				require.Equal(t, ResultSuccess, got.C.Result, "cause: %v", got.Err)
				require.True(t, bytes.Equal(body, got.C.Body), "body of %d bytes, want %d", len(got.C.Body), len(body))
				marked, err := hugepage.Marked(got.C.Body)
				require.NoError(t, err)
				assert.True(t, marked, "the body's buffer is not marked for huge pages")
			})
		})
	}
}
