package httprequest

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
)

// Calls between frames: TestNodeGodotModel's exchanges with random calls
// on the node and the same on the model after every frame (Godot's game
// code between two NOTIFICATION_INTERNAL_PROCESS, after the deferred
// flush). In scene/main/http_request.cpp (4.x), set_body_size_limit,
// set_download_file, set_download_chunk_size (which sets the client's read
// chunk size) and set_use_threads are refused unless the client is
// DISCONNECTED; set_accept_gzip, set_max_redirects and set_http_proxy (the
// client's) always take; request_raw refuses with ERR_BUSY while a request
// is active.
//
// accept_gzip is read in _handle_response (the decoder), max_redirects at
// each 3xx, the proxy by the client's connect_to_host and request() (the
// absolute target form), body_size_limit and download_file at the first
// BODY step, the chunk size by every read and the decoder's start (§2.2).
// Each refused setter must be refused by the node too (godot.ErrBusy) and
// each accepted one accepted; the getters must agree after the calls, and
// every later frame and the completion must be the model's.

// midAction is one call made on the node and on the model.
type midAction struct {
	name      string
	node      func(n *HTTPRequest) error
	model     func(g *godotNode) // run only when Godot accepts the call
	refusable bool               // ERR_FAIL_COND(get_http_client_status() != DISCONNECTED)
	busy      bool               // request(): ERR_BUSY while requesting
	// request() with a URL parse_url rejects: ERR_BUSY while requesting,
	// else ERR_INVALID_PARAMETER with body_len −1 and downloaded 0.
	invalidURL bool
	nodeErr    error
}

// genMidActions returns 0–2 random calls (between requests, with
// between, 1–3 and request() left out: the game's next request follows).
func genMidActions(r *rand.Rand, mc nodeModelCase, port int, file string, between bool) []midAction {
	var out []midAction
	k := r.IntN(3)
	if between {
		k++
	}
	for range k {
		var a midAction
		switch r.IntN(9) {
		case 0:
			v := []int64{-1, 0, 100, 3000}[r.IntN(4)]
			a = midAction{name: "set_body_size_limit(" + strconv.FormatInt(v, 10) + ")", refusable: true,
				node: func(n *HTTPRequest) error { return n.SetBodySizeLimit(v) }, model: func(g *godotNode) { g.limit = v }}
		case 1:
			v := []int{256, 300, 1000, 65536}[r.IntN(4)]
			a = midAction{name: "set_download_chunk_size(" + strconv.Itoa(v) + ")", refusable: true,
				node:  func(n *HTTPRequest) error { return n.SetDownloadChunkSize(v) },
				model: func(g *godotNode) { g.chunkSize = v; _ = g.c.SetReadChunkSize(v) }}
		case 2:
			on := r.IntN(2) == 0
			path := ""
			if on {
				path = file
			}
			a = midAction{name: fmt.Sprintf("set_download_file(%q)", path), refusable: true,
				node:  func(n *HTTPRequest) error { return n.SetDownloadFile(path) },
				model: func(g *godotNode) { g.toFile, g.cantOpen = on, on && mc.cantOpen }}
		case 3:
			a = midAction{name: "set_use_threads(false)", refusable: true,
				node: func(n *HTTPRequest) error { return n.SetUseThreads(false) }, model: func(*godotNode) {}}
		case 4:
			v := r.IntN(2) == 0
			a = midAction{name: fmt.Sprintf("set_accept_gzip(%v)", v),
				node: func(n *HTTPRequest) error { n.SetAcceptGzip(v); return nil }, model: func(g *godotNode) { g.acceptGzip = v }}
		case 5:
			v := []int{-1, 0, 1, 8}[r.IntN(4)]
			a = midAction{name: "set_max_redirects(" + strconv.Itoa(v) + ")",
				node: func(n *HTTPRequest) error { return n.SetMaxRedirects(v) }, model: func(g *godotNode) { g.maxRedirects = v }}
		case 6:
			host, p := "127.0.0.1", port
			if r.IntN(2) == 0 {
				host, p = "", -1
			}
			if mc.proxy && (host == "" && (len(mc.hops) > 1 || mc.restart > 0 || between)) {
				// The URL's host resolves nowhere: a connection to it
				// (a redirect, a second request) resolves for a time
				// that differs between the sides. Only the request's
				// target form may change (no hop after it).
				continue
			}
			a = midAction{name: fmt.Sprintf("set_http_proxy(%q, %d)", host, p),
				node:  func(n *HTTPRequest) error { n.SetHTTPProxy(host, p); return nil },
				model: func(g *godotNode) { g.c.SetHTTPProxy(host, p) }}
		case 7:
			// A URL parse_url rejects: _parse_url has reset body_len and
			// downloaded (§2.5.1) — only once the busy test passed.
			a = midAction{name: "request(\"http://:80/\")", invalidURL: true,
				node: func(n *HTTPRequest) error { return n.Request("http://:80/", nil, httpclient.MethodGet, "") }}
		default:
			if between {
				continue
			}
			a = midAction{name: "request()", busy: true,
				node: func(n *HTTPRequest) error { return n.Request(mc.url(port), nil, httpclient.MethodGet, "") }}
		}
		out = append(out, a)
	}
	return out
}

