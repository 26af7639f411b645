package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/wire"
)

// config is a parsed gdfetch command line: the request, the node's
// properties and options, and how to print the completion.
type config struct {
	url     string
	method  httpclient.Method
	headers []string // -H, in the order given, then the lines of -u (or the URL's user:password), -r, -A and -e (curlFlagHeaders)
	body    []byte   // -d, --data-binary, --data-urlencode, joined with '&' as curl does (-G: in the URL instead)
	hasBody bool
	upload  *upload // -F, -T: a streamed body instead (upload.go)

	output       string        // -o: download_file
	outputStdout bool          // -o -: the body to stdout, even binary to a terminal
	maxRedirects int           // --max-redirs: max_redirects
	bodyLimit    int64         // --max-filesize: body_size_limit
	timeout      time.Duration // -m: timeout
	noGzip       bool          // --no-gzip: accept_gzip off
	chunkSize    int           // --chunk-size: download_chunk_size (0: default)
	threads      bool          // --threads: use_threads
	proxyHost    string        // -x: HTTP and HTTPS proxy
	proxyPort    int
	tls          *httpclient.TLSOptions // --cacert, -k, --tls-name; nil: the node's default

	strict, rfcRedirects, brotli, keepAlive, drain, inPlace bool
	resume                                                  bool      // -C -: DoResumable into -o (resume.go)
	createDirs                                              bool      // --create-dirs: mkdir -p the -o file's directory first
	failWithBody                                            bool      // --fail-with-body: exit 22 for a code ≥ 400, the body written
	dumpHeader                                              string    // -D: where -i's block goes too ("-": stdout), "" for nowhere
	retry                                                   retryOpts // --retry and its companions (retry.go)

	headerName     *headerName   // -O -J: the file named by Content-Disposition (headername.go); nil without
	connectTimeout time.Duration // --connect-timeout: each connect phase's limit (connecttimeout.go), 0 for none

	net netFlags // -b, -c, --proxy-user, --noproxy, environment proxies (cookies.go)
	// sent: verboseRequest prints a request that went already (-C -'s -v):
	// its Cookie line is the one the jar gave, not what the jar holds now.
	sent bool

	include, silent, verbose, json, fail bool
	headOnly                             bool   // -I: no body is printed or saved, whatever the method (-X), as curl's
	writeOut                             string // -w: the format printed at the end (writeout.go), "" for none

	device *os.File // -o naming a device or FIFO (/dev/null), opened: the body writer (command.go)
}

// usageError is a command-line mistake: exit status 2 with its message, or
// curl's own status for it (code: 3 for a malformed URL, 1 for a scheme
// other than http and https, 26 for an upload file that cannot be read).
type usageError struct {
	msg  string
	code int
}

func (e *usageError) Error() string { return e.msg }

// exitCode is the status the mistake exits with.
func (e *usageError) exitCode() int {
	if e.code != 0 {
		return e.code
	}
	return exitUsage
}

func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

// usageCodef is usagef with curl's exit status for the mistake.
func usageCodef(code int, format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...), code: code}
}

// rawFlags are the flag values as pflag fills them in.
type rawFlags struct {
	method, output, maxFilesize, proxy, cacert, tlsName, userAgent string
	user, referer, byteRange, writeOut, dumpHeader                 string
	remoteName, remoteHeaderName                                   bool
	headers, form                                                  []string
	data                                                           []dataArg // -d, --data-binary and --data-urlencode, in command-line order
	uploadFile                                                     string
	maxRedirs, chunkSize, retry, retryDelay, retryMaxTime          int
	retryConnRefused, retryAllErrors                               bool
	maxTime, connectTimeout                                        float64
	noGzip, threads, insecure, strict, rfcRedirects, brotli        bool
	keepAlive, drain, inPlace, include, silent, verbose, json      bool
	fail, head, location, compressed, showError, version, get      bool
	noBuffer, createDirs, failWithBody                             bool
	continueAt                                                     string
	urls                                                           []string    // --url, each time given (gdfetch takes one URL a run)
	net                                                            rawNetFlags // cookies.go
}

