package httprequest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
)

// newCA makes a self-signed CA and a server certificate it signs for
// 127.0.0.1, as a test's own PKI.
func newCA() (*x509.Certificate, tls.Certificate) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Game Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	ca, _ := x509.ParseCertificate(caDER)

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "game server"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"game.test"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, _ := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	return ca, tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}
}

// HTTPS against a test's own CA: TLSClient(roots, "") trusts the roots given
// (Godot's TLSOptions.client(trusted_chain)); a common name override checks
// the certificate against another name (a server reached by IP); pinning is
// a pool holding the one self-signed certificate a server has; and
// TLSClientUnsafe(nil) checks nothing (TLSOptions.client_unsafe()). The
// default, the system roots, refuses the test CA.
func ExampleHTTPRequest_SetTLSOptions() {
	ca, serverCert := newCA()
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hello") })
	srv := httptest.NewUnstartedServer(hello)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // quiet the refused handshakes
	srv.StartTLS()
	defer srv.Close()
	pinned := httptest.NewUnstartedServer(hello) // httptest's self-signed certificate
	pinned.Config.ErrorLog = log.New(io.Discard, "", 0)
	pinned.StartTLS()
	defer pinned.Close()

	roots := x509.NewCertPool()
	roots.AddCert(ca)
	pin := x509.NewCertPool()
	pin.AddCert(pinned.Certificate())

	for _, try := range []struct {
		name string
		opts *httpclient.TLSOptions
		url  string
	}{
		{"system roots", httpclient.TLSClient(nil, ""), srv.URL},
		{"test CA", httpclient.TLSClient(roots, ""), srv.URL},
		{"test CA, name game.test", httpclient.TLSClient(roots, "game.test"), srv.URL},
		{"test CA, name other.test", httpclient.TLSClient(roots, "other.test"), srv.URL},
		{"pinned certificate", httpclient.TLSClient(pin, ""), pinned.URL},
		{"unsafe", httpclient.TLSClientUnsafe(nil), srv.URL},
	} {
		n := httprequest.New()
		_ = n.SetTLSOptions(try.opts)
		c, err := n.Do(context.Background(), try.url, nil, httpclient.MethodGet, nil)
		n.Close()
		if err != nil {
			fmt.Printf("%s: %v\n", try.name, c.Result)
			continue
		}
		fmt.Printf("%s: %v %s\n", try.name, c.Result, c.Body)
	}
	// Output:
	// system roots: RESULT_TLS_HANDSHAKE_ERROR
	// test CA: RESULT_SUCCESS hello
	// test CA, name game.test: RESULT_SUCCESS hello
	// test CA, name other.test: RESULT_TLS_HANDSHAKE_ERROR
	// pinned certificate: RESULT_SUCCESS hello
	// unsafe: RESULT_SUCCESS hello
}
