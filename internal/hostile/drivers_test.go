package hostile

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/drive"
)

// got is what one driver observed.
type got struct {
	refused error // Request/Do returned this and no completion came (§7 D6)
	result  int
	code    int
	headers []string
	body    []byte
	count   int // completions delivered

	counters *[2]int64 // node: BodySize, DownloadedBytes after the completion
}

const (
	resultRefused = -1 // the request was refused synchronously (ErrInvalidParameter), no completion
	maxWait       = 10 * time.Second
	frame         = 200 * time.Microsecond
)

func init() {
	resultNames["REFUSED"] = resultRefused
}

var methods = map[string]httpclient.Method{
	"GET": httpclient.MethodGet, "HEAD": httpclient.MethodHead, "POST": httpclient.MethodPost,
	"PUT": httpclient.MethodPut, "DELETE": httpclient.MethodDelete, "OPTIONS": httpclient.MethodOptions,
	"TRACE": httpclient.MethodTrace, "CONNECT": httpclient.MethodConnect, "PATCH": httpclient.MethodPatch,
}

func method(s string) httpclient.Method {
	if m, ok := methods[s]; ok {
		return m
	}
	n, _ := strconv.Atoi(s) // out-of-range numbers test §1.7.1
	return httpclient.Method(n)
}

// request is the request of one run, with every reference resolved.
type request struct {
	url     string
	headers []string
	body    []byte
	method  httpclient.Method
	dir     string // download directory, when the scenario downloads
	file    string
	inPlace bool // the in-place download_file of -hostile.extra=inplace
}

func (e *env) request(t *testing.T) request {
	t.Helper()
	r := request{method: method(e.sc.method)}
	u := e.sc.url
	if u == "" {
		u = "http://{main}/"
	}
	r.url = substitute(u, e.refs)
	if strings.HasPrefix(u, `"`) {
		b, err := evalExpr(u, e.refs)
		require.NoError(t, err)
		r.url = string(b)
	}
	for _, h := range e.sc.reqHdr {
		if strings.HasPrefix(h, `"`) {
			b, err := evalExpr(h, e.refs)
			require.NoError(t, err)
			h = string(b)
		} else {
			h = substitute(h, e.refs)
		}
		r.headers = append(r.headers, h)
	}
	if e.sc.reqBody != "" {
		b, err := evalExpr(e.sc.reqBody, e.refs)
		require.NoError(t, err)
		r.body = b
	}
	return r
}

// configureNode applies the scenario's options to a node.
func (e *env) configureNode(t *testing.T, n *httprequest.HTTPRequest, strict bool, r *request) {
	t.Helper()
	sc := e.sc
	for k, v := range sc.opts {
		var err error
		switch k {
		case "max_redirects":
			n2, _ := strconv.Atoi(v)
			err = n.SetMaxRedirects(n2)
		case "body_size_limit":
			n2, _ := parseSize(v)
			err = n.SetBodySizeLimit(n2)
		case "timeout":
			d, _ := time.ParseDuration(v)
			err = n.SetTimeout(d)
		case "accept_gzip":
			n.SetAcceptGzip(v == "true")
		case "brotli":
			err = n.SetAcceptBrotli(v == "true")
		case "chunk":
			n2, _ := strconv.Atoi(v)
			err = n.SetDownloadChunkSize(n2)
		case "download":
			err = n.SetDownloadFile(filepath.Join(r.dir, v))
		case "old", "predir", "fsize", "tls":
		default:
			t.Fatalf("unknown option %q", k)
		}
		require.NoError(t, err, "option %s=%s", k, v)
	}
	if strict {
		require.NoError(t, n.SetStrict(true))
	}
	if o := e.tlsOptions(t); o != nil {
		require.NoError(t, n.SetTLSOptions(o))
	}
	if sc.proxy[0] != "" {
		host, port := e.addr(sc.proxy[1])
		if sc.proxy[0] == "http" {
			n.SetHTTPProxy(host, port)
		} else {
			n.SetHTTPSProxy(host, port)
		}
	}
}

// tlsOptions: the generated CA by default (when the scenario has a TLS
// server), or opt tls=unsafe / unsafe-ca / cn:NAME / system.
func (e *env) tlsOptions(t *testing.T) *httpclient.TLSOptions {
	v, set := e.sc.opts["tls"]
	if !set && !e.hasTLS() {
		return nil
	}
	p := getPKI(t)
	switch {
	case v == "unsafe":
		return httpclient.TLSClientUnsafe(nil)
	case v == "unsafe-ca":
		return httpclient.TLSClientUnsafe(p.pool)
	case strings.HasPrefix(v, "cn:"):
		return httpclient.TLSClient(p.pool, strings.TrimPrefix(v, "cn:"))
	case v == "system":
		return httpclient.TLSClient(nil, "")
	}
	return httpclient.TLSClient(p.pool, "")
}

