package benchmarks

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
)

// The client benchmarks: httpclient against net/http on the same loopback
// server in the same run, each with a net/http twin; the 1 GiB downloads
// also run tcp-read (clTCPRead), the transfer with no HTTP client at all. Run them with
// -benchtime=1x for a quick pass; every b.Loop iteration does the full size.
//
//	go test -run '^$' -bench 'Client' -benchtime=1x -count=5

const (
	clGiB        = 1 << 30
	clBodyBuf    = 64 << 10 // the caller's reused buffer, for both clients
	clSmallGETs  = 10000
	clChunkSize  = 16 << 10
	clWriteBlock = 1 << 20 // the server writes from a pre-filled buffer in blocks of this size
)

// clServer is a keep-alive HTTP/1.1 server on 127.0.0.1 that answers every
// request head with respond(conn). It reads request heads into a fixed
// buffer and writes pre-built bytes, so it is never the bottleneck.
func clServer(b *testing.B, respond func(w io.Writer) error) string {
	b.Helper()
	return drive.Serve(b, func(conn net.Conn) {
		drive.EachHead(conn, 64<<10, func([]byte) error { return respond(conn) })
	}).Addr().String()
}

// clLength writes a Content-Length response of size bytes. wire is the
// size of the whole response, head included.
func clLength(size int64) (respond func(w io.Writer) error, wire int64) {
	head := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
		strconv.FormatInt(size, 10) + "\r\n\r\n")
	block := bytes.Repeat([]byte("0123456789abcdef"), clWriteBlock/16)
	return func(w io.Writer) error {
		if _, err := w.Write(head); err != nil {
			return err
		}
		for left := size; left > 0; {
			n := min(left, int64(len(block)))
			if _, err := w.Write(block[:n]); err != nil {
				return err
			}
			left -= n
		}
		return nil
	}, int64(len(head)) + size
}

// clChunked writes a chunked response of size bytes in chunks of
// chunk bytes (size a multiple of the pre-built block). wire is the size of
// the whole response, head and framing included.
func clChunked(size int64, chunk int) (respond func(w io.Writer) error, wire int64) {
	head := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
	data := bytes.Repeat([]byte("0123456789abcdef"), chunk/16)
	var block []byte
	perBlock := clWriteBlock / chunk
	for i := 0; i < perBlock; i++ {
		block = strconv.AppendInt(block, int64(chunk), 16)
		block = append(block, "\r\n"...)
		block = append(block, data...)
		block = append(block, "\r\n"...)
	}
	blocks := size / int64(perBlock*chunk)
	return func(w io.Writer) error {
		if _, err := w.Write(head); err != nil {
			return err
		}
		for i := int64(0); i < blocks; i++ {
			if _, err := w.Write(block); err != nil {
				return err
			}
		}
		_, err := w.Write([]byte("0\r\n\r\n"))
		return err
	}, int64(len(head)) + blocks*int64(len(block)) + 5
}

// clConnect returns a blocking-mode httpclient connected to addr.
func clConnect(b *testing.B, addr string) *httpclient.Client {
	b.Helper()
	host, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	c := httpclient.New()
	c.SetBlockingMode(true)
	if err := c.ConnectToHost(host, port, nil); err != nil {
		b.Fatal(err)
	}
	connecting := drive.Poller[httpclient.Status]{Blocking: true, Wait: time.Minute}
	if err := connecting.While(b, c, httpclient.StatusResolving, httpclient.StatusConnecting); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	return c
}

