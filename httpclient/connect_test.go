package httpclient

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// TestResolve covers §1.5.10–11 and §1.6.1: a name goes through RESOLVING,
// an IP literal skips it, a failed lookup is CANT_RESOLVE. Blocking mode
// sees the same statuses, one change per Poll (§1.15.1).
func TestResolve(t *testing.T) {
	for _, m := range modes {
		t.Run("localhost/"+m.name, func(t *testing.T) { // §1.6.1.2
			srv := ts.New(t, ts.Respond(okResp))
			c, tr := newClient(t, m.blocking)
			assert.NoError(t, connect(t, c, "localhost", srv.Port(), nil))
			assert.Equal(t, statuses(StatusResolving, StatusConnecting, StatusConnected), *tr)
		})
		t.Run("ip-literal/"+m.name, func(t *testing.T) { // §1.5.10, §1.6.2.3
			srv := ts.New(t, ts.Respond(okResp))
			c, tr := newClient(t, m.blocking)
			assert.NoError(t, connect(t, c, "127.0.0.1", srv.Port(), nil))
			assert.Equal(t, statuses(StatusConnecting, StatusConnected), *tr)
		})
		t.Run("ipv6-literal-long-form/"+m.name, func(t *testing.T) { // §1.5.9: unbracketed, ≥ 4 characters
			if !ipv6Available() {
				t.Skip("no IPv6 loopback")
			}
			srv := ts.New(t, ts.Respond(okResp), ts.WithIPv6())
			c, tr := newClient(t, m.blocking)
			r := roundTrip(t, c, tr, "0:0:0:0:0:0:0:1", srv.Port(), nil, getRoot, pathChunks, false)
			assert.Equal(t, concat(connected, StatusBody, StatusConnected), r.Trace)
			assert.Equal(t, "ok", r.Body)
			c.Close()
			srv.Close()
			// §1.7.10: the IPv6 host is not bracketed in Host.
			assert.Contains(t, string(srv.Received()[0]), "\r\nHost: 0:0:0:0:0:0:0:1:"+strconv.Itoa(srv.Port())+"\r\n")
		})
		t.Run("inet_aton-forms/"+m.name, func(t *testing.T) { // §1.5.10, §1.6.1: not a literal, read by getaddrinfo
			srv := ts.New(t, ts.RespondEach(okResp))
			for _, host := range []string{"127.1", "127.0.1", "2130706433", "0x7f000001", "0177.1"} {
				c, tr := newClient(t, m.blocking)
				c.lookup = offlineLookup // no name is looked up
				assert.NoError(t, connect(t, c, host, srv.Port(), nil), host)
				assert.Equal(t, statuses(StatusResolving, StatusConnecting, StatusConnected), *tr, host)
				c.Close()
			}
		})
		t.Run("unresolvable/"+m.name, func(t *testing.T) { // §1.6.1.3
			c, tr := newClient(t, m.blocking)
			c.lookup = offlineLookup
			err := connect(t, c, "nonexistent.invalid", 80, nil)
			assert.Equal(t, statuses(StatusResolving, StatusCantResolve), *tr)
			assert.True(t, errors.Is(err, ErrCantResolve), "%v", err)
			var dns *net.DNSError
			assert.True(t, errors.As(err, &dns), "cause is the *net.DNSError: %v", err)
			assert.True(t, errors.Is(c.Poll(), ErrCantResolve), "later polls: ERR_CANT_RESOLVE")
			assert.Equal(t, err, c.LastError())
		})
		t.Run("bracketed-ipv6-goes-to-dns/"+m.name, func(t *testing.T) { // §1.5.9
			c, tr := newClient(t, m.blocking)
			c.lookup = offlineLookup
			err := connect(t, c, "[::1]", 80, nil)
			assert.Equal(t, statuses(StatusResolving, StatusCantResolve), *tr)
			assert.True(t, errors.Is(err, ErrCantResolve), "%v", err)
		})
		t.Run("path-stays-in-host/"+m.name, func(t *testing.T) { // §1.5.3 quirk
			c, tr := newClient(t, m.blocking)
			c.lookup = offlineLookup
			_ = connect(t, c, "http://localhost/path", 80, nil)
			assert.Equal(t, statuses(StatusResolving, StatusCantResolve), *tr)
		})
	}
}

