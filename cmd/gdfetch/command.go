package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/pflag"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/wire"
)

// runFetch is "gdfetch [flags] URL": one request through an HTTPRequest
// node configured from the flags, its completion printed.
func runFetch(ctx context.Context, args []string, out, stderr io.Writer) int {
	stdout := &lastByteWriter{w: out}
	cfg, err := parseFetch(ctx, args)
	if err != nil && ctx.Err() != nil { // Ctrl-C while -d @- or -H @- read standard input
		fmt.Fprintln(stderr, "gdfetch: interrupted")
		return exitInterrupted
	}
	if errors.Is(err, pflag.ErrHelp) {
		io.WriteString(stdout, usage)
		return exitOK
	}
	if errors.Is(err, errVersion) {
		io.WriteString(stdout, versionText())
		return exitOK
	}
	if err != nil {
		code := exitUsage
		if ue := (*usageError)(nil); errors.As(err, &ue) {
			code = ue.exitCode()
		}
		// --help is pointed to for a mistake it explains: a flag (2) or a
		// URL (3, its Godot rules). Not for a file that cannot be read (26)
		// or a scheme (1): the message says what is wrong.
		if code == exitUsage || code == exitURL {
			fmt.Fprintf(stderr, "gdfetch: %v\n(gdfetch --help for the flags)\n", err)
		} else {
			fmt.Fprintf(stderr, "gdfetch: %v\n", err)
		}
		return code
	}
	defer cfg.headerName.cleanup() // -J's part file, when the transfer did not end well
	n := httprequest.New()
	defer n.Close()
	if cfg.output != "" && !cfg.resume && stdoutFile(cfg.output, out) {
		// -o /dev/stdout with stdout redirected to a file: the node would
		// rename its download over that file, and what gdfetch writes to
		// stdout after it would go to the old, unlinked one. As "-o -".
		cfg.output, cfg.outputStdout = "", true
	}
	if err := createDirs(cfg); err != nil {
		fmt.Fprintf(stderr, "gdfetch: %v\n", err)
		return exitWrite
	}
	if err := openDevice(ctx, cfg); err != nil {
		if ctx.Err() != nil { // Ctrl-C while a FIFO waited for its reader
			fmt.Fprintln(stderr, "gdfetch: interrupted")
			return exitInterrupted
		}
		fmt.Fprintf(stderr, "gdfetch: %v\n", err)
		return exitWrite
	}
	if cfg.device != nil {
		defer cfg.device.Close()
	}
	// A body that would stream to stdout, or to a -o device that is stdout
	// itself (/dev/stdout), is held (spool) with -i until the completion,
	// which gives the result line that goes first. The spool keeps memory
	// bounded whatever the body's size. (-f needs no holding: the node's
	// response function refuses a code of 400 or more at the head.)
	var held *spool
	var toStdout io.Writer = stdout // the body's bytes for stdout
	if isTerminal(out) && cfg.output == "" && !cfg.outputStdout && !cfg.json {
		toStdout = &binaryGuard{w: stdout} // as curl: no binary body on a terminal without -o -
	}
	bodyOut := toStdout
	heldFor := toStdout // where the held body goes
	if holdBody(cfg, out) {
		held = &spool{}
		defer held.Close()
		bodyOut = held
		if cfg.device != nil {
			heldFor = cfg.device
		}
	}
	if err := configure(n, cfg, bodyOut, held != nil); err != nil {
		fmt.Fprintf(stderr, "gdfetch: %v\n", err)
		return exitUsage
	}
	if jar, ok := n.CookieJar().(*fetchJar); ok && cfg.verbose {
		for _, s := range jar.skipped {
			fmt.Fprintf(stderr, "* -b %s\n", s)
		}
	}
	if cfg.verbose && !cfg.resume { // -C -: printed after the request (resume.go adds headers)
		writeRequest(stderr, verboseRequest(n, cfg)) // -F and -T too: their head, the jar's Cookie line, the proxy's form
	}
	rt := newRetrier(cfg.retry, time.Now)
	if cfg.upload != nil && (cfg.upload.form != nil || cfg.upload.file == "-") {
		rt.left = 0 // -F and -T -: the body is not sent again
	}
	if rt.left > 0 && !cfg.resume { // -C -: DoResumable writes no transient response
		if err := n.SetResponseFunc(retryResponse(rt, headResponse(cfg))); err != nil {
			fmt.Fprintf(stderr, "gdfetch: %v\n", err)
			return exitUsage
		}
	}
	var ex *exchange
	var resumed string
	for {
		bar := newProgress(stderr, n, showProgress(cfg, isTerminal(stderr), isTerminal(out)))
		ex, resumed, err = fetchOnce(ctx, n, cfg, bar)
		bar.finish()
		if err != nil || ctx.Err() != nil {
			break
		}
		wait, ok, warn := rt.next(rt.reason(ex, fetchExit(cfg, ex)), ex.Headers)
		if !cfg.silent {
			io.WriteString(stderr, warn)
		}
		if !ok {
			break
		}
		if retrySleep(ctx, wait); ctx.Err() != nil {
			break
		}
		rt.take()
		if held != nil {
			held.Close() // the try's held body (-i, -D -): dropped
		}
	}
	// On a terminal, end a body without a final newline, so that what
	// follows on stderr (a failure, an interruption, the summary) or the
	// prompt starts on a line of its own. Again below, after the body
	// runFetch writes itself.
	endLine := func() {
		if stdout.last != 0 && stdout.last != '\n' && isTerminal(out) {
			_, _ = io.WriteString(out, "\n")
			stdout.last = '\n'
		}
	}
	endLine()
	if cfg.verbose && cfg.resume && ex != nil { // after the bar, or it would share its line
		writeRequest(stderr, ex.Request)
	}
	if err == nil && ctx.Err() == nil && emptiesOutput(cfg, ex, n.DownloadedBytes()) {
		if ferr := emptyOutput(cfg.output); ferr != nil {
			fmt.Fprintf(stderr, "gdfetch: %v\n", ferr)
			return exitWrite
		}
	}
	if err == nil && ctx.Err() == nil && cfg.headerName != nil {
		if ferr := finishHeaderName(cfg, ex); ferr != nil {
			fmt.Fprintf(stderr, "gdfetch: -J: %v (exit %d)\n", ferr, exitWrite)
			return exitWrite
		}
	}
	if cfg.verbose && cfg.upload != nil {
		fmt.Fprintf(stderr, "* uploaded %d of %d bytes\n", n.UploadedBytes(), n.UploadSize())
	}
	if err == nil && cfg.net.saveTo != "-" { // -c -: after the output, below
		if serr := saveCookies(n, cfg, nil); serr != nil {
			fmt.Fprintf(stderr, "gdfetch: %v\n", serr)
		}
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "gdfetch: interrupted: request canceled")
		io.WriteString(stderr, discardedNote(cfg, n.DownloadedBytes(), exitInterrupted))
		return exitInterrupted
	case errors.Is(err, godot.ErrInvalidParameter):
		fmt.Fprintf(stderr, "gdfetch: bad URL %q: %v\n", withoutPassword(cfg.url), err)
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "gdfetch: %v\n", err)
		return exitFailed
	}
	code := fetchExit(cfg, ex)
	if cfg.resume && resumed != "" && !cfg.silent && !cfg.json {
		io.WriteString(stderr, resumed)
	}
	if cfg.verbose {
		writeTrace(stderr, ex)
	}
	if cfg.dumpHeader != "" && cfg.dumpHeader != "-" {
		if err := dumpHeaders(cfg.dumpHeader, ex); err != nil {
			fmt.Fprintf(stderr, "gdfetch: -D: %v\n", err)
			return exitWrite
		}
	}
	binaryRefused := false // the body written below met the binary guard
	if cfg.json {
		if err := writeJSON(stdout, cfg, ex, n.BodySize(), n.DownloadedBytes(), code); err != nil {
			fmt.Fprintf(stderr, "gdfetch: %v\n", err)
			return exitWrite
		}
	} else {
		if cfg.include || cfg.dumpHeader == "-" && ex.ResponseCode != 0 {
			if err := writeInclude(stdout, ex, cfg.include && cfg.dumpHeader == "-" && ex.ResponseCode != 0); err != nil {
				fmt.Fprintf(stderr, "gdfetch: writing the headers: %v\n", err)
				return exitWrite
			}
		}
		body := ex.Body
		if cfg.fail && ex.ResponseCode >= 400 {
			body = nil // -f: no error page on stdout (-i: the result line and headers only)
		}
		var werr error
		if len(body) > 0 {
			_, werr = toStdout.Write(body)
		}
		// The held body (-i): as the completion's body, only on success
		// (with -f, the gate let it through only for a code below 400).
		if werr == nil && held != nil && ex.Result == httprequest.ResultSuccess {
			_, werr = held.WriteTo(heldFor)
		}
		if werr != nil {
			writeError(stderr, werr, cfg.silent)
			if !errors.Is(werr, errBinaryOutput) {
				return exitWrite
			}
			code, binaryRefused = exitWrite, true // stdout works: the -c - cookie file still goes out below, as curl's
		}
	}
	endLine()
	if cfg.net.saveTo == "-" { // the cookie file last, as curl; a failure is reported as -c FILE's is
		if serr := saveCookies(n, cfg, stdout); serr != nil {
			fmt.Fprintf(stderr, "gdfetch: %v\n", serr)
		}
	}
	if cfg.writeOut != "" {
		d := writeOutData{url: withoutPassword(cfg.url), code: ex.ResponseCode, headers: ex.Headers,
			downloaded: n.DownloadedBytes(), elapsed: ex.Elapsed, exitCode: code,
			result: int(ex.Result), resultName: ex.Result.String()}
		if ex.Cause != nil {
			d.errMsg = ex.Cause.Error()
		}
		writeOut(stdout, stderr, cfg.writeOut, d)
	}
	switch {
	case errors.Is(ex.Cause, errBinaryOutput): // the streamed body: the node's RESULT_DOWNLOAD_FILE_WRITE_ERROR, 23
		writeError(stderr, errBinaryOutput, cfg.silent)
	case binaryRefused: // the body written here: warned above
	case code == exitHTTPError:
		flag := "--fail"
		if cfg.failWithBody {
			flag = "--fail-with-body"
		}
		fmt.Fprintf(stderr, "gdfetch: response code %d (%s, exit %d)\n", ex.ResponseCode, flag, code)
	case ex.Result != httprequest.ResultSuccess:
		io.WriteString(stderr, failure(ex, code))
		io.WriteString(stderr, failureHint(cfg, ex, code, n.DownloadedBytes()))
		if !cfg.json {
			io.WriteString(stderr, discardedNote(cfg, n.DownloadedBytes(), code))
		}
	case !cfg.silent && !cfg.json:
		io.WriteString(stderr, summary(cfg, ex, bodyBytes(n, ex)))
	}
	return code
}

