package httpclient

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gdhttp/gdhttp/wire"
)

type tlsMode uint8

const (
	tlsModeClient tlsMode = iota
	tlsModeClientUnsafe
	tlsModeServer
)

// TLSOptions configures TLS for ConnectToHost, like Godot's TLSOptions
// resource. Build one with TLSClient or TLSClientUnsafe; a nil *TLSOptions
// means plain HTTP (unless the host carries an "https://" prefix, §1.5.3).
// A TLSOptions is immutable and may be shared between clients.
//
// Godot: TLSOptions
type TLSOptions struct {
	mode       tlsMode
	roots      *x509.CertPool
	commonName string
	cert       tls.Certificate
}

// TLSClient returns client options that verify the server's certificate
// chain against roots (nil: the system pool) and its host name against one
// name: commonNameOverride when that is not empty, else the host given to
// ConnectToHost (never a proxy), up to a NUL if it holds one (Godot passes
// mbedTLS a C string). That same name is sent as SNI, as Godot's
// mbedTLS does with mbedtls_ssl_set_hostname (§1.15.5; SNI is left out when
// the name is an IP literal in Go's reading, see COMPAT.md). Both checks
// follow mbedTLS's rules, not crypto/x509's: a certificate without a
// subjectAltName is matched on its common name, a CA-issued leaf in roots
// is not trusted without its issuer, keys and signature hashes follow
// mbedTLS's default profile (RSA ≥ 2048 bits, ECDSA on P-256/384/521;
// SHA-256/384/512, a pinned self-signed leaf's signature included), the
// leaf's key usage must allow what the negotiated key exchange does with
// its key (keyEncipherment for TLS 1.2 RSA key exchange, digitalSignature
// otherwise) and no certificate's may allow encipherOnly or decipherOnly,
// extended key usage is checked on the leaf alone, name constraints are not
// enforced (a critical one fails the certificate, as mbedTLS cannot parse
// it), the chain is the one mbedTLS builds greedily, never going back (a
// stale or cross-signed intermediate, or intermediates out of order, sent
// before the right path fail it), a parent's subject is compared with
// its child's issuer as mbedTLS's x509_name_cmp does (UTF8String and
// PrintableString alike, ASCII letters in either case), and at most 8
// intermediate CAs may stand below the trusted one. A
// Certificate message too large for mbedTLS's input buffer (over 16747
// bytes in TLS 1.2, 16730 in TLS 1.3) fails the handshake too, and so does
// any certificate in it that mbedTLS cannot parse, on the chain or not
// (see TLSClientUnsafe).
//
// Godot: TLSOptions.client()
func TLSClient(roots *x509.CertPool, commonNameOverride string) *TLSOptions {
	return &TLSOptions{mode: tlsModeClient, roots: roots, commonName: commonNameOverride}
}

// TLSClientUnsafe returns client options that send no SNI and never check
// the host name (§1.15.5). With roots nil nothing is verified: any
// certificate chain is accepted (Godot 4.3+ behaviour, §3 and §4 #13), as
// long as its Certificate message fits mbedTLS's input buffer (see
// TLSClient) and mbedTLS can parse every certificate in it: none may carry
// an issuer or subject name mbedTLS does not parse (an empty issuer, an
// empty RDN, a NumericString), a critical extension mbedTLS does not parse
// (a critical certificate policies extension other than anyPolicy
// included), an extended key usage listing no purpose, or a key other
// than RSA or EC (Ed25519, DSA). With roots given the chain must still verify
// against them, as Godot's mbedTLS requires (MBEDTLS_SSL_VERIFY_REQUIRED
// with the given CA chain); only the name check is skipped.
//
// Godot: TLSOptions.client_unsafe()
func TLSClientUnsafe(roots *x509.CertPool) *TLSOptions {
	return &TLSOptions{mode: tlsModeClientUnsafe, roots: roots}
}

// TLSServer returns server-mode options. A client cannot use them:
// ConnectToHost rejects them with ErrInvalidParameter (§1.5.4). They exist so
// that the Godot surface is complete.
//
// Godot: TLSOptions.server()
func TLSServer(cert tls.Certificate) *TLSOptions {
	return &TLSOptions{mode: tlsModeServer, cert: cert}
}

// IsServer reports whether the options are server-mode options.
//
// Godot: TLSOptions.is_server()
func (o *TLSOptions) IsServer() bool { return o != nil && o.mode == tlsModeServer }

// IsUnsafeClient reports whether the options disable verification.
//
// Godot: TLSOptions.is_unsafe_client()
func (o *TLSOptions) IsUnsafeClient() bool { return o != nil && o.mode == tlsModeClientUnsafe }

// TrustedCACertificates returns the root pool (nil: the system pool).
//
// Godot: TLSOptions.get_trusted_ca_chain()
func (o *TLSOptions) TrustedCACertificates() *x509.CertPool {
	if o == nil {
		return nil
	}
	return o.roots
}

// CommonNameOverride returns the host name the certificate is verified
// against instead of the target host ("" when none).
//
// Godot: TLSOptions.get_common_name_override()
func (o *TLSOptions) CommonNameOverride() string {
	if o == nil {
		return ""
	}
	return o.commonName
}

