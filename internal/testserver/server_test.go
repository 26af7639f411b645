package testserver_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// TestScripts plays each script against a raw client and checks the bytes the
// client reads and how the stream ends, then that the script ran to the end.
func TestScripts(t *testing.T) {
	const closeResp = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\ndata"
	tests := []struct {
		name    string
		handler func(*ts.Conn)
		want    string
		end     ending
	}{
		{"Respond keeps the connection open", ts.Respond(resp200), resp200, endOpen},
		// §1.10.4: FIN together with the data.
		{"RespondAndClose", ts.RespondAndClose(closeResp), closeResp, endEOF},
		// §1.10.4: FIN 50 ms after the data.
		{"write, sleep, close", ts.Script(ts.Read(), ts.WriteString(closeResp), ts.Sleep(50*time.Millisecond), ts.Close()), closeResp, endEOF},
		{"never answers", ts.Script(ts.Read(), ts.Hold()), "", endOpen},
		{"script end closes", ts.Script(ts.Read(), ts.WriteString(resp200)), resp200, endEOF},
		{"reset", ts.Script(ts.Read(), ts.Reset()), "", endReset},
		// Closing with most of the request unread still sends a FIN, not a RST.
		{"close with unread bytes", ts.Script(ts.ReadN(1), ts.Sleep(20*time.Millisecond), ts.Close()), "", endEOF},
		{"trickle", ts.Script(ts.Read(), ts.Trickle([]byte("abc"), 5*time.Millisecond), ts.Close()), "abc", endEOF},
		{"split", ts.Script(ts.Read(), ts.WriteSplit([]byte(resp200), []int{1, 9, 20}, time.Millisecond), ts.Hold()), resp200, endOpen},
		{"half-close", ts.Script(ts.Read(), ts.WriteString(resp200), ts.CloseWrite(), ts.Hold()), resp200, endEOF},
		{"custom step", ts.Script(ts.Read(), ts.Do("echo", func(c *ts.Conn) error {
			return c.Write([]byte(strconv.Itoa(c.Index())))
		})), "0", endEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := ts.New(t, tc.handler)
			c := dial(t, srv.Addr())
			_, err := c.Write([]byte(getReq))
			require.NoError(t, err)
			got, end := readUntilEnd(t, c, len(tc.want), 300*time.Millisecond)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.end, end)
			require.NoError(t, c.Close())
			srv.Close()
			assert.Empty(t, srv.Errors())
			assert.Equal(t, [][]byte{[]byte(getReq)}, srv.Received())
		})
	}
}

// TestWriteSplitSeparateReads checks that split points with a gap really
// reach the client as separate reads (TCP_NODELAY), and that the gap is real.
func TestWriteSplitSeparateReads(t *testing.T) {
	const gap = 150 * time.Millisecond
	payload := []byte("abcdefghij")
	srv := ts.New(t, ts.Script(ts.Read(), ts.WriteSplit(payload, []int{3, 7}, gap), ts.Close()))
	c := dial(t, srv.Addr())
	_, err := c.Write([]byte(getReq))
	require.NoError(t, err)

	var reads []string
	var first time.Time
	buf := make([]byte, 64)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if first.IsZero() {
				first = time.Now()
			}
			reads = append(reads, string(buf[:n]))
		}
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
	}
	assert.Equal(t, []string{"abc", "defg", "hij"}, reads)
	assert.GreaterOrEqual(t, time.Since(first), 2*gap-10*time.Millisecond)
}

// TestWriteSplitNoGap: without a gap the pieces still all arrive, in order.
func TestWriteSplitNoGap(t *testing.T) {
	payload := []byte(resp200)
	for i := 1; i < len(payload); i++ {
		srv := ts.New(t, ts.Script(ts.Read(), ts.WriteSplit(payload, []int{i}, 0), ts.Close()))
		c := dial(t, srv.Addr())
		_, err := c.Write([]byte(getReq))
		require.NoError(t, err)
		got, end := readUntilEnd(t, c, 0, 5*time.Second)
		assert.Equal(t, resp200, got, "split at %d", i)
		assert.Equal(t, endEOF, end)
	}
}

