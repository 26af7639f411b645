package httprequest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
)

// errNotOK refuses a response that is not a 2xx.
var errNotOK = errors.New("not a 2xx response")

// A body streamed to stdout as it arrives, but only when the response is a
// 2xx: the code comes before the body, where the completion comes after
// it, and an error from the response function ends the request there.
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
	_ = n.SetResponseFunc(func(code int, headers []string) error {
		fmt.Println("response", code, strings.Join(headers, "; "))
		if code < 200 || code > 299 {
			return errNotOK
		}
		return nil
	})
	_ = n.SetBodyWriter(os.Stdout)
	for _, path := range []string{"/level1.json", "/level2.json"} {
		c, err := n.Do(context.Background(), srv.URL+path, nil, httpclient.MethodGet, nil)
		fmt.Println(c.Result, c.ResponseCode, errors.Is(err, errNotOK))
	}
	// Output:
	// response 200 Content-Type: application/json; Content-Length: 12
	// {"level":1}
	// RESULT_SUCCESS 200 false
	// response 404 Content-Type: text/plain; charset=utf-8; X-Content-Type-Options: nosniff; Content-Length: 19
	// RESULT_REQUEST_FAILED 404 true
}
