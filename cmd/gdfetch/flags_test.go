package main

import (
	"context"
	"encoding/base64"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

func TestParseFetchDefaultsAreGodots(t *testing.T) {
	c, err := parseFetch(context.Background(), []string{"http://h/x"})
	require.NoError(t, err)
	assert.Equal(t, httpclient.MethodGet, c.method)
	assert.Equal(t, httprequest.DefaultMaxRedirects, c.maxRedirects) // §2.2: max_redirects 8
	assert.Equal(t, int64(httprequest.DefaultBodySizeLimit), c.bodyLimit)
	assert.Equal(t, httprequest.DefaultDownloadChunkSize, c.chunkSize)
	assert.Zero(t, c.timeout)
	assert.False(t, c.noGzip)
	assert.Nil(t, c.tls)
	assert.False(t, c.hasBody)
}

func TestParseFetchFlagsAfterURLAndHeaderOrder(t *testing.T) {
	c, err := parseFetch(context.Background(), []string{
		"-H", "X-First: 1", "http://h:8080/api", "-H", "X-Second: 2", "-X", "put",
		"--header", "X-Third: 3", "-m", "1.5", "--max-redirs", "2", "--max-filesize", "2k",
		"--no-gzip", "--chunk-size", "4096", "--threads", "-o", "out.bin", "-x", "proxy:3128",
		"--strict", "--rfc-redirects", "--brotli", "--keep-alive", "--drain", "--in-place",
		"-i", "-s", "-v", "--json", "-f", "-A", "MyGame/1.0", "-L", "--compressed",
	})
	require.NoError(t, err)
	assert.Equal(t, "http://h:8080/api", c.url)
	assert.Equal(t, []string{"X-First: 1", "X-Second: 2", "X-Third: 3", "User-Agent: MyGame/1.0"}, c.headers)
	assert.Equal(t, httpclient.MethodPut, c.method)
	assert.Equal(t, 1500*time.Millisecond, c.timeout)
	assert.Equal(t, 2, c.maxRedirects)
	assert.Equal(t, int64(2048), c.bodyLimit)
	assert.True(t, c.noGzip)
	assert.Equal(t, 4096, c.chunkSize)
	assert.True(t, c.threads)
	assert.Equal(t, "out.bin", c.output)
	assert.Equal(t, "proxy", c.proxyHost)
	assert.Equal(t, 3128, c.proxyPort)
	assert.True(t, c.strict && c.rfcRedirects && c.brotli && c.keepAlive && c.drain && c.inPlace)
	assert.True(t, c.include && c.silent && c.verbose && c.json && c.fail)
}

func TestParseFetchHeaderValuesWithCommasStayWhole(t *testing.T) {
	// pflag's StringSlice would split "a, b": -H must keep each line intact.
	c, err := parseFetch(context.Background(), []string{"http://h/", "-H", "Accept: a, b", "-H", "Accept: c"})
	require.NoError(t, err)
	assert.Equal(t, []string{"Accept: a, b", "Accept: c"}, c.headers)
}

func TestParseFetchData(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "body.txt")
	require.NoError(t, os.WriteFile(file, []byte("line1\r\nline2\n"), 0o600))
	tests := []struct {
		name   string
		args   []string
		body   string
		method httpclient.Method
	}{
		{"-d makes POST", []string{"-d", "a=1"}, "a=1", httpclient.MethodPost},
		{"-d repeated joins with &", []string{"-d", "a=1", "-d", "b=2"}, "a=1&b=2", httpclient.MethodPost},
		{"-d @file drops CR LF", []string{"-d", "@" + file}, "line1line2", httpclient.MethodPost},
		{"--data-binary @file is raw", []string{"--data-binary", "@" + file}, "line1\r\nline2\n", httpclient.MethodPost},
		{"-X wins", []string{"-d", "x", "-X", "PATCH"}, "x", httpclient.MethodPatch},
		{"empty -d is a body too", []string{"-d", ""}, "", httpclient.MethodPost},
		{"-d and --data-binary in command-line order", []string{"--data-binary", "first", "-d", "second", "--data-binary", "third"}, "first&second&third", httpclient.MethodPost},
		{"a literal -d keeps CR and LF", []string{"-d", "a\r\nb"}, "a\r\nb", httpclient.MethodPost},
		{"-d @file drops CR LF in order", []string{"-d", "x", "-d", "@" + file}, "x&line1line2", httpclient.MethodPost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFetch(context.Background(), append([]string{"http://h/"}, tt.args...))
			require.NoError(t, err)
			assert.True(t, c.hasBody)
			assert.Equal(t, tt.body, string(c.body))
			assert.Equal(t, tt.method, c.method)
		})
	}
}