// numericHost is glibc's __inet_aton_exact, which getaddrinfo applies to a
// name before any lookup.
func TestNumericHost(t *testing.T) {
	for host, want := range map[string]string{
		"127.1": "127.0.0.1", "127.0.1": "127.0.0.1", "127.0.0.1": "127.0.0.1",
		"2130706433": "127.0.0.1", "0x7f000001": "127.0.0.1", "0X7F.1": "127.0.0.1",
		"0177.0.0.01": "127.0.0.1", "0": "0.0.0.0", "1.2.65535": "1.2.255.255",
		"1.16777215": "1.255.255.255", "4294967295": "255.255.255.255", "00000000010": "0.0.0.8",
		// Not numeric: looked up by name.
		"": "", "localhost": "", "127.0.0.1.": "", "127..1": "", ".1": "", "1.2.3.4.5": "",
		"256.1": "", "1.2.65536": "", "1.16777216": "", "4294967296": "", "127.0.0.08": "",
		"0x": "", "0x1g": "", "+1": "", " 1": "", "1 ": "", "1.-1": "", "0x.1": "", "1_0": "",
	} {
		a, ok := numericHost(host)
		if want == "" {
			assert.False(t, ok, "%q: %v", host, a)
			continue
		}
		if assert.True(t, ok, host) {
			assert.Equal(t, want, a.String(), host)
		}
	}
}

// offlineLookup is Go's resolver (the client's default, lookupHost) with
// the network cut off: names in /etc/hosts resolve, anything that would need
// a DNS query fails, so tests never send traffic off the machine.
func offlineLookup(ctx context.Context, host string) ([]netip.Addr, error) {
	r := net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS server in tests")
	}}
	return r.LookupNetIP(ctx, "ip", host)
}

// fakeLookup returns a lookup that answers addrs for every name and records
// the names asked for.
func fakeLookup(addrs ...string) (func(context.Context, string) ([]netip.Addr, error), *[]string) {
	var mu sync.Mutex
	asked := new([]string)
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		mu.Lock()
		*asked = append(*asked, host)
		mu.Unlock()
		out := make([]netip.Addr, len(addrs))
		for i, a := range addrs {
			out[i] = netip.MustParseAddr(a)
		}
		return out, nil
	}, asked
}

