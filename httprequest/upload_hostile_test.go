package httprequest

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
)

// failingSeeker gives zero bytes up to failAt, then err; it is an
// io.Seeker, so the node could rewind it.
type failingSeeker struct {
	off, failAt int64
	rewinds     atomic.Int32
	err         error
}

func (f *failingSeeker) Read(p []byte) (int, error) {
	if f.off >= f.failAt {
		return 0, f.err
	}
	k := min(int64(len(p)), f.failAt-f.off)
	clear(p[:k])
	f.off += k
	return int(k), nil
}

func (f *failingSeeker) Seek(off int64, whence int) (int64, error) {
	switch {
	case whence == io.SeekCurrent && off == 0:
		return f.off, nil
	case whence == io.SeekStart:
		if off != f.off {
			f.rewinds.Add(1)
		}
		f.off = off
		return off, nil
	}
	return 0, errors.New("unsupported")
}

// With SetKeepAlive, a PUT whose streamed body fails to read on a kept
// connection ends at once with RESULT_CONNECTION_ERROR and the reader's
// error: the keep-alive retry is for a server that closed the idle
// connection, not for a body the caller cannot produce (net/http never
// retries a body read error). The server sees one PUT; the reader is not
// rewound (the upload audit of session 21).
func TestUploadBodyErrorNotRetried(t *testing.T) {
	boom := errors.New("disk read error")
	eachStreamDriver(t, func(t *testing.T, d streamDriver, n *HTTPRequest) {
		var puts atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut {
				puts.Add(1)
			}
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = w.Write([]byte("ok"))
		}))
		t.Cleanup(srv.Close)
		require.NoError(t, n.SetKeepAlive(true))
		o := d.run(t, n, srv.URL+"/warm", nil, httpclient.MethodGet, nil, 0)
		require.Equal(t, ResultSuccess, o.C.Result)

		body := &failingSeeker{failAt: 200_000, err: boom}
		o = d.run(t, n, srv.URL+"/up", nil, httpclient.MethodPut, body, 1<<20)
		assert.Equal(t, ResultConnectionError, o.C.Result)
		assert.ErrorIs(t, o.Err, boom)
		assert.Zero(t, body.rewinds.Load(), "the failing body was rewound and read again")
		srv.Close()
		assert.LessOrEqual(t, puts.Load(), int32(1), "PUT attempts that reached the server")
	})
}
