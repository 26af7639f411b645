package httpclient

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// Tests for parts of the rules of §1.5–§1.13 and §1.16–§1.18 that no test
// named in docs/behaviour.md pinned.

// TestConnectToHostRefusedCloses checks §1.5.1 on a client that was
// connected: connect_to_host starts with close() (HTTPClientTCP::
// connect_to_host: "close();" before any check), so a call refused for a
// short host or server-mode TLS options still drops the connection and the
// response: DISCONNECTED, code 0, body length −1, no stream, the peer sees
// the close.
func TestConnectToHostRefusedCloses(t *testing.T) {
	refusals := []struct {
		name string
		host string
		tls  *TLSOptions
	}{
		{"short-host", "abc", nil},
		{"server-tls", "localhost", TLSServer(tls.Certificate{})},
	}
	for _, r := range refusals {
		for _, m := range modes {
			t.Run(r.name+"/"+m.name, func(t *testing.T) {
				closed := make(chan struct{})
				srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString(okResp), ts.WaitClosed(driveTimeout),
					ts.Do("closed", func(*ts.Conn) error { close(closed); return nil })))
				c, tr := newClient(t, m.blocking)
				require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
				res := exchange(t, c, getRoot, pathChunks)
				require.Equal(t, "ok", res.Body)
				require.Equal(t, 200, c.ResponseCode())
				n := len(*tr)

				err := c.ConnectToHost(r.host, 8080, r.tls)
				assert.ErrorIs(t, err, ErrInvalidParameter)
				assert.Equal(t, StatusDisconnected, c.Status())
				assert.Equal(t, statuses(StatusDisconnected), (*tr)[n:], "close(), nothing after it")
				assert.Equal(t, 0, c.ResponseCode(), "§1.12: close() reset the code")
				assert.Equal(t, int64(-1), c.ResponseBodyLength())
				assert.Nil(t, c.Connection(), "§1.12: the stream was dropped")
				assert.ErrorIs(t, c.Poll(), ErrUnconfigured)
				select {
				case <-closed:
				case <-time.After(driveTimeout):
					t.Error("the connection was not closed")
				}
			})
		}
	}
}

