package integration

import (
	"bufio"
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/peers"
	"github.com/gdhttp/gdhttp/wire"
)

// curlResult is what curl fetched: the final status code, the final
// response's header lines (after any redirects) and the body.
type curlResult struct {
	code    int
	headers []string
	body    []byte
}

// runCurl runs curl -sS -o <file> -D <file> with args and returns what it
// fetched; the test fails if curl fails.
func runCurl(t *testing.T, curl string, args ...string) curlResult {
	t.Helper()
	dir := t.TempDir()
	bodyFile, headFile := filepath.Join(dir, "body"), filepath.Join(dir, "headers")
	ctx, cancel := context.WithTimeout(context.Background(), driveTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, curl, append([]string{"-sS", "-o", bodyFile, "-D", headFile}, args...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "curl %q: %s", args, out)
	var r curlResult
	r.body, err = os.ReadFile(bodyFile)
	if os.IsNotExist(err) { // curl writes no file for an empty body
		err = nil
	}
	require.NoError(t, err)
	head, err := os.ReadFile(headFile)
	require.NoError(t, err)
	sc := bufio.NewScanner(bytes.NewReader(head))
	for sc.Scan() { // one block per response; the last one is the final response
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "HTTP/"):
			f := strings.Fields(line)
			require.GreaterOrEqual(t, len(f), 2, "status line %q", line)
			r.code, err = strconv.Atoi(f[1])
			require.NoError(t, err)
			r.headers = nil
		case line != "":
			r.headers = append(r.headers, line)
		}
	}
	require.NotZero(t, r.code, "curl wrote no status line")
	return r
}

// comparedHeaders are the response headers whose lines must be the same for
// curl and gdhttp when they fetch the same URL (Date, and what depends on it,
// are left out).
var comparedHeaders = []string{"Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding", "Location", "ETag", "Last-Modified"}

// pickHeaders returns the lines of headers named in comparedHeaders, in order.
func pickHeaders(lines []string) []string {
	var out []string
	for _, l := range lines {
		k, _, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		for _, name := range comparedHeaders {
			if strings.EqualFold(strings.TrimSpace(k), name) {
				out = append(out, l)
			}
		}
	}
	return out
}

