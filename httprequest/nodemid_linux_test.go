package httprequest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
)

// Calls between frames: TestNodeGodotModel's exchanges with random calls
// on the node and the same on the model after every frame (Godot's game
// code between two NOTIFICATION_INTERNAL_PROCESS, after the deferred
// flush). scene/main/http_request.cpp (4.x):
//
//	void HTTPRequest::set_body_size_limit(int p_bytes) {
//		ERR_FAIL_COND(get_http_client_status() != HTTPClient::STATUS_DISCONNECTED);
//	(the same for set_download_file, set_download_chunk_size — which is
//	client->set_read_chunk_size(p_chunk_size) — and set_use_threads)
//	void HTTPRequest::set_accept_gzip(bool p_gzip) { accept_gzip = p_gzip; }
//	void HTTPRequest::set_max_redirects(int p_max) { max_redirects = p_max; }
//	void HTTPRequest::set_http_proxy(...) { client->set_http_proxy(p_host, p_port); }
//	request_raw: ERR_FAIL_COND_V_MSG(requesting, ERR_BUSY, ...)
//
// accept_gzip is read in _handle_response (the decoder), max_redirects at
// each 3xx, the proxy by the client's connect_to_host and request() (the
// absolute target form), body_size_limit and download_file at the first
// BODY step, the chunk size by every read and the decoder's start (§2.2).
// Each refused setter must be refused by the node too (godot.ErrBusy) and
// each accepted one accepted; the getters must agree after the calls, and
// every later frame and the completion must be the model's.

// midCalls makes 0–2 random calls on n and the same on g; it returns what
// differs ("" when nothing does) and appends each call to log.
func midCalls(r *rand.Rand, n *HTTPRequest, g *godotNode, mc nodeModelCase, port int, file string, log *[]string) string {
	refused := g.c.Status() != httpclient.StatusDisconnected // ERR_FAIL_COND(get_http_client_status() != DISCONNECTED)
	check := func(what string, err error, wantRefused bool) string {
		*log = append(*log, fmt.Sprintf("%s (client %v): %v", what, g.c.Status(), err))
		midTally[fmt.Sprintf("%v/%v", wantRefused, g.done)]++
		switch {
		case wantRefused && godot.CodeOf(err) != godot.ErrBusy:
			return fmt.Sprintf("%s: %v, Godot refuses it (ERR_FAIL_COND on the client's status %v)", what, err, g.c.Status())
		case !wantRefused && err != nil:
			return fmt.Sprintf("%s: %v, Godot accepts it (client %v)", what, err, g.c.Status())
		}
		return ""
	}
	for range r.IntN(3) {
		var msg string
		switch r.IntN(9) {
		case 0:
			v := []int64{-1, 0, 100, 3000}[r.IntN(4)]
			msg = check("set_body_size_limit("+strconv.FormatInt(v, 10)+")", n.SetBodySizeLimit(v), refused)
			if !refused {
				g.limit = v
			}
		case 1:
			v := []int{256, 300, 1000, 65536}[r.IntN(4)]
			msg = check("set_download_chunk_size("+strconv.Itoa(v)+")", n.SetDownloadChunkSize(v), refused)
			if !refused {
				g.chunkSize = v
				_ = g.c.SetReadChunkSize(v)
			}
		case 2:
			cur := ""
			if mc.toFile {
				cur = file
			}
			msg = check("set_download_file(same)", n.SetDownloadFile(cur), refused)
		case 3:
			msg = check("set_use_threads(false)", n.SetUseThreads(false), refused)
		case 4:
			v := r.IntN(2) == 0
			n.SetAcceptGzip(v)
			g.acceptGzip = v
			*log = append(*log, fmt.Sprintf("set_accept_gzip(%v)", v))
		case 5:
			v := []int{-1, 0, 1, 8}[r.IntN(4)]
			msg = check("set_max_redirects("+strconv.Itoa(v)+")", n.SetMaxRedirects(v), false)
			g.maxRedirects = v
		case 6:
			if mc.proxy {
				continue // the URL's host resolves nowhere: the proxy stays
			}
			if r.IntN(2) == 0 {
				n.SetHTTPProxy("127.0.0.1", port)
				g.c.SetHTTPProxy("127.0.0.1", port)
				*log = append(*log, "set_http_proxy(127.0.0.1)")
			} else {
				n.SetHTTPProxy("", -1)
				g.c.SetHTTPProxy("", -1)
				*log = append(*log, "set_http_proxy(\"\", -1)")
			}
		case 7, 8:
			if g.done {
				continue // it would start a request
			}
			msg = check("request()", n.Request(mc.url(port), nil, httpclient.MethodGet, ""), true)
		}
		if msg != "" {
			return msg
		}
	}
	got := nodeFrame{n.HTTPClientStatus(), n.DownloadedBytes(), n.BodySize(), false}
	want := nodeFrame{g.c.Status(), g.downloaded, g.bodyLen, false}
	if got != want {
		return fmt.Sprintf("the getters after the calls: node %+v, model %+v", got, want)
	}
	return ""
}

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
	n := envInt("GDHTTP_MID_N", 60)
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