// newFetchFlags declares gdfetch's flags. Each usage string names the Godot
// property or option it sets, so a Godot user can find it.
func newFetchFlags(f *rawFlags) *pflag.FlagSet {
	fs := pflag.NewFlagSet("gdfetch", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(true) // flags after the URL too, as curl
	fs.SortFlags = false
	fs.StringArrayVar(&f.urls, "url", nil, "the URL, as a flag (as curl's; one URL a run: not with a URL argument)")
	fs.StringVarP(&f.method, "request", "X", "", "method: GET HEAD POST PUT DELETE OPTIONS TRACE CONNECT PATCH (request's method)")
	fs.StringArrayVarP(&f.headers, "header", "H", nil, `header line "Name: value", repeatable, sent in order (request's custom_headers)`)
	fs.VarP(dataFlag{&f.data, dataPlain}, "data", "d", "body; @FILE reads a file without its CR/LF; repeated (with --data-binary too): joined with '&' in command-line order; method POST unless -X (request's request_data)")
	fs.Var(dataFlag{&f.data, dataBinary}, "data-binary", "body sent as is; @FILE reads a file byte for byte (request_raw's request_data_raw)")
	fs.Var(dataFlag{&f.data, dataRaw}, "data-raw", "body sent as given, as -d but a leading @ is data, not a file (joined with -d's)")
	fs.Var(dataFlag{&f.data, dataURLEncode}, "data-urlencode", "body part CONTENT, =CONTENT, NAME=CONTENT, @FILE or NAME@FILE with CONTENT (or the file) form-encoded, as curl (joined with -d's)")
	fs.BoolVarP(&f.get, "get", "G", false, "send the -d, --data-binary, --data-raw and --data-urlencode data as the URL's query, in a GET (HEAD with -I)")
	fs.StringArrayVarP(&f.form, "form", "F", nil, "multipart/form-data part: name=value, name=@FILE (a file, streamed), name=<FILE (a field from a file); repeatable; method POST unless -X; curl's ;type= ;filename= ;headers= ;encoder= are refused")
	fs.StringVarP(&f.uploadFile, "upload-file", "T", "", "send FILE as the body, streamed with its size as Content-Length (- : standard input, chunked); method PUT unless -X; a URL whose path is empty or ends in / gets the file's name, percent-encoded")
	fs.StringVarP(&f.userAgent, "user-agent", "A", "", `send "User-Agent: VALUE" instead of Godot's "GodotEngine/…"; an -H User-Agent line wins, as curl`)
	fs.StringVarP(&f.user, "user", "u", "", `USER:PASSWORD sent as "Authorization: Basic …", as curl (no password prompt); wins over the URL's; an -H Authorization line wins over it`)
	fs.StringVarP(&f.referer, "referer", "e", "", `send "Referer: URL" ("" none); an -H Referer line wins`)
	fs.StringVarP(&f.byteRange, "range", "r", "", `send "Range: bytes=RANGE" (0-499, -500, 9500-, 0-0,-1); not with -C -; an -H Range line wins`)
	fs.StringVarP(&f.output, "output", "o", "", "write the body to FILE (download_file)")
	fs.BoolVarP(&f.remoteName, "remote-name", "O", false, "write the body to the URL's file name (its last path segment, as given) in the current directory (download_file)")
	fs.BoolVarP(&f.remoteHeaderName, "remote-header-name", "J", false, "with -O: name the file as the response's Content-Disposition filename says (curl's rules; an existing file is not replaced: exit 23), else as -O")
	fs.BoolVar(&f.createDirs, "create-dirs", false, "create the missing directories of -o's (-O's) and -D's files first, as curl (mode 0750)")
	fs.StringVarP(&f.continueAt, "continue-at", "C", "", `"-": resume -o FILE from its size with Range + If-Range (DoResumable; keep_partial_download, append_to_download_file)`)
	fs.BoolVarP(&f.location, "location", "L", false, "accepted for curl users: the node follows redirects anyway (see --max-redirs)")
	fs.IntVar(&f.maxRedirs, "max-redirs", httprequest.DefaultMaxRedirects, "redirects followed; -1 no limit (max_redirects)")
	fs.StringVar(&f.maxFilesize, "max-filesize", "-1", "largest body in bytes (suffix k, M, G); -1 no limit; with -C -, the file's size (body_size_limit)")
	fs.Float64VarP(&f.maxTime, "max-time", "m", 0, "seconds for the whole request, redirects included (with -C -, every request of the run); 0 none (timeout)")
	fs.Float64Var(&f.connectTimeout, "connect-timeout", 0, "seconds the connect phase of each connection may take (name resolution, TCP connect, proxy CONNECT, TLS handshake), else exit 28; 0 none")
	fs.BoolVarP(&f.noBuffer, "no-buffer", "N", false, "accepted for curl users: the body is written as it arrives anyway")
	fs.IntVar(&f.retry, "retry", 0, "make a try that failed for a transient reason (a timeout, a code 408 429 500 502 503 504) again, up to N more times, as curl")
	fs.IntVar(&f.retryDelay, "retry-delay", 0, "seconds to wait before a retry (0: 1 s doubling each time, as curl; a Retry-After wins)")
	fs.IntVar(&f.retryMaxTime, "retry-max-time", 0, "no retry once this many seconds have passed since the first try (0: none)")
	fs.BoolVar(&f.retryConnRefused, "retry-connrefused", false, "with --retry, a refused connection is transient too")
	fs.BoolVar(&f.retryAllErrors, "retry-all-errors", false, "with --retry, retry after any failure")
	fs.BoolVar(&f.compressed, "compressed", false, "accepted for curl users: accept_gzip is on by default")
	fs.BoolVar(&f.noGzip, "no-gzip", false, "do not ask for nor decode gzip/deflate (accept_gzip = false)")
	fs.IntVar(&f.chunkSize, "chunk-size", httprequest.DefaultDownloadChunkSize, "bytes per body read, 256…16777216 (download_chunk_size)")
	fs.BoolVar(&f.threads, "threads", false, "run the request on a worker thread with blocking I/O (use_threads)")
	fs.StringVarP(&f.proxy, "proxy", "x", "", "[http://][USER:PASSWORD@]HOST[:PORT] proxy for http and https URLs, port 1080 by default (credentials as --proxy-user, which wins), except the hosts --noproxy or NO_PROXY names (set_http_proxy, set_https_proxy)")
	addNetFlags(fs, &f.net)
	fs.StringVar(&f.cacert, "cacert", "", "trust the CA certificates of this PEM file instead of the system's (TLSOptions.client(trusted_chain))")
	fs.BoolVarP(&f.insecure, "insecure", "k", false, "accept any certificate and host name (TLSOptions.client_unsafe())")
	fs.StringVar(&f.tlsName, "tls-name", "", "check the certificate against NAME instead of the URL's host (TLSOptions.client(…, common_name_override))")
	fs.BoolVar(&f.strict, "strict", false, "strict RFC 9110/9112 parsing (option SetStrict, §7.4)")
	fs.BoolVar(&f.rfcRedirects, "rfc-redirects", false, "follow 303/307/308 and rewrite methods as RFC 9110 says (option SetRFC9110Redirects)")
	fs.BoolVar(&f.brotli, "brotli", false, `also ask for and decode "br" (option SetAcceptBrotli)`)
	fs.BoolVar(&f.keepAlive, "keep-alive", false, "keep the connection for the node's next request (option SetKeepAlive)")
	fs.BoolVar(&f.drain, "drain", false, "read every available body byte per frame, not one chunk (option SetDrainPerStep)")
	fs.BoolVar(&f.inPlace, "in-place", false, "write -o in place as Godot does, not atomically (option SetDownloadInPlace)")
	fs.BoolVarP(&f.head, "head", "I", false, "method HEAD, and print as -i does; not with -d, --data-binary, -F or -T (exit 2, as curl)")
	fs.StringVarP(&f.dumpHeader, "dump-header", "D", "", `write -i's result line and headers to FILE ("-": stdout, before the body); the final response's only`)
	fs.BoolVarP(&f.include, "include", "i", false, "print the result, response code and headers as request_completed delivers them, then the body")
	fs.BoolVarP(&f.silent, "silent", "s", false, "no progress bar and no summary line (failures are still reported)")
	fs.BoolVarP(&f.showError, "show-error", "S", false, "accepted for curl users (-sS): failures are reported anyway")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "print the exact request bytes and the status trace with timings on stderr")
	fs.BoolVar(&f.json, "json", false, "print request_completed's four values as one JSON object")
	fs.StringVarP(&f.writeOut, "write-out", "w", "", `after the transfer print FORMAT (@FILE: read it, @- stdin): curl's %{http_code} %{response_code} %{size_download} %{time_total} %{speed_download} %{exitcode} %{errormsg} %{content_type} %{url} %{stderr} %{stdout} %header{NAME}, gdfetch's %{result} %{result_name}; \n \r \t, %%`)
	fs.BoolVarP(&f.version, "version", "V", false, "print gdfetch's version and the User-Agent it sends, and exit")
	fs.BoolVarP(&f.fail, "fail", "f", false, "exit 22 when the response code is 400 or more: no body on stdout, -o FILE left as it was")
	fs.BoolVar(&f.failWithBody, "fail-with-body", false, "exit 22 when the response code is 400 or more, the body written as any other (not with -f)")
	return fs
}