// config builds the crypto/tls configuration for a connection to host
// (§1.15.5, Godot's TLSContextMbedTLS::init_client):
//   - client: one name, the override when set, else host, is both the SNI
//     and the name verified; the chain verifies against roots (nil: the
//     system pool). Both checks follow mbedTLS's rules, not crypto/x509's
//     (verifyGodot). crypto/tls sends no SNI when that name is an IP literal
//     (RFC 6066) and drops a trailing dot from it (see COMPAT.md).
//     The name ends at a NUL: Godot hands it to mbedTLS as a C string.
//     A name longer than 255 bytes is refused by mbedtls_ssl_set_hostname,
//     whose error Godot ignores: no SNI is sent, and mbedTLS (3.6.3 on)
//     fails the verification of a client that set no name.
//   - unsafe: no SNI and no name check; with roots the chain must still
//     verify against them, without roots nothing is verified.
//
// In both modes a Certificate message too large for mbedTLS's input buffer
// fails the handshake (certificateMessageFits), before any check of the
// certificates: mbedTLS never gets to read them. Then every certificate
// sent must be one mbedTLS parses (mbedTLSParses), in both modes too:
// mbedTLS parses them before, and whether or not, it verifies them. The
// TLS 1.2 cipher suites offered are mbedTLSSuites.
func (o *TLSOptions) config(host string) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true, CipherSuites: mbedTLSSuites}
	roots := o.roots
	verify := func(tls.ConnectionState) error { return nil } // unsafe without roots
	switch {
	case o.mode == tlsModeClientUnsafe:
		if roots != nil {
			verify = func(cs tls.ConnectionState) error { return verifyGodot(cs, roots, "", false) }
		}
	default:
		name := host
		if o.commonName != "" {
			name = o.commonName
		}
		if i := strings.IndexByte(name, 0); i >= 0 {
			name = name[:i] // Godot passes a C string: cn.utf8().get_data()
		}
		if len(name) > maxTLSHostName {
			verify = func(tls.ConnectionState) error { return errTLSNameTooLong }
			break
		}
		cfg.ServerName = name // the SNI
		verify = func(cs tls.ConnectionState) error { return verifyGodot(cs, roots, name, true) }
	}
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if err := certificateMessageFits(cs.Version, cs.PeerCertificates); err != nil {
			return err
		}
		if err := mbedTLSParses(cs.PeerCertificates); err != nil {
			return err
		}
		return verify(cs)
	}
	return cfg
}

// maxTLSHostName is MBEDTLS_SSL_MAX_HOST_NAME_LEN: mbedtls_ssl_set_hostname
// refuses a longer name.
const maxTLSHostName = 255

// errTLSNameTooLong fails the handshake of a client whose name to verify
// mbedTLS refused (MBEDTLS_ERR_SSL_CERTIFICATE_VERIFICATION_WITHOUT_HOSTNAME).
var errTLSNameTooLong = errors.New("httpclient: TLS host name longer than 255 bytes: mbedTLS sets none, and verifies no certificate without one")

// mbedTLSSuites are the TLS 1.2 cipher suites Godot's mbedTLS offers that
// crypto/tls implements: Godot keeps mbedTLS 3.6's default list (it never
// calls mbedtls_ssl_conf_ciphersuites; its build leaves out DHE and DES
// only), so besides crypto/tls's defaults a Godot client also talks to a
// server that only speaks RSA key exchange or a CBC-SHA256 suite.
// crypto/tls orders them by its own preference; TLS 1.3 suites are not
// configurable (mbedTLS also offers the CCM ones, which crypto/tls lacks).
var mbedTLSSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA,
}

// mbedTLSInputBuffer is MBEDTLS_SSL_IN_BUFFER_LEN in Godot's build of
// mbedTLS 3.6 (its configuration keeps the defaults that size it): 13
// bytes before the record content (an 8-byte sequence number, then the
// 5-byte record header), MBEDTLS_SSL_IN_CONTENT_LEN (16384) of content,
// 336 of protection overhead (IV 16, MAC 48, CBC padding 256, CID padding
// 16) and 32 for a connection ID: 16765 bytes in all.
const mbedTLSInputBuffer = 13 + 16384 + 336 + 32

// maxCertificateMessage is the largest Certificate handshake message
// (its 4-byte header included) that Godot's mbedTLS can read in TLS
// version v. One larger than a record (16384 bytes) is reassembled in the
// input buffer (mbedtls_ssl_prepare_handshake_record): its fragments are
// gathered from offset 13 and each next record is read right after them,
// so the record holding its last byte must end inside the buffer —
// mbedtls_ssl_fetch_input refuses it otherwise ("requesting more data
// than fits"), and the handshake fails. That record adds its 5-byte header
// and its protection: none in TLS 1.2, where the Certificate comes before
// ChangeCipherSpec; in TLS 1.3 the inner content type (1) and the AEAD tag
// (16), crypto/tls's servers adding no padding. So 13 + M + 5 (+ 17) ≤
// 16765: M ≤ 16747 in TLS 1.2, M ≤ 16730 in TLS 1.3.
//
// It assumes, as crypto/tls's servers do, that the Certificate message
// ends its record; a server that packs the next handshake messages into
// the same record makes mbedTLS fail at a slightly smaller message, which
// the client cannot see.
func maxCertificateMessage(v uint16) int {
	if v >= tls.VersionTLS13 {
		return mbedTLSInputBuffer - 13 - 5 - 1 - 16
	}
	return mbedTLSInputBuffer - 13 - 5
}

// certificateMessageFits fails when the server's Certificate message, as
// it would be sent to Godot's mbedTLS, is larger than
// maxCertificateMessage. The size is computed from certs (leaf first) in
// the wire format of version v: TLS 1.2 (RFC 5246 §7.4.2) a 4-byte
// handshake header, a 3-byte list length and each certificate with a
// 3-byte length; TLS 1.3 (RFC 8446 §4.4.2) adds a 1-byte empty request
// context and each entry's 2-byte extensions length. The entries'
// extensions are counted empty: mbedTLS asks for neither OCSP stapling nor
// SCTs, which crypto/tls asks for, so a server sends them to Go only.
func certificateMessageFits(v uint16, certs []*x509.Certificate) error {
	size, entry := 4+3, 3
	if v >= tls.VersionTLS13 {
		size, entry = 4+1+3, 3+2
	}
	for _, c := range certs {
		size += entry + len(c.Raw)
	}
	if limit := maxCertificateMessage(v); size > limit {
		return fmt.Errorf("httpclient: the server's Certificate message (%d bytes) does not fit mbedTLS's input buffer: %w",
			size, &wire.LimitError{What: "Certificate message bytes", Limit: int64(limit)})
	}
	return nil
}

