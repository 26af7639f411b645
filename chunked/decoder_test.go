package chunked

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// evAt is one non-None event: which, how much output preceded it, and
// whether an error came with it.
type evAt struct {
	Ev  Event
	At  int
	Err bool
}

// decodeResult is everything observable from one decoding of a body.
type decodeResult struct {
	Out      string
	Events   []evAt
	Consumed int    // total nSrc
	Done     bool   // EventEnd seen
	Err      *Error // the error from Decode, or else from Finish (nil: complete)
	FromFin  bool   // Err came from Finish
}

// decodePieces feeds pieces to d in order, with a dst of dstSize bytes,
// until EventEnd or an error, then asks Finish. It checks the per-call
// invariants (nDst ≤ len(dst), nSrc ≤ len(src), progress).
func decodePieces(t testing.TB, d *Decoder, pieces [][]byte, dstSize int) decodeResult {
	t.Helper()
	var r decodeResult
	dst := make([]byte, dstSize)
	var out []byte
	setErr := func(err error, fin bool) {
		var e *Error
		require.ErrorAs(t, err, &e)
		r.Err, r.FromFin = e, fin
	}
feed:
	for _, p := range pieces {
		for {
			nd, ns, ev, err := d.Decode(dst, p)
			if nd < 0 || nd > len(dst) || ns < 0 || ns > len(p) {
				t.Fatalf("nDst=%d (len %d), nSrc=%d (len %d)", nd, len(dst), ns, len(p))
			}
			out = append(out, dst[:nd]...)
			r.Consumed += ns
			if ev != EventNone {
				r.Events = append(r.Events, evAt{ev, len(out), err != nil})
			}
			if err != nil {
				setErr(err, false)
				break feed
			}
			if ev == EventEnd {
				r.Done = true
				break feed
			}
			if ev == EventNone && ns == len(p) {
				break
			}
			if nd == 0 && ns == 0 && ev == EventNone {
				t.Fatalf("Decode made no progress on %q", p)
			}
			p = p[ns:]
		}
	}
	r.Out = string(out)
	if r.Err == nil {
		if err := d.Finish(); err != nil {
			setErr(err, true)
		}
	}
	return r
}

// drivers splits one input in every way a test must agree on: whole, split
// in two at every byte boundary, one byte per call, and with a 1-byte and
// a 3-byte dst.
type driver struct {
	name    string
	pieces  [][]byte
	dstSize int
}

func drivers(in []byte) []driver {
	ds := []driver{
		{"whole", [][]byte{in}, 64 << 10},
		{"dst1", [][]byte{in}, 1},
		{"dst3", [][]byte{in}, 3},
	}
	var bytes1 [][]byte
	for i := range in {
		bytes1 = append(bytes1, in[i:i+1])
	}
	ds = append(ds, driver{"byte-per-call", bytes1, 64 << 10})
	// Every boundary for short inputs; for long ones, the first and last 64
	// and a stride in between (every boundary would be quadratic).
	for k := 0; k <= len(in); k++ {
		if len(in) > 256 && k > 64 && k < len(in)-64 && k%(len(in)/16) != 0 {
			continue
		}
		ds = append(ds, driver{fmt.Sprintf("split@%d", k), [][]byte{in[:k], in[k:]}, 64 << 10})
	}
	return ds
}

// decodeCase is one body and what Decode must report for it.
type decodeCase struct {
	name       string // cites the rule
	in         string
	maxTrailer int
	chunks     []string // data delivered at each EventChunkEnd
	out        string   // all output; "" means concat(chunks)
	end        bool     // EventEnd expected
	consumed   int      // total nSrc; -1 means len(in)
	quirk      bool     // the last EventChunkEnd carries the error (§1.10.2.2)
	kind       Kind     // 0: no error
	off, size  int64
}

