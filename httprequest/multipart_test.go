package httprequest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// writeFile writes n pattern bytes (seeded) to a new file in dir.
func writeFile(t *testing.T, dir, name string, n int64, seed byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	require.NoError(t, err)
	buf := make([]byte, 1<<20)
	for off := int64(0); off < n; {
		k := min(int64(len(buf)), n-off)
		for i := range buf[:k] {
			buf[i] = byte(off+int64(i))*7 + seed
		}
		_, err := f.Write(buf[:k])
		require.NoError(t, err)
		off += k
	}
	require.NoError(t, f.Close())
	return path
}

// TestMultipartBytes: the body is exactly what mime/multipart.Writer writes
// for the same parts, and Len is its length (−1 with a part of unknown size).
func TestMultipartBytes(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "a.bin", 100_000, 1)
	content, err := os.ReadFile(path)
	require.NoError(t, err)

	m := NewMultipart()
	require.NoError(t, m.SetBoundary("gdhttp-test-boundary"))
	m.Field("name", "Godot").Field("empty", "").File("file", path).
		Reader("blob", "b.txt", strings.NewReader("reader part"), 11).Field("last", "é")
	require.NoError(t, m.Err())

	var want bytes.Buffer
	w := multipart.NewWriter(&want)
	require.NoError(t, w.SetBoundary("gdhttp-test-boundary"))
	require.NoError(t, w.WriteField("name", "Godot"))
	require.NoError(t, w.WriteField("empty", ""))
	fw, _ := w.CreateFormFile("file", "a.bin")
	_, _ = fw.Write(content)
	fw, _ = w.CreateFormFile("blob", "b.txt")
	_, _ = io.WriteString(fw, "reader part")
	require.NoError(t, w.WriteField("last", "é"))
	require.NoError(t, w.Close())

	r, err := m.Open()
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	assert.True(t, bytes.Equal(want.Bytes(), got), "mime/multipart's bytes")
	assert.Equal(t, int64(want.Len()), m.Len())
	assert.Equal(t, "Content-Type: "+w.FormDataContentType(), m.Header())

	// Back to the start: the same bytes again (the redirect replay).
	pos, err := r.Seek(0, io.SeekCurrent)
	require.NoError(t, err)
	assert.Equal(t, int64(len(got)), pos)
	_, err = r.Seek(0, io.SeekStart)
	require.NoError(t, err)
	again, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(got, again))
	_, err = r.Seek(10, io.SeekStart)
	assert.Error(t, err, "only the start")

	empty := NewMultipart()
	r, _ = empty.Open()
	b, _ := io.ReadAll(r)
	var ew bytes.Buffer
	w = multipart.NewWriter(&ew)
	require.NoError(t, w.SetBoundary(empty.Boundary()))
	require.NoError(t, w.Close())
	assert.Equal(t, ew.String(), string(b), "no parts")
	assert.Equal(t, int64(ew.Len()), empty.Len())

	assert.Equal(t, int64(-1), NewMultipart().Reader("x", "x", strings.NewReader("?"), -1).Len())
	_, err = NewMultipart().File("f", filepath.Join(dir, "missing")).Open()
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = NewMultipart().File("f", dir).Open()
	assert.Error(t, err, "a directory is not a file part")
}

// formServer parses every request with mime/multipart and answers one line
// per part: form name, file name, size, SHA-256 — so every byte is checked.
func formServer(t *testing.T) (*httptest.Server, *[]string) {
	var framings []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/form", http.StatusFound)
			return
		}
		framings = append(framings, fmt.Sprint(r.ContentLength, r.TransferEncoding))
		mr, err := r.MultipartReader()
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			n, sum, err := drive.SHA256Of(p)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			fmt.Fprintf(w, "%s|%s|%d|%s\n", p.FormName(), p.FileName(), n, sum)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &framings
}

// multipartDriver runs RequestMultipart (process, threads) or DoMultipart.
type multipartDriver struct{ drive.Driver }

func (d multipartDriver) run(t *testing.T, n *HTTPRequest, url string, m *Multipart) outcome {
	t.Helper()
	return nodes.Run(t, d.Driver, n, func() error { return n.RequestMultipart(url, nil, httpclient.MethodPost, m) },
		func(ctx context.Context) (Completion, error) {
			return n.DoMultipart(ctx, url, nil, httpclient.MethodPost, m)
		})
}

