package httprequest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/wire"
)

// Resumable downloads (§7.2): DoResumable drives keep_partial_download and
// append_to_download_file (options_download.go) to resume download_file by
// itself, with the checks Godot's node leaves to the game.
//
// What it does, on the file F = download_file:
//  1. F's size S is the resume offset (0 when F is missing). The state file
//     F + ResumeSuffix (JSON, written by the previous call) holds the URL,
//     the validator — the strong ETag, else Last-Modified — and the complete
//     length the server announced.
//  2. When S > 0, the state is for the same URL, has a validator and does
//     not say F is longer than the whole: the request carries "Range:
//     bytes=S-" and "If-Range: <validator>". Otherwise it is a plain GET (a
//     partial file with no state is never trusted: it is downloaded again
//     from the first byte). "Accept-Encoding: identity" is added unless the
//     caller sent an Accept-Encoding, so that byte offsets are those of the
//     file itself.
//  3. When the final response's body is about to be written (after
//     redirects, before any byte reaches F):
//     - 206 Partial Content is appended only when it continues F exactly:
//     a single "Content-Range: bytes S-E/L" with E ≥ S, L (if given) > E
//     and the same as the state's length when it has one (with "/*", E
//     below the state's length), a Content-Length (if given) of E−S+1, no
//     Content-Encoding, and the state's representation by its validators
//     (sameRepresentation: an ETag both have is the same, else a
//     Last-Modified both have; a validator the state has no kind of, from
//     a server that may have ignored If-Range, is a mismatch; none at all
//     is taken). Anything else ends
//     with ErrResumeMismatch (as RESULT_DOWNLOAD_FILE_CANT_OPEN) and F
//     untouched. A body without a length (chunked, read until close) is
//     measured once read: when F does not end at E then, the appended
//     bytes are truncated away with the same error.
//     - 200 OK restarts cleanly: F is truncated and written from the first
//     byte (a server that ignored the Range, or a file that changed and
//     failed the If-Range) — two versions are never spliced.
//     - Any other status is not written to F (Godot would write an error page
//     over it, §2.9.2): ErrResumeStatus, F untouched.
//     The state file is written once F is open, with this response's
//     validators, so a request cut from here on can be resumed; a 200
//     removes the old one first, so that no state is left for a file that
//     could not be opened. A name F too long to take ResumeSuffix has no
//     state file: it is downloaded whole each time.
//  4. A 416 Range Not Satisfiable whose "Content-Range: bytes */L" says L = S
//     (and the state's length), with the state's representation by the
//     same test as a 206's, means F is already complete: RESULT_SUCCESS
//     with code 416. Another 416 (the file shrank, the state lied, the
//     resource changed) starts once more without a Range.
//  5. A 206 that ends before the resource's end ("bytes S-E/L" with
//     E+1 < L, or "/*" and the state's length: a server that caps ranges)
//     leaves F partial: DoResumable
//     asks for the rest, "Range: bytes=E+1-", and so on until F has L
//     bytes (every round appends at least one), a 200 starts it over, or a
//     request fails. Resumed is then the last request's (From is the
//     first's offset).
//  6. The node's limits bound the call, not each of its requests — a
//     server that caps every range at one byte of a length it chose would
//     otherwise keep it going without end:
//     - timeout (SetTimeout), when > 0, is one deadline for every round,
//     taken when the call starts: it ends the call with RESULT_TIMEOUT
//     (cause godot.ErrTimeout), mid-round or before a round would start,
//     as it ends one request with its redirects. ctx's deadline, when
//     earlier, ends it as in Do.
//     - body_size_limit (≥ 0) bounds F: a 206 appended to S bytes may add
//     limit − S (none when S ≥ limit); a 200, which writes F from its
//     first byte, the limit. Past it the call ends with
//     RESULT_BODY_SIZE_LIMIT_EXCEEDED (cause a *wire.LimitError of the
//     limit) and F and its state are left as for any failure (step 7): a
//     Content-Length over the rest is refused at the head, F untouched;
//     a body without one is appended up to its last read within the rest,
//     so F never holds more than limit bytes. A later call with a larger
//     limit, or none, resumes it.
//  7. Success removes the state file. A failure, a timeout or ctx's
//     cancellation leaves F (keep_partial_download: written in place) and
//     the state file, for the next call.
//
// The state file is the project's own format (not a Godot one); it is
// replaced atomically (written beside it, then renamed).

