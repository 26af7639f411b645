package httpclient

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
)

// gatedChunked serves a chunked response whose body is pieces, each after
// the first sent when the test signals next, and returns a non-blocking
// client that requested it, in BODY.
func gatedChunked(t *testing.T, pieces ...string) (*Client, chan<- struct{}) {
	t.Helper()
	next := make(chan struct{})
	ln := drive.Serve(t, func(conn net.Conn) {
		drive.EachHead(conn, 64<<10, func([]byte) error {
			head := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			for i, p := range pieces {
				if i > 0 {
					<-next
				}
				if _, err := conn.Write([]byte(head + p)); err != nil {
					return err
				}
				head = ""
			}
			return nil
		})
	})
	c, _ := newClient(t, false)
	require.NoError(t, connect(t, c, "127.0.0.1", drive.Port(ln), nil))
	require.NoError(t, c.RequestRaw(MethodGet, "/", nil, nil))
	require.NoError(t, pollWhile(t, c, StatusRequesting))
	require.Equal(t, StatusBody, c.Status())
	return c, next
}

// TestChunkCollectedInDst pins where the Godot path collects a chunk
// (readChunkGodot, §1.10.2): straight in dst when dst has room for it, or
// when the chunk is all buffered (a nil dst then grows once, to the chunk)
// — the chunk buffer is not touched, one copy fewer — and a chunk that one
// call started in dst but could not complete moves to the chunk buffer, so
// that the next call completes it whatever dst it is given: dst's bytes
// past its length are the caller's again once the call returns.
func TestChunkCollectedInDst(t *testing.T) {
	a := []byte(strings.Repeat("0123456789abcdef", 1<<10)) // 16 KiB
	b := bytes.ToUpper(a)
	half := len(a) / 2
	small := []byte("last chunk data!")
	pieces := []string{
		"4000\r\n" + string(a[:half]),
		string(a[half:]) + "\r\n4000\r\n" + string(b[:half]),
		string(b[half:]) + "\r\n10\r\n" + string(small) + "\r\n10\r\n" + string(small) + "\r\n10\r\n" + string(small) + "\r\n0\r\n\r\n",
	}
	c, next := gatedChunked(t, pieces...)
	waitArrived(t, c, len(pieces[0]))

	// Half of chunk a has arrived. A nil dst is not grown for it: the half
	// goes to the chunk buffer (its one allocation).
	var got []byte
	mallocs := mallocsAlone(func() { got = c.ReadResponseBodyChunk() })
	assert.Empty(t, got, "the chunk is incomplete")
	if !raceEnabled { // the race detector allocates too
		assert.LessOrEqual(t, mallocs, uint64(1), "the chunk buffer only")
	}
	assert.Equal(t, a[:half], c.body.chunkOut, "the half chunk is kept by the client")

	next <- struct{}{}
	waitArrived(t, c, len(pieces[1]))
	out, err := c.AppendResponseBodyChunk(make([]byte, 0, 64<<10))
	require.NoError(t, err)
	assert.Equal(t, a, out, "chunk a, whole")

	// Half of chunk b: collected in dst1 (it has room), then moved to the
	// chunk buffer when the call ends without it.
	dst1 := make([]byte, 0, 64<<10)
	out, err = c.AppendResponseBodyChunk(dst1)
	require.NoError(t, err)
	assert.Empty(t, out, "the chunk is incomplete")
	assert.Equal(t, b[:half], dst1[:half], "collected in dst1's spare capacity")
	assert.Equal(t, b[:half], c.body.chunkOut, "the half chunk is kept by the client")
	copy(dst1[:cap(dst1)], bytes.Repeat([]byte("Z"), cap(dst1))) // the caller's bytes again

	next <- struct{}{}
	waitArrived(t, c, len(pieces[2]))
	out, err = c.AppendResponseBodyChunk(make([]byte, 0, 64<<10))
	require.NoError(t, err)
	assert.Equal(t, b, out, "chunk b, whole, in the next call's dst")

	// Buffered chunks bypass the chunk buffer: into a dst with room, and
	// into a nil dst (ReadResponseBodyChunk), grown to the chunk.
	sentinel := bytes.Repeat([]byte("S"), cap(c.body.chunkOut))
	copy(c.body.chunkOut[:cap(c.body.chunkOut)], sentinel)
	dst3 := make([]byte, 3, 64)
	out, err = c.AppendResponseBodyChunk(dst3)
	require.NoError(t, err)
	assert.Equal(t, append([]byte{0, 0, 0}, small...), out)
	assert.Same(t, &dst3[:4][3], &out[3], "collected in dst3's spare capacity")
	got = c.ReadResponseBodyChunk()
	assert.Equal(t, small, got)
	assert.Equal(t, len(small), cap(got), "a nil dst grows once, to the chunk")
	// A dst with less spare room than the chunk (though more capacity in
	// all): grown for it, as append would, its own bytes kept.
	dst4 := append(make([]byte, 0, 48), bytes.Repeat([]byte("d"), 40)...)
	out, err = c.AppendResponseBodyChunk(dst4)
	require.NoError(t, err)
	assert.Equal(t, append(bytes.Repeat([]byte("d"), 40), small...), out)
	assert.Equal(t, sentinel, c.body.chunkOut[:cap(c.body.chunkOut)], "the chunk buffer was not used")

	assert.Empty(t, c.ReadResponseBodyChunk(), "the last-chunk line (§1.10.2.4)")
	for c.Status() == StatusBody {
		require.NoError(t, c.Poll())
		assert.Empty(t, c.ReadResponseBodyChunk())
	}
	assert.Equal(t, StatusConnected, c.Status())
}

// TestChunkPartThenInto checks that the bytes of a chunk a Godot-path call
// collected but could not complete are not lost when the body is then read
// with ReadResponseBodyChunkInto: they come first, in order, however small
// p is.
func TestChunkPartThenInto(t *testing.T) {
	a := []byte(strings.Repeat("0123456789abcdef", 64)) // 1 KiB
	half := len(a) / 2
	c, next := gatedChunked(t, "400\r\n"+string(a[:half]), string(a[half:])+"\r\n3\r\nxyz\r\n0\r\n\r\n")
	waitArrived(t, c, len("400\r\n")+half)
	out, err := c.AppendResponseBodyChunk(make([]byte, 0, 4096))
	require.NoError(t, err)
	require.Empty(t, out, "the chunk is incomplete")

	p := make([]byte, 100)
	var got []byte
	for range half / len(p) { // what was collected, a piece at a time
		n, err := c.ReadResponseBodyChunkInto(p)
		require.NoError(t, err)
		got = append(got, p[:n]...)
	}
	next <- struct{}{}
	for c.Status() == StatusBody {
		n, err := c.ReadResponseBodyChunkInto(p)
		got = append(got, p[:n]...)
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
		if n == 0 {
			require.NoError(t, c.Poll())
		}
	}
	assert.Equal(t, string(a)+"xyz", string(got))
	assert.Equal(t, StatusConnected, c.Status())
}
