package httpclient

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/internal/tlsforge"
)

// idleRecordCases are records a TLS server sends on a kept connection after
// its response, while it is idle (CONNECTED), and what they leave:
//   - reuse: the connection may carry another request (Reusable). A session
//     ticket, a KeyUpdate (updating or not the client's keys), a TLS 1.2
//     warning alert or an empty record is no byte of a response: crypto/tls
//     takes it in passing, and net/http's Transport, whose read loop takes
//     it the same way, reuses the connection. The raw look at the socket
//     counted those records as stray bytes, so the connection was dropped:
//     a new connection, and a new TLS handshake, for nothing.
//   - godot: the status Godot's client is in after a Poll
//     (StreamPeerMbedTLS::poll's zero-length read, §1.6.3.1): mbedTLS
//     ignores tickets and warning alerts; a close_notify, a fatal alert, a
//     record cut by the FIN or a reset end the connection. Its KeyUpdate is
//     an unexpected message (CONNECTION_ERROR, COMPAT.md H16: the port's
//     crypto/tls updates its keys and goes on); that row pins the port.
//   - a record not whole yet may be application data (under TLS 1.3 every
//     record looks like it until decrypted): the connection is not reused,
//     however many Polls look at it — crypto/tls holds its start, where the
//     look at the socket sees nothing.
var idleRecordCases = []struct {
	name    string
	version uint16
	after   func(f *forger) error
	reuse   bool
	godot   Status
}{
	{"tls13-ticket", tls.VersionTLS13, func(f *forger) error { return f.Ticket() }, true, StatusConnected},
	{"tls13-3-tickets", tls.VersionTLS13, steps(repeat(3, func(f *forger) error { return f.Ticket() })), true, StatusConnected},
	{"tls13-keyupdate", tls.VersionTLS13, func(f *forger) error { return f.KeyUpdate(false) }, true, StatusConnected},
	{"tls13-keyupdate-requested", tls.VersionTLS13, func(f *forger) error { return f.KeyUpdate(true) }, true, StatusConnected},
	{"tls12-warning-alert", tls.VersionTLS12, func(f *forger) error { return f.Alert(tlsforge.AlertWarning, tlsforge.AlertUnrecognizedSNI) }, true, StatusConnected},
	{"tls12-empty-record", tls.VersionTLS12, func(f *forger) error { return f.App("") }, true, StatusConnected},
	{"tls13-ticket-then-data", tls.VersionTLS13, steps(func(f *forger) error { return f.Ticket() }, sendApp("x")), false, StatusConnected},
	{"tls13-partial-record", tls.VersionTLS13, partialRecord, false, StatusConnected},
	{"tls13-ticket-then-partial-record", tls.VersionTLS13, steps(func(f *forger) error { return f.Ticket() }, partialRecord), false, StatusConnected},
	{"tls13-close_notify", tls.VersionTLS13, func(f *forger) error { return f.Alert(tlsforge.AlertWarning, tlsforge.AlertCloseNotify) }, false, StatusConnectionError},
	{"tls13-close_notify-fin", tls.VersionTLS13, func(f *forger) error {
		_ = f.Alert(tlsforge.AlertWarning, tlsforge.AlertCloseNotify)
		return f.Raw.(*net.TCPConn).CloseWrite()
	}, false, StatusConnectionError},
	{"tls13-close_notify-rst", tls.VersionTLS13, func(f *forger) error {
		_ = f.Alert(tlsforge.AlertWarning, tlsforge.AlertCloseNotify)
		drive.AwaitSent(f.Raw.(*net.TCPConn), time.Second, 20*time.Millisecond)
		_ = f.Raw.(*net.TCPConn).SetLinger(0)
		return f.Raw.Close()
	}, false, StatusConnectionError},
	{"tls13-fatal-alert", tls.VersionTLS13, func(f *forger) error { return f.Alert(tlsforge.AlertFatal, tlsforge.AlertInternalError) }, false, StatusConnectionError},
	{"tls13-record-cut-by-fin", tls.VersionTLS13, func(f *forger) error {
		_ = partialRecord(f)
		return f.Raw.(*net.TCPConn).CloseWrite()
	}, false, StatusConnectionError},
}

