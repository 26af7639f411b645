package godot

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
	assert.Equal(t, "Error(49)", (ErrPrinterOnFire + 1).String(), "one past the last name")
	assert.Equal(t, "OK", CodeOf(nil).String(), "Godot's name for 0")
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
