package chunked

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readAllP reads r to its end with a p of psize bytes and returns the data
// and the final error (nil for io.EOF).
func readAllP(t testing.TB, r io.Reader, psize int) ([]byte, error) {
	t.Helper()
	p := make([]byte, psize)
	var out []byte
	for empty := 0; ; {
		n, err := r.Read(p)
		if n < 0 || n > len(p) {
			t.Fatalf("Read returned n=%d for len(p)=%d", n, len(p))
		}
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if n == 0 {
			empty++
			if empty >= 1000 {
				t.Fatal("Read returned (0, nil) forever")
			}
		}
	}
}

// piecesReader returns its pieces one per Read (longer pieces are cut to
// len(p)), then io.EOF.
type piecesReader struct{ pieces [][]byte }

func (r *piecesReader) Read(p []byte) (int, error) {
	for len(r.pieces) > 0 && len(r.pieces[0]) == 0 {
		r.pieces = r.pieces[1:]
	}
	if len(r.pieces) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.pieces[0])
	r.pieces[0] = r.pieces[0][n:]
	return n, nil
}

// stutterReader alternates (0, nil) with one byte.
type stutterReader struct {
	r    io.Reader
	tick bool
}

func (s *stutterReader) Read(p []byte) (int, error) {
	s.tick = !s.tick
	if s.tick || len(p) == 0 {
		return 0, nil
	}
	return s.r.Read(p[:1])
}

// sources returns every way the Reader tests feed a body.
func sources(in []byte) map[string]func() io.Reader {
	m := map[string]func() io.Reader{
		"bytes":   func() io.Reader { return bytes.NewReader(in) },
		"onebyte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(in)) },
		"half":    func() io.Reader { return iotest.HalfReader(bytes.NewReader(in)) },
		"dataerr": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(in)) },
		"stutter": func() io.Reader { return &stutterReader{r: bytes.NewReader(in)} },
	}
	for _, dr := range drivers(in) {
		if len(dr.pieces) == 2 && (len(in) < 4096 || len(m) < 12) {
			a, b := dr.pieces[0], dr.pieces[1]
			m[dr.name] = func() io.Reader { return &piecesReader{[][]byte{a, b}} }
		}
	}
	return m
}

var readSizes = []int{1, 5, 4095, directMin, 64 << 10}

// Every §1.10.2 rule case, through the Reader: same data, same error.
func TestReaderRules(t *testing.T) {
	for _, c := range decodeCases {
		t.Run(c.name, func(t *testing.T) {
			want := c.expected()
			for name, src := range sources([]byte(c.in)) {
				for _, ps := range readSizes {
					r := NewReader(src())
					r.SetMaxTrailerBytes(c.maxTrailer)
					out, err := readAllP(t, r, ps)
					require.Equal(t, want.Out, string(out), "%s p=%d", name, ps)
					if want.Err == nil {
						require.NoError(t, err, "%s p=%d", name, ps)
						continue
					}
					var e *Error
					require.ErrorAs(t, err, &e, "%s p=%d", name, ps)
					require.Equal(t, *want.Err, *e, "%s p=%d", name, ps)
					// Sticky.
					n, err2 := r.Read(make([]byte, 8))
					assert.Zero(t, n)
					assert.Same(t, e, err2)
				}
			}
		})
	}
}

// §7 D3: a cut body is io.ErrUnexpectedEOF, wrapped in a KindTruncated *Error.
func TestReaderTruncated(t *testing.T) {
	big := "186a0\r\n" + strings.Repeat("d", 50000) // a 100 000-byte chunk cut in half: direct reads
	for _, in := range []string{"", "5", "5\r\nhel", "5\r\nhello\r\n", "5\r\nhello\r\n0\r\n", "0\r\nX: y\r\n", big} {
		r := NewReader(strings.NewReader(in))
		_, err := io.ReadAll(r)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "%q", in)
		assert.ErrorIs(t, err, ErrTruncated, "%q", in)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, int64(len(in)), e.Offset)
	}
	for _, ps := range readSizes {
		for name, src := range map[string]io.Reader{
			"dataerr": iotest.DataErrReader(strings.NewReader(big)),
			"half":    iotest.HalfReader(strings.NewReader(big)),
		} {
			out, err := readAllP(t, NewReader(src), ps)
			assert.Equal(t, big[7:], string(out), "%s p=%d", name, ps)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, Error{Kind: KindTruncated, Offset: int64(len(big)), Size: 100000}, *e, "%s p=%d", name, ps)
		}
	}
}

