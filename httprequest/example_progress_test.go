package httprequest_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
)

// A large download to disk with progress: OnProgress is told the bytes
// received so far (and the decoded bytes, the same here: nothing is
// compressed) on the caller's goroutine, after every step that moved them;
// BodySize is the Content-Length. Resuming a download that broke off is
// DoResumable's job (see its example).
func ExampleHTTPRequest_OnProgress() {
	pack := bytes.Repeat([]byte("level data "), 200_000) // 2.2 MB
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(pack)) // sets Content-Length
	}))
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	n := httprequest.New()
	defer n.Close()
	_ = n.SetDownloadFile(filepath.Join(dir, "level3.pck"))
	calls, last := 0, int64(0)
	n.OnProgress(func(received, decoded int64) {
		calls++
		last = received
		// A game would draw a bar: received * 100 / n.BodySize() percent.
	})
	c, err := n.Do(context.Background(), srv.URL+"/level3.pck", nil, httpclient.MethodGet, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fi, _ := os.Stat(filepath.Join(dir, "level3.pck"))
	fmt.Println(c.Result, c.ResponseCode, "file", fi.Size(), "of", n.BodySize())
	fmt.Println("progress reported:", calls > 1, "last:", last)
	// Output:
	// RESULT_SUCCESS 200 file 2200000 of 2200000
	// progress reported: true last: 2200000
}

// Many requests over one connection: SetKeepAlive keeps the connection
// after a response that allows it (Godot's node closes it after every
// request, the default). Each node is one goroutine's; run one node per
// goroutine for concurrent requests.
func ExampleHTTPRequest_SetKeepAlive() {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	for _, keep := range []bool{false, true} {
		conns.Store(0)
		n := httprequest.New()
		_ = n.SetKeepAlive(keep)
		for range 5 {
			if _, err := n.Do(context.Background(), srv.URL+"/ping", nil, httpclient.MethodGet, nil); err != nil {
				fmt.Println(err)
			}
		}
		n.Close()
		fmt.Printf("keep-alive %v: 5 requests, connections: %d\n", keep, conns.Load())
	}
	// Output:
	// keep-alive false: 5 requests, connections: 5
	// keep-alive true: 5 requests, connections: 1
}
