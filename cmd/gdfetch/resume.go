package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/wire"
)

// -C - / --continue-at -: curl's resume flag, through
// httprequest.HTTPRequest.DoResumable. The request asks for the rest of the
// -o file with "Range: bytes=<size>-" and "If-Range" (the ETag, else the
// Last-Modified, that the previous run kept in FILE.gdhttp-resume); a 206
// that continues the file is appended, a 200 replaces it, a 416 for a
// complete file is success; a transfer that breaks leaves the partial file
// and its state for the next run. Only "-" is accepted (curl's numeric
// offset would bypass the checks), only for a GET into -o. The request runs
// through Do (blocking I/O): no per-frame status trace, and --threads has no
// effect. -m (the node's timeout) bounds the whole DoResumable call, every
// request to a server that caps ranges included (exit 28), and
// --max-filesize (body_size_limit) the file it produces (exit 63): both
// keep FILE and its state for the next run.

// exitRange is curl's CURLE_RANGE_ERROR (33): the server's 206 does not
// continue the file.
const exitRange = 33

// resumeFlag checks -C's value against the rest of the command line.
func resumeFlag(v string, c *config) (bool, error) {
	switch {
	case v == "":
		return false, nil
	case v != "-":
		return false, usagef("-C %s: only \"-C -\" (resume from the size of the -o file) is supported", v)
	case c.output == "":
		return false, usagef("-C - needs -o FILE (or -O): the file to resume")
	case c.method != httpclient.MethodGet || c.hasBody:
		return false, usagef("-C - resumes a GET download (no -X, -d, -F, -T, -I)")
	}
	for _, h := range c.headers {
		switch name := wire.FieldName(h); strings.ToLower(name) {
		case "range", "if-range": // DoResumable refuses them (ErrInvalidParameter)
			return false, usagef("-C - sends Range and If-Range itself: drop -H %q", name+": …")
		}
	}
	return true, nil
}

// driveResumable runs the request with DoResumable. The string is the line
// that tells how the file was resumed, for stderr. With -v the exchange
// keeps the request bytes of the last request (Range and If-Range
// included), for runFetch to print once the bar is gone.
func driveResumable(ctx context.Context, n *httprequest.HTTPRequest, cfg *config, progress func(wire, decoded int64)) (*exchange, string, error) {
	ex := &exchange{}
	n.OnProgress(func(w, d int64) {
		ex.Decoded = d
		if progress != nil {
			progress(w, d)
		}
	})
	defer n.OnProgress(nil)
	start := time.Now()
	r, err := n.DoResumable(ctx, cfg.url, cfg.headers)
	ex.Elapsed = time.Since(start)
	var re *httprequest.ResultError
	switch {
	case ctx.Err() != nil:
		return nil, "", ctx.Err()
	case errors.As(err, &re):
		ex.Cause = re.Cause
	case err != nil:
		return nil, "", err // a refused request (ErrInvalidParameter, ErrBusy)
	}
	ex.Completion = r.Completion
	ex.Complete = r.Result == httprequest.ResultSuccess && r.Outcome == httprequest.ResumeAlreadyComplete
	if cfg.verbose {
		// The last request as the node sent it: its headers (Range and
		// If-Range included), the jar's Cookie line and the proxy's form,
		// decided as for any other request (verboseRequest).
		sent := *cfg
		sent.headers, sent.body, sent.hasBody, sent.sent = r.Sent, nil, false, true
		ex.Request = verboseRequest(n, &sent)
	}
	return ex, resumeLine(r), nil
}

// resumeLine tells how the file was written: appended from the offset the
// call's first Range asked for (From: a server that caps ranges is asked
// for the rest in more requests, each from a later offset), rewritten from
// the first byte (no usable partial file, or a 200 to the Range), or
// already complete. Empty after a failure.
func resumeLine(r httprequest.Resumed) string {
	switch {
	case r.Result != httprequest.ResultSuccess:
		return ""
	case r.Outcome == httprequest.ResumeAppended:
		return fmt.Sprintf("* resume: appended from byte %d\n", r.From)
	case r.Outcome == httprequest.ResumeAlreadyComplete:
		return fmt.Sprintf("* resume: already complete (%d bytes)\n", r.Offset)
	case r.From > 0 || r.Offset > 0:
		return fmt.Sprintf("* resume: the server sent the whole file (code %d): rewritten from byte 0\n", r.ResponseCode)
	}
	return "* resume: downloaded from byte 0\n"
}

// resumeExit refines the exit status of a resumed download: a 206 that does
// not continue the file is curl's range error (33), and so is a response
// DoResumable does not write (a 201, 204, 404, 500…: FILE is left as it
// was), as curl's "cannot resume"; with --fail, one of 400 or more is
// --fail's 22.
func resumeExit(code int, cause error, fail bool, responseCode int) int {
	switch {
	case errors.Is(cause, httprequest.ErrResumeMismatch):
		return exitRange
	case errors.Is(cause, httprequest.ErrResumeStatus) && fail && responseCode >= 400:
		return exitHTTPError
	case errors.Is(cause, httprequest.ErrResumeStatus):
		return exitRange
	}
	return code
}
