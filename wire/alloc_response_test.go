package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseHeadAllocs pins allocations: one backing string per parsed head
// (at most 2 allowed) with a reused Head and HeadParser, none while the head
// is incomplete.
func TestParseHeadAllocs(t *testing.T) {
	for _, strict := range []bool{false, true} {
		p := HeadParser{Strict: strict}
		var h Head
		_, err := p.Parse(benchHead, &h) // warm the Headers capacity
		require.NoError(t, err)
		require.Len(t, h.Headers, 20)
		allocs := testing.AllocsPerRun(200, func() {
			if _, err := p.Parse(benchHead, &h); err != nil {
				t.Fatal(err)
			}
		})
		assert.LessOrEqual(t, allocs, 2.0, "strict=%v: allocations per parsed 20-header head", strict)

		partial := benchHead[:len(benchHead)/2]
		allocs = testing.AllocsPerRun(200, func() {
			p.Reset()
			if _, err := p.Parse(partial, &h); err != ErrNeedMore {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, "strict=%v: allocations on the ErrNeedMore path", strict)
	}

	// A head that needs Godot's UTF-8 repair reuses the scratch buffer.
	p := HeadParser{}
	var h Head
	repaired := []byte("HTTP/1.1 200 OK\r\nX: a\xffb\r\nY: \xc0\x80\r\n\r\n")
	_, err := p.Parse(repaired, &h)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := p.Parse(repaired, &h); err != nil {
			t.Fatal(err)
		}
	})
	assert.LessOrEqual(t, allocs, 2.0, "allocations per repaired head")
}
