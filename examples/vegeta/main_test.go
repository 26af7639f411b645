package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestAttack runs a short vegeta attack through gdhttp's Transport against
// a loopback server: every request must succeed and carry Godot's
// User-Agent, and the pool must keep the connections few.
func TestAttack(t *testing.T) {
	var conns, godot, total atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		total.Add(1)
		if strings.HasPrefix(r.UserAgent(), "GodotEngine/") && r.Header.Get("Accept") == "*/*" {
			godot.Add(1)
		}
		gameHandler(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	m, err := attack(srv.URL+"/api/scores", 200, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Requests < 150 {
		t.Errorf("only %d requests were made", m.Requests)
	}
	if m.Success != 1 {
		t.Errorf("success ratio %.3f, errors %v", m.Success, m.Errors)
	}
	if got := godot.Load(); got != total.Load() {
		t.Errorf("%d of %d requests carried Godot's User-Agent and Accept", got, total.Load())
	}
	if c := conns.Load(); c > 64 {
		t.Errorf("%d connections for %d requests: the pool is not reused", c, m.Requests)
	}
	t.Logf("%d requests, %d connections, p50 %v, p99 %v", m.Requests, conns.Load(), m.Latencies.P50, m.Latencies.P99)
}