// mbedTLSParses fails when a certificate of certs, the server's
// Certificate message (leaf first), is one mbedTLS cannot parse. Godot's
// client parses every certificate of the message, also under
// MBEDTLS_SSL_VERIFY_NONE (client_unsafe() without a chain) and also
// those no chain uses (ssl_parse_certificate_chain,
// ssl_tls13_parse_certificate: mbedtls_x509_crt_parse_der), and fails the
// handshake on any error but an unknown signature algorithm. In the order
// mbedtls_x509_crt_parse_der meets them:
//   - a signature algorithm mbedTLS does not know (knownSignature): the
//     certificate is dropped and the next one parsed in its place, so one
//     after the leaf is skipped here; a leaf dropped leaves the handshake
//     without the server's key, so it fails. (crypto/x509 may still build
//     a chain through a dropped CA certificate signed with Ed25519, which
//     mbedTLS could not; no root Godot can load leads to one.)
//   - an issuer or subject name mbedTLS cannot parse (namesParse), which
//     crypto/x509 reads: an empty issuer, an empty RDN, bytes after an
//     attribute's value, a NumericString value;
//   - a critical extension mbedTLS does not parse (unparsedCritical);
//   - an extended key usage extension, critical or not, that lists no
//     purpose (emptyExtKeyUsage);
//   - a key that is neither RSA nor EC (Ed25519, DSA, …:
//     MBEDTLS_ERR_PK_UNKNOWN_PK_ALG).
//
// The error is a *tls.CertificateVerificationError, as verifyGodot's.
func mbedTLSParses(certs []*x509.Certificate) error {
	for i, c := range certs {
		var err error
		if !knownSignature(c.SignatureAlgorithm) {
			if i > 0 {
				continue
			}
			err = fmt.Errorf("httpclient: mbedTLS drops the server's certificate %q, signed with %v, an algorithm it does not know, and has no key for the handshake",
				c.Subject.String(), c.SignatureAlgorithm)
		} else if !namesParse(c) {
			err = fmt.Errorf("httpclient: mbedTLS cannot parse the issuer or subject name of %q", c.Subject.String())
		} else if ext, bad := unparsedCritical(c); bad {
			err = fmt.Errorf("%w %v in %q (mbedTLS does not parse it)", x509.UnhandledCriticalExtension{}, ext, c.Subject.String())
		} else if emptyExtKeyUsage(c) {
			err = fmt.Errorf("httpclient: mbedTLS cannot parse %q: its extended key usage extension lists no purpose", c.Subject.String())
		} else if !parsableKey(c.PublicKey) {
			err = fmt.Errorf("httpclient: mbedTLS cannot parse the %v key of %q (RSA and EC keys only)", c.PublicKeyAlgorithm, c.Subject.String())
		}
		if err != nil {
			return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
		}
	}
	return nil
}

// oidExtKeyUsage is the extKeyUsage extension (RFC 5280 §4.2.1.12).
var oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}

// emptyExtKeyUsage reports whether c has an extended key usage extension
// that is an empty SEQUENCE, which crypto/x509 parses and
// x509_get_ext_key_usage refuses ("Sequence length must be >= 1":
// MBEDTLS_ERR_X509_INVALID_EXTENSIONS, whatever the extension's
// criticality), failing the whole certificate. An empty subjectAltName
// mbedTLS 3.6 takes (mbedtls_x509_get_subject_alt_name): it then matches
// no name.
func emptyExtKeyUsage(c *x509.Certificate) bool {
	for _, ext := range c.Extensions {
		if ext.Id.Equal(oidExtKeyUsage) {
			var seq asn1.RawValue
			rest, err := asn1.Unmarshal(ext.Value, &seq)
			return err == nil && len(rest) == 0 && len(seq.Bytes) == 0
		}
	}
	return false
}

// knownSignature reports whether mbedTLS's OID table (Godot's build)
// knows a signature algorithm: RSA PKCS#1 v1.5 with MD5, SHA-1, SHA-2;
// RSASSA-PSS; ECDSA with SHA-1, SHA-2. Not MD2 (gone in mbedTLS 3), DSA or
// Ed25519. An algorithm crypto/x509 does not know either counts as
// unknown.
func knownSignature(a x509.SignatureAlgorithm) bool {
	switch a {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
		x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS,
		x509.ECDSAWithSHA1, x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512:
		return true
	}
	return false
}

// parsableKey reports whether mbedtls_pk_parse_subpubkey parses a key of
// this kind: RSA, EC on any curve crypto/x509 reads, and X25519 (an
// RFC 8410 curve key, which mbedTLS 3.6 reads as an EC key). The profile's
// stricter rules apply only when the chain is verified (weakKey).
func parsableKey(k any) bool {
	switch k := k.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
		return true
	case *ecdh.PublicKey:
		return k.Curve() == ecdh.X25519()
	}
	return false
}

