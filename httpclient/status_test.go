package httpclient

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
)

// TestStatusEnum checks §1.2: Godot's names and numbers.
func TestStatusEnum(t *testing.T) {
	want := []struct {
		s    Status
		n    int
		name string
	}{
		{StatusDisconnected, 0, "STATUS_DISCONNECTED"},
		{StatusResolving, 1, "STATUS_RESOLVING"},
		{StatusCantResolve, 2, "STATUS_CANT_RESOLVE"},
		{StatusConnecting, 3, "STATUS_CONNECTING"},
		{StatusCantConnect, 4, "STATUS_CANT_CONNECT"},
		{StatusConnected, 5, "STATUS_CONNECTED"},
		{StatusRequesting, 6, "STATUS_REQUESTING"},
		{StatusBody, 7, "STATUS_BODY"},
		{StatusConnectionError, 8, "STATUS_CONNECTION_ERROR"},
		{StatusTLSHandshakeError, 9, "STATUS_TLS_HANDSHAKE_ERROR"},
	}
	for _, w := range want {
		assert.Equal(t, w.n, int(w.s))
		assert.Equal(t, w.name, w.s.String())
	}
	assert.Equal(t, "Status(10)", Status(10).String())
	assert.Equal(t, "Status(-1)", Status(-1).String())
	terminal := map[Status]bool{StatusCantResolve: true, StatusCantConnect: true, StatusConnectionError: true, StatusTLSHandshakeError: true}
	for s := StatusDisconnected; s <= StatusTLSHandshakeError; s++ {
		assert.Equal(t, terminal[s], s.Terminal(), "§1.19: %v", s)
	}
}

// TestTransitionTable checks the table of legal status changes against the
// diagram of §1.19: every edge listed is justified, the edges the diagram
// lacks are refused, and every test in this package checks each change it
// causes against the same table (newClient).
func TestTransitionTable(t *testing.T) {
	for tr, why := range legalTransitions {
		assert.NotEmpty(t, why, "%v → %v needs its rule", tr.from, tr.to)
		assert.NotEqual(t, tr.from, tr.to)
		assert.False(t, tr.from.Terminal(), "§1.19: terminal statuses stay until close(): %v → %v", tr.from, tr.to)
	}
	illegal := []transition{
		{StatusDisconnected, StatusRequesting},
		{StatusResolving, StatusConnected}, // one change per poll: CONNECTING first
		{StatusConnecting, StatusRequesting},
		{StatusConnected, StatusBody},
		{StatusConnected, StatusCantConnect},
		{StatusRequesting, StatusCantConnect},
		{StatusBody, StatusRequesting},
		{StatusCantResolve, StatusConnecting},
		{StatusCantConnect, StatusConnected},
		{StatusConnectionError, StatusConnected},
		{StatusTLSHandshakeError, StatusConnected},
	}
	for _, tr := range illegal {
		assert.False(t, legalTransition(tr.from, tr.to), "%v → %v must not be legal", tr.from, tr.to)
	}
	for s := StatusDisconnected; s <= StatusTLSHandshakeError; s++ {
		assert.True(t, legalTransition(s, StatusDisconnected), "§1.12: close() from %v", s)
		assert.True(t, legalTransition(s, s))
	}
}

// TestSetStatusHook checks that setStatus reports every change (and only
// changes) to the hook the tests use.
func TestSetStatusHook(t *testing.T) {
	c := New()
	var seen []transition
	c.onStatus = func(from, to Status) { seen = append(seen, transition{from, to}) }
	c.setStatus(StatusDisconnected)
	c.setStatus(StatusResolving)
	c.setStatus(StatusResolving)
	c.setStatus(StatusConnecting)
	assert.Equal(t, []transition{{StatusDisconnected, StatusResolving}, {StatusResolving, StatusConnecting}}, seen)
}

// TestMethodAndErrorNumbers checks §1.2 (methods) and §0.3 (errors): the
// re-exported constants keep Godot's numbers and are reachable through
// errors.As as a godot.Error with Code().
func TestMethodAndErrorNumbers(t *testing.T) {
	methods := []struct {
		m     Method
		n     int
		token string
	}{
		{MethodGet, 0, "GET"}, {MethodHead, 1, "HEAD"}, {MethodPost, 2, "POST"}, {MethodPut, 3, "PUT"},
		{MethodDelete, 4, "DELETE"}, {MethodOptions, 5, "OPTIONS"}, {MethodTrace, 6, "TRACE"},
		{MethodConnect, 7, "CONNECT"}, {MethodPatch, 8, "PATCH"},
	}
	for _, m := range methods {
		assert.Equal(t, m.n, int(m.m))
		assert.Equal(t, m.token, m.m.String())
	}
	assert.Equal(t, 9, int(MethodMax))
	errs := map[Error]int{
		Failed: 1, ErrUnavailable: 2, ErrUnconfigured: 3, ErrFileEOF: 18, ErrAlreadyInUse: 22, ErrTimeout: 24,
		ErrCantConnect: 25, ErrCantResolve: 26, ErrConnectionError: 27, ErrInvalidData: 30,
		ErrInvalidParameter: 31, ErrBusy: 44, ErrBug: 47,
	}
	for e, n := range errs {
		assert.Equal(t, n, e.Code())
	}
	err := godot.Wrap(ErrCantConnect, "poll", errors.New("cause"))
	var code godot.Error
	require.True(t, errors.As(err, &code))
	assert.Equal(t, 25, code.Code())
}

