package httpclient

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/chunked"
	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// BenchmarkNBTryReadIdle is the cost of a read that finds nothing: what
// every non-blocking Poll and every liveness check (§1.6.3) pays.
func BenchmarkNBTryReadIdle(b *testing.B) {
	for _, k := range nbKinds {
		b.Run(k.name, func(b *testing.B) {
			client, _ := nbPair(b)
			nb := newNBConn(k.wrap(client), nil, nil)
			defer nb.Close()
			p := make([]byte, 64<<10)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := nb.TryRead(p); err != errWouldBlock {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("peek", func(b *testing.B) {
		client, _ := nbPair(b)
		nb := newNBConn(client, nil, nil)
		b.ReportAllocs()
		for b.Loop() {
			if s, err := nb.Peek(); s != nbEmpty {
				b.Fatal(s, err)
			}
		}
	})
}

// nbDrainSize is what one iteration of BenchmarkNBDrain moves.
const nbDrainSize = 256 << 20

// nbReadFunc reads into p the way one driver does: it returns the bytes
// read, or 0 when nothing was ready (the caller polls again at once).
type nbReadFunc func(p []byte) (int, error)

// BenchmarkNBDrain moves 256 MiB over loopback TCP (and 64 MiB over TLS)
// to a reader that polls in a tight loop, as a non-blocking Poll loop does:
// TryRead (one read(2) per call, no goroutine), today's goroutine path (a
// background read per call, its result taken by a select), and a blocking
// conn.Read for reference, each with a 64 KiB and a 1 MiB buffer.
func BenchmarkNBDrain(b *testing.B) {
	for _, size := range []int{64 << 10, 1 << 20} {
		name := map[int]string{64 << 10: "64KiB", 1 << 20: "1MiB"}[size]
		b.Run("tcp/TryRead/"+name, func(b *testing.B) {
			nbDrainTCP(b, size, func(c net.Conn) nbReadFunc {
				nb := newNBConn(c, nil, nil)
				return func(p []byte) (int, error) {
					n, err := nb.TryRead(p)
					if err == errWouldBlock {
						return 0, nil
					}
					return n, err
				}
			})
		})
		b.Run("tcp/goroutine/"+name, func(b *testing.B) {
			nbDrainTCP(b, size, nbGoroutineReader)
		})
		b.Run("tcp/Read/"+name, func(b *testing.B) {
			nbDrainTCP(b, size, func(c net.Conn) nbReadFunc { return c.Read })
		})
	}
	b.Run("tls/TryRead/64KiB", func(b *testing.B) {
		nbDrainTLS(b, func(r *nbTLSReader) nbReadFunc {
			return func(p []byte) (int, error) {
				n, err := r.TryRead(p)
				if err == errWouldBlock {
					return 0, nil
				}
				return n, err
			}
		})
	})
	b.Run("tls/Read/64KiB", func(b *testing.B) {
		nbDrainTLS(b, func(r *nbTLSReader) nbReadFunc { return r.Read })
	})
}

// nbGoroutineReader is the client's read path before nbConn: at most one
// background read at a time, whose result a later call takes if it is
// there.
func nbGoroutineReader(c net.Conn) nbReadFunc {
	ch := make(chan nbResult, 1)
	pending := false
	var buf []byte
	return func(p []byte) (int, error) {
		if !pending {
			pending, buf = true, p
			go func() {
				n, err := c.Read(buf)
				ch <- nbResult{n, err}
			}()
			return 0, nil
		}
		select {
		case res := <-ch:
			pending = false
			return res.n, res.err
		default:
			return 0, nil
		}
	}
}

func nbDrainTCP(b *testing.B, size int, reader func(net.Conn) nbReadFunc) {
	client, server := nbPair(b)
	read := reader(client)
	src := make([]byte, 1<<20)
	p := make([]byte, size)
	b.SetBytes(nbDrainSize)
	b.ReportAllocs()
	for b.Loop() {
		done := make(chan error, 1)
		go func() {
			var err error
			for sent := 0; sent < nbDrainSize && err == nil; sent += len(src) {
				_, err = server.Write(src)
			}
			done <- err
		}()
		for got := 0; got < nbDrainSize; {
			n, err := read(p)
			require.NoError(b, err)
			if n == 0 {
				runtime.Gosched()
			}
			got += n
		}
		require.NoError(b, <-done)
	}
}

func nbDrainTLS(b *testing.B, reader func(*nbTLSReader) nbReadFunc) {
	const total = 64 << 20
	env := newNBTLSEnv(b, tls.VersionTLS13)
	client, server := nbPair(b)
	srv := tls.Server(server, env.srv)
	r := newNBTLS(client, newNBConn(client, nil, nil), env.cli)
	hs := make(chan error, 1)
	go func() { hs <- srv.Handshake() }()
	require.NoError(b, r.tc.Handshake())
	require.NoError(b, <-hs)
	read := reader(r)
	src := make([]byte, 1<<20)
	p := make([]byte, 64<<10)
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		done := make(chan error, 1)
		go func() {
			var err error
			for sent := 0; sent < total && err == nil; sent += len(src) {
				_, err = srv.Write(src)
			}
			done <- err
		}()
		for got := 0; got < total; {
			n, err := read(p)
			if err != io.EOF {
				require.NoError(b, err)
			}
			if n == 0 {
				runtime.Gosched()
			}
			got += n
		}
		require.NoError(b, <-done)
	}
}

// tlsDownloadSize is what one iteration of BenchmarkTLSDownload moves.
const tlsDownloadSize = 64 << 20

// BenchmarkTLSDownload is a 64 MiB body over TLS 1.3 on loopback, with a
// Content-Length (cl) or chunked in 16 KiB chunks (chunked), read with
// ReadResponseBodyChunkInto and a 64 KiB buffer in both modes (a fresh
// connection per iteration: handshake included), and net/http's client
// reading the same response for reference. It measures the TLS read path:
// nbTLSConn's bulk reads and what it hands crypto/tls (recordCut), one
// atLeastReader allocation of crypto/tls per hand-out.
func BenchmarkTLSDownload(b *testing.B) {
	ca := ts.NewCA(b)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{ca.Issue(b, "localhost")}})
	require.NoError(b, err)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ln.Close()
	wg.Add(1)
	go func() {
		defer wg.Done()
		body := make([]byte, 1<<20)
		var chunkedBody []byte // body in 16 KiB chunks, framing included
		for i := 0; i < len(body); i += 16 << 10 {
			chunkedBody = chunked.AppendChunk(chunkedBody, body[i:i+16<<10])
		}
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				req := make([]byte, 4096)
				n, err := c.Read(req)
				if err != nil {
					return
				}
				head, block, end := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", tlsDownloadSize), body, ""
				if bytes.HasPrefix(req[:n], []byte("GET /chunked ")) {
					head, block, end = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunkedBody, "0\r\n\r\n"
				}
				if _, err := io.WriteString(c, head); err != nil {
					return
				}
				for range tlsDownloadSize / len(body) {
					if _, err := c.Write(block); err != nil {
						return
					}
				}
				_, _ = io.WriteString(c, end)
			}()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	for _, framing := range []string{"cl", "chunked"} {
		for _, m := range modes {
			b.Run(framing+"/gdhttp/"+m.name, func(b *testing.B) {
				buf := make([]byte, 64<<10)
				b.SetBytes(tlsDownloadSize)
				b.ReportAllocs()
				for b.Loop() {
					c := New()
					c.SetBlockingMode(m.blocking)
					require.NoError(b, c.ConnectToHost("localhost", port, TLSClient(ca.Pool(), "")))
					for c.Status() == StatusResolving || c.Status() == StatusConnecting {
						_ = c.Poll()
					}
					require.Equal(b, tlsDownloadSize, benchGET(b, c, "/"+framing, buf))
					c.Close()
				}
			})
		}
		b.Run(framing+"/net-http", func(b *testing.B) {
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, DisableKeepAlives: true}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr}
			url := fmt.Sprintf("https://localhost:%d/%s", port, framing)
			buf := make([]byte, 64<<10)
			b.SetBytes(tlsDownloadSize)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := hc.Get(url)
				require.NoError(b, err)
				n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{resp.Body}, buf)
				require.NoError(b, err)
				require.NoError(b, resp.Body.Close())
				require.Equal(b, int64(tlsDownloadSize), n)
			}
		})
	}
}

