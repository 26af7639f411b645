package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gdhttp/gdhttp/wire"
)

// writeOutData is what -w's variables show of a finished request.
type writeOutData struct {
	url        string // the URL as given (its password hidden)
	code       int    // the response code, 0 for none
	headers    []string
	downloaded int64 // body bytes received (get_downloaded_bytes)
	elapsed    time.Duration
	exitCode   int
	errMsg     string // the failure, "" on success
	result     int
	resultName string
}

// writeOut writes -w's FORMAT as curl 7.88 does: "%{name}" is a variable
// (writeOutVar; an unknown one prints nothing and is reported on stderr at
// the end, as curl's), "%header{name}" a response header's value,
// "%{stderr}" and "%{stdout}" switch the stream written to, "%%" is '%',
// "\n", "\r" and "\t" are escapes, and everything else — an unterminated
// "%{", a lone '%', another backslash pair — is written as it is.
func writeOut(stdout, stderr io.Writer, format string, d writeOutData) {
	w := stdout
	var unknown []string
	var b strings.Builder
	flush := func() {
		_, _ = io.WriteString(w, b.String())
		b.Reset()
	}
	for i := 0; i < len(format); i++ {
		c := format[i]
		rest := format[i+1:]
		switch {
		case c == '%' && strings.HasPrefix(rest, "%"):
			b.WriteByte('%')
			i++
		case c == '%' && (strings.HasPrefix(rest, "{") || strings.HasPrefix(rest, "header{")):
			header := strings.HasPrefix(rest, "header{")
			open := strings.IndexByte(rest, '{')
			end := strings.IndexByte(rest[open:], '}')
			if end < 0 {
				b.WriteByte(c)
				continue
			}
			name := rest[open+1 : open+end]
			i += open + end + 1
			switch {
			case header:
				b.WriteString(wire.FieldValue(d.headers, name))
			case name == "stdout":
				flush()
				w = stdout
			case name == "stderr":
				flush()
				w = stderr
			default:
				if v, ok := writeOutVar(name, d); ok {
					b.WriteString(v)
				} else {
					unknown = append(unknown, name)
				}
			}
		case c == '\\' && len(rest) > 0 && strings.IndexByte("nrt", rest[0]) >= 0:
			b.WriteByte("\n\r\t"[strings.IndexByte("nrt", rest[0])])
			i++
		default:
			b.WriteByte(c)
		}
	}
	flush()
	for _, name := range unknown {
		fmt.Fprintf(stderr, "gdfetch: unknown --write-out variable: '%s'\n", name)
	}
}

// writeOutVar is the value of curl's -w variable name, as curl 7.88 prints
// it, for the ones gdfetch knows; result and result_name are gdfetch's
// own (request_completed's result). The node does not tell the URL after
// redirects, nor the connection's timings, so url_effective,
// num_redirects, time_connect and the like are unknown.
func writeOutVar(name string, d writeOutData) (string, bool) {
	switch name {
	case "http_code", "response_code":
		return fmt.Sprintf("%03d", d.code), true
	case "size_download":
		return strconv.FormatInt(d.downloaded, 10), true
	case "time_total":
		return fmt.Sprintf("%.6f", d.elapsed.Seconds()), true
	case "speed_download":
		if d.elapsed <= 0 {
			return "0", true
		}
		return strconv.FormatInt(int64(float64(d.downloaded)/d.elapsed.Seconds()), 10), true
	case "exitcode":
		return strconv.Itoa(d.exitCode), true
	case "errormsg":
		return d.errMsg, true
	case "content_type":
		return wire.FieldValue(d.headers, "Content-Type"), true
	case "url":
		return d.url, true
	case "result":
		return strconv.Itoa(d.result), true
	case "result_name":
		return d.resultName, true
	}
	return "", false
}