// TestConnectCandidates covers §1.6.2.1–2: every resolved address is tried
// in turn; CANT_CONNECT only when all failed, with the last error as cause.
func TestConnectCandidates(t *testing.T) {
	for _, m := range modes {
		t.Run("second-address-connects/"+m.name, func(t *testing.T) {
			srv := ts.New(t, ts.Respond(okResp)) // listens on 127.0.0.1 only
			c, tr := newClient(t, m.blocking)
			var asked *[]string
			c.lookup, asked = fakeLookup("127.0.0.2", "127.0.0.1") // 127.0.0.2: refused
			r := roundTrip(t, c, tr, "multi.example", srv.Port(), nil, getRoot, pathChunks, false)
			assert.Equal(t, concat(statuses(StatusResolving), concat(connected, StatusBody, StatusConnected)...), r.Trace)
			assert.Equal(t, "ok", r.Body)
			assert.Equal(t, []string{"multi.example"}, *asked)
		})
		t.Run("every-address-refused/"+m.name, func(t *testing.T) {
			c, tr := newClient(t, m.blocking)
			c.lookup, _ = fakeLookup("127.0.0.2", "127.0.0.1")
			err := connect(t, c, "multi.example", ts.ClosedPort(t), nil)
			assert.Equal(t, statuses(StatusResolving, StatusConnecting, StatusCantConnect), *tr)
			assert.True(t, errors.Is(err, ErrCantConnect), "%v", err)
			var op *net.OpError
			require.True(t, errors.As(err, &op), "cause is the dial error: %v", err)
			assert.Equal(t, "127.0.0.1", netip.MustParseAddrPort(op.Addr.String()).Addr().String(), "the last address's error")
			assert.True(t, errors.Is(c.Poll(), ErrCantConnect))
		})
		t.Run("ip-literal-refused/"+m.name, func(t *testing.T) {
			c, tr := newClient(t, m.blocking)
			err := connect(t, c, "127.0.0.1", ts.ClosedPort(t), nil)
			assert.Equal(t, statuses(StatusConnecting, StatusCantConnect), *tr)
			assert.True(t, errors.Is(err, ErrCantConnect), "%v", err)
		})
		t.Run("no-address-can-start/"+m.name, func(t *testing.T) {
			// 255.255.255.255: connect(2) fails at once (ENETUNREACH) here.
			// §1.6.1.2: RESOLVING → CANT_CONNECT, Poll returns the last
			// start error (FAILED); later Polls ERR_CANT_CONNECT.
			needStartFailure(t)
			c, tr := newClient(t, m.blocking)
			c.lookup, _ = fakeLookup("255.255.255.255", "255.255.255.255")
			err := connect(t, c, "unreachable.example", 80, nil)
			assert.Equal(t, statuses(StatusResolving, StatusCantConnect), *tr)
			assert.True(t, errors.Is(err, Failed), "%v", err)
			assert.False(t, errors.Is(err, ErrCantConnect), "%v", err)
			var op *net.OpError
			require.True(t, errors.As(err, &op), "cause is the connect error: %v", err)
			assert.True(t, errors.Is(err, syscall.ENETUNREACH), "%v", err)
			assert.Equal(t, err, c.LastError())
			assert.True(t, errors.Is(c.Poll(), ErrCantConnect))
		})
		t.Run("first-address-cannot-start/"+m.name, func(t *testing.T) {
			// §1.6.1.2: an address whose connect cannot start is skipped
			// within the same Poll.
			needStartFailure(t)
			srv := ts.New(t, ts.Respond(okResp))
			c, tr := newClient(t, m.blocking)
			c.lookup, _ = fakeLookup("255.255.255.255", "127.0.0.1")
			r := roundTrip(t, c, tr, "multi.example", srv.Port(), nil, getRoot, pathChunks, false)
			assert.Equal(t, concat(statuses(StatusResolving), concat(connected, StatusBody, StatusConnected)...), r.Trace)
			assert.Equal(t, "ok", r.Body)
		})
		t.Run("refused-then-cannot-start/"+m.name, func(t *testing.T) {
			// §1.6.2.2: after a refusal, addresses are left but none can
			// start: CANT_CONNECT with the last start error (FAILED), not
			// ERR_CANT_CONNECT.
			needStartFailure(t)
			c, tr := newClient(t, m.blocking)
			c.lookup, _ = fakeLookup("127.0.0.1", "255.255.255.255")
			err := connect(t, c, "multi.example", ts.ClosedPort(t), nil)
			assert.Equal(t, statuses(StatusResolving, StatusConnecting, StatusCantConnect), *tr)
			assert.True(t, errors.Is(err, Failed), "%v", err)
			assert.True(t, errors.Is(err, syscall.ENETUNREACH), "%v", err)
		})
		t.Run("cannot-start-then-refused/"+m.name, func(t *testing.T) {
			// The address that started is the last one: its refusal is
			// ERR_CANT_CONNECT.
			needStartFailure(t)
			c, tr := newClient(t, m.blocking)
			c.lookup, _ = fakeLookup("255.255.255.255", "127.0.0.1")
			err := connect(t, c, "multi.example", ts.ClosedPort(t), nil)
			assert.Equal(t, statuses(StatusResolving, StatusConnecting, StatusCantConnect), *tr)
			assert.True(t, errors.Is(err, ErrCantConnect), "%v", err)
			assert.True(t, errors.Is(err, syscall.ECONNREFUSED), "%v", err)
		})
		t.Run("resolved-name-bad-port/"+m.name, func(t *testing.T) { // §1.6.1.2: every start fails
			c, tr := newClient(t, m.blocking)
			c.lookup, _ = fakeLookup("127.0.0.1")
			err := connect(t, c, "name.example", 0, nil)
			assert.Equal(t, statuses(StatusResolving, StatusCantConnect), *tr)
			assert.True(t, errors.Is(err, ErrInvalidParameter), "%v", err)
		})
	}
}

