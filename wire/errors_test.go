package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
