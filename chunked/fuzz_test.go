package chunked

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fuzzSeeds are the rule-table bodies plus a few larger valid ones.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, c := range decodeCases {
		if len(c.in) < 4096 {
			seeds = append(seeds, []byte(c.in))
		}
	}
	seeds = append(seeds,
		AppendLastChunk(AppendChunk(AppendChunk(nil, []byte("hello, ")), bytes.Repeat([]byte("w"), 300)), "A: b"),
		[]byte("5\r\nhello\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"))
	return seeds
}

// randomPieces cuts in into pieces of pseudo-random sizes chosen by seed.
func randomPieces(in []byte, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	var ps [][]byte
	for len(in) > 0 {
		n := min(rng.IntN(1+min(len(in), 64)), len(in))
		if rng.IntN(8) == 0 {
			n = len(in) // sometimes the rest at once
		}
		ps = append(ps, in[:n]) // n may be 0: an empty call must be harmless
		in = in[n:]
	}
	return ps
}

// FuzzDecoder checks the Decoder's invariants on any input: no panic;
// nDst ≤ len(dst) and nSrc ≤ len(src) (checked in decodePieces); any split
// of the input and any dst size give the same output, events and error; the
// Reader agrees; and a complete body re-encoded chunk by chunk with
// AppendChunk decodes to the same output and boundaries.
func FuzzDecoder(f *testing.F) {
	for i, s := range fuzzSeeds() {
		f.Add(s, uint64(i), uint16(i*37))
	}
	f.Fuzz(func(t *testing.T, in []byte, seed uint64, dstSize uint16) {
		whole := decodePieces(t, &Decoder{}, [][]byte{in}, len(in)+1)

		got := decodePieces(t, &Decoder{}, randomPieces(in, seed), int(dstSize%512)+1)
		require.Equal(t, whole, got, "random split and dst size")
		if len(in) <= 2048 {
			var ones [][]byte
			for i := range in {
				ones = append(ones, in[i:i+1])
			}
			require.Equal(t, whole, decodePieces(t, &Decoder{}, ones, 1), "one byte per call")
		}

		// The Reader (which does not stop at chunk ends) gives the same.
		out, err := readAllP(t, NewReader(bytes.NewReader(in)), int(dstSize%8192)+1)
		require.Equal(t, whole.Out, string(out), "Reader output")
		if whole.Err == nil {
			require.NoError(t, err)
		} else {
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, *whole.Err, *e, "Reader error")
		}

		if !whole.Done {
			return
		}
		require.LessOrEqual(t, whole.Consumed, len(in))
		// Re-encode the delivered chunks and decode again.
		var re []byte
		prev := 0
		for _, ev := range whole.Events {
			if ev.Ev == EventChunkEnd {
				re = AppendChunk(re, []byte(whole.Out[prev:ev.At]))
				prev = ev.At
			}
		}
		re = AppendLastChunk(re)
		again := decodePieces(t, &Decoder{}, [][]byte{re}, 97)
		require.True(t, again.Done)
		require.Nil(t, again.Err)
		require.Equal(t, whole.Out, again.Out)
		require.Equal(t, whole.Events, again.Events, "same chunk boundaries")
		require.Equal(t, len(re), again.Consumed)
	})
}

// FuzzRoundTrip: any data cut into any chunk layout, with any trailer line,
// encoded by AppendChunk and by Writer (byte-identical), decodes back.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello, world"), []byte{4, 0, 200}, "X-Sum: 1")
	f.Add(bytes.Repeat([]byte{0, '\r', '\n'}, 700), []byte{255, 1}, "")
	f.Add([]byte{}, []byte{}, "A: b")
	f.Fuzz(func(t *testing.T, data, layout []byte, trailer string) {
		// A trailer line can hold neither CR nor LF (they would end it, §1.10.2.6).
		trailer = strings.NewReplacer("\r", "", "\n", "").Replace(trailer)
		var trailers []string
		if trailer != "" && len(trailer) < DefaultMaxTrailerBytes-4 {
			trailers = append(trailers, trailer)
		}
		var body []byte
		var wbuf bytes.Buffer
		w := NewWriter(&wbuf)
		var ends []int
		for pos, li := 0, 0; pos < len(data); li++ {
			sz := len(data) - pos
			if len(layout) > 0 {
				sz = min(int(layout[li%len(layout)])*int(layout[li%len(layout)])+1, sz)
			}
			body = AppendChunk(body, data[pos:pos+sz])
			_, err := w.Write(data[pos : pos+sz])
			require.NoError(t, err)
			pos += sz
			ends = append(ends, pos)
		}
		body = AppendLastChunk(body, trailers...)
		require.NoError(t, w.CloseWithTrailers(trailers...))
		require.Equal(t, body, wbuf.Bytes())

		r := decodePieces(t, &Decoder{}, [][]byte{body}, 1000)
		require.Nil(t, r.Err)
		require.True(t, r.Done)
		require.Equal(t, string(data), r.Out)
		require.Equal(t, len(body), r.Consumed)
		require.Len(t, r.Events, len(ends)+1)
		for i, at := range ends {
			require.Equal(t, evAt{EventChunkEnd, at, false}, r.Events[i])
		}

		out, err := readAllP(t, NewReader(bytes.NewReader(body)), 4096)
		require.NoError(t, err)
		require.Equal(t, string(data), string(out))
	})
}
