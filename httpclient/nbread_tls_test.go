package httpclient

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// nbHoldConn is the TLS server's transport: it keeps everything the server
// writes, for the test to deliver at its own pace.
type nbHoldConn struct {
	net.Conn
	mu   sync.Mutex
	held []byte
}

func (h *nbHoldConn) Write(p []byte) (int, error) {
	h.mu.Lock()
	h.held = append(h.held, p...)
	h.mu.Unlock()
	return len(p), nil
}

func (h *nbHoldConn) bytes() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return bytes.Clone(h.held)
}

// nbCountConn is the client's transport seen from crypto/tls: it counts
// the bytes crypto/tls took and says whether it is inside a Read.
type nbCountConn struct {
	*nbTLSConn
	n atomic.Int64
	// waitAt is n when the Read in progress started, −1 between Reads: a
	// Read that started with every delivered byte taken waits for more.
	// (A flag set around the Read raced with n: the handshake loop could
	// see a finished Read as waiting and deliver a record it never reads.)
	waitAt atomic.Int64
}

func (c *nbCountConn) Read(p []byte) (int, error) {
	c.waitAt.Store(c.n.Load())
	n, err := c.nbTLSConn.Read(p)
	c.n.Add(int64(n))
	c.waitAt.Store(-1)
	return n, err
}

// nbTLSCase is one TLS connection over loopback whose server-to-client
// bytes the test delivers: sc is the server's TCP end, srv the server (its
// writes are held), r the client read through nbTLSReader.
type nbTLSCase struct {
	sc        *net.TCPConn
	hold      *nbHoldConn
	srv       *tls.Conn
	r         *nbTLSReader
	cw        *nbCountConn
	delivered int // bytes of hold delivered to the client
}

// nbTLSEnv is a CA and the configs built on it, shared by a test's cases.
type nbTLSEnv struct {
	srv, cli *tls.Config
}

func newNBTLSEnv(t testing.TB, version uint16) *nbTLSEnv {
	ca := ts.NewCA(t)
	cert := ca.Issue(t, "localhost")
	return &nbTLSEnv{
		srv: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version},
		// The session cache makes a TLS 1.3 server send a session ticket,
		// a post-handshake message, ahead of the application data.
		cli: &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost", MinVersion: version, MaxVersion: version,
			ClientSessionCache: tls.NewLRUClientSessionCache(4)},
	}
}

// open connects, and runs the client's handshake in blocking mode while
// delivering the server's records one at a time, each only once the client
// took all before it and asks for more: the client never sees a byte of
// what follows the handshake (TLS 1.3 session tickets included) before the
// test delivers it.
func (e *nbTLSEnv) open(t *testing.T, wrap func(net.Conn) net.Conn) *nbTLSCase {
	t.Helper()
	client, server := nbPair(t)
	c := &nbTLSCase{sc: server, hold: &nbHoldConn{Conn: server}}
	c.srv = tls.Server(c.hold, e.srv)
	nb := newNBConn(wrap(client), nil, nil)
	w := &nbTLSConn{Conn: client, nb: nb}
	c.cw = &nbCountConn{nbTLSConn: w}
	c.cw.waitAt.Store(-1)
	c.r = &nbTLSReader{tc: tls.Client(c.cw, e.cli), w: w}

	srvDone := make(chan error, 1)
	go func() { srvDone <- c.srv.Handshake() }()
	cliDone := make(chan error, 1)
	go func() { cliDone <- c.r.tc.Handshake() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-cliDone:
			require.NoError(t, err)
			require.NoError(t, <-srvDone)
			require.Equal(t, int64(c.delivered), c.cw.n.Load())
			return c
		default:
		}
		require.True(t, time.Now().Before(deadline), "handshake stuck")
		if c.cw.waitAt.Load() == int64(c.delivered) {
			if rec := nbNextRecord(c.hold.bytes()[c.delivered:]); rec != nil {
				_, err := c.sc.Write(rec)
				require.NoError(t, err)
				c.delivered += len(rec)
				continue
			}
		}
		runtime.Gosched()
	}
}

// nbNextRecord returns the first whole TLS record of b, or nil.
func nbNextRecord(b []byte) []byte {
	if len(b) < 5 {
		return nil
	}
	n := 5 + (int(b[3])<<8 | int(b[4]))
	if len(b) < n {
		return nil
	}
	return b[:n]
}

// nbTLSPlain is what the servers send: records of 5, 300 and 1 bytes.
var nbTLSPlain = [][]byte{[]byte("first"), bytes.Repeat([]byte("0123456789"), 30), []byte("!")}

