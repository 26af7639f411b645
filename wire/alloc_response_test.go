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

// A fresh Head gets its Headers made once, at the head's line count: no
// growth by doubling, whose garbage on a 1 MiB head of tiny lines (a
// hostile server's) was twice the Headers' final size. A head of 20 lines
// and one of 10 000 cost the same two allocations (the text, the Headers).
func TestParseHeadHeadersMadeOnce(t *testing.T) {
	for _, n := range []int{20, 10000} {
		head := []byte("HTTP/1.1 200 OK\r\n")
		for i := 0; i < n; i++ {
			head = append(head, "a:b\r\n"...)
		}
		head = append(head, "Content-Length: 0\r\n\r\n"...)
		var p HeadParser
		allocs := testing.AllocsPerRun(50, func() {
			var h Head
			p.Reset()
			p.last = "" // a new head's text, as on a new connection
			if _, err := p.Parse(head, &h); err != nil {
				t.Fatal(err)
			}
			if len(h.Headers) != n+1 || cap(h.Headers) != n+1 {
				t.Fatalf("%d lines: Headers len %d cap %d", n, len(h.Headers), cap(h.Headers))
			}
		})
		assert.LessOrEqual(t, allocs, 2.0, "%d lines: allocations per parse with a fresh Head", n)
	}
	// The strict mode's field limit bounds the Headers made.
	head := []byte("HTTP/1.1 200 OK\r\n")
	for i := 0; i < 500; i++ {
		head = append(head, "a:b\r\n"...)
	}
	head = append(head, "\r\n"...)
	p := HeadParser{Limits: Limits{MaxHeaderFields: 50}}
	var h Head
	_, err := p.Parse(head, &h)
	var le *LimitError
	require.ErrorAs(t, err, &le)
	assert.LessOrEqual(t, cap(h.Headers), 50)
}
