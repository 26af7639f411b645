package httprequest

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// When a corrupt gzip or deflate body is reported (§2.8.2.2), relative to
// body_size_limit (§2.8.2.3) and to storing the chunk (§2.6.1.5–6). Godot
// feeds each wire chunk to StreamPeerGZIP; zlib's inflate() returns
// Z_DATA_ERROR from the call that meets the bad bytes — the gzip CRC-32 as
// soon as its 4 bytes are in (inflate.c, CHECK), before ISIZE (LENGTH) —
// put_partial_data fails, and _update_connection ends R8 at that step,
// before its limit check: nothing of that chunk's output is counted or
// stored, and get_downloaded_bytes() stops at that chunk. Found by the
// session-32 node audit (F1: the CRC-32; F2: a data error in the chunk).

// auditCRCBeforeISIZE is a gzip body (FCOMMENT, 87 bytes) whose CRC-32 is
// broken; auditCRCSplits cut it into wire chunks of 10, 40, 33 and 4 bytes,
// the third ending with the CRC-32 and 3 bytes of ISIZE. Godot: R8 at the
// third chunk, get_downloaded_bytes() 83; the first two decode to 1713
// bytes, the third's 1193 are never counted (zlib 1.2.13 driven as
// stream_peer_gzip.cpp and http_request.cpp drive it).
const auditCRCBeforeISIZE = "1f8b08100000000000037829ee8399004b4a1a05031b02892313a4500e0636de86aaedc9a380fe2190060294a7f85113524666694981af47d3ceb00c81a15afd0c0777a7e203d22b140a3234582b00ddc500d4b80b2000"

var auditCRCSplits = []int{10, 50, 83}

// zlibErrorCase is one line of testdata/zlib_errors.txt: a stream that
// real zlib fails on first with its prefix of j bytes; out is what Godot
// hands on for its prefix of j-1 bytes sent as one wire chunk.
type zlibErrorCase struct {
	enc      encoding
	j, out   int
	msg      string
	src      []byte
	encoding string // the Content-Encoding value
}

func zlibErrorCases(t *testing.T) []zlibErrorCase {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "zlib_errors.txt"))
	require.NoError(t, err)
	defer f.Close()
	var cases []zlibErrorCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		require.Len(t, fields, 5, line)
		c := zlibErrorCase{enc: encGzip, msg: fields[3], encoding: fields[0]}
		if fields[0] == "deflate" {
			c.enc = encDeflate
		}
		c.j, err = strconv.Atoi(fields[1])
		require.NoError(t, err)
		c.out, err = strconv.Atoi(fields[2])
		require.NoError(t, err)
		c.src, err = hex.DecodeString(fields[4])
		require.NoError(t, err)
		cases = append(cases, c)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, cases)
	return cases
}

// chunkedAt frames b as chunks cut at the offsets splits.
func chunkedAt(b []byte, splits ...int) string {
	var s strings.Builder
	prev := 0
	for _, at := range append(append([]int(nil), splits...), len(b)) {
		s.WriteString(strconv.FormatInt(int64(at-prev), 16) + "\r\n")
		s.Write(b[prev:at])
		s.WriteString("\r\n")
		prev = at
	}
	s.WriteString("0\r\n\r\n")
	return s.String()
}

// §2.8.2.2–3, §2.6.1.5–6 at the decoder: the write that brings the bytes
// zlib fails on fails, and the sink gets nothing of its output.
func TestDecodeErrorInTheChunkZlibFailsOn(t *testing.T) {
	for _, c := range zlibErrorCases(t) {
		t.Run(c.encoding+"_"+c.msg+"_"+strconv.Itoa(c.j), func(t *testing.T) {
			f, err := feedDecoder(c.enc, 65536, c.src, []int{c.j})
			var de *DecodeError
			require.ErrorAs(t, err, &de, "zlib fails on the first %d bytes", c.j)
			assert.Empty(t, f.after, "the first write fails")
			assert.Empty(t, f.out, "nothing of the failing write reaches the sink")

			f, err = feedDecoder(c.enc, 65536, c.src, []int{c.j - 1, c.j})
			require.ErrorAs(t, err, &de)
			assert.Equal(t, []int{c.out}, f.after, "the write before it hands on Godot's output, the next fails")
			assert.Len(t, f.out, c.out, "nothing more reaches the sink")
		})
	}
}

