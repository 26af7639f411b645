package httpclient

import (
	"encoding/base64"
	"errors"
	"io"
	"net"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/wire"
)

// Proxies (§1.14): the setters, and the CONNECT exchange the connector runs
// for an HTTPS proxy (§1.14.2 with the §7 D5 fixes).

// SetHTTPProxy sets the proxy used for plain-HTTP targets: the next
// ConnectToHost connects to it, and each Request reads it as it writes the
// request line — an absolute-form target while it is set (§1.7.7,
// §1.14.1), as in Godot even on a connection made before it was set or
// removed. An empty host or port −1 unsets it; nothing else is validated.
//
// Godot: HTTPClient.set_http_proxy()
func (c *Client) SetHTTPProxy(host string, port int) {
	if host == "" || port == -1 {
		host, port = "", -1
	}
	c.httpProxyHost, c.httpProxyPort = host, port
}

// SetHTTPSProxy sets the proxy used for TLS targets from the next
// ConnectToHost on: a CONNECT tunnel is opened through it before the TLS
// handshake (§1.14.2, with the §7 D5 fixes: the CONNECT carries
// "Host: host:port" and any 2xx reply opens the tunnel whatever its
// framing). An empty host or port −1 unsets it.
//
// Godot: HTTPClient.set_https_proxy()
func (c *Client) SetHTTPSProxy(host string, port int) {
	if host == "" || port == -1 {
		host, port = "", -1
	}
	c.httpsProxyHost, c.httpsProxyPort = host, port
}

// Proxy credentials (§7.2 opt-in; Godot has none, §1.14, PR #101358 is
// unmerged). With credentials set for a proxy, the client adds
// "Proxy-Authorization: Basic base64(user:password)" as the last header
// line — after the automatic Host, Content-Length, User-Agent and Accept — of
//
//   - each absolute-form request sent to the HTTP proxy (§1.14.1), unless a
//     user header line already begins with "Proxy-Authorization:" (ASCII
//     case-insensitive, the rule of the automatic headers, §1.7.9);
//   - the CONNECT sent to the HTTPS proxy (§1.14.2).
//
// Never anywhere else: not inside the CONNECT tunnel (the request to the
// origin), not to a target reached without a proxy. A proxy that refuses the
// credentials answers 407: for the HTTPS proxy that is CANT_CONNECT with a
// *ProxyError{Code: 407} (as any non-2xx CONNECT reply, §1.14.2.3 with
// §7 D5); for the HTTP proxy it is an ordinary response with code 407.

// SetHTTPProxyCredentials sets the credentials sent to the HTTP proxy
// (SetHTTPProxy) over the connections made from the next ConnectToHost on:
// a connection keeps those of the proxy it was made to, and one made
// directly never carries any. Empty user and password remove them. They
// survive Close and a change of proxy.
func (c *Client) SetHTTPProxyCredentials(user, password string) {
	c.httpProxyAuth = basicAuth(user, password)
}

// SetHTTPSProxyCredentials sets the credentials sent on the CONNECT to the
// HTTPS proxy (SetHTTPSProxy) from the next ConnectToHost on; empty user and
// password remove them. They survive Close and a change of proxy.
func (c *Client) SetHTTPSProxyCredentials(user, password string) {
	c.httpsProxyAuth = basicAuth(user, password)
}

