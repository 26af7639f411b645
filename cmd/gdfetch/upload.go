package main

import (
	"context"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/wire"
)

// upload is a streamed request body from -F (a multipart/form-data form)
// or -T (a file sent as is), sent with the node's RequestMultipart or
// RequestStream: files are read while they are sent, never held in memory.
type upload struct {
	form *httprequest.Multipart // -F
	file string                 // -T FILE; "-": standard input, chunked
}

// parseUpload builds the upload of -F values (curl's "name=value",
// "name=@FILE" for a file part, "name=<FILE" for a text field read from a
// file) or of -T FILE; nil when neither is given. A value is sent as given:
// curl's part options (";type=", ";filename=", ";headers=", ";encoder=")
// are a usage error, since a part's headers cannot be chosen (Multipart sends
// a file part as its base name, application/octet-stream, a field with
// neither) and gdfetch would otherwise send the option as part of the value.
func parseUpload(form []string, file string) (*upload, error) {
	switch {
	case len(form) > 0 && file != "":
		return nil, usagef("-F and -T do not go together")
	case file != "":
		if file != "-" {
			fi, err := os.Stat(file)
			if err != nil {
				return nil, usageCodef(exitRead, "-T: %v", err)
			}
			if !fi.Mode().IsRegular() {
				return nil, usagef("-T %s: not a regular file", file)
			}
		}
		return &upload{file: file}, nil
	case len(form) == 0:
		return nil, nil
	}
	m := httprequest.NewMultipart()
	for _, f := range form {
		name, value, ok := strings.Cut(f, "=")
		if !ok || name == "" {
			return nil, usagef("-F %q: expected name=value, name=@FILE or name=<FILE", f)
		}
		if opt := formPartOption(value); opt != "" {
			return nil, usagef("-F %q: curl's %q part option is not supported (a part's headers cannot be chosen: a file part goes as its base name, application/octet-stream); the value would be sent with it", f, opt)
		}
		switch {
		case strings.HasPrefix(value, "@"):
			m.File(name, value[1:])
		case strings.HasPrefix(value, "<"):
			b, err := os.ReadFile(value[1:])
			if err != nil {
				return nil, usageCodef(exitRead, "-F %s: %v", name, err)
			}
			m.Field(name, string(b))
		default:
			m.Field(name, value)
		}
		if err := m.Err(); err != nil {
			return nil, usageCodef(exitRead, "-F %s: %v", name, err)
		}
	}
	return &upload{form: m}, nil
}

// formPartOptions are the part options curl reads after a ';' in a -F value
// (curl 7.88 tool_formparse.c; any case, spaces allowed after the ';').
var formPartOptions = []string{"type=", "filename=", "headers=", "encoder="}

// formPartOption returns the first curl part option in a -F value, such as
// ";type=", or "".
func formPartOption(value string) string {
	for rest := value; ; {
		i := strings.IndexByte(rest, ';')
		if i < 0 {
			return ""
		}
		rest = rest[i+1:]
		word := strings.TrimLeft(rest, " \t")
		for _, opt := range formPartOptions {
			if len(word) >= len(opt) && strings.EqualFold(word[:len(opt)], opt) {
				return ";" + opt
			}
		}
	}
}

// method is the upload's default method: POST for a form, PUT for -T (as
// curl).
func (u *upload) method() httpclient.Method {
	if u.form != nil {
		return httpclient.MethodPost
	}
	return httpclient.MethodPut
}

// targetURL is curl's -T rule: a URL whose path is empty or ends in '/'
// gets the file's base name, percent-encoded (url.PathEscape), at the end of
// its path, before the query and the fragment, which stay as they are
// ("http://h:8080" → "http://h:8080/up.txt"). As curl, the path ends at the
// first '?' or '#' and starts at the first '/', '?' or '#' after the scheme;
// the rest of the URL is kept byte for byte.
func (u *upload) targetURL(raw string) string {
	if u.form != nil || u.file == "-" {
		return raw
	}
	pathStart, pathEnd := urlPath(raw)
	p := raw[pathStart:pathEnd]
	if p != "" && !strings.HasSuffix(p, "/") {
		return raw
	}
	name := url.PathEscape(filepath.Base(u.file))
	if p == "" {
		name = "/" + name
	}
	return raw[:pathEnd] + name + raw[pathEnd:]
}

