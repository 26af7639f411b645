package httpclient

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/chunked"
	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

const emptyOK = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// oddReader gives its bytes a few at a time, with (0, nil) reads in
// between, and io.EOF with the last ones: the reader shapes a body stream
// must cope with.
type oddReader struct {
	b []byte
	i int
}

func (r *oddReader) Read(p []byte) (int, error) {
	r.i++
	if r.i%3 == 0 {
		return 0, nil
	}
	n := copy(p, r.b[:min(len(r.b), 1+r.i%7)])
	r.b = r.b[n:]
	if len(r.b) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// failReader gives n bytes, then err.
type failReader struct {
	n   int
	err error
}

func (r *failReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	r.n -= k
	return k, nil
}

// uploadServer answers every request with an empty 200 and sends the
// request bytes it read (or its error) on the returned channel.
func uploadServer(t *testing.T, tlsOn bool) (*ts.Server, *TLSOptions, chan []byte, chan error) {
	t.Helper()
	got, errs := make(chan []byte, 4), make(chan error, 4)
	h := func(c *ts.Conn) {
		for {
			req, err := c.ReadRequest()
			if err != nil {
				errs <- err
				return
			}
			got <- req
			if c.Write([]byte(emptyOK)) != nil {
				return
			}
		}
	}
	if !tlsOn {
		return ts.New(t, h, ts.WithMaxRequest(64<<20)), nil, got, errs
	}
	ca := ts.NewCA(t)
	srv := ts.NewTLS(t, ca.Issue(t, "localhost"), h, ts.WithMaxRequest(64<<20))
	return srv, TLSClient(ca.Pool(), ""), got, errs
}

// TestRequestStream pins the bytes of a streamed request body (§7.2 opt-in,
// issue 10): with a known length the request is byte for byte RequestRaw's
// for the same body (§1.7.10–11: Content-Length where Godot writes it, then
// the body); with length −1 the body goes chunked, "Transfer-Encoding:
// chunked" in Content-Length's place. Both modes, plain and TLS, small and
// large bodies (several reads, background writes), awkward readers.
func TestRequestStream(t *testing.T) {
	big := randomBytes(3<<20+123, 1)
	tests := []struct {
		name    string
		body    []byte
		length  int64
		headers []string
		reader  func(b []byte) io.Reader
	}{
		{name: "§1.7.10_known_small", body: []byte("hello"), length: 5},
		{name: "§1.7.10_known_large", body: big, length: int64(len(big))},
		{name: "§1.7.10_known_odd_reader", body: big[:5000], length: 5000, reader: func(b []byte) io.Reader { return &oddReader{b: b} }},
		{name: "§1.7.10_user_content_length_kept", body: []byte("abc"), length: 3, headers: []string{"content-length: 3", "X-A: 1"}},
		{name: "§1.7.10_reader_longer_than_length", body: []byte("abcdef"), length: 4},
		{name: "chunked_small", body: []byte("hello"), length: -1},
		{name: "chunked_large", body: big, length: -1},
		{name: "chunked_empty", body: nil, length: -1},
		{name: "chunked_odd_reader", body: big[:5000], length: -1, reader: func(b []byte) io.Reader { return &oddReader{b: b} }},
	}
	for _, tlsOn := range []bool{false, true} {
		for _, m := range modes {
			for _, tt := range tests {
				name := m.name + "/" + tt.name
				if tlsOn {
					name = "tls/" + name
				}
				t.Run(name, func(t *testing.T) {
					srv, opts, got, errs := uploadServer(t, tlsOn)
					c, trace := newClient(t, m.blocking)
					host := srv.Host()
					if tlsOn {
						host = "localhost"
					}
					require.NoError(t, connect(t, c, host, srv.Port(), opts))
					var r io.Reader = bytes.NewReader(tt.body)
					if tt.reader != nil {
						r = tt.reader(tt.body)
					}
					*trace = nil
					require.NoError(t, c.RequestStream(MethodPost, "/up", tt.headers, r, tt.length))
					require.NoError(t, pollWhile(t, c, StatusRequesting))
					assert.Equal(t, []Status{StatusRequesting, StatusBody}, *trace, "REQUESTING while the body is sent")
					var req []byte
					select {
					case req = <-got:
					case err := <-errs:
						t.Fatalf("server: %v", err)
					}
					sent := tt.body
					if tt.length >= 0 {
						sent = tt.body[:tt.length]
						want := wire.AppendRequest(nil, &wire.Request{
							Method: MethodPost, URL: "/up", Headers: tt.headers, Body: sent,
							Host: host, Port: srv.Port(), TLS: tlsOn,
						})
						require.Equal(t, len(want), len(req))
						assert.True(t, bytes.Equal(want, req), "the bytes of RequestRaw with the same body")
					} else {
						i := bytes.Index(req, []byte("\r\n\r\n")) + 4
						head := string(req[:i])
						wantHead := string(wire.AppendRequestHead(nil, &wire.Request{
							Method: MethodPost, URL: "/up", Host: host, Port: srv.Port(), TLS: tlsOn,
							StreamLength: wire.StreamChunked,
						}))
						assert.Equal(t, wantHead, head)
						assert.Contains(t, head, "\r\nTransfer-Encoding: chunked\r\nUser-Agent: ")
						data, err := io.ReadAll(chunked.NewReader(bytes.NewReader(req[i:])))
						require.NoError(t, err)
						assert.True(t, bytes.Equal(sent, data), "chunked data")
					}
					assert.Equal(t, int64(len(sent)), c.BytesSent())
					assert.Equal(t, 200, c.ResponseCode())
					finishBody(t, c)
					// The connection stays usable: the framing was exact.
					require.NoError(t, c.RequestRaw(MethodGet, "/again", nil, nil))
					require.NoError(t, pollWhile(t, c, StatusRequesting))
					assert.Equal(t, StatusBody, c.Status())
					assert.Equal(t, int64(0), c.BytesSent(), "BytesSent starts again")
				})
			}
		}
	}
}

// TestRequestStreamFailures pins what a body that cannot be sent does: a
// reader error, or io.EOF before the declared length, ends the request with
// CONNECTION_ERROR (ErrConnectionError wrapping a *RequestBodyError that
// wraps the cause) and the connection is closed — the server sees the end
// of the stream, never a request it could mistake for complete.
func TestRequestStreamFailures(t *testing.T) {
	boom := errors.New("disk on fire")
	tests := []struct {
		name   string
		r      func() io.Reader
		length int64
		want   error
		read   int64
	}{
		{"reader_error_known", func() io.Reader { return &failReader{n: 100_000, err: boom} }, 200_000, boom, 100_000},
		{"reader_error_chunked", func() io.Reader { return &failReader{n: 1000, err: boom} }, -1, boom, 1000},
		{"short_body", func() io.Reader { return strings.NewReader(strings.Repeat("y", 600)) }, 1000, io.ErrUnexpectedEOF, 600},
		{"no_progress", func() io.Reader { return &failReader{n: 0, err: nil} }, 10, io.ErrNoProgress, 0},
	}
	for _, m := range modes {
		for _, tt := range tests {
			t.Run(m.name+"/"+tt.name, func(t *testing.T) {
				srv, _, got, errs := uploadServer(t, false)
				c, _ := newClient(t, m.blocking)
				require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
				require.NoError(t, c.RequestStream(MethodPut, "/f", nil, tt.r(), tt.length))
				err := pollWhile(t, c, StatusRequesting)
				require.ErrorIs(t, err, ErrConnectionError)
				require.ErrorIs(t, err, tt.want)
				var be *RequestBodyError
				require.ErrorAs(t, err, &be)
				assert.Equal(t, tt.read, be.Read)
				assert.Equal(t, tt.length, be.Length)
				assert.Equal(t, StatusConnectionError, c.Status())
				assert.ErrorIs(t, c.LastError(), tt.want)
				select {
				case req := <-got:
					t.Fatalf("the server read a complete request: %q", req[:min(len(req), 200)])
				case err := <-errs:
					// Mid-request, or before the head when the first read failed.
					assert.True(t, errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF), "the connection was closed: %v", err)
				case <-time.After(driveTimeout):
					t.Fatal("the connection was not closed")
				}
			})
		}
	}
}

