package httpclient

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// startBody connects c to a server answering resp (then closing), sends a
// GET and polls until BODY.
func startBody(t *testing.T, c *Client, resp []byte) {
	t.Helper()
	srv := ts.New(t, ts.Script(ts.Read(), ts.WriteAndClose(resp)))
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	_ = pollWhile(t, c, StatusRequesting)
	require.Equal(t, StatusBody, c.Status())
}

// TestWriteResponseBodyChunkToLarge moves bodies of many pieces to a file:
// every byte lands in order, at the file's offset; blocking mode fills
// each piece (ReadChunkSize, or what is left, §1.10.1); non-blocking mode
// never takes more than that. On Linux the pieces are spliced.
func TestWriteResponseBodyChunkToLarge(t *testing.T) {
	body := make([]byte, 6<<20+12345)
	rng := rand.New(rand.NewPCG(3, 9))
	for i := range body {
		body[i] = byte(rng.Uint32())
	}
	heads := map[string]string{
		"length":      "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n",
		"until-close": "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
	}
	for name, head := range heads {
		for _, chunk := range []int{64 << 10, 1 << 20, 1000} {
			for _, m := range modes {
				t.Run(name+"/"+strconv.Itoa(chunk)+"/"+m.name, func(t *testing.T) {
					c, _ := newClient(t, m.blocking)
					require.NoError(t, c.SetReadChunkSize(chunk))
					startBody(t, c, append([]byte(head), body...))
					assert.Equal(t, runtime.GOOS == "linux", c.CanSpliceBody())
					f, err := os.Create(filepath.Join(t.TempDir(), "body"))
					require.NoError(t, err)
					defer f.Close()
					_, err = f.WriteString("kept:")
					require.NoError(t, err)
					total := 0
					var last error
					for c.Status() == StatusBody {
						if !m.blocking {
							require.NoError(t, c.Poll())
						}
						n, werr, err := c.WriteResponseBodyChunkTo(f)
						require.NoError(t, werr)
						require.LessOrEqual(t, n, chunk)
						if m.blocking && name == "length" {
							require.Equal(t, min(chunk, len(body)-total), n, "blocking mode fills the piece")
						}
						total += n
						last = err
					}
					assert.Equal(t, len(body), total)
					got, err := os.ReadFile(f.Name())
					require.NoError(t, err)
					assert.True(t, bytes.Equal(append([]byte("kept:"), body...), got), "the file holds the body after what it had")
					assert.True(t, c.BodyComplete())
					if name == "length" {
						assert.Equal(t, StatusConnected, c.Status())
					} else {
						assert.Equal(t, StatusDisconnected, c.Status())
					}
					assert.ErrorIs(t, last, io.EOF)
				})
			}
		}
	}
}