// TestWriteSplitBadSplits: invalid offsets are refused with ErrBadSplit and
// nothing is written.
func TestWriteSplitBadSplits(t *testing.T) {
	for _, splits := range [][]int{{0}, {10}, {11}, {-1}, {3, 3}, {5, 3}} {
		srv := ts.New(t, ts.Script(ts.Read(), ts.WriteSplit([]byte("abcdefghij"), splits, 0)))
		c := dial(t, srv.Addr())
		_, err := c.Write([]byte(getReq))
		require.NoError(t, err)
		got, end := readUntilEnd(t, c, 0, 5*time.Second)
		assert.Empty(t, got, "splits %v", splits)
		assert.Equal(t, endEOF, end)
		srv.Close()
		errs := srv.Errors()
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], ts.ErrBadSplit)
		var ce *ts.ConnError
		require.ErrorAs(t, errs[0], &ce)
		assert.Equal(t, 1, ce.Step)
		assert.Equal(t, "write-split", ce.Op)
	}
}

// TestWriteTrickle: one byte per read, one interval apart.
func TestWriteTrickle(t *testing.T) {
	const every = 80 * time.Millisecond
	srv := ts.New(t, ts.Script(ts.Read(), ts.Trickle([]byte("abcd"), every), ts.Close()))
	c := dial(t, srv.Addr())
	start := time.Now() // before the request: the server may write "a" before Write returns
	_, err := c.Write([]byte(getReq))
	require.NoError(t, err)
	var reads []string
	buf := make([]byte, 64)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	for {
		n, err := c.Read(buf)
		if n > 0 {
			reads = append(reads, string(buf[:n]))
		}
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
	}
	assert.Equal(t, []string{"a", "b", "c", "d"}, reads)
	assert.GreaterOrEqual(t, time.Since(start), 3*every)
}

// TestHalfClose: after CloseWrite the client reads EOF but can still send,
// and the server reads and records what it sends.
func TestHalfClose(t *testing.T) {
	done := make(chan struct{})
	srv := ts.New(t, ts.Script(ts.Read(), ts.WriteString(resp200), ts.CloseWrite(), ts.ReadN(4), signal(done)))
	c := dial(t, srv.Addr())
	_, err := c.Write([]byte(getReq))
	require.NoError(t, err)
	got, end := readUntilEnd(t, c, 0, 5*time.Second)
	require.Equal(t, endEOF, end)
	assert.Equal(t, resp200, got)
	_, err = c.Write([]byte("more"))
	require.NoError(t, err)
	waitSignal(t, done)
	srv.Close()
	assert.Empty(t, srv.Errors())
	assert.Equal(t, [][]byte{[]byte(getReq + "more")}, srv.Received())
}

// TestWaitClosed: the WaitClosed step passes when the client closes in time
// and records ErrNotClosed when it does not.
func TestWaitClosed(t *testing.T) {
	for _, clientCloses := range []bool{true, false} {
		t.Run("client closes "+strconv.FormatBool(clientCloses), func(t *testing.T) {
			done := make(chan struct{})
			srv := ts.New(t, ts.Script(ts.Read(), ts.WaitClosed(300*time.Millisecond), signal(done)))
			c := dial(t, srv.Addr())
			_, err := c.Write([]byte(getReq))
			require.NoError(t, err)
			if clientCloses {
				require.NoError(t, c.Close())
				waitSignal(t, done)
			} else {
				_, _ = readUntilEnd(t, c, 0, 2*time.Second) // until the server gives up
			}
			srv.Close()
			if clientCloses {
				assert.Empty(t, srv.Errors())
				return
			}
			require.Len(t, srv.Errors(), 1)
			assert.ErrorIs(t, srv.Errors()[0], ts.ErrNotClosed)
		})
	}
}

// TestConnWaitClosed checks the method's result directly.
func TestConnWaitClosed(t *testing.T) {
	results := make(chan bool, 2)
	srv := ts.New(t, func(c *ts.Conn) {
		results <- c.WaitClosed(100 * time.Millisecond)
		results <- c.WaitClosed(5 * time.Second)
	})
	c := dial(t, srv.Addr())
	assert.False(t, <-results, "client still open")
	require.NoError(t, c.Close())
	assert.True(t, <-results, "client closed")
}

