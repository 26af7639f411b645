package httprequest

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/proxygen"
	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// The node's side of the generated proxy harness (httpclient's
// TestProxygen has the list of behaviours): each drawn proxy through each
// driver of §7.3 (Process, use_threads, Do), with SetHTTPSProxy for an
// https URL and SetHTTPProxy for an http one.
//
// Invariants:
//   - the completion (§2.6, §2.7, §2.10): a tunnel → R0 with the origin's
//     200, headers and body; a refused, cut or ended CONNECT → R2 with code
//     0 and nothing else (§2.6: CANT_CONNECT → R2, whatever the error); bytes
//     in the tunnel that are not the origin's → R5; a stall → R13 at the
//     node's timeout; for an http URL the proxy's answer is the response
//     (R0 with its code, its header lines and the body its framing gives,
//     §1.9), a head without header lines → R6 (§2.7.1), a close, a reset,
//     a head cut short or over the budget → R4; exactly one completion;
//   - the bytes the proxy received: Godot's CONNECT (§1.14.2.1 with §7 D5)
//     then only TLS records, or exactly the node's absolute-form request
//     (§1.7.7, user headers, Accept-Encoding, Host, User-Agent, Accept);
//   - no hang, goleak (TestMain), an fd count at the end.
//
// GDHTTP_PROXYGEN_N (cases, default 40, each through the three drivers),
// GDHTTP_PROXYGEN_SEED (default 1), GDHTTP_PROXYGEN_ONLY=i.
func TestProxygenNode(t *testing.T) {
	n := drive.EnvInt("GDHTTP_PROXYGEN_N", 40)
	seed := uint64(drive.EnvInt("GDHTTP_PROXYGEN_SEED", 1))
	only := drive.EnvInt("GDHTTP_PROXYGEN_ONLY", -1)
	ca := testserver.NewCA(t)
	cert := ca.Issue(t, "localhost")
	fds := drive.FDs()
	stats := map[string]int{}
	for i := range n {
		if only >= 0 && i != only {
			continue
		}
		pc := genNodeProxyCase(seed*1_000_003 + uint64(i))
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Logf("case: %v", pc)
			eachDriver(t, func(t *testing.T, d driverCase, nd *HTTPRequest) {
				runNodeProxyCase(t, d, nd, pc, ca, cert)
			})
			stats[pc.plan.Want(pc.https).String()]++
		})
	}
	t.Logf("seed %d, %d cases: %s", seed, n, drive.Counts(stats))
	drive.NoFDLeft(t, fds, 2)
}

type nodeProxyCase struct {
	https   bool
	defPort bool // a URL without a port: 443 in the CONNECT, :80 in the absolute-form target
	cancel  bool // a stall ends with CancelRequest (Do: its context canceled) instead of the timeout
	plan    proxygen.Plan
	path    string
	headers []string
}

func (p nodeProxyCase) String() string {
	return fmt.Sprintf("https=%v defPort=%v cancel=%v path=%q headers=%q plan=%v want=%v", p.https, p.defPort, p.cancel, p.path, p.headers, p.plan, p.plan.Want(p.https))
}

func genNodeProxyCase(seed uint64) nodeProxyCase {
	r := rand.New(rand.NewPCG(seed, 0x6e6f646570))
	pc := nodeProxyCase{https: r.IntN(2) == 0, path: "/"}
	pc.defPort = r.IntN(3) == 0
	pc.cancel = r.IntN(2) == 0
	if pc.https {
		pc.plan = proxygen.GenConnect(r)
	} else {
		pc.plan = proxygen.GenHTTP(r)
	}
	switch r.IntN(3) {
	case 1:
		pc.path = "/a/b?c=" + strconv.Itoa(r.IntN(100))
	case 2:
		pc.headers = []string{"X-Game: " + strconv.Itoa(r.IntN(100))}
	}
	return pc
}

// replyHeaders are the header lines of an HTTP proxy's answer, as the node
// delivers them (§1.8.5: stripped, in order).
func replyHeaders(p proxygen.Plan) []string {
	reply := p.Reply()
	head := string(reply[:bytes.Index(reply, []byte("\r\n\r\n"))])
	lines := strings.Split(head, "\r\n")[1:]
	if len(lines) == 0 {
		return nil
	}
	return lines
}

const nodeProxyTarget = "game.example"

