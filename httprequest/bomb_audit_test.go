package httprequest

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
)

// An endless deflate bomb (≈1000:1) read with the largest download chunk
// size: one Process step must not decode for seconds (the frame, and the
// timeout check, wait for it), and Do/threads must end at the timeout.
func TestAuditH2BombStepTime(t *testing.T) {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	_, _ = w.Write(make([]byte, 1<<20))
	_ = w.Flush()
	block := buf.Bytes()
	// 16 MiB wire ≈ 16 GiB decoded in one step (≈5 s); under -race inflate
	// is ~15× slower, so 1 MiB (≈1 GiB, ≈5 s there) shows the same.
	big := 16 << 20
	if raceEnabled {
		big = 1 << 20
	}
	for _, chunk := range []int{65536, big} {
		for _, drv := range []string{"process", "threads", "do"} {
			t.Run(strconv.Itoa(chunk)+"/"+drv, func(t *testing.T) {
				srv := newH2Srv(t, "tcp", "127.0.0.1:0", func(_ int, c net.Conn) {
					r := bufio.NewReader(c)
					if drive.SkipHead(r) != nil {
						return
					}
					_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n"))
					_, _ = c.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
					big := bytes.Repeat(block, 64)
					for {
						if _, err := c.Write(big); err != nil {
							return
						}
					}
				})
				n := New()
				defer n.Close()
				if err := n.SetDownloadChunkSize(chunk); err != nil {
					t.Fatal(err)
				}
				_ = n.SetBodyWriter(io.Discard)
				_ = n.SetTimeout(500 * time.Millisecond)
				url := "http://127.0.0.1:" + strconv.Itoa(srv.port()) + "/"
				start := time.Now()
				var res Result
				var worst time.Duration
				switch drv {
				case "do":
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					c, _ := n.Do(ctx, url, nil, httpclient.MethodGet, nil)
					cancel()
					res = c.Result
				default:
					if drv == "threads" {
						_ = n.SetUseThreads(true)
					}
					done := false
					n.OnRequestCompleted(func(r Result, _ int, _ []string, _ []byte) { res, done = r, true })
					if err := n.RequestRaw(url, nil, httpclient.MethodGet, nil); err != nil {
						t.Fatal(err)
					}
					for !done && time.Since(start) < 30*time.Second {
						s := time.Now()
						n.Process()
						worst = max(worst, time.Since(s))
						time.Sleep(time.Millisecond)
					}
				}
				el := time.Since(start)
				t.Logf("result %v after %v, worst frame %v", res, el.Round(time.Millisecond), worst.Round(time.Millisecond))
				// Bounds for a loaded machine: the bomb alone takes about 10 s.
				if el > 5*time.Second {
					t.Errorf("a 500 ms timeout ended the request after %v", el.Round(time.Millisecond))
				}
				if worst > 3*time.Second {
					t.Errorf("one Process frame took %v", worst.Round(time.Millisecond))
				}
			})
		}
	}
}

