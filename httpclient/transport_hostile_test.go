package httpclient

// Audit hostile2: probes of hostile-server behaviours the corpus does not
// cover (Transport body close, request-body close, stale keep-alive bytes,
// stalls at TLS handshake messages, Abort from another goroutine).

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// h2Server is a loopback server (drive.Listen): stop ends it before the
// test does.
type h2Server struct {
	ln   net.Listener
	stop func()
}

func newH2Server(t *testing.T, h func(i int, c net.Conn)) *h2Server {
	t.Helper()
	ln, stop := drive.Listen(t, "tcp", "127.0.0.1:0", h)
	return &h2Server{ln, stop}
}

func (s *h2Server) url() string { return "http://" + s.ln.Addr().String() + "/" }

// within runs f and fails if it takes longer than d.
func h2Within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still blocked after %v", what, d)
	}
}

// T1/T2: closing a response body whose server streams forever must not
// drain it forever.
func TestAuditH2TransportCloseEndlessBody(t *testing.T) {
	for _, tc := range []struct{ name, head, blk string }{
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "4\r\nxxxx\r\n"},
		{"until-close", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", "xxxxxxxx"},
		{"cl-huge", "HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n", "xxxxxxxx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h2NoLeak(t)
			srv := newH2Server(t, func(_ int, c net.Conn) {
				r := bufio.NewReader(c)
				if drive.SkipHead(r) != nil {
					return
				}
				_, _ = c.Write([]byte(tc.head))
				blk := []byte(strings.Repeat(tc.blk, 2048))
				for {
					if _, err := c.Write(blk); err != nil {
						return
					}
				}
			})
			tr := &Transport{}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr}).Get(srv.url())
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 10)
			if _, err := io.ReadFull(resp.Body, buf); err != nil {
				t.Fatal(err)
			}
			h2Within(t, 2*time.Second, "resp.Body.Close on an endless body", func() { _ = resp.Body.Close() })
			srv.stop()
		})
	}
}

// A blocked body Read must end when another goroutine closes the body, or
// when the request's context is cancelled.
func TestAuditH2TransportUnblockStalledRead(t *testing.T) {
	for _, how := range []string{"close", "cancel"} {
		t.Run(how, func(t *testing.T) {
			h2NoLeak(t)
			hold := make(chan struct{})
			srv := newH2Server(t, func(_ int, c net.Conn) {
				r := bufio.NewReader(c)
				if drive.SkipHead(r) != nil {
					return
				}
				_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"))
				<-hold
			})
			defer close(hold)
			tr := &Transport{}
			defer tr.CloseIdleConnections()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.url(), nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 2)
			if _, err := io.ReadFull(resp.Body, buf); err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() { _, err := resp.Body.Read(make([]byte, 8)); errc <- err }()
			time.Sleep(50 * time.Millisecond)
			if how == "close" {
				go resp.Body.Close()
			} else {
				cancel()
			}
			select {
			case err := <-errc:
				if err == nil {
					t.Fatal("read returned nil error")
				}
				t.Logf("read ended: %v", err)
			case <-time.After(2 * time.Second):
				t.Fatal("blocked Read not ended by " + how)
			}
			_ = resp.Body.Close()
		})
	}
}

type h2CloseTracker struct {
	r      io.Reader
	closed atomic.Bool
}

func (c *h2CloseTracker) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *h2CloseTracker) Close() error               { c.closed.Store(true); return nil }

