package httpclient

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/proxygen"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// TestCloseMidChunkNothingStale pins COMPAT.md H4 (§7 D3, §1.10.5) by what
// the user sees: a chunked body abandoned in the middle of a chunk (the
// size line parsed, some of its data read), then Close, a new connection
// and a new chunked response. Godot's chunk buffer survives close() and
// the next response's bytes are taken as the rest of the old chunk; the
// port must deliver the new body exactly.
func TestCloseMidChunkNothingStale(t *testing.T) {
	for _, m := range modes {
		for _, path := range readPaths {
			t.Run(m.name+"/"+path.String(), func(t *testing.T) {
				first := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nxy"))
				second := ts.New(t, ts.RespondAndClose("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
				c, _ := newClient(t, m.blocking)
				c.SetBlockingMode(false) // take only what has arrived of the first chunk
				require.NoError(t, connect(t, c, first.Host(), first.Port(), nil))
				require.NoError(t, c.Request(MethodGet, "/", nil, ""))
				require.NoError(t, pollWhile(t, c, StatusRequesting))
				require.Equal(t, StatusBody, c.Status())
				// Read into the first chunk: its size line and "xy" (the
				// Godot path collects them, Into streams them).
				buf := make([]byte, 1)
				for i := 0; i < 2000 && !c.body.dec.InChunk(); i++ {
					_, _ = c.ReadResponseBodyChunkInto(buf)
					_ = c.Poll()
					time.Sleep(pollGap)
				}
				require.True(t, c.body.dec.InChunk(), "the first chunk was entered")
				c.Close()
				c.SetBlockingMode(m.blocking)

				require.NoError(t, connect(t, c, second.Host(), second.Port(), nil))
				require.NoError(t, c.Request(MethodGet, "/", nil, ""))
				require.NoError(t, pollWhile(t, c, StatusRequesting))
				require.Equal(t, StatusBody, c.Status())
				var r result
				readBody(t, c, path, &r)
				assert.Equal(t, "abc", r.Body, "§7 D3: nothing of the abandoned chunk survives Close")
				assert.True(t, r.Complete)
				assert.Equal(t, StatusConnected, c.Status())
			})
		}
	}
}

// TestConnectIgnoresFramingLenient pins COMPAT.md H6 (§7 D5, §1.14.2.4) in
// the default (Godot) mode: a 2xx reply to CONNECT with body framing — a
// Content-Length above 0, chunked — opens the tunnel and the request through
// it gets its response. Godot's CONNECT sub-client goes to BODY there and
// the tunnel fails one poll later with ERR_CONNECTION_ERROR.
// (TestStrictConnectIgnoresFraming covers strict mode only.)
func TestConnectIgnoresFramingLenient(t *testing.T) {
	for _, raw := range []string{
		"HTTP/1.1 200 Connection established\r\nContent-Length: 5\r\n\r\n",
		"HTTP/1.1 200 Connection established\r\nTransfer-Encoding: chunked\r\n\r\n",
	} {
		for _, m := range modes {
			t.Run(raw[37:len(raw)-4]+"/"+m.name, func(t *testing.T) {
				ca := ts.NewCA(t)
				origin := ts.NewTLS(t, ca.Issue(t, "localhost"), ts.RespondEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				proxy, err := proxygen.Start(proxygen.Plan{B: proxygen.OddHead, Raw: raw, Code: 200, Proto: "HTTP/1.1"}, true, origin.Addr())
				require.NoError(t, err)
				defer proxy.Close()
				c, tr := newClient(t, m.blocking)
				c.SetHTTPSProxy(proxy.Host(), proxy.Port())
				require.NoError(t, connect(t, c, "localhost", origin.Port(), TLSClient(ca.Pool(), "")), "§7 D5: the 2xx opens the tunnel")
				assert.Equal(t, statuses(StatusConnecting, StatusConnected), *tr)
				require.NoError(t, c.Request(MethodGet, "/", nil, ""))
				require.NoError(t, pollWhile(t, c, StatusRequesting))
				var r result
				readBody(t, c, pathChunks, &r)
				assert.Equal(t, 200, c.ResponseCode())
				assert.Equal(t, "ok", r.Body)
			})
		}
	}
}

// TestHeaderViewsCRAsSpace pins the last sentence of COMPAT.md R5 (§7 D2,
// RFC 9112 §2.2): a bare CR inside a response header line is kept in the
// Godot strings (ResponseHeaders, §1.8.2) but is SP in the port's own
// http.Header views — Client.Header and the Transport's responses — so
// that no CR reaches code that writes a header on.
func TestHeaderViewsCRAsSpace(t *testing.T) {
	const resp = "HTTP/1.1 200 OK\r\nX-Cr: a\rb\r\nContent-Length: 2\r\n\r\nok"
	t.Run("client", func(t *testing.T) {
		srv := ts.New(t, ts.Respond(resp))
		c, _ := newClient(t, true)
		require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
		require.NoError(t, c.Request(MethodGet, "/", nil, ""))
		require.NoError(t, pollWhile(t, c, StatusRequesting))
		assert.Contains(t, c.ResponseHeaders(), "X-Cr: a\rb", "§1.8.2: the Godot strings keep the CR")
		assert.Equal(t, []string{"a b"}, c.Header()["X-Cr"], "§7 D2: SP in the http.Header view")
	})
	t.Run("transport", func(t *testing.T) {
		srv := ts.New(t, ts.RespondAndClose(resp))
		r, err := (&http.Client{Transport: newTransport(t)}).Get("http://" + srv.Addr() + "/")
		require.NoError(t, err)
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		assert.Equal(t, "ok", string(b))
		assert.Equal(t, []string{"a b"}, r.Header["X-Cr"], "§7 D2: SP in the Transport's response header")
	})
}

// TestQueryStringSelfReferenceTwice pins COMPAT.md W3 (§7 D1, §1.16.3) where
// the user calls it: query_string_from_dict with an Array and a Dictionary
// that each hold themselves twice. Godot has no cycle check, only the
// recursion limit of 100, so it repeats the container 2^100 times; the
// port prints "[...]" / "{ ... }" where the cycle closes and returns at
// once. godot: TestVariantStringRecursionLimit, the row's test, nests
// without a cycle and does not see the cycle rule.
func TestQueryStringSelfReferenceTwice(t *testing.T) {
	arr := []any{nil, nil}
	arr[0], arr[1] = arr, arr
	dict := map[string]any{}
	dict["a"], dict["b"] = dict, dict
	fields := []QueryField{{Key: "arr", Value: arr}, {Key: "dict", Value: dict}}
	const (
		arrElem = "%5B%5B...%5D%2C%20%5B...%5D%5D"                                             // [[...], [...]]
		dictVal = "%7B%20%22a%22%3A%20%7B%20...%20%7D%2C%20%22b%22%3A%20%7B%20...%20%7D%20%7D" // { "a": { ... }, "b": { ... } }
	)
	want := "arr=" + arrElem + "&arr=" + arrElem + "&dict=" + dictVal
	done := make(chan [2]string, 1)
	go func() {
		var c Client
		done <- [2]string{QueryStringFromDict(fields), c.QueryStringFromDict(fields)}
	}()
	select {
	case got := <-done:
		assert.Equal(t, want, got[0], "QueryStringFromDict")
		assert.Equal(t, want, got[1], "Client.QueryStringFromDict")
	case <-time.After(5 * time.Second):
		t.Fatal("query_string_from_dict still running after 5 s: the cycle is repeated up to the recursion limit")
	}
}
