package httprequest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/testserver"
)

// gzHeader describes the optional fields of a hand-built gzip member.
type gzHeader struct {
	text    bool   // FTEXT
	extra   []byte // FEXTRA when non-nil
	name    []byte // FNAME when non-nil (without its NUL)
	comment []byte // FCOMMENT when non-nil
	hcrc    bool   // FHCRC
	badHCRC bool   // write a wrong header CRC
	flags   byte   // extra flag bits (reserved ones)
}

// gzipMember builds one RFC 1952 member by hand: Go's gzip writers cannot
// write FHCRC, and its readers refuse names and comments over 512 bytes.
func gzipMember(t testing.TB, h gzHeader, data []byte) []byte {
	t.Helper()
	flags := h.flags
	if h.text {
		flags |= 1
	}
	if h.hcrc || h.badHCRC {
		flags |= 2
	}
	if h.extra != nil {
		flags |= 4
	}
	if h.name != nil {
		flags |= 8
	}
	if h.comment != nil {
		flags |= 16
	}
	b := []byte{0x1f, 0x8b, 8, flags, 1, 2, 3, 4, 0, 3}
	if h.extra != nil {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(h.extra)))
		b = append(b, h.extra...)
	}
	if h.name != nil {
		b = append(append(b, h.name...), 0)
	}
	if h.comment != nil {
		b = append(append(b, h.comment...), 0)
	}
	if h.hcrc || h.badHCRC {
		sum := uint16(crc32.ChecksumIEEE(b))
		if h.badHCRC {
			sum ^= 1
		}
		b = binary.LittleEndian.AppendUint16(b, sum)
	}
	b = append(b, rawDeflateBytes(t, data)...)
	b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(data))
	return binary.LittleEndian.AppendUint32(b, uint32(len(data)))
}

// longField is n bytes of Latin-1 text without NUL.
func longField(n int) []byte {
	return bytes.Repeat([]byte("file-name-\xe9-"), n/12+1)[:n]
}

// issue 7 rule 9, §2.8.2.1, §7 D1: every gzip member zlib accepts decodes —
// FNAME and FCOMMENT of any length (Go's readers stop at 512 bytes), FEXTRA
// up to 65535 bytes, FHCRC, FTEXT — in any split of the input; what zlib
// refuses (reserved flags, a wrong header CRC, another method) is R8.
func TestIssue7Rule9GzipHeaders(t *testing.T) {
	text := sampleText(20 << 10)
	cases := []struct {
		name   string
		h      gzHeader
		refuse bool
	}{
		{name: "no optional field", h: gzHeader{}},
		{name: "FTEXT", h: gzHeader{text: true}},
		{name: "FNAME 600 bytes", h: gzHeader{name: longField(600)}},
		{name: "FNAME 4 KiB", h: gzHeader{name: longField(4 << 10)}},
		{name: "FNAME 100 KiB", h: gzHeader{name: longField(100 << 10)}},
		{name: "FCOMMENT 100 KiB", h: gzHeader{comment: longField(100 << 10)}},
		{name: "FNAME and FCOMMENT empty", h: gzHeader{name: []byte{}, comment: []byte{}}},
		{name: "FEXTRA 65535 bytes", h: gzHeader{extra: bytes.Repeat([]byte{0}, 65535)}},
		{name: "FEXTRA empty", h: gzHeader{extra: []byte{}}},
		{name: "FHCRC", h: gzHeader{hcrc: true}},
		{name: "everything", h: gzHeader{text: true, extra: longField(40000), name: longField(70000), comment: longField(5000), hcrc: true}},
		{name: "wrong FHCRC (zlib: header crc mismatch)", h: gzHeader{name: longField(1000), badHCRC: true}, refuse: true},
		{name: "reserved flag 0x20 (zlib: unknown header flags set)", h: gzHeader{flags: 0x20}, refuse: true},
		{name: "reserved flag 0x80", h: gzHeader{flags: 0x80}, refuse: true},
	}
	for _, c := range cases {
		src := gzipMember(t, c.h, text)
		// Two members, the second with the same header (§7 D1: concatenation).
		two := append(bytes.Clone(src), gzipMember(t, c.h, []byte("second"))...)
		plans := splitPlans(len(src))
		if len(src) > 20000 {
			delete(plans, "one byte per write")
		}
		for plan, splits := range plans {
			t.Run(c.name+"/"+plan, func(t *testing.T) {
				out, _, _, err := feed(encGzip, 4096, src, splits)
				if c.refuse {
					assert.ErrorIs(t, err, gzip.ErrHeader)
					var de *DecodeError
					assert.ErrorAs(t, err, &de)
					return
				}
				require.NoError(t, err)
				assert.True(t, bytes.Equal(text, out), "output differs")
				out, _, _, err = feed(encGzip, 4096, two, splits)
				require.NoError(t, err)
				assert.Equal(t, len(text)+len("second"), len(out))
			})
		}
	}
	// The header split at every byte, in two writes.
	h := gzHeader{text: true, extra: longField(300), name: longField(700), comment: longField(600), hcrc: true}
	src := gzipMember(t, h, text)
	headerLen := 10 + 2 + 300 + 701 + 601 + 2
	for i := 1; i <= headerLen+1; i++ {
		out, _, _, err := feed(encGzip, 4096, src, []int{i})
		require.NoError(t, err, "split at %d", i)
		require.True(t, bytes.Equal(text, out), "split at %d", i)
	}
	// Cut short anywhere in the header: io.ErrUnexpectedEOF (§7 D3).
	for _, cut := range []int{1, 9, 10, 11, 12, 200, 312, 313, 1000, 1013, 1014, 1600, 1614, 1615} {
		_, _, _, err := feed(encGzip, 4096, src[:cut], nil)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "cut at %d", cut)
	}
	// Another method than deflate (CM 7): zlib "unknown compression method".
	bad := bytes.Clone(src)
	bad[2] = 7
	_, _, _, err := feed(encGzip, 4096, bad, nil)
	assert.ErrorIs(t, err, gzip.ErrHeader)
}