// TestCurlSameResponses fetches a set of nginx and httpbin URLs with curl
// and with gdhttp and asserts the same status code, body and framing headers:
//   - HTTPRequest (Do) against "curl --compressed" (gzip bodies decoded,
//     §2.8.2) and, where Godot follows the redirect (301/302, §2.8.1.1),
//     "curl -L"; 303/307/308 are compared unfollowed;
//   - HTTPClient against plain curl, nothing followed or decoded (§1.2, §1.10).
func TestCurlSameResponses(t *testing.T) {
	curl := peers.Curl(t)
	nginx := peers.Nginx(t)
	tlsAddr, _ := peers.NginxTLS(t)
	bin := peers.HTTPBin(t)
	ca := os.Getenv(peers.EnvNginxCA)
	n, b := "http://"+nginx, "http://"+bin
	cases := []struct {
		url    string
		follow bool // Godot follows it (301/302): curl -L
	}{
		{url: n + "/static/1k.bin"},
		{url: n + "/static/1m.bin"},
		{url: n + "/static/text.txt"},
		{url: n + "/static/page.html"},
		{url: n + "/static/data.json"},
		{url: n + "/static/image.png"},
		{url: n + "/static/empty.txt"},
		{url: n + "/chunked/1m.bin"},
		{url: n + "/chunked/text.txt"},
		{url: n + "/chunked-trailer/page.html"},
		{url: n + "/eof/1m.bin"},
		{url: n + "/eof/text.txt"},
		{url: n + "/close/1m.bin"},
		{url: n + "/method?q=1"},
		{url: n + "/status/204"},
		{url: n + "/status/401"},
		{url: n + "/status/503"},
		{url: n + "/no/such/file"},
		{url: n + "/redirect/301", follow: true},
		{url: n + "/redirect/302?to=/static/text.txt", follow: true},
		{url: n + "/redirect/relative", follow: true},
		{url: n + "/redirect/chain/6", follow: true},
		{url: n + "/redirect/303"},
		{url: n + "/redirect/307"},
		{url: n + "/redirect/308"},
		{url: n + "/httpbin/bytes/3000?seed=5"},
		{url: n + "/httpbin/stream-bytes/20000?seed=5&chunk_size=999"},
		{url: "https://" + tlsAddr + "/static/1m.bin"},
		{url: "https://" + tlsAddr + "/chunked/text.txt"},
		{url: "https://" + tlsAddr + "/eof/page.html"},
		{url: b + "/bytes/4096?seed=42"},
		{url: b + "/stream-bytes/50000?seed=9&chunk_size=777"},
		{url: b + "/robots.txt"},
		{url: b + "/html"},
		{url: b + "/xml"},
		{url: b + "/image/png"},
		{url: b + "/deny"},
		{url: b + "/base64/Z2RodHRwIHRlc3Q="},
		{url: b + "/encoding/utf8"},
		{url: b + "/status/418"},
		{url: b + "/status/500"},
		{url: b + "/redirect-to?url=/robots.txt", follow: true},
		{url: b + "/redirect-to?url=/html&status_code=307"},
	}
	tlsOpts := func() *httpclient.TLSOptions {
		_, roots := peers.NginxTLS(t)
		return httpclient.TLSClient(roots, "")
	}
	for _, tc := range cases {
		u, err := url.Parse(tc.url)
		require.NoError(t, err)
		name := u.Host + strings.ReplaceAll(u.Path, "/", "_")
		curlArgs := []string{"--cacert", ca}
		t.Run(name+"/request", func(t *testing.T) {
			args := append([]string{"--compressed"}, curlArgs...)
			if tc.follow {
				args = append(args, "-L")
			}
			want := runCurl(t, curl, append(args, tc.url)...)
			nd := httprequest.New()
			defer nd.Close()
			require.NoError(t, nd.SetTLSOptions(tlsOpts()))
			ctx, cancel := context.WithTimeout(context.Background(), driveTimeout)
			defer cancel()
			got, err := nd.Do(ctx, tc.url, nil, httpclient.MethodGet, nil)
			require.NoError(t, err)
			assert.Equal(t, want.code, got.ResponseCode, "status code")
			assert.Equal(t, drive.SHA256(want.body), drive.SHA256(got.Body), "body (curl %d bytes, gdhttp %d)", len(want.body), len(got.Body))
			assert.Equal(t, pickHeaders(want.headers), pickHeaders(got.Headers), "framing headers")
		})
		t.Run(name+"/client", func(t *testing.T) {
			want := runCurl(t, curl, append(curlArgs, tc.url)...)
			port, err := strconv.Atoi(u.Port())
			require.NoError(t, err)
			var opts *httpclient.TLSOptions
			if u.Scheme == "https" {
				opts = tlsOpts()
			}
			r := newClientRun(t, true)
			require.NoError(t, r.connect(u.Hostname(), port, opts))
			resp := r.request(httpclient.MethodGet, u.RequestURI(), nil, "", viaChunks)
			assert.Equal(t, want.code, resp.Code, "status code")
			assert.Equal(t, drive.SHA256(want.body), drive.SHA256(resp.Body), "body (curl %d bytes, gdhttp %d)", len(want.body), len(resp.Body))
			assert.Equal(t, pickHeaders(want.headers), pickHeaders(resp.Headers), "framing headers")
		})
	}
}

// echoCase is one request sent by curl and by gdhttp to httpbin's /anything.
type echoCase struct {
	name    string
	method  httpclient.Method
	query   string
	headers []string
	body    string
	form    map[string]any // what httpbin decodes from a form body (reported instead of "data")
}