func (e *env) hasTLS() bool {
	for _, k := range e.sc.servers {
		if strings.Contains(k, "tls=") {
			return true
		}
	}
	return strings.HasPrefix(e.sc.url, "https")
}

// ---- node drivers (§7.3) ----

func runNode(t *testing.T, e *env, driver string, strict bool, r request) got {
	t.Helper()
	n := httprequest.New()
	defer n.Close()
	e.configureNode(t, n, strict, &r)
	switch driver {
	case "writer", "threadswriter", "dl", "drain", "keepalive", "inplace":
		return runNodeExtra(t, e, n, driver, r)
	}
	if driver == "do" {
		ctx, cancel := context.WithTimeout(context.Background(), maxWait)
		defer cancel()
		c, err := n.Do(ctx, r.url, r.headers, r.method, r.body)
		if err != nil && !errors.As(err, new(*httprequest.ResultError)) {
			require.NotErrorIs(t, err, context.DeadlineExceeded, "Do did not finish within %v", maxWait)
			return got{refused: err}
		}
		return got{result: int(c.Result), code: c.ResponseCode, headers: c.Headers, body: c.Body, count: 1,
			counters: &[2]int64{n.BodySize(), n.DownloadedBytes()}}
	}
	if driver == "threads" {
		require.NoError(t, n.SetUseThreads(true))
	}
	o := nodes.Callback(t, n, func() error { return n.RequestRaw(r.url, r.headers, r.method, r.body) })
	if o.ReqErr != nil && !errors.Is(o.ReqErr, godot.ErrCantConnect) {
		require.Zero(t, o.Callbacks, "a refused request has no completion (§7 D6)")
		return got{refused: o.ReqErr}
	}
	return got{result: int(o.C.Result), code: o.C.ResponseCode, headers: o.C.Headers, body: o.C.Body, count: o.Callbacks,
		counters: &[2]int64{n.BodySize(), n.DownloadedBytes()}}
}

// nodes runs the Process-driven requests (process, threads).
var nodes = drive.Nodes[httprequest.Result, httprequest.Completion]{
	Complete: func(r httprequest.Result, code int, headers []string, body []byte) httprequest.Completion {
		return httprequest.Completion{Result: r, ResponseCode: code, Headers: headers, Body: body}
	},
	Frame: frame,
	Wait:  maxWait,
}

// ---- raw client drivers ----

// runClient drives httpclient the way a Godot script would and maps what it
// saw onto the node's result numbers (§2.6), so both compare to one
// expectation: CANT_CONNECT → 2, TLS failure → 5, CONNECTION_ERROR → 4, no
// header lines → 6, a body cut short → 2 (fixed length) or 1 (chunked), a
// chunked body whose size differs from its Content-Length → 1, else 0.
func runClient(t *testing.T, e *env, blocking, strict bool, r request) got {
	t.Helper()
	u, err := url.Parse(r.url)
	require.NoError(t, err)
	c := httpclient.New()
	defer c.Close()
	c.SetBlockingMode(blocking)
	// A blocking read has no deadline of its own: Abort unblocks it.
	var aborted atomic.Bool
	guard := time.AfterFunc(maxWait, func() { aborted.Store(true); c.Abort() })
	defer func() {
		guard.Stop()
		require.False(t, aborted.Load(), "blocking client still busy after %v (aborted)", maxWait)
	}()
	c.SetStrict(strict)
	host, portS, _ := net.SplitHostPort(u.Host)
	if host == "" {
		host = u.Host
	}
	port, _ := strconv.Atoi(portS)
	if portS == "" {
		port = -1
	}
	var tlsOpts *httpclient.TLSOptions
	if u.Scheme == "https" {
		tlsOpts = e.tlsOptions(t)
	}
	if err := c.ConnectToHost(host, port, tlsOpts); err != nil {
		return got{result: 2, count: 1}
	}
	polls := drive.Poller[httpclient.Status]{Blocking: blocking, Gap: frame, Wait: maxWait}
	_ = polls.While(t, c, httpclient.StatusResolving, httpclient.StatusConnecting)
	if g, done := clientEnd(c.Status()); done {
		return g
	}
	path := u.RequestURI()
	if err := c.RequestRaw(r.method, path, r.headers, r.body); err != nil {
		return got{refused: err}
	}
	_ = polls.While(t, c, httpclient.StatusRequesting)
	if g, done := clientEnd(c.Status()); done {
		return g
	}
	if !c.HasResponse() {
		return got{result: 6, count: 1}
	}
	code, headers, length, chunked := c.ResponseCode(), c.ResponseHeaders(), c.ResponseBodyLength(), c.IsResponseChunked()
	var body []byte
	if c.Status() == httpclient.StatusBody && length == 0 && (!chunked || r.method == httpclient.MethodHead) {
		// The node's order (§2.6.1.1): an empty body is a success before
		// any poll, which would see a FIN that followed it (§1.6.3); a
		// HEAD's chunked answer is one (COMPAT R3).
		return got{result: 0, code: code, headers: headers, count: 1}
	}
	polls.Body(t, c, httpclient.StatusBody, func() bool {
		p := c.ReadResponseBodyChunk()
		body = append(body, p...)
		return len(p) > 0
	})
	if g, done := clientEnd(c.Status()); done {
		return g
	}
	switch {
	case !c.BodyComplete() && chunked:
		return got{result: 1, code: code, headers: headers, count: 1}
	case !c.BodyComplete():
		return got{result: 2, count: 1}
	case chunked && length >= 0 && int64(len(body)) != length:
		return got{result: 1, code: code, headers: headers, count: 1}
	}
	return got{result: 0, code: code, headers: headers, body: body, count: 1}
}

