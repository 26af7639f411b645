package httpclient

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// closingKeepAliveServer answers every request on a connection with a
// kept-alive 200 "ok", and closes the first connection closeAfter after its
// first response: a server whose keep-alive timeout is short.
func closingKeepAliveServer(t *testing.T, closeAfter time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(first bool, c net.Conn) {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); err != nil {
						return
					}
					if first {
						time.Sleep(closeAfter)
						return // the FIN, with the connection idle at the client
					}
				}
			}(i == 0, c)
		}
	}()
	return "http://" + ln.Addr().String() + "/"
}

// TestTransportPOSTAfterIdleClose: the server closed a pooled connection
// while it was idle (its FIN arrived 80 ms before the next request, before
// the pool's own look at 500 ms). A POST, which is not retried on a reused
// connection, goes out on a new connection and succeeds (§1.6.3: the
// connection is not reused). On unix the reuse decision peeks at the
// socket; with the portable fallback (Windows, Plan 9; -tags
// gdhttp_portable here) the look used to start the background read only
// then, found nothing and wrote the POST on the dead connection: every
// round failed. The fallback now starts that read when the connection goes
// idle (nbConn.Watch).
func TestTransportPOSTAfterIdleClose(t *testing.T) {
	for range 3 {
		url := closingKeepAliveServer(t, 20*time.Millisecond)
		tr := &Transport{}
		hc := &http.Client{Transport: tr}
		resp, err := hc.Get(url)
		require.NoError(t, err)
		_, _ = io.ReadAll(resp.Body)
		require.NoError(t, resp.Body.Close())
		time.Sleep(100 * time.Millisecond) // the FIN is at the client
		resp, err = hc.Post(url, "text/plain", strings.NewReader("hello"))
		require.NoError(t, err, "a POST on a connection the server closed while idle")
		body, _ := io.ReadAll(resp.Body)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, "ok", string(body))
		tr.CloseIdleConnections()
	}
}