// fetchOnce makes one try of the request, watched by --connect-timeout
// (connecttimeout.go): a try it ends is an exchange with RESULT_TIMEOUT.
func fetchOnce(ctx context.Context, n *httprequest.HTTPRequest, cfg *config, bar *progress) (*exchange, string, error) {
	if cfg.connectTimeout <= 0 {
		return fetchTry(ctx, n, cfg, bar)
	}
	tctx, stop := watchConnect(ctx, n, cfg.connectTimeout)
	ex, resumed, err := fetchTry(tctx, n, cfg, bar)
	stop()
	if err != nil && ctx.Err() == nil {
		if cut := connectTimedOut(tctx, ex); cut != nil {
			return cut, "", nil
		}
	}
	return ex, resumed, err
}

// fetchTry makes one try of the request: DoResumable with -C -, the
// upload with -F and -T, else the request and its body, frame by frame.
func fetchTry(ctx context.Context, n *httprequest.HTTPRequest, cfg *config, bar *progress) (*exchange, string, error) {
	switch {
	case cfg.resume:
		return driveResumable(ctx, n, cfg, bar.update)
	case cfg.upload != nil:
		release := func() {}
		ex, err := driveStart(ctx, n, func() error {
			var err error
			release, err = cfg.upload.start(ctx, n, cfg.url, cfg.headers, cfg.method, cfg.timeout)
			return err
		}, bar.update, bar.upload)
		release()
		return ex, "", err
	}
	ex, err := drive(ctx, n, cfg.url, cfg.headers, cfg.method, cfg.body, bar.update)
	return ex, "", err
}

