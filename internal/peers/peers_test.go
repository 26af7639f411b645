package peers_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/peers"
)

// These tests check, with net/http as the client, that each real peer
// started by scripts/peers.sh answers as scripts/peers/README.md says. Each
// skips when its variable is unset.

// newClient returns a client that does not follow redirects and whose idle
// connections are closed at the end of the test.
func newClient(t *testing.T, tr *http.Transport) *http.Client {
	t.Helper()
	if tr == nil {
		tr = &http.Transport{}
	}
	tr.Proxy = nil
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// fetch performs one request and returns the response with its whole body.
func fetch(t *testing.T, c *http.Client, method, u string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// sums reads the generated tree's SHA256SUMS file from the server.
func sums(t *testing.T, c *http.Client, base string) map[string]string {
	t.Helper()
	resp, body := fetch(t, c, http.MethodGet, base+"/static/SHA256SUMS", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		require.Len(t, f, 2, "SHA256SUMS line %q", sc.Text())
		m[f[1]] = f[0]
	}
	require.Contains(t, m, "1k.bin")
	return m
}

// nginxCase is one request to nginx and what must come back.
type nginxCase struct {
	name, method, path string
	hdr                map[string]string
	status             int
	length             int64  // Content-Length; -1 for none
	framing            string // "length", "chunked" or "eof" (no length, connection closes)
	closes             bool   // Connection: close
	body               string // exact body, when not ""
	file               string // body is this generated file (checked against SHA256SUMS)
	gzip               bool   // Content-Encoding: gzip; file is checked after decompression
	location           string // exact Location, when not ""; {base} is the server's base URL
	trailer            map[string]string
	contentType        string
}

func nginxCases() []nginxCase {
	return []nginxCase{
		{name: "health", path: "/health", status: 200, length: 3, framing: "length", body: "ok\n"},
		{name: "static 1 KiB", path: "/static/1k.bin", status: 200, length: 1024, framing: "length", file: "1k.bin"},
		{name: "static 1 MiB", path: "/static/1m.bin", status: 200, length: 1 << 20, framing: "length", file: "1m.bin"},
		{name: "static empty", path: "/static/empty.txt", status: 200, length: 0, framing: "length", file: "empty.txt"},
		{name: "static PNG", path: "/static/image.png", status: 200, length: -2, framing: "length", file: "image.png", contentType: "image/png"},
		{name: "HEAD", method: http.MethodHead, path: "/static/1m.bin", status: 200, length: 1 << 20, framing: "length"},
		{name: "missing file", path: "/static/nope", status: 404, length: -2, framing: "length"},
		{name: "gzip text", path: "/static/text.txt", hdr: map[string]string{"Accept-Encoding": "gzip"},
			status: 200, length: -1, framing: "chunked", file: "text.txt", gzip: true},
		{name: "gzip html", path: "/static/page.html", hdr: map[string]string{"Accept-Encoding": "gzip"},
			status: 200, length: -1, framing: "chunked", file: "page.html", gzip: true},
		{name: "no gzip for binary", path: "/static/1k.bin", hdr: map[string]string{"Accept-Encoding": "gzip"},
			status: 200, length: 1024, framing: "length", file: "1k.bin"},
		{name: "chunked 1 MiB", path: "/chunked/1m.bin", status: 200, length: -1, framing: "chunked", file: "1m.bin"},
		{name: "chunked with trailers", path: "/chunked-trailer/1k.bin", status: 200, length: -1, framing: "chunked",
			file: "1k.bin", trailer: map[string]string{"X-Gdhttp-Trailer": "done", "X-Gdhttp-Trailer-2": "also"}},
		{name: "until EOF", path: "/eof/1m.bin", status: 200, length: -1, framing: "eof", closes: true, file: "1m.bin"},
		{name: "length then close", path: "/close/1k.bin", status: 200, length: 1024, framing: "length", closes: true, file: "1k.bin"},
		{name: "method GET", path: "/method?a=1", status: 200, length: -2, framing: "length", body: "GET /method?a=1\n"},
		{name: "method POST", method: http.MethodPost, path: "/method", status: 200, length: -2, framing: "length", body: "POST /method\n"},
		{name: "301", path: "/redirect/301", status: 301, length: -2, framing: "length", location: "{base}/method"},
		{name: "302", path: "/redirect/302", status: 302, length: -2, framing: "length", location: "{base}/method"},
		{name: "303", path: "/redirect/303", status: 303, length: -2, framing: "length", location: "{base}/method"},
		{name: "307", path: "/redirect/307", status: 307, length: -2, framing: "length", location: "{base}/method"},
		{name: "308", path: "/redirect/308", status: 308, length: -2, framing: "length", location: "{base}/method"},
		{name: "redirect target", path: "/redirect/302?to=/static/1k.bin", status: 302, length: -2, framing: "length",
			location: "{base}/static/1k.bin"},
		{name: "relative redirect", path: "/redirect/relative", status: 302, length: -2, framing: "length", location: "/method"},
		{name: "redirect loop", path: "/redirect/loop", status: 302, length: -2, framing: "length", location: "{base}/redirect/loop"},
		{name: "redirect chain", path: "/redirect/chain/3", status: 302, length: -2, framing: "length", location: "{base}/redirect/chain/2"},
		{name: "redirect chain end", path: "/redirect/chain/1", status: 302, length: -2, framing: "length", location: "{base}/static/1k.bin"},
		{name: "204", path: "/status/204", status: 204, length: -2, framing: "length", body: ""},
		{name: "503", path: "/status/503", status: 503, length: -2, framing: "length", body: "status 503\n"},
	}
}

// checkNginx runs every nginxCase against base ("http://127.0.0.1:18080").
func checkNginx(t *testing.T, c *http.Client, base string) {
	want := sums(t, c, base)
	for _, tc := range nginxCases() {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			resp, body := fetch(t, c, method, base+tc.path, tc.hdr)
			assert.Equal(t, tc.status, resp.StatusCode)
			if tc.length != -2 {
				assert.Equal(t, tc.length, resp.ContentLength, "Content-Length")
			}
			switch tc.framing {
			case "length":
				assert.Empty(t, resp.TransferEncoding)
			case "chunked":
				assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
			case "eof":
				assert.Empty(t, resp.TransferEncoding)
				assert.Empty(t, resp.Header.Get("Content-Length"))
			}
			assert.Equal(t, tc.closes, resp.Close, "Connection: close")
			if tc.body != "" || tc.status == http.StatusNoContent {
				assert.Equal(t, tc.body, string(body))
			}
			if tc.gzip {
				assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
				zr, err := gzip.NewReader(bytes.NewReader(body))
				require.NoError(t, err)
				body, err = io.ReadAll(zr)
				require.NoError(t, err)
			} else {
				assert.Empty(t, resp.Header.Get("Content-Encoding"))
			}
			if tc.file != "" {
				require.Contains(t, want, tc.file)
				assert.Equal(t, want[tc.file], drive.SHA256(body), "body of %s", tc.file)
			}
			if tc.location != "" {
				assert.Equal(t, strings.ReplaceAll(tc.location, "{base}", base), resp.Header.Get("Location"))
			}
			for k, v := range tc.trailer {
				assert.Equal(t, v, resp.Trailer.Get(k), "trailer %s", k)
			}
			if tc.contentType != "" {
				assert.Equal(t, tc.contentType, resp.Header.Get("Content-Type"))
			}
		})
	}

	t.Run("keep-alive", func(t *testing.T) {
		var reused []bool
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}
		for range 3 {
			req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace),
				http.MethodGet, base+"/static/1k.bin", nil)
			require.NoError(t, err)
			resp, err := c.Do(req)
			require.NoError(t, err)
			_, err = io.Copy(io.Discard, resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.False(t, resp.Close)
		}
		require.Len(t, reused, 3)
		assert.Equal(t, []bool{true, true}, reused[1:], "the 2nd and 3rd request reuse the connection")
	})

	t.Run("static 64 MiB", func(t *testing.T) {
		if testing.Short() {
			t.Skip("64 MiB download skipped in -short mode")
		}
		resp, body := fetch(t, c, http.MethodGet, base+"/static/64m.bin", nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, int64(64<<20), resp.ContentLength)
		assert.Equal(t, want["64m.bin"], drive.SHA256(body))
	})
}

