package httprequest

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

func newJar(t *testing.T) *cookiejar.Jar {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return jar
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// §7.2 cookie jar: the exact request bytes. The jar's Cookie line comes after
// every header line the node passes (the user's, then the automatic
// Accept-Encoding, §2.4.6) and before the client's automatic lines (§1.7.7–11),
// in net/http's form "a=1; b=2".
func TestCookieJarRequestBytes(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		srv := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		jar := newJar(t)
		jar.SetCookies(mustURL(t, srv.URL("/")), []*http.Cookie{{Name: "a", Value: "1"}, {Name: "b", Value: "x y"}})
		require.NoError(t, n.SetCookieJar(jar))
		assert.Same(t, jar, n.CookieJar())
		o := d.run(t, n, srv.URL("/p?q=1"), []string{"X-A: 1"}, httpclient.MethodPost, []byte("body"))
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 2"), []byte("ok")}, o)
		reqs := srv.Requests()
		require.Len(t, reqs, 1)
		want := "POST /p?q=1 HTTP/1.1\r\n" +
			"X-A: 1\r\n" +
			acceptGzipHeader + "\r\n" +
			"Cookie: a=1; b=\"x y\"\r\n" +
			"Host: " + srv.Addr() + "\r\n" +
			"Content-Length: 4\r\n" +
			"User-Agent: " + wire.DefaultUserAgent() + "\r\n" +
			"Accept: */*\r\n\r\nbody"
		assert.Equal(t, want, string(reqs[0]))
	})
}

// §2.1.4 (Godot: no cookies): without a jar, Set-Cookie is ignored and no
// Cookie line is ever sent, across a redirect too.
func TestCookieJarOffByDefault(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		srv := serve(t, route(func(line string, req []byte) string {
			if strings.HasPrefix(line, "GET /start ") {
				return "HTTP/1.1 302 Found\r\nSet-Cookie: s=1\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n"
			}
			return "HTTP/1.1 200 OK\r\nSet-Cookie: t=2\r\nContent-Length: 0\r\n\r\n"
		}))
		assert.Nil(t, n.CookieJar())
		o := d.run(t, n, srv.URL("/start"), nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Set-Cookie: t=2", "Content-Length: 0"), nil}, o)
		for _, req := range srv.Requests() {
			assert.NotContains(t, strings.ToLower(string(req)), "cookie")
		}
	})
}

// §2.8.1 with the jar: a Set-Cookie on a 3xx hop is stored and sent on the
// next hop; a hop to another host (127.0.0.1 → localhost, §7 D2's origin
// change) gets only that host's cookies, and the cookies it sets are stored
// under it; the chain's return to the first host sends the first host's
// cookies again. Cookies with a Path are sent only below it.
func TestCookieJarAcrossRedirects(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		var log requestLog
		var a, b *testserver.Server
		b = serve(t, route(func(line string, req []byte) string {
			log.add("b", req)
			return "HTTP/1.1 302 Found\r\nSet-Cookie: bk=bv; Path=/\r\nLocation: " + a.URL("/admin/end") + "\r\nContent-Length: 0\r\n\r\n"
		}))
		bURL := "http://localhost:" + strconv.Itoa(b.Port()) + "/hop"
		a = serve(t, route(func(line string, req []byte) string {
			log.add("a", req)
			switch {
			case strings.HasPrefix(line, "GET /start "):
				return "HTTP/1.1 301 Moved\r\nSet-Cookie: s1=v1; Path=/\r\nSet-Cookie: adm=1; Path=/admin\r\nLocation: /mid\r\nContent-Length: 0\r\n\r\n"
			case strings.HasPrefix(line, "GET /mid "):
				return "HTTP/1.1 302 Found\r\nSet-Cookie: s2=v2\r\nLocation: " + bURL + "\r\nContent-Length: 0\r\n\r\n"
			}
			return "HTTP/1.1 200 OK\r\nSet-Cookie: s1=changed; Path=/\r\nContent-Length: 2\r\n\r\nok"
		}))
		jar := newJar(t)
		require.NoError(t, n.SetCookieJar(jar))
		o := d.run(t, n, a.URL("/start"), []string{"X-K: 1"}, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Set-Cookie: s1=changed; Path=/", "Content-Length: 2"), []byte("ok")}, o)

		reqs := log.all()
		require.Len(t, reqs, 4)
		cookieOf := func(req string) string {
			for _, l := range headerLines(req) {
				if v, ok := strings.CutPrefix(l, "Cookie: "); ok {
					return v
				}
			}
			return ""
		}
		assert.True(t, strings.HasPrefix(reqs[0], "a GET /start "))
		assert.Equal(t, "", cookieOf(reqs[0]), "empty jar: no Cookie line")
		assert.True(t, strings.HasPrefix(reqs[1], "a GET /mid "))
		assert.Equal(t, "s1=v1", cookieOf(reqs[1]), "set by the 301, sent on the next hop; adm's Path does not match")
		assert.True(t, strings.HasPrefix(reqs[2], "b GET /hop "))
		assert.Equal(t, "", cookieOf(reqs[2]), "another host: none of the first host's cookies")
		assert.True(t, strings.HasPrefix(reqs[3], "a GET /admin/end "))
		assert.Equal(t, "adm=1; s1=v1; s2=v2", cookieOf(reqs[3]), "back on the first host: its cookies, longest path first")
		for i, req := range reqs {
			assert.True(t, hasLine(req, "X-K: 1"), "hop %d", i)
		}

		// The jar holds what each host set, under that host.
		names := func(u string) []string {
			var s []string
			for _, c := range jar.Cookies(mustURL(t, u)) {
				s = append(s, c.Name+"="+c.Value)
			}
			return s
		}
		assert.ElementsMatch(t, []string{"s1=changed", "s2=v2"}, names(a.URL("/")))
		assert.ElementsMatch(t, []string{"bk=bv"}, names(bURL))
	})
}

