package httpclient

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/chunked"
	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// TestChunkedIntoPaths checks §1.10.2 and §1.10.3 through
// ReadResponseBodyChunkInto's chunked path with a large buffer, with chunks
// smaller and larger than it: the raw bytes are read in bulk into the read
// buffer (grown to bulkBufSize) and decoded from it. The body arrives with
// the next response right behind it in the same write, so the bulk read
// takes bytes past the body's end: they must stay for the next request
// (§1.6.4.3), and the trailer must be consumed (§1.10.2.6).
func TestChunkedIntoPaths(t *testing.T) {
	const total = 3<<19 + 777 // 1.5 MiB and an odd tail
	data := make([]byte, total)
	rng := rand.New(rand.NewPCG(9, 9))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	const next = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter"
	for _, chunk := range []int{100, 16 << 10, 64 << 10, 300 << 10} {
		resp := []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
		for i := 0; i < total; i += chunk {
			resp = chunked.AppendChunk(resp, data[i:min(i+chunk, total)])
		}
		resp = append(resp, "0\r\nX-Trailer: 1\r\n\r\n"+next...)
		for _, bufSize := range []int{bulkMinBuf, 64 << 10} {
			for _, m := range modes {
				name := strconv.Itoa(chunk) + "/" + strconv.Itoa(bufSize) + "/" + m.name
				t.Run(name, func(t *testing.T) {
					srv := ts.New(t, ts.Script(ts.Read(), ts.Write(resp), ts.Read(), ts.Hold()))
					c, _ := newClient(t, m.blocking)
					require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
					require.NoError(t, c.Request(MethodGet, "/", nil, ""))
					require.NoError(t, pollWhile(t, c, StatusRequesting))
					require.Equal(t, StatusBody, c.Status())

					buf := make([]byte, bufSize)
					var got bytes.Buffer
					drive.Until(driveTimeout, func() bool { // the body read to its end
						for c.Status() == StatusBody {
							n, err := c.ReadResponseBodyChunkInto(buf)
							got.Write(buf[:n])
							if err != nil {
								return true
							}
							if n == 0 {
								return false // nothing yet: look again after a pause
							}
						}
						return true
					})
					assert.True(t, bytes.Equal(data, got.Bytes()), "body differs: got %d bytes, want %d", got.Len(), total)
					assert.True(t, c.BodyComplete())
					assert.Equal(t, StatusConnected, c.Status(), "§1.10.3")
					assert.Len(t, c.rbuf, bulkBufSize, "the body is read in bulk")

					r := exchange(t, c, getRoot, pathIntoLarge)
					assert.Equal(t, "after", r.Body, "the bytes behind the body stay for the next response")
				})
			}
		}
	}
}
