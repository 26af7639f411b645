package httpclient

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
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
// issuer is its subject), on a P-256 key, and a pool holding it alone.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return pinnedSelfSigned(t, key, nil)
}

// certSpec is one certificate of a chain built by buildChain: its key and
// the edits of its template.
type certSpec struct {
	key  crypto.Signer
	edit func(*x509.Certificate)
}

// buildChain signs root → [intermediate →] leaf (leaf for localhost) and
// returns the leaf-first chain the server would send and a pool with the
// root.
func buildChain(t *testing.T, root, inter, leaf certSpec) ([]*x509.Certificate, *x509.CertPool) {
	t.Helper()
	serial := int64(1)
	mk := func(spec certSpec, ca bool, name string, parent *x509.Certificate, parentKey crypto.Signer) *x509.Certificate {
		serial++
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
		}
		if ca {
			tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
			tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
		} else {
			tmpl.DNSNames = []string{name}
			tmpl.KeyUsage = x509.KeyUsageDigitalSignature
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
		if spec.edit != nil {
			spec.edit(tmpl)
		}
		if parent == nil {
			parent, parentKey = tmpl, spec.key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, spec.key.Public(), parentKey)
		require.NoError(t, err)
		c, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		return c
	}
	r := mk(root, true, "root", nil, nil)
	pool := x509.NewCertPool()
	pool.AddCert(r)
	if inter.key == nil {
		return []*x509.Certificate{mk(leaf, false, "localhost", r, root.key)}, pool
	}
	i := mk(inter, true, "intermediate", r, root.key)
	return []*x509.Certificate{mk(leaf, false, "localhost", i, inter.key), i}, pool
}