// needStartFailure skips the test where 255.255.255.255, the address
// these tests give for a connect(2) that fails at once (ENETUNREACH), can
// be connected to, and where the port connects on the connector goroutine
// (no quick connect: COMPAT H17).
func needStartFailure(t *testing.T) {
	t.Helper()
	if !quickConnectSupported {
		t.Skip("connects run on the connector goroutine here (COMPAT H17)")
	}
	if c, err := net.Dial("tcp4", "255.255.255.255:80"); err == nil {
		c.Close()
		t.Skip("255.255.255.255 is reachable here")
	}
}

// TestConnectTimeout checks §1.6.2.1–2: each address gets its own connect
// timeout, after which the next one is tried; when all time out the status
// is CANT_CONNECT with the deadline as cause.
func TestConnectTimeout(t *testing.T) {
	srv := ts.New(t, ts.Respond(okResp))
	for _, m := range modes {
		t.Run("next-address-after-timeout/"+m.name, func(t *testing.T) {
			c, tr := newClient(t, m.blocking)
			c.SetConnectTimeout(50 * time.Millisecond)
			c.lookup, _ = fakeLookup("127.0.0.2", "127.0.0.1")
			var mu sync.Mutex
			var tried []string
			c.dialFn = func(ctx context.Context, network, addr string) (net.Conn, error) {
				mu.Lock()
				tried = append(tried, addr)
				mu.Unlock()
				if strings.HasPrefix(addr, "127.0.0.2:") { // a black hole
					<-ctx.Done()
					return nil, ctx.Err()
				}
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			}
			start := time.Now()
			require.NoError(t, connect(t, c, "slow.example", srv.Port(), nil))
			assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
			assert.Equal(t, statuses(StatusResolving, StatusConnecting, StatusConnected), *tr)
			assert.Len(t, tried, 2)
		})
		t.Run("all-time-out/"+m.name, func(t *testing.T) {
			c, tr := newClient(t, m.blocking)
			c.SetConnectTimeout(30 * time.Millisecond)
			c.lookup, _ = fakeLookup("127.0.0.2", "127.0.0.3")
			c.dialFn = func(ctx context.Context, _, _ string) (net.Conn, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			err := connect(t, c, "slow.example", 80, nil)
			assert.Equal(t, statuses(StatusResolving, StatusConnecting, StatusCantConnect), *tr)
			assert.True(t, errors.Is(err, ErrCantConnect), "%v", err)
			assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
		})
	}
}

// TestConnectToHostArguments covers §1.5.1–4, §1.5.6–7 and §1.5.10: the argument
// checks of ConnectToHost and their statuses (the connect_to_host row of
// §1.18).
func TestConnectToHostArguments(t *testing.T) {
	tests := []struct {
		name   string
		rule   string
		host   string
		port   int
		tls    *TLSOptions
		err    Error
		status Status
	}{
		{"ipv6-loopback-short", "§1.5.6", "::1", 8080, nil, ErrInvalidParameter, StatusDisconnected},
		{"three-letters", "§1.5.6", "abc", 8080, nil, ErrInvalidParameter, StatusDisconnected},
		{"three-letters-after-prefix", "§1.5.3, §1.5.6", "http://abc", 8080, nil, ErrInvalidParameter, StatusDisconnected},
		{"three-characters-nine-bytes", "§1.5.6 (characters, not bytes)", "日本語", 8080, nil, ErrInvalidParameter, StatusDisconnected},
		{"four-letters", "§1.5.6", "abcd", 8080, nil, 0, StatusResolving},
		{"literal-port-0", "§1.5.7, §1.5.10", "127.0.0.1", 0, nil, ErrInvalidParameter, StatusCantConnect},
		{"literal-port-65536", "§1.5.10", "127.0.0.1", 65536, nil, ErrInvalidParameter, StatusCantConnect},
		{"server-tls", "§1.5.4", "localhost", 443, TLSServer(tls.Certificate{}), ErrInvalidParameter, StatusDisconnected},
		{"name-port-0-not-checked-yet", "§1.5.7", "localhost", 0, nil, 0, StatusResolving},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newClient(t, false)
			c.lookup = func(ctx context.Context, _ string) ([]netip.Addr, error) { <-ctx.Done(); return nil, ctx.Err() }
			err := c.ConnectToHost(tt.host, tt.port, tt.tls)
			if tt.err == 0 {
				assert.NoError(t, err, tt.rule)
			} else {
				assert.True(t, errors.Is(err, tt.err), "%s: %v", tt.rule, err)
			}
			assert.Equal(t, tt.status, c.Status(), tt.rule)
		})
	}
}

