package integration

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/peers"
	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// The node against every route of httpbin 0.7.0 (Debian's python3-httpbin
// under gunicorn), through the three drivers of §7.3. Each case states what a
// Godot game would see: result, code, header lines, body.

// noFiles is the file table of cases that compare no nginx file.
var noFiles = files{}

// echo is httpbin's JSON echo of a request (/get, /post, /anything, …).
type echo struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Args    map[string]any    `json:"args"`
	Headers map[string]string `json:"headers"`
	Data    string            `json:"data"`
	Form    map[string]any    `json:"form"`
	JSON    any               `json:"json"`
}

// echoOf decodes httpbin's echo from a delivered body.
func echoOf(t *testing.T, body []byte) echo {
	t.Helper()
	var e echo
	require.NoError(t, json.Unmarshal(body, &e), "httpbin echo %q", body)
	return e
}

// binURL returns httpbin's URL for path.
func binURL(t *testing.T, path string) string {
	t.Helper()
	return "http://" + peers.HTTPBin(t) + path
}

// refFetch fetches url with net/http (no decompression, no redirects) as a
// reference for what httpbin serves.
func refFetch(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	c := &http.Client{
		Transport:     &http.Transport{DisableCompression: true, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// setups combines node setups.
func setups(fs ...func(t *testing.T, n *httprequest.HTTPRequest)) func(t *testing.T, n *httprequest.HTTPRequest) {
	return func(t *testing.T, n *httprequest.HTTPRequest) {
		for _, f := range fs {
			f(t, n)
		}
	}
}

func withMaxRedirects(k int) func(t *testing.T, n *httprequest.HTTPRequest) {
	return func(t *testing.T, n *httprequest.HTTPRequest) { require.NoError(t, n.SetMaxRedirects(k)) }
}

func withLimit(k int64) func(t *testing.T, n *httprequest.HTTPRequest) {
	return func(t *testing.T, n *httprequest.HTTPRequest) { require.NoError(t, n.SetBodySizeLimit(k)) }
}

func withTimeout(d time.Duration) func(t *testing.T, n *httprequest.HTTPRequest) {
	return func(t *testing.T, n *httprequest.HTTPRequest) { require.NoError(t, n.SetTimeout(d)) }
}

func withoutGzip(t *testing.T, n *httprequest.HTTPRequest) { n.SetAcceptGzip(false) }

func withBrotli(t *testing.T, n *httprequest.HTTPRequest) {
	require.NoError(t, n.SetAcceptBrotli(true))
}

// checks runs several checks.
func checks(fs ...func(t *testing.T, o outcome, n *httprequest.HTTPRequest)) func(t *testing.T, o outcome, n *httprequest.HTTPRequest) {
	return func(t *testing.T, o outcome, n *httprequest.HTTPRequest) {
		t.Helper()
		for _, f := range fs {
			f(t, o, n)
		}
	}
}

// echoed checks httpbin's echo with f.
func echoed(f func(t *testing.T, e echo)) func(t *testing.T, o outcome, n *httprequest.HTTPRequest) {
	return func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
		t.Helper()
		f(t, echoOf(t, o.C.Body))
	}
}

// TestHTTPBinRequestHeaders: what httpbin receives from the node (§2.4.6,
// §1.7.10): the user's headers as given, then Host, Content-Length, User-Agent
// and Accept each only when no user header starts with that name; the
// node's Accept-Encoding after them (", br" with brotli on, §7.2). A user Host
// is sent as given; repeated user headers all go out (httpbin joins them);
// a GET with a body carries Content-Length (§2.4.10).
func TestHTTPBinRequestHeaders(t *testing.T) {
	addr := peers.HTTPBin(t)
	base := "http://" + addr
	ua := wire.DefaultUserAgent()
	ok := want{result: httprequest.ResultSuccess, code: 200}
	headersAre := func(w map[string]string) func(t *testing.T, o outcome, n *httprequest.HTTPRequest) {
		return echoed(func(t *testing.T, e echo) { assert.Equal(t, w, e.Headers, "headers httpbin received") })
	}
	cases := []nodeCase{
		{name: "§1.7.10 user User-Agent wins", url: base + "/get", headers: []string{"User-Agent: MyGame/1.0"}, want: ok,
			check: headersAre(map[string]string{"Host": addr, "User-Agent": "MyGame/1.0", "Accept": "*/*", "Accept-Encoding": "gzip, deflate"})},
		{name: "§1.7.10 user Accept wins", url: base + "/get", headers: []string{"accept: application/json"}, want: ok,
			check: headersAre(map[string]string{"Host": addr, "User-Agent": ua, "Accept": "application/json", "Accept-Encoding": "gzip, deflate"})},
		{name: "§1.7.10 user Host is sent as given", url: base + "/get", headers: []string{"Host: game.example"}, want: ok,
			check: checks(headersAre(map[string]string{"Host": "game.example", "User-Agent": ua, "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}),
				echoed(func(t *testing.T, e echo) { assert.Equal(t, "http://game.example/get", e.URL) }))},
		{name: "§1.7.9 repeated user headers", url: base + "/get", headers: []string{"X-Dup: 1", "X-Dup: 2"}, want: ok,
			check: echoed(func(t *testing.T, e echo) { assert.Equal(t, "1,2", e.Headers["X-Dup"]) })},
		{name: "§7.2 brotli adds br", url: base + "/get", setup: withBrotli, want: ok,
			check: headersAre(map[string]string{"Host": addr, "User-Agent": ua, "Accept": "*/*", "Accept-Encoding": "gzip, deflate, br"})},
		{name: "§2.4.10 GET with a body", url: base + "/anything", body: "hello", want: ok,
			check: echoed(func(t *testing.T, e echo) {
				assert.Equal(t, "GET", e.Method)
				assert.Equal(t, "hello", e.Data)
				assert.Equal(t, "5", e.Headers["Content-Length"])
				assert.NotContains(t, e.Headers, "Content-Type", "§2.4.10 no Content-Type is added")
			})},
	}
	runNodeCases(t, noFiles, cases)
}

// TestHTTPBinMethods: every method Godot has (§1.7.1) reaches httpbin's
// /anything with its body and a Content-Length (§2.4.10); HEAD gets the head
// only (§1.8.6: Content-Length ignored, empty body); OPTIONS gets Flask's
// Allow list; a binary body goes out byte for byte; a form body is parsed.
func TestHTTPBinMethods(t *testing.T) {
	base := binURL(t, "")
	ok := want{result: httprequest.ResultSuccess, code: 200}
	var cases []nodeCase
	for _, m := range []httpclient.Method{httpclient.MethodGet, httpclient.MethodPost, httpclient.MethodPut, httpclient.MethodPatch, httpclient.MethodDelete} {
		body := "body of " + m.String()
		cases = append(cases, nodeCase{name: "§1.7.1 " + m.String(), method: m, url: base + "/anything/" + strings.ToLower(m.String()) + "?m=1", body: body, want: ok,
			check: echoed(func(t *testing.T, e echo) {
				assert.Equal(t, m.String(), e.Method)
				assert.Equal(t, body, e.Data)
				assert.Equal(t, strconv.Itoa(len(body)), e.Headers["Content-Length"])
				assert.Equal(t, base+"/anything/"+strings.ToLower(m.String())+"?m=1", e.URL)
			})})
	}
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	cases = append(cases,
		nodeCase{name: "§1.8.6 HEAD", method: httpclient.MethodHead, url: base + "/anything", want: want{result: httprequest.ResultSuccess, code: 200, headers: []string{"Content-Type: application/json"}, noBody: true},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				cl, ok := headerValue(o.C.Headers, "Content-Length")
				require.True(t, ok, "HEAD answer declares the length")
				assert.NotEqual(t, "0", cl)
			}},
		nodeCase{name: "OPTIONS", method: httpclient.MethodOptions, url: base + "/anything", want: ok,
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				allow, ok := headerValue(o.C.Headers, "Allow")
				require.True(t, ok, "Allow in %q", o.C.Headers)
				assert.Contains(t, allow, "POST")
			}},
		nodeCase{name: "§2.4.10 binary body", method: httpclient.MethodPost, url: base + "/post", headers: []string{"Content-Type: application/octet-stream"}, body: string(binary), want: ok,
			check: echoed(func(t *testing.T, e echo) {
				assert.Equal(t, "data:application/octet-stream;base64,"+base64.StdEncoding.EncodeToString(binary), e.Data)
				assert.Equal(t, "256", e.Headers["Content-Length"])
			})},
		nodeCase{name: "§2.4.10 form body", method: httpclient.MethodPost, url: base + "/post", headers: []string{"Content-Type: application/x-www-form-urlencoded"}, body: "a=1&b=two+words&c=%E2%9C%93", want: ok,
			check: echoed(func(t *testing.T, e echo) {
				assert.Equal(t, map[string]any{"a": "1", "b": "two words", "c": "✓"}, e.Form)
			})},
		nodeCase{name: "§1.7.10 POST without body has no Content-Length", method: httpclient.MethodPost, url: base + "/post", want: ok,
			check: echoed(func(t *testing.T, e echo) {
				assert.NotContains(t, e.Headers, "Content-Length")
				assert.Empty(t, e.Data)
			})},
	)
	runNodeCases(t, noFiles, cases)
}

// TestHTTPBinURLParsing: Godot's parse_url against a real server (§2.5): the
// fragment is dropped (§2.5.3), the query goes out verbatim, userinfo is
// removed and no Authorization is sent (§2.5.5), the scheme and host are
// lower-cased (§2.5.2, §2.5.7), an empty path becomes "/" (§2.5.9).
func TestHTTPBinURLParsing(t *testing.T) {
	addr := peers.HTTPBin(t)
	_, port := splitAddr(t, addr)
	p := strconv.Itoa(port)
	ok := want{result: httprequest.ResultSuccess, code: 200}
	cases := []nodeCase{
		{name: "§2.5.3 fragment dropped", url: "http://" + addr + "/get?a=1#frag", want: ok,
			check: echoed(func(t *testing.T, e echo) {
				assert.Equal(t, map[string]any{"a": "1"}, e.Args)
				assert.Equal(t, "http://"+addr+"/get?a=1", e.URL)
			})},
		{name: "§1.7.6 query sent verbatim", url: "http://" + addr + "/get?q=a%20b&x=%E2%9C%93&e=", want: ok,
			check: echoed(func(t *testing.T, e echo) {
				assert.Equal(t, map[string]any{"q": "a b", "x": "✓", "e": ""}, e.Args)
			})},
		{name: "§2.5.5 userinfo ignored", url: "http://user:pass@" + addr + "/basic-auth/user/pass",
			want: want{result: httprequest.ResultSuccess, code: 401, headers: []string{`WWW-Authenticate: Basic realm="Fake Realm"`}, noBody: true}},
		{name: "§2.5.2 upper-case scheme", url: "HTTP://" + addr + "/get", want: ok,
			check: echoed(func(t *testing.T, e echo) { assert.Equal(t, addr, e.Headers["Host"]) })},
		{name: "§2.5.9 empty path is /", url: "http://" + addr, want: ok,
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Contains(t, string(o.C.Body), "httpbin")
			}},
		{name: "§2.5.7 host lower-cased", url: "http://127.0.0.1:" + p + "/anything/Path?Q=V", want: ok,
			check: echoed(func(t *testing.T, e echo) {
				assert.Equal(t, "http://"+addr+"/anything/Path?Q=V", e.URL, "path and query keep their case")
			})},
	}
	runNodeCases(t, noFiles, cases)
}

// TestHTTPBinCompression: /gzip and /deflate (§2.7.4, §2.8.2). With
// accept_gzip (the default) the body is decoded, also when the user sent
// their own Accept-Encoding; the headers stay the compressed response's and
// BodySize/DownloadedBytes count compressed bytes (§2.8.2.6). With accept_gzip
// off, httpbin compresses all the same and the node delivers the raw bytes
// (§2.2: read again when the head arrives). The limit applies to the decoded
// size (§2.8.2.3).
func TestHTTPBinCompression(t *testing.T) {
	base := binURL(t, "")
	ok := func(h ...string) want { return want{result: httprequest.ResultSuccess, code: 200, headers: h} }
	type enc struct {
		route, header, flag string
		decode              func(io.Reader) (io.Reader, error)
	}
	encs := []enc{
		{"/gzip", "Content-Encoding: gzip", "gzipped", func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
		{"/deflate", "Content-Encoding: deflate", "deflated", func(r io.Reader) (io.Reader, error) { return zlib.NewReader(r) }},
	}
	var cases []nodeCase
	for _, e := range encs {
		flagSet := func(t *testing.T, body []byte) {
			t.Helper()
			assert.Equal(t, true, jsonBody(t, body)[e.flag], "decoded JSON %q", body)
		}
		compressedSizes := func(t *testing.T, o outcome, n *httprequest.HTTPRequest) {
			cl, ok := headerValue(o.C.Headers, "Content-Length")
			require.True(t, ok)
			size, err := strconv.ParseInt(cl, 10, 64)
			require.NoError(t, err)
			assert.Equal(t, size, n.BodySize(), "§2.8.2.6 BodySize is the compressed length")
			assert.Equal(t, size, n.DownloadedBytes(), "§2.8.2.6 DownloadedBytes counts compressed bytes")
			assert.Greater(t, int64(len(o.C.Body)), size, "the delivered body is the decoded one")
		}
		cases = append(cases,
			nodeCase{name: "§2.7.4 decoded " + e.route, url: base + e.route, want: ok(e.header),
				check: checks(compressedSizes, func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
					flagSet(t, o.C.Body)
					h, _ := jsonBody(t, o.C.Body)["headers"].(map[string]any)
					assert.Equal(t, "gzip, deflate", h["Accept-Encoding"])
				})},
			nodeCase{name: "§2.7.4 decoded with a user Accept-Encoding " + e.route, url: base + e.route, headers: []string{"Accept-Encoding: identity"}, want: ok(e.header),
				check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) { flagSet(t, o.C.Body) }},
			nodeCase{name: "§2.2 accept_gzip off: raw " + e.route, url: base + e.route, setup: withoutGzip, want: ok(e.header),
				check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
					r, err := e.decode(bytes.NewReader(o.C.Body))
					require.NoError(t, err, "the raw compressed bytes are delivered")
					plain, err := io.ReadAll(r)
					require.NoError(t, err)
					flagSet(t, plain)
				}},
		)
	}
	runNodeCases(t, noFiles, cases)

	// §2.8.2.3: a limit at least the compressed length but below the decoded
	// length passes the head check and fails while decoding; the decoded
	// length itself passes. The same node measures the decoded length first
	// (its requests are identical, so are the answers' lengths).
	for _, e := range encs {
		t.Run("§2.8.2.3 limit on the decoded size "+e.route, func(t *testing.T) {
			eachDriver(t, nil, func(t *testing.T, d driver, n *httprequest.HTTPRequest) {
				o := d.run(t, n, base+e.route, nil, httpclient.MethodGet, nil)
				checkOutcome(t, ok(e.header), o)
				decoded := int64(len(o.C.Body))
				require.Greater(t, decoded, n.BodySize())
				require.NoError(t, n.SetBodySizeLimit(decoded-1))
				o = d.run(t, n, base+e.route, nil, httpclient.MethodGet, nil)
				checkOutcome(t, want{result: httprequest.ResultBodySizeLimitExceeded, code: 200, headers: []string{e.header}, noBody: true}, o)
				require.NoError(t, n.SetBodySizeLimit(decoded))
				o = d.run(t, n, base+e.route, nil, httpclient.MethodGet, nil)
				checkOutcome(t, ok(e.header), o)
				assert.Len(t, o.C.Body, int(decoded))
			})
		})
	}
}

