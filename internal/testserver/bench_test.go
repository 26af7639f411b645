package testserver_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// benchRoundTrips does keep-alive GET round trips on one raw connection, so
// the cost measured is the server's (the client side is the same for both).
func benchRoundTrips(b *testing.B, addr string) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	req := []byte(getReq)
	b.ReportAllocs()
	b.SetBytes(int64(len(req)))
	for b.Loop() {
		if _, err := nc.Write(req); err != nil {
			b.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			b.Fatal(err)
		}
		_ = resp.Body.Close()
	}
}

// BenchmarkRoundTrip compares the scripted server's per-request cost with
// net/http's server (httptest), for tests that run many requests.
func BenchmarkRoundTrip(b *testing.B) {
	b.Run("testserver", func(b *testing.B) {
		srv := ts.New(b, ts.RespondEach(resp200), ts.WithoutRecording())
		benchRoundTrips(b, srv.Addr())
	})
	b.Run("net-http", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "2")
			_, _ = w.Write([]byte("ok"))
		}))
		defer srv.Close()
		benchRoundTrips(b, srv.Listener.Addr().String())
	})
}
