package httprequest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// feedEager is feedDecoder (the eager inflater) with the total output
// after each write.
func feedEager(enc encoding, chunkSize int, src []byte, splits []int) (out []byte, after []int, err error) {
	f, err := feedDecoder(enc, chunkSize, src, splits)
	return f.out, f.after, err
}

// klauspostDecode is the reference the eager inflater is compared with:
// klauspost's flate reader (inside gunzip for gzip, so that the header
// rules are the node's) or zlib reader, reading src whole, and for a zlib
// stream nothing may follow.
func klauspostDecode(enc encoding, src []byte) ([]byte, error) {
	if len(src) == 0 {
		return nil, nil // the node never feeds an empty body
	}
	br := bufio.NewReader(bytes.NewReader(src))
	if enc == encGzip {
		out, err := io.ReadAll(newGunzip(br, flate.NewReader(nil).(memberInflater)))
		return out, err
	}
	zr, err := zlib.NewReader(br)
	if err != nil {
		return nil, noEOF(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return out, noEOF(err)
	}
	if _, err := br.ReadByte(); err == nil {
		return out, ErrTrailingData
	}
	return out, nil
}

// gzipAt compresses data with gzip at a compression level (0: stored blocks).
func gzipAt(t testing.TB, data []byte, level int) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, level)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

func zlibAt(t testing.TB, data []byte, level int) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := zlib.NewWriterLevel(&b, level)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

// errClass names the error kinds the node tells apart.
func errClass(err error) string {
	var ce flate.CorruptInputError
	var ie flate.InternalError
	for _, e := range []error{io.ErrUnexpectedEOF, gzip.ErrChecksum, gzip.ErrHeader, zlib.ErrHeader, zlib.ErrChecksum, zlib.ErrDictionary, ErrTrailingData} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	switch {
	case err == nil:
		return "nil"
	case errors.As(err, &ce), errors.As(err, &ie):
		return "corrupt"
	}
	return "other: " + err.Error()
}

// sameFailure reports whether the eager inflater failed as klauspost's did:
// the same kind of error, or one says corrupt data where the other ran out
// of input. The two disagree there on cut streams, and the eager inflater
// sides with zlib (checked with Python's zlib on the fuzz finds and on
// thousands of mutated streams when it was written): klauspost fetches bits
// ahead of need, so it can meet the end before a bad code that zlib sees in
// the bits at hand ("invalid distance too far back"), and it rejects some
// block headers whose fields zlib is still waiting for.
func sameFailure(klauspost, eager error) bool {
	k, e := errClass(klauspost), errClass(eager)
	eof := io.ErrUnexpectedEOF.Error()
	return k == e || (k == eof && e == "corrupt") || (k == "corrupt" && e == eof)
}

// skipUnderRace skips a long test of decoding on one goroutine in a -race
// build: the race detector has nothing to find there and makes it ten times
// slower (80 s of CI). scripts/test.sh runs these tests without -race.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("one goroutine, no race to find: scripts/test.sh runs it without -race")
	}
}