// TestRecording: Received is per connection in accept order (pipelined bytes
// included), Requests lists each request in read order, Accepted counts.
func TestRecording(t *testing.T) {
	srv := ts.New(t, ts.RespondEach(resp200))
	reqA := "GET /a HTTP/1.1\r\n\r\n"
	reqB := "POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"
	reqC := "GET /c HTTP/1.1\n\n"

	c1 := dial(t, srv.Addr())
	_, err := c1.Write([]byte(reqA))
	require.NoError(t, err)
	got, _ := readUntilEnd(t, c1, len(resp200), 200*time.Millisecond)
	assert.Equal(t, resp200, got)
	require.NoError(t, c1.Close())

	c2 := dial(t, srv.Addr())
	_, err = c2.Write([]byte(reqB + reqC)) // pipelined
	require.NoError(t, err)
	got, _ = readUntilEnd(t, c2, 2*len(resp200), 200*time.Millisecond)
	assert.Equal(t, resp200+resp200, got)
	require.NoError(t, c2.Close())

	srv.Close()
	assert.Equal(t, 2, srv.Accepted())
	assert.Equal(t, [][]byte{[]byte(reqA), []byte(reqB + reqC)}, srv.Received())
	assert.Equal(t, [][]byte{[]byte(reqA), []byte(reqB), []byte(reqC)}, srv.Requests())
	assert.Empty(t, srv.Errors())
	assert.Equal(t, []string{"", ""}, srv.ServerNames())
}

// TestWithoutRecording: Received stays empty, Requests still work.
func TestWithoutRecording(t *testing.T) {
	srv := ts.New(t, ts.RespondAndClose(resp200), ts.WithoutRecording())
	c := dial(t, srv.Addr())
	_, err := c.Write([]byte(getReq))
	require.NoError(t, err)
	_, _ = readUntilEnd(t, c, 0, 5*time.Second)
	srv.Close()
	assert.Equal(t, [][]byte{{}}, srv.Received())
	assert.Equal(t, [][]byte{[]byte(getReq)}, srv.Requests())
}

// TestReadRequestFromNetHTTP: requests written by net/http (Content-Length
// body, chunked body) are read whole.
func TestReadRequestFromNetHTTP(t *testing.T) {
	srv := ts.New(t, ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	resp, err := client.Post(srv.URL("/cl"), "text/plain", strings.NewReader("hello"))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	// A reader of unknown length makes net/http send a chunked body.
	resp, err = client.Post(srv.URL("/chunked"), "text/plain", io.MultiReader(strings.NewReader("hel"), strings.NewReader("lo")))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	tr.CloseIdleConnections()
	srv.Close()

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.True(t, bytes.HasPrefix(reqs[0], []byte("POST /cl HTTP/1.1\r\n")))
	assert.True(t, bytes.HasSuffix(reqs[0], []byte("\r\n\r\nhello")))
	assert.True(t, bytes.HasPrefix(reqs[1], []byte("POST /chunked HTTP/1.1\r\n")))
	assert.Contains(t, string(reqs[1]), "Transfer-Encoding: chunked\r\n")
	assert.True(t, bytes.HasSuffix(reqs[1], []byte("0\r\n\r\n")))
	assert.Empty(t, srv.Errors())
}

// TestReadRequestErrors: EOF before a request, EOF inside one, a malformed
// one, one over the limit and a read timeout are told apart.
func TestReadRequestErrors(t *testing.T) {
	tests := []struct {
		name  string
		send  string
		close bool
		opts  []ts.Option
		want  error
	}{
		{"EOF before any byte", "", true, nil, io.EOF},
		{"EOF mid-request", "GET / HTTP/1.1\r\n", true, nil, io.ErrUnexpectedEOF},
		{"malformed", "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", false, nil, ts.ErrMalformedRequest},
		{"too large", "GET /" + strings.Repeat("a", 100) + " HTTP/1.1\r\n\r\n", false, []ts.Option{ts.WithMaxRequest(64)}, ts.ErrRequestTooLarge},
		{"I/O timeout", "GET", false, []ts.Option{ts.WithIOTimeout(50 * time.Millisecond)}, os.ErrDeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan error, 1)
			srv := ts.New(t, func(c *ts.Conn) {
				_, err := c.ReadRequest()
				got <- err
			}, tc.opts...)
			c := dial(t, srv.Addr())
			if tc.send != "" {
				_, err := c.Write([]byte(tc.send))
				require.NoError(t, err)
			}
			if tc.close {
				require.NoError(t, c.CloseWrite())
			}
			select {
			case err := <-got:
				assert.ErrorIs(t, err, tc.want)
			case <-time.After(5 * time.Second):
				t.Fatal("ReadRequest did not return")
			}
		})
	}
}

