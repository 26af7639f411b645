package integration

import (
	"context"
	"crypto/x509"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/peers"
	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// nodeCase is one request of the node against a real peer.
type nodeCase struct {
	name    string
	url     string
	method  httpclient.Method
	headers []string
	body    string
	setup   func(t *testing.T, n *httprequest.HTTPRequest)
	want    want
	file    string  // the body equals this generated file (SHA-256)
	exact   *string // the body equals this exactly
	check   func(t *testing.T, o outcome, n *httprequest.HTTPRequest)
}

// runNodeCases runs every case through the three drivers.
func runNodeCases(t *testing.T, fs files, cases []nodeCase) {
	t.Helper()
	for _, nc := range cases {
		t.Run(nc.name, func(t *testing.T) {
			eachDriver(t, nc.setup, func(t *testing.T, d driver, n *httprequest.HTTPRequest) {
				o := d.run(t, n, nc.url, nc.headers, nc.method, []byte(nc.body))
				checkOutcome(t, nc.want, o)
				if nc.file != "" {
					assert.Equal(t, fs.sum(t, nc.file), drive.SHA256(o.C.Body), "body SHA-256 against SHA256SUMS")
				}
				if nc.exact != nil {
					assert.Equal(t, *nc.exact, string(o.C.Body), "body")
				}
				if nc.check != nil {
					nc.check(t, o, n)
				}
			})
		})
	}
}

// str returns &s, for nodeCase.exact.
func str(s string) *string { return &s }

// sizes returns a check of the node's body-size getters after completion
// (§2.9.7): BodySize and DownloadedBytes.
func sizes(bodySize, downloaded int64) func(t *testing.T, o outcome, n *httprequest.HTTPRequest) {
	return func(t *testing.T, o outcome, n *httprequest.HTTPRequest) {
		t.Helper()
		assert.Equal(t, bodySize, n.BodySize(), "BodySize (§2.9.7)")
		assert.Equal(t, downloaded, n.DownloadedBytes(), "DownloadedBytes (§2.9.7)")
	}
}

// TestRequestNginxBodies: the node against nginx's framings and encodings,
// with Godot's defaults unless noted. Text files come gzip-compressed (the
// node sends "Accept-Encoding: gzip, deflate", §2.4.6; nginx compresses text
// types) and are delivered decompressed, equal to the file, with the
// response's own headers and compressed sizes (§2.8.2, §2.8.2.6); without
// accept_gzip they come plain. Read-until-close ends with success (§2.9.6,
// §7 D3); bodyless answers are successes with an empty body (§2.6.1.1,
// §2.10); a 404 is a success too.
func TestRequestNginxBodies(t *testing.T) {
	addr := peers.Nginx(t)
	fs := nginxFiles(t)
	base := "http://" + addr
	ok := func(h ...string) want { return want{result: httprequest.ResultSuccess, code: 200, headers: h} }
	gz := []string{"Content-Encoding: gzip", "Transfer-Encoding: chunked", "Vary: Accept-Encoding"}
	text := fs.size(t, "text.txt")
	cases := []nodeCase{
		{name: "length", url: base + "/static/1m.bin", want: ok("Content-Length: 1048576"), file: "1m.bin", check: sizes(1<<20, 1<<20)},
		{name: "§2.8.2 gzip text", url: base + "/static/text.txt", want: ok(gz...), file: "text.txt",
			check: func(t *testing.T, o outcome, n *httprequest.HTTPRequest) {
				assert.Equal(t, int64(-1), n.BodySize(), "§2.8.2.6 chunked: no length")
				assert.Positive(t, n.DownloadedBytes())
				assert.Less(t, n.DownloadedBytes(), text, "§2.8.2.6 DownloadedBytes counts compressed bytes")
			}},
		{name: "§2.8.2 gzip html", url: base + "/static/page.html", want: ok(gz...), file: "page.html"},
		{name: "§2.8.2 gzip json", url: base + "/static/data.json", want: ok(gz...), file: "data.json"},
		{name: "§2.8.2 gzip chunked-trailer", url: base + "/chunked-trailer/text.txt", want: ok(gz...), file: "text.txt"},
		{name: "§2.8.2 gzip until-close", url: base + "/eof/text.txt", want: ok("Content-Encoding: gzip", "Connection: close"), file: "text.txt"},
		{name: "png not compressed", url: base + "/static/image.png", want: ok("Content-Length: " + strconv.FormatInt(fs.size(t, "image.png"), 10)), file: "image.png"},
		{name: "§2.4.6 accept_gzip off", url: base + "/static/text.txt", want: ok("Content-Length: " + strconv.FormatInt(text, 10)), file: "text.txt",
			setup: func(t *testing.T, n *httprequest.HTTPRequest) { n.SetAcceptGzip(false) },
			check: sizes(text, text)},
		{name: "chunked", url: base + "/chunked/1m.bin", want: ok("Transfer-Encoding: chunked"), file: "1m.bin", check: sizes(-1, 1<<20)},
		{name: "§2.9.6 until-close", url: base + "/eof/1m.bin", want: ok("Connection: close"), file: "1m.bin", check: sizes(-1, 1<<20)},
		{name: "close", url: base + "/close/1m.bin", want: ok("Connection: close", "Content-Length: 1048576"), file: "1m.bin"},
		{name: "§2.6.1.1 Content-Length 0", url: base + "/static/empty.txt", want: want{result: httprequest.ResultSuccess, code: 200, headers: []string{"Content-Length: 0"}, noBody: true},
			check: sizes(-1, 0)},
		{name: "§2.6.1.1 HEAD", method: httpclient.MethodHead, url: base + "/static/1m.bin", want: want{result: httprequest.ResultSuccess, code: 200, headers: []string{"Content-Length: 1048576"}, noBody: true},
			check: sizes(-1, 0)},
		{name: "§2.6.1.1 HEAD of a chunked location", method: httpclient.MethodHead, url: base + "/chunked/1m.bin", want: want{result: httprequest.ResultSuccess, code: 200, noBody: true}},
		{name: "§2.6 204 without framing", url: base + "/status/204", want: want{result: httprequest.ResultSuccess, code: 204, headers: []string{"Server: nginx"}, noBody: true}},
		{name: "§2.10 404 is a success", url: base + "/no/such/file", want: want{result: httprequest.ResultSuccess, code: 404},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Contains(t, string(o.C.Body), "<title>404 Not Found</title>")
			}},
		{name: "§2.4.10 POST body", method: httpclient.MethodPost, url: base + "/method?a=1", body: `{"x":1}`, want: ok(), exact: str("POST /method?a=1\n")},
		{name: "§2.4.6 request headers", url: base + "/headers", headers: []string{"X-Ignored: 1"}, want: ok(),
			exact: str("Host: " + addr + "\nUser-Agent: " + wire.DefaultUserAgent() + "\nAccept: */*\nAccept-Encoding: gzip, deflate\nConnection: \nContent-Length: \nContent-Type: \nTransfer-Encoding: \n")},
	}
	runNodeCases(t, fs, cases)
}