// fetchExit is the exit status of a completed try: its result's, refined
// by -f, --fail-with-body, -T -'s --max-time and -C -.
func fetchExit(cfg *config, ex *exchange) int {
	code := proxyExit(resultExit(ex.Result, ex.Cause), ex.Cause, cfg)
	if errors.Is(ex.Cause, errHTTPFail) {
		code = exitHTTPError // -f refused the response at its head
	}
	if errors.Is(ex.Cause, errHeaderName) {
		code = exitWrite // -J refused the response at its head: curl's "Failed writing header"
	}
	if errors.Is(ex.Cause, errStdinMaxTime) {
		code = exitTimeout // -T -: stdin had nothing more when --max-time passed
	}
	if cfg.resume {
		code = resumeExit(code, ex.Cause, cfg.fail || cfg.failWithBody, ex.ResponseCode)
	}
	if code == exitOK && (cfg.fail || cfg.failWithBody) && ex.ResponseCode >= 400 && !ex.Complete { // -C -'s 416: complete, as curl
		code = exitHTTPError
	}
	return code
}

// discardedNote tells a curl user where the bytes of a broken -o download
// went: the node writes download_file to a temporary file it removes on
// failure, so FILE is left as it was, where curl leaves the partial file
// for "curl -C -" to resume. gdfetch's -C - keeps it; the note says so. It
// is "" when nothing was received, for a failure that resuming does not
// help, and with -C -, --in-place (Godot's in-place file stays) or a device.
func discardedNote(cfg *config, received int64, code int) string {
	if cfg.output == "" || cfg.device != nil || cfg.resume || cfg.inPlace || received <= 0 {
		return ""
	}
	switch code {
	case exitPartial, exitTimeout, exitConnection, exitInterrupted:
		left := "left as it was"
		if _, err := os.Lstat(cfg.output); err != nil {
			left = "not created"
		}
		return fmt.Sprintf("gdfetch: the %d bytes received were discarded, %s %s (-C - keeps a partial download and resumes it)\n", received, cfg.output, left)
	}
	return ""
}

