package httprequest

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// Tests of the sink's counters and of the in-memory body's growth over a
// body that takes many reads (download_chunk_size 256, the least): the
// tests of one read, or of a decoded body, did not see them.

// §2.6.1.4–5, §2.9.1: final_body_size counts every read, so
// body_size_limit ends a body of many reads where the decoded bytes pass
// it — also when the reads go straight into the in-memory body (an
// until-close body; a chunked one once its first chunk has made room).
func TestLimitCountsEveryReadInMemory(t *testing.T) {
	const size, limit = 1200, 700
	body := strings.Repeat("0123456789abcdef", size/16)[:size]
	var chunked strings.Builder
	for i := 0; i < size; i += 300 {
		chunked.WriteString("12c\r\n" + body[i:i+300] + "\r\n")
	}
	chunked.WriteString("0\r\n\r\n")
	for _, c := range []struct {
		name, head, body string
	}{
		{"until-close", "Connection: close", body},
		{"chunked", "Transfer-Encoding: chunked", chunked.String()},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, lim := range []int64{limit, size} {
				t.Run(strconv.FormatInt(lim, 10), func(t *testing.T) {
					eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
						srv := serve(t, testserver.RespondAndClose("HTTP/1.1 200 OK\r\n"+c.head+"\r\n\r\n"+c.body))
						require.NoError(t, n.SetDownloadChunkSize(httpclient.MinReadChunkSize))
						require.NoError(t, n.SetBodySizeLimit(lim))
						o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
						if lim < size {
							assertCompletion(t, Completion{ResultBodySizeLimitExceeded, 200, []string{c.head}, nil}, o)
							assert.Less(t, n.DownloadedBytes(), int64(size), "the reads stop where the limit is passed")
							return
						}
						assertCompletion(t, Completion{ResultSuccess, 200, []string{c.head}, []byte(body)}, o)
						assert.Equal(t, int64(size), n.DownloadedBytes(), "get_downloaded_bytes()")
					})
				})
			}
		})
	}
}

// grow: a body with a Content-Length is held in one array of that length,
// however many reads it takes — each read is sized to what is left of the
// body, so the last one does not grow the array past it (the doubling of a
// body without a length would make 64 KiB of a 1000-byte body).
func TestBodyArrayIsContentLength(t *testing.T) {
	const size = 1000
	body := strings.Repeat("abcdefghij", size/10)
	h := "Content-Length: " + strconv.Itoa(size)
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		srv := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\n"+h+"\r\n\r\n"+body))
		require.NoError(t, n.SetDownloadChunkSize(httpclient.MinReadChunkSize))
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultSuccess, 200, []string{h}, []byte(body)}, o)
		assert.Equal(t, size, cap(o.C.Body), "the body's array")
	})
}

// A download whose commit fails — the target became a non-empty directory
// while the body came, so the temporary file cannot be renamed over it —
// is delivered as RESULT_DOWNLOAD_FILE_WRITE_ERROR with the response's code
// and headers, in every driver: the body was read whole, but
// download_file does not hold it (commitDownload; the unit test of the
// commit is TestDownloadCommitRenameFails).
func TestDownloadCommitFailsAtDelivery(t *testing.T) {
	const h = "Content-Length: 10"
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		dir := t.TempDir()
		target := filepath.Join(dir, "out.bin")
		srv := serve(t, testserver.Script(testserver.Read(),
			testserver.WriteString("HTTP/1.1 200 OK\r\n"+h+"\r\n\r\nhello"),
			testserver.Do("target-becomes-a-directory", func(*testserver.Conn) error {
				// The node opened its temporary file at the head (§2.6.1.1):
				// wait for it, then take the target's name.
				deadline := time.Now().Add(maxWait)
				for len(dirEntries(t, dir)) == 0 {
					if time.Now().After(deadline) {
						return errors.New("no temporary file")
					}
					time.Sleep(time.Millisecond)
				}
				return os.MkdirAll(filepath.Join(target, "x"), 0o755)
			}),
			testserver.WriteString("world"), testserver.Hold()))
		require.NoError(t, n.SetDownloadFile(target))
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultDownloadFileWriteError, 200, []string{h}, nil}, o)
		assert.ErrorIs(t, o.Err, godot.ErrFileCantWrite)
		assert.Equal(t, []string{"out.bin"}, dirEntries(t, dir), "the temporary file is removed")
		assert.Equal(t, int64(10), n.DownloadedBytes())
	})
}

// A timeout that cuts a body read short (use_threads, Do: the blocked
// read is aborted) keeps the bytes that read had received in download_file
// with keep_partial_download — written by the sink though the run is over
// (put), as the Process driver's read had taken them whole — when the body
// goes through memory (a body_size_limit that one read could pass: no
// zero-copy path). Every driver leaves the same partial file.
func TestTimeoutKeepsPartialReadInFile(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		file := filepath.Join(t.TempDir(), "out.bin")
		srv := serve(t, testserver.Script(testserver.Read(),
			testserver.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"), testserver.Hold()))
		require.NoError(t, n.SetDownloadFile(file))
		require.NoError(t, n.SetKeepPartialDownload(true))
		require.NoError(t, n.SetBodySizeLimit(1000))
		require.NoError(t, n.SetTimeout(300*time.Millisecond))
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultTimeout, 0, nil, nil}, o)
		got, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.Equal(t, "hello", string(got))
	})
}

// A timeout that fires while a read's decoded output is being written
// (use_threads, Do: from the timer's goroutine) stops the writing at the
// next piece of output: the body writer is not called again, though the
// decoder holds more of that read's output (1 MiB of zeros from one
// ~1 KiB read, in download_chunk_size pieces).
func TestTimeoutStopsDecodedOutput(t *testing.T) {
	zeros := gzipBytes(t, make([]byte, 1<<20))
	head := "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(len(zeros)) + "\r\n\r\n"
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		if !d.Threads && !d.Do {
			return // Process: the timeout is checked between steps (§2.11)
		}
		srv := serve(t, testserver.Respond(head+string(zeros)))
		var writes atomic.Int32
		require.NoError(t, n.SetBodyWriter(writerFunc(func(p []byte) (int, error) {
			if writes.Add(1) == 1 {
				time.Sleep(600 * time.Millisecond) // the timeout fires meanwhile
			}
			return len(p), nil
		})))
		n.SetAcceptGzip(true)
		require.NoError(t, n.SetTimeout(200*time.Millisecond))
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		assertCompletion(t, Completion{ResultTimeout, 0, nil, nil}, o)
		assert.Equal(t, int32(1), writes.Load(), "body writer calls")
	})
}
