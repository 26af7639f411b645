package httpclient

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/chunked"
	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// TestReadResponseBodyChunkPieces pins what ReadResponseBodyChunk hands
// over when the pieces of a large body are cut from one array (pieceRoom,
// takePiece): every piece is its own slice, so that appending to one
// (Godot's `body + chunk` in Go) never changes another, nor does what the
// next calls read; the pieces are the body — in both modes, over TCP and
// TLS, for every framing, small chunks between large ones and a chunk
// larger than the array's room included.
func TestReadResponseBodyChunkPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 8))
	body := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	var chunkedResp, chunkedBody []byte
	for _, size := range []int{
		16 << 10, 16 << 10, 16 << 10, 16 << 10, 16 << 10, // past the first 64 KiB
		100, 3000, 100, 5000, 100, // small chunks: an array of their own
		300 << 10, // larger than the array's room
		16 << 10, 16 << 10, 16 << 10, 1, 16 << 10, 70 << 10, 16 << 10,
		maxPiece + 1, 16 << 10, minPiece - 1, minPiece, 16 << 10, // past maxPiece: an array of its own, then the arrays again
	} {
		b := body(size)
		chunkedBody = append(chunkedBody, b...)
		chunkedResp = chunked.AppendChunk(chunkedResp, b)
	}
	chunkedResp = chunked.AppendLastChunk(chunkedResp)
	plain := body(3<<20 + 12345)
	cases := []struct {
		name string
		resp []byte
		body []byte
	}{
		{"length", append([]byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(plain))), plain...), plain},
		{"until-close", append([]byte("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"), plain...), plain},
		{"chunked", append([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), chunkedResp...), chunkedBody},
	}
	ca := ts.NewCA(t)
	for _, tc := range cases {
		for _, m := range modes {
			for _, tlsOn := range []bool{false, true} {
				name := tc.name + "/" + m.name
				// Uneven writes: non-blocking calls find pieces of every size.
				srv := bodyServer{piece: func() int { return 1 + rng.IntN(200<<10) }}
				if tlsOn {
					name += "/tls"
					srv.tls = ca
				}
				t.Run(name, func(t *testing.T) {
					c := bodyClient(t, tc.resp, m.blocking, srv)
					var pieces, grown [][]byte
					var carved []bool       // the piece was cut from the array the next ones come from
					sizes := map[bool]int{} // pieces under and over minPiece
					for c.Status() == StatusBody {
						require.NoError(t, c.Poll())
						p := c.ReadResponseBodyChunk()
						if len(p) == 0 {
							assert.Nil(t, p, "a call that returns nothing returns nil")
							continue
						}
						sizes[len(p) < minPiece]++
						pieces = append(pieces, p)
						carved = append(carved, cap(c.body.spare) > 0 && sliceEnd(p) == uintptr(unsafe.Pointer(unsafe.SliceData(c.body.spare))))
						// Appending to a piece must not reach the bytes of the
						// next one (which lie after it in the same array).
						grown = append(grown, append(p, strings.Repeat("!", 100)...))
					}
					require.True(t, c.BodyComplete(), "status %v, error %v", c.Status(), c.LastError())
					assert.Equal(t, tc.body, bytes.Join(pieces, nil), "the pieces are the body")
					for i, g := range grown {
						// A piece with spare capacity in the array of the next
						// ones would have had its "!" overwritten by their reads.
						require.Equal(t, append(bytes.Clone(pieces[i]), strings.Repeat("!", 100)...), g, "piece %d after an append", i)
					}
					if tc.name == "chunked" {
						assert.Equal(t, 6, sizes[true], "the small chunks, one piece each")
					}
					// A piece under minPiece has an array of its own: kept, it
					// keeps no large array alive. Carved, it would start where
					// the piece before it ends, when that one was carved too:
					// then that memory is the array's, which no other
					// allocation can share. (After a piece in an array of its
					// own, a new allocation may happen to start where it ends.)
					checked := 0
					for i := 1; i < len(pieces); i++ {
						if len(pieces[i]) < minPiece && carved[i-1] {
							checked++
							assert.NotEqual(t, sliceEnd(pieces[i-1]), uintptr(unsafe.Pointer(unsafe.SliceData(pieces[i]))),
								"piece %d (%d bytes) was carved from the array of the one before", i, len(pieces[i]))
						}
					}
					if tc.name == "chunked" {
						assert.Positive(t, checked, "no small chunk came after a carved piece")
					}
					assert.Nil(t, c.body.spare, "the array is dropped when the body ends")
				})
			}
		}
	}
}