var decodeCases = []decodeCase{
	// §5 chunked row 1 / §1.10.2.4–6: one chunk, last chunk, empty trailer.
	{name: "§5 hello", in: "5\r\nhello\r\n0\r\n\r\n", chunks: []string{"hello"}, end: true, consumed: -1},
	{name: "§1.10.2.5 several chunks", in: "3\r\nabc\r\n4\r\ndefg\r\n1\r\nh\r\n0\r\n\r\n",
		chunks: []string{"abc", "defg", "h"}, end: true, consumed: -1},
	{name: "§1.10.2.4 empty body", in: "0\r\n\r\n", end: true, consumed: -1},
	// EventEnd: nSrc stops exactly after the final CR LF.
	{name: "§1.10.3 next response untouched", in: "2\r\nok\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n",
		chunks: []string{"ok"}, end: true, consumed: 12},
	{name: "§1.10.2.2 hex digits both cases", in: "a\r\n0123456789\r\nB\r\nABCDEFGHIJK\r\n0\r\n\r\n",
		chunks: []string{"0123456789", "ABCDEFGHIJK"}, end: true, consumed: -1},
	{name: "§1.10.2.3 leading zeros", in: "0005\r\nhello\r\n000\r\n\r\n", chunks: []string{"hello"}, end: true, consumed: -1},
	{name: "§1.10.2.3 many leading zeros (slow path)", in: "00000000000000000000000000005\r\nhello\r\n00000000\r\n\r\n",
		chunks: []string{"hello"}, end: true, consumed: -1},
	{name: "§1.10.2.1 30 zeros = 32-byte line allowed", in: strings.Repeat("0", 30) + "\r\n\r\n", end: true, consumed: -1},
	{name: "§1.10.2.1 32-byte line with a value", in: strings.Repeat("0", 29) + "5\r\nhello\r\n0\r\n\r\n",
		chunks: []string{"hello"}, end: true, consumed: -1},
	{name: "§1.10.2.1 33-byte line too long", in: strings.Repeat("0", 30) + "5\r\nhello\r\n",
		consumed: 33, kind: KindSizeLineTooLong, off: 32},
	{name: "§1.10.2.1 line without CR LF too long", in: strings.Repeat("a", 40),
		consumed: 33, kind: KindSizeLineTooLong, off: 32},
	{name: "§1.10.2.1 CR LF CR LF is a (non-hex) line", in: strings.Repeat("\r\n", 20),
		consumed: 4, kind: KindNotHex, off: 0},
	{name: "§1.10.2.1 endless LF too long", in: strings.Repeat("\n", 40),
		consumed: 33, kind: KindSizeLineTooLong, off: 32},
	// §1.10.2.3: exactly 0x1000000 allowed; more refused with no data read.
	{name: "§1.10.2.3 exactly 16 MiB allowed", in: "1000000\r\nabc",
		out: "abc", consumed: -1, kind: KindTruncated, off: 12, size: 1 << 24},
	{name: "§1.10.2.3 §7 D1 16 MiB + 1 refused", in: "1000001\r\nabc",
		consumed: 9, kind: KindTooBig, off: 6, size: 1<<24 + 1},
	{name: "§1.10.2.3 too big on the 8th digit", in: "10000000\r\n",
		consumed: 10, kind: KindTooBig, off: 7, size: 1 << 28},
	{name: "§1.10.2.3 too big stops parsing before a non-hex byte", in: "FFFFFFFF;x\r\n",
		consumed: 12, kind: KindTooBig, off: 6, size: 0xFFFFFFF},
	{name: "§1.10.2.3 too big reported at line end, not before", in: "1000001",
		consumed: -1, kind: KindTruncated, off: 7},
	{name: "§1.10.2.1 too long wins over too big", in: strings.Repeat("F", 33),
		consumed: 33, kind: KindSizeLineTooLong, off: 32},
	// §1.10.2.2 quirk, §5 row `5;a=b`: the chunk is still delivered, then the error.
	{name: "§5 §1.10.2.2 extension 5;a=b quirk", in: "5;a=b\r\nhello\r\n0\r\n\r\n",
		chunks: []string{"hello"}, consumed: 14, quirk: true, kind: KindNotHex, off: 1, size: 5},
	{name: "§1.10.2.2 trailing space quirk", in: "5 \r\nhello\r\n0\r\n\r\n",
		chunks: []string{"hello"}, consumed: 11, quirk: true, kind: KindNotHex, off: 1, size: 5},
	{name: "§1.10.2.2 stray CR quirk", in: "5\r\r\nhello\r\n",
		chunks: []string{"hello"}, consumed: -1, quirk: true, kind: KindNotHex, off: 1, size: 5},
	{name: "§1.10.2.1–2 bare LF does not end the line", in: "5\nhello\r\nworld\r\n0\r\n\r\n",
		chunks: []string{"world"}, consumed: 16, quirk: true, kind: KindNotHex, off: 1, size: 5},
	{name: "§1.10.2.2 quirk then bad terminator", in: "5;x\r\nhelloXY0\r\n\r\n",
		out: "hello", consumed: 12, kind: KindBadTerminator, off: 10, size: 5},
	{name: "§1.10.2.2 quirk cut in its data", in: "5;x\r\nhel",
		out: "hel", consumed: -1, kind: KindNotHex, off: 1, size: 5},
	{name: "§1.10.2.2 0;ext fails at once", in: "0;ext\r\n\r\n",
		consumed: 7, kind: KindNotHex, off: 1},
	// Seven non-hex bytes then CR LF: no hex digit, so the line is not a
	// size line whatever its length.
	{name: "§1.10.2.2 seven non-hex bytes then CR LF", in: "zzzzzzz\r\nhello\r\n",
		consumed: 9, kind: KindNotHex, off: 0},
	// A bare LF right after the non-hex byte is content too: the line runs
	// to the CR LF after "abc", and the chunk of 5 is read from there.
	{name: "§1.10.2.1–2 quirk: bare LF after the non-hex byte", in: "5;\nabc\r\nhello\r\n0\r\n\r\n",
		chunks: []string{"hello"}, consumed: 15, quirk: true, kind: KindNotHex, off: 1, size: 5},
	{name: "§1.10.2.2 leading TAB fails at once", in: "\t5\r\nhello\r\n",
		consumed: 4, kind: KindNotHex, off: 0},
	{name: "§1.10.2.2 0x prefix", in: "0x5\r\nhello\r\n", consumed: 5, kind: KindNotHex, off: 1},
	{name: "§1.10.2.2 non-hex letter", in: "g\r\n", consumed: 3, kind: KindNotHex, off: 0},
	{name: "§1.10.2.2 sign", in: "-5\r\nhello\r\n", consumed: 4, kind: KindNotHex, off: 0},
	{name: "§1.10.2.1 empty line joins the next one", in: "\r\n5\r\nhello\r\n",
		consumed: 5, kind: KindNotHex, off: 0},
	{name: "§1.10.2.1 empty line between chunks", in: "5\r\nhello\r\n\r\n0\r\n\r\n",
		chunks: []string{"hello"}, consumed: 15, kind: KindNotHex, off: 10},
	{name: "§1.10.2.1 CR CR LF", in: "\r\r\n", consumed: 3, kind: KindNotHex, off: 0},
	// §1.10.2.5 terminator.
	{name: "§1.10.2.5 bad terminator", in: "5\r\nhelloX\n0\r\n\r\n",
		out: "hello", consumed: 10, kind: KindBadTerminator, off: 8, size: 5},
	{name: "§1.10.2.5 LF CR terminator", in: "5\r\nhello\n\r0\r\n\r\n",
		out: "hello", consumed: 10, kind: KindBadTerminator, off: 8, size: 5},
	{name: "§1.10.2.5 bare LF terminator", in: "5\r\nhello\n0\r\n\r\n",
		out: "hello", consumed: 10, kind: KindBadTerminator, off: 8, size: 5},
	{name: "§1.10.2.5 data longer than declared", in: "3\r\nhello\r\n",
		out: "hel", consumed: 8, kind: KindBadTerminator, off: 6, size: 3},
	// §1.10.2.6 trailer.
	{name: "§1.10.2.6 trailer lines discarded", in: "5\r\nhello\r\n0\r\nX: y\r\nZ: w\r\n\r\n",
		chunks: []string{"hello"}, end: true, consumed: -1},
	{name: "§1.10.2.6 bare LF line joins the next", in: "0\r\n\n\r\n\r\n", end: true, consumed: -1},
	{name: "§1.10.2.6 bare LF never ends", in: "0\r\nX: y\n\n\n",
		consumed: -1, kind: KindTruncated, off: 10},
	{name: "§1.10.2.6 CR CR LF is a line", in: "0\r\n\r\r\n\r\n", end: true, consumed: -1},
	{name: "§1.10.2.6 trailer stops at the empty line", in: "0\r\nA: b\r\n\r\n\r\n", end: true, consumed: 11},
	{name: "§7 D1 trailer within bound", in: "0\r\nX: 123\r\n\r\n", maxTrailer: 10, end: true, consumed: -1},
	{name: "§7 D1 trailer over bound", in: "0\r\nX: 1234\r\n\r\n", maxTrailer: 10,
		consumed: 14, kind: KindTrailerTooLong, off: 13, size: 10},
	{name: "§7 D1 endless trailer bounded by default", in: "0\r\n" + strings.Repeat("X: y\r\n", 11000),
		consumed: 3 + DefaultMaxTrailerBytes + 1, kind: KindTrailerTooLong, off: 3 + DefaultMaxTrailerBytes, size: DefaultMaxTrailerBytes},
	// §7 D3: a body cut short is an error (Godot: DISCONNECTED).
	{name: "§7 D3 empty input", in: "", consumed: -1, kind: KindTruncated},
	{name: "§7 D3 cut in size line", in: "5\r", consumed: -1, kind: KindTruncated, off: 2},
	{name: "§7 D3 cut in data", in: "5\r\nhel", out: "hel", consumed: -1, kind: KindTruncated, off: 6, size: 5},
	{name: "§7 D3 cut in terminator", in: "5\r\nhello\r", out: "hello", consumed: -1, kind: KindTruncated, off: 9, size: 5},
	{name: "§7 D3 cut before last chunk", in: "5\r\nhello\r\n", chunks: []string{"hello"}, consumed: -1, kind: KindTruncated, off: 10},
	{name: "§7 D3 cut in trailer", in: "5\r\nhello\r\n0\r\n", chunks: []string{"hello"}, consumed: -1, kind: KindTruncated, off: 13},
	{name: "§7 D3 cut in final CR LF", in: "0\r\n\r", consumed: -1, kind: KindTruncated, off: 4},
}

