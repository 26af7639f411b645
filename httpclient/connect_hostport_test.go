package httpclient

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConnectToHostPortInHost pins what ConnectToHost's doc warns a Go
// user of: the port is never taken from the host (§1.5.3 removes only the
// scheme), so a URL's "host:port" passed whole does not reach host:port.
// "127.0.0.1:8080" passes Godot's is_valid_ip_address as IPv6 text
// (§1.5.9) and Godot's IPAddress parser makes [::] of it, dialed on the
// default port; "localhost:8080" is a name sent to the resolver as it is.
func TestConnectToHostPortInHost(t *testing.T) {
	for _, tt := range []struct {
		host   string
		status Status
		asked  []string // what the resolver was asked
		dialed []string // the addresses dialed
	}{
		{"127.0.0.1:8080", StatusConnecting, nil, []string{"[::]:80"}},
		{"http://127.0.0.1:8080", StatusConnecting, nil, []string{"[::]:80"}},
		{"localhost:8080", StatusResolving, []string{"localhost:8080"}, []string{"127.0.0.1:80"}},
	} {
		t.Run(tt.host, func(t *testing.T) {
			c, _ := newClient(t, true)
			var asked *[]string
			c.lookup, asked = fakeLookup("127.0.0.1")
			var dialed []string
			c.dialFn = func(_ context.Context, _, addr string) (net.Conn, error) {
				dialed = append(dialed, addr) // no traffic leaves the machine
				return nil, errors.New("refused by the test")
			}
			require.NoError(t, c.ConnectToHost(tt.host, -1, nil))
			assert.Equal(t, tt.status, c.Status())
			_ = pollWhile(t, c, StatusResolving, StatusConnecting)
			assert.Equal(t, StatusCantConnect, c.Status())
			if tt.asked == nil {
				assert.Empty(t, *asked)
			} else {
				assert.Equal(t, tt.asked, *asked)
			}
			assert.Equal(t, tt.dialed, dialed)
		})
	}
}