// verifyGodot checks the server's certificates of a handshake (leaf first)
// as Godot's mbedTLS does with MBEDTLS_SSL_VERIFY_REQUIRED
// (mbedtls_ssl_verify_certificate):
//   - the chain must lead to roots (nil: the system pool), by mbedTLS's
//     rules where crypto/x509's differ (verifyChain), the leaf's key usage
//     allowing what the negotiated key exchange does with its key
//     (serverKeyUsage);
//   - when checkName, the leaf must carry name by mbedTLS's rules
//     (nameMatches), which differ from crypto/x509's: a certificate without
//     a subjectAltName extension is matched on its subject's common name, a
//     dNSName is compared as text even when name is an IP address, and no
//     trailing dot is dropped.
//
// The error wraps x509.UnknownAuthorityError, x509.HostnameError or
// crypto/x509's own, in a *tls.CertificateVerificationError as crypto/tls
// reports its own failures.
func verifyGodot(cs tls.ConnectionState, roots *x509.CertPool, name string, checkName bool) error {
	certs := cs.PeerCertificates
	if len(certs) == 0 {
		return errors.New("httpclient: server sent no certificate")
	}
	leaf := certs[0]
	err := verifyChain(certs, roots, serverKeyUsage(cs.Version, cs.CipherSuite))
	if err == nil && checkName && !nameMatches(leaf, name) {
		err = x509.HostnameError{Certificate: leaf, Host: name}
	}
	if err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
	}
	return nil
}

// verifyChain verifies the chain of certs (leaf first) against roots,
// without a name, as mbedTLS's default profile and checks do
// (x509_crt_verify_chain, mbedtls_ssl_check_cert_usage), the leaf's key
// for usage (serverKeyUsage):
//   - a certificate with a critical extension mbedTLS does not parse
//     (name constraints, policy constraints, certificate policies other
//     than anyPolicy…) fails, and name constraints that are not critical
//     are ignored, not enforced;
//   - extended key usage is the leaf's alone (serverAuth or any, when it
//     has the extension), never nested down the chain; a leaf with a key
//     usage extension must allow usage and neither encipherOnly nor
//     decipherOnly (leafUsage);
//   - the chain is the one mbedTLS builds (mbedTLSChain): greedily, a
//     parent at a time, never backtracking, so a server list that holds a
//     wrong candidate before the right one fails where crypto/x509, which
//     searches every path, would find one;
//   - every certificate of that chain, the trusted one included, must be
//     valid now; every key of it is RSA of 2048 bits or more or ECDSA on
//     P-256, P-384 or P-521 (weakKey); every certificate but the trusted
//     CA that ends it is signed with SHA-256, SHA-384 or SHA-512, a leaf
//     trusted alone included (signedWithProfileHash);
//   - at most maxIntermediateCAs untrusted CAs stand between the leaf and
//     the trusted one; a longer chain fails with a *wire.LimitError.
//
// The error is the first problem of the chain, in the order mbedTLS flags
// them (the limit first: mbedTLS gives up building the chain there).
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, usage x509.KeyUsage) error {
	for _, c := range certs {
		if ext, bad := unparsedCritical(c); bad {
			return fmt.Errorf("%w %v in %q (mbedTLS does not parse it)", x509.UnhandledCriticalExtension{}, ext, c.Subject.String())
		}
	}
	leaf := certs[0]
	if err := leafUsage(leaf, usage); err != nil {
		return err
	}
	flaw, fatal := mbedTLSChain(certs, roots, time.Now())
	if fatal != nil {
		return fatal
	}
	if flaw == nil && weakKey(leaf) {
		// mbedTLS checks the leaf's key first (the end-entity flags), and
		// then each parent's as it takes it.
		flaw = weakKeyError(leaf)
	}
	return flaw
}

