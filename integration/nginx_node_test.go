package integration

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/peers"
	"github.com/gdhttp/gdhttp/wire"
)

// More of the node against nginx (ranges, conditional requests, download
// files, progress, httpbin behind nginx) and against httpbin through
// tinyproxy, in the three drivers of §7.3.

// TestRequestNginxRange: a user Range header (§1.7.9). nginx answers 206
// with exactly those bytes (RESULT_SUCCESS, §2.10), several ranges as
// multipart/byteranges, an unsatisfiable one as 416 with nginx's page. On a
// text file the node's own "Accept-Encoding: gzip, deflate" (§2.4.6) makes
// nginx compress, and nginx serves no ranges of a compressed answer: the
// whole file comes, decoded (a Godot game asking for a range of a text file
// gets all of it); with accept_gzip off the range comes.
func TestRequestNginxRange(t *testing.T) {
	addr := peers.Nginx(t)
	fs := nginxFiles(t)
	base := "http://" + addr
	bin, err := os.ReadFile(filepath.Join(fs.dir, "1m.bin"))
	require.NoError(t, err)
	small, err := os.ReadFile(filepath.Join(fs.dir, "1k.bin"))
	require.NoError(t, err)
	text, err := os.ReadFile(filepath.Join(fs.dir, "text.txt"))
	require.NoError(t, err)
	partial := func(cr string, length int) want {
		return want{result: httprequest.ResultSuccess, code: 206, headers: []string{"Content-Range: " + cr, "Content-Length: " + strconv.Itoa(length)}}
	}
	cases := []nodeCase{
		{name: "bytes=1000-1999", url: base + "/static/1m.bin", headers: []string{"Range: bytes=1000-1999"}, want: partial("bytes 1000-1999/1048576", 1000),
			exact: str(string(bin[1000:2000])), check: sizes(1000, 1000)},
		{name: "suffix", url: base + "/static/1m.bin", headers: []string{"Range: bytes=-100"}, want: partial("bytes 1048476-1048575/1048576", 100),
			exact: str(string(bin[len(bin)-100:]))},
		{name: "open-ended", url: base + "/static/1k.bin", headers: []string{"Range: bytes=1000-"}, want: partial("bytes 1000-1023/1024", 24),
			exact: str(string(small[1000:1024]))},
		{name: "multipart", url: base + "/static/1m.bin", headers: []string{"Range: bytes=0-9,100-109"},
			want: want{result: httprequest.ResultSuccess, code: 206},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				ct, _ := headerValue(o.C.Headers, "Content-Type")
				assert.True(t, strings.HasPrefix(ct, "multipart/byteranges; boundary="), ct)
				body := string(o.C.Body)
				assert.Contains(t, body, "Content-Range: bytes 0-9/1048576")
				assert.Contains(t, body, string(bin[0:10]))
				assert.Contains(t, body, string(bin[100:110]))
			}},
		{name: "416", url: base + "/static/1k.bin", headers: []string{"Range: bytes=5000-"},
			want: want{result: httprequest.ResultSuccess, code: 416, headers: []string{"Content-Range: bytes */1024"}},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Contains(t, string(o.C.Body), "416 Requested Range Not Satisfiable")
			}},
		{name: "§2.4.6 gzip answers ignore the range", url: base + "/static/text.txt", headers: []string{"Range: bytes=100-199"},
			want: want{result: httprequest.ResultSuccess, code: 200, headers: []string{"Content-Encoding: gzip"}}, file: "text.txt"},
		{name: "§2.4.6 accept_gzip off: the range", url: base + "/static/text.txt", headers: []string{"Range: bytes=100-199"}, setup: withoutGzip,
			want: partial("bytes 100-199/"+strconv.Itoa(len(text)), 100), exact: str(string(text[100:200]))},
	}
	runNodeCases(t, fs, cases)
}

