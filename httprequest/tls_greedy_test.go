package httprequest

import (
	"crypto/tls"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// §1.15.5, §2.10: the node's view, in every driver, of mbedTLS's greedy
// chain building (httpclient: TestVerifyChainGreedy, TestTLSChainGreedy):
// a server list whose first qualifying candidate leads nowhere (a stale
// same-name intermediate, one cross-signed by an untrusted root,
// intermediates out of order, a trusted CA that expired) is
// RESULT_TLS_HANDSHAKE_ERROR, as Godot's handshake fails, though another
// path would verify; the lists mbedTLS accepts are a success.
func TestTLSChainGreedyNode(t *testing.T) {
	ok := Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}
	for _, c := range testserver.GreedyChainCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			want := ok
			if !c.OK {
				want = Completion{Result: ResultTLSHandshakeError}
			}
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := testserver.NewTLS(t, c.Cert, testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				n.SetAcceptGzip(false)
				require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(c.Roots, "")))
				o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
				assertCompletion(t, want, o)
				if !c.OK {
					var cv *tls.CertificateVerificationError
					assert.True(t, errors.As(o.Err, &cv), "*tls.CertificateVerificationError in %v", o.Err)
				}
			})
		})
	}
}
