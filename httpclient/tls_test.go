package httpclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// TestTLSHandshake covers §1.6.2.5 and §1.15.5 (issue 7 rule 4): verification against the
// given roots and host name (or the common-name override), unsafe mode, and
// the failures — status TLS_HANDSHAKE_ERROR, Poll returning ERR_CANT_CONNECT
// with the crypto/tls or x509 error reachable through errors.As. SNI is the
// one name verified: the override when set, else the target host; unsafe
// options send none and, given roots, still verify the chain against them.
func TestTLSHandshake(t *testing.T) {
	ca := ts.NewCA(t)
	other := ts.NewCA(t)
	resolved := statuses(StatusResolving, StatusConnecting)
	ok := concat(resolved, StatusConnected, StatusRequesting, StatusBody, StatusConnected)
	failed := concat(resolved, StatusTLSHandshakeError)
	tests := []struct {
		name    string
		cert    tls.Certificate
		plain   bool // a plain server instead of a TLS one
		host    string
		opts    *TLSOptions
		trace   []Status
		cause   func(t *testing.T, err error)
		wantSNI string
	}{
		{name: "valid-chain", cert: ca.Issue(t, "localhost"), host: "localhost", opts: TLSClient(ca.Pool(), ""), trace: ok, wantSNI: "localhost"},
		{name: "valid-ip-literal", cert: ca.Issue(t, "127.0.0.1"), host: "127.0.0.1", opts: TLSClient(ca.Pool(), ""),
			trace: concat(connected, StatusBody, StatusConnected), wantSNI: ""}, // no SNI for an IP (RFC 6066)
		{name: "unknown-ca", cert: other.Issue(t, "localhost"), host: "localhost", opts: TLSClient(ca.Pool(), ""), trace: failed,
			cause: func(t *testing.T, err error) {
				var ua x509.UnknownAuthorityError
				assert.True(t, errors.As(err, &ua), "x509.UnknownAuthorityError in %v", err)
				var cv *tls.CertificateVerificationError
				assert.True(t, errors.As(err, &cv), "*tls.CertificateVerificationError in %v", err)
			}},
		{name: "system-roots", cert: ca.Issue(t, "localhost"), host: "localhost", opts: TLSClient(nil, ""), trace: failed,
			cause: func(t *testing.T, err error) {
				var ua x509.UnknownAuthorityError
				assert.True(t, errors.As(err, &ua), "the test CA is not in the system pool: %v", err)
			}},
		{name: "wrong-host", cert: ca.Issue(t, "other.example"), host: "localhost", opts: TLSClient(ca.Pool(), ""), trace: failed,
			cause: func(t *testing.T, err error) {
				var he x509.HostnameError
				assert.True(t, errors.As(err, &he), "x509.HostnameError in %v", err)
			}},
		// issue 7 rule 4, §1.15.5: the override is both the SNI and the name verified.
		{name: "common-name-override", cert: ca.Issue(t, "other.example"), host: "localhost", opts: TLSClient(ca.Pool(), "other.example"),
			trace: ok, wantSNI: "other.example"},
		{name: "common-name-override-mismatch", cert: ca.Issue(t, "localhost"), host: "localhost", opts: TLSClient(ca.Pool(), "other.example"),
			trace: failed, cause: func(t *testing.T, err error) {
				var he x509.HostnameError
				assert.True(t, errors.As(err, &he), "x509.HostnameError in %v", err)
			}},
		{name: "override-unknown-ca", cert: other.Issue(t, "other.example"), host: "localhost", opts: TLSClient(ca.Pool(), "other.example"),
			trace: failed, cause: func(t *testing.T, err error) {
				var ua x509.UnknownAuthorityError
				assert.True(t, errors.As(err, &ua), "x509.UnknownAuthorityError in %v", err)
			}},
		// issue 7 rule 4, §1.15.5: unsafe sends no SNI and checks no name; without roots
		// it accepts any chain, with roots the chain must still verify against them.
		{name: "unsafe-no-roots-accepts-anything", cert: other.Issue(t, "other.example"), host: "localhost", opts: TLSClientUnsafe(nil),
			trace: ok, wantSNI: ""},
		{name: "unsafe-roots-name-mismatch-accepted", cert: ca.Issue(t, "other.example"), host: "localhost", opts: TLSClientUnsafe(ca.Pool()),
			trace: ok, wantSNI: ""},
		{name: "unsafe-roots-wrong-ca-refused", cert: other.Issue(t, "localhost"), host: "localhost", opts: TLSClientUnsafe(ca.Pool()),
			trace: failed, cause: func(t *testing.T, err error) {
				var ua x509.UnknownAuthorityError
				assert.True(t, errors.As(err, &ua), "x509.UnknownAuthorityError in %v", err)
			}},
		{name: "plain-server", plain: true, host: "localhost", opts: TLSClient(ca.Pool(), ""), trace: failed,
			cause: func(t *testing.T, err error) {
				var rh tls.RecordHeaderError
				assert.True(t, errors.As(err, &rh), "tls.RecordHeaderError in %v", err)
			}},
	}
	for _, tt := range tests {
		for _, m := range modes {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				var srv *ts.Server
				if tt.plain {
					srv = ts.New(t, ts.Script(ts.ReadSome(), ts.WriteAndClose([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))))
				} else {
					srv = ts.NewTLS(t, tt.cert, ts.Respond(okResp))
				}
				c, tr := newClient(t, m.blocking)
				r := roundTrip(t, c, tr, tt.host, srv.Port(), tt.opts, getRoot, pathChunks, false)
				assert.Equal(t, tt.trace, r.Trace)
				if tt.cause == nil {
					assert.Equal(t, "ok", r.Body)
					srv.Close()
					if !tt.plain {
						assert.Equal(t, []string{tt.wantSNI}, srv.ServerNames(), "SNI")
					}
					return
				}
				// §1.6.2.5: the failing Poll returned ERR_CANT_CONNECT …
				assert.True(t, errors.Is(r.LastErr, ErrCantConnect), "%v", r.LastErr)
				var code Error
				require.True(t, errors.As(r.LastErr, &code))
				assert.Equal(t, 25, code.Code())
				tt.cause(t, r.LastErr)
				// … and later polls return ERR_CONNECTION_ERROR (§1.6 table).
				assert.True(t, errors.Is(c.Poll(), ErrConnectionError))
				assert.Equal(t, StatusTLSHandshakeError, c.Status())
			})
		}
	}
}