// expected builds the decodeResult a case describes.
func (c decodeCase) expected() decodeResult {
	var r decodeResult
	pos := 0
	for i, ch := range c.chunks {
		pos += len(ch)
		r.Events = append(r.Events, evAt{EventChunkEnd, pos, c.quirk && i == len(c.chunks)-1})
	}
	r.Out = strings.Join(c.chunks, "")
	if c.out != "" {
		r.Out = c.out
	}
	if c.end {
		r.Done = true
		r.Events = append(r.Events, evAt{EventEnd, pos, false})
	}
	r.Consumed = c.consumed
	if c.consumed < 0 {
		r.Consumed = len(c.in)
	}
	if c.kind != 0 {
		r.Err = &Error{Kind: c.kind, Offset: c.off, Size: c.size}
		// Truncation, and a quirk chunk cut short, are only known at EOF.
		r.FromFin = c.kind == KindTruncated || (c.kind == KindNotHex && !c.quirk && c.out != "")
	}
	return r
}

func TestDecodeRules(t *testing.T) {
	for _, c := range decodeCases {
		t.Run(c.name, func(t *testing.T) {
			want := c.expected()
			for _, dr := range drivers([]byte(c.in)) {
				d := &Decoder{MaxTrailerBytes: c.maxTrailer}
				got := decodePieces(t, d, dr.pieces, dr.dstSize)
				require.Equal(t, want, got, "driver %s", dr.name)
			}
		})
	}
}