// ResumeSuffix is appended to download_file to name DoResumable's state file.
const ResumeSuffix = ".gdhttp-resume"

// ErrResumeMismatch is the cause when a 206 response does not continue the
// partial file (Content-Range start other than its size, no or several
// ranges, an encoded body, another validator): nothing was written.
var ErrResumeMismatch = errors.New("httprequest: the 206 response does not continue the partial file")

// ErrResumeStatus is the cause when the final response is neither 200, 206
// nor a 416 for a complete file: its body was not written to download_file.
var ErrResumeStatus = errors.New("httprequest: not a 200 or 206 response; download_file left untouched")

// ResumeOutcome says what DoResumable did with download_file.
type ResumeOutcome int

const (
	// ResumeFromStart: the body was written from the first byte (no partial
	// file or no usable state, or the server answered 200).
	ResumeFromStart ResumeOutcome = iota
	// ResumeAppended: a 206 continued the partial file.
	ResumeAppended
	// ResumeAlreadyComplete: a 416 said the partial file is the whole file.
	ResumeAlreadyComplete
)

// String returns "from start", "appended" or "already complete" (for a value
// outside the enum, "ResumeOutcome(n)").
func (o ResumeOutcome) String() string {
	switch o {
	case ResumeFromStart:
		return "from start"
	case ResumeAppended:
		return "appended"
	case ResumeAlreadyComplete:
		return "already complete"
	}
	return "ResumeOutcome(" + strconv.Itoa(int(o)) + ")"
}

// Resumed is DoResumable's result: the completion of the last request, what
// was done with the file, the offset the request asked for (the partial
// file's size; 0 without a Range), the offset the call's first request
// asked for (From: where the call took the file up; Offset when the call
// made one request), and the custom headers the last request carried (the
// caller's, then Accept-Encoding, Range and If-Range).
type Resumed struct {
	Completion
	Outcome ResumeOutcome
	Offset  int64
	From    int64
	Sent    []string
}

// bodyStartFunc checks the final response before download_file is opened; an
// error ends the request with RESULT_DOWNLOAD_FILE_CANT_OPEN and that cause.
// opened, if not nil, runs once download_file is open (the state file is
// written only then: one left by a download that could not open its file
// would vouch for a body the file does not hold); its error ends the
// request the same way, the download aborted.
type bodyStartFunc func(code int, headers []string) (opened func() error, err error)

// resumeState is the state file's content.
type resumeState struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	Length       int64  `json:"length"` // the complete length, −1 when unknown
}

func (s *resumeState) validator() string {
	if s.ETag != "" {
		return s.ETag
	}
	return s.LastModified
}

