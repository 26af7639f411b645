package httprequest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/spin"
	"github.com/gdhttp/gdhttp/wire"
)

// Godot's defaults for the node's properties (§2.2).
const (
	// DefaultBodySizeLimit is body_size_limit's default: no limit.
	//
	// Godot: HTTPRequest.body_size_limit
	DefaultBodySizeLimit = -1
	// DefaultDownloadChunkSize is download_chunk_size's default (the
	// client's read chunk size, httpclient.DefaultReadChunkSize).
	//
	// Godot: HTTPRequest.download_chunk_size
	DefaultDownloadChunkSize = 65536
	// DefaultMaxRedirects is max_redirects' default.
	//
	// Godot: HTTPRequest.max_redirects
	DefaultMaxRedirects = 8
)

// HTTPRequest is Godot's HTTPRequest node: one request at a time over its own
// httpclient.Client, with redirects, streaming decompression, download_file,
// a timeout, and the request_completed signal as a callback. See the package
// documentation for the three ways to drive it (Process, use_threads, Do).
//
// An HTTPRequest belongs to one goroutine at a time (Godot's main thread):
// its methods must not run concurrently, except the getters BodySize,
// DownloadedBytes, UploadedBytes, UploadSize and HTTPClientStatus, which any
// goroutine may call. The zero value is not usable; call New.
//
// Godot: HTTPRequest
type HTTPRequest struct {
	client *httpclient.Client

	// Properties. acceptGzip and maxRedirects may change while a request
	// runs (Godot reads them when a response arrives); bodySizeLimit,
	// chunkSize and downloadFile may change while the client is
	// DISCONNECTED (issue 7 rule 8), so a worker reads them under a lock or
	// atomically where Godot reads them; the others are fixed while a
	// request is active and are read from a snapshot.
	acceptGzip    atomic.Bool
	maxRedirects  atomic.Int64
	bodySizeLimit atomic.Int64 // read when a body starts (§2.6.1.1)
	chunkSize     atomic.Int64 // given to the client when a connection starts
	downloadFile  string       // guarded by mu; read when a body starts
	keepPartial   atomic.Bool  // keep_partial_download (options_download.go); read when a body starts
	appendFile    atomic.Bool  // append_to_download_file (options_download.go); read when a body starts
	timeout       time.Duration
	useThreads    bool

	// Options (§7.2), off by default; fixed while a request is active.
	opts options

	// Callbacks, called on the owner's goroutine only.
	onCompleted func(result Result, responseCode int, headers []string, body []byte)
	onProgress  func(wireBytes, decodedBytes int64)
	onUpload    func(sent, total int64)

	// Getters any goroutine may call.
	status atomic.Int32 // mirror of client.Status(), updated by the driving goroutine
	// idleKept: the last request ended and SetKeepAlive kept its
	// connection; HTTPClientStatus shows DISCONNECTED, as after Godot's
	// cancel_request() (syncStatus), until the next request connects.
	idleKept   atomic.Bool
	bodyLen    atomic.Int64  // Godot: body_len (§2.9.7)
	downloaded atomic.Int64  // Godot: downloaded (§2.9.7)
	decodedLen atomic.Int64  // Godot: final_body_size
	uploadSize atomic.Int64  // the request body's size, −1 chunked (upload.go)
	uploading  atomic.Bool   // the client holds this request's BytesSent
	lastErr    error         // cause of the last delivered completion (owner only)
	spin       spin.Detector // Process calls: is the owner spinning? (owner only)
	spinYields int           // Process's yieldCPU calls, for tests (owner only)

	// mu guards the request lifecycle shared with a worker goroutine and
	// the settings a worker reads at each connection start.
	mu         sync.Mutex
	requesting bool // Godot: requesting — until the completion was delivered
	active     *run
	queue      []*run // completions waiting for Process (deferred calls)
	spareQueue []*run // deliver's emptied queue, for the next (guarded by mu)
	// orphan: a use_threads run that CancelRequest or Close canceled from
	// a callback on its own worker, which cannot join itself; the owner's
	// next call finishes its reset once the worker has ended (reap).
	orphan     *run
	inStep     bool // a step of the owner's goroutine is running (guard; owner only)
	tlsOptions *httpclient.TLSOptions
	httpProxy  proxySetting
	httpsProxy proxySetting
	proxyDirty bool // proxies changed since they were given to the client

	httpProxyCreds, httpsProxyCreds proxyCreds  // guarded by mu (proxyenv.go)
	appliedProxies                  proxyChoice // what the client has (owner of the run)

	// Progress reporting state (owner goroutine).
	reportedWire, reportedDecoded int64
	reportedUpload                int64

	// keepTarget is where the open client connection goes, for the
	// connection-reuse option.
	keepTarget target
	keepTLS    *httpclient.TLSOptions
	keepBufs   keptBufs // the read and decoder buffers kept with the kept connection (owner goroutine)
	spareRun   *run     // a delivered run, reused by the next request (owner goroutine; see recycleRun)

	onPhase func(from, to phase) // tests: sees every phase change of a run
}

