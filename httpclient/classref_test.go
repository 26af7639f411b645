package httpclient_test

// Godot 4's class reference (doc/classes/HTTPClient.xml) and the
// http_client_class.rst tutorial, claim by claim, against package httpclient.
// Where doc and C++ (core/io/http_client_tcp.cpp, core/io/http_client.cpp)
// disagree, the C++ decides and the test asserts the C++.

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

const crWait = 5 * time.Second

// crPollWhile polls c while its status is one of ss (a short sleep between
// polls, like a frame), failing the test after crWait.
func crPollWhile(t *testing.T, c *httpclient.Client, ss ...httpclient.Status) error {
	t.Helper()
	deadline := time.Now().Add(crWait)
	var err error
	for {
		in := false
		for _, s := range ss {
			if c.Status() == s {
				in = true
			}
		}
		if !in {
			return err
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %v after %v", c.Status(), crWait)
		}
		err = c.Poll()
		time.Sleep(200 * time.Microsecond)
	}
}

func crConnect(t *testing.T, c *httpclient.Client, host string, port int) {
	t.Helper()
	require.NoError(t, c.ConnectToHost(host, port, nil))
	crPollWhile(t, c, httpclient.StatusResolving, httpclient.StatusConnecting)
	require.Equal(t, httpclient.StatusConnected, c.Status())
}

// crReadBody is the tutorial's body loop.
func crReadBody(t *testing.T, c *httpclient.Client) []byte {
	t.Helper()
	var rb []byte
	deadline := time.Now().Add(crWait)
	for c.Status() == httpclient.StatusBody {
		if time.Now().After(deadline) {
			t.Fatal("body loop did not end")
		}
		c.Poll()
		chunk := c.ReadResponseBodyChunk()
		if len(chunk) == 0 {
			time.Sleep(time.Millisecond)
		} else {
			rb = append(rb, chunk...)
		}
	}
	return rb
}

