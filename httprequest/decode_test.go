package httprequest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/wire"
)

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

func zlibBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	_, err := w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

func rawDeflateBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.DefaultCompression)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

func brotliBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := brotli.NewWriter(&b)
	_, err := w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

// sampleText is compressible but not trivial, and long enough to span several
// deflate blocks and several output pieces.
func sampleText(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"godot ", "http ", "request ", "chunk ", "body ", "gzip ", "frame ", "node "}
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		if r.IntN(50) == 0 {
			fmt.Fprintf(&b, "%d\n", r.Uint64())
		}
	}
	return b.Bytes()[:n]
}

// fed is what feedDecoder saw: the output, the pieces the sink got, and
// the total output after each write.
type fed struct {
	out              []byte
	pieces, maxPiece int
	after            []int
}

// feedDecoder pushes src through a decoder in the pieces given by splits
// (offsets) and returns what came out and the first error.
func feedDecoder(enc encoding, chunkSize int, src []byte, splits []int) (f fed, err error) {
	d := newDecoder(enc, chunkSize, func(p []byte) error {
		f.out = append(f.out, p...)
		f.pieces++
		f.maxPiece = max(f.maxPiece, len(p))
		return nil
	})
	defer d.release()
	prev := 0
	for _, s := range append(splits, len(src)) {
		if s < prev || s > len(src) {
			continue
		}
		if err = d.write(src[prev:s]); err != nil {
			return f, err
		}
		f.after = append(f.after, len(f.out))
		prev = s
	}
	return f, d.close()
}

// feed is feedDecoder with the output, the number of pieces and the
// largest.
func feed(enc encoding, chunkSize int, src []byte, splits []int) (out []byte, pieces int, maxPiece int, err error) {
	f, err := feedDecoder(enc, chunkSize, src, splits)
	return f.out, f.pieces, f.maxPiece, err
}

// splitPlans returns ways to cut n bytes: whole, every byte, random cuts.
func splitPlans(n int) map[string][]int {
	plans := map[string][]int{"whole": nil}
	every := make([]int, 0, n)
	for i := 1; i < n; i++ {
		every = append(every, i)
	}
	plans["one byte per write"] = every
	r := rand.New(rand.NewPCG(3, 4))
	var cuts []int
	for i := r.IntN(97) + 1; i < n; i += r.IntN(4000) + 1 {
		cuts = append(cuts, i)
	}
	plans["random cuts"] = cuts
	plans["halves"] = []int{n / 2}
	return plans
}

// §2.8.2: gzip and zlib-wrapped deflate decode as the body streams in, in any
// chunking; brotli likewise (opt-in, §7.2).
func TestDecoderValidStreams(t *testing.T) {
	text := sampleText(300 << 10)
	cases := []struct {
		name string
		enc  encoding
		src  []byte
	}{
		{"gzip", encGzip, gzipBytes(t, text)},
		{"deflate (zlib)", encDeflate, zlibBytes(t, text)},
		{"br", encBrotli, brotliBytes(t, text)},
	}
	for _, c := range cases {
		for plan, splits := range splitPlans(len(c.src)) {
			t.Run(c.name+"/"+plan, func(t *testing.T) {
				out, _, maxPiece, err := feed(c.enc, 65536, c.src, splits)
				require.NoError(t, err)
				assert.True(t, bytes.Equal(text, out), "output differs (%d vs %d bytes)", len(out), len(text))
				assert.LessOrEqual(t, maxPiece, 65536)
			})
		}
	}
}

// §2.8.2.1: the output pieces are sized by download_chunk_size rounded up to a
// power of two (Godot's ring buffer).
func TestDecoderPieceSize(t *testing.T) {
	for _, c := range []struct{ chunk, piece int }{
		{256, 256}, {257, 512}, {1000, 1024}, {4096, 4096}, {65536, 65536}, {65537, 131072},
		{1 << 24, 1 << 24}, {0, 256}, {1<<24 + 1, 1 << 24},
	} {
		assert.Equal(t, c.piece, decodePieceSize(c.chunk), "chunk %d", c.chunk)
	}
	text := sampleText(100 << 10)
	out, pieces, maxPiece, err := feed(encGzip, 1000, gzipBytes(t, text), nil)
	require.NoError(t, err)
	assert.Equal(t, text, out)
	assert.Equal(t, 1024, maxPiece)
	assert.GreaterOrEqual(t, pieces, len(text)/1024)
}

