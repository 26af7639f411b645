package httprequest

import (
	"bytes"
	"context"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// withDecodeStepMax lowers decodeStepMax for one test (not parallel).
func withDecodeStepMax(t *testing.T, v int64) {
	old := decodeStepMax
	decodeStepMax = v
	t.Cleanup(func() { decodeStepMax = old })
}

// §7 D1: one step hands on at most decodeStepMax decoded bytes (plus one
// piece), whatever a read decodes to; the rest follows at the next steps,
// in every framing, encoding and driver, and the body arrives whole: the
// same completion as when the whole read decodes in its step.
func TestDecodeStepBounded(t *testing.T) {
	const step = 128 << 10
	withDecodeStepMax(t, step)
	zeros := make([]byte, 3<<20) // 24 steps' worth from reads of 64 KiB or less
	for i := 0; i < len(zeros); i += 4096 {
		zeros[i] = byte(i >> 12)
	}
	for _, enc := range []struct {
		name, header string
		data         []byte
		brotli       bool
	}{
		{"gzip", "Content-Encoding: gzip", gzipBytes(t, zeros), false},
		{"deflate", "Content-Encoding: deflate", zlibBytes(t, zeros), false},
		{"br", "Content-Encoding: br", brotliBytes(t, zeros), true},
	} {
		framings := map[string]func(c *testserver.Conn){
			"content-length": respondBody(enc.header, enc.data),
			"chunked": testserver.Respond("HTTP/1.1 200 OK\r\n" + enc.header + "\r\nTransfer-Encoding: chunked\r\n\r\n" +
				chunkedBody(enc.data, 8192)),
			"until-close": testserver.Script(testserver.Read(), testserver.WriteAndClose([]byte("HTTP/1.1 200 OK\r\n"+enc.header+"\r\nConnection: close\r\n\r\n"+string(enc.data)))),
		}
		for fname, handler := range framings {
			t.Run(enc.name+"/"+fname, func(t *testing.T) {
				eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
					if enc.brotli {
						require.NoError(t, n.SetAcceptBrotli(true))
					}
					srv := serve(t, handler)
					var decs []int64
					n.OnProgress(func(_, dec int64) { decs = append(decs, dec) })
					o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
					require.Equal(t, ResultSuccess, o.C.Result, "cause: %v", o.Err)
					require.True(t, bytes.Equal(zeros, o.C.Body), "body of %d bytes, want %d", len(o.C.Body), len(zeros))
					if d.Driver == drivers[0].Driver { // Process: progress after every step
						prev := int64(0)
						for _, dec := range decs {
							assert.LessOrEqual(t, dec-prev, int64(step+64<<10), "one step decoded more than decodeStepMax and a piece")
							prev = dec
						}
						assert.GreaterOrEqual(t, len(decs), len(zeros)/(step+64<<10), "the output spread over the steps")
					}
				})
			})
		}
	}
}

// zeroBomb is a zlib stream (Content-Encoding: deflate) that decodes to
// size zero bytes: one literal, then matches of 258 at distance 1 in fixed
// Huffman blocks, 13 bits each — 6.8 MB for 1 GiB, made in milliseconds.
func zeroBomb(size int) []byte {
	var w deflateWriter
	toks := []deflateToken{{lit: 0}}
	for left := size - 1; ; {
		n := min(left, 258)
		if left-n > 0 && left-n < 3 {
			n -= 3 // a match is 3 bytes at least: leave the last one room
		}
		if n > 0 {
			toks = append(toks, deflateToken{length: n, dist: 1})
			left -= n
		}
		if left == 0 || len(toks) == 1<<16 {
			w.block(toks, nil, nil, left == 0) // fixed Huffman blocks
			toks = toks[:0]
		}
		if left == 0 {
			break
		}
	}
	// adler32 of size zeros: a stays 1, b adds a per byte.
	sum := uint32(size%65521)<<16 | 1
	return binary.BigEndian.AppendUint32(append([]byte{0x78, 0x01}, w.flush()...), sum)
}

// §7 D1, §2.11: a decompression bomb — 1 GiB of zeros from 6.8 MB, in one
// read — no longer holds a step, and the frame, until it is decoded: the
// timeout ends it in every driver, and Do's context deadline too, at the
// step after, with a small part of the bomb decoded (whatever the machine's
// speed: a loaded machine decodes less before the timeout). Before, the
// Process driver delivered RESULT_SUCCESS once the whole GiB was through,
// and the others RESULT_TIMEOUT as late (seconds after the timeout).
func TestDecodeBombTimesOut(t *testing.T) {
	withDecodeStepMax(t, 1<<20)
	const size = 1 << 30
	bomb := zeroBomb(size)
	const timeout = 200 * time.Millisecond
	handler := testserver.Respond("HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: " + itoa(len(bomb)) + "\r\n\r\n" + string(bomb))
	check := func(t *testing.T, res Result, err error, decoded int64, took time.Duration) {
		t.Helper()
		assert.Equal(t, ResultTimeout, res, "cause: %v", err)
		assert.Less(t, decoded, int64(size/2), "the bomb went on decoding past the timeout")
		t.Logf("%v after %v, %d MiB decoded", res, took.Round(time.Millisecond), decoded>>20)
	}
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		require.NoError(t, n.SetDownloadChunkSize(1<<24)) // the whole bomb in one read
		require.NoError(t, n.SetTimeout(timeout))
		var w countingWriter
		require.NoError(t, n.SetBodyWriter(&w))
		srv := serve(t, handler)
		start := time.Now()
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		check(t, o.C.Result, o.Err, w.n.Load(), time.Since(start))
	})
	t.Run("do-context", func(t *testing.T) {
		n := newNode(t)
		require.NoError(t, n.SetDownloadChunkSize(1<<24))
		var w countingWriter
		require.NoError(t, n.SetBodyWriter(&w))
		srv := serve(t, handler)
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		start := time.Now()
		c, err := n.Do(ctx, srv.URL("/"), nil, httpclient.MethodGet, nil)
		check(t, c.Result, err, w.n.Load(), time.Since(start))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

// countingWriter counts the bytes written to it (a body writer that keeps
// nothing).
type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// zeroBomb's stream is what it says: 3 MiB of zeros, through the node.
func TestZeroBomb(t *testing.T) {
	n := newNode(t)
	srv := serve(t, respondBody("Content-Encoding: deflate", zeroBomb(3<<20+5)))
	c, err := n.Do(context.Background(), srv.URL("/"), nil, httpclient.MethodGet, nil)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(make([]byte, 3<<20+5), c.Body), "%d bytes", len(c.Body))
}
