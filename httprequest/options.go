package httprequest

import (
	"errors"
	"io"
	"time"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
)

// Properties (§2.2). Godot's setters of body_size_limit, download_file,
// download_chunk_size and use_threads refuse while the client's status is not
// DISCONNECTED (ERR_FAIL_COND(get_http_client_status() !=
// STATUS_DISCONNECTED)): Godot prints an error and keeps the old value; here
// they return godot.ErrBusy (wrapped, with the operation). That is during a
// request's connection, and also while its completion is queued on a
// connection still open — but not when the client is DISCONNECTED, e.g. a
// completion queued after a read-until-close body or a failed connection
// start, or before a use_threads worker has connected (issue 7 rule 8). A
// value set then applies where Godot reads it: body_size_limit and
// download_file when the response's body starts, download_chunk_size when
// the connection starts.

// refuseWhileConnected is Godot's busy test of the four setters above. A
// connection kept open between requests (SetKeepAlive, §7.2) does not count:
// without that option the client is always DISCONNECTED between requests.
func (n *HTTPRequest) refuseWhileConnected(op string) error {
	if n.busy() && n.HTTPClientStatus() != httpclient.StatusDisconnected {
		return busyErr(op)
	}
	return nil
}

// SetAcceptGzip sets accept_gzip (default true): add "Accept-Encoding: gzip,
// deflate" to requests without an Accept-Encoding header, and decode gzip and
// deflate bodies. Any time; read when a request starts and when its response
// headers arrive (§2.2, §2.7.4).
//
// Godot: HTTPRequest.set_accept_gzip()
func (n *HTTPRequest) SetAcceptGzip(on bool) { n.acceptGzip.Store(on) }

// IsAcceptingGzip returns accept_gzip.
//
// Godot: HTTPRequest.is_accepting_gzip()
func (n *HTTPRequest) IsAcceptingGzip() bool { return n.acceptGzip.Load() }

// SetBodySizeLimit sets body_size_limit (default −1: none): a response whose
// Content-Length, or whose body decoded so far, exceeds n bytes ends with
// RESULT_BODY_SIZE_LIMIT_EXCEEDED (§2.9.1, §2.8.2.3). Any negative value
// means none. 64-bit (Godot's is 32-bit, §7 D3). godot.ErrBusy while a request is active and the client's
// status is not DISCONNECTED. DoResumable applies it to the file it
// produces, over all its requests: a 206 appended to the partial file may
// add only the rest of the limit (resume.go).
//
// Godot: HTTPRequest.set_body_size_limit()
func (n *HTTPRequest) SetBodySizeLimit(limit int64) error {
	if err := n.refuseWhileConnected("set_body_size_limit"); err != nil {
		return err
	}
	n.bodySizeLimit.Store(limit)
	return nil
}

// BodySizeLimit returns body_size_limit.
//
// Godot: HTTPRequest.get_body_size_limit()
func (n *HTTPRequest) BodySizeLimit() int64 { return n.bodySizeLimit.Load() }

// SetDownloadChunkSize sets download_chunk_size (default 65536): the size of
// each body read (the client's read chunk size) and of each piece of
// decompressed output (rounded up to a power of two, §2.8.2.1). n must be
// within 256…16777216, else godot.ErrInvalidParameter and the value is unchanged
// (§1.3). godot.ErrBusy while a request is active and the client's status is not DISCONNECTED. The
// client gets it when a connection starts.
//
// Godot: HTTPRequest.set_download_chunk_size()
func (n *HTTPRequest) SetDownloadChunkSize(size int) error {
	if err := n.refuseWhileConnected("set_download_chunk_size"); err != nil {
		return err
	}
	if size < httpclient.MinReadChunkSize || size > httpclient.MaxReadChunkSize {
		return godot.Wrap(godot.ErrInvalidParameter, "set_download_chunk_size",
			errors.New("chunk size must be within 256…16777216"))
	}
	n.chunkSize.Store(int64(size))
	return nil
}

// DownloadChunkSize returns download_chunk_size.
//
// Godot: HTTPRequest.get_download_chunk_size()
func (n *HTTPRequest) DownloadChunkSize() int { return int(n.chunkSize.Load()) }

