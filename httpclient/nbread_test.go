package httpclient

import (
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
)

// nbPair returns both ends of a loopback TCP connection, closed at the end
// of the test.
func nbPair(t testing.TB) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer ln.Close()
	type accepted struct {
		c   *net.TCPConn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := ln.AcceptTCP()
		ch <- accepted{c, err}
	}()
	client, err = net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
	require.NoError(t, err)
	a := <-ch
	require.NoError(t, a.err)
	t.Cleanup(func() {
		_ = client.Close()
		_ = a.c.Close()
	})
	return client, a.c
}

// nbHidden hides its conn's SyscallConn: nbConn must fall back.
type nbHidden struct{ net.Conn }

// nbKinds are the two ways nbConn reads: the socket itself (unix) and the
// background-read fallback (other platforms, conns that are not a
// syscall.Conn).
var nbKinds = []struct {
	name string
	wrap func(net.Conn) net.Conn
}{
	{"socket", func(c net.Conn) net.Conn { return c }},
	{"fallback", func(c net.Conn) net.Conn { return nbHidden{c} }},
}

// nbNext calls TryRead until it returns something other than errWouldBlock
// (the fallback reports it once before its background read is back, and
// the data may be on its way), within 5 s.
func nbNext(t *testing.T, nb *nbConn, p []byte) (int, error) {
	t.Helper()
	var n int
	var err error
	require.True(t, drive.Until(5*time.Second, func() bool {
		n, err = nb.TryRead(p)
		return err != errWouldBlock
	}), "TryRead kept returning would-block")
	return n, err
}

// nbPeekUntil calls Peek until it reports something other than nbEmpty.
func nbPeekUntil(t *testing.T, nb *nbConn) (nbState, error) {
	t.Helper()
	var s nbState
	var err error
	require.True(t, drive.Until(5*time.Second, func() bool {
		s, err = nb.Peek()
		return s != nbEmpty
	}), "Peek kept returning empty")
	return s, err
}

// TestNBIdleNeverWaits: on an idle socket TryRead and Peek return at once
// with would-block / empty and allocate nothing — the cheap non-blocking
// read Poll and the liveness check make on every call (§1.6.3, §1.10.3).
func TestNBIdleNeverWaits(t *testing.T) {
	client, _ := nbPair(t)
	nb := newNBConn(client, nil, nil)
	if !nb.NoWait() {
		t.Skip("no socket read without waiting on " + runtime.GOOS)
	}
	p := make([]byte, 64<<10)
	start := time.Now()
	for range 1000 {
		n, err := nb.TryRead(p)
		require.Equal(t, errWouldBlock, err)
		require.Zero(t, n)
		s, err := nb.Peek()
		require.NoError(t, err)
		require.Equal(t, nbEmpty, s)
	}
	// 2000 syscalls; a read that parked would take at least a scheduler
	// round each. The bound is loose for a loaded machine.
	assert.Less(t, time.Since(start), time.Second)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = nb.TryRead(p) }), "TryRead allocates")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = nb.Peek() }), "Peek allocates")
}