// Errors are sticky; after EventEnd nothing more is consumed.
func TestDecodeSticky(t *testing.T) {
	for _, c := range decodeCases {
		t.Run(c.name, func(t *testing.T) {
			d := &Decoder{MaxTrailerBytes: c.maxTrailer}
			r := decodePieces(t, d, [][]byte{[]byte(c.in)}, 1<<20)
			dst := make([]byte, 16)
			for range 3 {
				nd, ns, ev, err := d.Decode(dst, []byte("5\r\nhello\r\n0\r\n\r\n"))
				assert.Zero(t, nd)
				assert.Zero(t, ns)
				if r.Done {
					assert.Equal(t, EventEnd, ev)
					assert.NoError(t, err)
					assert.True(t, d.Done())
					assert.NoError(t, d.Finish())
				} else {
					assert.Equal(t, EventNone, ev)
					assert.Same(t, r.Err, err) // the very same error value
					assert.Same(t, r.Err, d.Finish())
					assert.False(t, d.Done())
				}
			}
		})
	}
}

// ChunkSize, InChunk and Done follow the body byte by byte.
func TestDecodeAccessors(t *testing.T) {
	in := "3\r\nabc\r\n0\r\nX: y\r\n\r\n"
	// position after which byte → (ChunkSize, InChunk, Done)
	type st struct {
		size   int64
		in     bool
		done   bool
		suffix string
	}
	want := []st{
		{0, false, false, "3"}, {0, false, false, "\r"}, {3, true, false, "\n"},
		{3, true, false, "a"}, {3, true, false, "b"}, {3, true, false, "c"}, {3, true, false, "\r"},
		{0, false, false, "\n"}, {0, false, false, "0"}, {0, false, false, "\r"}, {0, false, false, "\n"},
	}
	d := &Decoder{}
	assert.Zero(t, d.ChunkSize())
	assert.False(t, d.InChunk())
	assert.False(t, d.Done())
	dst := make([]byte, 8)
	for i := 0; i < len(in); i++ {
		_, ns, _, err := d.Decode(dst, []byte{in[i]})
		require.NoError(t, err)
		require.Equal(t, 1, ns)
		if i < len(want) {
			require.Equal(t, want[i].suffix, in[i:i+1])
			assert.Equal(t, want[i].size, d.ChunkSize(), "after byte %d", i)
			assert.Equal(t, want[i].in, d.InChunk(), "after byte %d", i)
			assert.Equal(t, want[i].done, d.Done(), "after byte %d", i)
		}
	}
	assert.True(t, d.Done())
	assert.Zero(t, d.ChunkSize())
	assert.False(t, d.InChunk())
}