// TestRequestHTTPBin: the node against httpbin (gunicorn). /get echoes the
// request: Godot's User-Agent, "Accept: */*" and the added "Accept-Encoding:
// gzip, deflate" after the user's headers (§2.4.6, §1.7.10), and nothing else;
// a user Accept-Encoding suppresses the added one. A JSON POST is echoed
// byte for byte (§2.4.10; no Content-Type is added). gzip and zlib-wrapped
// deflate are decoded (§2.7.4); "br" is not (raw bytes, §2.7.4) unless brotli
// is switched on (§7.2). /status/418, /stream (chunked, one JSON object per
// line) and httpbin's redirects (301/302 followed, §2.8.1).
func TestRequestHTTPBin(t *testing.T) {
	addr := peers.HTTPBin(t)
	fs := nginxFiles(t)
	base := "http://" + addr
	ok := func(h ...string) want { return want{result: httprequest.ResultSuccess, code: 200, headers: h} }
	echoed := func(wantHeaders map[string]any, wantArgs map[string]any) func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
		return func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
			m := jsonBody(t, o.C.Body)
			assert.Equal(t, wantHeaders, m["headers"], "headers httpbin received")
			assert.Equal(t, wantArgs, m["args"], "query arguments")
		}
	}
	ua := wire.DefaultUserAgent()
	payload := `{"name":"gdhttp","list":[1,2,3],"nested":{"ok":true},"unicode":"héllo"}`
	cases := []nodeCase{
		{name: "§2.4.6 GET echo", url: base + "/get?x=1&y=two%20words", headers: []string{"X-Gdhttp: yes"}, want: ok("Content-Type: application/json"),
			check: echoed(map[string]any{"Host": addr, "User-Agent": ua, "Accept": "*/*", "Accept-Encoding": "gzip, deflate", "X-Gdhttp": "yes"},
				map[string]any{"x": "1", "y": "two words"})},
		{name: "§2.4.6 user Accept-Encoding wins", url: base + "/get", headers: []string{"accept-encoding: identity"}, want: ok(),
			check: echoed(map[string]any{"Host": addr, "User-Agent": ua, "Accept": "*/*", "Accept-Encoding": "identity"}, map[string]any{})},
		{name: "§2.4.6 accept_gzip off", url: base + "/get", want: ok(),
			setup: func(t *testing.T, n *httprequest.HTTPRequest) { n.SetAcceptGzip(false) },
			check: echoed(map[string]any{"Host": addr, "User-Agent": ua, "Accept": "*/*"}, map[string]any{})},
		{name: "§2.4.10 POST JSON", method: httpclient.MethodPost, url: base + "/post", headers: []string{"Content-Type: application/json"}, body: payload, want: ok(),
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				m := jsonBody(t, o.C.Body)
				assert.Equal(t, payload, m["data"], "body echoed byte for byte")
				assert.Equal(t, jsonBody(t, []byte(payload)), m["json"])
				h, _ := m["headers"].(map[string]any)
				assert.Equal(t, strconv.Itoa(len(payload)), h["Content-Length"], "§1.7.10 UTF-8 byte length")
				assert.Equal(t, "application/json", h["Content-Type"])
			}},
		{name: "§2.4.10 PUT without body", method: httpclient.MethodPut, url: base + "/put", want: ok(),
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				h, _ := jsonBody(t, o.C.Body)["headers"].(map[string]any)
				assert.NotContains(t, h, "Content-Length", "§1.7.10 no Content-Length for an empty body")
			}},
		{name: "418", url: base + "/status/418", want: want{result: httprequest.ResultSuccess, code: 418, headers: []string{"x-more-info: http://tools.ietf.org/html/rfc2324"}},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Contains(t, string(o.C.Body), "teapot")
			}},
		{name: "stream", url: base + "/stream/5", want: ok("Transfer-Encoding: chunked"),
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				lines := strings.Split(strings.TrimSuffix(string(o.C.Body), "\n"), "\n")
				require.Len(t, lines, 5)
				for i, l := range lines {
					assert.Equal(t, float64(i), jsonBody(t, []byte(l))["id"], "line %d", i)
				}
			}},
		{name: "stream-bytes", url: base + "/stream-bytes/100000?seed=7&chunk_size=1000", want: ok("Transfer-Encoding: chunked"),
			check: func(t *testing.T, o outcome, n *httprequest.HTTPRequest) {
				assert.Equal(t, 100000, len(o.C.Body))
				assert.Equal(t, int64(100000), n.DownloadedBytes())
			}},
		{name: "drip", url: base + "/drip?numbytes=5&duration=0.5&delay=0", want: ok("Content-Length: 5"), exact: str("*****"),
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.GreaterOrEqual(t, o.Elapsed, 300*time.Millisecond, "the body trickled in")
			}},
		{name: "§2.7.4 gzip", url: base + "/gzip", want: ok("Content-Encoding: gzip"),
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Equal(t, true, jsonBody(t, o.C.Body)["gzipped"])
			}},
		{name: "§2.7.4 deflate (zlib)", url: base + "/deflate", want: ok("Content-Encoding: deflate"),
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Equal(t, true, jsonBody(t, o.C.Body)["deflated"])
			}},
		{name: "§2.7.4 br not decoded", url: base + "/brotli", want: ok("Content-Encoding: br"),
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.NotEmpty(t, o.C.Body)
				assert.NotEqual(t, byte('{'), o.C.Body[0], "raw brotli bytes delivered")
			}},
		{name: "§7.2 brotli opt-in", url: base + "/brotli", want: ok("Content-Encoding: br"),
			setup: func(t *testing.T, n *httprequest.HTTPRequest) { require.NoError(t, n.SetAcceptBrotli(true)) },
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Equal(t, true, jsonBody(t, o.C.Body)["brotli"])
			}},
		{name: "§2.8.1 redirect/3", url: base + "/redirect/3", want: ok(),
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Equal(t, base+"/get", jsonBody(t, o.C.Body)["url"])
			}},
		{name: "§2.8.1 relative-redirect with Content-Length 0", url: base + "/relative-redirect/3", want: ok(),
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Equal(t, base+"/get", jsonBody(t, o.C.Body)["url"])
			}},
		{name: "§2.8.1 absolute-redirect", url: base + "/absolute-redirect/3", want: ok(),
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Equal(t, base+"/get", jsonBody(t, o.C.Body)["url"])
			}},
		{name: "§2.8.1.2 redirect/9 over the limit", url: base + "/redirect/9",
			want: want{result: httprequest.ResultRedirectLimitReached, code: 302, headers: []string{"Location: /get"}, noBody: true}},
	}
	runNodeCases(t, fs, cases)
}

