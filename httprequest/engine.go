package httprequest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/wire"
)

// The engine: Godot's _update_connection (§2.6) as run.step, shared by the
// three drivers. A run is one request (with its redirect hops).

// ErrBodyCutShort is the cause of the result of a body the connection ended
// before it was complete — RESULT_CANT_CONNECT for a fixed-length body
// (Godot's path through a DISCONNECTED client, §2.9.5) and
// RESULT_CHUNKED_BODY_SIZE_MISMATCH for a chunked one (§7 D3) — when no
// read failed with a cause of its own: a fixed-length body cut short is
// usually the client's *httpclient.BodyError (the framing, the bytes
// received; TestBodyCutShortCause). It wraps io.ErrUnexpectedEOF.
var ErrBodyCutShort = fmt.Errorf("httprequest: the connection ended before the body was complete: %w", io.ErrUnexpectedEOF)

// errChunkedSizeMismatch is the cause of RESULT_CHUNKED_BODY_SIZE_MISMATCH
// for a chunked body that did not match its Content-Length (§2.6).
var errChunkedSizeMismatch = errors.New("httprequest: chunked body size differs from its Content-Length")

// errNoHeaders is the cause of RESULT_NO_RESPONSE: a response head without
// header lines, for which Godot's has_response() is false (§2.7.1).
var errNoHeaders = errors.New("httprequest: the response head has no header lines")

type run struct {
	n      *HTTPRequest
	driver driver

	// Snapshot of the node's settings at Request.
	opts    options
	timeout time.Duration
	begin   time.Time
	ctx     context.Context // Do's context (its deadline: overdue), nil for the other drivers

	// The request (Godot: method, url/port/use_tls/request_string, headers,
	// request_data). headers are the user's plus Accept-Encoding; a hop to
	// another origin gets them without credentials (§7 D2).
	method  httpclient.Method
	origin  target
	cur     target
	headers []string
	reqBody []byte
	upload  *upload                // a streamed body instead of reqBody (upload.go), or nil
	tls     *httpclient.TLSOptions // TLS options of the current connection

	// Godot's per-request state; request_sent and got_response are the
	// phase (phase.go).
	redirections int
	code         int
	respHeaders  []string
	body         sink  // Godot: body_len, downloaded, final_body_size, body, decompressor, file
	startErr     error // why the last redirect's connection did not start
	reused       bool  // the connection was kept from the previous request
	retried      bool

	// finishing: the body is complete on the wire and its decoder's last
	// output goes on past one step (decodeStepMax, finishBody).
	finishing bool

	ended   bool // driverProcess: the steps are over (owner goroutine)
	dropped bool // canceled: never queue or deliver (guarded by n.mu)

	// driverProcess: Process is running a step, and CancelRequest was
	// called from a callback of it (the body writer, the response
	// function): Process resets the run once the step has returned.
	stepping     atomic.Bool
	cancelInStep bool

	// Outcome.
	state      atomic.Int32 // a phase (phase.go)
	completion Completion
	cause      error

	mu          sync.Mutex // guards interrupted
	interrupted error

	timer      *time.Timer
	timerFired chan struct{}
	workerDone chan struct{}
	workerID   atomic.Uint64 // the use_threads worker's goroutine (onWorker)
	idBuf      [64]byte      // the worker's buffer for goroutineID
}

// work is the use_threads worker (§2.13): start the connection, loop the
// steps with blocking I/O until done or interrupted, queue the completion.
func (r *run) work() {
	defer close(r.workerDone)
	r.workerID.Store(goroutineID(r.idBuf[:]))
	r.n.client.SetBlockingMode(true)
	if err := r.connect(); err != nil {
		r.fail(ResultCantConnect, 0, nil, err)
	} else {
		r.loop(false)
	}
	r.release()
	if p := r.phase(); p == phaseTimedOut || p == phaseCanceled {
		// Godot's _timeout and cancel_request join the thread and close the
		// client: DISCONNECTED from then on, never the status the abort
		// left (CONNECTION_ERROR), until the completion is delivered.
		r.n.status.Store(int32(httpclient.StatusDisconnected))
	}
	r.n.enqueue(r)
}

// onWorker reports whether the caller is r's use_threads worker, which runs
// the user's callbacks (CancelRequest must not join it from there).
func (r *run) onWorker() bool {
	id := r.workerID.Load()
	if id == 0 {
		return false
	}
	var buf [64]byte
	return goroutineID(buf[:]) == id
}