// A user Cookie header is left alone: sent as given, and the jar adds
// nothing to that hop; Set-Cookie is still stored. On a hop to another origin
// the user's line is dropped (§7 D2) and the jar's cookies for that origin
// are sent instead.
func TestCookieJarUserCookieHeader(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		var log requestLog
		var a, b *testserver.Server
		b = serve(t, route(func(line string, req []byte) string {
			log.add("b", req)
			return "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
		}))
		bURL := "http://localhost:" + strconv.Itoa(b.Port()) + "/b"
		a = serve(t, route(func(line string, req []byte) string {
			log.add("a", req)
			return "HTTP/1.1 302 Found\r\nSet-Cookie: fromA=1\r\nLocation: " + bURL + "\r\nContent-Length: 0\r\n\r\n"
		}))
		jar := newJar(t)
		jar.SetCookies(mustURL(t, a.URL("/")), []*http.Cookie{{Name: "jarA", Value: "1"}})
		jar.SetCookies(mustURL(t, bURL), []*http.Cookie{{Name: "jarB", Value: "2"}})
		require.NoError(t, n.SetCookieJar(jar))
		o := d.run(t, n, a.URL("/a"), []string{" cookie : mine=1"}, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 200, hdrs("Content-Length: 0"), nil}, o)
		reqs := log.all()
		require.Len(t, reqs, 2)
		assert.True(t, hasLine(reqs[0], " cookie : mine=1"))
		assert.NotContains(t, reqs[0], "jarA", "a user Cookie line wins on its hop")
		assert.False(t, hasLine(reqs[1], " cookie : mine=1"), "§7 D2")
		assert.True(t, hasLine(reqs[1], "Cookie: jarB=2"))
		var got []string
		for _, c := range jar.Cookies(mustURL(t, a.URL("/"))) {
			got = append(got, c.Name)
		}
		assert.ElementsMatch(t, []string{"jarA", "fromA"}, got, "Set-Cookie stored even when the user sent a Cookie")
	})
}

// The jar is called with the hop's URL (scheme, host:port, path, query) and
// with the Set-Cookie lines parsed by net/http's rules (attributes, an
// invalid line skipped); an https hop gives an https URL.
func TestCookieJarSeesHopURLs(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		ca := testserver.NewCA(t)
		require.NoError(t, n.SetTLSOptions(httpclient.TLSClient(ca.Pool(), "")))
		tlsSrv := testserver.NewTLS(t, ca.Issue(t, "localhost", "127.0.0.1"), testserver.Respond(
			"HTTP/1.1 200 OK\r\nSet-Cookie: sec=1; Secure; HttpOnly\r\nSet-Cookie: =bad\r\nContent-Length: 0\r\n\r\n"))
		plain := serve(t, testserver.Respond("HTTP/1.1 302 Found\r\nLocation: "+tlsSrv.URL("/t?x=1")+"\r\nContent-Length: 0\r\n\r\n"))
		rec := &recordingJar{}
		require.NoError(t, n.SetCookieJar(rec))
		o := d.run(t, n, plain.URL("/p?y=2"), nil, httpclient.MethodGet, nil)
		require.Equal(t, ResultSuccess, o.C.Result, "%v", o.Err)
		assert.Equal(t, []string{
			"cookies " + plain.URL("/p?y=2"),
			"cookies " + tlsSrv.URL("/t?x=1"),
			"set " + tlsSrv.URL("/t?x=1") + " sec=1 secure=true httponly=true",
		}, rec.log())
	})
}