// §1.15.5: the chain checks of mbedTLS's default profile and of
// mbedtls_ssl_check_cert_usage, where crypto/x509's differ: weak keys,
// the leaf's key usage, extended key usage on the leaf alone, name
// constraints (a critical extension mbedTLS does not parse fails; one not
// critical is ignored).
func TestVerifyChainMbedTLSPolicy(t *testing.T) {
	ec := func(c elliptic.Curve) crypto.Signer {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		require.NoError(t, err)
		return k
	}
	rsaKey := func(bits int) crypto.Signer {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		require.NoError(t, err)
		return k
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	p256 := func() certSpec { return certSpec{key: ec(elliptic.P256())} }
	with := func(s certSpec, edit func(*x509.Certificate)) certSpec { s.edit = edit; return s }
	excluding := func(critical bool) func(*x509.Certificate) {
		return func(c *x509.Certificate) {
			c.PermittedDNSDomainsCritical = critical
			if critical {
				c.PermittedDNSDomains = []string{"localhost"}
			} else {
				c.ExcludedDNSDomains = []string{"localhost"}
			}
		}
	}
	for _, c := range []struct {
		name              string
		root, inter, leaf certSpec
		ok                bool
	}{
		{"P-256 throughout", p256(), certSpec{}, p256(), true},
		{"RSA-2048 leaf", p256(), certSpec{}, certSpec{key: rsaKey(2048)}, true},
		{"RSA-1024 leaf", p256(), certSpec{}, certSpec{key: rsaKey(1024)}, false},
		{"RSA-1024 root", certSpec{key: rsaKey(1024)}, certSpec{}, p256(), false},
		{"P-224 intermediate", p256(), certSpec{key: ec(elliptic.P224())}, p256(), false},
		{"Ed25519 leaf", p256(), certSpec{}, certSpec{key: edKey}, false},
		{"leaf key usage without digitalSignature", p256(), certSpec{}, with(p256(), func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyAgreement }), false},
		{"leaf without key usage extensions", p256(), certSpec{}, with(p256(), func(c *x509.Certificate) { c.KeyUsage, c.ExtKeyUsage = 0, nil }), true},
		{"leaf extended key usage clientAuth only", p256(), certSpec{}, with(p256(), func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }), false},
		{"intermediate extended key usage clientAuth only (not nested)", p256(),
			with(p256(), func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }), p256(), true},
		{"intermediate critical name constraints permitting the leaf", p256(), with(p256(), excluding(true)), p256(), false},
		{"intermediate name constraints, not critical, excluding the leaf", p256(), with(p256(), excluding(false)), p256(), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			certs, pool := buildChain(t, c.root, c.inter, c.leaf)
			err := verifyChain(certs, pool, x509.KeyUsageDigitalSignature)
			if c.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

// pinnedSelfSigned returns a self-signed certificate for localhost made
// with signer and the template's edits, and a pool holding it alone: the
// pattern Godot documents for a self-signed server (trust its own
// certificate).
func pinnedSelfSigned(t *testing.T, signer crypto.Signer, edit func(*x509.Certificate)) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(32),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if edit != nil {
		edit(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: signer, Leaf: leaf}, pool
}

// pinnedHandshakes fetches over TLS from a server with cert, in both modes,
// with the two options that verify against pool (TLSClient with the name
// localhost, TLSClientUnsafe): the body when ok, else a refused handshake
// whose error refused checks further.
func pinnedHandshakes(t *testing.T, name string, cert tls.Certificate, pool *x509.CertPool, ok bool, refused func(t *testing.T, err error)) {
	t.Helper()
	for _, o := range []struct {
		name string
		opts *TLSOptions
	}{{"client", TLSClient(pool, "localhost")}, {"unsafe-with-chain", TLSClientUnsafe(pool)}} {
		for _, m := range modes {
			t.Run(name+"/"+o.name+"/"+m.name, func(t *testing.T) {
				srv := ts.NewTLS(t, cert, ts.Respond(okResp))
				cl, tr := newClient(t, m.blocking)
				r := roundTrip(t, cl, tr, "127.0.0.1", srv.Port(), o.opts, getRoot, pathChunks, false)
				if ok {
					assert.Equal(t, concat(connected, StatusBody, StatusConnected), r.Trace, "last error %v", r.LastErr)
					return
				}
				assertHandshakeRefused(t, r)
				refused(t, r.LastErr)
			})
		}
	}
}

// assertHandshakeRefused checks that r is a handshake that failed as every
// refused certificate fails (§1.15.5): TLS_HANDSHAKE_ERROR after
// CONNECTING, Poll's error ErrCantConnect around a
// *tls.CertificateVerificationError.
func assertHandshakeRefused(t *testing.T, r result) *tls.CertificateVerificationError {
	t.Helper()
	assert.Equal(t, statuses(StatusConnecting, StatusTLSHandshakeError), r.Trace)
	assert.ErrorIs(t, r.LastErr, ErrCantConnect)
	var cv *tls.CertificateVerificationError
	assert.True(t, errors.As(r.LastErr, &cv), "*tls.CertificateVerificationError in %v", r.LastErr)
	return cv
}

// §1.15.5: x509_crt_verify_chain checks a certificate's signature hash
// against the profile (mbedtls_x509_crt_profile_default: SHA-256, SHA-384,
// SHA-512) before its special case of a leaf trusted alone, so a pinned
// self-signed leaf signed with SHA-1 is BADCERT_BAD_MD and the handshake
// fails, in both modes that verify. crypto/x509 never looks at the
// signature of a certificate found among the trusted ones.
func TestTLSPinnedLeafSignatureHash(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	for _, c := range []struct {
		alg    x509.SignatureAlgorithm
		signer crypto.Signer
		ok     bool
	}{
		{x509.SHA1WithRSA, rsaKey, false},
		{x509.ECDSAWithSHA1, ecKey, false},
		{x509.SHA256WithRSA, rsaKey, true},
		{x509.SHA512WithRSAPSS, rsaKey, true},
		{x509.ECDSAWithSHA384, ecKey, true},
	} {
		cert, pool := pinnedSelfSigned(t, c.signer, func(tmpl *x509.Certificate) { tmpl.SignatureAlgorithm = c.alg })
		pinnedHandshakes(t, c.alg.String(), cert, pool, c.ok, func(t *testing.T, err error) {
			var ia x509.InsecureAlgorithmError
			assert.True(t, errors.As(err, &ia), "x509.InsecureAlgorithmError in %v", err)
		})
	}
}

// certificatePolicies returns a certificatePolicies extension listing
// policies, the first with a CPS qualifier when cps.
func certificatePolicies(t *testing.T, critical, cps bool, policies ...asn1.ObjectIdentifier) pkix.Extension {
	t.Helper()
	type qualifier struct {
		ID  asn1.ObjectIdentifier
		CPS string `asn1:"ia5"`
	}
	type policyInformation struct {
		Policy     asn1.ObjectIdentifier
		Qualifiers []qualifier `asn1:"optional"`
	}
	var infos []policyInformation
	for i, p := range policies {
		info := policyInformation{Policy: p}
		if cps && i == 0 {
			info.Qualifiers = []qualifier{{asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 2, 1}, "https://cps.example/"}}
		}
		infos = append(infos, info)
	}
	val, err := asn1.Marshal(infos)
	require.NoError(t, err)
	return pkix.Extension{Id: oidCertificatePolicies, Critical: critical, Value: val}
}

