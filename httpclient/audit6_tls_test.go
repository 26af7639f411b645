package httpclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// Audit 6: the TLS paths against Godot 4's HTTPClientTCP::poll and
// ::read_response_body_chunk over modules/mbedtls/stream_peer_mbedtls.cpp
// (StreamPeerMbedTLS::poll, ::get_partial_data) and mbedTLS's record reading
// (library/ssl_msg.c: mbedtls_ssl_read, mbedtls_ssl_fetch_input). The facts
// the expectations rest on:
//
//   - HTTPClientTCP::poll first calls StreamPeerTCP::poll: a socket readable
//     with 0 bytes queued (a FIN) disconnects the TCP stream.
//   - In CONNECTED and BODY it then calls StreamPeerMbedTLS::poll, which does
//     mbedtls_ssl_read(ctx, &byte, 0): with plaintext of a record still held
//     (in_offt set) it reads nothing; otherwise it reads records — handshake
//     messages (a session ticket) are handled, and the first
//     application-data record is kept whole, its plaintext held — until one
//     is there or the socket has nothing more (WANT_READ). A close_notify or
//     any error disconnects. Then, if the TCP stream is no longer
//     connected, it disconnects too; HTTPClient turns either into
//     CONNECTION_ERROR.
//   - mbedtls_ssl_fetch_input asks the transport for exactly what the
//     current record lacks (its 5-byte header, then its body): the records
//     behind it stay in the socket.
//   - get_partial_data loops mbedtls_ssl_read (one record's plaintext at
//     most per call) until the request is met or nothing more has arrived.
//
// So an idle kept-alive connection that receives one unsolicited record and
// then a FIN (no close_notify) is CONNECTED at the poll that takes the
// record and CONNECTION_ERROR at the next, while two records, or a record
// and a close_notify, keep it CONNECTED for good (nothing reads the socket
// until the next request).

// tls13Only pins the test server to TLS 1.3, so that a record's size on the
// wire is its plaintext + 22 bytes (header 5, content type 1, AEAD tag 16).
// tls13Only makes a test server speak TLS 1.3 and send each write as one
// record (up to 16 KiB): crypto/tls's dynamic record sizing would cut a
// write of more than about 1.2 KiB into records of growing size, their
// number depending on what the connection sent before, and tls13Wire, which
// the tests wait on, would count too few bytes.
func tls13Only(c *tls.Config) {
	c.MinVersion, c.MaxVersion = tls.VersionTLS13, tls.VersionTLS13
	c.DynamicRecordSizingDisabled = true
}

// tls13Wire is what a TLS 1.3 record of n plaintext bytes takes on the wire.
func tls13Wire(n int) int { return n + 22 }

// a6CloseNotify sends a close_notify and leaves the TCP connection open.
var a6CloseNotify = ts.Do("close_notify", func(c *ts.Conn) error { return c.TLS().CloseWrite() })

// a6Garbage writes a record that does not decrypt: the client's mbedTLS
// fails on it (bad record MAC), as on any TLS error.
var a6Garbage = ts.Do("garbage-record", func(c *ts.Conn) error {
	_, err := c.Raw().Write([]byte("\x17\x03\x03\x00\x14aaaaaaaaaaaaaaaaaaaa"))
	return err
})

// a6CutRecord writes the first bytes of a record and ends the TCP
// connection (no close_notify): mbedTLS meets the end inside the record.
var a6CutRecord = ts.Do("cut-record", func(c *ts.Conn) error {
	if _, err := c.Raw().Write([]byte("\x17\x03\x03\x00\x14aaa")); err != nil {
		return err
	}
	return c.CloseTCP()
})