// TestRequestNginxRedirects: Godot follows 301 and 302 only, with the same
// method, body and headers (§2.8.1.1, §2.8.1.7), to an absolute or a relative
// target (§2.8.1.5), across schemes; 303, 307 and 308 are delivered as they
// are, with their body; max_redirects counts the hops (§2.8.1.2: the 9th
// consecutive 302 with the default 8 is RESULT_REDIRECT_LIMIT_REACHED with that
// 302's code and headers and no body).
func TestRequestNginxRedirects(t *testing.T) {
	addr := peers.Nginx(t)
	tlsAddr, roots := peers.NginxTLS(t)
	fs := nginxFiles(t)
	base := "http://" + addr
	ok := want{result: httprequest.ResultSuccess, code: 200}
	limit := func(code int, location string) want {
		return want{result: httprequest.ResultRedirectLimitReached, code: code, headers: []string{"Location: " + location}, noBody: true}
	}
	maxRedirects := func(k int) func(t *testing.T, n *httprequest.HTTPRequest) {
		return func(t *testing.T, n *httprequest.HTTPRequest) { require.NoError(t, n.SetMaxRedirects(k)) }
	}
	asIs := func(code int, text string) nodeCase {
		return nodeCase{name: "§2.8.1.1 " + strconv.Itoa(code) + " not followed", url: base + "/redirect/" + strconv.Itoa(code),
			want: want{result: httprequest.ResultSuccess, code: code, headers: []string{"Location: " + base + "/method"}},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Contains(t, string(o.C.Body), text, "the 3xx body is delivered")
			}}
	}
	cases := []nodeCase{
		{name: "§2.8.1.1 301 followed", url: base + "/redirect/301", want: ok, exact: str("GET /method\n")},
		{name: "§2.8.1.1 302 followed", url: base + "/redirect/302?to=/static/1k.bin", want: ok, file: "1k.bin"},
		{name: "§2.8.1.5 relative Location", url: base + "/redirect/relative", want: ok, exact: str("GET /method\n")},
		{name: "§2.8.1.7 POST stays POST", method: httpclient.MethodPost, url: base + "/redirect/301", body: "data", want: ok, exact: str("POST /method\n")},
		{name: "§2.8.1.5 to https", url: base + "/redirect/302?to=https://" + tlsAddr + "/chunked/1m.bin", want: ok, file: "1m.bin",
			setup: func(t *testing.T, n *httprequest.HTTPRequest) {
				require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(roots, "")))
			}},
		asIs(303, "303 See Other"),
		asIs(307, "307 Temporary Redirect"),
		asIs(308, "308 Permanent Redirect"),
		{name: "§7.2 RFC 9110 redirects opt-in: 307", method: httpclient.MethodPost, url: base + "/redirect/307", body: "x", want: ok, exact: str("POST /method\n"),
			setup: func(t *testing.T, n *httprequest.HTTPRequest) { require.NoError(t, n.SetRFC9110Redirects(true)) }},
		{name: "§2.8.1.2 chain of 8 within the default", url: base + "/redirect/chain/8", want: ok, file: "1k.bin"},
		{name: "§2.8.1.2 chain of 9 over the default", url: base + "/redirect/chain/9", want: limit(302, base+"/static/1k.bin")},
		{name: "§2.8.1.2 max 2, chain of 2", url: base + "/redirect/chain/2", want: ok, file: "1k.bin", setup: maxRedirects(2)},
		{name: "§2.8.1.2 max 2, chain of 3", url: base + "/redirect/chain/3", want: limit(302, base+"/static/1k.bin"), setup: maxRedirects(2)},
		{name: "§2.8.1.2 max 0", url: base + "/redirect/301", want: limit(301, base+"/method"), setup: maxRedirects(0)},
		{name: "§2.8.1.2 loop", url: base + "/redirect/loop", want: limit(302, base+"/redirect/loop")},
		{name: "§2.8.1.2 -1: chain of 12", url: base + "/redirect/chain/12", want: ok, file: "1k.bin", setup: maxRedirects(-1)},
	}
	runNodeCases(t, fs, cases)
}

