package fuzz

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
)

// TestPlanFor pins the server plans the fuzz targets derive from a seed:
// cuts strictly increasing inside (0, len), pieces that add up to the data,
// every ending and the byte-wise mode reachable.
func TestPlanFor(t *testing.T) {
	data := []byte(strings.Repeat("0123456789", 10))
	endings := map[ending]bool{}
	bytewise := false
	for seed := range uint64(4096) {
		p := planFor(data, seed*0x9e3779b97f4a7c15)
		endings[p.end] = true
		require.True(t, slices.IsSorted(p.cuts), "seed %d: %v", seed, p.cuts)
		for i, c := range p.cuts {
			require.True(t, c > 0 && c < len(data), "seed %d: cut %d", seed, c)
			if i > 0 {
				require.NotEqual(t, p.cuts[i-1], c, "seed %d: repeated cut", seed)
			}
		}
		require.Equal(t, data, bytes.Join(p.pieces(), nil))
		if len(p.cuts) == 64 {
			bytewise = true
			require.Zero(t, p.gap, "no gap in byte-wise mode")
		}
	}
	assert.Len(t, endings, int(numEndings))
	assert.True(t, bytewise, "byte-wise cuts never chosen")
	empty := planFor(nil, 0).pieces()
	assert.Len(t, empty, 1, "empty data: one empty write")
	assert.Empty(t, empty[0])
}

// TestObservedTransitions checks the copied §1.19 table against a few
// transitions the spec forbids, so the fuzz check can fail.
func TestObservedTransitions(t *testing.T) {
	legal := func(from, to httpclient.Status) bool {
		_, ok := observedTransitions[transition{from, to}]
		return ok
	}
	assert.True(t, legal(httpclient.StatusRequesting, httpclient.StatusBody), "§1.9")
	assert.True(t, legal(httpclient.StatusBody, httpclient.StatusDisconnected), "§1.10.1.4")
	for _, tr := range []transition{
		{httpclient.StatusBody, httpclient.StatusRequesting},
		{httpclient.StatusConnected, httpclient.StatusBody},
		{httpclient.StatusConnectionError, httpclient.StatusConnected},
		{httpclient.StatusDisconnected, httpclient.StatusResolving}, // never for an IP literal
		{httpclient.StatusConnecting, httpclient.StatusRequesting},
	} {
		assert.False(t, legal(tr.from, tr.to), "%v → %v", tr.from, tr.to)
	}
}