// sliceEnd is the address just past p's bytes.
func sliceEnd(p []byte) uintptr {
	return uintptr(unsafe.Pointer(unsafe.SliceData(p))) + uintptr(len(p))
}

// TestReadResponseBodyChunkLyingLength: the arrays ReadResponseBodyChunk
// cuts pieces from grow with what has arrived, not with what the
// Content-Length claims: a server that claims a gigabyte and sends 300 KiB
// makes no array larger than four times what it sent (a 4 MiB one for
// the claim alone would cost it a few bytes).
func TestReadResponseBodyChunkLyingLength(t *testing.T) {
	const sent = 300 << 10
	resp := append([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n"), bytes.Repeat([]byte("x"), sent)...)
	c := bodyClient(t, resp, false, bodyServer{piece: func() int { return 20 << 10 }, hold: true})
	var got int
	deadline := time.Now().Add(driveTimeout)
	for got < sent {
		require.True(t, time.Now().Before(deadline), "%d of %d bytes read", got, sent)
		require.NoError(t, c.Poll())
		got += len(c.ReadResponseBodyChunk())
		require.Equal(t, StatusBody, c.Status())
		// spare is the array's unused end: no larger than the array.
		assert.LessOrEqual(t, cap(c.body.spare), max(4*got, DefaultReadChunkSize), "after %d bytes", got)
	}
	assert.Positive(t, cap(c.body.spare), "the pieces past 64 KiB come from an array")
}

// bodyServer says how bodyClient's server writes its response: in pieces
// of piece() bytes (all at once for nil), over TLS with tls, then keeping
// the connection open until the client closes it with hold.
type bodyServer struct {
	piece func() int
	tls   *ts.CA
	hold  bool
}

// bodyClient is a client in the given mode whose GET got resp, written as
// srv says, up to the status after REQUESTING.
func bodyClient(t *testing.T, resp []byte, blocking bool, srv bodyServer) *Client {
	t.Helper()
	var cfg *tls.Config
	var opts *TLSOptions
	if srv.tls != nil {
		cfg = &tls.Config{Certificates: []tls.Certificate{srv.tls.Issue(t, "127.0.0.1")}}
		opts = TLSClient(srv.tls.Pool(), "")
	}
	ln := drive.Serve(t, func(conn net.Conn) {
		if cfg != nil {
			conn = tls.Server(conn, cfg)
		}
		r := bufio.NewReader(conn)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if line == "\r\n" {
				break
			}
		}
		for rest := resp; len(rest) > 0; {
			n := len(rest)
			if srv.piece != nil {
				n = min(n, srv.piece())
			}
			if _, err := conn.Write(rest[:n]); err != nil {
				return
			}
			rest = rest[n:]
		}
		if srv.hold {
			_, _ = io.Copy(io.Discard, conn)
		} else if tc, ok := conn.(*tls.Conn); ok {
			_ = tc.CloseWrite() // close_notify: a read-until-close body ends cleanly
		}
	})
	c, _ := newClient(t, blocking)
	require.NoError(t, connect(t, c, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, opts))
	require.NoError(t, c.RequestRaw(MethodGet, "/", nil, nil))
	require.NoError(t, pollWhile(t, c, StatusRequesting))
	return c
}
