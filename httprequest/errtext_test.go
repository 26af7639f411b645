package httprequest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// TestLastErrorIsTheCause: LastError is the cause of the completion, the
// Cause of the *ResultError Do returns for the same failure — not the
// *ResultError itself, so that "result: LastError()" names the result once
// — and a RESULT_NO_RESPONSE has a cause too.
func TestLastErrorIsTheCause(t *testing.T) {
	u := urlFor("127.0.0.1", testserver.ClosedPort(t), "/")
	_, doErr := newNode(t).Do(context.Background(), u, nil, httpclient.MethodGet, nil)
	var re *ResultError
	require.ErrorAs(t, doErr, &re)
	require.NotNil(t, re.Cause)

	n := newNode(t)
	o := viaCallback(t, n, u, nil, httpclient.MethodGet, nil)
	require.Equal(t, ResultCantConnect, o.C.Result)
	last := n.LastError()
	require.Error(t, last)
	assert.False(t, errors.As(last, new(*ResultError)), "LastError is the cause, not the *ResultError: %q", last)
	assert.Equal(t, re.Cause.Error(), last.Error(), "Do's ResultError.Cause")
	assert.ErrorIs(t, last, godot.ErrCantConnect)

	s := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\n\r\n"))
	o = viaCallback(t, n, urlFor(s.Host(), s.Port(), "/"), nil, httpclient.MethodGet, nil)
	require.Equal(t, ResultNoResponse, o.C.Result)
	assert.ErrorIs(t, n.LastError(), errNoHeaders, "a failure always has a cause")
}

// TestErrorTextsOneLine: a cause that wraps two errors reads as one line
// (it was errors.Join, whose text is two): a chunked body cut short in every
// driver, and Do's error for a context canceled with a cause.
func TestErrorTextsOneLine(t *testing.T) {
	head := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		s := serve(t, testserver.Script(testserver.Read(), testserver.WriteAndClose([]byte(head+"5\r\nhello\r\n"))))
		o := d.run(t, n, urlFor(s.Host(), s.Port(), "/"), nil, httpclient.MethodGet, nil)
		require.Equal(t, ResultChunkedBodySizeMismatch, o.C.Result)
		require.ErrorIs(t, o.Err, ErrBodyCutShort)
		assert.ErrorIs(t, o.Err, io.ErrUnexpectedEOF)
		assert.NotContains(t, o.Err.Error(), "\n")
	})

	s := serve(t, testserver.Script(testserver.Read(), testserver.Hold()))
	left := errors.New("game: player left the lobby")
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(100*time.Millisecond, func() { cancel(left) })
	_, err := newNode(t).Do(ctx, urlFor(s.Host(), s.Port(), "/"), nil, httpclient.MethodGet, nil)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, left)
	assert.Equal(t, "context canceled: game: player left the lobby", err.Error())
}

// TestDeadlineCauseKept: a ctx deadline is RESULT_TIMEOUT with
// context.DeadlineExceeded and the cause given to WithTimeoutCause, as a
// canceled context keeps its cause — whether the deadline passes during the
// request or before it starts.
func TestDeadlineCauseKept(t *testing.T) {
	s := serve(t, testserver.Script(testserver.Read(), testserver.Hold()))
	spent := errors.New("game: level load budget spent")
	wrapping := fmt.Errorf("game: budget: %w", context.DeadlineExceeded) // a cause that says the deadline itself
	for _, cause := range []error{spent, wrapping} {
		for _, d := range []time.Duration{150 * time.Millisecond, -time.Second} {
			ctx, cancel := context.WithTimeoutCause(context.Background(), d, cause)
			c, err := newNode(t).Do(ctx, urlFor(s.Host(), s.Port(), "/"), nil, httpclient.MethodGet, nil)
			cancel()
			assert.Equal(t, ResultTimeout, c.Result, "%v", d)
			assert.ErrorIs(t, err, ResultTimeout)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.ErrorIs(t, err, cause, "%v", d)
			assert.Contains(t, err.Error(), cause.Error())
			assert.NotContains(t, err.Error(), "\n")
		}
	}
}

// TestMultipartRefusalHasCode: a Multipart that cannot be opened, or a nil
// one, is refused with ERR_INVALID_PARAMETER around the cause, as every
// other refusal of the Request family.
func TestMultipartRefusalHasCode(t *testing.T) {
	s := serve(t, testserver.Script(testserver.Read(), testserver.Hold()))
	u := urlFor(s.Host(), s.Port(), "/")
	missing := filepath.Join(t.TempDir(), "missing.bin")
	n := newNode(t)
	_, err := n.DoMultipart(context.Background(), u, nil, httpclient.MethodPost, NewMultipart().File("f", missing))
	assert.ErrorIs(t, err, godot.ErrInvalidParameter)
	assert.ErrorIs(t, err, fs.ErrNotExist, "the cause is wrapped")
	err = n.RequestMultipart(u, nil, httpclient.MethodPost, NewMultipart().File("f", missing))
	assert.ErrorIs(t, err, godot.ErrInvalidParameter)
	err = n.RequestMultipart(u, nil, httpclient.MethodPost, nil)
	assert.ErrorIs(t, err, godot.ErrInvalidParameter)
	assert.True(t, strings.Contains(err.Error(), "nil *Multipart"), err.Error())
}

// TestBodyCutShortCause: a fixed-length body the connection ended before
// it was complete is RESULT_CANT_CONNECT (§2.9.5) with the client's read
// error as the cause — the *httpclient.BodyError that says how many bytes
// came — not the bare ErrBodyCutShort the step falls back to when no read
// failed (the sink keeps each read's error other than io.EOF).
func TestBodyCutShortCause(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		s := serve(t, testserver.RespondAndClose("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"))
		o := d.run(t, n, s.URL("/"), nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultCantConnect, 0, nil, nil}, o)
		var be *httpclient.BodyError
		require.ErrorAs(t, o.Err, &be)
		assert.Equal(t, "length", be.Framing)
		assert.Equal(t, int64(5), be.Received)
		assert.ErrorIs(t, o.Err, io.ErrUnexpectedEOF)
	})
}
