package zlibref

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRefGzip pins the zlib-rule reference, including where
// it is deliberately wider (header strings of any length) or stricter
// (reserved flags, FHCRC) than compress/gzip.
func TestRefGzip(t *testing.T) {
	text := []byte("hello, gzip reference")
	one := Member(0, "", text, false)
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
		{name: "FNAME 511+NUL", src: Member(0, strings.Repeat("n", 511), text, false), want: text, longest: 512},
		{name: "FNAME 4000+NUL: zlib skips any length", src: Member(0, strings.Repeat("n", 4000), text, false), want: text, longest: 4001},
		{name: "FHCRC right", src: Member(0, "f", text, true), want: text, longest: 2},
		{name: "FHCRC wrong", src: func() []byte { b := Member(0, "f", text, true); b[12] ^= 1; return b }(), fail: true, longest: 2},
		{name: "reserved flag: unknown header flags set", src: Member(0x20, "", text, false), fail: true},
		{name: "bad CRC-32", src: func() []byte { b := bytes.Clone(one); b[len(b)-8] ^= 1; return b }(), fail: true},
		{name: "bad ISIZE", src: func() []byte { b := bytes.Clone(one); b[len(b)-1] ^= 1; return b }(), fail: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, longest, err := Gunzip(tc.src, 1<<20)
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
	zr, err := gzip.NewReader(bytes.NewReader(Member(0, strings.Repeat("n", 512), text, false)))
	if err == nil {
		_, err = io.ReadAll(zr)
	}
	assert.ErrorIs(t, err, gzip.ErrHeader)
}
