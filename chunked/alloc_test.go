package chunked

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allocBody is a body with small and large chunks and a trailer.
func allocBody() []byte {
	var b []byte
	for i := range 50 {
		b = AppendChunk(b, bytes.Repeat([]byte{'a' + byte(i%26)}, 1+i*97))
	}
	return AppendLastChunk(b, "X-Trailer: yes")
}

// Decode allocates nothing in steady state, whatever the split.
func TestDecodeAllocs(t *testing.T) {
	body := allocBody()
	dst := make([]byte, 1000)
	var d Decoder
	for _, step := range []int{1, 7, 4096, len(body)} {
		allocs := testing.AllocsPerRun(50, func() {
			d.Reset()
			src := body
			for len(src) > 0 {
				_, ns, ev, err := d.Decode(dst, src[:min(step, len(src))])
				if err != nil || ev == EventEnd {
					break
				}
				src = src[ns:]
			}
		})
		assert.Zero(t, allocs, "step %d", step)
		require.True(t, d.Done())
	}
}

// A malformed body costs one *Error; returning it again costs nothing.
func TestDecodeErrorAllocs(t *testing.T) {
	var d Decoder
	dst := make([]byte, 16)
	src := []byte("5;x\r\nhelloXY")
	allocs := testing.AllocsPerRun(50, func() {
		d.Reset()
		_, _, _, _ = d.Decode(dst, src)
	})
	assert.LessOrEqual(t, allocs, 1.0)
	allocs = testing.AllocsPerRun(50, func() {
		_, _, _, _ = d.Decode(dst, src)
		_ = d.Finish()
	})
	assert.Zero(t, allocs, "sticky error is not rebuilt")
}

// Reader.Read allocates nothing once the Reader exists (Reset reuses it).
func TestReaderAllocs(t *testing.T) {
	body := allocBody()
	br := bytes.NewReader(body)
	r := NewReader(br)
	for _, ps := range []int{1, 100, directMin, 64 << 10} {
		p := make([]byte, ps)
		allocs := testing.AllocsPerRun(20, func() {
			br.Reset(body)
			r.Reset(br)
			for {
				if _, err := r.Read(p); err != nil {
					if err != io.EOF {
						t.Fatal(err)
					}
					break
				}
			}
		})
		assert.Zero(t, allocs, "p=%d", ps)
	}
}