// TestAudit6TLSIdleArrivals is §1.6.3.1 over TLS, to the letter of Godot's
// poll (see the file comment): after a complete response the server sends
// what the case says while the client is CONNECTED; once all of it is in
// the client's socket, each Poll's status is recorded. In both modes (the
// liveness check does not depend on the mode).
func TestAudit6TLSIdleArrivals(t *testing.T) {
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "localhost")
	const conn = StatusConnected
	const broken = StatusConnectionError
	rec := func(s string) ts.Step { return ts.WriteString(s) }
	tests := []struct {
		name   string
		send   []ts.Step
		wire   int  // bytes of send on the wire, when it ends without a FIN
		fin    bool // send ends with the TCP FIN
		later  []ts.Step
		polls  []Status // the status after each Poll (the last one repeats)
		polls2 []Status // after later arrived
		cause  error
	}{
		// The known difference: the record is read by poll 1 and held; poll 2
		// sees the FIN with nothing queued.
		{name: "one-record-then-FIN", send: []ts.Step{rec("unsolicited"), ts.CloseTCP()}, fin: true,
			polls: statuses(conn, broken), cause: ErrTLSTruncated},
		{name: "two-records-then-FIN", send: []ts.Step{rec("first"), rec("second"), ts.CloseTCP()}, fin: true,
			polls: statuses(conn, conn, conn, conn, conn)},
		{name: "record-close_notify-FIN", send: []ts.Step{rec("unsolicited"), ts.Close()}, fin: true,
			polls: statuses(conn, conn, conn, conn, conn)},
		{name: "record-close_notify", send: []ts.Step{rec("unsolicited"), a6CloseNotify, ts.Hold()},
			wire: tls13Wire(len("unsolicited")) + tls13Wire(2), polls: statuses(conn, conn, conn, conn, conn)},
		{name: "record-then-FIN-later", send: []ts.Step{rec("unsolicited")}, wire: tls13Wire(len("unsolicited")),
			later: []ts.Step{ts.CloseTCP()}, polls: statuses(conn, conn), polls2: statuses(broken), cause: ErrTLSTruncated},
		{name: "close_notify-FIN", send: []ts.Step{ts.Close()}, fin: true, polls: statuses(broken), cause: ErrPeerClosed},
		{name: "close_notify-alone", send: []ts.Step{a6CloseNotify, ts.Hold()}, wire: tls13Wire(2),
			polls: statuses(broken), cause: ErrPeerClosed},
		{name: "record-cut-by-FIN", send: []ts.Step{a6CutRecord}, fin: true, polls: statuses(broken), cause: io.ErrUnexpectedEOF},
		{name: "FIN-alone", send: []ts.Step{ts.CloseTCP()}, fin: true, polls: statuses(broken), cause: ErrTLSTruncated},
		{name: "bad-record", send: []ts.Step{a6Garbage, ts.Hold()}, wire: 25, polls: statuses(broken)},
		{name: "record-then-bad-record", send: []ts.Step{rec("unsolicited"), a6Garbage, ts.Hold()},
			wire: tls13Wire(len("unsolicited")) + 25, polls: statuses(conn, conn, conn, conn, conn)},
	}
	for _, tt := range tests {
		for _, m := range modes {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				start, more := make(chan struct{}), make(chan struct{})
				waitFor := func(ch chan struct{}) ts.Step {
					return ts.Do("wait", func(c *ts.Conn) error {
						select {
						case <-ch:
							return nil
						case <-c.Done():
							return ts.ErrServerClosed
						}
					})
				}
				steps := []ts.Step{ts.Read(), ts.WriteString(okResp), waitFor(start)}
				steps = append(steps, tt.send...)
				if tt.later != nil {
					steps = append(append(steps, waitFor(more)), tt.later...)
				}
				srv := ts.NewTLS(t, cert, ts.Script(steps...), ts.WithTLSConfig(tls13Only))
				c, _ := newClient(t, m.blocking)
				r := roundTrip(t, c, new([]Status), "localhost", srv.Port(), TLSClient(ca.Pool(), ""), getRoot, pathChunks, false)
				require.Equal(t, "ok", r.Body)
				require.Equal(t, StatusConnected, c.Status())
				close(start)
				if tt.fin {
					waitPeerEnded(t, c)
				} else {
					a6WaitUnread(t, c, srv.Port(), tt.wire)
				}
				assert.Equal(t, tt.polls, a6Polls(c, len(tt.polls)), "polls")
				if tt.later != nil {
					close(more)
					waitPeerEnded(t, c)
					assert.Equal(t, tt.polls2, a6Polls(c, len(tt.polls2)), "polls after the FIN")
				}
				if tt.cause != nil {
					assert.True(t, errors.Is(c.LastError(), tt.cause), "%v", c.LastError())
				}
				if c.Status() == StatusConnectionError {
					assert.True(t, errors.Is(c.Poll(), ErrConnectionError), "§1.6: the terminal status")
				}
			})
		}
	}
}

