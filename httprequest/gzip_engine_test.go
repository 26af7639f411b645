package httprequest

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// chunkedBody frames b as chunks of at most size bytes.
func chunkedBody(b []byte, size int) string {
	var s strings.Builder
	for len(b) > 0 {
		n := min(size, len(b))
		s.WriteString(strconv.FormatInt(int64(n), 16) + "\r\n")
		s.Write(b[:n])
		s.WriteString("\r\n")
		b = b[n:]
	}
	s.WriteString("0\r\n\r\n")
	return s.String()
}

// §2.8.2 through the node: streaming decompression of gzip and zlib-deflate
// (br opt-in), the §7 D1/D3 endings, headers and counters unchanged
// (§2.8.2.6), in every driver.
func TestNodeDecompression(t *testing.T) {
	text := sampleText(200 << 10)
	gz := gzipBytes(t, text)
	zl := zlibBytes(t, text)
	br := brotliBytes(t, text)
	gz2 := gzipBytes(t, []byte(" and more"))
	corrupt := bytes.Clone(gz)
	corrupt[len(corrupt)/2] ^= 0xff

	cl := func(b []byte) string { return "Content-Length: " + strconv.Itoa(len(b)) }
	cases := []struct {
		name     string
		encoding string // Content-Encoding header line, "" for none
		body     []byte // raw body sent
		chunked  bool   // send chunked (16 KiB chunks) instead of Content-Length
		setup    func(t *testing.T, n *HTTPRequest)
		headers  []string // request headers
		want     Result
		wantBody []byte
		wantSent string // the Accept-Encoding line the server must see ("" none)
	}{
		{"gzip (§5)", "Content-Encoding: gzip", gz, false, nil, nil, ResultSuccess, text, acceptGzipHeader},
		{"gzip chunked", "Content-Encoding: gzip", gz, true, nil, nil, ResultSuccess, text, acceptGzipHeader},
		{"gzip value case and spaces (§2.7.4)", "content-encoding:   GZIP", gz, false, nil, nil, ResultSuccess, text, acceptGzipHeader},
		{"deflate is zlib (§2.8.2.1)", "Content-Encoding: deflate", zl, false, nil, nil, ResultSuccess, text, acceptGzipHeader},
		{"concatenated gzip members (§7 D1)", "Content-Encoding: gzip", append(bytes.Clone(gz), gz2...), false, nil, nil,
			ResultSuccess, append(bytes.Clone(text), " and more"...), acceptGzipHeader},
		{"trailing garbage (§7 D1: Godot hangs)", "Content-Encoding: gzip", append(bytes.Clone(gz), "GARBAGE!!!!!"...), false, nil, nil,
			ResultBodyDecompressFailed, nil, acceptGzipHeader},
		{"truncated gzip (§7 D3: Godot succeeds)", "Content-Encoding: gzip", gz[:len(gz)-100], false, nil, nil,
			ResultBodyDecompressFailed, nil, acceptGzipHeader},
		{"truncated gzip, chunked (§7 D3)", "Content-Encoding: gzip", gz[:len(gz)/2], true, nil, nil,
			ResultBodyDecompressFailed, nil, acceptGzipHeader},
		{"corrupt gzip (§2.8.2.2)", "Content-Encoding: gzip", corrupt, false, nil, nil, ResultBodyDecompressFailed, nil, acceptGzipHeader},
		{"accept_gzip off: raw bytes, no header (§2.2)", "Content-Encoding: gzip", gz, false,
			func(t *testing.T, n *HTTPRequest) { n.SetAcceptGzip(false) }, nil, ResultSuccess, gz, ""},
		{"own Accept-Encoding kept, still decoded (§2.4.6, §2.7.4)", "Content-Encoding: gzip", gz, false, nil,
			[]string{"accept-encoding: gzip"}, ResultSuccess, text, "accept-encoding: gzip"},
		{"x-gzip is not decoded (§2.7.4)", "Content-Encoding: x-gzip", gz, false, nil, nil, ResultSuccess, gz, acceptGzipHeader},
		{"'gzip, identity' is not decoded (§2.7.4)", "Content-Encoding: gzip, identity", gz, false, nil, nil, ResultSuccess, gz, acceptGzipHeader},
		{"first Content-Encoding wins (§2.7.4)", "Content-Encoding: identity\r\nContent-Encoding: gzip", gz, false, nil, nil, ResultSuccess, gz, acceptGzipHeader},
		{"empty value skipped, next one used (§2.7.4 split rule)", "Content-Encoding:\r\nContent-Encoding: gzip", gz, false, nil, nil, ResultSuccess, text, acceptGzipHeader},
		{"br without the option: raw (§2.7.4)", "Content-Encoding: br", br, false, nil, nil, ResultSuccess, br, acceptGzipHeader},
		{"br with the option (§7.2)", "Content-Encoding: br", br, false,
			func(t *testing.T, n *HTTPRequest) { require.NoError(t, n.SetAcceptBrotli(true)) }, nil, ResultSuccess, text, "Accept-Encoding: gzip, deflate, br"},
		{"br truncated (§7 D3)", "Content-Encoding: br", br[:len(br)-10], false,
			func(t *testing.T, n *HTTPRequest) { require.NoError(t, n.SetAcceptBrotli(true)) }, nil, ResultBodyDecompressFailed, nil, "Accept-Encoding: gzip, deflate, br"},
		{"limit on the decoded size (§2.8.2.3)", "Content-Encoding: gzip", gz, false,
			func(t *testing.T, n *HTTPRequest) { require.NoError(t, n.SetBodySizeLimit(int64(len(text)-1))) }, nil, ResultBodySizeLimitExceeded, nil, acceptGzipHeader},
		{"limit exactly the decoded size (§2.8.2.3)", "Content-Encoding: gzip", gz, false,
			func(t *testing.T, n *HTTPRequest) { require.NoError(t, n.SetBodySizeLimit(int64(len(text)))) }, nil, ResultSuccess, text, acceptGzipHeader},
		{"small download chunk size sizes the pieces (§2.2)", "Content-Encoding: gzip", gz, false,
			func(t *testing.T, n *HTTPRequest) { require.NoError(t, n.SetDownloadChunkSize(300)) }, nil, ResultSuccess, text, acceptGzipHeader},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				head := "HTTP/1.1 200 OK\r\n"
				if c.encoding != "" {
					head += c.encoding + "\r\n"
				}
				var resp string
				var headers []string
				if c.encoding != "" {
					headers = strings.Split(c.encoding, "\r\n")
				}
				if c.chunked {
					resp = head + "Transfer-Encoding: chunked\r\n\r\n" + chunkedBody(c.body, 16<<10)
					headers = append(headers, "Transfer-Encoding: chunked")
				} else {
					resp = head + cl(c.body) + "\r\n\r\n" + string(c.body)
					headers = append(headers, cl(c.body))
				}
				srv := serve(t, testserver.Respond(resp))
				if c.setup != nil {
					c.setup(t, n)
				}
				o := d.run(t, n, srv.URL("/"), c.headers, httpclient.MethodGet, nil)
				want := Completion{Result: c.want, ResponseCode: 200, Headers: headers, Body: c.wantBody}
				assertCompletion(t, want, o)
				if c.want == ResultBodyDecompressFailed {
					var de *DecodeError
					assert.ErrorAs(t, o.Err, &de)
				}
				if c.want == ResultSuccess {
					// §2.8.2.6, §2.6.1.4: the counters stay compressed.
					assert.Equal(t, int64(len(c.body)), n.DownloadedBytes())
					if !c.chunked {
						assert.Equal(t, int64(len(c.body)), n.BodySize())
					} else {
						assert.Equal(t, int64(-1), n.BodySize())
					}
				}
				srv.Close()
				req := string(srv.Requests()[0])
				if c.wantSent == "" {
					assert.NotContains(t, strings.ToLower(req), "accept-encoding")
				} else {
					assert.True(t, hasLine(req, c.wantSent), "request %q", req)
					assert.Equal(t, 1, strings.Count(strings.ToLower(req), "accept-encoding"))
				}
			})
		})
	}
}