// issue 7 rule 9, §7 D1: an FNAME that never ends is skipped as it streams,
// never stored: 64 MiB of it cost no more than a few buffers.
func TestIssue7Rule9EndlessNameBounded(t *testing.T) {
	d := newDecoder(encGzip, 65536, func([]byte) error { return nil })
	defer d.release()
	require.NoError(t, d.write([]byte{0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3}))
	piece := bytes.Repeat([]byte("n"), 1<<20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 64 {
		require.NoError(t, d.write(piece))
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d KiB for 64 MiB of file name", allocated>>10)
	assert.Less(t, allocated, uint64(1<<20))
	assert.Equal(t, int64(0), d.Output())
	assert.ErrorIs(t, d.close(), io.ErrUnexpectedEOF)
}

// issue 7 rule 9, §2.8.2, §2.9.1, §2.8.2.3: through the node, in every
// driver, a gzip body with a long FNAME, FCOMMENT or FEXTRA gives
// RESULT_SUCCESS with the decoded bytes, with Content-Length or chunked,
// streamed in pieces; body_size_limit still applies to the decoded bytes.
func TestIssue7Rule9NodeLongGzipHeaders(t *testing.T) {
	text := sampleText(150 << 10)
	headers := map[string]gzHeader{
		"FNAME 4 KiB":      {name: longField(4 << 10)},
		"FNAME 100 KiB":    {name: longField(100 << 10), hcrc: true},
		"FCOMMENT 100 KiB": {comment: longField(100 << 10)},
		"FEXTRA 65535":     {extra: longField(65535), name: longField(1000)},
	}
	for hname, h := range headers {
		body := gzipMember(t, h, text)
		for _, chunked := range []bool{false, true} {
			for _, limit := range []int64{-1, int64(len(text)), int64(len(text)) - 1} {
				name := hname + "/cl"
				if chunked {
					name = hname + "/chunked"
				}
				name += "/limit_" + strconv.FormatInt(limit, 10)
				t.Run(name, func(t *testing.T) {
					head := "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
					wire := ""
					if chunked {
						head += "Transfer-Encoding: chunked\r\n\r\n"
						wire = chunkedBody(body, 7000)
					} else {
						head += "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
						wire = string(body)
					}
					resp := []byte(head + wire)
					// Split inside the header, at its end and in the data.
					splits := []int{len(head) + 5, len(head) + 3000, len(head) + len(wire)/2}
					eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
						srv := serve(t, testserver.Script(testserver.Read(),
							testserver.WriteSplit(resp, splits, 0), testserver.Hold()))
						require.NoError(t, n.SetBodySizeLimit(limit))
						o := d.run(t, n, srv.URL("/"), nil, 0, nil)
						hs := hdrs("Content-Encoding: gzip", strings.TrimSuffix(strings.SplitN(head, "\r\n", 4)[2], "\r\n"))
						want := Completion{Result: ResultSuccess, ResponseCode: 200, Headers: hs, Body: text}
						if limit >= 0 && limit < int64(len(text)) {
							want = Completion{Result: ResultBodySizeLimitExceeded, ResponseCode: 200, Headers: hs}
						}
						assertCompletion(t, want, o)
					})
				})
			}
		}
	}
}

// issue 7 rule 9, §2.8.2, STYLE.md splits: a gzip body whose header holds a
// 520-byte FNAME (past Go's 512-byte limit), a comment and FHCRC, split at
// every byte of the gzip header (TestSplitAtEveryByte covers the response
// head) and one byte per write,
// decodes in every driver.
func TestIssue7Rule9NodeSplitAtEveryByte(t *testing.T) {
	text := []byte("split the gzip header at every byte")
	gz := gzipMember(t, gzHeader{name: longField(520), comment: []byte("c"), hcrc: true}, text)
	head := "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(len(gz)) + "\r\n\r\n"
	resp := []byte(head + string(gz))
	want := Completion{ResultSuccess, 200, hdrs("Content-Encoding: gzip", "Content-Length: "+strconv.Itoa(len(gz))), text}
	var plans [][]int
	for i := len(head) - 4; i < len(head)+10+521+2+2+2; i++ {
		plans = append(plans, []int{i})
	}
	every := make([]int, 0, len(resp))
	for i := 1; i < len(resp); i++ {
		every = append(every, i)
	}
	plans = append(plans, every)
	for _, d := range drivers {
		t.Run(d.Name, func(t *testing.T) {
			for _, splits := range plans {
				srv := serve(t, testserver.Script(testserver.Read(), testserver.WriteSplit(resp, splits, 50*time.Microsecond), testserver.Hold()))
				n := New()
				o := d.run(t, n, srv.URL("/"), nil, 0, nil)
				n.Close()
				srv.Close()
				if !assert.Equal(t, want.Result, o.C.Result, "splits %v: %v", splits[:min(len(splits), 3)], o.Err) {
					return
				}
				require.Equal(t, want, o.C)
			}
		})
	}
}