// Every enum constant and default of HTTPClient.xml (Godot 4.x): Method,
// Status, ResponseCode values; blocking_mode_enabled false; read_chunk_size
// 65536.
func TestClassrefClientConstantsAndDefaults(t *testing.T) {
	methods := []struct {
		m    httpclient.Method
		want int
	}{
		{httpclient.MethodGet, 0}, {httpclient.MethodHead, 1}, {httpclient.MethodPost, 2},
		{httpclient.MethodPut, 3}, {httpclient.MethodDelete, 4}, {httpclient.MethodOptions, 5},
		{httpclient.MethodTrace, 6}, {httpclient.MethodConnect, 7}, {httpclient.MethodPatch, 8},
		{httpclient.MethodMax, 9},
	}
	for _, m := range methods {
		assert.Equal(t, m.want, int(m.m), "METHOD %v", m.m)
	}
	statuses := []struct {
		s    httpclient.Status
		want int
		name string
	}{
		{httpclient.StatusDisconnected, 0, "STATUS_DISCONNECTED"},
		{httpclient.StatusResolving, 1, "STATUS_RESOLVING"},
		{httpclient.StatusCantResolve, 2, "STATUS_CANT_RESOLVE"},
		{httpclient.StatusConnecting, 3, "STATUS_CONNECTING"},
		{httpclient.StatusCantConnect, 4, "STATUS_CANT_CONNECT"},
		{httpclient.StatusConnected, 5, "STATUS_CONNECTED"},
		{httpclient.StatusRequesting, 6, "STATUS_REQUESTING"},
		{httpclient.StatusBody, 7, "STATUS_BODY"},
		{httpclient.StatusConnectionError, 8, "STATUS_CONNECTION_ERROR"},
		{httpclient.StatusTLSHandshakeError, 9, "STATUS_TLS_HANDSHAKE_ERROR"},
	}
	for _, s := range statuses {
		assert.Equal(t, s.want, int(s.s), s.name)
		assert.Equal(t, s.name, s.s.String())
	}
	codes := map[string][2]int{
		"CONTINUE": {httpclient.ResponseContinue, 100}, "SWITCHING_PROTOCOLS": {httpclient.ResponseSwitchingProtocols, 101},
		"PROCESSING": {httpclient.ResponseProcessing, 102}, "OK": {httpclient.ResponseOK, 200},
		"CREATED": {httpclient.ResponseCreated, 201}, "ACCEPTED": {httpclient.ResponseAccepted, 202},
		"NON_AUTHORITATIVE_INFORMATION": {httpclient.ResponseNonAuthoritativeInformation, 203},
		"NO_CONTENT":                    {httpclient.ResponseNoContent, 204}, "RESET_CONTENT": {httpclient.ResponseResetContent, 205},
		"PARTIAL_CONTENT": {httpclient.ResponsePartialContent, 206}, "MULTI_STATUS": {httpclient.ResponseMultiStatus, 207},
		"ALREADY_REPORTED": {httpclient.ResponseAlreadyReported, 208}, "IM_USED": {httpclient.ResponseIMUsed, 226},
		"MULTIPLE_CHOICES": {httpclient.ResponseMultipleChoices, 300}, "MOVED_PERMANENTLY": {httpclient.ResponseMovedPermanently, 301},
		"FOUND": {httpclient.ResponseFound, 302}, "SEE_OTHER": {httpclient.ResponseSeeOther, 303},
		"NOT_MODIFIED": {httpclient.ResponseNotModified, 304}, "USE_PROXY": {httpclient.ResponseUseProxy, 305},
		"SWITCH_PROXY": {httpclient.ResponseSwitchProxy, 306}, "TEMPORARY_REDIRECT": {httpclient.ResponseTemporaryRedirect, 307},
		"PERMANENT_REDIRECT": {httpclient.ResponsePermanentRedirect, 308}, "BAD_REQUEST": {httpclient.ResponseBadRequest, 400},
		"UNAUTHORIZED": {httpclient.ResponseUnauthorized, 401}, "PAYMENT_REQUIRED": {httpclient.ResponsePaymentRequired, 402},
		"FORBIDDEN": {httpclient.ResponseForbidden, 403}, "NOT_FOUND": {httpclient.ResponseNotFound, 404},
		"METHOD_NOT_ALLOWED": {httpclient.ResponseMethodNotAllowed, 405}, "NOT_ACCEPTABLE": {httpclient.ResponseNotAcceptable, 406},
		"PROXY_AUTHENTICATION_REQUIRED": {httpclient.ResponseProxyAuthenticationRequired, 407},
		"REQUEST_TIMEOUT":               {httpclient.ResponseRequestTimeout, 408}, "CONFLICT": {httpclient.ResponseConflict, 409},
		"GONE": {httpclient.ResponseGone, 410}, "LENGTH_REQUIRED": {httpclient.ResponseLengthRequired, 411},
		"PRECONDITION_FAILED":             {httpclient.ResponsePreconditionFailed, 412},
		"REQUEST_ENTITY_TOO_LARGE":        {httpclient.ResponseRequestEntityTooLarge, 413},
		"REQUEST_URI_TOO_LONG":            {httpclient.ResponseRequestURITooLong, 414},
		"UNSUPPORTED_MEDIA_TYPE":          {httpclient.ResponseUnsupportedMediaType, 415},
		"REQUESTED_RANGE_NOT_SATISFIABLE": {httpclient.ResponseRequestedRangeNotSatisfiable, 416},
		"EXPECTATION_FAILED":              {httpclient.ResponseExpectationFailed, 417}, "IM_A_TEAPOT": {httpclient.ResponseImATeapot, 418},
		"MISDIRECTED_REQUEST":  {httpclient.ResponseMisdirectedRequest, 421},
		"UNPROCESSABLE_ENTITY": {httpclient.ResponseUnprocessableEntity, 422}, "LOCKED": {httpclient.ResponseLocked, 423},
		"FAILED_DEPENDENCY": {httpclient.ResponseFailedDependency, 424}, "UPGRADE_REQUIRED": {httpclient.ResponseUpgradeRequired, 426},
		"PRECONDITION_REQUIRED":           {httpclient.ResponsePreconditionRequired, 428},
		"TOO_MANY_REQUESTS":               {httpclient.ResponseTooManyRequests, 429},
		"REQUEST_HEADER_FIELDS_TOO_LARGE": {httpclient.ResponseRequestHeaderFieldsTooLarge, 431},
		"UNAVAILABLE_FOR_LEGAL_REASONS":   {httpclient.ResponseUnavailableForLegalReasons, 451},
		"INTERNAL_SERVER_ERROR":           {httpclient.ResponseInternalServerError, 500}, "NOT_IMPLEMENTED": {httpclient.ResponseNotImplemented, 501},
		"BAD_GATEWAY": {httpclient.ResponseBadGateway, 502}, "SERVICE_UNAVAILABLE": {httpclient.ResponseServiceUnavailable, 503},
		"GATEWAY_TIMEOUT":            {httpclient.ResponseGatewayTimeout, 504},
		"HTTP_VERSION_NOT_SUPPORTED": {httpclient.ResponseHTTPVersionNotSupported, 505},
		"VARIANT_ALSO_NEGOTIATES":    {httpclient.ResponseVariantAlsoNegotiates, 506},
		"INSUFFICIENT_STORAGE":       {httpclient.ResponseInsufficientStorage, 507}, "LOOP_DETECTED": {httpclient.ResponseLoopDetected, 508},
		"NOT_EXTENDED": {httpclient.ResponseNotExtended, 510}, "NETWORK_AUTH_REQUIRED": {httpclient.ResponseNetworkAuthRequired, 511},
	}
	assert.Len(t, codes, 61, "HTTPClient.xml has 61 RESPONSE_* constants")
	for name, c := range codes {
		assert.Equal(t, c[1], c[0], "RESPONSE_%s", name)
	}
	c := httpclient.New()
	defer c.Close()
	assert.False(t, c.IsBlockingModeEnabled(), "blocking_mode_enabled default false")
	assert.Equal(t, 65536, c.ReadChunkSize(), "read_chunk_size default 65536")
	assert.Equal(t, httpclient.StatusDisconnected, c.Status())
	assert.Equal(t, 0, c.ResponseCode())
	assert.Equal(t, int64(-1), c.ResponseBodyLength())
	assert.False(t, c.HasResponse())
	// Poll in DISCONNECTED: ERR_UNCONFIGURED (C++ poll()).
	assert.ErrorIs(t, c.Poll(), httpclient.ErrUnconfigured)
}