// goroutineID is the calling goroutine's number, from the first line of its
// stack trace ("goroutine 42 [running]:"), read into buf. It costs about
// 2 µs: the worker reads it once, CancelRequest on a threaded request.
func goroutineID(buf []byte) uint64 {
	b := bytes.TrimPrefix(buf[:runtime.Stack(buf, false)], []byte("goroutine "))
	var id uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

// loop runs the steps until the request ends or is interrupted (threads and
// Do drivers: the client blocks, so nothing spins). progress says whether to
// report progress after each step (Do: the caller's goroutine).
func (r *run) loop(progress bool) {
	for r.phase().running() {
		done := r.step()
		if p := r.phase(); p == phaseTimedOut || p == phaseCanceled {
			break // the client was aborted: its status is not shown (work)
		}
		r.n.syncStatus()
		if progress {
			r.n.reportProgress()
		}
		if done {
			break
		}
	}
}

// interrupt ends a running request from outside the steps: a timeout or a
// cancel. The blocked client call, if any, returns at once (Abort).
func (r *run) interrupt(end phase, cause error) {
	r.mu.Lock()
	won := r.setPhase(end)
	if won {
		r.interrupted = cause
	}
	r.mu.Unlock()
	if won && r.driver != driverProcess {
		r.n.client.Abort()
	}
}

// outcome is the completion to deliver, its error for Do, and whether there
// is one at all (none after a cancel).
func (r *run) outcome() (Completion, error, bool) {
	switch r.phase() {
	case phaseDone, phaseFailed:
		return r.completion, resultErr(r.completion.Result, r.cause), true
	case phaseTimedOut:
		r.mu.Lock()
		cause := r.interrupted
		r.mu.Unlock()
		return Completion{Result: ResultTimeout}, resultErr(ResultTimeout, cause), true
	}
	return Completion{}, nil, false
}

// onReuseDeclined, when set (tests: the node chaos harness), sees each
// connect that opens a new connection though the node kept one
// (SetKeepAlive), before the kept one is closed: why is for the hook to ask.
var onReuseDeclined func(n *HTTPRequest, r *run)

// connect is Godot's _request(): connect_to_host(url, port, use_tls ? tls
// options : null) — or, with the connection-reuse option, keep the node's
// open connection to the same origin.
func (r *run) connect() error {
	n, c := r.n, r.n.client
	n.mu.Lock()
	tlsOpts := n.tlsOptions
	n.mu.Unlock()
	n.idleKept.Store(false)                  // the client's status is the request's again
	if err := r.applyProxies(); err != nil { // proxyenv.go
		return err
	}
	if !r.phase().running() {
		return errInterrupted // canceled from the proxy function or the cookie jar
	}
	// download_chunk_size as it is now (issue 7 rule 8: it may have been
	// set while the client was DISCONNECTED).
	r.body.chunkSize = int(n.chunkSize.Load())
	_ = c.SetReadChunkSize(r.body.chunkSize) // validated by SetDownloadChunkSize
	r.tls = nil
	if r.cur.TLS {
		r.tls = tlsOpts
	}
	if r.opts.keepAlive && c.Status() == httpclient.StatusConnected &&
		n.keepTarget.Host != "" && n.keepTarget.sameOrigin(r.cur) && n.keepTLS == r.tls {
		// Liveness: a peer that closed meanwhile shows now (§1.6.3); bytes
		// sent unasked meanwhile would be read as this request's response
		// (§7 D2, Reusable).
		if c.Poll() == nil && c.Reusable() {
			r.reused = true
			n.syncStatus()
			return nil
		}
	}
	if onReuseDeclined != nil && r.opts.keepAlive && n.keepTarget.Host != "" {
		onReuseDeclined(n, r)
	}
	r.reused = false
	n.keepTarget = target{}
	err := c.ConnectToHost(r.cur.Host, r.cur.Port, r.tls)
	if !r.phase().running() {
		c.Abort() // ConnectToHost cleared an Abort that raced with it
	}
	n.syncStatus()
	return err
}

// step is Godot's _update_connection (§2.6): one step for the client's
// status. It returns true when the request is over (the completion is set).
func (r *run) step() bool {
	if r.finishing || r.body.dec != nil && r.body.dec.pending {
		return r.stepDecode()
	}
	c := r.n.client
	switch c.Status() {
	case httpclient.StatusDisconnected:
		// §2.6: also reached after a fixed-length body cut short (§2.9.5) and
		// after a redirect whose connection did not start (§2.8.1.6).
		cause := r.startErr
		if cause == nil {
			cause = r.body.readErr
		}
		if cause == nil && r.gotResponse() {
			cause = ErrBodyCutShort
		}
		return r.fail(ResultCantConnect, 0, nil, cause)
	case httpclient.StatusResolving, httpclient.StatusConnecting, httpclient.StatusRequesting:
		_ = c.Poll()
		return false
	case httpclient.StatusCantResolve:
		return r.fail(ResultCantResolve, 0, nil, c.LastError())
	case httpclient.StatusCantConnect:
		return r.fail(ResultCantConnect, 0, nil, c.LastError())
	case httpclient.StatusConnected:
		if !r.requestSent() {
			if err := r.sendRequest(c); err != nil {
				return r.fail(ResultConnectionError, 0, nil, err) // §2.4.9, §2.5.11
			}
			r.setPhase(phaseRequesting)
			return false
		}
		return r.stepResponded()
	case httpclient.StatusBody:
		return r.stepBody()
	case httpclient.StatusConnectionError:
		if retry, err := r.retryReused(); err != nil {
			// The new connection did not start (a proxy function's
			// error): R2 with its cause, as a first request's connect.
			return r.fail(ResultCantConnect, 0, nil, err)
		} else if retry {
			return false
		}
		return r.fail(ResultConnectionError, 0, nil, c.LastError())
	case httpclient.StatusTLSHandshakeError:
		return r.fail(ResultTLSHandshakeError, 0, nil, c.LastError())
	}
	return false
}

// stepResponded is the CONNECTED step once the request was sent (§2.6): a
// response without a body, or the end of a chunked one.
func (r *run) stepResponded() bool {
	c := r.n.client
	if !r.gotResponse() {
		// A response without a body (§1.9: no framing).
		if handled, done := r.handleResponse(); handled {
			return done
		}
		if c.Status() == httpclient.StatusDisconnected && (c.IsResponseChunked() || c.ResponseBodyLength() > 0) {
			// The client closed before a declared body was read: Godot's
			// BODY step, then DISCONNECTED → R2 (§2.9.5).
			r.body.setBodyLen(c.ResponseBodyLength())
			return r.fail(ResultCantConnect, 0, nil, ErrBodyCutShort)
		}
		return r.finishBody()
	}
	if r.body.bodyLen < 0 {
		return r.finishBody() // chunked body complete
	}
	// §2.6: a chunked body that did not match its Content-Length.
	return r.fail(ResultChunkedBodySizeMismatch, r.code, r.respHeaders, errChunkedSizeMismatch)
}

// retryReused: a request on a kept connection (connection-reuse option) that
// failed before any response arrived is sent once more on a new connection,
// for the idempotent methods (the server may have closed the idle connection
// just as it was reused; net/http does the same). Not when the request's
// body failed to read: the connection was not at fault, and the body would
// be sent twice (net/http does not retry that either). err is the new
// connection's failure to start.
func (r *run) retryReused() (retry bool, err error) {
	if !r.reused || r.retried || r.gotResponse() || r.n.client.PartialResponse() {
		return false, nil // net/http's rule: nothing of a response may have come
	}
	if errors.As(r.n.client.LastError(), new(*httpclient.RequestBodyError)) {
		return false, nil
	}
	switch r.method {
	case httpclient.MethodGet, httpclient.MethodHead, httpclient.MethodOptions, httpclient.MethodTrace,
		httpclient.MethodPut, httpclient.MethodDelete:
	default:
		return false, nil
	}
	if r.rewindUpload() != nil {
		return false, nil // a streamed body that cannot be sent twice
	}
	r.retried = true
	r.n.keepTarget = target{}
	if !r.setPhase(phaseConnecting) {
		return false, nil
	}
	return true, r.connect()
}

// hopHeaders are the headers for the current hop: without credentials when
// it goes to another origin than the original request (§7 D2), plus the
// cookie jar's Cookie line (cookies.go).
func (r *run) hopHeaders() []string {
	if r.cur.sameOrigin(r.origin) {
		return r.withJarCookies(r.headers)
	}
	return r.withJarCookies(withoutCredentials(r.headers))
}

// handleResponse is Godot's _handle_response (§2.7, §2.8.1): handled means
// the step ends here, with done as its result.
func (r *run) handleResponse() (handled, done bool) {
	c := r.n.client
	if !c.HasResponse() {
		return true, r.fail(ResultNoResponse, 0, nil, errNoHeaders) // §2.7.1
	}
	r.setPhase(phaseBody)
	r.code = c.ResponseCode()
	r.respHeaders = c.ResponseHeaders()
	r.body.reset()
	r.storeCookies() // every hop, 3xx included (cookies.go)
	if !r.phase().running() {
		// CancelRequest or Close from the cookie jar, or the timeout
		// meanwhile: the run is over, and the response function is not
		// told of a response it will never get.
		return true, true
	}

	rfc := r.opts.rfcRedirects
	if isRedirect(r.code, rfc) {
		if limit := r.n.maxRedirects.Load(); limit >= 0 && int64(r.redirections) >= limit {
			_ = r.tellResponse() // the request ends here anyway
			return true, r.fail(ResultRedirectLimitReached, r.code, r.respHeaders, &wire.LimitError{What: "redirects", Limit: limit})
		}
		// §2.8.1.3; a CR inside the Location line (kept as Godot keeps
		// it) is SP in the target: no CR reaches a request line (§7 D2).
		loc := wire.RedirectLocation(r.respHeaders)
		if rfc {
			loc, _ = wire.LookupField(r.respHeaders, "location")
			loc = wire.NoCR(loc)
		}
		if next, ok := redirectTarget(r.cur, loc, rfc); ok {
			c.Close()
			r.n.keepTarget = target{}
			r.cur = next
			// UploadedBytes starts at 0 with each hop (before UploadSize
			// may drop to 0: never more sent than the size).
			r.n.uploading.Store(false)
			if m, keepBody := redirectMethod(r.code, r.method, rfc); !keepBody {
				r.method, r.reqBody = m, nil
				r.dropUpload()
				r.n.uploadSize.Store(0) // this hop's request has no body
				r.headers = withoutContentHeaders(r.headers)
			} else if err := r.rewindUpload(); err != nil {
				// upload.go; the request ends here anyway.
				_ = r.tellResponse()
				return true, r.fail(ResultRequestFailed, r.code, r.respHeaders, err)
			}
			err := r.connect()
			if err == errInterrupted { // canceled from the proxy function
				return true, true
			}
			if err == nil {
				r.setPhase(phaseConnecting)
				r.body.setBodyLen(-1)
				r.body.reset()
				r.redirections++
				r.startErr = nil
				return true, false
			}
			// §2.8.1.6: the 3xx is processed as the final response.
			r.startErr = err
		}
	}

	// §2.7.4, §2.8.2.1: decompression, only with accept_gzip.
	if r.n.acceptGzip.Load() {
		enc := encIdentity
		// Godot: get_header_value(headers, "Content-Encoding").to_lower().
		switch ce := wire.HeaderValue(r.respHeaders, "content-encoding"); {
		case wire.EqualFold(ce, "gzip"):
			enc = encGzip
		case wire.EqualFold(ce, "deflate"):
			enc = encDeflate
		case wire.EqualFold(ce, "br"):
			if r.opts.brotli {
				enc = encBrotli
			}
		}
		if enc != encIdentity {
			r.body.decode(enc)
		}
	}
	if err := r.tellResponse(); err != nil {
		return true, r.fail(ResultRequestFailed, r.code, r.respHeaders, err)
	}
	if r.phase() == phaseCanceled { // CancelRequest from the function (Process driver)
		return true, true
	}
	return false, false
}

// tellResponse calls the response function (SetResponseFunc) with the
// response the completion will report, and returns its error.
func (r *run) tellResponse() error {
	if f := r.opts.responseFunc; f != nil {
		return f(r.code, append([]string(nil), r.respHeaders...))
	}
	return nil
}

// stepBody is the BODY step (§2.6.1).
// drainStepMax bounds the body bytes, read or decoded, that one Process
// step drains (SetDrainPerStep): 4 MiB, 240 MB/s at 60 frames a second.
const drainStepMax = 4 << 20

// bodyLimit is the body_size_limit of the response that starts now: the
// node's, less what download_file already holds when DoResumable appends a
// 206 to it (options.fileBase: the limit bounds the file such a call
// produces, not each of its requests); −1 for none.
func (r *run) bodyLimit() int64 {
	limit := r.n.bodySizeLimit.Load()
	if limit >= 0 && r.code == 206 && r.opts.fileBase > 0 {
		limit = max(limit-r.opts.fileBase, 0)
	}
	return limit
}

func (r *run) stepBody() bool {
	c := r.n.client
	b := &r.body
	first := !r.gotResponse()
	if first {
		if handled, done := r.handleResponse(); handled {
			return done
		}
		if !c.IsResponseChunked() && c.ResponseBodyLength() == 0 {
			return r.succeed() // §2.6.1.1: body length stays −1 (QUIRK)
		}
		// Godot reads body_size_limit and download_file here (§2.6.1.1):
		// they may have been set while the client was DISCONNECTED.
		b.start(c.ResponseBodyLength(), c.IsResponseChunked(), r.bodyLimit(), r.opts.bodyWriter)
		b.state = &r.state
		if b.limit >= 0 && b.bodyLen > b.limit {
			return r.fail(ResultBodySizeLimitExceeded, r.code, r.respHeaders, b.limitErr())
		}
		if file := r.n.DownloadFile(); file != "" {
			dl, err := r.openDownloadFile(file)
			if err != nil {
				return r.fail(ResultDownloadFileCantOpen, r.code, r.respHeaders, err)
			}
			b.dl = dl
		}
	}
	switch {
	case first && r.method == httpclient.MethodHead && c.IsResponseChunked():
		// The client frames a HEAD's chunked answer as an empty body (§7
		// D1, COMPAT R3; Godot waits for chunks that never come): its one
		// read comes without a poll first, so that a close that came with
		// the head does not make it R4 or R0 by timing — R0, as a HEAD
		// without chunked (§2.6.1.1).
	case first || r.driver != driverDo:
		// §2.6.1.2. Do has no frames: after the first step its blocking
		// reads meet whatever a Poll would (a reset, the end of the
		// stream), only with the bytes queued before it read first — a
		// reset that arrived that much later in a Godot run — and it is
		// spared a system call per read.
		_ = c.Poll() // a blocking client's check does not wait
	}
	if c.Status() != httpclient.StatusBody {
		return false
	}
	decoded0 := b.decoded
	for empty, drained := 0, 0; ; {
		if b.dl != nil {
			b.dl.markChunk()
		}
		n, err := b.read(c)
		drained += n
		if ended, done := r.afterRead(err); ended {
			return done
		}
		if b.bodyLen >= 0 {
			if b.downloaded == b.bodyLen {
				return r.finishBody()
			}
			if b.chunked && c.BodyComplete() && c.Status() == httpclient.StatusDisconnected {
				// The client closed a response with Transfer-Encoding and
				// Content-Length after its complete body (§7 D2) where Godot
				// would be CONNECTED: Godot's §2.6 mismatch result.
				return r.fail(ResultChunkedBodySizeMismatch, r.code, r.respHeaders, errChunkedSizeMismatch)
			}
		} else if c.Status() == httpclient.StatusDisconnected {
			// Read until EOF with no errors (§2.6.1.7); §7 D3: a chunked body
			// cut short is not a success.
			if b.chunked && !c.BodyComplete() {
				return r.fail(ResultChunkedBodySizeMismatch, r.code, r.respHeaders, ErrBodyCutShort)
			}
			return r.finishBody()
		}
		// One read per step (§2.6.1.3), unless draining (§7.2) in Process
		// mode; a blocking client blocks on each read, so one is enough.
		// A drain ends at a read that gives nothing — for a chunked body,
		// at the second in a row: a read that takes the last-chunk line
		// gives nothing, and the trailer after it is there to be read too —
		// or once it read or decoded drainStepMax bytes: a server that
		// sends faster than the step consumes (a gzip body, a slow body
		// writer) would keep one Process, and the frame, from ever ending
		// (§7 D1), and the timeout from being checked (§2.11).
		if n == 0 {
			empty++
		} else {
			empty = 0
		}
		if !r.opts.drainPerStep || r.driver != driverProcess || c.Status() != httpclient.StatusBody ||
			empty > 0 && (!b.chunked || empty > 1) || max(int64(drained), b.decoded-decoded0) >= drainStepMax {
			return false
		}
	}
}

// decodeStepMax bounds the decoded bytes one step hands on (§7 D1): a
// decompression bomb — a few KiB of brotli that decode to gigabytes, or
// gzip read in chunks of 16 MiB — would otherwise keep one step, and the
// frame, for seconds, out of the timeout's and the context's reach (a
// timeout is checked between steps, §2.11), and fill memory within it.
// Godot decodes the whole of each read in its step; 65 MiB is more than
// gzip and deflate can make of a read of the default chunk size (65536 ×
// 1032 bytes, their largest ratio), so only a bomb, or a larger chunk
// size, sees a step end early: the rest follows at the next steps, before
// the wire is read again (stepDecode) or the body ends (finishBody). A step
// then decodes for about 150 ms at most (brotli, the slowest, on the
// project's machine). A variable for the tests.
var decodeStepMax int64 = 65 << 20

// stepDecode is a step that goes on with the output the decoder left
// pending at decodeStepMax: the rest of a read's output, or of the body's
// end.
func (r *run) stepDecode() bool {
	if r.finishing {
		return r.finishBody()
	}
	_, done := r.afterRead(r.body.dec.more())
	return done
}

// afterRead ends the run after a body read, or the rest of its decoding,
// that failed or met a cancel from the body writer (Process driver): ended
// says whether it did, done is the step's result.
func (r *run) afterRead(err error) (ended, done bool) {
	if r.phase() == phaseCanceled {
		return true, true
	}
	if err == nil {
		return false, false
	}
	res := sinkResult(err)
	if b := &r.body; b.dl != nil && (res == ResultBodySizeLimitExceeded || res == ResultBodyDecompressFailed) {
		b.dl.dropChunk() // Godot writes a chunk only once it decoded within the limit
	}
	return true, r.fail(res, r.code, r.respHeaders, err)
}

// finishBody ends a body complete on the wire: its decoder's last output
// goes to the sink, decodeStepMax per step (finishing), then succeed.
func (r *run) finishBody() bool {
	if d := r.body.dec; d != nil {
		if d.pending && !r.finishing {
			r.finishing = true // this step's output is spent: the end at the next
			return false
		}
		if err := d.close(); err == nil && d.pending {
			r.finishing = true
			return false
		}
		// An error stays in the decoder: succeed's end reports it.
	}
	r.finishing = false
	return r.succeed()
}

// succeed ends the request with RESULT_SUCCESS (the response code, headers
// and body), unless the sink's end fails: the decoder must end cleanly
// (§7 D3: a truncated stream is RESULT_BODY_DECOMPRESS_FAILED). The phase
// moves first, so a timeout cannot come after it; the download is committed
// as the completion is delivered (commitDownload).
func (r *run) succeed() bool {
	r.ended = true
	if !r.setPhase(phaseDone) {
		r.release()
		return true
	}
	res, cause := r.body.end()
	body := r.body.body
	r.body.body = nil // the completion owns it
	if res != ResultSuccess || len(body) == 0 {
		body = nil
	}
	r.completion = Completion{Result: res, ResponseCode: r.code, Headers: nilIfEmpty(r.respHeaders), Body: body}
	r.cause = cause
	return true
}

// fail ends the request with a result other than success: the body is
// dropped, the decoder released, the download aborted (§2.10: code and
// headers only where Godot gives them). A blocking driver's failure past
// the timeout by the clock is RESULT_TIMEOUT instead (overdue).
func (r *run) fail(res Result, code int, headers []string, cause error) bool {
	if late, why := r.overdue(); late {
		r.interrupt(phaseTimedOut, why) // the timer's goroutine has not run yet
	}
	r.ended = true
	r.release()
	if r.setPhase(phaseFailed) {
		r.completion = Completion{Result: res, ResponseCode: code, Headers: nilIfEmpty(headers)}
		r.cause = cause
	}
	return true
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// release drops the decoder and aborts an uncommitted download — except
// the download of a run that succeeded, which waits for the delivery of its
// completion (commitDownload) or the reset of a cancel. Idempotent.
func (r *run) release() {
	if r.phase() == phaseDone {
		r.body.dropDecoder()
		return
	}
	r.body.release()
}

// commitDownload commits download_file for a run that succeeded, as its
// completion is about to be delivered — not when the steps ended: a
// use_threads run canceled between the two has its completion dropped
// (COMPAT Q6), and like every canceled download it leaves the old file in
// atomic mode (its reset aborts the download). A commit that fails turns
// the completion into RESULT_DOWNLOAD_FILE_WRITE_ERROR.
func (r *run) commitDownload() {
	if r.phase() != phaseDone {
		return
	}
	if r.workerDone != nil {
		<-r.workerDone // the worker hands the run over as it ends
	}
	if err := r.body.commit(); err != nil && r.completion.Result == ResultSuccess {
		r.completion = Completion{Result: ResultDownloadFileWriteError, ResponseCode: r.code, Headers: r.completion.Headers}
		r.cause = err
	}
}