// TestReadNAndReadSome: ReadN returns exactly n bytes (keeping the rest for
// later reads), a short stream gives io.ErrUnexpectedEOF; ReadSome returns
// what is buffered first.
func TestReadNAndReadSome(t *testing.T) {
	type result struct {
		b   string
		err error
	}
	results := make(chan result, 4)
	srv := ts.New(t, func(c *ts.Conn) {
		b, err := c.ReadN(3)
		results <- result{string(b), err}
		b, err = c.ReadSome()
		results <- result{string(b), err}
		b, err = c.ReadN(10)
		results <- result{string(b), err}
		b, err = c.ReadSome()
		results <- result{string(b), err}
	})
	c := dial(t, srv.Addr())
	_, err := c.Write([]byte("abcdef"))
	require.NoError(t, err)
	assert.Equal(t, result{"abc", nil}, <-results)
	assert.Equal(t, result{"def", nil}, <-results)
	_, err = c.Write([]byte("xyz"))
	require.NoError(t, err)
	require.NoError(t, c.CloseWrite())
	assert.Equal(t, result{"xyz", io.ErrUnexpectedEOF}, <-results)
	r := <-results
	assert.Empty(t, r.b)
	assert.ErrorIs(t, r.err, io.EOF)
}

// TestCloseUnblocksHandlers: Close ends handlers blocked in a read, in Hold,
// in a long sleep or trickle, promptly and without recording errors; after
// Close every blocking method returns ErrServerClosed.
func TestCloseUnblocksHandlers(t *testing.T) {
	after := make(chan error, 1)
	handlers := map[string]func(*ts.Conn){
		"read":    ts.Script(ts.Read()),
		"hold":    ts.Script(ts.Hold()),
		"sleep":   ts.Script(ts.Sleep(time.Hour)),
		"trickle": ts.Script(ts.Trickle([]byte("abc"), time.Hour)),
		"split":   ts.Script(ts.WriteSplit([]byte("abc"), []int{1}, time.Hour)),
		"wait":    ts.Script(ts.WaitClosed(time.Hour)),
		"custom": func(c *ts.Conn) {
			_, err := c.ReadSome()
			if errors.Is(err, ts.ErrServerClosed) {
				_, err = c.ReadN(1)
			}
			after <- err
		},
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			srv := ts.New(t, h)
			c := dial(t, srv.Addr())
			require.Eventually(t, func() bool { return srv.Accepted() == 1 }, 5*time.Second, time.Millisecond)
			require.True(t, drive.Until(5*time.Second, func() bool { return drive.Waiting("testserver.(*Server).serve") }), "the handler blocked")
			start := time.Now()
			srv.Close()
			assert.Less(t, time.Since(start), 2*time.Second)
			assert.Empty(t, srv.Errors())
			_, end := readUntilEnd(t, c, 0, 2*time.Second)
			assert.NotEqual(t, endOpen, end, "the client sees the connection end")
			if name == "custom" {
				assert.ErrorIs(t, <-after, ts.ErrServerClosed)
			}
		})
	}
}

// TestHandlerPanic: a panicking handler fails the test through t.Errorf and
// is recorded; the server keeps serving other connections.
func TestHandlerPanic(t *testing.T) {
	rec := &recTB{TB: t}
	srv := ts.New(rec, func(c *ts.Conn) {
		if c.Index() == 0 {
			panic("boom")
		}
		ts.Respond(resp200)(c)
	})
	c := dial(t, srv.Addr())
	_, end := readUntilEnd(t, c, 0, 5*time.Second)
	assert.Equal(t, endEOF, end)
	c2 := dial(t, srv.Addr())
	_, err := c2.Write([]byte(getReq))
	require.NoError(t, err)
	got, _ := readUntilEnd(t, c2, len(resp200), 200*time.Millisecond)
	assert.Equal(t, resp200, got)
	srv.Close()
	require.Len(t, rec.recorded(), 1)
	assert.Contains(t, rec.recorded()[0], "boom")
	require.Len(t, srv.Errors(), 1)
	var ce *ts.ConnError
	require.ErrorAs(t, srv.Errors()[0], &ce)
	assert.Equal(t, "panic", ce.Op)
	assert.Equal(t, 0, ce.Conn)
	assert.Equal(t, -1, ce.Step)
}

