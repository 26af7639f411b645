package httpclient

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// What Godot's mbedTLS offers and refuses in a ClientHello, beyond the
// certificate checks (from the TLS parity audit).

// helloSNIs starts a TLS server with cert whose config is edited by edit,
// and records the SNI of every ClientHello it receives — also of handshakes
// that then fail (ts.Server.ServerNames records "" for those).
func helloSNIs(t *testing.T, cert tls.Certificate, edit func(*tls.Config)) (*ts.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var snis []string
	srv := ts.NewTLS(t, cert, ts.Respond(okResp), ts.WithTLSConfig(func(c *tls.Config) {
		if edit != nil {
			edit(c)
		}
		base := c.Clone()
		c.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			mu.Lock()
			snis = append(snis, h.ServerName)
			mu.Unlock()
			return base, nil
		}
	}))
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string{}, snis...)
	}
}

// rsaSelfSigned is a self-signed RSA-2048 server certificate for
// localhost (trusted alone, as mbedTLS trusts a self-issued leaf) and a pool
// holding it.
func rsaSelfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(11),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// TestTLSCipherSuitesMbedTLSOffers: a TLS 1.2 server whose only cipher
// suite is one Godot's mbedTLS offers and crypto/tls's defaults do not (RSA
// key exchange; ECDHE with CBC-SHA256). Godot keeps mbedTLS 3.6's default
// list (tls_context_mbedtls.cpp configures the defaults preset and no suite
// list; its build drops DHE and DES only), so it connects: CONNECTED, then
// the response (§1.6.2.5, §1.15.5). Before mbedTLSSuites the port failed
// the handshake (TLS_HANDSHAKE_ERROR).
func TestTLSCipherSuitesMbedTLSOffers(t *testing.T) {
	ca := ts.NewCA(t)
	rsaCert, rsaPool := rsaSelfSigned(t)
	for _, c := range []struct {
		name  string
		cert  tls.Certificate
		roots *x509.CertPool
		suite uint16
	}{
		{"rsa-key-exchange-aes128-gcm-sha256", rsaCert, rsaPool, tls.TLS_RSA_WITH_AES_128_GCM_SHA256},
		{"ecdhe-ecdsa-aes128-cbc-sha256", ca.Issue(t, "localhost"), ca.Pool(), tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256},
	} {
		for _, m := range modes {
			t.Run(c.name+"/"+m.name, func(t *testing.T) {
				srv, _ := helloSNIs(t, c.cert, func(cfg *tls.Config) {
					cfg.MaxVersion = tls.VersionTLS12
					cfg.CipherSuites = []uint16{c.suite}
				})
				cl, tr := newClient(t, m.blocking)
				r := roundTrip(t, cl, tr, "localhost", srv.Port(), TLSClient(c.roots, ""), getRoot, pathChunks, false)
				assert.Equal(t, statuses(StatusResolving, StatusConnecting, StatusConnected, StatusRequesting, StatusBody, StatusConnected), r.Trace,
					"Godot's mbedTLS offers %s; last error %v", tls.CipherSuiteName(c.suite), r.LastErr)
				assert.Equal(t, "ok", r.Body)
			})
		}
	}
}

// TestTLSNameOver255Bytes: the name to verify (here a common-name override;
// a host name takes the same path) is longer than 255 bytes. Godot's
// init_client ignores the error of mbedtls_ssl_set_hostname, which refuses
// a name over MBEDTLS_SSL_MAX_HOST_NAME_LEN before storing it: the
// ClientHello has no SNI, and mbedTLS 3.6.3 on fails a verifying client
// that set no name (CVE-2025-27809) — TLS_HANDSHAKE_ERROR, ERR_CANT_CONNECT,
// even for a certificate that names it (§1.15.5, §1.6.2.5).
func TestTLSNameOver255Bytes(t *testing.T) {
	ca := ts.NewCA(t)
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." +
		strings.Repeat("d", 63) + ".test" // 260 bytes
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv, snis := helloSNIs(t, ca.Issue(t, long), nil)
			cl, tr := newClient(t, m.blocking)
			r := roundTrip(t, cl, tr, "localhost", srv.Port(), TLSClient(ca.Pool(), long), getRoot, pathChunks, false)
			srv.Close()
			assert.Equal(t, statuses(StatusResolving, StatusConnecting, StatusTLSHandshakeError), r.Trace)
			assert.ErrorIs(t, r.LastErr, ErrCantConnect)
			assert.ErrorIs(t, r.LastErr, errTLSNameTooLong)
			assert.Equal(t, []string{""}, snis(), "mbedTLS sends no SNI for a name it refused")
		})
	}
}
