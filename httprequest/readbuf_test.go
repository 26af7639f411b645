package httprequest

import (
	"net"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
)

// TestIdleKeepAliveNodeHeap: a load tool keeps a node per simulated
// client, each with its kept-alive connection idle between requests. An
// idle node held its client's 64 KiB read buffer (72 KiB in all, for a
// 2-byte response; net/http's idle connection holds 8 KiB); the client now
// gives it back at the end of each response (httpclient restBuf).
func TestIdleKeepAliveNodeHeap(t *testing.T) {
	// A lean server (its connections count in the heap too): a 512-byte
	// head buffer per connection.
	ln := drive.Serve(t, func(conn net.Conn) {
		drive.EachHead(conn, 512, func([]byte) error {
			_, err := conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			return err
		})
	})
	url := urlFor("127.0.0.1", drive.Port(ln), "/")
	const nodes = 100
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	ns := make([]*HTTPRequest, nodes)
	for i := range ns {
		n := New()
		ns[i] = n
		require.NoError(t, n.SetKeepAlive(true))
		c, err := n.Do(t.Context(), url, nil, httpclient.MethodGet, nil)
		require.NoError(t, err)
		require.Equal(t, 200, c.ResponseCode)
		require.Equal(t, httpclient.StatusConnected, n.client.Status(), "the connection is kept (the node shows DISCONNECTED)")
		require.Equal(t, httpclient.StatusDisconnected, n.HTTPClientStatus())
	}
	per := int64(heap()-before) / nodes
	t.Logf("heap per idle kept-alive node: %d KiB", per>>10)
	for _, n := range ns {
		n.Close()
	}
	assert.Less(t, per, int64(32<<10), "heap held per idle kept-alive node")
}