// TestAddresses: IPv4 by default, IPv6 with WithIPv6; URL picks the scheme.
func TestAddresses(t *testing.T) {
	v4 := ts.New(t, ts.Respond(resp200))
	assert.Equal(t, "127.0.0.1", v4.Host())
	assert.Equal(t, "127.0.0.1:"+strconv.Itoa(v4.Port()), v4.Addr())
	assert.Equal(t, "http://127.0.0.1:"+strconv.Itoa(v4.Port())+"/p", v4.URL("/p"))
	assert.NotZero(t, v4.Port())

	v6 := ts.New(t, ts.Respond(resp200), ts.WithIPv6())
	assert.Equal(t, "::1", v6.Host())
	assert.Equal(t, "[::1]:"+strconv.Itoa(v6.Port()), v6.Addr())
	c := dial(t, v6.Addr())
	_, err := c.Write([]byte(getReq))
	require.NoError(t, err)
	got, _ := readUntilEnd(t, c, len(resp200), 200*time.Millisecond)
	assert.Equal(t, resp200, got)

	ca := ts.NewCA(t)
	tlsSrv := ts.NewTLS(t, ca.Issue(t, "127.0.0.1"), ts.Respond(resp200))
	assert.Equal(t, "https://127.0.0.1:"+strconv.Itoa(tlsSrv.Port())+"/", tlsSrv.URL("/"))
}

// TestPlainServerGetsClientHello: a TLS client against a plain server fails
// its handshake; the server sees a TLS handshake record (§1.6.2.5).
func TestPlainServerGetsClientHello(t *testing.T) {
	srv := ts.New(t, ts.Script(ts.ReadSome(), ts.WriteAndClose([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))))
	d := &net.Dialer{Timeout: 5 * time.Second}
	_, err := tls.DialWithDialer(d, "tcp", srv.Addr(), &tls.Config{ServerName: "localhost"})
	require.Error(t, err)
	srv.Close()
	assert.Empty(t, srv.Errors())
	rec := srv.Received()
	require.Len(t, rec, 1)
	require.NotEmpty(t, rec[0])
	assert.Equal(t, byte(0x16), rec[0][0], "TLS handshake record")
}

// TestStepNamesAndErrors: step names are what ConnError reports.
func TestStepNamesAndErrors(t *testing.T) {
	names := map[string]ts.Step{
		"read": ts.Read(), "read-4": ts.ReadN(4), "read-some": ts.ReadSome(), "write": ts.Write(nil),
		"write-split": ts.WriteSplit(nil, nil, 0), "trickle": ts.Trickle(nil, 0),
		"write-and-close": ts.WriteAndClose(nil), "sleep": ts.Sleep(0), "close-write": ts.CloseWrite(),
		"close": ts.Close(), "close-tcp": ts.CloseTCP(), "reset": ts.Reset(), "hold": ts.Hold(),
		"wait-closed": ts.WaitClosed(0), "mine": ts.Do("mine", nil),
	}
	for want, st := range names {
		assert.Equal(t, want, st.String())
	}
	err := &ts.ConnError{Conn: 2, Step: 1, Op: "write", Err: io.ErrClosedPipe}
	assert.Equal(t, "testserver: conn 2 step 1 (write): io: read/write on closed pipe", err.Error())
	assert.ErrorIs(t, err, io.ErrClosedPipe)
	err = &ts.ConnError{Conn: 0, Step: -1, Op: "handshake", Err: io.EOF}
	assert.Equal(t, "testserver: conn 0 (handshake): EOF", err.Error())
}

// TestConcurrentConnections: one script value serves many connections at
// once (steps hold no per-connection state; run with -race), and the caller's
// split slice is left untouched even when it has spare capacity.
func TestConcurrentConnections(t *testing.T) {
	splits := make([]int, 2, 8)
	splits[0], splits[1] = 5, 17
	backing := splits[:cap(splits)]
	srv := ts.New(t, ts.Script(ts.Read(), ts.WriteSplit([]byte(resp200), splits, time.Millisecond), ts.Close()))
	const n = 8
	results := make(chan string, n)
	for range n {
		c := dial(t, srv.Addr())
		go func() {
			_, _ = c.Write([]byte(getReq))
			buf, _ := io.ReadAll(c)
			results <- string(buf)
		}()
	}
	for range n {
		select {
		case got := <-results:
			assert.Equal(t, resp200, got)
		case <-time.After(10 * time.Second):
			t.Fatal("a client did not finish")
		}
	}
	srv.Close()
	assert.Equal(t, n, srv.Accepted())
	assert.Len(t, srv.Requests(), n)
	assert.Empty(t, srv.Errors())
	assert.Equal(t, []int{5, 17, 0, 0, 0, 0, 0, 0}, backing)
}