// TestRequestDownloadFile: download_file receives the (decompressed) body and
// the completion carries none (§2.6.1.1, §2.9.2, §2.8.2.6); the file's SHA-256
// is the original's. The 64 MiB file is skipped under -short.
func TestRequestDownloadFile(t *testing.T) {
	addr := peers.Nginx(t)
	fs := nginxFiles(t)
	base := "http://" + addr
	cases := []struct{ path, file string }{
		{"/static/1m.bin", "1m.bin"},
		{"/static/64m.bin", "64m.bin"},
		{"/chunked/1m.bin", "1m.bin"},
		{"/eof/1m.bin", "1m.bin"},
		{"/static/text.txt", "text.txt"}, // gzip on the wire, plain in the file
	}
	for _, tc := range cases {
		t.Run(strings.TrimPrefix(strings.ReplaceAll(tc.path, "/", "_"), "_"), func(t *testing.T) {
			skipBig(t, tc.file)
			var target string
			eachDriver(t, func(t *testing.T, n *httprequest.HTTPRequest) {
				target = filepath.Join(t.TempDir(), "download-"+tc.file)
				require.NoError(t, n.SetDownloadFile(target))
			}, func(t *testing.T, d driver, n *httprequest.HTTPRequest) {
				o := d.run(t, n, base+tc.path, nil, httpclient.MethodGet, nil)
				checkOutcome(t, want{result: httprequest.ResultSuccess, code: 200, noBody: true}, o)
				assert.Equal(t, fs.sum(t, tc.file), drive.FileSHA256(t, target), "downloaded file SHA-256")
				left, err := filepath.Glob(filepath.Join(filepath.Dir(target), "*"))
				require.NoError(t, err)
				assert.Equal(t, []string{target}, left, "§7 D3 no temporary file left")
			})
		})
	}
}