// TestWriteResponseBodyChunkToFiles: a file opened for appending (splice(2)
// refuses it) gets the bytes through memory; a file that cannot be written
// gives the write's error while the piece is still read, all of it, as
// Godot reads a piece before it stores it — the body goes on after it.
func TestWriteResponseBodyChunkToFiles(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 30000) // 300000 bytes
	resp := append([]byte("HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"), body...)
	t.Run("append", func(t *testing.T) {
		c, _ := newClient(t, true)
		startBody(t, c, resp)
		path := filepath.Join(t.TempDir(), "body")
		require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		require.NoError(t, err)
		defer f.Close()
		for c.Status() == StatusBody {
			_, werr, _ := c.WriteResponseBodyChunkTo(f)
			require.NoError(t, werr)
		}
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(append([]byte("old"), body...), got))
	})
	t.Run("pipe", func(t *testing.T) {
		// A non-blocking pipe whose reader is slow: splice(2) meets EAGAIN
		// and waits for it, as Write would.
		for _, m := range modes {
			t.Run(m.name, func(t *testing.T) {
				c, _ := newClient(t, m.blocking)
				big := bytes.Repeat(body, 4) // 1.2 MB: many times the pipe
				startBody(t, c, append([]byte("HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(big))+"\r\n\r\n"), big...))
				pr, pw, err := os.Pipe()
				require.NoError(t, err)
				defer pr.Close()
				got := make(chan []byte, 1)
				go func() {
					var all []byte
					buf := make([]byte, 4096)
					for {
						time.Sleep(50 * time.Microsecond)
						n, err := pr.Read(buf)
						all = append(all, buf[:n]...)
						if err != nil {
							got <- all
							return
						}
					}
				}()
				for c.Status() == StatusBody {
					if !m.blocking {
						require.NoError(t, c.Poll())
					}
					_, werr, _ := c.WriteResponseBodyChunkTo(pw)
					require.NoError(t, werr)
				}
				require.NoError(t, pw.Close())
				assert.True(t, bytes.Equal(big, <-got), "every byte through the pipe, in order")
			})
		}
	})
	t.Run("not writable", func(t *testing.T) {
		for _, m := range modes {
			t.Run(m.name, func(t *testing.T) {
				c, _ := newClient(t, m.blocking)
				startBody(t, c, resp)
				path := filepath.Join(t.TempDir(), "body")
				require.NoError(t, os.WriteFile(path, nil, 0o600))
				ro, err := os.Open(path)
				require.NoError(t, err)
				defer ro.Close()
				var n int
				var werr error
				for n == 0 && c.Status() == StatusBody {
					if !m.blocking {
						require.NoError(t, c.Poll())
					}
					n, werr, err = c.WriteResponseBodyChunkTo(ro)
				}
				require.Error(t, werr)
				require.NoError(t, err)
				assert.True(t, errors.Is(werr, os.ErrClosed) || errors.Is(werr, errBadFD), "%v", werr)
				if m.blocking {
					assert.Equal(t, 64<<10, n, "the whole piece was read")
				}
				f, err := os.Create(filepath.Join(t.TempDir(), "rest"))
				require.NoError(t, err)
				defer f.Close()
				for c.Status() == StatusBody {
					if !m.blocking {
						require.NoError(t, c.Poll())
					}
					_, werr, _ := c.WriteResponseBodyChunkTo(f)
					require.NoError(t, werr)
				}
				got, err := os.ReadFile(f.Name())
				require.NoError(t, err)
				assert.True(t, bytes.Equal(body[n:], got), "the body goes on after the failed piece")
				assert.Equal(t, StatusConnected, c.Status())
			})
		}
	})
	t.Run("not writable, piece in three parts", func(t *testing.T) {
		// The write fails on the first part: the rest of the piece, which
		// comes later in two parts, is still read (blocking mode fills the
		// piece).
		c, _ := newClient(t, true)
		srv := ts.New(t, ts.Script(ts.Read(), ts.WriteSplit(resp, []int{len(resp) - len(body) + 1000, len(resp) - len(body) + 2000}, 20*time.Millisecond), ts.Close()))
		require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
		require.NoError(t, c.Request(MethodGet, "/", nil, ""))
		_ = pollWhile(t, c, StatusRequesting)
		require.Equal(t, StatusBody, c.Status())
		path := filepath.Join(t.TempDir(), "body")
		require.NoError(t, os.WriteFile(path, nil, 0o600))
		ro, err := os.Open(path)
		require.NoError(t, err)
		defer ro.Close()
		n, werr, err := c.WriteResponseBodyChunkTo(ro)
		require.Error(t, werr)
		require.NoError(t, err)
		assert.Equal(t, 64<<10, n, "the whole piece was read")
	})
	if runtime.GOOS == "linux" {
		t.Run("disk full", func(t *testing.T) {
			full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
			if err != nil {
				t.Skip("no /dev/full")
			}
			defer full.Close()
			c, _ := newClient(t, true)
			startBody(t, c, resp)
			n, werr, err := c.WriteResponseBodyChunkTo(full)
			assert.Equal(t, 64<<10, n)
			assert.NoError(t, err)
			assert.True(t, errors.Is(werr, errNoSpace), "%v", werr)
		})
	}
}

var (
	errBadFD   = syscall.EBADF
	errNoSpace = syscall.ENOSPC
)

// §1.10.1.2, §1.10.3, §1.15.3: in non-blocking mode a piece written to a
// file is what has arrived, never a wait for the rest: a Content-Length body
// of which 10 bytes are in the socket while the server holds the
// connection gives those 10 bytes, then calls that take nothing, the body
// still in BODY.
func TestWriteResponseBodyChunkToTakesArrived(t *testing.T) {
	c := bodyAfterHead(t, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", "0123456789")
	assert.Equal(t, runtime.GOOS == "linux", c.CanSpliceBody())
	f, err := os.Create(filepath.Join(t.TempDir(), "body"))
	require.NoError(t, err)
	defer f.Close()
	var pieces []int
	for range 3 {
		n, werr, err := c.WriteResponseBodyChunkTo(f)
		require.NoError(t, werr)
		require.NoError(t, err)
		pieces = append(pieces, n)
		require.NoError(t, c.Poll())
	}
	assert.Equal(t, []int{10, 0, 0}, pieces, "what arrived, then nothing")
	assert.Equal(t, StatusBody, c.Status())
	got, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	assert.Equal(t, "0123456789", string(got))
	c.Abort()
	assert.False(t, c.CanSpliceBody(), "aborted: the next read fails, it is not spliced")
}