var multipartDrivers = []multipartDriver{{drive.Process}, {drive.Threads}, {drive.Do}}

// TestMultipartUpload: a form with fields and files goes to a loopback
// server that parses it with mime/multipart, in the three drivers (§7.3):
// with a known length (Content-Length) and chunked (a part of unknown
// size), directly and through a 302 that Godot follows with the body
// (§2.8.1.7: the files are read again).
func TestMultipartUpload(t *testing.T) {
	dir := t.TempDir()
	f1 := writeFile(t, dir, "one.bin", 300_000, 3)
	f2 := writeFile(t, dir, "two.dat", 5, 9)
	srv, framings := formServer(t)
	blob := bytes.Repeat([]byte("blob"), 20_000)
	for _, d := range multipartDrivers {
		for _, known := range []bool{true, false} {
			for _, path := range []string{"/form", "/redirect"} {
				t.Run(fmt.Sprint(d.Name, "/known=", known, path), func(t *testing.T) {
					*framings = nil
					size := int64(len(blob))
					if !known {
						size = -1
					}
					m := NewMultipart().Field("player", "Ada").File("save", f1).
						Reader("blob", "blob.txt", bytes.NewReader(blob), size).File("icon", f2)
					n := New()
					t.Cleanup(n.Close)
					o := d.run(t, n, srv.URL+path, m)
					require.Equal(t, ResultSuccess, o.C.Result, "%v", o.Err)
					require.Equal(t, 200, o.C.ResponseCode, string(o.C.Body))
					want := strings.Join([]string{
						"player||3|" + drive.SHA256([]byte("Ada")),
						"save|one.bin|300000|" + drive.FileSHA256(t, f1),
						fmt.Sprintf("blob|blob.txt|%d|%s", len(blob), drive.SHA256(blob)),
						"icon|two.dat|5|" + drive.FileSHA256(t, f2),
					}, "\n") + "\n"
					assert.Equal(t, want, string(o.C.Body))
					if known {
						assert.Equal(t, []string{fmt.Sprint(m.Len(), " []")}, *framings)
						assert.Equal(t, m.Len(), n.UploadedBytes())
					} else {
						assert.Equal(t, []string{"-1 [chunked]"}, *framings)
					}
				})
			}
		}
	}
}

// A form sent twice sends the same bytes twice: each Open rewinds a Reader
// part that is an io.Seeker to where it was when added (the second send
// failed, or sent an empty file when its size was unknown). One that is
// not an io.Seeker can be sent once: the second Open fails.
func TestMultipartSentTwice(t *testing.T) {
	srv, _ := formServer(t)
	blob := bytes.Repeat([]byte("blob"), 1000)
	want := fmt.Sprintf("blob|blob.txt|%d|%s\n", len(blob), drive.SHA256(blob))
	for _, size := range []int64{int64(len(blob)), -1} {
		t.Run(fmt.Sprint("size=", size), func(t *testing.T) {
			m := NewMultipart().Reader("blob", "blob.txt", bytes.NewReader(blob), size)
			n := New()
			t.Cleanup(n.Close)
			for range 2 {
				c, err := n.DoMultipart(context.Background(), srv.URL+"/form", nil, httpclient.MethodPost, m)
				require.NoError(t, err)
				assert.Equal(t, want, string(c.Body))
			}
		})
	}
	m := NewMultipart().Reader("blob", "blob.txt", io.MultiReader(bytes.NewReader(blob)), -1)
	n := New()
	t.Cleanup(n.Close)
	c, err := n.DoMultipart(context.Background(), srv.URL+"/form", nil, httpclient.MethodPost, m)
	require.NoError(t, err)
	assert.Equal(t, want, string(c.Body))
	_, err = n.DoMultipart(context.Background(), srv.URL+"/form", nil, httpclient.MethodPost, m)
	require.ErrorIs(t, err, errMultipartSeek, "a reader read already cannot be sent again")
}

