package httprequest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/wire"
)

// Streamed request bodies and upload progress (issue 10, §7.2 opt-in):
// RequestStream and DoStream send a body read from an io.Reader; the bytes
// of a request with a known length are those of RequestRaw with the same
// body (§2.4, §1.7).

// ErrBodyNotReplayable is the cause of the RESULT_REQUEST_FAILED that ends a
// streamed request when a redirect that keeps the body (Godot re-sends the
// method and body unchanged on 301/302, §2.8.1.7; with SetRFC9110Redirects only
// 307/308 and non-POST 301/302 keep it) would have to send it again and the
// body is not an io.Seeker: its bytes were consumed by the first request.
// The completion carries the redirect's code and headers, as
// RESULT_REDIRECT_LIMIT_REACHED does. (SetKeepAlive's retry on a new
// connection is simply not made for such a body: the request ends as the
// failure on the kept connection did.)
var ErrBodyNotReplayable = errors.New("httprequest: the redirect needs the request body again, and the body is not an io.Seeker")

// upload is a run's streamed request body.
type upload struct {
	r      io.Reader
	length int64     // −1: chunked
	seeker io.Seeker // r as a Seeker, or nil: it cannot be sent twice
	start  int64     // r's offset at Request
	used   bool      // a request read from it
	owned  io.Closer // closed when the run ends (the node opened the body), or nil
}

// newUpload checks the arguments of RequestStream and DoStream.
func newUpload(headers []string, body io.Reader, length int64) (*upload, error) {
	if body == nil {
		return nil, nil
	}
	if length < -1 {
		return nil, godot.Wrap(godot.ErrInvalidParameter, "request", errors.New("httprequest: request body length must be ≥ −1"))
	}
	if length < 0 && (wire.HasHeader(headers, "content-length:") || wire.HasHeader(headers, "transfer-encoding:")) {
		return nil, godot.Wrap(godot.ErrInvalidParameter, "request",
			errors.New("httprequest: a chunked request body does not go with a Content-Length or Transfer-Encoding header"))
	}
	u := &upload{r: body, length: length}
	if s, ok := body.(io.Seeker); ok {
		off, err := s.Seek(0, io.SeekCurrent)
		if err == nil {
			u.seeker, u.start = s, off
		}
	}
	return u, nil
}

// RequestStream is RequestRaw with a body read from body while it is sent,
// so that a large upload is never held in memory (§7.2 opt-in; Godot only
// sends a byte array). length ≥ 0 is the body's size: the request is byte
// for byte RequestRaw's for a body of that size (§2.4.10, §1.7.10) and
// exactly length bytes are read. length −1 means unknown: the body is sent
// with "Transfer-Encoding: chunked" (Godot never does; the server must
// accept it), and a header starting with "Content-Length:" or
// "Transfer-Encoding:" is refused with ErrInvalidParameter. A nil body is
// RequestRaw without one. The node does not close body; it must stay
// usable until the completion.
//
// The body is read on the goroutine that runs the steps, 64 KiB at a time
// (with Process at most 1 MiB per frame); a Read that blocks holds the step,
// and CancelRequest, the timeout with use_threads and Do's context wait for
// it. A read error, or a reader that ends before length bytes, ends the
// request with RESULT_CONNECTION_ERROR and a *httpclient.RequestBodyError
// cause. A redirect that keeps the body (§2.8.1.7) rewinds a body that is
// an io.Seeker to where it was at this call and sends it again; any other
// body ends such a redirect with RESULT_REQUEST_FAILED and
// ErrBodyNotReplayable. UploadedBytes and OnUploadProgress report progress.
func (n *HTTPRequest) RequestStream(url string, headers []string, method httpclient.Method, body io.Reader, length int64) error {
	up, err := newUpload(headers, body, length)
	if err != nil {
		return err
	}
	return n.requestRaw(url, headers, method, nil, up)
}

// DoStream is Do with a body read from body: see RequestStream.
func (n *HTTPRequest) DoStream(ctx context.Context, url string, headers []string, method httpclient.Method, body io.Reader, length int64) (Completion, error) {
	up, err := newUpload(headers, body, length)
	if err != nil {
		return Completion{}, err
	}
	return n.do(ctx, url, headers, method, nil, up)
}

// UploadedBytes returns how many bytes of the request body the current (or
// last) request has written to the connection: the body's data, without
// chunked framing. It starts at 0 with each request and each redirect hop
// and keeps its value after the completion. Safe from any goroutine, also
// while a use_threads worker or Do is blocked sending the body. Godot has no
// such getter (§7.2 opt-in).
func (n *HTTPRequest) UploadedBytes() int64 {
	if !n.uploading.Load() {
		return 0
	}
	return n.client.BytesSent()
}

