package httprequest

import (
	"strconv"
	"testing"

	"github.com/gdhttp/gdhttp/httpclient"
)

func BenchmarkTmpThreadsNewconn(b *testing.B) {
	t := &testing.T{}
	port := allocServer(t, map[string][]byte{"/": []byte("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nhello, world!")})
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	for _, threads := range []bool{false, true} {
		b.Run(strconv.FormatBool(threads), func(b *testing.B) {
			n := New()
			defer n.Close()
			_ = n.SetUseThreads(threads)
			done := false
			n.OnRequestCompleted(func(r Result, c int, _ []string, body []byte) { done = true })
			for b.Loop() {
				done = false
				if err := n.Request(url, nil, httpclient.MethodGet, ""); err != nil {
					b.Fatal(err)
				}
				for !done {
					n.Process()
				}
			}
		})
	}
}