// TestResponseCodes checks every ResponseCode constant of §1.2.
func TestResponseCodes(t *testing.T) {
	codes := map[int]int{
		ResponseContinue: 100, ResponseSwitchingProtocols: 101, ResponseProcessing: 102,
		ResponseOK: 200, ResponseCreated: 201, ResponseAccepted: 202, ResponseNonAuthoritativeInformation: 203,
		ResponseNoContent: 204, ResponseResetContent: 205, ResponsePartialContent: 206, ResponseMultiStatus: 207,
		ResponseAlreadyReported: 208, ResponseIMUsed: 226, ResponseMultipleChoices: 300,
		ResponseMovedPermanently: 301, ResponseFound: 302, ResponseSeeOther: 303, ResponseNotModified: 304,
		ResponseUseProxy: 305, ResponseSwitchProxy: 306, ResponseTemporaryRedirect: 307,
		ResponsePermanentRedirect: 308, ResponseBadRequest: 400, ResponseUnauthorized: 401,
		ResponsePaymentRequired: 402, ResponseForbidden: 403, ResponseNotFound: 404,
		ResponseMethodNotAllowed: 405, ResponseNotAcceptable: 406, ResponseProxyAuthenticationRequired: 407,
		ResponseRequestTimeout: 408, ResponseConflict: 409, ResponseGone: 410, ResponseLengthRequired: 411,
		ResponsePreconditionFailed: 412, ResponseRequestEntityTooLarge: 413, ResponseRequestURITooLong: 414,
		ResponseUnsupportedMediaType: 415, ResponseRequestedRangeNotSatisfiable: 416,
		ResponseExpectationFailed: 417, ResponseImATeapot: 418, ResponseMisdirectedRequest: 421,
		ResponseUnprocessableEntity: 422, ResponseLocked: 423, ResponseFailedDependency: 424,
		ResponseUpgradeRequired: 426, ResponsePreconditionRequired: 428, ResponseTooManyRequests: 429,
		ResponseRequestHeaderFieldsTooLarge: 431, ResponseUnavailableForLegalReasons: 451,
		ResponseInternalServerError: 500, ResponseNotImplemented: 501, ResponseBadGateway: 502,
		ResponseServiceUnavailable: 503, ResponseGatewayTimeout: 504, ResponseHTTPVersionNotSupported: 505,
		ResponseVariantAlsoNegotiates: 506, ResponseInsufficientStorage: 507, ResponseLoopDetected: 508,
		ResponseNotExtended: 510, ResponseNetworkAuthRequired: 511,
	}
	assert.Len(t, codes, 61, "every constant of §1.2, each a distinct value")
	for got, want := range codes {
		assert.Equal(t, want, got)
	}
}

// TestSettings checks §1.3 (read_chunk_size bounds, blocking mode) and the
// defaults of a new client: §1.1.1 New returns the TCP client, §1.4 its
// initial state (DISCONNECTED, body length −1, code 0).
func TestSettings(t *testing.T) {
	c := New()
	assert.Equal(t, StatusDisconnected, c.Status())
	assert.Equal(t, 65536, c.ReadChunkSize())
	assert.False(t, c.IsBlockingModeEnabled())
	assert.False(t, c.IsStrict())
	for _, n := range []int{255, 0, -1, 1<<24 + 1} {
		err := c.SetReadChunkSize(n)
		assert.True(t, errors.Is(err, ErrInvalidParameter), "%d: %v", n, err)
		assert.Equal(t, 65536, c.ReadChunkSize(), "unchanged")
	}
	for _, n := range []int{256, 1 << 24, 4096} {
		require.NoError(t, c.SetReadChunkSize(n))
		assert.Equal(t, n, c.ReadChunkSize())
	}
	c.SetBlockingMode(true)
	assert.True(t, c.IsBlockingModeEnabled())
	c.SetStrict(true)
	assert.True(t, c.IsStrict())
	c.SetConnectTimeout(0)
	assert.Equal(t, DefaultConnectTimeout, c.connectTimeout)
	assert.Equal(t, ErrUnconfigured, c.Poll(), "§1.6: DISCONNECTED")
	assert.Nil(t, c.ReadResponseBodyChunk(), "§1.10: not in BODY")
	_, err := c.ReadResponseBodyChunkInto(make([]byte, 8))
	assert.True(t, errors.Is(err, ErrInvalidParameter), "%v", err)
	assert.False(t, c.KeepAlive())
	assert.False(t, c.BodyComplete())
}

// TestQueryStringFromDict checks the tested example of §1.16.5: insertion
// order (§1.16.1), uri-encoded keys and values (§1.16.2), an Array as one
// pair per element and null as the bare key (§1.16.3), "&" between pairs and
// "" for an empty dictionary (§1.16.4). The encoding rules themselves are
// tested in package wire.
func TestQueryStringFromDict(t *testing.T) {
	c := New()
	fields := []QueryField{{Key: "key1", Value: "value"}, {Key: "key2", Value: 123}, {Key: "key3", Value: []any{1, 2, 3}}, {Key: "key4", Value: nil}}
	const want = "key1=value&key2=123&key3=1&key3=2&key3=3&key4"
	assert.Equal(t, want, c.QueryStringFromDict(fields))
	assert.Equal(t, want, QueryStringFromDict(fields))
	assert.Equal(t, "", QueryStringFromDict(nil))
	assert.Equal(t, "key=value", QueryStringFromDict([]QueryField{{Key: "key", Value: "value"}}))
}
