package httprequest

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
)

// Calls between frames where the Process differential
// (TestNodeGodotModelMid) does not go: a request whose connection could
// not start (its completion queued, the client DISCONNECTED), and
// use_threads, where Process only delivers. Godot (http_request.cpp, 4.x):
// request_raw refuses with ERR_BUSY while `requesting` (true until the
// deferred _request_done has run, §2.4.2); set_body_size_limit,
// set_download_chunk_size, set_download_file and set_use_threads refuse
// while get_http_client_status() != STATUS_DISCONNECTED (§2.2).

// midRefused reports which of the four status-checked setters the node
// refused, each set to its current value.
func midRefused(t *testing.T, n *HTTPRequest) []bool {
	t.Helper()
	var out []bool
	for _, err := range []error{
		n.SetBodySizeLimit(n.BodySizeLimit()),
		n.SetDownloadChunkSize(n.DownloadChunkSize()),
		n.SetDownloadFile(n.DownloadFile()),
		n.SetUseThreads(n.IsUsingThreads()),
	} {
		if err != nil {
			require.Equal(t, godot.ErrBusy, godot.CodeOf(err), "%v", err)
		}
		out = append(out, err != nil)
	}
	return out
}

// TestNodeMidCantConnectWindow: request() whose connect_to_host fails
// returns ERR_CANT_CONNECT and queues RESULT_CANT_CONNECT (§2.4.8); until
// the flush, requesting is true (ERR_BUSY) and the client DISCONNECTED (the
// setters accept; what they set holds for the next request). A request()
// from that completion's callback that fails the same way is delivered in
// the same flush (CallQueue::flush runs the calls queued while it runs).
func TestNodeMidCantConnectWindow(t *testing.T) {
	n := newNode(t)
	var got []Result
	again := true
	n.OnRequestCompleted(func(res Result, _ int, _ []string, _ []byte) {
		got = append(got, res)
		if again {
			again = false
			require.Equal(t, godot.ErrCantConnect, godot.CodeOf(n.Request("http://[::1]:8080/", nil, httpclient.MethodGet, "")))
		}
	})
	require.Equal(t, godot.ErrCantConnect, godot.CodeOf(n.Request("http://[::1]:8080/", nil, httpclient.MethodGet, "")))
	require.Equal(t, httpclient.StatusDisconnected, n.HTTPClientStatus())
	require.Equal(t, []bool{false, false, false, false}, midRefused(t, n))
	require.NoError(t, n.SetBodySizeLimit(7))
	require.NoError(t, n.SetDownloadChunkSize(300))
	require.Equal(t, godot.ErrBusy, godot.CodeOf(n.Request("http://127.0.0.1:1/", nil, httpclient.MethodGet, "")))
	require.Equal(t, int64(-1), n.BodySize())
	require.Equal(t, int64(0), n.DownloadedBytes())
	n.Process()
	require.Equal(t, []Result{ResultCantConnect, ResultCantConnect}, got)
	require.Equal(t, int64(7), n.BodySizeLimit())
	require.Equal(t, 300, n.DownloadChunkSize())
	n.Process()
	require.Len(t, got, 2)
}

// awaitStatus waits, without calling Process, until the node's client
// shows s (the use_threads worker moves it).
func awaitStatus(t *testing.T, n *HTTPRequest, s httpclient.Status) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for n.HTTPClientStatus() != s {
		require.True(t, time.Now().Before(deadline), "status %v not reached (at %v)", s, n.HTTPClientStatus())
		time.Sleep(time.Millisecond)
	}
}