// parseFetch parses gdfetch's arguments into a config. A *usageError, or
// pflag.ErrHelp for -h, is returned on a mistake.
func parseFetch(ctx context.Context, args []string) (*config, error) {
	var f rawFlags
	fs := newFetchFlags(&f)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, err
		}
		return nil, withCurlHint(fs, err)
	}
	if f.version {
		return nil, errVersion
	}
	urls := append(f.urls, fs.Args()...) // --url's first, as curl takes them
	switch len(urls) {
	case 0:
		return nil, usagef("no URL given")
	case 1:
	default:
		return nil, usagef("one URL at a time (got %q)%s", urls, jsonDataHint(f.json, fs.Args()))
	}
	target := withScheme(urls[0])
	if _, err := wire.ParseRequestURL(target); err != nil {
		code := exitURL
		if scheme, _, ok := strings.Cut(target, "://"); ok && !strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") {
			code = exitProtocol
		}
		return nil, usageCodef(code, "bad URL %q: %v", withoutPassword(urls[0]), err)
	}
	headers, err := curlHeaders(ctx, f.headers)
	if err != nil {
		return nil, err
	}
	headers, err = curlFlagHeaders(fs, &f, target, headers)
	if err != nil {
		return nil, err
	}
	c := &config{
		url:          target,
		headers:      headers,
		output:       f.output,
		maxRedirects: f.maxRedirs,
		noGzip:       f.noGzip,
		chunkSize:    f.chunkSize,
		threads:      f.threads,
		strict:       f.strict, rfcRedirects: f.rfcRedirects, brotli: f.brotli,
		keepAlive: f.keepAlive, drain: f.drain, inPlace: f.inPlace,
		include: f.include, silent: f.silent, verbose: f.verbose, json: f.json, fail: f.fail,
		createDirs: f.createDirs, failWithBody: f.failWithBody, dumpHeader: f.dumpHeader,
	}
	if f.retry < 0 || f.retryDelay < 0 || f.retryMaxTime < 0 {
		return nil, usagef("--retry, --retry-delay and --retry-max-time take a number ≥ 0")
	}
	c.retry = retryOpts{count: f.retry, delay: time.Duration(f.retryDelay) * time.Second,
		maxTime: time.Duration(f.retryMaxTime) * time.Second, connRefused: f.retryConnRefused, allErrors: f.retryAllErrors}
	if c.dumpHeader == "-" && c.json {
		return nil, usagef("-D - does not go with --json: its object holds the headers")
	}
	if f.fail && f.failWithBody {
		return nil, usagef("You must select either --fail or --fail-with-body, not both.") // curl 7.88's words
	}
	if err := checkHeaderFlags(c.headers); err != nil {
		return nil, err
	}
	if c.body, c.hasBody, err = readData(ctx, f.data); err != nil {
		return nil, err
	}
	c.method = httpclient.MethodGet
	if c.hasBody {
		c.method = httpclient.MethodPost
	}
	if f.get {
		if len(f.form) > 0 || f.uploadFile != "" {
			return nil, usagef("-G does not go with -F or -T: it sends the data in the URL")
		}
		if len(c.body) > 0 {
			c.url = withQuery(c.url, string(c.body))
		}
		c.body, c.hasBody, c.method = nil, false, httpclient.MethodGet
	}
	if c.upload, err = parseUpload(f.form, f.uploadFile); err != nil {
		return nil, err
	}
	if c.upload != nil {
		if c.hasBody {
			return nil, usagef("-d/--data-binary do not go with -F or -T")
		}
		c.method, c.url = c.upload.method(), c.upload.targetURL(c.url)
	}
	if f.remoteHeaderName {
		switch { // curl 7.88's words
		case f.include || f.head:
			return nil, usagef("showing headers and --remote-header-name cannot be combined")
		case f.continueAt != "":
			return nil, usagef("--continue-at and --remote-header-name cannot be combined")
		}
	}
	if f.remoteName {
		if fs.Changed("output") {
			return nil, usagef("-O and -o both name the file: give one")
		}
		switch {
		case f.remoteHeaderName:
			// The URL's name only when the response has no
			// Content-Disposition filename: a URL without one is not
			// refused yet, as curl's.
			name, _ := remoteName(c.url)
			c.headerName = newHeaderName(name)
			c.output = c.headerName.part
		default:
			if c.output, err = remoteName(c.url); err != nil {
				return nil, err
			}
		}
	}
	if c.output == "-" {
		c.output, c.outputStdout = "", true // curl's "-o -": stdout
	}
	if f.head {
		if c.hasBody || c.upload != nil {
			return nil, usagef("-I (HEAD) does not go with -d, --data-binary, -F or -T: one request method at a time")
		}
		c.method, c.include, c.headOnly = httpclient.MethodHead, true, true
	}
	if f.method != "" {
		if c.method, err = parseMethod(f.method); err != nil {
			return nil, err
		}
	}
	if c.bodyLimit, err = parseSize(f.maxFilesize); err != nil {
		return nil, usagef("--max-filesize: %v", err)
	}
	if c.bodyLimit == 0 {
		c.bodyLimit = -1 // curl's 0 is no limit (body_size_limit 0 would refuse every byte)
	}
	if f.maxTime < 0 || math.IsNaN(f.maxTime) || f.maxTime > 1e9 {
		return nil, usagef("--max-time: %v is not a number of seconds ≥ 0", f.maxTime)
	}
	c.timeout = time.Duration(f.maxTime * float64(time.Second))
	if f.connectTimeout < 0 || math.IsNaN(f.connectTimeout) || f.connectTimeout > 1e9 {
		return nil, usagef("--connect-timeout: %v is not a number of seconds ≥ 0", f.connectTimeout)
	}
	// Whole milliseconds, as curl's secs2ms: less than one is none.
	c.connectTimeout = time.Duration(f.connectTimeout*1000) * time.Millisecond
	if f.chunkSize < 256 || f.chunkSize > 1<<24 {
		return nil, usagef("--chunk-size: %d is outside 256…16777216", f.chunkSize)
	}
	var proxyUser *url.Userinfo
	if f.proxy != "" {
		if c.proxyHost, c.proxyPort, proxyUser, err = parseProxy(f.proxy); err != nil {
			return nil, err
		}
	}
	if c.net, err = parseNetFlags(fs, &f.net); err != nil {
		return nil, err
	}
	if c.net.proxyUser == nil {
		c.net.proxyUser = proxyUser // --proxy-user wins, as curl
	}
	if c.tls, err = tlsOptions(f.cacert, f.insecure, f.tlsName); err != nil {
		return nil, err
	}
	if c.writeOut = f.writeOut; strings.HasPrefix(c.writeOut, "@") {
		b, err := dataFile(ctx, "-w", c.writeOut[1:])
		if err != nil {
			return nil, err
		}
		c.writeOut = string(b)
	}
	if f.continueAt != "" && fs.Changed("range") {
		return nil, usagef("-r does not go with -C -: -C - sends its own Range (from the size of the file)")
	}
	if c.resume, err = resumeFlag(f.continueAt, c); err != nil {
		return nil, err
	}
	return c, nil
}