// TestRequestStreamRefused: the arguments RequestStream refuses, with
// ErrInvalidParameter and nothing sent; length 0 is RequestRaw without a
// body (§1.7.10: no Content-Length) and never reads the reader.
func TestRequestStreamRefused(t *testing.T) {
	srv, _, got, _ := uploadServer(t, false)
	c, _ := newClient(t, true)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	for _, h := range [][]string{{"Content-Length: 3"}, {"transfer-encoding: chunked"}} {
		err := c.RequestStream(MethodPost, "/", h, strings.NewReader("abc"), -1)
		assert.ErrorIs(t, err, ErrInvalidParameter, "%v with a chunked body", h)
	}
	assert.ErrorIs(t, c.RequestStream(MethodPost, "/", nil, strings.NewReader("abc"), -2), ErrInvalidParameter)
	assert.ErrorIs(t, c.RequestStream(MethodPost, "nope", nil, strings.NewReader("abc"), 3), ErrInvalidParameter, "§1.7.2")
	assert.Equal(t, StatusConnected, c.Status())

	require.NoError(t, c.RequestStream(MethodPost, "/", nil, &failReader{err: errors.New("read")}, 0))
	require.NoError(t, pollWhile(t, c, StatusRequesting))
	req := <-got
	assert.NotContains(t, string(req), "Content-Length")
	assert.True(t, bytes.HasSuffix(req, []byte("Accept: */*\r\n\r\n")))
}

