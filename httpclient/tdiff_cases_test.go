package httpclient

// The findings of the generated Transport differential
// (TestTransportDiffNetHTTP, tdiff_test.go), each as one hand-written case.

import (
	"errors"
	"io"
	"testing"

	"github.com/gdhttp/gdhttp/chunked"
)

// tdProbe serves resp to the first request (the server keeps the
// connection; later requests get "second-cN-rM") and sends method, then a
// GET, over one Transport.
func tdProbe(t *testing.T, strict bool, method, resp string) tdResult {
	t.Helper()
	srv := tdListenRaw(t, resp)
	defer srv.stop()
	tr := &Transport{Strict: strict}
	defer tr.CloseIdleConnections()
	return tdRun(&tdCase{method: method}, tr, srv)
}

// TestTransportHTTP10ChunkedNotReused: an HTTP/1.0 response with
// "Transfer-Encoding: chunked" (and "Connection: keep-alive", so that it
// is persistent) is read chunked, as Godot reads it (Godot ignores the
// version, §1.8.8, and takes an exact "chunked" value in its poll of
// STATUS_REQUESTING); but RFC 9112 §6.1 has a recipient treat the framing
// of an HTTP/1.0 message with Transfer-Encoding as faulty and close the
// connection after it, and net/http reads the body until the close. Two
// parsers read the framing differently, so the connection is not reused
// (§7 D2, COMPAT R4/H5): resp.Close is true and the second request takes a
// new connection, in lenient and in strict mode. (Found by the generated
// differential: it was reused.)
func TestTransportHTTP10ChunkedNotReused(t *testing.T) {
	const resp = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
	for _, strict := range []bool{false, true} {
		r := tdProbe(t, strict, "GET", resp)
		if r.err != nil || r.bodyErr != nil || string(r.body) != "hello" {
			t.Fatalf("strict=%v: %s", strict, tdDescribe(&r))
		}
		if !r.close {
			t.Errorf("strict=%v: resp.Close is false after an HTTP/1.0 response with Transfer-Encoding (RFC 9112 §6.1; net/http: true)", strict)
		}
		if r.accepted != 1 {
			continue
		}
		t.Errorf("strict=%v: the second request reused the connection (%q)", strict, r.secondBody)
	}
}

// TestBodyErrorDoomedChunk: a chunk size line with a byte that is not hex
// ("b;x" reads as 0xb, §1.10.2.2) whose chunk never comes whole — the
// server closes — ends as Godot's does at DISCONNECTED (Godot sets
// CONNECTION_ERROR at the bad byte, reads the chunk on, and an EOF then
// gives DISCONNECTED, in read_response_body_chunk). The error is a
// *BodyError, as for any body cut short: errors.Is(err,
// io.ErrUnexpectedEOF) holds, as BodyError's doc says of every one, and
// its Err is the *chunked.Error of KindNotHex. (Found by the generated
// differential: the BodyError was not io.ErrUnexpectedEOF.)
func TestBodyErrorDoomedChunk(t *testing.T) {
	srv := tdListen(t, &tdCase{rawResp: []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb;x\r\nhel"), after: "close"})
	defer srv.stop()
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	r := tdRun(&tdCase{method: "GET"}, tr, srv)
	if r.err != nil || r.bodyErr == nil {
		t.Fatalf("%s", tdDescribe(&r))
	}
	var be *BodyError
	if !errors.As(r.bodyErr, &be) {
		t.Fatalf("not a *BodyError: %v", r.bodyErr)
	}
	if !errors.Is(r.bodyErr, io.ErrUnexpectedEOF) {
		t.Errorf("a *BodyError that is not io.ErrUnexpectedEOF: %v", r.bodyErr)
	}
	var ce *chunked.Error
	if !errors.As(r.bodyErr, &ce) || ce.Kind != chunked.KindNotHex {
		t.Errorf("Err is not the size line's *chunked.Error of KindNotHex: %v", r.bodyErr)
	}
}
