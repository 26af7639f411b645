package httprequest

import (
	"bytes"
	stdgzip "compress/gzip"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// BenchmarkDecodeGzip measures the streaming decoder fed 64 KiB chunks (as the
// body arrives) against klauspost's gzip reader and compress/gzip reading the
// same bytes from memory. Targets: overhead ≤ 10 % over compress/gzip (brief
// H7); faster than klauspost's (the eager inflater's fast loop).
func BenchmarkDecodeGzip(b *testing.B) {
	text := sampleText(16 << 20)
	gz := gzipBytes(b, text)
	b.Run("httprequest", func(b *testing.B) { benchDecoder(b, text, gz) })
	b.Run("klauspost-flate", func(b *testing.B) {
		benchReader(b, text, func() (io.Reader, error) { return gzip.NewReader(bytes.NewReader(gz)) })
	})
	b.Run("compress-gzip", func(b *testing.B) {
		benchReader(b, text, func() (io.Reader, error) { return stdgzip.NewReader(bytes.NewReader(gz)) })
	})
}

func benchReader(b *testing.B, text []byte, open func() (io.Reader, error)) {
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		zr, err := open()
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, zr)
		if err != nil || n != int64(len(text)) {
			b.Fatal(err, n)
		}
	}
}

func benchDecoder(b *testing.B, text, gz []byte) {
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		var n int
		d := newDecoder(encGzip, 65536, func(p []byte) error { n += len(p); return nil })
		for off := 0; off < len(gz); off += 65536 {
			if err := d.write(gz[off:min(off+65536, len(gz))]); err != nil {
				b.Fatal(err)
			}
		}
		if err := d.close(); err != nil || n != len(text) {
			b.Fatal(err, n)
		}
	}
}