// TestRequestNginxConditional: conditional requests with the user's
// headers. A matching If-None-Match or If-Modified-Since gives nginx's 304,
// which has no framing: RESULT_SUCCESS, code 304, no body, BodySize -1 (§1.9,
// §2.6, §2.9.7); a stale validator gives the file.
func TestRequestNginxConditional(t *testing.T) {
	addr := peers.Nginx(t)
	fs := nginxFiles(t)
	url := "http://" + addr + "/static/1m.bin"
	resp, _ := refFetch(t, url)
	etag := resp.Header.Get("ETag")
	lastMod := resp.Header.Get("Last-Modified")
	require.NotEmpty(t, etag)
	require.NotEmpty(t, lastMod)
	notModified := want{result: httprequest.ResultSuccess, code: 304, headers: []string{"ETag: " + etag}, noBody: true}
	cases := []nodeCase{
		{name: "If-None-Match", url: url, headers: []string{"If-None-Match: " + etag}, want: notModified, check: sizes(-1, 0)},
		{name: "If-Modified-Since", url: url, headers: []string{"If-Modified-Since: " + lastMod}, want: notModified},
		{name: "stale ETag", url: url, headers: []string{`If-None-Match: "stale"`}, want: want{result: httprequest.ResultSuccess, code: 200}, file: "1m.bin"},
		{name: "HEAD with ETag", method: httpclient.MethodHead, url: url, headers: []string{"If-None-Match: " + etag}, want: notModified},
	}
	runNodeCases(t, fs, cases)
}

// TestRequestNginxDownloadFileRules: download_file with real answers
// (§2.9.2): an error answer with a body (nginx's 404 page) is written to the
// file and is a success; bodyless answers (HEAD, 204, 304) never touch the
// file; after a redirect chain only the final body is written; a body over
// the limit fails without replacing the previous file (§7 D3: written to a
// temporary file, renamed on success).
func TestRequestNginxDownloadFileRules(t *testing.T) {
	addr := peers.Nginx(t)
	fs := nginxFiles(t)
	base := "http://" + addr
	const previous = "the previous download"
	cases := []struct {
		name    string
		method  httpclient.Method
		path    string
		setup   func(t *testing.T, n *httprequest.HTTPRequest)
		want    want
		content func(t *testing.T, got string)
	}{
		{name: "§2.9.2 404 body written", path: "/no/such/file", want: want{result: httprequest.ResultSuccess, code: 404, noBody: true},
			content: func(t *testing.T, got string) { assert.Contains(t, got, "<title>404 Not Found</title>") }},
		{name: "§2.9.2 HEAD leaves the file", method: httpclient.MethodHead, path: "/static/1m.bin", want: want{result: httprequest.ResultSuccess, code: 200, noBody: true},
			content: func(t *testing.T, got string) { assert.Equal(t, previous, got) }},
		{name: "§2.9.2 204 leaves the file", path: "/status/204", want: want{result: httprequest.ResultSuccess, code: 204, noBody: true},
			content: func(t *testing.T, got string) { assert.Equal(t, previous, got) }},
		{name: "§2.9.2 only the final body after redirects", path: "/redirect/chain/3", want: want{result: httprequest.ResultSuccess, code: 200, noBody: true},
			content: func(t *testing.T, got string) { assert.Equal(t, fs.sum(t, "1k.bin"), drive.SHA256([]byte(got))) }},
		{name: "§7 D3 over the limit keeps the previous file", path: "/chunked/1m.bin", setup: withLimit(100000),
			want:    want{result: httprequest.ResultBodySizeLimitExceeded, code: 200, noBody: true},
			content: func(t *testing.T, got string) { assert.Equal(t, previous, got) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var target string
			eachDriver(t, func(t *testing.T, n *httprequest.HTTPRequest) {
				target = filepath.Join(t.TempDir(), "download.bin")
				require.NoError(t, os.WriteFile(target, []byte(previous), 0o644))
				require.NoError(t, n.SetDownloadFile(target))
				if tc.setup != nil {
					tc.setup(t, n)
				}
			}, func(t *testing.T, d driver, n *httprequest.HTTPRequest) {
				o := d.run(t, n, base+tc.path, nil, tc.method, nil)
				checkOutcome(t, tc.want, o)
				got, err := os.ReadFile(target)
				require.NoError(t, err)
				tc.content(t, string(got))
				left, err := filepath.Glob(filepath.Join(filepath.Dir(target), "*"))
				require.NoError(t, err)
				assert.Equal(t, []string{target}, left, "§7 D3 no temporary file left")
			})
		})
	}
}