// TestTLSFailureTriesNoOtherAddress checks §1.6.2.5: a TLS failure does not
// try the remaining resolved addresses.
func TestTLSFailureTriesNoOtherAddress(t *testing.T) {
	ca := ts.NewCA(t)
	srv := ts.New(t, ts.Script(ts.ReadSome(), ts.WriteAndClose([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))))
	c, tr := newClient(t, false)
	c.lookup, _ = fakeLookup("127.0.0.1", "127.0.0.1")
	err := connect(t, c, "twice.example", srv.Port(), TLSClient(ca.Pool(), ""))
	assert.Equal(t, statuses(StatusResolving, StatusConnecting, StatusTLSHandshakeError), *tr)
	assert.True(t, errors.Is(err, ErrCantConnect), "%v", err)
	c.Close()
	srv.Close()
	assert.Equal(t, 1, srv.Accepted())
}

// TestTLSServerOptionsRefused checks §1.5.4.
func TestTLSServerOptionsRefused(t *testing.T) {
	ca := ts.NewCA(t)
	c, tr := newClient(t, false)
	opts := TLSServer(ca.Issue(t, "localhost"))
	assert.True(t, opts.IsServer())
	err := c.ConnectToHost("localhost", 443, opts)
	assert.True(t, errors.Is(err, ErrInvalidParameter), "%v", err)
	assert.Equal(t, StatusDisconnected, c.Status())
	assert.Empty(t, *tr)
}

// TestTLSOptionsGetters checks the TLSOptions accessors.
func TestTLSOptionsGetters(t *testing.T) {
	pool := x509.NewCertPool()
	o := TLSClient(pool, "cn.example")
	assert.False(t, o.IsServer())
	assert.False(t, o.IsUnsafeClient())
	assert.Same(t, pool, o.TrustedCACertificates())
	assert.Equal(t, "cn.example", o.CommonNameOverride())
	u := TLSClientUnsafe(nil)
	assert.True(t, u.IsUnsafeClient())
	var none *TLSOptions
	assert.False(t, none.IsServer())
	assert.Nil(t, none.TrustedCACertificates())
	assert.Equal(t, "", none.CommonNameOverride())
}

