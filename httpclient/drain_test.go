package httpclient

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bulkServer answers one request with a Content-Length body of size bytes
// and closes written once the whole response is in the socket buffers
// (both set to 4 MiB); it holds the connection until the test ends.
func bulkServer(t *testing.T, size int) (port int, written <-chan struct{}) {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	done := make(chan struct{})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn, err := ln.AcceptTCP()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetWriteBuffer(4 << 20)
		buf := make([]byte, 4096)
		var req []byte
		for !bytes.Contains(req, []byte("\r\n\r\n")) {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			req = append(req, buf[:n]...)
		}
		resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(size) + "\r\n\r\n")
		resp = append(resp, bytes.Repeat([]byte("b"), size)...)
		if _, err := conn.Write(resp); err != nil {
			return
		}
		close(done)
		<-stop
	}()
	t.Cleanup(func() {
		close(stop)
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().(*net.TCPAddr).Port, done
}

// TestGodotChunkAmounts pins what one ReadResponseBodyChunk returns for a
// fixed-length body of 1 MiB that has fully arrived before the first read
// (§1.10.1.1–2, §1.10.3, §1.15.3): blocking mode fills read_chunk_size (or
// what is left); non-blocking mode drains what has arrived up to
// read_chunk_size — here, everything being there, exactly read_chunk_size,
// never an empty call.
func TestGodotChunkAmounts(t *testing.T) {
	const size = 1 << 20
	for _, chunk := range []int{64 << 10, 1 << 20, 100000} {
		for _, m := range modes {
			t.Run(strconv.Itoa(chunk)+"/"+m.name, func(t *testing.T) {
				port, written := bulkServer(t, size)
				c, _ := newClient(t, m.blocking)
				c.dialFn = func(ctx context.Context, network, addr string) (net.Conn, error) {
					var d net.Dialer
					conn, err := d.DialContext(ctx, network, addr)
					if err == nil {
						_ = conn.(*net.TCPConn).SetReadBuffer(4 << 20)
					}
					return conn, err
				}
				require.NoError(t, c.SetReadChunkSize(chunk))
				require.NoError(t, connect(t, c, "127.0.0.1", port, nil))
				require.NoError(t, c.Request(MethodGet, "/", nil, ""))
				_ = pollWhile(t, c, StatusRequesting)
				require.Equal(t, StatusBody, c.Status())
				select {
				case <-written:
				case <-time.After(5 * time.Second):
					t.Fatal("the response never fitted in the socket buffers")
				}
				waitArrived(t, c, size) // the whole body is at the client
				var sizes []int
				total := 0
				for c.Status() == StatusBody && len(sizes) < 100 {
					p := c.ReadResponseBodyChunk()
					sizes = append(sizes, len(p))
					total += len(p)
				}
				assert.Equal(t, size, total)
				assert.Equal(t, StatusConnected, c.Status())
				for i, n := range sizes {
					want := min(chunk, size-i*chunk)
					assert.Equal(t, want, n, "call %d of %v", i, sizes)
				}
			})
		}
	}
}

// TestLargeRequestPartialWrite sends a 4 MiB request body over plain TCP
// to a server that reads slowly: in non-blocking mode the first write(2)
// takes only what fits and the rest goes to the background write (issue 8);
// the server must receive every byte in order (§1.6.4.1).
func TestLargeRequestPartialWrite(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
			require.NoError(t, err)
			got := make(chan []byte, 1)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				conn, err := ln.AcceptTCP()
				if err != nil {
					got <- nil
					return
				}
				defer conn.Close()
				time.Sleep(50 * time.Millisecond) // the scenario: a slow reader; the client's first write fills the buffers meanwhile
				var all []byte
				buf := make([]byte, 32<<10)
				for {
					n, err := conn.Read(buf)
					all = append(all, buf[:n]...)
					if i := bytes.Index(all, []byte("\r\n\r\n")); i >= 0 && len(all)-i-4 >= len(body) {
						break
					}
					if err != nil {
						break
					}
				}
				got <- all
				_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				buf2 := make([]byte, 1)
				_, _ = conn.Read(buf2) // until the client closes
			}()
			t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
			c, _ := newClient(t, m.blocking)
			require.NoError(t, connect(t, c, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, nil))
			require.NoError(t, c.RequestRaw(MethodPost, "/", nil, body))
			_ = pollWhile(t, c, StatusRequesting)
			var all []byte
			select {
			case all = <-got:
			case <-time.After(driveTimeout):
				t.Fatal("server never got the request")
			}
			i := bytes.Index(all, []byte("\r\n\r\n"))
			require.GreaterOrEqual(t, i, 0)
			assert.True(t, bytes.Equal(body, all[i+4:]), "request body received intact")
			r := result{}
			readBody(t, c, pathChunks, &r)
			assert.Equal(t, "ok", r.Body)
			c.Close()
		})
	}
}