// TestSchemePrefix covers §1.5.3: "http://" forces TLS off even with
// options; "https://" (any case) turns TLS on with default options.
func TestSchemePrefix(t *testing.T) {
	ca := ts.NewCA(t)
	for _, m := range modes {
		t.Run("http-prefix-forces-plain/"+m.name, func(t *testing.T) {
			srv := ts.New(t, ts.Respond(okResp))
			c, tr := newClient(t, m.blocking)
			r := roundTrip(t, c, tr, "HtTp://127.0.0.1", srv.Port(), TLSClient(ca.Pool(), ""), getRoot, pathChunks, false)
			assert.Equal(t, concat(connected, StatusBody, StatusConnected), r.Trace)
			assert.Equal(t, "ok", r.Body)
		})
		t.Run("https-prefix-default-options/"+m.name, func(t *testing.T) {
			srv := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.Respond(okResp))
			c, tr := newClient(t, m.blocking)
			err := connect(t, c, "HTTPS://localhost", srv.Port(), nil)
			// Default options verify against the system pool: the test CA is unknown.
			assert.Equal(t, statuses(StatusResolving, StatusConnecting, StatusTLSHandshakeError), *tr)
			assert.True(t, errors.Is(err, ErrCantConnect), "%v", err)
		})
		t.Run("https-prefix-given-options/"+m.name, func(t *testing.T) {
			srv := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.Respond(okResp))
			c, tr := newClient(t, m.blocking)
			r := roundTrip(t, c, tr, "https://localhost", srv.Port(), TLSClient(ca.Pool(), ""), getRoot, pathChunks, false)
			assert.Equal(t, "ok", r.Body)
		})
	}
}

// TestReconnect checks §1.5.1: ConnectToHost closes the current connection
// first.
func TestReconnect(t *testing.T) {
	first := ts.Script(ts.Read(), ts.WriteString(okResp), ts.WaitClosed(driveTimeout))
	// The second connection is closed by c.Close, maybe before it is accepted.
	second := ts.Script(ts.WaitClosed(driveTimeout))
	srv := ts.New(t, func(conn *ts.Conn) {
		if conn.Index() == 0 {
			first(conn)
		} else {
			second(conn)
		}
	})
	c, _ := newClient(t, true)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	_ = pollWhile(t, c, StatusRequesting)
	require.NoError(t, c.ConnectToHost(srv.Host(), srv.Port(), nil))
	assert.Equal(t, StatusConnecting, c.Status())
	assert.Equal(t, 0, c.ResponseCode(), "close() reset the response")
	c.Close()
	srv.Close()
	assert.Empty(t, srv.Errors(), "the server saw both connections closed")
}