// withScheme adds "http://" to a URL without a scheme, as curl does
// ("localhost:8080/x"); Godot's request() needs one. A URL has a scheme when
// the text before its first "://" is a scheme name (RFC 3986 §3.1: ALPHA
// *( ALPHA / DIGIT / "+" / "-" / "." )), which holds no '/', '?' or '#': a
// "://" in the path, query or fragment ("h/p?to=http://x") is not one.
func withScheme(u string) string {
	if i := strings.Index(u, "://"); i >= 0 && isSchemeName(u[:i]) {
		return u
	}
	return "http://" + u
}

// isSchemeName reports whether s is an RFC 3986 scheme name.
func isSchemeName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// parseMethod maps a method token to Godot's Method enum.
func parseMethod(s string) (httpclient.Method, error) {
	var names []string
	for m := httpclient.Method(0); m < wire.MethodMax; m++ {
		if strings.EqualFold(s, m.String()) {
			return m, nil
		}
		names = append(names, m.String())
	}
	return 0, usagef("-X %s: Godot's HTTPClient sends only %s", s, strings.Join(names, " "))
}

// dataArg is one -d, --data-binary, --data-urlencode or --data-raw value.
type dataArg struct {
	value string
	kind  dataKind
}

// dataKind is the flag a body part came from.
type dataKind uint8

