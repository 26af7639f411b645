package chunked

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Golden bytes: encode, compare byte-exact (§1.10.2 framing).
func TestAppendGolden(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"one chunk", AppendChunk(nil, []byte("hello")), "5\r\nhello\r\n"},
		{"lower-case hex size", AppendChunk(nil, make([]byte, 0xab)), "ab\r\n" + strings.Repeat("\x00", 0xab) + "\r\n"},
		{"appends to dst", AppendChunk([]byte("x"), []byte("hi")), "x2\r\nhi\r\n"},
		{"empty data writes nothing", AppendChunk([]byte("x"), nil), "x"},
		{"last chunk", AppendLastChunk(nil), "0\r\n\r\n"},
		{"last chunk with trailers", AppendLastChunk([]byte("x"), "A: b", "C: d"), "x0\r\nA: b\r\nC: d\r\n\r\n"},
		{"16 MiB size line", AppendChunk(nil, make([]byte, MaxChunkSize))[:9], "1000000\r\n"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(tt.got), tt.name)
	}
}

func TestWriterGolden(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	n, err := w.Write([]byte("hello"))
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	n, err = w.Write(nil)
	require.NoError(t, err)
	assert.Zero(t, n)
	n, err = w.Write([]byte("0123456789abcdefg"))
	require.NoError(t, err)
	assert.Equal(t, 17, n)
	require.NoError(t, w.Close())
	assert.Equal(t, "5\r\nhello\r\n11\r\n0123456789abcdefg\r\n0\r\n\r\n", buf.String())

	_, err = w.Write([]byte("x"))
	assert.ErrorIs(t, err, ErrWriterClosed)
	assert.ErrorIs(t, w.Close(), ErrWriterClosed)

	buf.Reset()
	w = NewWriter(&buf)
	require.NoError(t, w.CloseWithTrailers("Expires: never"))
	assert.Equal(t, "0\r\nExpires: never\r\n\r\n", buf.String())
}

// countingWriter counts Write calls (one per chunk) and can fail.
type countingWriter struct {
	calls int
	limit int // bytes accepted per call; 0 = all
	err   error
	bytes.Buffer
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.calls++
	if c.limit > 0 && len(p) > c.limit {
		n, _ := c.Buffer.Write(p[:c.limit])
		return n, c.err
	}
	if c.err != nil {
		return 0, c.err
	}
	return c.Buffer.Write(p)
}

func TestWriterErrors(t *testing.T) {
	cw := &countingWriter{}
	w := NewWriter(cw)
	_, _ = w.Write([]byte("abc"))
	_, _ = w.Write([]byte("defg"))
	assert.Equal(t, 2, cw.calls, "one underlying Write per chunk")

	boom := errors.New("boom")
	n, err := NewWriter(&countingWriter{err: boom}).Write([]byte("hello"))
	assert.ErrorIs(t, err, boom)
	assert.Zero(t, n)

	// Short write without an error: io.ErrShortWrite; n counts data bytes sent.
	n, err = NewWriter(&countingWriter{limit: 6}).Write([]byte("hello"))
	assert.ErrorIs(t, err, io.ErrShortWrite)
	assert.Equal(t, 3, n, `"5\r\n" + "hel"`)
	n, err = NewWriter(&countingWriter{limit: 2, err: boom}).Write([]byte("hello"))
	assert.ErrorIs(t, err, boom)
	assert.Zero(t, n)
	assert.ErrorIs(t, NewWriter(&countingWriter{limit: 2}).Close(), io.ErrShortWrite)
}

// layouts cuts n bytes into chunk sizes in many ways.
func layouts(n int) map[string][]int {
	fixed := func(sz int) []int {
		var s []int
		for left := n; left > 0; left -= sz {
			s = append(s, min(sz, left))
		}
		return s
	}
	m := map[string][]int{"one": {n}, "100B": fixed(100), "16KiB": fixed(16 << 10), "4095": fixed(4095)}
	if n <= 4096 {
		m["1B"] = fixed(1)
	}
	var grow []int
	for left, sz := n, 1; left > 0; sz = sz*2 + 1 {
		grow = append(grow, min(sz, left))
		left -= min(sz, left)
	}
	m["growing"] = grow
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	var rnd []int
	for left := n; left > 0; {
		sz := min(1+rng.IntN(40000), left)
		rnd = append(rnd, sz)
		left -= sz
	}
	m["random"] = rnd
	if n == 0 {
		m = map[string][]int{"empty": nil}
	}
	return m
}

// Round trip: AppendChunk/Writer output decodes back to the input, one
// EventChunkEnd per chunk, through Decoder and Reader.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 100, 4096, 16 << 10, 100_000, 1 << 20} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		for name, sizes := range layouts(n) {
			var body []byte
			var wbuf bytes.Buffer
			w := NewWriter(&wbuf)
			var chunks [][]byte
			off := 0
			for _, sz := range sizes {
				c := data[off : off+sz]
				off += sz
				chunks = append(chunks, c)
				body = AppendChunk(body, c)
				_, err := w.Write(c)
				require.NoError(t, err)
			}
			body = AppendLastChunk(body)
			require.NoError(t, w.Close())
			require.Equal(t, body, wbuf.Bytes(), "Writer and AppendChunk agree (%d %s)", n, name)

			// Decoder: events at every chunk boundary.
			d := &Decoder{}
			dst := make([]byte, 8<<10)
			var out []byte
			var ends []int
			src := body
			for {
				nd, ns, ev, err := d.Decode(dst, src)
				require.NoError(t, err)
				out = append(out, dst[:nd]...)
				src = src[ns:]
				if ev == EventChunkEnd {
					ends = append(ends, len(out))
				}
				if ev == EventEnd {
					break
				}
			}
			assert.Empty(t, src)
			require.Equal(t, string(data), string(out), "%d %s", n, name)
			require.Len(t, ends, len(chunks))
			pos := 0
			for i, c := range chunks {
				pos += len(c)
				require.Equal(t, pos, ends[i])
			}

			// Reader.
			for _, ps := range []int{7, 4096, 32 << 10} {
				got, err := readAllP(t, NewReader(bytes.NewReader(body)), ps)
				require.NoError(t, err)
				require.Equal(t, string(data), string(got), "%d %s p=%d", n, name, ps)
			}
		}
	}
}

// §1.10.2.3: a chunk of exactly MaxChunkSize round-trips; one byte more is
// refused by the decoder before any data is read (§7 D1).
func TestRoundTripMaxChunk(t *testing.T) {
	if testing.Short() {
		t.Skip("32 MiB")
	}
	data := bytes.Repeat([]byte{'x'}, MaxChunkSize+1)
	body := AppendLastChunk(AppendChunk(nil, data[:MaxChunkSize]))
	got, err := io.ReadAll(NewReader(bytes.NewReader(body)))
	require.NoError(t, err)
	assert.Equal(t, MaxChunkSize, len(got))

	body = AppendLastChunk(AppendChunk(nil, data))
	got, err = io.ReadAll(NewReader(bytes.NewReader(body)))
	assert.ErrorIs(t, err, ErrTooBig)
	assert.Empty(t, got)
}
