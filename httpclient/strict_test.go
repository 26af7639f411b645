package httpclient

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// TestStrictTransferEncoding covers issue 7 rule 10 (§7.4; RFC 9112 §6.1
// and RFC 9112 §6.3, RFC 9110 §5.5) through the client, in both modes. Strict: a
// Transfer-Encoding with any coding but chunked is CONNECTION_ERROR with a
// *wire.HeadError (never a body handed over still coded, never framed by the
// Content-Length RFC 9112 says to ignore); chunked with a Content-Length has
// ResponseBodyLength −1 and the whole chunked body is read; obs-text in a
// value is accepted. The default mode keeps Godot's behaviour: the same
// responses framed by Godot's rules (§1.8.3, §1.9).
func TestStrictTransferEncoding(t *testing.T) {
	const chunkedHello = "5\r\nhello\r\n0\r\n\r\n"
	bodyThenDisc := statuses(StatusBody, StatusDisconnected) // a read-until-close body: the peer's close ends it
	// §7 D2 ambiguous framing (issue 7 rule 1): Godot's status path, then the
	// client retires the connection.
	bodyThenRetired := statuses(StatusBody, StatusConnected)
	tests := []struct {
		name    string
		resp    string
		strict  bool
		trace   []Status // after REQUESTING
		body    string
		bodyLen int64
		chunked bool
		headers []string
		refused bool
	}{
		{name: "gzip-alone", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\nGZDATA",
			strict: true, refused: true},
		{name: "gzip-alone", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\nGZDATA",
			trace: bodyThenDisc, body: "GZDATA", bodyLen: -1},
		{name: "gzip-before-chunked", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + chunkedHello,
			strict: true, refused: true},
		{name: "gzip-before-chunked", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + chunkedHello,
			trace: statuses(StatusConnected), body: "", bodyLen: -1}, // §1.9: not exactly "chunked", no length, keep-alive: no body
		{name: "gzip-beside-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\nhello",
			strict: true, refused: true},
		{name: "gzip-beside-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\nhello",
			trace: bodyThenRetired, body: "hello", bodyLen: 5},
		{name: "chunked-beside-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedHello,
			strict: true, trace: bodyThenRetired, body: "hello", bodyLen: -1, chunked: true},
		{name: "chunked-beside-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedHello,
			trace: bodyThenRetired, body: "hello", bodyLen: 3, chunked: true}, // Godot's getter keeps the Content-Length
		{name: "obs-text-value", resp: "HTTP/1.1 200 OK\r\nX: caf\xe9\r\nContent-Length: 2\r\n\r\nok",
			strict: true, trace: statuses(StatusBody, StatusConnected), body: "ok", bodyLen: 2, headers: []string{"X: caf\uFFFD", "Content-Length: 2"}},
	}
	for _, tt := range tests {
		mode := "lenient"
		if tt.strict {
			mode = "strict"
		}
		for _, m := range modes {
			for _, path := range []readPath{pathChunks, pathInto} {
				t.Run(tt.name+"/"+mode+"/"+m.name+"/"+path.String(), func(t *testing.T) {
					srv := ts.New(t, ts.RespondAndClose(tt.resp))
					c, tr := newClient(t, m.blocking)
					c.SetStrict(tt.strict)
					r := roundTrip(t, c, tr, "127.0.0.1", srv.Port(), nil, getRoot, path, false)
					if tt.refused {
						assert.Equal(t, concat(connected, StatusConnectionError), r.Trace)
						assert.True(t, errors.Is(r.LastErr, ErrConnectionError), "%v", r.LastErr)
						var he *wire.HeadError
						require.True(t, errors.As(r.LastErr, &he), "typed cause: %v", r.LastErr)
						assert.Contains(t, he.Reason, "transfer coding other than chunked")
						return
					}
					assert.Equal(t, concat(connected, tt.trace...), r.Trace)
					assert.Equal(t, tt.body, r.Body)
					assert.Equal(t, tt.bodyLen, r.BodyLen, "ResponseBodyLength")
					assert.Equal(t, tt.chunked, r.Chunked, "IsResponseChunked")
					if tt.headers != nil {
						assert.Equal(t, tt.headers, r.Headers)
					}
					assert.NoError(t, r.LastErr)
				})
			}
		}
	}
}

// TestStrictRequestRefusedBeforeSending covers issue 7 rule 10 (§7.4, §7
// D2): in strict mode a user header whose name is not a token, or whose
// value holds a control byte, makes Request/RequestRaw return
// ErrInvalidParameter at once, in both modes; nothing is sent and the
// status stays CONNECTED. obs-text in a value is sent (RFC 9110 §5.5). The
// default mode sends Godot's lenient headers.
func TestStrictRequestRefusedBeforeSending(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		strict  bool
		refused bool
	}{
		{"space-in-name", "X Y: z", true, true},
		{"non-token-name", "(x): y", true, true},
		{"leading-space-name", " X: y", true, true},
		{"control-in-value", "X: a\x01b", true, true},
		{"del-in-value", "X: a\x7fb", true, true},
		{"obs-text-value", "X: caf\xe9", true, false},
		{"space-in-name-lenient", "X Y: z", false, false},
		{"control-in-value-lenient", "X: a\x01b", false, false},
	}
	for _, tt := range tests {
		for _, m := range modes {
			for _, raw := range []bool{false, true} {
				name := tt.name + "/" + m.name + "/request"
				if raw {
					name += "-raw"
				}
				t.Run(name, func(t *testing.T) {
					srv := ts.New(t, ts.RespondEach(okResp))
					c, tr := newClient(t, m.blocking)
					c.SetStrict(tt.strict)
					require.NoError(t, connect(t, c, "127.0.0.1", srv.Port(), nil))
					var err error
					if raw {
						err = c.RequestRaw(MethodGet, "/", []string{tt.header}, nil)
					} else {
						err = c.Request(MethodGet, "/", []string{tt.header}, "")
					}
					if tt.refused {
						assert.True(t, errors.Is(err, ErrInvalidParameter), "%v", err)
						assert.Equal(t, StatusConnected, c.Status())
						assert.Equal(t, statuses(StatusConnecting, StatusConnected), *tr)
						// A valid request still goes through on the same connection.
						require.NoError(t, c.Request(MethodGet, "/", nil, ""))
					} else {
						require.NoError(t, err)
					}
					_ = pollWhile(t, c, StatusRequesting)
					var r result
					readBody(t, c, pathChunks, &r)
					assert.Equal(t, "ok", r.Body)
					c.Close()
					srv.Close()
					require.Len(t, srv.Requests(), 1, "only the valid request was sent")
					if tt.refused {
						assert.NotContains(t, string(srv.Requests()[0]), tt.header)
					} else {
						assert.Contains(t, string(srv.Requests()[0]), "\r\n"+tt.header+"\r\n")
					}
				})
			}
		}
	}
}
