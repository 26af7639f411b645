package integration

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/peers"
)

// uploadBody is a request body far larger than a socket buffer, so that a
// non-blocking client must write it over many polls (§1.6.4.1).
func uploadBody(size int) string {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte(' ')
	}
	return b.String()[:size]
}

// TestClientUpload: a 2 MiB body POSTed to httpbin arrives whole (httpbin
// echoes it), in non-blocking mode written as the socket accepts it and in
// blocking mode at once (§1.6.4.1), with Content-Length the byte length
// (§1.7.10). nginx refuses an 8 MiB body (client_max_body_size) with 413 and
// "Connection: close"; since Godot reads the response only after the whole
// request was written (§1.6.4.2) and nginx drains the rest (lingering close),
// the client sees the 413 as an ordinary response, CONNECTED after its body
// (§1.10.3), and CONNECTION_ERROR once nginx closes (§1.6.3.3).
func TestClientUpload(t *testing.T) {
	bin := peers.HTTPBin(t)
	nginx := peers.Nginx(t)
	bh, bp := splitAddr(t, bin)
	nh, np := splitAddr(t, nginx)
	body := uploadBody(2 << 20)
	big := uploadBody(8 << 20)
	for _, m := range modes {
		t.Run("httpbin/"+m.name, func(t *testing.T) {
			r := newClientRun(t, m.blocking)
			require.NoError(t, r.connect(bh, bp, nil))
			resp := r.request(httpclient.MethodPost, "/anything", []string{"Content-Type: text/plain"}, body, viaChunks)
			require.Equal(t, 200, resp.Code)
			echo := jsonBody(t, resp.Body)
			assert.Equal(t, drive.SHA256([]byte(body)), drive.SHA256([]byte(echo["data"].(string))), "the body arrived whole")
			h, _ := echo["headers"].(map[string]any)
			assert.Equal(t, strconv.Itoa(len(body)), h["Content-Length"])
			assert.Equal(t, concat(toConnected, bodyThenOK), r.trace)
		})
		t.Run("nginx-413/"+m.name, func(t *testing.T) {
			r := newClientRun(t, m.blocking)
			require.NoError(t, r.connect(nh, np, nil))
			resp := r.request(httpclient.MethodPost, "/method", nil, big, viaChunks)
			assert.Equal(t, 413, resp.Code)
			assert.True(t, hasHeader(resp.Headers, "Connection: close"), "%q", resp.Headers)
			assert.Contains(t, string(resp.Body), "413 Request Entity Too Large")
			r.pollUntilChange(10 * time.Second)
			assert.Equal(t, concat(toConnected, bodyThenOK, statuses(httpclient.StatusConnectionError)), r.trace)
		})
	}
}

// TestRequestUpload: the same 2 MiB body through the node, three drivers
// (§2.4.10: the body is sent with Content-Length), and the 413 as a success
// with its code (§2.10).
func TestRequestUpload(t *testing.T) {
	bin := peers.HTTPBin(t)
	nginx := peers.Nginx(t)
	fs := nginxFiles(t)
	body := uploadBody(2 << 20)
	cases := []nodeCase{
		{name: "httpbin", method: httpclient.MethodPut, url: "http://" + bin + "/anything", headers: []string{"Content-Type: text/plain"}, body: body,
			want: want{result: httprequest.ResultSuccess, code: 200},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				echo := jsonBody(t, o.C.Body)
				assert.Equal(t, drive.SHA256([]byte(body)), drive.SHA256([]byte(echo["data"].(string))), "the body arrived whole")
				assert.Equal(t, "PUT", echo["method"])
			}},
		{name: "nginx-413", method: httpclient.MethodPost, url: "http://" + nginx + "/method", body: uploadBody(8 << 20),
			want: want{result: httprequest.ResultSuccess, code: 413, headers: []string{"Connection: close"}},
			check: func(t *testing.T, o outcome, _ *httprequest.HTTPRequest) {
				assert.Contains(t, string(o.C.Body), "413 Request Entity Too Large")
			}},
	}
	runNodeCases(t, fs, cases)
}

// TestRequestConnections counts the TCP connections the node opens, through a
// relay: Godot's node uses a fresh connection for every request and every
// redirect hop (§2.1.4); the opt-in SetKeepAlive (§7.2) reuses nginx's
// persistent connection across requests (redirect hops excepted), opens a new
// one after "Connection: close", and notices that tinyproxy closed the connection after
// each response (the next request goes out on a new connection and succeeds).
func TestRequestConnections(t *testing.T) {
	nginx := peers.Nginx(t)
	proxy := peers.Proxy(t)
	fs := nginxFiles(t)
	paths := []string{"/static/1k.bin", "/chunked/1m.bin", "/static/text.txt", "/redirect/relative?to=/static/1k.bin", "/close/1k.bin", "/static/1k.bin"}
	files := []string{"1k.bin", "1m.bin", "text.txt", "1k.bin", "1k.bin", "1k.bin"}
	cases := []struct {
		name      string
		keepAlive bool
		proxied   bool
		conns     int
	}{
		// Six requests and one redirect hop: seven connections.
		{"§2.1.4 fresh connections", false, false, 7},
		// The first three requests and the 302 share one; the hop opens a
		// second (hops always do), kept for /close/; after its
		// "Connection: close" the last request opens a third.
		{"§7.2 keep-alive", true, false, 3},
		// tinyproxy closes after each response: seven again, all successful.
		{"§7.2 keep-alive, tinyproxy closes", true, true, 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachDriver(t, nil, func(t *testing.T, d driver, n *httprequest.HTTPRequest) {
				target := nginx
				var tp *tap
				if tc.proxied {
					tp = newTap(t, proxy)
					h, p := splitAddr(t, tp.addr)
					n.SetHTTPProxy(h, p)
				} else {
					tp = newTap(t, nginx)
					target = tp.addr
				}
				require.NoError(t, n.SetKeepAlive(tc.keepAlive))
				for i, p := range paths {
					o := d.run(t, n, "http://"+target+p, nil, httpclient.MethodGet, nil)
					checkOutcome(t, want{result: httprequest.ResultSuccess, code: 200}, o)
					assert.Equal(t, fs.sum(t, files[i]), drive.SHA256(o.C.Body), "%s: body", p)
				}
				assert.Equal(t, tc.conns, tp.accepted(), "TCP connections opened")
			})
		})
	}
}