// TestHTTPBinBrotli: httpbin's /brotli always answers "Content-Encoding: br".
// Godot decodes gzip and deflate only: the raw brotli bytes are delivered
// (§2.7.4), and they are the JSON compressed. With the brotli opt-in (§7.2)
// the node asks for br and decodes it; it decodes only under accept_gzip, as
// gzip (§2.8.2).
func TestHTTPBinBrotli(t *testing.T) {
	url := binURL(t, "/brotli")
	okBR := want{result: httprequest.ResultSuccess, code: 200, headers: []string{"Content-Encoding: br"}}
	raw := func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
		plain, err := io.ReadAll(brotli.NewReader(bytes.NewReader(o.C.Body)))
		require.NoError(t, err, "the raw brotli bytes are delivered")
		assert.Equal(t, true, jsonBody(t, plain)["brotli"])
	}
	cases := []nodeCase{
		{name: "§2.7.4 raw by default", url: url, want: okBR, check: raw},
		{name: "§2.7.4 raw with accept_gzip off", url: url, setup: withoutGzip, want: okBR, check: raw},
		{name: "§7.2 decoded with the opt-in", url: url, setup: withBrotli, want: okBR,
			check: func(t *testing.T, o outcome, n *httprequest.HTTPRequest) {
				m := jsonBody(t, o.C.Body)
				assert.Equal(t, true, m["brotli"])
				h, _ := m["headers"].(map[string]any)
				assert.Equal(t, "gzip, deflate, br", h["Accept-Encoding"])
				assert.Less(t, n.DownloadedBytes(), int64(len(o.C.Body)), "§2.8.2.6 compressed bytes counted")
			}},
		{name: "§7.2 opt-in needs accept_gzip", url: url, setup: setups(withBrotli, withoutGzip), want: okBR, check: raw},
	}
	runNodeCases(t, noFiles, cases)
}