// nbEnding is how the server's stream ends.
type nbEnding int

const (
	nbCloseNotify  nbEnding = iota // close_notify alert (no FIN)
	nbFINBoundary                  // FIN at a record boundary, no close_notify
	nbFINMidRecord                 // FIN three bytes before the end of the last record
)

func (e nbEnding) String() string {
	return [...]string{"close_notify", "fin at boundary", "fin mid-record"}[e]
}

// rest writes the server's records and ending into the hold and returns
// the bytes still to deliver, and the plaintext the client must read.
func (c *nbTLSCase) rest(t *testing.T, end nbEnding) (stream, plain []byte) {
	t.Helper()
	for _, p := range nbTLSPlain {
		_, err := c.srv.Write(p)
		require.NoError(t, err)
		plain = append(plain, p...)
	}
	if end == nbCloseNotify {
		require.NoError(t, c.srv.CloseWrite())
		// CloseWrite ends by setting the transport's write deadline to now.
		require.NoError(t, c.sc.SetWriteDeadline(time.Time{}))
	}
	stream = c.hold.bytes()[c.delivered:]
	if end == nbFINMidRecord {
		stream = stream[:len(stream)-3]
		plain = plain[:len(plain)-1] // the last record ("!") never completes
	}
	return stream, plain
}

// check asserts how the stream ended.
func (c *nbTLSCase) check(t *testing.T, end nbEnding, final error) {
	t.Helper()
	switch end {
	case nbCloseNotify:
		assert.Equal(t, io.EOF, final)
		assert.False(t, c.r.w.sawEOF.Load(), "close_notify read as a TCP EOF")
	case nbFINBoundary:
		assert.Equal(t, io.EOF, final)
		assert.True(t, c.r.w.sawEOF.Load(), "a FIN without close_notify must be told apart (§1.15.4)")
	case nbFINMidRecord:
		assert.ErrorIs(t, final, io.ErrUnexpectedEOF)
	}
	// The end is sticky, and not a would-block.
	n, err := c.r.TryRead(make([]byte, 8))
	assert.Zero(t, n)
	assert.NotEqual(t, errWouldBlock, err)
	assert.Error(t, err)
}

// TestNBTLSTrickle proves that crypto/tls keeps its state across the
// would-block errors of nbTLSConn: after a blocking handshake, the
// server's bytes (TLS 1.3 session tickets, three application records, the
// ending) arrive one byte at a time; after each byte, once crypto/tls took
// it, the client reads without waiting until it would block. Every record
// is thus interrupted at every byte, and the client must read exactly the
// plaintext and then the ending (§1.15.4: close_notify is EOF; a FIN
// without it is told apart through sawEOF), through the socket read and
// through the fallback, with TLS 1.2 and 1.3 (where the session ticket is
// a post-handshake message cut at every byte too).
func TestNBTLSTrickle(t *testing.T) {
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		env := newNBTLSEnv(t, version)
		for _, k := range nbKinds {
			for _, end := range []nbEnding{nbCloseNotify, nbFINBoundary, nbFINMidRecord} {
				t.Run(tls.VersionName(version)+"/"+k.name+"/"+end.String(), func(t *testing.T) {
					c := env.open(t, k.wrap)
					stream, plain := c.rest(t, end)
					base := c.cw.n.Load()
					p := make([]byte, 7) // smaller than a record: partial takes too
					var got []byte
					var final error
					wouldBlock := 0
					// drain reads until would-block or the end.
					drain := func() {
						for final == nil {
							n, err := c.r.TryRead(p)
							got = append(got, p[:n]...)
							if err == errWouldBlock {
								require.Zero(t, n)
								wouldBlock++
								return
							}
							final = err
						}
					}
					for i := range stream {
						require.Nil(t, final, "the stream ended after %d of %d bytes", i, len(stream))
						_, err := c.sc.Write(stream[i : i+1])
						require.NoError(t, err)
						deadline := time.Now().Add(5 * time.Second)
						for c.cw.n.Load() < base+int64(i+1) && final == nil {
							require.True(t, time.Now().Before(deadline), "byte %d never taken", i)
							drain()
							runtime.Gosched()
						}
						drain()
					}
					if end != nbCloseNotify {
						require.Nil(t, final)
						require.NoError(t, c.sc.CloseWrite())
						deadline := time.Now().Add(5 * time.Second)
						for final == nil {
							require.True(t, time.Now().Before(deadline), "FIN never seen")
							drain()
							runtime.Gosched()
						}
					}
					assert.Equal(t, string(plain), string(got))
					c.check(t, end, final)
					// Every byte but the last was followed by a would-block.
					assert.GreaterOrEqual(t, wouldBlock, len(stream)-1)
					t.Logf("%d bytes trickled, %d would-blocks", len(stream), wouldBlock)
				})
			}
		}
	}
}