// §1.15.5: x509_get_certificate_policies reports
// MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE for any policy but anyPolicy, and
// x509_get_crt_ext returns it when the extension is critical: mbedTLS
// cannot parse the certificate and the handshake fails. anyPolicy alone
// (its qualifiers skipped) parses, and so does any policy in an extension
// that is not critical.
func TestTLSCriticalCertificatePolicies(t *testing.T) {
	anyPolicy := oidAnyPolicy
	dv := asn1.ObjectIdentifier{2, 23, 140, 1, 2, 1}
	for _, c := range []struct {
		name string
		ext  pkix.Extension
		ok   bool
	}{
		{"critical anyPolicy", certificatePolicies(t, true, false, anyPolicy), true},
		{"critical anyPolicy with a CPS qualifier", certificatePolicies(t, true, true, anyPolicy), true},
		{"critical domain-validated", certificatePolicies(t, true, false, dv), false},
		{"critical anyPolicy and domain-validated", certificatePolicies(t, true, false, anyPolicy, dv), false},
		{"domain-validated, not critical", certificatePolicies(t, false, false, dv), true},
	} {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		cert, pool := pinnedSelfSigned(t, key, func(tmpl *x509.Certificate) { tmpl.ExtraExtensions = []pkix.Extension{c.ext} })
		pinnedHandshakes(t, c.name, cert, pool, c.ok, func(t *testing.T, err error) {
			assert.ErrorAs(t, err, new(x509.UnhandledCriticalExtension))
		})
	}
}

