package httpclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/proxygen"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// A seeded generated harness of hostile proxies (§1.14, §1.6, §7 D5,
// COMPAT W2, H6, H9, O3): internal/proxygen draws what a scripted loopback
// proxy does — for an https target through the HTTPS proxy, a correct
// tunnel, other 2xx replies of every framing (§7 D5: they open the tunnel;
// bytes after the head are the tunnel's), HTTP/1.0 200, 1xx/3xx/4xx/5xx
// refusals with and without a body, a reply written one byte at a time, a
// head that never ends then a FIN, a head over the 1 MiB budget (§7 D1), a
// large one under it, bytes after the blank line (garbage, the start of a
// ServerHello, a clear-text response), a FIN or an RST before the reply or
// after it (once the ClientHello came), a stall, a reply written before the
// CONNECT came; for an http target through the HTTP proxy, the origin's
// answer, the proxy's own 403/407/502/503/504 (any framing), a close, a
// reset, a stall, a "200 Connection established" to a CONNECT that never
// came — and runs it in blocking mode or in the non-blocking Poll loop.
//
// Invariants:
//   - the bytes the proxy received: for https exactly Godot's CONNECT with
//     the D5 Host (wire.AppendConnect is not used to build it), then only TLS
//     records, never a clear-text request; for http exactly the
//     absolute-form request of §1.7.7 with the target's Host, and nothing
//     else;
//   - the status trace and the Poll error per proxygen.Want: a tunnel gives
//     CONNECTING → CONNECTED → REQUESTING → BODY → CONNECTED and the origin's
//     body; a non-2xx reply CONNECTING → CANT_CONNECT with ERR_CANT_CONNECT
//     and a *ProxyError carrying the code; a reply cut short or over the
//     budget CANT_CONNECT with ERR_CONNECTION_ERROR; a proxy that ends the
//     TCP connection CANT_CONNECT with ERR_CANT_CONNECT (COMPAT H9); bytes in
//     the tunnel that are not the origin's TLS_HANDSHAKE_ERROR (never taken as
//     a response); a stall stays CONNECTING (https) or REQUESTING (http)
//     until Close, which returns at once; no RESOLVING (the proxy is an IP
//     literal and the target is never resolved);
//   - later Polls repeat the terminal code; no hang (a watchdog Aborts);
//     goleak (TestMain) and an fd count at the end.
//
// GDHTTP_PROXYGEN_N (cases, default 120), GDHTTP_PROXYGEN_SEED (default 1);
// GDHTTP_PROXYGEN_ONLY=i runs case i alone. A failure logs the case.
func TestProxygen(t *testing.T) {
	n := drive.EnvInt("GDHTTP_PROXYGEN_N", 120)
	seed := uint64(drive.EnvInt("GDHTTP_PROXYGEN_SEED", 1))
	only := drive.EnvInt("GDHTTP_PROXYGEN_ONLY", -1)
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "localhost")
	fds := drive.FDs()
	stats := map[string]int{}
	for i := range n {
		if only >= 0 && i != only {
			continue
		}
		pc := genProxyCase(seed*1_000_003 + uint64(i))
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Logf("case: %v", pc)
			runProxyCase(t, pc, ca, cert)
			stats[pc.plan.Want(pc.https).String()]++
		})
	}
	t.Logf("seed %d, %d cases: %s", seed, n, drive.Counts(stats))
	drive.NoFDLeft(t, fds, 2)
}

// proxyCase is one generated case.
type proxyCase struct {
	https, blocking bool
	byName          bool // the proxy is given as "localhost": RESOLVING first (§1.5.11)
	defaultPort     bool // the target's port is the scheme's (80, 443): -1 given, no port in Host (§1.7.10)
	strict          bool // SetStrict (§7.4): the same outcomes for these well-formed replies
	plan            proxygen.Plan
	path            string
	headers         []string
}

func (p proxyCase) String() string {
	return fmt.Sprintf("https=%v blocking=%v byName=%v defaultPort=%v strict=%v path=%q headers=%q plan=%v want=%v", p.https, p.blocking, p.byName, p.defaultPort, p.strict, p.path, p.headers, p.plan, p.plan.Want(p.https))
}

