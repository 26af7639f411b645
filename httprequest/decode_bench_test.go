package httprequest

import (
	"bytes"
	stdgzip "compress/gzip"
	"io"
	"testing"
)

// BenchmarkDecodeGzip measures the streaming decoder fed 64 KiB chunks (as the
// body arrives) against its twin, compress/gzip reading the same bytes from
// memory. Target (brief H7): overhead ≤ 10 %.
func BenchmarkDecodeGzip(b *testing.B) {
	text := sampleText(16 << 20)
	gz := gzipBytes(b, text)
	// eager: the inflater used when body_size_limit is set or the file is
	// written in place (inflate.go).
	for _, eager := range []bool{false, true} {
		name := "httprequest"
		if eager {
			name = "httprequest-eager"
		}
		b.Run(name, func(b *testing.B) { benchDecoder(b, text, gz, eager) })
	}
	b.Run("compress-gzip", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			zr, err := stdgzip.NewReader(bytes.NewReader(gz))
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, zr)
			if err != nil || n != int64(len(text)) {
				b.Fatal(err, n)
			}
		}
	})
}

func benchDecoder(b *testing.B, text, gz []byte, eager bool) {
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		var n int
		d := newDecoder(encGzip, 65536, func(p []byte) error { n += len(p); return nil })
		d.eager = eager
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