type proxySetting struct {
	host string
	port int
}

// options are the §7.2 opt-ins.
type options struct {
	rfcRedirects    bool
	brotli          bool
	drainPerStep    bool
	keepAlive       bool
	downloadInPlace bool
	strict          bool
	bodyWriter      io.Writer
	responseFunc    func(code int, headers []string) error
	bodyStart       bodyStartFunc                    // DoResumable's check of the final response before download_file opens (resume.go)
	fileBase        int64                            // DoResumable: the bytes download_file holds before a 206 is appended; body_size_limit bounds the file, so the 206 may add limit − fileBase (resume.go)
	cookieJar       http.CookieJar                   // cookies.go
	proxyFunc       func(*url.URL) (*url.URL, error) // proxyenv.go
	proxyEnv        bool
}

// New returns a node with Godot's defaults (§2.2): accept_gzip true,
// body_size_limit −1, download_chunk_size 65536, download_file "",
// max_redirects 8, timeout 0 (none), use_threads false, TLS options
// TLSClient(nil, "") (the system roots), no proxies; every §7.2 option off.
//
// Godot: HTTPRequest.new()
func New() *HTTPRequest {
	n := &HTTPRequest{
		client:     httpclient.New(),
		tlsOptions: httpclient.TLSClient(nil, ""),
		httpProxy:  proxySetting{port: -1},
		httpsProxy: proxySetting{port: -1},
	}
	n.bodySizeLimit.Store(DefaultBodySizeLimit)
	n.chunkSize.Store(DefaultDownloadChunkSize)
	n.acceptGzip.Store(true)
	n.maxRedirects.Store(DefaultMaxRedirects)
	n.bodyLen.Store(-1)
	// A caller that spins on the node alone spins on its client alone: the
	// client's Polls in a step may then wait for its goroutine (a TLS
	// handshake), as a Poll loop's do (httpclient awaitReport).
	spin.ClientDetector(n.client).Join(&n.spin)
	return n
}

// busy reports whether a request is active (from Request until its
// completion was delivered or it was canceled): Request's ERR_BUSY test
// (Godot's requesting flag, §2.4.2), also used by the §7.2 option setters.
// Godot's property setters test the client's status instead
// (refuseWhileConnected).
func (n *HTTPRequest) busy() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.requesting
}

// errRequesting is Godot's message for ERR_BUSY (§2.4.2), without its final
// period.
var errRequesting = errors.New("HTTPRequest is processing a request. Wait for completion or cancel it before attempting a new one")

func busyErr(op string) error { return godot.Wrap(godot.ErrBusy, op, errRequesting) }

// OnRequestCompleted sets the request_completed callback. It is called with
// the four values of Godot's signal, on the goroutine that calls Process,
// never inside Request and never on an internal goroutine (§7.3), after the
// node has reset itself, so it may start a new request. Headers and body are
// nil when empty; both belong to the callee. Do does not call it: it returns
// the values.
//
// Godot: HTTPRequest.request_completed (signal)
func (n *HTTPRequest) OnRequestCompleted(f func(result Result, responseCode int, headers []string, body []byte)) {
	n.onCompleted = f
}

// OnProgress sets a callback told how far the body has come: wireBytes is
// DownloadedBytes (received, after de-chunking, before decompression) and
// decodedBytes the body bytes delivered after decompression (§2.9.7). It is
// called after every step that moved either, on the caller's goroutine:
// during Process and Do; with use_threads, Process reports the latest values.
// Godot has no progress signal (§7.2 opt-in).
func (n *HTTPRequest) OnProgress(f func(wireBytes, decodedBytes int64)) { n.onProgress = f }

// LastError returns the cause of the last completion delivered through the
// callback (nil after a success): the client's failure with its Godot code
// and network cause, a *DecodeError, a *wire.LimitError, a file error…
// Godot has only the Result number. It is the Cause of the *ResultError Do
// returns for the same completion, without the result: print it after the
// result, as "RESULT_CANT_CONNECT: " + err.Error().
func (n *HTTPRequest) LastError() error { return n.lastErr }

// Request is RequestRaw with a string body (its UTF-8 bytes).
//
// Godot: HTTPRequest.request()
func (n *HTTPRequest) Request(url string, headers []string, method httpclient.Method, body string) error {
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return n.RequestRaw(url, headers, method, b)
}