func clientEnd(s httpclient.Status) (got, bool) {
	switch s {
	case httpclient.StatusCantConnect, httpclient.StatusDisconnected:
		return got{result: 2, count: 1}, s == httpclient.StatusCantConnect
	case httpclient.StatusCantResolve:
		return got{result: 3, count: 1}, true
	case httpclient.StatusConnectionError:
		return got{result: 4, count: 1}, true
	case httpclient.StatusTLSHandshakeError:
		return got{result: 5, count: 1}, true
	}
	return got{}, false
}

// clientEligible: the raw client plays scenarios of one plain or TLS
// connection whose outcome does not depend on the node's own features
// (redirects, decompression, limits, timeouts, files, proxies).
func clientEligible(sc *scenario) bool { return clientExclusion(sc) == "" }

// Why a scenario does not reach a driver. Every exclusion the harness makes
// is one of these (TestDriverCoverage tallies them): a scenario left out of
// a driver for a reason not in this list is a harness defect.
const (
	whyPending     = "pending: (the scenario's own reason)"
	whyDrivers     = "drivers: (the scenario's own list)"
	whyClientSkip  = "client: skip (the scenario says why: an outcome the node derives, or a request the client refuses itself)"
	whyRefused     = "want: REFUSED (the node's URL checks; the client takes host and port)"
	whyServers     = "more than one server (redirects, proxies, a second origin)"
	whyProxy       = "proxy: (the node's proxy settings)"
	whyOption      = "opt: (a node option: limits, timeouts, files, decompression)"
	whyResult      = "want: a result only the node gives (resolve, limits, decompression, files, redirects, timeout)"
	whyRedirect    = "a 301 or 302 the node follows"
	whyPaths       = "more than one path on main (the node requests twice)"
	whyDecode      = "a gzip or deflate body the node decodes"
	whyReqHeaders  = "reqhdr: (http.Header orders lines by name and cannot hold one without a colon)"
	whyNotBlocking = "drivers: lists neither blocking nor do (the Transport's client blocks)"
	whyNotClient   = "not the raw client's (see its reason)"
)

// clientExclusion says why the raw client (blocking, poll) does not play
// sc, or "" when it does.
func clientExclusion(sc *scenario) string {
	switch {
	case sc.want.result == resultRefused:
		return whyRefused
	case sc.client == "skip":
		return whyClientSkip
	case len(sc.order) > 1:
		return whyServers
	case sc.proxy[0] != "":
		return whyProxy
	}
	for k := range sc.opts {
		if k != "tls" {
			return whyOption
		}
	}
	switch sc.want.result {
	case 0, 1, 2, 4, 5, 6:
	default:
		return whyResult
	}
	if len(sc.scripts["main"]) > 1 {
		return whyPaths
	}
	if sc.want.code == 301 || sc.want.code == 302 {
		return whyRedirect
	}
	for _, steps := range sc.scripts["main"] {
		if strings.Contains(steps, " 301 ") || strings.Contains(steps, " 302 ") {
			return whyRedirect // the node follows it, the client does not
		}
	}
	for _, h := range sc.want.headers {
		name, v, _ := strings.Cut(h, ":")
		if strings.EqualFold(strings.TrimSpace(name), "content-encoding") {
			v = strings.ToLower(strings.TrimSpace(v))
			if v == "gzip" || v == "deflate" {
				return whyDecode
			}
		}
	}
	return ""
}

// ---- download directory ----

func (e *env) prepareDownload(t *testing.T, r *request) {
	t.Helper()
	name, ok := e.sc.opts["download"]
	if !ok {
		return
	}
	r.dir = t.TempDir()
	r.file = filepath.Join(r.dir, name)
	if d, ok := e.sc.opts["predir"]; ok { // a path component that is a file, or the target a directory
		p := filepath.Join(r.dir, d)
		if strings.HasSuffix(d, "/") {
			require.NoError(t, os.MkdirAll(p, 0o755))
		} else {
			require.NoError(t, os.WriteFile(p, []byte("a file"), 0o644))
		}
	}
	if old, ok := e.sc.opts["old"]; ok {
		require.NoError(t, os.MkdirAll(filepath.Dir(r.file), 0o755))
		require.NoError(t, os.WriteFile(r.file, []byte(old), 0o644))
	}
}
