package httpclient

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// §1.15.5: Godot hands the name to mbedTLS as a C string
// (init_client: mbedtls_ssl_set_hostname(&tls, cn.utf8().get_data())), so
// a name with a NUL ends there: the part before it is both the SNI and
// the name verified, and its length the one checked against 255 bytes. A
// certificate for localhost is accepted under the override
// "localhost\x00.other.test", refused under "other.test\x00localhost".
func TestTLSNameEndsAtNUL(t *testing.T) {
	ca := ts.NewCA(t)
	long := strings.Repeat("x", 300)
	for _, c := range []struct {
		name, override, sni string
		ok                  bool
	}{
		{"localhost then NUL", "localhost\x00.other.test", "localhost", true},
		{"another name then NUL", "other.test\x00localhost", "other.test", false},
		{"localhost then NUL and 300 bytes", "localhost\x00" + long, "localhost", true},
	} {
		for _, m := range modes {
			t.Run(c.name+"/"+m.name, func(t *testing.T) {
				srv, snis := helloSNIs(t, ca.Issue(t, "localhost"), nil)
				cl, tr := newClient(t, m.blocking)
				r := roundTrip(t, cl, tr, "127.0.0.1", srv.Port(), TLSClient(ca.Pool(), c.override), getRoot, pathChunks, false)
				srv.Close()
				if c.ok {
					assert.Equal(t, concat(connected, StatusBody, StatusConnected), r.Trace, "last error %v", r.LastErr)
				} else {
					assertHandshakeRefused(t, r)
				}
				assert.Equal(t, []string{c.sni}, snis())
			})
		}
	}
}