// §1.15.5: Godot's client parses every certificate of the server's
// Certificate message (ssl_parse_certificate_chain,
// ssl_tls13_parse_certificate: mbedtls_x509_crt_parse_der) before, and
// whether or not, it verifies them — under client_unsafe() without a chain
// (MBEDTLS_SSL_VERIFY_NONE) too, and also the certificates no chain uses.
// An issuer or subject name it does not parse (an empty issuer, an empty
// RDN, bytes after a value, a NumericString), a critical extension it does
// not parse, an extended key usage extension listing no purpose (critical
// or not) or a key other than RSA or EC fails the handshake; a certificate signed with an algorithm it does not
// know (Ed25519) is dropped, which fails only for the leaf (the handshake
// then has no server key).
func TestTLSEveryCertificateParsed(t *testing.T) {
	p256 := func() crypto.Signer {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		return k
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	critical := func(tmpl *x509.Certificate) {
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{0x05, 0x00}}}
	}
	dvPolicy := func(tmpl *x509.Certificate) {
		tmpl.ExtraExtensions = []pkix.Extension{certificatePolicies(t, true, false, asn1.ObjectIdentifier{2, 23, 140, 1, 2, 1})}
	}
	// empty gives a certificate an extension of oid that is an empty
	// SEQUENCE: mbedTLS refuses an extended key usage with no purpose
	// (x509_get_ext_key_usage: "Sequence length must be >= 1") and takes a
	// subjectAltName with no name (mbedtls_x509_get_subject_alt_name);
	// crypto/x509 parses both.
	empty := func(oid asn1.ObjectIdentifier) func(*x509.Certificate) {
		return func(tmpl *x509.Certificate) {
			tmpl.ExtraExtensions = []pkix.Extension{{Id: oid, Value: []byte{0x30, 0x00}}}
		}
	}
	emptyEKU, emptySAN := empty(asn1.ObjectIdentifier{2, 5, 29, 37}), empty(asn1.ObjectIdentifier{2, 5, 29, 17})
	// extra is a certificate named "extra" holding pub, signed by signer.
	extra := func(pub crypto.PublicKey, signer crypto.Signer, edit func(*x509.Certificate)) []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(40), Subject: pkix.Name{CommonName: "extra"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		if edit != nil {
			edit(tmpl)
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, signer)
		require.NoError(t, err)
		return der
	}
	// named is a certificate named subject, issued under the name issuer
	// (both DER), signed by signer: mbedTLS parses neither an empty issuer
	// nor an empty RDN, bytes after an attribute's value or a
	// NumericString (mbedtls_x509_get_name), which crypto/x509 reads; it
	// takes an empty subject.
	named := func(issuer, subject []byte, signer crypto.Signer) []byte {
		parent := &x509.Certificate{RawSubject: issuer}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(41), RawSubject: subject,
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, p256().Public(), signer)
		require.NoError(t, err)
		_, err = x509.ParseCertificate(der)
		require.NoError(t, err, "crypto/x509 parses it")
		return der
	}
	extraName := ts.RawName(t, []ts.Attr{ts.CN(ts.TagUTF8String, "extra")})
	emptyName := ts.RawName(t)
	numericName := ts.RawName(t, []ts.Attr{ts.CN(ts.TagNumericString, "1234")})
	emptyRDNName := ts.RawName(t, []ts.Attr{ts.CN(ts.TagUTF8String, "extra")}, nil)
	trailingName := []byte{0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x01, 'x', 0x05}
	leafKey := p256()
	plain, plainPool := pinnedSelfSigned(t, leafKey, nil)
	withExtra := func(der []byte) tls.Certificate {
		c := plain
		c.Certificate = [][]byte{plain.Certificate[0], der}
		return c
	}
	type chain struct {
		cert tls.Certificate
		pool *x509.CertPool
	}
	leafWith := func(signer crypto.Signer, edit func(*x509.Certificate)) chain {
		c, pool := pinnedSelfSigned(t, signer, edit)
		return chain{c, pool}
	}
	for _, c := range []struct {
		name  string
		chain chain
		ok    bool
	}{
		{"control", chain{plain, plainPool}, true},
		{"leaf with an unknown critical extension", leafWith(p256(), critical), false},
		{"leaf with critical certificatePolicies", leafWith(p256(), dvPolicy), false},
		{"Ed25519 leaf", leafWith(edKey, nil), false},
		{"extra certificate with an unknown critical extension", chain{withExtra(extra(p256().Public(), leafKey, critical)), plainPool}, false},
		{"extra certificate with an Ed25519 key", chain{withExtra(extra(edKey.Public(), leafKey, nil)), plainPool}, false},
		{"extra certificate signed with Ed25519 (dropped)", chain{withExtra(extra(p256().Public(), edKey, nil)), plainPool}, true},
		{"extra self-signed Ed25519 certificate (dropped)", chain{withExtra(extra(edKey.Public(), edKey, nil)), plainPool}, true},
		{"leaf with an empty extended key usage", leafWith(p256(), emptyEKU), false},
		{"extra certificate with an empty extended key usage", chain{withExtra(extra(p256().Public(), leafKey, emptyEKU)), plainPool}, false},
		{"extra certificate with an empty subjectAltName", chain{withExtra(extra(p256().Public(), leafKey, emptySAN)), plainPool}, true},
		{"extra certificate with an empty issuer", chain{withExtra(named(emptyName, extraName, leafKey)), plainPool}, false},
		{"extra certificate with an empty subject", chain{withExtra(named(extraName, emptyName, leafKey)), plainPool}, true},
		{"extra certificate with a NumericString in its subject", chain{withExtra(named(extraName, numericName, leafKey)), plainPool}, false},
		{"extra certificate with a NumericString in its issuer", chain{withExtra(named(numericName, extraName, leafKey)), plainPool}, false},
		{"extra certificate with an empty RDN in its subject", chain{withExtra(named(extraName, emptyRDNName, leafKey)), plainPool}, false},
		{"extra certificate with bytes after a value in its subject", chain{withExtra(named(extraName, trailingName, leafKey)), plainPool}, false},
	} {
		for _, o := range []struct {
			name string
			opts *TLSOptions
		}{
			{"unsafe", TLSClientUnsafe(nil)},
			{"unsafe-with-chain", TLSClientUnsafe(c.chain.pool)},
			{"client", TLSClient(c.chain.pool, "localhost")},
		} {
			for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
				for _, m := range modes {
					t.Run(c.name+"/"+o.name+"/"+tls.VersionName(v)+"/"+m.name, func(t *testing.T) {
						srv, _ := helloSNIs(t, c.chain.cert, func(cfg *tls.Config) { cfg.MinVersion, cfg.MaxVersion = v, v })
						cl, tr := newClient(t, m.blocking)
						r := roundTrip(t, cl, tr, "127.0.0.1", srv.Port(), o.opts, getRoot, pathChunks, false)
						if c.ok {
							assert.Equal(t, concat(connected, StatusBody, StatusConnected), r.Trace, "last error %v", r.LastErr)
							return
						}
						assertHandshakeRefused(t, r)
					})
				}
			}
		}
	}
}

