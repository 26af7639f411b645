package testserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"testing"
	"time"
)

// ChainCase is a server's certificate list and the roots a client trusts,
// with the outcome Godot's mbedTLS gives: its chain building is greedy
// (x509_crt_verify_chain), where crypto/x509 searches every path.
type ChainCase struct {
	Name  string
	Cert  tls.Certificate // what the server sends, leaf (for 127.0.0.1) first
	Roots *x509.CertPool
	OK    bool // mbedTLS accepts the chain
}

// issuer is a certificate made by GreedyChainCases and its key.
type issuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// validity is a certificate's period, relative to now.
type validity struct{ from, to time.Duration }

var (
	current = validity{-time.Hour, certValidity}
	expired = validity{-10 * 24 * time.Hour, -24 * time.Hour}
)

// GreedyChainCases returns the server lists on which mbedTLS's greedy
// search (x509_crt_find_parent: the trusted CAs first, then the
// certificates after the child in the server's list, the first candidate
// that qualifies — valid now if one is — never undone) and a search of
// every path disagree, or that pin one of its rules (self-issued
// intermediates are left out of path lengths: self_cnt; a parent's subject
// is compared with its child's issuer as x509_name_cmp does, UTF8String
// and PrintableString alike and ASCII letters in either case, among the
// certificates sent and the trusted ones, and so is a certificate's issuer
// with its own subject). All keys are P-256; "Root" is trusted,
// "Untrusted Root" is not.
func GreedyChainCases(t testing.TB) []ChainCase {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatalf("testserver: greedy key: %v", err)
		}
		return k
	}
	// mk signs a certificate for key named name (a CA unless leaf) by
	// parent (self-signed when nil), valid over v, with edit applied.
	mk := func(name string, key *ecdsa.PrivateKey, parent *issuer, v validity, edit func(*x509.Certificate)) issuer {
		now := time.Now()
		tmpl := &x509.Certificate{SerialNumber: serial(t), Subject: pkix.Name{CommonName: name},
			NotBefore: now.Add(v.from), NotAfter: now.Add(v.to),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
		if edit != nil {
			edit(tmpl)
		}
		p, pk := tmpl, key
		if parent != nil {
			p, pk = parent.cert, parent.key
		}
		return issuer{createCert(t, "greedy certificate", tmpl, p, &key.PublicKey, pk), key}
	}
	leafOf := func(parent issuer) issuer {
		return mk("127.0.0.1", newKey(), &parent, current, func(c *x509.Certificate) {
			c.IsCA, c.BasicConstraintsValid = false, false
			c.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
			c.KeyUsage, c.ExtKeyUsage = x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		})
	}
	pool := func(certs ...issuer) *x509.CertPool {
		p := x509.NewCertPool()
		for _, c := range certs {
			p.AddCert(c.cert)
		}
		return p
	}
	send := func(leaf issuer, rest ...issuer) tls.Certificate {
		c := tls.Certificate{Certificate: [][]byte{leaf.cert.Raw}, PrivateKey: leaf.key, Leaf: leaf.cert}
		for _, r := range rest {
			c.Certificate = append(c.Certificate, r.cert.Raw)
		}
		return c
	}

	root := mk("Root", newKey(), nil, current, nil)
	untrusted := mk("Untrusted Root", newKey(), nil, current, nil)
	interKey := newKey()
	inter := mk("Intermediate", interKey, &root, current, nil)
	leaf := leafOf(inter)
	// The same name as inter, another key: it did not sign leaf.
	stale := mk("Intermediate", newKey(), &root, current, nil)
	// inter's name and key, signed by a root the client does not trust.
	cross := mk("Intermediate", interKey, &untrusted, current, nil)
	// inter's name and key, but expired.
	old := mk("Intermediate", interKey, &root, expired, nil)
	// inter's name and key, not a CA.
	notCA := mk("Intermediate", interKey, &root, current, func(c *x509.Certificate) { c.IsCA = false })

	// Two CAs above leaf2: upper (named "Upper") signs inter2.
	upperKey := newKey()
	upper := mk("Upper", upperKey, &root, current, nil)
	inter2 := mk("Intermediate 2", newKey(), &upper, current, nil)
	leaf2 := leafOf(inter2)
	// upper's name and key with a path length of 0, which leaves no room
	// for inter2 below it.
	upperPath0 := mk("Upper", upperKey, &root, current, func(c *x509.Certificate) { c.MaxPathLen, c.MaxPathLenZero = 0, true })

	// A trusted CA named "Intermediate" with another key: a trusted
	// candidate whose signature of leaf does not verify, which mbedTLS
	// skips.
	trustedStale := mk("Intermediate", newKey(), nil, current, nil)

	// A trusted "Old Root" that expired but was valid when oldInter's
	// validity began, and a valid "Old Root" (its key) cross-signed by
	// root and sent by the server.
	oldRootKey := newKey()
	oldRoot := mk("Old Root", oldRootKey, nil, validity{-30 * 24 * time.Hour, -24 * time.Hour}, nil)
	oldInter := mk("Old Intermediate", newKey(), &issuer{oldRoot.cert, oldRootKey}, validity{-2 * 24 * time.Hour, certValidity}, nil)
	oldLeaf := leafOf(oldInter)
	oldRootCross := mk("Old Root", oldRootKey, &root, current, nil)

	// A key rollover: "Rollover CA" with a new key, issued by its old
	// self (a self-issued CA, which path lengths leave out), issued by a
	// root that allows one CA below it, or none.
	pathRoot := func(n int) issuer {
		return mk("Path Root", newKey(), nil, current, func(c *x509.Certificate) { c.MaxPathLen, c.MaxPathLenZero = n, n == 0 })
	}
	rollover := func(root issuer) (tls.Certificate, *x509.CertPool) {
		oldCA := mk("Rollover CA", newKey(), &root, current, nil)
		newCA := mk("Rollover CA", newKey(), &oldCA, current, nil)
		return send(leafOf(newCA), newCA, oldCA), pool(root)
	}
	rolloverCert1, rolloverRoots1 := rollover(pathRoot(1))
	rolloverCert0, rolloverRoots0 := rollover(pathRoot(0))

	// Names that differ in their bytes, compared as x509_name_cmp does.
	// as is p with the subject raw in the bytes its children are issued
	// under: CreateCertificate takes a child's issuer from its parent's
	// RawSubject and signs with the key given, p's.
	as := func(p issuer, raw []byte) *issuer {
		c := *p.cert
		c.RawSubject = raw
		return &issuer{&c, p.key}
	}
	named := func(raw []byte) func(*x509.Certificate) { return func(c *x509.Certificate) { c.RawSubject = raw } }
	// An intermediate named subject, its leaf issued under the name
	// issuedAs; the server sends both.
	renamed := func(subject, issuedAs []byte) tls.Certificate {
		ca := mk("", newKey(), &root, current, named(subject))
		return send(leafOf(*as(ca, issuedAs)), ca)
	}
	cnName := func(tag int, v string) []byte { return RawName(t, []Attr{CN(tag, v)}) }
	org := Attr{OIDOrganization, TagUTF8String, "Example"}
	// A trusted root named "NAME ROOT" as a UTF8String, which issued an
	// intermediate under "Name Root" as a PrintableString.
	nameRoot := mk("", newKey(), nil, current, named(cnName(TagUTF8String, "NAME ROOT")))
	nameInter := mk("Name Intermediate", newKey(), as(nameRoot, cnName(TagPrintableString, "Name Root")), current, nil)
	// A self-issued CA by x509_name_cmp ("ROLLOVER CA" in a UTF8String,
	// issued by its old self as "Rollover CA", a PrintableString) under a
	// root that allows one CA below it, or none.
	renamedRollover := func(root issuer) (tls.Certificate, *x509.CertPool) {
		oldCA := mk("Rollover CA", newKey(), &root, current, nil)
		newCA := mk("", newKey(), &oldCA, current, named(cnName(TagUTF8String, "ROLLOVER CA")))
		return send(leafOf(newCA), newCA, oldCA), pool(root)
	}
	caseRolloverCert1, caseRolloverRoots1 := renamedRollover(pathRoot(1))
	caseRolloverCert0, caseRolloverRoots0 := renamedRollover(pathRoot(0))
	// A self-signed leaf trusted alone, its issuer its subject in capitals.
	pinnedKey := newKey()
	pinnedTmpl := func(c *x509.Certificate) {
		c.RawSubject = cnName(TagPrintableString, "Pinned")
		c.IsCA, c.BasicConstraintsValid = false, false
		c.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		c.KeyUsage, c.ExtKeyUsage = x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	pinnedSigner := mk("", pinnedKey, nil, current, pinnedTmpl)
	pinned := mk("", pinnedKey, as(pinnedSigner, cnName(TagUTF8String, "PINNED")), current, pinnedTmpl)

	return []ChainCase{
		{"a self-issued intermediate left out of the root's path length", rolloverCert1, rolloverRoots1, true},
		{"a self-issued intermediate and another CA under a path length of 0", rolloverCert0, rolloverRoots0, false},
		{"in order", send(leaf, inter), pool(root), true},
		{"a stale same-name intermediate first", send(leaf, stale, inter), pool(root), false},
		{"the right intermediate before a stale one", send(leaf, inter, stale), pool(root), true},
		{"an intermediate cross-signed by an untrusted root first", send(leaf, cross, inter), pool(root), false},
		{"the trusted path before a cross-signed intermediate", send(leaf, inter, cross), pool(root), true},
		{"a cross-signed intermediate and its untrusted root first", send(leaf, cross, untrusted, inter), pool(root), false},
		{"intermediates out of order", send(leaf2, upper, inter2), pool(root), false},
		{"intermediates in order", send(leaf2, inter2, upper), pool(root), true},
		{"a same-name certificate that is no CA skipped", send(leaf, notCA, inter), pool(root), true},
		{"a same-name CA whose path length is too short skipped", send(leaf2, inter2, upperPath0, upper), pool(root), true},
		{"only a CA whose path length is too short", send(leaf2, inter2, upperPath0), pool(root), false},
		{"an expired same-name intermediate before a valid one", send(leaf, old, inter), pool(root), true},
		{"only an expired intermediate", send(leaf, old), pool(root), false},
		{"a trusted same-name CA whose signature fails skipped", send(leaf, inter), pool(root, trustedStale), true},
		{"a trusted CA that expired, a valid cross-signed one sent", send(oldLeaf, oldInter, oldRootCross), pool(root, oldRoot), false},
		{"a cross-signed old root without the expired one trusted", send(oldLeaf, oldInter, oldRootCross), pool(root), true},
		{"the issuer a PrintableString, the parent's subject a UTF8String",
			renamed(cnName(TagUTF8String, "Example CA"), cnName(TagPrintableString, "Example CA")), pool(root), true},
		{"the issuer and the parent's subject in another ASCII case",
			renamed(cnName(TagUTF8String, "Example CA"), cnName(TagUTF8String, "EXAMPLE ca")), pool(root), true},
		{"the issuer a PrintableString, the parent's subject a UTF8String in capitals",
			renamed(cnName(TagUTF8String, "EXAMPLE CA"), cnName(TagPrintableString, "Example CA")), pool(root), true},
		{"the issuer and the parent's subject differing in non-letters 32 apart",
			renamed(cnName(TagUTF8String, "Example[CA"), cnName(TagUTF8String, "Example{CA")), pool(root), false},
		{"the issuer and the parent's subject differing in a non-ASCII letter's case",
			renamed(cnName(TagUTF8String, "Exämple CA"), cnName(TagUTF8String, "ExÄmple CA")), pool(root), false},
		{"the issuer an IA5String, the parent's subject a UTF8String",
			renamed(cnName(TagUTF8String, "Example CA"), cnName(TagIA5String, "Example CA")), pool(root), false},
		{"the issuer and the parent's subject IA5Strings in another case",
			renamed(cnName(TagIA5String, "Example CA"), cnName(TagIA5String, "EXAMPLE CA")), pool(root), false},
		{"the issuer and the parent's subject identical IA5Strings",
			renamed(cnName(TagIA5String, "Example CA"), cnName(TagIA5String, "Example CA")), pool(root), true},
		{"the issuer one multi-valued RDN, the parent's subject two RDNs",
			renamed(RawName(t, []Attr{CN(TagUTF8String, "Example CA")}, []Attr{org}), RawName(t, []Attr{CN(TagUTF8String, "Example CA"), org})), pool(root), false},
		{"a trusted root's subject in capitals and a UTF8String", send(leafOf(nameInter), nameInter), pool(root, nameRoot), true},
		{"a trusted root's subject in capitals, the root not trusted", send(leafOf(nameInter), nameInter), pool(root), false},
		{"a self-issued intermediate by x509_name_cmp left out of the root's path length", caseRolloverCert1, caseRolloverRoots1, true},
		{"a self-issued intermediate by x509_name_cmp and another CA under a path length of 0", caseRolloverCert0, caseRolloverRoots0, false},
		{"a leaf trusted alone, self-issued by x509_name_cmp",
			tls.Certificate{Certificate: [][]byte{pinned.cert.Raw}, PrivateKey: pinned.key, Leaf: pinned.cert}, pool(pinned), true},
	}
}