// TestRequestBodySizeLimit: body_size_limit against a Content-Length (checked
// when the head arrives), a chunked and a read-until-close body (checked while
// reading) and a gzip body (the decoded size, §2.8.2.3): RESULT_BODY_SIZE_
// LIMIT_EXCEEDED with the code and headers, no body (§2.9.1, §2.10). A limit
// equal to the size passes.
func TestRequestBodySizeLimit(t *testing.T) {
	addr := peers.Nginx(t)
	fs := nginxFiles(t)
	base := "http://" + addr
	limitTo := func(k int64) func(t *testing.T, n *httprequest.HTTPRequest) {
		return func(t *testing.T, n *httprequest.HTTPRequest) { require.NoError(t, n.SetBodySizeLimit(k)) }
	}
	exceeded := func(h ...string) want {
		return want{result: httprequest.ResultBodySizeLimitExceeded, code: 200, headers: h, noBody: true}
	}
	text := fs.size(t, "text.txt")
	cases := []nodeCase{
		{name: "§2.9.1 Content-Length over", url: base + "/static/1k.bin", setup: limitTo(1023), want: exceeded("Content-Length: 1024"),
			check: sizes(1024, 0)},
		{name: "§2.9.1 Content-Length equal", url: base + "/static/1k.bin", setup: limitTo(1024), want: want{result: httprequest.ResultSuccess, code: 200}, file: "1k.bin"},
		{name: "§2.6.1.5 chunked over", url: base + "/chunked/1m.bin", setup: limitTo(100000), want: exceeded("Transfer-Encoding: chunked")},
		{name: "§2.6.1.5 until-close over", url: base + "/eof/1m.bin", setup: limitTo(100000), want: exceeded("Connection: close")},
		{name: "§2.8.2.3 gzip decoded size over", url: base + "/static/text.txt", setup: limitTo(text - 1), want: exceeded("Content-Encoding: gzip")},
		{name: "§2.8.2.3 gzip decoded size equal", url: base + "/static/text.txt", setup: limitTo(text), want: want{result: httprequest.ResultSuccess, code: 200}, file: "text.txt"},
	}
	runNodeCases(t, fs, cases)
}

