package wire

import (
	"errors"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// §0.3: Godot's numbers.
func TestErrorNumbers(t *testing.T) {
	cases := map[Error]int{
		Failed: 1, ErrUnavailable: 2, ErrUnconfigured: 3, ErrFileEOF: 18, ErrAlreadyInUse: 22,
		ErrTimeout: 24, ErrCantConnect: 25, ErrCantResolve: 26, ErrConnectionError: 27,
		ErrInvalidData: 30, ErrInvalidParameter: 31, ErrBusy: 44, ErrBug: 47, ErrPrinterOnFire: 48,
	}
	for e, n := range cases {
		assert.Equal(t, n, e.Code(), e.String())
		assert.Equal(t, n, int(e))
	}
	assert.Equal(t, "ERR_BUSY", ErrBusy.Error())
	assert.Equal(t, "FAILED", Failed.String())
	assert.Equal(t, "Error(99)", Error(99).String())
	assert.Equal(t, "Error(-1)", Error(-1).String())
	assert.Len(t, errorNames, int(ErrPrinterOnFire)+1)
}

func TestCodeErrorWrapsCodeAndCause(t *testing.T) {
	cause := &net.DNSError{Err: "no such host", Name: "nowhere.invalid"}
	err := Wrap(ErrCantResolve, "connect_to_host", cause)

	assert.ErrorIs(t, err, ErrCantResolve)
	assert.NotErrorIs(t, err, ErrCantConnect)
	var dns *net.DNSError
	require.ErrorAs(t, err, &dns)
	assert.Equal(t, "nowhere.invalid", dns.Name)
	var code Error
	require.ErrorAs(t, err, &code)
	assert.Equal(t, 26, code.Code())
	assert.Equal(t, ErrCantResolve, CodeOf(err))
	assert.Contains(t, err.Error(), "connect_to_host: ERR_CANT_RESOLVE: ")
	assert.Contains(t, err.Error(), "no such host")

	bare := Wrap(ErrBusy, "", nil)
	assert.Equal(t, "ERR_BUSY", bare.Error())
	assert.ErrorIs(t, bare, ErrBusy)

	assert.Equal(t, Error(0), CodeOf(nil))
	assert.Equal(t, Failed, CodeOf(errors.New("plain")))
}

func TestLimitError(t *testing.T) {
	err := error(&LimitError{What: "header bytes", Limit: 1 << 20})
	var le *LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, int64(1<<20), le.Limit)
	assert.Equal(t, "gdhttp: header bytes exceed the limit of 1048576", err.Error())
}

// Limits: zero means the documented default.
func TestLimitsDefaults(t *testing.T) {
	var l Limits
	assert.Equal(t, DefaultMaxHeaderBytes, l.HeaderBytes())
	assert.Equal(t, 0, l.HeaderFields(false))
	assert.Equal(t, StrictMaxHeaderFields, l.HeaderFields(true))
	l = Limits{MaxHeaderBytes: 10, MaxHeaderFields: 3}
	assert.Equal(t, 10, l.HeaderBytes())
	assert.Equal(t, 3, l.HeaderFields(true))
}

func TestMethodTokens(t *testing.T) {
	want := []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH"}
	for i, w := range want {
		m := Method(i)
		assert.True(t, m.Valid())
		assert.Equal(t, w, m.String())
	}
	assert.False(t, MethodMax.Valid())
	assert.False(t, Method(-1).Valid())
	assert.Equal(t, "Method(9)", MethodMax.String())
}