// §2.8.2.1, §2.8.2.2, §7 D1/D3: the eager inflater decodes what
// klauspost's decodes, byte for byte, and fails where it fails, with the
// same kind of error, however the input is cut.
func TestEagerInflaterMatchesKlauspost(t *testing.T) {
	skipUnderRace(t)
	r := rand.New(rand.NewPCG(5, 6))
	random := make([]byte, 50000)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	inputs := map[string][]byte{
		"text":   sampleText(70 << 10),
		"random": random,
		"zeros":  make([]byte, 300000),
		"run":    []byte(strings.Repeat("a", 200000)),
		"short":  []byte("hello"),
		"empty":  {},
	}
	type src struct {
		enc encoding
		b   []byte
	}
	cases := map[string]src{}
	for name, in := range inputs {
		for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
			cases["gzip/"+name+"/"+strconv.Itoa(level)] = src{encGzip, gzipAt(t, in, level)}
			cases["deflate/"+name+"/"+strconv.Itoa(level)] = src{encDeflate, zlibAt(t, in, level)}
		}
	}
	text := inputs["text"]
	gz, zl := gzipBytes(t, text), zlibBytes(t, text)
	mutate := func(b []byte, at int) []byte { b = bytes.Clone(b); b[at] ^= 0x55; return b }
	for i := range 8 {
		cases["gzip/corrupt/"+strconv.Itoa(i)] = src{encGzip, mutate(gz, 20+i*len(gz)/9)}
		cases["deflate/corrupt/"+strconv.Itoa(i)] = src{encDeflate, mutate(zl, 8+i*len(zl)/9)}
	}
	cases["gzip/bad crc"] = src{encGzip, mutate(gz, len(gz)-6)}
	cases["gzip/bad size"] = src{encGzip, mutate(gz, len(gz)-2)}
	cases["gzip/truncated"] = src{encGzip, gz[:len(gz)/2]}
	cases["gzip/concatenated"] = src{encGzip, append(bytes.Clone(gz), gzipBytes(t, []byte("second"))...)}
	cases["gzip/trailing garbage"] = src{encGzip, append(bytes.Clone(gz), "junk"...)}
	cases["gzip/given zlib"] = src{encGzip, zl}
	cases["deflate/bad adler"] = src{encDeflate, mutate(zl, len(zl)-1)}
	cases["deflate/bad header"] = src{encDeflate, mutate(zl, 0)}
	cases["deflate/dictionary"] = src{encDeflate, append([]byte{0x78, 0xbb}, zl[2:]...)}
	cases["deflate/raw deflate"] = src{encDeflate, rawDeflateBytes(t, text)}
	cases["deflate/truncated"] = src{encDeflate, zl[:len(zl)-2]}
	cases["deflate/trailing garbage"] = src{encDeflate, append(bytes.Clone(zl), 'x')}
	cases["deflate/invalid block type"] = src{encDeflate, []byte{0x78, 0x9c, 0x07, 0x00}}
	cases["deflate/stored lengths differ"] = src{encDeflate, []byte{0x78, 0x9c, 0x01, 0x05, 0x00, 0xfa, 0xfe, 'h', 'e', 'l', 'l', 'o'}}

	for name, c := range cases {
		plans := splitPlans(len(c.b))
		if len(c.b) > 3000 {
			delete(plans, "one byte per write")
		}
		for plan, splits := range plans {
			t.Run(name+"/"+plan, func(t *testing.T) {
				want, wantErr := klauspostDecode(c.enc, c.b)
				got, _, err := feedEager(c.enc, 4096, c.b, splits)
				assert.True(t, sameFailure(wantErr, err), "error: klauspost %v, eager %v", wantErr, err)
				if wantErr == nil {
					assert.True(t, bytes.Equal(want, got), "output differs: %d vs %d bytes", len(want), len(got))
				}
				var de *DecodeError
				if err != nil {
					require.ErrorAs(t, err, &de)
				}
			})
		}
	}
}

// §2.8.2.1: after every write the eager inflater has handed over all the
// output the bytes so far decode to — what zlib gives Godot for each wire
// chunk (checked against zlib itself, Python's zlib.decompressobj, at every
// cut of these streams when the inflater was written). Here the reference is
// klauspost's inflater reading the stream cut at the same byte: it flushes
// its window when it meets the cut, but may stop a symbol short, as it
// fetches bits a little ahead of need. zlib, in turn, holds back the rest
// of a match (at most 258 bytes) when the inflate call that consumed the
// last input byte filled Godot's buffer (1024 bytes at least) mid-match.
// So the eager output is at least klauspost's for the same cut less 258,
// at most klauspost's for a cut 8 bytes later (longer than any symbol), and
// jumps the 32 KiB steps of the window never.
func TestEagerInflaterOutputsEverythingDecodable(t *testing.T) {
	skipUnderRace(t)
	text := sampleText(150 << 10)
	for _, level := range []int{flate.NoCompression, flate.HuffmanOnly, flate.BestSpeed, flate.DefaultCompression} {
		t.Run(strconv.Itoa(level), func(t *testing.T) {
			zl := zlibAt(t, text, level)
			raw := zl[2 : len(zl)-4]
			var splits []int
			for k := 3; k < len(zl)-4; k += 997 + k%13 {
				splits = append(splits, k)
			}
			out, after, err := feedEager(encDeflate, 65536, zl, splits)
			require.NoError(t, err)
			require.True(t, bytes.Equal(text, out))
			truncated := func(k int) int {
				if k >= len(raw) {
					return len(text)
				}
				ref, err := io.ReadAll(flate.NewReader(bytes.NewReader(raw[:k])))
				require.ErrorIs(t, err, io.ErrUnexpectedEOF)
				return len(ref)
			}
			for i, k := range splits {
				assert.GreaterOrEqual(t, after[i], truncated(k-2)-258, "output after %d of %d bytes", k, len(zl))
				assert.LessOrEqual(t, after[i], truncated(k-2+8), "output after %d of %d bytes", k, len(zl))
			}
		})
	}
}

