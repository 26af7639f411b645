//go:build unix && !gdhttp_portable

package httprequest

import (
	"crypto/tls"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/internal/tlsforge"
)

// TestKeepAliveTLSIdleRecords: SetKeepAlive (§7.2) keeps a TLS connection
// on which, while it was idle, the server sent a session ticket or a
// KeyUpdate: no byte of a response (crypto/tls takes them in passing, as
// net/http's read loop does), so the next request to the origin goes on
// it. The client's look counted the raw records as stray bytes and the
// node opened a new connection, with a new handshake. A close_notify ends
// the kept connection, and a record not whole yet may be data: a new
// connection then, as before (httpclient: TestClientReusableTLSIdleRecords,
// TestTransportTLSIdleRecords, every record there). Every driver. Unix
// only: with the portable fallback the look that reads the records cannot
// tell whether data came behind them, and the node reconnects, as before.
func TestKeepAliveTLSIdleRecords(t *testing.T) {
	ca := testserver.NewCA(t)
	cert := ca.Issue(t, "127.0.0.1")
	partial := func(c *tlsforge.Conn) error {
		_, err := c.Raw.Write(c.Seal(tlsforge.RecordApplication, []byte("HTTP/1.1 200 OK\r\n"))[:8])
		return err
	}
	for _, tc := range []struct {
		name  string
		after func(c *tlsforge.Conn) error
		reuse bool
	}{
		{"ticket", func(c *tlsforge.Conn) error { return c.Ticket() }, true},
		{"keyupdate-requested", func(c *tlsforge.Conn) error { return c.KeyUpdate(true) }, true},
		{"close_notify", func(c *tlsforge.Conn) error { return c.Alert(tlsforge.AlertWarning, tlsforge.AlertCloseNotify) }, false},
		{"partial-record", partial, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				var conns atomic.Int32
				written := make(chan struct{})
				ln := drive.Serve(t, func(raw net.Conn) {
					first := conns.Add(1) == 1
					_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
					c, err := tlsforge.Accept(raw, cert, tls.VersionTLS13)
					if err != nil {
						return
					}
					_ = raw.SetDeadline(time.Time{})
					for k := 0; ; k++ {
						if _, ok := c.ReadHead(); !ok {
							return
						}
						if !first || k > 0 {
							_ = c.App("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh")
							continue
						}
						_ = c.App("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
						err := tc.after(c)
						drive.AwaitSent(raw.(*net.TCPConn), time.Second, 20*time.Millisecond)
						close(written)
						if err != nil {
							return
						}
					}
				})
				url := "https://" + ln.Addr().String() + "/"
				require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(ca.Pool(), "")))
				require.NoError(t, n.SetKeepAlive(true))
				o := d.run(t, n, url, nil, httpclient.MethodGet, nil)
				require.Equal(t, ResultSuccess, o.C.Result, "%v", o.Err)
				require.Equal(t, "ok", string(o.C.Body))
				require.True(t, drive.Closed(written, 10*time.Second), "the server did not write its records")
				o = d.run(t, n, url, nil, httpclient.MethodGet, nil)
				require.Equal(t, ResultSuccess, o.C.Result, "%v", o.Err)
				assert.Equal(t, "fresh", string(o.C.Body))
				want := int32(2)
				if tc.reuse {
					want = 1
				}
				assert.Equal(t, want, conns.Load(), "connections (kept one reused: %v)", tc.reuse)
			})
		})
	}
}
