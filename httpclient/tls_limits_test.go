package httpclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// longChain is a chain made in the test: a self-signed root, n
// intermediate CAs, each signed by the one before, and a leaf for
// 127.0.0.1 signed by the last.
type longChain struct {
	root  *x509.Certificate
	inter []*x509.Certificate // root side first
	cert  tls.Certificate     // the leaf then the intermediates, nearest first, as a server sends them
}

// pool returns a pool holding the root.
func (c longChain) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.root)
	return p
}

// peer returns the parsed certificates the server sends, leaf first.
func (c longChain) peer(t *testing.T) []*x509.Certificate {
	t.Helper()
	certs := make([]*x509.Certificate, len(c.cert.Certificate))
	for i, der := range c.cert.Certificate {
		var err error
		certs[i], err = x509.ParseCertificate(der)
		require.NoError(t, err)
	}
	return certs
}

// oidPadding is a private extension that makes a leaf as large as a test
// needs (not critical: mbedTLS and crypto/x509 skip it).
var oidPadding = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}

// newLongChain builds root → n intermediates → leaf on P-256 keys; the
// leaf carries a padding extension of padding zero bytes when padding > 0.
func newLongChain(t *testing.T, n, padding int) longChain {
	t.Helper()
	var serial int64
	sign := func(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		require.NoError(t, err)
		c, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		return c, key
	}
	ca := func(name string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	}
	var c longChain
	var key *ecdsa.PrivateKey
	c.root, key = sign(ca("long chain root"), nil, nil)
	parent := c.root
	for i := range n {
		parent, key = sign(ca(fmt.Sprintf("long chain intermediate %d", i+1)), parent, key)
		c.inter = append(c.inter, parent)
	}
	leaf := &x509.Certificate{Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if padding > 0 {
		v, err := asn1.Marshal(make([]byte, padding))
		require.NoError(t, err)
		leaf.ExtraExtensions = []pkix.Extension{{Id: oidPadding, Value: v}}
	}
	leafCert, leafKey := sign(leaf, parent, key)
	c.cert = tls.Certificate{Certificate: [][]byte{leafCert.Raw}, PrivateKey: leafKey, Leaf: leafCert}
	for i := len(c.inter) - 1; i >= 0; i-- {
		c.cert.Certificate = append(c.cert.Certificate, c.inter[i].Raw)
	}
	return c
}

// §1.15.5: mbedTLS builds at most MBEDTLS_X509_MAX_INTERMEDIATE_CA (8)
// untrusted CAs into a chain (x509_crt_verify_chain: "if
// (!parent_is_trusted && ver_chain->len > MBEDTLS_X509_MAX_INTERMEDIATE_CA)
// return MBEDTLS_ERR_X509_FATAL_ERROR", len counting the leaf): the ninth
// fails the chain, a trusted CA is never counted, and mbedTLS looks for a
// trusted parent first, so a chain cut short by a trusted intermediate
// counts only the CAs below it. crypto/x509 has no such limit.
func TestVerifyChainIntermediateLimit(t *testing.T) {
	chain9 := newLongChain(t, 9, 0)
	topTrusted := x509.NewCertPool() // the ninth intermediate (signed by the root) trusted instead of the root
	topTrusted.AddCert(chain9.inter[0])
	midTrusted := chain9.pool() // the sixth, counted from the leaf, trusted as well as the root
	midTrusted.AddCert(chain9.inter[3])
	for _, c := range []struct {
		name  string
		chain longChain
		roots *x509.CertPool
		ok    bool
	}{
		{"no intermediate", newLongChain(t, 0, 0), nil, true},
		{"8 intermediates", newLongChain(t, 8, 0), nil, true},
		{"9 intermediates", chain9, nil, false},
		{"12 intermediates", newLongChain(t, 12, 0), nil, false},
		{"9 intermediates, the top one trusted: 8 untrusted", chain9, topTrusted, true},
		{"9 intermediates, the sixth trusted: 5 untrusted", chain9, midTrusted, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			roots := c.roots
			if roots == nil {
				roots = c.chain.pool()
			}
			err := verifyChain(c.chain.peer(t), roots)
			if c.ok {
				assert.NoError(t, err)
				return
			}
			var le *wire.LimitError
			require.True(t, errors.As(err, &le), "*wire.LimitError in %v", err)
			assert.Equal(t, &wire.LimitError{What: "intermediate CAs", Limit: 8}, le)
		})
	}
}

// §1.15.5 through a real handshake (TestVerifyChainIntermediateLimit): a
// server chain with 9 intermediate CAs is TLS_HANDSHAKE_ERROR, as Godot's
// handshake fails; 8 connect. Both modes, and client_unsafe with a CA
// chain, which verifies the chain as client() does.
func TestTLSIntermediateCALimit(t *testing.T) {
	for _, c := range []struct {
		name   string
		n      int
		unsafe bool
		ok     bool
	}{
		{"8-intermediates", 8, false, true},
		{"9-intermediates", 9, false, false},
		{"unsafe-8-intermediates", 8, true, true},
		{"unsafe-9-intermediates", 9, true, false},
	} {
		chain := newLongChain(t, c.n, 0)
		opts := TLSClient(chain.pool(), "")
		if c.unsafe {
			opts = TLSClientUnsafe(chain.pool())
		}
		for _, m := range modes {
			t.Run(c.name+"/"+m.name, func(t *testing.T) {
				srv := ts.NewTLS(t, chain.cert, ts.Respond(okResp))
				cl, tr := newClient(t, m.blocking)
				r := roundTrip(t, cl, tr, "127.0.0.1", srv.Port(), opts, getRoot, pathChunks, false)
				if c.ok {
					assert.Equal(t, concat(connected, StatusBody, StatusConnected), r.Trace, "last error %v", r.LastErr)
					assert.Equal(t, "ok", r.Body)
					return
				}
				assert.Equal(t, statuses(StatusConnecting, StatusTLSHandshakeError), r.Trace)
				assert.ErrorIs(t, r.LastErr, ErrCantConnect)
				var le *wire.LimitError
				assert.True(t, errors.As(r.LastErr, &le), "*wire.LimitError in %v", r.LastErr)
			})
		}
	}
}
