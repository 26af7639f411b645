package httprequest

// Audit hostile2: node probes of hostile-server behaviours the corpus does
// not cover.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"go.uber.org/goleak"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// h2Srv is a loopback server (drive.Listen): stop ends it before the test
// does.
type h2Srv struct {
	ln   net.Listener
	stop func()
}

func newH2Srv(t *testing.T, network, addr string, h func(i int, c net.Conn)) *h2Srv {
	t.Helper()
	ln, stop := drive.Listen(t, network, addr, h)
	return &h2Srv{ln, stop}
}

func (s *h2Srv) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func h2NoLeak(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// h2PeakHeap runs f and returns the peak growth of live heap objects.
func h2PeakHeap(f func()) int64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	base := int64(s[0].Value.Uint64())
	var peak atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		ss := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(ss)
			if v := int64(ss[0].Value.Uint64()) - base; v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Microsecond):
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak.Load()
}

// A brotli bomb under body_size_limit must stop at the limit with the heap
// bounded, as the gzip one does (limits.md: "a decompression bomb stops at
// the limit"). The compressed bytes are made before the measure.
func TestAuditH2BrotliBombHeap(t *testing.T) {
	const size = 32 << 20 // made under -race too: kept small
	mk := func(enc string) []byte {
		var b bytes.Buffer
		var w io.WriteCloser
		if enc == "br" {
			w = brotli.NewWriterLevel(&b, 1)
		} else {
			w, _ = gzip.NewWriterLevel(&b, gzip.BestSpeed)
		}
		zero := make([]byte, 1<<20)
		for range size >> 20 {
			_, _ = w.Write(zero)
		}
		_ = w.Close()
		return b.Bytes()
	}
	for _, enc := range []string{"gzip", "br"} {
		t.Run(enc, func(t *testing.T) {
			body := mk(enc)
			t.Logf("%s: %d compressed bytes for %d MiB", enc, len(body), size>>20)
			srv := newH2Srv(t, "tcp", "127.0.0.1:0", func(_ int, c net.Conn) {
				r := bufio.NewReader(c)
				if drive.SkipHead(r) != nil {
					return
				}
				_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Encoding: " + enc + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"))
				_, _ = c.Write(body)
				_, _ = io.Copy(io.Discard, r)
			})
			n := New()
			defer n.Close()
			_ = n.SetAcceptBrotli(true)
			_ = n.SetBodySizeLimit(64 << 10)
			var res Result
			peak := h2PeakHeap(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				c, _ := n.Do(ctx, "http://127.0.0.1:"+strconv.Itoa(srv.port())+"/", nil, httpclient.MethodGet, nil)
				res = c.Result
			})
			body = nil
			t.Logf("%s: result %v, peak heap growth %.1f MiB", enc, res, float64(peak)/(1<<20))
			if res != ResultBodySizeLimitExceeded {
				t.Errorf("result %v, want BODY_SIZE_LIMIT_EXCEEDED", res)
			}
			if peak > 24<<20 {
				t.Errorf("peak heap growth %.1f MiB for a 64 KiB limit", float64(peak)/(1<<20))
			}
		})
	}
}

// The download's directory vanishes while the body streams: a clear write
// error, no temporary file, no leak.
func TestAuditH2DownloadDirRemoved(t *testing.T) {
	for _, d := range []drive.Driver{drive.Process, drive.Threads, drive.Do} {
		t.Run(d.Name, func(t *testing.T) {
			h2NoLeak(t)
			root := t.TempDir()
			dir := filepath.Join(root, "sub")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			srv := newH2Srv(t, "tcp", "127.0.0.1:0", func(_ int, c net.Conn) {
				r := bufio.NewReader(c)
				if drive.SkipHead(r) != nil {
					return
				}
				_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"))
				time.Sleep(150 * time.Millisecond)
				_ = os.RemoveAll(dir)
				_, _ = c.Write([]byte("world"))
				_, _ = io.Copy(io.Discard, r)
			})
			n := New()
			defer n.Close()
			if err := n.SetDownloadFile(filepath.Join(dir, "out.bin")); err != nil {
				t.Fatal(err)
			}
			url := "http://127.0.0.1:" + strconv.Itoa(srv.port()) + "/"
			o := driverCase{d}.run(t, n, url, nil, httpclient.MethodGet, nil)
			t.Logf("result %v code %d err %v", o.C.Result, o.C.ResponseCode, o.Err)
			if o.C.Result != ResultDownloadFileWriteError && o.C.Result != ResultDownloadFileCantOpen {
				t.Errorf("result %v, want a download file error", o.C.Result)
			}
			ents, _ := os.ReadDir(root)
			for _, e := range ents {
				t.Errorf("left in root: %s", e.Name())
			}
			srv.stop()
		})
	}
}