// read_chunk_size: "The size of the buffer used and maximum bytes to read per
// iteration." C++: ERR_FAIL_COND(p_size < 256 || p_size > (1 << 24)).
func TestClassrefClientReadChunkSizeRange(t *testing.T) {
	c := httpclient.New()
	defer c.Close()
	for _, bad := range []int{0, 255, 1<<24 + 1, -1} {
		assert.Error(t, c.SetReadChunkSize(bad), "%d", bad)
		assert.Equal(t, 65536, c.ReadChunkSize(), "unchanged after %d", bad)
	}
	for _, good := range []int{256, 1 << 24, 4096} {
		assert.NoError(t, c.SetReadChunkSize(good))
		assert.Equal(t, good, c.ReadChunkSize())
	}
	// "maximum bytes to read per iteration": a 1000-byte body with 256 gives pieces ≤ 256.
	srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"+strings.Repeat("x", 1000)))
	require.NoError(t, c.SetReadChunkSize(256))
	crConnect(t, c, srv.Host(), srv.Port())
	require.NoError(t, c.Request(httpclient.MethodGet, "/", nil, ""))
	crPollWhile(t, c, httpclient.StatusRequesting)
	total := 0
	deadline := time.Now().Add(crWait)
	for c.Status() == httpclient.StatusBody && time.Now().Before(deadline) {
		c.Poll()
		p := c.ReadResponseBodyChunk()
		assert.LessOrEqual(t, len(p), 256)
		total += len(p)
	}
	assert.Equal(t, 1000, total)
}

// query_string_from_dict, both examples of the class reference.
func TestClassrefQueryStringFromDictExamples(t *testing.T) {
	c := httpclient.New()
	defer c.Close()
	got := c.QueryStringFromDict([]httpclient.QueryField{{Key: "username", Value: "user"}, {Key: "password", Value: "pass"}})
	assert.Equal(t, "username=user&password=pass", got)
	got = c.QueryStringFromDict([]httpclient.QueryField{
		{Key: "single", Value: 123}, {Key: "not_valued", Value: nil}, {Key: "multiple", Value: []any{22, 33, 44}},
	})
	assert.Equal(t, "single=123&not_valued&multiple=22&multiple=33&multiple=44", got)
}