// TestHTTPBinRedirectLimit: httpbin's three redirect routes make N hops to
// /get (/redirect/N goes through /relative-redirect/N-1…). max_redirects = N
// follows them all; N-1 fails on the N-th 302 with RESULT_REDIRECT_LIMIT_
// REACHED, that 302's code and headers and no body; 0 fails on the first;
// -1 never (§2.8.1.2). Relative targets replace the path, absolute ones are
// parsed as URLs (§2.8.1.5).
func TestHTTPBinRedirectLimit(t *testing.T) {
	addr := peers.HTTPBin(t)
	base := "http://" + addr
	const hops = 4
	getURL := func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
		assert.Equal(t, base+"/get", echoOf(t, o.C.Body).URL)
	}
	limit := func(location string) want {
		return want{result: httprequest.ResultRedirectLimitReached, code: 302, headers: []string{"Location: " + location}, noBody: true}
	}
	n := strconv.Itoa(hops)
	var cases []nodeCase
	for _, r := range []struct{ route, last, first string }{
		{"/redirect/", "/get", "/relative-redirect/" + strconv.Itoa(hops-1)},
		{"/relative-redirect/", "/get", "/relative-redirect/" + strconv.Itoa(hops-1)},
		{"/absolute-redirect/", base + "/get", base + "/absolute-redirect/" + strconv.Itoa(hops-1)},
	} {
		cases = append(cases,
			nodeCase{name: "§2.8.1.2 max N" + r.route, url: base + r.route + n, setup: withMaxRedirects(hops), want: want{result: httprequest.ResultSuccess, code: 200}, check: getURL},
			nodeCase{name: "§2.8.1.2 max N-1" + r.route, url: base + r.route + n, setup: withMaxRedirects(hops - 1), want: limit(r.last)},
			nodeCase{name: "§2.8.1.2 max 0" + r.route, url: base + r.route + n, setup: withMaxRedirects(0), want: limit(r.first)},
		)
	}
	cases = append(cases,
		nodeCase{name: "§2.8.1.2 default 8 follows redirect/8", url: base + "/redirect/8", want: want{result: httprequest.ResultSuccess, code: 200}, check: getURL},
		nodeCase{name: "§2.8.1.2 -1 follows redirect/12", url: base + "/redirect/12", setup: withMaxRedirects(-1), want: want{result: httprequest.ResultSuccess, code: 200}, check: getURL},
		nodeCase{name: "§2.9.7 counters after the limit", url: base + "/redirect/2", setup: withMaxRedirects(1), want: limit("/get"),
			check: func(t *testing.T, o outcome, n *httprequest.HTTPRequest) {
				assert.Zero(t, n.DownloadedBytes(), "no body was read")
			}},
	)
	runNodeCases(t, noFiles, cases)
}