// TestTLSBodyEndings covers §1.15.4: a read-until-close body over TLS ends
// with DISCONNECTED on close_notify, and with CONNECTION_ERROR when the TCP
// connection closes without close_notify (crypto/tls reports io.EOF for
// both; the client tells them apart). §1.6.3.1: a TLS close while idle is
// CONNECTION_ERROR.
func TestTLSBodyEndings(t *testing.T) {
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "localhost")
	const untilClose = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\ndata"
	tests := []struct {
		name    string
		handler func(*ts.Conn)
		after   bool
		trace   []Status
		body    string
		cause   error
	}{
		{"until-close-close-notify", ts.Script(ts.Read(), ts.WriteString(untilClose), ts.Close()), false,
			statuses(StatusBody, StatusDisconnected), "data", nil},
		{"until-close-close-notify-later", ts.Script(ts.Read(), ts.WriteString(untilClose), ts.Sleep(50*time.Millisecond), ts.Close()), false,
			statuses(StatusBody, StatusDisconnected), "data", nil},
		{"until-close-no-close-notify", ts.Script(ts.Read(), ts.WriteString(untilClose), ts.CloseTCP()), false,
			statuses(StatusBody, StatusConnectionError), "data", ErrTLSTruncated},
		{"until-close-no-close-notify-later", ts.Script(ts.Read(), ts.WriteString(untilClose), ts.Sleep(50*time.Millisecond), ts.CloseTCP()), false,
			statuses(StatusBody, StatusConnectionError), "data", ErrTLSTruncated},
		{"fixed-then-close-notify", ts.Script(ts.Read(), ts.WriteString(okResp), ts.Sleep(20*time.Millisecond), ts.Close()), true,
			statuses(StatusBody, StatusConnected, StatusConnectionError), "ok", ErrPeerClosed},
		{"fixed-then-tcp-close", ts.Script(ts.Read(), ts.WriteString(okResp), ts.Sleep(20*time.Millisecond), ts.CloseTCP()), true,
			statuses(StatusBody, StatusConnected, StatusConnectionError), "ok", ErrTLSTruncated},
	}
	for _, tt := range tests {
		for _, m := range modes {
			for _, path := range readPaths {
				name := tt.name + "/" + m.name + "/" + path.String()
				t.Run(name, func(t *testing.T) {
					srv := ts.NewTLS(t, cert, tt.handler)
					c, tr := newClient(t, m.blocking)
					r := roundTrip(t, c, tr, "localhost", srv.Port(), TLSClient(ca.Pool(), ""), getRoot, path, tt.after)
					assert.Equal(t, concat(statuses(StatusResolving), concat(connected, tt.trace...)...), r.Trace)
					assert.Equal(t, tt.body, r.Body)
					if tt.cause == nil {
						assert.NoError(t, r.LastErr)
						assert.True(t, r.Complete)
					} else {
						assert.True(t, errors.Is(r.LastErr, tt.cause), "%v", r.LastErr)
						assert.True(t, errors.Is(r.LastErr, ErrConnectionError), "%v", r.LastErr)
					}
				})
			}
		}
	}
}

// TestTLSKeepAlive checks several requests over one TLS connection: the
// connection gives its bulk read buffer back at the end of each response,
// when it holds nothing (restBuf: an idle connection holds none), and
// holds none once closed.
func TestTLSKeepAlive(t *testing.T) {
	ca := ts.NewCA(t)
	srv := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.RespondEach(okResp))
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c, _ := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, "localhost", srv.Port(), TLSClient(ca.Pool(), "")))
			require.NotNil(t, c.st.tr)
			w := c.st.tr.w
			for i := 0; i < 3; i++ {
				require.NoError(t, c.Request(MethodGet, "/", nil, ""))
				_ = pollWhile(t, c, StatusRequesting)
				var r result
				readBody(t, c, readPaths[i%3], &r)
				assert.Equal(t, "ok", r.Body)
				assert.Equal(t, StatusConnected, c.Status())
				assert.Nil(t, w.bufp, "request %d: the idle connection holds its bulk buffer", i)
				assert.Zero(t, cap(c.rbuf), "request %d: the idle connection holds its read buffer", i)
			}
			c.Close()
			assert.Nil(t, w.bufp, "Close gives the bulk buffer back")
			assert.Nil(t, w.buf)
		})
	}
	srv.Close()
	assert.Equal(t, 2, srv.Accepted(), "one connection per mode")
}