// a6Polls polls n times (a frame apart) and returns the status after each;
// it stops after one that leaves CONNECTED.
func a6Polls(c *Client, n int) []Status {
	var out []Status
	for range n {
		_ = c.Poll()
		out = append(out, c.Status())
		if c.Status() != StatusConnected {
			break
		}
		time.Sleep(pollGap)
	}
	return out
}

// a6WaitUnread waits until at least n bytes are queued unread in the
// socket of c, a client of the server on port: in the kernel's queue or in
// the bulk buffer below crypto/tls, which counts as the socket (nbTLSConn;
// nothing reads it while the test waits).
func a6WaitUnread(t *testing.T, c *Client, port, n int) {
	t.Helper()
	if !peekSupported {
		// The portable fallback (-tags gdhttp_portable) reads an idle
		// connection in the background (nbConn.Watch): the bytes leave the
		// socket, and these frame-exact tests pin the peek's timing.
		t.Skip("frame-exact TLS arrivals need the socket peek (unix)")
	}
	if c.st != nil && c.st.tr != nil {
		n -= c.st.tr.w.tail - c.st.tr.w.head
	}
	require.True(t, drive.AwaitTCP(port, driveTimeout, finSettle, drive.UnreadAtLeast(port, n)), "%d bytes did not arrive", n)
}

// The endings a6Body takes: close_notify then FIN, a bare FIN.
var tsClose, tsCloseTCP = ts.Close(), ts.CloseTCP()

// a6Body sends a GET to a TLS server that answers with the records of recs
// (each one write: one record) and then ends as end says, waits until the
// head was parsed and everything the server sent is in the client's socket,
// and returns the client (status BODY, or what the head gave).
func a6Body(t *testing.T, m mode, recs []string, end *ts.Step, chunkSize int) *Client {
	t.Helper()
	ca := ts.NewCA(t)
	steps := []ts.Step{ts.Read()}
	for _, r := range recs {
		steps = append(steps, ts.WriteString(r))
	}
	fin := end != nil
	if fin {
		steps = append(steps, *end)
	} else {
		steps = append(steps, ts.Hold())
	}
	srv := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.Script(steps...), ts.WithTLSConfig(tls13Only))
	c, _ := newClient(t, m.blocking)
	if chunkSize > 0 {
		require.NoError(t, c.SetReadChunkSize(chunkSize))
	}
	require.NoError(t, connect(t, c, "localhost", srv.Port(), TLSClient(ca.Pool(), "")))
	require.NoError(t, c.Request(MethodGet, "/", nil, ""))
	_ = pollWhile(t, c, StatusRequesting)
	if fin {
		waitPeerEnded(t, c)
	} else {
		wire := 0
		for _, r := range recs[1:] {
			wire += tls13Wire(len(r))
		}
		a6WaitUnread(t, c, srv.Port(), wire)
	}
	return c
}