// basicAuth is the Basic credentials header value (RFC 7617), "" for none.
func basicAuth(user, password string) string {
	if user == "" && password == "" {
		return ""
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// appendProxyAuth inserts the HTTP proxy's Proxy-Authorization line before
// the empty line that ends head, when the request goes in absolute form
// (decided at request time, as Godot does) over a connection made to an
// HTTP proxy — with the credentials set when it was made, the ones of that
// proxy — and no user header line begins with "Proxy-Authorization:". A
// connection made directly, or by SetConnection, never carries them, even
// when a proxy and its credentials were set after it was made.
func (c *Client) appendProxyAuth(head []byte, headers []string) []byte {
	if c.tlsOpts != nil || c.httpProxyPort == -1 || c.st == nil || c.st.proxyAuth == "" {
		return head
	}
	if wire.HasLinePrefix(headers, "proxy-authorization:") {
		return head
	}
	return insertHeader(head, c.st.proxyAuth)
}

// insertHeader puts "Proxy-Authorization: value" before the empty line that
// ends head.
func insertHeader(head []byte, value string) []byte {
	head = head[:len(head)-2] // the empty line
	head = append(head, "Proxy-Authorization: "...)
	head = append(head, value...)
	return append(head, "\r\n\r\n"...)
}

// connectTunnel sends CONNECT through an HTTPS proxy and reads its reply
// (§1.14.2 with §7 D5): any 2xx opens the tunnel whatever the reply's
// framing; bytes after the reply head belong to the tunnel. It returns
// those bytes (read with the reply), or the Godot code Poll reports and the
// cause: ErrCantConnect with a *ProxyError for another status,
// ErrConnectionError with a *TunnelError for an I/O error or a malformed
// reply (§1.14.2.5).
func connectTunnel(raw net.Conn, p dialParams) (rest []byte, code Error, err error) {
	if err := wire.ValidateConnect(p.connHost, p.userAgent); err != nil {
		return nil, godot.CodeOf(err), err
	}
	req := wire.AppendConnect(nil, p.connHost, p.connPort, p.userAgent)
	if p.proxyAuth != "" {
		req = insertHeader(req, p.proxyAuth)
	}
	if _, err := raw.Write(req); err != nil {
		return nil, ErrConnectionError, &TunnelError{&tcpEndError{err}}
	}
	parser := wire.HeadParser{Strict: p.strict, Limits: p.limits, Connect: true}
	var head wire.Head
	buf := make([]byte, 0, 1024)
	for {
		n, err := parser.Parse(buf, &head)
		if err == nil {
			if head.Code < 200 || head.Code > 299 {
				return nil, ErrCantConnect, &ProxyError{Code: head.Code, Headers: head.Headers}
			}
			if len(buf) > n {
				return buf[n:], 0, nil
			}
			return nil, 0, nil
		}
		if err != wire.ErrNeedMore {
			return nil, ErrConnectionError, &TunnelError{err}
		}
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, cap(buf))...)[:len(buf)]
		}
		m, rerr := raw.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if rerr != nil && m == 0 {
			switch {
			case rerr == io.EOF && len(buf) > 0:
				rerr = errProxyCut
			case rerr == io.EOF:
				rerr = &tcpEndError{errProxyClosed}
			default:
				rerr = &tcpEndError{rerr} // a reset, wherever it comes
			}
			return nil, ErrConnectionError, &TunnelError{rerr}
		}
	}
}

var (
	errProxyClosed = errors.New("httpclient: proxy closed the connection before its CONNECT reply")
	errProxyCut    = errors.New("httpclient: proxy closed the connection in the middle of its CONNECT reply")
)

// tcpEndError is a CONNECT exchange's failure because the proxy ended the
// TCP connection: a FIN before any byte of the reply, a reset at any point
// (any read or write error: the exchange has no deadline), a write that
// failed. Godot's poll checks its TCP socket before it steps the CONNECT
// sub-client, and a connection that ended there sends it to the next
// address, or to CANT_CONNECT with ERR_CANT_CONNECT (§1.6.2.2). A reply cut
// by a FIN is read by the sub-client first: errProxyCut,
// ERR_CONNECTION_ERROR.
type tcpEndError struct{ err error }

func (e *tcpEndError) Error() string { return e.err.Error() }
func (e *tcpEndError) Unwrap() error { return e.err }

// tunnelEnded reports whether err is a tcpEndError.
func tunnelEnded(err error) bool {
	var te *tcpEndError
	return errors.As(err, &te)
}