// §2.8.2.2: zlib checks a gzip header as it comes — the magic at its 2nd
// byte, the method and flags at the 4th — so a body that fails there ends
// RESULT_BODY_DECOMPRESS_FAILED in the step that read those bytes, whatever
// the connection does next: here it stalls, or is cut by a FIN, both of
// which would end otherwise (timeout, CANT_CONNECT, CHUNKED_BODY_SIZE_MISMATCH).
// A blocking read (use_threads, Do) of a Content-Length body waits for the
// whole min(body left, chunk size) first (§1.15.2, _get_http_data), so a
// stall there is RESULT_TIMEOUT, as in Godot.
func TestNodeGzipHeaderFailsEarly(t *testing.T) {
	const gzipHead = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
	cases := []struct{ name, resp string }{
		{"bad magic, chunked", gzipHead + "Transfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n"},
		{"bad magic, length", gzipHead + "Content-Length: 100\r\n\r\nhe"},
		{"bad method", gzipHead + "Content-Length: 100\r\n\r\n\x1f\x8b\x09\x00"},
		{"reserved flags", gzipHead + "Content-Length: 100\r\n\r\n\x1f\x8b\x08\xe0"},
	}
	for _, c := range cases {
		for end, step := range map[string]testserver.Step{"stall": testserver.Hold(), "FIN": testserver.CloseTCP()} {
			t.Run(c.name+"/"+end, func(t *testing.T) {
				eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
					srv := serve(t, testserver.Script(testserver.Read(), testserver.WriteString(c.resp),
						testserver.Sleep(50*time.Millisecond), step))
					require.NoError(t, n.SetTimeout(5*time.Second))
					want := ResultBodyDecompressFailed
					if end == "stall" && !strings.Contains(c.resp, "chunked") && d.Driver != drive.Process {
						require.NoError(t, n.SetTimeout(300*time.Millisecond))
						want = ResultTimeout
					}
					o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
					assert.Equal(t, want, o.C.Result, "cause: %v", o.Err)
				})
			})
		}
	}
}