// skipIdleRecordsFallback skips the idle-record tests with the portable
// fallback (-tags gdhttp_portable): there the look that reads records in
// passing only starts the background read of what comes behind them, so
// it cannot tell whether data came too, and it keeps the raw look's answer
// (stray) for that Poll; what a later Poll sees depends on when that read
// ends. These tests pin the peek's exact timing.
func skipIdleRecordsFallback(t *testing.T) {
	if !peekSupported {
		t.Skip("Poll-exact TLS idle records need the socket peek (unix)")
	}
}

// partialRecord writes the header and 3 bytes of an application data
// record, whose rest never comes.
func partialRecord(f *forger) error {
	_, err := f.Raw.Write(f.Seal(tlsforge.RecordApplication, []byte("HTTP/1.1 200 OK\r\n"))[:8])
	return err
}

// idleRecordsServer runs a TLS server (version only) that answers every
// request with reuseFirst on its first connection and reuseFresh on later
// ones; after the first response it runs after, waits until what it wrote
// is acknowledged, and closes written. conns counts the connections.
func idleRecordsServer(t *testing.T, cert tls.Certificate, version uint16, after func(f *forger) error) (port int, written <-chan struct{}, conns *atomic.Int32) {
	t.Helper()
	w := make(chan struct{})
	conns = new(atomic.Int32)
	ln := drive.Serve(t, func(raw net.Conn) {
		first := conns.Add(1) == 1
		f := forgeAccept(raw, cert, version)
		if f == nil {
			return
		}
		for k := 0; ; k++ {
			if _, ok := f.ReadHead(); !ok {
				return
			}
			resp := reuseFresh
			if first && k == 0 {
				resp = reuseFirst
			}
			if f.App(resp) != nil {
				return
			}
			if first && k == 0 {
				err := after(f)
				drive.AwaitSent(raw.(*net.TCPConn), time.Second, 20*time.Millisecond)
				close(w)
				if err != nil {
					return
				}
			}
		}
	})
	return drive.Port(ln), w, conns
}

// TestClientReusableTLSIdleRecords: Reusable, and the status of the Polls
// that look at the connection, after each of idleRecordCases has arrived;
// a connection found reusable carries a second request and gets its
// answer. Both modes.
func TestClientReusableTLSIdleRecords(t *testing.T) {
	skipIdleRecordsFallback(t)
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "127.0.0.1")
	for _, tc := range idleRecordCases {
		for _, m := range modes {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				port, written, conns := idleRecordsServer(t, cert, tc.version, tc.after)
				c := New()
				defer c.Close()
				c.SetBlockingMode(m.blocking)
				require.NoError(t, connect(t, c, "127.0.0.1", port, TLSClient(ca.Pool(), "")))
				require.Equal(t, "ok", tlsIdleExchange(t, c))
				require.True(t, drive.Closed(written, driveTimeout), "the server did not write its records")
				want := tc.godot
				if tc.name == "tls13-keyupdate" || tc.name == "tls13-keyupdate-requested" {
					want = StatusConnected // COMPAT.md H16 (Godot: CONNECTION_ERROR)
				}
				// Two looks: the first reads what has come (as the Transport
				// and the node look once before they reuse a connection); a
				// record not whole yet must still count at the second.
				for i := range 2 {
					_ = c.Poll()
					require.Equal(t, want, c.Status(), "Poll %d: last error %v", i+1, c.LastError())
					require.Equal(t, tc.reuse, c.Reusable(), "Reusable after Poll %d", i+1)
				}
				if !tc.reuse {
					return
				}
				assert.Equal(t, "fresh", tlsIdleExchange(t, c), "the second request on the kept connection")
				assert.EqualValues(t, 1, conns.Load())
			})
		}
	}
}

// tlsIdleExchange sends a GET on c (CONNECTED) and reads its response to
// the end; it returns the body.
func tlsIdleExchange(t *testing.T, c *Client) string {
	t.Helper()
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	var body []byte
	for c.Status() == StatusRequesting || c.Status() == StatusBody {
		if c.Status() == StatusBody {
			var err error
			if body, err = c.AppendResponseBodyChunk(body); err != io.EOF {
				require.NoError(t, err)
			}
			continue
		}
		require.NoError(t, c.Poll())
		if !c.blocking {
			time.Sleep(pollGap)
		}
	}
	require.Equal(t, StatusConnected, c.Status(), "last error %v", c.LastError())
	return string(body)
}