// TestAudit6TLSBodyArrived is §1.10 over TLS with the whole response, and
// how the server ended, already in the client's socket when the body is
// read Godot's way (poll, then read_response_body_chunk, a frame at a time),
// in both modes; then, once the body is over, the next poll. Where the head
// and the body share a record and the server ends with a bare FIN (no
// close_notify), both in the socket before the first BODY poll, Godot
// drops the body: reading the head took that record into mbedTLS, the
// poll's TCP check sees the FIN with nothing queued, and the TLS stream is
// dropped with the body in it — CONNECTION_ERROR at the first poll, nothing
// read (HTTPRequest: R4 with no body, for a complete response). The
// "one-record-FIN" rows pin what the port does instead: the body is
// delivered (COMPAT.md H15, §7 D3).
func TestAudit6TLSBodyArrived(t *testing.T) {
	const (
		body  = StatusBody
		conn  = StatusConnected
		disc  = StatusDisconnected
		broke = StatusConnectionError
	)
	const cl = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
	const uc = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
	const ch = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	const chBody = "5\r\nhello\r\n0\r\n\r\n"
	tests := []struct {
		name   string
		recs   []string
		end    *ts.Step
		want   []step
		after  Status // the status after one more poll, when the body left CONNECTED
		cause  error
		compat bool // COMPAT.md H15: Godot gives CONNECTION_ERROR at the first poll
	}{
		{name: "length-one-record-FIN", recs: []string{cl + "ok"}, end: &tsCloseTCP,
			want: []step{{body, "ok", conn}}, after: broke, cause: ErrTLSTruncated, compat: true},
		{name: "length-one-record-close_notify-FIN", recs: []string{cl + "ok"}, end: &tsClose,
			want: []step{{body, "ok", conn}}, after: broke, cause: ErrPeerClosed},
		{name: "length-two-records-FIN", recs: []string{cl, "ok"}, end: &tsCloseTCP,
			want: []step{{body, "ok", conn}}, after: broke, cause: ErrTLSTruncated},
		{name: "length-two-records-held", recs: []string{cl, "ok"},
			want: []step{{body, "ok", conn}}, after: conn},
		{name: "until-close-one-record-FIN", recs: []string{uc + "data"}, end: &tsCloseTCP,
			want: []step{{body, "data", broke}}, cause: ErrTLSTruncated, compat: true},
		{name: "until-close-two-records-FIN", recs: []string{uc, "data"}, end: &tsCloseTCP,
			want: []step{{body, "data", broke}}, cause: ErrTLSTruncated},
		{name: "until-close-one-record-close_notify-FIN", recs: []string{uc + "data"}, end: &tsClose,
			want: []step{{body, "data", disc}}},
		{name: "until-close-two-records-close_notify-FIN", recs: []string{uc, "data"}, end: &tsClose,
			want: []step{{body, "data", disc}}},
		{name: "chunked-one-record-FIN", recs: []string{ch + chBody}, end: &tsCloseTCP,
			want: []step{{body, "hello", body}, {body, "", body}, {body, "", conn}}, after: broke, cause: ErrTLSTruncated, compat: true},
		{name: "chunked-one-record-close_notify-FIN", recs: []string{ch + chBody}, end: &tsClose,
			want: []step{{body, "hello", body}, {body, "", body}, {body, "", conn}}, after: broke, cause: ErrPeerClosed},
		{name: "length-head-split-records-FIN", recs: []string{"HTTP/1.1 200 OK\r\nCont", "ent-Length: 2\r\n\r", "\n", "ok"}, end: &tsCloseTCP,
			want: []step{{body, "ok", conn}}, after: broke, cause: ErrTLSTruncated},
		// A TLS error in BODY: Godot's poll reads the next record and fails.
		{name: "length-bad-record", recs: []string{cl}, end: &a6Garbage,
			want: []step{{broke, "", broke}}},
		{name: "length-record-cut-by-FIN", recs: []string{cl}, end: &a6CutRecord,
			want: []step{{broke, "", broke}}, cause: io.ErrUnexpectedEOF},
		{name: "chunked-records-FIN", recs: []string{ch, "5\r\nhel", "lo\r\n0\r", "\n\r\n"}, end: &tsCloseTCP,
			want: []step{{body, "hello", body}, {body, "", body}, {body, "", conn}}, after: broke, cause: ErrTLSTruncated},
	}
	for _, tt := range tests {
		for _, m := range modes {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				c := a6Body(t, m, tt.recs, tt.end, 0)
				require.Equal(t, StatusBody, c.Status())
				assert.Equal(t, tt.want, frames(c, 6))
				if tt.after != 0 {
					require.Equal(t, conn, c.Status())
					_ = c.Poll()
					assert.Equal(t, tt.after, c.Status(), "the poll after the body")
				}
				if tt.cause != nil {
					assert.True(t, errors.Is(c.LastError(), tt.cause), "%v", c.LastError())
				}
			})
		}
	}
}

// TestAudit6TLSRecordsPerCall is §1.10.1.2 over TLS: with several records
// queued, one read_response_body_chunk takes them all up to its target
// (get_partial_data loops mbedtls_ssl_read until the request is met), and a
// target that ends inside a record leaves the rest of it for the next
// call; in both modes.
func TestAudit6TLSRecordsPerCall(t *testing.T) {
	r100 := strings.Repeat("a", 100)
	recs := []string{"HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n", r100, r100, r100}
	for _, m := range modes {
		for _, size := range []int{0, 256} {
			t.Run(fmt.Sprintf("%s/%d", m.name, size), func(t *testing.T) {
				c := a6Body(t, m, recs, nil, size)
				want := []step{{StatusBody, strings.Repeat("a", 300), StatusConnected}}
				if size == 256 {
					want = []step{{StatusBody, strings.Repeat("a", 256), StatusBody}, {StatusBody, strings.Repeat("a", 44), StatusConnected}}
				}
				assert.Equal(t, want, frames(c, 4))
				_ = c.Poll()
				assert.Equal(t, StatusConnected, c.Status())
			})
		}
	}
}

