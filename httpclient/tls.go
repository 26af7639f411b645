package httpclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
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
// the name is an IP literal in Go's reading, see COMPAT.md).
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
//     system pool). crypto/tls sends no SNI when that name is an IP literal
//     (RFC 6066) and then matches it against the IP addresses of the
//     certificate.
//   - unsafe: no SNI and no name check; with roots the chain must still
//     verify against them, without roots nothing is verified.
func (o *TLSOptions) config(host string) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case o.mode == tlsModeClientUnsafe:
		cfg.InsecureSkipVerify = true
		if roots := o.roots; roots != nil {
			cfg.VerifyConnection = func(cs tls.ConnectionState) error {
				return verifyChain(cs.PeerCertificates, roots, "")
			}
		}
	default:
		cfg.ServerName, cfg.RootCAs = host, o.roots
		if o.commonName != "" {
			cfg.ServerName = o.commonName
		}
	}
	return cfg
}

// verifyChain verifies certs (leaf first) against roots as crypto/tls would,
// and against name unless it is empty.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, name string) error {
	if len(certs) == 0 {
		return errors.New("httpclient: server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, DNSName: name, Intermediates: x509.NewCertPool()}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := certs[0].Verify(opts)
	return err
}