// mbedTLSChain builds and checks the chain of certs (the server's list,
// leaf first) as x509_crt_verify_chain does at time now, and returns its
// first flaw (mbedTLS's verification flags, in the order it sets them) or
// a fatal error (the chain too long: MBEDTLS_ERR_X509_FATAL_ERROR). From
// the leaf, for each certificate (the child), in turn:
//   - the child must be valid now (BADCERT_EXPIRED, BADCERT_FUTURE); a
//     trusted child ends the chain there;
//   - its signature must use a hash of the profile (BADCERT_BAD_MD);
//   - a leaf that is self-issued and found among the trusted certificates
//     ends the chain alone (x509_crt_check_ee_locally_trusted);
//   - its parent is looked for among the trusted certificates first, then
//     among the certificates the server sent after the child, in their
//     order (x509_crt_find_parent), mbedTLS's parsed list: a certificate
//     it drops (knownSignature) is no candidate. A candidate must name the
//     child's issuer as its subject, compared as x509_name_cmp does
//     (namesEqual: UTF8String and PrintableString alike, ASCII letters in
//     either case), be a CA allowed to sign certificates
//     (isParent), allow the path below it (pathLenAllows), and, when
//     trusted, have signed the child; the first such one valid now is
//     taken, or else the first one at all (x509_crt_find_parent_in). A
//     parent is never undone for another: a wrong one fails the chain;
//   - no parent: BADCERT_NOT_TRUSTED, the chain ends;
//   - an untrusted parent for a child with more than maxIntermediateCAs
//     certificates below it and itself is fatal;
//   - an untrusted parent whose signature of the child does not verify:
//     BADCERT_NOT_TRUSTED; a parent whose key the profile refuses:
//     BADCERT_BAD_KEY.
//
// roots cannot be enumerated, so its certificates are seen through
// trustedIssuers: the trusted CAs valid now, and those valid when the
// child's validity begins or ends, which mbedTLS would take (and fail on)
// when no trusted CA valid now qualifies; a trusted CA valid at none of
// those times is not seen. Where mbedTLS takes the first of several
// qualifying trusted CAs in its list, a CertPool has no order: any of them
// is taken. A pool finds a child's issuers by the issuer's bytes; those
// whose subject x509_name_cmp takes for the issuer in other bytes are
// found under the subjects the pool lists (trustedSubjects), except for
// the system pool on Windows, macOS and iOS, where crypto/x509 leaves the
// roots to the platform's verifier and lists none: there a trusted CA must
// carry the issuer's bytes.
func mbedTLSChain(certs []*x509.Certificate, roots *x509.CertPool, now time.Time) (flaw, fatal error) {
	list := certs[:1:1]
	for _, c := range certs[1:] {
		if knownSignature(c.SignatureAlgorithm) {
			list = append(list, c)
		}
	}
	flag := func(err error) {
		if flaw == nil {
			flaw = err
		}
	}
	subjects := trustedSubjects(roots)
	child, at, trusted := list[0], 0, false
	selfIssuedCAs := 0  // self_cnt
	for n := 1; ; n++ { // n: the certificates in the chain, child included
		if err := validAt(child, now); err != nil {
			flag(err)
		}
		if trusted {
			return flaw, nil
		}
		if !signedWithProfileHash(child) {
			flag(fmt.Errorf("httpclient: the signature of %q is refused by mbedTLS's default profile (SHA-256, SHA-384, SHA-512 only): %w",
				child.Subject.String(), x509.InsecureAlgorithmError(child.SignatureAlgorithm)))
		}
		parent, isRoot := trustedParent(child, roots, subjects, n-1, selfIssuedCAs, now)
		if n == 1 && isRoot && selfIssued(child) {
			return flaw, nil
		}
		// A trusted parent's signature of child verified (trustedIssuers);
		// an untrusted one is taken whether it did or not.
		var sigErr error
		trusted = parent != nil
		if !trusted {
			var i int
			parent, i, sigErr = listedParent(child, list[at+1:], n-1, selfIssuedCAs, now)
			at += 1 + i
		}
		if parent == nil {
			flag(x509.UnknownAuthorityError{Cert: child})
			return flaw, nil
		}
		if n > 1 && selfIssued(child) {
			selfIssuedCAs++
		}
		if !trusted && n > maxIntermediateCAs {
			return nil, fmt.Errorf("httpclient: mbedTLS stops the chain of %q: %w", list[0].Subject.String(),
				&wire.LimitError{What: "intermediate CAs", Limit: maxIntermediateCAs})
		}
		if sigErr != nil {
			flag(fmt.Errorf("httpclient: the signature of %q does not verify with the key of %q, the parent mbedTLS takes for it: %w (%w)",
				child.Subject.String(), parent.Subject.String(), x509.UnknownAuthorityError{Cert: child}, sigErr))
		}
		if weakKey(parent) {
			flag(weakKeyError(parent))
		}
		child = parent
	}
}

// trustedParent is the search of x509_crt_find_parent among the trusted
// certificates (roots) for a parent of child, whose chain holds pathCnt
// certificates below it (selfCnt of them self-issued CAs): a trusted CA
// valid now that qualifies (isParent, pathLenAllows), else one valid only
// at another time (trustedIssuers), nil when none qualifies; crypto/x509
// returns only a CA whose signature of child verifies, as mbedTLS takes
// only such a trusted one. isRoot reports whether child itself is one of
// roots.
func trustedParent(child *x509.Certificate, roots *x509.CertPool, subjects [][]byte, pathCnt, selfCnt int, now time.Time) (parent *x509.Certificate, isRoot bool) {
	names := trustedNames(child.RawIssuer, subjects)
	for i, at := range []time.Time{now, child.NotBefore, child.NotAfter} {
		issuers, self := trustedIssuers(child, roots, names, at)
		if i == 0 {
			isRoot = self
		}
		for _, p := range issuers {
			if isParent(child, p, true) && pathLenAllows(p, pathCnt, selfCnt) {
				return p, isRoot
			}
		}
	}
	return nil, isRoot
}

// listedParent is the search of x509_crt_find_parent_in among the
// untrusted candidates (the certificates the server sent after child, in
// order) for a parent of child: the first that qualifies (isParent,
// pathLenAllows) and is valid now, else the first that qualifies, its
// signature of child checked but not required (sigErr). i is its index in
// candidates.
func listedParent(child *x509.Certificate, candidates []*x509.Certificate, pathCnt, selfCnt int, now time.Time) (parent *x509.Certificate, i int, sigErr error) {
	fallback, fallbackErr := -1, error(nil)
	for i, c := range candidates {
		if !isParent(child, c, false) || !pathLenAllows(c, pathCnt, selfCnt) {
			continue
		}
		// CheckSignature, unlike CheckSignatureFrom, takes a SHA-1
		// signature, as mbedTLS does here (the profile refuses the child
		// for its hash anyway).
		err := c.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature)
		if validAt(c, now) != nil {
			if fallback < 0 {
				fallback, fallbackErr = i, err
			}
			continue
		}
		return c, i, err
	}
	if fallback < 0 {
		return nil, -1, nil
	}
	return candidates[fallback], fallback, fallbackErr
}

// trustedSubjects returns the distinct subjects of the certificates of
// roots (nil: the system pool), in DER, for trustedNames. CertPool.Subjects
// lists them all for a pool built by the caller and, on Linux and the other
// Unix systems, for the system pool (SystemCertPool's copy of the pool
// crypto/x509 verifies against, listed once: crypto/x509 loads it once);
// where crypto/x509 asks the platform's verifier instead (Windows, macOS,
// iOS) the system pool lists none of its roots, and nil is returned.
func trustedSubjects(roots *x509.CertPool) [][]byte {
	if roots == nil {
		return systemSubjects()
	}
	return distinctSubjects(roots)
}

// systemSubjects is trustedSubjects of the system pool.
var systemSubjects = sync.OnceValue(func() [][]byte {
	roots, err := x509.SystemCertPool()
	if err != nil {
		return nil
	}
	return distinctSubjects(roots)
})

