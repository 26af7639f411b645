package main

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/wire"
)

func itoa(n int64) string   { return strconv.FormatInt(n, 10) }
func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// resultLine is a completion in one line: "RESULT_SUCCESS (0) 200".
func resultLine(ex *exchange) string {
	return fmt.Sprintf("%s (%d) %d", ex.Result, int(ex.Result), ex.ResponseCode)
}

// writeInclude prints -i's block: the result line, the headers exactly as
// request_completed delivers them (stripped lines, in order, duplicates
// kept, no status line: Godot gives only the code), and an empty line.
// twice writes the block two times over (-i with -D -, as curl prints the
// headers for each).
func writeInclude(w io.Writer, ex *exchange, twice bool) error {
	var b strings.Builder
	b.WriteString(resultLine(ex))
	b.WriteByte('\n')
	for _, h := range ex.Headers {
		b.WriteString(h)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	if twice {
		b.WriteString(b.String())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// dumpHeaders is -D FILE: writeInclude's block in FILE (made or truncated),
// as curl writes the response's head there; FILE is left empty when no
// response came (a refused connection), as curl's.
func dumpHeaders(path string, ex *exchange) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if ex.ResponseCode != 0 {
		err = writeInclude(f, ex, false)
	}
	return errors.Join(err, f.Close())
}

// summary is the line printed on stderr after a transfer: the result, the
// code, where the body went, and the time.
func summary(cfg *config, ex *exchange, bodyBytes int64) string {
	s := "* " + resultLine(ex)
	switch {
	case cfg.output != "" && ex.Result == 0:
		s += ", body saved to " + cfg.output
	default:
		s += ", " + humanBytes(bodyBytes) + " body"
	}
	if !cfg.resume { // -C - runs through Do: no frames
		s += fmt.Sprintf(", %d frames", ex.Frames)
	}
	return s + ", " + ex.Elapsed.Round(time.Microsecond).String() + "\n"
}

// failure is the line printed on stderr for a completion other than
// RESULT_SUCCESS, with the real cause (LastError) and the exit status.
func failure(ex *exchange, code int) string {
	s := "gdfetch: " + resultLine(ex)
	if ex.Cause != nil {
		s += ": " + ex.Cause.Error()
	}
	return s + fmt.Sprintf(" (exit %d)\n", code)
}

// failureHint is what to do about a failure, on a line of its own after
// failure's line ("" when failure's says it all): an untrusted certificate
// (curl 7.88 points to its web page instead), the redirect limit (the flag
// that raises it), a timeout (after how long and
// what came, as curl's "Operation timed out after … with … received"), and
// a host Godot's HTTPClient refuses for being shorter than 4 characters (an
// IPv6 literal such as [::1]: its long form passes). received is the body
// bytes the node had.
func failureHint(cfg *config, ex *exchange, code int, received int64) string {
	switch code {
	case exitPeerVerify:
		if _, ok := errors.AsType[x509.HostnameError](ex.Cause); ok {
			return "gdfetch: the certificate is for another name: --tls-name NAME checks it against NAME " +
				"(common_name_override); -k skips the check (TLSOptions.client_unsafe())\n"
		}
		return "gdfetch: the server's certificate is not trusted: --cacert FILE trusts its issuer " +
			"(TLSOptions.client(trusted_chain)); -k skips the check (TLSOptions.client_unsafe())\n"
	case exitRedirects:
		return "gdfetch: --max-redirs N raises the limit (max_redirects, default 8; -1: none)\n"
	case exitTimeout:
		if _, ok := errors.AsType[*connectTimeoutError](ex.Cause); ok {
			return "" // the cause says it: curl's message, the flag and the status
		}
		if cfg.timeout > 0 {
			return fmt.Sprintf("gdfetch: timed out after %v (-m, the node's timeout), %s of body received\n",
				cfg.timeout, humanBytes(received))
		}
	case exitConnect:
		u, err := wire.ParseURL(cfg.url)
		if err != nil || len(u.Host) >= 4 || !errors.Is(ex.Cause, godot.ErrInvalidParameter) {
			return ""
		}
		if a, err := netip.ParseAddr(u.Host); err == nil && a.Is6() {
			return fmt.Sprintf("gdfetch: Godot's HTTPClient refuses a host shorter than 4 characters: write [%s] as [%s]\n",
				u.Host, longIPv6(a))
		}
		return "gdfetch: Godot's HTTPClient refuses a host shorter than 4 characters: use a longer name or its address\n"
	}
	return ""
}

// longIPv6 is a's eight groups without "::" ([0:0:0:0:0:0:0:1] for ::1),
// which Godot's 4-character minimum lets through.
func longIPv6(a netip.Addr) string {
	b := a.As16()
	groups := make([]string, 8)
	for i := range groups {
		groups[i] = strconv.FormatUint(uint64(b[2*i])<<8|uint64(b[2*i+1]), 16)
	}
	return strings.Join(groups, ":")
}

// writeRequest prints -v's exact request bytes, one line per "> " line with
// the line ends shown (␍␊), then the body.
func writeRequest(w io.Writer, req []byte) {
	head, body, _ := strings.Cut(string(req), "\r\n\r\n")
	var b strings.Builder
	for _, line := range strings.Split(head+"\r\n", "\r\n") {
		if line == "" {
			continue
		}
		b.WriteString("> " + line + "␍␊\n")
	}
	b.WriteString("> ␍␊\n")
	if body != "" {
		if utf8.ValidString(body) {
			for _, line := range strings.Split(body, "\n") {
				b.WriteString("> " + line + "\n")
			}
		} else {
			fmt.Fprintf(&b, "> [%d bytes of binary data]\n", len(body))
		}
	}
	io.WriteString(w, b.String())
}

// writeTrace prints -v's status trace: each client status the node went
// through (get_http_client_status after each frame) with its time. An
// exchange without a trace (-C -: DoResumable's blocking Do) has no frames
// to show.
func writeTrace(w io.Writer, ex *exchange) {
	var b strings.Builder
	if len(ex.Trace) == 0 {
		fmt.Fprintf(&b, "* request_completed after %s (blocking Do: no frames, no status trace)\n", fmtMillis(ex.Elapsed))
	} else {
		b.WriteString("* status trace (get_http_client_status, per frame):\n")
		for _, s := range ex.Trace {
			fmt.Fprintf(&b, "*   %9s  %s\n", "+"+fmtMillis(s.At), s.Status)
		}
		fmt.Fprintf(&b, "* request_completed after %d frames, %s\n", ex.Frames, fmtMillis(ex.Elapsed))
	}
	for _, h := range ex.Headers {
		b.WriteString("< " + h + "\n")
	}
	io.WriteString(w, b.String())
}

func fmtMillis(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
}

// jsonCompletion is --json's object: request_completed's four values and
// what gdfetch adds (the cause, the exit status, the trace). frames and
// status_trace are left out for -C -, which runs through DoResumable's
// blocking Do: there are no frames to count or trace.
type jsonCompletion struct {
	URL          string      `json:"url"`
	Result       int         `json:"result"`
	ResultName   string      `json:"result_name"`
	ResponseCode int         `json:"response_code"`
	Headers      []string    `json:"headers"`
	Body         *string     `json:"body,omitempty"`
	BodyBase64   *string     `json:"body_base64,omitempty"`
	DownloadFile string      `json:"download_file,omitempty"`
	BodySize     int64       `json:"body_size"`
	Downloaded   int64       `json:"downloaded_bytes"`
	Error        string      `json:"error,omitempty"`
	ExitCode     int         `json:"exit_code"`
	Frames       *int        `json:"frames,omitempty"`
	ElapsedMS    float64     `json:"elapsed_ms"`
	Trace        []jsonTrace `json:"status_trace,omitempty"`
}

type jsonTrace struct {
	Status string  `json:"status"`
	AtMS   float64 `json:"at_ms"`
}

// writeJSON prints the completion as one JSON object and a newline. The body
// is a string when it is UTF-8, else body_base64.
func writeJSON(w io.Writer, cfg *config, ex *exchange, bodySize, downloaded int64, code int) error {
	j := jsonCompletion{
		URL: withoutPassword(cfg.url), Result: int(ex.Result), ResultName: ex.Result.String(),
		ResponseCode: ex.ResponseCode, Headers: ex.Headers, DownloadFile: cfg.output,
		BodySize: bodySize, Downloaded: downloaded, ExitCode: code,
		ElapsedMS: float64(ex.Elapsed) / float64(time.Millisecond),
	}
	if !cfg.resume {
		j.Frames = &ex.Frames
	}
	if j.Headers == nil {
		j.Headers = []string{}
	}
	if ex.Body != nil {
		if utf8.Valid(ex.Body) {
			s := string(ex.Body)
			j.Body = &s
		} else {
			s := base64.StdEncoding.EncodeToString(ex.Body)
			j.BodyBase64 = &s
		}
	}
	if ex.Cause != nil {
		j.Error = ex.Cause.Error()
	}
	for _, s := range ex.Trace {
		j.Trace = append(j.Trace, jsonTrace{s.Status.String(), float64(s.At) / float64(time.Millisecond)})
	}
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
