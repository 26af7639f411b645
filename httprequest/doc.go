// Package httprequest is Godot 4's HTTPRequest node in Go: one request at a
// time over an httpclient.Client, with Godot's redirects, streaming gzip and
// deflate decompression, download_file, a timeout, and the
// request_completed signal as a callback — the same four values
// (result, response_code, headers, body) for the same server behaviour. The
// behaviour is specified rule by rule in docs/behaviour.md §2; tests cite
// the rules as §2.x.y.
//
//	n := httprequest.New()
//	n.OnRequestCompleted(func(result httprequest.Result, code int, headers []string, body []byte) {
//		…
//	})
//	n.Request("https://example.com/api", nil, httpclient.MethodGet, "")
//	for { n.Process(); … } // once per frame
//
//	// or, blocking:
//	c, err := n.Do(ctx, "https://example.com/api", nil, httpclient.MethodGet, nil)
//
// Headers go both ways as Godot's PackedStringArray: whole "Name: value"
// lines ([]string{"Content-Type: application/json"}) in, a response's lines
// out (stripped, in order, §1.8.5); wire.HTTPHeader(c.Headers) gives an
// http.Header.
// The body is bytes: a JSON body is json.Marshal's output; a form is
// httpclient.QueryStringFromDict's, as a game builds it (url.Values.Encode
// works too, but writes a space as "+" where Godot writes "%20"). Code written against net/http (an http.Client) uses
// httpclient.Transport instead of a node.
//
// The examples cover the common tasks: Example_restJSON (a JSON GET driven by
// Process and a POST with Do), Example_downloadPNG (download_file),
// ExampleHTTPRequest_OnProgress (a large download with progress),
// ExampleHTTPRequest_DoResumable (resuming it), ExampleHTTPRequest_DoStream
// and ExampleHTTPRequest_DoMultipart (uploads streamed from a reader or a
// file), ExampleHTTPRequest_SetResponseFunc (a body streamed to an
// io.Writer), ExampleHTTPRequest_SetTLSOptions (HTTPS with a test CA,
// pinning, TLSOptions.client_unsafe), ExampleHTTPRequest_SetHTTPProxy
// (an HTTP proxy, with credentials or chosen per URL),
// ExampleHTTPRequest_SetKeepAlive,
// ExampleHTTPRequest_SetCookieJar and Example_errors (telling a timeout,
// a refused connection, a bad certificate and a body over the limit apart).
//
// # Three drivers, one engine (§7.3)
//
// Godot's _update_connection step (§2.6) is the engine; three drivers run it:
//
//   - Process: one frame of Godot's main loop. When a request is active and
//     use_threads is off, Process does one step with a non-blocking client
//     (at most one body read per step, Godot's pacing, §2.14; SetDrainPerStep
//     reads everything available), checks the timeout, then delivers every
//     completion queued so far to the callback. It never blocks; only in a
//     loop of Process on this node alone, without frame pacing, does a step
//     that finds nothing to do wait, at most 1 ms, for the socket or the
//     client's goroutine (a TLS handshake), as the client's Poll does for a
//     caller spinning on it alone, rather than spin on a CPU they need.
//   - use_threads: a worker goroutine loops the steps with the client in
//     blocking mode (real blocking I/O: no spinning, §4 #8). Its completion
//     is queued and delivered by the next Process. In a loop of Process on
//     this node alone, without frame pacing, each call waits up to 1 ms for
//     the worker to end rather than spin on a CPU the worker needs.
//   - Do(ctx, …): runs the steps on the calling goroutine with blocking I/O
//     and returns the completion and an error. ctx cancellation is
//     CancelRequest; a ctx deadline is a timeout.
//
// The completion callback never runs inside Request and never on an internal
// goroutine: only inside Process. Before it runs the node resets itself
// (closes the client, ends the file), so the callback may start the next
// request (§2.1.3). Request returns godot.ErrBusy from the start of a
// request until its completion was delivered (§2.4.2).
//
// # The update step (§2.6)
//
//	client status          step
//	DISCONNECTED           RESULT_CANT_CONNECT (also a fixed-length body cut short, §2.9.5)
//	RESOLVING, CONNECTING  poll
//	CANT_RESOLVE           RESULT_CANT_RESOLVE
//	CANT_CONNECT           RESULT_CANT_CONNECT
//	CONNECTED              send the request; or, once answered: the response (§2.7),
//	                       RESULT_SUCCESS, or RESULT_CHUNKED_BODY_SIZE_MISMATCH
//	REQUESTING             poll
//	BODY                   the response (§2.7: redirects, decompression), body_size_limit,
//	                       download_file opened; poll; one read; decode; limit; write;
//	                       done when the length is reached or the stream ended
//	CONNECTION_ERROR       RESULT_CONNECTION_ERROR
//	TLS_HANDSHAKE_ERROR    RESULT_TLS_HANDSHAKE_ERROR
//
// Results and what they carry are §2.10's table: code and headers only for
// RESULT_SUCCESS, _CHUNKED_BODY_SIZE_MISMATCH, _BODY_SIZE_LIMIT_EXCEEDED,
// _BODY_DECOMPRESS_FAILED, _DOWNLOAD_FILE_CANT_OPEN, _DOWNLOAD_FILE_WRITE_ERROR
// and _REDIRECT_LIMIT_REACHED (and the opt-ins' _REQUEST_FAILED); a body only with RESULT_SUCCESS (and not when
// it went to download_file or a body writer). Empty headers and bodies are
// nil.
//
// # Godot → Go
//
//	HTTPRequest.new()                               New
//	request(url, headers, method, data)             Request (string body)
//	request_raw(url, headers, method, data)         RequestRaw ([]byte body)
//	cancel_request()                                CancelRequest
//	request_completed (signal)                      OnRequestCompleted; Do returns the values
//	get_http_client_status()                        HTTPClientStatus
//	get_body_size() / get_downloaded_bytes()        BodySize / DownloadedBytes (int64)
//	accept_gzip                                     SetAcceptGzip / IsAcceptingGzip
//	body_size_limit                                 SetBodySizeLimit / BodySizeLimit (int64)
//	download_chunk_size                             SetDownloadChunkSize / DownloadChunkSize
//	download_file                                   SetDownloadFile / DownloadFile
//	keep_partial_download (PR #118226)              SetKeepPartialDownload / IsKeepingPartialDownload
//	append_to_download_file (PR #118226)            SetAppendToDownloadFile / IsAppendingToDownloadFile
//	max_redirects                                   SetMaxRedirects / MaxRedirects
//	timeout (float seconds)                         SetTimeout / Timeout (time.Duration)
//	use_threads                                     SetUseThreads / IsUsingThreads
//	set_tls_options(options)                        SetTLSOptions (*httpclient.TLSOptions)
//	set_http_proxy / set_https_proxy                SetHTTPProxy / SetHTTPSProxy
//	HTTPRequest.Result (RESULT_SUCCESS…)            Result (ResultSuccess…); String gives Godot's token
//	NOTIFICATION_INTERNAL_PROCESS + deferred calls  Process
//	leaving the tree / freeing the node             Close
//
// Added: Do, Completion, ResultError, LastError, OnProgress, SetBodyWriter,
// SetResponseFunc, SetRFC9110Redirects, SetAcceptBrotli, SetDrainPerStep,
// SetKeepAlive, SetDownloadInPlace, SetStrict, DoResumable (resume a
// download by itself), SetCookieJar, SetProxyFromEnvironment, SetProxyFunc,
// SetHTTPProxyCredentials, SetHTTPSProxyCredentials.
//
// # Errors
//
// Request, RequestRaw and the setters return Godot Error codes, wrapping the
// real cause: godot.ErrBusy while a request is active (§2.4.2) or for a
// setter Godot refuses during one (§2.2); godot.ErrInvalidParameter for an
// invalid URL (§2.5) or setter value; godot.ErrCantConnect when
// connect_to_host fails at once (§2.4.8), followed by a deferred
// ResultCantConnect completion, as in Godot.
//
// This package re-exports none of them. The rule: code in this module names
// Godot's codes from package godot (godot.ErrBusy); users of the client may
// write httpclient.ErrBusy instead (httpclient/errors.go is the one set of
// re-exports, of the codes the client returns). Both are the same values, so
// errors.Is works either way.
//
// A finished request's Result is delivered as a value; Do also returns it as
// an error: a *ResultError that unwraps to the Result and to the cause — the
// client's failure with its Godot code and network error (*net.OpError,
// *net.DNSError, x509 errors, *wire.HeadError, *chunked.Error…), a
// *DecodeError, a *wire.LimitError, a file error (*fs.PathError inside
// godot.ErrFileCantOpen / godot.ErrFileCantWrite), a *BodyWriterError,
// ErrBodyCutShort, ERR_TIMEOUT or context.DeadlineExceeded. LastError gives
// the same cause after a completion delivered by Process.
//
// Telling failures apart (Example_errors): errors.Is(err, ResultTimeout),
// or errors.Is(err, context.DeadlineExceeded) and os.IsTimeout as with
// net/http, for a timeout (the node's or the context's); a *net.OpError
// whose Op is "dial" for a refused connection (errors.Is(err,
// ResultCantConnect) also holds for a fixed-length body cut short, §2.9.5);
// ResultTLSHandshakeError, with a *tls.CertificateVerificationError for a
// certificate the roots do not vouch for (its Godot code is ERR_CANT_CONNECT,
// as poll() returns for a failed handshake); a *wire.LimitError for a body
// over body_size_limit. A chunk over 16 MiB ends the request with
// RESULT_CONNECTION_ERROR and a *chunked.Error of KindTooBig (Godot's bound,
// §1.10.2.3): a net/http handler that writes more than 16 MiB in one Write,
// with no Content-Length set, sends such a chunk.
//
// # Deviations from Godot (§7)
//
// Godot-identical is the default; these are the exceptions (COMPAT.md lists
// each with its test):
//
//   - D1: concatenated gzip members decode and bytes after the end of a
//     compressed body give RESULT_BODY_DECOMPRESS_FAILED (Godot hangs,
//     §2.8.2.5); blocking I/O does not spin.
//   - D2: Authorization, Proxy-Authorization and Cookie are not sent to a
//     redirect target whose scheme, host or port differs from the original
//     request's (§2.8.1.7).
//   - D3: a read-until-close body ends with success whatever the timing of
//     the FIN (§2.9.6); a chunked body cut short is
//     RESULT_CHUNKED_BODY_SIZE_MISMATCH, not a success with the partial body
//     (§2.9.5); a truncated compressed body is RESULT_BODY_DECOMPRESS_FAILED
//     (§2.8.2.4); sizes and counters are 64-bit (§2.9.7); a canceled request
//     never delivers a completion, even one already queued (§2.12.4);
//     download_file is written atomically (temporary file + rename), so a
//     failure leaves the previous file intact (§2.9.3).
//   - D4: the timeout is wall-clock time (Godot 4.6+); there is no scene
//     tree: the caller drives the node.
//   - D6: a Request that returns an error delivers no completion (Godot's
//     timer can still fire RESULT_TIMEOUT, §2.4.5), except the deterministic
//     ERR_CANT_CONNECT + RESULT_CANT_CONNECT pair of §2.4.8, which is kept. A
//     completion and a timeout never both fire (§2.11.5).
//   - The four setters Godot refuses while its client is not DISCONNECTED
//     (body_size_limit, download_file, download_chunk_size, use_threads)
//     return godot.ErrBusy on the same condition, so they work while a
//     completion is queued with the client DISCONNECTED, as in Godot. A request keeps
//     the driver it started with (use_threads).
//   - D2: Request refuses a CR, LF or NUL in the URL or a header (and in
//     strict mode a header name that is not a token or a value with a
//     control byte) with godot.ErrInvalidParameter: no connection, no
//     completion.
//
// # Options (§7.2), all off by default
//
// SetRFC9110Redirects (303/307/308, method rewriting, URI-reference
// Location), SetAcceptBrotli ("br" decoding), SetDrainPerStep (all available
// body bytes per Process step), SetKeepAlive (connection reuse across the
// node's requests), SetDownloadInPlace (Godot's in-place download_file),
// SetStrict (RFC 9110/9112 parsing, §7.4), SetBodyWriter (stream the body to
// an io.Writer), SetResponseFunc (the code and headers before the body),
// OnProgress (wire and decoded byte counts), SetCookieJar (an
// http.CookieJar applied on every hop, cookies.go), SetProxyFromEnvironment
// and SetProxyFunc (HTTP_PROXY/HTTPS_PROXY/NO_PROXY with net/http's rules,
// chosen per hop), SetHTTPProxyCredentials and SetHTTPSProxyCredentials
// (Proxy-Authorization to the proxy only, proxyenv.go).
//
// # Concurrency
//
// A node belongs to one goroutine at a time (Godot's main thread): Request,
// Process, CancelRequest, Do, Close and the setters must not run
// concurrently. BodySize, DownloadedBytes, UploadedBytes, UploadSize and
// HTTPClientStatus may be called from any goroutine. The use_threads worker
// and the timers are internal; CancelRequest, Close and the delivery of a
// completion join them, so no goroutine outlives the request (a
// CancelRequest made on the worker itself, from a callback, leaves the join
// to the owner's next call). The completion
// and progress callbacks (OnRequestCompleted, OnProgress, OnUploadProgress)
// run on the owner's goroutine, in Process or Do. The body writer, the
// response function, the proxy function and the cookie jar run on the
// goroutine that runs the steps: Process's or Do's caller, or the
// use_threads worker.
//
// None of those callbacks, nor an upload's reader, may call the node's
// methods except CancelRequest and Close (see CancelRequest); a Process
// called from one on the owner's goroutine returns at once (under
// use_threads they run on the worker: do not call Process there). A panic in one reaches the caller of
// Process, Request or Do with the request ended as a cancel, the node free;
// on the use_threads worker it ends the program, as a panicking request
// body does on net/http's write goroutine. One that blocks holds up its
// step: under use_threads the timeout's completion and CancelRequest wait
// for it, as Godot's cancel_request waits for a blocked read.
//
// # Memory
//
// Bodies stream: a decompressed body is produced piece by piece
// (download_chunk_size bytes, rounded up to a power of two) and
// body_size_limit is checked on every piece, so a decompression bomb stops at
// the limit. With download_file or a body writer nothing of the body is
// held: memory stays at a few read buffers whatever the body's size.
//
// Every body goes through one sink (sink.go) that reads one
// read_response_body_chunk per step, as Godot does, into where the bytes are
// going: straight into the in-memory body (sized once from Content-Length
// when there is one, and a body that is not decoded), or into a read buffer.
// The read buffer and the decoder's buffers and decompressors come from
// pools shared by the nodes; with SetKeepAlive the node keeps them with its
// kept connection. After warm-up no driver allocates per chunk
// (alloc_test.go); a kept-alive request allocates 4 to 6 times without
// decoding.
//
// # Uploads (§7.2 opt-in)
//
// RequestStream and DoStream send a body read from an io.Reader while it is
// sent, never held whole: with a known length the request is RequestRaw's
// byte for byte, with length −1 it is chunked (Godot never sends one). A
// redirect that keeps the body (§2.8.1.7) rewinds a body that is an
// io.Seeker; any other ends with RESULT_REQUEST_FAILED and
// ErrBodyNotReplayable. Multipart builds a multipart/form-data body whose
// files are streamed from disk (RequestMultipart, DoMultipart).
// UploadedBytes, UploadSize and OnUploadProgress report an upload beside
// DownloadedBytes. upload.go, multipart.go.
package httprequest
