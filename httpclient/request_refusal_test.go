package httpclient

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// TestRequestRefusedSaysWhy: a Request refused because the status is not
// CONNECTED (§1.7.3: ERR_INVALID_PARAMETER, nothing sent, the status kept)
// names the status and what the caller has to do — above all in BODY, where
// a json.Decoder that stopped after its value leaves the body unfinished and
// the next Request fails.
func TestRequestRefusedSaysWhy(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ts.New(t, ts.Respond("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n{}\n"))
			c, _ := newClient(t, m.blocking)
			refused := func(st Status, hint string) {
				t.Helper()
				err := c.Request(MethodGet, "/", nil, "")
				require.ErrorIs(t, err, ErrInvalidParameter)
				assert.ErrorContains(t, err, "status is "+st.String()+", not STATUS_CONNECTED")
				assert.ErrorContains(t, err, hint)
				assert.Equal(t, st, c.Status())
			}
			refused(StatusDisconnected, "ConnectToHost")
			require.NoError(t, connect(t, c, srv.Host(), srv.Port(), nil))
			require.NoError(t, c.Request(MethodGet, "/", nil, ""))
			refused(StatusRequesting, "Poll until the response")
			require.NoError(t, pollWhile(t, c, StatusRequesting))
			require.Equal(t, StatusBody, c.Status())
			refused(StatusBody, "read the last response's body to its end")
			for c.Status() == StatusBody {
				_, err := io.Copy(io.Discard, c.BodyReader())
				require.NoError(t, err)
				_ = c.Poll()
			}
			assert.Equal(t, StatusConnected, c.Status())
		})
	}
	t.Run("failed", func(t *testing.T) {
		c, _ := newClient(t, true)
		srv := ts.New(t, ts.Respond(""))
		host, port := srv.Host(), srv.Port()
		srv.Close()
		_ = connect(t, c, host, port, nil)
		require.Equal(t, StatusCantConnect, c.Status())
		err := c.Request(MethodGet, "/", nil, "")
		require.ErrorIs(t, err, ErrInvalidParameter)
		assert.ErrorContains(t, err, "status is STATUS_CANT_CONNECT, not STATUS_CONNECTED")
		assert.ErrorContains(t, err, "LastError")
	})
}