// gateReader hands out its bytes as the test releases them.
type gateReader struct {
	gate chan int
	left int
}

func (r *gateReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := <-r.gate
	n = min(n, len(p), r.left)
	for i := range p[:n] {
		p[i] = 'z'
	}
	r.left -= n
	return n, nil
}

// stalledUploadServer reads a request head, then nothing until release is
// closed; then it reads size bytes of body, sends their count on got and
// answers 200.
func stalledUploadServer(t *testing.T, size int64) (srv *ts.Server, release chan struct{}, got chan int64) {
	release, got = make(chan struct{}), make(chan int64, 1)
	srv = ts.New(t, func(c *ts.Conn) {
		if _, err := readReqHead(c); err != nil {
			return
		}
		select {
		case <-release:
		case <-c.Done():
			return
		}
		var n int64
		for n < size {
			b, err := c.ReadSome()
			if err != nil {
				return
			}
			n += int64(len(b))
		}
		got <- n
		_ = c.Write([]byte(emptyOK))
	})
	return srv, release, got
}

// TestRequestStreamNonBlocking: in non-blocking mode a Poll writes what the
// socket takes and returns; the status stays REQUESTING (§1.6.4.1) while the
// body goes out, BytesSent grows, and the response is read only after the
// whole body was sent. On plain TCP no goroutine is started; Close in the
// middle of the upload leaves none (goleak).
func TestRequestStreamNonBlocking(t *testing.T) {
	const size = 8 << 20
	srv, release, got := stalledUploadServer(t, size)
	c, _ := newClient(t, false)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.RequestStream(MethodPost, "/", nil, bytes.NewReader(make([]byte, size)), size))
	start := time.Now()
	for range 50 {
		require.NoError(t, c.Poll())
		time.Sleep(pollGap) // the scenario: polls while the upload stalls
	}
	assert.Less(t, time.Since(start), 5*time.Second, "Poll never waits")
	assert.Equal(t, StatusRequesting, c.Status(), "the server reads nothing yet: the body is still going")
	stalled := c.BytesSent()
	assert.Less(t, stalled, int64(size))
	assert.Zero(t, c.live.Load(), "plain TCP: no goroutine, the rest waits for the next Poll")
	close(release)
	require.NoError(t, pollWhile(t, c, StatusRequesting))
	assert.Equal(t, StatusBody, c.Status())
	assert.Equal(t, int64(size), <-got)
	assert.Equal(t, int64(size), c.BytesSent())

	// Close in the middle, the peer reading nothing.
	srv2 := ts.New(t, func(c *ts.Conn) { _, _ = readReqHead(c); <-c.Done() })
	c2, _ := newClient(t, false)
	require.NoError(t, connect(t, c2, srv2.Host(), srv2.Port(), nil))
	require.NoError(t, c2.RequestStream(MethodPost, "/", nil, bytes.NewReader(make([]byte, size)), size))
	for range 20 {
		require.NoError(t, c2.Poll())
		time.Sleep(pollGap) // the scenario: polls while the upload stalls
	}
	require.Equal(t, StatusRequesting, c2.Status())
	c2.Close()
	assert.Equal(t, int32(0), c2.live.Load())

	// Under TLS crypto/tls encrypts on the Poll's goroutine too: no
	// goroutine, and what the socket did not take — never more than about
	// one record — waits whole in the transport (a record is never cut).
	ca := ts.NewCA(t)
	srv3 := ts.NewTLS(t, ca.Issue(t, "localhost"), func(c *ts.Conn) { <-c.Done() })
	c3, _ := newClient(t, false)
	require.NoError(t, connect(t, c3, "localhost", srv3.Port(), TLSClient(ca.Pool(), "")))
	require.NoError(t, c3.RequestStream(MethodPost, "/", nil, bytes.NewReader(make([]byte, size)), size))
	last, same := int64(-1), 0
	require.True(t, drive.Until(driveTimeout, func() bool { // a Poll per look, until the upload has stalled
		require.NoError(t, c3.Poll())
		if sent := c3.BytesSent(); sent == last {
			same++
		} else {
			last, same = sent, 0
		}
		return same >= 50
	}), "the upload never stalled")
	require.Equal(t, StatusRequesting, c3.Status())
	assert.Equal(t, int32(0), c3.live.Load(), "no goroutine")
	w := c3.st.tr.w
	assert.Positive(t, len(w.pend)-w.poff, "the rest of a record waits")
	assert.LessOrEqual(t, len(w.pend)-w.poff, tlsWritePiece+256, "about one record at most")
	assert.Less(t, last, int64(size))
	c3.Close()
	assert.Equal(t, int32(0), c3.live.Load())
}

