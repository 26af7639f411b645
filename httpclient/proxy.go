package httpclient

import (
	"errors"
	"io"
	"net"

	"github.com/gdhttp/gdhttp/wire"
)

// Proxies (§1.14): the setters, and the CONNECT exchange the connector runs
// for an HTTPS proxy (§1.14.2 with the §7 D5 fixes).

// SetHTTPProxy sets the proxy used for plain-HTTP targets from the next
// ConnectToHost on; requests then carry an absolute-form target (§1.14.1).
// An empty host or port −1 unsets it; nothing else is validated.
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

// connectTunnel sends CONNECT through an HTTPS proxy and reads its reply
// (§1.14.2 with §7 D5): any 2xx opens the tunnel whatever the reply's
// framing; bytes after the reply head belong to the tunnel. It returns the
// those bytes (read first), or the Godot code Poll reports and the cause: ErrCantConnect with
// a *ProxyError for another status, ErrConnectionError for an I/O error or
// a malformed reply (§1.14.2.5).
func connectTunnel(raw net.Conn, p dialParams) (rest []byte, code Error, err error) {
	if err := wire.ValidateConnect(p.connHost, p.userAgent); err != nil {
		return nil, wire.CodeOf(err), err
	}
	if _, err := raw.Write(wire.AppendConnect(nil, p.connHost, p.connPort, p.userAgent)); err != nil {
		return nil, ErrConnectionError, err
	}
	parser := wire.HeadParser{Strict: p.strict, Limits: p.limits}
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
			return nil, ErrConnectionError, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, cap(buf))...)[:len(buf)]
		}
		m, rerr := raw.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if rerr != nil && m == 0 {
			if rerr == io.EOF {
				rerr = errProxyClosed
			}
			return nil, ErrConnectionError, rerr
		}
	}
}

var errProxyClosed = errors.New("httpclient: proxy closed the connection before its CONNECT reply")
