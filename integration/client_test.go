package integration

import (
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/peers"
	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// bodyCase is one GET of a generated file and what Godot's client must show.
type bodyCase struct {
	path  string // /<location>/<file>
	file  string // the generated file the body must equal
	frame string // "length", "chunked" or "eof"
}

func (bc bodyCase) name() string {
	return strings.TrimPrefix(strings.ReplaceAll(bc.path, "/", "_"), "_")
}

// nginxBodyCases are the framings nginx produces for the generated files.
var nginxBodyCases = []bodyCase{
	// §1.9 row 1, §1.10.1: Content-Length.
	{"/static/1k.bin", "1k.bin", "length"},
	{"/static/1m.bin", "1m.bin", "length"},
	{"/static/64m.bin", "64m.bin", "length"},
	{"/static/text.txt", "text.txt", "length"}, // no Accept-Encoding sent: not compressed (§1.7.10)
	{"/static/image.png", "image.png", "length"},
	{"/static/empty.txt", "empty.txt", "length"}, // Content-Length: 0 → BODY, one empty read (§1.9 note)
	// §1.9 row 1, §1.10.2: chunked, 32 KiB chunks.
	{"/chunked/1k.bin", "1k.bin", "chunked"},
	{"/chunked/1m.bin", "1m.bin", "chunked"},
	{"/chunked/text.txt", "text.txt", "chunked"},
	{"/chunked/64m.bin", "64m.bin", "chunked"},
	{"/chunked-trailer/1m.bin", "1m.bin", "chunked"}, // trailer fields read and dropped (§1.10.2.6)
	// §1.9 row 2, §1.10.1.4: read until close.
	{"/eof/1k.bin", "1k.bin", "eof"},
	{"/eof/1m.bin", "1m.bin", "eof"},
	{"/eof/64m.bin", "64m.bin", "eof"},
	{"/eof/data.json", "data.json", "eof"},
}

// TestClientNginxBodies fetches every framing nginx produces, with both
// drivers and both read paths, on a fresh connection each: the body's SHA-256
// equals the file's, and the getters and the status trace are Godot's:
//   - Content-Length: BODY → CONNECTED, ResponseBodyLength = the size, pieces
//     of at most ReadChunkSize (§1.9, §1.10.1.1, §1.10.1.4, §1.11.5);
//   - chunked: IsResponseChunked, length −1, one whole chunk per
//     ReadResponseBodyChunk — the pieces are exactly the chunks nginx framed
//     on that connection, recorded by a relay (§1.8.3, §1.10.2.5) — then
//     CONNECTED after the trailer (§1.10.2.6);
//   - read until close: "Connection: close", length −1, BODY → DISCONNECTED at
//     the end and BodyComplete (§1.9 row 2, §1.10.1.4, §7 D3);
//   - in blocking mode every ReadResponseBodyChunk of a fixed-length or
//     read-until-close body returns a full read_chunk_size (§1.10.1.2).
func TestClientNginxBodies(t *testing.T) {
	addr := peers.Nginx(t)
	fs := nginxFiles(t)
	host, port := splitAddr(t, addr)
	for _, bc := range nginxBodyCases {
		for _, m := range modes {
			for _, path := range []readPath{viaChunks, viaReader} {
				if bc.file == "64m.bin" && bc.frame != "length" && path != viaChunks {
					continue // 64 MiB: the reader path is covered by the Content-Length file
				}
				t.Run(bc.name()+"/"+m.name+"/"+path.String(), func(t *testing.T) {
					skipBig(t, bc.file)
					h, p := host, port
					var tp *tap
					if bc.frame == "chunked" && path == viaChunks {
						tp = newTap(t, addr) // to see nginx's chunk sizes on this connection
						h, p = splitAddr(t, tp.addr)
					}
					r := newClientRun(t, m.blocking)
					require.NoError(t, r.connect(h, p, nil))
					resp := r.request(httpclient.MethodGet, bc.path, nil, "", path)
					var chunks []int
					if tp != nil {
						chunks = tp.chunkSizes(t)
					}
					checkFileBody(t, fs, bc, resp, path, chunks)
					if m.blocking && path == viaChunks && bc.frame != "chunked" {
						// §1.10.1.2: a blocking read fills its target, min(body left,
						// read_chunk_size), or ends with the stream.
						assert.Equal(t, fullPieces(fs.size(t, bc.file), httpclient.DefaultReadChunkSize), resp.Pieces, "§1.10.1.2 blocking reads")
					}
					wantTrace := concat(toConnected, bodyThenOK)
					if bc.frame == "eof" {
						wantTrace = concat(toConnected, bodyThenEOF)
					}
					assert.Equal(t, wantTrace, r.trace, "status trace (§1.19)")
					assert.NoError(t, r.c.LastError())
				})
			}
		}
	}
}

// fullPieces splits size into pieces of n bytes and a last, shorter one.
func fullPieces(size int64, n int) []int {
	var out []int
	for ; size > 0; size -= int64(n) {
		out = append(out, int(min(size, int64(n))))
	}
	return out
}

// checkFileBody asserts a complete 200 response carrying file bc.file with
// bc's framing.
func checkFileBody(t *testing.T, fs files, bc bodyCase, resp response, path readPath, chunks []int) {
	t.Helper()
	size := fs.size(t, bc.file)
	assert.Equal(t, 200, resp.Code, "§1.8.4")
	assert.Equal(t, size, int64(len(resp.Body)), "body length")
	assert.Equal(t, fs.sum(t, bc.file), drive.SHA256(resp.Body), "body SHA-256 against SHA256SUMS")
	assert.True(t, resp.Complete, "BodyComplete")
	if path == viaReader {
		assert.ErrorIs(t, resp.ReadErr, io.EOF, "BodyReader ends with io.EOF")
	}
	switch bc.frame {
	case "length":
		assert.Equal(t, size, resp.BodyLen, "§1.11.5 body length = Content-Length")
		assert.False(t, resp.Chunked)
		assert.True(t, hasHeader(resp.Headers, "Content-Length: "+strconv.FormatInt(size, 10)), "stored header (§1.8.5): %q", resp.Headers)
		assert.Equal(t, httpclient.StatusConnected, resp.After, "§1.10.1.4 complete → CONNECTED")
		for _, p := range resp.Pieces {
			assert.LessOrEqual(t, p, httpclient.DefaultReadChunkSize, "§1.10.1.1 at most read_chunk_size per read")
		}
	case "chunked":
		assert.Equal(t, int64(-1), resp.BodyLen, "§1.11.5 no Content-Length")
		assert.True(t, resp.Chunked, "§1.8.3 Transfer-Encoding: chunked")
		assert.True(t, hasHeader(resp.Headers, "Transfer-Encoding: chunked"), "stored header: %q", resp.Headers)
		assert.Equal(t, httpclient.StatusConnected, resp.After, "§1.10.2.6 trailer done → CONNECTED")
		if chunks != nil {
			// nginx sends 32 KiB chunks, merged into larger ones (65537 bytes, say)
			// when the client is slower: each is still delivered whole, even above
			// read_chunk_size (§1.10.2.5).
			assert.Equal(t, chunks, resp.Pieces, "§1.10.2.5 one whole chunk per ReadResponseBodyChunk")
		}
	case "eof":
		assert.Equal(t, int64(-1), resp.BodyLen, "§1.11.5")
		assert.False(t, resp.Chunked)
		assert.True(t, hasHeader(resp.Headers, "Connection: close"), "stored header: %q", resp.Headers)
		assert.Equal(t, httpclient.StatusDisconnected, resp.After, "§1.10.1.4 / §7 D3 read until close ends DISCONNECTED")
		for _, p := range resp.Pieces {
			assert.LessOrEqual(t, p, httpclient.DefaultReadChunkSize, "§1.10.1.1")
		}
	}
}

// lenOfBody in step.bodyLen means that the Content-Length is the length of
// the body received (nginx's own HTML pages, whose size is nginx's business).
const lenOfBody = -2

// step is one request on a kept-alive connection.
type step struct {
	name     string
	method   httpclient.Method
	url      string
	body     string
	code     int
	bodyLen  int64  // ResponseBodyLength; lenOfBody: the length of the body received
	wantBody string // exact body; "" with bodySub unset means empty
	bodySub  string // the body contains this instead (nginx's HTML pages)
	bodyFile string // the body is this generated file
	header   string // a stored header line that must be present
	trace    []httpclient.Status
}

// TestClientNginxKeepAlive sends one request after another on a single
// connection (one ConnectToHost), in both modes: the client is CONNECTED after
// each complete body and the next request goes out on the same connection
// (§1.10.3, §1.7), through every framing including a chunked body with a
// trailer (§1.10.2.6) and bodyless answers. It also covers what Godot's client
// treats as nothing special: HEAD (§1.8.6: length 0, BODY then one empty read),
// 204 without any framing header (§1.9 row 3: straight to CONNECTED), 404, and
// redirects, which HTTPClient only reports (§1.2); and the automatic request
// headers as nginx received them (§1.7.10). Plain and over TLS.
func TestClientNginxKeepAlive(t *testing.T) {
	plain := peers.Nginx(t)
	fs := nginxFiles(t)
	targets := []struct {
		name   string
		scheme string
		peer   func(t *testing.T) (string, *httpclient.TLSOptions)
	}{
		{"plain", "http", func(t *testing.T) (string, *httpclient.TLSOptions) { return plain, nil }},
		{"tls", "https", func(t *testing.T) (string, *httpclient.TLSOptions) {
			addr, roots := peers.NginxTLS(t)
			return addr, httpclient.TLSClient(roots, "")
		}},
	}
	for _, tg := range targets {
		for _, m := range modes {
			t.Run(tg.name+"/"+m.name, func(t *testing.T) {
				addr, opts := tg.peer(t)
				host, port := splitAddr(t, addr)
				r := newClientRun(t, m.blocking)
				require.NoError(t, r.connect(host, port, opts))
				want := toConnected
				for _, s := range keepAliveSteps(tg.scheme, addr) {
					resp := r.request(s.method, s.url, nil, s.body, viaChunks)
					want = concat(want, s.trace)
					checkStep(t, fs, s, resp)
					assert.True(t, r.c.KeepAlive(), "%s: nginx keeps the connection", s.name)
					if t.Failed() {
						break
					}
				}
				assert.Equal(t, want, r.trace, "one connection, every status in order (§1.19)")
			})
		}
	}
}

// keepAliveSteps are the requests TestClientNginxKeepAlive sends one after
// the other to nginx at scheme://addr.
func keepAliveSteps(scheme, addr string) []step {
	base := scheme + "://" + addr
	echoGet := "Host: " + addr + "\nUser-Agent: " + wire.DefaultUserAgent() + "\nAccept: */*\nAccept-Encoding: \nConnection: \nContent-Length: \nContent-Type: \nTransfer-Encoding: \n"
	echoPost := "Host: " + addr + "\nUser-Agent: " + wire.DefaultUserAgent() + "\nAccept: */*\nAccept-Encoding: \nConnection: \nContent-Length: 6\nContent-Type: \nTransfer-Encoding: \n"
	return []step{
		{name: "static", method: httpclient.MethodGet, url: "/static/1k.bin", code: 200, bodyLen: 1024, bodyFile: "1k.bin", trace: bodyThenOK},
		{name: "chunked-trailer", method: httpclient.MethodGet, url: "/chunked-trailer/1m.bin", code: 200, bodyLen: -1, bodyFile: "1m.bin", header: "Transfer-Encoding: chunked", trace: bodyThenOK},
		{name: "after-trailer", method: httpclient.MethodGet, url: "/method", code: 200, bodyLen: 12, wantBody: "GET /method\n", trace: bodyThenOK},
		{name: "§1.8.6 HEAD", method: httpclient.MethodHead, url: "/static/1m.bin", code: 200, bodyLen: 0, header: "Content-Length: 1048576", trace: bodyThenOK},
		{name: "§1.8.6 HEAD of a chunked location", method: httpclient.MethodHead, url: "/chunked/1m.bin", code: 200, bodyLen: 0, trace: bodyThenOK},
		{name: "§1.8.6 HEAD of a read-until-close location", method: httpclient.MethodHead, url: "/eof/1m.bin", code: 200, bodyLen: 0, trace: bodyThenOK},
		{name: "§1.9 204 no framing", method: httpclient.MethodGet, url: "/status/204", code: 204, bodyLen: -1, trace: noBody},
		{name: "404", method: httpclient.MethodGet, url: "/no/such/file", code: 404, bodyLen: lenOfBody, bodySub: "<title>404 Not Found</title>", trace: bodyThenOK},
		{name: "§1.2 301 not followed", method: httpclient.MethodGet, url: "/redirect/301", code: 301, bodyLen: lenOfBody, bodySub: "301 Moved Permanently", header: "Location: " + base + "/method", trace: bodyThenOK},
		{name: "§1.2 302 not followed", method: httpclient.MethodGet, url: "/redirect/302?to=/static/1k.bin", code: 302, bodyLen: lenOfBody, bodySub: "302 Found", header: "Location: " + base + "/static/1k.bin", trace: bodyThenOK},
		{name: "§1.2 303", method: httpclient.MethodGet, url: "/redirect/303", code: 303, bodyLen: lenOfBody, bodySub: "303 See Other", header: "Location: " + base + "/method", trace: bodyThenOK},
		{name: "§1.2 307", method: httpclient.MethodGet, url: "/redirect/307", code: 307, bodyLen: lenOfBody, bodySub: "307 Temporary Redirect", header: "Location: " + base + "/method", trace: bodyThenOK},
		{name: "§1.2 308", method: httpclient.MethodGet, url: "/redirect/308", code: 308, bodyLen: lenOfBody, bodySub: "308 Permanent Redirect", header: "Location: " + base + "/method", trace: bodyThenOK},
		{name: "§1.2 relative", method: httpclient.MethodGet, url: "/redirect/relative", code: 302, bodyLen: lenOfBody, bodySub: "302 Found", header: "Location: /method", trace: bodyThenOK},
		{name: "401", method: httpclient.MethodGet, url: "/status/401", code: 401, bodyLen: 11, wantBody: "status 401\n", header: `WWW-Authenticate: Basic realm="gdhttp"`, trace: bodyThenOK},
		{name: "500", method: httpclient.MethodGet, url: "/status/500", code: 500, bodyLen: 11, wantBody: "status 500\n", trace: bodyThenOK},
		{name: "POST body", method: httpclient.MethodPost, url: "/method", body: "hello", code: 200, bodyLen: 13, wantBody: "POST /method\n", trace: bodyThenOK},
		{name: "PUT", method: httpclient.MethodPut, url: "/method?x=1", body: "x", code: 200, bodyLen: 16, wantBody: "PUT /method?x=1\n", trace: bodyThenOK},
		{name: "DELETE", method: httpclient.MethodDelete, url: "/method", code: 200, bodyLen: 15, wantBody: "DELETE /method\n", trace: bodyThenOK},
		{name: "OPTIONS", method: httpclient.MethodOptions, url: "/method", code: 200, bodyLen: 16, wantBody: "OPTIONS /method\n", trace: bodyThenOK},
		{name: "PATCH", method: httpclient.MethodPatch, url: "/method", body: "{}", code: 200, bodyLen: 14, wantBody: "PATCH /method\n", trace: bodyThenOK},
		// §1.7.10: Host, User-Agent (Godot's format) and Accept are added; Connection,
		// Accept-Encoding and Transfer-Encoding never are; Content-Length only for a body,
		// counted in UTF-8 bytes ("héllo" is 6).
		{name: "§1.7.10 automatic headers", method: httpclient.MethodGet, url: "/headers", code: 200, bodyLen: int64(len(echoGet)), wantBody: echoGet, trace: bodyThenOK},
		{name: "§1.7.10 Content-Length only with a body", method: httpclient.MethodPost, url: "/headers", body: "héllo", code: 200, bodyLen: int64(len(echoPost)), wantBody: echoPost, trace: bodyThenOK},
		{name: "last", method: httpclient.MethodGet, url: "/static/1m.bin", code: 200, bodyLen: 1 << 20, bodyFile: "1m.bin", trace: bodyThenOK},
	}
}

// checkStep asserts the response to one step.
func checkStep(t *testing.T, fs files, s step, resp response) {
	t.Helper()
	assert.Equal(t, s.code, resp.Code, "%s: code", s.name)
	wantLen := s.bodyLen
	if wantLen == lenOfBody {
		wantLen = int64(len(resp.Body))
	}
	assert.Equal(t, wantLen, resp.BodyLen, "%s: ResponseBodyLength (§1.11.5)", s.name)
	switch {
	case s.bodyFile != "":
		assert.Equal(t, fs.sum(t, s.bodyFile), drive.SHA256(resp.Body), "%s: body SHA-256", s.name)
	case s.bodySub != "":
		assert.Contains(t, string(resp.Body), s.bodySub, "%s: body", s.name)
	default:
		assert.Equal(t, s.wantBody, string(resp.Body), "%s: body", s.name)
	}
	if s.header != "" {
		assert.True(t, hasHeader(resp.Headers, s.header), "%s: stored header %q in %q", s.name, s.header, resp.Headers)
	}
	assert.Equal(t, httpclient.StatusConnected, resp.After, "%s: CONNECTED after the body (§1.10.3)", s.name)
}

// TestClientNginxConnectionClose: /close/ answers with Content-Length and
// "Connection: close". The complete body still leaves the client CONNECTED
// (§1.10.3: Godot never closes on its own), KeepAlive reports the header, and
// nginx's close turns the next polls into CONNECTION_ERROR with ErrPeerClosed
// (§1.6.3.3), plain and over TLS (§1.6.3.1).
func TestClientNginxConnectionClose(t *testing.T) {
	addr := peers.Nginx(t)
	tlsAddr, roots := peers.NginxTLS(t)
	fs := nginxFiles(t)
	targets := []struct {
		name string
		addr string
		opts *httpclient.TLSOptions
	}{
		{"plain", addr, nil},
		{"tls", tlsAddr, httpclient.TLSClient(roots, "")},
	}
	for _, tg := range targets {
		host, port := splitAddr(t, tg.addr)
		for _, m := range modes {
			t.Run(tg.name+"/"+m.name, func(t *testing.T) {
				r := newClientRun(t, m.blocking)
				require.NoError(t, r.connect(host, port, tg.opts))
				resp := r.request(httpclient.MethodGet, "/close/1m.bin", nil, "", viaChunks)
				assert.Equal(t, 200, resp.Code)
				assert.Equal(t, fs.sum(t, "1m.bin"), drive.SHA256(resp.Body), "body SHA-256")
				assert.True(t, hasHeader(resp.Headers, "Connection: close"), "%q", resp.Headers)
				assert.Equal(t, httpclient.StatusConnected, resp.After, "§1.10.3 complete body → CONNECTED even with Connection: close")
				assert.False(t, r.c.KeepAlive(), "KeepAlive reports Connection: close")
				r.pollUntilChange(10 * time.Second)
				assert.Equal(t, concat(toConnected, bodyThenOK, statuses(httpclient.StatusConnectionError)), r.trace, "§1.6.3.3 FIN while idle → CONNECTION_ERROR")
				err := r.c.LastError()
				assert.ErrorIs(t, err, httpclient.ErrConnectionError)
				if tg.opts == nil {
					assert.ErrorIs(t, err, httpclient.ErrPeerClosed)
				}
				assert.ErrorIs(t, r.c.Poll(), httpclient.ErrConnectionError, "§1.6 terminal status: Poll keeps returning ERR_CONNECTION_ERROR")
			})
		}
	}
}

// TestClientNginxTLS: the same locations over TLS with the generated CA
// (TLSClient(roots, "")): the handshake happens inside CONNECTING (§1.6.2.5),
// by IP literal and by name (RESOLVING first, §1.5.11), and bodies are
// identical. A read-until-close body ends as nginx ends its TLS stream: it
// sends close_notify, so the stream's EOF is a clean end (§1.15.4:
// DISCONNECTED).
func TestClientNginxTLS(t *testing.T) {
	addr, roots := peers.NginxTLS(t)
	fs := nginxFiles(t)
	_, port := splitAddr(t, addr)
	cases := []bodyCase{
		{"/static/1m.bin", "1m.bin", "length"},
		{"/chunked/1m.bin", "1m.bin", "chunked"},
		{"/eof/1m.bin", "1m.bin", "eof"},
	}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		for _, bc := range cases {
			for _, m := range modes {
				t.Run(host+"/"+bc.name()+"/"+m.name, func(t *testing.T) {
					skipBig(t, bc.file)
					r := newClientRun(t, m.blocking)
					require.NoError(t, r.connect(host, port, httpclient.TLSClient(roots, "")), "cause: %v", r.c.LastError())
					resp := r.request(httpclient.MethodGet, bc.path, nil, "", viaChunks)
					checkFileBody(t, fs, bc, resp, viaChunks, nil) // chunk sizes: TestClientNginxBodies
					conn := toConnected
					if host == "localhost" {
						conn = resolved
					}
					end := bodyThenOK
					if bc.frame == "eof" {
						end = bodyThenEOF
					}
					assert.Equal(t, concat(conn, end), r.trace, "status trace (§1.19)")
					assert.NoError(t, r.c.LastError())
				})
			}
		}
	}
}

