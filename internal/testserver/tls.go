package testserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// certValidity is how long generated certificates stay valid (they start an
// hour in the past to tolerate clock skew).
const certValidity = 24 * time.Hour

// CA is a certificate authority generated in the test (ECDSA P-256, valid for
// a day) that issues server certificates for loopback peers.
type CA struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

// NewCA generates a fresh root certificate and key.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("testserver: CA key: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: "gdhttp test CA", Organization: []string{"gdhttp tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	cert := createCert(t, "CA certificate", tmpl, tmpl, &key.PublicKey, key)
	return &CA{cert: cert, der: cert.Raw, key: key}
}

// createCert signs tmpl for pub with parent and parentKey, and parses the
// result; a failure fails the test, naming what.
func createCert(t testing.TB, what string, tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, parentKey *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		t.Fatalf("testserver: %s: %v", what, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("testserver: %s: %v", what, err)
	}
	return cert
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatalf("testserver: serial: %v", err)
	}
	return n
}

// Certificate returns the CA's own certificate.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// Pool returns a new pool holding only this CA, for a client's trusted roots.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// CertPEM returns the CA certificate in PEM, for external peers and curl.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.der})
}

// Issue returns a server certificate for hosts: each is a DNS name or an IP
// literal (brackets allowed, "[::1]") and becomes a subject alternative name;
// the common name is hosts[0]. At least one host is required.
func (ca *CA) Issue(t testing.TB, hosts ...string) tls.Certificate {
	t.Helper()
	return ca.IssueWith(t, nil, hosts...)
}

// IssueCN returns a server certificate whose only name is the common name cn,
// with no subject alternative names (for common-name matching tests; Go's
// crypto/x509 itself ignores the common name).
func (ca *CA) IssueCN(t testing.TB, cn string) tls.Certificate {
	t.Helper()
	return ca.issue(t, cn, nil, nil)
}

// IssueWith is Issue with a hook that edits the template before signing
// (for example NotAfter in the past for an expired certificate).
func (ca *CA) IssueWith(t testing.TB, edit func(*x509.Certificate), hosts ...string) tls.Certificate {
	t.Helper()
	if len(hosts) == 0 {
		t.Fatalf("testserver: Issue needs at least one host")
	}
	return ca.issue(t, hosts[0], hosts, edit)
}

func (ca *CA) issue(t testing.TB, cn string, hosts []string, edit func(*x509.Certificate)) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("testserver: key: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if edit != nil {
		edit(tmpl)
	}
	leaf := createCert(t, fmt.Sprintf("certificate for %q", hosts), tmpl, ca.cert, &key.PublicKey, ca.key)
	return tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
}

// EncodePEM returns a certificate's chain and its private key in PEM (for
// external peers such as nginx).
func EncodePEM(t testing.TB, cert tls.Certificate) (certPEM, keyPEM []byte) {
	t.Helper()
	for _, der := range cert.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	der, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatalf("testserver: private key: %v", err)
	}
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