// TestConnectToHostStoresTarget checks §1.5.2 and the end of §1.5.3:
// connect_to_host stores conn_host (prefix cut), conn_port and tls_options
// before its checks, so a call refused for a short host still leaves them —
// the port not yet defaulted (that comes after the length check) — and a
// request on an installed stream says "Host: abc:-1". And anything after
// the host stays in conn_host: it goes to DNS as is and, behind an HTTP
// proxy, into the absolute target ("http://%s:%d%s") and the Host line.
func TestConnectToHostStoresTarget(t *testing.T) {
	for _, m := range modes {
		t.Run("refused-call-stores/"+m.name, func(t *testing.T) {
			srv := ts.New(t, ts.RespondEach(okResp))
			c, _ := newClient(t, m.blocking)
			require.ErrorIs(t, c.ConnectToHost("HTTP://abc", -1, TLSClient(nil, "")), ErrInvalidParameter)
			// http:// dropped the TLS options: a plain stream is accepted.
			require.NoError(t, c.SetConnection(dialTCP(t, srv.Host(), srv.Port())))
			res := exchange(t, c, getRoot, pathChunks)
			assert.Equal(t, "ok", res.Body)
			c.Close()
			srv.Close()
			require.Len(t, srv.Requests(), 1)
			assert.Contains(t, string(srv.Requests()[0]), "\r\nHost: abc:-1\r\n")
		})
		t.Run("text-after-host-behind-proxy/"+m.name, func(t *testing.T) {
			srv := ts.New(t, ts.RespondEach(okResp))
			c, _ := newClient(t, m.blocking)
			c.SetHTTPProxy(srv.Host(), srv.Port())
			require.NoError(t, connect(t, c, "http://example.com:9/p?q", -1, nil))
			require.Equal(t, StatusConnected, c.Status())
			res := exchange(t, c, request{MethodGet, "/x", nil, ""}, pathChunks)
			assert.Equal(t, "ok", res.Body)
			c.Close()
			srv.Close()
			require.Len(t, srv.Requests(), 1)
			got := string(srv.Requests()[0])
			assert.True(t, strings.HasPrefix(got, "GET http://example.com:9/p?q:80/x HTTP/1.1\r\n"), "%q", got)
			assert.Contains(t, got, "\r\nHost: example.com:9/p?q\r\n", "port 80 left out (§1.7.10)")
		})
	}
	t.Run("text-after-host-to-dns", func(t *testing.T) {
		c, tr := newClient(t, false)
		names := make(chan string, 1)
		c.lookup = func(_ context.Context, host string) ([]netip.Addr, error) {
			names <- host
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		err := connect(t, c, "https://Example.com:8443/path", 8443, nil)
		assert.ErrorIs(t, err, ErrCantResolve)
		assert.Equal(t, statuses(StatusResolving, StatusCantResolve), *tr)
		assert.Equal(t, "Example.com:8443/path", <-names)
	})
}

// TestConnectToHostDefaultPortAndRoute checks §1.5.7 (a negative port is
// 443 with TLS, 80 without, after the prefix decided TLS) and §1.5.8 (the
// socket goes to the HTTPS proxy only for a TLS target, to the HTTP proxy
// only for a plain one, else to the target, as HTTPClientTCP::connect_to_host
// picks the server it connects to). The address the connect goes to is seen
// by the dial hook.
func TestConnectToHostDefaultPortAndRoute(t *testing.T) {
	const (
		httpProxy  = "127.0.0.2:3128"
		httpsProxy = "127.0.0.3:3129"
	)
	opts := TLSClient(nil, "")
	tests := []struct {
		name         string
		host         string
		port         int
		tls          *TLSOptions
		proxy, proxS bool // HTTP proxy set, HTTPS proxy set
		want         string
	}{
		{"plain-default-80", "127.0.0.1", -1, nil, false, false, "127.0.0.1:80"},
		{"tls-default-443", "127.0.0.1", -1, opts, false, false, "127.0.0.1:443"},
		{"https-prefix-default-443", "https://127.0.0.1", -1, nil, false, false, "127.0.0.1:443"},
		{"http-prefix-with-tls-default-80", "http://127.0.0.1", -1, opts, false, false, "127.0.0.1:80"},
		{"negative-port-other-than-1", "127.0.0.1", -7, opts, false, false, "127.0.0.1:443"},
		{"tls-target-ignores-http-proxy", "127.0.0.1", -1, opts, true, false, "127.0.0.1:443"},
		{"plain-target-ignores-https-proxy", "127.0.0.1", 8080, nil, false, true, "127.0.0.1:8080"},
		{"tls-target-https-proxy", "127.0.0.1", -1, opts, true, true, httpsProxy},
		{"plain-target-http-proxy", "127.0.0.1", -1, nil, true, true, httpProxy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newClient(t, false)
			addrs := make(chan string, 4)
			c.dialFn = func(_ context.Context, _, addr string) (net.Conn, error) {
				addrs <- addr
				return nil, errors.New("test: no connection")
			}
			if tt.proxy {
				h, p, _ := net.SplitHostPort(httpProxy)
				c.SetHTTPProxy(h, atoi(t, p))
			}
			if tt.proxS {
				h, p, _ := net.SplitHostPort(httpsProxy)
				c.SetHTTPSProxy(h, atoi(t, p))
			}
			err := connect(t, c, tt.host, tt.port, tt.tls)
			assert.ErrorIs(t, err, ErrCantConnect)
			select {
			case got := <-addrs:
				assert.Equal(t, tt.want, got)
			default:
				t.Fatal("no connect was attempted")
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// TestCloseKeepsSettings checks what §1.12 says close() keeps
// (HTTPClientTCP::close resets only the connection, the buffers and the
// response fields): blocking mode, read chunk size, proxies, and conn_host,
// conn_port and tls_options — a request on a stream installed after close()
// still names the old target, and a plain stream is still refused because
// the TLS options stayed (§1.13.1).
func TestCloseKeepsSettings(t *testing.T) {
	ca := ts.NewCA(t)
	srv := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.RespondEach(okResp))
	c, _ := newClient(t, true)
	require.NoError(t, c.SetReadChunkSize(1000))
	c.SetHTTPProxy("127.0.0.2", 3128)
	require.NoError(t, connect(t, c, "localhost", srv.Port(), TLSClient(ca.Pool(), "")))
	require.Equal(t, StatusConnected, c.Status())
	c.Close()
	assert.True(t, c.IsBlockingModeEnabled())
	assert.Equal(t, 1000, c.ReadChunkSize())
	assert.Nil(t, c.Connection())

	plain := dialTCP(t, srv.Host(), srv.Port())
	assert.ErrorIs(t, c.SetConnection(plain), ErrInvalidParameter, "tls_options kept")
	tc, err := tls.Dial("tcp", net.JoinHostPort(srv.Host(), strconv.Itoa(srv.Port())), &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = tc.Close() })
	require.NoError(t, c.SetConnection(tc))
	res := exchange(t, c, getRoot, pathChunks)
	assert.Equal(t, "ok", res.Body)
	c.Close()

	// The HTTP proxy is still set: a plain target goes to it.
	addrs := make(chan string, 1)
	c.dialFn = func(_ context.Context, _, addr string) (net.Conn, error) {
		addrs <- addr
		return nil, errors.New("test: no connection")
	}
	_ = connect(t, c, "127.0.0.1", 8080, nil)
	assert.Equal(t, "127.0.0.2:3128", <-addrs, "proxies kept")
	srv.Close()
	require.Len(t, srv.Requests(), 1)
	assert.Contains(t, string(srv.Requests()[0]), "\r\nHost: localhost:"+strconv.Itoa(srv.Port())+"\r\n", "conn_host, conn_port kept")
}

// TestRequestingFailureCloses checks that a failure in REQUESTING — the
// peer closing before the head came — is a close(): HTTPClientTCP::poll
// closes and sets CONNECTION_ERROR when the write fails (§1.6.4.1) and when
// a byte read fails (§1.6.4.2). close() resets the previous response, which request()
// had left readable (§1.7.13): code 0, no headers, body length −1, and
// get_connection() is null (§1.13.4).
func TestRequestingFailureCloses(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString(okResp), ts.Read(), ts.Close()))
			c, tr := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			res := exchange(t, c, getRoot, pathChunks)
			require.Equal(t, "ok", res.Body)
			require.NoError(t, c.Request(MethodGet, "/again", nil, ""))
			assert.Equal(t, 200, c.ResponseCode(), "§1.7.13: request() keeps the last response")
			assert.True(t, c.HasResponse())
			err := pollWhile(t, c, StatusRequesting)
			assert.ErrorIs(t, err, ErrConnectionError)
			assert.Equal(t, StatusConnectionError, c.Status())
			assert.Equal(t, StatusConnectionError, (*tr)[len(*tr)-1])
			assert.Equal(t, 0, c.ResponseCode(), "close() reset the code")
			assert.False(t, c.HasResponse(), "close() cleared the headers")
			assert.Nil(t, c.ResponseHeaders())
			assert.Equal(t, int64(-1), c.ResponseBodyLength())
			assert.Nil(t, c.Connection(), "close() dropped the stream")
		})
	}
}