// TestClientNginxTLSFailures: certificate checks against the real server
// (§1.6.2.5, §1.15.5). A CA that did not sign nginx's certificate, and the
// system roots, give STATUS_TLS_HANDSHAKE_ERROR with Poll returning
// ERR_CANT_CONNECT around x509.UnknownAuthorityError; a common-name override
// that the certificate does not name gives x509.HostnameError; the unsafe
// options accept both.
func TestClientNginxTLSFailures(t *testing.T) {
	addr, roots := peers.NginxTLS(t)
	host, port := splitAddr(t, addr)
	other := testserver.NewCA(t).Pool()
	failed := statuses(httpclient.StatusConnecting, httpclient.StatusTLSHandshakeError)
	unknownCA := func(t *testing.T, err error) {
		var ua x509.UnknownAuthorityError
		assert.True(t, errors.As(err, &ua), "x509.UnknownAuthorityError in %v", err)
	}
	cases := []struct {
		name  string
		opts  *httpclient.TLSOptions
		cause func(t *testing.T, err error) // nil: the connection succeeds
	}{
		{"wrong-ca", httpclient.TLSClient(other, ""), unknownCA},
		{"system-roots", httpclient.TLSClient(nil, ""), unknownCA},
		{"https-prefix-system-roots", nil, unknownCA}, // §1.5.3: "https://" with no options → TLSClient(nil, "")
		{"wrong-name", httpclient.TLSClient(roots, "not-the-server.example"), func(t *testing.T, err error) {
			var he x509.HostnameError
			assert.True(t, errors.As(err, &he), "x509.HostnameError in %v", err)
		}},
		// §1.15.5 (issue 7 rule 4): client_unsafe with a chain still verifies
		// the chain against it; only the name is not checked.
		{"unsafe-wrong-ca", httpclient.TLSClientUnsafe(other), unknownCA},
		{"unsafe-right-ca-any-name", httpclient.TLSClientUnsafe(roots), nil},
		{"unsafe-no-roots", httpclient.TLSClientUnsafe(nil), nil},
		{"right-name-override", httpclient.TLSClient(roots, "localhost"), nil},
	}
	for _, tc := range cases {
		for _, m := range modes {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				r := newClientRun(t, m.blocking)
				h := host
				if tc.opts == nil {
					h = "https://" + host
				}
				err := r.connect(h, port, tc.opts)
				if tc.cause == nil {
					require.NoError(t, err)
					assert.Equal(t, toConnected, r.trace)
					resp := r.request(httpclient.MethodGet, "/health", nil, "", viaChunks)
					assert.Equal(t, "ok\n", string(resp.Body))
					return
				}
				assert.Equal(t, failed, r.trace, "§1.6.2.5 → TLS_HANDSHAKE_ERROR")
				assert.ErrorIs(t, err, httpclient.ErrCantConnect, "§1.6.2.5 poll returns ERR_CANT_CONNECT")
				tc.cause(t, err)
				assert.Equal(t, err, r.c.LastError(), "LastError is the Poll error")
				assert.ErrorIs(t, r.c.Poll(), httpclient.ErrConnectionError, "§1.6 terminal TLS_HANDSHAKE_ERROR polls ERR_CONNECTION_ERROR")
			})
		}
	}
}