// DoResumable downloads url into download_file like Do, resuming a partial
// file a previous call left: F's size is the offset of a "Range: bytes=S-"
// request with an If-Range from a state file beside F (F + ResumeSuffix); a
// 206 is appended only when its Content-Range continues F, a 200 starts F
// over, any other status leaves F untouched, a 416 saying F is whole is
// success, and a 206 that ends before the resource's end is followed by a
// request for the rest, until F is whole (the comment at the top of
// resume.go has every rule). The node's timeout (SetTimeout) bounds the
// whole call, every request included: one deadline from the call's start,
// ending it with RESULT_TIMEOUT. body_size_limit (SetBodySizeLimit) bounds
// the file the call produces, not each request: a 206 may add only what is
// left of it after the bytes F holds, and passing it ends the call with
// RESULT_BODY_SIZE_LIMIT_EXCEEDED, F (never longer than the limit) and its
// state kept for a later call. headers are sent as given, before the Range
// headers; a Range or If-Range among them is refused with
// godot.ErrInvalidParameter, as is an empty download_file. The node's
// keep_partial_download and append_to_download_file are on during the call
// and restored afterwards. The response function (SetResponseFunc) is
// called for each request the call makes. OnProgress, DownloadedBytes and
// BodySize describe the request under way, not the file: a 206 counts from 0
// to its own Content-Length, and the file held the rest when it began (its
// size then: os.Stat in the response function) — add the two for a bar over
// the whole file.
// The error is Do's: nil for RESULT_SUCCESS (a 416 for a complete file
// included), else a *ResultError whose cause may be ErrResumeMismatch or
// ErrResumeStatus — or, as Do's, the error of a request that did not
// complete (refused, or ctx canceled) with a zero Resumed, whose Result
// reads RESULT_SUCCESS (Godot's 0): look at the error first.
func (n *HTTPRequest) DoResumable(ctx context.Context, url string, headers []string) (res Resumed, err error) {
	file := n.DownloadFile()
	if file == "" {
		return Resumed{}, godot.Wrap(godot.ErrInvalidParameter, "do_resumable", errors.New("download_file is empty"))
	}
	for _, h := range headers {
		switch strings.ToLower(wire.FieldName(h)) {
		case "range", "if-range":
			return Resumed{}, godot.Wrap(godot.ErrInvalidParameter, "do_resumable", errors.New("the caller's headers carry "+wire.FieldName(h)))
		}
	}
	if n.busy() {
		return Resumed{}, busyErr("do_resumable")
	}
	keep, app, hook := n.keepPartial.Load(), n.appendFile.Load(), n.opts.bodyStart
	defer func() {
		n.keepPartial.Store(keep)
		n.appendFile.Store(app)
		n.opts.bodyStart = hook
		n.opts.fileBase = 0
	}()
	n.keepPartial.Store(true)
	n.appendFile.Store(true)
	if d := n.Timeout(); d > 0 {
		// The timeout bounds the call, every round included, as it bounds
		// one request with its redirects: one deadline from now, which Do
		// meets as it meets a context's (§7.3: RESULT_TIMEOUT, at once for
		// a round that would start after it), with the node timeout's
		// cause. Each round's own timer runs from the round's start: never
		// before it.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d, godot.ErrTimeout)
		defer cancel()
	}
	defer func() {
		if res.Result == ResultTimeout && context.Cause(ctx) == godot.ErrTimeout {
			// The node's timeout, not the caller's deadline: the error of
			// a request that timed out (Do's would add "context deadline
			// exceeded").
			err = resultErr(ResultTimeout, godot.ErrTimeout)
		}
	}()

	res, next, err := n.resumeOnce(ctx, url, headers, file, true)
	from := res.Offset
	for next != resumeDone {
		// After a capped range, each round appended at least a byte of a
		// resource whose length is fixed (continuesFile): the file grows
		// to it, unless the timeout or body_size_limit ends the call
		// first. A request without a Range ends the call (a 200 or a
		// failure; it never asks for more).
		res, next, err = n.resumeOnce(ctx, url, headers, file, next == resumeRest)
	}
	res.From = from
	return res, err
}

// resumeNext says what DoResumable does after one request.
type resumeNext int

const (
	resumeDone         resumeNext = iota
	resumeWithoutRange            // a 416 that does not match the file: once more, no Range
	resumeRest                    // a 206 that ended before the resource's end: ask for the rest
)