// TestBodyReadErrorCloses checks §1.10.1.4 for a read error other than EOF
// (an RST met by the body read itself, not by poll()): HTTPClientTCP::
// read_response_body_chunk ends with "close(); … status =
// STATUS_CONNECTION_ERROR;", so the response fields are reset (code 0,
// body length −1) and get_connection() is null — unlike the liveness
// check of poll(), which does not close (§1.6.3). Blocking mode, so the
// read is waiting when the RST comes.
func TestBodyReadErrorCloses(t *testing.T) {
	ready := make(chan struct{})
	srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc"),
		ts.Sleep(20*time.Millisecond), resetAfter(ready)))
	c, tr := newClient(t, true)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	require.NoError(t, c.Poll())
	require.Equal(t, StatusBody, c.Status())
	require.Equal(t, 200, c.ResponseCode())
	close(ready)
	var got []byte
	for c.Status() == StatusBody {
		got = append(got, c.ReadResponseBodyChunk()...)
	}
	assert.Equal(t, StatusConnectionError, c.Status())
	assert.Equal(t, concat(connected, StatusBody, StatusConnectionError), *tr)
	assert.LessOrEqual(t, len(got), 3)
	assert.Equal(t, 0, c.ResponseCode(), "close() reset the code")
	assert.Equal(t, int64(-1), c.ResponseBodyLength())
	assert.Nil(t, c.Connection(), "close() dropped the stream")
}

// TestResponseFlagsPerRequest checks, on one kept-alive connection, that the
// HEAD flag is set by each request (§1.7.12, HTTPClientTCP::request) and
// that the head parse resets the chunked flag and the body size for each
// response (§1.8.1), so is_response_chunked() and
// get_response_body_length() describe the last response (§1.11.5–6): a GET
// after a HEAD reads its Content-Length body, a HEAD after a GET has
// length 0, and a plain response after a chunked one is not chunked.
func TestResponseFlagsPerRequest(t *testing.T) {
	responses := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",                               // HEAD
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",                          // GET
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", // GET
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",                               // HEAD
		"HTTP/1.1 200 OK\r\nX: 1\r\n\r\n",                                            // GET, no framing
	}
	reqs := []request{{MethodHead, "/", nil, ""}, getRoot, getRoot, {MethodHead, "/", nil, ""}, getRoot}
	want := []struct {
		length  int64
		chunked bool
		body    string
	}{{0, false, ""}, {5, false, "hello"}, {-1, true, "abc"}, {0, false, ""}, {-1, false, ""}}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			steps := []ts.Step{}
			for _, r := range responses {
				steps = append(steps, ts.Read(), ts.WriteString(r))
			}
			srv := ts.New(t, ts.Script(append(steps, ts.Hold())...))
			c, _ := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			for i, req := range reqs {
				res := exchange(t, c, req, pathChunks)
				assert.Equal(t, want[i].length, res.BodyLen, "response %d: body length", i)
				assert.Equal(t, want[i].chunked, res.Chunked, "response %d: chunked", i)
				assert.Equal(t, want[i].body, res.Body, "response %d: body", i)
				require.Equal(t, StatusConnected, res.Final, "response %d", i)
			}
		})
	}
}

