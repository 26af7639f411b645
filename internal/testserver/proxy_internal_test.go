package testserver

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestOpensTunnel: any 2xx status opens a CONNECT tunnel (§7 D5), nothing
// else does.
func TestOpensTunnel(t *testing.T) {
	tests := map[string]bool{
		DefaultConnectReply:               true,
		"HTTP/1.0 200 OK\r\n\r\n":         true,
		"HTTP/1.1 204 No Content\r\n\r\n": true,
		"HTTP/1.1 299\r\n\r\n":            true,
		"HTTP/1.1 403 Forbidden\r\n\r\n":  false,
		"HTTP/1.1 301 Moved\r\n\r\n":      false,
		"HTTP/1.1 2\r\n\r\n":              false,
		"HTTP/1.1 2x0 Bad\r\n\r\n":        false,
		"FOO 200 OK\r\n\r\n":              false,
		"":                                false,
		"HTTP/1.1":                        false,
	}
	for reply, want := range tests {
		assert.Equal(t, want, opensTunnel(reply), "%q", reply)
	}
}

// TestOriginForm: absolute-form targets (§1.14.1) are split into the origin
// authority and an origin-form request; everything after the target is kept.
func TestOriginForm(t *testing.T) {
	tests := []struct {
		in, authority, fwd string
		ok                 bool
	}{
		{"GET http://127.0.0.1:8080/p?q=1 HTTP/1.1\r\nHost: h\r\n\r\n", "127.0.0.1:8080", "GET /p?q=1 HTTP/1.1\r\nHost: h\r\n\r\n", true},
		{"GET http://h:1?q HTTP/1.1\r\n\r\n", "h:1", "GET /?q HTTP/1.1\r\n\r\n", true},
		{"GET HTTP://h HTTP/1.0\n\n", "h:80", "GET / HTTP/1.0\n\n", true},
		{"GET http://[::1]:5/x HTTP/1.1\r\n\r\n", "[::1]:5", "GET /x HTTP/1.1\r\n\r\n", true},
		{"GET http://[::1]/x HTTP/1.1\r\n\r\n", "[::1]:80", "GET /x HTTP/1.1\r\n\r\n", true},
		{"GET http://u:p@h:1/ HTTP/1.1\r\n\r\n", "h:1", "GET / HTTP/1.1\r\n\r\n", true},
		{"POST http://h:1/ HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", "h:1", "POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", true},
		{"GET / HTTP/1.1\r\n\r\n", "", "", false},
		{"GET https://h/ HTTP/1.1\r\n\r\n", "", "", false},
		{"GET http://h/\r\n\r\n", "", "", false},
		{"garbage", "", "", false},
		{"", "", "", false},
	}
	for _, tc := range tests {
		authority, fwd, err := originForm([]byte(tc.in))
		if !tc.ok {
			assert.ErrorIs(t, err, ErrProxyTarget, "%q", tc.in)
			continue
		}
		if assert.NoError(t, err, "%q", tc.in) {
			assert.Equal(t, tc.authority, authority)
			assert.Equal(t, tc.fwd, string(fwd))
		}
	}
}

// TestSplitAuthority: CONNECT authorities, including Godot's unbracketed
// IPv6 form (§1.14.2.1 QUIRK).
func TestSplitAuthority(t *testing.T) {
	tests := []struct{ in, host, port string }{
		{"127.0.0.1:443", "127.0.0.1", "443"},
		{"[::1]:443", "::1", "443"},
		{"::1:443", "::1", "443"},
		{"0:0:0:0:0:0:0:1:443", "0:0:0:0:0:0:0:1", "443"},
		{"localhost:8443", "localhost", "8443"},
	}
	for _, tc := range tests {
		host, port, err := splitAuthority(tc.in)
		if assert.NoError(t, err, tc.in) {
			assert.Equal(t, tc.host, host)
			assert.Equal(t, tc.port, port)
		}
	}
	for _, bad := range []string{"127.0.0.1", "[::1", "[::1]"} {
		_, _, err := splitAuthority(bad)
		assert.ErrorIs(t, err, ErrProxyTarget, bad)
	}
}