// showProgress decides the progress bar, as curl does: on a terminal
// stderr, not with -s, and not when the body itself goes to a terminal
// stdout (they would interleave).
func showProgress(cfg *config, stderrTTY, stdoutTTY bool) bool {
	return !cfg.silent && stderrTTY && (cfg.output != "" || !stdoutTTY)
}

// errBinaryOutput stops a binary body on its way to a terminal; the user
// reads binaryWarning.
var errBinaryOutput = errors.New("gdfetch: binary body not written to a terminal")

// binaryWarning is curl 7.88's warning, with gdfetch's flags.
const binaryWarning = `Warning: Binary output can mess up your terminal. Use "-o -" to output it to your terminal anyway, or "-o FILE" to save to a file.`

// binaryLook is how far into the body binaryGuard looks for a NUL: curl
// 7.88 looks while fewer than 2000 bytes were written.
const binaryLook = 2000

// binaryGuard is stdout on a terminal without -o, for the body: as curl
// 7.88, a body with a NUL byte in its first binaryLook bytes is not written
// from the piece that holds it, and errBinaryOutput ends the transfer (exit
// 23); what came before it was written. A NUL further on is text's business.
type binaryGuard struct {
	w       io.Writer
	written int64
}

func (g *binaryGuard) Write(p []byte) (int, error) {
	if g.written < binaryLook && bytes.IndexByte(p[:min(int64(len(p)), binaryLook-g.written)], 0) >= 0 {
		return 0, errBinaryOutput
	}
	n, err := g.w.Write(p)
	g.written += int64(n)
	return n, err
}

// writeError prints a failure to write the body to stdout: curl's warning
// for a binary body to a terminal (not with -s, as curl's), else the error.
func writeError(stderr io.Writer, err error, silent bool) {
	if errors.Is(err, errBinaryOutput) {
		if !silent {
			fmt.Fprintln(stderr, binaryWarning)
		}
		return
	}
	fmt.Fprintf(stderr, "gdfetch: writing the body: %v\n", err)
}

// holdBody reports whether the body is held (spool) until the completion:
// with -i (or -D -) when it would stream to stdout — or to a -o device that is stdout
// itself (/dev/stdout), where it would come before the result line — but
// not to another device (/dev/null, a FIFO), which takes it as it comes.
func holdBody(cfg *config, out io.Writer) bool {
	if cfg.json || !cfg.include && cfg.dumpHeader != "-" {
		return false
	}
	return cfg.output == "" || cfg.device != nil && sameFile(cfg.device, out)
}

