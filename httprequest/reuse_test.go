package httprequest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
)

// A delivered run is reused by the next request (recycleRun), and the
// completion queue's array by the next delivery. What a completion handed
// to the user must not change when that happens: a chain of requests, each
// started from the previous one's callback (Godot's way) or one after the
// other with Do, with a connection that cannot start and a canceled request
// in between, keeps every body and header list as its response gave it.
func TestRunReuseKeepsDeliveries(t *testing.T) {
	srv := serve(t, route(func(line string, _ []byte) string {
		path := strings.Fields(line)[1]
		body := strings.Repeat(path, 1+len(path)%5)
		return "HTTP/1.1 200 OK\r\nX-Path: " + path + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}))
	const steps = 9
	// Every third step cannot connect; the fourth is canceled and
	// replaced (Process and threads).
	url := func(i int) string {
		if i%3 == 2 {
			return "http://[::1]:9/"
		}
		return srv.URL("/r" + strconv.Itoa(i))
	}
	type got struct {
		res     Result
		headers []string
		body    []byte
	}
	check := func(t *testing.T, all []got) {
		t.Helper()
		require.Len(t, all, steps)
		for i, g := range all {
			if i%3 == 2 {
				assert.Equal(t, ResultCantConnect, g.res, "step %d", i)
				continue
			}
			path := "/r" + strconv.Itoa(i)
			require.Equal(t, ResultSuccess, g.res, "step %d", i)
			assert.Equal(t, strings.Repeat(path, 1+len(path)%5), string(g.body), "step %d: the body as delivered", i)
			assert.Contains(t, g.headers, "X-Path: "+path, "step %d: the headers as delivered", i)
		}
	}
	for _, keep := range []bool{false, true} {
		for _, threads := range []bool{false, true} {
			t.Run(fmt.Sprintf("callback/threads=%v/keepalive=%v", threads, keep), func(t *testing.T) {
				n := New()
				defer n.Close()
				require.NoError(t, n.SetUseThreads(threads))
				require.NoError(t, n.SetKeepAlive(keep))
				var all []got
				start := func(i int) {
					if i == 4 {
						// Started, then canceled: no completion; its run is
						// not delivered, the replacement is.
						require.NoError(t, n.Request(srv.URL("/canceled"), nil, httpclient.MethodGet, ""))
						n.CancelRequest()
					}
					_ = n.Request(url(i), nil, httpclient.MethodGet, "")
				}
				n.OnRequestCompleted(func(res Result, _ int, headers []string, body []byte) {
					all = append(all, got{res, headers, body})
					if len(all) < steps {
						start(len(all))
					}
				})
				start(0)
				nodes.ProcessUntil(t, drive.ProcessFunc(n.Process), func() bool { return len(all) >= steps },
					func() string { return fmt.Sprintf("%d completions", len(all)) })
				check(t, all)
			})
		}
		t.Run(fmt.Sprintf("do/keepalive=%v", keep), func(t *testing.T) {
			n := New()
			defer n.Close()
			require.NoError(t, n.SetKeepAlive(keep))
			var all []got
			for i := range steps {
				c, _ := n.Do(context.Background(), url(i), nil, httpclient.MethodGet, nil)
				all = append(all, got{c.Result, c.Headers, c.Body})
			}
			check(t, all)
		})
	}
}
