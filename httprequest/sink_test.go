package httprequest

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCopyPreemptible: the copy in pieces copies what copy does, at every
// size around a piece boundary, and stops at the shorter slice.
func TestCopyPreemptible(t *testing.T) {
	for _, n := range []int{0, 1, preemptPiece - 1, preemptPiece, preemptPiece + 1, 3*preemptPiece + 5} {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(i*7 + i/preemptPiece)
		}
		dst := make([]byte, n+3)
		copyPreemptible(dst, src)
		assert.True(t, bytes.Equal(src, dst[:n]), "size %d", n)
		assert.Equal(t, []byte{0, 0, 0}, dst[n:], "size %d: wrote past the source", n)
	}
	src := bytes.Repeat([]byte{9}, 2*preemptPiece)
	short := make([]byte, preemptPiece+2)
	copyPreemptible(short, src) // must end, not loop
	assert.True(t, bytes.Equal(src[:len(short)], short))
}

// TestSinkGrow pins grow's sizes and that the body survives every growth:
// with a Content-Length it starts at 1 MiB at most and grows fourfold,
// never past the length; without one (or decoded, or past the length) it
// doubles from 64 KiB, or grows to what is needed when that is more.
func TestSinkGrow(t *testing.T) {
	const mib = 1 << 20
	steps := []struct {
		name    string
		bodyLen int64
		decoded bool
		adds    []int
		caps    []int
	}{
		{"length", 20 * mib, false, []int{10, mib, 5 * mib, 10 * mib, 4*mib - 10}, []int{mib, 4 * mib, 16 * mib, 20 * mib, 20 * mib}},
		{"small length", 3000, false, []int{100, 2900}, []int{3000, 3000}},
		{"past the length", 3000, false, []int{3000, 1}, []int{3000, 64 << 10}},
		{"no length", -1, false, []int{10, 64 << 10, 100, 100 << 10, 600 << 10}, []int{64 << 10, 128 << 10, 128 << 10, 256 << 10, 782446}},
		{"decoded", 20 * mib, true, []int{10, 64 << 10}, []int{64 << 10, 128 << 10}},
	}
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			s := &sink{bodyLen: tc.bodyLen}
			if tc.decoded {
				s.dec = &decoder{}
			}
			var want []byte
			for i, m := range tc.adds {
				s.grow(m)
				require.Equal(t, tc.caps[i], cap(s.body), "after adding %d", m)
				add := bytes.Repeat([]byte{byte(i + 1)}, m)
				s.body = append(s.body, add...)
				want = append(want, add...)
				require.Equal(t, tc.caps[i], cap(s.body), "append after grow(%d) reallocated", m)
			}
			assert.True(t, bytes.Equal(want, s.body), "the body changed while growing")
		})
	}
}
