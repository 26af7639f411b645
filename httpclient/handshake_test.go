package httpclient

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// routeDial returns a dial hook that sends 127.0.0.2:* to target (a real
// loopback server) and dials every other address as given, and the list of
// addresses dialed.
func routeDial(target string) (func(context.Context, string, string) (net.Conn, error), func() []string) {
	var mu sync.Mutex
	var tried []string
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			tried = append(tried, addr)
			mu.Unlock()
			if strings.HasPrefix(addr, "127.0.0.2:") {
				addr = target
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}, func() []string {
			mu.Lock()
			defer mu.Unlock()
			return append([]string(nil), tried...)
		}
}

// TestTCPEndDuringHandshake covers issue 7 rule 5 (§1.6.2.2, §1.6.2.5):
// a TCP FIN or RST during the TLS handshake is a TCP failure — Godot's poll
// checks the TCP status before it steps the handshake — so the remaining
// resolved addresses are tried and, when none is left, the status is
// CANT_CONNECT (Poll: ERR_CANT_CONNECT, cause the transport's error). A
// handshake that fails on TLS itself stays TLS_HANDSHAKE_ERROR and tries no
// other address.
func TestTCPEndDuringHandshake(t *testing.T) {
	ca := ts.NewCA(t)
	ends := []struct {
		name    string
		handler func(*ts.Conn)
		cause   func(t *testing.T, err error)
	}{
		{"fin-after-client-hello", ts.Script(ts.ReadSome(), ts.Close()), func(t *testing.T, err error) {
			assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF), "EOF in %v", err)
		}},
		{"fin-at-once", ts.Script(ts.Close()), nil},
		{"rst-after-client-hello", ts.Script(ts.ReadSome(), ts.Reset()), func(t *testing.T, err error) {
			assert.True(t, errors.Is(err, syscall.ECONNRESET), "ECONNRESET in %v", err)
		}},
		{"fin-after-a-pause", ts.Script(ts.ReadSome(), ts.Sleep(20*time.Millisecond), ts.Close()), nil},
	}
	for _, e := range ends {
		for _, m := range modes {
			t.Run("one-address/"+e.name+"/"+m.name, func(t *testing.T) {
				bad := ts.New(t, e.handler)
				c, tr := newClient(t, m.blocking)
				err := connect(t, c, "127.0.0.1", bad.Port(), TLSClient(ca.Pool(), ""))
				assert.Equal(t, statuses(StatusConnecting, StatusCantConnect), *tr)
				assert.True(t, errors.Is(err, ErrCantConnect), "%v", err)
				if e.cause != nil {
					e.cause(t, err)
				}
				var he *HandshakeEndError
				assert.ErrorAs(t, err, &he, "the cause says the handshake was cut")
				assert.True(t, errors.Is(c.Poll(), ErrCantConnect), "later polls: ERR_CANT_CONNECT")
				assert.Equal(t, err, c.LastError())
			})
			t.Run("second-address-works/"+e.name+"/"+m.name, func(t *testing.T) {
				bad := ts.New(t, e.handler)
				good := ts.NewTLS(t, ca.Issue(t, "multi.example"), ts.Respond(okResp))
				c, tr := newClient(t, m.blocking)
				c.lookup, _ = fakeLookup("127.0.0.1", "127.0.0.2")
				var tried func() []string
				c.dialFn, tried = routeDial(good.Addr())
				r := roundTrip(t, c, tr, "multi.example", bad.Port(), TLSClient(ca.Pool(), ""), getRoot, pathChunks, false)
				assert.Equal(t, concat(statuses(StatusResolving), concat(connected, StatusBody, StatusConnected)...), r.Trace)
				assert.Equal(t, "ok", r.Body)
				p := strconv.Itoa(bad.Port())
				assert.Equal(t, []string{"127.0.0.1:" + p, "127.0.0.2:" + p}, tried())
				c.Close()
				bad.Close()
				good.Close()
				assert.Equal(t, 1, bad.Accepted())
				assert.Equal(t, []string{"multi.example"}, good.ServerNames(), "a fresh handshake on the second address")
			})
			t.Run("every-address-ends/"+e.name+"/"+m.name, func(t *testing.T) {
				bad := ts.New(t, e.handler)
				c, tr := newClient(t, m.blocking)
				c.lookup, _ = fakeLookup("127.0.0.1", "127.0.0.1")
				err := connect(t, c, "multi.example", bad.Port(), TLSClient(ca.Pool(), ""))
				assert.Equal(t, statuses(StatusResolving, StatusConnecting, StatusCantConnect), *tr)
				assert.True(t, errors.Is(err, ErrCantConnect), "%v", err)
				c.Close()
				bad.Close()
				assert.Equal(t, 2, bad.Accepted(), "both addresses tried")
			})
		}
	}
	// A TLS-level failure on the first address: TLS_HANDSHAKE_ERROR, the
	// working second address is not tried (§1.6.2.5).
	for _, m := range modes {
		t.Run("certificate-error-tries-no-other-address/"+m.name, func(t *testing.T) {
			bad := ts.NewTLS(t, ts.NewCA(t).Issue(t, "multi.example"), ts.Respond(okResp))
			good := ts.NewTLS(t, ca.Issue(t, "multi.example"), ts.Respond(okResp))
			c, tr := newClient(t, m.blocking)
			c.lookup, _ = fakeLookup("127.0.0.1", "127.0.0.2")
			var tried func() []string
			c.dialFn, tried = routeDial(good.Addr())
			err := connect(t, c, "multi.example", bad.Port(), TLSClient(ca.Pool(), ""))
			assert.Equal(t, statuses(StatusResolving, StatusConnecting, StatusTLSHandshakeError), *tr)
			assert.True(t, errors.Is(err, ErrCantConnect), "%v", err)
			var ua x509.UnknownAuthorityError
			assert.True(t, errors.As(err, &ua), "%v", err)
			assert.Len(t, tried(), 1)
		})
		t.Run("bytes-then-fin-is-tls-error/"+m.name, func(t *testing.T) {
			// A partial record followed at once by a FIN: Godot's TCP check
			// still sees bytes queued, the handshake step reads them and then
			// meets the end itself (a TLS failure).
			bad := ts.New(t, ts.Script(ts.ReadSome(), ts.WriteAndClose([]byte("\x16\x03\x03\x00\x40\x02"))))
			c, tr := newClient(t, m.blocking)
			c.lookup, _ = fakeLookup("127.0.0.1", "127.0.0.1")
			err := connect(t, c, "multi.example", bad.Port(), TLSClient(ca.Pool(), ""))
			assert.Equal(t, statuses(StatusResolving, StatusConnecting, StatusTLSHandshakeError), *tr)
			assert.True(t, errors.Is(err, ErrCantConnect), "%v", err)
			assert.True(t, errors.Is(err, io.ErrUnexpectedEOF), "%v", err)
			c.Close()
			bad.Close()
			assert.Equal(t, 1, bad.Accepted())
		})
		t.Run("alert-then-fin-is-tls-error/"+m.name, func(t *testing.T) {
			// A fatal handshake_failure alert followed by a FIN: the alert is
			// read first, as Godot's TCP check still sees bytes queued.
			bad := ts.New(t, ts.Script(ts.ReadSome(), ts.WriteAndClose([]byte("\x15\x03\x03\x00\x02\x02\x28"))))
			c, tr := newClient(t, m.blocking)
			c.lookup, _ = fakeLookup("127.0.0.1", "127.0.0.1")
			err := connect(t, c, "multi.example", bad.Port(), TLSClient(ca.Pool(), ""))
			assert.Equal(t, statuses(StatusResolving, StatusConnecting, StatusTLSHandshakeError), *tr)
			assert.True(t, errors.Is(err, ErrCantConnect), "%v", err)
			assert.Contains(t, err.Error(), "handshake failure")
			c.Close()
			bad.Close()
			assert.Equal(t, 1, bad.Accepted())
		})
	}
}
