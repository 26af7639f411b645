package httpclient

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/childtest"
)

// ProxyFromEnvironment against net/http's own http.ProxyFromEnvironment (the
// copy of httpproxy that ships with this Go): each environment runs in a
// child process of the test binary, because net/http reads the environment
// once per process; the child compares both for every target.
func TestProxyFromEnvironmentMatchesNetHTTP(t *testing.T) {
	envs := []map[string]string{
		{"HTTP_PROXY": "http://proxy.example:3128", "HTTPS_PROXY": "https://secure.example", "NO_PROXY": "skip.example, .dot.example, *.wild.example, 10.0.0.0/8, 192.168.1.1:8080, [2001:db8::1]:443"},
		{"http_proxy": "lower.example:1", "https_proxy": "u:p@tunnel.example:2", "no_proxy": "SKIP.example"},
		{"HTTP_PROXY": "upper.example", "http_proxy": "lower.example", "NO_PROXY": "*"},
		{"HTTP_PROXY": "http://proxy.example", "REQUEST_METHOD": "GET"},
		{"HTTPS_PROXY": "socks5://socks.example:1080", "NO_PROXY": ":1,,  ,example"},
		{"HTTP_PROXY": "%%bad", "HTTPS_PROXY": "http://[::1]:9"},
		{"HTTP_PROXY": "proxy.example", "NO_PROXY": "示例.com, xn--bcher-kva.example"},
	}
	targets := []string{
		"http://game.example/x", "https://game.example/x", "http://skip.example/", "http://a.skip.example/",
		"http://dot.example/", "http://a.dot.example/", "https://x.wild.example/", "https://wild.example/",
		"http://10.1.2.3/", "http://192.168.1.1:8080/", "http://192.168.1.1/", "https://[2001:db8::1]/",
		"http://[2001:db8::1]/", "http://localhost/", "http://127.0.0.1:8080/", "http://[::1]/",
		"http://www.示例.com/", "http://bücher.example/", "ftp://game.example/", "http://skip.example:8080/",
		"http://[1000::%25.skip.example]:123/",
	}
	vars := []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "REQUEST_METHOD"}
	for i, env := range envs {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			for _, k := range vars {
				t.Setenv(k, env[k])
			}
			if !childtest.InChild(t) {
				childtest.Run(t, childtest.Options{})
				return
			}
			for _, target := range targets {
				u, err := url.Parse(target)
				require.NoError(t, err)
				want, wantErr := http.ProxyFromEnvironment(&http.Request{URL: u})
				got, gotErr := ProxyFromEnvironment(u)
				assert.Equal(t, fmt.Sprint(want), fmt.Sprint(got), "%v %s", env, target)
				assert.Equal(t, wantErr != nil, gotErr != nil, "%v %s: %v / %v", env, target, wantErr, gotErr)
			}
		})
	}
}
