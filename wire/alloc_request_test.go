package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reqAllocSample is a typical request: five user headers, a body, a non-default
// port, the default User-Agent.
func reqAllocSample() *Request {
	return &Request{
		Method: MethodPost,
		URL:    "/api/v1/items?page=2&sort=name",
		Headers: []string{
			"Content-Type: application/json",
			"Authorization: Bearer abcdef0123456789",
			"X-Request-Id: 7f3c2a",
			"Accept-Encoding: gzip, deflate",
			"Cache-Control: no-cache",
		},
		Body: []byte(`{"name":"sword","level":3}`),
		Host: "api.example.com",
		Port: 8080,
	}
}

// STYLE.md allocation discipline: writing into a buffer with room allocates
// nothing.
func TestAppendRequestAllocs(t *testing.T) {
	r := reqAllocSample()
	buf := make([]byte, 0, 4096)
	require.NotEmpty(t, AppendRequest(buf[:0], r))
	assert.Zero(t, testing.AllocsPerRun(200, func() { buf = AppendRequest(buf[:0], r) }))

	r.HTTPProxy = true
	assert.Zero(t, testing.AllocsPerRun(200, func() { buf = AppendRequest(buf[:0], r) }))
	r.UserAgent = "custom/1"
	assert.Zero(t, testing.AllocsPerRun(200, func() { buf = AppendRequestHead(buf[:0], r) }))
}

// A valid request is validated without allocating, in both modes.
func TestValidateRequestAllocs(t *testing.T) {
	r := reqAllocSample()
	require.NoError(t, ValidateRequest(r, true))
	assert.Zero(t, testing.AllocsPerRun(200, func() { _ = ValidateRequest(r, false) }))
	assert.Zero(t, testing.AllocsPerRun(200, func() { _ = ValidateRequest(r, true) }))
	assert.Zero(t, testing.AllocsPerRun(200, func() { _ = VerifyHeaders(r.Headers) }))
}

func TestAppendConnectAllocs(t *testing.T) {
	buf := make([]byte, 0, 512)
	assert.Zero(t, testing.AllocsPerRun(200, func() {
		_ = ValidateConnect("2001:db8::1", "")
		buf = AppendConnect(buf[:0], "2001:db8::1", 443, "")
	}))
}
