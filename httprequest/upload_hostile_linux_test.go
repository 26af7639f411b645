package httprequest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
)

// Multipart.File checks its path when the part is added; the path is
// opened again when the part is sent. Replaced by a FIFO meanwhile, that
// open waited for a writer for ever, in the step: neither Do's context, the
// timeout nor CancelRequest could end it. The send refuses a part that is
// not a regular file any more, as File does (the upload audit of session 21).
func TestUploadMultipartFileBecameFIFO(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.bin")
	require.NoError(t, os.WriteFile(path, []byte("hello"), 0o600))
	m := NewMultipart().Field("a", "b").File("f", path)
	require.NoError(t, m.Err())
	require.NoError(t, os.Remove(path))
	require.NoError(t, syscall.Mkfifo(path, 0o600))

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(srv.Close)
	n := newNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), maxWait)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := n.DoMultipart(ctx, srv.URL+"/form", nil, httpclient.MethodPost, m)
		done <- err
	}()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, errNotRegular)
	case <-time.After(5 * time.Second):
		if w, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil { // release the open
			w.Close()
		}
		<-done
		t.Fatal("DoMultipart blocked opening the FIFO")
	}
}

// openRegular, under download_file's and the file parts' opens, never waits
// for a FIFO's other end and refuses what is not a regular file, whatever a
// check before it saw: a FIFO opened for writing without a reader fails at
// once (ENXIO), for reading it is refused; a regular file opens.
func TestOpenRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	_, err := openRegular(fifo, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	assert.ErrorIs(t, err, syscall.ENXIO)
	_, err = openRegular(fifo, os.O_RDONLY, 0)
	assert.ErrorIs(t, err, errNotRegular)
	f, err := openRegular(filepath.Join(dir, "new"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	require.NoError(t, err)
	_, err = f.WriteString("ok")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	assert.Equal(t, "ok", string(fileBytes(t, filepath.Join(dir, "new"))))
}