// request(): the doc's POST example — Content-Type and an explicit
// Content-Length: the client adds no second Content-Length (C++: add_clen
// cleared by a "Content-Length:" user header), the body follows.
func TestClassrefClientRequestPOSTExample(t *testing.T) {
	srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	c := httpclient.New()
	defer c.Close()
	crConnect(t, c, srv.Host(), srv.Port())
	qs := c.QueryStringFromDict([]httpclient.QueryField{{Key: "username", Value: "user"}, {Key: "password", Value: "pass"}})
	headers := []string{"Content-Type: application/x-www-form-urlencoded", "Content-Length: " + fmt.Sprint(len(qs))}
	require.NoError(t, c.Request(httpclient.MethodPost, "/index.php", headers, qs))
	crPollWhile(t, c, httpclient.StatusRequesting)
	assert.Equal(t, "ok", string(crReadBody(t, c)))
	srv.Close()
	req := string(srv.Requests()[0])
	assert.True(t, strings.HasPrefix(req, "POST /index.php HTTP/1.1\r\n"), req)
	assert.Equal(t, 1, strings.Count(strings.ToLower(req), "content-length:"), req)
	assert.True(t, strings.HasSuffix(req, "\r\n\r\nusername=user&password=pass"), req)
}

// request() URL forms. Doc: "usually just the part after the host ... /index.php.
// When sending requests to an HTTP proxy server, it should be an absolute URL.
// For METHOD_OPTIONS requests, * is also allowed. For METHOD_CONNECT requests,
// it should be the authority component (host:port)." C++ _check_request_url:
// CONNECT: 0 < find(':') < len-1; OPTIONS: "*" or the default; default:
// begins_with "/", "http://" or "https://". (The C# example's "index.php" is
// refused by the C++.)
func TestClassrefClientRequestURLForms(t *testing.T) {
	cases := []struct {
		m   httpclient.Method
		url string
		ok  bool
	}{
		{httpclient.MethodGet, "/index.php", true},
		{httpclient.MethodGet, "index.php", false},
		{httpclient.MethodGet, "http://example.com/x", true},
		{httpclient.MethodGet, "https://example.com/x", true},
		{httpclient.MethodGet, "*", false},
		{httpclient.MethodOptions, "*", true},
		{httpclient.MethodOptions, "/", true},
		{httpclient.MethodConnect, "example.com:443", true},
		{httpclient.MethodConnect, ":443", false},
		{httpclient.MethodConnect, "example.com:", false},
		{httpclient.MethodConnect, "/", false},
		{httpclient.Method(9), "/", false},
		{httpclient.Method(-1), "/", false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d_%s", tc.m, tc.url), func(t *testing.T) {
			srv := ts.New(t, ts.Script(ts.Hold()))
			c := httpclient.New()
			defer c.Close()
			crConnect(t, c, srv.Host(), srv.Port())
			err := c.Request(tc.m, tc.url, nil, "")
			if tc.ok {
				assert.NoError(t, err)
				assert.Equal(t, httpclient.StatusRequesting, c.Status())
			} else {
				assert.ErrorIs(t, err, httpclient.ErrInvalidParameter)
				assert.Equal(t, httpclient.StatusConnected, c.Status())
			}
		})
	}
}

// Note on request(): "The body parameter is ignored if method is METHOD_GET."
// The C++ does not ignore it: add_clen = p_body_size > 0, and the body is put
// in the request buffer whatever the method. gdhttp follows the C++.
func TestClassrefClientGETBodyIsSent(t *testing.T) {
	srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
	c := httpclient.New()
	defer c.Close()
	crConnect(t, c, srv.Host(), srv.Port())
	require.NoError(t, c.Request(httpclient.MethodGet, "/", nil, "abc"))
	crPollWhile(t, c, httpclient.StatusRequesting)
	crReadBody(t, c)
	srv.Close()
	req := string(srv.Requests()[0])
	assert.Contains(t, req, "Content-Length: 3\r\n")
	assert.True(t, strings.HasSuffix(req, "\r\n\r\nabc"), req)
}