func TestAdler32Update(t *testing.T) {
	b := sampleText(100000)
	sum := uint32(1)
	for i := 0; i < len(b); i += 7777 {
		sum = adler32Update(sum, b[i:min(i+7777, len(b))])
	}
	assert.Equal(t, adler32.Checksum(b), sum)
	assert.Equal(t, adler32.Checksum(nil), adler32Update(1, nil))
}

// FuzzEagerInflater: on any input, wrapped as a zlib stream and cut in two
// anywhere, the eager inflater never panics and agrees with klauspost's:
// the same output on success, the same failure (sameFailure) otherwise.
func FuzzEagerInflater(f *testing.F) {
	text := sampleText(4000)
	for _, level := range []int{flate.NoCompression, flate.HuffmanOnly, flate.BestSpeed, flate.BestCompression} {
		zl := zlibAt(f, text, level)
		f.Add(zl[2:], uint16(len(zl)/3))
	}
	f.Add([]byte{0x07, 0x00}, uint16(1))
	f.Fuzz(func(t *testing.T, deflate []byte, cut uint16) {
		src := append([]byte{0x78, 0x9c}, deflate...)
		splits := []int{int(cut) % (len(src) + 1)}
		want, wantErr := klauspostDecode(encDeflate, src)
		got, _, err := feedEager(encDeflate, 4096, src, splits)
		if !sameFailure(wantErr, err) {
			t.Fatalf("error: klauspost %v, eager %v", wantErr, err)
		}
		if wantErr == nil && !bytes.Equal(want, got) {
			t.Fatalf("output differs: %d vs %d bytes", len(want), len(got))
		}
		sameAsBitwalk(t, encDeflate, 4096, src, splits, "fast loop")
	})
}

// The differential check of FuzzEagerInflater on a few thousand mutated and
// random streams, every run.
func TestEagerInflaterRandomInputs(t *testing.T) {
	skipUnderRace(t)
	r := rand.New(rand.NewPCG(7, 8))
	text := sampleText(4000)
	streams := [][]byte{zlibAt(t, text, flate.BestSpeed), zlibAt(t, text, flate.BestCompression), zlibAt(t, text, flate.HuffmanOnly)}
	for i := range 3000 {
		var src []byte
		if i%4 == 3 {
			src = make([]byte, 2+r.IntN(300))
			src[0], src[1] = 0x78, 0x9c
			for j := 2; j < len(src); j++ {
				src[j] = byte(r.Uint32())
			}
		} else {
			src = bytes.Clone(streams[i%3])
			for range 1 + r.IntN(4) {
				src[2+r.IntN(len(src)-2)] ^= byte(1 << r.IntN(8))
			}
			if r.IntN(3) == 0 {
				src = src[:2+r.IntN(len(src)-2)]
			}
		}
		splits := []int{r.IntN(len(src) + 1)}
		want, wantErr := klauspostDecode(encDeflate, src)
		got, _, err := feedEager(encDeflate, 4096, src, splits)
		require.True(t, sameFailure(wantErr, err), "input %d: %x cut %d: klauspost %v, eager %v", i, src, splits[0], wantErr, err)
		if wantErr == nil {
			require.True(t, bytes.Equal(want, got), "input %d: output differs", i)
		}
		sameAsBitwalk(t, encDeflate, 4096, src, splits, fmt.Sprintf("input %d, fast loop", i))
	}
}

// godotPiece is the output of one put_partial_data call of Godot's
// StreamPeerGZIP with a ring buffer of ring bytes and an inflate buffer of
// buf bytes when the input lasts: inflate calls of min(buf, free) bytes while
// more than 1024 are free (worked from stream_peer_gzip.cpp).
func godotPiece(ring, buf int) int {
	free := ring - 1
	if buf >= free {
		return free
	}
	k := (free - 1024 + buf - 1) / buf // calls until no more than 1024 are free
	return min(k*buf, free)
}