// RequestRaw starts a request (§2.4). It returns at once; the outcome arrives
// through the request_completed callback, delivered by Process. headers and
// body are copied; the body is sent with every method (§2.4.10); the headers
// as given, plus "Accept-Encoding: gzip, deflate" (", br" with brotli on)
// when accept_gzip is on and no header starts with accept-encoding (§2.4.6).
// BodySize and DownloadedBytes are reset to −1 and 0 before the URL is
// checked, as Godot's _parse_url does (§2.5.1).
//
// Errors:
//   - godot.ErrBusy while a request is active, including after it ended but
//     before its completion was delivered (§2.4.2).
//   - godot.ErrInvalidParameter wrapping a *wire.URLError for a URL that
//     parse_url rejects or whose scheme is not http/https (§2.5), or a
//     *wire.RequestError for a CR, LF or NUL in the URL or a header (in
//     strict mode also a header name that is not a token or a value with a
//     control byte; §7 D2, §7.4): nothing is opened and no completion
//     follows (§7 D6; Godot's timer would fire a spurious RESULT_TIMEOUT).
//   - godot.ErrCantConnect when the connection cannot even start (a host
//     shorter than 4 characters such as "::1"): as in Godot a
//     RESULT_CANT_CONNECT completion also follows (§2.4.8); with use_threads
//     the connection starts on the worker and only the completion comes.
//
// Godot's own header checks (an empty header, no ':' after a name) run when
// the request is sent and surface as RESULT_CONNECTION_ERROR (§2.4.9).
//
// Godot: HTTPRequest.request_raw()
func (n *HTTPRequest) RequestRaw(url string, headers []string, method httpclient.Method, body []byte) error {
	return n.requestRaw(url, headers, method, body, nil)
}

// requestRaw is RequestRaw, and RequestStream with up.
func (n *HTTPRequest) requestRaw(url string, headers []string, method httpclient.Method, body []byte, up *upload) error {
	r, err := n.start(url, headers, method, body, up, driverProcess)
	if err != nil || r == nil {
		return err
	}
	if r.driver == driverThreads {
		r.workerDone = make(chan struct{})
		r.armTimer(r.timeout, godot.ErrTimeout)
		go r.work()
		if n.spin.Spinning() {
			yieldToWorker() // the caller spins on Process (yield_linux.go)
		}
		return nil
	}
	n.client.SetBlockingMode(false)
	n.guard(r, func() bool { err = r.connect(); return false }) // the proxy function, the cookie jar
	if err == errInterrupted {
		return nil // the proxy function called CancelRequest: nothing more comes
	} else if err != nil {
		r.fail(ResultCantConnect, 0, nil, err)
		n.enqueue(r)
		if godot.CodeOf(err) == godot.ErrCantConnect {
			return err // already says ERR_CANT_CONNECT (a proxy refusal): not twice
		}
		return godot.Wrap(godot.ErrCantConnect, "request", err)
	}
	return nil
}

// driver says who runs a request's steps (§7.3).
type driver uint8

const (
	driverProcess driver = iota // one step per Process call, non-blocking client
	driverThreads               // a worker goroutine, blocking client
	driverDo                    // Do's caller, blocking client
)

