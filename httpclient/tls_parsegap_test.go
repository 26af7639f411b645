package httpclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// COMPAT H20: mbedTLS takes any bytes in a PrintableString or UTF8String
// name value (x509_get_attr_type_value checks only the tag), so Godot
// handshakes with a server whose certificate names itself "game_server" in
// a PrintableString ('_' is outside that type's set) when it does not
// verify (client_unsafe()); pinned, Godot would verify it too, but no
// CertPool can hold it. crypto/tls parses every certificate the server
// sends with x509.ParseCertificate before any check of ours, and fails the
// handshake on it: TLS_HANDSHAKE_ERROR in both modes, the parse error as
// the cause.
func TestTLSCertificateGoCannotParse(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	name := ts.RawName(t, []ts.Attr{ts.CN(ts.TagPrintableString, "game_server")})
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(20),
		RawSubject:   name,
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	_, perr := x509.ParseCertificate(der)
	require.Error(t, perr, "crypto/x509 must refuse the name for this test to mean anything")
	attrs, ok := parseX509Name(name)
	require.True(t, ok, "mbedTLS parses the name")
	require.Len(t, attrs, 1)
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}

	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ts.NewTLS(t, cert, ts.Respond(okResp))
			cl, tr := newClient(t, m.blocking)
			r := roundTrip(t, cl, tr, "127.0.0.1", srv.Port(), TLSClientUnsafe(nil), getRoot, pathChunks, false)
			assert.Equal(t, statuses(StatusConnecting, StatusTLSHandshakeError), r.Trace)
			assert.ErrorIs(t, r.LastErr, ErrCantConnect)
			assert.ErrorContains(t, r.LastErr, "PrintableString")
		})
	}
}
