package httpclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// traceLog records the httptrace hooks a request calls, in order.
type traceLog struct {
	mu     sync.Mutex
	events []string
	got    []httptrace.GotConnInfo
	put    []error
}

func (l *traceLog) add(e string) { l.mu.Lock(); l.events = append(l.events, e); l.mu.Unlock() }

func (l *traceLog) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(string) { l.add("GetConn") },
		GotConn: func(i httptrace.GotConnInfo) {
			l.mu.Lock()
			l.got = append(l.got, i)
			l.mu.Unlock()
			l.add("GotConn")
		},
		WroteHeaders:         func() { l.add("WroteHeaders") },
		WroteRequest:         func(i httptrace.WroteRequestInfo) { l.add("WroteRequest") },
		GotFirstResponseByte: func() { l.add("GotFirstResponseByte") },
		PutIdleConn: func(err error) {
			l.mu.Lock()
			l.put = append(l.put, err)
			l.mu.Unlock()
			l.add("PutIdleConn")
		},
	}
}

// TestTransportHTTPTrace: the Transport calls a request's httptrace hooks
// as net/http's does — GetConn, GotConn (Reused and WasIdle on the second
// request over the kept connection, Conn the connection), WroteHeaders and
// WroteRequest once the request is written, GotFirstResponseByte, and
// PutIdleConn(nil) when the connection goes back to the pool; with keep
// alives off, PutIdleConn gets the reason. None was called.
func TestTransportHTTPTrace(t *testing.T) {
	s := newTransportServer(t, echoHandler)
	tr := newTransport(t)
	want := []string{"GetConn", "GotConn", "WroteHeaders", "WroteRequest", "GotFirstResponseByte", "PutIdleConn"}
	var logs []*traceLog
	for i, body := range []string{"", "posted"} {
		l := &traceLog{}
		logs = append(logs, l)
		ctx := httptrace.WithClientTrace(context.Background(), l.trace())
		method := http.MethodGet
		var rd io.Reader
		if body != "" {
			method, rd = http.MethodPost, strings.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, s.URL, rd)
		require.NoError(t, err)
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err, i)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, body, string(b))
		assert.Equal(t, want, l.events, "request %d", i)
		require.Len(t, l.got, 1)
		assert.NotNil(t, l.got[0].Conn)
		assert.Equal(t, []error{nil}, l.put)
	}
	assert.False(t, logs[0].got[0].Reused)
	assert.False(t, logs[0].got[0].WasIdle)
	assert.True(t, logs[1].got[0].Reused, "the second request reuses the connection")
	assert.True(t, logs[1].got[0].WasIdle)
	assert.Equal(t, logs[0].got[0].Conn, logs[1].got[0].Conn)

	off := newTransport(t)
	off.MaxIdleConnsPerHost = -1
	l := &traceLog{}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), l.trace()), http.MethodGet, s.URL, nil)
	require.NoError(t, err)
	resp, err := off.RoundTrip(req)
	require.NoError(t, err)
	_, _ = io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, []error{errKeepAlivesDisabled}, l.put)
}

// TestTransportHTTPTraceWriteFails: a request whose body fails to read
// calls WroteRequest with the error, and no GotFirstResponseByte nor
// PutIdleConn, as net/http's.
func TestTransportHTTPTraceWriteFails(t *testing.T) {
	s := newTransportServer(t, echoHandler)
	var mu sync.Mutex
	var wrote []error
	var after []string
	trace := &httptrace.ClientTrace{
		WroteRequest:         func(i httptrace.WroteRequestInfo) { mu.Lock(); wrote = append(wrote, i.Err); mu.Unlock() },
		GotFirstResponseByte: func() { mu.Lock(); after = append(after, "GotFirstResponseByte"); mu.Unlock() },
		PutIdleConn:          func(error) { mu.Lock(); after = append(after, "PutIdleConn"); mu.Unlock() },
	}
	boom := errors.New("boom")
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodPost, s.URL,
		io.MultiReader(strings.NewReader("part"), iotest.ErrReader(boom)))
	require.NoError(t, err)
	_, err = newTransport(t).RoundTrip(req)
	require.ErrorIs(t, err, boom)
	require.Len(t, wrote, 1)
	assert.ErrorIs(t, wrote[0], boom)
	assert.Empty(t, after)
}