func TestParseFetchHeadAndStdout(t *testing.T) {
	c, err := parseFetch(context.Background(), []string{"-I", "http://h/", "-o", "-"})
	require.NoError(t, err)
	assert.Equal(t, httpclient.MethodHead, c.method)
	assert.True(t, c.include)
	assert.Empty(t, c.output)
	c, err = parseFetch(context.Background(), []string{"http://h/", "-o", "-dash"})
	require.NoError(t, err)
	assert.Equal(t, "-dash", c.output)
}

func TestParseFetchSchemeAdded(t *testing.T) {
	tests := []struct{ in, want string }{
		{"localhost:8080/x", "http://localhost:8080/x"},
		{"127.0.0.1:8080/p?to=http://x", "http://127.0.0.1:8080/p?to=http://x"}, // "://" in the query
		{"h/p#http://x", "http://h/p#http://x"},
		{"h?u=a://b", "http://h?u=a://b"},
		{"http://h/x", "http://h/x"},
		{"HTTPS://h/x", "HTTPS://h/x"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, withScheme(tt.in), tt.in)
	}
	c, err := parseFetch(context.Background(), []string{"localhost:8080/x"})
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:8080/x", c.url)
	for _, in := range []string{"ftp://h/", "a+b.c-d://h/"} {
		assert.Equal(t, in, withScheme(in), "a scheme name is kept (ParseRequestURL refuses all but http and https)")
	}
	assert.Equal(t, "http://1a://h", withScheme("1a://h"), "a scheme starts with a letter")
}

// TestSchemelessURLWithURLInQuery: a URL without a scheme whose query holds
// "://" gets http:// too, as with curl 7.88 (compared when installed).
func TestSchemelessURLWithURLInQuery(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
	url := "127.0.0.1:" + strconv.Itoa(srv.Port()) + "/p?to=http://x"
	if code, ok := curlExit(t, t.TempDir(), url); ok {
		require.Equal(t, 0, code)
		line, _ := lastRequest(t, srv)
		require.Equal(t, "GET /p?to=http://x HTTP/1.1", line, "curl")
	}
	code, _, stderr := gdfetch(t, "-s", url)
	assert.Equal(t, 0, code, stderr)
	line, _ := lastRequest(t, srv)
	assert.Equal(t, "GET /p?to=http://x HTTP/1.1", line)
}

func TestParseFetchErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no URL", []string{"-v"}, "no URL"},
		{"two URLs", []string{"http://a/", "http://b/"}, "one URL"},
		{"unknown flag", []string{"--bogus", "http://a/"}, "unknown flag"},
		{"bad method", []string{"-X", "BREW", "http://a/"}, "sends only GET"},
		{"bad scheme", []string{"ftp://a/"}, "bad URL"},
		{"bad port", []string{"http://a:99999/"}, "bad URL"},
		{"chunk size below Godot's range", []string{"--chunk-size", "100", "http://a/"}, "256…16777216"},
		{"chunk size above Godot's range", []string{"--chunk-size", "16777217", "http://a/"}, "256…16777216"},
		{"negative timeout", []string{"-m", "-1", "http://a/"}, "--max-time"},
		{"timeout over 1e9 s", []string{"-m", "1000000001", "http://a/"}, "--max-time"},
		{"bad size", []string{"--max-filesize", "ten", "http://a/"}, "--max-filesize"},
		{"missing data file", []string{"-d", "@/nonexistent/file", "http://a/"}, "-d @/nonexistent/file: open /nonexistent/file: no such file"},
		{"missing data-binary file", []string{"--data-binary", "@/nonexistent/file", "http://a/"}, "--data-binary @/nonexistent/file: open"},
		{"bad proxy scheme", []string{"-x", "socks5://p:1", "http://a/"}, "only http://"},
		{"bad proxy port", []string{"-x", "p:0", "http://a/"}, "bad port"},
		{"missing cacert", []string{"--cacert", "/nonexistent.pem", "https://a/"}, "--cacert"},
		{"cacert without a certificate", []string{"--cacert", "flags.go", "https://a/"}, "--cacert flags.go: no PEM certificate in it"},
		{"header without a colon", []string{"-H", "NoColon", "http://a/"}, `-H "NoColon": a header line is "Name: value"`},
		{"header without a name", []string{"-H", ": v", "http://a/"}, `-H ": v"`},
		{"header with CR LF", []string{"-H", "X: a\r\nY: b", "http://a/"}, `cannot hold CR, LF or NUL`},
		// curl 7.88: "You can only select one HTTP request method!" (exit 2).
		{"-I with -d", []string{"-I", "-d", "x", "http://a/"}, "one request method"},
		{"--head with --data-binary", []string{"--data-binary", "x", "--head", "http://a/"}, "one request method"},
		{"-I with -F", []string{"-I", "-F", "a=b", "http://a/"}, "one request method"},
		{"-I with -T", []string{"-I", "-T", "doc.go", "http://a/"}, "one request method"},
	}
	// curl's own status for a malformed URL (3), a scheme it has no
	// protocol for (1), and a file it cannot read (26); 2 for the rest.
	codes := map[string]int{"bad scheme": exitProtocol, "bad port": exitURL,
		"missing data file": exitRead, "missing data-binary file": exitRead,
		"missing cacert": exitCACert, "cacert without a certificate": exitCACert} // curl 7.88: 77 for both
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFetch(context.Background(), tt.args)
			var ue *usageError
			require.ErrorAs(t, err, &ue)
			assert.Contains(t, ue.Error(), tt.msg)
			code, _, stderr := gdfetch(t, tt.args...)
			want, ok := codes[tt.name]
			if !ok {
				want = exitUsage
			}
			assert.Equal(t, want, code)
			assert.Contains(t, stderr, tt.msg)
		})
	}
}

// The ends of the ranges TestParseFetchErrors refuses past: --chunk-size
// is Godot's read_chunk_size, 256 ≤ v ≤ 2^24 (§1.3, §2.2), and -m takes up
// to 1e9 seconds.
func TestParseFetchRangeEnds(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		chunk   int
		timeout time.Duration
	}{
		{[]string{"--chunk-size", "256"}, 256, 0},
		{[]string{"--chunk-size", "16777216"}, 1 << 24, 0},
		{[]string{"-m", "1e9"}, httprequest.DefaultDownloadChunkSize, 1e9 * time.Second},
	} {
		c, err := parseFetch(context.Background(), append(tc.args, "http://a/"))
		require.NoError(t, err, "%q", tc.args)
		assert.Equal(t, tc.chunk, c.chunkSize, "%q", tc.args)
		assert.Equal(t, tc.timeout, c.timeout, "%q", tc.args)
	}
}

func TestParseFetchHelp(t *testing.T) {
	_, err := parseFetch(context.Background(), []string{"--help"})
	assert.ErrorIs(t, err, pflag.ErrHelp)
	code, out, _ := gdfetch(t, "-h")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "usage: gdfetch")
	assert.Contains(t, out, "download_file")
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "512": 512, "1k": 1024, "2M": 2 << 20, "1G": 1 << 30, "-1": -1, "-5": -1,
		"9223372036854775807": math.MaxInt64, "8589934591G": math.MaxInt64 &^ (1<<30 - 1)} { // the largest that fit
		got, err := parseSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "k", "1.5M", "99999999999999999G"} {
		_, err := parseSize(in)
		assert.Error(t, err, in)
	}
}