// TestReadOutsideBodyChangesNothing checks §1.10 and §1.18 in statuses
// other than a fresh DISCONNECTED: read_response_body_chunk returns an
// empty array at once outside BODY, so in
// CONNECTED after a response without framing (§1.9) it returns an empty
// array, changes no status and reads none of the bytes the server sent
// after the head: they are still there for the next response's head
// (§1.6.4.3).
func TestReadOutsideBodyChangesNothing(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString("HTTP/1.1 200 OK\r\nX: 1\r\n\r\nHTTP/1.1 404 Stale\r\nContent-Length: 0\r\n\r\n"), ts.Read(), ts.Hold()))
			c, tr := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			require.NoError(t, c.Request(MethodGet, "/", nil, ""))
			_ = pollWhile(t, c, StatusRequesting)
			require.Equal(t, StatusConnected, c.Status())
			n := len(*tr)
			time.Sleep(20 * time.Millisecond) // the stale bytes have arrived
			for range 3 {
				assert.Empty(t, c.ReadResponseBodyChunk())
			}
			assert.Equal(t, StatusConnected, c.Status())
			assert.Len(t, *tr, n, "no status change")
			assert.Equal(t, 200, c.ResponseCode())
			// The next request's response is the stale one.
			require.NoError(t, c.Request(MethodGet, "/next", nil, ""))
			_ = pollWhile(t, c, StatusRequesting)
			assert.Equal(t, 404, c.ResponseCode())
		})
	}
}

// TestConnectToHostNamePortRange checks the second half of §1.5.7 for a host
// name: connect_to_host does not check the port; the resolved addresses go
// to StreamPeerTCP::connect_to_host in poll(), which refuses a port outside
// 1…65535 with ERR_INVALID_PARAMETER, so every start fails and the status
// goes from RESOLVING to CANT_CONNECT with that error (§1.6.1.2).
func TestConnectToHostNamePortRange(t *testing.T) {
	for _, port := range []int{0, 65536, 70000} {
		t.Run(strconv.Itoa(port), func(t *testing.T) {
			c, tr := newClient(t, false)
			c.lookup = func(context.Context, string) ([]netip.Addr, error) {
				return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")}, nil
			}
			err := connect(t, c, "name.example", port, nil)
			assert.ErrorIs(t, err, ErrInvalidParameter)
			assert.Equal(t, statuses(StatusResolving, StatusCantConnect), *tr)
			// Then the status's error (§1.6: CANT_CONNECT → ERR_CANT_CONNECT),
			// still wrapping the cause of the failure (terminalErr).
			require.NotNil(t, c.cause)
			perr := c.Poll()
			assert.ErrorIs(t, perr, ErrCantConnect, "then the status's error")
			assert.ErrorIs(t, perr, c.cause, "the cause is kept")
		})
	}
}

// TestConnectToHostServerTLSAfterPrefix checks the order of §1.5.3 and
// §1.5.4: the server-mode check looks at the options the prefix left ("http://"
// drops them before the check runs), so "http://" with
// server options connects in plain, while "https://" keeps the given
// options and is refused.
func TestConnectToHostServerTLSAfterPrefix(t *testing.T) {
	ca := ts.NewCA(t)
	srv := ts.New(t, ts.RespondEach(okResp))
	server := TLSServer(ca.Issue(t, "localhost"))

	c, _ := newClient(t, false)
	require.NoError(t, connect(t, c, "http://"+srv.Host(), srv.Port(), server))
	assert.Equal(t, StatusConnected, c.Status())
	res := exchange(t, c, getRoot, pathChunks)
	assert.Equal(t, "ok", res.Body)

	c2, tr := newClient(t, false)
	assert.ErrorIs(t, c2.ConnectToHost("https://"+srv.Host(), srv.Port(), server), ErrInvalidParameter)
	assert.Equal(t, StatusDisconnected, c2.Status())
	assert.Empty(t, *tr)
}
