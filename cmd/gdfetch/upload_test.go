package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	tdrive "github.com/gdhttp/gdhttp/internal/drive"
)

// uploadEcho answers with the request's method, path, framing, Content-Type
// media type, and for a form one line per part (name, file name, size,
// SHA-256), else the body's size and SHA-256.
func uploadEcho(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s len=%d te=%v\n", r.Method, r.URL.Path, r.ContentLength, r.TransferEncoding)
		if mr, err := r.MultipartReader(); err == nil {
			for {
				p, err := mr.NextPart()
				if err != nil {
					if err != io.EOF {
						fmt.Fprintf(w, "error %v\n", err)
					}
					return
				}
				n, sum, _ := tdrive.SHA256Of(p)
				fmt.Fprintf(w, "%s|%s|%d|%s\n", p.FormName(), p.FileName(), n, sum[:16])
			}
		}
		n, sum, _ := tdrive.SHA256Of(r.Body)
		fmt.Fprintf(w, "body %d %s\n", n, sum[:16])
	}))
	t.Cleanup(srv.Close)
	return srv
}

func shortSum(b []byte) string { return tdrive.SHA256(b)[:16] }

func TestParseUploadFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "save.bin")
	require.NoError(t, os.WriteFile(file, []byte("data"), 0o644))
	txt := filepath.Join(dir, "note.txt")
	require.NoError(t, os.WriteFile(txt, []byte("from a file"), 0o644))

	c, err := parseFetch([]string{"http://h/up", "-F", "name=Ada", "-F", "save=@" + file, "-F", "note=<" + txt})
	require.NoError(t, err)
	require.NotNil(t, c.upload)
	assert.Equal(t, httpclient.MethodPost, c.method, "-F: POST")
	assert.False(t, c.hasBody)

	c, err = parseFetch([]string{"-T", file, "http://h/dir/"})
	require.NoError(t, err)
	assert.Equal(t, httpclient.MethodPut, c.method, "-T: PUT")
	assert.Equal(t, "http://h/dir/save.bin", c.url, "curl's rule: a URL ending in / gets the file name")
	c, err = parseFetch([]string{"-T", file, "-X", "POST", "http://h/x"})
	require.NoError(t, err)
	assert.Equal(t, httpclient.MethodPost, c.method)
	assert.Equal(t, "http://h/x", c.url)

	for _, args := range [][]string{
		{"http://h/", "-F", "novalue"},
		{"http://h/", "-F", "=x"},
		{"http://h/", "-F", "f=@" + filepath.Join(dir, "missing")},
		{"http://h/", "-F", "f=<" + filepath.Join(dir, "missing")},
		{"http://h/", "-F", "a=b", "-T", file},
		{"http://h/", "-F", "a=b", "-d", "x"},
		{"http://h/", "-T", filepath.Join(dir, "missing")},
		{"http://h/", "-T", dir},
	} {
		_, err := parseFetch(args)
		var ue *usageError
		assert.ErrorAs(t, err, &ue, "%q", args)
	}
}

// TestFormUpload: gdfetch -F sends a multipart/form-data body (streamed
// files, a known Content-Length) that a server parses with mime/multipart;
// -v shows the head with the form's Content-Type.
func TestFormUpload(t *testing.T) {
	srv := uploadEcho(t)
	dir := t.TempDir()
	data := []byte(strings.Repeat("level-data ", 50_000))
	file := filepath.Join(dir, "level.dat")
	require.NoError(t, os.WriteFile(file, data, 0o644))

	code, out, errOut := gdfetch(t, srv.URL+"/form", "-s", "-v", "-F", "player=Ada", "-F", "level=@"+file)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	assert.True(t, strings.HasPrefix(lines[0], "POST /form len="), lines[0])
	assert.NotContains(t, lines[0], "len=-1")
	assert.Equal(t, "player||3|"+shortSum([]byte("Ada")), lines[1])
	assert.Equal(t, fmt.Sprintf("level|level.dat|%d|%s", len(data), shortSum(data)), lines[2])
	assert.Contains(t, errOut, "Content-Type: multipart/form-data; boundary=")
	assert.Contains(t, errOut, "Content-Length: ")
	assert.Contains(t, errOut, "uploaded ")
}

// TestUploadFile: gdfetch -T streams a file as the body of a PUT with its
// size as Content-Length, byte for byte.
func TestUploadFile(t *testing.T) {
	srv := uploadEcho(t)
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i * 13)
	}
	file := filepath.Join(t.TempDir(), "blob.bin")
	require.NoError(t, os.WriteFile(file, data, 0o644))
	for _, extra := range [][]string{nil, {"--threads"}} {
		args := append([]string{"-s", "-T", file, srv.URL + "/files/"}, extra...)
		code, out, errOut := gdfetch(t, args...)
		require.Equal(t, 0, code, errOut)
		assert.Equal(t, fmt.Sprintf("PUT /files/blob.bin len=%d te=[]\nbody %d %s\n", len(data), len(data), shortSum(data)), out)
	}
}

// TestProgressShowsUpload: with -F/-T the bar first shows the request body
// going out ("↑ upload", its size), then the response's.
func TestProgressShowsUpload(t *testing.T) {
	srv := uploadEcho(t)
	n := httprequest.New()
	defer n.Close()
	var bar bytes.Buffer
	p := newProgress(&bar, n, true)
	body := bytes.Repeat([]byte("u"), 400_000)
	ex, err := driveStart(t.Context(), n, func() error {
		return n.RequestStream(srv.URL+"/up", nil, httpclient.MethodPut, bytes.NewReader(body), int64(len(body)))
	}, p.update, p.upload)
	require.NoError(t, err)
	p.finish()
	require.Equal(t, httprequest.ResultSuccess, ex.Result)
	assert.Contains(t, bar.String(), "↑ upload")
	assert.Contains(t, bar.String(), "391 KiB")
	assert.Contains(t, string(ex.Body), "body 400000 ")
}

// TestUploadStdin: gdfetch -T - sends standard input chunked (its length is
// not known in advance), as curl does.
func TestUploadStdin(t *testing.T) {
	srv := uploadEcho(t)
	data := []byte(strings.Repeat("from stdin\n", 10_000))
	r, w, err := os.Pipe()
	require.NoError(t, err)
	go func() {
		_, _ = w.Write(data)
		_ = w.Close()
	}()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; _ = r.Close() }()
	code, out, errOut := gdfetch(t, "-s", "-T", "-", srv.URL+"/in")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, fmt.Sprintf("PUT /in len=-1 te=[chunked]\nbody %d %s\n", len(data), shortSum(data)), out)
}