// §1.10.5 / §7 D3: Reset leaves nothing of an abandoned body; Godot would
// prepend the leftovers to the next size line.
func TestDecodeResetNothingStale(t *testing.T) {
	next := []byte("5\r\nhello\r\n0\r\n\r\n")
	for _, prefix := range []string{"", "5", "5\r", "5\r\nhe", "5\r\nhello\r", "0\r\nX: y", "0;x\r\n", "1000001\r\n", "0\r\n\r\n"} {
		t.Run(fmt.Sprintf("%q", prefix), func(t *testing.T) {
			d := &Decoder{MaxTrailerBytes: 7}
			dst := make([]byte, 64)
			_, _, _, _ = d.Decode(dst, []byte(prefix))
			d.Reset()
			assert.Equal(t, 7, d.MaxTrailerBytes, "config survives Reset")
			assert.False(t, d.Done())
			assert.Zero(t, d.ChunkSize())
			r := decodePieces(t, d, [][]byte{next}, 64)
			assert.Equal(t, "hello", r.Out)
			assert.True(t, r.Done)
			assert.Nil(t, r.Err)
			assert.Equal(t, len(next), r.Consumed)
		})
	}
}

// TrailerBareLF: an LF not after a CR anywhere in the trailer section, fed
// whole or a byte at a time; a size line's or a CR LF's LF does not count,
// and Reset forgets it (§7 D2: the client retires the connection).
func TestTrailerBareLF(t *testing.T) {
	for _, c := range []struct {
		body string
		want bool
	}{
		{"5\r\nhello\r\n0\r\n\r\n", false},
		{"5\r\nhello\r\n0\r\nX: y\r\n\r\n", false},
		{"0\r\n\nHTTP/1.1 200 OK\r\n\r\n", true},
		{"0\r\nX: y\nZ: w\r\n\r\n", true},
		{"0\r\nX: \r\r\n\r\n", false},
	} {
		for _, split := range []int{0, 1} {
			d := &Decoder{}
			src := []byte(c.body)
			step := len(src)
			if split == 1 {
				step = 1
			}
			dst := make([]byte, 64)
			for guard := 0; len(src) > 0 && !d.Done() && guard < 1000; guard++ {
				_, used, _, err := d.Decode(dst, src[:min(step, len(src))])
				require.NoError(t, err, "%q", c.body)
				src = src[used:]
			}
			assert.True(t, d.Done(), "%q", c.body)
			assert.Equal(t, c.want, d.TrailerBareLF(), "%q step %d", c.body, step)
			d.Reset()
			assert.False(t, d.TrailerBareLF(), "Reset forgets it")
		}
	}
}