func TestNginx(t *testing.T) {
	addr := peers.Nginx(t)
	checkNginx(t, newClient(t, nil), "http://"+addr)
}

func TestNginx6(t *testing.T) {
	addr := peers.Nginx6(t)
	require.True(t, strings.HasPrefix(addr, "[::1]:"), addr)
	resp, body := fetch(t, newClient(t, nil), http.MethodGet, "http://"+addr+"/health", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok\n", string(body))
}

func TestNginxTLS(t *testing.T) {
	addr, roots := peers.NginxTLS(t)
	c := newClient(t, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}})

	t.Run("verified handshake", func(t *testing.T) {
		resp, body := fetch(t, c, http.MethodGet, "https://"+addr+"/health", nil)
		assert.Equal(t, "ok\n", string(body))
		require.NotNil(t, resp.TLS)
		assert.NotEmpty(t, resp.TLS.VerifiedChains)
		assert.Equal(t, "HTTP/1.1", resp.Proto, "nginx must not offer h2: Godot speaks HTTP/1.1")
	})

	t.Run("certificate names localhost", func(t *testing.T) {
		_, port, err := net.SplitHostPort(addr)
		require.NoError(t, err)
		resp, body := fetch(t, c, http.MethodGet, "https://localhost:"+port+"/health", nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "ok\n", string(body))
	})

	t.Run("unknown authority without the CA", func(t *testing.T) {
		bare := newClient(t, nil)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+addr+"/health", nil)
		require.NoError(t, err)
		resp, err := bare.Do(req)
		if resp != nil {
			_ = resp.Body.Close()
		}
		var ua x509.UnknownAuthorityError
		assert.True(t, errors.As(err, &ua), "want x509.UnknownAuthorityError, got %v", err)
	})

	t.Run("same endpoints as plain", func(t *testing.T) {
		checkNginx(t, c, "https://"+addr)
	})
}

