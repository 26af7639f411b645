package httprequest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
)

// Through an HTTP proxy: SetHTTPProxy is Godot's set_http_proxy (a host and
// a port), SetHTTPProxyCredentials adds Proxy-Authorization for the proxy
// alone, and SetProxyFunc chooses a proxy per URL, as http.Transport.Proxy
// does (SetProxyFromEnvironment reads HTTP_PROXY and the rest). A plain
// http target goes to the proxy in absolute form; an https one would go
// through a CONNECT tunnel (SetHTTPSProxy).
func ExampleHTTPRequest_SetHTTPProxy() {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "origin: %s %s", r.Method, r.URL.Path)
	}))
	defer origin.Close()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("proxy: %s absolute=%v auth=%q\n", r.Method, strings.HasPrefix(r.RequestURI, origin.URL), r.Header.Get("Proxy-Authorization"))
		r.RequestURI = "" // forward it
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	proxyURL, _ := url.Parse(proxy.URL)
	proxyPort, _ := strconv.Atoi(proxyURL.Port())

	n := httprequest.New()
	defer n.Close()
	n.SetHTTPProxy(proxyURL.Hostname(), proxyPort)
	n.SetHTTPProxyCredentials("player", "secret")
	c, err := n.Do(context.Background(), origin.URL+"/scores", nil, httpclient.MethodGet, nil)
	fmt.Println(c.Result, err, string(c.Body))

	n.SetHTTPProxy("", -1) // off: the function decides
	_ = n.SetProxyFunc(func(target *url.URL) (*url.URL, error) {
		if target.Path == "/direct" {
			return nil, nil
		}
		return proxyURL, nil
	})
	for _, path := range []string{"/news", "/direct"} {
		c, err = n.Do(context.Background(), origin.URL+path, nil, httpclient.MethodGet, nil)
		fmt.Println(c.Result, err, string(c.Body))
	}
	// Output:
	// proxy: GET absolute=true auth="Basic cGxheWVyOnNlY3JldA=="
	// RESULT_SUCCESS <nil> origin: GET /scores
	// proxy: GET absolute=true auth=""
	// RESULT_SUCCESS <nil> origin: GET /news
	// RESULT_SUCCESS <nil> origin: GET /direct
}
