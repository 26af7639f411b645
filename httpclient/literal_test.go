package httpclient

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// TestIPLiteralsAsGodot covers issue 7 rule 6 (§1.5.9–10): ConnectToHost
// decides literal-vs-DNS with Godot's String.is_valid_ip_address, so
// "127.000.000.001" and "+10.0.0.1" connect without DNS (status CONNECTING at
// once, the resolver never asked) and names, bracketed or zoned IPv6 go to
// the resolver (RESOLVING).
func TestIPLiteralsAsGodot(t *testing.T) {
	const port = 8080
	tests := []struct {
		host    string
		literal bool
		dialed  string // the address dialed (Godot's IPAddress of the literal)
	}{
		{"127.0.0.1", true, "127.0.0.1:8080"},
		{"127.000.000.001", true, "127.0.0.1:8080"},
		{"+10.0.0.1", true, "10.0.0.1:8080"},
		{"-0.0.0.0", true, "0.0.0.0:8080"},
		{"4294967423.0.0.1", true, "127.0.0.1:8080"},
		{"0:0:0:0:0:0:0:1", true, "[::1]:8080"},
		{"2001:db8::1", true, "[2001:db8::1]:8080"},
		{"-0::1", true, "[::]:8080"},
		{"256.0.0.1", false, ""},
		{"1.2.3", false, "1.2.0.3:8080"}, // getaddrinfo's inet_aton reads it, no lookup (numericHost)
		{"1.2.3.4.5", false, ""},
		{"0x7f.0.0.1", false, "127.0.0.1:8080"},
		// The port is never read from the host (ConnectToHost's doc warns
		// a Go user who passes a URL's host:port whole): "127.0.0.1:9999"
		// is IPv6 text to is_valid_ip_address, which Godot's IPAddress
		// parser makes [::]; the scheme alone is removed (§1.5.3); a name
		// with a port goes to the resolver as it is.
		{"127.0.0.1:9999", true, "[::]:8080"},
		{"http://127.0.0.1:9999", true, "[::]:8080"},
		{"localhost:9999", false, ""},
		{"[::1]", false, ""},
		{"fe80::1%lo", false, ""},
		{"localhost", false, ""},
		{"a.b.c.d", false, ""},
	}
	for _, tt := range tests {
		for _, m := range modes {
			t.Run(tt.host+"/"+m.name, func(t *testing.T) {
				c, tr := newClient(t, m.blocking)
				var asked *[]string
				c.lookup, asked = fakeLookup("127.0.0.1")
				var dialed []string
				c.dialFn = func(_ context.Context, _, addr string) (net.Conn, error) {
					dialed = append(dialed, addr) // no traffic leaves the machine
					return nil, errors.New("refused by the test")
				}
				require.NoError(t, c.ConnectToHost(tt.host, port, nil))
				if tt.literal {
					assert.Equal(t, StatusConnecting, c.Status())
					_ = pollWhile(t, c, StatusConnecting)
					assert.Empty(t, *asked, "a literal is never resolved")
					assert.Equal(t, StatusCantConnect, c.Status())
					assert.Equal(t, []string{tt.dialed}, dialed)
					return
				}
				assert.Equal(t, StatusResolving, c.Status())
				_ = pollWhile(t, c, StatusResolving, StatusConnecting)
				assert.Equal(t, statuses(StatusResolving, StatusConnecting, StatusCantConnect), *tr)
				if tt.dialed != "" {
					assert.Empty(t, *asked, "a numeric name is answered without a lookup")
					assert.Equal(t, []string{tt.dialed}, dialed)
					return
				}
				assert.Equal(t, []string{tt.host}, *asked, "a name goes to the resolver")
				assert.Equal(t, []string{"127.0.0.1:8080"}, dialed)
			})
		}
	}
}

// TestIPLiteralConnects covers issue 7 rule 6 (§1.5.10, §1.7.10) with real
// connections: "127.000.000.001" and "+127.0.0.1" reach 127.0.0.1 without
// DNS, and the Host header keeps the host text as given, as Godot's does.
// Over TLS the name verified (and sent as SNI, since Go does not read these
// forms as IP addresses) is the text as given too.
func TestIPLiteralConnects(t *testing.T) {
	ca := ts.NewCA(t)
	for _, host := range []string{"127.000.000.001", "+127.0.0.1"} {
		for _, m := range modes {
			t.Run(host+"/plain/"+m.name, func(t *testing.T) {
				srv := ts.New(t, ts.Respond(okResp))
				c, tr := newClient(t, m.blocking)
				c.lookup = offlineLookup
				r := roundTrip(t, c, tr, host, srv.Port(), nil, getRoot, pathChunks, false)
				assert.Equal(t, concat(connected, StatusBody, StatusConnected), r.Trace, "no RESOLVING")
				assert.Equal(t, "ok", r.Body)
				c.Close()
				srv.Close()
				require.Len(t, srv.Received(), 1)
				assert.Contains(t, string(srv.Received()[0]), "\r\nHost: "+host+":"+strconv.Itoa(srv.Port())+"\r\n")
			})
			t.Run(host+"/tls/"+m.name, func(t *testing.T) {
				srv := ts.NewTLS(t, ca.Issue(t, host), ts.Respond(okResp))
				c, tr := newClient(t, m.blocking)
				c.lookup = offlineLookup
				r := roundTrip(t, c, tr, host, srv.Port(), TLSClient(ca.Pool(), ""), getRoot, pathChunks, false)
				assert.Equal(t, concat(connected, StatusBody, StatusConnected), r.Trace, "no RESOLVING")
				assert.Equal(t, "ok", r.Body)
				c.Close()
				srv.Close()
				assert.Equal(t, []string{host}, srv.ServerNames(), "SNI is the text as given")
			})
		}
	}
}

// TestIPLiteralUndefined covers issue 7 rule 6 and COMPAT.md H10: a host
// is_valid_ip_address accepts but whose address Godot's IPAddress parser
// leaves undefined (it writes past its fixed arrays) is refused at once:
// ERR_INVALID_PARAMETER, status CANT_CONNECT, no DNS.
func TestIPLiteralUndefined(t *testing.T) {
	for _, host := range []string{"1::2::3", "1:2:3:4:5:6:7:8:9", "::1.2.3.4", "::::"} {
		for _, m := range modes {
			t.Run(host+"/"+m.name, func(t *testing.T) {
				c, tr := newClient(t, m.blocking)
				var asked *[]string
				c.lookup, asked = fakeLookup("127.0.0.1")
				err := c.ConnectToHost(host, 80, nil)
				assert.True(t, errors.Is(err, ErrInvalidParameter), "%v", err)
				assert.Equal(t, statuses(StatusCantConnect), *tr)
				assert.Empty(t, *asked)
				assert.True(t, errors.Is(c.Poll(), ErrCantConnect))
			})
		}
	}
}
