package httprequest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// §2.8.2.2–3, §2.6.1.5–6: Godot decodes a whole read (one wire chunk) into
// its chunk array, piece by piece, and checks each put_partial_data for a
// decoding error and the running total against body_size_limit before it
// stores anything; only then does the chunk go to download_file. So a read
// whose output is several pieces and that fails on a later piece (R7 or
// R8) leaves nothing of that read in the file: the in-place file (Godot's
// own writing, Q7) and a partial download kept (keep_partial_download,
// Q17) alike. A pin from the session-33 COMPAT audit (the node rolls the
// read back, dl.markChunk); it held before.
func TestAudit33MultiPieceReadStoresNothing(t *testing.T) {
	plain := bytes.Repeat([]byte("a"), 100000)
	gz := gzipBytes(t, plain)
	bad := append([]byte(nil), gz...)
	bad[len(bad)-8] ^= 1 // the CRC-32
	cases := []struct {
		name  string
		body  []byte
		limit int64
		want  Result
	}{
		{"limit_passed_on_a_later_piece", gz, 50000, ResultBodySizeLimitExceeded},
		{"CRC-32_fails_after_many_pieces", bad, -1, ResultBodyDecompressFailed},
	}
	for _, c := range cases {
		headers := []string{"Content-Encoding: gzip", "Transfer-Encoding: chunked"}
		resp := "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedAt(c.body)
		for _, dest := range []string{"in_place_file", "keep_partial"} {
			t.Run(c.name+"/"+dest, func(t *testing.T) {
				eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
					srv := serve(t, testserver.Respond(resp))
					require.NoError(t, n.SetBodySizeLimit(c.limit))
					require.NoError(t, n.SetDownloadChunkSize(4096))
					file := filepath.Join(t.TempDir(), "out")
					require.NoError(t, os.WriteFile(file, []byte("previous"), 0o644))
					if dest == "in_place_file" {
						require.NoError(t, n.SetDownloadInPlace(true))
					} else {
						require.NoError(t, n.SetKeepPartialDownload(true))
					}
					require.NoError(t, n.SetDownloadFile(file))
					o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
					assertCompletion(t, Completion{c.want, 200, headers, nil}, o)
					assert.Equal(t, int64(len(c.body)), n.DownloadedBytes(), "the one read is counted")
					stored, err := os.ReadFile(file)
					require.NoError(t, err)
					assert.Empty(t, stored, "nothing of the failing read is stored (the file was truncated when the body began)")
				})
			})
		}
	}
}