// TestNBReadStates covers what TryRead and Peek report on a TCP loopback
// connection, through the socket and through the fallback: data (Peek
// takes nothing), would-block after it, the FIN (§1.6.3.3: readable with
// nothing queued), the FIN behind data (a read that fills p does not look
// for it, §1.10.4), an RST (ECONNRESET), and a closed conn.
func TestNBReadStates(t *testing.T) {
	for _, k := range nbKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Run("data", func(t *testing.T) {
				client, server := nbPair(t)
				nb := newNBConn(k.wrap(client), nil, nil)
				defer nb.Close()
				_, err := server.Write([]byte("hello"))
				require.NoError(t, err)
				s, err := nbPeekUntil(t, nb)
				require.NoError(t, err)
				assert.Equal(t, nbData, s)
				s, err = nb.Peek()
				require.NoError(t, err)
				assert.Equal(t, nbData, s, "Peek took the data")
				p := make([]byte, 16)
				n, err := nbNext(t, nb, p)
				require.NoError(t, err)
				assert.Equal(t, "hello", string(p[:n]))
				n, err = nb.TryRead(p)
				assert.Equal(t, errWouldBlock, err)
				assert.Zero(t, n)
			})
			t.Run("fin", func(t *testing.T) {
				client, server := nbPair(t)
				nb := newNBConn(k.wrap(client), nil, nil)
				defer nb.Close()
				require.NoError(t, server.CloseWrite())
				s, err := nbPeekUntil(t, nb)
				require.NoError(t, err)
				assert.Equal(t, nbEOF, s)
				n, err := nbNext(t, nb, make([]byte, 16))
				assert.Equal(t, io.EOF, err)
				assert.Zero(t, n)
				n, err = nb.TryRead(make([]byte, 16))
				assert.Equal(t, io.EOF, err, "EOF is not repeated")
				assert.Zero(t, n)
			})
			t.Run("data then fin", func(t *testing.T) {
				client, server := nbPair(t)
				nb := newNBConn(k.wrap(client), nil, nil)
				defer nb.Close()
				_, err := server.Write([]byte("abc"))
				require.NoError(t, err)
				require.NoError(t, server.CloseWrite())
				// Both are in the client's socket (a FIN shows no sign short
				// of a read).
				local := client.LocalAddr().(*net.TCPAddr).Port
				require.True(t, drive.AwaitTCP(local, 5*time.Second, 20*time.Millisecond, drive.PeerEnded(local)), "the FIN arrived")
				p := make([]byte, 3)
				n, err := nbNext(t, nb, p)
				require.NoError(t, err, "a read that fills p reports no EOF")
				assert.Equal(t, "abc", string(p[:n]))
				n, err = nbNext(t, nb, p)
				assert.Equal(t, io.EOF, err)
				assert.Zero(t, n)
			})
			t.Run("rst", func(t *testing.T) {
				client, server := nbPair(t)
				nb := newNBConn(k.wrap(client), nil, nil)
				defer nb.Close()
				require.NoError(t, server.SetLinger(0))
				require.NoError(t, server.Close())
				n, err := nbNext(t, nb, make([]byte, 16))
				assert.Zero(t, n)
				assert.ErrorIs(t, err, syscall.ECONNRESET)
				var op *net.OpError
				assert.True(t, errors.As(err, &op), "not a *net.OpError: %T", err)
			})
			t.Run("rst peek", func(t *testing.T) {
				client, server := nbPair(t)
				nb := newNBConn(k.wrap(client), nil, nil)
				defer nb.Close()
				require.NoError(t, server.SetLinger(0))
				require.NoError(t, server.Close())
				s, err := nbPeekUntil(t, nb)
				assert.Equal(t, nbError, s)
				assert.ErrorIs(t, err, syscall.ECONNRESET)
				// The kernel hands the error out once; the read after the
				// look must still meet it (crypto/tls above reads it).
				n, err := nb.TryRead(make([]byte, 16))
				assert.Zero(t, n)
				assert.ErrorIs(t, err, syscall.ECONNRESET)
			})
			t.Run("rst peek then blocking read", func(t *testing.T) {
				client, server := nbPair(t)
				nb := newNBConn(k.wrap(client), nil, nil)
				defer nb.Close()
				require.NoError(t, server.SetLinger(0))
				require.NoError(t, server.Close())
				s, _ := nbPeekUntil(t, nb)
				require.Equal(t, nbError, s)
				n, err := nb.Read(make([]byte, 16))
				assert.Zero(t, n)
				assert.ErrorIs(t, err, syscall.ECONNRESET)
			})
			t.Run("closed", func(t *testing.T) {
				client, _ := nbPair(t)
				nb := newNBConn(k.wrap(client), nil, nil)
				require.NoError(t, nb.Close())
				n, err := nbNext(t, nb, make([]byte, 16))
				assert.Zero(t, n)
				assert.ErrorIs(t, err, net.ErrClosed)
			})
			t.Run("prefix", func(t *testing.T) {
				client, server := nbPair(t)
				nb := newNBConn(k.wrap(client), []byte("pre"), nil)
				defer nb.Close()
				s, err := nb.Peek()
				require.NoError(t, err)
				assert.Equal(t, nbData, s)
				_, err = server.Write([]byte("post"))
				require.NoError(t, err)
				p := make([]byte, 2)
				var got []byte
				for len(got) < len("prepost") {
					n, err := nbNext(t, nb, p)
					require.NoError(t, err)
					got = append(got, p[:n]...)
				}
				assert.Equal(t, "prepost", string(got))
			})
			t.Run("blocking read", func(t *testing.T) {
				client, server := nbPair(t)
				nb := newNBConn(k.wrap(client), nil, nil)
				defer nb.Close()
				// A TryRead first: the fallback now has a read outstanding,
				// which the blocking read must collect.
				n, err := nb.TryRead(make([]byte, 8))
				require.Equal(t, errWouldBlock, err)
				require.Zero(t, n)
				go func() { // the scenario: data after the read blocked
					assert.True(t, drive.Until(5*time.Second, func() bool { return drive.Waiting("io.ReadAll", "httpclient.(*nbConn).Read") }),
						"the blocking read waits")
					_, _ = server.Write([]byte("late"))
					_ = server.CloseWrite()
				}()
				got, err := io.ReadAll(nb)
				require.NoError(t, err)
				assert.Equal(t, "late", string(got))
			})
		})
	}
}