// §1.15.5: mbedtls_ssl_check_cert_usage asks the leaf's key usage for what
// the negotiated key exchange does with its key — keyEncipherment for
// TLS 1.2 RSA key exchange (TLS_RSA_*, which Godot offers), digitalSignature
// for ECDHE and TLS 1.3 — and mbedtls_x509_crt_check_key_usage refuses
// encipherOnly and decipherOnly, never asked for. Checked when the chain is
// verified (client(), client_unsafe() with a chain), never without one.
func TestTLSLeafKeyUsageByKeyExchange(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	const (
		ds  = x509.KeyUsageDigitalSignature
		ke  = x509.KeyUsageKeyEncipherment
		enc = x509.KeyUsageEncipherOnly
		dec = x509.KeyUsageDecipherOnly
	)
	rsaKex, ecdheRSA, ecdheECDSA := tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	for _, c := range []struct {
		name    string
		key     crypto.Signer
		ku      x509.KeyUsage // 0: no key usage extension
		version uint16
		suite   uint16 // TLS 1.2 only
		ok      bool   // Godot's mbedTLS connects
	}{
		{"rsa-kex/keyEncipherment", rsaKey, ke, tls.VersionTLS12, rsaKex, true},
		{"rsa-kex/keyEncipherment+digitalSignature", rsaKey, ke | ds, tls.VersionTLS12, rsaKex, true},
		{"rsa-kex/digitalSignature", rsaKey, ds, tls.VersionTLS12, rsaKex, false},
		{"rsa-kex/keyEncipherment+encipherOnly", rsaKey, ke | enc, tls.VersionTLS12, rsaKex, false},
		{"rsa-kex/no key usage", rsaKey, 0, tls.VersionTLS12, rsaKex, true},
		{"ecdhe-rsa/keyEncipherment", rsaKey, ke, tls.VersionTLS12, ecdheRSA, false},
		{"ecdhe-rsa/digitalSignature", rsaKey, ds, tls.VersionTLS12, ecdheRSA, true},
		{"ecdhe-ecdsa/digitalSignature", ecKey, ds, tls.VersionTLS12, ecdheECDSA, true},
		{"ecdhe-ecdsa/digitalSignature+encipherOnly", ecKey, ds | enc, tls.VersionTLS12, ecdheECDSA, false},
		{"ecdhe-ecdsa/digitalSignature+decipherOnly", ecKey, ds | dec, tls.VersionTLS12, ecdheECDSA, false},
		{"tls13-rsa/keyEncipherment", rsaKey, ke, tls.VersionTLS13, 0, false},
		{"tls13-rsa/digitalSignature", rsaKey, ds, tls.VersionTLS13, 0, true},
		{"tls13-ecdsa/digitalSignature+decipherOnly", ecKey, ds | dec, tls.VersionTLS13, 0, false},
	} {
		cert, pool := pinnedSelfSigned(t, c.key, func(tmpl *x509.Certificate) { tmpl.KeyUsage = c.ku })
		require.Equal(t, c.ku != 0, hasKeyUsage(cert.Leaf))
		for _, o := range []struct {
			name   string
			opts   *TLSOptions
			verify bool
		}{
			{"client", TLSClient(pool, "localhost"), true},
			{"unsafe-with-chain", TLSClientUnsafe(pool), true},
			{"unsafe", TLSClientUnsafe(nil), false},
		} {
			for _, m := range modes {
				t.Run(c.name+"/"+o.name+"/"+m.name, func(t *testing.T) {
					srv, _ := helloSNIs(t, cert, func(cfg *tls.Config) {
						cfg.MinVersion, cfg.MaxVersion = c.version, c.version
						if c.suite != 0 {
							cfg.CipherSuites = []uint16{c.suite}
						}
					})
					cl, tr := newClient(t, m.blocking)
					r := roundTrip(t, cl, tr, "127.0.0.1", srv.Port(), o.opts, getRoot, pathChunks, false)
					if c.ok || !o.verify {
						assert.Equal(t, concat(connected, StatusBody, StatusConnected), r.Trace, "last error %v", r.LastErr)
						return
					}
					assertHandshakeRefused(t, r)
					var ci x509.CertificateInvalidError
					if assert.ErrorAs(t, r.LastErr, &ci) {
						assert.Equal(t, x509.IncompatibleUsage, ci.Reason)
					}
				})
			}
		}
	}
}