// The request body must be closed by RoundTrip whatever the server does
// (http.RoundTripper contract), and an early answer must not hang the write.
func TestAuditH2TransportRequestBodyClosed(t *testing.T) {
	cases := map[string]func(i int, c net.Conn){
		"reset-before-read": func(_ int, c net.Conn) {
			_ = c.(*net.TCPConn).SetLinger(0)
			_ = c.Close()
		},
		"early-413-close-no-read": func(_ int, c net.Conn) {
			r := bufio.NewReader(c)
			_ = drive.SkipHead(r)
			_, _ = c.Write([]byte("HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			time.Sleep(20 * time.Millisecond)
			_ = c.Close()
		},
		"early-413-hold-no-read": func(_ int, c net.Conn) {
			r := bufio.NewReader(c)
			_ = drive.SkipHead(r)
			_, _ = c.Write([]byte("HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n"))
			time.Sleep(3 * time.Second)
		},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			h2NoLeak(t)
			srv := newH2Server(t, h)
			tr := &Transport{}
			defer tr.CloseIdleConnections()
			body := &h2CloseTracker{r: io.LimitReader(h2Zero{}, 64<<20)}
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "POST", srv.url(), body)
			req.ContentLength = 64 << 20
			var resp *http.Response
			var err error
			h2Within(t, 3*time.Second, "RoundTrip", func() { resp, err = tr.RoundTrip(req) })
			if err == nil {
				t.Logf("response %d", resp.StatusCode)
				resp.Body.Close()
			} else {
				t.Logf("error: %v", err)
			}
			if !body.closed.Load() {
				t.Error("request body not closed by RoundTrip")
			}
			srv.stop()
		})
	}
}

type h2Zero struct{}

func (h2Zero) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// Bytes the server sends after a complete keep-alive response, while the
// connection is idle, are not the answer to the next request.
func TestAuditH2TransportStaleBytesOnIdle(t *testing.T) {
	for _, gap := range []time.Duration{0, 50 * time.Millisecond} {
		t.Run(gap.String(), func(t *testing.T) {
			h2NoLeak(t)
			var reqs atomic.Int32
			staleSent := make(chan struct{})
			srv := newH2Server(t, func(i int, c net.Conn) {
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
			tr := &Transport{}
			defer tr.CloseIdleConnections()
			cl := &http.Client{Transport: tr, Timeout: 3 * time.Second}
			get := func() string {
				resp, err := cl.Get(srv.url())
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
			if b := get(); b != "first" {
				t.Fatalf("first = %q", b)
			}
			<-staleSent // however late a loaded machine runs the server
			if b := get(); b != "second" {
				t.Fatalf("second request got %q (the server's unsolicited bytes), want \"second\"", b)
			}
			srv.stop()
		})
	}
}

// h2StallProxy forwards to a TLS server but passes only the first n bytes
// the server sends (then holds): the client stalls inside the handshake.
func h2StallProxy(t *testing.T, backend string, n int) *h2Server {
	return newH2Server(t, func(_ int, c net.Conn) {
		up, err := net.Dial("tcp", backend)
		if err != nil {
			return
		}
		defer up.Close()
		go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
		_, _ = io.CopyN(c, up, int64(n))
		buf := make([]byte, 4096)
		for {
			if _, err := up.Read(buf); err != nil {
				return
			}
		}
	})
}

// A TLS handshake that stalls after the server's first n bytes must end at
// the Transport's context deadline, and the blocking client's Abort.
func TestAuditH2TLSHandshakeStallAtEachMessage(t *testing.T) {
	ca := ts.NewCA(t)
	for _, ver := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		srv := ts.NewTLS(t, ca.Issue(t, "localhost", "127.0.0.1"), ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
			ts.WithTLSConfig(func(c *tls.Config) { c.MaxVersion = ver }))
		backend := net.JoinHostPort(srv.Host(), h2itoa(srv.Port()))
		for _, n := range []int{0, 5, 60, 200} {
			t.Run(tls.VersionName(ver)+"/"+h2itoa(n), func(t *testing.T) {
				px := h2StallProxy(t, backend, n)
				tr := &Transport{TLS: TLSClient(ca.Pool(), "")}
				defer tr.CloseIdleConnections()
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, "GET", "https://"+px.ln.Addr().String()+"/", nil)
				var err error
				h2Within(t, 2*time.Second, "RoundTrip past its deadline", func() {
					var resp *http.Response
					resp, err = tr.RoundTrip(req)
					if err == nil {
						resp.Body.Close()
					}
				})
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("err = %v, want the deadline", err)
				}
				// blocking client + Abort from another goroutine
				c := New()
				c.SetBlockingMode(true)
				host, port, _ := net.SplitHostPort(px.ln.Addr().String())
				if err := c.ConnectToHost(host, h2atoi(port), TLSClient(ca.Pool(), "")); err != nil {
					t.Fatal(err)
				}
				go func() { time.Sleep(200 * time.Millisecond); c.Abort() }()
				h2Within(t, 2*time.Second, "blocking Poll after Abort", func() {
					for i := 0; i < 1000 && (c.Status() == StatusConnecting || c.Status() == StatusResolving); i++ {
						_ = c.Poll()
					}
				})
				c.Close()
				px.stop()
			})
		}
	}
}