// smallTLSServer is a TLS 1.3 server on loopback that answers every request
// head with a 13-byte body, on connections kept alive; it stops at the end
// of the benchmark.
func smallTLSServer(b *testing.B) (port int, ca *ts.CA) {
	ca = ts.NewCA(b)
	const resp = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nhello, world\n"
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{ca.Issue(b, "localhost")}})
	require.NoError(b, err)
	var wg sync.WaitGroup
	b.Cleanup(wg.Wait)
	b.Cleanup(func() { _ = ln.Close() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				drive.EachHead(c, 16<<10, func([]byte) error {
					_, err := io.WriteString(c, resp)
					return err
				})
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, ca
}

// BenchmarkTLSKeepAlive is small GETs (a 13-byte body) over one TLS 1.3
// connection kept alive, in both modes (the non-blocking one a spin loop of
// Poll, as a Godot game's loop without frame pacing), and net/http's client
// on the same server for reference: the per-request cost of the TLS write
// path (a non-blocking Poll encrypts on its own goroutine, nbTLSConn.writeNow).
func BenchmarkTLSKeepAlive(b *testing.B) {
	port, ca := smallTLSServer(b)
	for _, m := range modes {
		b.Run("gdhttp/"+m.name, func(b *testing.B) {
			c := New()
			defer c.Close()
			c.SetBlockingMode(m.blocking)
			require.NoError(b, c.ConnectToHost("localhost", port, TLSClient(ca.Pool(), "")))
			for c.Status() == StatusResolving || c.Status() == StatusConnecting {
				_ = c.Poll()
			}
			buf := make([]byte, 64)
			b.ReportAllocs()
			for b.Loop() {
				require.Equal(b, 13, benchGET(b, c, "/", buf))
			}
		})
	}
	b.Run("net-http", func(b *testing.B) { nethttpGETs(b, ca, port, true) })
}

// BenchmarkTLSNewConn is small GETs over a new TLS 1.3 connection each, in
// both modes (the non-blocking one a spin loop of Poll), and net/http's
// client without keep-alive for reference: the handshake runs in the
// client's connector, which a spinning Poll waits for (awaitReport).
func BenchmarkTLSNewConn(b *testing.B) {
	port, ca := smallTLSServer(b)
	opts := TLSClient(ca.Pool(), "")
	buf := make([]byte, 64)
	for _, m := range modes {
		b.Run("gdhttp/"+m.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c := New()
				c.SetBlockingMode(m.blocking)
				require.NoError(b, c.ConnectToHost("localhost", port, opts))
				for c.Status() == StatusResolving || c.Status() == StatusConnecting {
					_ = c.Poll()
				}
				require.Equal(b, 13, benchGET(b, c, "/", buf))
				c.Close()
			}
		})
	}
	b.Run("net-http", func(b *testing.B) { nethttpGETs(b, ca, port, false) })
}

// benchGET is one GET of path on c, connected, in c's mode: Poll while
// REQUESTING, then ReadResponseBodyChunkInto buf until the body's end (a
// Poll after a read that found nothing). It returns the body's length.
func benchGET(b *testing.B, c *Client, path string, buf []byte) int {
	require.NoError(b, c.Request(MethodGet, path, nil, ""))
	for c.Status() == StatusRequesting {
		_ = c.Poll()
	}
	total := 0
	for {
		n, err := c.ReadResponseBodyChunkInto(buf)
		total += n
		if err == io.EOF {
			return total
		}
		require.NoError(b, err)
		if n == 0 {
			_ = c.Poll()
		}
	}
}

// nethttpGETs is b's loop of GETs of smallTLSServer's body with net/http's
// client, on one connection kept alive or a new one each.
func nethttpGETs(b *testing.B, ca *ts.CA, port int, keepAlive bool) {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, DisableKeepAlives: !keepAlive}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	url := fmt.Sprintf("https://localhost:%d/", port)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := hc.Get(url)
		require.NoError(b, err)
		_, err = io.Copy(io.Discard, resp.Body)
		require.NoError(b, err)
		require.NoError(b, resp.Body.Close())
	}
}
