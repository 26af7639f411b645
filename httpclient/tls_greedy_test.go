package httpclient

import (
	"crypto/x509"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// §1.15.5: mbedTLS builds one chain, greedily (x509_crt_verify_chain,
// x509_crt_find_parent, x509_crt_find_parent_in): for each certificate
// its parent is the first that qualifies among the trusted CAs, else among
// the certificates the server sent after it, valid now if one is; it never
// goes back. So a stale same-name intermediate, one cross-signed by an
// untrusted root, or intermediates out of order before the right path fail
// the chain, and a trusted CA that expired ends it (and fails it) even when
// a valid path exists; crypto/x509, which searches every path, accepts
// them all. Names are compared as x509_name_cmp does: a parent (sent or
// trusted) whose subject is its child's issuer in another ASCII case, or
// as a UTF8String where the issuer is a PrintableString, is taken, and a
// CA so named after itself is self-issued; other differences (string
// types, non-ASCII case, RDN structure) are refused. verifyChain on the
// cases of testserver.GreedyChainCases.
func TestVerifyChainGreedy(t *testing.T) {
	for _, c := range ts.GreedyChainCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			certs := make([]*x509.Certificate, len(c.Cert.Certificate))
			for i, der := range c.Cert.Certificate {
				var err error
				certs[i], err = x509.ParseCertificate(der)
				require.NoError(t, err)
			}
			err := verifyChain(certs, c.Roots, x509.KeyUsageDigitalSignature)
			if c.OK {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

// §1.15.5 through real handshakes (TestVerifyChainGreedy), in both modes
// and both verifying options: a chain mbedTLS refuses is
// TLS_HANDSHAKE_ERROR around a *tls.CertificateVerificationError, one it
// accepts gives the body.
func TestTLSChainGreedy(t *testing.T) {
	for _, c := range ts.GreedyChainCases(t) {
		for _, unsafe := range []bool{false, true} {
			opts, name := TLSClient(c.Roots, ""), c.Name
			if unsafe {
				opts, name = TLSClientUnsafe(c.Roots), "unsafe: "+c.Name
			}
			for _, m := range modes {
				t.Run(name+"/"+m.name, func(t *testing.T) {
					srv := ts.NewTLS(t, c.Cert, ts.Respond(okResp))
					cl, tr := newClient(t, m.blocking)
					r := roundTrip(t, cl, tr, "127.0.0.1", srv.Port(), opts, getRoot, pathChunks, false)
					if c.OK {
						assert.Equal(t, concat(connected, StatusBody, StatusConnected), r.Trace, "last error %v", r.LastErr)
						assert.Equal(t, "ok", r.Body)
						return
					}
					assertHandshakeRefused(t, r)
				})
			}
		}
	}
}