// The same bomb under Do's context deadline (no node timeout), and under
// CancelRequest from another goroutine with use_threads.
func TestAuditH2BombCtxAndCancel(t *testing.T) {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	_, _ = w.Write(make([]byte, 1<<20))
	_ = w.Flush()
	big := bytes.Repeat(buf.Bytes(), 64)
	for _, how := range []string{"do-ctx-deadline", "threads-cancel"} {
		t.Run(how, func(t *testing.T) {
			srv := newH2Srv(t, "tcp", "127.0.0.1:0", func(_ int, c net.Conn) {
				r := bufio.NewReader(c)
				if drive.SkipHead(r) != nil {
					return
				}
				_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n"))
				_, _ = c.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
				for {
					if _, err := c.Write(big); err != nil {
						return
					}
				}
			})
			n := New()
			if raceEnabled {
				_ = n.SetDownloadChunkSize(1 << 20)
			} else {
				_ = n.SetDownloadChunkSize(16 << 20)
			}
			_ = n.SetBodyWriter(io.Discard)
			url := "http://127.0.0.1:" + strconv.Itoa(srv.port()) + "/"
			start := time.Now()
			if how == "do-ctx-deadline" {
				ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
				_, err := n.Do(ctx, url, nil, httpclient.MethodGet, nil)
				cancel()
				t.Logf("Do: %v after %v", err, time.Since(start).Round(time.Millisecond))
			} else {
				_ = n.SetUseThreads(true)
				if err := n.RequestRaw(url, nil, httpclient.MethodGet, nil); err != nil {
					t.Fatal(err)
				}
				time.Sleep(500 * time.Millisecond)
				s := time.Now()
				n.CancelRequest()
				t.Logf("CancelRequest returned after %v", time.Since(s).Round(time.Millisecond))
				for range 3 {
					n.Process()
				}
			}
			s := time.Now()
			n.Close()
			t.Logf("Close returned after %v", time.Since(s).Round(time.Millisecond))
			if el := time.Since(start); el > 5*time.Second { // the bomb alone: about 10 s
				t.Errorf("ended after %v (deadline/cancel at 500 ms)", el.Round(time.Millisecond))
			}
		})
	}
}

// A 3233-byte brotli stream that decodes to 4 GiB of zeros, at the default
// download chunk size, brotli opted in: the whole stream arrives in one
// read, and that one step decodes 4 GiB before the timeout (300 ms) or
// Do's deadline is looked at.
func TestAuditH2BrotliBombDefaultChunk(t *testing.T) {
	file := "testdata/audit_hostile2/zeros-4gib.br" // ≈10 s of decoding
	if raceEnabled {
		file = "testdata/audit_hostile2/zeros-256mib.br" // ≈10 s under -race
		// A step's budget decodes about 15 times slower too: scaled alike.
		withDecodeStepMax(t, decodeStepMax/16)
	}
	bomb, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, drv := range []string{"process", "do-timeout", "do-ctx"} {
		t.Run(drv, func(t *testing.T) {
			srv := newH2Srv(t, "tcp", "127.0.0.1:0", func(_ int, c net.Conn) {
				r := bufio.NewReader(c)
				if drive.SkipHead(r) != nil {
					return
				}
				_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: " + strconv.Itoa(len(bomb)) + "\r\n\r\n"))
				_, _ = c.Write(bomb)
				_, _ = io.Copy(io.Discard, r)
			})
			n := New()
			defer n.Close()
			_ = n.SetAcceptBrotli(true)
			_ = n.SetBodyWriter(io.Discard)
			if drv != "do-ctx" {
				_ = n.SetTimeout(300 * time.Millisecond)
			}
			url := "http://127.0.0.1:" + strconv.Itoa(srv.port()) + "/"
			start := time.Now()
			var res Result
			var worst time.Duration
			if drv == "process" {
				done := false
				n.OnRequestCompleted(func(r Result, _ int, _ []string, _ []byte) { res, done = r, true })
				if err := n.RequestRaw(url, nil, httpclient.MethodGet, nil); err != nil {
					t.Fatal(err)
				}
				for !done && time.Since(start) < 60*time.Second {
					s := time.Now()
					n.Process()
					worst = max(worst, time.Since(s))
					time.Sleep(time.Millisecond)
				}
			} else {
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				if drv == "do-timeout" {
					cancel()
					ctx, cancel = context.WithTimeout(context.Background(), 60*time.Second)
				}
				c, _ := n.Do(ctx, url, nil, httpclient.MethodGet, nil)
				cancel()
				res = c.Result
			}
			el := time.Since(start)
			t.Logf("result %v after %v, worst frame %v", res, el.Round(time.Millisecond), worst.Round(time.Millisecond))
			if el > 5*time.Second { // loaded machine; the bomb alone: about 10 s
				t.Errorf("a 300 ms timeout/deadline ended the request after %v", el.Round(time.Millisecond))
			}
		})
	}
}
