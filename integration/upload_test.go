package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/peers"
)

// Streamed request bodies, multipart forms and upload progress (issue 10,
// §7.2 opt-in) against httpbin: /post parses multipart forms and echoes
// fields and files, /anything echoes any body, /redirect-to sends a 302
// that Godot follows with the method and body (§2.8.1.7).

// uploadEcho is httpbin's echo with the files of a form.
type uploadEcho struct {
	echo
	Files map[string]string `json:"files"`
}

func uploadEchoOf(t *testing.T, body []byte) uploadEcho {
	t.Helper()
	var e uploadEcho
	require.NoError(t, json.Unmarshal(body, &e), "httpbin echo %q", body)
	return e
}

// streamDriver starts a streamed request through one of the three drivers:
// start for the callback drivers, do for Do.
type streamDriver struct{ drive.Driver }

func (d streamDriver) run(t *testing.T, n *httprequest.HTTPRequest, start func() error, do func(ctx context.Context) (httprequest.Completion, error)) outcome {
	t.Helper()
	return nodes.Run(t, d.Driver, n, start, do)
}

func eachStreamDriver(t *testing.T, f func(t *testing.T, d streamDriver, n *httprequest.HTTPRequest)) {
	t.Helper()
	eachDriver(t, nil, func(t *testing.T, d driver, n *httprequest.HTTPRequest) { f(t, streamDriver(d), n) })
}

// TestUploadMultipartHTTPBin: RequestMultipart / DoMultipart to httpbin's
// /post, whose form parser echoes every field and file: text and binary
// files streamed from disk, with a precomputed Content-Length and chunked
// (a part of unknown size). httpbin sees the Content-Type and the framing
// the node sent.
func TestUploadMultipartHTTPBin(t *testing.T) {
	bin := peers.HTTPBin(t)
	dir := t.TempDir()
	text := strings.Repeat("save line\n", 20_000)
	textPath := filepath.Join(dir, "save.txt")
	require.NoError(t, os.WriteFile(textPath, []byte(text), 0o644))
	binary := make([]byte, 70_000)
	for i := range binary {
		binary[i] = byte(i*31 + 7)
	}
	binPath := filepath.Join(dir, "icon.png")
	require.NoError(t, os.WriteFile(binPath, binary, 0o644))
	for _, known := range []bool{true, false} {
		t.Run("known="+strconv.FormatBool(known), func(t *testing.T) {
			eachStreamDriver(t, func(t *testing.T, d streamDriver, n *httprequest.HTTPRequest) {
				size := int64(len("from a reader"))
				if !known {
					size = -1
				}
				m := httprequest.NewMultipart().Field("player", "Ada").Field("score", "42").
					File("save", textPath).File("icon", binPath).
					Reader("note", "note.txt", strings.NewReader("from a reader"), size)
				url := "http://" + bin + "/post"
				o := d.run(t, n, func() error { return n.RequestMultipart(url, nil, httpclient.MethodPost, m) },
					func(ctx context.Context) (httprequest.Completion, error) {
						return n.DoMultipart(ctx, url, nil, httpclient.MethodPost, m)
					})
				checkOutcome(t, want{result: httprequest.ResultSuccess, code: 200}, o)
				e := uploadEchoOf(t, o.C.Body)
				assert.Equal(t, map[string]any{"player": "Ada", "score": "42"}, e.Form)
				assert.Equal(t, text, e.Files["save"])
				assert.Equal(t, "from a reader", e.Files["note"])
				assert.Equal(t, "data:application/octet-stream;base64,"+base64.StdEncoding.EncodeToString(binary), e.Files["icon"])
				assert.Equal(t, m.ContentType(), e.Headers["Content-Type"])
				if known {
					assert.Equal(t, strconv.FormatInt(m.Len(), 10), e.Headers["Content-Length"])
					assert.Equal(t, m.Len(), n.UploadedBytes())
					assert.Equal(t, m.Len(), n.UploadSize())
				} else {
					assert.Equal(t, "chunked", e.Headers["Transfer-Encoding"])
					assert.Equal(t, int64(-1), n.UploadSize())
				}
			})
		})
	}
}

// TestUploadStreamHTTPBinAnything: RequestStream / DoStream to httpbin's
// /anything: a known length goes with Godot's Content-Length (§1.7.10) and
// an unknown one chunked; httpbin echoes the method and the exact data.
func TestUploadStreamHTTPBinAnything(t *testing.T) {
	bin := peers.HTTPBin(t)
	data := strings.Repeat("0123456789", 30_000)
	for _, length := range []int64{int64(len(data)), -1} {
		t.Run(strconv.FormatInt(length, 10), func(t *testing.T) {
			eachStreamDriver(t, func(t *testing.T, d streamDriver, n *httprequest.HTTPRequest) {
				h := []string{"Content-Type: application/octet-stream"}
				url := "http://" + bin + "/anything/up"
				body := strings.NewReader(data)
				o := d.run(t, n, func() error { return n.RequestStream(url, h, httpclient.MethodPatch, body, length) },
					func(ctx context.Context) (httprequest.Completion, error) {
						return n.DoStream(ctx, url, h, httpclient.MethodPatch, body, length)
					})
				checkOutcome(t, want{result: httprequest.ResultSuccess, code: 200}, o)
				e := uploadEchoOf(t, o.C.Body)
				assert.Equal(t, "PATCH", e.Method)
				assert.Equal(t, data, e.Data)
				if length >= 0 {
					assert.Equal(t, strconv.Itoa(len(data)), e.Headers["Content-Length"])
				} else {
					assert.Equal(t, "chunked", e.Headers["Transfer-Encoding"])
					assert.Empty(t, e.Headers["Content-Length"])
				}
				assert.Equal(t, int64(len(data)), n.UploadedBytes())
			})
		})
	}
}

