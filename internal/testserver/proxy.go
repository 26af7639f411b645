package testserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// DefaultConnectReply is what a ConnectProxy answers to CONNECT by default.
const DefaultConnectReply = "HTTP/1.1 200 Connection established\r\n\r\n"

// badGateway is the reply when the proxy cannot or may not reach the target.
const badGateway = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"

// dialTimeout bounds the proxies' loopback dials.
const dialTimeout = 5 * time.Second

// ProxyOption configures NewConnectProxy and NewForwardProxy.
type ProxyOption func(*proxyConfig)

type proxyConfig struct {
	reply      string
	closeAfter bool
	serverOpts []Option
}

// ProxyReply sets the exact bytes a ConnectProxy answers to CONNECT (default
// DefaultConnectReply). A reply whose status code is 2xx opens the tunnel
// (for example "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" or
// "HTTP/1.1 204 No Content\r\n\r\n"); any other reply ("HTTP/1.1 403
// Forbidden\r\n\r\n", or "" for a proxy that never answers) is written and
// the connection is held open until the client closes.
func ProxyReply(reply string) ProxyOption { return func(p *proxyConfig) { p.reply = reply } }

// ProxyCloseAfterReply makes a ConnectProxy close the connection right after
// writing its reply (the FIN travels with the reply), without tunnelling; with
// ProxyReply("") it closes as soon as the CONNECT request was read.
func ProxyCloseAfterReply() ProxyOption { return func(p *proxyConfig) { p.closeAfter = true } }

// ProxyServerOptions passes Server options (WithIPv6, WithIOTimeout...) to the
// proxy's listener.
func ProxyServerOptions(opts ...Option) ProxyOption {
	return func(p *proxyConfig) { p.serverOpts = append(p.serverOpts, opts...) }
}

// Proxy is a scripted proxy: a Server whose handler plays a CONNECT proxy or a
// forward proxy. Requests returns the requests the proxy received (the
// CONNECT requests, or the absolute-form requests as sent by the client);
// Received also holds the tunnelled bytes; Errors holds refused targets and
// failed dials.
type Proxy struct {
	*Server
}

// NewConnectProxy starts an HTTPS (CONNECT) proxy on loopback. For each
// connection it reads and records the CONNECT request, answers with the
// configured reply and, when that reply is 2xx, tunnels bytes both ways to the
// requested authority, passing each side's close on as a half-close. Only
// loopback authorities are dialled ("127.x.y.z:port", "[::1]:port", the
// unbracketed "::1:port" Godot sends, "localhost:port"); others get a 502 and
// an ErrProxyTarget entry in Errors.
func NewConnectProxy(t testing.TB, opts ...ProxyOption) *Proxy {
	t.Helper()
	cfg := proxyConfig{reply: DefaultConnectReply}
	for _, o := range opts {
		o(&cfg)
	}
	return &Proxy{New(t, cfg.handleConnect, cfg.serverOpts...)}
}

// NewForwardProxy starts a plain HTTP proxy on loopback for absolute-form
// targets ("GET http://127.0.0.1:8080/path HTTP/1.1"). It records each
// request as received, forwards it to the loopback origin named in the target
// with the request line rewritten to origin-form (headers and body
// unchanged), and streams the origin's bytes back. One client connection maps
// to one origin connection; a request naming another origin on the same
// connection is refused (recorded, connection closed). ProxyReply and
// ProxyCloseAfterReply do not apply.
func NewForwardProxy(t testing.TB, opts ...ProxyOption) *Proxy {
	t.Helper()
	var cfg proxyConfig
	for _, o := range opts {
		o(&cfg)
	}
	return &Proxy{New(t, handleForward, cfg.serverOpts...)}
}

