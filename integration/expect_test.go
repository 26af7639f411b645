package integration

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/peers"
)

// "Expect: 100-continue" against real servers: gunicorn (httpbin) and nginx
// both answer "HTTP/1.1 100 Continue" with no header lines, then the real
// response. Godot writes the body with the head anyway (§1.7.11) and takes
// the 100 as the final response (§1.8.7).

// expectTargets are the two servers that send 100 Continue, with a URL whose
// answer names the request.
func expectTargets(t *testing.T) []struct{ name, post, next, nextWant string } {
	t.Helper()
	bin := peers.HTTPBin(t)
	nginx := peers.Nginx(t)
	return []struct{ name, post, next, nextWant string }{
		{"httpbin", "http://" + bin + "/post", "http://" + bin + "/anything/next", `"url":"http://` + bin + `/anything/next"`},
		{"nginx", "http://" + nginx + "/method", "http://" + nginx + "/method?next", "GET /method?next\n"},
	}
}

// TestRequestExpectContinue: the node meets a header-less "100 Continue":
// RESULT_NO_RESPONSE with code 0, no headers and no body (§2.7.1). The
// connection is not reused with the keep-alive option (§7.2): the next
// request gets its own answer, not the 200 left behind the 100. In strict
// mode (§7.4) the 100 is skipped and the real answer delivered.
func TestRequestExpectContinue(t *testing.T) {
	for _, tg := range expectTargets(t) {
		t.Run(tg.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, n *httprequest.HTTPRequest) {
				require.NoError(t, n.SetKeepAlive(true))
			}, func(t *testing.T, d driver, n *httprequest.HTTPRequest) {
				o := d.run(t, n, tg.post, []string{"Expect: 100-continue"}, httpclient.MethodPost, []byte("hello"))
				checkOutcome(t, want{result: httprequest.ResultNoResponse, noBody: true}, o)
				o = d.run(t, n, tg.next, nil, httpclient.MethodGet, nil)
				checkOutcome(t, want{result: httprequest.ResultSuccess, code: 200}, o)
				assert.Contains(t, string(o.C.Body), tg.nextWant, "the next request's own answer")
			})
		})
		t.Run(tg.name+"/§7.4 strict", func(t *testing.T) {
			eachDriver(t, func(t *testing.T, n *httprequest.HTTPRequest) {
				require.NoError(t, n.SetStrict(true))
			}, func(t *testing.T, d driver, n *httprequest.HTTPRequest) {
				o := d.run(t, n, tg.post, []string{"Expect: 100-continue"}, httpclient.MethodPost, []byte("hello"))
				checkOutcome(t, want{result: httprequest.ResultSuccess, code: 200}, o)
				assert.NotEmpty(t, o.C.Body)
			})
		})
	}
}

// TestTransportExpectContinue: the same through httpclient.Transport. With
// Strict the 100 is skipped: the POST gets its 200 and the pooled
// connection carries the next request cleanly. With Godot's rules (the
// default) the Transport returns the 100 as the final response (§1.8.7), so
// the 200 that follows stays in the socket; the connection must then not be
// pooled, or the next request on it reads the previous request's answer.
func TestTransportExpectContinue(t *testing.T) {
	for _, tg := range expectTargets(t) {
		for _, strict := range []bool{true, false} {
			name := tg.name + "/godot"
			if strict {
				name = tg.name + "/strict"
			}
			t.Run(name, func(t *testing.T) {
				c := newHTTPClient(t, &httpclient.Transport{Strict: strict})
				req, err := http.NewRequest(http.MethodPost, tg.post, strings.NewReader("hello"))
				require.NoError(t, err)
				req.Header.Set("Expect", "100-continue")
				resp, err := c.Do(req)
				require.NoError(t, err)
				_, err = io.ReadAll(resp.Body)
				require.NoError(t, err)
				require.NoError(t, resp.Body.Close())
				if strict {
					assert.Equal(t, 200, resp.StatusCode, "§7.4 the 100 is skipped")
				} else {
					assert.Equal(t, 100, resp.StatusCode, "§1.8.7 Godot takes the 100 as final")
					assert.True(t, resp.Close, "§7 D2: the real response is still in the socket, the connection is not pooled")
				}
				_, body := get(t, c, tg.next)
				assert.Contains(t, string(body), tg.nextWant, "the next request's own answer, not the POST's")
			})
		}
	}
}