// TestCurlSameEcho sends the same request (method, query, headers, body)
// with curl and with gdhttp to httpbin's /anything, which echoes what it
// received, and asserts the two echoes are identical — method, arguments,
// body, JSON, form and every header. curl is told to send exactly the headers
// gdhttp is documented to send: HTTPClient adds Host, User-Agent (Godot's
// format), Accept and a Content-Length only for a non-empty body (§1.7.10), and
// HTTPRequest adds "Accept-Encoding: gzip, deflate" after the user's headers
// (§2.4.6); neither adds Content-Type, Connection or Expect (§1.7.10,
// §2.4.10), so curl's own are removed.
func TestCurlSameEcho(t *testing.T) {
	curl := peers.Curl(t)
	bin := peers.HTTPBin(t)
	host, port := splitAddr(t, bin)
	jsonPayload := `{"name":"gdhttp","n":[1,2,3],"s":"héllo wörld"}`
	cases := []echoCase{
		{name: "POST JSON", method: httpclient.MethodPost, query: "?a=1&b=two%20words&a=3", headers: []string{"Content-Type: application/json", "X-Gdhttp-Test: yes"}, body: jsonPayload},
		{name: "POST form", method: httpclient.MethodPost, headers: []string{"Content-Type: application/x-www-form-urlencoded"}, body: "k=v&list=1&list=2&sp=a+b",
			form: map[string]any{"k": "v", "list": []any{"1", "2"}, "sp": "a b"}},
		{name: "POST empty body", method: httpclient.MethodPost},
		{name: "POST untyped body", method: httpclient.MethodPost, body: strings.Repeat("0123456789", 200)},
		{name: "PUT", method: httpclient.MethodPut, query: "?id=7", headers: []string{"Content-Type: text/plain; charset=utf-8"}, body: "new text\n"},
		{name: "PATCH", method: httpclient.MethodPatch, headers: []string{"Content-Type: application/json"}, body: `{"op":"replace"}`},
		{name: "DELETE", method: httpclient.MethodDelete, query: "?force=true", headers: []string{"Authorization: Bearer abc.def"}},
		{name: "GET", method: httpclient.MethodGet, query: "?x=%C3%A9&y", headers: []string{"X-One: 1", "X-Two: two"}},
		{name: "§2.4.10 GET with a body", method: httpclient.MethodGet, headers: []string{"Content-Type: text/plain"}, body: "body on a GET"},
	}
	ua := wire.DefaultUserAgent()
	for _, ec := range cases {
		target := "/anything" + ec.query
		for _, via := range []string{"client", "request"} {
			t.Run(ec.name+"/"+via, func(t *testing.T) {
				var got []byte
				sent := append([]string(nil), ec.headers...)
				switch via {
				case "client":
					r := newClientRun(t, true)
					require.NoError(t, r.connect(host, port, nil))
					resp := r.request(ec.method, target, ec.headers, ec.body, viaChunks)
					require.Equal(t, 200, resp.Code)
					got = resp.Body
				case "request":
					nd := httprequest.New()
					defer nd.Close()
					ctx, cancel := context.WithTimeout(context.Background(), driveTimeout)
					defer cancel()
					c, err := nd.Do(ctx, "http://"+bin+target, ec.headers, ec.method, []byte(ec.body))
					require.NoError(t, err)
					require.Equal(t, 200, c.ResponseCode)
					got = c.Body
					sent = append(sent, "Accept-Encoding: gzip, deflate")
				}
				args := []string{"-X", ec.method.String(), "-H", "User-Agent: " + ua, "-H", "Accept: */*", "-H", "Expect:"}
				if _, ok := headerValue(ec.headers, "Content-Type"); !ok {
					args = append(args, "-H", "Content-Type:") // curl adds one for --data-binary
				}
				for _, h := range sent {
					args = append(args, "-H", h)
				}
				if ec.body != "" {
					args = append(args, "--data-binary", ec.body)
				}
				want := runCurl(t, curl, append(args, "http://"+bin+target)...)
				require.Equal(t, 200, want.code)
				wantEcho, gotEcho := jsonBody(t, want.body), jsonBody(t, got)
				assert.Equal(t, wantEcho, gotEcho, "httpbin's echo of curl's request and of gdhttp's")
				// And the echo is of the request the case meant to send.
				assert.Equal(t, ec.method.String(), gotEcho["method"])
				if ec.form != nil {
					assert.Equal(t, ec.form, gotEcho["form"], "form body")
				} else {
					assert.Equal(t, ec.body, gotEcho["data"], "body")
				}
			})
		}
	}
}