// start is the common beginning of Request and Do (§2.4.2–7): busy check, URL
// parsing, headers, the run. want is driverProcess or driverDo; Process
// becomes driverThreads with use_threads on.
func (n *HTTPRequest) start(url string, headers []string, method httpclient.Method, body []byte, up *upload, want driver) (*run, error) {
	n.reap(true)
	n.mu.Lock()
	if n.requesting || n.orphan != nil { // orphan: called from its worker
		n.mu.Unlock()
		return nil, busyErr("request")
	}
	n.mu.Unlock()
	begin := time.Now() // §2.4.3: the timeout runs from here, URL parsing included
	// §2.5.1: _parse_url resets the counters before it can fail (issue 7
	// rule 7): after a refused URL the getters show −1 and 0.
	n.bodyLen.Store(-1)
	n.downloaded.Store(0)
	n.decodedLen.Store(0)
	n.reportedWire, n.reportedDecoded, n.reportedUpload = 0, 0, 0
	n.uploading.Store(false)
	n.uploadSize.Store(int64(len(body)))
	if up != nil {
		n.uploadSize.Store(up.length)
	}
	t, err := parseTarget(url)
	if err != nil {
		return nil, err // §2.5; §7 D6: no completion
	}
	if err := refuseInjection(t, headers, n.opts.strict); err != nil {
		return nil, err // §7 D2, §7.4; §7 D6: no connection, no completion
	}
	var hdrs []string
	switch gzip := n.acceptGzip.Load(); {
	case len(headers) == 0 && gzip && n.opts.brotli:
		hdrs = onlyAcceptGzipBr[:1:1] // never written to: cap = len, so an append copies
	case len(headers) == 0 && gzip:
		hdrs = onlyAcceptGzip[:1:1]
	default:
		hdrs = append([]string(nil), headers...)
		if gzip && !wire.HasHeader(hdrs, "accept-encoding") {
			if n.opts.brotli {
				hdrs = append(hdrs, acceptGzipBr)
			} else {
				hdrs = append(hdrs, acceptGzip)
			}
		}
	}
	d := want
	if want == driverProcess && n.useThreads {
		d = driverThreads
	}
	r := n.spareRun
	n.spareRun = nil
	if r == nil {
		r = new(run)
	}
	*r = run{
		n:       n,
		driver:  d,
		origin:  t,
		cur:     t,
		method:  method,
		headers: hdrs,
		reqBody: append([]byte(nil), body...),
		upload:  up,
		body:    sink{n: n, bodyLen: -1, limit: -1, chunkSize: DefaultDownloadChunkSize, buf: n.keepBufs.read, decBufs: n.keepBufs.dec},
		opts:    n.opts,
		timeout: n.timeout,
		begin:   begin,
	}
	n.keepBufs = keptBufs{} // the run owns them now
	if len(r.reqBody) == 0 {
		r.reqBody = nil
	}
	n.client.SetStrict(r.opts.strict)
	n.mu.Lock()
	n.requesting, n.active = true, r
	n.mu.Unlock()
	return r, nil
}

// The header the node adds (§2.4.6; with brotli, §7.2), and the header
// lists of a request that has no other: shared by every run, never changed.
const (
	acceptGzip   = "Accept-Encoding: gzip, deflate"
	acceptGzipBr = "Accept-Encoding: gzip, deflate, br"
)

var (
	onlyAcceptGzip   = []string{acceptGzip}
	onlyAcceptGzipBr = []string{acceptGzipBr}
)

// refuseInjection is the §7 D2 refusal of Request itself (issue 7 rule 3):
// a CR, LF or NUL in the part of the URL that is sent — the host (Host
// header) and the path (request line); parse_url drops the userinfo and the
// fragment, so Godot sends neither (§2.5.3, §2.5.5) — or in a user header,
// and in strict mode (§7.4)
// a header name that is not a token or a value with a control byte, return
// godot.ErrInvalidParameter before any connection is opened. Godot's own header
// checks (an empty header, no ':' after a name, §1.17) keep Godot's
// behaviour: when one of them fails Godot sends nothing — the request ends
// later with RESULT_CONNECTION_ERROR (§2.4.9) — so nothing is checked here.
func refuseInjection(t target, headers []string, strict bool) error {
	if strings.ContainsAny(t.Host, "\r\n\x00") || strings.ContainsAny(t.Path, "\r\n\x00") {
		return godot.Wrap(godot.ErrInvalidParameter, "request",
			&wire.RequestError{Field: "url", Index: -1, Reason: "contains CR, LF or NUL"})
	}
	if len(headers) == 0 || wire.VerifyHeaders(headers) != nil {
		return nil
	}
	// The method and target are Godot's business (checked when sent).
	return wire.ValidateRequest(&wire.Request{Method: httpclient.MethodGet, URL: "/", Headers: headers}, strict)
}

