package httpclient

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"net/netip"
	"strings"
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
// ConnectToHost (never a proxy). That same name is sent as SNI, as Godot's
// mbedTLS does with mbedtls_ssl_set_hostname (§1.15.5; SNI is left out when
// the name is an IP literal in Go's reading, see COMPAT.md). Both checks
// follow mbedTLS's rules, not crypto/x509's: a certificate without a
// subjectAltName is matched on its common name, and a CA-issued leaf in
// roots is not trusted without its issuer.
//
// Godot: TLSOptions.client()
func TLSClient(roots *x509.CertPool, commonNameOverride string) *TLSOptions {
	return &TLSOptions{mode: tlsModeClient, roots: roots, commonName: commonNameOverride}
}

// TLSClientUnsafe returns client options that send no SNI and never check
// the host name (§1.15.5). With roots nil nothing is verified: any
// certificate chain is accepted (Godot 4.3+ behaviour, §3 and §4 #13). With
// roots given the chain must still verify against them, as Godot's mbedTLS
// requires (MBEDTLS_SSL_VERIFY_REQUIRED with the given CA chain); only the
// name check is skipped.
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
//   - unsafe: no SNI and no name check; with roots the chain must still
//     verify against them, without roots nothing is verified.
func (o *TLSOptions) config(host string) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true}
	roots := o.roots
	switch {
	case o.mode == tlsModeClientUnsafe:
		if roots != nil {
			cfg.VerifyConnection = func(cs tls.ConnectionState) error {
				return verifyGodot(cs.PeerCertificates, roots, "", false)
			}
		}
	default:
		name := host
		if o.commonName != "" {
			name = o.commonName
		}
		cfg.ServerName = name // the SNI
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyGodot(cs.PeerCertificates, roots, name, true)
		}
	}
	return cfg
}

// verifyGodot checks a server's certificates (leaf first) as Godot's
// mbedTLS does with MBEDTLS_SSL_VERIFY_REQUIRED (mbedtls_x509_crt_verify):
//   - the chain must lead to roots (nil: the system pool). The chain itself
//     is crypto/x509's (signatures, validity dates, key usage), except that
//     a leaf found among the trusted certificates is trusted alone only when
//     it is self-issued (x509_crt_check_ee_locally_trusted); a CA-issued
//     leaf needs its issuer;
//   - when checkName, the leaf must carry name by mbedTLS's rules
//     (nameMatches), which differ from crypto/x509's: a certificate without
//     a subjectAltName extension is matched on its subject's common name, a
//     dNSName is compared as text even when name is an IP address, and no
//     trailing dot is dropped.
//
// The error wraps x509.UnknownAuthorityError, x509.HostnameError or
// crypto/x509's own, in a *tls.CertificateVerificationError as crypto/tls
// reports its own failures.
func verifyGodot(certs []*x509.Certificate, roots *x509.CertPool, name string, checkName bool) error {
	if len(certs) == 0 {
		return errors.New("httpclient: server sent no certificate")
	}
	leaf := certs[0]
	err := verifyChain(certs, roots)
	if err == nil && checkName && !nameMatches(leaf, name) {
		err = x509.HostnameError{Certificate: leaf, Host: name}
	}
	if err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
	}
	return nil
}

// verifyChain verifies the chain of certs (leaf first) against roots,
// without a name, with mbedTLS's rule for a leaf that is itself trusted.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool) error {
	leaf := certs[0]
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	chains, err := leaf.Verify(opts)
	if err != nil || len(chains[0]) > 1 || bytes.Equal(leaf.RawIssuer, leaf.RawSubject) {
		return err
	}
	// crypto/x509 trusts a leaf found in roots alone. mbedTLS looks for
	// its issuer instead: verify a copy that the pool does not recognise
	// (the pool matches certificates by their raw bytes; the signature
	// covers RawTBSCertificate, which the copy keeps).
	alias := *leaf
	alias.Raw = append(leaf.Raw[:len(leaf.Raw):len(leaf.Raw)], 0)
	if _, err := alias.Verify(opts); err != nil {
		return x509.UnknownAuthorityError{Cert: leaf}
	}
	return nil
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