// errHTTPFail is -f's refusal of a response whose code is 400 or more.
var errHTTPFail = errors.New("gdfetch: --fail: response code of 400 or more")

// failResponse is the node's response function (SetResponseFunc) with -f:
// a code of 400 or more ends the request at its head, as curl -f does, so
// no byte of the error page is read or reaches stdout, a device or the -o
// file (the node opens download_file only after it), and what the error
// page does next (a cut, a stall) does not matter: exit 22. An error page
// whose Content-Length is over limit (--max-filesize) is left to the
// node's body_size_limit, which ends it at the head too: exit 63, as curl
// checks the size before the code.
func failResponse(limit int64) func(int, []string) error {
	return func(code int, h []string) error {
		if code < 400 {
			return nil
		}
		if cl, err := strconv.ParseInt(wire.FieldValue(h, "content-length"), 10, 64); err == nil && limit >= 0 && cl > limit {
			return nil
		}
		return errHTTPFail
	}
}

// headResponse is the node's response function for -J and -f, nil for
// neither: -J names the file first (curl reads the headers as they come,
// -f's check follows them), then -f refuses a code of 400 or more.
func headResponse(cfg *config) func(int, []string) error {
	var fail func(int, []string) error
	if cfg.fail {
		fail = failResponse(cfg.bodyLimit)
	}
	if cfg.headerName == nil {
		return fail
	}
	return func(code int, h []string) error {
		if err := cfg.headerName.decide(code, h); err != nil {
			return err
		}
		if fail != nil {
			return fail(code, h)
		}
		return nil
	}
}

// finishHeaderName ends -J's run: after a successful transfer the part
// file takes its name (headerName.finish); either way cfg.output becomes
// that name (or the URL's, when none was decided) for the summary, --json
// and the notes.
func finishHeaderName(cfg *config, ex *exchange) error {
	h := cfg.headerName
	var err error
	if ex.Result == httprequest.ResultSuccess {
		err = h.finish()
	}
	cfg.output = h.name
	if cfg.output == "" {
		cfg.output = h.urlName
	}
	return err
}

// stdoutFile reports whether path names the regular file out writes to.
func stdoutFile(path string, out io.Writer) bool {
	o, ok := out.(*os.File)
	if !ok {
		return false
	}
	a, err1 := os.Stat(path)
	b, err2 := o.Stat()
	return err1 == nil && err2 == nil && a.Mode().IsRegular() && os.SameFile(a, b)
}

// sameFile reports whether device and out are one open file.
func sameFile(device *os.File, out io.Writer) bool {
	o, ok := out.(*os.File)
	if !ok {
		return false
	}
	a, err1 := device.Stat()
	b, err2 := o.Stat()
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// lastByteWriter remembers the last byte written through it.
type lastByteWriter struct {
	w    io.Writer
	last byte
}

func (l *lastByteWriter) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	if n > 0 {
		l.last = p[n-1]
	}
	return n, err
}

// bodyBytes is the size of the delivered body: in memory, or streamed to
// stdout or download_file (the decoded bytes the progress callback counted).
func bodyBytes(n *httprequest.HTTPRequest, ex *exchange) int64 {
	if ex.Body != nil {
		return int64(len(ex.Body))
	}
	return ex.Decoded
}

// configure sets the node's properties and options from the flags. The body
// streams to stdout (SetBodyWriter; runFetch's spool when held) unless
// --json needs it whole first, or -o sends it to download_file or a device.
func configure(n *httprequest.HTTPRequest, cfg *config, stdout io.Writer, held bool) error {
	n.SetAcceptGzip(!cfg.noGzip)
	steps := []error{
		n.SetMaxRedirects(cfg.maxRedirects),
		n.SetBodySizeLimit(cfg.bodyLimit),
		n.SetTimeout(cfg.timeout),
		n.SetDownloadChunkSize(cfg.chunkSize),
		n.SetUseThreads(cfg.threads),
		n.SetDownloadFile(downloadPath(cfg)), // "" for a device (openDevice)
		n.SetStrict(cfg.strict),
		n.SetRFC9110Redirects(cfg.rfcRedirects),
		n.SetAcceptBrotli(cfg.brotli),
		n.SetKeepAlive(cfg.keepAlive),
		n.SetDrainPerStep(cfg.drain),
		n.SetDownloadInPlace(cfg.inPlace),
	}
	if cfg.tls != nil {
		steps = append(steps, n.SetTLSOptions(cfg.tls))
	}
	if f := headResponse(cfg); f != nil && !cfg.resume { // -C -: DoResumable decides on a 416 itself
		steps = append(steps, n.SetResponseFunc(f))
	}
	switch {
	case cfg.headOnly:
		steps = append(steps, n.SetBodyWriter(io.Discard)) // -I -X GET: the headers only, as curl
	case cfg.device != nil && held:
		steps = append(steps, n.SetBodyWriter(stdout)) // runFetch's spool, for the device at the end
	case cfg.device != nil:
		steps = append(steps, n.SetBodyWriter(cfg.device))
	case cfg.output == "" && !cfg.json:
		steps = append(steps, n.SetBodyWriter(stdout)) // -i: runFetch's spool, after the headers
	}
	steps = append(steps, configureNet(n, cfg)) // -x too
	return errors.Join(steps...)
}