func genProxyCase(seed uint64) proxyCase {
	r := rand.New(rand.NewPCG(seed, 0x70726f7879))
	pc := proxyCase{https: r.IntN(2) == 0, blocking: r.IntN(2) == 0, path: "/"}
	pc.byName = r.IntN(4) == 0
	pc.defaultPort = r.IntN(3) == 0
	if pc.https {
		pc.plan = proxygen.GenConnect(r)
	} else {
		pc.plan = proxygen.GenHTTP(r)
	}
	// Strict mode reads the odd heads and a 1xx differently (§7.4: 1xx
	// skipped): only the well-formed replies are drawn with it.
	pc.strict = r.IntN(4) == 0 && pc.plan.B != proxygen.OddHead && pc.plan.Code >= 200
	switch r.IntN(3) {
	case 1:
		pc.path = "/a/b?c=" + strconv.Itoa(r.IntN(100))
	case 2:
		pc.headers = []string{"X-Game: " + strconv.Itoa(r.IntN(100))}
	}
	return pc
}

// proxygenTarget is the http target's host: never resolved (the socket goes
// to the proxy), it only appears in the request line and Host.
const proxygenTarget = "game.example"

func runProxyCase(t *testing.T, pc proxyCase, ca *ts.CA, cert tls.Certificate) {
	var origin *ts.Server
	originAddr := ""
	if pc.https {
		origin = ts.NewTLS(t, cert, ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		defer origin.Close()
		originAddr = origin.Addr()
	}
	proxy, err := proxygen.Start(pc.plan, pc.https, originAddr)
	require.NoError(t, err)
	defer proxy.Close()

	c, tr := newClient(t, pc.blocking)
	c.SetStrict(pc.strict)
	var host string
	var port int
	var opts *TLSOptions
	proxyHost := proxy.Host()
	if pc.byName {
		proxyHost = "localhost"
	}
	if pc.https {
		c.SetHTTPSProxy(proxyHost, proxy.Port())
		host, port, opts = "localhost", origin.Port(), TLSClient(ca.Pool(), "")
		if pc.defaultPort {
			port = -1 // 443: the proxy tunnels to the origin whatever the CONNECT names
		}
	} else {
		c.SetHTTPProxy(proxyHost, proxy.Port())
		host, port = proxygenTarget, 8080
		if pc.defaultPort {
			port = -1 // 80
		}
	}
	want := pc.plan.Want(pc.https)

	// The watchdog: no case may hang.
	hung := make(chan struct{})
	watchdog := time.AfterFunc(driveTimeout, func() { close(hung); c.Abort() })
	defer watchdog.Stop()

	require.NoError(t, c.ConnectToHost(host, port, opts))
	var last, earlyErr error
	stallUntil := time.Now().Add(30 * time.Millisecond)
	stalled := false
	if want == proxygen.WantStall && pc.blocking {
		// A blocking Poll waits: Abort from another goroutine ends it.
		time.AfterFunc(30*time.Millisecond, c.Abort)
	}
	poll := func(ss ...Status) {
		for in(c.Status(), ss) {
			if want == proxygen.WantStall && !pc.blocking && time.Now().After(stallUntil) {
				stalled = true
				return
			}
			before := c.Status()
			last = c.Poll()
			if last != nil && in(c.Status(), ss) {
				// §1.6: a Poll that changes nothing returns OK; an error
				// comes with the status it enters.
				earlyErr = fmt.Errorf("Poll returned %v and stayed %v (from %v)", last, c.Status(), before)
			}
			if !pc.blocking && in(c.Status(), ss) {
				time.Sleep(pollGap)
			}
		}
	}
	poll(StatusResolving, StatusConnecting)
	var body bytes.Buffer
	var code int
	var headers []string
	var hasResp bool
	if c.Status() == StatusConnected && !stalled {
		require.NoError(t, c.Request(MethodGet, pc.path, pc.headers, ""))
		poll(StatusRequesting)
		code, headers, hasResp = c.ResponseCode(), append([]string(nil), c.RawHeaders()...), c.HasResponse()
		for !stalled && c.Status() == StatusBody {
			last = c.Poll()
			if c.Status() == StatusBody {
				p := c.ReadResponseBodyChunk()
				body.Write(p)
				if len(p) == 0 && !pc.blocking {
					time.Sleep(pollGap)
				}
			}
		}
	}
	select {
	case <-hung:
		t.Fatalf("hung: status %v, trace %v", c.Status(), *tr)
	default:
	}
	if !(want == proxygen.WantStall && pc.blocking) { // an Abort's error comes in the status it aborts
		assert.NoError(t, earlyErr)
	}
	trace := append([]Status(nil), *tr...)
	if pc.byName {
		// §1.5.11, §1.6.1: the proxy's name is resolved first.
		if assert.NotEmpty(t, trace) && assert.Equal(t, StatusResolving, trace[0], "trace %v", trace) {
			trace = trace[1:]
		}
	}
	final := c.Status()

	t.Logf("trace %v, last %v, code %d, headers %q, body %q", trace, last, code, headers, body.String())
	switch want {
	case proxygen.WantOK:
		if pc.https {
			assert.Equal(t, concat(connected, StatusBody, StatusConnected), trace, "trace (last error %v)", last)
			assert.Equal(t, "ok", body.String())
			assert.Equal(t, 200, code)
		} else {
			require.GreaterOrEqual(t, len(trace), 3, "trace %v (last error %v)", trace, last)
			assert.Equal(t, connected, trace[:3], "trace")
			assert.Equal(t, pc.plan.Code, code, "the proxy's answer is the response (last error %v)", last)
			wantBody := pc.plan.ResponseBody()
			if pc.strict && pc.plan.Framing == proxygen.NoFraming {
				wantBody = pc.plan.Body // §7.4: a body without framing is read until the close
			}
			assert.Equal(t, wantBody, body.String())
			if pc.plan.B == proxygen.Established {
				assert.Empty(t, headers, "no header lines")
				assert.False(t, hasResp)
			}
		}
	case proxygen.WantRefused:
		assert.Equal(t, statuses(StatusConnecting, StatusCantConnect), trace)
		assert.ErrorIs(t, last, ErrCantConnect)
		var pe *ProxyError
		if assert.ErrorAs(t, last, &pe) {
			assert.Equal(t, pc.plan.Code, pe.Code)
		}
	case proxygen.WantCut:
		assert.Equal(t, statuses(StatusConnecting, StatusCantConnect), trace)
		assert.ErrorIs(t, last, ErrConnectionError)
	case proxygen.WantTCPEnd:
		assert.Equal(t, statuses(StatusConnecting, StatusCantConnect), trace)
		assert.ErrorIs(t, last, ErrCantConnect)
		assert.False(t, errors.As(last, new(*ProxyError)), "no *ProxyError: %v", last)
	case proxygen.WantTLSBroken:
		assert.Equal(t, statuses(StatusConnecting, StatusTLSHandshakeError), trace)
		assert.ErrorIs(t, last, ErrCantConnect)
		assert.NotEqual(t, 200, code, "the early bytes are not a response")
	case proxygen.WantStall:
		if pc.blocking {
			assert.ErrorIs(t, last, ErrAborted, "trace %v", trace)
		} else {
			assert.True(t, stalled)
			if pc.https {
				assert.Equal(t, statuses(StatusConnecting), trace)
			} else {
				assert.Equal(t, connected, trace)
			}
		}
	case proxygen.WantConnError:
		assert.Equal(t, statuses(StatusConnecting, StatusConnected, StatusRequesting, StatusConnectionError), trace)
		assert.ErrorIs(t, last, ErrConnectionError)
	}
	// Later polls repeat the terminal code (§1.6 table).
	switch final {
	case StatusCantConnect:
		assert.ErrorIs(t, c.Poll(), ErrCantConnect)
	case StatusConnectionError, StatusTLSHandshakeError:
		assert.ErrorIs(t, c.Poll(), ErrConnectionError)
	}
	begin := time.Now()
	c.Close()
	assert.Less(t, time.Since(begin), time.Second, "Close returns at once")
	proxy.Close()
	if origin != nil {
		origin.Close()
	}

	checkProxyBytes(t, proxy, pc, port, want)
	if pc.https && want == proxygen.WantOK {
		// Inside the tunnel: the origin-form request (§1.14.2: the
		// absolute form is for the HTTP proxy only), Host the target's.
		hostHeader := "localhost:" + strconv.Itoa(origin.Port())
		if pc.defaultPort {
			hostHeader = "localhost"
		}
		var b strings.Builder
		b.WriteString("GET " + pc.path + " HTTP/1.1\r\n")
		for _, h := range pc.headers {
			b.WriteString(h + "\r\n")
		}
		b.WriteString("Host: " + hostHeader + "\r\nUser-Agent: " + wire.DefaultUserAgent() + "\r\nAccept: */*\r\n\r\n")
		if reqs := origin.Requests(); assert.Len(t, reqs, 1) {
			assert.Equal(t, b.String(), string(reqs[0]), "the request inside the tunnel")
		}
	}
	assert.Empty(t, proxy.Errors())
}

func in(s Status, ss []Status) bool {
	for _, x := range ss {
		if s == x {
			return true
		}
	}
	return false
}

// checkProxyBytes checks what the proxy received against the rule, built
// here from §1.7.7–§1.7.11, §1.14 and §7 D5.
func checkProxyBytes(t *testing.T, proxy *proxygen.Proxy, pc proxyCase, port int, want proxygen.Want) {
	t.Helper()
	data, heads := proxy.Received()
	require.Len(t, data, 1, "one connection to the proxy")
	got, head := data[0], heads[0]
	ua := wire.DefaultUserAgent()
	if pc.https {
		if port == -1 {
			port = 443
		}
		authority := "localhost:" + strconv.Itoa(port)
		connect := "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\n\r\n"
		require.GreaterOrEqual(t, len(got), len(connect), "the CONNECT arrived whole: %q", got)
		assert.Equal(t, connect, string(got[:len(connect)]))
		assert.Equal(t, len(connect), head)
		assert.NoError(t, proxygen.CheckTunnelBytes(got[len(connect):]), "only TLS after the CONNECT")
		if want != proxygen.WantOK && want != proxygen.WantTLSBroken && want != proxygen.WantTCPEnd {
			assert.Empty(t, got[len(connect):], "nothing after a CONNECT that opened no tunnel")
		}
		return
	}
	// §1.7.7: the port is always written in the target; §1.7.10: Host
	// has it unless it is the scheme's.
	hostHeader := proxygenTarget + ":8080"
	if port == -1 {
		port, hostHeader = 80, proxygenTarget
	}
	var b strings.Builder
	b.WriteString("GET http://" + proxygenTarget + ":" + strconv.Itoa(port) + pc.path + " HTTP/1.1\r\n")
	for _, h := range pc.headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Host: " + hostHeader + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\n\r\n")
	assert.Equal(t, b.String(), string(got), "exactly the absolute-form request")
}