// TestTransportTLSIdleRecords: the Transport's side of
// TestClientReusableTLSIdleRecords — a kept connection on which a session
// ticket, a KeyUpdate, a warning alert or an empty record arrived while it
// was idle carries the next request (net/http's Transport reuses it too);
// one the server closed, or on which application data or a record not
// whole yet arrived, does not.
func TestTransportTLSIdleRecords(t *testing.T) {
	skipIdleRecordsFallback(t)
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "127.0.0.1")
	for _, tc := range idleRecordCases {
		t.Run(tc.name, func(t *testing.T) {
			port, written, conns := idleRecordsServer(t, cert, tc.version, tc.after)
			tr := newTransport(t)
			tr.TLS = TLSClient(ca.Pool(), "")
			url := fmt.Sprintf("https://127.0.0.1:%d/", port)
			_, body := get(t, tr, url)
			require.Equal(t, "ok", string(body))
			require.True(t, drive.Closed(written, driveTimeout), "the server did not write its records")
			_, body = get(t, tr, url)
			assert.Equal(t, "fresh", string(body))
			want := int32(2)
			if tc.reuse {
				want = 1
			}
			assert.Equal(t, want, conns.Load(), "connections (reuse %v)", tc.reuse)
		})
	}
}

// TestTLSRequestAfterHeldRecordAndFIN: a kept TLS connection on which the
// server sent, unasked, one whole response in a record and then a bare FIN
// (no close_notify: a 408 from a server closing an idle connection). The
// Poll in CONNECTED reads the record (Godot's TLS poll: mbedTLS holds its
// plaintext) and the FIN stays in the socket behind it: CONNECTED. A
// request made then fails at its first Poll with nothing written, as in
// Godot: its poll lets the TCP socket update first, a FIN with nothing
// queued closes it whatever mbedTLS holds, and the request's write fails
// (§1.6, §1.6.3.1, §1.6.4.1). The client took the buffered plaintext for
// bytes still in the socket, wrote the request and read that record as
// its response (BODY, code 200). Both modes.
func TestTLSRequestAfterHeldRecordAndFIN(t *testing.T) {
	skipIdleRecordsFallback(t)
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "127.0.0.1")
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			written := make(chan struct{})
			later := make(chan int64, 1) // request bytes the server read after its FIN
			ln := drive.Serve(t, func(raw net.Conn) {
				f := forgeAccept(raw, cert, tls.VersionTLS13)
				if f == nil {
					return
				}
				if _, ok := f.ReadHead(); !ok || f.App(reuseFirst) != nil || f.App(reuseSpoof) != nil {
					return
				}
				_ = raw.(*net.TCPConn).CloseWrite() // a bare FIN
				drive.AwaitSent(raw.(*net.TCPConn), time.Second, 20*time.Millisecond)
				close(written)
				n, _ := io.Copy(io.Discard, f.R)
				later <- n
			})
			c := New()
			defer c.Close()
			c.SetBlockingMode(m.blocking)
			require.NoError(t, connect(t, c, "127.0.0.1", drive.Port(ln), TLSClient(ca.Pool(), "")))
			require.Equal(t, "ok", tlsIdleExchange(t, c))
			require.True(t, drive.Closed(written, driveTimeout), "the server did not write")
			require.NoError(t, c.Poll(), "the Poll that reads the record: CONNECTED (Godot: the FIN is behind it)")
			require.Equal(t, StatusConnected, c.Status())
			assert.False(t, c.Reusable(), "a record no request asked for is buffered")

			require.NoError(t, c.Request(MethodGet, "/", nil, ""))
			err := c.Poll()
			assert.ErrorIs(t, err, ErrConnectionError)
			assert.ErrorIs(t, err, ErrPeerClosed)
			assert.Equal(t, StatusConnectionError, c.Status(), "Godot: the TCP poll closed the socket, the write fails (code %d)", c.ResponseCode())
			c.Close()
			select {
			case n := <-later:
				assert.Zero(t, n, "request bytes written after the server's FIN")
			case <-time.After(driveTimeout):
				t.Fatal("the server did not see the client go")
			}
		})
	}
}