// TestNBTLSCuts delivers the server's bytes after the handshake in two
// pieces, cut at every byte boundary, each on a fresh connection: the
// client reads without waiting until it would block, then gets the rest
// and reads to the close_notify. It calls tls.Conn.Read directly: when
// crypto/tls has returned data and holds the first bytes of an alert
// behind it, it tries to read the alert and would return (n > 0,
// errWouldBlock) (conn.go, Conn.Read: "If a close-notify alert is
// waiting, read it"); the record-exact transport (recordCut) never lets
// it hold them.
func TestNBTLSCuts(t *testing.T) {
	if testing.Short() {
		t.Skip("hundreds of handshakes")
	}
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			env := newNBTLSEnv(t, version)
			dataAndWouldBlock := 0
			for cut := 0; ; cut++ {
				c := env.open(t, nbKinds[0].wrap)
				stream, plain := c.rest(t, nbCloseNotify)
				if cut > len(stream) {
					break
				}
				base := c.cw.n.Load()
				var got []byte
				var final error
				p := make([]byte, 512)
				read := func() (wouldBlock bool) {
					c.r.w.nonblock = true
					n, err := c.r.read(p)
					c.r.w.nonblock = false
					got = append(got, p[:n]...)
					if err == errWouldBlock {
						if n > 0 {
							dataAndWouldBlock++
						}
						return true
					}
					final = err
					return false
				}
				_, err := c.sc.Write(stream[:cut])
				require.NoError(t, err)
				deadline := time.Now().Add(5 * time.Second)
				for c.cw.n.Load() < base+int64(cut) && final == nil {
					require.True(t, time.Now().Before(deadline))
					read()
					runtime.Gosched()
				}
				for final == nil && !read() {
				}
				if cut < len(stream) {
					require.Nil(t, final, "cut %d", cut)
					_, err = c.sc.Write(stream[cut:])
					require.NoError(t, err)
				}
				for final == nil {
					require.True(t, time.Now().Before(deadline))
					if read() {
						runtime.Gosched()
					}
				}
				require.Equal(t, string(plain), string(got), "cut %d", cut)
				c.check(t, nbCloseNotify, final)
				// Close this case's sockets now, not at the end of the test.
				_ = c.sc.Close()
				_ = c.r.w.nb.Close()
			}
			// The transport hands crypto/tls one record at a time, as
			// mbedTLS reads (recordCut): Conn.Read never holds the first
			// bytes of the alert behind its data, so its look-ahead never
			// fires (before the cut it did, under TLS 1.2, for cuts inside
			// the alert; TLS 1.3 hides an alert under the outer type of
			// application data anyway). nbTLSReader.TryRead still handles it.
			assert.Zero(t, dataAndWouldBlock, "a cut made crypto/tls return data with a would-block")
		})
	}
}

// TestNBTLSIdle: on an idle TLS connection a read without waiting returns
// errWouldBlock at once, as often as asked, and the connection still reads
// what comes next. It allocates one object: crypto/tls's own atLeastReader
// (conn.go, readFromUntil: &atLeastReader{r, int64(needs)} escapes), which
// a blocking read pays per record as well.
func TestNBTLSIdle(t *testing.T) {
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			env := newNBTLSEnv(t, version)
			client, server := nbPair(t)
			srv := tls.Server(server, env.srv)
			r := newNBTLS(client, newNBConn(client, nil, nil), env.cli)
			hs := make(chan error, 1)
			go func() { hs <- srv.Handshake() }()
			require.NoError(t, r.tc.Handshake())
			require.NoError(t, <-hs)
			p := make([]byte, 64)
			for range 100 {
				n, err := r.TryRead(p)
				require.Equal(t, errWouldBlock, err)
				require.Zero(t, n)
			}
			if r.w.nb.NoWait() {
				assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { _, _ = r.TryRead(p) }), 1.0)
			}
			_, err := srv.Write([]byte("after"))
			require.NoError(t, err)
			var n int
			require.True(t, drive.Until(5*time.Second, func() bool {
				n, err = r.TryRead(p)
				return err != errWouldBlock
			}), "the record did not arrive")
			require.NoError(t, err)
			assert.Equal(t, "after", string(p[:n]))
		})
	}
}

