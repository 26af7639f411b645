package chunked

import (
	"bytes"
	"io"
	"net/http/httputil"
	"sync"
	"testing"
)

// benchBody is a pre-built chunked body of about 4 MiB of data.
type benchBody struct {
	name string
	body []byte
}

var benchBodies = sync.OnceValue(func() []benchBody {
	data := make([]byte, 4<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	build := func(sz int) []byte {
		var b []byte
		for i := 0; i < len(data); i += sz {
			b = AppendChunk(b, data[i:min(i+sz, len(data))])
		}
		return AppendLastChunk(b)
	}
	return []benchBody{{"16KiB", build(16 << 10)}, {"100B", build(100)}}
})

// benchBuf is the caller's reused read buffer, the same for every contender.
const benchBuf = 32 << 10

// BenchmarkDecode: the sans-I/O Decoder over the whole body in memory,
// against net/http's chunked reader over a bytes.Reader.
func BenchmarkDecode(b *testing.B) {
	for _, bb := range benchBodies() {
		b.Run(bb.name+"/gdhttp", func(b *testing.B) {
			dst := make([]byte, benchBuf)
			var d Decoder
			b.SetBytes(int64(len(bb.body)))
			b.ReportAllocs()
			for b.Loop() {
				d.Reset()
				src := bb.body
				for {
					_, ns, ev, err := d.Decode(dst, src)
					if err != nil {
						b.Fatal(err)
					}
					src = src[ns:]
					if ev == EventEnd {
						break
					}
				}
			}
		})
		b.Run(bb.name+"/nethttp", func(b *testing.B) { benchNetHTTP(b, bb.body) })
	}
}

// BenchmarkReader: the io.Reader over a bytes.Reader, against net/http's.
func BenchmarkReader(b *testing.B) {
	for _, bb := range benchBodies() {
		b.Run(bb.name+"/gdhttp", func(b *testing.B) {
			dst := make([]byte, benchBuf)
			br := bytes.NewReader(nil)
			r := NewReader(br)
			b.SetBytes(int64(len(bb.body)))
			b.ReportAllocs()
			for b.Loop() {
				br.Reset(bb.body)
				r.Reset(br)
				drain(b, r, dst)
			}
		})
		b.Run(bb.name+"/nethttp", func(b *testing.B) { benchNetHTTP(b, bb.body) })
	}
}

// benchNetHTTP is the net/http twin: httputil.NewChunkedReader over a
// bytes.Reader, reading into the same reused buffer.
func benchNetHTTP(b *testing.B, body []byte) {
	dst := make([]byte, benchBuf)
	br := bytes.NewReader(nil)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		br.Reset(body)
		drain(b, httputil.NewChunkedReader(br), dst)
	}
}

func drain(b *testing.B, r io.Reader, dst []byte) {
	for {
		_, err := r.Read(dst)
		if err == io.EOF {
			return
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