// downloadPath is where the node writes the -o body: the -o file, or ""
// for a device (gdfetch writes to it itself). With -f a code of 400 or more
// is refused before the node opens the file (failResponse), so an error page
// never replaces it, as with curl.
func downloadPath(cfg *config) string {
	if cfg.device != nil || cfg.headOnly {
		return "" // -I: no body is saved (emptiesOutput makes FILE empty)
	}
	return cfg.output
}

// emptiesOutput reports whether the -o file must be made empty after the
// request, as curl does: the node opens download_file only when a body is
// about to be read (§2.9.2), so a response without one (Content-Length: 0,
// a 204, a HEAD) would leave an old file as it was, or create none, while
// the summary says the body was saved. Not for a 304 (nothing new to
// save), a code of 400 or more under -f (-o FILE is left as it was), a
// device, or -C - (DoResumable owns the file and its state).
func emptiesOutput(cfg *config, ex *exchange, downloaded int64) bool {
	switch {
	case cfg.output == "" || cfg.device != nil || cfg.resume:
		return false
	case ex.Result != httprequest.ResultSuccess || (downloaded != 0 || ex.Decoded != 0) && !cfg.headOnly:
		return false
	case ex.ResponseCode == 304, cfg.fail && ex.ResponseCode >= 400:
		return false
	}
	return true
}

// emptyOutput creates path empty, or truncates it: one step, so with or
// without --in-place no half-written file can be left.
func emptyOutput(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return err
	}
	return f.Close()
}

// createDirs is --create-dirs: the missing directories of the -o file's
// path, and of -D's, are made before the request, mode 0750 (less the
// umask) as curl's; they stay when the request fails, as curl's. A path
// that cannot be made is curl's exit 23.
func createDirs(cfg *config) error {
	if !cfg.createDirs {
		return nil
	}
	for _, p := range []string{cfg.output, cfg.dumpHeader} {
		if p == "" || p == "-" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			return fmt.Errorf("--create-dirs: %w", err)
		}
	}
	return nil
}

// openDevice opens an -o target that exists and is not a regular file (a
// device such as /dev/null, a FIFO): as download_file Godot's node refuses
// it (RESULT_DOWNLOAD_FILE_CANT_OPEN), so gdfetch writes the body to it
// itself, as curl does. -C - keeps download_file (a device cannot resume).
// Opening a FIFO waits for a reader, as curl's does; ctx's end (Ctrl-C)
// stops the wait.
func openDevice(ctx context.Context, cfg *config) error {
	if cfg.output == "" || cfg.resume {
		return nil
	}
	fi, err := os.Stat(cfg.output)
	if err != nil || fi.Mode().IsRegular() || fi.IsDir() {
		return nil
	}
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.OpenFile(cfg.output, os.O_WRONLY, 0)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			return o.err
		}
		cfg.device = o.f
		return nil
	case <-ctx.Done():
		// A FIFO's open blocks in the kernel until a reader comes: be
		// that reader for a moment, so that it returns, and close both.
		// (Should that fail, the open is left to the process's exit.)
		if fi.Mode()&fs.ModeNamedPipe == 0 {
			return ctx.Err()
		}
		if r := openFIFOReader(cfg.output); r != nil {
			if o := <-done; o.f != nil {
				o.f.Close()
			}
			r.Close()
		}
		return ctx.Err()
	}
}