func TestParseProxy(t *testing.T) {
	for in, want := range map[string]struct {
		host       string
		port       int
		user, pass string
	}{
		"p":                          {"p", 1080, "", ""},
		"p:3128":                     {"p", 3128, "", ""},
		"http://p:3128/":             {"p", 3128, "", ""},
		"HTTP://10.0.0.1:8":          {"10.0.0.1", 8, "", ""},
		"[::1]:9":                    {"::1", 9, "", ""},
		"http://alice:s3cret@p:3128": {"p", 3128, "alice", "s3cret"},
		"al%40ce:p%3Ass@[::1]:9":     {"::1", 9, "al@ce", "p:ss"},
		"http://a:b@c@p/":            {"p", 1080, "a", "b@c"},
		"p:1":                        {"p", 1, "", ""},
		"p:65535":                    {"p", 65535, "", ""},
	} {
		h, p, u, err := parseProxy(in)
		require.NoError(t, err, in)
		assert.Equal(t, want.host, h, in)
		assert.Equal(t, want.port, p, in)
		if want.user == "" {
			assert.Nil(t, u, in)
			continue
		}
		require.NotNil(t, u, in)
		pass, _ := u.Password()
		assert.Equal(t, want.user, u.Username(), in)
		assert.Equal(t, want.pass, pass, in)
	}
	_, _, _, err := parseProxy("@p:1")
	assert.ErrorContains(t, err, "credentials in the proxy are USER:PASSWORD", "an empty userinfo")
}

// TestNoPasswordInMessages: a refused -x, --proxy-user or URL never echoes
// the password.
func TestNoPasswordInMessages(t *testing.T) {
	for _, args := range [][]string{
		{"-x", "socks5://alice:s3cret@127.0.0.1:1080", "http://example.com/"},
		{"-x", "http://alice:s3cret@127.0.0.1:99999", "http://example.com/"},
		{"-x", "http://alice:s3cret@/", "http://example.com/"},
		{"--proxy-user", "s3cret", "http://example.com/"},
		{"http://alice:s3cret@example.com:99999/"},
		{"-x", "alice:s3cret?x@127.0.0.1:99999", "http://example.com/"},
		{"-x", "http://alice:s3cret#x@127.0.0.1:0", "http://example.com/"},
	} {
		code, _, stderr := gdfetch(t, args...)
		assert.Contains(t, []int{exitUsage, exitURL}, code, "%v: %s", args, stderr)
		assert.NotContains(t, stderr, "s3cret", "%v", args)
	}
	// The node's own refusal of a URL (a NUL, CR/LF, a space in the host).
	for _, u := range []string{"http://alice:s3cret@example.com/a\x00b", "http://alice:s3cret@example.com/a\r\nb", "http://alice:s3cret@ex ample.com/"} {
		_, _, stderr := gdfetch(t, u)
		assert.NotContains(t, stderr, "s3cret", "%q", u)
	}
	assert.Equal(t, "http://alice:xxxxx@h/p@q", withoutPassword("http://alice:s3cret@h/p@q"))
	assert.Equal(t, "alice:xxxxx@h:1", withoutPassword("alice:s3c?ret@h:1"))
	assert.Equal(t, "alice@h", withoutPassword("alice@h"))
	assert.Equal(t, "http://:xxxxx@h/", withoutPassword("http://:s3cret@h/"), "no user name")
	assert.Equal(t, "://alice:xxxxx@h", withoutPassword("://alice:s3cret@h"), "no scheme name")
	assert.Equal(t, "http:///a:b@c", withoutPassword("http:///a:b@c"), "no authority: a path")
}

// TestUsageNamesEveryFlag keeps --help (and doc.go) in step with the flags.
func TestUsageNamesEveryFlag(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	var f rawFlags
	newFetchFlags(&f).VisitAll(func(fl *pflag.Flag) {
		assert.Contains(t, usage, "--"+fl.Name, "usage")
		assert.Contains(t, string(doc), "--"+fl.Name, "doc.go")
		if fl.Shorthand != "" {
			assert.Contains(t, usage, "-"+fl.Shorthand+", --"+fl.Name, "usage")
		}
	})
}

// TestDataBodyOnTheWire: the body -d and --data-binary build is the one
// sent, as curl 7.88 sends it (compared when curl is installed): values
// joined with '&' in command-line order, a literal -d value with its CR
// and LF.
func TestDataBodyOnTheWire(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
	tests := []struct {
		name string
		args []string
		body string
	}{
		{"order", []string{"--data-binary", "first", "-d", "second"}, "first&second"},
		{"literal keeps newlines", []string{"-d", "a\r\nb"}, "a\r\nb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, srv.URL("/"))
			if code, ok := curlExit(t, t.TempDir(), args...); ok {
				require.Equal(t, 0, code)
				_, body := lastRequest(t, srv)
				require.Equal(t, tt.body, body, "curl")
			}
			code, _, stderr := gdfetch(t, append([]string{"-s"}, args...)...)
			assert.Equal(t, 0, code, stderr)
			_, body := lastRequest(t, srv)
			assert.Equal(t, tt.body, body)
		})
	}
}