// TestNBTLSDrainsRecords: with several records and the close_notify
// queued, one TryRead takes them all, up to len(p) — Godot's drain up to
// read_chunk_size on every call (§1.10.3) — and reports the end with the
// data; with a p that ends at a record boundary it stops there and
// reports the end on the next call (§1.10.4: a read that fills the chunk
// does not see what follows).
func TestNBTLSDrainsRecords(t *testing.T) {
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		env := newNBTLSEnv(t, version)
		for _, size := range []int{1024, 305} {
			t.Run(fmt.Sprintf("%s/%d", tls.VersionName(version), size), func(t *testing.T) {
				c := env.open(t, nbKinds[0].wrap)
				stream, plain := c.rest(t, nbCloseNotify)
				_, err := c.sc.Write(stream) // one loopback segment: it arrives whole
				require.NoError(t, err)
				require.True(t, drive.Until(5*time.Second, func() bool {
					s, err := c.r.w.nb.Peek()
					require.NoError(t, err)
					return s == nbData
				}), "the records did not arrive")
				p := make([]byte, size)
				n, err := c.r.TryRead(p)
				if size >= len(plain) {
					assert.Equal(t, io.EOF, err)
					assert.Equal(t, string(plain), string(p[:n]))
					return
				}
				require.NoError(t, err)
				assert.Equal(t, string(plain[:size]), string(p[:n]))
				n, err = c.r.TryRead(p)
				assert.Equal(t, io.EOF, err)
				assert.Equal(t, string(plain[size:]), string(p[:n]))
			})
		}
	}
}

// TestNBTLSPeekReset: the liveness check looks at the socket under TLS
// (§1.6.3.1); when it finds an RST, the kernel hands ECONNRESET out once,
// to the look. nbConn keeps it, so the read through crypto/tls that
// follows fails with it too, and the failure is sticky.
func TestNBTLSPeekReset(t *testing.T) {
	env := newNBTLSEnv(t, tls.VersionTLS13)
	for _, k := range nbKinds {
		t.Run(k.name, func(t *testing.T) {
			c := env.open(t, k.wrap)
			require.NoError(t, c.sc.SetLinger(0))
			require.NoError(t, c.sc.Close())
			nb := c.r.w.nb
			s, err := nbPeekUntil(t, nb)
			require.Equal(t, nbError, s)
			require.ErrorIs(t, err, syscall.ECONNRESET)
			n, err := c.r.TryRead(make([]byte, 16))
			assert.Zero(t, n)
			assert.ErrorIs(t, err, syscall.ECONNRESET)
			_, err = c.r.TryRead(make([]byte, 16))
			assert.ErrorIs(t, err, syscall.ECONNRESET)
		})
	}
}

// TestTLSWriteNonBlockingNoGoroutine: in non-blocking mode a TLS request is
// encrypted on the Poll's goroutine and what the socket does not take waits
// in the transport for the next Poll: with a server that reads nothing for
// a while (the socket full), the client never starts a goroutine, its
// Polls return, and the server decrypts exactly the body sent — no record
// was cut or lost (§1.6.4.1).
func TestTLSWriteNonBlockingNoGoroutine(t *testing.T) {
	const size = 12 << 20
	c, body, got := uploadToSlowTLS(t, size)
	waited := 0
	require.True(t, drive.Until(driveTimeout, func() bool {
		require.NoError(t, c.Poll())
		require.Zero(t, c.live.Load(), "no goroutine writes")
		if w := c.st.tr.w; w.poff < len(w.pend) {
			waited++
		}
		return c.Status() != StatusRequesting
	}))
	assert.Positive(t, waited, "the socket was full at some Poll")
	require.Equal(t, StatusBody, c.Status())
	assert.Equal(t, int64(size), c.BytesSent())
	assert.True(t, bytes.Equal(body, <-got), "the server decrypted the body sent")
}

// TestTLSWriteBehindPending: while part of a record waits in the transport
// (writeNow), a write outside a Poll's non-blocking write — blocking mode,
// or one crypto/tls makes by itself (an alert or a KeyUpdate from a read) —
// sends the waiting bytes first: the peer gets them in order.
func TestTLSWriteBehindPending(t *testing.T) {
	client, server := nbPair(t)
	nb := newNBConn(client, nil, nil)
	if nb.sock == nil {
		t.Skip("no non-blocking socket writes on this platform")
	}
	w := &nbTLSConn{Conn: client, nb: nb}
	block := bytes.Repeat([]byte("r"), 1<<20)
	sent := 0
	w.wnb = true
	for w.poff == len(w.pend) { // until the socket is full
		n, err := w.Write(block)
		require.NoError(t, err)
		sent += n
	}
	w.wnb = false
	read := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(server); read <- b }()
	_, err := w.Write([]byte("MARK"))
	require.NoError(t, err)
	require.NoError(t, client.CloseWrite())
	got := <-read
	require.Len(t, got, sent+4)
	assert.Equal(t, "MARK", string(got[sent:]), "behind the waiting bytes")
}

