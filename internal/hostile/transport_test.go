package hostile

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
)

// The transport driver plays the raw client's scenarios through
// httpclient.Transport, as a net/http user meets them: RoundTrip, then the
// body read to its end and closed. The Transport has no Godot result to
// compare, so the check is the user's view of the same outcome: a success
// (the scenario's main or alternative outcome) gives that response code and
// that body with no error; any other outcome gives an error, from RoundTrip
// or from the body — except two results the node derives from a response
// the client reads cleanly: NO_RESPONSE for a head without header lines
// (Godot's has_response() is false; the Transport returns the response,
// with an empty body) and CHUNKED_BODY_SIZE_MISMATCH for a complete chunked
// body whose Content-Length disagrees (the Transport returns the body, as
// the client reads it). Hangs, leaks and heap growth are checked as for
// every driver.

// transportEligible: the client's scenarios whose request the Transport
// writes the same way — no custom header lines (http.Header orders them by
// name and cannot hold a line without a colon) — and that a blocking
// client plays (the Transport's client blocks).
func transportEligible(sc *scenario) bool { return transportExclusion(sc) == "" }

// transportExclusion says why the Transport does not play sc, or "".
func transportExclusion(sc *scenario) string {
	switch {
	case !clientEligible(sc):
		return whyNotClient
	case len(sc.reqHdr) > 0:
		return whyReqHeaders
	case sc.drivers != nil && !slices.Contains(sc.drivers, "blocking") && !slices.Contains(sc.drivers, "do"):
		return whyNotBlocking
	}
	return ""
}

// transportResult is what the Transport gave: the response code and body,
// or the error that ended the exchange.
type transportResult struct {
	code int
	body []byte
	err  error
}

func runTransport(t *testing.T, e *env, r request) transportResult {
	t.Helper()
	tr := &httpclient.Transport{MaxIdleConnsPerHost: -1}
	defer tr.CloseIdleConnections()
	if strings.HasPrefix(r.url, "https:") {
		tr.TLS = e.tlsOptions(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), maxWait)
	defer cancel()
	var body io.Reader
	if len(r.body) > 0 {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method.String(), r.url, body)
	require.NoError(t, err)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		require.NoError(t, ctx.Err(), "the Transport still busy after %v", maxWait)
		return transportResult{err: err}
	}
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	require.NoError(t, ctx.Err(), "the Transport's body still busy after %v", maxWait)
	return transportResult{code: resp.StatusCode, body: b, err: err}
}

// checkTransport compares the Transport's result with the scenario's
// outcomes (see above).
func checkTransport(t *testing.T, e *env, sc *scenario, g transportResult) {
	t.Helper()
	outcomes := append([]outcome{sc.want}, sc.alts...)
	var successes []outcome
	for _, o := range outcomes {
		if o.result == 0 {
			if !o.hasBody && o.headers == nil { // an alternative: the main outcome's body
				o.body, o.hasBody = sc.want.body, sc.want.hasBody
			}
			successes = append(successes, o)
		}
	}
	if g.err != nil {
		assert.Less(t, len(successes), len(outcomes), "the Transport failed where the client succeeds: %v", g.err)
		return
	}
	for _, o := range outcomes {
		switch {
		case o.result == 6 && len(g.body) == 0:
			return // NO_RESPONSE: a head without header lines
		case o.result == 1 && hasHeader(sc.want.headers, "transfer-encoding") && hasHeader(sc.want.headers, "content-length"):
			return // CHUNKED_BODY_SIZE_MISMATCH of a complete chunked body
		}
	}
	for _, o := range successes {
		wantBody := []byte(nil)
		if o.hasBody {
			b, err := evalExpr(o.body, e.refs)
			require.NoError(t, err)
			wantBody = b
		}
		if g.code == o.code && bytes.Equal(g.body, wantBody) {
			return
		}
	}
	if len(successes) == 0 {
		t.Errorf("the Transport gave %d and %d body bytes with no error, where the client ends with result %d", g.code, len(g.body), sc.want.result)
		return
	}
	t.Errorf("the Transport gave %d and %q, want %d and the scenario's body", g.code, truncate(g.body), successes[0].code)
}

func hasHeader(lines []string, name string) bool {
	for _, h := range lines {
		if n, _, ok := strings.Cut(h, ":"); ok && strings.EqualFold(strings.TrimSpace(n), name) {
			return true
		}
	}
	return false
}

func truncate(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}