func (p *proxyConfig) handleConnect(c *Conn) {
	req, err := c.ReadRequest()
	if err != nil {
		proxyFail(c, "proxy-read", err)
		return
	}
	if p.closeAfter {
		if err := c.WriteAndClose([]byte(p.reply)); err != nil {
			proxyFail(c, "proxy-reply", err)
		}
		return
	}
	if !opensTunnel(p.reply) {
		if err := c.Write([]byte(p.reply)); err != nil {
			proxyFail(c, "proxy-reply", err)
			return
		}
		_ = c.Hold()
		return
	}
	line, _ := cutLine(req)
	fields := strings.Fields(string(line))
	if len(fields) != 3 || fields[0] != "CONNECT" {
		proxyFail(c, "proxy-request", fmt.Errorf("%w: not a CONNECT request line: %q", ErrMalformedRequest, line))
		_ = c.Write([]byte(badGateway))
		return
	}
	up, err := dialLoopback(fields[1])
	if err != nil {
		proxyFail(c, "proxy-dial", err)
		_ = c.Write([]byte(badGateway))
		return
	}
	defer up.Close()
	if err := c.Write([]byte(p.reply)); err != nil {
		proxyFail(c, "proxy-reply", err)
		return
	}
	if len(c.pending) > 0 { // the client did not wait for the reply
		if _, err := up.Write(c.consume(len(c.pending))); err != nil {
			proxyFail(c, "proxy-tunnel", err)
			return
		}
	}
	done := pipeBack(c, up)
	for {
		b, err := c.readOnce()
		if len(b) > 0 {
			if _, werr := up.Write(b); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	_ = up.CloseWrite()
	waitPipe(c, up, done)
}

// pipeBack copies up → client in a goroutine the server joins; when the
// origin side ends it half-closes the client side. The returned channel is
// closed when the copy ended.
func pipeBack(c *Conn, up *net.TCPConn) chan struct{} {
	done := make(chan struct{})
	c.srv.goTracked(func() {
		defer close(done)
		buf := make([]byte, readChunk)
		for {
			n, err := up.Read(buf)
			if n > 0 {
				if c.Write(buf[:n]) != nil {
					return
				}
			}
			if err != nil {
				_ = c.CloseWrite()
				return
			}
		}
	})
	return done
}

// waitPipe waits for pipeBack, cutting the origin connection if the server
// closes first.
func waitPipe(c *Conn, up *net.TCPConn, done chan struct{}) {
	select {
	case <-done:
	case <-c.srv.done:
		_ = up.Close()
		<-done
	}
}

func handleForward(c *Conn) {
	var (
		up     *net.TCPConn
		origin string
		done   chan struct{}
	)
	defer func() {
		if up != nil {
			_ = up.CloseWrite()
			waitPipe(c, up, done)
			_ = up.Close()
		}
	}()
	for {
		req, err := c.ReadRequest()
		if err != nil {
			proxyFail(c, "proxy-read", err)
			return
		}
		authority, fwd, err := originForm(req)
		if err != nil {
			proxyFail(c, "proxy-request", err)
			if up == nil {
				_ = c.Write([]byte(badGateway))
			}
			return
		}
		if up == nil {
			up, err = dialLoopback(authority)
			if err != nil {
				proxyFail(c, "proxy-dial", err)
				_ = c.Write([]byte(badGateway))
				return
			}
			origin = authority
			done = pipeBack(c, up)
		} else if authority != origin {
			proxyFail(c, "proxy-request", fmt.Errorf("%w: origin %s after %s on one connection", ErrProxyTarget, authority, origin))
			return
		}
		if _, err := up.Write(fwd); err != nil {
			proxyFail(c, "proxy-forward", err)
			return
		}
	}
}

// proxyFail records a proxy error unless it is a normal end (client EOF or
// server shutdown).
func proxyFail(c *Conn, op string, err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, ErrServerClosed) {
		return
	}
	c.srv.recordErr(&ConnError{Conn: c.index, Step: -1, Op: op, Err: err})
}

// opensTunnel reports whether a CONNECT reply has a 2xx status code.
func opensTunnel(reply string) bool {
	if !strings.HasPrefix(reply, "HTTP/") {
		return false
	}
	_, rest, ok := strings.Cut(reply, " ")
	return ok && len(rest) >= 3 && rest[0] == '2' && isDigit(rest[1]) && isDigit(rest[2])
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// originForm splits an absolute-form request ("GET http://host:port/p?q
// HTTP/1.1 ...") into its authority (with the port, default 80) and the same
// request with an origin-form target ("GET /p?q HTTP/1.1 ...").
func originForm(req []byte) (authority string, fwd []byte, err error) {
	line, _ := cutLine(req)
	method, rest, ok1 := bytes.Cut(line, []byte{' '})
	target, version, ok2 := bytes.Cut(rest, []byte{' '})
	const scheme = "http://"
	if !ok1 || !ok2 || len(target) < len(scheme) || !strings.EqualFold(string(target[:len(scheme)]), scheme) {
		return "", nil, fmt.Errorf("%w: not an absolute-form http request line: %q", ErrProxyTarget, line)
	}
	target = target[len(scheme):]
	end := bytes.IndexAny(target, "/?#")
	if end < 0 {
		end = len(target)
	}
	authority = string(target[:end])
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	if _, _, err := net.SplitHostPort(authority); err != nil {
		authority = net.JoinHostPort(strings.Trim(authority, "[]"), "80")
	}
	path := target[end:]
	fwd = make([]byte, 0, len(req))
	fwd = append(fwd, method...)
	fwd = append(fwd, ' ')
	if len(path) == 0 || path[0] != '/' {
		fwd = append(fwd, '/')
	}
	fwd = append(fwd, path...)
	fwd = append(fwd, ' ')
	fwd = append(fwd, version...)
	fwd = append(fwd, req[len(line):]...)
	return authority, fwd, nil
}

// splitAuthority splits "host:port", "[v6]:port" and the unbracketed
// "v6:port" that Godot writes in CONNECT lines (§1.14.2.1).
func splitAuthority(authority string) (host, port string, err error) {
	if host, port, err = net.SplitHostPort(authority); err == nil {
		return host, port, nil
	}
	i := strings.LastIndexByte(authority, ':')
	if i < 0 || strings.ContainsAny(authority, "[]") {
		return "", "", fmt.Errorf("%w: %q", ErrProxyTarget, authority)
	}
	return authority[:i], authority[i+1:], nil
}

// dialLoopback connects to a loopback authority and refuses any other.
func dialLoopback(authority string) (*net.TCPConn, error) {
	host, port, err := splitAuthority(authority)
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(host)
	if !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%w: %q", ErrProxyTarget, authority)
	}
	nc, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), dialTimeout)
	if err != nil {
		return nil, err
	}
	tcp := nc.(*net.TCPConn)
	_ = tcp.SetNoDelay(true)
	return tcp, nil
}
