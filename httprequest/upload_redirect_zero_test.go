package httprequest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
)

// TestRequestStreamZeroLengthRedirect: a RequestStream with length 0 and a
// body that is not an io.Seeker, answered with a 302, follows the redirect
// and sends the empty request again (§2.8.1.7: method, body and headers
// re-sent unchanged; Godot's redirect calls _request() again with the same,
// empty, request_data). A length of 0 never reads the body (U1), so there
// is nothing to rewind. It ended with RESULT_REQUEST_FAILED and
// ErrBodyNotReplayable (found by TestUploadgenNode).
func TestRequestStreamZeroLengthRedirect(t *testing.T) {
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