// TestClientSlowBody: httpbin's /drip sends a 5-byte Content-Length body one
// byte every 100 ms. A non-blocking read returns whatever has arrived, so
// the body comes in several pieces; a blocking read waits until its target —
// min(body left, read_chunk_size) — is met, so the body comes in one piece
// (§1.10.1.1, §1.10.1.2).
func TestClientSlowBody(t *testing.T) {
	bin := peers.HTTPBin(t)
	host, port := splitAddr(t, bin)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newClientRun(t, m.blocking)
			require.NoError(t, r.connect(host, port, nil))
			resp := r.request(httpclient.MethodGet, "/drip?numbytes=5&duration=0.5&delay=0", nil, "", viaChunks)
			assert.Equal(t, 200, resp.Code)
			assert.Equal(t, "*****", string(resp.Body))
			if m.blocking {
				assert.Equal(t, []int{5}, resp.Pieces, "§1.10.1.2 a blocking read fills its target")
			} else {
				assert.Greater(t, len(resp.Pieces), 1, "§1.10.1.2 a non-blocking read returns what has arrived: %v", resp.Pieces)
			}
			assert.Equal(t, concat(toConnected, bodyThenOK), r.trace)
		})
	}
}

// TestCancelAgainstSlowPeer: nginx's /slow/ sends 1 MiB at 128 KiB/s. A
// blocking read waiting for it returns promptly when another goroutine calls
// Abort — CONNECTION_ERROR with ErrAborted (§7 D1; Godot's blocking read has
// no cancellation point, §1.15.2) — and CancelRequest on a use_threads node
// joins its worker at once and no completion ever comes (§2.12, §7 D1/D3;
// Godot's cancel_request waits for the blocked read, §4 #7).
func TestCancelAgainstSlowPeer(t *testing.T) {
	nginx := peers.Nginx(t)
	host, port := splitAddr(t, nginx)
	const after = 300 * time.Millisecond
	t.Run("client-abort", func(t *testing.T) {
		r := newClientRun(t, true)
		require.NoError(t, r.connect(host, port, nil))
		require.NoError(t, r.c.SetReadChunkSize(1<<20))
		require.NoError(t, r.c.Request(httpclient.MethodGet, "/slow/1m.bin", nil, ""))
		require.NoError(t, r.c.Poll())
		require.Equal(t, httpclient.StatusBody, r.c.Status())
		timer := time.AfterFunc(after, r.c.Abort)
		defer timer.Stop()
		start := time.Now()
		got := 0
		for r.c.Status() == httpclient.StatusBody && time.Since(start) < 10*time.Second {
			got += len(r.c.ReadResponseBodyChunk()) // blocks for the whole 1 MiB target
		}
		elapsed := time.Since(start)
		assert.Equal(t, httpclient.StatusConnectionError, r.c.Status())
		assert.ErrorIs(t, r.c.LastError(), httpclient.ErrAborted)
		assert.Less(t, got, 1<<20, "the body was not complete")
		assert.Less(t, elapsed, after+2*time.Second, "the blocked read returned promptly")
	})
	t.Run("node-cancel-threads", func(t *testing.T) {
		n := httprequest.New()
		defer n.Close()
		require.NoError(t, n.SetUseThreads(true))
		completions := 0
		n.OnRequestCompleted(func(httprequest.Result, int, []string, []byte) { completions++ })
		require.NoError(t, n.Request("http://"+nginx+"/slow/1m.bin", nil, httpclient.MethodGet, ""))
		deadline := time.Now().Add(after)
		for time.Now().Before(deadline) {
			n.Process()
			time.Sleep(frame) // the scenario: frames while the worker downloads
		}
		require.Positive(t, n.DownloadedBytes(), "the body had started")
		start := time.Now()
		n.CancelRequest()
		assert.Less(t, time.Since(start), 2*time.Second, "cancel joined the worker promptly")
		assert.Equal(t, httpclient.StatusDisconnected, n.HTTPClientStatus())
		for range 5 {
			n.Process()
		}
		assert.Zero(t, completions, "§2.12.3 no completion for a canceled request")
		require.NoError(t, n.Request("http://"+nginx+"/static/1k.bin", nil, httpclient.MethodGet, ""), "the node is free again")
		_, _ = drive.Await(n, frame, driveTimeout, func() bool { return completions > 0 })
		assert.Equal(t, 1, completions)
	})
}
