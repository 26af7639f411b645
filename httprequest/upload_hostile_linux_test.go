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
		assert.ErrorIs(t, err, errNotRegularPart)
	case <-time.After(5 * time.Second):
		if w, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil { // release the open
			w.Close()
		}
		<-done
		t.Fatal("DoMultipart blocked opening the FIFO")
	}
}