// TestRequestRawNonBlockingWritesPerPoll: a request given whole
// (RequestRaw) is written in non-blocking mode as Godot writes it, what the
// socket takes at each Poll (put_partial_data, §1.6.4.1), with no
// goroutine: while the server reads nothing the upload stalls, and it goes
// on only as the caller polls. Before, a background goroutine wrote the
// rest after the first Poll (found by the session 24 COMPAT audit).
func TestRequestRawNonBlockingWritesPerPoll(t *testing.T) {
	const size = 8 << 20
	srv, release, got := stalledUploadServer(t, size)
	c, _ := newClient(t, false)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	require.NoError(t, c.RequestRaw(MethodPost, "/", nil, make([]byte, size)))
	require.NoError(t, c.Poll())
	time.Sleep(50 * time.Millisecond) // a background write would go on meanwhile
	first := c.BytesSent()
	assert.Less(t, first, int64(size), "the socket took part of it")
	assert.Zero(t, c.live.Load(), "no goroutine: the rest waits for the next Poll")
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, first, c.BytesSent(), "nothing is written between Polls")
	close(release)
	require.NoError(t, pollWhile(t, c, StatusRequesting))
	assert.Equal(t, StatusBody, c.Status())
	assert.Equal(t, int64(size), <-got)
	assert.Equal(t, int64(size), c.BytesSent())
}

// TestRequestStreamBlockingProgress: in blocking mode the body is written as
// it is read — the server has the first bytes before the reader has given
// the rest — and BytesSent, safe from another goroutine, shows it.
func TestRequestStreamBlockingProgress(t *testing.T) {
	first := make(chan struct{})
	srv := ts.New(t, func(c *ts.Conn) {
		if _, err := readReqHead(c); err != nil {
			return
		}
		if _, err := c.ReadN(1000); err != nil {
			return
		}
		close(first)
		if _, err := c.ReadN(1000); err != nil {
			return
		}
		_ = c.Write([]byte(emptyOK))
	})
	c, _ := newClient(t, true)
	require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
	gate := &gateReader{gate: make(chan int), left: 2000}
	require.NoError(t, c.RequestStream(MethodPost, "/", nil, gate, 2000))
	done := make(chan error, 1)
	go func() { done <- c.Poll() }()
	gate.gate <- 1000
	select {
	case <-first:
	case <-time.After(driveTimeout):
		t.Fatal("the first 1000 bytes were not sent before the rest was read")
	}
	// The write returns (and is counted) just after the server has the bytes.
	assert.Eventually(t, func() bool { return c.BytesSent() == 1000 }, driveTimeout, time.Millisecond)
	gate.gate <- 1000
	require.NoError(t, <-done)
	assert.Equal(t, StatusBody, c.Status())
	assert.Equal(t, int64(2000), c.BytesSent())
}