// TestUserAgentFlagAndHeader: -A adds a User-Agent line only when no -H
// line names the field; with both, only the -H line is sent, as with curl
// 7.88 (compared when installed).
func TestUserAgentFlagAndHeader(t *testing.T) {
	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-A", "agentA"}, "User-Agent: agentA"},
		{[]string{"-A", "agentA", "-H", "User-Agent: fromH"}, "User-Agent: fromH"},
		{[]string{"-H", "user-agent: fromH", "-A", "agentA"}, "user-agent: fromH"},
	}
	for _, tt := range tests {
		args := append(tt.args, srv.URL("/"))
		if code, ok := curlExit(t, t.TempDir(), args...); ok {
			require.Equal(t, 0, code)
			require.Equal(t, 1, strings.Count(strings.ToLower(string(srv.Requests()[len(srv.Requests())-1])), "user-agent"), "curl %v", tt.args)
		}
		code, _, stderr := gdfetch(t, append([]string{"-s"}, args...)...)
		require.Equal(t, 0, code, stderr)
		req := string(srv.Requests()[len(srv.Requests())-1])
		assert.Equal(t, 1, strings.Count(strings.ToLower(req), "user-agent"), "%v: %q", tt.args, req)
		assert.Contains(t, req, "\r\n"+tt.want+"\r\n", tt.args)
	}
}

// "gdfetch help" is the usage, as -h, not a request to the host "help";
// -V / --version prints the version and the User-Agent sent, anywhere on
// the line, and sends nothing.
func TestHelpWordAndVersion(t *testing.T) {
	code, out, stderr := gdfetch(t, "help")
	assert.Equal(t, exitOK, code)
	assert.Empty(t, stderr)
	assert.True(t, strings.HasPrefix(out, "usage: gdfetch"), out)

	for _, args := range [][]string{{"--version"}, {"-V"}, {"-sV", "http://h/"}, {"http://h/", "--version", "-o", "x"}} {
		code, out, stderr = gdfetch(t, args...)
		assert.Equal(t, exitOK, code, "%q: %s", args, stderr)
		assert.Empty(t, stderr, "%q", args)
		assert.Regexp(t, `^gdfetch \S+ \(github.com/gdhttp/gdhttp\) go\S+ \S+/\S+\nUser-Agent: GodotEngine/`+
			regexp.QuoteMeta(godot.Version)+` \(`+regexp.QuoteMeta(godot.OSName(runtime.GOOS))+`\)\n$`, out, "%q", args)
	}
}

// curl's -H forms (curlHeaders): "Name;" an empty header, "Name:" a header
// left out — or, for one Godot's request adds itself, replaced by the empty
// line —, "@FILE" the file's lines, and "" nothing (curl 7.88 sends no line
// for -H "", so a script's -H "$EXTRA" works with EXTRA empty).
func TestCurlHeaderForms(t *testing.T) {
	file := filepath.Join(t.TempDir(), "headers")
	require.NoError(t, os.WriteFile(file, []byte("X-From-File: 1\r\nX-Second: 2\n\n"), 0o600))
	got, err := curlHeaders(context.Background(), []string{"X-Empty;", "", "X-Gone:", "X-Gone-Too:  ", "Accept:", "host:", "X-Kept: v", "@" + file, "NoColon"})
	require.NoError(t, err)
	assert.Equal(t, []string{"X-Empty:", "Accept:", "host:", "X-Kept: v", "X-From-File: 1", "X-Second: 2", "NoColon"}, got)
	_, err = curlHeaders(context.Background(), []string{"@/nonexistent/headers"})
	var ue *usageError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, exitRead, ue.exitCode())
}