// §2.8.2.2 at the decoder: a gzip member's CRC-32 fails the write that
// completes it, wherever ISIZE is; a bad ISIZE the write that completes
// ISIZE. A write that fails hands nothing on, one before it all its output.
func TestDecodeGzipTrailerCheckedAsZlib(t *testing.T) {
	plain := sampleText(3000)
	good := gzipBytes(t, plain)
	n := len(good)
	for _, c := range []struct {
		name  string
		flip  int // the trailer byte broken
		fails int // the shortest prefix that fails
	}{
		{"CRC-32", n - 8, n - 4},
		{"ISIZE", n - 2, n},
	} {
		bad := bytes.Clone(good)
		bad[c.flip] ^= 0x10
		for at := n - 9; at < n; at++ {
			t.Run(c.name+"_cut_at_"+strconv.Itoa(at-n), func(t *testing.T) {
				f, err := feedDecoder(encGzip, 65536, bad, []int{at})
				require.ErrorIs(t, err, gzip.ErrChecksum)
				if at >= c.fails {
					assert.Empty(t, f.after, "the write that completes the field fails")
					assert.Empty(t, f.out, "and hands nothing on")
				} else {
					assert.Equal(t, []int{len(plain)}, f.after, "the write before it hands on all the output")
				}
			})
		}
	}
}

// §2.8.2.2–3 at the decoder: when an inflate call's output buffer fills
// with the stream's last byte, zlib goes on in the same call to the end of
// block and the trailer's check value: a bad one fails that call, and the
// piece it filled is not handed on.
func TestDecodeCheckAfterFullCall(t *testing.T) {
	plain := bytes.Repeat([]byte("a"), 2048)
	for _, c := range []struct {
		name string
		enc  encoding
		src  []byte
		flip int // from the end
	}{
		{"gzip_CRC-32", encGzip, gzipBytes(t, plain), 8},
		{"deflate_Adler-32", encDeflate, zlibBytes(t, plain), 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := bytes.Clone(c.src)
			bad[len(bad)-c.flip] ^= 1
			var got int
			d := newDecoder(c.enc, 65536, func(p []byte) error { got += len(p); return nil })
			defer d.release()
			err := d.write(bad)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Less(t, got, len(plain), "the last call's piece is dropped with its error")
		})
	}
}

// The same through the node, every driver: R8 at the step of the chunk
// zlib fails on, get_downloaded_bytes() as Godot's, whatever the limit;
// an in-place download_file and a body writer hold only the chunks before.
func TestNodeDecodeErrorTiming(t *testing.T) {
	crc, err := hex.DecodeString(auditCRCBeforeISIZE)
	require.NoError(t, err)
	// The CRC case decodes in full (only its CRC-32 is wrong): the bytes
	// of its first two chunks are a prefix of that.
	crcPlain, err := io.ReadAll(mustGzipReader(t, crc))
	require.ErrorIs(t, err, gzip.ErrChecksum)
	require.Len(t, crcPlain, 2906)

	type nodeCase struct {
		name       string
		encoding   string
		body       []byte
		splits     []int
		limit      int64
		downloaded int64
		stored     int    // decoded bytes of the chunks before the failing one
		plain      []byte // what they are, when known
	}
	cases := []nodeCase{
		{"F1_gzip_CRC-32_before_ISIZE", "gzip", crc, auditCRCSplits, -1, 83, 1713, crcPlain},
		{"F1_gzip_CRC-32_before_ISIZE_limit_2000", "gzip", crc, auditCRCSplits, 2000, 83, 1713, crcPlain},
	}
	for _, c := range zlibErrorCases(t) {
		if c.msg != "invalid_distance_too_far_back" {
			continue
		}
		name := "F2_" + c.encoding + "_error_at_byte_" + strconv.Itoa(c.j)
		cases = append(cases,
			nodeCase{name, c.encoding, c.src, []int{c.j}, -1, int64(c.j), 0, nil},
			nodeCase{name + "_limit_1", c.encoding, c.src, []int{c.j}, 1, int64(c.j), 0, nil},
			nodeCase{name + "_after_a_chunk_limit_" + strconv.Itoa(c.out), c.encoding, c.src, []int{c.j - 1, c.j}, int64(c.out), int64(c.j), c.out, nil},
		)
	}
	plain := bytes.Repeat([]byte("a"), 2048)
	gzBad, zlBad := gzipBytes(t, plain), zlibBytes(t, plain)
	gzBad[len(gzBad)-8] ^= 1
	zlBad[len(zlBad)-1] ^= 1
	cases = append(cases,
		nodeCase{"gzip_CRC-32_after_a_full_call_limit_2047", "gzip", gzBad, nil, 2047, int64(len(gzBad)), 0, nil},
		nodeCase{"deflate_Adler-32_after_a_full_call_limit_2047", "deflate", zlBad, nil, 2047, int64(len(zlBad)), 0, nil},
	)

	for _, c := range cases {
		headers := []string{"Content-Encoding: " + c.encoding, "Transfer-Encoding: chunked"}
		resp := "HTTP/1.1 200 OK\r\n" + strings.Join(headers, "\r\n") + "\r\n\r\n" + chunkedAt(c.body, c.splits...)
		for _, dest := range []string{"memory", "in_place_file", "body_writer"} {
			t.Run(c.name+"/"+dest, func(t *testing.T) {
				eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
					srv := serve(t, testserver.Respond(resp))
					require.NoError(t, n.SetBodySizeLimit(c.limit))
					file := filepath.Join(t.TempDir(), "out")
					var w bytes.Buffer
					switch dest {
					case "in_place_file":
						require.NoError(t, os.WriteFile(file, []byte("previous"), 0o644))
						require.NoError(t, n.SetDownloadInPlace(true))
						require.NoError(t, n.SetDownloadFile(file))
					case "body_writer":
						require.NoError(t, n.SetBodyWriter(&w))
					}
					o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
					assertCompletion(t, Completion{ResultBodyDecompressFailed, 200, headers, nil}, o)
					var de *DecodeError
					assert.True(t, errors.As(o.Err, &de), "a DecodeError: %v", o.Err)
					assert.Equal(t, c.downloaded, n.DownloadedBytes(), "R8 at the step of the chunk zlib fails on")
					var stored []byte
					switch dest {
					case "in_place_file":
						stored, err = os.ReadFile(file)
						require.NoError(t, err)
					case "body_writer":
						stored = w.Bytes()
					default:
						return
					}
					assert.Len(t, stored, c.stored, "nothing of the failing chunk is stored")
					if c.plain != nil {
						assert.Equal(t, string(c.plain[:c.stored]), string(stored))
					}
				})
			})
		}
	}
}