// get_response_body_length(): "Some Web servers may not send a body length.
// In this case, the value returned will be -1. If using chunked transfer
// encoding, the body length will also be -1." C++: body_size is -1 unless a
// Content-Length line set it (chunked does not reset it); HEAD → 0.
func TestClassrefClientResponseBodyLength(t *testing.T) {
	cases := []struct {
		name, resp string
		method     httpclient.Method
		want       int64
		chunked    bool
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", httpclient.MethodGet, 5, false},
		{"until-close", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello", httpclient.MethodGet, -1, false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", httpclient.MethodGet, -1, true},
		// C++ wins over the doc: the Content-Length is kept beside chunked.
		{"chunked+cl", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n", httpclient.MethodGet, 5, true},
		{"head", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", httpclient.MethodHead, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := ts.New(t, ts.RespondAndClose(tc.resp))
			c := httpclient.New()
			defer c.Close()
			crConnect(t, c, srv.Host(), srv.Port())
			require.NoError(t, c.Request(tc.method, "/", nil, ""))
			crPollWhile(t, c, httpclient.StatusRequesting)
			assert.Equal(t, tc.want, c.ResponseBodyLength())
			assert.Equal(t, tc.chunked, c.IsResponseChunked())
			assert.True(t, c.HasResponse())
		})
	}
}

// get_response_headers_as_dictionary(): doc — "Each entry is composed by the
// header name, and a String containing the values separated by "; ". The
// casing is kept the same as the headers were received." The C++
// (http_client.cpp _get_response_headers_as_dictionary) does ret[key] = value
// per line: a repeated header keeps only its last value; nothing is joined.
// gdhttp follows the C++ (asserted here); the doc's "; " joining does not hold
// in Godot either.
func TestClassrefClientHeadersAsDictionary(t *testing.T) {
	srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nContent-Type: application/json; charset=UTF-8\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nok"))
	c := httpclient.New()
	defer c.Close()
	crConnect(t, c, srv.Host(), srv.Port())
	require.NoError(t, c.Request(httpclient.MethodGet, "/", nil, ""))
	crPollWhile(t, c, httpclient.StatusRequesting)
	d := c.ResponseHeadersAsDictionary()
	assert.Equal(t, map[string]string{
		"content-length": "2",
		"Content-Type":   "application/json; charset=UTF-8",
		"Set-Cookie":     "b=2",
	}, d)
	// The headers are consumed: has_response is false afterwards (C++ get_response_headers clears them).
	assert.False(t, c.HasResponse())
}

// set_http_proxy()/set_https_proxy(): "The proxy server is unset if host is
// empty or port is -1." connect_to_host(): "If no port is specified (or -1 is
// used), it is automatically set to 80 for HTTP". Observed through an HTTP
// proxy: the absolute URI carries the resolved port (C++:
// vformat("http://%s:%d%s", conn_host, conn_port, p_url)) and the Host header
// leaves the standard port out.
func TestClassrefClientProxyAndDefaultPort(t *testing.T) {
	proxy := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
	c := httpclient.New()
	defer c.Close()
	c.SetHTTPProxy(proxy.Host(), proxy.Port())
	crConnect(t, c, "example.com", -1)
	require.NoError(t, c.Request(httpclient.MethodGet, "/a", nil, ""))
	crPollWhile(t, c, httpclient.StatusRequesting)
	crReadBody(t, c)
	proxy.Close()
	req := string(proxy.Requests()[0])
	assert.True(t, strings.HasPrefix(req, "GET http://example.com:80/a HTTP/1.1\r\n"), req)
	assert.Contains(t, req, "\r\nHost: example.com\r\n")

	// Unset by port -1: the client resolves example.com itself (no network
	// here: any outcome but CONNECTED-to-the-proxy will do), so test with an IP.
	direct := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
	for _, unset := range []struct {
		host string
		port int
	}{{"", proxy.Port()}, {proxy.Host(), -1}} {
		c2 := httpclient.New()
		c2.SetHTTPProxy("127.0.0.1", proxy.Port())
		c2.SetHTTPProxy(unset.host, unset.port)
		crConnect(t, c2, direct.Host(), direct.Port())
		require.NoError(t, c2.Request(httpclient.MethodGet, "/d", nil, ""))
		crPollWhile(t, c2, httpclient.StatusRequesting)
		crReadBody(t, c2)
		c2.Close()
	}
	direct.Close()
	for _, r := range direct.Requests() {
		assert.True(t, strings.HasPrefix(string(r), "GET /d HTTP/1.1\r\n"), string(r))
	}
	assert.Len(t, direct.Requests(), 2)
}