const (
	dataPlain     dataKind = iota // -d: an @FILE loses its CR and LF
	dataBinary                    // --data-binary: an @FILE is sent byte for byte
	dataURLEncode                 // --data-urlencode: [NAME]=CONTENT or [NAME]@FILE, CONTENT encoded
	dataRaw                       // --data-raw: -d with no @FILE (a leading '@' is data)
)

// flag is the kind's flag, for messages.
func (k dataKind) flag() string {
	return [...]string{"-d", "--data-binary", "--data-urlencode", "--data-raw"}[k]
}

// dataFlag is the pflag.Value of -d, --data-binary, --data-urlencode and --data-raw:
// all append to one list, so that the body keeps the command line's order.
type dataFlag struct {
	args *[]dataArg
	kind dataKind
}

func (d dataFlag) Set(s string) error {
	*d.args = append(*d.args, dataArg{s, d.kind})
	return nil
}

func (d dataFlag) String() string { return "" }
func (d dataFlag) Type() string   { return "string" }

// readData builds the body from the -d, --data-binary, --data-urlencode and
// --data-raw values, curl's way: in command-line order, joined with '&';
// "@file" reads a file ("@-" standard input, whole, as curl; -T - streams it
// instead), and the content of a -d file loses its CR and LF bytes (a
// literal -d value is sent as given).
func readData(ctx context.Context, args []dataArg) ([]byte, bool, error) {
	if len(args) == 0 {
		return nil, false, nil
	}
	body := []byte{}
	for i, a := range args {
		b, err := dataValue(ctx, a)
		if err != nil {
			return nil, false, err
		}
		if a.kind == dataPlain && strings.HasPrefix(a.value, "@") {
			b = curlFileString(b)
		}
		if i > 0 {
			body = append(body, '&')
		}
		body = append(body, b...)
	}
	return body, true, nil
}

// curlFileString is what curl's -d @FILE takes of a file's content b (its
// file2string, curl 7.88): the file is read in fgets pieces — up to 255
// bytes, or to a LF and through it — and each piece is kept up to its first
// CR, LF or NUL. So CR LF and LF line ends are dropped, and a bare CR or a
// NUL drops the rest of its piece.
func curlFileString(b []byte) []byte {
	const piece = 255 // fgets into curl's char buffer[256]
	out := b[:0:0]
	for len(b) > 0 {
		n := min(len(b), piece)
		if i := bytes.IndexByte(b[:n], '\n'); i >= 0 {
			n = i + 1
		}
		p := b[:n]
		if i := bytes.IndexAny(p, "\x00\r\n"); i >= 0 {
			p = p[:i]
		}
		out = append(out, p...)
		b = b[n:]
	}
	return out
}