// Process is one frame of Godot's main loop for this node (§7.3): when a
// non-threaded request is active, one update step (§2.6: at most one body
// read, or all that is available with SetDrainPerStep), then the timeout
// check (§2.11), then every queued completion is delivered to the
// callback on this goroutine, each after the node reset itself (§2.1.3),
// those queued during the callbacks too (Godot's deferred-call flush).
// With use_threads the worker does the steps; Process only delivers (and
// reports progress). Process never blocks on the network; with use_threads,
// a loop of Process() on this node alone, without frame pacing, has each
// call wait up to a millisecond for the worker to end instead of spinning
// (a paced caller, or a loop that drives other nodes or clients too, never
// waits).
//
// Called from the node's own callbacks on the owner's goroutine (the body
// writer, the response, proxy or progress functions, the cookie jar, an
// upload's reader — with use_threads, only the progress functions run
// there), Process returns at once. A panic in one of them during a step
// ends the request as CancelRequest does (no completion, the connection
// closed, the node free), then goes on to Process's caller.
//
// Godot: HTTPRequest NOTIFICATION_INTERNAL_PROCESS + the deferred-call flush
func (n *HTTPRequest) Process() {
	if n.inStep {
		return // called from a callback of the step (guard)
	}
	spinning := n.spin.Mark()
	n.mu.Lock()
	r, orphan := n.active, n.orphan
	n.mu.Unlock()
	if orphan != nil {
		n.reap(false)
	}
	if r != nil && r.driver == driverProcess && !r.ended {
		r.stepping.Store(true)
		done := n.guard(r, func() bool { return r.step() })
		r.stepping.Store(false)
		if spinning {
			n.spin.Stretch() // the step may have waited (awaitReport)
		}
		if r.cancelInStep { // CancelRequest ran inside a callback of the step
			n.reset(r, false)
			n.deliver()
			return
		}
		n.syncStatus()
		if !done && r.timeout > 0 && time.Since(r.begin) >= r.timeout {
			r.interrupt(phaseTimedOut, godot.ErrTimeout)
			done = true
		}
		if done {
			r.ended = true
			r.release()
			n.enqueue(r)
		}
		n.progress() // after the enqueue: a panic in it loses nothing
	} else if r != nil && r.driver == driverThreads {
		switch {
		case spinning && n.spin.Alone():
			n.awaitWorker(r)
		case spinning:
			yieldCPU() // a loop over several: the worker may need this CPU (yield_linux.go)
			n.spinYields++
		}
		n.progress()
	}
	n.deliver()
}

// awaitWorker is a Process of a caller that spins on this node alone (a
// loop of Process() without frame pacing, spin.Detector.Alone) while r's
// use_threads worker runs: it waits for the worker to end, at most
// spin.MaxWait, instead of returning at once. Such a caller keeps a CPU busy
// that the worker, and a server on the same machine, need (on 2 CPUs: small
// GETs on a new connection each 0.55–0.63× fasthttp, 0.72–0.79× with the
// wait). A paced caller (a game's frames) never waits, nor does a loop that
// drives other nodes or clients too (their steps would wait with it), nor
// one that calls Process twice in a frame. The completion the wait sees end
// is delivered by this Process.
func (n *HTTPRequest) awaitWorker(r *run) {
	spin.Await(&n.spin, r.workerDone)
}

// enqueue queues r's completion for the next Process (Godot's call_deferred),
// unless r was canceled meanwhile.
func (n *HTTPRequest) enqueue(r *run) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.active == r && !r.dropped {
		n.queue = append(n.queue, r)
	}
}

// deliver runs the queued completions until none is left, as Godot's
// deferred-call flush runs the calls queued while it runs (CallQueue::flush
// reads the queue's end at every call): a completion queued by a callback —
// a Request that failed at once (§2.4.8), a use_threads worker finishing —
// is delivered in the same Process. A callback that keeps queueing one,
// which would freeze Godot's frame, gets flushRounds rounds and the rest at
// the next Process (§7 D1).
func (n *HTTPRequest) deliver() {
	for range flushRounds {
		if !n.deliverQueued() {
			return
		}
	}
}

// flushRounds bounds the rounds of one deliver.
const flushRounds = 64

// deliverQueued runs the completions queued so far, each reset, then the
// callback (Godot's _request_done: cancel_request(), then emit_signal),
// and reports whether there was any.
func (n *HTTPRequest) deliverQueued() bool {
	n.mu.Lock()
	pending := len(n.queue) > 0
	n.mu.Unlock()
	if pending {
		// A use_threads worker may have finished after Process reported
		// progress: the counters it stored before queueing are final, so
		// report them before the completion — before taking the queue, so
		// that a panic in the progress function loses no completion.
		n.progress()
	}
	n.mu.Lock()
	q := n.queue
	n.queue, n.spareQueue = n.spareQueue, nil
	n.mu.Unlock()
	for _, r := range q {
		r.commitDownload()
		c, err, ok := r.outcome()
		n.reset(r, c.Result == ResultSuccess)
		if !ok {
			continue
		}
		n.lastErr = nil
		if re, ok := err.(*ResultError); ok {
			n.lastErr = re.Cause // Do's error is the *ResultError around it
		}
		if n.onCompleted != nil {
			n.onCompleted(c.Result, c.ResponseCode, c.Headers, c.Body)
		}
		n.recycleRun(r)
	}
	if q != nil {
		clear(q)
		n.mu.Lock()
		if n.spareQueue == nil {
			n.spareQueue = q[:0]
		}
		n.mu.Unlock()
	}
	return len(q) > 0
}