// applyMidActions checks the node's results of actions against Godot's
// and applies the accepted ones to g.
func applyMidActions(actions []midAction, g *godotNode, log *[]string) string {
	for _, a := range actions {
		*log = append(*log, fmt.Sprintf("%s (client %v): %v", a.name, g.c.Status(), a.nodeErr))
		refused := (a.refusable && g.c.Status() != httpclient.StatusDisconnected) || (a.busy && !g.done)
		if a.busy && g.done {
			return "harness: request() on an idle node"
		}
		midTally[fmt.Sprintf("%v/%v", refused, g.done)]++
		if a.invalidURL {
			if !g.done {
				refused = true
			} else if godot.CodeOf(a.nodeErr) != godot.ErrInvalidParameter {
				return fmt.Sprintf("%s: %v, Godot returns ERR_INVALID_PARAMETER", a.name, a.nodeErr)
			} else {
				g.bodyLen, g.downloaded = -1, 0
				continue
			}
		}
		switch {
		case refused && godot.CodeOf(a.nodeErr) != godot.ErrBusy:
			return fmt.Sprintf("%s: %v, Godot refuses it (client %v, requesting %v)", a.name, a.nodeErr, g.c.Status(), !g.done)
		case !refused && a.nodeErr != nil:
			return fmt.Sprintf("%s: %v, Godot accepts it (client %v)", a.name, a.nodeErr, g.c.Status())
		}
		if !refused && a.model != nil {
			a.model(g)
		}
	}
	return ""
}

// midCalls makes 0–2 random calls on n and the same on g (between two
// frames); it returns what differs ("" when nothing does) and appends
// each call to log.
func midCalls(r *rand.Rand, n *HTTPRequest, g *godotNode, mc nodeModelCase, port int, file string, log *[]string) string {
	actions := genMidActions(r, mc, port, file, false)
	for i := range actions {
		if actions[i].busy && g.done {
			continue
		}
		actions[i].nodeErr = actions[i].node(n)
	}
	actions = slices.DeleteFunc(actions, func(a midAction) bool { return a.busy && g.done })
	if msg := applyMidActions(actions, g, log); msg != "" {
		return msg
	}
	got := nodeFrame{n.HTTPClientStatus(), n.DownloadedBytes(), n.BodySize(), false}
	want := nodeFrame{g.c.Status(), g.downloaded, g.bodyLen, false}
	if got != want {
		return fmt.Sprintf("the getters after the calls: node %+v, model %+v", got, want)
	}
	return ""
}

// midTally counts the status-checked calls by (Godot refuses, the request
// has ended), logged by TestNodeGodotModelMid: what the run exercised.
var midTally = map[string]int{}

// TestNodeGodotModelMid is TestNodeGodotModel with calls between frames
// (GDHTTP_MID_N cases, GDHTTP_MODEL_SEED).
func TestNodeGodotModelMid(t *testing.T) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	conns := make(chan sideConn, 8)
	go acceptSides(ln, conns)
	port := ln.Addr().(*net.TCPAddr).Port
	seed, _ := nodeModelRuns(7, 0)
	n := drive.EnvInt("GDHTTP_MID_N", 150)
	r := rand.New(rand.NewPCG(seed, 11))
	for i := range n {
		mc := genNodeModelCase(t, r, port)
		mc.id, mc.mid = 100000+i, true
		if r.IntN(5) == 0 {
			mc.cancelAt = 1 + r.IntN(20)
		}
		switch r.IntN(4) {
		case 0:
			if mc.cancelAt > 0 {
				mc.restart = 1
			}
		case 1:
			mc.restart = 2
		}
		t.Run(strconv.Itoa(i), func(t *testing.T) { runNodeModelCase(t, port, conns, mc, uint64(i), optinSet{}) })
	}
	t.Logf("refused/done: %v", midTally)
}