// A URL's user:password goes as curl sends it, Basic credentials
// (percent-decoded), unless an -H Authorization line is given; --json's
// "url" does not show the password.
func TestURLCredentials(t *testing.T) {
	line, ok := urlCredentials("http://us%40er:p%3Ass@h.test:8080/p@q?x=@")
	require.True(t, ok)
	assert.Equal(t, "Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte("us@er:p:ss")), line)
	line, ok = urlCredentials("http://user@h.test/")
	require.True(t, ok)
	assert.Equal(t, "Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte("user:")), line)
	_, ok = urlCredentials("http://h.test/a@b")
	assert.False(t, ok)
	_, ok = urlCredentials("http:///a:b@c")
	assert.False(t, ok, "no authority: a path")
	line, ok = urlCredentials("http://@h.test/")
	require.True(t, ok)
	assert.Equal(t, "Authorization: Basic Og==", line, "an empty userinfo: curl 7.88.1 sends Basic \":\"")

	srv := testserver.New(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	u := "http://alice:s3cret@" + srv.Addr() + "/"
	code, stdout, stderr := gdfetch(t, "-s", "--json", u)
	require.Equal(t, exitOK, code, stderr)
	assert.NotContains(t, stdout, "s3cret")
	code, _, stderr = gdfetch(t, "-s", "-H", "Authorization: Bearer t", "-A", "", u)
	require.Equal(t, exitOK, code, stderr)
	code, _, stderr = gdfetch(t, "-s", "-H", "Authorization:", u)
	require.Equal(t, exitOK, code, stderr)
	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	assert.NotContains(t, string(reqs[2]), "Authorization", `-H "Authorization:" removes the URL's credentials`)
	assert.Contains(t, string(reqs[0]), "\r\nAuthorization: Basic "+base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))+"\r\n")
	assert.Contains(t, string(reqs[1]), "\r\nAuthorization: Bearer t\r\n")
	assert.NotContains(t, string(reqs[1]), "Basic")
	assert.Contains(t, string(reqs[1]), "\r\nUser-Agent:\r\n", `-A "": an empty User-Agent in place of Godot's`)
}

// "(gdfetch --help for the flags)" follows a mistake --help explains (a
// flag, a URL), not a file that cannot be read or a scheme other than
// http(s), whose message says all there is.
func TestHelpPointerOnlyForFlagMistakes(t *testing.T) {
	const pointer = "(gdfetch --help for the flags)\n"
	tests := []struct {
		args    []string
		code    int
		pointer bool
	}{
		{[]string{"--bogus", "http://h/"}, exitUsage, true},
		{[]string{"http://h:99999/"}, exitURL, true},
		{[]string{"ftp://h/"}, exitProtocol, false},
		{[]string{"-T", "/nonexistent/file", "http://h/"}, exitRead, false},
		{[]string{"-F", "f=@/nonexistent/file", "http://h/"}, exitRead, false},
		{[]string{"-H", "@/nonexistent/file", "http://h/"}, exitRead, false},
		{[]string{"-d", "@/nonexistent/file", "http://h/"}, exitRead, false},
	}
	for _, tt := range tests {
		code, stdout, stderr := gdfetch(t, tt.args...)
		assert.Equal(t, tt.code, code, "%q", tt.args)
		assert.Empty(t, stdout, "%q", tt.args)
		assert.Equal(t, tt.pointer, strings.Contains(stderr, pointer), "%q: %s", tt.args, stderr)
		if !tt.pointer {
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "%q: one line: %s", tt.args, stderr)
		}
	}
}

// -X takes Godot's nine methods in any case and sends the upper-case token
// (Godot's Method enum; curl sends "-X delete" as typed): --help says so.
func TestMethodAnyCase(t *testing.T) {
	b := newBackend(t)
	code, out, stderr := gdfetch(t, "-s", "-X", "delete", b.url("/echo"))
	require.Equal(t, exitOK, code, stderr)
	assert.True(t, strings.HasPrefix(out, "DELETE /echo HTTP/1.1\r\n"), "%q", out)
	assert.Contains(t, usage, "in any\n                              case, sent upper-case")
	_, err := parseMethod("brew")
	assert.EqualError(t, err, "-X brew: Godot's HTTPClient sends only GET HEAD POST PUT DELETE OPTIONS TRACE CONNECT PATCH", "the nine methods, not METHOD_MAX")
}