// TestNodeMidThreads: with use_threads, between the owner's Process calls.
// While the worker waits for the response (REQUESTING) and after it ended
// on a complete fixed-length body (read_response_body_chunk leaves the
// client CONNECTED; the completion queued, the client closed only by
// _request_done's cancel_request on the main thread) the setters are
// refused and request() is ERR_BUSY; after a read-until-close body the
// client is DISCONNECTED while the completion is queued: the setters
// accept, request() is still ERR_BUSY. The getters show the worker's
// counters before the delivery.
func TestNodeMidThreads(t *testing.T) {
	for _, tc := range []struct {
		name   string
		resp   string
		after  httpclient.Status
		closes bool
	}{
		{"fixed", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", httpclient.StatusConnected, false},
		{"until-close", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc", httpclient.StatusDisconnected, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			ln := drive.Serve(t, func(conn net.Conn) {
				_ = conn.SetDeadline(time.Now().Add(maxWait))
				if _, err := readRequest(conn); err != nil {
					return
				}
				<-release
				_, _ = conn.Write([]byte(tc.resp))
				if tc.closes {
					_ = conn.(*net.TCPConn).CloseWrite()
				}
				buf := make([]byte, 64)
				_, _ = conn.Read(buf)
			})
			n := newNode(t)
			var got []Completion
			n.OnRequestCompleted(func(res Result, code int, h []string, b []byte) {
				got = append(got, Completion{res, code, h, b})
			})
			require.NoError(t, n.SetUseThreads(true))
			url := urlFor("127.0.0.1", drive.Port(ln), "/")
			require.NoError(t, n.Request(url, nil, httpclient.MethodGet, ""))
			awaitStatus(t, n, httpclient.StatusRequesting)
			n.Process()
			require.Equal(t, []bool{true, true, true, true}, midRefused(t, n), "while REQUESTING")
			require.Equal(t, godot.ErrBusy, godot.CodeOf(n.Request(url, nil, httpclient.MethodGet, "")))
			close(release)
			awaitStatus(t, n, tc.after)
			time.Sleep(20 * time.Millisecond) // the worker's last step has been stored
			want := []bool{true, true, true, true}
			if tc.after == httpclient.StatusDisconnected {
				want = []bool{false, false, false, false}
			}
			require.Equal(t, want, midRefused(t, n), "completion queued, client %v", tc.after)
			require.Equal(t, godot.ErrBusy, godot.CodeOf(n.Request(url, nil, httpclient.MethodGet, "")))
			require.Equal(t, int64(3), n.DownloadedBytes())
			require.Empty(t, got)
			n.Process()
			require.Len(t, got, 1)
			require.Equal(t, ResultSuccess, got[0].Result)
			require.Equal(t, "abc", string(got[0].Body))
			require.Equal(t, httpclient.StatusDisconnected, n.HTTPClientStatus())
			require.Equal(t, []bool{false, false, false, false}, midRefused(t, n))
		})
	}
}

// TestNodeMidSwitchDriverInCallback: in the completion's callback the
// client is closed (_request_done runs cancel_request first), so
// set_use_threads is accepted there and the request() made after it runs
// with the new setting: Process-driven → worker and back.
func TestNodeMidSwitchDriverInCallback(t *testing.T) {
	ln := drive.Serve(t, func(conn net.Conn) {
		_ = conn.SetDeadline(time.Now().Add(maxWait))
		if _, err := readRequest(conn); err != nil {
			return
		}
		_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		_, _ = io.Copy(io.Discard, conn)
	})
	url := urlFor("127.0.0.1", drive.Port(ln), "/")
	n := newNode(t)
	var got []Result
	var threaded []bool
	n.OnRequestCompleted(func(res Result, _ int, _ []string, _ []byte) {
		got = append(got, res)
		if len(got) < 3 {
			require.NoError(t, n.SetUseThreads(!n.IsUsingThreads()))
			require.NoError(t, n.Request(url, nil, httpclient.MethodGet, ""))
			n.mu.Lock()
			threaded = append(threaded, n.active.driver == driverThreads)
			n.mu.Unlock()
		}
	})
	require.NoError(t, n.Request(url, nil, httpclient.MethodGet, ""))
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < 3 && time.Now().Before(deadline) {
		n.Process()
		time.Sleep(time.Millisecond)
	}
	require.Equal(t, []Result{ResultSuccess, ResultSuccess, ResultSuccess}, got)
	require.Equal(t, []bool{true, false}, threaded)
}
