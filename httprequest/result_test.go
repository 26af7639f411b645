package httprequest

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// §2.10, §3 (4.x numbering after the 3.4 insertion of BODY_DECOMPRESS_FAILED).
func TestResultNumbersAndNames(t *testing.T) {
	cases := []struct {
		r    Result
		n    int
		name string
	}{
		{ResultSuccess, 0, "RESULT_SUCCESS"},
		{ResultChunkedBodySizeMismatch, 1, "RESULT_CHUNKED_BODY_SIZE_MISMATCH"},
		{ResultCantConnect, 2, "RESULT_CANT_CONNECT"},
		{ResultCantResolve, 3, "RESULT_CANT_RESOLVE"},
		{ResultConnectionError, 4, "RESULT_CONNECTION_ERROR"},
		{ResultTLSHandshakeError, 5, "RESULT_TLS_HANDSHAKE_ERROR"},
		{ResultNoResponse, 6, "RESULT_NO_RESPONSE"},
		{ResultBodySizeLimitExceeded, 7, "RESULT_BODY_SIZE_LIMIT_EXCEEDED"},
		{ResultBodyDecompressFailed, 8, "RESULT_BODY_DECOMPRESS_FAILED"},
		{ResultRequestFailed, 9, "RESULT_REQUEST_FAILED"},
		{ResultDownloadFileCantOpen, 10, "RESULT_DOWNLOAD_FILE_CANT_OPEN"},
		{ResultDownloadFileWriteError, 11, "RESULT_DOWNLOAD_FILE_WRITE_ERROR"},
		{ResultRedirectLimitReached, 12, "RESULT_REDIRECT_LIMIT_REACHED"},
		{ResultTimeout, 13, "RESULT_TIMEOUT"},
	}
	require.Len(t, cases, len(resultNames))
	for _, c := range cases {
		assert.Equal(t, c.n, int(c.r), c.name)
		assert.Equal(t, c.name, c.r.String())
		assert.Equal(t, c.name, c.r.Error())
	}
	assert.Equal(t, "Result(14)", Result(14).String())
	assert.Equal(t, "Result(-1)", Result(-1).String())
}

func TestResultErrorWrapsResultAndCause(t *testing.T) {
	cause := godot.Wrap(godot.ErrCantResolve, "connect_to_host", &net.DNSError{Err: "no such host", Name: "x.invalid"})
	err := resultErr(ResultCantResolve, cause)

	assert.ErrorIs(t, err, ResultCantResolve)
	assert.NotErrorIs(t, err, ResultCantConnect)
	assert.ErrorIs(t, err, godot.ErrCantResolve)
	var dns *net.DNSError
	require.ErrorAs(t, err, &dns)
	assert.Equal(t, "x.invalid", dns.Name)
	var re *ResultError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, ResultCantResolve, re.Result)
	var r Result
	require.ErrorAs(t, err, &r)
	assert.Equal(t, ResultCantResolve, r)
	assert.Equal(t, "httprequest: RESULT_CANT_RESOLVE: connect_to_host: ERR_CANT_RESOLVE: lookup x.invalid: no such host", err.Error())

	bare := resultErr(ResultNoResponse, nil)
	assert.Equal(t, "httprequest: RESULT_NO_RESPONSE", bare.Error())
	assert.ErrorIs(t, bare, ResultNoResponse)

	// Success is never an error.
	assert.NoError(t, resultErr(ResultSuccess, errors.New("ignored")))
}

func TestErrorCodesAreGodots(t *testing.T) {
	// §0.3
	assert.Equal(t, 44, godot.ErrBusy.Code())
	assert.Equal(t, 31, godot.ErrInvalidParameter.Code())
	assert.Equal(t, 25, godot.ErrCantConnect.Code())
}

// TestResultErrorTimeoutIdioms: the checks a Go user tries first on a timed-out
// request work on Do's error whichever deadline passed — the node's timeout
// (cause ERR_TIMEOUT) or Do's context deadline — as they do on net/http's
// Client.Timeout error: errors.Is(err, context.DeadlineExceeded), os.IsTimeout
// and a Timeout() bool method. errors.Is(err, godot.ErrTimeout) still tells the
// node's timeout apart. A refused connection is no timeout; a cause that
// reports one itself (a connect past its timeout) is.
func TestResultErrorTimeoutIdioms(t *testing.T) {
	type timeout interface{ Timeout() bool }
	isTimeout := func(err error) bool {
		var te timeout
		return errors.As(err, &te) && te.Timeout()
	}

	s := serve(t, testserver.Script(testserver.Read(), testserver.Hold()))
	n := newNode(t)
	require.NoError(t, n.SetTimeout(100*time.Millisecond))
	c, err := n.Do(context.Background(), urlFor(s.Host(), s.Port(), "/"), nil, httpclient.MethodGet, nil)
	require.Equal(t, ResultTimeout, c.Result)
	assert.ErrorIs(t, err, ResultTimeout)
	assert.ErrorIs(t, err, godot.ErrTimeout, "the node's own timeout stays recognisable")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.True(t, os.IsTimeout(err))
	assert.True(t, isTimeout(err))

	require.NoError(t, n.SetTimeout(0))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	c, err = n.Do(ctx, urlFor(s.Host(), s.Port(), "/"), nil, httpclient.MethodGet, nil)
	require.Equal(t, ResultTimeout, c.Result)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, godot.ErrTimeout)
	assert.True(t, os.IsTimeout(err))
	assert.True(t, isTimeout(err))

	refused := resultErr(ResultCantConnect, godot.Wrap(godot.ErrCantConnect, "poll", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}))
	assert.NotErrorIs(t, refused, context.DeadlineExceeded)
	assert.False(t, os.IsTimeout(refused))
	assert.False(t, isTimeout(refused))

	slowConnect := resultErr(ResultCantConnect, godot.Wrap(godot.ErrCantConnect, "poll", &net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded}))
	assert.True(t, os.IsTimeout(slowConnect))
	assert.True(t, isTimeout(slowConnect))
	assert.ErrorIs(t, slowConnect, ResultCantConnect)
}
