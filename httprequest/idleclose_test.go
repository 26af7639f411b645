package httprequest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// TestKeepAlivePOSTAfterIdleClose: with SetKeepAlive, the server closed the
// kept connection while it was idle (its FIN arrived 80 ms before the next
// request). The POST, which the keep-alive retry does not resend, goes out
// on a new connection in every driver: R0, 200, "ok" (§1.6.3: a connection
// the peer closed is not reused). With the portable fallback (-tags
// gdhttp_portable) the reuse check used to start the background read only
// then, find nothing, and write the POST on the dead connection:
// RESULT_CONNECTION_ERROR in every driver (httpclient's nbConn.Watch).
func TestKeepAlivePOSTAfterIdleClose(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	closeFirst := testserver.Script(testserver.Read(), testserver.WriteString(ok), testserver.Sleep(20*time.Millisecond))
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		require.NoError(t, n.SetKeepAlive(true))
		s := serve(t, func(c *testserver.Conn) {
			if c.Index() == 0 {
				closeFirst(c)
				return
			}
			testserver.RespondEach(ok)(c)
		})
		url := s.URL("/")
		first := d.run(t, n, url, nil, httpclient.MethodGet, nil)
		require.Equal(t, ResultSuccess, first.C.Result, "first request: %v", first.Err)
		time.Sleep(100 * time.Millisecond) // the server's FIN has arrived
		got := d.run(t, n, url, nil, httpclient.MethodPost, []byte("hello"))
		require.Equal(t, ResultSuccess, got.C.Result, "POST on the kept connection the server closed: %v", got.Err)
		require.Equal(t, 200, got.C.ResponseCode)
		require.Equal(t, "ok", string(got.C.Body))
		require.Equal(t, 2, s.Accepted())
	})
}
