package httprequest

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// Audit against Godot 4's http_request.cpp (_update_connection, STATUS_BODY)
// and http_client_tcp.cpp (read_response_body_chunk): one non-threaded frame
// reads one chunk of min(body_left, download_chunk_size) bytes — in
// non-blocking mode a recv(2) that returns what the socket holds — so when
// the body has already arrived, the first BODY frame's get_downloaded_bytes()
// is exactly download_chunk_size (§2.6.1.3, §1.10.1.1–2, §2.14).

// auditSettle is the pause that stands for the wait on the client's socket
// where it cannot be looked at (drive.AwaitTCP, not Linux): the body's
// bytes in it show no sign short of reading, what the frame under test does.
const auditSettle = 30 * time.Millisecond

// §2.6.1.3, §2.9.7: the first BODY frame reads download_chunk_size bytes when
// that many have arrived; each later frame another download_chunk_size.
func TestAuditFirstBodyFrameReadsChunkSize(t *testing.T) {
	const size = 200000
	resp := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(size) + "\r\n\r\n" + strings.Repeat("x", size)
	srv := serve(t, testserver.Respond(resp))
	n := New()
	t.Cleanup(n.Close)
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	processUntil(t, n, httpclient.StatusBody)
	var got []int64
	for range 2 {
		require.True(t, drive.AwaitTCP(srv.Port(), maxWait, auditSettle, drive.UnreadAtLeast(srv.Port(), 65536)),
			"a chunk arrived in the client's socket")
		n.Process()
		got = append(got, n.DownloadedBytes())
	}
	assert.Equal(t, []int64{65536, 131072}, got, "get_downloaded_bytes() after each BODY frame")
}

// §2.13, §1.15.2, §1.10.1.2: with use_threads the client is in blocking mode
// and Godot's read_response_body_chunk() blocks until min(body_left,
// download_chunk_size) bytes arrived (_get_http_data loops until p_bytes are
// received), so get_downloaded_bytes() of a fixed-length body only ever shows
// multiples of download_chunk_size, then the length.
func TestAuditThreadsReadFillsChunkSize(t *testing.T) {
	const size = 1000
	var steps []testserver.Step
	steps = append(steps, testserver.Read(),
		testserver.WriteString("HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(size)+"\r\n\r\n"))
	for range size / 100 {
		steps = append(steps, testserver.Sleep(15*time.Millisecond), testserver.WriteString(strings.Repeat("y", 100)))
	}
	srv := serve(t, testserver.Script(append(steps, testserver.Hold())...))
	n := New()
	t.Cleanup(n.Close)
	require.NoError(t, n.SetDownloadChunkSize(256))
	require.NoError(t, n.SetUseThreads(true))
	var done bool
	n.OnRequestCompleted(func(res Result, _ int, _ []string, body []byte) {
		done = true
		assert.Equal(t, ResultSuccess, res)
		assert.Len(t, body, size)
	})
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	seen := map[int64]bool{}
	frame := drive.ProcessFunc(func() {
		seen[n.DownloadedBytes()] = true
		n.Process()
	})
	nodes.ProcessUntil(t, frame, func() bool { return done }, func() string { return "no completion" })
	for v := range seen {
		assert.True(t, v == 0 || v == size || v%256 == 0, "get_downloaded_bytes() = %d: not a multiple of download_chunk_size", v)
	}
}