func h2itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + formatInt(n)) }
func formatInt(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}
func h2atoi(s string) int {
	n := 0
	for _, ch := range s {
		n = n*10 + int(ch-'0')
	}
	return n
}

var _ = runtime.NumGoroutine

// h2NoLeak checks, after every later cleanup (servers), that no goroutine
// started during the test is left.
func h2NoLeak(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// A lenient 1xx is Godot's final response (§1.8.7), bodiless: its
// connection goes back to the pool at once. The real response that follows
// (at once or a moment later) must not become the next request's answer.
func TestAuditH2Transport1xxThenStale(t *testing.T) {
	for _, gap := range []time.Duration{0, 30 * time.Millisecond} {
		for _, first := range []string{"HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 304 Not Modified\r\n\r\n"} {
			t.Run(gap.String()+"/"+first[9:12], func(t *testing.T) {
				h2NoLeak(t)
				var reqs atomic.Int32
				staleSent := make(chan struct{})
				srv := newH2Server(t, func(i int, c net.Conn) {
					r := bufio.NewReader(c)
					for {
						if drive.SkipHead(r) != nil {
							return
						}
						if reqs.Add(1) == 1 {
							_, _ = c.Write([]byte(first))
							time.Sleep(gap)
							_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"))
							close(staleSent) // on loopback the bytes are in the client's socket now
						} else {
							_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond"))
						}
					}
				})
				tr := &Transport{}
				defer tr.CloseIdleConnections()
				cl := &http.Client{Transport: tr, Timeout: 3 * time.Second}
				resp, err := cl.Get(srv.url())
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				t.Logf("first: %d %q", resp.StatusCode, b)
				<-staleSent // however late a loaded machine runs the server
				resp, err = cl.Get(srv.url())
				if err != nil {
					t.Fatal(err)
				}
				b, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != "second" {
					t.Errorf("second request got %d %q, want \"second\"", resp.StatusCode, b)
				}
				srv.stop()
			})
		}
	}
}

// Responses that say the connection ends (Connection: close, HTTP/1.0
// without keep-alive, a Connection list naming close) from a server that
// then answers nothing more on it: the next request must take a new
// connection, not wait on the old one.
func TestAuditH2TransportNoReuseAfterCloseSignals(t *testing.T) {
	for _, first := range []string{
		"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nfirst",
		"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nfirst",
		"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 5\r\n\r\nfirst",
		"HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 5\r\n\r\nfirst",
		"HTTP/1.1 200 OK\r\nConnection: upgrade\r\nConnection: close\r\nContent-Length: 5\r\n\r\nfirst",
	} {
		t.Run(strings.ReplaceAll(first[:40], "\r\n", "|"), func(t *testing.T) {
			h2NoLeak(t)
			var conns atomic.Int32
			srv := newH2Server(t, func(i int, c net.Conn) {
				r := bufio.NewReader(c)
				if drive.SkipHead(r) != nil {
					return
				}
				if conns.Add(1) == 1 {
					_, _ = c.Write([]byte(first))
				} else {
					_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond"))
				}
				_, _ = io.Copy(io.Discard, r) // never answers again, never closes
			})
			tr := &Transport{}
			defer tr.CloseIdleConnections()
			cl := &http.Client{Transport: tr, Timeout: 2 * time.Second}
			for i, want := range []string{"first", "second"} {
				resp, err := cl.Get(srv.url())
				if err != nil {
					t.Fatalf("request %d: %v", i+1, err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != want {
					t.Fatalf("request %d: %q", i+1, b)
				}
			}
			srv.stop()
		})
	}
}
