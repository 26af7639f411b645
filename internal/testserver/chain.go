package testserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"net"
	"testing"
	"time"
)

// Chain is a certificate chain made in a test, on P-256 keys: a
// self-signed root, intermediate CAs each signed by the one before, and a
// leaf for 127.0.0.1 signed by the last (by the root when there is none).
type Chain struct {
	Root          *x509.Certificate
	Intermediates []*x509.Certificate // the root's side first
	// Cert is what a server sends: the leaf, then the intermediates,
	// nearest the leaf first.
	Cert tls.Certificate
}

// OIDPadding is the private, non-critical extension NewChain pads a leaf
// with (mbedTLS and crypto/x509 both skip it).
var OIDPadding = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}

// NewChain makes a chain with n intermediate CAs; when padding > 0 the leaf
// carries an OIDPadding extension of padding zero bytes, to make the
// server's Certificate message as large as a test needs.
func NewChain(t testing.TB, n, padding int) Chain {
	t.Helper()
	sign := func(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatalf("testserver: chain key: %v", err)
		}
		tmpl.SerialNumber = serial(t)
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(certValidity)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		return createCert(t, "chain certificate", tmpl, parent, &key.PublicKey, parentKey), key
	}
	ca := func(name string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	}
	var c Chain
	var key *ecdsa.PrivateKey
	c.Root, key = sign(ca("chain root"), nil, nil)
	parent := c.Root
	for i := range n {
		parent, key = sign(ca(fmt.Sprintf("chain intermediate %d", i+1)), parent, key)
		c.Intermediates = append(c.Intermediates, parent)
	}
	leaf := &x509.Certificate{Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if padding > 0 {
		v, err := asn1.Marshal(make([]byte, padding))
		if err != nil {
			t.Fatalf("testserver: padding: %v", err)
		}
		leaf.ExtraExtensions = []pkix.Extension{{Id: OIDPadding, Value: v}}
	}
	leafCert, leafKey := sign(leaf, parent, key)
	c.Cert = tls.Certificate{Certificate: [][]byte{leafCert.Raw}, PrivateKey: leafKey, Leaf: leafCert}
	for i := len(c.Intermediates) - 1; i >= 0; i-- {
		c.Cert.Certificate = append(c.Cert.Certificate, c.Intermediates[i].Raw)
	}
	return c
}

// Pool returns a pool holding the root.
func (c Chain) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Root)
	return p
}
