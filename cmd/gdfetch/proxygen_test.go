package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	drv "github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/proxygen"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// TestProxygenFetch runs the drawn proxies of internal/proxygen (httpclient's
// TestProxygen lists them) through gdfetch -x: an https URL through the
// CONNECT proxy, an http URL through the HTTP proxy, -m 0.3 for a stall. The
// exit status is the Result's (doc.go's table): a tunnel or the HTTP proxy's
// answer 0 (its body on stdout); a refused, cut or unanswered CONNECT 56
// (curl's number; RESULT_CANT_CONNECT); a TLS handshake in the tunnel cut
// by the proxy 35 (HandshakeEndError) and foreign bytes in the tunnel 35; a stall 28; an
// HTTP proxy that closes before its head is complete 52, that resets 56, a
// head over the budget 56, a head without header lines 52 (RESULT_NO_RESPONSE).
// With curl installed, curl -x runs the same case against its own copy of
// the proxy and the two statuses are logged side by side; the differences
// proxygenCurlDiffers lists are documented ones (doc.go), any other fails.
// GDHTTP_PROXYGEN_N (default 24), GDHTTP_PROXYGEN_SEED, GDHTTP_PROXYGEN_ONLY.
func TestProxygenFetch(t *testing.T) {
	clearProxyEnv(t)
	n := drv.EnvInt("GDHTTP_PROXYGEN_N", 24)
	seed := uint64(drv.EnvInt("GDHTTP_PROXYGEN_SEED", 1))
	only := drv.EnvInt("GDHTTP_PROXYGEN_ONLY", -1)
	ca := testserver.NewCA(t)
	cert := ca.Issue(t, "localhost")
	pem := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(pem, ca.CertPEM(), 0o600))
	fds := drv.FDs()
	stats := map[string]int{}
	for i := range n {
		if only >= 0 && i != only {
			continue
		}
		r := rand.New(rand.NewPCG(seed*1_000_003+uint64(i), 0x6664))
		https := r.IntN(2) == 0
		var plan proxygen.Plan
		if https {
			plan = proxygen.GenConnect(r)
		} else {
			plan = proxygen.GenHTTP(r)
		}
		want := plan.Want(https)
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Logf("case: https=%v plan=%v want=%v", https, plan, want)
			origin := testserver.NewTLS(t, cert, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			defer origin.Close()
			runOne := func(curl bool) (int, string) {
				proxy, err := proxygen.Start(plan, https, origin.Addr())
				require.NoError(t, err)
				defer proxy.Close()
				url := "http://game.example:8080/"
				if https {
					url = "https://localhost:" + strconv.Itoa(origin.Port()) + "/"
				}
				args := []string{"-x", proxy.Addr(), "--cacert", pem}
				if want == proxygen.WantStall {
					args = append(args, "-m", "0.3")
				}
				args = append(args, url)
				if curl {
					code, ok := curlExit(t, t.TempDir(), args...)
					if !ok {
						return -1, ""
					}
					return code, ""
				}
				code, out, stderr := gdfetch(t, args...)
				t.Logf("gdfetch: %d %s", code, stderr)
				return code, out
			}
			code, out := runOne(false)
			exp, body := fetchWant(plan, https, want)
			assert.Equal(t, exp, code, "gdfetch's exit status")
			if code == 0 {
				assert.Equal(t, body, out)
			}
			cc, _ := runOne(true)
			if cc >= 0 {
				key := fmt.Sprintf("%v/%v gdfetch %d curl %d", https, want, code, cc)
				stats[key]++
				if cc != code {
					doc, ok := proxygenCurlDiffers(plan, https, code, cc)
					assert.True(t, ok, "gdfetch %d, curl %d: an undocumented difference", code, cc)
					t.Logf("documented: %s", doc)
				}
			}
		})
	}
	t.Logf("seed %d, %d cases: %s", seed, n, drv.Counts(stats))
	drv.NoFDLeft(t, fds, 2)
}

// fetchWant is gdfetch's exit status for the plan, and stdout on success.
func fetchWant(p proxygen.Plan, https bool, want proxygen.Want) (int, string) {
	switch want {
	case proxygen.WantOK:
		if https {
			return 0, "ok"
		}
		if p.B == proxygen.Established || len(httpHeaderLines(p)) == 0 {
			return exitNoResponse, ""
		}
		return 0, p.ResponseBody()
	case proxygen.WantTCPEnd:
		if p.B == proxygen.CloseAfter || p.B == proxygen.ResetAfter {
			return exitTLS, "" // the tunnel opened; the TLS handshake in it was cut
		}
		return exitConnection, "" // the CONNECT went unanswered
	case proxygen.WantRefused, proxygen.WantCut:
		return exitConnection, ""
	case proxygen.WantTLSBroken:
		return exitTLS, ""
	case proxygen.WantStall:
		return exitTimeout, ""
	}
	// WantConnError: the HTTP proxy closed before the head was complete
	// (ErrPeerClosed, curl's "Empty reply from server"), reset, or sent a
	// head over the budget.
	if p.B == proxygen.CloseBefore || p.B == proxygen.Unterminated {
		return exitNoResponse, ""
	}
	return exitConnection, ""
}

func httpHeaderLines(p proxygen.Plan) []string {
	reply := string(p.Reply())
	var lines []string
	start := 0
	for i := 0; i+1 < len(reply); i++ {
		if reply[i] == '\r' && reply[i+1] == '\n' {
			line := reply[start:i]
			if line == "" {
				break
			}
			lines = append(lines, line)
			start = i + 2
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return lines[1:]
}

// proxygenCurlDiffers says whether a difference from curl 7.88 is a known
// one, and which: documented in doc.go, not about proxies (the same without
// -x), or a finding pinned by a probe (probe_proxygen_test.go).
func proxygenCurlDiffers(p proxygen.Plan, https bool, gd, curl int) (string, bool) {
	want := p.Want(https)
	switch {
	case !https && gd == exitNoResponse && curl == 0:
		return "doc.go: a status line without any header line is RESULT_NO_RESPONSE (exit 52)", true
	case !https && p.B == proxygen.Unterminated && gd == exitNoResponse && curl == exitPartial:
		return "not about proxies: a head cut by the close is CONNECTION_ERROR in Godot (§1.6.4.2, ErrPeerClosed → 52); curl 18", true
	case !https && (p.B == proxygen.Huge || p.B == proxygen.Big) && curl == 27:
		return "not about proxies: curl's own 100 KiB header limit (27, out of memory)", true
	case https && p.B == proxygen.Big && gd == 0 && curl == exitConnection:
		return "curl's own 100 KiB header limit, on the CONNECT reply (56); gdfetch's is 1 MiB (§7 D1)", true
	case https && p.B == proxygen.OddHead && want == proxygen.WantOK && curl == exitConnection:
		return "doc.go: Godot's reading of a response (§1.8: the code is 200 unless the first line starts with HTTP), so the tunnel opens where curl refuses", true
	}
	return "", false
}