// §1.10.3: what follows the body stays for the next response (Buffered,
// then the underlying reader), and is never decoded.
func TestReaderBuffered(t *testing.T) {
	body := "5\r\nhello\r\n0\r\nX: y\r\n\r\n"
	next := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi" + strings.Repeat("z", 20000)
	in := []byte(body + next)
	for name, src := range sources(in) {
		if len(name) > 6 && name[:6] == "split@" && name != "split@0" && name != fmt.Sprintf("split@%d", len(body)) {
			continue
		}
		for _, ps := range readSizes {
			u := src()
			r := NewReader(u)
			assert.Empty(t, r.Buffered(), "nothing before the end")
			out, err := readAllP(t, r, ps)
			require.NoError(t, err)
			require.Equal(t, "hello", string(out))
			rest, err := io.ReadAll(u)
			require.NoError(t, err)
			assert.Equal(t, next, string(r.Buffered())+string(rest), "%s p=%d", name, ps)
			assert.LessOrEqual(t, len(r.Buffered()), readerBufSize)
		}
	}
}

func TestReaderContract(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 5000)
	var body []byte
	for i, sz := 0, 1; i < len(data); sz = sz*3 + 1 {
		j := min(i+sz, len(data))
		body = AppendChunk(body, data[i:j])
		i = j
	}
	body = AppendLastChunk(body)
	require.NoError(t, iotest.TestReader(NewReader(bytes.NewReader(body)), data))
	require.NoError(t, iotest.TestReader(NewReader(iotest.HalfReader(bytes.NewReader(body))), data))

	r := NewReader(bytes.NewReader(body))
	n, err := r.Read(nil)
	assert.Zero(t, n)
	assert.NoError(t, err, "empty p")
}

// The underlying reader's errors come back unchanged and sticky.
func TestReaderUnderlyingError(t *testing.T) {
	boom := errors.New("boom")
	for _, ps := range readSizes {
		r := NewReader(iotest.TimeoutReader(bytes.NewReader([]byte("5\r\nhello\r\n"))))
		out, err := readAllP(t, r, ps)
		assert.ErrorIs(t, err, iotest.ErrTimeout)
		assert.NotEmpty(t, out)
		r = NewReader(io.MultiReader(strings.NewReader("5\r\nhel"), iotest.ErrReader(boom)))
		out, err = readAllP(t, r, ps)
		assert.Equal(t, "hel", string(out))
		assert.ErrorIs(t, err, boom)
		_, err = r.Read(make([]byte, 4))
		assert.ErrorIs(t, err, boom)
	}
	// Data and an error in the same Read: the data is decoded first.
	r := NewReader(iotest.DataErrReader(strings.NewReader("5\r\nhello\r\n0\r\n\r\n")))
	out, err := io.ReadAll(r)
	assert.NoError(t, err)
	assert.Equal(t, "hello", string(out))
}

// zeroReader returns (0, nil) and counts the calls.
type zeroReader struct{ calls int }

func (z *zeroReader) Read([]byte) (int, error) { z.calls++; return 0, nil }

// As bufio: exactly maxEmptyReads (0, nil) reads in a row are io.ErrNoProgress.
func TestReaderNoProgress(t *testing.T) {
	for _, ps := range readSizes {
		z := &zeroReader{}
		r := NewReader(z)
		n, err := r.Read(make([]byte, ps))
		assert.Zero(t, n)
		assert.ErrorIs(t, err, io.ErrNoProgress)
		assert.Equal(t, maxEmptyReads, z.calls, "p=%d", ps)
	}
}

// A broken reader claiming more bytes than asked for is an error, not a panic.
type liarReader struct{}

func (liarReader) Read(p []byte) (int, error) { return len(p) + 1, nil }

func TestReaderLiar(t *testing.T) {
	for _, ps := range readSizes {
		_, err := NewReader(liarReader{}).Read(make([]byte, ps))
		assert.ErrorIs(t, err, io.ErrShortBuffer)
	}
}

func TestReaderReset(t *testing.T) {
	r := NewReader(strings.NewReader("5\r\nhel"))
	r.SetMaxTrailerBytes(4)
	_, err := io.ReadAll(r)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	buf := &r.buf[0]
	r.Reset(strings.NewReader("2\r\nok\r\n0\r\nX: y\r\n\r\n"))
	assert.Same(t, buf, &r.buf[0], "buffer kept")
	_, err = io.ReadAll(r)
	assert.ErrorIs(t, err, ErrTrailerTooLong, "MaxTrailerBytes kept across Reset")
	r.Reset(strings.NewReader("2\r\nok\r\n0\r\n\r\n"))
	out, err := io.ReadAll(r)
	assert.NoError(t, err)
	assert.Equal(t, "ok", string(out))

	var zero Reader
	zero.Reset(strings.NewReader("2\r\nok\r\n0\r\n\r\n"))
	out, err = io.ReadAll(&zero)
	assert.NoError(t, err)
	assert.Equal(t, "ok", string(out))
}

// recordingReader is a bytes.Reader that records, for every Read, whether
// its buffer is into (the caller's p) and the stream position after it.
type recordingReader struct {
	src   *bytes.Reader
	into  []byte
	reads []recordedRead
}

type recordedRead struct {
	direct bool  // the read went straight into the caller's p
	want   int   // len of the buffer it was given
	n      int   // bytes it returned
	pos    int64 // stream position after it
}

