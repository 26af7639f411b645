//go:build !gdhttp_portable

package httpclient

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// §1.6, §1.6.4.2: Godot's poll looks at the socket once (an RST queued is
// POLLERR), then reads the head one byte per read call, mbedTLS one record
// at a time. A head sent as TLS records of one byte each, all arrived
// before a Poll, is read in that Poll with one look at the socket's
// pending error — not one per record, which made a system call per byte
// of the head (2.3 µs/B in the non-blocking client and the node's Process
// loop, 8× the blocking client; notes/hostile35.md). The head and the
// body, in 1-byte records too, come out whole.
func TestHeadOneByteRecordsOneLook(t *testing.T) {
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "localhost")
	body := strings.Repeat("0123456789abcdef", 4)
	resp := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Pad: 0123456789abcdef\r\n", 40) +
		"Content-Length: 64\r\n\r\n" + body
	start := make(chan struct{})
	records := ts.Do("one-byte-records", func(c *ts.Conn) error { return c.WriteRecords([]byte(resp), 1) })
	srv := ts.NewTLS(t, cert, ts.Script(ts.Read(), waitFor(start), records), ts.WithTLSConfig(tls13Only))
	c, _ := newClient(t, false)
	require.NoError(t, connect(t, c, "localhost", srv.Port(), TLSClient(ca.Pool(), "")))
	require.Equal(t, StatusConnected, c.Status())
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	require.NoError(t, c.Poll())
	require.Equal(t, StatusRequesting, c.Status())
	require.True(t, c.reqSent, "the request left in the first Poll")
	close(start)
	require.True(t, drive.AwaitTCP(srv.Port(), driveTimeout, finSettle, drive.UnreadAtLeast(srv.Port(), len(resp)*tls13Wire(1))),
		"the records did not arrive")

	looks := 0
	s := c.st.nb.sock
	look := s.errF
	s.errF = func(fd uintptr) { looks++; look(fd) }
	require.NoError(t, c.Poll())
	require.Equal(t, StatusBody, c.Status(), "the whole head read in one Poll")
	assert.Equal(t, 1, looks, "looks at the socket's pending error in that Poll")
	assert.Len(t, c.ResponseHeaders(), 41)

	var got []byte
	poller(c).Body(t, c, StatusBody, func() bool {
		p := c.ReadResponseBodyChunk()
		got = append(got, p...)
		return len(p) > 0
	})
	assert.Equal(t, body, string(got))
	assert.Equal(t, StatusConnected, c.Status())
}
