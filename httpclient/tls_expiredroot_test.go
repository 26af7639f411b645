package httpclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The TLS paragraph of COMPAT.md: a trusted CA that expired before the
// certificate it signed was issued is not seen. mbedTLS's search of its
// trusted CAs (x509_crt_find_parent_in) takes an expired CA that signed
// the child when no valid one did, and the chain then fails on its dates;
// a CertPool cannot be listed with its certificates, so verifyChain asks
// crypto/x509 for the trusted parents valid now or when the child's
// validity begins or ends (trustedIssuers), and one expired before all
// three is missed. Here "Old Root" (trusted) expired ten days ago and
// "Old Intermediate", valid from five days ago, is signed by its key; the
// server also sends "Old Root" cross-signed by a trusted root. mbedTLS
// takes the expired trusted "Old Root" and fails; the port goes on to the
// cross-signed copy and accepts. (Where the old root was valid when the
// intermediate's validity began, both refuse: testserver.GreedyChainCases,
// "a trusted CA that expired, a valid cross-signed one sent".)
func TestVerifyChainExpiredTrustedCANotSeen(t *testing.T) {
	now := time.Now()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		return k
	}
	serial := int64(100)
	mk := func(name string, k *ecdsa.PrivateKey, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, from, to time.Duration, ca bool) *x509.Certificate {
		serial++
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: now.Add(from), NotAfter: now.Add(to), BasicConstraintsValid: true, IsCA: ca,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
		if !ca {
			tmpl.KeyUsage, tmpl.DNSNames = x509.KeyUsageDigitalSignature, []string{"localhost"}
		}
		if parent == nil {
			parent, parentKey = tmpl, k
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, k.Public(), parentKey)
		require.NoError(t, err)
		c, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		return c
	}
	const day = 24 * time.Hour
	rootKey, oldKey, interKey := key(), key(), key()
	root := mk("Root", rootKey, nil, nil, -time.Hour, day, true)
	oldRoot := mk("Old Root", oldKey, nil, nil, -30*day, -10*day, true)
	oldRootCross := mk("Old Root", oldKey, root, rootKey, -time.Hour, day, true)
	inter := mk("Old Intermediate", interKey, oldRoot, oldKey, -5*day, day, true)
	leaf := mk("localhost", key(), inter, interKey, -time.Hour, day, false)

	pool := x509.NewCertPool()
	pool.AddCert(root)
	pool.AddCert(oldRoot)
	err := verifyChain([]*x509.Certificate{leaf, inter, oldRootCross}, pool, x509.KeyUsageDigitalSignature)
	assert.NoError(t, err, "the port misses the expired trusted CA (mbedTLS takes it and refuses the chain)")

	// Without the cross-signed copy, both refuse.
	err = verifyChain([]*x509.Certificate{leaf, inter}, pool, x509.KeyUsageDigitalSignature)
	assert.Error(t, err)
}
