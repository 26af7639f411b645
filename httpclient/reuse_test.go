package httpclient

import (
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// Responses for the reuse tests: the first request's answer, bytes no
// request asked for, and the answer a fresh connection gives.
const (
	reuseFirst = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	reuseSpoof = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nspoofd"
	reuseFresh = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh"
)

// reuseCases are first connections after which the connection must not
// carry another request (§7 D2): bytes that no request asked for are there
// (present: the test waits until the server has written them), or will be,
// when the next request would be written. The first connection then reads
// the next request, if one comes, and holds.
var reuseCases = []struct {
	name    string
	steps   []ts.Step
	present bool
}{
	{"stray-bytes-with-the-response", []ts.Step{ts.Read(), ts.WriteString(reuseFirst + reuseSpoof)}, true},
	{"stray-bytes-while-idle", []ts.Step{ts.Read(), ts.WriteString(reuseFirst), ts.Sleep(30 * time.Millisecond), ts.WriteString(reuseSpoof)}, true},
	// Under TLS the body and the stray bytes share a record: a read sized
	// to the body's end leaves the rest in crypto/tls.
	{"stray-bytes-in-the-body's-record", []ts.Step{ts.Read(), ts.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"), ts.Sleep(20 * time.Millisecond), ts.WriteString("ok" + reuseSpoof)}, true},
	// §1.9: a head without framing ends the response; its body comes later.
	{"unframed-body-later", []ts.Step{ts.Read(), ts.WriteString("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"), ts.Sleep(150 * time.Millisecond), ts.WriteString(reuseSpoof)}, false},
	// §1.8.7: a 1xx is Godot's final response; the real one follows later.
	{"informational-then-real-later", []ts.Step{ts.Read(), ts.WriteString("HTTP/1.1 100 Continue\r\nContent-Length: 2\r\n\r\nok"), ts.Sleep(150 * time.Millisecond), ts.WriteString(reuseSpoof)}, false},
}

// firstThen runs first on the server's first connection, closes written
// (its bytes are in the client's socket: loopback delivers a write before
// it returns), then reads a request and holds; it answers every request of
// the later connections with reuseFresh.
func firstThen(first []ts.Step, written chan<- struct{}) func(c *ts.Conn) {
	var n atomic.Int32
	steps := append(append([]ts.Step{}, first...),
		ts.Do("written", func(*ts.Conn) error { close(written); return nil }), ts.Read(), ts.Hold())
	return func(c *ts.Conn) {
		if n.Add(1) == 1 {
			ts.Script(steps...)(c)
			return
		}
		ts.RespondEach(reuseFresh)(c)
	}
}

// The Transport never writes a request on a connection where the server
// sent bytes no request asked for, or may still send them: the second
// request gets its own connection and its own response, over plain TCP and
// TLS (§7 D2, response desync; net/http drops such a connection too).
func TestTransportUnsolicitedNotReused(t *testing.T) {
	ca := ts.NewCA(t)
	for _, tlsOn := range []bool{false, true} {
		for _, tc := range reuseCases {
			t.Run(fmt.Sprintf("tls=%v/%s", tlsOn, tc.name), func(t *testing.T) {
				tr := newTransport(t)
				var srv *ts.Server
				scheme := "http"
				written := make(chan struct{})
				if tlsOn {
					srv = ts.NewTLS(t, ca.Issue(t, "localhost"), firstThen(tc.steps, written))
					tr.TLS = TLSClient(ca.Pool(), "")
					scheme = "https"
				} else {
					srv = ts.New(t, firstThen(tc.steps, written))
				}
				url := fmt.Sprintf("%s://localhost:%d/", scheme, srv.Port())
				resp, body := get(t, tr, url+"a")
				first := string(body)
				if tc.present {
					// The stray bytes are there before the second request:
					// 30 ms after the response, a 60 ms pause was a race.
					require.True(t, drive.Closed(written, driveTimeout), "the server did not write its stray bytes")
				} else {
					time.Sleep(60 * time.Millisecond) // the scenario: the second request comes before the late bytes
				}
				resp2, body := get(t, tr, url+"b")
				assert.Equal(t, "fresh", string(body), "the second request read bytes sent before it was made")
				assert.Equal(t, http.StatusOK, resp2.StatusCode)
				assert.Equal(t, 2, srv.Accepted())
				switch tc.name {
				case "unframed-body-later", "informational-then-real-later":
					assert.True(t, resp.Close, "the response says its connection is not kept")
				default:
					assert.Equal(t, "ok", first)
				}
			})
		}
	}
}

// A connection reused with nothing stray on it stays one connection, plain
// and TLS; 204 and 304 have no body by definition and keep it too.
func TestTransportCleanConnectionReused(t *testing.T) {
	ca := ts.NewCA(t)
	for _, tlsOn := range []bool{false, true} {
		for _, first := range []string{reuseFirst, "HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 304 Not Modified\r\n\r\n",
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"} {
			t.Run(fmt.Sprintf("tls=%v/%.12s", tlsOn, first[9:]), func(t *testing.T) {
				steps := []ts.Step{ts.Read(), ts.WriteString(first), ts.Read(), ts.WriteString(reuseFresh), ts.Hold()}
				tr := newTransport(t)
				var srv *ts.Server
				scheme := "http"
				if tlsOn {
					srv = ts.NewTLS(t, ca.Issue(t, "localhost"), ts.Script(steps...))
					tr.TLS = TLSClient(ca.Pool(), "")
					scheme = "https"
				} else {
					srv = ts.New(t, ts.Script(steps...))
				}
				url := fmt.Sprintf("%s://localhost:%d/", scheme, srv.Port())
				resp, _ := get(t, tr, url+"a")
				assert.False(t, resp.Close)
				time.Sleep(30 * time.Millisecond) // a late TLS session ticket would be read by now
				_, body := get(t, tr, url+"b")
				assert.Equal(t, "fresh", string(body))
				assert.Equal(t, 1, srv.Accepted())
			})
		}
	}
}

// Reusable on the client itself, condition by condition, in both modes.
func TestClientReusable(t *testing.T) {
	for _, tc := range []struct {
		name, resp string
		after      []ts.Step // after the response, before Reusable is asked
		want       bool
	}{
		{"clean", reuseFirst, nil, true},
		{"clean-chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", nil, true},
		{"no-content", "HTTP/1.1 204 No Content\r\n\r\n", nil, true},
		{"stray-bytes-buffered", reuseFirst + reuseSpoof, nil, false},
		{"stray-bytes-queued", reuseFirst, []ts.Step{ts.WriteString("x")}, false},
		{"unframed", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", nil, false},
		{"informational", "HTTP/1.1 100 Continue\r\nContent-Length: 2\r\n\r\nok", nil, false},
		{"connection-close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", nil, false},
		{"ambiguous", "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\nok", nil, false},
	} {
		for _, blocking := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/blocking=%v", tc.name, blocking), func(t *testing.T) {
				written := make(chan struct{})
				steps := append([]ts.Step{ts.Read(), ts.WriteString(tc.resp)}, tc.after...)
				steps = append(steps, ts.Do("written", func(*ts.Conn) error { close(written); return nil }), ts.Hold())
				srv := ts.New(t, ts.Script(steps...))
				c := New()
				defer c.Close()
				assert.False(t, c.Reusable(), "no connection")
				c.SetBlockingMode(blocking)
				require.NoError(t, connect(t, c, "127.0.0.1", srv.Port(), nil))
				assert.True(t, c.Reusable(), "a new connection that carried no request")
				require.NoError(t, c.Request(MethodGet, "/", nil, ""))
				assert.False(t, c.Reusable(), "a request under way")
				for c.Status() == StatusRequesting || c.Status() == StatusBody {
					if c.Status() == StatusBody {
						if _, err := c.AppendResponseBodyChunk(nil); err != io.EOF {
							require.NoError(t, err)
						}
						continue
					}
					require.NoError(t, c.Poll())
				}
				require.Equal(t, StatusConnected, c.Status())
				// What the server sends after the response has arrived: in the
				// socket once written (loopback). A 30 ms pause raced the
				// server's second write.
				select {
				case <-written:
				case <-time.After(driveTimeout):
					t.Fatal("the server did not write")
				}
				err := c.Poll()
				if tc.want {
					assert.NoError(t, err)
				}
				assert.Equal(t, tc.want, c.Reusable())
			})
		}
	}
}