// §7 D1 (concatenated members decode; trailing garbage → R8 instead of
// Godot's hang, §2.8.2.5), §7 D3 (truncation → R8 instead of silent success,
// §2.8.2.4), §2.8.2.2 (corrupt data, bad checksum → R8), §2.8.2.1 and §5
// (raw deflate is not zlib → R8).
func TestDecoderMatrix(t *testing.T) {
	text := sampleText(70 << 10)
	gz := gzipBytes(t, text)
	gz2 := gzipBytes(t, []byte("second member"))
	zl := zlibBytes(t, text)
	br := brotliBytes(t, text)
	corruptData := bytes.Clone(gz)
	corruptData[len(corruptData)/2] ^= 0x55
	badCRC := bytes.Clone(gz)
	badCRC[len(badCRC)-6] ^= 1
	badSize := bytes.Clone(gz)
	badSize[len(badSize)-2] ^= 1
	zlBadSum := bytes.Clone(zl)
	zlBadSum[len(zlBadSum)-1] ^= 1

	isDecodeErr := func(want error) func(t *testing.T, err error) {
		return func(t *testing.T, err error) {
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			if want != nil {
				assert.ErrorIs(t, err, want)
			}
		}
	}
	isCorrupt := func(t *testing.T, err error) {
		var de *DecodeError
		require.ErrorAs(t, err, &de)
		var ce flate.CorruptInputError
		if !errors.As(err, &ce) && !errors.Is(err, gzip.ErrChecksum) {
			t.Errorf("want a flate.CorruptInputError or gzip.ErrChecksum, got %v", err)
		}
	}
	cases := []struct {
		name  string
		enc   encoding
		src   []byte
		want  []byte // on success
		check func(t *testing.T, err error)
	}{
		{"gzip valid", encGzip, gz, text, nil},
		{"gzip concatenated members (§7 D1)", encGzip, append(bytes.Clone(gz), gz2...), append(bytes.Clone(text), "second member"...), nil},
		{"gzip trailing garbage (§7 D1)", encGzip, append(bytes.Clone(gz), "garbage after the member"...), nil, isDecodeErr(gzip.ErrHeader)},
		{"gzip short trailing garbage (§7 D1)", encGzip, append(bytes.Clone(gz), 0x1f, 0x8b), nil, isDecodeErr(io.ErrUnexpectedEOF)},
		{"gzip trailing zero bytes (§7 D1)", encGzip, append(bytes.Clone(gz), make([]byte, 16)...), nil, isDecodeErr(gzip.ErrHeader)},
		{"gzip truncated in the data (§7 D3)", encGzip, gz[:len(gz)/2], nil, isDecodeErr(io.ErrUnexpectedEOF)},
		{"gzip truncated in the trailer (§7 D3)", encGzip, gz[:len(gz)-3], nil, isDecodeErr(io.ErrUnexpectedEOF)},
		{"gzip truncated in the header (§7 D3)", encGzip, gz[:5], nil, isDecodeErr(io.ErrUnexpectedEOF)},
		{"gzip corrupt data (§2.8.2.2)", encGzip, corruptData, nil, isCorrupt},
		{"gzip bad CRC (§2.8.2.2)", encGzip, badCRC, nil, isDecodeErr(gzip.ErrChecksum)},
		{"gzip bad size (§2.8.2.2)", encGzip, badSize, nil, isDecodeErr(gzip.ErrChecksum)},
		{"gzip given zlib (§2.8.2.1: no auto-detect)", encGzip, zl, nil, isDecodeErr(gzip.ErrHeader)},
		{"not compressed at all", encGzip, []byte("plain text body"), nil, isDecodeErr(gzip.ErrHeader)},
		{"deflate valid", encDeflate, zl, text, nil},
		{"deflate is raw deflate (§2.8.2.1, §5)", encDeflate, rawDeflateBytes(t, text), nil, isDecodeErr(nil)},
		{"deflate given gzip (§2.8.2.1)", encDeflate, gz, nil, isDecodeErr(zlib.ErrHeader)},
		{"deflate trailing garbage (§7 D1)", encDeflate, append(bytes.Clone(zl), 'x'), nil, isDecodeErr(ErrTrailingData)},
		{"deflate second stream (§7 D1)", encDeflate, append(bytes.Clone(zl), zl...), nil, isDecodeErr(ErrTrailingData)},
		{"deflate truncated (§7 D3)", encDeflate, zl[:len(zl)-2], nil, isDecodeErr(io.ErrUnexpectedEOF)},
		{"deflate bad checksum (§2.8.2.2)", encDeflate, zlBadSum, nil, isDecodeErr(zlib.ErrChecksum)},
		{"br valid", encBrotli, br, text, nil},
		{"br trailing garbage (§7 D1)", encBrotli, append(bytes.Clone(br), "junk"...), nil, isDecodeErr(ErrTrailingData)},
		{"br truncated (§7 D3)", encBrotli, br[:len(br)/2], nil, isDecodeErr(io.ErrUnexpectedEOF)},
		{"empty body: nothing to decode (§2.8.2)", encGzip, nil, []byte{}, nil},
	}
	for _, c := range cases {
		plans := splitPlans(len(c.src))
		if len(c.src) > 20000 {
			delete(plans, "one byte per write")
		}
		for plan, splits := range plans {
			t.Run(c.name+"/"+plan, func(t *testing.T) {
				out, _, _, err := feed(c.enc, 4096, c.src, splits)
				if c.check == nil {
					require.NoError(t, err)
					assert.Equal(t, len(c.want), len(out))
					assert.True(t, bytes.Equal(c.want, out))
					return
				}
				require.Error(t, err)
				c.check(t, err)
				var de *DecodeError
				if errors.As(err, &de) {
					assert.Equal(t, c.enc.String(), de.Encoding)
					assert.LessOrEqual(t, de.Offset, int64(len(c.src)))
					assert.Contains(t, de.Error(), c.enc.String()+" body: ")
				}
			})
		}
	}
}