// §1.15.5: x509_crt_check_parent takes a CA as a parent only when
// mbedtls_x509_crt_check_key_usage(parent, KEY_CERT_SIGN) passes, which
// refuses encipherOnly and decipherOnly beside keyCertSign; crypto/x509
// looks at keyCertSign alone.
func TestVerifyChainCAKeyUsage(t *testing.T) {
	p256 := func() certSpec {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		return certSpec{key: k}
	}
	with := func(s certSpec, ku x509.KeyUsage) certSpec {
		s.edit = func(c *x509.Certificate) { c.KeyUsage = ku }
		return s
	}
	certSign := x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	for _, c := range []struct {
		name              string
		root, inter, leaf certSpec
		ok                bool
	}{
		{"keyCertSign throughout", p256(), p256(), p256(), true},
		{"intermediate keyCertSign+encipherOnly", p256(), with(p256(), certSign|x509.KeyUsageEncipherOnly), p256(), false},
		{"intermediate keyCertSign+decipherOnly", p256(), with(p256(), certSign|x509.KeyUsageDecipherOnly), p256(), false},
		{"root keyCertSign+decipherOnly", with(p256(), certSign|x509.KeyUsageDecipherOnly), p256(), p256(), false},
		{"root keyCertSign+encipherOnly, no intermediate", with(p256(), certSign|x509.KeyUsageEncipherOnly), certSpec{}, p256(), false},
		{"intermediate without keyCertSign", p256(), with(p256(), x509.KeyUsageDigitalSignature|x509.KeyUsageCRLSign), p256(), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			certs, pool := buildChain(t, c.root, c.inter, c.leaf)
			err := verifyChain(certs, pool, x509.KeyUsageDigitalSignature)
			if c.ok {
				assert.NoError(t, err)
				return
			}
			assert.Error(t, err)
			t.Log(err)
		})
	}
}