// TestTLSPendThenBlocking: a non-blocking Poll leaves part of a TLS record
// in the transport, then the owner switches to blocking mode (allowed in
// any status): the rest of the request follows the waiting bytes, and the
// server decrypts the whole body (as mbedTLS flushes its pending record
// first, §1.6.4.1). From the review of this change.
func TestTLSPendThenBlocking(t *testing.T) {
	const size = 12 << 20
	c, body, got := uploadToSlowTLS(t, size)
	require.True(t, drive.Until(driveTimeout, func() bool {
		require.NoError(t, c.Poll())
		w := c.st.tr.w
		return w.poff < len(w.pend)
	}), "no record ever waited")
	c.SetBlockingMode(true)
	require.NoError(t, pollWhile(t, c, StatusRequesting))
	assert.Equal(t, StatusBody, c.Status())
	b := <-got
	assert.Equal(t, len(body), len(b), "bytes the server decrypted")
	assert.True(t, bytes.Equal(body, b), "the server decrypted the body sent")
}

// TestTLSPendAtEndThenBlocking: the whole request has been handed to
// crypto/tls by non-blocking Polls and part of its last record waits in the
// transport when the owner switches to blocking mode: the next Poll sends
// the waiting bytes before it reads the response (§1.6.4.1: the request is
// sent whole first), where it used to wait for a response the server could
// not give. BytesSent counts the waiting record's body bytes only once they
// have left. (From a hostile-TLS audit; the request is cut short by hand at
// the piece the socket did not take, so that the state is reached at once.)
func TestTLSPendAtEndThenBlocking(t *testing.T) {
	const size = 8 << 20
	want := make(chan int, 1)
	c, body, got := uploadToTLS(t, size, func() int { return <-want })
	w := c.st.tr.w
	require.True(t, drive.Until(driveTimeout, func() bool {
		require.NoError(t, c.Poll())
		return w.poff < len(w.pend)
	}), "no record ever waited")
	passed := c.woff - c.wpre // body bytes handed to crypto/tls
	assert.Less(t, c.BytesSent(), int64(passed), "the waiting record's body bytes are not counted yet")
	c.req = c.req[:c.woff] // the request ends with the piece that waits
	want <- passed
	c.SetBlockingMode(true)
	done := make(chan error, 1)
	go func() { done <- c.Poll() }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(driveTimeout):
		c.Abort()
		<-done
		t.Fatal("the blocking Poll waited for a response while the request's last record waited")
	}
	assert.Equal(t, StatusBody, c.Status())
	assert.Equal(t, body[:passed], <-got, "the server decrypted the request sent")
	assert.Equal(t, int64(passed), c.BytesSent())
}

// uploadToSlowTLS starts a non-blocking client's POST of size bytes to a
// TLS server that reads nothing for 200 ms after the head (the client's
// socket fills meanwhile), then reads the body and answers: it returns the
// client, the body sent, and what the server decrypted (nil if the head
// never came).
func uploadToSlowTLS(t *testing.T, size int) (*Client, []byte, <-chan []byte) {
	t.Helper()
	return uploadToTLS(t, size, func() int { time.Sleep(200 * time.Millisecond); return size })
}

// uploadToTLS is uploadToSlowTLS whose server, after the head, reads the
// number of body bytes that ready returns (when it returns).
func uploadToTLS(t *testing.T, size int, ready func() int) (*Client, []byte, <-chan []byte) {
	t.Helper()
	body := make([]byte, size)
	for i := range body {
		body[i] = byte(i * 7)
	}
	got := make(chan []byte, 1)
	ca := ts.NewCA(t)
	srv := ts.NewTLS(t, ca.Issue(t, "localhost"), func(c *ts.Conn) {
		if _, err := readReqHead(c); err != nil {
			got <- nil
			return
		}
		n := ready()
		var b []byte
		for len(b) < n {
			p, err := c.ReadSome()
			if err != nil {
				break
			}
			b = append(b, p...)
		}
		got <- b
		_ = c.Write([]byte(emptyOK))
	})
	c, _ := newClient(t, false)
	require.NoError(t, connect(t, c, "localhost", srv.Port(), TLSClient(ca.Pool(), "")))
	require.NoError(t, c.RequestRaw(MethodPost, "/", nil, body))
	return c, body, got
}