// The decoder must not need dst room to consume framing bytes.
func TestDecodeEmptyDst(t *testing.T) {
	d := &Decoder{}
	nd, ns, ev, err := d.Decode(nil, []byte("5\r\nhello\r\n"))
	require.NoError(t, err)
	assert.Equal(t, EventNone, ev)
	assert.Zero(t, nd)
	assert.Equal(t, 3, ns, "size line consumed, data waits for dst room")
	assert.Equal(t, int64(5), d.ChunkSize())
	nd, ns, ev, err = d.Decode(make([]byte, 5), []byte("hello\r\n0\r\n\r\n"))
	require.NoError(t, err)
	assert.Equal(t, EventChunkEnd, ev, "the terminator is checked even though dst is now full")
	assert.Equal(t, 5, nd)
	assert.Equal(t, 7, ns)
	nd, ns, ev, err = d.Decode(nil, []byte("0\r\n\r\n"))
	require.NoError(t, err)
	assert.Equal(t, EventEnd, ev, "last chunk and trailer need no dst")
	assert.Zero(t, nd)
	assert.Equal(t, 5, ns)
}

// Decoding in place: dst and src are the same slice.
func TestDecodeInPlace(t *testing.T) {
	body := AppendLastChunk(AppendChunk(AppendChunk(nil, []byte("hello, ")), []byte("world")))
	buf := append([]byte(nil), body...)
	d := &Decoder{}
	n, off := 0, 0
	for {
		nd, ns, ev, err := d.Decode(buf[n:], buf[off:])
		require.NoError(t, err)
		n += nd
		off += ns
		if ev == EventEnd {
			break
		}
	}
	assert.Equal(t, "hello, world", string(buf[:n]))
	assert.Equal(t, len(body), off)
}

func TestErrorTyped(t *testing.T) {
	sentinels := map[Kind]error{
		KindSizeLineTooLong: ErrSizeLineTooLong, KindNotHex: ErrNotHex, KindTooBig: ErrTooBig,
		KindBadTerminator: ErrBadTerminator, KindTrailerTooLong: ErrTrailerTooLong, KindTruncated: ErrTruncated,
	}
	godot := map[Kind]string{ // the messages Godot logs (§1.10.2)
		KindSizeLineTooLong: "HTTP Invalid chunk hex len",
		KindNotHex:          "HTTP Chunk len not in hex!!",
		KindTooBig:          "HTTP Chunk too big!! >16mb",
		KindBadTerminator:   `HTTP Invalid chunk terminator (not \r\n)`,
	}
	seen := map[Kind]bool{}
	for _, c := range decodeCases {
		if c.kind == 0 {
			continue
		}
		seen[c.kind] = true
		d := &Decoder{MaxTrailerBytes: c.maxTrailer}
		err := decodePieces(t, d, [][]byte{[]byte(c.in)}, 1<<20).Err
		var e *Error
		require.ErrorAs(t, error(err), &e, c.name)
		assert.Equal(t, c.off, e.Offset, c.name)
		assert.Equal(t, c.size, e.Size, c.name)
		for k, s := range sentinels {
			assert.Equal(t, k == c.kind, errors.Is(err, s), "%s: Is(%v)", c.name, k)
		}
		assert.Equal(t, c.kind == KindTruncated, errors.Is(err, io.ErrUnexpectedEOF), c.name)
		assert.Contains(t, err.Error(), c.kind.String())
		assert.Contains(t, err.Error(), fmt.Sprintf("offset %d", c.off))
		// Wrapped, it is still found.
		assert.ErrorIs(t, fmt.Errorf("body: %w", err), sentinels[c.kind])
	}
	assert.Len(t, seen, len(sentinels), "every Kind has a rule case")
	for k, msg := range godot {
		assert.Equal(t, msg, k.String())
	}
	assert.Equal(t, "chunked.Kind(99)", Kind(99).String())
	assert.Equal(t, "chunked: HTTP Chunk too big!! >16mb", ErrTooBig.Error())
	assert.NotErrorIs(t, ErrTooBig, io.ErrUnexpectedEOF)
	assert.False(t, (&Error{Kind: KindNotHex}).Is(nil))
	assert.False(t, (&Error{Kind: KindNotHex}).Is(io.EOF))
	assert.Equal(t, "chunked.Kind(0)", Kind(0).String(), "the zero Kind is not a failure")
	assert.Equal(t, "chunked.Kind(7)", Kind(7).String(), "one past the last Kind")
	assert.Equal(t, "chunked.Kind(-1)", Kind(-1).String())
	// The sentinels carry Offset −1, so their text names no offset.
	for k, s := range sentinels {
		var e *Error
		require.ErrorAs(t, s, &e)
		assert.Equal(t, Error{Kind: k, Offset: -1}, *e)
		assert.Equal(t, "chunked: "+k.String(), s.Error())
	}
	assert.Equal(t, "EventNone", EventNone.String())
	assert.Equal(t, "EventEnd", EventEnd.String())
	assert.Equal(t, "EventChunkEnd", EventChunkEnd.String())
	assert.Equal(t, "chunked.Event(4)", Event(4).String(), "one past the last Event")
	assert.Equal(t, "chunked.Event(-1)", Event(-1).String())
	assert.Equal(t, "chunked.Event(7)", Event(7).String())
}