// tlsRec is a record in the model's socket: application data, or a
// close_notify.
type tlsRec struct {
	data   []byte
	notify bool
}

// tlsModel is Godot's StreamPeerMbedTLS over the socket of a godotModel
// (stream_peer_mbedtls.cpp; mbedTLS's ssl_msg.c): the socket holds whole
// records (the server writes each piece as one), mbedTLS holds the
// plaintext of at most one, and reads the next only when it holds none.
// g.closed is the TCP stream's status (StreamPeerTCP::poll), dead the TLS
// stream's. The port's deviations these exchanges can meet are built in:
// in BODY while the body expects bytes, a FIN seen while plaintext is held
// (COMPAT H15) and a close_notify (H2) are left to the body read.
type tlsModel struct {
	kernel []tlsRec
	held   []byte
	dead   bool
}

// tcpPoll is StreamPeerTCP::poll: a FIN with nothing queued closes the TCP
// stream.
func (m *tlsModel) tcpPoll(g *godotModel) {
	if g.closed || len(m.kernel) > 0 || !g.fin {
		return
	}
	if g.status == StatusBody && g.bodyExpectsBytes() && len(m.held) > 0 {
		return // COMPAT H15
	}
	g.closed = true
}

// livePoll is StreamPeerMbedTLS::poll in CONNECTED and BODY: with nothing
// held, mbedtls_ssl_read(…, 0) takes the next record; then a TCP stream no
// longer connected drops the TLS stream.
func (m *tlsModel) livePoll(g *godotModel) {
	if m.dead {
		return
	}
	if len(m.held) == 0 {
		if g.status == StatusBody && g.bodyExpectsBytes() && len(m.kernel) > 0 && m.kernel[0].notify {
			return // COMPAT H2: left to the body read
		}
		if err := m.fetch(g); err != nil {
			m.dead = true
		}
	}
	if g.closed {
		m.dead = true
	}
}

// fetch is mbedtls_ssl_read's record loop with nothing held: the next
// record's plaintext is held, or nothing has arrived (nil), or a
// close_notify (io.EOF) or the end of the TCP stream (Failed: bio_recv
// gives MBEDTLS_ERR_SSL_INTERNAL_ERROR).
func (m *tlsModel) fetch(g *godotModel) error {
	switch {
	case g.closed:
		return Failed
	case len(m.kernel) == 0:
		if g.fin {
			g.closed = true // StreamPeerTCP::read met the EOF
			return Failed
		}
		return nil
	}
	r := m.kernel[0]
	m.kernel = m.kernel[1:]
	if r.notify {
		return io.EOF
	}
	m.held = r.data
	return nil
}

// getPartial is StreamPeerMbedTLS::get_partial_data: mbedtls_ssl_read
// (at most the held record's plaintext each) until n bytes or nothing
// more; an error or a close_notify drops the TLS stream, with the bytes
// read before it.
func (m *tlsModel) getPartial(g *godotModel, n int) ([]byte, error) {
	if m.dead {
		return nil, Failed // ERR_UNCONFIGURED
	}
	var out []byte
	for len(out) < n {
		if len(m.held) == 0 {
			if err := m.fetch(g); err != nil {
				m.dead = true
				return out, err
			}
			if len(m.held) == 0 {
				break
			}
		}
		k := min(n-len(out), len(m.held))
		out = append(out, m.held[:k]...)
		m.held = m.held[k:]
	}
	return out, nil
}

// recv is HTTPClientTCP::_get_http_data over TLS: one get_partial_data, or
// in blocking mode a loop of them to n bytes or the end.
func (m *tlsModel) recv(g *godotModel, n int) ([]byte, error) {
	if !g.blocking {
		return m.getPartial(g, n)
	}
	var out []byte
	for len(out) < n {
		b, err := m.getPartial(g, n-len(out))
		out = append(out, b...)
		if err != nil {
			return out, err
		}
		if len(b) == 0 {
			panic("the model would wait forever")
		}
	}
	return out, nil
}