// clGet sends a GET and reads the body into buf with ReadResponseBodyChunkInto,
// returning the body size.
func clGet(b *testing.B, c *httpclient.Client, buf []byte) int64 {
	if err := c.RequestRaw(httpclient.MethodGet, "/", nil, nil); err != nil {
		b.Fatal(err)
	}
	if err := c.Poll(); err != nil {
		b.Fatal(err)
	}
	var total int64
	for {
		n, err := c.ReadResponseBodyChunkInto(buf)
		total += int64(n)
		if err == io.EOF {
			return total
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// clNetHTTP is net/http with one idle connection to reuse.
func clNetHTTP(b *testing.B) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
	b.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// clDiscard is io.Discard without ReadFrom, so that io.CopyBuffer really uses
// the caller's buffer (io.Discard's ReadFrom reads in 8 KiB pieces).
type clDiscard struct{ io.Writer }

// clNetHTTPGet is the net/http twin of clGet: Get, io.CopyBuffer with buf.
func clNetHTTPGet(b *testing.B, hc *http.Client, url string, buf []byte) int64 {
	resp, err := hc.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	n, err := io.CopyBuffer(clDiscard{io.Discard}, resp.Body, buf)
	if err != nil {
		b.Fatal(err)
	}
	_ = resp.Body.Close()
	return n
}

// clTCPRead is the reference for the cost of the transfer itself: a plain
// net.Conn that sends a request, reads the wire bytes of the response with
// conn.Read into the clients' buffer and drops them — no HTTP at all. When
// the clients are about as fast as it, the loopback transfer (the server's
// writes and the kernel), not the client, is what limits them; a client
// that reads from the socket in larger batches than that buffer (httpclient
// with a chunked body) can beat it.
func clTCPRead(b *testing.B, addr string, wire int64, buf []byte) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	req := []byte("GET / HTTP/1.1\r\nHost: " + addr + "\r\n\r\n")
	b.SetBytes(clGiB)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := conn.Write(req); err != nil {
			b.Fatal(err)
		}
		for left := wire; left > 0; {
			n, err := conn.Read(buf[:min(int64(len(buf)), left)])
			if err != nil {
				b.Fatal(err)
			}
			left -= int64(n)
		}
	}
}

// BenchmarkClientLength1GiB: a 1 GiB Content-Length body over loopback,
// blocking mode, ReadResponseBodyChunkInto with a reused 64 KiB buffer.
func BenchmarkClientLength1GiB(b *testing.B) {
	respond, wire := clLength(clGiB)
	clBench1GiB(b, respond, wire)
}

// BenchmarkClientChunked1GiB: a 1 GiB chunked body in 16 KiB chunks.
func BenchmarkClientChunked1GiB(b *testing.B) {
	respond, wire := clChunked(clGiB, clChunkSize)
	clBench1GiB(b, respond, wire)
}

// BenchmarkClientChunkedLarge1GiB: a 1 GiB chunked body in 1 MiB chunks,
// larger than the caller's buffer.
func BenchmarkClientChunkedLarge1GiB(b *testing.B) {
	respond, wire := clChunked(clGiB, clWriteBlock)
	clBench1GiB(b, respond, wire)
}

// clBench1GiB runs the three 1 GiB downloads — httpclient, net/http and
// tcp-read — from a server answering with respond; wire is the size of its
// whole response.
func clBench1GiB(b *testing.B, respond func(w io.Writer) error, wire int64) {
	addr := clServer(b, respond)
	buf := make([]byte, clBodyBuf)
	b.Run("httpclient", func(b *testing.B) {
		c := clConnect(b, addr)
		b.SetBytes(clGiB)
		b.ReportAllocs()
		for b.Loop() {
			if n := clGet(b, c, buf); n != clGiB {
				b.Fatalf("got %d bytes", n)
			}
		}
	})
	b.Run("net-http", func(b *testing.B) {
		hc := clNetHTTP(b)
		b.SetBytes(clGiB)
		b.ReportAllocs()
		for b.Loop() {
			if n := clNetHTTPGet(b, hc, "http://"+addr+"/", buf); n != clGiB {
				b.Fatalf("got %d bytes", n)
			}
		}
	})
	b.Run("tcp-read", func(b *testing.B) { clTCPRead(b, addr, wire, buf) })
}

// BenchmarkClientKeepAlive10kGETs: 10 000 sequential small GETs over one
// keep-alive connection; reports requests per second.
func BenchmarkClientKeepAlive10kGETs(b *testing.B) {
	respond, _ := clLength(13)
	addr := clServer(b, respond)
	buf := make([]byte, 512)
	b.Run("httpclient", func(b *testing.B) {
		c := clConnect(b, addr)
		b.ReportAllocs()
		start := time.Now()
		for b.Loop() {
			for range clSmallGETs {
				if n := clGet(b, c, buf); n != 13 {
					b.Fatalf("got %d bytes", n)
				}
			}
		}
		b.ReportMetric(float64(clSmallGETs*b.N)/time.Since(start).Seconds(), "req/s")
	})
	b.Run("net-http", func(b *testing.B) {
		hc := clNetHTTP(b)
		url := "http://" + addr + "/"
		b.ReportAllocs()
		start := time.Now()
		for b.Loop() {
			for range clSmallGETs {
				if n := clNetHTTPGet(b, hc, url, buf); n != 13 {
					b.Fatalf("got %d bytes", n)
				}
			}
		}
		b.ReportMetric(float64(clSmallGETs*b.N)/time.Since(start).Seconds(), "req/s")
	})
}
