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
// chain against roots (nil: the system pool) and its host name against
// commonNameOverride when that is not empty, else against the host given to
// ConnectToHost (§1.15.5). SNI always names the target host, never a proxy
// and never the override (§1.6.2.5).
//
// Godot: TLSOptions.client()
func TLSClient(roots *x509.CertPool, commonNameOverride string) *TLSOptions {
	return &TLSOptions{mode: tlsModeClient, roots: roots, commonName: commonNameOverride}
}

// TLSClientUnsafe returns client options that verify nothing: any
// certificate chain and any host name are accepted (Godot 4.3+ behaviour,
// §3 and §4 #13). roots is kept only for symmetry with Godot's signature.
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

// config builds the crypto/tls configuration for a connection to host. SNI
// is host (crypto/tls omits it for an IP literal, as RFC 6066 requires).
func (o *TLSOptions) config(host string) *tls.Config {
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	switch {
	case o.mode == tlsModeClientUnsafe:
		cfg.InsecureSkipVerify = true
	case o.commonName != "":
		// Verify the chain ourselves, against the override name, while SNI
		// still names the target host.
		cfg.InsecureSkipVerify = true
		roots, name := o.roots, o.commonName
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyChain(cs.PeerCertificates, roots, name)
		}
	default:
		cfg.RootCAs = o.roots
	}
	return cfg
}

// verifyChain verifies certs (leaf first) against roots and name as
// crypto/tls would with ServerName = name.
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