func (r *recordingReader) Read(q []byte) (int, error) {
	n, err := r.src.Read(q)
	direct := len(q) > 0 && &q[0] == &r.into[0] // Reader reads into p[:want] or buf[:want]
	r.reads = append(r.reads, recordedRead{direct: direct, want: len(q), n: n, pos: r.src.Size() - int64(r.src.Len())})
	return n, err
}

// readRecorded reads body through a Reader with a p of psize bytes and
// returns the data and the underlying reads.
func readRecorded(t *testing.T, body []byte, psize int) ([]byte, []recordedRead) {
	t.Helper()
	p := make([]byte, psize)
	rec := &recordingReader{src: bytes.NewReader(body), into: p}
	r := NewReader(rec)
	var out []byte
	for {
		n, err := r.Read(p)
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out, rec.reads
		}
		require.NoError(t, err)
	}
}

// chunkedBody is data cut into chunks of size bytes, then the last chunk.
func chunkedBody(data []byte, size int) []byte {
	var body []byte
	for i := 0; i < len(data); i += size {
		body = AppendChunk(body, data[i:min(i+size, len(data))])
	}
	return AppendLastChunk(body)
}

// TestReaderLargeChunksDirect pins Reader's fast path: the data of large
// chunks is read by the underlying reader straight into the caller's p
// (not copied through the 16 KiB buffer), and after a large chunk the
// buffer reads only the end of it and the next size line, ending on a
// 64-byte boundary of the stream. Small chunks, or a small p, go through
// the buffer. The bytes are the same either way (TestReaderContract); what
// is pinned here is that the copy is skipped.
func TestReaderLargeChunksDirect(t *testing.T) {
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i*31 + i>>11)
	}
	body := chunkedBody(data, 100_000)
	out, reads := readRecorded(t, body, 64<<10)
	require.True(t, bytes.Equal(data, out))
	var direct, buffered int64
	for i, rd := range reads {
		if rd.direct {
			direct += int64(rd.n)
			continue
		}
		buffered += int64(rd.n)
		if i == 0 {
			continue // the first read knows of no chunk yet: a whole buffer
		}
		assert.LessOrEqual(t, rd.want, headFill+63, "read %d: after a large chunk the buffer takes its end and the next size line only", i)
		if rd.n == rd.want && rd.pos < int64(len(body)) {
			assert.Zero(t, rd.pos%64, "read %d ends at %d: not on a 64-byte boundary", i, rd.pos)
		}
	}
	assert.Greater(t, direct, int64(len(data))*9/10, "chunk data read straight into p (buffered: %d)", buffered)

	for _, tc := range []struct {
		name         string
		chunk, psize int
		direct       bool
	}{
		{"small chunks", 512, 64 << 10, false},
		{"small p", 100_000, directMin - 1, false},
		{"p of directMin", 100_000, directMin, true},
	} {
		out, reads := readRecorded(t, chunkedBody(data, tc.chunk), tc.psize)
		require.True(t, bytes.Equal(data, out), tc.name)
		assert.Equal(t, tc.direct, slices.ContainsFunc(reads, func(rd recordedRead) bool { return rd.direct }),
			"%s: whether data was read straight into p", tc.name)
	}

	// The first read fills the buffer up to the size line of a chunk of
	// directMinData bytes: the whole chunk is then read straight into p.
	first := readerBufSize - len("3ff3\r\n") - len("\r\n") - len("400\r\n")
	require.Equal(t, 0x3ff3, first)
	out, reads = readRecorded(t, AppendLastChunk(AppendChunk(AppendChunk(nil, data[:first]), data[first:first+directMinData])), 64<<10)
	require.True(t, bytes.Equal(data[:first+directMinData], out))
	require.Greater(t, len(reads), 1)
	assert.Equal(t, recordedRead{want: readerBufSize, n: readerBufSize, pos: readerBufSize}, reads[0])
	assert.Equal(t, recordedRead{direct: true, want: directMinData, n: directMinData, pos: readerBufSize + directMinData}, reads[1])

	// The first read cuts a large chunk (directMin bytes or more) less than
	// directMinData bytes before its end: the second read takes the rest of
	// the chunk and headFill bytes, rounded up to a 64-byte boundary of the
	// stream.
	for _, tc := range []struct {
		chunk  int
		second recordedRead
	}{
		{directMin, recordedRead{want: 576, n: 576, pos: 16960}}, // 3 chunks, then 30 bytes left of the 4th: 512+30+34
		{0x405e, recordedRead{want: 640, n: 640, pos: 17024}},    // 100 bytes left: 512+100+28
	} {
		_, reads := readRecorded(t, chunkedBody(data[:64<<10], tc.chunk), 64<<10)
		require.Greater(t, len(reads), 1)
		assert.Equal(t, tc.second, reads[1], "chunks of %d bytes", tc.chunk)
	}
}