// dataValue is the bytes of one -d or --data-binary value: DATA as given, or
// @FILE's content (@- standard input); a --data-raw value is DATA, '@' or
// not. A file that cannot be read exits 26, as an -T, -F or -H @ file (curl
// 7.88 warns and sends an empty body).
func dataValue(ctx context.Context, d dataArg) ([]byte, error) {
	switch d.kind {
	case dataURLEncode:
		return urlEncodedValue(ctx, d.value)
	case dataRaw:
		return []byte(d.value), nil
	}
	name, ok := strings.CutPrefix(d.value, "@")
	if !ok {
		return []byte(d.value), nil
	}
	return dataFile(ctx, d.kind.flag(), name)
}

// urlEncodedValue is a --data-urlencode part, as curl 7.88 makes it:
// the value's NAME ends at its first '=' (or, with no '=', its first '@',
// which makes the rest a file's name, "-" standard input); CONTENT — the
// text after it, the file's bytes, or the whole value when it holds
// neither — is form-encoded (formEncode), and the part is NAME=ENCODED, or
// ENCODED alone when NAME is empty.
func urlEncodedValue(ctx context.Context, v string) ([]byte, error) {
	sep := strings.IndexByte(v, '=')
	if sep < 0 {
		sep = strings.IndexByte(v, '@')
	}
	name, content := "", []byte(v)
	if sep >= 0 {
		name, content = v[:sep], []byte(v[sep+1:])
		if v[sep] == '@' {
			var err error
			if content, err = dataFile(ctx, "--data-urlencode", v[sep+1:]); err != nil {
				return nil, err
			}
		}
	}
	enc := formEncode(content)
	if name == "" {
		return enc, nil
	}
	return append([]byte(name+"="), enc...), nil
}

// formEncode is curl_easy_escape with each %20 then made '+' (curl's
// --data-urlencode): ALPHA, DIGIT and "-._~" stay, a space is '+', every
// other byte %XX in capitals.
func formEncode(b []byte) []byte {
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			out = append(out, c)
		case c == ' ':
			out = append(out, '+')
		default:
			out = append(out, '%', hex[c>>4], hex[c&15])
		}
	}
	return out
}

// withQuery is -G's URL: u with query added to its query ('?' before it,
// or '&' after a query u has), before a fragment, and a path "/" when u
// has none (Godot's request needs a path before a query).
func withQuery(u, query string) string {
	start, end := urlPath(u)
	head, q, frag := u[:end], u[end:], ""
	if i := strings.IndexByte(q, '#'); i >= 0 {
		q, frag = q[:i], q[i:]
	}
	if start == end {
		head += "/"
	}
	sep := "&"
	switch q {
	case "":
		sep = "?"
	case "?":
		sep = ""
	}
	return head + q + sep + query + frag
}

// urlPath is where the path of rawURL lies, rawURL[start:end]: after the
// scheme and the authority, before the query or the fragment (start ==
// end for a URL without a path). The -T, -O and -G rules read it.
func urlPath(rawURL string) (start, end int) {
	from := schemeEnd(rawURL)
	start, end = len(rawURL), len(rawURL)
	if i := strings.IndexAny(rawURL[from:], "/?#"); i >= 0 {
		start = from + i
	}
	if i := strings.IndexAny(rawURL[start:], "?#"); i >= 0 {
		end = start + i
	}
	return start, end
}

// schemeEnd is where rawURL's authority begins: after its "://", or 0.
func schemeEnd(rawURL string) int {
	if i := strings.Index(rawURL, "://"); i >= 0 {
		return i + len("://")
	}
	return 0
}

// dataFile reads the @FILE of a data flag: the file, or standard input for
// "-"; a file that cannot be read is curl's exit 26.
func dataFile(ctx context.Context, flag, name string) ([]byte, error) {
	b, err := readFileArg(ctx, name)
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil && name == "-":
		return nil, usageCodef(exitRead, "%s @-: data from standard input: %v", flag, err)
	case err != nil:
		return nil, usageCodef(exitRead, "%s @%s: %v", flag, name, err)
	}
	return b, nil
}

// readFileArg reads the file of an @FILE argument; "-" is all of standard
// input, read before the request starts, as curl's @-. Ctrl-C (ctx) ends
// the wait for standard input to end: the read is left to the process's
// exit.
func readFileArg(ctx context.Context, name string) ([]byte, error) {
	if name != "-" {
		return os.ReadFile(name)
	}
	type read struct {
		b   []byte
		err error
	}
	done := make(chan read, 1)
	in := os.Stdin
	go func() {
		b, err := io.ReadAll(in)
		done <- read{b, err}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// parseSize reads a byte count with an optional k, M or G suffix (powers of
// 1024, as curl); a negative value means no limit.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult = 1 << 10
	case strings.HasSuffix(s, "m"), strings.HasSuffix(s, "M"):
		mult = 1 << 20
	case strings.HasSuffix(s, "g"), strings.HasSuffix(s, "G"):
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a byte count", s)
	}
	if n < 0 {
		return -1, nil
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%d%s is too large", n, s)
	}
	return n * mult, nil
}