// TestMultipartLargeFileStreams: a 100 MiB file is uploaded with
// DoMultipart while the bytes allocated during the whole round trip (client,
// in-process server, everything) stay a small fraction of it: the file is
// streamed from disk, never held in memory.
func TestMultipartLargeFileStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MiB upload")
	}
	const size = 100 << 20
	path := writeFile(t, t.TempDir(), "big.bin", size, 5)
	want := drive.FileSHA256(t, path)
	srv, _ := formServer(t)
	n := New()
	t.Cleanup(n.Close)
	m := NewMultipart().Field("kind", "big").File("file", path)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c, err := n.DoMultipart(context.Background(), srv.URL+"/form", nil, httpclient.MethodPost, m)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	assert.Equal(t, "kind||3|"+drive.SHA256([]byte("big"))+"\nfile|big.bin|104857600|"+want+"\n", string(c.Body))
	assert.Equal(t, m.Len(), n.UploadedBytes())
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d KiB in all for a %d MiB upload; heap in use after: %d KiB", alloc>>10, size>>20, after.HeapInuse>>10)
	assert.Less(t, alloc, uint64(16<<20), "the file is streamed")
}

// TestMultipartFileShrank: a file shorter when it is sent than when it was
// added fails the request (RESULT_CONNECTION_ERROR wrapping
// io.ErrUnexpectedEOF); the server never sees a complete body.
func TestMultipartFileShrank(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "s.bin", 10_000, 1)
	m := NewMultipart().File("f", path)
	require.NoError(t, os.Truncate(path, 4000))
	var (
		seen     bool
		declared int64
		got      int
		readErr  error
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		seen, declared, got, readErr = true, r.ContentLength, len(b), err
	}))
	n := New()
	t.Cleanup(n.Close)
	c, err := n.DoMultipart(context.Background(), srv.URL+"/form", nil, httpclient.MethodPost, m)
	assert.Equal(t, ResultConnectionError, c.Result)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	srv.Close() // waits for the handler
	if !seen {
		return // the server met the node's reset before it read the head
	}
	assert.Equal(t, m.Len(), declared, "Content-Length is the size the form had when it was built")
	assert.Error(t, readErr, "the body ended early")
	assert.Less(t, int64(got), declared)
}

// TestMultipartHeadersAndRefusals: the form's Content-Type replaces any the
// caller passed (whatever its case and spacing), the other headers keep
// their order; a nil form and a form whose file is gone are refused before
// anything is sent, with the reason (Open's error).
func TestMultipartHeadersAndRefusals(t *testing.T) {
	srv := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	n := New()
	t.Cleanup(n.Close)
	m := NewMultipart().Field("a", "b")
	c, err := n.DoMultipart(context.Background(), srv.URL("/f"), []string{"X-A: 1", "  content-TYPE: text/plain", "X-B: 2"}, httpclient.MethodPost, m)
	require.NoError(t, err)
	require.Equal(t, ResultSuccess, c.Result)
	require.Len(t, srv.Requests(), 1)
	head, _, _ := strings.Cut(string(srv.Requests()[0]), "\r\n\r\n")
	assert.Equal(t, []string{"POST /f HTTP/1.1", "X-A: 1", "X-B: 2", m.Header()},
		strings.Split(head, "\r\n")[:4], "the form's Content-Type follows the caller's headers")
	assert.Equal(t, 1, strings.Count(strings.ToLower(head), "content-type:"))

	gone := NewMultipart().File("f", filepath.Join(t.TempDir(), "gone.bin"))
	for name, send := range map[string]func(m *Multipart) error{
		"RequestMultipart": func(m *Multipart) error {
			return n.RequestMultipart(srv.URL("/f"), nil, httpclient.MethodPost, m)
		},
		"DoMultipart": func(m *Multipart) error {
			_, err := n.DoMultipart(context.Background(), srv.URL("/f"), nil, httpclient.MethodPost, m)
			return err
		},
	} {
		assert.ErrorContains(t, send(nil), "nil *Multipart", name)
		assert.ErrorIs(t, send(gone), os.ErrNotExist, name)
	}
	assert.Len(t, srv.Requests(), 1, "nothing more was sent")
	assert.Equal(t, httpclient.StatusDisconnected, n.HTTPClientStatus())
}