// TestNodeGodotModelThreadsMid: use_threads, between the worker's end and
// the owner's Process that delivers (Godot: the completion queued by
// _defer_done, the client left as _update_connection left it until
// _request_done's cancel_request on the main thread). The model runs as
// Godot's _thread_func (runBlockingModel); then the node's getters must
// show the model's client status and counters, the four status-checked
// setters must be refused exactly when that status is not DISCONNECTED,
// request() must be ERR_BUSY, and the Process after must deliver the
// model's completion, the setters accepted from then on
// (GDHTTP_MID_THREADS_N cases).
func TestNodeGodotModelThreadsMid(t *testing.T) {
	var (
		mu   sync.Mutex
		hops []nodeHop
		next int
	)
	ln := drive.Serve(t, func(conn net.Conn) {
		_ = conn.SetDeadline(time.Now().Add(maxWait))
		if _, err := readRequest(conn); err != nil {
			return
		}
		mu.Lock()
		i, cur := next, hops
		next++
		mu.Unlock()
		if i >= len(cur) {
			return
		}
		for _, piece := range cur[i].pieces() {
			_, _ = conn.Write(piece)
		}
		_ = conn.(*net.TCPConn).CloseWrite()
		_, _ = io.Copy(io.Discard, conn)
	})
	port := drive.Port(ln)
	// hold reads a request and answers nothing: the worker waits in a read.
	hold := drive.Serve(t, func(conn net.Conn) {
		_ = conn.SetDeadline(time.Now().Add(maxWait))
		_, _ = io.Copy(io.Discard, conn)
	})
	serve := func(mc nodeModelCase) {
		mu.Lock()
		hops, next = mc.hops, 0
		mu.Unlock()
	}
	seed, _ := nodeModelRuns(7, 0)
	cases := drive.EnvInt("GDHTTP_MID_THREADS_N", 100)
	r := rand.New(rand.NewPCG(seed, 12))
	for i := range cases {
		mc := genNodeModelCase(t, r, port)
		for k := range mc.hops {
			mc.hops[k].end = endFIN
		}
		if last := mc.hops[len(mc.hops)-1].resp; mc.method == httpclient.MethodHead && strings.Contains(strings.ToLower(last), "transfer-encoding: chunked") {
			continue // a race in Godot's blocking loop too (TestNodeGodotModelBlocking)
		}
		// 0: one request; 1: first a request to a server that never
		// answers, canceled, and this one started in the same frame; 2:
		// this one again from its completion's callback.
		mode := r.IntN(3)
		if mode == 1 && mc.proxy {
			mode = 0 // the proxy (the case's server) would answer the first request
		}
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			serve(mc)
			g := runBlockingModel(t, port, mc)
			serve(mc)
			n, _ := caseNode(t, port, mc)
			var got []Completion
			n.OnRequestCompleted(func(res Result, code int, h []string, b []byte) {
				got = append(got, Completion{res, code, h, b})
				if mode == 2 && len(got) == 1 {
					serve(mc)
					if err := n.Request(mc.url(port), mc.headers, mc.method, mc.body); err != nil {
						t.Errorf("request() from the callback: %v", err)
					}
				}
			})
			require.NoError(t, n.SetUseThreads(true))
			if mode == 1 {
				require.NoError(t, n.Request(urlFor("127.0.0.1", drive.Port(hold), "/"), nil, httpclient.MethodGet, ""))
				if r.IntN(2) == 0 {
					awaitStatus(t, n, httpclient.StatusRequesting)
				}
				n.CancelRequest()
			}
			require.NoError(t, n.Request(mc.url(port), mc.headers, mc.method, mc.body))
			fail := func(format string, args ...any) {
				t.Helper()
				t.Fatalf("mode %d: %s\ncase: %v\nmodel: %+v, client %v, downloaded %d, body size %d", mode, fmt.Sprintf(format, args...), mc, g.got, g.endStatus, g.downloaded, g.bodyLen)
			}
			for pass := 0; ; pass++ {
				n.mu.Lock()
				run := n.active
				n.mu.Unlock()
				select {
				case <-run.workerDone:
				case <-time.After(maxWait):
					t.Fatal("the worker did not end")
				}
				if s := n.HTTPClientStatus(); s != g.endStatus {
					fail("the worker ended with the client %v", s)
				}
				if n.DownloadedBytes() != g.downloaded || n.BodySize() != g.bodyLen {
					fail("before the delivery: downloaded %d, body size %d", n.DownloadedBytes(), n.BodySize())
				}
				refused := g.endStatus != httpclient.StatusDisconnected
				if want, have := []bool{refused, refused, refused, refused}, midRefused(t, n); !slices.Equal(want, have) {
					fail("setters refused %v, Godot %v", have, want)
				}
				if err := n.Request(mc.url(port), nil, httpclient.MethodGet, ""); godot.CodeOf(err) != godot.ErrBusy {
					fail("request() before the delivery: %v, Godot ERR_BUSY", err)
				}
				if len(got) != pass {
					fail("a completion before Process")
				}
				n.Process()
				if mode == 2 && pass == 0 && len(got) == 2 && completionEqual(got[1], g.got) {
					// The callback's worker ended while the flush ran: its
					// completion came in the same flush (as a call_deferred
					// from Godot's worker can). Its window was not seen.
					got = got[:1]
				}
				if len(got) != pass+1 || !completionEqual(got[pass], g.got) {
					fail("completions %+v", got)
				}
				if mode == 2 && pass == 0 && n.busy() {
					continue // the callback's request
				}
				break
			}
			if s := n.HTTPClientStatus(); s != httpclient.StatusDisconnected {
				fail("after the delivery the client is %v", s)
			}
			if have := midRefused(t, n); slices.Contains(have, true) {
				fail("setters refused after the delivery: %v", have)
			}
		})
	}
}