// §2.8.2.1: the pieces the eager decode hands to the sink are Godot's.
func TestGodotPiece(t *testing.T) {
	for _, c := range []struct{ ring, buf, want int }{
		{65536, 150, 64650},   // 431 calls of 150: 1035 free after 430 > 1024
		{65536, 40000, 65535}, // 40000, then the 25535 free
		{65536, 65536, 65535}, // one call fills the ring
		{65536, 1, 64511},     // down to exactly 1024 free
		{65536, 64511, 64511}, // one call leaves 1024 free
		{2048, 100, 1100},     // 2047 free: 11 calls leave 947
	} {
		assert.Equal(t, c.want, godotPiece(c.ring, c.buf), "ring %d, buffer %d", c.ring, c.buf)
	}
	for _, loop := range []bool{false, true} { // the fast loop on and off
		for _, n := range []int{120000, 1 << 20} {
			gz := gzipBytes(t, []byte(strings.Repeat("a", n)))
			var pieces []int
			d := newDecoder(encGzip, 65536, func(p []byte) error { pieces = append(pieces, len(p)); return nil })
			eagerMode(true, loop, func() {
				require.NoError(t, d.write(gz))
				require.NoError(t, d.close())
			})
			want := godotPiece(65536, len(gz))
			for i, p := range pieces[:len(pieces)-1] {
				assert.Equal(t, want, p, "piece %d of %d bytes from one %d-byte chunk, fast loop %v", i, n, len(gz), loop)
			}
			assert.LessOrEqual(t, pieces[len(pieces)-1], want)
		}
		// Chunks of 2081 bytes, each decoding to far more than the ring:
		// 31 inflate calls of 2081 leave exactly 1024 free, and the piece
		// ends there (more than 1024 free goes on, 1024 does not).
		gz := gzipBytes(t, bytes.Repeat([]byte("a"), 16<<20))
		const buf = 2081
		want := godotPiece(65536, buf)
		require.Equal(t, 65536-1-1024, want)
		count := map[int]int{}
		d := newDecoder(encGzip, 65536, func(p []byte) error { count[len(p)]++; return nil })
		eagerMode(true, loop, func() {
			for i := 0; i < len(gz); i += buf {
				require.NoError(t, d.write(gz[i:min(i+buf, len(gz))]))
			}
			require.NoError(t, d.close())
		})
		most := 0
		for size, n := range count {
			assert.LessOrEqual(t, size, want, "a piece longer than Godot's, fast loop %v", loop)
			if n > count[most] {
				most = size
			}
		}
		assert.Equal(t, want, most, "the pieces of %d-byte chunks, fast loop %v", buf, loop)
	}
}

// §2.8.2.1: the output of every wire chunk is zlib's in Godot's loop —
// per inflate call at most min(buffer, free) bytes, and zlib reads on to the
// next output when its buffer is full. "ab"×100 (zlib, best compression:
// two literals and a 198-byte match) fed one byte per chunk: Godot's buffer
// is 1024 bytes from the start (StreamPeerGZIP::_start), so the whole match
// comes with the chunk that completes it (values from Python's zlib driven
// as stream_peer_gzip.cpp and http_request.cpp drive it; a buffer of the
// write's size, one byte, would give 3 there and 200 one chunk later).
func TestEagerOutputPerChunkAsGodot(t *testing.T) {
	zl, err := hex.DecodeString("78da4a4c1a1e103000e98f4c2d")
	require.NoError(t, err)
	var splits []int
	for k := 1; k < len(zl); k++ {
		splits = append(splits, k)
	}
	out, after, err := feedEager(encDeflate, 65536, zl, splits)
	require.NoError(t, err)
	require.Equal(t, strings.Repeat("ab", 100), string(out))
	assert.Equal(t, []int{0, 0, 0, 1, 2, 2, 200, 200, 200, 200, 200, 200, 200}, after)
}

// eagerMode runs fn with the table lookup (inflFast) and the fast loop
// (inflFastLoop) set as given.
func eagerMode(lookup, loop bool, fn func()) {
	defer func(a, b bool) { inflFast, inflFastLoop = a, b }(inflFast, inflFastLoop)
	inflFast, inflFastLoop = lookup, loop
	fn()
}

// sameAsBitwalk feeds src in the pieces splits gives, once bit by bit (no
// lookup, no fast loop) and once with both, and requires the same output
// after every write, the same output and the same error.
func sameAsBitwalk(t *testing.T, enc encoding, chunk int, src []byte, splits []int, msg string) []byte {
	t.Helper()
	var wantOut, gotOut []byte
	var wantAfter, gotAfter []int
	var wantErr, gotErr error
	eagerMode(false, false, func() { wantOut, wantAfter, wantErr = feedEager(enc, chunk, src, splits) })
	eagerMode(true, true, func() { gotOut, gotAfter, gotErr = feedEager(enc, chunk, src, splits) })
	require.Equal(t, fmt.Sprint(wantErr), fmt.Sprint(gotErr), "%s: error", msg)
	require.Equal(t, wantAfter, gotAfter, "%s: output after each write", msg)
	require.True(t, bytes.Equal(wantOut, gotOut), "%s: output", msg)
	return gotOut
}

// stepSplits cuts n bytes every step bytes.
func stepSplits(n, step int) []int {
	var s []int
	for at := step; at < n; at += step {
		s = append(s, at)
	}
	return s
}

