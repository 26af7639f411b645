package testserver_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// Responses used across the tests.
const (
	getReq  = "GET /x HTTP/1.1\r\nHost: example\r\n\r\n"
	resp200 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
)

// dial connects to addr and closes the connection when the test ends.
func dial(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	return nc.(*net.TCPConn)
}

// ending is how a client-side read loop ended.
type ending string

const (
	endEOF   ending = "eof"   // clean close (FIN)
	endReset ending = "reset" // RST
	endOpen  ending = "open"  // nothing more within the quiet period
	endOther ending = "other"
)

// readUntilEnd reads until EOF or an error, or, once at least atLeast bytes
// arrived (waiting up to 5 s for them), until nothing more comes for quiet.
// It returns the bytes read and how the stream ended.
func readUntilEnd(t *testing.T, c net.Conn, atLeast int, quiet time.Duration) (string, ending) {
	t.Helper()
	var got strings.Builder
	buf := make([]byte, 4096)
	slow := time.Now().Add(5 * time.Second)
	for {
		dl := time.Now().Add(quiet)
		if got.Len() < atLeast {
			dl = slow
		}
		require.NoError(t, c.SetReadDeadline(dl))
		n, err := c.Read(buf)
		got.Write(buf[:n])
		switch {
		case err == nil:
			continue
		case errors.Is(err, io.EOF):
			return got.String(), endEOF
		case errors.Is(err, os.ErrDeadlineExceeded):
			return got.String(), endOpen
		case isReset(err):
			return got.String(), endReset
		default:
			t.Logf("read error: %v", err)
			return got.String(), endOther
		}
	}
}

// recTB is a testing.TB that records Errorf calls instead of failing.
type recTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recTB) recorded() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string{}, r.errs...)
}

func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

// signal is a step that closes done, so a test can wait for a script to get
// past a point before it closes the server.
func signal(done chan struct{}) ts.Step {
	return ts.Do("signal", func(*ts.Conn) error { close(done); return nil })
}

// waitSignal waits for a signal step.
func waitSignal(t *testing.T, done chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the script did not reach its signal step")
	}
}