// close(): "Closes the current connection, allowing reuse of this HTTPClient."
// The class description: "A HTTPClient should be reused between multiple
// requests or to connect to different hosts".
func TestClassrefClientCloseAllowsReuse(t *testing.T) {
	a := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"))
	b := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"))
	c := httpclient.New()
	defer c.Close()
	for _, s := range []*ts.Server{a, b} {
		crConnect(t, c, s.Host(), s.Port())
		require.NoError(t, c.Request(httpclient.MethodGet, "/", nil, ""))
		crPollWhile(t, c, httpclient.StatusRequesting)
		body := crReadBody(t, c)
		assert.Len(t, body, 1)
		assert.Equal(t, httpclient.StatusConnected, c.Status())
		c.Close()
		assert.Equal(t, httpclient.StatusDisconnected, c.Status())
	}
}

// blocking_mode_enabled: "If true, execution will block until all data is
// read from the response." C++: _get_http_data loops until p_bytes arrived;
// read_response_body_chunk asks MIN(body_left, read_chunk_size): one call
// returns the whole (≤ chunk size) body even when it arrives in pieces.
func TestClassrefClientBlockingReadsWholeChunk(t *testing.T) {
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"
	srv := ts.New(t, ts.Script(ts.Read(), ts.WriteSplit([]byte(resp), []int{len(resp) - 6}, 30*time.Millisecond), ts.Hold()))
	c := httpclient.New()
	defer c.Close()
	c.SetBlockingMode(true)
	assert.True(t, c.IsBlockingModeEnabled())
	crConnect(t, c, srv.Host(), srv.Port())
	require.NoError(t, c.Request(httpclient.MethodGet, "/", nil, ""))
	crPollWhile(t, c, httpclient.StatusRequesting)
	require.Equal(t, httpclient.StatusBody, c.Status())
	assert.Equal(t, "0123456789", string(c.ReadResponseBodyChunk()))
	assert.Equal(t, httpclient.StatusConnected, c.Status())
}

// The http_client_class.rst tutorial, ported line by line (GDScript
// version), against a loopback server sending a chunked page: the status
// assertions of the script, the custom User-Agent and Accept not duplicated,
// has_response, the dictionary, is_response_chunked, the body loop.
func TestClassrefTutorialHTTPClient(t *testing.T) {
	page := strings.Repeat("<p>ChangeLog</p>\n", 200)
	var chunkedBody bytes.Buffer
	for i := 0; i < len(page); i += 500 {
		end := min(i+500, len(page))
		fmt.Fprintf(&chunkedBody, "%x\r\n%s\r\n", end-i, page[i:end])
	}
	chunkedBody.WriteString("0\r\n\r\n")
	resp := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedBody.String()
	srv := ts.New(t, ts.Script(ts.Read(), ts.WriteSplit([]byte(resp), []int{100, 2000}, 5*time.Millisecond), ts.Hold()))

	for _, host := range []string{"localhost", "127.0.0.1"} {
		t.Run(host, func(t *testing.T) {
			var err error
			http := httpclient.New() // Create the Client.
			defer http.Close()
			err = http.ConnectToHost(host, srv.Port(), nil) // Connect to host/port.
			require.NoError(t, err)
			for http.Status() == httpclient.StatusConnecting || http.Status() == httpclient.StatusResolving {
				http.Poll()
				time.Sleep(time.Millisecond) // await get_tree().process_frame
			}
			require.Equal(t, httpclient.StatusConnected, http.Status()) // Check if the connection was made successfully.
			headers := []string{"User-Agent: Pirulo/1.0 (Godot)", "Accept: */*"}
			err = http.Request(httpclient.MethodGet, "/ChangeLog-5.php", headers, "")
			require.NoError(t, err)
			for http.Status() == httpclient.StatusRequesting {
				http.Poll()
				time.Sleep(time.Millisecond)
			}
			require.True(t, http.Status() == httpclient.StatusBody || http.Status() == httpclient.StatusConnected, "%v", http.Status())
			require.True(t, http.HasResponse())
			dict := http.ResponseHeadersAsDictionary()
			assert.Equal(t, 200, http.ResponseCode())
			assert.Equal(t, map[string]string{"Content-Type": "text/html", "Transfer-Encoding": "chunked"}, dict)
			assert.True(t, http.IsResponseChunked())
			assert.Equal(t, int64(-1), http.ResponseBodyLength())
			var rb []byte
			for http.Status() == httpclient.StatusBody {
				http.Poll()
				chunk := http.ReadResponseBodyChunk()
				if len(chunk) == 0 {
					time.Sleep(time.Millisecond)
				} else {
					rb = append(rb, chunk...)
				}
			}
			assert.Equal(t, page, string(rb))
			assert.Equal(t, httpclient.StatusConnected, http.Status())
		})
	}
	srv.Close()
	for _, r := range srv.Requests() {
		req := string(r)
		assert.Equal(t, 1, strings.Count(req, "User-Agent:"), req)
		assert.Equal(t, 1, strings.Count(req, "Accept:"), req)
		assert.Contains(t, req, "User-Agent: Pirulo/1.0 (Godot)\r\nAccept: */*\r\nHost: ")
	}
}