// parseProxy reads -x's [http://][USER:PASSWORD@]HOST[:PORT]; the
// credentials, as curl's, are the proxy's (as --proxy-user). A message
// shows the value without its password.
func parseProxy(s string) (string, int, *url.Userinfo, error) {
	rest, shown := s, withoutPassword(s)
	if _, after, ok := strings.Cut(s, "://"); ok {
		rest = after
	}
	var user *url.Userinfo
	if at := strings.LastIndex(rest, "@"); at >= 0 && !strings.Contains(rest[:at], "/") {
		name, pass, hasPass := strings.Cut(rest[:at], ":")
		if !hasPass {
			return "", 0, nil, usagef("-x %s: credentials in the proxy are USER:PASSWORD", shown)
		}
		nameU, err1 := url.PathUnescape(name)
		passU, err2 := url.PathUnescape(pass)
		if err1 != nil || err2 != nil {
			return "", 0, nil, usagef("-x %s: bad escape in the credentials", shown)
		}
		user, rest = url.UserPassword(nameU, passU), rest[at+1:]
	}
	if scheme, _, ok := strings.Cut(s, "://"); ok && !strings.EqualFold(scheme, "http") {
		return "", 0, nil, usagef("-x %s: only http:// proxies (Godot's set_http_proxy/set_https_proxy)", shown)
	}
	rest = strings.TrimSuffix(rest, "/")
	host, port := rest, 1080
	if h, p, err := net.SplitHostPort(rest); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", 0, nil, usagef("-x %s: bad port %q", shown, p)
		}
		host, port = h, n
	}
	if host == "" || strings.ContainsAny(host, "/@ ") {
		return "", 0, nil, usagef("-x %s: expected [http://][USER:PASSWORD@]HOST[:PORT]", shown)
	}
	return host, port, user, nil
}

// withoutPassword is s, a URL or -x's value, with the password of its
// userinfo ("user:password@") replaced by "xxxxx", for messages.
func withoutPassword(s string) string {
	start := 0
	if i := strings.Index(s, "://"); i >= 0 {
		start = i + len("://")
	}
	end := len(s) // the userinfo ends at the last '@' before the first '/', as parseProxy reads it
	if i := strings.IndexByte(s[start:], '/'); i >= 0 {
		end = start + i
	}
	at := strings.LastIndex(s[start:end], "@")
	if at < 0 {
		return s
	}
	colon := strings.Index(s[start:start+at], ":")
	if colon < 0 {
		return s
	}
	return s[:start+colon+1] + "xxxxx" + s[start+at:]
}