// A sink error (the size limit, a write error) stops decoding at once, is
// returned unchanged, and releases the coroutine (goleak checks TestMain).
func TestDecoderSinkErrorStops(t *testing.T) {
	stopErr := errors.New("sink says stop")
	text := sampleText(1 << 20)
	for _, enc := range []encoding{encGzip, encDeflate, encBrotli} {
		t.Run(enc.String(), func(t *testing.T) {
			var src []byte
			switch enc {
			case encGzip:
				src = gzipBytes(t, text)
			case encDeflate:
				src = zlibBytes(t, text)
			default:
				src = brotliBytes(t, text)
			}
			calls := 0
			d := newDecoder(enc, 4096, func(p []byte) error {
				calls++
				if calls == 3 {
					return stopErr
				}
				return nil
			})
			err := d.write(src)
			require.ErrorIs(t, err, stopErr)
			assert.Equal(t, 3, calls)
			piece := 4096
			if enc != encBrotli {
				piece = godotPiece(4096, len(src)) // 4095: Godot's ring keeps a byte free (§2.8.2.1)
			}
			assert.Equal(t, int64(3*piece), d.Output())
			assert.ErrorIs(t, d.write([]byte("more")), stopErr, "sticky")
			assert.ErrorIs(t, d.close(), stopErr)
			d.release()
			d.release()
		})
	}
}

// Releasing a decoder at any moment (cancel, timeout) stops its coroutine.
func TestDecoderReleaseMidStream(t *testing.T) {
	src := gzipBytes(t, sampleText(200<<10))
	d := newDecoder(encGzip, 65536, func([]byte) error { return nil })
	require.NoError(t, d.write(src[:len(src)/3]))
	assert.Equal(t, int64(len(src)/3), d.Consumed())
	d.release()
	assert.ErrorIs(t, d.write(src[len(src)/3:]), errDecoderClosed)
	// A never-started decoder releases too.
	newDecoder(encDeflate, 256, nil).release()
}

// §2.8.2.3 and §7 D1: a decompression bomb — 1 GiB of zeros gzip-compressed to
// about 1 MiB — fed chunk by chunk against a size limit checked in the sink:
// decoding stops just past the limit and memory stays bounded. The bomb is
// compressed on the fly by a goroutine, so only what the decoder consumes is
// ever produced.
func TestDecoderBombBounded(t *testing.T) {
	const limit = 8 << 20
	bomb, wait := streamBomb(1 << 30)
	defer wait()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var got int64
	limitErr := errors.New("limit")
	d := newDecoder(encGzip, 65536, func(p []byte) error {
		if got+int64(len(p)) > limit {
			return limitErr
		}
		got += int64(len(p)) // a real sink would keep them; counting keeps the test about the decoder
		return nil
	})
	defer d.release()
	buf := make([]byte, 64<<10)
	var err error
	for err == nil {
		var n int
		n, err = bomb.Read(buf)
		if n > 0 {
			if werr := d.write(buf[:n]); werr != nil {
				err = werr
			}
		}
	}
	require.ErrorIs(t, err, limitErr)
	bomb.Close()
	runtime.ReadMemStats(&after)
	assert.LessOrEqual(t, got, int64(limit))
	assert.Less(t, d.Consumed(), int64(64<<10), "stopped within the first compressed kilobytes")
	assert.Less(t, int64(after.HeapInuse)-int64(before.HeapInuse), int64(16<<20))
}