// TestRequestNginxProgress: the progress callback (§7.2 opt-in over §2.9.7)
// on nginx's files: wire bytes never decrease and end at DownloadedBytes;
// for a gzip text file the decoded count ends at the file's size while the
// wire count stays below it (§2.8.2.6).
func TestRequestNginxProgress(t *testing.T) {
	addr := peers.Nginx(t)
	fs := nginxFiles(t)
	for _, tc := range []struct{ path, file string }{{"/static/1m.bin", "1m.bin"}, {"/chunked/1m.bin", "1m.bin"}, {"/static/text.txt", "text.txt"}} {
		t.Run(tc.path, func(t *testing.T) {
			eachDriver(t, nil, func(t *testing.T, d driver, n *httprequest.HTTPRequest) {
				var mu sync.Mutex
				var wire, decoded []int64
				n.OnProgress(func(w, dec int64) {
					mu.Lock()
					defer mu.Unlock()
					wire = append(wire, w)
					decoded = append(decoded, dec)
				})
				o := d.run(t, n, "http://"+addr+tc.path, nil, httpclient.MethodGet, nil)
				checkOutcome(t, want{result: httprequest.ResultSuccess, code: 200}, o)
				assert.Equal(t, fs.sum(t, tc.file), drive.SHA256(o.C.Body))
				mu.Lock()
				defer mu.Unlock()
				require.NotEmpty(t, wire, "progress was reported")
				for i := 1; i < len(wire); i++ {
					assert.GreaterOrEqual(t, wire[i], wire[i-1], "wire bytes never decrease")
					assert.GreaterOrEqual(t, decoded[i], decoded[i-1], "decoded bytes never decrease")
				}
				assert.Equal(t, n.DownloadedBytes(), wire[len(wire)-1])
				assert.Equal(t, fs.size(t, tc.file), decoded[len(decoded)-1])
				if tc.file == "text.txt" {
					assert.Less(t, wire[len(wire)-1], decoded[len(decoded)-1], "§2.8.2.6 compressed on the wire")
				}
			})
		})
	}
}

// TestRequestNginxHTTPBinBehind: httpbin behind nginx (proxy_buffering off):
// nginx re-chunks httpbin's streams with its own sizes and passes /gzip,
// /drip and httpbin's relative redirects (Location without host, resolved
// against nginx's address by the node, §2.8.1.5). What the node delivers is
// the same as from httpbin directly.
func TestRequestNginxHTTPBinBehind(t *testing.T) {
	addr := peers.Nginx(t)
	peers.HTTPBin(t)
	base := "http://" + addr + "/httpbin"
	ok := want{result: httprequest.ResultSuccess, code: 200}
	cases := []nodeCase{
		{name: "get", url: base + "/get?a=1", want: ok,
			check: echoed(func(t *testing.T, e echo) {
				assert.Equal(t, wire.DefaultUserAgent(), e.Headers["User-Agent"])
				assert.Equal(t, addr, e.Headers["Host"], "nginx passes the node's Host")
				assert.Equal(t, map[string]any{"a": "1"}, e.Args)
			})},
		{name: "stream re-chunked", url: base + "/stream/7", want: want{result: httprequest.ResultSuccess, code: 200, headers: []string{"Transfer-Encoding: chunked", "Server: nginx"}},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Len(t, strings.Split(strings.TrimSuffix(string(o.C.Body), "\n"), "\n"), 7)
			}},
		{name: "§2.7.4 gzip", url: base + "/gzip", want: want{result: httprequest.ResultSuccess, code: 200, headers: []string{"Content-Encoding: gzip"}},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Equal(t, true, jsonBody(t, o.C.Body)["gzipped"])
			}},
		{name: "drip", url: base + "/drip?numbytes=6&duration=0.2&delay=0", want: ok, exact: str("******")},
		{name: "§2.8.1.5 relative redirect leaves /httpbin", url: base + "/redirect/2",
			want: want{result: httprequest.ResultSuccess, code: 404}},
		{name: "§2.8.1.2 absolute-redirect names nginx's host", url: base + "/absolute-redirect/1", setup: withMaxRedirects(0),
			want: want{result: httprequest.ResultRedirectLimitReached, code: 302, headers: []string{"Location: http://" + addr + "/get"}, noBody: true}},
	}
	runNodeCases(t, noFiles, cases)
}