// recycleRun keeps r, a run that has been reset and whose completion was
// copied out, for the next request, so that a steady stream of requests
// allocates only what it delivers. Nothing refers to r any more: its worker,
// timer and context callback have ended (reset, Do), and the node no longer
// holds it (active, queue). Zeroed, it holds on to nothing of its request.
// A callback that started a new request took the previous spare: r waits
// for the one after.
func (n *HTTPRequest) recycleRun(r *run) {
	if n.spareRun == nil {
		*r = run{}
		n.spareRun = r
	}
}

// reset is Godot's cancel_request() for r (§2.12.3): join the worker, stop
// the timer, drop the decoder and the file, close the client (unless the
// connection is kept for reuse), requesting = false.
func (n *HTTPRequest) reset(r *run, success bool) {
	if r.workerDone != nil {
		<-r.workerDone
	}
	r.stopTimer()
	r.body.release() // a download not committed by now never is (a cancel)
	r.closeUpload()
	if success && r.opts.keepAlive {
		finishEmptyBody(n.client)
	}
	if success && r.opts.keepAlive && n.client.Reusable() { // complete, framed, nothing after it
		n.keepTarget, n.keepTLS = r.cur, r.tls
		n.keepBufs = r.body.takeBufs()
		n.idleKept.Store(true)
	} else {
		n.client.Close()
		n.keepTarget = target{}
		r.body.recycle()
	}
	n.syncStatus()
	n.mu.Lock()
	if n.active == r {
		n.requesting, n.active = false, nil
	}
	n.mu.Unlock()
}

// finishEmptyBody makes the client read the end of a Content-Length: 0
// body the node completed without reading (§2.6.1.1 succeeds before the
// first read): Godot's client goes from BODY to CONNECTED at that read
// (§1.10.1), so the kept-alive connection is reusable, as after any other
// framed body. The node never reads it itself; only SetKeepAlive cares.
func finishEmptyBody(c *httpclient.Client) {
	if c.Status() == httpclient.StatusBody && !c.IsResponseChunked() && c.ResponseBodyLength() == 0 {
		_, _ = c.ReadResponseBodyChunkInto(emptyRead[:])
	}
}

// emptyRead is the buffer of finishEmptyBody's read, which takes no byte
// (the body has none): one byte, so that the read is not a no-op.
var emptyRead [1]byte

// CancelRequest cancels the active request (§2.12): nothing happens when
// there is none. No completion is ever delivered for a canceled request,
// even one already queued (§7 D3; Godot still delivers a queued one,
// §2.12.4), and nothing of it happens after the cancel. With use_threads
// the worker is interrupted (its blocked read or connect returns at once)
// and joined before CancelRequest returns (Godot waits for a blocked read,
// §4 #7).
//
// download_file: the partial file is removed in atomic mode and stays in
// place mode (§2.9.3). In atomic mode a body is renamed into place only as
// its completion is delivered, so a use_threads request canceled after its
// worker finished leaves the old file too.
//
// Call it on the owner's goroutine (the one that calls Process), or from
// the body writer, the response function, the proxy function or the cookie
// jar: while Process runs a step it takes effect as the step returns,
// before Process does; on the use_threads worker it returns at once (the
// worker cannot join itself), the node is free for a new request at once,
// no byte is written after it, and the worker ends as the callback returns
// — the owner's next Request, Do, CancelRequest or Close waits for that,
// and Process finishes the cleanup once it has happened. It does not cancel
// a Do, which is canceled through its context.
//
// Godot: HTTPRequest.cancel_request()
func (n *HTTPRequest) CancelRequest() { n.cancel() }

// cancel is CancelRequest. It reports whether it was called on the
// use_threads worker of the request it canceled (from the body writer, the
// response function, the proxy function or the cookie jar): the worker
// cannot join itself, so the run is left as the node's orphan — no longer
// active, so a new request may start — and the worker ends once the
// callback returns (its client calls fail at once: Abort). The owner's next
// Request, Do, CancelRequest or Close waits for it and finishes the reset,
// and Process does so once it has ended (reap).
func (n *HTTPRequest) cancel() (onWorker bool) {
	n.reap(true)
	n.mu.Lock()
	r := n.active
	if r == nil || r.driver == driverDo {
		n.mu.Unlock()
		return false // a Do call is canceled through its context
	}
	already := r.dropped // the owner is resetting r, waiting for its worker
	r.dropped = true
	for i, q := range n.queue {
		if q == r {
			n.queue = append(n.queue[:i], n.queue[i+1:]...)
			break
		}
	}
	n.mu.Unlock()
	r.interrupt(phaseCanceled, nil)
	if r.driver == driverProcess && r.stepping.Load() {
		// Called from the body writer or the response function, inside
		// Process's step, which still uses the run: Process resets it
		// when the step returns.
		r.cancelInStep = true
		return false
	}
	if r.driver == driverThreads && r.onWorker() {
		if already {
			return true // that reset finishes once this callback returns
		}
		n.mu.Lock()
		if n.active == r {
			n.requesting, n.active = false, nil
		}
		n.orphan = r
		n.mu.Unlock()
		// Godot's cancel_request closes the client: DISCONNECTED at once.
		n.status.Store(int32(httpclient.StatusDisconnected))
		return true
	}
	n.reset(r, false)
	return false
}

