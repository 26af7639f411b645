package main

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gdhttp/gdhttp/internal/proxygen"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// Exit statuses for failures the node reports as it reports others, where
// curl has its own number (doc.go, Exit status: curl's number for the same
// failure). Found by TestProxygenFetch, gdfetch -x against curl 7.88.1 -x
// on the same scripted proxy.

// proxyExitCase runs gdfetch -x through a proxy playing plan to an https
// URL and returns its exit status (and curl's, -1 without curl).
func proxyExitCase(t *testing.T, plan proxygen.Plan) (gd, curl int) {
	clearProxyEnv(t)
	origin := testserver.NewTLS(t, testserver.NewCA(t).Issue(t, "localhost"), testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	url := "https://localhost:" + strconv.Itoa(origin.Port()) + "/"
	run := func(viaCurl bool) int {
		proxy, err := proxygen.Start(plan, true, origin.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer proxy.Close()
		args := []string{"-k", "-x", proxy.Addr(), url}
		if viaCurl {
			code, ok := curlExit(t, t.TempDir(), args...)
			if !ok {
				return -1
			}
			return code
		}
		code, _, stderr := gdfetch(t, args...)
		t.Logf("gdfetch: %s", stderr)
		return code
	}
	return run(false), run(true)
}

// TestProxyConnectRefusedExit: a CONNECT answered 407 (the same for 403,
// 502… with or without a body) is RESULT_CANT_CONNECT (§1.14.2.3 with §7
// D5, COMPAT H6/O3) with a *ProxyError, and exits 56, as curl's "CONNECT
// tunnel failed" (it exited 7, CURLE_COULDNT_CONNECT).
func TestProxyConnectRefusedExit(t *testing.T) {
	gd, curl := proxyExitCase(t, proxygen.Plan{B: proxygen.Refuse, Proto: "HTTP/1.1", Code: 407, Framing: proxygen.CL0,
		Extra: []string{`Proxy-Authenticate: Basic realm="proxygen"`}})
	if curl >= 0 {
		assert.Equal(t, 56, curl, "curl's exit status (7.88.1: 56)")
	}
	assert.Equal(t, 56, gd, "gdfetch's exit status for a refused CONNECT: curl's 56")
}

// TestProxyConnectAbortedExit: the proxy closes the connection once it read
// the CONNECT, without a reply (the same for a reply cut short, or a
// reset): RESULT_CANT_CONNECT (COMPAT H9) with a *httpclient.TunnelError,
// exit 56, as curl's "Proxy CONNECT aborted" (it exited 7).
func TestProxyConnectAbortedExit(t *testing.T) {
	gd, curl := proxyExitCase(t, proxygen.Plan{B: proxygen.CloseBefore, Proto: "HTTP/1.1", Code: 200})
	if curl >= 0 {
		assert.Equal(t, 56, curl, "curl's exit status (7.88.1: 56)")
	}
	assert.Equal(t, 56, gd, "gdfetch's exit status for a CONNECT the proxy aborted: curl's 56")
}

// TestHandshakeCutExit: an https server that ends the TCP connection during
// the TLS handshake (a reset, or a FIN, once the ClientHello came) is
// RESULT_CANT_CONNECT (§1.6.2.2, COMPAT H9) with a
// *httpclient.HandshakeEndError; gdfetch exits 35, as curl (it exited 7,
// which says the TCP connection could not be made).
func TestHandshakeCutExit(t *testing.T) {
	clearProxyEnv(t)
	for _, end := range []struct {
		name string
		h    func(*testserver.Conn)
	}{
		{"fin", testserver.Script(testserver.ReadSome(), testserver.Close())},
		{"rst", testserver.Script(testserver.ReadSome(), testserver.Reset())},
	} {
		t.Run(end.name, func(t *testing.T) {
			srv := testserver.New(t, end.h)
			code, _, stderr := gdfetch(t, "-k", "https://127.0.0.1:"+strconv.Itoa(srv.Port())+"/")
			assert.Equal(t, exitTLS, code, "%s", stderr)
			assert.Contains(t, stderr, "RESULT_CANT_CONNECT")
		})
	}
}