// TestHTTPBinRedirectRules: which 3xx Godot follows and how (§2.8.1).
// httpbin's /status/301 and /status/302 answer a lower-case "location:"
// header, which Godot finds (case-insensitive "Location: ", §2.8.1.3); 303,
// 307 and 308 are delivered as they are (§2.8.1.1; httpbin 0.7.0's 308 has
// no Location). The method, the body and
// every header are sent again to the target (§2.8.1.7): a POST stays POST
// (httpbin's /redirect/1 then answers 405), Authorization and Cookie travel
// with it. The RFC 9110 opt-in (§7.2) follows 303 as a GET.
func TestHTTPBinRedirectRules(t *testing.T) {
	addr := peers.HTTPBin(t)
	base := "http://" + addr
	ok := want{result: httprequest.ResultSuccess, code: 200}
	atGet := func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
		assert.Equal(t, base+"/get", echoOf(t, o.C.Body).URL)
	}
	asIs := func(code int) nodeCase {
		return nodeCase{name: "§2.8.1.1 /status/" + strconv.Itoa(code) + " not followed", url: base + "/status/" + strconv.Itoa(code),
			want: want{result: httprequest.ResultSuccess, code: code, headers: []string{"location: /redirect/1", "Content-Length: 0"}, noBody: true}}
	}
	auth := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("u:p"))
	cases := []nodeCase{
		{name: "§2.8.1.3 /status/301 lower-case location followed", url: base + "/status/301", want: ok, check: atGet},
		{name: "§2.8.1.3 /status/302 lower-case location followed", url: base + "/status/302", want: ok, check: atGet},
		asIs(303),
		asIs(307),
		{name: "/status/308 (no Location in httpbin 0.7.0) delivered", url: base + "/status/308",
			want: want{result: httprequest.ResultSuccess, code: 308, headers: []string{"Content-Length: 0"}, noBody: true}},
		{name: "§2.8.1.7 POST stays POST (405 at /redirect/1)", method: httpclient.MethodPost, url: base + "/status/302", body: "x",
			want: want{result: httprequest.ResultSuccess, code: 405},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				allow, ok := headerValue(o.C.Headers, "Allow")
				require.True(t, ok, "Allow in %q", o.C.Headers)
				assert.Contains(t, allow, "GET")
				assert.NotContains(t, allow, "POST", "the POST reached /redirect/1")
				assert.Contains(t, string(o.C.Body), "Method Not Allowed")
			}},
		{name: "§2.8.1.7 method, body and headers re-sent", method: httpclient.MethodPost, url: base + "/redirect-to?url=/post&status_code=302",
			headers: []string{"X-Keep: 1", "Content-Type: text/plain"}, body: "payload", want: ok,
			check: echoed(func(t *testing.T, e echo) {
				assert.Equal(t, "payload", e.Data)
				assert.Equal(t, "1", e.Headers["X-Keep"])
				assert.Equal(t, "7", e.Headers["Content-Length"])
			})},
		{name: "§2.8.1.7 Authorization re-sent", url: base + "/redirect-to?url=/basic-auth/u/p", headers: []string{auth}, want: ok,
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Equal(t, map[string]any{"authenticated": true, "user": "u"}, jsonBody(t, o.C.Body))
			}},
		{name: "§2.8.1.5 absolute target", url: base + "/redirect-to?url=http://" + addr + "/get%3Fto%3D1", want: ok,
			check: echoed(func(t *testing.T, e echo) { assert.Equal(t, map[string]any{"to": "1"}, e.Args) })},
		{name: "§2.8.1.1 302 to a closed port", url: base + "/redirect-to?url=http://127.0.0.1:" + strconv.Itoa(testserver.ClosedPort(t)) + "/",
			want: want{result: httprequest.ResultCantConnect, noBody: true}},
		{name: "§7.2 RFC 9110: POST to 303 becomes GET", method: httpclient.MethodPost, url: base + "/status/303", body: "x",
			setup: func(t *testing.T, n *httprequest.HTTPRequest) { require.NoError(t, n.SetRFC9110Redirects(true)) }, want: ok, check: atGet},
	}
	runNodeCases(t, noFiles, cases)
}

// TestHTTPBinStatusCodes: every status is a RESULT_SUCCESS with its code
// (§2.10). httpbin's 204 and 304 carry neither Content-Length nor chunked
// framing: the client goes straight back to CONNECTED and the body is empty
// (§1.9, §2.6); the others carry Content-Length: 0 (§2.6.1.1) or a body. A
// "100 Continue" with header lines and a chunked empty body is taken as the
// final response (§1.8.7).
func TestHTTPBinStatusCodes(t *testing.T) {
	base := binURL(t, "")
	empty := func(code int, h ...string) nodeCase {
		return nodeCase{name: "/status/" + strconv.Itoa(code), url: base + "/status/" + strconv.Itoa(code),
			want: want{result: httprequest.ResultSuccess, code: code, headers: h, noBody: true}}
	}
	bodyHas := func(code int, text string, h ...string) nodeCase {
		return nodeCase{name: "/status/" + strconv.Itoa(code), url: base + "/status/" + strconv.Itoa(code),
			want: want{result: httprequest.ResultSuccess, code: code, headers: h},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Contains(t, string(o.C.Body), text)
			}}
	}
	noFraming := func(t *testing.T, o outcome, n *httprequest.HTTPRequest) {
		_, cl := headerValue(o.C.Headers, "Content-Length")
		_, te := headerValue(o.C.Headers, "Transfer-Encoding")
		assert.False(t, cl || te, "no framing headers in %q", o.C.Headers)
		assert.Equal(t, int64(-1), n.BodySize())
	}
	nc204 := empty(204, "Connection: keep-alive")
	nc204.name = "§1.9 " + nc204.name
	nc204.check = noFraming
	nc304 := empty(304)
	nc304.name = "§1.9 " + nc304.name
	nc304.check = noFraming
	nc100 := empty(100, "Transfer-Encoding: chunked")
	nc100.name = "§1.8.7 " + nc100.name
	cases := []nodeCase{
		empty(200, "Content-Length: 0"),
		empty(201, "Content-Length: 0"),
		empty(202, "Content-Length: 0"),
		nc204,
		empty(205, "Content-Length: 0"),
		nc304,
		empty(400, "Content-Length: 0"),
		empty(401, `WWW-Authenticate: Basic realm="Fake Realm"`),
		bodyHas(402, "pay me", "x-more-info: http://vimeo.com/22053820"),
		empty(404, "Content-Length: 0"),
		bodyHas(406, "Client did not request a supported media type"),
		empty(407, "Content-Length: 0"),
		empty(500, "Content-Length: 0"),
		empty(503, "Content-Length: 0"),
		nc100,
	}
	runNodeCases(t, noFiles, cases)
}

