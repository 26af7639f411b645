package httprequest

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
)

// Audit against Godot 4's stream_peer_gzip.cpp and http_request.cpp: an
// undocumented §7 D1 deviation (Godot hangs; the port does not), pinned here
// so that COMPAT.md can name it.
//
// Godot: StreamPeerGZIP::_start sizes its ring buffer
// `rb.resize(Math::nearest_shift(uint32_t(buffer_size - 1)))` (HTTPRequest
// passes get_download_chunk_size(), §2.8.2.1), and put_partial_data only
// decompresses `while (r_sent < p_bytes && rb.space_left() > 1024)`. A ring
// buffer of 1024 bytes or less (download_chunk_size 256…1024) has at most
// 1023 bytes of space, so put_partial_data returns OK having taken nothing
// (r_sent = 0), and the feeding loop of _update_connection's BODY step,
// `while (left) { … put_partial_data(compressed.ptr() + pos, left, w) …
// pos += w; left -= w; }`, never ends: with accept_gzip on, any gzip or
// deflate body read with such a download_chunk_size freezes the node (and,
// without use_threads, the main thread, so the timeout cannot fire).
//
// The port decodes the body (output pieces still sized by the chunk size);
// this is a §7 D1 deviation that COMPAT.md does not list yet.
func TestAuditD1GzipSmallDownloadChunkDecodes(t *testing.T) {
	text := sampleText(20 << 10)
	gz := gzipBytes(t, text)
	for _, size := range []int{256, 512, 1000, 1024} {
		t.Run("chunk-"+strconv.Itoa(size), func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				require.NoError(t, n.SetDownloadChunkSize(size))
				srv := serve(t, respondBody("Content-Encoding: gzip", gz))
				o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
				require.Equal(t, ResultSuccess, o.C.Result, "%v", o.Err)
				require.Equal(t, string(text), string(o.C.Body))
			})
		})
	}
}