// tlsOptions builds the node's TLS options from --cacert, -k and
// --tls-name; nil keeps the node's default (system roots, host checked).
func tlsOptions(cacert string, insecure bool, name string) (*httpclient.TLSOptions, error) {
	var pool *x509.CertPool
	if cacert != "" {
		pem, err := os.ReadFile(cacert)
		if err != nil {
			return nil, usageCodef(exitCACert, "--cacert: %v", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usageCodef(exitCACert, "--cacert %s: no PEM certificate in it", cacert)
		}
	}
	switch {
	case insecure:
		return httpclient.TLSClientUnsafe(pool), nil
	case pool != nil || name != "":
		return httpclient.TLSClient(pool, name), nil
	}
	return nil, nil
}

// curlHeaders translates curl's -H forms: "@FILE" is the header lines of
// FILE (one a line, CR LF or LF; "@-" standard input's; blank ones
// skipped); "" is nothing, as curl; "Name;" is a header with an empty value,
// sent as "Name:"; "Name:" with nothing after it removes a header curl
// would add — here it is left out, except for the lines Godot's request
// adds itself (Host, User-Agent, Accept, Accept-Encoding, Content-Length),
// which it replaces by the empty line: the node cannot leave them out.
func curlHeaders(ctx context.Context, in []string) ([]string, error) {
	var out []string
	for _, h := range in {
		lines := []string{h}
		if file, ok := strings.CutPrefix(h, "@"); ok {
			b, err := readFileArg(ctx, file)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err != nil {
				return nil, usageCodef(exitRead, "-H @%s: %v", file, err)
			}
			lines = strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
		}
		for _, l := range lines {
			if l == "" {
				// A file's blank lines, and an empty -H: curl sends nothing
				// for it (a script's -H "$EXTRA" with EXTRA empty).
				continue
			}
			if name, ok := strings.CutSuffix(l, ";"); ok && name != "" && !strings.ContainsAny(name, ":; \t") {
				out = append(out, name+":")
				continue
			}
			if name, value, ok := strings.Cut(l, ":"); ok && name != "" && strings.TrimSpace(value) == "" {
				switch strings.ToLower(strings.TrimSpace(name)) {
				case "host", "user-agent", "accept", "accept-encoding", "content-length":
					out = append(out, strings.TrimSpace(name)+":")
				}
				continue
			}
			out = append(out, l)
		}
	}
	return out, nil
}

// curlFlagHeaders appends to headers (the -H lines, after curlHeaders) the
// lines curl makes of its flags, in curl's order — -u's Authorization (or
// the URL's user:password), -r's Range, -A's User-Agent, -e's Referer —
// each unless an -H line names that header: curl lets a custom header
// replace the one it makes ("Name:" removes it). Godot's node sends them
// as custom headers, before the Host, User-Agent and Accept it adds.
func curlFlagHeaders(fs *pflag.FlagSet, f *rawFlags, target string, headers []string) ([]string, error) {
	given := func(name string) bool {
		return wire.HasLinePrefix(headers, name+":") || wire.HasLinePrefix(f.headers, name+":")
	}
	for _, v := range []struct{ flag, value string }{{"-u", f.user}, {"-e", f.referer}, {"-r", f.byteRange}, {"-A", f.userAgent}} {
		if strings.ContainsAny(v.value, "\r\n\x00") {
			return nil, usagef("%s: a header value cannot hold CR, LF or NUL", v.flag)
		}
	}
	switch {
	case given("authorization"):
	case fs.Changed("user"):
		user, pass, ok := strings.Cut(f.user, ":")
		if !ok {
			return nil, usagef("-u %s: give the password too, -u USER:PASSWORD (gdfetch does not prompt for it as curl does)", f.user)
		}
		// As given, not percent-decoded (curl's -u); sent to the URL's
		// origin only, as curl's without --location-trusted (COMPAT Q8).
		headers = append(headers, basicAuth(user, pass))
	default:
		if auth, ok := urlCredentials(target); ok {
			// curl sends a URL's user:password as Basic credentials;
			// Godot's node drops them (§2.5.5).
			headers = append(headers, auth)
		}
	}
	if fs.Changed("range") && !given("range") {
		headers = append(headers, "Range: bytes="+f.byteRange)
	}
	if fs.Changed("user-agent") && !given("user-agent") {
		// -A "" sends an empty one in place of Godot's (curl sends none;
		// the node always sends one).
		headers = append(headers, strings.TrimSpace("User-Agent: "+f.userAgent))
	}
	if f.referer != "" && !given("referer") {
		if strings.HasSuffix(f.referer, ";auto") {
			return nil, usagef("-e %s: gdfetch cannot change the Referer between redirects (;auto): the node sends the same headers on every hop", f.referer)
		}
		headers = append(headers, "Referer: "+f.referer)
	}
	return headers, nil
}

// remoteName is -O's file name: the last segment of rawURL's path, without
// its query or fragment, as given (curl does not decode it either). A URL
// whose path is empty or ends in '/' (or in "." or "..") has none: curl's
// exit 23, before any request is sent.
func remoteName(rawURL string) (string, error) {
	start, end := urlPath(rawURL)
	p := rawURL[start:end]
	name := p[strings.LastIndexByte(p, '/')+1:]
	if name == "" || name == "." || name == ".." {
		return "", usageCodef(exitWrite, "-O: the URL %q has no file name (its path is empty or ends in /): name the file with -o FILE", withoutPassword(rawURL))
	}
	return name, nil
}

// basicAuth is the "Authorization: Basic" line for user and pass.
func basicAuth(user, pass string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// urlCredentials is the "Authorization: Basic" line for rawURL's
// user:password (percent-decoded, as curl), if it has any.
func urlCredentials(rawURL string) (string, bool) {
	_, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return "", false
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return "", false
	}
	user, pass, _ := strings.Cut(authority[:at], ":")
	u, err1 := url.PathUnescape(user)
	p, err2 := url.PathUnescape(pass)
	if err1 != nil || err2 != nil {
		u, p = user, pass
	}
	return basicAuth(u, p), true
}

// checkHeaderFlags refuses an -H line the request would refuse later: one
// without a name and a ':' (Godot's verify_headers, §1.17, which the node
// would report only once connected, as RESULT_CONNECTION_ERROR) or one
// holding CR, LF or NUL (§7 D2). A bad argument is a usage error.
func checkHeaderFlags(headers []string) error {
	for _, h := range headers {
		if strings.ContainsAny(h, "\r\n\x00") {
			return usagef("-H %q: a header line cannot hold CR, LF or NUL", h)
		}
		if wire.VerifyHeaders([]string{h}) != nil {
			return usagef("-H %q: a header line is \"Name: value\"", h)
		}
	}
	return nil
}