// SetDownloadFile sets download_file (default "": keep the body in memory):
// the body is written to this file instead, which is opened only when a body
// is about to be read (§2.9.2). By default the file is replaced atomically
// (§7 D3; see SetDownloadInPlace). On Linux an undecoded body over plain
// TCP goes from the socket to the file without passing through memory
// (splice(2)); the reads, counters and results are Godot's either way.
// godot.ErrBusy while a request is active and the client's status is not DISCONNECTED.
//
// Godot: HTTPRequest.set_download_file()
func (n *HTTPRequest) SetDownloadFile(path string) error {
	if err := n.refuseWhileConnected("set_download_file"); err != nil {
		return err
	}
	n.mu.Lock()
	n.downloadFile = path
	n.mu.Unlock()
	return nil
}

// DownloadFile returns download_file.
//
// Godot: HTTPRequest.get_download_file()
func (n *HTTPRequest) DownloadFile() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.downloadFile
}

// SetMaxRedirects sets max_redirects (default 8): how many redirects one
// request follows; −1 means no limit, 0 follows none (§2.8.1.2). Any time,
// no range check, as in Godot; the error is always nil.
//
// Godot: HTTPRequest.set_max_redirects()
func (n *HTTPRequest) SetMaxRedirects(limit int) error {
	n.maxRedirects.Store(int64(limit))
	return nil
}

// MaxRedirects returns max_redirects.
//
// Godot: HTTPRequest.get_max_redirects()
func (n *HTTPRequest) MaxRedirects() int { return int(n.maxRedirects.Load()) }

// SetTimeout sets timeout (default 0: none), the wall-clock limit on a whole
// request, redirects included (§2.11); of a whole DoResumable call, every
// request it makes included. A negative value is refused with
// godot.ErrInvalidParameter. Any time; it applies from the next request on.
//
// Godot: HTTPRequest.set_timeout() (seconds as a float)
func (n *HTTPRequest) SetTimeout(d time.Duration) error {
	if d < 0 {
		return godot.Wrap(godot.ErrInvalidParameter, "set_timeout", errors.New("negative timeout"))
	}
	n.timeout = d
	return nil
}

// Timeout returns timeout.
//
// Godot: HTTPRequest.get_timeout()
func (n *HTTPRequest) Timeout() time.Duration { return n.timeout }

// SetUseThreads sets use_threads (default false): requests run on a worker
// goroutine with blocking I/O, and Process only delivers their completions
// (§2.13, §7.3). godot.ErrBusy while a request is active and the client's status is not DISCONNECTED. It
// applies from the next request on: a request keeps the driver it started
// with (§7 D1: in Godot, turning use_threads on while a non-threaded
// request's client is DISCONNECTED stops its processing for good).
//
// Godot: HTTPRequest.set_use_threads()
func (n *HTTPRequest) SetUseThreads(on bool) error {
	if err := n.refuseWhileConnected("set_use_threads"); err != nil {
		return err
	}
	n.useThreads = on
	return nil
}

// IsUsingThreads returns use_threads.
//
// Godot: HTTPRequest.is_using_threads()
func (n *HTTPRequest) IsUsingThreads() bool { return n.useThreads }

// SetTLSOptions sets the TLS options of https requests (default
// httpclient.TLSClient(nil, ""): the system roots, host name checked). nil
// and server-mode options are refused with godot.ErrInvalidParameter and the value
// is unchanged (§2.2). Any time; used from the next connection on.
//
// Godot: HTTPRequest.set_tls_options()
func (n *HTTPRequest) SetTLSOptions(opts *httpclient.TLSOptions) error {
	if opts == nil || opts.IsServer() {
		return godot.Wrap(godot.ErrInvalidParameter, "set_tls_options", errors.New("nil or server-mode TLS options"))
	}
	n.mu.Lock()
	n.tlsOptions = opts
	n.mu.Unlock()
	return nil
}

// SetHTTPProxy sets the proxy of plain http requests (§1.14.1); an empty host
// or port −1 removes it. Any time: the next connection goes to it, and, as
// in Godot, a request not yet sent takes its target form from it (absolute
// with a proxy, §1.7.7), even on a connection made before the change.
//
// Godot: HTTPRequest.set_http_proxy()
func (n *HTTPRequest) SetHTTPProxy(host string, port int) {
	n.mu.Lock()
	n.httpProxy, n.proxyDirty = proxySetting{host, port}, true
	n.mu.Unlock()
}

