package httpclient

import (
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// tbOneSegment writes recs, each one TLS record, then a close_notify when
// notify is set, and closes the TCP connection, all in one TCP segment: the
// socket is corked for the writes (TCP_CORK) and the close sends the data
// with the FIN. One bulk read of the client takes every record at once.
func tbOneSegment(recs []string, notify bool) ts.Step {
	return ts.Do("one-segment", func(c *ts.Conn) error {
		rc, err := c.Raw().(*net.TCPConn).SyscallConn()
		if err != nil {
			return err
		}
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, 1)
		}); err != nil {
			return err
		}
		if serr != nil {
			return serr
		}
		for _, r := range recs {
			if _, err := c.TLS().Write([]byte(r)); err != nil {
				return err
			}
		}
		if notify {
			if err := c.TLS().CloseWrite(); err != nil {
				return err
			}
		}
		return c.CloseTCP()
	})
}

// waitFor is a server step that waits until start is closed (by the test).
func waitFor(start <-chan struct{}) ts.Step {
	return ts.Do("wait", func(c *ts.Conn) error {
		select {
		case <-start:
			return nil
		case <-c.Done():
			return ts.ErrServerClosed
		}
	})
}

// TestTLSBulkIdleOneSegment is §1.6.3.1 with everything arriving in ONE
// segment on an idle kept-alive TLS connection, in both modes: the client
// reads the socket in bulk (nbTLSConn), so the first look takes all of it
// into its buffer at once, and that buffer must never be ahead of Godot's
// view — mbedTLS reads one record and leaves the rest in the socket, where
// StreamPeerTCP::poll's FIN check looks. Two records then the FIN:
// CONNECTED on every poll (the second record is still queued); one record
// then the FIN: CONNECTED, then CONNECTION_ERROR (nothing queued before the
// FIN); a record, a close_notify, the FIN: CONNECTED for good. The bulk
// buffer is checked to hold what the first poll left, so the case is the
// one-segment case.
func TestTLSBulkIdleOneSegment(t *testing.T) {
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "localhost")
	const conn = StatusConnected
	const broken = StatusConnectionError
	tests := []struct {
		name     string
		recs     []string
		notify   bool
		buffered int // bulk-buffer bytes left after the first poll
		polls    []Status
		cause    error
	}{
		{name: "two-records-FIN", recs: []string{"first", "second"}, buffered: tls13Wire(len("second")),
			polls: statuses(conn, conn, conn, conn, conn)},
		{name: "three-records-FIN", recs: []string{"first", "second", "third"},
			buffered: tls13Wire(len("second")) + tls13Wire(len("third")), polls: statuses(conn, conn, conn, conn, conn)},
		{name: "one-record-FIN", recs: []string{"unsolicited"}, polls: statuses(conn, broken), cause: ErrTLSTruncated},
		{name: "record-close_notify-FIN", recs: []string{"unsolicited"}, notify: true, buffered: tls13Wire(2),
			polls: statuses(conn, conn, conn, conn, conn)},
	}
	for _, tt := range tests {
		for _, m := range modes {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				start := make(chan struct{})
				srv := ts.NewTLS(t, cert, ts.Script(ts.Read(), ts.WriteString(okResp), waitFor(start), tbOneSegment(tt.recs, tt.notify)),
					ts.WithTLSConfig(tls13Only))
				c, _ := newClient(t, m.blocking)
				r := roundTrip(t, c, new([]Status), "localhost", srv.Port(), TLSClient(ca.Pool(), ""), getRoot, pathChunks, false)
				require.Equal(t, "ok", r.Body)
				require.Equal(t, StatusConnected, c.Status())
				require.NotNil(t, c.st.tr)
				require.Zero(t, c.st.tr.w.tail-c.st.tr.w.head, "bytes read ahead before the records were sent")
				close(start)
				waitPeerEnded(t, c)
				_ = c.Poll()
				require.Equal(t, tt.polls[0], c.Status(), "poll 1")
				assert.Equal(t, tt.buffered, c.st.tr.w.tail-c.st.tr.w.head, "the bulk buffer after poll 1")
				got := append([]Status{c.Status()}, a6Polls(c, len(tt.polls)-1)...)
				assert.Equal(t, tt.polls, got, "polls")
				if tt.cause != nil {
					assert.True(t, errors.Is(c.LastError(), tt.cause), "%v", c.LastError())
				}
			})
		}
	}
}
