package httprequest

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDoResumableProgressPerRequest: during DoResumable, OnProgress,
// DownloadedBytes and BodySize describe the request under way, not the
// file (its doc says so): each 206 counts from 0 to its own Content-Length,
// and the bytes the file held when that request began are the rest. A
// server capping ranges at 3000 bytes makes four requests for the 9240
// bytes a 1000-byte partial file lacks.
func TestDoResumableProgressPerRequest(t *testing.T) {
	_, _, f := cappedResume(t)

	type request struct {
		fileAtStart, bodySize, lastWire int64
	}
	var reqs []request
	require.NoError(t, f.n.SetResponseFunc(func(code int, headers []string) error {
		fi, err := os.Stat(f.file)
		require.NoError(t, err)
		reqs = append(reqs, request{fileAtStart: fi.Size(), bodySize: -1})
		return nil
	}))
	f.n.OnProgress(func(wire, decoded int64) {
		require.NotEmpty(t, reqs, "progress before a response")
		r := &reqs[len(reqs)-1]
		assert.GreaterOrEqual(t, wire, r.lastWire, "a request's count only grows")
		assert.Equal(t, wire, decoded, "nothing is compressed")
		r.lastWire, r.bodySize = wire, f.n.BodySize()
	})
	r, err := f.do(t)
	require.NoError(t, err)
	assert.Equal(t, ResumeAppended, r.Outcome)
	assert.Equal(t, []request{
		{1000, 3000, 3000},
		{4000, 3000, 3000},
		{7000, 3000, 3000},
		{10000, 240, 240},
	}, reqs)
	assert.Equal(t, int64(240), f.n.DownloadedBytes(), "the last request's")
}
