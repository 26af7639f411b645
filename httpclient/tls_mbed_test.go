package httpclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// §1.15.5: the name check is mbedTLS's x509_crt_verify_name, rule by rule
// (tls_context_mbedtls.cpp init_client sets the one name; no verify
// callback), on certificates made in the test.
func TestNameMatchesMbedTLS(t *testing.T) {
	ca := ts.NewCA(t)
	leaf := func(cert tls.Certificate) *x509.Certificate {
		c, err := x509.ParseCertificate(cert.Certificate[0])
		require.NoError(t, err)
		return c
	}
	san := func(edit func(*x509.Certificate)) *x509.Certificate {
		return leaf(ca.IssueWith(t, func(c *x509.Certificate) {
			c.DNSNames, c.IPAddresses, c.URIs = nil, nil, nil
			edit(c)
		}, "unused.test"))
	}
	cnOnly := leaf(ca.IssueCN(t, "Game.Example"))
	dns := san(func(c *x509.Certificate) { c.DNSNames = []string{"api.example", "*.cdn.example", "127.0.0.1"} })
	ips := san(func(c *x509.Certificate) { c.IPAddresses = []net.IP{net.ParseIP("10.0.0.1").To4(), net.ParseIP("::1")} })
	uri := san(func(c *x509.Certificate) { c.URIs = []*url.URL{{Scheme: "spiffe", Host: "game", Path: "/srv"}} })
	for _, c := range []struct {
		name string
		cert *x509.Certificate
		host string
		want bool
	}{
		{"no SAN: the CN, case aside", cnOnly, "game.example", true},
		{"no SAN: another name", cnOnly, "other.example", false},
		{"dNSName", dns, "API.example", true},
		{"dNSName: a trailing dot is another name", dns, "api.example.", false},
		{"dNSName: a longer name", dns, "xapi.example", false},
		{"wildcard: one label", dns, "a.cdn.example", true},
		{"wildcard: two labels", dns, "a.b.cdn.example", false},
		{"wildcard: the bare suffix", dns, "cdn.example", false},
		{"wildcard: a name starting with its dot", dns, ".cdn.example", false},
		{"an IP address is also compared as a dNSName", dns, "127.0.0.1", true},
		{"SAN present: the CN is not looked at", dns, "unused.test", false},
		{"iPAddress v4", ips, "10.0.0.1", true},
		{"iPAddress v6", ips, "::1", true},
		{"iPAddress: IPv4 with leading zeros is no address", ips, "010.0.0.1", false},
		{"iPAddress: a v4-mapped v6 form is 16 bytes", ips, "::ffff:10.0.0.1", false},
		{"iPAddress: another", ips, "10.0.0.2", false},
		{"URI: byte for byte", uri, "spiffe://game/srv", true},
		{"URI: another", uri, "spiffe://game/other", false},
	} {
		assert.Equal(t, c.want, nameMatches(c.cert, c.host), c.name)
	}
}

// §1.15.5 through a real handshake, in both modes: a certificate that
// mbedTLS accepts and crypto/x509 refuses connects (a common name without
// subjectAltName; an IP address written as a dNSName), and one that
// mbedTLS refuses fails with TLS_HANDSHAKE_ERROR (a trailing-dot override;
// a CA-issued leaf trusted alone) — the cause a *tls.CertificateVerificationError
// around crypto/x509's error types.
func TestTLSClientVerifiesLikeMbedTLS(t *testing.T) {
	ca := ts.NewCA(t)
	issued := ca.Issue(t, "localhost")
	issuedLeaf, err := x509.ParseCertificate(issued.Certificate[0])
	require.NoError(t, err)
	pinnedLeaf := x509.NewCertPool()
	pinnedLeaf.AddCert(issuedLeaf)
	pinnedBoth := ca.Pool()
	pinnedBoth.AddCert(issuedLeaf)
	self, selfPool := selfSigned(t)
	ipAsDNS := ca.IssueWith(t, func(c *x509.Certificate) { c.IPAddresses, c.DNSNames = nil, []string{"127.0.0.1"} }, "localhost")
	for _, c := range []struct {
		name  string
		cert  tls.Certificate
		opts  *TLSOptions
		cause error // nil: connects
	}{
		{"common name without subjectAltName", ca.IssueCN(t, "localhost"), TLSClient(ca.Pool(), "localhost"), nil},
		{"an IP address as a dNSName", ipAsDNS, TLSClient(ca.Pool(), ""), nil},
		{"a trailing-dot override", issued, TLSClient(ca.Pool(), "localhost."), x509.HostnameError{}},
		{"another name", issued, TLSClient(ca.Pool(), "other.test"), x509.HostnameError{}},
		{"a CA-issued leaf trusted alone", issued, TLSClient(pinnedLeaf, "localhost"), x509.UnknownAuthorityError{}},
		{"a CA-issued leaf trusted with its CA", issued, TLSClient(pinnedBoth, "localhost"), nil},
		{"a self-signed leaf trusted alone", self, TLSClient(selfPool, "localhost"), nil},
		{"unsafe: a CA-issued leaf trusted alone", issued, TLSClientUnsafe(pinnedLeaf), x509.UnknownAuthorityError{}},
		{"unsafe: the name is never checked", issued, TLSClientUnsafe(ca.Pool()), nil},
	} {
		for _, m := range modes {
			t.Run(c.name+"/"+m.name, func(t *testing.T) {
				srv := ts.NewTLS(t, c.cert, ts.Respond(okResp))
				cl, tr := newClient(t, m.blocking)
				r := roundTrip(t, cl, tr, "127.0.0.1", srv.Port(), c.opts, getRoot, pathChunks, false)
				if c.cause == nil {
					assert.Equal(t, concat(connected, StatusBody, StatusConnected), r.Trace, "last error %v", r.LastErr)
					assert.Equal(t, "ok", r.Body)
					return
				}
				assert.Equal(t, statuses(StatusConnecting, StatusTLSHandshakeError), r.Trace)
				var cv *tls.CertificateVerificationError
				assert.True(t, errors.As(r.LastErr, &cv), "*tls.CertificateVerificationError in %v", r.LastErr)
				switch c.cause.(type) {
				case x509.HostnameError:
					var he x509.HostnameError
					assert.True(t, errors.As(r.LastErr, &he), "x509.HostnameError in %v", r.LastErr)
				case x509.UnknownAuthorityError:
					var ua x509.UnknownAuthorityError
					assert.True(t, errors.As(r.LastErr, &ua), "x509.UnknownAuthorityError in %v", r.LastErr)
				}
			})
		}
	}
}

// selfSigned returns a self-signed server certificate for localhost (its
// issuer is its subject) and a pool holding it alone.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