// TestHTTPBinBytes: /bytes/N?seed=S answers N seeded random bytes with
// Content-Length: delivered exactly (compared with a net/http fetch of the
// same seed). body_size_limit below N fails at the head with BodySize N and
// nothing read (§2.9.1, §2.9.7), N passes; the chunked /stream-bytes fails
// while reading (§2.6.1.5); download_file gets the bytes (§2.9.2).
func TestHTTPBinBytes(t *testing.T) {
	base := binURL(t, "")
	ok := func(h ...string) want { return want{result: httprequest.ResultSuccess, code: 200, headers: h} }
	var cases []nodeCase
	for _, n := range []int{1, 1000, 102400} {
		url := base + "/bytes/" + strconv.Itoa(n) + "?seed=" + strconv.Itoa(n%97)
		_, ref := refFetch(t, url)
		require.Len(t, ref, n, "reference fetch")
		cases = append(cases,
			nodeCase{name: "exact " + strconv.Itoa(n), url: url, want: ok("Content-Type: application/octet-stream", "Content-Length: "+strconv.Itoa(n)),
				exact: str(string(ref)), check: sizes(int64(n), int64(n))},
			nodeCase{name: "§2.9.1 limit N-1 " + strconv.Itoa(n), url: url, setup: withLimit(int64(n - 1)),
				want:  want{result: httprequest.ResultBodySizeLimitExceeded, code: 200, headers: []string{"Content-Length: " + strconv.Itoa(n)}, noBody: true},
				check: sizes(int64(n), 0)},
			nodeCase{name: "§2.9.1 limit N " + strconv.Itoa(n), url: url, setup: withLimit(int64(n)), want: ok(), exact: str(string(ref))},
		)
	}
	cases = append(cases,
		nodeCase{name: "§2.6.1.1 /bytes/0", url: base + "/bytes/0", want: want{result: httprequest.ResultSuccess, code: 200, headers: []string{"Content-Length: 0"}, noBody: true},
			check: sizes(-1, 0)},
		nodeCase{name: "§2.6.1.5 chunked stream-bytes over the limit", url: base + "/stream-bytes/50000?seed=1&chunk_size=4096", setup: withLimit(20000),
			want: want{result: httprequest.ResultBodySizeLimitExceeded, code: 200, headers: []string{"Transfer-Encoding: chunked"}, noBody: true}},
		nodeCase{name: "stream-bytes equal to the limit", url: base + "/stream-bytes/50000?seed=1&chunk_size=4096", setup: withLimit(50000),
			want: ok("Transfer-Encoding: chunked"), check: sizes(-1, 50000)},
	)
	runNodeCases(t, noFiles, cases)

	t.Run("§2.9.2 download_file", func(t *testing.T) {
		url := base + "/bytes/50000?seed=5"
		_, ref := refFetch(t, url)
		var target string
		eachDriver(t, func(t *testing.T, n *httprequest.HTTPRequest) {
			target = filepath.Join(t.TempDir(), "bytes.bin")
			require.NoError(t, n.SetDownloadFile(target))
		}, func(t *testing.T, d driver, n *httprequest.HTTPRequest) {
			o := d.run(t, n, url, nil, httpclient.MethodGet, nil)
			checkOutcome(t, want{result: httprequest.ResultSuccess, code: 200, noBody: true}, o)
			got, err := os.ReadFile(target)
			require.NoError(t, err)
			assert.Equal(t, ref, got)
		})
	})
}

// TestHTTPBinStream: /stream/N sends N JSON lines, one chunk each, with the
// request's echo: the node delivers all lines in order, with Godot's
// User-Agent echoed; BodySize is -1 (chunked) and DownloadedBytes the
// de-chunked length (§2.9.7); the limit cuts it while reading (§2.6.1.5).
func TestHTTPBinStream(t *testing.T) {
	base := binURL(t, "")
	lines := func(k int) func(t *testing.T, o outcome, n *httprequest.HTTPRequest) {
		return func(t *testing.T, o outcome, n *httprequest.HTTPRequest) {
			ls := strings.Split(strings.TrimSuffix(string(o.C.Body), "\n"), "\n")
			require.Len(t, ls, k)
			for i, l := range ls {
				e := echoOf(t, []byte(l))
				assert.Equal(t, wire.DefaultUserAgent(), e.Headers["User-Agent"], "line %d", i)
				assert.Equal(t, float64(i), jsonBody(t, []byte(l))["id"], "line %d", i)
			}
			assert.Equal(t, int64(-1), n.BodySize())
			assert.Equal(t, int64(len(o.C.Body)), n.DownloadedBytes())
		}
	}
	ok := want{result: httprequest.ResultSuccess, code: 200, headers: []string{"Transfer-Encoding: chunked", "Content-Type: application/json"}}
	cases := []nodeCase{
		{name: "stream/1", url: base + "/stream/1", want: ok, check: lines(1)},
		{name: "stream/30", url: base + "/stream/30", want: ok, check: lines(30)},
		{name: "stream/100 (httpbin's maximum) asked 150", url: base + "/stream/150", want: ok, check: lines(100)},
		{name: "§2.6.1.5 limit", url: base + "/stream/30", setup: withLimit(1000),
			want: want{result: httprequest.ResultBodySizeLimitExceeded, code: 200, headers: []string{"Transfer-Encoding: chunked"}, noBody: true}},
	}
	runNodeCases(t, noFiles, cases)
}