// TestClientNginxIPv6: nginx on the IPv6 loopback. Godot wants IPv6 literals
// without brackets (§1.5.9) and at least 4 characters (§1.5.6), so "::1" is
// refused with ERR_INVALID_PARAMETER, "[::1]" goes to DNS and fails
// (CANT_RESOLVE), and "0:0:0:0:0:0:0:1" works — with the unbracketed Host
// header Godot sends (§1.7.10), which nginx accepts. Over TLS too.
func TestClientNginxIPv6(t *testing.T) {
	addr6 := peers.Nginx6(t)
	fs := nginxFiles(t)
	_, port := splitAddr(t, addr6)
	const long6 = "0:0:0:0:0:0:0:1"

	t.Run("§1.5.6 ::1 refused", func(t *testing.T) {
		c := httpclient.New()
		defer c.Close()
		err := c.ConnectToHost("::1", port, nil)
		assert.ErrorIs(t, err, httpclient.ErrInvalidParameter)
		assert.Equal(t, httpclient.StatusDisconnected, c.Status())
	})
	for _, m := range modes {
		t.Run("§1.5.9 bracketed goes to DNS/"+m.name, func(t *testing.T) {
			r := newClientRun(t, m.blocking)
			err := r.connect("[::1]", port, nil)
			assert.ErrorIs(t, err, httpclient.ErrCantResolve)
			assert.Equal(t, statuses(httpclient.StatusResolving, httpclient.StatusCantResolve), r.trace)
			var dnsErr *net.DNSError
			assert.True(t, errors.As(err, &dnsErr), "*net.DNSError in %v", err)
		})
		t.Run("plain/"+m.name, func(t *testing.T) {
			r := newClientRun(t, m.blocking)
			require.NoError(t, r.connect(long6, port, nil))
			resp := r.request(httpclient.MethodGet, "/static/1m.bin", nil, "", viaChunks)
			checkFileBody(t, fs, bodyCase{"/static/1m.bin", "1m.bin", "length"}, resp, viaChunks, nil)
			resp = r.request(httpclient.MethodGet, "/headers", nil, "", viaChunks)
			assert.True(t, strings.HasPrefix(string(resp.Body), "Host: "+long6+":"+strconv.Itoa(port)+"\n"),
				"§1.7.10 Host is the unbracketed literal: %q", resp.Body)
			assert.Equal(t, concat(toConnected, bodyThenOK, bodyThenOK), r.trace)
		})
		t.Run("tls/"+m.name, func(t *testing.T) {
			addr := optionalEnv(t, envNginxTLS6, peers.Nginx6)
			_, roots := peers.NginxTLS(t)
			_, tport := splitAddr(t, addr)
			r := newClientRun(t, m.blocking)
			require.NoError(t, r.connect(long6, tport, httpclient.TLSClient(roots, "")), "cause: %v", r.c.LastError())
			resp := r.request(httpclient.MethodGet, "/chunked/1m.bin", nil, "", viaChunks)
			assert.Equal(t, 200, resp.Code)
			assert.Equal(t, fs.sum(t, "1m.bin"), drive.SHA256(resp.Body))
			assert.Equal(t, concat(toConnected, bodyThenOK), r.trace)
		})
	}
}

