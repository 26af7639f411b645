package httprequest

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

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// serverChain signs root → n intermediate CAs → a leaf for 127.0.0.1, on
// P-256 keys, the leaf with a private, non-critical extension of padding
// zero bytes when padding > 0. It returns a pool with the root and the
// certificate a server sends (the leaf, then the intermediates, nearest
// first).
func serverChain(t *testing.T, n, padding int) (*x509.CertPool, tls.Certificate) {
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
	root, key := sign(ca("chain root"), nil, nil)
	parent := root
	var inter [][]byte // nearest the leaf first
	for i := range n {
		parent, key = sign(ca(fmt.Sprintf("chain intermediate %d", i+1)), parent, key)
		inter = append([][]byte{parent.Raw}, inter...)
	}
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if padding > 0 {
		v, err := asn1.Marshal(make([]byte, padding))
		require.NoError(t, err)
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Value: v}}
	}
	leaf, leafKey := sign(tmpl, parent, key)
	pool := x509.NewCertPool()
	pool.AddCert(root)
	return pool, tls.Certificate{Certificate: append([][]byte{leaf.Raw}, inter...), PrivateKey: leafKey, Leaf: leaf}
}

// §1.15.5, §2.10: the node's view, in every driver, of the server chains
// Godot's mbedTLS refuses (httpclient: TestTLSIntermediateCALimit,
// TestTLSCertificateMessageLimit): more than MBEDTLS_X509_MAX_INTERMEDIATE_CA
// (8) intermediate CAs, or a Certificate message too large for mbedTLS's
// input buffer (a leaf with a 20 KiB extension), fail the handshake:
// RESULT_TLS_HANDSHAKE_ERROR with the limit as the cause. 8 intermediates
// and an 8 KiB extension are a success.
func TestTLSChainLimitsNode(t *testing.T) {
	ok := Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}
	for _, c := range []struct {
		name       string
		n, padding int
		want       Completion
	}{
		{"8-intermediates", 8, 0, ok},
		{"9-intermediates", 9, 0, Completion{Result: ResultTLSHandshakeError}},
		{"cert-msg-8KiB", 1, 8 << 10, ok},
		{"cert-msg-20KiB", 1, 20 << 10, Completion{Result: ResultTLSHandshakeError}},
	} {
		t.Run(c.name, func(t *testing.T) {
			pool, cert := serverChain(t, c.n, c.padding)
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := testserver.NewTLS(t, cert, testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				n.SetAcceptGzip(false)
				require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(pool, "")))
				o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
				assertCompletion(t, c.want, o)
				if c.want.Result != ResultSuccess {
					var le *wire.LimitError
					assert.True(t, errors.As(o.Err, &le), "*wire.LimitError in %v", o.Err)
				}
			})
		})
	}
}
