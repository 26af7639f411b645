package hostile

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/internal/drive"
)

// recorder is a tester that keeps the failures.
type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// The credential invariant can fail: a request carrying Authorization that
// reaches server B (another origin) is reported; the same request to main
// (the origin) is not.
func TestCredentialCheckCatchesLeak(t *testing.T) {
	sc := &scenario{name: "leak", servers: map[string]string{"main": "plain", "B": "plain"},
		order: []string{"main", "B"}, scripts: map[string]map[string]string{
			"main": {"*": `send "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"`},
			"B":    {"*": `send "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"`},
		}}
	e := startServers(t, sc, splitOne)
	send := func(name string) {
		c, err := net.Dial("tcp", e.refs[name])
		require.NoError(t, err)
		_, err = c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s\r\n\r\n"))
		require.NoError(t, err)
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _ = c.Read(make([]byte, 100))
		require.NoError(t, c.Close())
	}
	send("main")
	send("B")
	for _, s := range e.servers {
		s.Close()
	}
	var rec recorder
	checkCredentials(&rec, e, request{headers: []string{"Authorization: Bearer s"}})
	require.Len(t, rec.errs, 1)
	assert.Contains(t, rec.errs[0], "authorization")
	assert.Contains(t, rec.errs[0], "server B")
}

// The heap watch sees a large live allocation.
func TestHeapWatchSeesGrowth(t *testing.T) {
	stop, peak := startHeapWatch()
	b := make([]byte, 32<<20)
	for i := range b {
		b[i] = byte(i)
	}
	drive.Until(2*time.Second, func() bool { return peak() > 30<<20 }) // a sample after the allocation
	assert.Greater(t, stop(), int64(30<<20))
	assert.Equal(t, byte(1), b[1])
}