// TestAudit6TLSGodotModel is TestAudit5GodotModel over TLS: random
// exchanges through the client and through godotModel with a tlsModel
// under it, each piece of a response written as one TLS record and waited
// for until acknowledged, the last response ended by a bare FIN or by a
// close_notify and the FIN; every frame (poll(), then
// read_response_body_chunk() in BODY) must give the same statuses, bytes
// and getters (§1.6.3.1, §1.6.4, §1.10, §1.15.4). Non-blocking. The FIN is
// never sent while the client is idle before its second request: the port
// writes a TLS request in the background and meets it one Poll later than
// Godot (the plumbing note of COMPAT.md).
func TestAudit6TLSGodotModel(t *testing.T) {
	runTLSModel(t, false, 7, 80)
}

// TestAudit6TLSGodotModelBlocking is TestAudit6TLSGodotModel in blocking
// mode, each response delivered whole, the last one followed by the end,
// before its frames run.
func TestAudit6TLSGodotModelBlocking(t *testing.T) {
	runTLSModel(t, true, 8, 60)
}

func runTLSModel(t *testing.T, blocking bool, seed uint64, n int) {
	seed, n = modelRuns(seed, n)
	r := rand.New(rand.NewPCG(seed, 1))
	ca := ts.NewCA(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, "localhost")}, SessionTicketsDisabled: true,
		DynamicRecordSizingDisabled: true, MinVersion: tls.VersionTLS13}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	if testing.Short() {
		n /= 4
	}
	for i := range n {
		mc := genModelCase(r)
		for blocking && ambiguousFirst(mc) {
			// An ambiguous first response can frame more body than it
			// sends: the blocking reads (Godot's and the port's) would
			// wait for bytes that only the next response brings.
			mc = genModelCase(r)
		}
		mc.finFirst = false
		notify := r.IntN(2) == 0
		if blocking {
			mc.fin = true
			for j := range mc.cuts {
				mc.cuts[j] = nil
			}
		}
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			runTLSModelCase(t, ln, cfg, ca.Pool(), mc, notify, uint64(i), blocking)
		})
	}
}

// ambiguousFirst reports whether a response before the last carries one of
// genResponse's ambiguous framing headers.
func ambiguousFirst(mc modelCase) bool {
	for i, resp := range mc.resps[:len(mc.resps)-1] {
		if mc.odd[i] {
			return true // its framing may ask for more than it sends
		}
		for _, h := range []string{"Content-Length: 3\r\n", "Content-Length: 0,3\r\n", "Transfer-Encoding: gzip\r\n", "Content-Length : 2\r\n"} {
			if strings.Contains(resp, h) {
				return true
			}
		}
		if strings.HasPrefix(resp, "HTTP/1.0 ") && strings.Contains(resp, "Transfer-Encoding: chunked\r\n") {
			return true // RFC 9112 §6.1: retired after it, as the others
		}
	}
	return false
}