// The table lookup (inflFast) and the fast loop (inflFastLoop) change
// nothing observable (§2.8.2.1): on valid, corrupted and cut gzip and zlib
// streams of every compression level, fed in writes of 1, 7, 100, 4096 and
// 65536 bytes and in random ones (1 byte to 2 KiB, some after a large
// first write, so that the fast loop runs on a nearly empty buffer), with
// ring buffers from 256 B to 64 KiB, the output after every write, the
// output and the failure are the bit-by-bit walk's — which matches zlib
// driven as Godot drives it (TestEagerOutputPerChunkAsGodot).
func TestEagerFastLookupSameAsBitwalk(t *testing.T) {
	skipUnderRace(t)
	r := rand.New(rand.NewPCG(9, 10))
	text := sampleText(40000)
	random := make([]byte, 3000)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	text = append(text[:20000], append(random, text[20000:]...)...)
	type stream struct {
		name string
		enc  encoding
		b    []byte
	}
	var streams []stream
	for level := flate.HuffmanOnly; level <= flate.BestCompression; level++ {
		if level == -1 {
			continue // DefaultCompression is level 6
		}
		streams = append(streams,
			stream{"gzip/" + strconv.Itoa(level), encGzip, gzipAt(t, text, level)},
			stream{"deflate/" + strconv.Itoa(level), encDeflate, zlibAt(t, text, level)})
	}
	for k, s := range streams {
		corrupt := bytes.Clone(s.b)
		corrupt[10+r.IntN(len(corrupt)-10)] ^= byte(1 << r.IntN(8))
		cut := s.b[:10+r.IntN(len(s.b)-10)]
		for _, v := range []stream{s, {s.name + "/corrupt", s.enc, corrupt}, {s.name + "/cut", s.enc, cut}} {
			for _, step := range []int{1, 7, 100, 4096, 65536} {
				if step == 1 && (k%4 != 0 || len(v.b) > 30000) {
					continue // a few byte-per-write runs suffice
				}
				chunk := 256 << r.IntN(9)
				sameAsBitwalk(t, v.enc, chunk, v.b, stepSplits(len(v.b), step), fmt.Sprintf("%s, writes of %d, ring %d", v.name, step, chunk))
			}
		}
	}
	for i := range 300 {
		s := streams[i%len(streams)]
		src := bytes.Clone(s.b)
		if i%3 == 1 {
			src[10+r.IntN(len(src)-10)] ^= byte(1 << r.IntN(8))
		}
		if i%5 == 2 {
			src = src[:10+r.IntN(len(src)-10)]
		}
		var splits []int
		at := 0
		if i%2 == 1 {
			at = 300 + r.IntN(4000) // a large first write: a large call cap after
			splits = append(splits, at)
		}
		for at < len(src) {
			at += 1 + r.IntN(1+[]int{1, 16, 2048}[i%3])
			splits = append(splits, at)
		}
		chunk := 256 << r.IntN(9)
		sameAsBitwalk(t, s.enc, chunk, src, splits, fmt.Sprintf("%s, random writes %d, ring %d", s.name, i, chunk))
	}
}

// deflateWriter writes deflate blocks of literals and matches with given
// code lengths, least significant bit first (RFC 1951).
type deflateWriter struct {
	buf  []byte
	acc  uint64
	nacc uint
}

func (w *deflateWriter) put(v uint64, n uint) {
	w.acc |= v << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

func (w *deflateWriter) flush() []byte {
	if w.nacc > 0 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc, w.nacc = 0, 0
	}
	return w.buf
}

// canonical returns the codes of a canonical Huffman code, bit-reversed
// for put.
func canonical(lengths []uint8) []uint64 {
	var count, next [16]int
	for _, l := range lengths {
		count[l]++
	}
	count[0] = 0
	code := 0
	for l := 1; l < 16; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	codes := make([]uint64, len(lengths))
	for s, l := range lengths {
		if l > 0 {
			codes[s] = uint64(bits.Reverse16(uint16(next[l])) >> (16 - l))
			next[l]++
		}
	}
	return codes
}

// deflateToken is a literal (length 0) or a match.
type deflateToken struct {
	lit          byte
	length, dist int
}

