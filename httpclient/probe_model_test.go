package httpclient

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestProbeModelNegativeLengthReadGetters: §1.9 note, §1.6.3.3, §1.12 and
// COMPAT R2. Godot reads a Content-Length below −1 as a body that never
// completes (http_client_tcp.cpp, read_response_body_chunk):
//
//	int to_read = !read_until_eof ? MIN(body_left, read_chunk_size) : read_chunk_size;
//	... while (to_read > 0) { ... }   // never entered: nothing is read, err stays OK
//	} else if (body_left == 0 && !chunked && !read_until_eof) {   // body_left < 0: still BODY
//
// so its only way out of BODY is poll()'s liveness check once the server
// closes — `status = STATUS_CONNECTION_ERROR; return ERR_CONNECTION_ERROR;`
// without close(): the code, the headers and the body length stay. COMPAT
// R2 replaces "for ever" by CONNECTION_ERROR at the first read, "the node:
// R4, Godot's result once the server closes". The port's poll path does
// keep the getters (a FIN seen by Poll in BODY: code 200, length −7,
// HasResponse true), but its read path runs close(): code 0, length −1,
// HasResponse false — a state Godot never shows for this response, and a
// different one from the port's own for the same response when Poll sees
// the FIN first. Found by TestAudit5GodotModel with GDHTTP_MODEL_WIDE=1
// (the model now follows the port here, so that the run goes on).
func TestProbeModelNegativeLengthReadGetters(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c := arrived(t, m, MethodGet, "HTTP/1.1 200 OK\r\nContent-Length: -7\r\nX: 1\r\n\r\n", false)
			assert.Equal(t, StatusBody, c.Status())
			assert.Empty(t, c.ReadResponseBodyChunk())
			assert.Equal(t, StatusConnectionError, c.Status(), "COMPAT R2")
			assert.Equal(t, 200, c.ResponseCode(), "Godot's CONNECTION_ERROR for this response keeps the code")
			assert.Equal(t, int64(-7), c.ResponseBodyLength())
			assert.True(t, c.HasResponse())
		})
	}
}
