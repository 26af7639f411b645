package integration

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/peers"
)

// Resumable downloads against nginx's real Range and If-Range handling:
// append_to_download_file and keep_partial_download the way a Godot game
// uses them (its own Range header), and DoResumable cut mid-body by a relay
// and resumed, on the large generated file.

// cutRelay is a TCP relay on loopback in front of a peer. The first
// connection is closed after cut response bytes (the download breaks); the
// later ones pass everything.
type cutRelay struct{ ln net.Listener }

func newCutRelay(t *testing.T, target string, cut int64) *cutRelay {
	t.Helper()
	return &cutRelay{drive.Relay(t, target, nil, func(n int, dst io.Writer, src io.Reader) {
		if n == 1 {
			_, _ = io.CopyN(dst, src, cut)
		} else {
			_, _ = io.Copy(dst, src)
		}
	})}
}

func (r *cutRelay) url(path string) string { return "http://" + r.ln.Addr().String() + path }

// TestResumeNginxDoResumable: a download of the large file cut by the relay
// keeps the partial file and nginx's ETag; DoResumable then asks nginx for
// the rest (Range + If-Range), appends the 206, and the file's SHA-256 is the
// original's. Then, with the state left behind on the complete file, nginx's
// 416 "bytes */<size>" is success; and a state with a stale ETag makes nginx
// send the whole file (200), which replaces the partial one.
func TestResumeNginxDoResumable(t *testing.T) {
	addr := peers.Nginx(t)
	fs := nginxFiles(t)
	name := "64m.bin"
	if testing.Short() {
		name = "1m.bin"
	}
	size := fs.size(t, name)
	cut := size / 3
	relay := newCutRelay(t, addr, cut)
	url := relay.url("/static/" + name)
	file := filepath.Join(t.TempDir(), name)
	n := httprequest.New()
	defer n.Close()
	require.NoError(t, n.SetDownloadFile(file))
	ctx, cancel := context.WithTimeout(context.Background(), driveTimeout)
	defer cancel()

	start := time.Now()
	r, err := n.DoResumable(ctx, url, nil)
	first := time.Since(start)
	require.Error(t, err)
	assert.Equal(t, httprequest.ResultCantConnect, r.Result, "a Content-Length body cut short (§2.9.5): %v", err)
	fi, err := os.Stat(file)
	require.NoError(t, err)
	partial := fi.Size()
	assert.True(t, partial > 0 && partial < size, "partial file of %d bytes", partial)
	require.FileExists(t, file+httprequest.ResumeSuffix)

	start = time.Now()
	r, err = n.DoResumable(ctx, url, nil)
	t.Logf("%s: cut after %d of %d bytes in %v; resumed %d bytes in %v", name, partial, size, first, size-partial, time.Since(start))
	require.NoError(t, err)
	assert.Equal(t, 206, r.ResponseCode)
	assert.Equal(t, httprequest.ResumeAppended, r.Outcome)
	assert.Equal(t, partial, r.Offset)
	cr, _ := headerValue(r.Headers, "Content-Range")
	assert.Equal(t, "bytes "+strconv.FormatInt(partial, 10)+"-"+strconv.FormatInt(size-1, 10)+"/"+strconv.FormatInt(size, 10), cr)
	assert.Equal(t, fs.sum(t, name), drive.FileSHA256(t, file), "the resumed file is the original")
	assert.NoFileExists(t, file+httprequest.ResumeSuffix)

	etag := etagOf(t, "http://"+addr+"/static/"+name)

	// The complete file with its state left behind: nginx's 416.
	writeState(t, file, url, etag, size)
	r, err = n.DoResumable(ctx, url, nil)
	require.NoError(t, err)
	assert.Equal(t, 416, r.ResponseCode)
	assert.Equal(t, httprequest.ResumeAlreadyComplete, r.Outcome)
	assert.Equal(t, fs.sum(t, name), drive.FileSHA256(t, file), "not overwritten by nginx's 416 page")

	// A stale ETag: If-Range fails, nginx sends 200 with the whole file.
	require.NoError(t, os.Truncate(file, 1000))
	writeState(t, file, url, `"stale"`, size)
	r, err = n.DoResumable(ctx, url, nil)
	require.NoError(t, err)
	assert.Equal(t, 200, r.ResponseCode)
	assert.Equal(t, httprequest.ResumeFromStart, r.Outcome)
	assert.Equal(t, fs.sum(t, name), drive.FileSHA256(t, file), "replaced, not spliced")
}

// TestResumeNginxAppendProperty: append_to_download_file and
// keep_partial_download as a Godot game uses them, with its own Range header
// and nginx's real 206, in the three drivers: the 206 is appended to the
// partial file and the result is the original file.
func TestResumeNginxAppendProperty(t *testing.T) {
	addr := peers.Nginx(t)
	fs := nginxFiles(t)
	whole, err := os.ReadFile(filepath.Join(fs.dir, "1m.bin"))
	require.NoError(t, err)
	for _, inPlace := range []bool{false, true} {
		t.Run(map[bool]string{false: "atomic", true: "in place"}[inPlace], func(t *testing.T) {
			eachDriver(t, nil, func(t *testing.T, d driver, n *httprequest.HTTPRequest) {
				file := filepath.Join(t.TempDir(), "1m.bin")
				require.NoError(t, os.WriteFile(file, whole[:300000], 0o644))
				require.NoError(t, n.SetDownloadFile(file))
				require.NoError(t, n.SetDownloadInPlace(inPlace))
				require.NoError(t, n.SetAppendToDownloadFile(true))
				require.NoError(t, n.SetKeepPartialDownload(true))
				o := d.run(t, n, "http://"+addr+"/static/1m.bin", []string{"Range: bytes=300000-"}, httpclient.MethodGet, nil)
				require.Equal(t, httprequest.ResultSuccess, o.C.Result, "cause: %v", o.Err)
				assert.Equal(t, 206, o.C.ResponseCode)
				assert.Equal(t, fs.sum(t, "1m.bin"), drive.FileSHA256(t, file))
			})
		})
	}
}

// etagOf is nginx's ETag for url (a HEAD with net/http).
func etagOf(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := c.Head(url)
	require.NoError(t, err)
	resp.Body.Close()
	e := resp.Header.Get("ETag")
	require.NotEmpty(t, e)
	return e
}

// writeState writes DoResumable's state file for file (its documented JSON).
func writeState(t *testing.T, file, url, etag string, length int64) {
	t.Helper()
	b := []byte(`{"url":` + strconv.Quote(url) + `,"etag":` + strconv.Quote(etag) + `,"length":` + strconv.FormatInt(length, 10) + "}\n")
	require.NoError(t, os.WriteFile(file+httprequest.ResumeSuffix, b, 0o644))
}
