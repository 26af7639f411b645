package httprequest

import (
	"errors"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
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
