package integration

import (
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/peers"
)

// TestHTTPBinCookieJar: the node's cookie jar (§7.2 opt-in; Godot keeps none,
// §2.1.4) against httpbin, in the three drivers. /cookies/set?k=v answers a
// 302 with Set-Cookie: the jar stores it from the 3xx hop and the redirect to
// /cookies sends it; a later request of the node sends it again;
// /cookies/delete?k expires it (Max-Age=0) on its 302, so /cookies sees none;
// a user Cookie header is sent as given and the jar adds nothing to that hop.
// A redirect from 127.0.0.1 to localhost (another host) gets only localhost's
// cookies.
func TestHTTPBinCookieJar(t *testing.T) {
	bin := binURL(t, "")
	_, port := splitAddr(t, peers.HTTPBin(t))
	localhost := "http://localhost:" + strconv.Itoa(port)
	cookies := func(t *testing.T, o outcome) map[string]any {
		t.Helper()
		require.Equal(t, httprequest.ResultSuccess, o.C.Result, "cause: %v", o.Err)
		require.Equal(t, 200, o.C.ResponseCode)
		return jsonBody(t, o.C.Body)["cookies"].(map[string]any)
	}
	eachDriver(t, func(t *testing.T, n *httprequest.HTTPRequest) {
		jar, err := cookiejar.New(nil)
		require.NoError(t, err)
		require.NoError(t, n.SetCookieJar(jar))
	}, func(t *testing.T, d driver, n *httprequest.HTTPRequest) {
		get := func(u string, headers ...string) outcome {
			return d.run(t, n, u, headers, httpclient.MethodGet, nil)
		}
		assert.Equal(t, map[string]any{"k": "v"}, cookies(t, get(bin+"/cookies/set?k=v")), "set on the 302, sent on the redirect")
		assert.Equal(t, map[string]any{"k": "v", "lang": "fr"}, cookies(t, get(bin+"/cookies/set?lang=fr")), "kept by the node's jar")
		assert.Equal(t, map[string]any{"mine": "1"}, cookies(t, get(bin+"/cookies", "Cookie: mine=1")), "a user Cookie header wins on its hop")
		assert.Equal(t, map[string]any{"lang": "fr"}, cookies(t, get(bin+"/cookies/delete?k")), "expired by the 302")

		// localhost is another host for the jar: none of 127.0.0.1's cookies.
		assert.Equal(t, map[string]any{}, cookies(t, get(bin+"/redirect-to?url="+url.QueryEscape(localhost+"/cookies"))))
		assert.Equal(t, map[string]any{"h": "local"}, cookies(t, get(localhost+"/cookies/set?h=local")))
		assert.Equal(t, map[string]any{"lang": "fr"}, cookies(t, get(bin+"/cookies")), "127.0.0.1 did not get localhost's")
		u, err := url.Parse(localhost + "/")
		require.NoError(t, err)
		require.Len(t, n.CookieJar().Cookies(u), 1)
		assert.Equal(t, "h", n.CookieJar().Cookies(u)[0].Name)
	})
}