// resumeOnce is one request of DoResumable, and what comes next.
func (n *HTTPRequest) resumeOnce(ctx context.Context, url string, headers []string, file string, tryRange bool) (res Resumed, next resumeNext, err error) {
	statePath := file + ResumeSuffix
	var size int64
	if fi, serr := os.Stat(file); serr == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	written := false // the hook ran: the body was (being) written
	st, _ := readResumeState(statePath)
	resume := tryRange && size > 0 && st != nil && st.URL == url && st.validator() != "" &&
		(st.Length < 0 || size <= st.Length)

	hdrs := append([]string(nil), headers...)
	if !wire.HasHeader(hdrs, "accept-encoding") {
		hdrs = append(hdrs, "Accept-Encoding: identity")
	}
	if resume {
		res.Offset = size
		hdrs = append(hdrs, "Range: bytes="+strconv.FormatInt(size, 10)+"-", "If-Range: "+st.validator())
	}
	res.Sent = hdrs
	limit := n.BodySizeLimit()
	n.opts.fileBase = 0
	if resume {
		n.opts.fileBase = size // a 206 may add only what is left of the limit (run.bodyLimit)
	}
	n.opts.bodyStart = func(code int, h []string) (func() error, error) {
		written = true
		switch code {
		case 206:
			if !resume {
				return nil, fmt.Errorf("%w: 206 to a request without a Range", ErrResumeMismatch)
			}
			if err := continuesFile(h, size, st); err != nil {
				return nil, err
			}
			res.Outcome = ResumeAppended
			next := stateFrom(url, h, rangeTotal(h, st))
			if next.validator() == "" {
				next.ETag, next.LastModified = st.ETag, st.LastModified // a 206 need not repeat them
			}
			return saveState(statePath, next), nil
		case 200:
			res.Outcome = ResumeFromStart
			// The file is about to hold another body: the old state goes
			// first, whether or not the file opens.
			if err := os.Remove(statePath); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENAMETOOLONG) {
				return nil, cantOpen(err)
			}
			next := stateFrom(url, h, contentLength(h))
			if next.validator() == "" || !isIdentity(h) {
				return nil, nil // nothing to resume this body with later
			}
			// Best effort: the file is open, truncated, when this runs;
			// failing now would leave it empty. Without a state the next
			// call starts over, which is safe (the old state is gone).
			save := saveState(statePath, next)
			return func() error { _ = save(); return nil }, nil
		}
		return nil, fmt.Errorf("%w (status %d)", ErrResumeStatus, code)
	}
	c, err := n.Do(ctx, url, hdrs, httpclient.MethodGet, nil)
	res.Completion = c
	if c.Result == ResultBodySizeLimitExceeded && c.ResponseCode == 206 && resume && limit >= 0 {
		// The limit that was passed is the file's: say so, not the rest
		// of it that the 206 was given.
		err = resultErr(ResultBodySizeLimitExceeded, fmt.Errorf("%w (download_file held %d bytes: a 206 may add %d)",
			&wire.LimitError{What: "download_file bytes", Limit: limit}, size, max(limit-size, 0)))
	}
	if c.Result == ResultSuccess && c.ResponseCode == 200 && !written {
		// An empty 200 (Content-Length: 0) opens no file (§2.9.2), but the
		// resource is empty: so is the file.
		res.Outcome = ResumeFromStart
		if werr := os.WriteFile(file, nil, 0o666); werr != nil {
			err = resultErr(ResultDownloadFileCantOpen, cantOpen(werr))
			res.Completion = Completion{Result: ResultDownloadFileCantOpen, ResponseCode: c.ResponseCode, Headers: c.Headers}
			return res, resumeDone, err
		}
	}
	if c.ResponseCode == 416 && (c.Result == ResultSuccess || errors.Is(err, ErrResumeStatus)) {
		// The file is whole when the 416's complete length is its size and
		// the length the state recorded: another length is another
		// representation, as for a 206 (continuesFile).
		if _, _, l, ok := parseContentRange(wire.FieldValue(c.Headers, "content-range")); ok && resume && l == size && (st.Length < 0 || l == st.Length) &&
			sameRepresentation(c.Headers, st) == nil {
			res.Outcome = ResumeAlreadyComplete
			res.Completion = Completion{Result: ResultSuccess, ResponseCode: c.ResponseCode, Headers: c.Headers}
			_ = os.Remove(statePath)
			return res, resumeDone, nil
		}
		if resume {
			return res, resumeWithoutRange, err
		}
	}
	if c.Result == ResultSuccess && c.ResponseCode == 206 && written {
		// A chunked or read-until-close body is checked against its range
		// only now: one of another size is taken back out of the file.
		if cerr := endsRange(file, size, c.Headers); cerr != nil {
			err = resultErr(ResultDownloadFileCantOpen, cerr)
			res.Completion = Completion{Result: ResultDownloadFileCantOpen, ResponseCode: c.ResponseCode, Headers: c.Headers}
			return res, resumeDone, err
		}
		if _, end, _, _ := parseContentRange(wire.FieldValue(c.Headers, "content-range")); end+1 < rangeTotal(c.Headers, st) {
			// A server that caps a range: the file is not whole yet, and
			// the state file (the 206's) is kept for the rest.
			return res, resumeRest, nil
		}
	}
	if c.Result == ResultSuccess && (c.ResponseCode == 200 || c.ResponseCode == 206 && written) {
		_ = os.Remove(statePath)
	} else if err == nil && c.Result == ResultSuccess {
		// A response without a body (never written): not a download.
		cause := fmt.Errorf("%w (status %d)", ErrResumeStatus, c.ResponseCode)
		if c.ResponseCode == 206 {
			cause = fmt.Errorf("%w: a 206 without a body", ErrResumeMismatch)
		}
		err = resultErr(ResultDownloadFileCantOpen, cause)
		res.Completion = Completion{Result: ResultDownloadFileCantOpen, ResponseCode: c.ResponseCode, Headers: c.Headers}
	}
	return res, resumeDone, err
}