// block writes one block of toks and the end of block with the literal/
// length and distance code lengths given (nil: a fixed Huffman block).
func (w *deflateWriter) block(toks []deflateToken, lit, dist []uint8, final bool) {
	if final {
		w.put(1, 1)
	} else {
		w.put(0, 1)
	}
	if lit == nil {
		w.put(1, 2)
		fixed := fixedLitLengths()
		lit, dist = fixed[:], make([]uint8, 30)
		for i := range dist {
			dist[i] = 5
		}
	} else {
		w.put(2, 2)
		w.put(uint64(len(lit)-257), 5)
		w.put(uint64(len(dist)-1), 5)
		w.put(19-4, 4)
		// The code length code: lengths 0–15 in 4 bits each (their code
		// is their value), no repeat codes.
		for _, sym := range inflOrder {
			if sym < 16 {
				w.put(4, 3)
			} else {
				w.put(0, 3)
			}
		}
		for _, l := range append(append([]uint8{}, lit...), dist...) {
			w.put(uint64(bits.Reverse8(l)>>4), 4)
		}
	}
	lc, dc := canonical(lit), canonical(dist)
	for _, t := range toks {
		if t.length == 0 {
			w.put(lc[t.lit], uint(lit[t.lit]))
			continue
		}
		i := len(inflLenBase) - 1
		for t.length < inflLenBase[i] || (i == 27 && t.length == 258) {
			i--
		}
		w.put(lc[257+i], uint(lit[257+i]))
		w.put(uint64(t.length-inflLenBase[i]), inflLenExtra[i])
		j := len(inflDstBase) - 1
		for t.dist < inflDstBase[j] {
			j--
		}
		w.put(dc[j], uint(dist[j]))
		w.put(uint64(t.dist-inflDstBase[j]), inflDstExtra[j])
	}
	w.put(lc[256], uint(lit[256]))
}

// expand returns the output of toks after out.
func expand(out []byte, toks []deflateToken) []byte {
	for _, t := range toks {
		if t.length == 0 {
			out = append(out, t.lit)
			continue
		}
		for range t.length {
			out = append(out, out[len(out)-t.dist])
		}
	}
	return out
}

// zlibWrap wraps raw deflate data whose output is out as a zlib stream.
func zlibWrap(raw, out []byte) []byte {
	src := append([]byte{0x78, 0x01}, raw...)
	return binary.BigEndian.AppendUint32(src, adler32.Checksum(out))
}

// Hand-made streams for the fast loop's corners (§2.8.2.1): long matches
// at distances 1, 2, 3, 7, 8, 9 and 32768, overlapping and reaching back
// past the start of a fast run into the window, in a fixed Huffman block
// after 33000 random literals; and dynamic blocks whose codes are long —
// 256 literal/length codes of 15 bits (end of block and every length among
// them), distance codes of 14 and 15 bits — so that decoding goes through
// the sub-tables. Fed in writes of several sizes, they decode to the
// expected bytes, with the same output after every write as the bit walk.
func TestEagerFastLoopCorners(t *testing.T) {
	skipUnderRace(t)
	r := rand.New(rand.NewPCG(13, 14))
	var fixed []deflateToken
	for range 33000 {
		fixed = append(fixed, deflateToken{lit: byte(r.Uint32())})
	}
	for _, dist := range []int{32768, 1, 2, 3, 7, 8, 9, 32768} {
		for _, length := range []int{258, 3, 4, 10, 100, 257, 258} {
			fixed = append(fixed, deflateToken{length: length, dist: dist})
			for range r.IntN(3) {
				fixed = append(fixed, deflateToken{lit: byte(r.Uint32())})
			}
		}
	}
	var w deflateWriter
	w.block(fixed, nil, nil, true)
	fixedSrc := zlibWrap(w.flush(), expand(nil, fixed))
	fixedOut := expand(nil, fixed)

	// Literal/length: seven literals of lengths 1..7, then 256 codes of
	// 15 bits (the rest of the code space): end of block, the 29 length
	// codes and 226 literals; 23 literals have no code.
	lit := make([]uint8, 286)
	perm := r.Perm(256)
	for i, b := range perm[:7] {
		lit[b] = uint8(i + 1)
	}
	var long []byte
	for _, b := range perm[7:233] {
		lit[b] = 15
		long = append(long, byte(b))
	}
	for s := 256; s < 286; s++ {
		lit[s] = 15
	}
	// Distance: lengths 1..10, twelve 14s and eight 15s, shuffled.
	dist := make([]uint8, 30)
	dl := []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for range 12 {
		dl = append(dl, 14)
	}
	for range 8 {
		dl = append(dl, 15)
	}
	for i, j := range r.Perm(30) {
		dist[i] = dl[j]
	}
	w = deflateWriter{}
	var out []byte
	for blk := range 3 {
		var toks []deflateToken
		have := len(out)
		for range 20000 {
			switch k := r.IntN(10); {
			case k < 3:
				toks = append(toks, deflateToken{lit: byte(perm[r.IntN(7)])})
				have++
			case k < 7 || have < 300:
				toks = append(toks, deflateToken{lit: long[r.IntN(len(long))]})
				have++
			default:
				toks = append(toks, deflateToken{length: 3 + r.IntN(256), dist: 1 + r.IntN(min(have, 32768))})
				have += toks[len(toks)-1].length
			}
		}
		w.block(toks, lit, dist, blk == 2)
		out = expand(out, toks)
	}
	longSrc := zlibWrap(w.flush(), out)

	for _, c := range []struct {
		name string
		src  []byte
		want []byte
	}{{"fixed", fixedSrc, fixedOut}, {"long codes", longSrc, out}} {
		ref, err := klauspostDecode(encDeflate, c.src)
		require.NoError(t, err, "%s: klauspost", c.name)
		require.True(t, bytes.Equal(c.want, ref), "%s: klauspost's output", c.name)
		for _, step := range []int{7, 100, 4096, 65536, len(c.src)} {
			for _, chunk := range []int{1024, 65536} {
				got := sameAsBitwalk(t, encDeflate, chunk, c.src, stepSplits(len(c.src), step), fmt.Sprintf("%s, writes of %d, ring %d", c.name, step, chunk))
				require.True(t, bytes.Equal(c.want, got), "%s, writes of %d: output", c.name, step)
			}
		}
		for i := range 20 {
			bad := bytes.Clone(c.src)
			bad[2+r.IntN(len(bad)-6)] ^= byte(1 << r.IntN(8))
			sameAsBitwalk(t, encDeflate, 65536, bad, stepSplits(len(bad), 4096), fmt.Sprintf("%s, corrupt %d", c.name, i))
		}
	}
}