// finishBody reads the (empty) body of the current response to its end.
func finishBody(t *testing.T, c *Client) {
	t.Helper()
	for c.Status() == StatusBody {
		_, err := c.ReadResponseBodyChunkInto(make([]byte, 16))
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	require.Equal(t, StatusConnected, c.Status())
}

// readReqHead reads a request head (up to the blank line) from c.
func readReqHead(c *ts.Conn) ([]byte, error) {
	var head []byte
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		b, err := c.ReadN(1)
		if err != nil {
			return head, err
		}
		head = append(head, b...)
	}
	return head, nil
}

// BytesSent follows a RequestRaw upload as it goes — not only a streamed
// one — in both modes, plain and TLS: a slow reader makes it move between
// samples (the request is written in pieces, each counted as it leaves).
func TestBytesSentMovesDuringUpload(t *testing.T) {
	const size = 16 << 20
	ca := ts.NewCA(t)
	slow := ts.Script(ts.Do("slow reader", func(c *ts.Conn) error {
		for {
			if _, err := c.ReadSome(); err != nil {
				return nil
			}
			time.Sleep(2 * time.Millisecond)
		}
	}))
	for _, tlsOn := range []bool{false, true} {
		for _, m := range modes {
			t.Run(fmt.Sprintf("tls=%v/%s", tlsOn, m.name), func(t *testing.T) {
				var srv *ts.Server
				var opts *TLSOptions
				if tlsOn {
					srv = ts.NewTLS(t, ca.Issue(t, "localhost"), slow)
					opts = TLSClient(ca.Pool(), "localhost")
				} else {
					srv = ts.New(t, slow)
				}
				c, _ := newClient(t, m.blocking)
				require.NoError(t, connect(t, c, "127.0.0.1", srv.Port(), opts))
				require.NoError(t, c.RequestRaw(MethodPost, "/", nil, make([]byte, size)))
				done := make(chan struct{})
				go func() {
					defer close(done)
					for c.Status() == StatusRequesting && c.Poll() == nil {
						if !m.blocking {
							time.Sleep(time.Millisecond)
						}
					}
				}()
				// The first value once some bytes are out, then a later
				// one: the kernel may take megabytes at once and then wake
				// the writer only once half of them drained, so the wait
				// for the second is long, not a fixed number of samples.
				var first, later int64
				if !assert.Eventually(t, func() bool { first = c.BytesSent(); return first > 0 }, 10*time.Second, time.Millisecond) {
					// Seen once under load (not reproduced): say where the upload stood.
					c.Abort()
					<-done
					t.Fatalf("no byte of the body sent: status %v, error %v", c.Status(), c.LastError())
				}
				require.Eventually(t, func() bool { later = c.BytesSent(); return later > first }, 10*time.Second, time.Millisecond,
					"BytesSent moves while the body is written")
				c.Abort()
				<-done
				t.Logf("BytesSent: %d, then %d", first, later)
				assert.Less(t, first, int64(size))
			})
		}
	}
}

// hookReader calls hook at its first Read, then reads r.
type hookReader struct {
	hook func()
	r    io.Reader
}

func (h *hookReader) Read(p []byte) (int, error) {
	if h.hook != nil {
		hook := h.hook
		h.hook = nil
		hook()
	}
	return h.r.Read(p)
}

