package drive

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeEachHead: heads split across reads and pipelined in one write
// are each answered; answer's error ends the connection; the test's end
// closes a connection its handler still holds (goleak checks the join).
func TestServeEachHead(t *testing.T) {
	stop := errors.New("stop")
	ln := Serve(t, func(conn net.Conn) {
		EachHead(conn, 64, func(head []byte) error {
			if strings.HasPrefix(string(head), "STOP") {
				return stop
			}
			_, err := fmt.Fprintf(conn, "%d:%s\n", len(head), strings.ReplaceAll(string(head), "\r\n", "|"))
			return err
		})
	})
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	br := bufio.NewReader(conn)
	_, err = io.WriteString(conn, "GET /a\r\nX: 1")
	require.NoError(t, err)
	_, err = io.WriteString(conn, "\r\n\r\nGET /b\r\n\r\nGET /c\r\n\r\n")
	require.NoError(t, err)
	for _, want := range []string{"12:GET /a|X: 1\n", "6:GET /b\n", "6:GET /c\n"} {
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, want, line)
	}
	_, err = io.WriteString(conn, "STOP\r\n\r\n")
	require.NoError(t, err)
	_, err = br.ReadByte()
	assert.ErrorIs(t, err, io.EOF, "the handler returned: the connection is closed")
	assert.Positive(t, Port(ln))

	held, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = held.Close() })
}

// TestEachHeadTooLong: a head larger than the buffer ends the connection.
func TestEachHeadTooLong(t *testing.T) {
	ln := Serve(t, func(conn net.Conn) {
		EachHead(conn, 16, func([]byte) error { t.Error("no head fits"); return nil })
	})
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, strings.Repeat("x", 32))
	require.NoError(t, err)
	n, err := conn.Read(make([]byte, 1))
	assert.Zero(t, n)
	assert.Error(t, err, "closed (FIN, or RST: our bytes were left unread)")
}

// TestRelay: each connection gets its own connection to the target, the
// hooks see the connection's number, and a cut in down ends that
// connection's response while the next one passes everything.
func TestRelay(t *testing.T) {
	target := Serve(t, func(conn net.Conn) {
		EachHead(conn, 64, func(head []byte) error {
			_, err := fmt.Fprintf(conn, "hello %s\n", head)
			return err
		})
	})
	relay := Relay(t, target.Addr().String(), nil, func(n int, dst io.Writer, src io.Reader) {
		if n == 1 {
			_, _ = io.CopyN(dst, src, 3)
			return
		}
		_, _ = io.Copy(dst, src)
	})
	for _, want := range []string{"hel", "hello a\n"} {
		conn, err := net.Dial("tcp", relay.Addr().String())
		require.NoError(t, err)
		_, err = io.WriteString(conn, "a\r\n\r\n")
		require.NoError(t, err)
		got := make([]byte, len(want))
		_, err = io.ReadFull(conn, got)
		require.NoError(t, err)
		assert.Equal(t, want, string(got))
		if want == "hel" {
			_, err = conn.Read(make([]byte, 1))
			assert.ErrorIs(t, err, io.EOF, "the cut half-closes the client's side")
		}
		require.NoError(t, conn.Close())
	}
	held, err := net.Dial("tcp", relay.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = held.Close() })
}