func runNodeProxyCase(t *testing.T, d driverCase, n *HTTPRequest, pc nodeProxyCase, ca *testserver.CA, cert tls.Certificate) {
	var origin *testserver.Server
	originAddr := ""
	if pc.https {
		origin = testserver.NewTLS(t, cert, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		defer origin.Close()
		originAddr = origin.Addr()
	}
	proxy, err := proxygen.Start(pc.plan, pc.https, originAddr)
	require.NoError(t, err)
	defer proxy.Close()
	want := pc.plan.Want(pc.https)
	var url string
	if pc.https {
		require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(ca.Pool(), "")))
		n.SetHTTPSProxy(proxy.Host(), proxy.Port())
		url = "https://localhost:" + strconv.Itoa(origin.Port()) + pc.path
		if pc.defPort {
			url = "https://localhost" + pc.path // the proxy tunnels to the origin whatever the CONNECT names
		}
	} else {
		n.SetHTTPProxy(proxy.Host(), proxy.Port())
		url = "http://" + nodeProxyTarget + ":8080" + pc.path
		if pc.defPort {
			url = "http://" + nodeProxyTarget + pc.path
		}
	}
	if want == proxygen.WantStall && pc.cancel {
		cancelStalled(t, d, n, url, pc, proxy)
		return
	}
	if want == proxygen.WantStall {
		require.NoError(t, n.SetTimeout(100*time.Millisecond))
	}
	o := d.run(t, n, url, pc.headers, httpclient.MethodGet, nil)
	switch want {
	case proxygen.WantOK:
		if pc.https {
			assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}, o)
		} else if len(replyHeaders(pc.plan)) == 0 { // §2.7.1: no header lines
			assertCompletion(t, Completion{ResultNoResponse, 0, nil, nil}, o)
		} else {
			assertCompletion(t, Completion{ResultSuccess, pc.plan.Code, replyHeaders(pc.plan), []byte(pc.plan.ResponseBody())}, o)
		}
	case proxygen.WantRefused, proxygen.WantCut, proxygen.WantTCPEnd:
		assertCompletion(t, Completion{ResultCantConnect, 0, nil, nil}, o)
	case proxygen.WantTLSBroken:
		assertCompletion(t, Completion{ResultTLSHandshakeError, 0, nil, nil}, o)
	case proxygen.WantStall:
		assertCompletion(t, Completion{ResultTimeout, 0, nil, nil}, o)
	case proxygen.WantConnError:
		assertCompletion(t, Completion{ResultConnectionError, 0, nil, nil}, o)
	}
	n.Close()
	proxy.Close()

	data, heads := proxy.Received()
	require.Len(t, data, 1, "one connection to the proxy")
	got := data[0]
	ua := wire.DefaultUserAgent()
	if pc.https {
		authority := "localhost:" + strconv.Itoa(origin.Port())
		if pc.defPort {
			authority = "localhost:443"
		}
		connect := "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\n\r\n"
		require.GreaterOrEqual(t, len(got), len(connect), "the CONNECT arrived whole: %q", got)
		assert.Equal(t, connect, string(got[:len(connect)]))
		assert.Equal(t, len(connect), heads[0])
		assert.NoError(t, proxygen.CheckTunnelBytes(got[len(connect):]), "only TLS after the CONNECT")
	} else {
		port, hostHeader := ":8080", nodeProxyTarget+":8080"
		if pc.defPort {
			port, hostHeader = ":80", nodeProxyTarget // §1.7.7: the port always; §1.7.10: Host without the scheme's
		}
		var b strings.Builder
		b.WriteString("GET http://" + nodeProxyTarget + port + pc.path + " HTTP/1.1\r\n")
		for _, h := range pc.headers {
			b.WriteString(h + "\r\n")
		}
		b.WriteString(acceptGzipHeader + "\r\nHost: " + hostHeader + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\n\r\n")
		assert.Equal(t, b.String(), string(got), "exactly the absolute-form request")
	}
	assert.Empty(t, proxy.Errors())
}

// cancelStalled cancels a request stalled by the proxy (§2.12, §7 D3 Q6):
// CancelRequest returns at once (the use_threads worker blocked in the
// CONNECT exchange or the request is unblocked, COMPAT Q12), no completion
// comes after it, the node is free for the next request; Do returns its
// context's error promptly with a zero Completion.
func cancelStalled(t *testing.T, d driverCase, n *HTTPRequest, url string, pc nodeProxyCase, proxy *proxygen.Proxy) {
	stalled := httpclient.StatusConnecting
	if !pc.https {
		stalled = httpclient.StatusRequesting
	}
	if d.Do {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		begin := time.Now()
		c, err := n.Do(ctx, url, pc.headers, httpclient.MethodGet, nil)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, Completion{}, c)
		assert.Less(t, time.Since(begin), 2*time.Second)
	} else {
		if d.Threads {
			require.NoError(t, n.SetUseThreads(true))
		}
		completions := 0
		n.OnRequestCompleted(func(Result, int, []string, []byte) { completions++ })
		require.NoError(t, n.RequestRaw(url, pc.headers, httpclient.MethodGet, nil))
		drive.Await(n, frame, maxWait, func() bool { return n.HTTPClientStatus() == stalled })
		drive.Idle(n, 20, frame) // the proxy holds: nothing ends
		assert.Equal(t, stalled, n.HTTPClientStatus())
		begin := time.Now()
		n.CancelRequest()
		assert.Less(t, time.Since(begin), time.Second, "CancelRequest returns at once")
		drive.Idle(n, 20, frame)
		assert.Equal(t, 0, completions, "no completion after CancelRequest")
		assert.Equal(t, httpclient.StatusDisconnected, n.HTTPClientStatus())
	}
	n.Close()
	proxy.Close()
	data, _ := proxy.Received()
	assert.Len(t, data, 1, "one connection to the proxy")
}
