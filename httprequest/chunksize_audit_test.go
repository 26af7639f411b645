package httprequest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// Audit against Godot 4's http_request.cpp: download_chunk_size changed
// between requests (found identical; pinned). set_download_chunk_size()
// forwards to the client's set_read_chunk_size() at once, refused
// (`ERR_FAIL_COND(get_http_client_status() != STATUS_DISCONNECTED)`) while a
// request's client is busy; get_download_chunk_size() is the client's value.
// The next request reads at most that many bytes per frame (§2.2, §2.6.1.3).
func TestAuditDownloadChunkSizeBetweenRequests(t *testing.T) {
	const size = 3000
	resp := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(size) + "\r\n\r\n" + strings.Repeat("z", size)
	srv := serve(t, testserver.RespondEach(resp))
	n := New()
	t.Cleanup(n.Close)

	o := viaCallback(t, n, srv.URL("/1"), nil, httpclient.MethodGet, nil)
	require.Equal(t, ResultSuccess, o.C.Result)
	assert.Equal(t, DefaultDownloadChunkSize, n.DownloadChunkSize())

	require.NoError(t, n.SetDownloadChunkSize(256))
	assert.Equal(t, 256, n.DownloadChunkSize())
	var steps []int64
	n.OnProgress(func(w, _ int64) { steps = append(steps, w) })
	require.NoError(t, n.Request(srv.URL("/2"), nil, httpclient.MethodGet, ""))
	processUntil(t, n, httpclient.StatusConnected)
	assert.ErrorIs(t, n.SetDownloadChunkSize(1024), godot.ErrBusy, "refused while the client is busy")
	assert.Equal(t, 256, n.DownloadChunkSize(), "unchanged by the refused call")
	var res []Result
	n.OnRequestCompleted(func(r Result, _ int, _ []string, body []byte) {
		res = append(res, r)
		assert.Len(t, body, size)
	})
	nodes.ProcessUntil(t, n, func() bool { return len(res) > 0 }, func() string { return "no completion" })
	require.Equal(t, []Result{ResultSuccess}, res)
	require.NotEmpty(t, steps)
	assert.Equal(t, int64(size), steps[len(steps)-1])
	prev := int64(0)
	for _, s := range steps {
		assert.LessOrEqual(t, s-prev, int64(256), "at most download_chunk_size per frame")
		prev = s
	}
}
