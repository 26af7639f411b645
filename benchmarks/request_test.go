package benchmarks

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/gdhttp/gdhttp/benchmarks/internal/heapwatch"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/drive"
)

// The node benchmarks: httprequest against net/http on the same loopback
// server in the same run. Every b.Loop iteration transfers the full size, so
// -benchtime=1x is a complete measurement:
//
//	go test -run '^$' -bench 'Request' -benchtime=1x -count=5

const (
	reqMiB      = 1 << 20
	reqBlock    = 1 << 20 // the server writes its body from a pre-filled block of this size
	reqDoSize   = 256 * reqMiB
	reqFileSize = 1 << 30
)

// reqServer is a keep-alive HTTP/1.1 server on 127.0.0.1: for every request
// head it writes head, then size body bytes taken from block (repeated).
func reqServer(b *testing.B, head string, block []byte, size int64) string {
	b.Helper()
	ln := drive.Serve(b, func(c net.Conn) {
		drive.EachHead(c, 16<<10, func([]byte) error {
			if _, err := io.WriteString(c, head); err != nil {
				return err
			}
			for left := size; left > 0; {
				n := min(left, int64(len(block)))
				if _, err := c.Write(block[:n]); err != nil {
					return err
				}
				left -= n
			}
			return nil
		})
	})
	return "http://" + ln.Addr().String()
}

func reqBlockOf(seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	block := make([]byte, reqBlock)
	for i := range block {
		block[i] = byte('a' + r.IntN(26))
	}
	return block
}

func netHTTPClient(b *testing.B) *http.Client {
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}
	b.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// BenchmarkRequestDo256MiB: Do downloading a 256 MiB body into memory, against
// http.Get + io.ReadAll on the same server. Target: ≥ 0.9× net/http.
func BenchmarkRequestDo256MiB(b *testing.B) {
	head := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(reqDoSize) + "\r\n\r\n"
	url := reqServer(b, head, reqBlockOf(1), reqDoSize) + "/big"
	b.Run("httprequest-Do", func(b *testing.B) {
		n := httprequest.New()
		defer n.Close()
		b.SetBytes(reqDoSize)
		b.ReportAllocs()
		for b.Loop() {
			c, err := n.Do(context.Background(), url, nil, httpclient.MethodGet, nil)
			if err != nil || len(c.Body) != reqDoSize {
				b.Fatal(err, len(c.Body))
			}
		}
	})
	b.Run("net-http", func(b *testing.B) {
		client := netHTTPClient(b)
		b.SetBytes(reqDoSize)
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Get(url)
			if err != nil {
				b.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || len(body) != reqDoSize {
				b.Fatal(err, len(body))
			}
		}
	})
}

// BenchmarkRequestDownloadFile1GiB: download_file of a 1 GiB body. Reports
// the peak HeapInuse sampled during the download ("peak-heap-MiB", the whole
// process: server, client and runtime) and its rise over the heap before
// the download ("heap-rise-MiB"). Target: peak heap under 8 MiB. Twin:
// net/http Get + io.Copy into a file.
func BenchmarkRequestDownloadFile1GiB(b *testing.B) {
	head := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(reqFileSize) + "\r\n\r\n"
	url := reqServer(b, head, reqBlockOf(2), reqFileSize) + "/file"
	dir := b.TempDir()
	target := filepath.Join(dir, "download.bin")
	run := func(b *testing.B, get func() error) {
		b.SetBytes(reqFileSize)
		b.ReportAllocs()
		var peak, rise uint64
		for b.Loop() {
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			s := heapwatch.Start(5 * time.Millisecond)
			err := get()
			p := s.Stop()
			if err != nil {
				b.Fatal(err)
			}
			fi, err := os.Stat(target)
			if err != nil || fi.Size() != reqFileSize {
				b.Fatal(err, fi)
			}
			os.Remove(target)
			peak = max(peak, p)
			if p > before.HeapInuse {
				rise = max(rise, p-before.HeapInuse)
			}
		}
		b.ReportMetric(float64(peak)/reqMiB, "peak-heap-MiB")
		b.ReportMetric(float64(rise)/reqMiB, "heap-rise-MiB")
	}
	b.Run("httprequest-Do", func(b *testing.B) {
		n := httprequest.New()
		defer n.Close()
		if err := n.SetDownloadFile(target); err != nil {
			b.Fatal(err)
		}
		run(b, func() error {
			c, err := n.Do(context.Background(), url, nil, httpclient.MethodGet, nil)
			if err == nil && c.Body != nil {
				b.Fatal("body held in memory")
			}
			return err
		})
	})
	b.Run("net-http", func(b *testing.B) {
		client := netHTTPClient(b)
		run(b, func() error {
			resp, err := client.Get(url)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			f, err := os.Create(target)
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, resp.Body); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		})
	})
}

// BenchmarkRequestGzip: a 64 MiB gzip body decoded as it streams (Do with
// accept_gzip) against its twin, the raw body downloaded (accept_gzip off)
// and then decoded by compress/gzip from memory. Target: ≤ 10 % slower.
// BenchmarkDecodeGzip in package httprequest measures the decoder alone.
func BenchmarkRequestGzip(b *testing.B) {
	const plain = 64 * reqMiB
	var zbuf bytes.Buffer
	zw := stdgzip.NewWriter(&zbuf)
	r := rand.New(rand.NewPCG(3, 3))
	words := [][]byte{[]byte("godot "), []byte("request "), []byte("gzip "), []byte("body "), []byte("stream "), []byte("frame\n")}
	for written := 0; written < plain; {
		w := words[r.IntN(len(words))]
		w = w[:min(len(w), plain-written)]
		zw.Write(w)
		written += len(w)
	}
	zw.Close()
	gz := zbuf.Bytes()
	head := "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(len(gz)) + "\r\n\r\n"
	url := reqServer(b, head, gz, int64(len(gz))) + "/gz"
	b.Run("httprequest-streaming", func(b *testing.B) {
		n := httprequest.New()
		defer n.Close()
		b.SetBytes(plain)
		b.ReportAllocs()
		for b.Loop() {
			c, err := n.Do(context.Background(), url, nil, httpclient.MethodGet, nil)
			if err != nil || len(c.Body) != plain {
				b.Fatal(err, len(c.Body))
			}
		}
	})
	b.Run("raw-then-compress-gzip", func(b *testing.B) {
		n := httprequest.New()
		defer n.Close()
		n.SetAcceptGzip(false)
		b.SetBytes(plain)
		b.ReportAllocs()
		for b.Loop() {
			c, err := n.Do(context.Background(), url, nil, httpclient.MethodGet, nil)
			if err != nil {
				b.Fatal(err)
			}
			zr, err := stdgzip.NewReader(bytes.NewReader(c.Body))
			if err != nil {
				b.Fatal(err)
			}
			out, err := io.ReadAll(zr)
			if err != nil || len(out) != plain {
				b.Fatal(err, len(out))
			}
		}
	})
}