// guard runs f, a part of r's steps on the owner's goroutine that may call
// the user's code (Process's step, Request's connect, Do's steps): a
// Process called from that code returns at once (inStep), and a panic in it
// ends the request as a cancel (abandon) before it goes on to the caller.
func (n *HTTPRequest) guard(r *run, f func() bool) bool {
	prev := n.inStep
	n.inStep = true
	ok := false
	defer func() {
		n.inStep = prev
		if !ok {
			n.abandon(r)
		}
	}()
	done := f()
	ok = true
	return done
}

// abandon ends r, whose step was cut by a panic in the user's code, as
// CancelRequest does: no completion, the client closed, the node free.
func (n *HTTPRequest) abandon(r *run) {
	n.mu.Lock()
	r.dropped = true
	n.queue = slices.DeleteFunc(n.queue, func(q *run) bool { return q == r })
	n.mu.Unlock()
	r.interrupt(phaseCanceled, nil)
	r.stepping.Store(false)
	n.reset(r, false)
}

// reap finishes the reset of the orphan run (cancel), if there is one and
// its worker has ended; with wait it waits for the worker to end, except on
// that worker itself.
func (n *HTTPRequest) reap(wait bool) {
	n.mu.Lock()
	r := n.orphan
	n.mu.Unlock()
	if r == nil {
		return
	}
	if !wait {
		select {
		case <-r.workerDone:
		default:
			return
		}
	} else if r.onWorker() {
		return
	}
	n.mu.Lock()
	n.orphan = nil
	n.mu.Unlock()
	n.reset(r, false)
}

// Do runs one request to its end on the calling goroutine and returns the
// four values of request_completed (§7.3). The error is nil for
// RESULT_SUCCESS and otherwise a *ResultError holding the Result and the real
// cause (errors.Is(err, ResultTimeout), errors.As(err, &netErr)…). It is the
// error of Request (godot.ErrBusy, godot.ErrInvalidParameter) when the request does not
// start, with a zero Completion.
//
// The client runs in blocking mode (real blocking I/O, no spinning); the
// use_threads property does not apply and the completion callback is not
// called. ctx cancellation is CancelRequest: Do returns promptly with a zero
// Completion and ctx's error (with the cause given to
// context.WithCancelCause). A zero Completion's Result reads
// RESULT_SUCCESS (Godot's 0), so look at the error first, as with any Go
// call: a GDScript handler's "if result != RESULT_SUCCESS" becomes
// "if err != nil". A ctx deadline is a timeout: RESULT_TIMEOUT,
// with context.DeadlineExceeded as the cause (and the one given to
// context.WithTimeoutCause); the timeout property applies too, whichever
// comes first (ERR_TIMEOUT as the cause).
func (n *HTTPRequest) Do(ctx context.Context, url string, headers []string, method httpclient.Method, body []byte) (Completion, error) {
	return n.do(ctx, url, headers, method, body, nil)
}

// do is Do, and DoStream with up.
func (n *HTTPRequest) do(ctx context.Context, url string, headers []string, method httpclient.Method, body []byte, up *upload) (Completion, error) {
	if err := ctx.Err(); err != nil && err != context.DeadlineExceeded {
		return Completion{}, ctxErr(ctx) // canceled: no request (§7.3)
	}
	r, err := n.start(url, headers, method, body, up, driverDo)
	if err != nil {
		return Completion{}, err
	}
	r.ctx = ctx
	n.client.SetBlockingMode(true)
	var fired chan struct{}
	stopCtx := func() bool { return true }
	if ctx.Done() != nil { // a context that can end (not Background: no allocation)
		fired = make(chan struct{})
		stopCtx = context.AfterFunc(ctx, func() {
			defer close(fired)
			if ctx.Err() == context.DeadlineExceeded {
				r.interrupt(phaseTimedOut, withCause(ctx, context.DeadlineExceeded))
			} else {
				r.interrupt(phaseCanceled, nil)
			}
		})
	}
	finished := false
	defer func() {
		if !finished && !stopCtx() { // a panic in the user's code (guard)
			<-fired
		}
	}()
	r.armTimer(r.timeout, godot.ErrTimeout)
	if ctx.Err() == context.DeadlineExceeded {
		// A deadline already past is a timeout that fires at once, as
		// Godot's timer started with an elapsed time would (§2.11): R13,
		// before anything is dialled.
		r.interrupt(phaseTimedOut, withCause(ctx, context.DeadlineExceeded))
	} else {
		n.guard(r, func() bool {
			if err := r.connect(); err != nil {
				r.fail(ResultCantConnect, 0, nil, err)
			} else {
				r.loop(true)
			}
			return true
		})
	}
	finished = true
	if !stopCtx() {
		<-fired
	}
	r.stopTimer()
	r.commitDownload()
	r.release()
	c, err, ok := r.outcome()
	n.reset(r, ok && c.Result == ResultSuccess)
	n.recycleRun(r)
	if !ok {
		return Completion{}, ctxErr(ctx)
	}
	return c, err
}