// TestProxygenTransport runs the drawn proxies through the Transport
// (Transport.Proxy, one fresh Transport a case): a tunnel or the HTTP proxy's
// answer gives the response (code, and the body its framing gives, §1.9);
// a refused CONNECT is ErrCantConnect wrapping a *ProxyError with the code;
// a reply cut short or over the budget ErrConnectionError; a proxy that ends
// the connection ErrCantConnect; foreign bytes in the tunnel ErrCantConnect
// (the TLS handshake fails); a stall ends with the request's context; a
// close or a reset of the HTTP proxy ErrConnectionError. The proxy receives
// Godot's CONNECT then only TLS, or one absolute-form request for the
// target. Same knobs as TestProxygen (GDHTTP_PROXYGEN_N default 40 here).
func TestProxygenTransport(t *testing.T) {
	n := drive.EnvInt("GDHTTP_PROXYGEN_N", 40)
	seed := uint64(drive.EnvInt("GDHTTP_PROXYGEN_SEED", 1))
	only := drive.EnvInt("GDHTTP_PROXYGEN_ONLY", -1)
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "localhost")
	fds := drive.FDs()
	stats := map[string]int{}
	for i := range n {
		if only >= 0 && i != only {
			continue
		}
		pc := genProxyCase(seed*1_000_003 + uint64(i) + 7)
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Logf("case: %v", pc)
			runTransportProxyCase(t, pc, ca, cert)
			stats[pc.plan.Want(pc.https).String()]++
		})
	}
	t.Logf("seed %d, %d cases: %s", seed, n, drive.Counts(stats))
	drive.NoFDLeft(t, fds, 2)
}