// continuesFile checks that a 206 continues a file of size bytes (see step 3
// at the top).
func continuesFile(h []string, size int64, st *resumeState) error {
	cr := wire.FieldValue(h, "content-range")
	start, end, length, ok := parseContentRange(cr)
	switch {
	case !ok || start < 0:
		return fmt.Errorf("%w: Content-Range %q", ErrResumeMismatch, cr)
	case start != size:
		return fmt.Errorf("%w: Content-Range %q starts at %d, the file has %d bytes", ErrResumeMismatch, cr, start, size)
	case end < start || (length >= 0 && length <= end):
		return fmt.Errorf("%w: Content-Range %q", ErrResumeMismatch, cr)
	case length >= 0 && st.Length >= 0 && length != st.Length:
		// Another length is another representation (RFC 9110 §14.4),
		// whatever the validator says.
		return fmt.Errorf("%w: Content-Range %q, the file's resource has %d bytes", ErrResumeMismatch, cr, st.Length)
	case length < 0 && st.Length >= 0 && end >= st.Length:
		return fmt.Errorf("%w: Content-Range %q goes past the file's resource, %d bytes", ErrResumeMismatch, cr, st.Length)
	case contentLength(h) >= 0 && contentLength(h) != end-start+1:
		return fmt.Errorf("%w: Content-Length %d for Content-Range %q", ErrResumeMismatch, contentLength(h), cr)
	case !isIdentity(h):
		return fmt.Errorf("%w: Content-Encoding %q", ErrResumeMismatch, wire.FieldValue(h, "content-encoding"))
	}
	return sameRepresentation(h, st)
}

// rangeTotal is the complete length a 206 gives ("bytes S-E/L"), or, for
// one that does not know it ("bytes S-E/*"), the state's (−1 when unknown
// too): a capped range of a resource whose length the state knows asks for
// the rest, as when the 206 says it.
func rangeTotal(h []string, st *resumeState) int64 {
	if _, _, l, ok := parseContentRange(wire.FieldValue(h, "content-range")); ok && l >= 0 {
		return l
	}
	return st.Length
}

// sameRepresentation checks a 206's or a 416's validators against the
// state's: an ETag both have decides (the same strong one); else a
// Last-Modified both have. A response with validators the state has no
// kind of to compare (an ETag where the state kept only a Last-Modified,
// or the reverse) cannot show that it is the file's representation, and a
// server that sends it may have ignored the If-Range: it is a mismatch. A
// response with no validator is taken (If-Range was the server's check).
func sameRepresentation(h []string, st *resumeState) error {
	e, lm := wire.FieldValue(h, "etag"), wire.FieldValue(h, "last-modified")
	switch {
	case e != "" && st.ETag != "":
		if e != st.ETag {
			return fmt.Errorf("%w: ETag %s, the file is %s", ErrResumeMismatch, e, st.ETag)
		}
	case lm != "" && st.LastModified != "":
		if lm != st.LastModified {
			return fmt.Errorf("%w: Last-Modified %s, the file is %s", ErrResumeMismatch, lm, st.LastModified)
		}
	case e != "" || lm != "":
		return fmt.Errorf("%w: validators %q %q where the file's are %q %q: nothing to compare", ErrResumeMismatch, e, lm, st.ETag, st.LastModified)
	}
	return nil
}

