package httpclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gdhttp/gdhttp/httpclient"
)

// Transport under an http.Client: the requests leave with Godot's bytes
// (its User-Agent and Accept, no Accept-Encoding), responses are read with
// Godot's rules, and http.Client's Timeout and the request's context work
// as with net/http's own Transport.
func ExampleTransport() {
	hold := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select { // answers only when the client has gone
			case <-r.Context().Done():
			case <-hold:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"user_agent":      strings.Fields(r.UserAgent())[0], // the OS part differs per machine
			"accept":          r.Header.Get("Accept"),
			"accept_encoding": r.Header.Get("Accept-Encoding"),
		})
	}))
	defer srv.Close()
	defer close(hold)

	tr := &httpclient.Transport{MaxIdleConnsPerHost: 4}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}

	resp, err := client.Get(srv.URL + "/api/scores")
	if err != nil {
		fmt.Println(err)
		return
	}
	var seen map[string]string
	err = json.NewDecoder(resp.Body).Decode(&seen)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, err, seen)

	// A deadline: http.Client.Timeout or the request's context, the same way.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow", nil)
	_, err = client.Do(req)
	fmt.Println("slow:", errors.Is(err, context.DeadlineExceeded))
	// Output:
	// 200 <nil> map[accept:*/* accept_encoding: user_agent:GodotEngine/4.5.1.stable.official]
	// slow: true
}
