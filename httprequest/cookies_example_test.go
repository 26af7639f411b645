package httprequest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
)

// A login that sets a session cookie on its redirect: with a cookie jar the
// node stores it from the 302 and sends it on the next hop and on later
// requests; Godot itself keeps no cookies (the jar is off by default).
func ExampleHTTPRequest_SetCookieJar() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "abc123", Path: "/"})
			http.Redirect(w, r, "/me", http.StatusFound)
		default:
			c, err := r.Cookie("session")
			if err != nil {
				fmt.Fprint(w, "anonymous")
				return
			}
			fmt.Fprint(w, "player with session ", c.Value)
		}
	}))
	defer srv.Close()

	n := httprequest.New()
	defer n.Close()
	jar, _ := cookiejar.New(nil)
	if err := n.SetCookieJar(jar); err != nil {
		fmt.Println(err)
		return
	}
	for _, path := range []string{"/login", "/me"} {
		c, err := n.Do(context.Background(), srv.URL+path, nil, httpclient.MethodGet, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(c.Result, c.ResponseCode, string(c.Body))
	}
	// Output:
	// RESULT_SUCCESS 200 player with session abc123
	// RESULT_SUCCESS 200 player with session abc123
}