// distinctSubjects returns the subjects pool lists, each once.
func distinctSubjects(pool *x509.CertPool) [][]byte {
	//lint:ignore SA1019 the pool is one crypto/x509 searches itself (see trustedSubjects), whose Subjects are all its certificates'
	all := pool.Subjects()
	seen := make(map[string]bool, len(all))
	subjects := all[:0]
	for _, s := range all {
		if !seen[string(s)] {
			seen[string(s)] = true
			subjects = append(subjects, s)
		}
	}
	return subjects
}

// trustedNames returns the subjects among subjects (trustedSubjects) that
// x509_name_cmp takes as issuer, c's issuer, but that differ from it in
// their bytes (the case of ASCII letters, UTF8String for PrintableString).
// A CertPool finds a certificate's issuers by the issuer's bytes alone;
// trustedIssuers looks again under each of these names.
func trustedNames(issuer []byte, subjects [][]byte) [][]byte {
	var names [][]byte
	for _, s := range subjects {
		if !bytes.Equal(s, issuer) && namesEqual(issuer, s) {
			names = append(names, s)
		}
	}
	return names
}

// trustedIssuers returns the certificates of roots (nil: the system pool)
// that crypto/x509 takes as c's issuer at time at: each one whose subject
// is c's issuer, byte for byte, or one of names (trustedNames: equal by
// mbedTLS's x509_name_cmp), whose signature of c verifies, and that is
// valid at that time (and a CA, unless a version 1 or 2 certificate,
// allowed keyCertSign when it has a key usage). self reports whether c
// itself is one of roots. What crypto/x509 would check beyond that on c is
// left out: c is verified as a copy without its dates, names, name
// constraints, policies and unhandled critical extensions, and without the
// subject that would make crypto/x509 refuse a parent with c's subject and
// key (mbedTLS takes a re-issued CA as its own parent). The copy is looked
// up under each of names as its issuer: the pool finds candidates by that
// field and crypto/x509 then asks their subject to equal it, byte for
// byte; the signature covers RawTBSCertificate, which the copy keeps.
func trustedIssuers(c *x509.Certificate, roots *x509.CertPool, names [][]byte, at time.Time) (issuers []*x509.Certificate, self bool) {
	probe := *c
	probe.NotBefore, probe.NotAfter = time.Time{}, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	probe.Extensions, probe.UnhandledCriticalExtensions = nil, nil
	probe.DNSNames, probe.EmailAddresses, probe.IPAddresses, probe.URIs = nil, nil, nil, nil
	probe.PermittedDNSDomains, probe.ExcludedDNSDomains = nil, nil
	probe.PermittedIPRanges, probe.ExcludedIPRanges = nil, nil
	probe.PermittedEmailAddresses, probe.ExcludedEmailAddresses = nil, nil
	probe.PermittedURIDomains, probe.ExcludedURIDomains = nil, nil
	probe.PolicyIdentifiers, probe.Policies, probe.PolicyMappings = nil, nil, nil
	probe.RequireExplicitPolicy, probe.RequireExplicitPolicyZero = 0, false
	probe.InhibitPolicyMapping, probe.InhibitPolicyMappingZero = 0, false
	probe.InhibitAnyPolicy, probe.InhibitAnyPolicyZero = 0, false
	probe.RawSubject = append(c.RawSubject[:len(c.RawSubject):len(c.RawSubject)], 0)
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool(), CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	chains, _ := probe.Verify(opts)
	for _, ch := range chains {
		self = self || len(ch) == 1
	}
	if self {
		// crypto/x509 trusts a certificate found in roots alone. Look for
		// its issuer with a copy that the pool does not recognise (the pool
		// matches certificates by their raw bytes; the signature covers
		// RawTBSCertificate, which the copy keeps).
		probe.Raw = append(c.Raw[:len(c.Raw):len(c.Raw)], 0)
		chains, _ = probe.Verify(opts)
	}
	for i := -1; i < len(names); i++ {
		if i >= 0 {
			probe.RawIssuer = names[i]
			chains, _ = probe.Verify(opts)
		}
		for _, ch := range chains {
			if len(ch) == 2 {
				issuers = append(issuers, ch[1])
			}
		}
	}
	return issuers, self
}

// isParent is x509_crt_check_parent: parent's subject is child's issuer
// (x509_name_cmp: namesEqual), and parent is a CA whose key usage, when
// it has the extension, allows keyCertSign and neither encipherOnly nor
// decipherOnly (mbedtls_x509_crt_check_key_usage's may_mask rule) — a
// trusted (top) version 1 or 2 certificate excepted.
func isParent(child, parent *x509.Certificate, top bool) bool {
	if !namesEqual(child.RawIssuer, parent.RawSubject) {
		return false
	}
	if top && parent.Version < 3 {
		return true
	}
	if !parent.BasicConstraintsValid || !parent.IsCA {
		return false
	}
	return !hasKeyUsage(parent) || parent.KeyUsage&x509.KeyUsageCertSign != 0 && parent.KeyUsage&onlyUsages == 0
}

// pathLenAllows is the path length rule of x509_crt_find_parent_in: a
// candidate whose basic constraints set a path length allows at most that
// many CAs below it, pathCnt certificates standing below it of which
// selfCnt self-issued CAs are not counted ("parent->max_pathlen > 0 &&
// parent->max_pathlen < 1 + path_cnt - self_cnt", max_pathlen being the
// length plus one).
func pathLenAllows(parent *x509.Certificate, pathCnt, selfCnt int) bool {
	return !parent.BasicConstraintsValid || parent.MaxPathLen < 0 || parent.MaxPathLen >= pathCnt-selfCnt
}