// streamBomb returns a reader of n zero bytes gzip-compressed on the fly.
func streamBomb(n int64) (*io.PipeReader, func()) {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
		zero := make([]byte, 1<<20)
		var err error
		for written := int64(0); written < n && err == nil; written += int64(len(zero)) {
			_, err = zw.Write(zero[:min(int64(len(zero)), n-written)])
		}
		if err == nil {
			err = zw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, func() { pr.Close(); <-done }
}

// Tiny reads (a trickling server) must not make a valid brotli stream look
// like one with trailing data: andybalholm/brotli v1.3.0 does that for runs of
// 1–3 byte reads unless the decoder holds back the tail (decoder.Read). These
// seeds failed without the hold-back.
func TestDecoderBrotliTinyWrites(t *testing.T) {
	text := sampleText(300 << 10)
	src := brotliBytes(t, text)
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 9))
		var splits []int
		for at := 1 + r.IntN(3); at < len(src); at += 1 + r.IntN(3) {
			splits = append(splits, at)
		}
		out, _, _, err := feed(encBrotli, 65536, src, splits)
		require.NoError(t, err, "seed %d", seed)
		require.True(t, bytes.Equal(text, out), "seed %d", seed)
	}
	// Trailing data is still caught when it arrives in tiny writes.
	bad := append(bytes.Clone(src), "xy"...)
	every := make([]int, 0, 64)
	for i := len(bad) - 64; i < len(bad); i++ {
		every = append(every, i)
	}
	_, _, _, err := feed(encBrotli, 65536, bad, every)
	assert.ErrorIs(t, err, ErrTrailingData)
}

// TestDecoderPoolReuse: the pooled buffers and decompressors (decBufs) carry
// nothing from one body to the next — after a good stream, a corrupt one, a
// stream cut short and a decoder released mid-stream, of every encoding in
// turn, each stream still decodes to its own bytes (§2.8.2).
func TestDecoderPoolReuse(t *testing.T) {
	data := sampleText(100 << 10)
	other := sampleText(3 << 10)
	streams := map[encoding][2][]byte{
		encGzip:    {gzipBytes(t, data), gzipBytes(t, other)},
		encDeflate: {zlibBytes(t, data), zlibBytes(t, other)},
		encBrotli:  {brotliBytes(t, data), brotliBytes(t, other)},
	}
	for round := range 3 {
		for _, enc := range []encoding{encGzip, encDeflate, encBrotli, encGzip} {
			s := streams[enc]
			out, _, _, err := feed(enc, 4096, s[0], []int{100, 7000})
			require.NoError(t, err, "%v round %d", enc, round)
			require.Equal(t, data, out, "%v round %d", enc, round)

			bad := append([]byte(nil), s[1]...)
			bad[len(bad)/2] ^= 0x55
			_, _, _, err = feed(enc, 4096, bad, nil)
			assert.Error(t, err, "%v corrupt", enc)
			_, _, _, err = feed(enc, 65536, s[0][:len(s[0])/2], nil)
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "%v cut short", enc)

			d := newDecoder(enc, 256, func([]byte) error { return nil })
			require.NoError(t, d.write(s[0][:len(s[0])/3]))
			d.release()

			out, _, _, err = feed(enc, 256, s[1], nil)
			require.NoError(t, err, "%v after release", enc)
			require.Equal(t, other, out, "%v after release", enc)
		}
	}
}

// §7 D1, §2.8.2.3: a gzip member's output reaches the sink in the write
// that completes the member, before the next member's header is read —
// whatever that header turns out to be (cut short, garbage) and however the
// input is split. Before, the output waited for the header, so a write
// ending inside it held a whole member back, and an end of stream there
// took it with the header's error: R8 where a split one byte earlier gave
// R7 (the node's drivers disagreed; found by FuzzDecompress). A header is
// checked as zlib checks it, as its bytes come (gunzip.header).
func TestDecoderMemberOutputBeforeNextHeader(t *testing.T) {
	text := sampleText(3000)
	gz := gzipBytes(t, text)
	for _, tail := range []string{"\x1f", "\x1f\x8b\x08", "junk"} {
		src := append(bytes.Clone(gz), tail...)
		for cut := len(gz); cut <= len(src); cut++ {
			total := 0
			d := newDecoder(encGzip, 65536, func(p []byte) error { total += len(p); return nil })
			err := d.write(src[:cut])
			if tail == "junk" && cut >= len(gz)+2 {
				// zlib refuses a wrong magic at its 2nd byte (§2.8.2.2):
				// after the member's output.
				require.ErrorIs(t, err, gzip.ErrHeader, "tail %q, cut %d", tail, cut)
			} else {
				require.NoError(t, err, "tail %q, cut %d", tail, cut)
			}
			assert.Equal(t, len(text), total, "tail %q, write of %d bytes", tail, cut)
			if cut < len(src) {
				_ = d.write(src[cut:])
			}
			assert.Error(t, d.close(), "tail %q: the stream does not end cleanly", tail)
			assert.Equal(t, len(text), total)

			limited := newDecoder(encGzip, 65536, func(p []byte) error {
				return &wire.LimitError{Limit: 1000}
			})
			assert.ErrorAs(t, limited.write(src[:cut]), new(*wire.LimitError), "tail %q, cut %d: the limit (R7) comes first", tail, cut)
			limited.release()
		}
	}
}
