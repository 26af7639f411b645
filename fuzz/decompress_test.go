package fuzz

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/zlibref"
)

// refLimit bounds the reference decoder's output; inputs that expand beyond
// it are skipped.
const refLimit = 1 << 20

var errRefLimit = zlibref.ErrLimit

// refGzip decodes src by Godot's rules with the port's §7 changes
// (zlibref.Gunzip).
func refGzip(src []byte) ([]byte, error) {
	out, _, err := zlibref.Gunzip(src, refLimit)
	return out, err
}

// refDeflate decodes a zlib stream (RFC 1950, Godot's "deflate", §2.8.2.1)
// with compress/zlib; bytes after the checksum are an error (§7 D1).
func refDeflate(src []byte) ([]byte, error) {
	r := bytes.NewReader(src) // a ByteReader: flate reads no byte beyond the stream
	zr, err := zlib.NewReader(r)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(zr, refLimit+1))
	if err != nil {
		return nil, err
	}
	if len(out) > refLimit {
		return nil, errRefLimit
	}
	if err := zr.Close(); err != nil {
		return nil, err
	}
	if r.Len() != 0 {
		return nil, errors.New("trailing data")
	}
	return out, nil
}

// refBrotli decodes src with andybalholm/brotli (the opt-in "br", §7.2).
func refBrotli(src []byte) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(brotli.NewReader(bytes.NewReader(src)), refLimit+1))
	if err != nil {
		return nil, err
	}
	if len(out) > refLimit {
		return nil, errRefLimit
	}
	return out, nil
}

var encodings = []struct {
	name string
	ref  func([]byte) ([]byte, error)
}{{"gzip", refGzip}, {"deflate", refDeflate}, {"br", refBrotli}}

// piecesDecide reports whether two completions of a compressed body that
// does not decode differ only as Godot's do when its reads split the body
// differently: Godot checks each piece fed to the decoder for a decoding
// error before it checks body_size_limit on the piece's output (§2.8.2.2–3,
// TestAudit5DecodeErrorBeforeLimitInAPiece), so a body whose output passes
// the limit before its error is R7 when the bytes up to that point came in
// reads of their own, and R8 when they came in the read that holds the
// error — the blocking read of Do takes up to download_chunk_size, the
// Process loop what has arrived (§1.10.1). Everything else must agree.
func piecesDecide(a, b httprequest.Completion) bool {
	r7, r8 := httprequest.ResultBodySizeLimitExceeded, httprequest.ResultBodyDecompressFailed
	if !(a.Result == r7 && b.Result == r8 || a.Result == r8 && b.Result == r7) {
		return false
	}
	a.Result = b.Result
	return sameCompletion(a, b)
}

// compressedResponse frames body with Content-Encoding enc as Content-Length,
// chunked (cut into chunks chosen by rng) or read-until-close.
func compressedResponse(enc string, body []byte, framing uint8, rng *splitmix64) []byte {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\nContent-Encoding: " + enc + "\r\n")
	switch framing % 3 {
	case 0:
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
		b.Write(body)
	case 1:
		b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		for rest := body; len(rest) > 0; {
			n := min(len(rest), 1+int(rng.next()%uint64(len(rest))))
			fmt.Fprintf(&b, "%x\r\n", n)
			b.Write(rest[:n])
			b.WriteString("\r\n")
			rest = rest[n:]
		}
		b.WriteString("0\r\n\r\n")
	case 2:
		b.WriteString("Connection: close\r\n\r\n")
		b.Write(body)
	}
	return b.Bytes()
}