// selfIssued reports whether c's issuer is its subject (x509_name_cmp:
// namesEqual), as x509_crt_verify_chain counts self-issued intermediates
// (self_cnt) and x509_crt_check_ee_locally_trusted asks of a leaf trusted
// alone.
func selfIssued(c *x509.Certificate) bool { return namesEqual(c.RawIssuer, c.RawSubject) }

// validAt is x509_crt_verify_chain's time check of a certificate: an error
// when now is before its notBefore or after its notAfter.
func validAt(c *x509.Certificate, now time.Time) error {
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return x509.CertificateInvalidError{Cert: c, Reason: x509.Expired,
			Detail: fmt.Sprintf("current time %s is outside %s to %s", now.Format(time.RFC3339), c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339))}
	}
	return nil
}

// signedWithProfileHash reports whether c's signature uses a hash of
// mbedtls_x509_crt_profile_default: SHA-256, SHA-384 or SHA-512.
// crypto/x509 refuses SHA-1 and MD5 on every signature it verifies, but
// not on a certificate found among the trusted ones.
func signedWithProfileHash(c *x509.Certificate) bool {
	switch c.SignatureAlgorithm {
	case x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
		x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512,
		x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS:
		return true
	}
	return false
}

// maxIntermediateCAs is MBEDTLS_X509_MAX_INTERMEDIATE_CA, 8 in mbedTLS's
// default configuration, which Godot keeps. x509_crt_verify_chain counts
// the certificates it has put in the chain, the leaf first, and gives up
// (MBEDTLS_ERR_X509_FATAL_ERROR, a failed handshake) when it finds an
// untrusted parent for a chain already longer than that: at the ninth
// untrusted CA. The trusted CA that ends the chain is not counted.
const maxIntermediateCAs = 8

// mbedTLSExtensions are the extensions mbedTLS parses (x509_get_crt_ext);
// any other marked critical fails the certificate.
var mbedTLSExtensions = []asn1.ObjectIdentifier{
	{2, 5, 29, 19}, // basicConstraints
	oidKeyUsage,
	oidExtKeyUsage,
	oidSubjectAltName,
	{2, 16, 840, 1, 113730, 1, 1}, // Netscape certificate type
	oidCertificatePolicies,        // anyPolicy alone when critical (onlyAnyPolicy)
	{2, 5, 29, 14},                // subjectKeyIdentifier
	{2, 5, 29, 35},                // authorityKeyIdentifier
}

// oidCertificatePolicies is the certificatePolicies extension, and
// oidAnyPolicy its anyPolicy (RFC 5280 §4.2.1.4).
var (
	oidCertificatePolicies = asn1.ObjectIdentifier{2, 5, 29, 32}
	oidAnyPolicy           = asn1.ObjectIdentifier{2, 5, 29, 32, 0}
)

// unparsedCritical returns a critical extension of c that mbedTLS does not
// parse: one it has no parser for, or a certificatePolicies naming a policy
// other than anyPolicy (x509_get_certificate_policies reports
// MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE for it, which x509_get_crt_ext
// returns for a critical extension). mbedTLS then cannot parse the
// certificate at all.
func unparsedCritical(c *x509.Certificate) (asn1.ObjectIdentifier, bool) {
	for _, ext := range c.Extensions {
		if !ext.Critical {
			continue
		}
		if !slices.ContainsFunc(mbedTLSExtensions, ext.Id.Equal) ||
			ext.Id.Equal(oidCertificatePolicies) && !onlyAnyPolicy(ext.Value) {
			return ext.Id, true
		}
	}
	return nil, false
}

// onlyAnyPolicy reports whether der, a certificatePolicies extension's
// value, lists anyPolicy and no other policy (qualifiers aside, which
// mbedTLS skips).
func onlyAnyPolicy(der []byte) bool {
	var policies []struct {
		Policy     asn1.ObjectIdentifier
		Qualifiers asn1.RawValue `asn1:"optional"`
	}
	if rest, err := asn1.Unmarshal(der, &policies); err != nil || len(rest) > 0 {
		return false
	}
	for _, p := range policies {
		if !p.Policy.Equal(oidAnyPolicy) {
			return false
		}
	}
	return true
}

// oidKeyUsage is the keyUsage extension.
var oidKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 15}

// serverKeyUsage is the key usage mbedtls_ssl_check_cert_usage asks of a
// server's certificate for the negotiated version and TLS 1.2 cipher
// suite: keyEncipherment for RSA key exchange (the TLS_RSA_* suites, which
// Godot's mbedTLS offers: mbedTLSSuites), where the client encrypts the
// premaster secret with the key; digitalSignature for ECDHE and for
// TLS 1.3, where the server signs with it.
func serverKeyUsage(version, suite uint16) x509.KeyUsage {
	if version < tls.VersionTLS13 && strings.HasPrefix(tls.CipherSuiteName(suite), "TLS_RSA_") {
		return x509.KeyUsageKeyEncipherment
	}
	return x509.KeyUsageDigitalSignature
}

// onlyUsages are encipherOnly and decipherOnly, which
// mbedtls_x509_crt_check_key_usage refuses unless asked for (its may_mask
// rule); mbedTLS never asks for them.
const onlyUsages = x509.KeyUsageEncipherOnly | x509.KeyUsageDecipherOnly

// hasKeyUsage reports whether c has a key usage extension: without one,
// mbedtls_x509_crt_check_key_usage allows every usage.
func hasKeyUsage(c *x509.Certificate) bool {
	return slices.ContainsFunc(c.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(oidKeyUsage) })
}