// TestRequestTimeout: the timeout counts the whole request in wall-clock time
// (§2.11.1, §7 D4): nginx's /slow/ (128 KiB/s) cannot deliver 1 MiB within
// it, and httpbin's /delay/ does not even send the head: RESULT_TIMEOUT with
// code 0 and nothing else (§2.11.2), the cause ERR_TIMEOUT. Do's context
// deadline is a timeout too, with context.DeadlineExceeded as the cause.
func TestRequestTimeout(t *testing.T) {
	addr := peers.Nginx(t)
	bin := peers.HTTPBin(t)
	const timeout = 400 * time.Millisecond
	timedOut := want{result: httprequest.ResultTimeout, noBody: true}
	targets := []struct{ name, url string }{
		{"nginx-slow-body", "http://" + addr + "/slow/1m.bin"}, // the head arrives, the body is too slow
		{"httpbin-delayed-head", "http://" + bin + "/delay/3"}, // no head within the timeout
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, n *httprequest.HTTPRequest) {
				require.NoError(t, n.SetTimeout(timeout))
			}, func(t *testing.T, d driver, n *httprequest.HTTPRequest) {
				o := d.run(t, n, tg.url, nil, httpclient.MethodGet, nil)
				checkOutcome(t, timedOut, o)
				assert.ErrorIs(t, o.Err, godot.ErrTimeout, "cause")
				assert.GreaterOrEqual(t, o.Elapsed, timeout, "§2.11.1 not before the timeout")
				assert.Less(t, o.Elapsed, timeout+5*time.Second, "promptly after the timeout")
			})
		})
	}
	t.Run("do-context-deadline", func(t *testing.T) {
		n := httprequest.New()
		defer n.Close()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		c, err := n.Do(ctx, "http://"+addr+"/slow/1m.bin", nil, httpclient.MethodGet, nil)
		assert.Equal(t, httprequest.ResultTimeout, c.Result)
		assert.Zero(t, c.ResponseCode)
		assert.ErrorIs(t, err, httprequest.ResultTimeout)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

// TestRequestTLS: https through the node with the generated CA (§2.2
// set_tls_options, §1.6.2.5), by IP and by name, gzip over TLS included; the
// default options (system roots) and a foreign CA fail the handshake:
// RESULT_TLS_HANDSHAKE_ERROR, code 0, with the x509 cause.
func TestRequestTLS(t *testing.T) {
	addr, roots := peers.NginxTLS(t)
	fs := nginxFiles(t)
	_, port := splitAddr(t, addr)
	withRoots := func(p *x509.CertPool) func(t *testing.T, n *httprequest.HTTPRequest) {
		return func(t *testing.T, n *httprequest.HTTPRequest) {
			require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(p, "")))
		}
	}
	unknownCA := func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
		var ua x509.UnknownAuthorityError
		assert.True(t, errors.As(o.Err, &ua), "x509.UnknownAuthorityError in %v", o.Err)
	}
	failed := want{result: httprequest.ResultTLSHandshakeError, noBody: true}
	ok := want{result: httprequest.ResultSuccess, code: 200}
	cases := []nodeCase{
		{name: "ip", url: "https://" + addr + "/static/1m.bin", setup: withRoots(roots), want: ok, file: "1m.bin"},
		{name: "name", url: "https://localhost:" + strconv.Itoa(port) + "/chunked/1m.bin", setup: withRoots(roots), want: ok, file: "1m.bin"},
		{name: "gzip", url: "https://localhost:" + strconv.Itoa(port) + "/static/text.txt", setup: withRoots(roots), want: ok, file: "text.txt"},
		{name: "until-close", url: "https://" + addr + "/eof/1m.bin", setup: withRoots(roots), want: ok, file: "1m.bin"},
		{name: "system-roots", url: "https://" + addr + "/static/1k.bin", want: failed, check: unknownCA},
		{name: "wrong-ca", url: "https://" + addr + "/static/1k.bin", setup: withRoots(testserver.NewCA(t).Pool()), want: failed, check: unknownCA},
	}
	runNodeCases(t, fs, cases)
}