// SetHTTPSProxy sets the CONNECT proxy of https requests (§1.14.2, with the
// §7 D5 fixes); an empty host or port −1 removes it. Any time; used from the
// next connection on.
//
// Godot: HTTPRequest.set_https_proxy()
func (n *HTTPRequest) SetHTTPSProxy(host string, port int) {
	n.mu.Lock()
	n.httpsProxy, n.proxyDirty = proxySetting{host, port}, true
	n.mu.Unlock()
}

// Opt-in options (§7.2), off by default. Each setter returns godot.ErrBusy while a
// request is active.

func (n *HTTPRequest) setOption(op string, set func(*options)) error {
	if n.busy() {
		return busyErr(op)
	}
	set(&n.opts)
	return nil
}

// SetRFC9110Redirects switches redirects from Godot's rules (301/302 only,
// same method and body, Location found by substring, §2.8.1) to RFC 9110's:
// 301, 302, 303, 307 and 308 are followed, Location is resolved as a URI
// reference, 303 (any method but HEAD) and 301/302 after POST become GET
// without a body (§7.2; Godot issues #114302, #90160).
// godot.ErrBusy while a request is active.
func (n *HTTPRequest) SetRFC9110Redirects(on bool) error {
	return n.setOption("set_rfc9110_redirects", func(o *options) { o.rfcRedirects = on })
}

// RFC9110Redirects reports whether RFC 9110 redirects are on.
func (n *HTTPRequest) RFC9110Redirects() bool { return n.opts.rfcRedirects }

// SetAcceptBrotli adds "br" to the automatic Accept-Encoding ("gzip,
// deflate, br") and decodes "Content-Encoding: br" bodies with
// github.com/andybalholm/brotli, under the same rules as gzip (accept_gzip
// must be on too).
// godot.ErrBusy while a request is active.
func (n *HTTPRequest) SetAcceptBrotli(on bool) error {
	return n.setOption("set_accept_brotli", func(o *options) { o.brotli = on })
}

// AcceptBrotli reports whether brotli decoding is on.
func (n *HTTPRequest) AcceptBrotli() bool { return n.opts.brotli }

// SetDrainPerStep makes each Process step read all the body bytes already
// available instead of one chunk (Godot caps a non-threaded download at
// download_chunk_size bytes per frame, §2.14, issue #120425), up to 4 MiB a
// step, so that a body arriving faster than it is consumed cannot hold one
// Process (and its timeout check) for good. The threaded and Do drivers
// block on each read and are not affected.
// godot.ErrBusy while a request is active.
func (n *HTTPRequest) SetDrainPerStep(on bool) error {
	return n.setOption("set_drain_per_step", func(o *options) { o.drainPerStep = on })
}

// DrainPerStep reports whether draining per step is on.
func (n *HTTPRequest) DrainPerStep() bool { return n.opts.drainPerStep }

// SetKeepAlive keeps the connection open after a complete response that
// allows it (no "Connection: close", framed by Content-Length or chunked, a
// final status) and sends the node's next request to the same scheme, host
// and port over it (Godot closes it after every request, §2.1.4). A kept
// connection that the server closed meanwhile, or on which it sent bytes no
// request asked for, is noticed before use and replaced by a new one
// (httpclient.Client.Reusable; such bytes would otherwise be read as the
// next response, §7 D2); a request with an idempotent method (GET, HEAD,
// OPTIONS, TRACE, PUT, DELETE) that fails on it before any byte of a
// response has come is sent once more on a new connection — unless its own body failed to read
// (a *httpclient.RequestBodyError), which no new connection mends. Another method (POST, PATCH) is not
// sent twice, as in net/http: against a server that closes after each
// response without saying so (tinyproxy does), a POST sent before its FIN
// arrives ends RESULT_CONNECTION_ERROR; so does a streamed body
// (RequestStream) that is not an io.Seeker, which cannot be sent again.
// Redirect hops always use new connections. Between requests
// HTTPClientStatus is STATUS_DISCONNECTED, as after Godot's
// cancel_request(), though the connection is open below it.
// godot.ErrBusy while a request is active.
func (n *HTTPRequest) SetKeepAlive(on bool) error {
	return n.setOption("set_keep_alive", func(o *options) { o.keepAlive = on })
}

