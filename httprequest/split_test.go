package httprequest

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// STYLE.md: every scripted response also runs split at every byte boundary
// and one byte per write, and must give the same completion in every driver
// (§7.3). Three framings: a gzip Content-Length body (§2.8.2), a chunked body
// (§2.6: completion through CONNECTED) and a read-until-close body (§2.9.6).
func TestSplitAtEveryByte(t *testing.T) {
	gz := gzipBytes(t, []byte("split me at every byte, split me at every byte"))
	cases := []struct {
		name  string
		resp  string
		close bool
		want  Completion
	}{
		{"gzip body", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(len(gz)) + "\r\n\r\n" + string(gz), false,
			Completion{ResultSuccess, 200, hdrs("Content-Encoding: gzip", "Content-Length: "+strconv.Itoa(len(gz))), []byte("split me at every byte, split me at every byte")}},
		{"chunked", chunkedHead + "3\r\nabc\r\n4\r\ndefg\r\n0\r\nX-T: 1\r\n\r\n", false,
			Completion{ResultSuccess, 200, hdrs("Transfer-Encoding: chunked"), []byte("abcdefg")}},
		{"until close", closeHead + "the body", true,
			Completion{ResultSuccess, 200, hdrs("Connection: close"), []byte("the body")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var plans [][]int
			for i := 1; i < len(c.resp); i++ {
				plans = append(plans, []int{i})
			}
			every := make([]int, 0, len(c.resp))
			for i := 1; i < len(c.resp); i++ {
				every = append(every, i)
			}
			plans = append(plans, every)
			for _, d := range drivers {
				t.Run(d.Name, func(t *testing.T) {
					for _, splits := range plans {
						steps := []testserver.Step{testserver.Read(), testserver.WriteSplit([]byte(c.resp), splits, 100*time.Microsecond)}
						if c.close {
							steps = append(steps, testserver.Close())
						} else {
							steps = append(steps, testserver.Hold())
						}
						srv := serve(t, testserver.Script(steps...))
						n := New()
						o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
						n.Close()
						srv.Close()
						if !assert.Equal(t, c.want.Result, o.C.Result, "splits %v: %v", splits, o.Err) {
							return
						}
						require.Equal(t, c.want.Headers, o.C.Headers, "splits %v", splits)
						require.Equal(t, string(c.want.Body), string(o.C.Body), "splits %v", splits)
					}
				})
			}
		})
	}
}