// Matches that reach back into a stored block: the stored bytes go into
// the window as well as to the output. A hand-made raw deflate stream — a
// stored block of 2000 random bytes, then a fixed-Huffman block with one
// match of 258 bytes at distance 2000 — in a zlib wrapper, fed in chunks of
// every size from 1 byte.
func TestEagerMatchIntoStoredBlock(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	stored := make([]byte, 2000)
	for i := range stored {
		stored[i] = byte(r.Uint32())
	}
	want := append(bytes.Clone(stored), stored[:258]...)

	raw := []byte{0x00, 0xd0, 0x07, 0x2f, 0xf8} // BFINAL 0, BTYPE 00; LEN 2000, NLEN
	raw = append(raw, stored...)
	var bw struct {
		buf  []byte
		acc  uint32
		nacc uint
	}
	put := func(v uint32, n uint) { // least significant bit first
		bw.acc |= v << bw.nacc
		bw.nacc += n
		for bw.nacc >= 8 {
			bw.buf = append(bw.buf, byte(bw.acc))
			bw.acc >>= 8
			bw.nacc -= 8
		}
	}
	// Huffman codes go most significant bit first.
	code := func(c uint32, n uint) { put(uint32(bits.Reverse16(uint16(c))>>(16-n)), n) }
	put(1, 1)               // BFINAL
	put(1, 2)               // BTYPE 01: fixed Huffman
	code(0xc0+(285-280), 8) // length 258
	code(21, 5)             // distance code 21: 1537 + 9 extra bits…
	put(2000-1537, 9)       // …for distance 2000
	code(0, 7)              // end of block
	if bw.nacc > 0 {
		bw.buf = append(bw.buf, byte(bw.acc))
	}
	raw = append(raw, bw.buf...)
	src := append([]byte{0x78, 0x01}, raw...)
	src = binary.BigEndian.AppendUint32(src, adler32.Checksum(want))

	for _, step := range []int{1, 7, 300, len(src)} {
		var splits []int
		for at := step; at < len(src); at += step {
			splits = append(splits, at)
		}
		out, _, err := feedEager(encDeflate, 65536, src, splits)
		require.NoError(t, err, "chunks of %d", step)
		require.True(t, bytes.Equal(want, out), "chunks of %d: output differs", step)
		sameAsBitwalk(t, encDeflate, 65536, src, splits, fmt.Sprintf("chunks of %d, fast loop", step))
	}
	klauspost, err := klauspostDecode(encDeflate, src)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, klauspost), "the stream is valid deflate")
}