// TestRequestIPv6: "http://[::1]:port/" parses to the host "::1", which
// connect_to_host refuses (§2.5.11, §1.5.6): ERR_CANT_CONNECT and a
// RESULT_CANT_CONNECT completion (§2.4.8; with use_threads only the
// completion). The long form of the same address works.
func TestRequestIPv6(t *testing.T) {
	addr6 := peers.Nginx6(t)
	fs := nginxFiles(t)
	_, port := splitAddr(t, addr6)
	p := strconv.Itoa(port)
	t.Run("long-form", func(t *testing.T) {
		eachDriver(t, nil, func(t *testing.T, d driver, n *httprequest.HTTPRequest) {
			o := d.run(t, n, "http://[0:0:0:0:0:0:0:1]:"+p+"/static/1m.bin", nil, httpclient.MethodGet, nil)
			checkOutcome(t, want{result: httprequest.ResultSuccess, code: 200}, o)
			assert.Equal(t, fs.sum(t, "1m.bin"), drive.SHA256(o.C.Body))
		})
	})
	t.Run("§2.5.11 ::1", func(t *testing.T) {
		eachDriver(t, nil, func(t *testing.T, d driver, n *httprequest.HTTPRequest) {
			o := d.run(t, n, "http://[::1]:"+p+"/static/1k.bin", nil, httpclient.MethodGet, nil)
			switch d.Name {
			case "process":
				assert.ErrorIs(t, o.ReqErr, godot.ErrCantConnect, "§2.4.8 returned")
				o.ReqErr = nil
			case "threads":
				assert.NoError(t, o.ReqErr, "the worker connects: only the completion")
			}
			checkOutcome(t, want{result: httprequest.ResultCantConnect, noBody: true}, o)
			assert.ErrorIs(t, o.Err, httpclient.ErrInvalidParameter, "cause: §1.5.6")
		})
	})
}

// TestNginxFilesMatchSums checks the reference the other tests use: every
// file SHA256SUMS lists has that SHA-256 on disk, so a body compared with the
// sums is compared with the file nginx serves.
func TestNginxFilesMatchSums(t *testing.T) {
	fs := nginxFiles(t)
	for name, sum := range fs.sums {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, sum, drive.FileSHA256(t, filepath.Join(fs.dir, name)))
		})
	}
	for _, name := range []string{"1k.bin", "1m.bin", "64m.bin", "text.txt", "page.html", "data.json", "image.png", "empty.txt"} {
		fs.sum(t, name) // every file the tests use is listed
	}
}
