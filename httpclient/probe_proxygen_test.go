package httpclient

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gdhttp/gdhttp/internal/proxygen"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// TestProbeProxygenStrictConnectIgnoresFraming (found by TestProxygen's
// strict draws, checked by hand): in strict mode a 2xx CONNECT reply whose
// Content-Length is not a decimal number (the same for two differing
// Content-Length values, or "Transfer-Encoding: gzip") does not open the
// tunnel: CANT_CONNECT with ERR_CONNECTION_ERROR ("malformed response head …
// Content-Length is not a decimal number").
//
// The rules: §7 D5 (and SetHTTPSProxy's and connectTunnel's doc) "any 2xx
// reply opens the tunnel whatever its framing"; §7.4 strict mode is RFC
// 9110/9112, and SetStrict applies it "to the CONNECT reply of the next
// ConnectToHost" — RFC 9112 §6.3 rule 2 / RFC 9110 §9.3.6: "A client MUST
// ignore any Content-Length or Transfer-Encoding header fields received in
// a successful response to CONNECT." The lenient default opens this tunnel
// (TestProxygen's odd heads: "Content-Length: abc" → the origin answers);
// strict mode, which should be at least as conforming, refuses it. Godot's
// own sub-client (no strict mode) reads "abc" as to_int 0, goes to BODY and
// fails one poll later (§1.14.2.4) — the case D5 fixes.
func TestProbeProxygenStrictConnectIgnoresFraming(t *testing.T) {
	for _, raw := range []string{
		"HTTP/1.1 200 Connection established\r\nContent-Length: abc\r\n\r\n",
		"HTTP/1.1 200 Connection established\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"HTTP/1.1 200 Connection established\r\nTransfer-Encoding: gzip\r\n\r\n",
	} {
		t.Run(raw[37:len(raw)-4], func(t *testing.T) {
			ca := ts.NewCA(t)
			origin := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			proxy, err := proxygen.Start(proxygen.Plan{B: proxygen.OddHead, Raw: raw, Code: 200, Proto: "HTTP/1.1"}, true, origin.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer proxy.Close()
			c, tr := newClient(t, false)
			c.SetStrict(true)
			c.SetHTTPSProxy(proxy.Host(), proxy.Port())
			err = connect(t, c, "localhost", origin.Port(), TLSClient(ca.Pool(), ""))
			assert.NoError(t, err, "the 2xx opens the tunnel; its framing headers are ignored")
			assert.Equal(t, statuses(StatusConnecting, StatusConnected), *tr)
			c.Close()
		})
	}
}