// ctxErr is the error Do returns for a canceled context: ctx.Err(), and its
// cause when one was given (withCause).
func ctxErr(ctx context.Context) error { return withCause(ctx, ctx.Err()) }

// withCause wraps err, a context's error (context.Canceled or
// context.DeadlineExceeded), and the cause the context was given
// (context.WithCancelCause, WithTimeoutCause…), in one line; err alone when
// there is no other cause.
func withCause(ctx context.Context, err error) error {
	switch cause := context.Cause(ctx); {
	case cause == nil || cause == err:
		return err
	case errors.Is(cause, err):
		return cause // it says err itself (fmt.Errorf("…: %w", context.DeadlineExceeded))
	default:
		return fmt.Errorf("%w: %w", err, cause)
	}
}

// progress is reportProgress for Process: a Process called from the
// progress functions returns at once (inStep), as from the step's
// callbacks.
func (n *HTTPRequest) progress() {
	prev := n.inStep
	n.inStep = true
	defer func() { n.inStep = prev }()
	n.reportProgress()
}

// reportProgress calls the progress callback when the counters moved.
func (n *HTTPRequest) reportProgress() {
	n.reportUpload()
	if n.onProgress == nil {
		return
	}
	w, d := n.downloaded.Load(), n.decodedLen.Load()
	if w == n.reportedWire && d == n.reportedDecoded {
		return
	}
	n.reportedWire, n.reportedDecoded = w, d
	n.onProgress(w, d)
}

func (n *HTTPRequest) syncStatus() {
	s := n.client.Status()
	if n.idleKept.Load() {
		s = httpclient.StatusDisconnected // the kept connection is below the node (§2.12.3)
	}
	n.status.Store(int32(s))
}

// HTTPClientStatus returns the status of the node's client (§2.2). Safe from
// any goroutine; with use_threads it is the status after the worker's last
// step.
//
// Godot: HTTPRequest.get_http_client_status()
func (n *HTTPRequest) HTTPClientStatus() httpclient.Status {
	return httpclient.Status(n.status.Load())
}

// BodySize returns the Content-Length of the current (or last) response, or
// −1 when unknown (§2.9.7): chunked, read until close, no response yet — and,
// as in Godot, −1 for "Content-Length: 0" and bodyless responses (§2.6.1.1).
// It is the compressed length for a compressed body (§2.8.2.6). 64-bit
// (§7 D3; Godot's is 32-bit). Safe from any goroutine.
//
// Godot: HTTPRequest.get_body_size()
func (n *HTTPRequest) BodySize() int64 { return n.bodyLen.Load() }

// DownloadedBytes returns how many body bytes of the current (or last)
// response were received, after de-chunking and before decompression
// (§2.9.7); reset when a response head arrives and on redirects, kept after
// completion. 64-bit. Safe from any goroutine.
//
// Godot: HTTPRequest.get_downloaded_bytes()
func (n *HTTPRequest) DownloadedBytes() int64 { return n.downloaded.Load() }

// Close cancels the active request, if any (CancelRequest), and closes the
// node's client, including a connection kept by SetKeepAlive. The node stays
// usable. It is the port's equivalent of the node leaving the tree or being
// freed (§2.12.5): afterwards no goroutine or connection of the node remains
// — except when it is called from a callback on the use_threads worker,
// where it is CancelRequest and the owner's next call finishes.
func (n *HTTPRequest) Close() {
	if n.cancel() {
		return // on the worker: the owner's next call finishes (reap)
	}
	n.mu.Lock()
	active := n.active != nil
	n.mu.Unlock()
	if !active {
		n.client.Close()
		n.keepTarget = target{}
		n.keepBufs.recycle()
		n.keepBufs = keptBufs{}
		n.syncStatus()
	}
}