// get_status(): "Need to call poll in order to get status updates." A
// response that has fully arrived does not move the status without poll.
func TestClassrefClientStatusNeedsPoll(t *testing.T) {
	srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	c := httpclient.New()
	defer c.Close()
	crConnect(t, c, srv.Host(), srv.Port())
	require.NoError(t, c.Request(httpclient.MethodGet, "/", nil, ""))
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, httpclient.StatusRequesting, c.Status())
}

// connect_to_host(): tls_options in server mode → ERR_INVALID_PARAMETER (C++
// ERR_FAIL_COND_V(tls_options->is_server())); a host shorter than 4 → same.
func TestClassrefClientConnectRefusals(t *testing.T) {
	c := httpclient.New()
	defer c.Close()
	err := c.ConnectToHost("abc", 80, nil)
	assert.True(t, errors.Is(err, httpclient.ErrInvalidParameter), "%v", err)
	assert.Equal(t, httpclient.StatusDisconnected, c.Status())
	assert.Equal(t, godot.ErrInvalidParameter, godot.CodeOf(err))
}

// connect_to_host() with a scheme prefix: "http://" stripped (TLS off),
// get_response_headers() consumes the headers (C++ clears them), the code stays.
func TestClassrefClientSchemePrefixAndHeaders(t *testing.T) {
	srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nok"))
	c := httpclient.New()
	defer c.Close()
	require.NoError(t, c.ConnectToHost("HTTP://"+srv.Host(), srv.Port(), httpclient.TLSClient(nil, "")))
	crPollWhile(t, c, httpclient.StatusResolving, httpclient.StatusConnecting)
	require.Equal(t, httpclient.StatusConnected, c.Status())
	require.NoError(t, c.Request(httpclient.MethodGet, "/", nil, ""))
	crPollWhile(t, c, httpclient.StatusRequesting)
	assert.Equal(t, []string{"Content-Length: 2", "X-A: 1"}, c.ResponseHeaders())
	assert.Empty(t, c.ResponseHeaders())
	assert.Equal(t, 200, c.ResponseCode())
	assert.Equal(t, "ok", string(crReadBody(t, c)))
	srv.Close()
	assert.Contains(t, string(srv.Requests()[0]), "Host: "+srv.Host()+":")
}

// TLSOptions.client(chain, common_name_override) / client_unsafe(chain):
// "validates certificates and their common names"; "common_name_override if
// you expect the certificate to have a common name other then the server
// FQDN"; client_unsafe: "the common name of the certificates will never be
// checked".
func TestClassrefClientTLSOptions(t *testing.T) {
	ca := ts.NewCA(t)
	other := ts.NewCA(t)
	cert := ca.Issue(t, "game.example")
	cases := []struct {
		name string
		opts *httpclient.TLSOptions
		want httpclient.Status
	}{
		{"client-name-mismatch", httpclient.TLSClient(ca.Pool(), ""), httpclient.StatusTLSHandshakeError},
		{"client-override", httpclient.TLSClient(ca.Pool(), "game.example"), httpclient.StatusConnected},
		{"client-wrong-ca", httpclient.TLSClient(other.Pool(), "game.example"), httpclient.StatusTLSHandshakeError},
		{"unsafe-chain-no-name", httpclient.TLSClientUnsafe(ca.Pool()), httpclient.StatusConnected},
		{"unsafe-nil", httpclient.TLSClientUnsafe(nil), httpclient.StatusConnected},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := ts.NewTLS(t, cert, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
			c := httpclient.New()
			defer c.Close()
			require.NoError(t, c.ConnectToHost("localhost", srv.Port(), tc.opts))
			crPollWhile(t, c, httpclient.StatusResolving, httpclient.StatusConnecting)
			assert.Equal(t, tc.want, c.Status())
		})
	}
}

