package httprequest

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// §1.15.5, §2.10: the node's view, in every driver, of the server chains
// Godot's mbedTLS refuses (httpclient: TestTLSIntermediateCALimit,
// TestTLSCertificateMessageLimit): more than MBEDTLS_X509_MAX_INTERMEDIATE_CA
// (8) intermediate CAs, or a Certificate message too large for mbedTLS's
// input buffer (a leaf with a 20 KiB extension), fail the handshake:
// RESULT_TLS_HANDSHAKE_ERROR with the limit as the cause. 8 intermediates
// and an 8 KiB extension are a success. Chains far past the limits fail the
// same way (hostile35): 100 intermediates (a 42 KB message, refused by its
// size before the chain is built) and a 300 KiB leaf, which crypto/tls
// refuses itself from the message's header, past its 256 KiB maximum,
// before the port's checks see it (the cause is then crypto/tls's).
func TestTLSChainLimitsNode(t *testing.T) {
	ok := Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}
	fail := Completion{Result: ResultTLSHandshakeError}
	for _, c := range []struct {
		name       string
		n, padding int
		want       Completion
		cause      string // "": a *wire.LimitError
	}{
		{"8-intermediates", 8, 0, ok, ""},
		{"9-intermediates", 9, 0, fail, ""},
		{"100-intermediates", 100, 0, fail, ""},
		{"cert-msg-8KiB", 1, 8 << 10, ok, ""},
		{"cert-msg-20KiB", 1, 20 << 10, fail, ""},
		{"cert-msg-300KiB", 1, 300 << 10, fail, "exceeds maximum"},
	} {
		t.Run(c.name, func(t *testing.T) {
			chain := testserver.NewChain(t, c.n, c.padding)
			pool, cert := chain.Pool(), chain.Cert
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				srv := testserver.NewTLS(t, cert, testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				n.SetAcceptGzip(false)
				require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(pool, "")))
				o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
				assertCompletion(t, c.want, o)
				switch {
				case c.cause != "":
					assert.ErrorContains(t, o.Err, c.cause)
				case c.want.Result != ResultSuccess:
					var le *wire.LimitError
					assert.True(t, errors.As(o.Err, &le), "*wire.LimitError in %v", o.Err)
				}
			})
		})
	}
}