// TestTransportHTTPTraceDNSAndTLS: a new connection to a name calls
// DNSStart and DNSDone (with the addresses) before the connect, and over
// https TLSHandshakeStart and TLSHandshakeDone (the handshake's state)
// before GotConn; a pooled connection calls neither again. An untrusted
// certificate gives TLSHandshakeDone its error.
func TestTransportHTTPTraceDNSAndTLS(t *testing.T) {
	s := httptest.NewTLSServer(http.HandlerFunc(echoHandler))
	defer s.Close()
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	_, port, err := net.SplitHostPort(s.Listener.Addr().String())
	require.NoError(t, err)
	u := "https://localhost:" + port + "/"

	var mu sync.Mutex
	var events []string
	var dns httptrace.DNSDoneInfo
	var hs []error
	var state tls.ConnectionState
	add := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
	trace := &httptrace.ClientTrace{
		GetConn:  func(string) { add("GetConn") },
		DNSStart: func(i httptrace.DNSStartInfo) { add("DNSStart " + i.Host) },
		DNSDone: func(i httptrace.DNSDoneInfo) {
			mu.Lock()
			dns = i
			mu.Unlock()
			add("DNSDone")
		},
		TLSHandshakeStart: func() { add("TLSHandshakeStart") },
		TLSHandshakeDone: func(cs tls.ConnectionState, err error) {
			mu.Lock()
			state, hs = cs, append(hs, err)
			mu.Unlock()
			add("TLSHandshakeDone")
		},
		GotConn: func(httptrace.GotConnInfo) { add("GotConn") },
	}
	tr := newTransport(t)
	tr.TLS = TLSClient(pool, "example.com")
	for range 2 {
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, u, nil)
		require.NoError(t, err)
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		_, _ = io.ReadAll(resp.Body)
		require.NoError(t, resp.Body.Close())
	}
	mu.Lock()
	assert.Equal(t, []string{"GetConn", "DNSStart localhost", "DNSDone", "TLSHandshakeStart", "TLSHandshakeDone", "GotConn", "GetConn", "GotConn"}, events)
	assert.NoError(t, dns.Err)
	assert.NotEmpty(t, dns.Addrs)
	assert.Equal(t, []error{nil}, hs)
	assert.True(t, state.HandshakeComplete)
	events, hs = nil, nil
	mu.Unlock()

	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, u, nil)
	require.NoError(t, err)
	_, err = newTransport(t).RoundTrip(req) // the system roots: untrusted
	require.Error(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, hs, 1)
	assert.Error(t, hs[0])
	assert.NotContains(t, events, "GotConn")
}

// TestTransportHTTPTraceConnect: each TCP connect of a new connection calls
// ConnectStart and ConnectDone with its address, whether the connect goes
// to an IP literal or to each address of a resolved name in turn, and a
// refused connect gives ConnectDone its error; a pooled connection calls
// neither.
func TestTransportHTTPTraceConnect(t *testing.T) {
	s := newTransportServer(t, echoHandler)
	_, port, err := net.SplitHostPort(s.Listener.Addr().String())
	require.NoError(t, err)
	type connect struct {
		start bool
		addr  string
		err   error
	}
	run := func(t *testing.T, tr *Transport, u string, n int) ([]connect, error) {
		var mu sync.Mutex
		var got []connect
		trace := &httptrace.ClientTrace{
			ConnectStart: func(network, addr string) {
				assert.Equal(t, "tcp", network)
				mu.Lock()
				got = append(got, connect{true, addr, nil})
				mu.Unlock()
			},
			ConnectDone: func(network, addr string, err error) {
				mu.Lock()
				got = append(got, connect{false, addr, err})
				mu.Unlock()
			},
		}
		var err error
		for range n {
			req, rerr := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, u, nil)
			require.NoError(t, rerr)
			var resp *http.Response
			if resp, err = tr.RoundTrip(req); err == nil {
				_, _ = io.ReadAll(resp.Body)
				require.NoError(t, resp.Body.Close())
			}
		}
		mu.Lock()
		defer mu.Unlock()
		return got, err
	}
	t.Run("literal", func(t *testing.T) {
		got, err := run(t, newTransport(t), s.URL, 2)
		require.NoError(t, err)
		addr := s.Listener.Addr().String()
		assert.Equal(t, []connect{{true, addr, nil}, {false, addr, nil}}, got)
	})
	t.Run("name", func(t *testing.T) {
		got, err := run(t, newTransport(t), "http://localhost:"+port+"/", 1)
		require.NoError(t, err)
		require.NotEmpty(t, got)
		require.Zero(t, len(got)%2)
		for i := 0; i < len(got); i += 2 {
			assert.True(t, got[i].start)
			assert.False(t, got[i+1].start)
			assert.Equal(t, got[i].addr, got[i+1].addr)
		}
		last := got[len(got)-1]
		assert.NoError(t, last.err)
		assert.Equal(t, "127.0.0.1:"+port, last.addr)
	})
	t.Run("refused", func(t *testing.T) {
		addr := "127.0.0.1:" + strconv.Itoa(ts.ClosedPort(t))
		got, err := run(t, newTransport(t), "http://"+addr+"/", 1)
		require.Error(t, err)
		require.Len(t, got, 2)
		assert.Equal(t, connect{true, addr, nil}, got[0])
		assert.Equal(t, addr, got[1].addr)
		assert.Error(t, got[1].err)
	})
}