// start starts the request on n: the form, or the file (its size as the
// length; standard input chunked, through stdinBody so that ctx and maxTime,
// --max-time, can end a Read that waits for input). The returned function
// releases the file once the completion was delivered.
func (u *upload) start(ctx context.Context, n *httprequest.HTTPRequest, url string, headers []string,
	method httpclient.Method, maxTime time.Duration) (func(), error) {
	if u.form != nil {
		return func() {}, n.RequestMultipart(url, headers, method, u.form)
	}
	if u.file == "-" {
		r, release := stdinBody(ctx, os.Stdin, maxTime)
		return release, n.RequestStream(url, headers, method, r, -1)
	}
	done := func() {}
	f, err := os.Open(u.file)
	if err != nil {
		return done, usagef("-T: %v", err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return done, usagef("-T: %v", err)
	}
	return func() { _ = f.Close() }, n.RequestStream(url, headers, method, f, fi.Size())
}

// errStdinMaxTime ends a -T - body whose standard input had no data when
// --max-time passed: exit 28, as the node's own RESULT_TIMEOUT.
var errStdinMaxTime = errors.New("--max-time reached while waiting for standard input")

// stdinBody is standard input as the body of -T -. The node reads a
// streamed body inside Process (RequestStream), so a Read that waits for
// input (a terminal, a slow producer) would hold the frame loop, and with it
// the checks of ctx (Ctrl-C) and of the timeout. A regular file never waits:
// it is the body itself (a redirect can then rewind it). Anything else is
// copied into an io.Pipe by a goroutine; when ctx ends or maxTime (> 0)
// passes, the pipe is closed with ctx's error or errStdinMaxTime, so the
// node's Read returns at once and the request ends with RESULT_CONNECTION_ERROR
// and that cause (runFetch maps it to 130 or 28). release stops the watchers
// and closes the pipe: the goroutine ends at stdin's next data or EOF, or
// stays in a Read that never returns until the process exits.
func stdinBody(ctx context.Context, in io.Reader, maxTime time.Duration) (body io.Reader, release func()) {
	if f, ok := in.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			return f, func() {}
		}
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, in)
		_ = pw.CloseWithError(err) // nil: EOF, the end of the chunked body
	}()
	stop := context.AfterFunc(ctx, func() { _ = pw.CloseWithError(ctx.Err()) })
	var timer *time.Timer
	if maxTime > 0 {
		timer = time.AfterFunc(maxTime, func() { _ = pw.CloseWithError(errStdinMaxTime) })
	}
	return pr, func() {
		stop()
		if timer != nil {
			timer.Stop()
		}
		_ = pr.Close() // a copy blocked in Write returns
	}
}

// nodeHeaders are the header lines the node passes to the client for the
// upload: the caller's (for a form without their Content-Type:
// RequestMultipart puts the form's own), the form's Content-Type, and the
// automatic Accept-Encoding (§2.4.6). The jar's Cookie line follows them.
func (u *upload) nodeHeaders(n *httprequest.HTTPRequest, headers []string) []string {
	var hdrs []string
	for _, h := range headers {
		if u.form == nil || !wire.HasHeader([]string{h}, "content-type:") {
			hdrs = append(hdrs, h)
		}
	}
	if u.form != nil {
		hdrs = append(hdrs, u.form.Header())
	}
	return withAcceptEncoding(n, hdrs)
}

// head is the request head the upload is sent with, given the node's header
// lines (nodeHeaders): the client adds Host, Content-Length or
// Transfer-Encoding: chunked, and its other automatic lines; proxy gives
// the absolute form of a request to an HTTP proxy. For -v (verboseRequest).
func (u *upload) head(url string, hdrs []string, method httpclient.Method, proxy bool) []byte {
	p, err := wire.ParseRequestURL(url)
	if err != nil {
		return nil
	}
	length := int64(wire.StreamChunked)
	if u.form != nil {
		length = u.form.Len()
	} else if fi, err := os.Stat(u.file); err == nil && u.file != "-" {
		length = fi.Size()
	}
	return wire.AppendRequestHead(nil, &wire.Request{
		Method: method, URL: p.Path, Headers: hdrs, StreamLength: length,
		Host: p.Host, Port: p.Port, TLS: p.TLS, HTTPProxy: proxy && !p.TLS,
	})
}