// UploadSize returns the size of the current (or last) request's body: the
// byte length of Request's or RequestRaw's body, RequestStream's length, −1
// for a chunked one; 0 after a redirect hop that drops the body (an RFC
// 9110 303, or a POST turned into a GET). Safe from any goroutine.
func (n *HTTPRequest) UploadSize() int64 { return n.uploadSize.Load() }

// OnUploadProgress sets a callback told how far the request body has come:
// sent is UploadedBytes and total UploadSize (−1 when chunked). It is
// called on the caller's goroutine like OnProgress — after a step that moved
// it, by Process and Do; a blocking driver (use_threads, Do) sends the whole
// body in one step, so read UploadedBytes from another goroutine to follow
// a large upload live.
func (n *HTTPRequest) OnUploadProgress(f func(sent, total int64)) { n.onUpload = f }

// reportUpload calls the upload progress callback when the count moved.
func (n *HTTPRequest) reportUpload() {
	if n.onUpload == nil {
		return
	}
	if s := n.UploadedBytes(); s != n.reportedUpload {
		n.reportedUpload = s
		n.onUpload(s, n.uploadSize.Load())
	}
}

// closeUpload closes a body the node opened itself (RequestMultipart).
func (r *run) closeUpload() {
	if r.upload != nil && r.upload.owned != nil {
		_ = r.upload.owned.Close()
		r.upload.owned = nil
	}
}

// dropUpload forgets the streamed body (a redirect that drops the body).
func (r *run) dropUpload() {
	r.closeUpload()
	r.upload = nil
}

// sendRequest is the CONNECTED step's request (§2.6): request_raw with the
// stored body, or the streamed one.
func (r *run) sendRequest(c *httpclient.Client) error {
	r.syncHTTPProxy(c)
	r.n.uploading.Store(true)
	if r.upload == nil {
		return c.RequestRaw(r.method, r.cur.Path, r.hopHeaders(), r.reqBody)
	}
	r.upload.used = r.upload.length != 0 // a length of 0 sends no body and never reads it (U1)
	return c.RequestStream(r.method, r.cur.Path, r.hopHeaders(), &cancelableBody{r: r.upload.r, state: &r.state}, r.upload.length)
}

// syncHTTPProxy gives the client an HTTP proxy set or removed since this
// hop connected: Godot's node hands set_http_proxy to its client at once,
// and the client reads it as it writes the request line (§1.7.7), so the
// change picks this request's target form, absolute or origin, whatever
// connection it goes on. The next connection applies every proxy setting
// (applyProxies: proxyDirty stays set). A proxy chosen by the
// ProxyFromEnvironment or SetProxyFunc opt-in stays the hop's.
func (r *run) syncHTTPProxy(c *httpclient.Client) {
	if r.opts.proxyFunc != nil {
		return
	}
	n := r.n
	n.mu.Lock()
	p, dirty := n.httpProxy, n.proxyDirty
	n.mu.Unlock()
	if dirty {
		c.SetHTTPProxy(p.host, p.port)
	}
}

// errCanceledInRead ends a request body whose reader (or a callback during
// the step) canceled the request: nothing more of it is read or sent, in
// every driver (§2.12: nothing of a canceled request happens after the
// cancel).
var errCanceledInRead = errors.New("httprequest: the request was canceled while its body was sent")

// cancelableBody is the streamed body as the client reads it: a read
// after the run was canceled — by the reader itself, or by a callback of
// the same step (the Process driver goes on with its step until it
// returns) — ends the body instead.
type cancelableBody struct {
	r     io.Reader
	state *atomic.Int32
}

func (b *cancelableBody) Read(p []byte) (int, error) {
	if phase(b.state.Load()) == phaseCanceled {
		return 0, errCanceledInRead
	}
	n, err := b.r.Read(p)
	if phase(b.state.Load()) == phaseCanceled {
		return 0, errCanceledInRead // the reader canceled: its bytes are not sent
	}
	return n, err
}

// rewindUpload makes a streamed body ready to be sent again (a redirect
// that keeps it, the connection-reuse retry): nothing to do when it was not
// read; rewound when it is an io.Seeker; else ErrBodyNotReplayable.
func (r *run) rewindUpload() error {
	u := r.upload
	if u == nil || !u.used {
		return nil
	}
	if u.seeker == nil {
		return ErrBodyNotReplayable
	}
	if _, err := u.seeker.Seek(u.start, io.SeekStart); err != nil {
		return fmt.Errorf("%w: %w", ErrBodyNotReplayable, err)
	}
	u.used = false
	return nil
}