// TestClientNginxConditionalAndRange sends user headers (§1.7.9) that change
// nginx's answer, on one connection: If-None-Match with the file's ETag gives
// a 304 without any framing header, which Godot's client takes as a response
// without a body, straight back to CONNECTED (§1.9 row 3); a Range gives a
// 206 with the requested bytes (§1.10.1). The node delivers the 304 as a
// success with its code and no body (§2.6, §2.10).
func TestClientNginxConditionalAndRange(t *testing.T) {
	addr := peers.Nginx(t)
	fs := nginxFiles(t)
	host, port := splitAddr(t, addr)
	raw, err := os.ReadFile(filepath.Join(fs.dir, "1m.bin"))
	require.NoError(t, err)
	head := newClientRun(t, true)
	require.NoError(t, head.connect(host, port, nil))
	etag, ok := headerValue(head.request(httpclient.MethodHead, "/static/1m.bin", nil, "", viaChunks).Headers, "ETag")
	require.True(t, ok, "nginx sends an ETag")
	head.c.Close()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newClientRun(t, m.blocking)
			require.NoError(t, r.connect(host, port, nil))
			resp := r.request(httpclient.MethodGet, "/static/1m.bin", []string{"If-None-Match: " + etag}, "", viaChunks)
			assert.Equal(t, 304, resp.Code)
			assert.Equal(t, int64(-1), resp.BodyLen, "§1.11.5 no length")
			assert.Empty(t, resp.Body)
			assert.True(t, hasHeader(resp.Headers, "ETag: "+etag), "%q", resp.Headers)

			resp = r.request(httpclient.MethodGet, "/static/1m.bin", []string{"Range: bytes=1000-4999"}, "", viaChunks)
			assert.Equal(t, 206, resp.Code)
			assert.Equal(t, int64(4000), resp.BodyLen)
			assert.True(t, hasHeader(resp.Headers, "Content-Range: bytes 1000-4999/1048576"), "%q", resp.Headers)
			assert.Equal(t, drive.SHA256(raw[1000:5000]), drive.SHA256(resp.Body), "the requested range")

			assert.Equal(t, concat(toConnected, noBody, bodyThenOK), r.trace, "§1.9 the 304 has no body")
		})
	}
	t.Run("node", func(t *testing.T) {
		eachDriver(t, nil, func(t *testing.T, d driver, n *httprequest.HTTPRequest) {
			o := d.run(t, n, "http://"+addr+"/static/1m.bin", []string{"If-None-Match: " + etag}, httpclient.MethodGet, nil)
			checkOutcome(t, want{result: httprequest.ResultSuccess, code: 304, headers: []string{"ETag: " + etag}, noBody: true}, o)
		})
	})
}

