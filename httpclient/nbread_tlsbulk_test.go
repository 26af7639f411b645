package httpclient

import (
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
)

// tbRecord is a record as nbTLSConn sees it (it decrypts nothing): a header
// of content type typ and a body of n bytes.
func tbRecord(typ byte, n int) []byte {
	b := []byte{typ, 3, 3, byte(n >> 8), byte(n)}
	return append(b, bytes.Repeat([]byte{typ}, n)...)
}

// tbRead is one Read of w as crypto/tls makes it, with nbTLSReader's
// settings around it: room for plaintext (0: one record), whole.
type tbRead struct {
	p     int // len(p)
	room  int
	whole bool
	n     int   // bytes handed out
	err   error // nil, errWouldBlock, io.EOF, ECONNRESET
	state nbState
	any   bool // the look after it is not checked
}

// TestNBTLSBulkCut drives nbTLSConn over a real socket with records that
// arrived at once, before the first read (one bulk read takes them all):
// each Read hands crypto/tls no more than mbedTLS would read — the rest of
// one record, header and body together (§1.6.3.1, recordCut) — except the
// whole application-data records ahead that a reader's loop has room for;
// and after each Read the look at the socket (peek) sees the bytes still
// buffered as queued, and a FIN only once nothing is queued before it — the
// FIN a read met behind buffered bytes included.
func TestNBTLSBulkCut(t *testing.T) {
	r1, r2, r3 := tbRecord(23, 10), tbRecord(23, 20), tbRecord(23, 30)
	alert := tbRecord(21, 2)
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	const big = 4096
	tests := []struct {
		name  string
		first []byte // written, then waited for, before the first Read
		fin   bool   // the FIN is sent with first
		reset bool   // an RST is sent after first
		later []byte // written after the first Read, then the FIN
		reads []tbRead
	}{
		{name: "record-by-record", first: cat(r1, r2, r3), fin: true, reads: []tbRead{
			{p: big, n: len(r1), state: nbData},
			{p: big, n: len(r2), state: nbData},
			{p: big, n: len(r3), state: nbEOF},
			{p: big, err: io.EOF, state: nbEOF},
		}},
		{name: "room-takes-all", first: cat(r1, r2, r3), fin: true, reads: []tbRead{
			{p: big, room: big, n: len(r1) + len(r2) + len(r3), state: nbEOF},
			{p: big, err: io.EOF, state: nbEOF},
		}},
		{name: "room-bounds-bodies", first: cat(r1, r2, r3), reads: []tbRead{
			{p: big, room: 30, n: len(r1) + len(r2), state: nbData},
			{p: big, room: 29, n: len(r3), state: nbEmpty},
		}},
		// A record ahead that p cannot take whole is cut where p ends: the
		// rest is buffered, for crypto/tls to ask for next.
		{name: "p-bounds", first: cat(r1, r2, r3), reads: []tbRead{
			{p: len(r1) + len(r2) - 1, room: big, n: len(r1) + len(r2) - 1, state: nbData},
			{p: big, room: big, whole: true, n: 1 + len(r3), state: nbEmpty},
		}},
		{name: "p-bounds-no-room", first: cat(r1, r2, r3), reads: []tbRead{
			{p: len(r1) + len(r2) - 1, room: 29, n: len(r1), state: nbData},
			{p: big, room: 20, n: len(r2), state: nbData},
		}},
		{name: "whole-cut-by-p", first: cat(r1, r2), reads: []tbRead{
			{p: 8, whole: true, n: 8, state: nbData},
			{p: big, whole: true, n: len(r1) - 8, state: nbData},
		}},
		{name: "p-cuts-record", first: cat(r1, r2), reads: []tbRead{
			{p: 8, room: big, n: 8, state: nbData},
			{p: big, room: big, n: len(r1) - 8 + len(r2), state: nbEmpty},
		}},
		{name: "no-alert-ahead", first: cat(r1, alert, r3), fin: true, reads: []tbRead{
			{p: big, room: big, n: len(r1), state: nbData},
			{p: big, room: big, n: len(alert), state: nbData},
			{p: big, room: big, n: len(r3), state: nbEOF},
		}},
		{name: "whole-waits-for-record", first: cat(r1, r2[:7]), later: r2[7:], reads: []tbRead{
			{p: big, room: big, whole: true, n: len(r1), state: nbData},
			{p: big, room: big, whole: true, err: errWouldBlock, state: nbData},
			// later arrives, then the FIN: the top-up read takes the rest.
			{p: big, room: big, whole: true, n: len(r2), state: nbEOF},
		}},
		// The top-up read meets the RST: kept as the pending error, which
		// the look reports at once (Godot's POLLERR), and the read after
		// the buffered bytes returns.
		{name: "partial-record-then-RST", first: cat(r1, r2[:7]), reset: true, reads: []tbRead{
			{p: big, n: len(r1), state: nbData},
			{p: big, n: 7, state: nbError},
			{p: big, err: syscall.ECONNRESET, any: true},
		}},
		{name: "partial-record-then-FIN", first: cat(r1, r2[:7]), fin: true, reads: []tbRead{
			{p: big, n: len(r1), state: nbData},
			// The top-up read meets the FIN: held behind the 7 bytes.
			{p: big, n: 7, state: nbEOF},
			{p: big, err: io.EOF, state: nbEOF},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := nbPair(t)
			port := server.LocalAddr().(*net.TCPAddr).Port
			local := client.LocalAddr().(*net.TCPAddr).Port
			w := &nbTLSConn{Conn: client, nb: newNBConn(client, nil, nil)}
			defer w.Close()
			if !w.nb.NoWait() {
				t.Skip("no read without waiting on this platform")
			}
			_, err := server.Write(tt.first)
			require.NoError(t, err)
			require.True(t, drive.AwaitTCP(port, driveTimeout, finSettle, drive.UnreadAtLeast(port, len(tt.first))), "the records did not arrive")
			if tt.fin {
				require.NoError(t, server.CloseWrite())
				require.True(t, drive.AwaitTCP(local, driveTimeout, finSettle, drive.PeerEnded(local)), "the FIN did not arrive")
			}
			if tt.reset {
				require.NoError(t, server.SetLinger(0))
				require.NoError(t, server.Close())
				require.True(t, drive.AwaitTCP(local, driveTimeout, finSettle, drive.PeerEnded(local)), "the RST did not arrive")
			}
			for i, rd := range tt.reads {
				if i == 2 && tt.later != nil {
					_, err := server.Write(tt.later)
					require.NoError(t, err)
					require.NoError(t, server.CloseWrite())
					require.True(t, drive.AwaitTCP(local, driveTimeout, finSettle, drive.PeerEnded(local)), "the FIN did not arrive")
				}
				w.nonblock, w.room, w.whole = true, rd.room, rd.whole
				p := make([]byte, rd.p)
				n, err := w.Read(p)
				w.nonblock, w.room, w.whole = false, 0, false
				assert.Equal(t, rd.n, n, "read %d: bytes handed out", i)
				if errors.Is(rd.err, syscall.ECONNRESET) {
					assert.ErrorIs(t, err, syscall.ECONNRESET, "read %d", i)
				} else {
					assert.Equal(t, rd.err, err, "read %d", i)
				}
				if rd.err == io.EOF {
					assert.True(t, w.sawEOF.Load(), "read %d: a FIN, told apart from a close_notify (§1.15.4)", i)
				}
				if i == 0 {
					// One bulk read took everything: the socket is empty.
					assert.Equal(t, len(tt.first)-n, w.tail-w.head, "read 0 took all that had arrived")
				}
				if rd.any {
					continue
				}
				s, err := w.peek()
				if s == nbError {
					assert.ErrorIs(t, err, syscall.ECONNRESET, "read %d: the look at the socket", i)
				} else {
					require.NoError(t, err)
				}
				assert.Equal(t, rd.state, s, "read %d: the look at the socket", i)
			}
		})
	}
}