// KeepAlive reports whether connection reuse is on.
func (n *HTTPRequest) KeepAlive() bool { return n.opts.keepAlive }

// SetDownloadInPlace makes download_file behave as in Godot: the file is
// truncated when the body starts and written in place, so a failed download
// leaves a partial file (§2.9.3). Off by default: the file is replaced
// atomically (§7 D3).
// godot.ErrBusy while a request is active.
func (n *HTTPRequest) SetDownloadInPlace(on bool) error {
	return n.setOption("set_download_in_place", func(o *options) { o.downloadInPlace = on })
}

// DownloadInPlace reports whether in-place download_file writing is on.
func (n *HTTPRequest) DownloadInPlace() bool { return n.opts.downloadInPlace }

// SetStrict switches the client to strict RFC 9110/9112 parsing (§7.4;
// httpclient.Client.SetStrict): malformed responses end with
// RESULT_CONNECTION_ERROR and a typed cause.
// godot.ErrBusy while a request is active.
func (n *HTTPRequest) SetStrict(on bool) error {
	return n.setOption("set_strict", func(o *options) { o.strict = on })
}

// IsStrict reports whether strict parsing is on.
func (n *HTTPRequest) IsStrict() bool { return n.opts.strict }

// SetBodyWriter streams the (decompressed) body to w as it arrives instead
// of holding it in memory; the completion's body is then empty, as with
// download_file (with both set, the bytes go to both). w is called on the
// goroutine that runs the steps (Process's or Do's caller, or the
// use_threads worker). A write error ends the request with
// RESULT_DOWNLOAD_FILE_WRITE_ERROR and a *BodyWriterError cause: the way
// to stop it, since w must not call the node's methods, except
// CancelRequest and Close (see CancelRequest; under Do, cancel Do's
// context instead). nil removes it. Decoded bytes are written piece by
// piece as they come: when a read's bytes decode to several pieces and a
// later one fails (RESULT_BODY_DECOMPRESS_FAILED), w has the earlier ones,
// where Godot stores nothing of that read.
// When w is an *os.File on a regular file, the body's only
// destination, and the body is not decoded, on Linux the bytes go from the
// socket to it without passing through memory (splice(2); see
// SetDownloadFile).
// godot.ErrBusy while a request is active.
func (n *HTTPRequest) SetBodyWriter(w io.Writer) error {
	return n.setOption("set_body_writer", func(o *options) { o.bodyWriter = w })
}

// BodyWriter returns the body writer, or nil.
func (n *HTTPRequest) BodyWriter() io.Writer { return n.opts.bodyWriter }

// SetResponseFunc sets f to be told the response's code and headers as soon
// as its head has been read, before any of its body reaches the body
// writer, download_file or the completion: what a caller streaming the body
// needs first (net/http's Response before its Body), which Godot's signal
// gives only at the end. f is called once per request, for the response the
// node does not follow as a redirect — not for a followed one, nor when no
// response came — on the goroutine that runs the steps, as the body writer
// (Process's or Do's caller, or the use_threads worker). The request may
// still fail after it, on its body: a body cut short or a connection error
// then carries no code, the other results keep it.
// headers belong to f. nil removes it. Godot has no such signal (§7.2
// opt-in).
//
// A non-nil error from f ends the request there, before any of the body is
// read: RESULT_REQUEST_FAILED with the code, the headers and f's error as
// the cause — the way to refuse a response (a 404 for a file, say). The
// error is ignored for a response that ends the request anyway (the
// redirect limit). Like the body writer, f must not call the node's
// methods, except CancelRequest and Close (see CancelRequest); Do is
// canceled through its context, which f may cancel.
// godot.ErrBusy while a request is active.
func (n *HTTPRequest) SetResponseFunc(f func(responseCode int, headers []string) error) error {
	return n.setOption("set_response_func", func(o *options) { o.responseFunc = f })
}