// TestReportLastChunk checks EventLastChunk (§1.10.2.4: Godot's read stops
// after the last-chunk line and reads the trailer on its next call): with
// ReportLastChunk, at every split of the input, the event comes once, right
// after the line's LF, on the fast path (`0`) and the slow one (`000`, a
// line cut inside); without it, never.
func TestReportLastChunk(t *testing.T) {
	for _, last := range []string{"0\r\n", "000\r\n"} {
		body := "5\r\nhello\r\n" + last + "X: y\r\n\r\n"
		lineEnd := len("5\r\nhello\r\n" + last)
		for split := 0; split <= len(body); split++ {
			for _, report := range []bool{true, false} {
				d := Decoder{ReportLastChunk: report}
				var events []Event
				var at []int
				var out []byte
				dst := make([]byte, 64)
				consumed := 0
				for _, piece := range []string{body[:split], body[split:]} {
					src := []byte(piece)
					for len(src) > 0 {
						nDst, nSrc, ev, err := d.Decode(dst, src)
						require.NoError(t, err)
						out = append(out, dst[:nDst]...)
						src = src[nSrc:]
						consumed += nSrc
						if ev != EventNone {
							events = append(events, ev)
							at = append(at, consumed)
						}
						if ev == EventEnd {
							break
						}
					}
				}
				assert.Equal(t, "hello", string(out))
				if report {
					assert.Equal(t, []Event{EventChunkEnd, EventLastChunk, EventEnd}, events, "%q split %d", last, split)
					if len(at) == 3 {
						assert.Equal(t, lineEnd, at[1], "EventLastChunk right after the line (%q split %d)", last, split)
					}
				} else {
					assert.Equal(t, []Event{EventChunkEnd, EventEnd}, events, "%q split %d", last, split)
				}
			}
		}
	}
	assert.Equal(t, "EventLastChunk", EventLastChunk.String())
}

// TestFailsAtChunkEnd: §1.10.2.2 — from the end of a non-hex size line to
// the chunk's terminator the decoder says the body will fail; Finish then
// gives KindNotHex (not KindTruncated), and a well-formed line never says so.
func TestFailsAtChunkEnd(t *testing.T) {
	for _, tc := range []struct {
		in    string
		fails bool
	}{
		{"5;a=b\r\nhel", true},
		{"5 \r\nhello\r", true},
		{"5\nX\r\nh", true},
		{"5\r\nhel", false},
		{"5;a=b", false},              // the line has not ended
		{"5;a=b\r\nhello\r\n", false}, // the chunk ended: the error is returned
	} {
		d := &Decoder{}
		dst := make([]byte, 16)
		_, _, _, err := d.Decode(dst, []byte(tc.in))
		assert.Equal(t, tc.fails, d.FailsAtChunkEnd(), "%q", tc.in)
		if tc.fails {
			require.NoError(t, err)
			assert.ErrorIs(t, d.Finish(), ErrNotHex, "%q", tc.in)
			assert.False(t, d.FailsAtChunkEnd(), "after Finish %q", tc.in)
		}
	}
}

// TestChunkBytesLeft: the data and terminator bytes a chunk still needs.
func TestChunkBytesLeft(t *testing.T) {
	for _, tc := range []struct {
		in   string
		left int64
	}{
		{"", 0}, {"5\r", 0}, {"5\r\n", 7}, {"5\r\nhe", 5}, {"5\r\nhello", 2}, {"5\r\nhello\r", 1}, {"5\r\nhello\r\n", 0},
		{"5;x\r\nhel", 4},
	} {
		d := &Decoder{}
		_, _, _, _ = d.Decode(make([]byte, 16), []byte(tc.in))
		assert.Equal(t, tc.left, d.ChunkBytesLeft(), "%q", tc.in)
	}
}
