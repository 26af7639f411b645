package wire

import (
	"bytes"
	"net/http"
	"testing"
)

// benchHeaders are the five user headers of the benchmark request.
var benchHeaders = [][2]string{
	{"Content-Type", "application/json"},
	{"Authorization", "Bearer abcdef0123456789"},
	{"X-Request-Id", "7f3c2a"},
	{"Accept-Encoding", "gzip, deflate"},
	{"Cache-Control", "no-cache"},
}

func benchGdhttpRequest() *Request {
	r := &Request{Method: MethodGet, URL: "/api/v1/items?page=2&sort=name", Host: "api.example.com", Port: 8080}
	for _, h := range benchHeaders {
		r.Headers = append(r.Headers, h[0]+": "+h[1])
	}
	return r
}

// BenchmarkAppendRequest: a GET with 5 user headers, against its net/http
// twin ((*http.Request).Write into a reused bytes.Buffer, same headers plus
// the User-Agent and Accept that gdhttp adds).
func BenchmarkAppendRequest(b *testing.B) {
	b.Run("gdhttp", func(b *testing.B) {
		r := benchGdhttpRequest()
		buf := make([]byte, 0, 1024)
		buf = AppendRequest(buf, r)
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			buf = AppendRequest(buf[:0], r)
		}
	})
	b.Run("gdhttp-validated", func(b *testing.B) {
		r := benchGdhttpRequest()
		buf := make([]byte, 0, 1024)
		buf = AppendRequest(buf, r)
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			if err := ValidateRequest(r, false); err != nil {
				b.Fatal(err)
			}
			buf = AppendRequest(buf[:0], r)
		}
	})
	b.Run("net-http", func(b *testing.B) {
		req, err := http.NewRequest(http.MethodGet, "http://api.example.com:8080/api/v1/items?page=2&sort=name", nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, h := range benchHeaders {
			req.Header.Set(h[0], h[1])
		}
		req.Header.Set("User-Agent", DefaultUserAgent())
		req.Header.Set("Accept", "*/*")
		var buf bytes.Buffer
		if err := req.Write(&buf); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(buf.Len()))
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if err := req.Write(&buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}
