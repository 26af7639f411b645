package httpclient

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTransportOneSocketPerConnection: a Transport connection holds one
// socket descriptor, as net/http's, also to an IP literal (a quick
// connect's socket): setting Response.TLS once asked the client for its
// net.Conn, which dups a quick connect's socket into a *net.TCPConn that
// then lived as long as the connection — two descriptors per idle pooled
// connection, EMFILE at half the connections.
func TestTransportOneSocketPerConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	require.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"))
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	before := sockets(t)
	for range 3 { // one connection, kept and reused
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/")
		require.NoError(t, err)
		_, err = io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
	}
	assert.Equal(t, 2, sockets(t)-before, "the idle connection's two ends, one socket each")
}

// sockets counts this process's socket descriptors.
func sockets(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n
}
