package httpclient

import (
	"net/http"
	"net/url"
	"testing"
)

// ProxyFromEnvironment reads and parses the environment at every call (so
// t.Setenv works); net/http's twin parses it once per process. Both with a
// NO_PROXY list of 11 entries and a target that is not excluded.
func BenchmarkProxyFromEnvironment(b *testing.B) {
	b.Setenv("HTTP_PROXY", "http://proxy.example:3128")
	b.Setenv("NO_PROXY", "foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, 10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, 2002:db8:a::45/64")
	u, _ := url.Parse("http://game.example/api")
	b.Run("gdhttp", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if p, _ := ProxyFromEnvironment(u); p == nil {
				b.Fatal("no proxy")
			}
		}
	})
	b.Run("net/http", func(b *testing.B) {
		b.ReportAllocs()
		req := &http.Request{URL: u}
		for b.Loop() {
			if p, _ := http.ProxyFromEnvironment(req); p == nil {
				b.Fatal("no proxy")
			}
		}
	})
}
