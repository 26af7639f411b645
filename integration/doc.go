// Package integration runs gdhttp against the real peers that
// scripts/peers.sh starts on loopback — nginx (plain, TLS, IPv6), httpbin,
// three tinyproxy instances (open, strict, with BasicAuth) and curl — where
// users meet them. It holds tests only; this file exists so that the
// package builds without them.
//
// What the tests check, each citing the rules of docs/behaviour.md it
// exercises:
//
//   - client_test.go: httpclient.Client against nginx in non-blocking (Poll
//     loop) and blocking mode — Content-Length files, chunked bodies (one whole
//     chunk per ReadResponseBodyChunk, compared with the chunks nginx sent,
//     §1.10.2.5), read-until-close (DISCONNECTED at the end, §1.10.1.4, §7 D3),
//     Connection: close (§1.10.3, §1.6.3.3), keep-alive over plain and TLS
//     (§1.10.3), HEAD (§1.8.6), 204 and 304 (§1.9), 404, redirects seen as plain
//     3xx (§1.2), ranges, the automatic request headers (§1.7.10), TLS with the
//     generated CA, a wrong CA or name (TLS_HANDSHAKE_ERROR with the x509
//     cause, §1.6.2.5), IPv6 (0:0:0:0:0:0:0:1; "::1" is refused by §1.5.6) and
//     the scheme prefixes (§1.5.3). Bodies are checked against the SHA-256 sums
//     in $GDHTTP_NGINX_FILES/SHA256SUMS, status traces against Godot's (§1.19).
//   - request_test.go: httprequest.HTTPRequest against nginx and httpbin
//     through the three drivers of §7.3 (Process, use_threads + Process, Do):
//     gzip, deflate and br (§2.7.4, §2.8.2), redirects and their limit
//     (§2.8.1), download_file (§2.9.2), body_size_limit (§2.9.1), the request
//     headers the node sends (§2.4.6), JSON POST, /status/418, /stream, TLS,
//     IPv6 (§2.5.11) and the timeout (§2.11).
//   - proxy_test.go: SetHTTPProxy (absolute-form, §1.14.1) and SetHTTPSProxy
//     (CONNECT, §1.14.2 with §7 D5) through tinyproxy, the bytes sent to the
//     proxy, and the strict proxy's 403 (STATUS_CANT_CONNECT with a
//     *httpclient.ProxyError), for both packages.
//   - curl_test.go: curl as the reference client: the same codes, bodies and
//     framing headers for the same URLs, and the same request echoed by
//     httpbin's /anything.
//   - transfer_test.go: large uploads (§1.6.4.1) and nginx's early 413
//     (§1.6.4.2), a body trickling in (§1.10.1.2), the node's connections
//     (§2.1.4 and the SetKeepAlive option), and Abort / CancelRequest against a
//     slow peer (§7 D1).
//   - upload_test.go: streamed request bodies (§7.2 opt-in, COMPAT.md U1–U5)
//     against httpbin: multipart forms to /post (files echoed, known length
//     and chunked) and RequestStream to /anything in the three drivers, a 302
//     that resends a seekable body (§2.8.1.7) or fails with
//     RESULT_REQUEST_FAILED, and the Transport streaming bodies.
//   - httpbin_test.go: the node against every httpbin 0.7.0 route, three
//     drivers: the request headers httpbin receives (§2.4.6, §1.7.10), all
//     methods and bodies (§2.4.10), URL parsing (§2.5), /gzip, /deflate and
//     /brotli with and without accept_gzip and the brotli opt-in (§2.7.4,
//     §2.8.2), /redirect, /relative-redirect and /absolute-redirect with
//     max_redirects around N (§2.8.1.2), which 3xx are followed and what is
//     re-sent (§2.8.1), /status codes including 100, 204 and 304 (§1.9,
//     §2.10), /bytes and /stream-bytes against body_size_limit (§2.9.1),
//     /stream, /drip and /delay against the timeout (§2.11), /basic-auth,
//     /cookies (no jar, §2.1.4), /range, /response-headers (§1.8.5), raw URL
//     and header bytes (§1.7.6, §0.4.5), and the keep-alive option after
//     requests that ended early.
//   - nginx_node_test.go: the node with nginx's ranges (gzip answers ignore
//     them), conditional requests (304), download_file rules (§2.9.2, §7 D3),
//     progress, httpbin behind nginx, and httpbin through tinyproxy (§1.14,
//     §7 D2 credentials dropped when a redirect changes the port).
//   - transport_test.go: httpclient.Transport under http.Client against
//     httpbin, nginx and tinyproxy: Godot's request bytes, methods, uploads,
//     redirects (http.Client's policy), cookies (net/http/cookiejar), basic
//     auth, streamed bodies, context deadlines, both proxy kinds, raw
//     encodings, bodyless statuses, the connection pool, files over TLS and
//     IPv6, ranges, MaxConnsPerHost.
//   - expect_test.go: "Expect: 100-continue" against gunicorn and nginx (the
//     node: RESULT_NO_RESPONSE, §2.7.1; the Transport returns the 100 and
//     never pools that connection, §7 D2).
//
// A small relay in front of a peer (helpers_test.go) records the bytes the
// client sent and the chunk framing the server used on that connection.
//
// Every test skips, with internal/peers' message, when its peer is not
// configured, so `go test ./...` passes with nothing but Go installed:
//
//	scripts/peers.sh start        # as root: install, start, write .peers.env
//	go test -race ./integration/
//	scripts/peers.sh stop
//
// The 64 MiB transfers are skipped under -short.
package integration