func TestHTTPBin(t *testing.T) {
	addr := peers.HTTPBin(t)
	base := "http://" + addr
	c := newClient(t, nil)

	t.Run("get echoes the request", func(t *testing.T) {
		resp, body := fetch(t, c, http.MethodGet, base+"/get?x=1", map[string]string{"X-Probe": "p"})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var got struct {
			URL     string            `json:"url"`
			Args    map[string]string `json:"args"`
			Headers map[string]string `json:"headers"`
		}
		require.NoError(t, json.Unmarshal(body, &got), string(body))
		assert.Equal(t, base+"/get?x=1", got.URL)
		assert.Equal(t, "1", got.Args["x"])
		assert.Equal(t, "p", got.Headers["X-Probe"])
	})

	t.Run("stream is chunked", func(t *testing.T) {
		resp, body := fetch(t, c, http.MethodGet, base+"/stream/3", nil)
		assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
		assert.Equal(t, 3, bytes.Count(body, []byte("\n")), string(body))
	})

	t.Run("status code", func(t *testing.T) {
		resp, _ := fetch(t, c, http.MethodGet, base+"/status/418", nil)
		assert.Equal(t, 418, resp.StatusCode)
	})

	t.Run("gzip", func(t *testing.T) {
		resp, body := fetch(t, c, http.MethodGet, base+"/gzip", map[string]string{"Accept-Encoding": "gzip"})
		assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
		zr, err := gzip.NewReader(bytes.NewReader(body))
		require.NoError(t, err)
		plain, err := io.ReadAll(zr)
		require.NoError(t, err)
		var got struct {
			Gzipped bool `json:"gzipped"`
		}
		require.NoError(t, json.Unmarshal(plain, &got), string(plain))
		assert.True(t, got.Gzipped)
	})

	t.Run("redirect", func(t *testing.T) {
		resp, _ := fetch(t, c, http.MethodGet, base+"/redirect/2", nil)
		assert.Equal(t, http.StatusFound, resp.StatusCode)
		assert.Equal(t, "/relative-redirect/1", resp.Header.Get("Location"))
	})

	t.Run("through nginx", func(t *testing.T) {
		n := peers.Nginx(t)
		resp, body := fetch(t, c, http.MethodGet, "http://"+n+"/httpbin/stream/2", nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
		assert.Equal(t, 2, bytes.Count(body, []byte("\n")), string(body))
	})
}

// target starts a loopback server (TLS when secure) that answers "target".
func target(t *testing.T, secure bool) *httptest.Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Target", "yes")
		_, _ = io.WriteString(w, "target")
	})
	var s *httptest.Server
	if secure {
		s = httptest.NewTLSServer(h)
	} else {
		s = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

// viaProxy returns a client that sends everything through proxy and
// records the status of each CONNECT response.
func viaProxy(t *testing.T, proxy string, roots *x509.CertPool, connects *[]int) *http.Client {
	t.Helper()
	c := newClient(t, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}})
	tr := c.Transport.(*http.Transport)
	tr.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: proxy})
	tr.OnProxyConnectResponse = func(_ context.Context, _ *url.URL, _ *http.Request, r *http.Response) error {
		*connects = append(*connects, r.StatusCode)
		return nil
	}
	return c
}

func rootsOf(s *httptest.Server) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.Certificate())
	return p
}