// TestRequestStreamReaderCallsClient: RequestStream's reader runs inside
// Poll; a Poll it makes does nothing (the body goes out whole, the request
// completes), and a Close or ConnectToHost ends the request it reads for
// without the outer Poll touching the new state — no panic, the client
// usable: DISCONNECTED after Close, a new connection and request after
// ConnectToHost. A reader that panics ends its request as a read error
// does (CONNECTION_ERROR, a *RequestBodyError), the panic reaching Poll's
// caller, and the client connects again.
func TestRequestStreamReaderCallsClient(t *testing.T) {
	const size = 200000
	body := strings.Repeat("b", size)
	for _, m := range modes {
		for _, call := range []string{"Poll", "Close", "ConnectToHost", "panic"} {
			t.Run(m.name+"/"+call, func(t *testing.T) {
				got := make(chan int, 4)
				srv := ts.New(t, func(c *ts.Conn) {
					for {
						head, err := readReqHead(c)
						if err != nil {
							return
						}
						n := 0
						if bytes.HasPrefix(head, []byte("POST")) {
							for n < size {
								b, err := c.ReadSome()
								if err != nil {
									got <- n
									return
								}
								n += len(b)
							}
						}
						got <- n
						if c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) != nil {
							return
						}
					}
				})
				c, _ := newClient(t, m.blocking)
				require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
				var inner error
				hook := func() {
					switch call {
					case "Poll":
						inner = c.Poll()
					case "Close":
						c.Close()
					case "ConnectToHost":
						inner = c.ConnectToHost(srv.Host(), srv.Port(), nil)
					case "panic":
						panic("reader")
					}
				}
				require.NoError(t, c.RequestStream(MethodPost, "/", nil, &hookReader{hook: hook, r: strings.NewReader(body)}, size))
				if call == "panic" {
					require.PanicsWithValue(t, "reader", func() { _ = c.Poll() })
					assert.Equal(t, StatusConnectionError, c.Status())
					var be *RequestBodyError
					require.ErrorAs(t, c.LastError(), &be)
					assert.ErrorIs(t, c.LastError(), ErrConnectionError)
					assert.ErrorIs(t, be, errReaderPanicked)
					require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
					require.NoError(t, c.Request(MethodGet, "/", nil, ""))
					require.NoError(t, pollWhile(t, c, StatusRequesting))
					assert.Equal(t, 200, c.ResponseCode())
					return
				}
				require.NotPanics(t, func() { assert.NoError(t, c.Poll()) })
				assert.NoError(t, inner)
				switch call {
				case "Poll":
					require.NoError(t, pollWhile(t, c, StatusRequesting))
					assert.Equal(t, StatusBody, c.Status())
					assert.Equal(t, size, <-got, "the whole body went out once")
					assert.Equal(t, int64(size), c.BytesSent())
				case "Close":
					assert.Equal(t, StatusDisconnected, c.Status())
					assert.ErrorIs(t, c.Poll(), ErrUnconfigured)
				case "ConnectToHost":
					require.NoError(t, pollWhile(t, c, StatusResolving, StatusConnecting))
					require.Equal(t, StatusConnected, c.Status())
					require.NoError(t, c.Request(MethodGet, "/", nil, ""))
					require.NoError(t, pollWhile(t, c, StatusRequesting))
					assert.Equal(t, 200, c.ResponseCode())
				}
			})
		}
	}
}

// countReader gives left zero bytes, counting what it gave since the test
// last reset since.
type countReader struct {
	left, since int
}

func (r *countReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.left)
	clear(p[:n])
	r.left -= n
	r.since += n
	return n, nil
}

// TestRequestStreamPollBudget: a non-blocking Poll reads at most
// pollWriteBudget bytes of a streamed body (the piece that goes out with the
// head included), so a fast reader and a fast peer cannot hold one Poll —
// one frame — for long; over plain TCP and TLS.
func TestRequestStreamPollBudget(t *testing.T) {
	const size = 16 << 20
	for _, tgt := range livenessTargets {
		t.Run(tgt.name, func(t *testing.T) {
			host, port, opts := tgt.start(t, func(c *ts.Conn) {
				if _, err := readReqHead(c); err != nil {
					return
				}
				for n := 0; n < size; {
					b, err := c.ReadSome()
					if err != nil {
						return
					}
					n += len(b)
				}
				_ = c.Write([]byte(emptyOK))
			})
			c, _ := newClient(t, false)
			require.NoError(t, connect(t, c, host, port, opts))
			r := &countReader{left: size}
			require.NoError(t, c.RequestStream(MethodPost, "/", nil, r, size))
			most, polls := 0, 0
			require.True(t, drive.Until(driveTimeout, func() bool {
				r.since = 0
				require.NoError(t, c.Poll())
				most, polls = max(most, r.since), polls+1
				return c.Status() != StatusRequesting
			}))
			require.Equal(t, StatusBody, c.Status())
			assert.LessOrEqual(t, most, pollWriteBudget, "body bytes read by one Poll")
			assert.Greater(t, polls, size/pollWriteBudget, "so the body took several Polls")
		})
	}
}