func mustGzipReader(t *testing.T, b []byte) io.Reader {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	return r
}

// farBackAfterFullCall is a fixed-Huffman deflate block of lits literals
// "a" and then a match of length 3 whose distance, 4000, is too far back,
// wrapped as gzip or zlib (the trailers are zeros: the stream fails first).
func farBackAfterFullCall(enc encoding, lits int) []byte {
	var out []byte
	var acc, n uint
	bits := func(v, k uint) { // least significant bit first
		acc |= v << n
		for n += k; n >= 8; n -= 8 {
			out = append(out, byte(acc))
			acc >>= 8
		}
	}
	code := func(c, k uint) { // a Huffman code: most significant bit first
		for i := int(k) - 1; i >= 0; i-- {
			bits(c>>uint(i)&1, 1)
		}
	}
	if enc == encGzip {
		out = append(out, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff)
	} else {
		out = append(out, 0x78, 0x01)
	}
	bits(1, 1) // BFINAL
	bits(1, 2) // fixed Huffman codes
	for range lits {
		code(0x30+'a', 8)
	}
	code(1, 7)          // length 3
	code(23, 5)         // distance 3073…4096
	bits(4000-3073, 10) // 4000
	code(0, 7)          // end of block
	if n > 0 {
		out = append(out, byte(acc))
	}
	trailer := 4
	if enc == encGzip {
		trailer = 8
	}
	return append(out, make([]byte, trailer)...)
}

// §2.8.2.1–3: zlib checks a match's distance against its window only in
// MATCH, once it has room to copy. download_chunk_size 2048: the first
// inflate call fills its 2047 bytes with the literals and decodes on to the
// match (too far back) and stops; put_partial_data ends there (the ring is
// full) and succeeds, so its 2047 bytes meet body_size_limit before the
// next call fails: R7 with a limit under 2047, R8 otherwise (zlib 1.2.13
// driven as stream_peer_gzip.cpp and http_request.cpp drive it).
func TestNodeFarDistanceAfterFullCall(t *testing.T) {
	for _, enc := range []encoding{encGzip, encDeflate} {
		body := farBackAfterFullCall(enc, 2047)
		headers := []string{"Content-Encoding: " + enc.String(), "Transfer-Encoding: chunked"}
		resp := "HTTP/1.1 200 OK\r\n" + strings.Join(headers, "\r\n") + "\r\n\r\n" + chunkedAt(body)
		for _, c := range []struct {
			limit int64
			want  Result
		}{{-1, ResultBodyDecompressFailed}, {2000, ResultBodySizeLimitExceeded}, {2047, ResultBodyDecompressFailed}} {
			t.Run(enc.String()+"_limit_"+strconv.FormatInt(c.limit, 10), func(t *testing.T) {
				eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
					srv := serve(t, testserver.Respond(resp))
					require.NoError(t, n.SetDownloadChunkSize(2048))
					require.NoError(t, n.SetBodySizeLimit(c.limit))
					o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
					assertCompletion(t, Completion{c.want, 200, headers, nil}, o)
					assert.Equal(t, int64(len(body)), n.DownloadedBytes())
				})
			})
		}
	}
}
