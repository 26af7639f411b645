// Package httpclient is Godot 4's HTTPClient (the TCP/TLS implementation,
// HTTPClientTCP) in Go, over net.Conn and crypto/tls: the same statuses in
// the same order for the same server behaviour, the same request bytes, the
// same getters — with real blocking I/O, cancellation, typed errors and a
// zero-copy body reader added. The behaviour is specified rule by rule in
// docs/behaviour.md §1; the rules are cited as §1.x.y.
//
//	c := httpclient.New()
//	if err := c.ConnectToHost("example.com", 80, nil); err != nil { … }
//	for c.Status() == httpclient.StatusResolving || c.Status() == httpclient.StatusConnecting {
//		c.Poll() // non-blocking: call once per frame; or SetBlockingMode(true)
//	}
//	c.Request(httpclient.MethodGet, "/", nil, "")
//	for c.Status() == httpclient.StatusRequesting {
//		c.Poll()
//	}
//	for c.Status() == httpclient.StatusBody {
//		c.Poll()
//		chunk := c.ReadResponseBodyChunk()
//		…
//	}
//
// ReadResponseBodyChunk returns a new slice per call, as Godot's returns a
// new array (a large body's pieces are cut from arrays of 256 KiB or more,
// which makes Godot's loop faster: a kept piece keeps its array alive). For
// large bodies, read the same pieces into a buffer you reuse
// (buf, err = c.AppendResponseBodyChunk(buf[:0])), or with
// ReadResponseBodyChunkInto or BodyReader, which also decode many chunks
// per call: benchmarks/RESULTS.md measures all three.
//
// Blocking mode is the plain Go way to drive a client: after
// SetBlockingMode(true) the connect loop waits instead of spinning, one Poll
// after Request returns with the response head, and BodyReader streams the
// body (json.NewDecoder(c.BodyReader()) decodes a JSON one;
// ExampleClient_BodyReader). Once a body was read to its end the status is
// CONNECTED again and the next Request goes over the same connection; a
// json.Decoder stops after its value, so drain the rest first
// (io.Copy(io.Discard, c.BodyReader())), or the Request is refused in BODY.
// ConnectToHost takes the host and the port apart, as Godot: a URL's
// Hostname() and port, or "https://host" with port −1 for 443. HTTPS is
// TLSClient(roots, "") (nil roots: the system pool) or TLSClientUnsafe(nil)
// (nothing checked). Code written against net/http uses Transport, an
// http.RoundTripper for an http.Client (ExampleTransport).
//
// # Status machine (§1.19)
//
//	DISCONNECTED --ConnectToHost(IP)--> CONNECTING
//	DISCONNECTED --ConnectToHost(name)--> RESOLVING --resolved--> CONNECTING
//	RESOLVING --DNS failed--> CANT_RESOLVE       RESOLVING --bad port, no address can start a connect--> CANT_CONNECT
//	CONNECTING --TCP (+ proxy CONNECT + TLS) ok--> CONNECTED
//	CONNECTING --TCP failed (or ended during the TLS handshake) on every address, proxy refused--> CANT_CONNECT
//	CONNECTING --TLS handshake failed (alert, certificate, bad record)--> TLS_HANDSHAKE_ERROR
//	CONNECTED --Request--> REQUESTING --head parsed--> BODY | CONNECTED
//	REQUESTING --write/read error, EOF, bad head--> CONNECTION_ERROR
//	BODY --body complete--> CONNECTED        (also after an ambiguous head; the connection is then closed, §7 D2)
//	BODY --stream ended--> DISCONNECTED      (end of a read-until-close body, or a body cut short)
//	BODY --read error, chunk error, TLS closed without close_notify--> CONNECTION_ERROR
//	CONNECTED --peer closed while idle--> CONNECTION_ERROR
//	BODY --peer closed, nothing left of the body (Content-Length: 0, HEAD)--> CONNECTION_ERROR
//	any --Close / ConnectToHost--> DISCONNECTED
//	any --SetConnection--> DISCONNECTED (close()) --> CONNECTED
//
// Status changes only inside ConnectToHost, Request/RequestRaw, Poll, the
// body reads and Close, and Poll makes at most one change per call, so the
// sequence of statuses a caller sees is Godot's even when the network is
// faster than the caller. The terminal statuses (CANT_RESOLVE, CANT_CONNECT,
// CONNECTION_ERROR, TLS_HANDSHAKE_ERROR) stay until Close or ConnectToHost;
// LastError gives their cause.
//
// # I/O model
//
// Godot does non-blocking socket operations inside poll(). Here:
//
//   - Resolving (Go's resolver), the HTTPS-proxy CONNECT exchange and the
//     TLS handshake run in a background goroutine (started by ConnectToHost
//     to resolve, by Poll once the TCP connect succeeded). It only reports;
//     Poll applies its reports one status change at a time. The TCP connect
//     is Godot's: on unix a non-blocking
//     connect(2) started by ConnectToHost (an IP literal) or by the Poll
//     that takes the resolved addresses, then the next address in turn
//     after each failure, each bounded by SetConnectTimeout (default 30 s)
//     (§1.6.1.2, §1.6.2.2). Elsewhere the goroutine dials the addresses in
//     turn (COMPAT H14, H17).
//   - Non-blocking mode (the default): Poll and the body reads do not wait
//     (but for the one exception below).
//     They read the socket without waiting (one read(2) through
//     syscall.RawConn, no goroutine; under TLS, record after record until
//     nothing more has arrived), so a body read drains up to ReadChunkSize
//     of what has arrived, as Godot's does (§1.10.3, §1.15.3). A request is
//     written as far as the socket takes it, the rest at the next Polls, as
//     Godot's put_partial_data (§1.6.4.1; under TLS the record the socket
//     did not take waits whole; over a conn that is not a syscall.Conn, one
//     background goroutine writes the rest). Nothing spins. A caller that
//     spins on one client alone (a loop of Poll and reads on it and on
//     nothing else, no frame pacing) is the one exception to not waiting:
//     a call that finds nothing — no byte in the socket, the client's
//     goroutine (the TLS handshake, a CONNECT, a background write) not
//     done — waits up to 1 ms for it, leaving the CPU to the goroutine,
//     the scheduler and a server on the same machine (with GOMAXPROCS 1
//     such a spin let them run only every 10 ms). The wait takes no byte:
//     a read still returns what the socket held when it read. A paced
//     caller, a loop over several clients or nodes, and a conn given to
//     SetConnection never wait. In CONNECTED
//     and BODY Poll checks liveness with the same zero-wait peek as
//     blocking mode (below), so both modes see a FIN at the same Poll.
//     Where the socket cannot be read without waiting (a conn that is not
//     a syscall.Conn, a platform without the read) one background read at a
//     time takes its place, and a FIN is seen a Poll later.
//   - Blocking mode: reads and writes happen on the caller's goroutine and
//     block for real (Godot busy-waits, §1.15.2, §7 D1). Poll waits in
//     RESOLVING, CONNECTING and REQUESTING until the status can change; in
//     CONNECTED and BODY it checks liveness and returns at once: a zero-wait
//     peek at the socket (§1.6.3, §1.15.3) that leaves arrived bytes in it
//     (under TLS, when bytes arrive in CONNECTED or the socket ends, a read
//     through crypto/tls that does not wait, so a close_notify is seen as in
//     Godot); where the socket cannot be peeked (Windows, Plan 9, wasm, a
//     conn that is not a syscall.Conn) a background read, as in
//     non-blocking mode. Statuses seen are the same as in non-blocking
//     mode.
//   - The connection has one read buffer (64 KiB; larger to hold a larger
//     response head, and 256 KiB while a chunked body is read with
//     ReadResponseBodyChunkInto into a slice of at least 16 KiB), taken
//     from a free list shared by all clients when bytes arrive and given
//     back whenever it holds nothing and nothing has arrived: a connection
//     waiting for a response, or idle between responses, holds none (a
//     load tool may keep thousands of both). Bytes
//     received past a head or a body stay buffered for the next response:
//     Godot never reads past them, and the effect is the same (including
//     §1.9's stale bytes that corrupt the next response); Connection hands
//     them out first to a reader of the connection, as Godot's stream
//     would (after a 101, the upgraded protocol's first bytes). With nothing
//     buffered, ReadResponseBodyChunkInto reads a fixed-length or
//     read-until-close body straight into the caller's slice (blocking
//     mode waits for it, non-blocking mode takes what has arrived); a
//     chunked body is read in bulk into the read buffer and decoded from
//     there into the slice, which costs fewer reads. A TLS connection also
//     has a bulk buffer of its own below crypto/tls (66 KiB, taken and given
//     back the same way), besides crypto/tls's own buffers.
//
// # Endings of a body (§1.10)
//
// A complete body (every Content-Length byte, or the chunked terminator and
// trailer) → CONNECTED, even with "Connection: close" (§1.10.3). The end of
// the stream → DISCONNECTED: the normal end of a read-until-close body, and,
// as in Godot, also what a fixed-length or chunked body cut short gives
// (§1.10.1.4, §1.10.2.7). BodyComplete and the error of
// ReadResponseBodyChunkInto (io.EOF, or a *BodyError wrapping
// io.ErrUnexpectedEOF) tell them apart. Godot's outcome depends on whether
// poll() or the read sees the close first (§1.10.4); here a clean close in
// BODY while the body still expects bytes is always the read's DISCONNECTED
// (§7 D3). Under TLS a close without
// close_notify is CONNECTION_ERROR (§1.15.4).
//
// # Differences from Godot (§7), all deliberate
//
//   - D1: real blocking I/O; the response head is bounded (SetLimits,
//     default 1 MiB); no >16 MiB chunk allocation after a chunk error.
//   - D2: a request with CR, LF or NUL in a header or the URL is refused
//     before anything is sent; a response with ambiguous framing
//     (wire.Head.Ambiguous) is delivered exactly as Godot delivers it,
//     status path included (CONNECTED at its end), and the client then
//     closes the connection instead of reusing it: KeepAlive is false, the
//     next Poll in CONNECTED gives CONNECTION_ERROR and a new request fails
//     on its first Poll (cause ErrNotReusable), as after a server's close.
//   - D3: a clean close ends a read-until-close body with success whatever
//     the timing; nothing of a half-read chunked body survives Close
//     (§1.10.5 is not reproduced; IsResponseChunked still keeps its value).
//   - D5: the HTTPS-proxy CONNECT carries "Host: host:port" and any 2xx reply
//     opens the tunnel, whatever its framing (Godot: "Host: :-1", only a
//     header-only 200).
//   - ReadResponseBodyChunkInto, which streams, delivers the part of a
//     `5;a=b` chunk (§1.10.2.2) that arrived before the CONNECTION_ERROR;
//     ReadResponseBodyChunk drops a chunk not all there, as Godot does.
//   - Strict mode (SetStrict, §7.4) is opt-in.
//   - RequestStream (opt-in) sends a body read from an io.Reader: with a
//     known length the bytes are RequestRaw's, with length −1 the body is
//     chunked (Godot never sends one); BytesSent reports the progress.
//
// # Godot → Go
//
//	HTTPClient.new()                             New
//	connect_to_host(host, port, tls_options)     ConnectToHost
//	poll()                                       Poll
//	get_status()                                 Status
//	request(method, url, headers, body)          Request
//	request_raw(method, url, headers, body)      RequestRaw
//	has_response()                               HasResponse
//	is_response_chunked()                        IsResponseChunked
//	get_response_code()                          ResponseCode
//	get_response_headers()                       ResponseHeaders (consumes; Header, RawHeaders do not)
//	get_response_headers_as_dictionary()         ResponseHeadersAsDictionary
//	get_response_body_length()                   ResponseBodyLength
//	read_response_body_chunk()                   ReadResponseBodyChunk (AppendResponseBodyChunk: into a caller buffer; ReadResponseBodyChunkInto, BodyReader: zero-copy; WriteResponseBodyChunkTo: to a file, spliced on Linux)
//	set_read_chunk_size / get_read_chunk_size    SetReadChunkSize / ReadChunkSize
//	set_blocking_mode / is_blocking_mode_enabled SetBlockingMode / IsBlockingModeEnabled
//	set_http_proxy / set_https_proxy             SetHTTPProxy / SetHTTPSProxy
//	close()                                      Close (Abort: from another goroutine)
//	query_string_from_dict(fields)               QueryStringFromDict
//	TLSOptions.client() / client_unsafe()        TLSClient / TLSClientUnsafe (TLSServer: refused)
//	HTTPClient.Status, Method, ResponseCode      Status (StatusBody…), Method (MethodGet…), ResponseOK…
//	@GlobalScope.Error                           Error (ErrCantConnect…; OK is nil)
//	set_connection / get_connection              SetConnection / Connection
//
// Added: Header, RawHeaders, KeepAlive, BodyComplete, LastError, Abort,
// SetStrict, SetLimits, SetUserAgent, SetConnectTimeout,
// SetHTTPProxyCredentials, SetHTTPSProxyCredentials (Proxy-Authorization on
// the proxy hop and the CONNECT only, proxy.go), ProxyFromEnvironment,
// ProxyConfig, SplitProxyURL (net/http's environment rules, read at each
// call, proxyenv.go).
//
// # Errors
//
// Every error carries a Godot Error code (errors.Is(err, ErrCantConnect),
// errors.As(err, &code) with code.Code() == 25) and, when there is one, the
// real cause, reachable with errors.As: *net.OpError, *net.DNSError,
// x509.UnknownAuthorityError, x509.HostnameError, *tls.CertificateVerificationError,
// *wire.HeadError, *wire.LimitError, *chunked.Error, *ProxyError (a
// refused CONNECT), *TunnelError (a CONNECT exchange the proxy ended or
// botched), *HandshakeEndError (a TLS handshake the server's TCP end cut),
// ErrPeerClosed, ErrTLSTruncated, ErrAborted, ErrNotReusable,
// ErrNegativeLength. The
// exceptions are where Godot reports no error: a body cut short is a
// *BodyError alone (Godot's read gives what came and the status
// DISCONNECTED, §7 D3), the end of a body io.EOF; and, through the
// Transport, a request body that fails to read (*RequestBodyError) and the
// request context's errors.
//
// # Concurrency
//
// A Client belongs to one goroutine at a time: no method may run
// concurrently with another, except Abort, which any goroutine may call at
// any time to make a blocked call return (the owner then calls Close), and
// BytesSent, an upload's progress, which any goroutine may read. Close
// and ConnectToHost wait for every goroutine the client started: none
// outlives Close.
//
// # Limits
//
// The response head is bounded by Limits (default 1 MiB; strict mode also
// at most 100 fields); a chunk by 16 MiB (§1.10.2.3); a chunked trailer by
// 64 KiB. Exceeding one is CONNECTION_ERROR with a *wire.LimitError or a
// *chunked.Error as the cause.
package httpclient
