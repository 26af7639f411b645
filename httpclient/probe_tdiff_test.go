package httpclient

// Findings of the generated Transport differential (TestTransportDiffNetHTTP,
// tdiff_test.go), each as one hand-written case. Each fails on the code as
// it stands.

import (
	"errors"
	"io"
	"testing"
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

// TestProbeTdiffHTTP10ChunkedReused: an HTTP/1.0 response with
// "Transfer-Encoding: chunked" (and "Connection: keep-alive", so that it
// is persistent) is read chunked, as Godot reads it — Godot ignores the
// version (§1.8.8) and takes any "Transfer-Encoding: chunked" line:
//
//	} else if (s.begins_with("transfer-encoding:")) {
//		String encoding = header.substr(header.find_char(':') + 1).strip_edges();
//		if (encoding == "chunked") {
//			chunked = true;
//
// (http_client_tcp.cpp, HTTPClientTCP::poll, STATUS_REQUESTING) — but RFC
// 9112 §6.1 says a client that receives an HTTP/1.0 message with a
// Transfer-Encoding "MUST treat the message as if the framing is faulty
// ... and close the connection after processing the message"; net/http
// reads the body until the close (Close true). Two parsers read the
// framing differently: §7 D2 and COMPAT R4/H5 say such a connection is
// not reused. gdhttp reuses it (resp.Close false, the second request on
// the same connection), in lenient and in strict mode.
func TestProbeTdiffHTTP10ChunkedReused(t *testing.T) {
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

// TestProbeTdiffDoomedChunkBodyError: a chunk size line with a byte that
// is not hex ("b;x" → 0xb, §1.10.2.2) whose chunk never comes whole — the
// server closes — ends with a *BodyError whose Err is a *chunked.Error of
// KindNotHex, so errors.Is(err, io.ErrUnexpectedEOF) is false, against
// BodyError's doc ("errors.Is(err, io.ErrUnexpectedEOF) holds for every
// BodyError"; "Err is ... a *chunked.Error of KindTruncated"), and
// ErrConnectionError is not in the chain either, against
// ReadResponseBodyChunkInto's doc (ErrConnectionError wrapping a
// *chunked.Error). Godot reads the chunk on after the error and ends at
// the EOF with DISCONNECTED:
//
//	} else {
//		ERR_PRINT("HTTP Chunk len not in hex!!");
//		status = STATUS_CONNECTION_ERROR;
//		break;
//	}
//	...
//	chunk_left = len + 2;
//	...
//	if (err == ERR_FILE_EOF) {
//		status = STATUS_DISCONNECTED; // Server disconnected.
//
// (read_response_body_chunk). The status is Godot's; the Go error is
// neither the truncation BodyError promises nor the protocol error.
func TestProbeTdiffDoomedChunkBodyError(t *testing.T) {
	srv := tdListen(t, &tdCase{rawResp: []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb;x\r\nhel"), after: "close"})
	defer srv.stop()
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	r := tdRun(&tdCase{method: "GET"}, tr, srv)
	if r.err != nil || r.bodyErr == nil {
		t.Fatalf("%s", tdDescribe(&r))
	}
	var be *BodyError
	if errors.As(r.bodyErr, &be) && !errors.Is(r.bodyErr, io.ErrUnexpectedEOF) {
		t.Errorf("a *BodyError that is not io.ErrUnexpectedEOF: %v", r.bodyErr)
	}
	if be == nil && !errors.Is(r.bodyErr, ErrConnectionError) {
		t.Errorf("a chunk error without ErrConnectionError: %v", r.bodyErr)
	}
}