// TestClientNginxHostPrefixes: the scheme prefixes ConnectToHost accepts,
// against the real server (§1.5.3): "http://" forces plain HTTP even with
// TLS options, "HTTPS://" (any case) turns TLS on, and only the prefix is
// removed — what follows the host goes to the resolver, which fails
// (CANT_RESOLVE). The Host header carries the host without the prefix
// (§1.7.10).
func TestClientNginxHostPrefixes(t *testing.T) {
	plain := peers.Nginx(t)
	tlsAddr, roots := peers.NginxTLS(t)
	_, port := splitAddr(t, plain)
	_, tlsPort := splitAddr(t, tlsAddr)
	opts := httpclient.TLSClient(roots, "")
	cases := []struct {
		name  string
		host  string
		port  int
		trace []httpclient.Status
		echo  string // the Host line nginx echoes; "" when the connection fails
	}{
		{"§1.5.3 http:// forces plain", "http://127.0.0.1", port, toConnected, "Host: 127.0.0.1:" + strconv.Itoa(port)},
		{"§1.5.3 HTTPS:// case-insensitive", "HTTPS://localhost", tlsPort, resolved, "Host: localhost:" + strconv.Itoa(tlsPort)},
		{"§1.5.3 only the prefix is removed", "http://127.0.0.1/path", port, statuses(httpclient.StatusResolving, httpclient.StatusCantResolve), ""},
	}
	for _, tc := range cases {
		for _, m := range modes {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				r := newClientRun(t, m.blocking)
				err := r.connect(tc.host, tc.port, opts)
				if tc.echo == "" {
					assert.ErrorIs(t, err, httpclient.ErrCantResolve)
					assert.Equal(t, tc.trace, r.trace)
					return
				}
				require.NoError(t, err)
				resp := r.request(httpclient.MethodGet, "/headers", nil, "", viaChunks)
				assert.True(t, strings.HasPrefix(string(resp.Body), tc.echo+"\n"), "%q", resp.Body)
				assert.Equal(t, concat(tc.trace, bodyThenOK), r.trace)
			})
		}
	}
}
