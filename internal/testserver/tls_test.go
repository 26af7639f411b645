package testserver_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// tlsDial connects a crypto/tls client and runs its handshake.
func tlsDial(t *testing.T, addr string, conf *tls.Config) (*tls.Conn, error) {
	t.Helper()
	raw := dial(t, addr)
	c := tls.Client(raw, conf)
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	return c, c.Handshake()
}

// TestTLSHandshakes runs crypto/tls clients against certificates from the
// test CA (§1.6.2.5, §1.15.5): valid DNS and IP names, a wrong host, an
// unknown authority, a common-name-only certificate and an expired one. The
// server records a failed handshake and the SNI of a good one.
func TestTLSHandshakes(t *testing.T) {
	ca := ts.NewCA(t)
	other := ts.NewCA(t)
	expired := func(c *x509.Certificate) {
		c.NotBefore = time.Now().Add(-48 * time.Hour)
		c.NotAfter = time.Now().Add(-24 * time.Hour)
	}
	tests := []struct {
		name       string
		cert       tls.Certificate
		ipv6       bool
		serverName string // the name the client checks (and sends as SNI unless an IP)
		wantErr    string // the x509 error expected ("hostname", "authority", "expired"), "" for success
	}{
		{"DNS name", ca.Issue(t, "localhost"), false, "localhost", ""},
		{"IPv4 SAN", ca.Issue(t, "127.0.0.1"), false, "127.0.0.1", ""},
		{"IPv6 SAN, bracketed", ca.Issue(t, "[::1]"), true, "::1", ""},
		{"several names", ca.Issue(t, "example.test", "127.0.0.1", "localhost"), false, "example.test", ""},
		{"wrong host", ca.Issue(t, "other.example"), false, "localhost", "hostname"},
		{"IP not in SANs", ca.Issue(t, "localhost"), false, "127.0.0.1", "hostname"},
		{"unknown authority", other.Issue(t, "localhost"), false, "localhost", "authority"},
		{"common name only", ca.IssueCN(t, "localhost"), false, "localhost", "hostname"},
		{"expired", ca.IssueWith(t, expired, "localhost"), false, "localhost", "expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []ts.Option
			if tc.ipv6 {
				opts = append(opts, ts.WithIPv6())
			}
			srv := ts.NewTLS(t, tc.cert, ts.Respond(resp200), opts...)
			c, err := tlsDial(t, srv.Addr(), &tls.Config{RootCAs: ca.Pool(), ServerName: tc.serverName})
			if tc.wantErr != "" {
				require.Error(t, err)
				var (
					hostErr      x509.HostnameError
					authorityErr x509.UnknownAuthorityError
					invalidErr   x509.CertificateInvalidError
				)
				switch tc.wantErr {
				case "hostname":
					assert.ErrorAs(t, err, &hostErr)
				case "authority":
					assert.ErrorAs(t, err, &authorityErr)
				case "expired":
					require.ErrorAs(t, err, &invalidErr)
					assert.Equal(t, x509.Expired, invalidErr.Reason)
				}
				// The server sees the client's alert a moment later.
				require.Eventually(t, func() bool { return len(srv.Errors()) == 1 }, 5*time.Second, time.Millisecond)
				srv.Close()
				errs := srv.Errors()
				require.Len(t, errs, 1)
				var ce *ts.ConnError
				require.ErrorAs(t, errs[0], &ce)
				assert.Equal(t, "handshake", ce.Op)
				assert.Empty(t, srv.Requests(), "the handler does not run")
				return
			}
			require.NoError(t, err)
			_, err = c.Write([]byte(getReq))
			require.NoError(t, err)
			got, end := readUntilEnd(t, c, len(resp200), 200*time.Millisecond)
			assert.Equal(t, resp200, got)
			assert.Equal(t, endOpen, end)
			require.NoError(t, c.Close())
			srv.Close()
			assert.Empty(t, srv.Errors())
			sni := tc.serverName
			if net.ParseIP(sni) != nil {
				sni = "" // crypto/tls sends no SNI for an IP
			}
			assert.Equal(t, []string{sni}, srv.ServerNames())
			assert.Equal(t, [][]byte{[]byte(getReq)}, srv.Received(), "plaintext is recorded")
		})
	}
}

// TestCAIssue checks the generated certificates' fields.
func TestCAIssue(t *testing.T) {
	ca := ts.NewCA(t)
	assert.True(t, ca.Certificate().IsCA)
	cert := ca.Issue(t, "localhost", "127.0.0.1", "[::1]")
	require.NotNil(t, cert.Leaf)
	assert.Equal(t, "localhost", cert.Leaf.Subject.CommonName)
	assert.Equal(t, []string{"localhost"}, cert.Leaf.DNSNames)
	require.Len(t, cert.Leaf.IPAddresses, 2)
	assert.True(t, cert.Leaf.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")))
	assert.True(t, cert.Leaf.IPAddresses[1].Equal(net.IPv6loopback))
	assert.Less(t, time.Until(cert.Leaf.NotAfter), 25*time.Hour, "short validity")
	_, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "localhost"})
	assert.NoError(t, err)

	cn := ca.IssueCN(t, "cn.example")
	assert.Equal(t, "cn.example", cn.Leaf.Subject.CommonName)
	assert.Empty(t, cn.Leaf.DNSNames)
	assert.Empty(t, cn.Leaf.IPAddresses)

	block, rest := pem.Decode(ca.CertPEM())
	require.NotNil(t, block)
	assert.Empty(t, rest)
	assert.Equal(t, ca.Certificate().Raw, block.Bytes)

	certPEM, keyPEM := ts.EncodePEM(t, cert)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	assert.Equal(t, cert.Certificate, pair.Certificate)
}

