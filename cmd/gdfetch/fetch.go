package main

import (
	"context"
	"errors"
	"runtime"
	"time"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/wire"
)

// frame is the pause between two Process calls when the last one moved
// nothing: one "frame" of a game running at 1000 fps.
const frame = time.Millisecond

// spinFrames is how many idle frames follow a frame that moved bytes before
// the loop starts sleeping: a transfer in full flow is not slowed by sleeps
// between two reads.
const spinFrames = 16

// traceStep is one entry of the status trace: the node's client status
// (get_http_client_status) and when it was first seen.
type traceStep struct {
	Status httpclient.Status
	At     time.Duration
}

// exchange is how one request ended: request_completed's four values, the
// cause behind a failure (LastError), the status trace and the frame count.
type exchange struct {
	httprequest.Completion
	Cause   error
	Trace   []traceStep
	Frames  int
	Elapsed time.Duration
	Decoded int64 // body bytes after decompression, as OnProgress last told

	// Complete is -C -'s "already complete": DoResumable took the server's
	// 416 as the whole file being there, a success whatever -f says.
	Complete bool

	// Request is -C - -v's request bytes: the last request DoResumable
	// sent, printed after the transfer (the others are printed before it).
	Request []byte
}

// drive starts a request on n and runs it one Process call per frame, as
// Godot's main loop does, until request_completed. It records the client
// status after every frame. progress, when not nil, is called with the body's
// wire and decoded byte counts (the node's OnProgress). The error is
// Request's (ErrInvalidParameter: a bad URL, ErrBusy) or ctx's; the request
// is canceled when ctx ends: the error is then ctx's, with the exchange as
// far as it went (its trace and frames, no completion).
func drive(ctx context.Context, n *httprequest.HTTPRequest, url string, headers []string,
	method httpclient.Method, body []byte, progress func(wire, decoded int64)) (*exchange, error) {
	return driveStart(ctx, n, func() error { return n.RequestRaw(url, headers, method, body) }, progress, nil)
}

// driveStart is drive with any way of starting the request (RequestRaw,
// or an upload's RequestStream / RequestMultipart); upload, when not nil,
// is told the request body's progress (the node's OnUploadProgress). Bytes
// sent count as work flowing, like bytes received.
func driveStart(ctx context.Context, n *httprequest.HTTPRequest, startReq func() error,
	progress func(wire, decoded int64), upload func(sent, total int64)) (*exchange, error) {
	ex := &exchange{}
	var done *httprequest.Completion
	n.OnRequestCompleted(func(r httprequest.Result, code int, h []string, b []byte) {
		done = &httprequest.Completion{Result: r, ResponseCode: code, Headers: h, Body: b}
	})
	moved := false
	n.OnProgress(func(w, d int64) {
		moved, ex.Decoded = true, d
		if progress != nil {
			progress(w, d)
		}
	})
	defer n.OnProgress(nil)
	n.OnUploadProgress(func(sent, total int64) {
		moved = true
		if upload != nil {
			upload(sent, total)
		}
	})
	defer n.OnUploadProgress(nil)

	start := time.Now()
	seen := func() {
		s := n.HTTPClientStatus()
		if len(ex.Trace) == 0 || ex.Trace[len(ex.Trace)-1].Status != s {
			ex.Trace = append(ex.Trace, traceStep{s, time.Since(start)})
		}
	}
	// Request returns ERR_CANT_CONNECT together with a RESULT_CANT_CONNECT
	// completion (§2.4.8): keep going to deliver it.
	if err := startReq(); err != nil && !errors.Is(err, godot.ErrCantConnect) {
		return nil, err
	}
	seen()
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	idle := 0
	for done == nil {
		if ctx.Err() != nil {
			n.CancelRequest()
			ex.Elapsed = time.Since(start)
			return ex, ctx.Err() // what the try had: --connect-timeout reports it (connecttimeout.go)
		}
		before := n.HTTPClientStatus()
		moved = false
		n.Process()
		ex.Frames++
		seen()
		if done != nil || moved || n.HTTPClientStatus() != before {
			idle = 0
			continue // work is flowing: the next frame at once
		}
		idle++
		if idle <= spinFrames {
			runtime.Gosched() // data is probably on its way: look again soon
			continue
		}
		t.Reset(frame)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	ex.Completion, ex.Cause, ex.Elapsed = *done, n.LastError(), time.Since(start)
	return ex, nil
}

// withAcceptEncoding appends the header the node adds when accept_gzip is
// on and the user gave none (§2.4.6; with brotli, §7.2), as the node sends it.
func withAcceptEncoding(n *httprequest.HTTPRequest, hdrs []string) []string {
	if !n.IsAcceptingGzip() || wire.HasHeader(hdrs, "accept-encoding") {
		return hdrs
	}
	if n.AcceptBrotli() {
		return append(hdrs, "Accept-Encoding: gzip, deflate, br")
	}
	return append(hdrs, "Accept-Encoding: gzip, deflate")
}

// requestBytes rebuilds the first request the node sends for url, with
// the same inputs and the same serializer (wire.AppendRequest) its client
// uses: the caller's headers plus the automatic Accept-Encoding (§2.4.6),
// Host and User-Agent. A test pins it against the bytes a server received.
func requestBytes(n *httprequest.HTTPRequest, url string, headers []string, method httpclient.Method, body []byte, proxy bool) []byte {
	u, err := wire.ParseRequestURL(url)
	if err != nil {
		return nil
	}
	hdrs := append([]string(nil), headers...)
	hdrs = withAcceptEncoding(n, hdrs)
	return wire.AppendRequest(nil, &wire.Request{
		Method: method, URL: u.Path, Headers: hdrs, Body: body,
		Host: u.Host, Port: u.Port, TLS: u.TLS, HTTPProxy: proxy && !u.TLS,
	})
}
