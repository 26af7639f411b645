package httprequest

import (
	"net"
	"runtime"
	"strconv"
	"testing"
	"unsafe"

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

// TestReadBufPooled: a node's read buffer (download_chunk_size bytes, for a
// body that is decoded or goes to a file or a body writer) goes back to a
// pool when its request ends, and the next request's sink takes it from
// there instead of making one — also a buffer of exactly
// download_chunk_size, and of the largest chunk size (16 MiB); only a
// buffer grown past that by a huge chunk is left to the collector. A
// sync.Pool may drop what it is given (a GC; another P takes the Get): the
// pooled buffer must come back in one of a few tries.
func TestReadBufPooled(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	drain := func() {
		for readBufPool.Get() != nil {
		}
	}
	for _, size := range []int{httpclient.MinReadChunkSize, 65536, httpclient.MaxReadChunkSize} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			buf := make([]byte, 0, size)
			reused := false
			for try := 0; try < 20 && !reused; try++ {
				drain()
				putReadBuf(buf)
				s := &sink{chunkSize: size}
				got := s.readBuf()
				require.GreaterOrEqual(t, cap(got), size)
				reused = unsafe.SliceData(got[:1]) == unsafe.SliceData(buf[:1])
			}
			assert.True(t, reused, "the pooled read buffer was not taken")
		})
	}
	t.Run("too large", func(t *testing.T) {
		buf := make([]byte, 0, maxPooledBuf+1)
		for range 5 {
			drain()
			putReadBuf(buf)
			s := &sink{chunkSize: httpclient.MinReadChunkSize}
			got := s.readBuf()
			assert.True(t, unsafe.SliceData(buf[:1]) != unsafe.SliceData(got[:1]), "a buffer past maxPooledBuf was pooled")
		}
	})
	drain()
}