// §2.8.2.3, §7 D1: a decompression bomb — 1 GiB of zeros, gzip-compressed by
// the server as it sends (about 1 MiB on the wire) — against body_size_limit:
// RESULT_BODY_SIZE_LIMIT_EXCEEDED, and the memory allocated during the whole
// request (server included) stays a small multiple of the limit.
func TestNodeGzipBombBounded(t *testing.T) {
	const limit = 4 << 20
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		srv := serve(t, func(c *testserver.Conn) {
			if _, err := c.ReadRequest(); err != nil {
				return
			}
			if c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n")) != nil {
				return
			}
			zw, _ := gzip.NewWriterLevel(c.Raw(), gzip.BestSpeed)
			zero := make([]byte, 1<<20)
			for i := 0; i < 1024; i++ {
				if _, err := zw.Write(zero); err != nil {
					return // the client hung up
				}
			}
			_ = zw.Close()
		})
		require.NoError(t, n.SetBodySizeLimit(limit))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		o := d.run(t, n, srv.URL("/bomb"), nil, httpclient.MethodGet, nil)
		runtime.ReadMemStats(&after)
		assertCompletion(t, Completion{ResultBodySizeLimitExceeded, 200, hdrs("Content-Encoding: gzip", "Connection: close"), nil}, o)
		allocated := after.TotalAlloc - before.TotalAlloc
		t.Logf("allocated %d KiB during the request; %d compressed bytes read", allocated>>10, n.DownloadedBytes())
		assert.Less(t, allocated, uint64(64<<20), "bounded: the bomb expands to 1 GiB")
		assert.Less(t, n.DownloadedBytes(), int64(1<<20))
	})
}
