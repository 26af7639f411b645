package httpclient

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/internal/tlsforge"
)

// TestTransportTLSRetryAfterCloseNotify: over TLS, a PUT on a reused
// connection whose server reads the head, sends its close_notify (what a
// TLS server's Close does) and closes without reading the body, so that
// the body's write fails (the close resets). The close_notify waits in the
// client's socket when the write fails: an alert, not a byte of a
// response, so the request is sent again on a new connection (the retry
// rule of the Transport's doc, net/http's) — it was taken for the start of
// an answer (the socket was peeked for any bytes, records included). With
// an answer before the close_notify (a 413), the response had begun and
// the PUT is sent once, as over plain TCP
// (TestTransportNoRetryAfterEarlyAnswer). Deterministic: what the server
// wrote is acknowledged (TIOCOUTQ 0) before the reset, and the 16 MiB body
// cannot fit the socket buffers.
func TestTransportTLSRetryAfterCloseNotify(t *testing.T) {
	ca := ts.NewCA(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, "127.0.0.1")}}
	for _, answer := range []bool{false, true} {
		name := "close_notify"
		if answer {
			name = "413+close_notify"
		}
		t.Run(name, func(t *testing.T) {
			var puts, conns atomic.Int32
			got := make(chan int, 2) // the body bytes of a PUT read whole
			ln := drive.Serve(t, func(raw net.Conn) {
				first := conns.Add(1) == 1
				c := tls.Server(raw, cfg)
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					method, hdr, ok := tcReadHead(br)
					if !ok {
						return
					}
					if method == http.MethodPut {
						puts.Add(1)
						if first {
							if answer {
								_, _ = io.WriteString(c, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
							}
							_ = c.CloseWrite() // close_notify
							drive.AwaitSent(raw.(*net.TCPConn), time.Second, 20*time.Millisecond)
							_ = raw.(*net.TCPConn).SetLinger(0)
							_ = raw.Close() // the body unread: a reset
							return
						}
						n, _ := io.Copy(io.Discard, io.LimitReader(br, 16<<20))
						got <- int(n)
						_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndone")
						return
					}
					tcReadBody(br, hdr)
					if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); err != nil {
						return
					}
				}
			})
			url := "https://" + ln.Addr().String() + "/"
			tr := &Transport{TLS: TLSClient(ca.Pool(), "")}
			defer tr.CloseIdleConnections()
			resp, err := tr.RoundTrip(mustRequest(t, url)) // the connection the PUT reuses
			require.NoError(t, err)
			_, _ = io.ReadAll(resp.Body)
			require.NoError(t, resp.Body.Close())

			putOnceOrTwice(t, tr, url, !answer, &puts, got)
		})
	}
}

// TestTransportTLSRetryRecordsBeforeReset: what a TLS server sends on a
// reused connection after it read a PUT's head and before it resets the
// connection with the body unread decides the retry by application data
// alone (PartialResponse, net/http's rule: it counts decrypted bytes).
// Records crypto/tls takes in passing before a close_notify — a session
// ticket, a KeyUpdate — or a fatal alert, or the start of a record whose
// rest the reset dropped, are no answer: the PUT is sent again on a new
// connection. A ticket before an answer does not hide the answer: the PUT
// is sent once. Deterministic as TestTransportTLSRetryAfterCloseNotify.
func TestTransportTLSRetryRecordsBeforeReset(t *testing.T) {
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "127.0.0.1")
	closeNotify := func(f *forger) error { return f.Alert(tlsforge.AlertWarning, tlsforge.AlertCloseNotify) }
	ticket := func(f *forger) error { return f.Ticket() }
	for _, tc := range []struct {
		name  string
		mid   func(f *forger) error
		retry bool
	}{
		{"ticket+close_notify", steps(ticket, closeNotify), true},
		{"keyupdate+close_notify", steps(func(f *forger) error { return f.KeyUpdate(false) }, closeNotify), true},
		{"fatal-alert", func(f *forger) error { return f.Alert(tlsforge.AlertFatal, tlsforge.AlertInternalError) }, true},
		{"partial-record", partialRecord, true},
		{"ticket+413+close_notify", steps(ticket, sendApp("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), closeNotify), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var puts, conns atomic.Int32
			got := make(chan int, 2) // the body bytes of a PUT read whole
			ln := drive.Serve(t, func(raw net.Conn) {
				first := conns.Add(1) == 1
				f := forgeAccept(raw, cert, tls.VersionTLS13)
				if f == nil {
					return
				}
				for {
					method, hdr, ok := tcReadHead(f.R)
					if !ok {
						return
					}
					if method != http.MethodPut {
						if !tcReadBody(f.R, hdr) || f.App("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") != nil {
							return
						}
						continue
					}
					puts.Add(1)
					if first {
						_ = tc.mid(f)
						drive.AwaitSent(raw.(*net.TCPConn), time.Second, 20*time.Millisecond)
						_ = raw.(*net.TCPConn).SetLinger(0)
						_ = raw.Close() // the body unread: a reset
						return
					}
					n, _ := io.Copy(io.Discard, io.LimitReader(f.R, 16<<20))
					got <- int(n)
					_ = f.App("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndone")
					return
				}
			})
			url := "https://" + ln.Addr().String() + "/"
			tr := newTransport(t)
			tr.TLS = TLSClient(ca.Pool(), "")
			_, body := get(t, tr, url) // the connection the PUT reuses
			require.Equal(t, "ok", string(body))

			putOnceOrTwice(t, tr, url, tc.retry, &puts, got)
		})
	}
}

// putOnceOrTwice sends a PUT of a 16 MiB body to url through tr, whose
// server counts the PUTs it receives in puts and sends the length of a
// body it read whole on got (answering "done"): with retry, the PUT must
// have been sent again and answered; without, sent once.
func putOnceOrTwice(t *testing.T, tr *Transport, url string, retry bool, puts *atomic.Int32, got <-chan int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(make([]byte, 16<<20)))
	require.NoError(t, err)
	resp, err := tr.RoundTrip(req)
	if !retry {
		if err == nil {
			t.Logf("status %d", resp.StatusCode)
			_ = resp.Body.Close()
		}
		assert.EqualValues(t, 1, puts.Load(), "PUTs the server received: its answer had come, the request is not sent again")
		return
	}
	require.NoError(t, err, "the PUT was not sent again")
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "done", string(b))
	assert.EqualValues(t, 2, puts.Load())
	assert.Equal(t, 16<<20, <-got, "the body sent again, whole")
}