func runTLSModelCase(t *testing.T, ln *net.TCPListener, cfg *tls.Config, roots *x509.CertPool, mc modelCase, notify bool, seed uint64, blocking bool) {
	idle := rand.New(rand.NewPCG(seed, 2))
	c, _ := newClient(t, blocking)
	watchdog := time.AfterFunc(driveTimeout, c.Abort)
	defer watchdog.Stop()
	require.NoError(t, c.SetReadChunkSize(mc.readChunk))
	type accepted struct {
		raw *net.TCPConn
		tc  *tls.Conn
		err error
	}
	ach := make(chan accepted, 1)
	go func() {
		raw, err := ln.AcceptTCP()
		if err != nil {
			ach <- accepted{err: err}
			return
		}
		_ = raw.SetDeadline(time.Now().Add(driveTimeout))
		tc := tls.Server(raw, cfg)
		ach <- accepted{raw, tc, tc.Handshake()}
	}()
	require.NoError(t, connect(t, c, "localhost", ln.Addr().(*net.TCPAddr).Port, TLSClient(roots, "")))
	a := <-ach
	require.NoError(t, a.err)
	srv, raw := a.tc, a.raw
	defer func() { _ = raw.Close() }()
	g := &godotModel{status: StatusConnected, readChunk: mc.readChunk, code: 0, bodyLen: -1, blocking: blocking, tls: &tlsModel{}}
	var got, want []mstep
	var gotMid, wantMid []string
	midR := rand.New(rand.NewPCG(seed, 3))
	var gotPoll, wantPoll []godot.Error // what each poll() returned
	frame := func(mustPoll bool) {
		kind := idle.IntN(6)
		poll, read := kind != 5 || mustPoll, kind != 4
		if mc.mid {
			gm, wm := midcall(c, g, midR, poll, read)
			gotMid, wantMid = append(gotMid, gm...), append(wantMid, wm...)
		}
		if poll {
			perr := c.Poll()
			if mustPoll && c.wpending {
				// The port writes a TLS request in the background (the
				// plumbing note of COMPAT.md): the Poll that started the
				// write and the one that finds it done stand for Godot's
				// one poll(), which writes within the call.
				require.True(t, drive.Until(driveTimeout, func() bool { return len(c.wch) > 0 }))
				perr = c.Poll()
			}
			gotPoll = append(gotPoll, godot.CodeOf(perr))
		}
		got = append(got, observe(c, read))
		if poll {
			before := g.status
			g.poll()
			wantPoll = append(wantPoll, pollReturn(before, g.status))
		}
		want = append(want, g.observe(read))
	}
	send := func(piece string) {
		_, err := srv.Write([]byte(piece))
		require.NoError(t, err)
		waitAcked(t, raw)
		if !g.retired {
			g.tls.kernel = append(g.tls.kernel, tlsRec{data: []byte(piece)})
		}
	}
	end := func() {
		if notify {
			require.NoError(t, srv.CloseWrite()) // close_notify
			g.tls.kernel = append(g.tls.kernel, tlsRec{notify: true})
		}
		require.NoError(t, raw.CloseWrite())
		waitAcked(t, raw)
		g.fin = true
		if g.retired {
			g.tls.kernel = nil
		}
	}
	buf := make([]byte, 4096)
	for i, resp := range mc.resps {
		if c.Status() != StatusConnected || g.status != StatusConnected {
			break
		}
		retired := c.retired
		require.NoError(t, c.Request(mc.methods[i], "/", nil, ""))
		g.request(mc.methods[i])
		last := i == len(mc.resps)-1
		if blocking {
			send(resp)
			if last {
				end()
			}
		}
		frame(true) // writes the request
		if mc.mid && c.Status() == StatusDisconnected && g.status == StatusDisconnected {
			break // close() between frames (midcall)
		}
		if retired {
			// The port closed the connection after an ambiguous response
			// (COMPAT H5): nothing reaches the server.
			for range 4 {
				frame(false)
			}
			break
		}
		awaitRequestHead(t, srv, buf)
		prev := 0
		if blocking {
			prev = len(resp)
		}
		for _, cut := range append(mc.cuts[i], len(resp)) {
			if cut <= prev {
				continue
			}
			if c.retired || (c.st == nil && g.closed) { // or both closed it (COMPAT R2)
				break // COMPAT H5
			}
			send(resp[prev:cut])
			prev = cut
			for range 1 + idle.IntN(2) {
				frame(false)
			}
		}
		if last && mc.fin && !blocking && !c.retired && !(c.st == nil && g.closed) {
			end()
		}
		for range 6 {
			frame(false)
		}
	}
	assert.Equal(t, want, got, "responses %q to %v cut at %v, FIN %v (close_notify %v), read_chunk_size %d, calls between frames %q",
		mc.resps, mc.methods, mc.cuts, mc.fin, notify, mc.readChunk, wantMid)
	assert.Equal(t, wantPoll, gotPoll, "poll()'s return values; responses %q to %v", mc.resps, mc.methods)
	assert.Equal(t, wantMid, gotMid, "calls between frames; responses %q", mc.resps)
}

// TestTLSChunkedIntoDrains: in non-blocking mode, ReadResponseBodyChunkInto
// decodes a chunked body record after record, as long as records have been
// received, into one call's buffer — as its fixed-length path drains what
// has arrived (§1.10.3, §1.15.3) — not one record's worth per call. The
// whole body, its last chunk included, is already in the client's socket:
// one call returns all of it with io.EOF.
func TestTLSChunkedIntoDrains(t *testing.T) {
	data := strings.Repeat("a", 10000)
	chunk := fmt.Sprintf("%x\r\n%s\r\n", len(data), data)
	recs := []string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunk, chunk, chunk, "0\r\n\r\n"}
	c := a6Body(t, modes[0], recs, nil, 0)
	require.False(t, c.blocking)
	p := make([]byte, 64<<10)
	n, err := c.ReadResponseBodyChunkInto(p)
	assert.Equal(t, 3*len(data), n, "one call takes every record received")
	assert.Equal(t, io.EOF, err)
	assert.Equal(t, strings.Repeat(data, 3), string(p[:n]))
	assert.Equal(t, StatusConnected, c.Status())
}