// leafUsage is mbedtls_ssl_check_cert_usage for a server's certificate: a
// key usage extension must allow usage (serverKeyUsage) and neither
// encipherOnly nor decipherOnly, an extended key usage must allow
// serverAuth (or any).
func leafUsage(leaf *x509.Certificate, usage x509.KeyUsage) error {
	if hasKeyUsage(leaf) {
		if leaf.KeyUsage&usage != usage {
			name := "digitalSignature"
			if usage == x509.KeyUsageKeyEncipherment {
				name = "keyEncipherment"
			}
			return fmt.Errorf("httpclient: the key usage of %q lacks %s, which the negotiated key exchange needs: %w", leaf.Subject.String(), name,
				x509.CertificateInvalidError{Cert: leaf, Reason: x509.IncompatibleUsage, Detail: "key usage without " + name})
		}
		if leaf.KeyUsage&onlyUsages != 0 {
			return fmt.Errorf("httpclient: the key usage of %q allows encipherOnly or decipherOnly, which mbedTLS refuses: %w", leaf.Subject.String(),
				x509.CertificateInvalidError{Cert: leaf, Reason: x509.IncompatibleUsage, Detail: "key usage with encipherOnly or decipherOnly"})
		}
	}
	if len(leaf.ExtKeyUsage)+len(leaf.UnknownExtKeyUsage) == 0 {
		return nil
	}
	for _, u := range leaf.ExtKeyUsage {
		if u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageAny {
			return nil
		}
	}
	return x509.CertificateInvalidError{Cert: leaf, Reason: x509.IncompatibleUsage, Detail: "extended key usage without serverAuth"}
}

// weakKey reports whether mbedTLS's default profile refuses c's key
// (x509_profile_check_key): RSA under 2048 bits, EC on a curve other than
// P-256, P-384, P-521, any other kind (Ed25519…).
func weakKey(c *x509.Certificate) bool {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return k.N.BitLen() < 2048
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return false
		}
	}
	return true
}

// weakKeyError is BADCERT_BAD_KEY for c (weakKey).
func weakKeyError(c *x509.Certificate) error {
	return fmt.Errorf("httpclient: the key of %q is refused by mbedTLS's default profile (RSA under 2048 bits, or not ECDSA on P-256, P-384, P-521)", c.Subject.String())
}

// oidSubjectAltName is the subjectAltName extension (RFC 5280 §4.2.1.6).
var oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}

// nameMatches is mbedTLS's x509_crt_verify_name: with a subjectAltName
// extension, a dNSName equal to name (ASCII case-insensitive, same length)
// or a "*.suffix" matching name from its first dot; then an iPAddress equal
// to name read as an IP address (IPv4 without ':', IPv6 with); then a URI
// equal to name byte for byte. Without the extension, a common name of the
// subject, compared as a dNSName is.
func nameMatches(leaf *x509.Certificate, name string) bool {
	for _, ext := range leaf.Extensions {
		if ext.Id.Equal(oidSubjectAltName) {
			return sanMatches(ext.Value, name)
		}
	}
	for _, atv := range leaf.Subject.Names {
		if v, ok := atv.Value.(string); ok && atv.Type.Equal(oidCommonName) && cnMatches(v, name) {
			return true
		}
	}
	return false
}

// oidCommonName is the commonName attribute (id-at-commonName).
var oidCommonName = asn1.ObjectIdentifier{2, 5, 4, 3}

// sanMatches is x509_crt_check_san over the DER of a subjectAltName
// extension.
func sanMatches(der []byte, name string) bool {
	var seq asn1.RawValue
	if rest, err := asn1.Unmarshal(der, &seq); err != nil || len(rest) > 0 {
		return false
	}
	var ips, uris [][]byte
	for b := seq.Bytes; len(b) > 0; {
		var gn asn1.RawValue
		rest, err := asn1.Unmarshal(b, &gn)
		if err != nil {
			return false
		}
		b = rest
		if gn.Class != asn1.ClassContextSpecific {
			continue
		}
		switch gn.Tag {
		case 2: // dNSName
			if cnMatches(string(gn.Bytes), name) {
				return true
			}
		case 7: // iPAddress
			ips = append(ips, gn.Bytes)
		case 6: // uniformResourceIdentifier
			uris = append(uris, gn.Bytes)
		}
	}
	if ip := cnIP(name); ip != nil {
		for _, v := range ips {
			if bytes.Equal(v, ip) {
				return true
			}
		}
	}
	for _, v := range uris {
		if string(v) == name {
			return true
		}
	}
	return false
}

// cnMatches is x509_crt_check_cn: the same length and equal but for the
// case of ASCII letters, or a "*." pattern whose suffix (from its dot)
// equals name's from name's first dot, which must not be its first byte.
func cnMatches(pattern, name string) bool {
	if len(pattern) == len(name) && asciiFold(pattern, name) {
		return true
	}
	if len(pattern) < 3 || pattern[0] != '*' || pattern[1] != '.' {
		return false
	}
	dot := strings.IndexByte(name, '.')
	return dot > 0 && len(name)-dot == len(pattern)-1 && asciiFold(pattern[1:], name[dot:])
}

// asciiFold is x509_memcasecmp for strings of the same length.
func asciiFold(a, b string) bool {
	for i := range len(a) {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x^y != 0x20 || (x|0x20) < 'a' || (x|0x20) > 'z' {
			return false
		}
	}
	return true
}

// cnIP is mbedtls_x509_crt_parse_cn_inet_pton: name as 4 bytes when it has
// no ':' and is a dotted IPv4 address, as 16 bytes when it has one and is
// an IPv6 address (inet_pton's forms: no zone); nil otherwise.
func cnIP(name string) []byte {
	a, err := netip.ParseAddr(name)
	if err != nil || a.Zone() != "" {
		return nil
	}
	if !strings.Contains(name, ":") {
		if !a.Is4() {
			return nil
		}
		v := a.As4()
		return v[:]
	}
	v := a.As16()
	return v[:]
}