// endsRange checks that a 206 appended to a file of size bytes left it
// ending where its Content-Range ends; when not, the appended bytes are
// truncated away (the file is as it was) and the cause is ErrResumeMismatch.
func endsRange(file string, size int64, h []string) error {
	_, end, _, _ := parseContentRange(wire.FieldValue(h, "content-range")) // continuesFile checked it
	fi, err := os.Stat(file)
	if err != nil {
		return cantOpen(err)
	}
	if fi.Size() == end+1 {
		return nil
	}
	got := fi.Size() - size
	if err := os.Truncate(file, size); err != nil {
		return cantOpen(err)
	}
	return fmt.Errorf("%w: a body of %d bytes for Content-Range %q", ErrResumeMismatch, got, wire.FieldValue(h, "content-range"))
}

// parseContentRange parses "bytes S-E/L", "bytes S-E/*" (length −1) and
// "bytes */L" (start and end −1). ok is false for anything else.
func parseContentRange(v string) (start, end, length int64, ok bool) {
	unit, rest, found := strings.Cut(strings.TrimSpace(v), " ")
	if !found || !strings.EqualFold(unit, "bytes") {
		return 0, 0, 0, false
	}
	rng, l, found := strings.Cut(strings.TrimSpace(rest), "/")
	if !found {
		return 0, 0, 0, false
	}
	length = -1
	if l != "*" {
		if length, ok = digits(l); !ok {
			return 0, 0, 0, false
		}
	}
	if rng == "*" {
		return -1, -1, length, length >= 0
	}
	s, e, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	if start, ok = digits(s); !ok {
		return 0, 0, 0, false
	}
	if end, ok = digits(e); !ok {
		return 0, 0, 0, false
	}
	return start, end, length, true
}

// digits parses a non-empty run of ASCII digits (no sign, no space).
func digits(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

// isIdentity reports whether the response carries no Content-Encoding other
// than identity.
func isIdentity(h []string) bool {
	e := wire.FieldValue(h, "content-encoding")
	return e == "" || strings.EqualFold(e, "identity")
}

// contentLength is the Content-Length of a response, −1 when absent or not
// plain digits (or with Transfer-Encoding).
func contentLength(h []string) int64 {
	if wire.FieldValue(h, "transfer-encoding") != "" {
		return -1
	}
	if v, ok := digits(wire.FieldValue(h, "content-length")); ok {
		return v
	}
	return -1
}

// stateFrom is the state of a response's body: its strong ETag (a weak one
// cannot be used in If-Range, RFC 9110 §13.1.5) and its Last-Modified.
func stateFrom(url string, h []string, length int64) *resumeState {
	st := &resumeState{URL: url, Length: length}
	if lm := wire.FieldValue(h, "last-modified"); sendable(lm) {
		st.LastModified = lm
	}
	if e := wire.FieldValue(h, "etag"); strings.HasPrefix(e, `"`) && sendable(e) {
		st.ETag = e
	}
	return st
}

// sendable reports whether a validator can go back in If-Range: a stored
// header keeps a CR inside it as Godot does (§1.8.2), and a request header
// with a CR, LF or NUL is refused (§7 D2). One that cannot is no
// validator, so the next call downloads the file again instead of failing.
func sendable(v string) bool { return !strings.ContainsAny(v, "\r\n\x00") }

func readResumeState(path string) (*resumeState, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st resumeState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// saveState returns the function that writes st once download_file is
// open (bodyStartFunc's opened). A path too long for a name has no state.
func saveState(path string, st *resumeState) func() error {
	return func() error {
		if err := writeResumeState(path, st); err != nil && !errors.Is(err, syscall.ENAMETOOLONG) {
			return err
		}
		return nil
	}
}

// writeResumeState replaces the state file atomically. Its errors wrap
// godot.ErrFileCantOpen (R10, as download_file's). The temporary file's
// name is short, so that the longest name that has a state file has one.
func writeResumeState(path string, st *resumeState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return cantOpen(err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".gdhttp-resume-*")
	if err != nil {
		return cantOpen(err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return cantOpen(err)
	}
	return nil
}
