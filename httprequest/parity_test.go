package httprequest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// Issue 7 ("Godot parity"), the node's rules. Every test runs in the three
// drivers of §7.3 against loopback servers.

// headersOf returns the header lines the client stores for head (Godot's
// §1.8.5 strings), computed with the lenient head parser.
func headersOf(t *testing.T, head string) []string {
	t.Helper()
	var p wire.HeadParser
	var h wire.Head
	_, err := p.Parse([]byte(head), &h)
	require.NoError(t, err)
	if len(h.Headers) == 0 {
		return nil
	}
	return append([]string(nil), h.Headers...)
}

// issue 7 rule 1, §7 D2 (COMPAT R4, H5): a response whose head is flagged
// ambiguous is delivered exactly as Godot delivers it — (result, code,
// headers, body), and BodySize — whichever way the client ends the
// connection afterwards (DISCONNECTED, or CONNECTED as Godot). The head is
// followed by no framing (keep-alive: Godot is CONNECTED at once, §2.6 → R0
// with an empty body), a Content-Length body (§2.6.1.7) or a chunked body.
func TestIssue7Rule1AmbiguousHeadKeepsResponse(t *testing.T) {
	flags := []struct {
		name string
		line string // a header line that flags the head (§7 D2), or "" with reason
		// status replaces the status line.
		status string
	}{
		{name: "space before the colon of Content-Length", line: "Content-Length : 5"},
		{name: "space before the colon of Transfer-Encoding", line: "Transfer-Encoding : chunked"},
		{name: "Content-Length -1", line: "Content-Length: -1"},
		{name: "Content-Length +0", line: "Content-Length: +0"},
		{name: "field name not a token", line: "Bad Name: x"},
		{name: "NUL in a value", line: "X-Nul: a\x00b"},
		{name: "invalid UTF-8 in a value", line: "X-Bad: a\xffb"},
		{name: "bare CR in a value", line: "X-CR: a\rb"},
		{name: "control byte in the reason phrase", status: "HTTP/1.1 200 O\x01K"},
	}
	bodies := []struct {
		name     string
		framing  string // header lines before the flag
		body     string
		want     string // delivered body
		bodySize int64  // BodySize() afterwards
	}{
		{name: "no framing", body: "", want: "", bodySize: -1},
		{name: "Content-Length", framing: "Content-Length: 5\r\n", body: "hello", want: "hello", bodySize: 5},
		{name: "chunked", framing: "Transfer-Encoding: chunked\r\n", body: "5\r\nhello\r\n0\r\n\r\n", want: "hello", bodySize: -1},
	}
	for _, f := range flags {
		for _, b := range bodies {
			clFlag := strings.HasPrefix(f.line, "Content-Length: ")
			if clFlag && strings.HasPrefix(b.framing, "Content-Length") {
				continue // two Content-Length values: another case (R4 differing lengths)
			}
			t.Run("§7_D2_"+f.name+"/"+b.name, func(t *testing.T) {
				status := "HTTP/1.1 200 OK"
				if f.status != "" {
					status = f.status
				}
				head := status + "\r\n" + b.framing
				if f.line != "" {
					head += f.line + "\r\n"
				}
				head += "\r\n"
				wantHeaders := headersOf(t, head)
				want := Completion{Result: ResultSuccess, ResponseCode: 200, Headers: wantHeaders}
				if len(wantHeaders) == 0 {
					want = Completion{Result: ResultNoResponse} // §2.7.1
				} else if b.want != "" {
					want.Body = []byte(b.want)
				}
				bodySize := b.bodySize
				if f.line == "Content-Length: +0" && strings.HasPrefix(b.framing, "Transfer-Encoding") {
					// §2.6: chunked with a Content-Length the decoded size does not match.
					want = Completion{Result: ResultChunkedBodySizeMismatch, ResponseCode: 200, Headers: wantHeaders}
					bodySize = 0
				}
				eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
					srv := serve(t, testserver.Script(testserver.Read(), testserver.WriteString(head+b.body), testserver.Hold()))
					o := d.run(t, n, srv.URL("/"), nil, 0, nil)
					assertCompletion(t, want, o)
					if want.Result != ResultNoResponse {
						assert.Equal(t, bodySize, n.BodySize(), "BodySize")
						assert.Equal(t, int64(len(b.want)), n.DownloadedBytes(), "DownloadedBytes")
					}
				})
			})
		}
	}
}

// issue 7 rule 1, §7 D2, §2.8.1: a 301 whose head is flagged ambiguous and
// has no body framing is followed, as Godot follows it from CONNECTED.
func TestIssue7Rule1AmbiguousRedirect(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		srv := serve(t, func(c *testserver.Conn) {
			req, err := c.ReadRequest()
			if err != nil {
				return
			}
			if strings.HasPrefix(string(req), "GET /b ") {
				_ = c.WriteAndClose([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				return
			}
			_ = c.Write([]byte("HTTP/1.1 301 Moved\r\nLocation: /b\r\nContent-Length : 0\r\n\r\n"))
			_ = c.Hold()
		})
		o := d.run(t, n, srv.URL("/a"), nil, 0, nil)
		assertCompletion(t, Completion{Result: ResultSuccess, ResponseCode: 200, Headers: hdrs("Content-Length: 2"), Body: []byte("ok")}, o)
		assert.Equal(t, 2, srv.Accepted(), "one connection per hop")
	})
}