// TestUploadRedirectHTTPBin: httpbin's /redirect-to answers 302; Godot
// follows it with the same method and body (§2.8.1.7). A streamed body that
// is an io.Seeker is sent again, so /anything echoes the POST and its data;
// one that is not ends with RESULT_REQUEST_FAILED, the 302's code and
// headers, and httprequest.ErrBodyNotReplayable.
func TestUploadRedirectHTTPBin(t *testing.T) {
	bin := peers.HTTPBin(t)
	url := "http://" + bin + "/redirect-to?url=/anything&status_code=302"
	const data = "payload that follows the redirect"
	eachStreamDriver(t, func(t *testing.T, d streamDriver, n *httprequest.HTTPRequest) {
		body := strings.NewReader(data)
		o := d.run(t, n, func() error { return n.RequestStream(url, nil, httpclient.MethodPost, body, int64(len(data))) },
			func(ctx context.Context) (httprequest.Completion, error) {
				return n.DoStream(ctx, url, nil, httpclient.MethodPost, body, int64(len(data)))
			})
		checkOutcome(t, want{result: httprequest.ResultSuccess, code: 200}, o)
		e := uploadEchoOf(t, o.C.Body)
		assert.Equal(t, "POST", e.Method)
		assert.Equal(t, data, e.Data)

		once := io.MultiReader(strings.NewReader(data)) // not an io.Seeker
		o = d.run(t, n, func() error { return n.RequestStream(url, nil, httpclient.MethodPost, once, int64(len(data))) },
			func(ctx context.Context) (httprequest.Completion, error) {
				return n.DoStream(ctx, url, nil, httpclient.MethodPost, once, int64(len(data)))
			})
		assert.Equal(t, httprequest.ResultRequestFailed, o.C.Result)
		assert.Equal(t, 302, o.C.ResponseCode)
		assert.True(t, hasHeader(o.C.Headers, "Location: /anything"), "%q", o.C.Headers)
		assert.ErrorIs(t, o.Err, httprequest.ErrBodyNotReplayable)
	})
}

// TestUploadTransportHTTPBin: the Transport streams http.Request.Body to
// httpbin: a body of unknown length (ContentLength −1) goes chunked, a
// known one with Content-Length, and httpbin echoes the data.
func TestUploadTransportHTTPBin(t *testing.T) {
	bin := peers.HTTPBin(t)
	c := newHTTPClient(t, &httpclient.Transport{})
	data := strings.Repeat("transport-upload ", 10_000)
	for _, length := range []int64{int64(len(data)), -1} {
		req, err := http.NewRequest(http.MethodPut, "http://"+bin+"/anything", io.NopCloser(bytes.NewReader([]byte(data))))
		require.NoError(t, err)
		req.ContentLength = length
		req.Header.Set("Content-Type", "application/octet-stream")
		_, body := fetch(t, c, req)
		e := uploadEchoOf(t, body)
		assert.Equal(t, data, e.Data, "length %d", length)
		if length < 0 {
			assert.Equal(t, "chunked", e.Headers["Transfer-Encoding"])
		} else {
			assert.Equal(t, strconv.Itoa(len(data)), e.Headers["Content-Length"])
		}
	}
}

// TestUploadMatchesCurl: curl is the reference client. The same form sent
// with curl -F and with DoMultipart, and the same file sent with curl -T and
// with DoStream (an *os.File, its size as the length), reach httpbin as the
// same fields, files, data and Content-Length.
func TestUploadMatchesCurl(t *testing.T) {
	bin := peers.HTTPBin(t)
	curl := peers.Curl(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "level.txt")
	require.NoError(t, os.WriteFile(path, []byte(strings.Repeat("level line\n", 5000)), 0o644))

	cr := runCurl(t, curl, "-F", "player=Ada", "-F", "level=@"+path, "http://"+bin+"/post")
	require.Equal(t, 200, cr.code)
	want := uploadEchoOf(t, cr.body)
	n := httprequest.New()
	t.Cleanup(n.Close)
	m := httprequest.NewMultipart().Field("player", "Ada").File("level", path)
	c, err := n.DoMultipart(context.Background(), "http://"+bin+"/post", nil, httpclient.MethodPost, m)
	require.NoError(t, err)
	got := uploadEchoOf(t, c.Body)
	assert.Equal(t, want.Form, got.Form)
	assert.Equal(t, want.Files, got.Files)

	cr = runCurl(t, curl, "-T", path, "http://"+bin+"/anything")
	require.Equal(t, 200, cr.code)
	want = uploadEchoOf(t, cr.body)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	fi, err := f.Stat()
	require.NoError(t, err)
	c, err = n.DoStream(context.Background(), "http://"+bin+"/anything", nil, httpclient.MethodPut, f, fi.Size())
	require.NoError(t, err)
	got = uploadEchoOf(t, c.Body)
	assert.Equal(t, want.Method, got.Method)
	assert.Equal(t, want.Data, got.Data)
	assert.Equal(t, want.Headers["Content-Length"], got.Headers["Content-Length"])
}