// Every Method constant writes its HTTP token (C++ _methods[]).
func TestClassrefClientMethodTokens(t *testing.T) {
	tokens := []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH"}
	for m, tok := range tokens {
		t.Run(tok, func(t *testing.T) {
			srv := ts.New(t, ts.Script(ts.Read(), ts.Hold()))
			c := httpclient.New()
			defer c.Close()
			crConnect(t, c, srv.Host(), srv.Port())
			url := "/x"
			if tok == "CONNECT" {
				url = "example.com:443"
			}
			require.NoError(t, c.Request(httpclient.Method(m), url, nil, ""))
			// Until the server has the request (its accept may not even be
			// counted yet on a loaded machine).
			for end := time.Now().Add(5 * time.Second); len(srv.Requests()) == 0 && time.Now().Before(end); {
				c.Poll()
				time.Sleep(2 * time.Millisecond)
			}
			c.Close()
			srv.Close()
			require.NotEmpty(t, srv.Requests())
			assert.True(t, strings.HasPrefix(string(srv.Requests()[0]), tok+" "+url+" HTTP/1.1\r\n"), string(srv.Requests()[0]))
		})
	}
}

// read_chunk_size "maximum bytes to read per iteration" does not bound a
// chunked body: C++ read_response_body_chunk returns one whole chunk (up to
// 16 MiB) whatever read_chunk_size is. The C++ decides.
func TestClassrefClientChunkIgnoresReadChunkSize(t *testing.T) {
	payload := strings.Repeat("c", 1000)
	srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n"+payload+"\r\n0\r\n\r\n"))
	c := httpclient.New()
	defer c.Close()
	require.NoError(t, c.SetReadChunkSize(256))
	crConnect(t, c, srv.Host(), srv.Port())
	require.NoError(t, c.Request(httpclient.MethodGet, "/", nil, ""))
	crPollWhile(t, c, httpclient.StatusRequesting)
	var pieces []int
	deadline := time.Now().Add(crWait)
	for c.Status() == httpclient.StatusBody && time.Now().Before(deadline) {
		c.Poll()
		if p := c.ReadResponseBodyChunk(); len(p) > 0 {
			pieces = append(pieces, len(p))
		}
	}
	assert.Equal(t, []int{1000}, pieces)
}

// get_status(): "Need to call poll in order to get status updates" — in
// every state: RESOLVING, CONNECTING, CONNECTED with the peer gone, both modes.
func TestClassrefClientStatusOnlyChangesInPoll(t *testing.T) {
	for _, blocking := range []bool{false, true} {
		t.Run(fmt.Sprint("blocking=", blocking), func(t *testing.T) {
			srv := ts.New(t, ts.Script(ts.Sleep(30*time.Millisecond), ts.Close()))
			for _, host := range []string{"localhost", "127.0.0.1"} {
				c := httpclient.New()
				c.SetBlockingMode(blocking)
				require.NoError(t, c.ConnectToHost(host, srv.Port(), nil))
				s0 := c.Status()
				time.Sleep(60 * time.Millisecond)
				assert.Equal(t, s0, c.Status(), host)
				if blocking {
					c.Close()
					continue
				}
				crPollWhile(t, c, httpclient.StatusResolving, httpclient.StatusConnecting)
				require.Equal(t, httpclient.StatusConnected, c.Status())
				time.Sleep(80 * time.Millisecond) // the server closed
				assert.Equal(t, httpclient.StatusConnected, c.Status())
				c.Poll()
				assert.Equal(t, httpclient.StatusConnectionError, c.Status())
				c.Close()
			}
		})
	}
}