type recordingJar struct {
	mu   sync.Mutex
	logs []string
}

func (j *recordingJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cookies {
		j.logs = append(j.logs, "set "+u.String()+" "+c.Name+"="+c.Value+
			" secure="+strconv.FormatBool(c.Secure)+" httponly="+strconv.FormatBool(c.HttpOnly))
	}
}

func (j *recordingJar) Cookies(u *url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.logs = append(j.logs, "cookies "+u.String())
	return nil
}

func (j *recordingJar) log() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.logs...)
}

// The jar is an option (§7.2): refused with godot.ErrBusy while a request is
// active.
func TestCookieJarBusy(t *testing.T) {
	n := New()
	t.Cleanup(n.Close)
	srv := serve(t, testserver.Script(testserver.Read(), testserver.Hold()))
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	assert.ErrorIs(t, n.SetCookieJar(newJar(t)), godot.ErrBusy)
	n.CancelRequest()
	assert.NoError(t, n.SetCookieJar(nil))
}

// Without a jar (Godot's default) the cookie hooks cost nothing on the hot
// path: the headers are passed through, no allocation.
func TestCookieJarOffAllocatesNothing(t *testing.T) {
	r := &run{cur: target{Host: "127.0.0.1", Port: 8080, Path: "/api?x=1"}}
	h := []string{"X-A: 1", acceptGzipHeader}
	allocs := testing.AllocsPerRun(100, func() {
		if got := r.withJarCookies(h); &got[0] != &h[0] {
			t.Fatal("headers copied")
		}
		r.storeCookies()
	})
	assert.Zero(t, allocs)
}

// A request_string that does not parse as a URL path (Godot sends it as
// it is, §2.5) still reaches the jar as the hop's URL: the part before '?'
// as the path, the rest as the query.
func TestCookieJarUnparsedPath(t *testing.T) {
	srv := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
	n := New()
	t.Cleanup(n.Close)
	rec := &recordingJar{}
	require.NoError(t, n.SetCookieJar(rec))
	c, err := n.Do(context.Background(), srv.URL("/a%zz?b=1"), nil, httpclient.MethodGet, nil)
	require.NoError(t, err)
	require.Equal(t, ResultSuccess, c.Result)
	require.Len(t, srv.Requests(), 1)
	assert.True(t, strings.HasPrefix(string(srv.Requests()[0]), "GET /a%zz?b=1 HTTP/1.1\r\n"), "sent as given")
	u := &url.URL{Scheme: "http", Host: srv.Addr(), Path: "/a%zz", RawQuery: "b=1"}
	assert.Equal(t, []string{"cookies " + u.String()}, rec.log())
}

// Only a field named exactly Set-Cookie gives the jar a cookie: the lenient
// head keeps "Set-Cookie : a=1" (Godot strips the name), but net/http and
// curl take no cookie from it (RFC 9112 §5.1), and strict mode refuses the
// response (§7.4). The delivered headers are Godot's either way.
func TestCookieJarFieldNameExact(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		srv := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\nSet-Cookie : spaced=1\r\nset-cookie:lower=1\r\nContent-Length: 0\r\n\r\n"))
		rec := &recordingJar{}
		require.NoError(t, n.SetCookieJar(rec))
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		require.Equal(t, ResultSuccess, o.C.Result, "%v", o.Err)
		assert.Contains(t, o.C.Headers, "Set-Cookie : spaced=1")
		assert.Equal(t, []string{
			"cookies " + srv.URL("/"),
			"set " + srv.URL("/") + " lower=1 secure=false httponly=false",
		}, rec.log())
	})
}