// TLS handshake stalled after the server's first n bytes: the node's timeout
// and Do's context end it (the corpus stalls only before the ServerHello).
func TestAuditH2TLSStallMidHandshake(t *testing.T) {
	ca := ts.NewCA(t)
	srv := ts.NewTLS(t, ca.Issue(t, "localhost", "127.0.0.1"), ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	backend := net.JoinHostPort(srv.Host(), strconv.Itoa(srv.Port()))
	for _, nb := range []int{100, 1000} {
		for _, d := range []drive.Driver{drive.Process, drive.Threads, drive.Do} {
			t.Run(strconv.Itoa(nb)+"/"+d.Name, func(t *testing.T) {
				px := newH2Srv(t, "tcp", "127.0.0.1:0", func(_ int, c net.Conn) {
					up, err := net.Dial("tcp", backend)
					if err != nil {
						return
					}
					defer up.Close()
					go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
					_, _ = io.CopyN(c, up, int64(nb))
					_, _ = io.Copy(io.Discard, up)
				})
				n := New()
				defer n.Close()
				_ = n.SetTLSOptions(httpclient.TLSClient(ca.Pool(), "localhost"))
				_ = n.SetTimeout(300 * time.Millisecond)
				url := "https://127.0.0.1:" + strconv.Itoa(px.port()) + "/"
				start := time.Now()
				o := driverCase{d}.run(t, n, url, nil, httpclient.MethodGet, nil)
				t.Logf("result %v after %v (%v)", o.C.Result, time.Since(start), o.Err)
				if o.C.Result != ResultTimeout {
					t.Errorf("result %v, want TIMEOUT", o.C.Result)
				}
			})
		}
	}
}

// Odd Location values: no panic, no hang, a clear result.
func TestAuditH2RedirectOddLocations(t *testing.T) {
	ok := newH2Srv(t, "tcp", "127.0.0.1:0", func(_ int, c net.Conn) {
		r := bufio.NewReader(c)
		if drive.SkipHead(r) != nil {
			return
		}
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
	})
	p := strconv.Itoa(ok.port())
	var six *h2Srv
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
		six = newH2Srv(t, "tcp", "[::1]:0", func(_ int, c net.Conn) {
			r := bufio.NewReader(c)
			if drive.SkipHead(r) != nil {
				return
			}
			_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
		})
	}
	locs := []string{
		"http://[fe80::1%25lo]:" + p + "/",
		"http://[fe80::1%lo]:" + p + "/",
		"http://[::ffff:127.0.0.1]:" + p + "/",
		"http://127.0.0.1.:" + p + "/",
		"http://2130706433:" + p + "/",
		"http://0x7f.0.0.1:" + p + "/",
		"http://a@b@127.0.0.1:" + p + "/",
		"http://127.0.0.1:+" + p + "/",
		"http://127.0.0.1: " + p + "/",
		"http://127.0.0.1:0" + p + "/",
		"http://" + strings.Repeat("a", 70000) + ":" + p + "/",
		"http://127.0.0.1:" + p + "/" + strings.Repeat("p", 200000),
		"http://127.0.0.1:" + p + "\\@evil/",
		"http:/\\127.0.0.1:" + p + "/",
		"HTTP://127.0.0.1:" + p,
		"http://127.0.0.1:" + p + "#frag",
		"?only-query",
		"#only-frag",
		"//",
		"/",
		"http://:" + p + "/",
		"http://[]:" + p + "/",
		"http://[::1]:99999/",
		"\x00",
		"http://127.0.0.1:" + p + "/a\x7fb",
	}
	if six != nil {
		locs = append(locs, "http://[::1]:"+strconv.Itoa(six.port())+"/")
	}
	for i, loc := range locs {
		for _, d := range []drive.Driver{drive.Process, drive.Do} {
			name := strconv.Itoa(i) + "/" + d.Name
			t.Run(name, func(t *testing.T) {
				main := newH2Srv(t, "tcp", "127.0.0.1:0", func(_ int, c net.Conn) {
					r := bufio.NewReader(c)
					for {
						if drive.SkipHead(r) != nil {
							return
						}
						if _, err := c.Write([]byte("HTTP/1.1 302 Found\r\nLocation: " + loc + "\r\nContent-Length: 0\r\n\r\n")); err != nil {
							return
						}
					}
				})
				n := New()
				defer n.Close()
				_ = n.SetTimeout(3 * time.Second)
				url := "http://127.0.0.1:" + strconv.Itoa(main.port()) + "/"
				start := time.Now()
				o := driverCase{d}.run(t, n, url, nil, httpclient.MethodGet, nil)
				short := loc
				if len(short) > 60 {
					short = short[:60]
				}
				if len(short) > 60 {
					short = short[:60] + "…"
				}
				errS := ""
				if o.Err != nil {
					errS = o.Err.Error()
					if len(errS) > 200 {
						errS = errS[:200]
					}
				}
				t.Logf("%q → %v %d (%s) in %v", short, o.C.Result, o.C.ResponseCode, errS, time.Since(start).Round(time.Millisecond))
				if o.C.Result == ResultTimeout {
					t.Errorf("timeout")
				}
			})
		}
	}
}

// With the node's keep-alive on, bytes the server sent after a complete
// response are not the next request's answer.
func TestAuditH2NodeKeepAliveStaleBytes(t *testing.T) {
	for _, gap := range []time.Duration{0, 50 * time.Millisecond} {
		t.Run(gap.String(), func(t *testing.T) {
			var reqs atomic.Int32
			staleSent := make(chan struct{})
			srv := newH2Srv(t, "tcp", "127.0.0.1:0", func(_ int, c net.Conn) {
				r := bufio.NewReader(c)
				for {
					if drive.SkipHead(r) != nil {
						return
					}
					if reqs.Add(1) == 1 {
						_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"))
						time.Sleep(gap)
						_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"))
						close(staleSent) // on loopback the bytes are in the client's socket now
					} else {
						_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond"))
					}
				}
			})
			n := New()
			defer n.Close()
			if err := n.SetKeepAlive(true); err != nil {
				t.Fatal(err)
			}
			url := "http://127.0.0.1:" + strconv.Itoa(srv.port()) + "/"
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			c, err := n.Do(ctx, url, nil, httpclient.MethodGet, nil)
			if err != nil || string(c.Body) != "first" {
				t.Fatalf("first: %q %v", c.Body, err)
			}
			<-staleSent // however late a loaded machine runs the server
			c, err = n.Do(ctx, url, nil, httpclient.MethodGet, nil)
			t.Logf("second: %q %v (server saw %d requests)", c.Body, err, reqs.Load())
			if string(c.Body) != "second" {
				t.Errorf("second request got %q, want \"second\"", c.Body)
			}
		})
	}
}
