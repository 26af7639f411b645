package httpclient_test

import (
	"fmt"
	"net/url"

	"github.com/gdhttp/gdhttp/httpclient"
)

// The proxy net/http would choose for a few targets under one configuration
// (ProxyFromEnvironment reads the same three variables from the environment
// at each call).
func ExampleProxyConfig_ProxyForURL() {
	cfg := httpclient.ProxyConfig{
		HTTPProxy:  "proxy.corp.example:3128",
		HTTPSProxy: "http://user:secret@tunnel.corp.example:8080",
		NoProxy:    "internal.example, 10.0.0.0/8",
	}
	for _, target := range []string{
		"http://game.example/api",
		"https://game.example/api",
		"http://cdn.internal.example/pack.pck",
		"http://10.1.2.3/",
		"http://localhost:8080/",
	} {
		u, _ := url.Parse(target)
		proxy, err := cfg.ProxyForURL(u)
		switch {
		case err != nil:
			fmt.Println(target, "error:", err)
		case proxy == nil:
			fmt.Println(target, "→ direct")
		default:
			host, port, user, _ := httpclient.SplitProxyURL(proxy)
			fmt.Println(target, "→", host, port, "credentials:", user != nil)
		}
	}
	// Output:
	// http://game.example/api → proxy.corp.example 3128 credentials: false
	// https://game.example/api → tunnel.corp.example 8080 credentials: true
	// http://cdn.internal.example/pack.pck → direct
	// http://10.1.2.3/ → direct
	// http://localhost:8080/ → direct
}