// TestNBPipeFallback: a conn that is not a syscall.Conn (net.Pipe) reads
// through the fallback on every platform.
func TestNBPipeFallback(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	nb := newNBConn(a, nil, nil)
	defer nb.Close()
	require.False(t, nb.NoWait())
	go func() {
		_, _ = b.Write([]byte("piped"))
	}()
	p := make([]byte, 16)
	n, err := nbNext(t, nb, p)
	require.NoError(t, err)
	assert.Equal(t, "piped", string(p[:n]))
}

// TestNBDrainsWhatArrived: with 1 MiB queued, TryRead into a 1 MiB buffer
// returns large reads — one call takes what the socket holds up to len(p),
// Godot's drain up to read_chunk_size on every call (§1.10.3, §1.15.3) —
// where the goroutine path returns at most one finished read per call.
func TestNBDrainsWhatArrived(t *testing.T) {
	client, server := nbPair(t)
	nb := newNBConn(client, nil, nil)
	if !nb.NoWait() {
		t.Skip("no socket read without waiting on " + runtime.GOOS)
	}
	const size = 1 << 20
	_ = client.SetReadBuffer(4 << 20)
	_ = server.SetWriteBuffer(4 << 20)
	data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	wrote := make(chan error, 1)
	go func() {
		_, err := server.Write(data)
		wrote <- err
	}()
	// Let the bytes queue up before the first read.
	select {
	case err := <-wrote:
		require.NoError(t, err)
		wrote <- nil
	case <-time.After(200 * time.Millisecond):
	}
	p := make([]byte, size)
	var got []byte
	var sizes []int
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < size {
		require.True(t, time.Now().Before(deadline))
		n, err := nb.TryRead(p)
		if err == errWouldBlock {
			continue // no sleep: Poll in a tight loop
		}
		require.NoError(t, err)
		sizes = append(sizes, n)
		got = append(got, p[:n]...)
	}
	require.NoError(t, <-wrote)
	assert.Equal(t, data, got)
	t.Logf("1 MiB arrived in %d reads: %v", len(sizes), sizes)
	assert.Greater(t, sizes[0], 64<<10, "the first read took no more than one segment")
}