func TestProxy(t *testing.T) {
	proxy := peers.Proxy(t)

	t.Run("forward", func(t *testing.T) {
		var connects []int
		srv := target(t, false)
		resp, body := fetch(t, viaProxy(t, proxy, nil, &connects), http.MethodGet, srv.URL+"/x", nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "target", string(body))
		assert.Contains(t, resp.Header.Get("Via"), "gdhttp-peers", "the response came through tinyproxy")
		assert.Empty(t, connects)
	})

	t.Run("CONNECT to an ephemeral port", func(t *testing.T) {
		var connects []int
		srv := target(t, true)
		resp, body := fetch(t, viaProxy(t, proxy, rootsOf(srv), &connects), http.MethodGet, srv.URL, nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "target", string(body))
		assert.Equal(t, []int{200}, connects)
	})

	t.Run("CONNECT to nginx TLS", func(t *testing.T) {
		addr, roots := peers.NginxTLS(t)
		var connects []int
		resp, body := fetch(t, viaProxy(t, proxy, roots, &connects), http.MethodGet, "https://"+addr+"/health", nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "ok\n", string(body))
		assert.Equal(t, []int{200}, connects)
	})
}

func TestProxyStrict(t *testing.T) {
	proxy := peers.ProxyStrict(t)

	t.Run("CONNECT to another port is refused", func(t *testing.T) {
		var connects []int
		srv := target(t, true)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
		require.NoError(t, err)
		resp, err := viaProxy(t, proxy, rootsOf(srv), &connects).Do(req)
		if resp != nil {
			_ = resp.Body.Close()
		}
		require.Error(t, err, "net/http fails a request whose CONNECT is refused")
		assert.Equal(t, []int{403}, connects)
	})

	t.Run("forward is allowed", func(t *testing.T) {
		var connects []int
		srv := target(t, false)
		resp, body := fetch(t, viaProxy(t, proxy, nil, &connects), http.MethodGet, srv.URL, nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "target", string(body))
	})

	t.Run("CONNECT to nginx TLS is allowed", func(t *testing.T) {
		addr, roots := peers.NginxTLS(t)
		var connects []int
		resp, body := fetch(t, viaProxy(t, proxy, roots, &connects), http.MethodGet, "https://"+addr+"/health", nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "ok\n", string(body))
		assert.Equal(t, []int{200}, connects)
	})
}

func TestCurl(t *testing.T) {
	curl := peers.Curl(t)
	run := func(t *testing.T, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, curl, args...).CombinedOutput()
		require.NoError(t, err, string(out))
		return string(out)
	}

	t.Run("version", func(t *testing.T) {
		out := run(t, "--version")
		assert.True(t, strings.HasPrefix(out, "curl "), out)
		assert.Contains(t, out, "https", "curl must speak TLS")
	})

	t.Run("fetches from a loopback server", func(t *testing.T) {
		srv := target(t, false)
		out := run(t, "-sS", "--noproxy", "*", "--max-time", "10", "-D", "-", srv.URL)
		assert.True(t, strings.HasPrefix(out, "HTTP/1.1 200 OK\r\n"), out)
		assert.Contains(t, out, "X-Target: yes\r\n")
		assert.True(t, strings.HasSuffix(out, "\r\n\r\ntarget"), out)
	})
}

func TestProxyAuth(t *testing.T) {
	proxy, user, pass := peers.ProxyAuth(t)
	withUser := func(t *testing.T, u *url.Userinfo, roots *x509.CertPool, connects *[]int) *http.Client {
		c := viaProxy(t, proxy, roots, connects)
		c.Transport.(*http.Transport).Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: proxy, User: u})
		return c
	}

	t.Run("forward with credentials", func(t *testing.T) {
		var connects []int
		srv := target(t, false)
		resp, body := fetch(t, withUser(t, url.UserPassword(user, pass), nil, &connects), http.MethodGet, srv.URL+"/x", nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "target", string(body))
		assert.Contains(t, resp.Header.Get("Via"), "gdhttp-peers")
	})

	t.Run("forward without credentials: 407", func(t *testing.T) {
		var connects []int
		srv := target(t, false)
		resp, _ := fetch(t, viaProxy(t, proxy, nil, &connects), http.MethodGet, srv.URL+"/x", nil)
		assert.Equal(t, http.StatusProxyAuthRequired, resp.StatusCode)
		assert.Equal(t, `Basic realm="Tinyproxy"`, resp.Header.Get("Proxy-Authenticate"))
	})

	t.Run("CONNECT with credentials", func(t *testing.T) {
		var connects []int
		srv := target(t, true)
		resp, body := fetch(t, withUser(t, url.UserPassword(user, pass), rootsOf(srv), &connects), http.MethodGet, srv.URL, nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "target", string(body))
		assert.Equal(t, []int{200}, connects)
	})

	t.Run("CONNECT with a wrong password: 401", func(t *testing.T) {
		var connects []int
		srv := target(t, true)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
		require.NoError(t, err)
		resp, err := withUser(t, url.UserPassword(user, "wrong"), rootsOf(srv), &connects).Do(req)
		if resp != nil {
			_ = resp.Body.Close()
		}
		require.Error(t, err)
		assert.Equal(t, []int{401}, connects, "tinyproxy 1.11 answers a wrong password with 401")
	})
}