// The fast loop's tables decode every 15-bit input as the canonical code
// does, bit by bit (§2.8.2.1): the same symbol and code length, and no
// code (or a symbol zlib refuses) where the walk finds none — for the
// fixed codes, a single 1-bit code (the incomplete code zlib accepts) and
// random complete codes of up to 15 bits. A missing entry would only slow
// the loop down (it leaves such a symbol to the walk), so the per-write
// comparisons cannot see it; this does.
func TestFastTableMatchesCanonical(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	walk := func(h *huffman, v int) (sym, length int, ok bool) {
		code, first, index := 0, 0, 0
		for l := 1; l <= inflMaxLen; l++ {
			code |= v >> (l - 1) & 1
			count := int(h.count[l])
			if code-count < first {
				return int(h.symbol[index+(code-first)]), l, true
			}
			index += count
			first += count
			first <<= 1
			code <<= 1
		}
		return 0, 0, false
	}
	// randomCode splits leaves of a complete code until it has n codes.
	randomCode := func(n, symbols int) []uint8 {
		leaves := []uint8{0}
		for len(leaves) < n {
			i := r.IntN(len(leaves))
			if leaves[i] == inflMaxLen {
				continue
			}
			leaves[i]++
			leaves = append(leaves, leaves[i])
		}
		lengths := make([]uint8, symbols)
		for i, s := range r.Perm(symbols)[:n] {
			lengths[s] = leaves[i]
		}
		return lengths
	}
	var fixedL [288]uint8
	for i := range fixedL {
		fixedL[i] = []uint8{8, 9, 7, 8}[min(i/144, 1)+min(i/256, 1)+min(i/280, 1)]
	}
	var fixedD [32]uint8
	for i := range fixedD {
		fixedD[i] = 5
	}
	type code struct {
		name    string
		lengths []uint8
		lit     bool
	}
	codes := []code{{"fixed literal/length", fixedL[:], true}, {"fixed distance", fixedD[:], false}}
	one := make([]uint8, 30)
	one[7] = 1
	codes = append(codes, code{"one distance code", one, false})
	for i := range 40 {
		codes = append(codes, code{fmt.Sprintf("literal/length %d", i), randomCode(2+r.IntN(285), 286), true},
			code{fmt.Sprintf("distance %d", i), randomCode(2+r.IntN(29), 30), false})
	}
	for _, c := range codes {
		var h huffman
		require.True(t, h.build(c.lengths, true), c.name)
		var ft fastTable
		ft.build(c.lengths, c.lit)
		for v := range 1 << inflMaxLen {
			e := ft.root[v&(1<<inflRootBits-1)]
			if e&fastKind == fastLink {
				e = ft.sub[int(e>>16)+v>>inflRootBits&(1<<(e>>4&15)-1)]
			}
			want := uint32(fastBad)
			if sym, l, ok := walk(&h, v); ok {
				want = fastEntry(sym, l, c.lit)
			}
			if want != e {
				require.Equal(t, want, e, "%s: input bits %015b", c.name, v)
			}
		}
	}
}

// §2.8.2.1, §2.9 through the node (Process driver, every byte arrived
// before the first body step): "ab"×100 as zlib, one byte per chunk, with
// body_size_limit 100. Godot's 1024-byte inflate buffer gives the whole
// 198-byte match with the 7th chunk, so the limit trips at the 7th body
// step with get_downloaded_bytes() 7, and in place download_file keeps the
// "ab" written before it (a buffer of the write's size would trip a step
// later, with "aba" written).
func TestDeflateLimitTripsOnGodotsChunk(t *testing.T) {
	zl, err := hex.DecodeString("78da4a4c1a1e103000e98f4c2d")
	require.NoError(t, err)
	var resp strings.Builder
	resp.WriteString("HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n")
	for _, b := range zl {
		resp.WriteString("1\r\n" + string([]byte{b}) + "\r\n")
	}
	resp.WriteString("0\r\n\r\n")
	for _, inPlace := range []bool{false, true} {
		t.Run(fmt.Sprint("in place ", inPlace), func(t *testing.T) {
			srv := serve(t, testserver.Respond(resp.String()))
			n := newNode(t)
			require.NoError(t, n.SetBodySizeLimit(100))
			path := filepath.Join(t.TempDir(), "out")
			if inPlace {
				require.NoError(t, n.SetDownloadInPlace(true))
				require.NoError(t, n.SetDownloadFile(path))
			}
			var got *Completion
			n.OnRequestCompleted(func(r Result, code int, h []string, b []byte) { got = &Completion{r, code, h, b} })
			require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
			processUntil(t, n, httpclient.StatusBody)
			time.Sleep(80 * time.Millisecond) // the whole response has arrived
			steps := 0
			for ; got == nil && steps < 100; steps++ {
				n.Process()
			}
			require.NotNil(t, got)
			assert.Equal(t, ResultBodySizeLimitExceeded, got.Result)
			assert.Equal(t, 7, steps, "body steps")
			assert.Equal(t, int64(7), n.DownloadedBytes())
			if inPlace {
				b, err := os.ReadFile(path)
				require.NoError(t, err)
				assert.Equal(t, "ab", string(b))
			}
		})
	}
}
