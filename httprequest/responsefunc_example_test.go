package httprequest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
)

// statusGate passes the body on only for a 2xx response: the response
// function tells it the code before the first byte.
type statusGate struct {
	w  io.Writer
	ok bool
}

func (g *statusGate) response(code int, headers []string) {
	g.ok = code >= 200 && code < 300
	fmt.Println("response", code, headers)
}

func (g *statusGate) Write(p []byte) (int, error) {
	if !g.ok {
		return len(p), nil // an error page: read and dropped
	}
	return g.w.Write(p)
}

// A body streamed to stdout as it arrives, but only when the response is a
// 2xx: the code comes before the body, where the completion comes after it.
func ExampleHTTPRequest_SetResponseFunc() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil
		if r.URL.Path != "/level1.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"level":1}`+"\n")
	}))
	defer srv.Close()

	n := httprequest.New()
	defer n.Close()
	gate := &statusGate{w: os.Stdout}
	_ = n.SetResponseFunc(gate.response)
	_ = n.SetBodyWriter(gate)
	for _, path := range []string{"/level1.json", "/level2.json"} {
		c, err := n.Do(context.Background(), srv.URL+path, nil, httpclient.MethodGet, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(c.Result, c.ResponseCode, strings.Join(c.Headers, "; "))
	}
	// Output:
	// response 200 [Content-Type: application/json Content-Length: 12]
	// {"level":1}
	// RESULT_SUCCESS 200 Content-Type: application/json; Content-Length: 12
	// response 404 [Content-Type: text/plain; charset=utf-8 X-Content-Type-Options: nosniff Content-Length: 19]
	// RESULT_SUCCESS 404 Content-Type: text/plain; charset=utf-8; X-Content-Type-Options: nosniff; Content-Length: 19
}