// FuzzDecompress serves arbitrary bytes as a gzip, deflate or br body
// (Content-Length, chunked or until close; cut at fuzzer-chosen points) to
// the node, driven by Do and by the Process loop, with body_size_limit from
// the input, and checks against a reference decoder of the same bytes:
//   - RESULT_SUCCESS only when the reference decodes the whole body, and then
//     with exactly its output (§2.8.2); never for a stream cut short or with
//     trailing bytes (§7 D3/D1 → RESULT_BODY_DECOMPRESS_FAILED, COMPAT Q1/Q2);
//   - when the reference decodes it and the server ends cleanly, SUCCESS —
//     or RESULT_BODY_SIZE_LIMIT_EXCEEDED exactly when the output (or the
//     compressed Content-Length) exceeds the limit (§2.9.1, §2.8.2.3);
//   - never a delivered body beyond the limit; the two drivers agree, but
//     for what Godot's pieces decide (piecesDecide).
//
// The gzip reference follows zlib (Godot's decoder), not compress/gzip:
// see knownGzipDifference for where the port's decoder differs.
func FuzzDecompress(f *testing.F) {
	text := []byte(strings.Repeat("godot http request decompress ", 40))
	gz := func(name, comment string, extra []byte, data []byte) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Name, w.Comment, w.Extra = name, comment, extra
		_, _ = w.Write(data)
		_ = w.Close()
		return b.Bytes()
	}
	zl := func(data []byte) []byte {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		_, _ = w.Write(data)
		_ = w.Close()
		return b.Bytes()
	}
	br := func(data []byte) []byte {
		var b bytes.Buffer
		w := brotli.NewWriter(&b)
		_, _ = w.Write(data)
		_ = w.Close()
		return b.Bytes()
	}
	g := gz("", "", nil, text)
	corrupt := bytes.Clone(g)
	corrupt[len(corrupt)/2] ^= 0x55
	badCRC := bytes.Clone(g)
	badCRC[len(badCRC)-6] ^= 1
	reserved := bytes.Clone(g)
	reserved[3] |= 0x20 // a reserved FLG bit: zlib refuses "unknown header flags set"
	z := zl(text)
	b := br(text)
	for i, s := range []struct {
		enc  uint8
		body []byte
	}{
		{0, g}, {0, g[:len(g)-4]}, {0, g[:len(g)/2]}, {0, g[:5]}, {0, append(bytes.Clone(g), g...)},
		{0, append(bytes.Clone(g), 0)}, {0, append(bytes.Clone(g), "junk"...)}, {0, corrupt}, {0, badCRC},
		{0, gz("a.txt", "short", nil, text)}, {0, gz(strings.Repeat("n", 200), strings.Repeat("c", 300), []byte("xx"), text)},
		{0, gz("", "", bytes.Repeat([]byte{1}, 1000), text)}, {0, gz("", "", nil, nil)},
		{0, gz("", "", nil, bytes.Repeat([]byte{0}, 200000))},
		{0, gz(strings.Repeat("n", 511), "", nil, text)}, {0, gz(strings.Repeat("n", 512), "", nil, text)},
		{0, gz("", strings.Repeat("c", 4000), nil, text)}, {0, reserved},
		{0, zlibref.Member(0, "hcrc", text, true)}, {0, zlibref.Member(0, "", nil, true)},
		{1, z}, {1, z[:len(z)-1]}, {1, append(bytes.Clone(z), 0)}, {1, g},
		{2, b}, {2, b[:len(b)-1]}, {2, append(bytes.Clone(b), 0)},
		{0, nil}, {1, nil},
	} {
		f.Add(s.enc, s.body, uint64(i)*0x9e3779b9, int32(i*997%5000)-1)
	}
	f.Fuzz(func(t *testing.T, encByte uint8, body []byte, seed uint64, limit int32) {
		if len(body) > maxServerBytes-256 {
			return
		}
		enc := encodings[int(encByte)%len(encodings)]
		want, refErr := enc.ref(body)
		if errors.Is(refErr, errRefLimit) {
			return
		}
		if len(body) == 0 { // a body of zero bytes is not decoded (Godot never feeds the decoder)
			want, refErr = nil, nil
		}
		base := takeBaseline(t)
		rng := splitmix64(seed)
		framing := uint8(seed>>8) % 3
		resp := compressedResponse(enc.name, body, framing, &rng)
		p := planFor(resp, rng.next())
		o := nodeOptions{limit: max(int64(limit), -1), brotli: true}
		var runs []nodeRun
		for _, d := range []nodeDriver{driveDo, driveProcess} {
			r := runNode(t, p, d, o)
			checkCompletion(t, p, d, o, r)
			runs = append(runs, r)
		}
		base.check(t, func() string { return fmt.Sprintf("plan %v body %q", p, body) })
		what := func() string {
			return fmt.Sprintf("\n  %s body (%d bytes, limit %d): %q\n  reference: %d bytes, %v\n  plan: %v", enc.name, len(body), o.limit, body, len(want), refErr, p)
		}
		for i, r := range runs {
			c := r.c
			if c.Result == httprequest.ResultSuccess {
				if refErr != nil {
					t.Fatalf("run %d: SUCCESS for a body the reference refuses (§2.8.2, §7 D1/D3)%s", i, what())
				}
				if !bytes.Equal(c.Body, want) {
					t.Fatalf("run %d: SUCCESS with %d bytes that differ from the reference's%s", i, len(c.Body), what())
				}
			}
			if p.end == endReset {
				continue // the RST may have dropped data not read yet
			}
			overLimit := o.limit >= 0 && (int64(len(want)) > o.limit || framing == 0 && int64(len(body)) > o.limit)
			switch {
			case refErr == nil && overLimit:
				if c.Result != httprequest.ResultBodySizeLimitExceeded {
					t.Fatalf("run %d: %v, want RESULT_BODY_SIZE_LIMIT_EXCEEDED (§2.9.1, §2.8.2.3)%s", i, r, what())
				}
			case refErr == nil:
				if c.Result != httprequest.ResultSuccess {
					t.Fatalf("run %d: %v, want RESULT_SUCCESS (the reference decodes it)%s", i, r, what())
				}
			default:
				if c.Result != httprequest.ResultBodyDecompressFailed && c.Result != httprequest.ResultBodySizeLimitExceeded {
					t.Fatalf("run %d: %v, want RESULT_BODY_DECOMPRESS_FAILED (§2.8.2.2, §7 D3)%s", i, r, what())
				}
			}
		}
		if p.end != endReset && !sameCompletion(runs[0].c, runs[1].c) && !(refErr != nil && piecesDecide(runs[0].c, runs[1].c)) {
			t.Fatalf("Do and Process deliver different completions: %v vs %v%s", runs[0], runs[1], what())
		}
	})
}