// TestHTTPBinDrip: /drip trickles numbytes asterisks over duration seconds,
// with Content-Length. The node waits for all of them (§2.6.1.7); the code
// parameter sets the status; a timeout shorter than the drip ends the request
// with RESULT_TIMEOUT, code 0, promptly (§2.11.1-2); the timeout counts the
// delay before the head too.
func TestHTTPBinDrip(t *testing.T) {
	t.Parallel() // waits on the peer's clock: overlap it with the other tests
	base := binURL(t, "")
	const timeout = 300 * time.Millisecond
	timedOut := func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
		assert.ErrorIs(t, o.Err, godot.ErrTimeout)
		assert.GreaterOrEqual(t, o.Elapsed, timeout)
		assert.Less(t, o.Elapsed, timeout+3*time.Second, "promptly")
	}
	cases := []nodeCase{
		{name: "§2.6.1.7 all bytes", url: base + "/drip?numbytes=10&duration=0.4&delay=0", want: want{result: httprequest.ResultSuccess, code: 200, headers: []string{"Content-Length: 10"}},
			exact: str("**********"),
			check: checks(sizes(10, 10), func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.GreaterOrEqual(t, o.Elapsed, 300*time.Millisecond, "the body trickled in")
			})},
		{name: "code 418", url: base + "/drip?numbytes=3&duration=0&delay=0&code=418", want: want{result: httprequest.ResultSuccess, code: 418}, exact: str("***")},
		{name: "§2.11 timeout mid-body", url: base + "/drip?numbytes=5&duration=2&delay=0", setup: withTimeout(timeout),
			want: want{result: httprequest.ResultTimeout, noBody: true}, check: timedOut},
		{name: "§2.11 timeout before the head", url: base + "/drip?numbytes=1&duration=0&delay=2", setup: withTimeout(timeout),
			want: want{result: httprequest.ResultTimeout, noBody: true}, check: timedOut},
		{name: "§2.11 timeout longer than the drip", url: base + "/drip?numbytes=4&duration=0.2&delay=0", setup: withTimeout(5 * time.Second),
			want: want{result: httprequest.ResultSuccess, code: 200}, exact: str("****")},
	}
	runNodeCases(t, noFiles, cases)
}

// TestHTTPBinDelay: /delay/N holds the answer N seconds. A timeout below N
// gives RESULT_TIMEOUT with code 0 and nothing else, the cause ERR_TIMEOUT
// (§2.11); a timeout above it lets the JSON through; Do's context deadline
// counts as the timeout (§7.3).
func TestHTTPBinDelay(t *testing.T) {
	t.Parallel() // waits on the peer's clock: overlap it with the other tests
	base := binURL(t, "")
	cases := []nodeCase{
		{name: "§2.11 timeout below the delay", url: base + "/delay/1", setup: withTimeout(250 * time.Millisecond),
			want: want{result: httprequest.ResultTimeout, noBody: true},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.ErrorIs(t, o.Err, godot.ErrTimeout)
				assert.Less(t, o.Elapsed, 900*time.Millisecond, "before httpbin answers")
			}},
		{name: "§2.11 timeout above the delay", url: base + "/delay/1", setup: withTimeout(5 * time.Second),
			want: want{result: httprequest.ResultSuccess, code: 200},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.GreaterOrEqual(t, o.Elapsed, time.Second)
				assert.Equal(t, base+"/delay/1", echoOf(t, o.C.Body).URL)
			}},
	}
	runNodeCases(t, noFiles, cases)
}

// TestHTTPBinBasicAuth: /basic-auth/user/passwd answers 200 with
// {"authenticated": true, "user": …} to the right Authorization header (the
// user's header, sent as given, §1.7.9), else 401 with WWW-Authenticate and
// an empty body — a RESULT_SUCCESS (§2.10). /hidden-basic-auth answers 404.
// Godot has no credentials support of its own.
func TestHTTPBinBasicAuth(t *testing.T) {
	base := binURL(t, "")
	basic := func(user, pass string) string {
		return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	denied := want{result: httprequest.ResultSuccess, code: 401, headers: []string{`WWW-Authenticate: Basic realm="Fake Realm"`, "Content-Length: 0"}, noBody: true}
	authenticated := func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
		assert.Equal(t, map[string]any{"authenticated": true, "user": "player"}, jsonBody(t, o.C.Body))
	}
	cases := []nodeCase{
		{name: "§1.7.9 with Authorization", url: base + "/basic-auth/player/s3cret", headers: []string{basic("player", "s3cret")},
			want: want{result: httprequest.ResultSuccess, code: 200}, check: authenticated},
		{name: "lower-case header name", url: base + "/basic-auth/player/s3cret", headers: []string{strings.Replace(basic("player", "s3cret"), "Authorization", "authorization", 1)},
			want: want{result: httprequest.ResultSuccess, code: 200}, check: authenticated},
		{name: "§2.10 without: 401", url: base + "/basic-auth/player/s3cret", want: denied},
		{name: "§2.10 wrong password: 401", url: base + "/basic-auth/player/s3cret", headers: []string{basic("player", "nope")}, want: denied},
		{name: "hidden-basic-auth: 404", url: base + "/hidden-basic-auth/player/s3cret", want: want{result: httprequest.ResultSuccess, code: 404}},
		{name: "hidden-basic-auth with Authorization", url: base + "/hidden-basic-auth/player/s3cret", headers: []string{basic("player", "s3cret")},
			want: want{result: httprequest.ResultSuccess, code: 200}, check: authenticated},
	}
	runNodeCases(t, noFiles, cases)
}

