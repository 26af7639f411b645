package fuzz

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
)

// TestPlanFor pins the server plans the fuzz targets derive from a seed:
// cuts strictly increasing inside (0, len), pieces that add up to the data,
// every ending and the byte-wise mode reachable.
func TestPlanFor(t *testing.T) {
	data := []byte(strings.Repeat("0123456789", 10))
	endings := map[ending]bool{}
	bytewise := false
	for seed := range uint64(4096) {
		p := planFor(data, seed*0x9e3779b97f4a7c15)
		endings[p.end] = true
		require.True(t, slices.IsSorted(p.cuts), "seed %d: %v", seed, p.cuts)
		for i, c := range p.cuts {
			require.True(t, c > 0 && c < len(data), "seed %d: cut %d", seed, c)
			if i > 0 {
				require.NotEqual(t, p.cuts[i-1], c, "seed %d: repeated cut", seed)
			}
		}
		require.Equal(t, data, bytes.Join(p.pieces(), nil))
		if len(p.cuts) == 64 {
			bytewise = true
			require.Zero(t, p.gap, "no gap in byte-wise mode")
		}
	}
	assert.Len(t, endings, int(numEndings))
	assert.True(t, bytewise, "byte-wise cuts never chosen")
	empty := planFor(nil, 0).pieces()
	assert.Len(t, empty, 1, "empty data: one empty write")
	assert.Empty(t, empty[0])
}

// TestObservedTransitions checks the copied §1.19 table against a few
// transitions the spec forbids, so the fuzz check can fail.
func TestObservedTransitions(t *testing.T) {
	legal := func(from, to httpclient.Status) bool {
		_, ok := observedTransitions[transition{from, to}]
		return ok
	}
	assert.True(t, legal(httpclient.StatusRequesting, httpclient.StatusBody), "§1.9")
	assert.True(t, legal(httpclient.StatusBody, httpclient.StatusDisconnected), "§1.10.1.4")
	for _, tr := range []transition{
		{httpclient.StatusBody, httpclient.StatusRequesting},
		{httpclient.StatusConnected, httpclient.StatusBody},
		{httpclient.StatusConnectionError, httpclient.StatusConnected},
		{httpclient.StatusDisconnected, httpclient.StatusResolving}, // never for an IP literal
		{httpclient.StatusConnecting, httpclient.StatusRequesting},
	} {
		assert.False(t, legal(tr.from, tr.to), "%v → %v", tr.from, tr.to)
	}
}

// gzipMember builds one gzip member by hand (RFC 1952) so that fields
// compress/gzip never writes (FHCRC, reserved bits, long strings) can be set.
func gzipMember(t testing.TB, flg byte, name string, data []byte, hcrc bool) []byte {
	t.Helper()
	var w bytes.Buffer
	gw := gzip.NewWriter(&w)
	_, err := gw.Write(data)
	require.NoError(t, err)
	require.NoError(t, gw.Close())
	std := w.Bytes()
	deflated := std[10 : len(std)-8] // compress/gzip writes a 10-byte header without options
	head := []byte{0x1f, 0x8b, 8, flg, 0, 0, 0, 0, 0, 0xff}
	if name != "" {
		head[3] |= 0x08
		head = append(append(head, name...), 0)
	}
	if hcrc {
		head[3] |= 0x02
		head = binary.LittleEndian.AppendUint16(head, uint16(crc32.ChecksumIEEE(head)))
	}
	out := append(head, deflated...)
	return append(out, std[len(std)-8:]...)
}

// TestRefGzip pins the zlib-rule reference of FuzzDecompress, including where
// it is deliberately wider (header strings of any length) or stricter
// (reserved flags, FHCRC) than compress/gzip.
func TestRefGzip(t *testing.T) {
	text := []byte("hello, gzip reference")
	one := gzipMember(t, 0, "", text, false)
	for _, tc := range []struct {
		name    string
		src     []byte
		want    []byte
		fail    bool
		longest int
	}{
		{name: "plain", src: one, want: text},
		{name: "two members (§7 D1)", src: append(bytes.Clone(one), one...), want: append(bytes.Clone(text), text...)},
		{name: "trailing zero (§7 D1)", src: append(bytes.Clone(one), 0), fail: true},
		{name: "cut in the trailer (§7 D3)", src: one[:len(one)-1], fail: true},
		{name: "cut in the header", src: one[:4], fail: true},
		{name: "FNAME 511+NUL", src: gzipMember(t, 0, strings.Repeat("n", 511), text, false), want: text, longest: 512},
		{name: "FNAME 4000+NUL: zlib skips any length", src: gzipMember(t, 0, strings.Repeat("n", 4000), text, false), want: text, longest: 4001},
		{name: "FHCRC right", src: gzipMember(t, 0, "f", text, true), want: text, longest: 2},
		{name: "FHCRC wrong", src: func() []byte { b := gzipMember(t, 0, "f", text, true); b[12] ^= 1; return b }(), fail: true, longest: 2},
		{name: "reserved flag: unknown header flags set", src: gzipMember(t, 0x20, "", text, false), fail: true},
		{name: "bad CRC-32", src: func() []byte { b := bytes.Clone(one); b[len(b)-8] ^= 1; return b }(), fail: true},
		{name: "bad ISIZE", src: func() []byte { b := bytes.Clone(one); b[len(b)-1] ^= 1; return b }(), fail: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, longest, err := refGzipStrings(tc.src)
			assert.Equal(t, tc.longest, longest)
			if tc.fail {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	// compress/gzip refuses a header string longer than 512 bytes; the node's
	// decoder and the zlib-rule reference do not (issue 7 rule 9).
	zr, err := gzip.NewReader(bytes.NewReader(gzipMember(t, 0, strings.Repeat("n", 512), text, false)))
	if err == nil {
		_, err = io.ReadAll(zr)
	}
	assert.ErrorIs(t, err, gzip.ErrHeader)
}
