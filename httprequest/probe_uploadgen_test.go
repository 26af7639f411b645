package httprequest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
)

// TestProbeUploadgenZeroLengthRedirect (found by TestUploadgenNode): a
// RequestStream with length 0 and a body that is not an io.Seeker, answered
// with a 302, ends with RESULT_REQUEST_FAILED and ErrBodyNotReplayable.
//
// Rule: §2.8.1.7 — on 301/302 Godot re-sends "method, body and all headers
// unchanged": http_request.cpp's redirect path calls `err = _request();`,
// whose CONNECTED step sends `client->request_raw(method, request_string,
// headers, request_data)` with the same request_data, here empty. COMPAT U3
// and RequestStream's doc: "length 0 sends no body and never reads body";
// rewindUpload's own doc: "nothing to do when it was not read";
// ErrBodyNotReplayable's doc: the body cannot be sent again because "its
// bytes were consumed by the first request" — none were.
//
// gdhttp: sendRequest sets upload.used = true before RequestStream, which
// with length 0 never touches the reader, so rewindUpload sees a used
// non-Seeker and fails the redirect (RESULT_REQUEST_FAILED, 9, a result
// Godot never produces here). Expected: the redirect is followed, the empty
// POST sent again, RESULT_SUCCESS 200.
func TestProbeUploadgenZeroLengthRedirect(t *testing.T) {
	n := newNode(t)
	srv := serve(t, route(func(line string, _ []byte) string {
		if strings.HasPrefix(line, "POST /next ") {
			return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
		}
		return "HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n"
	}))
	body := onlyReader{strings.NewReader("")}
	url := srv.URL("/up")
	o := streamDriver{drive.Process}.run(t, n, url, nil, httpclient.MethodPost, body, 0)
	assert.Equal(t, ResultSuccess, o.C.Result, "cause: %v", o.Err)
	assert.Equal(t, 200, o.C.ResponseCode)
	assert.Equal(t, "ok", string(o.C.Body))
}