func runTransportProxyCase(t *testing.T, pc proxyCase, ca *ts.CA, cert tls.Certificate) {
	var origin *ts.Server
	originAddr := ""
	if pc.https {
		origin = ts.NewTLS(t, cert, ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		defer origin.Close()
		originAddr = origin.Addr()
	}
	proxy, err := proxygen.Start(pc.plan, pc.https, originAddr)
	require.NoError(t, err)
	defer proxy.Close()
	tr := &Transport{TLS: TLSClient(ca.Pool(), ""), Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: proxy.Addr()})}
	defer tr.CloseIdleConnections()
	want := pc.plan.Want(pc.https)
	target := "http://" + proxygenTarget + ":8080" + pc.path
	if pc.https {
		target = "https://localhost:" + strconv.Itoa(origin.Port()) + pc.path
	}
	wait := driveTimeout
	if want == proxygen.WantStall {
		wait = 100 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", target, nil)
	require.NoError(t, err)
	for _, h := range pc.headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	begin := time.Now()
	resp, err := tr.RoundTrip(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err, "the body")
	}
	assert.Less(t, time.Since(begin), driveTimeout, "no hang")
	switch want {
	case proxygen.WantOK:
		if assert.NoError(t, err) {
			if pc.https {
				assert.Equal(t, 200, resp.StatusCode)
				assert.Equal(t, "ok", string(body))
			} else {
				assert.Equal(t, pc.plan.Code, resp.StatusCode)
				assert.Equal(t, pc.plan.ResponseBody(), string(body))
			}
		}
	case proxygen.WantRefused:
		assert.ErrorIs(t, err, ErrCantConnect)
		var pe *ProxyError
		if assert.ErrorAs(t, err, &pe) {
			assert.Equal(t, pc.plan.Code, pe.Code)
		}
	case proxygen.WantCut, proxygen.WantConnError:
		assert.ErrorIs(t, err, ErrConnectionError)
	case proxygen.WantTCPEnd, proxygen.WantTLSBroken:
		assert.ErrorIs(t, err, ErrCantConnect)
		assert.False(t, errors.As(err, new(*ProxyError)), "no *ProxyError: %v", err)
	case proxygen.WantStall:
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	}
	if pc.https && want == proxygen.WantOK {
		// A second request reuses the tunnel: no second CONNECT.
		req2, _ := http.NewRequest("GET", target, nil)
		resp2, err := tr.RoundTrip(req2)
		if assert.NoError(t, err) {
			b, _ := io.ReadAll(resp2.Body)
			resp2.Body.Close()
			assert.Equal(t, "ok", string(b))
		}
		assert.Equal(t, 1, proxy.Accepted(), "one connection to the proxy")
		assert.Len(t, origin.Requests(), 2, "both requests went through the tunnel")
	}
	tr.CloseIdleConnections()
	proxy.Close()
	data, heads := proxy.Received()
	require.Len(t, data, 1, "one connection to the proxy")
	got := data[0]
	if pc.https {
		authority := "localhost:" + strconv.Itoa(origin.Port())
		connect := "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\nUser-Agent: " + wire.DefaultUserAgent() + "\r\nAccept: */*\r\n\r\n"
		require.GreaterOrEqual(t, len(got), len(connect), "the CONNECT arrived whole: %q", got)
		assert.Equal(t, connect, string(got[:len(connect)]))
		assert.Equal(t, len(connect), heads[0])
		assert.NoError(t, proxygen.CheckTunnelBytes(got[len(connect):]), "only TLS after the CONNECT")
		return
	}
	require.Positive(t, heads[0], "a request head came: %q", got)
	assert.Equal(t, len(got), heads[0], "one request, nothing after it: %q", got)
	line, rest, _ := strings.Cut(string(got), "\r\n")
	assert.Equal(t, "GET http://"+proxygenTarget+":8080"+pc.path+" HTTP/1.1", line)
	assert.Contains(t, "\r\n"+rest, "\r\nHost: "+proxygenTarget+":8080\r\n")
}
