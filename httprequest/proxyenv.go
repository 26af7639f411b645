package httprequest

import (
	"net/url"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
)

// Proxies beyond Godot's two setters (§7.2 opt-ins; Godot: §1.14, no
// environment, no credentials).
//
// The proxy of each connection — the first hop and every redirect hop — is
// chosen when the connection starts: the proxy set with SetHTTPProxy (http
// targets) or SetHTTPSProxy (https targets) when there is one, with the
// credentials of SetHTTPProxyCredentials / SetHTTPSProxyCredentials; else,
// with a proxy function (SetProxyFunc, SetProxyFromEnvironment), the proxy it
// returns for the hop's URL, with the URL's user:password@ as credentials;
// else none. So a redirect to a host that NO_PROXY excludes goes direct, and
// carries no Proxy-Authorization; the credentials go only on the request to
// the HTTP proxy and on the CONNECT to the HTTPS proxy, never inside the
// tunnel (httpclient.Client.SetHTTPProxyCredentials). A proxy function error,
// or a proxy URL that is not http://host[:port] (an https:// proxy, socks5…),
// fails the connection start: RESULT_CANT_CONNECT with that cause (on a
// redirect hop, as any failed start: §2.8.1.6).
//
// A proxy that refuses the credentials (407): through the HTTPS proxy the
// CONNECT fails, RESULT_CANT_CONNECT with an *httpclient.ProxyError{Code:
// 407} cause (as in Godot for any refused CONNECT); through the HTTP proxy
// the 407 is the response (RESULT_SUCCESS, code 407, its headers and body).

// proxyCreds are a proxy's credentials ("" and "" for none).
type proxyCreds struct{ user, password string }

// proxyChoice is what a connection's proxies are; the node remembers the
// last one given to its client.
type proxyChoice struct {
	http, https           proxySetting
	httpCreds, httpsCreds proxyCreds
}

// SetHTTPProxyCredentials sets the credentials sent to the proxy of
// SetHTTPProxy ("Proxy-Authorization: Basic …" on each request to it); empty
// user and password remove them. Any time; used from the next connection on.
func (n *HTTPRequest) SetHTTPProxyCredentials(user, password string) {
	n.mu.Lock()
	n.httpProxyCreds, n.proxyDirty = proxyCreds{user, password}, true
	n.mu.Unlock()
}

// SetHTTPSProxyCredentials sets the credentials sent on the CONNECT to the
// proxy of SetHTTPSProxy; empty user and password remove them. Any time;
// used from the next connection on.
func (n *HTTPRequest) SetHTTPSProxyCredentials(user, password string) {
	n.mu.Lock()
	n.httpsProxyCreds, n.proxyDirty = proxyCreds{user, password}, true
	n.mu.Unlock()
}

// SetProxyFunc sets a function that returns the proxy for a hop's URL (nil
// for a direct connection), used for the hops whose scheme has no proxy set
// with SetHTTPProxy / SetHTTPSProxy. It is called when each connection
// starts, on the goroutine that runs the steps; the URL it gets is the hop's
// (scheme, host:port, path). The proxy must be http://[user:password@]host[:port].
// f must not call the node's methods except CancelRequest and Close (see
// the package documentation, Concurrency).
// nil (the default) removes it. godot.ErrBusy while a request is active.
func (n *HTTPRequest) SetProxyFunc(f func(target *url.URL) (*url.URL, error)) error {
	return n.setOption("set_proxy_func", func(o *options) { o.proxyFunc, o.proxyEnv = f, false })
}

// SetProxyFromEnvironment makes the node choose proxies from HTTP_PROXY,
// HTTPS_PROXY and NO_PROXY with net/http's rules
// (httpclient.ProxyFromEnvironment), read at each connection start; off
// (the default) uses no environment, as Godot. It replaces a SetProxyFunc
// function. godot.ErrBusy while a request is active.
func (n *HTTPRequest) SetProxyFromEnvironment(on bool) error {
	return n.setOption("set_proxy_from_environment", func(o *options) {
		o.proxyFunc, o.proxyEnv = nil, on
		if on {
			o.proxyFunc = httpclient.ProxyFromEnvironment
		}
	})
}

// ProxyFromEnvironment reports whether proxies come from the environment.
func (n *HTTPRequest) ProxyFromEnvironment() bool { return n.opts.proxyEnv }

// applyProxies gives the client the proxies of the hop about to connect
// (see above). It closes nothing; a kept connection is not reused when the
// proxies changed.
func (r *run) applyProxies() error {
	n, c := r.n, r.n.client
	n.mu.Lock()
	want := proxyChoice{n.httpProxy, n.httpsProxy, n.httpProxyCreds, n.httpsProxyCreds}
	dirty := n.proxyDirty
	n.proxyDirty = false
	n.mu.Unlock()
	if f := r.opts.proxyFunc; f != nil {
		set, creds := &want.http, &want.httpCreds
		if r.cur.TLS {
			set, creds = &want.https, &want.httpsCreds
		}
		if set.host == "" || set.port == -1 {
			u, err := f(r.cur.asURL())
			if err != nil {
				return godot.Wrap(godot.ErrCantConnect, "proxy", err)
			}
			if u != nil {
				host, port, user, err := httpclient.SplitProxyURL(u)
				if err != nil {
					return godot.Wrap(godot.ErrCantConnect, "proxy", err)
				}
				*set, *creds = proxySetting{host: host, port: port}, proxyCreds{}
				if user != nil {
					pw, _ := user.Password()
					*creds = proxyCreds{user.Username(), pw}
				}
			}
		}
	}
	if dirty || want != n.appliedProxies {
		c.SetHTTPProxy(want.http.host, want.http.port)
		c.SetHTTPSProxy(want.https.host, want.https.port)
		c.SetHTTPProxyCredentials(want.httpCreds.user, want.httpCreds.password)
		c.SetHTTPSProxyCredentials(want.httpsCreds.user, want.httpsCreds.password)
		n.appliedProxies = want
		n.keepTarget = target{}
	}
	return nil
}