// recordingConn keeps every byte read through it.
type recordingConn struct {
	net.Conn
	mu  sync.Mutex
	got []byte
}

func (r *recordingConn) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.mu.Lock()
	r.got = append(r.got, p[:n]...)
	r.mu.Unlock()
	return n, err
}

// recordTypes lists the content types of the TLS records in b.
func recordTypes(b []byte) []byte {
	var types []byte
	for len(b) >= 5 {
		n := 5 + int(b[3])<<8 + int(b[4])
		if n > len(b) {
			break
		}
		types = append(types, b[0])
		b = b[n:]
	}
	return types
}

// TestTLSCloseKinds: Close ends with a close_notify alert before the FIN,
// CloseTCP with the FIN alone (§1.15.4: Godot sees EOF only on close_notify);
// CloseWrite sends close_notify and keeps reading. TLS 1.2 is forced so
// that alert records are visible on the wire.
func TestTLSCloseKinds(t *testing.T) {
	const (
		alert   = 21
		appData = 23
	)
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "localhost")
	tls12 := ts.WithTLSConfig(func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 })
	tests := []struct {
		name     string
		last     ts.Step
		wantLast byte
	}{
		{"Close", ts.Close(), alert},
		{"CloseTCP", ts.CloseTCP(), appData},
		{"WriteAndClose", ts.WriteAndClose([]byte("!")), alert},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := ts.NewTLS(t, cert, ts.Script(ts.Read(), ts.WriteString(resp200), tc.last), tls12)
			rec := &recordingConn{Conn: dial(t, srv.Addr())}
			c := tls.Client(rec, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
			_, err := c.Write([]byte(getReq))
			require.NoError(t, err)
			got, end := readUntilEnd(t, c, 0, 5*time.Second)
			assert.Contains(t, got, resp200)
			assert.Equal(t, endEOF, end)
			types := recordTypes(rec.got)
			require.NotEmpty(t, types)
			assert.Equal(t, tc.wantLast, types[len(types)-1], "record types %v", types)
			srv.Close()
			assert.Empty(t, srv.Errors())
		})
	}

	t.Run("CloseWrite", func(t *testing.T) {
		done := make(chan struct{})
		srv := ts.NewTLS(t, cert, ts.Script(ts.Read(), ts.WriteString(resp200), ts.CloseWrite(), ts.ReadN(4), signal(done)), tls12)
		c, err := tlsDial(t, srv.Addr(), &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
		require.NoError(t, err)
		_, err = c.Write([]byte(getReq))
		require.NoError(t, err)
		got, end := readUntilEnd(t, c, 0, 5*time.Second)
		assert.Equal(t, resp200, got)
		assert.Equal(t, endEOF, end)
		_, err = c.Write([]byte("more"))
		require.NoError(t, err)
		waitSignal(t, done)
		srv.Close()
		assert.Empty(t, srv.Errors())
		assert.Equal(t, [][]byte{[]byte(getReq + "more")}, srv.Received())
	})
}

// TestTLSHandshakeAgainstSilentClient: a client that connects and never
// speaks TLS does not block Close.
func TestTLSHandshakeAgainstSilentClient(t *testing.T) {
	ca := ts.NewCA(t)
	srv := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.Respond(resp200))
	c := dial(t, srv.Addr())
	require.Eventually(t, func() bool { return srv.Accepted() == 1 }, 5*time.Second, time.Millisecond)
	start := time.Now()
	srv.Close()
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Empty(t, srv.Errors(), "a shutdown during the handshake is not an error")
	_, err := c.Read(make([]byte, 1))
	assert.True(t, errors.Is(err, io.EOF) || isReset(err), "got %v", err)
}

// TestTLSCloseAfterClientReset: closing a TLS connection the client already
// reset is not an error (the close_notify has nowhere to go).
func TestTLSCloseAfterClientReset(t *testing.T) {
	ca := ts.NewCA(t)
	done := make(chan struct{})
	srv := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.Script(ts.Read(), ts.WriteString(resp200),
		ts.WaitClosed(5*time.Second), ts.Close(), signal(done)))
	raw := dial(t, srv.Addr())
	c := tls.Client(raw, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
	_, err := c.Write([]byte(getReq))
	require.NoError(t, err)
	assert.Equal(t, resp200, readExactly(t, c, len(resp200)))
	require.NoError(t, raw.SetLinger(0))
	require.NoError(t, raw.Close())
	waitSignal(t, done)
	srv.Close()
	assert.Empty(t, srv.Errors())
}