// TestHTTPBinCookies: Godot keeps no cookies (§2.1.4). /cookies/set answers
// a 302 to /cookies with Set-Cookie lines; the node follows it without them
// and delivers /cookies' answer ({"cookies": {}}) with /cookies' headers; with
// max_redirects 0 the 302 itself is delivered with both Set-Cookie lines, in
// order (§2.8.1.2, §1.8.5). A user Cookie header is sent, and sent again on
// the redirect (§2.8.1.7).
func TestHTTPBinCookies(t *testing.T) {
	base := binURL(t, "")
	cookiesAre := func(w map[string]any) func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
		return func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
			assert.Equal(t, map[string]any{"cookies": w}, jsonBody(t, o.C.Body))
			for _, h := range o.C.Headers {
				assert.False(t, strings.HasPrefix(strings.ToLower(h), "set-cookie"), "the final answer's headers only: %q", h)
			}
		}
	}
	cases := []nodeCase{
		{name: "§2.1.4 no cookie jar", url: base + "/cookies/set?a=1&b=2", want: want{result: httprequest.ResultSuccess, code: 200}, check: cookiesAre(map[string]any{})},
		{name: "§1.8.5 Set-Cookie lines on the 302", url: base + "/cookies/set?a=1&b=2", setup: withMaxRedirects(0),
			want: want{result: httprequest.ResultRedirectLimitReached, code: 302, headers: []string{"Location: /cookies", "Set-Cookie: a=1; Path=/", "Set-Cookie: b=2; Path=/"}, noBody: true},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				var set []string
				for _, h := range o.C.Headers {
					if strings.HasPrefix(h, "Set-Cookie:") {
						set = append(set, h)
					}
				}
				assert.Equal(t, []string{"Set-Cookie: a=1; Path=/", "Set-Cookie: b=2; Path=/"}, set, "in order")
			}},
		{name: "user Cookie header", url: base + "/cookies", headers: []string{"Cookie: session=abc; lang=fr"}, want: want{result: httprequest.ResultSuccess, code: 200},
			check: cookiesAre(map[string]any{"session": "abc", "lang": "fr"})},
		{name: "§2.8.1.7 Cookie re-sent on the redirect", url: base + "/cookies/set?b=2", headers: []string{"Cookie: a=1"}, want: want{result: httprequest.ResultSuccess, code: 200},
			check: cookiesAre(map[string]any{"a": "1"})},
		{name: "/cookies/delete", url: base + "/cookies/delete?a", headers: []string{"Cookie: a=1; c=3"}, want: want{result: httprequest.ResultSuccess, code: 200},
			check: cookiesAre(map[string]any{"a": "1", "c": "3"})},
	}
	runNodeCases(t, noFiles, cases)
}

// TestHTTPBinRange: /range/N serves N bytes of the alphabet and honours a
// user Range header: 206 with Content-Range and exactly the asked bytes, a
// suffix range, an unsatisfiable one as 416 with an empty body — all
// RESULT_SUCCESS (§2.10); without Range the whole 200.
func TestHTTPBinRange(t *testing.T) {
	base := binURL(t, "")
	alphabet := strings.Repeat("abcdefghijklmnopqrstuvwxyz", 4)
	partial := func(cr string) want {
		return want{result: httprequest.ResultSuccess, code: 206, headers: []string{"Content-Range: " + cr, "Accept-Ranges: bytes"}}
	}
	cases := []nodeCase{
		{name: "no Range", url: base + "/range/30", want: want{result: httprequest.ResultSuccess, code: 200, headers: []string{"Content-Length: 30"}}, exact: str(alphabet[:30])},
		{name: "bytes=5-9", url: base + "/range/30", headers: []string{"Range: bytes=5-9"}, want: partial("bytes 5-9/30"), exact: str(alphabet[5:10]), check: sizes(5, 5)},
		{name: "bytes=25-", url: base + "/range/30", headers: []string{"Range: bytes=25-"}, want: partial("bytes 25-29/30"), exact: str(alphabet[25:30])},
		{name: "bytes=-5", url: base + "/range/100", headers: []string{"Range: bytes=-5"}, want: partial("bytes 95-99/100"), exact: str(alphabet[95:100])},
		{name: "bytes=0-0", url: base + "/range/100", headers: []string{"Range: bytes=0-0"}, want: partial("bytes 0-0/100"), exact: str("a")},
		{name: "unsatisfiable: 416", url: base + "/range/30", headers: []string{"Range: bytes=50-60"},
			want: want{result: httprequest.ResultSuccess, code: 416, headers: []string{"Content-Range: bytes */30"}, noBody: true}},
		{name: "§2.9.1 limit below the range", url: base + "/range/100", headers: []string{"Range: bytes=10-59"}, setup: withLimit(49),
			want: want{result: httprequest.ResultBodySizeLimitExceeded, code: 206, headers: []string{"Content-Length: 50"}, noBody: true}},
	}
	runNodeCases(t, noFiles, cases)
}

// TestHTTPBinResponseHeaders: /response-headers sets the answer's headers
// from the query: the node delivers the stored lines as the server wrote
// them, duplicates kept in order (§1.8.5).
func TestHTTPBinResponseHeaders(t *testing.T) {
	base := binURL(t, "")
	cases := []nodeCase{
		{name: "§1.8.5 duplicates in order", url: base + "/response-headers?X-Multi=one&X-Multi=two&X-Single=%20spaced%20", want: want{result: httprequest.ResultSuccess, code: 200},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				var multi []string
				for _, h := range o.C.Headers {
					if strings.HasPrefix(h, "X-Multi:") {
						multi = append(multi, h)
					}
				}
				assert.Equal(t, []string{"X-Multi: one", "X-Multi: two"}, multi)
				v, ok := headerValue(o.C.Headers, "X-Single")
				assert.True(t, ok)
				assert.Equal(t, "spaced", v)
				m := jsonBody(t, o.C.Body)
				assert.Equal(t, []any{"one", "two"}, m["X-Multi"])
			}},
	}
	runNodeCases(t, noFiles, cases)
}

// TestRequestRawBytes: Godot neither escapes the URL (§1.7.6) nor rejects
// undecodable header bytes (§0.4.5). A space in the query splits the
// request line: gunicorn and nginx answer 400 with Connection: close, a
// RESULT_SUCCESS (§2.10); raw UTF-8 in the target reaches the server as is;
// a header byte that is not UTF-8 (gunicorn writes header values in
// Latin-1: é is the single byte E9) is delivered as U+FFFD.
func TestRequestRawBytes(t *testing.T) {
	bin := peers.HTTPBin(t)
	nginx := peers.Nginx(t)
	badRequest := want{result: httprequest.ResultSuccess, code: 400, headers: []string{"Connection: close"}}
	cases := []nodeCase{
		{name: "§1.7.6 space in the URL: gunicorn 400", url: "http://" + bin + "/get?q=a b", want: badRequest,
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Contains(t, string(o.C.Body), "Bad Request")
			}},
		{name: "§1.7.6 space in the URL: nginx 400", url: "http://" + nginx + "/method?q=a b", want: badRequest,
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Contains(t, string(o.C.Body), "400 Bad Request")
			}},
		{name: "§1.7.6 raw UTF-8 in the target", url: "http://" + nginx + "/method?é=✓", want: want{result: httprequest.ResultSuccess, code: 200},
			exact: str("GET /method?é=✓\n")},
		{name: "§1.7.6 raw UTF-8 in the path: httpbin", url: "http://" + bin + "/anything/é", want: want{result: httprequest.ResultSuccess, code: 200},
			check: echoed(func(t *testing.T, e echo) {
				// The two UTF-8 bytes arrive raw; WSGI decodes the path as Latin-1.
				assert.Equal(t, "http://"+bin+"/anything/Ã©", e.URL)
			})},
		{name: "§0.4.5 Latin-1 header byte", url: "http://" + bin + "/response-headers?X-U=%C3%A9", want: want{result: httprequest.ResultSuccess, code: 200, headers: []string{"X-U: \uFFFD"}},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Equal(t, "é", jsonBody(t, o.C.Body)["X-U"], "the JSON body has it right")
			}},
	}
	runNodeCases(t, noFiles, cases)
}

