package hostile

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httprequest"
)

// extraDrivers plays the corpus through drivers the default run does not
// use (-hostile.extra=writer,dl,…): Do with a body writer (writer), a
// use_threads node with a body writer (threadswriter), Do with
// download_file (dl), Process with SetDrainPerStep (drain), Process with
// SetKeepAlive (keepalive), Do with in-place download_file (inplace). The
// outcome must be the scenario's: the writer's bytes or the file stand for
// the completion's body on a success.
var extraDrivers = flag.String("hostile.extra", "", "extra node drivers, comma-separated")

// lockedBuf is a bytes.Buffer safe to read after a worker wrote it.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len()+len(p) > 8<<20 { // keep 8 MiB: the heap watch must see the node's memory, not this buffer's
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuf) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.b.Bytes()...)
}

func runNodeExtra(t *testing.T, e *env, n *httprequest.HTTPRequest, driver string, r request) got {
	t.Helper()
	var buf lockedBuf
	var file string
	switch driver {
	case "writer", "threadswriter":
		require.NoError(t, n.SetBodyWriter(&buf))
	case "dl", "inplace":
		if r.dir == "" {
			file = filepath.Join(t.TempDir(), "out.bin")
			require.NoError(t, n.SetDownloadFile(file))
		}
		if driver == "inplace" {
			require.NoError(t, n.SetDownloadInPlace(true))
		}
	case "drain":
		require.NoError(t, n.SetDrainPerStep(true))
	case "keepalive":
		require.NoError(t, n.SetKeepAlive(true))
	}
	var g got
	if driver == "writer" || driver == "dl" || driver == "inplace" {
		ctx, cancel := context.WithTimeout(context.Background(), maxWait)
		defer cancel()
		c, err := n.Do(ctx, r.url, r.headers, r.method, r.body)
		if err != nil && !errors.As(err, new(*httprequest.ResultError)) {
			require.NotErrorIs(t, err, context.DeadlineExceeded, "Do did not finish within %v", maxWait)
			return got{refused: err}
		}
		g = got{result: int(c.Result), code: c.ResponseCode, headers: c.Headers, body: c.Body, count: 1,
			counters: &[2]int64{n.BodySize(), n.DownloadedBytes()}}
	} else {
		if driver == "threadswriter" {
			require.NoError(t, n.SetUseThreads(true))
		}
		o := nodes.Callback(t, n, func() error { return n.RequestRaw(r.url, r.headers, r.method, r.body) })
		if o.ReqErr != nil && !errors.Is(o.ReqErr, godot.ErrCantConnect) {
			return got{refused: o.ReqErr}
		}
		g = got{result: int(o.C.Result), code: o.C.ResponseCode, headers: o.C.Headers, body: o.C.Body, count: o.Callbacks,
			counters: &[2]int64{n.BodySize(), n.DownloadedBytes()}}
	}
	switch driver {
	case "writer", "threadswriter":
		assert.Empty(t, g.body, "completion body with a body writer")
		if g.result == 0 && r.dir == "" {
			g.body = buf.Bytes()
		}
	case "dl", "inplace":
		if file == "" {
			break
		}
		assert.Empty(t, g.body, "completion body with download_file")
		b, err := os.ReadFile(file)
		if g.result == 0 && err == nil {
			g.body = b
		}
		if driver == "dl" && g.result != 0 && err == nil && len(b) > 0 {
			t.Errorf("dl: file left after result %d (%d B)", g.result, len(b))
		}
		ents, _ := os.ReadDir(filepath.Dir(file))
		for _, en := range ents {
			if en.Name() != "out.bin" {
				t.Errorf("dl: stray file %q", en.Name())
			}
		}
	}
	return g
}

func extraList() []string {
	if *extraDrivers == "" {
		return nil
	}
	return strings.Split(*extraDrivers, ",")
}

// extraBase maps each extra driver to the driver it is built on.
var extraBase = map[string]string{"writer": "do", "dl": "do", "inplace": "do", "threadswriter": "threads",
	"drain": "process", "keepalive": "process"}

// extraAllowed: an extra driver plays a scenario whose own driver list
// holds the driver it is built on (do, threads, process).
func extraAllowed(sc *scenario, d string) bool {
	if sc.drivers == nil {
		return true
	}
	base := extraBase[d]
	for _, x := range sc.drivers {
		if x == base {
			return true
		}
	}
	return false
}