// TestRequestProxyHTTPBin: the node through tinyproxy to httpbin (§1.14.1):
// httpbin sees the node's headers plus tinyproxy's Via (shown with
// show_env), with the target's
// Host; redirects are followed through the proxy (each hop a new connection
// to it, §2.8.1.6), as are gzip, basic auth and the status codes. https
// through the CONNECT tunnel reaches httpbin behind nginx's TLS port
// (§1.14.2). The redirect that changes host or port drops Authorization and
// Cookie (§7 D2).
func TestRequestProxyHTTPBin(t *testing.T) {
	bin := peers.HTTPBin(t)
	tlsAddr, roots := peers.NginxTLS(t)
	nginx := peers.Nginx(t)
	proxy := peers.Proxy(t)
	ph, pp := splitAddr(t, proxy)
	httpProxy := func(t *testing.T, n *httprequest.HTTPRequest) { n.SetHTTPProxy(ph, pp) }
	tunnel := func(t *testing.T, n *httprequest.HTTPRequest) {
		n.SetHTTPSProxy(ph, pp)
		require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(roots, "")))
	}
	ok := func(h ...string) want { return want{result: httprequest.ResultSuccess, code: 200, headers: h} }
	base := "http://" + bin
	auth := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("u:p"))
	cases := []nodeCase{
		{name: "§1.14.1 get", url: base + "/get?show_env=1", setup: httpProxy, want: ok(via),
			check: echoed(func(t *testing.T, e echo) {
				assert.Equal(t, bin, e.Headers["Host"])
				assert.Equal(t, wire.DefaultUserAgent(), e.Headers["User-Agent"])
				assert.Equal(t, "gzip, deflate", e.Headers["Accept-Encoding"])
				assert.Equal(t, "1.1 gdhttp-peers (tinyproxy/1.11.1)", e.Headers["Via"])
			})},
		{name: "§1.14.1 post", method: httpclient.MethodPost, url: base + "/post", body: "through", setup: httpProxy, want: ok(via),
			check: echoed(func(t *testing.T, e echo) { assert.Equal(t, "through", e.Data) })},
		{name: "§2.8.1 redirects through the proxy", url: base + "/redirect/3", setup: httpProxy, want: ok(via),
			check: echoed(func(t *testing.T, e echo) { assert.Equal(t, base+"/get", e.URL) })},
		{name: "§2.8.1.2 limit through the proxy", url: base + "/redirect/3", setup: setups(httpProxy, withMaxRedirects(1)),
			want: want{result: httprequest.ResultRedirectLimitReached, code: 302, headers: []string{via, "Location: /relative-redirect/1"}, noBody: true}},
		{name: "§2.7.4 gzip through the proxy", url: base + "/gzip", setup: httpProxy, want: ok(via, "Content-Encoding: gzip"),
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Equal(t, true, jsonBody(t, o.C.Body)["gzipped"])
			}},
		{name: "basic-auth through the proxy", url: base + "/basic-auth/u/p", headers: []string{auth}, setup: httpProxy, want: ok(via)},
		{name: "204 through the proxy", url: base + "/status/204", setup: httpProxy, want: want{result: httprequest.ResultSuccess, code: 204, headers: []string{via}, noBody: true}},
		{name: "§1.14.2 CONNECT to httpbin behind nginx TLS", url: "https://" + tlsAddr + "/httpbin/get?show_env=1", setup: tunnel, want: ok(),
			check: echoed(func(t *testing.T, e echo) {
				assert.NotContains(t, e.Headers, "Via", "a tunnel: tinyproxy sees no request")
				assert.Equal(t, tlsAddr, e.Headers["Host"])
			})},
		{name: "§7 D2 Authorization dropped when the port changes", url: base + "/redirect-to?url=http://" + nginx + "/httpbin/basic-auth/u/p", headers: []string{auth},
			want: want{result: httprequest.ResultSuccess, code: 401}},
		{name: "§7 D2 Cookie dropped when the port changes", url: base + "/redirect-to?url=http://" + nginx + "/httpbin/cookies", headers: []string{"Cookie: a=1"}, want: ok(),
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Equal(t, map[string]any{"cookies": map[string]any{}}, jsonBody(t, o.C.Body))
			}},
		{name: "§2.8.1.7 other headers kept when the port changes", url: base + "/redirect-to?url=http://" + nginx + "/httpbin/headers", headers: []string{"X-Game: 1"}, want: ok(),
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				h, _ := jsonBody(t, o.C.Body)["headers"].(map[string]any)
				assert.Equal(t, "1", h["X-Game"])
			}},
	}
	runNodeCases(t, noFiles, cases)
}