// TestRequestKeepAliveAfterAbnormalEnds: with the keep-alive option (§7.2)
// a node reuses its connection, so whatever ended a request early must not
// leave bytes for the next one: after a redirect limit (the 302's HTML body
// unread, §2.8.1.2), a size limit at the head and mid-body, plain and
// gzip (§2.9.1, §2.8.2.3), a timeout (§2.11), a 400 with Connection: close
// and a 100 taken as final (§1.8.7), the next request gets its own answer.
func TestRequestKeepAliveAfterAbnormalEnds(t *testing.T) {
	bin := peers.HTTPBin(t)
	cases := []struct {
		name  string
		path  string
		setup func(t *testing.T, n *httprequest.HTTPRequest)
		want  want
	}{
		{"§2.8.1.2 redirect limit", "/redirect/2", withMaxRedirects(0),
			want{result: httprequest.ResultRedirectLimitReached, code: 302, headers: []string{"Content-Length: 227"}, noBody: true}},
		{"§2.9.1 limit at the head", "/bytes/5000", withLimit(100),
			want{result: httprequest.ResultBodySizeLimitExceeded, code: 200, noBody: true}},
		{"§2.6.1.5 limit mid-body", "/stream/20", withLimit(500),
			want{result: httprequest.ResultBodySizeLimitExceeded, code: 200, noBody: true}},
		{"§2.8.2.3 limit on the decoded body", "/gzip", withLimit(150),
			want{result: httprequest.ResultBodySizeLimitExceeded, code: 200, noBody: true}},
		{"§2.11 timeout", "/drip?numbytes=5&duration=1&delay=0", withTimeout(200 * time.Millisecond),
			want{result: httprequest.ResultTimeout, noBody: true}},
		{"§1.7.6 400 with close", "/get?q=a b", nil, want{result: httprequest.ResultSuccess, code: 400}},
		{"§1.8.7 100 as final", "/status/100", nil, want{result: httprequest.ResultSuccess, code: 100, noBody: true}},
		{"HEAD", "/bytes/100", nil, want{result: httprequest.ResultSuccess, code: 200, noBody: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, n *httprequest.HTTPRequest) {
				require.NoError(t, n.SetKeepAlive(true))
			}, func(t *testing.T, d driver, n *httprequest.HTTPRequest) {
				tp := newTap(t, bin)
				base := "http://" + tp.addr
				o := d.run(t, n, base+"/anything/first", nil, httpclient.MethodGet, nil)
				checkOutcome(t, want{result: httprequest.ResultSuccess, code: 200}, o)
				if tc.setup != nil {
					tc.setup(t, n)
				}
				m := httpclient.MethodGet
				if tc.name == "HEAD" {
					m = httpclient.MethodHead
				}
				o = d.run(t, n, base+tc.path, nil, m, nil)
				checkOutcome(t, tc.want, o)
				require.NoError(t, n.SetBodySizeLimit(-1))
				require.NoError(t, n.SetTimeout(0))
				require.NoError(t, n.SetMaxRedirects(8))
				o = d.run(t, n, base+"/anything/next", nil, httpclient.MethodGet, nil)
				checkOutcome(t, want{result: httprequest.ResultSuccess, code: 200}, o)
				assert.Equal(t, base+"/anything/next", echoOf(t, o.C.Body).URL, "the next request's own answer")
				assert.LessOrEqual(t, tp.accepted(), 3)
			})
		})
	}
}

// TestHTTPBinRedirectTargets: the Location httpbin's /redirect-to sends,
// followed by Godot's rules (§2.8.1.5: a target starting with "http" is a
// URL, anything else replaces the path verbatim and must then pass
// request()'s URL check, §1.7.2) and by the RFC 9110 opt-in (§7.2: a URI
// reference resolved against the request URL).
func TestHTTPBinRedirectTargets(t *testing.T) {
	addr := peers.HTTPBin(t)
	base := "http://" + addr
	rfc := func(t *testing.T, n *httprequest.HTTPRequest) { require.NoError(t, n.SetRFC9110Redirects(true)) }
	ok := want{result: httprequest.ResultSuccess, code: 200}
	atGet := func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
		assert.Equal(t, base+"/get", echoOf(t, o.C.Body).URL)
	}
	failed := want{result: httprequest.ResultConnectionError, noBody: true}
	invalidURL := func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
		assert.ErrorIs(t, o.Err, httpclient.ErrInvalidParameter, "§1.7.2 request() refuses the target")
	}
	to := func(loc string) string { return base + "/redirect-to?url=" + loc }
	cases := []nodeCase{
		{name: "§2.8.1.5 //host/path sent as a path: 404", url: to("//" + addr + "/get"), want: want{result: httprequest.ResultSuccess, code: 404}},
		{name: "§7.2 //host/path as a network-path reference", url: to("//" + addr + "/get"), setup: rfc, want: ok, check: atGet},
		{name: "§2.8.1.5 relative path without / fails", url: to("get"), want: failed, check: invalidURL},
		{name: "§7.2 relative path resolved", url: to("get"), setup: rfc, want: ok, check: atGet},
		{name: "§2.8.1.5 upper-case HTTP:// is not a URL", url: to("HTTP://" + addr + "/get"), want: failed, check: invalidURL},
		{name: "§7.2 upper-case HTTP:// is a URL", url: to("HTTP://" + addr + "/get"), setup: rfc, want: ok, check: atGet},
		{name: "§2.8.1.5 dot segments sent verbatim", url: to("/anything/%2e%2e/x"), want: ok},
		{name: "§7.2 dot segments removed: 404", url: to("/anything/%2e%2e/x"), setup: rfc, want: want{result: httprequest.ResultSuccess, code: 404}},
		{name: "§2.8.1.5 host without path", url: to(base), want: ok,
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Contains(t, string(o.C.Body), "httpbin")
			}},
	}
	runNodeCases(t, noFiles, cases)
}
