package wire

import (
	"bufio"
	"bytes"
	"net/http"
	"testing"
)

// benchHead is a realistic response head with 20 header fields, followed by
// a body that neither parser reads.
var benchHead = []byte("HTTP/1.1 200 OK\r\n" +
	"Date: Mon, 01 Jun 2026 12:00:00 GMT\r\n" +
	"Server: nginx/1.27.0\r\n" +
	"Content-Type: application/json; charset=utf-8\r\n" +
	"Content-Length: 1234\r\n" +
	"Connection: keep-alive\r\n" +
	"Cache-Control: private, max-age=0, must-revalidate\r\n" +
	"ETag: \"5f1c-63a7b2c4e8d00\"\r\n" +
	"Last-Modified: Sun, 31 May 2026 08:30:00 GMT\r\n" +
	"Vary: Accept-Encoding, Origin\r\n" +
	"Access-Control-Allow-Origin: *\r\n" +
	"Strict-Transport-Security: max-age=63072000; includeSubDomains; preload\r\n" +
	"X-Content-Type-Options: nosniff\r\n" +
	"X-Frame-Options: SAMEORIGIN\r\n" +
	"X-Request-Id: 3f2c9a1e-8b7d-4c6e-9f0a-1b2c3d4e5f60\r\n" +
	"Set-Cookie: session=abc123def456; Path=/; HttpOnly; Secure; SameSite=Lax\r\n" +
	"Set-Cookie: theme=dark; Path=/; Max-Age=31536000\r\n" +
	"Accept-Ranges: bytes\r\n" +
	"Age: 0\r\n" +
	"Via: 1.1 varnish\r\n" +
	"X-Cache: MISS\r\n" +
	"\r\n" +
	"{\"ok\":true}")

// BenchmarkParseHead parses benchHead with a reused HeadParser and Head; the
// net/http twin runs http.ReadResponse over a reused bufio.Reader.
func BenchmarkParseHead(b *testing.B) {
	b.Run("gdhttp", func(b *testing.B) {
		var p HeadParser
		var h Head
		b.SetBytes(int64(len(benchHead)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Parse(benchHead, &h); err != nil {
				b.Fatal(err)
			}
		}
		if len(h.Headers) != 20 {
			b.Fatalf("parsed %d headers, want 20", len(h.Headers))
		}
	})
	b.Run("gdhttp-strict", func(b *testing.B) {
		p := HeadParser{Strict: true}
		var h Head
		b.SetBytes(int64(len(benchHead)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Parse(benchHead, &h); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("net-http", func(b *testing.B) {
		rd := bytes.NewReader(benchHead)
		br := bufio.NewReader(rd)
		req := &http.Request{Method: http.MethodGet}
		b.SetBytes(int64(len(benchHead)))
		b.ReportAllocs()
		for b.Loop() {
			rd.Reset(benchHead)
			br.Reset(rd)
			resp, err := http.ReadResponse(br, req)
			if err != nil {
				b.Fatal(err)
			}
			_ = resp
		}
	})
}
