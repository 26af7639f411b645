package httprequest

import (
	"bytes"
	stdzlib "compress/zlib"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/gdhttp/gdhttp/internal/zlibref"
)

var errFuzzLimit = errors.New("fuzz output limit")

// fuzzDecode feeds src to a decoder in pieces of the given sizes (cycled) and
// returns the output, capped at 1 MiB (errFuzzLimit beyond).
func fuzzDecode(enc encoding, src []byte, sizes []byte) ([]byte, error) {
	var out []byte
	d := newDecoder(enc, 4096, func(p []byte) error {
		if len(out)+len(p) > 1<<20 {
			return errFuzzLimit
		}
		out = append(out, p...)
		return nil
	})
	defer d.release()
	for i := 0; len(src) > 0; i++ {
		n := len(src)
		if len(sizes) > 0 {
			n = min(n, int(sizes[i%len(sizes)])+1)
		}
		if err := d.write(src[:n]); err != nil {
			return out, err
		}
		src = src[n:]
	}
	return out, d.close()
}

// FuzzDecoder checks the streaming decoder (§2.8.2, §7 D1/D3) on arbitrary
// input: no panic, no hang; the outcome does not depend on how the body is
// cut into chunks; and against the standard library on the same bytes —
// gzip: success exactly when the zlib-rule reference (internal/zlibref:
// reserved flag bits refused, header strings of any length, members
// concatenated) decodes all of it, with the same output; deflate: success only when compress/zlib succeeds,
// with the same output.
func FuzzDecoder(f *testing.F) {
	text := []byte(strings.Repeat("godot http request ", 50))
	gz := gzipBytes(f, text)
	zl := zlibBytes(f, text)
	br := brotliBytes(f, text)
	for _, seed := range []struct {
		enc  byte
		src  []byte
		cuts []byte
	}{
		{0, gz, nil}, {0, gz, []byte{0}}, {0, append(bytes.Clone(gz), gz...), []byte{7, 100}},
		{0, append(bytes.Clone(gz), "junk"...), []byte{3}}, {0, gz[:len(gz)/2], nil},
		{1, zl, []byte{1, 2, 3}}, {1, append(bytes.Clone(zl), 0), nil}, {1, rawDeflateBytes(f, text), nil},
		{2, br, []byte{0, 1}}, {2, br[:len(br)-1], nil}, {0, nil, nil}, {0, []byte{0x1f, 0x8b}, nil},
		{0, append(bytes.Clone(gz), zlibref.Member(0x20, "", text, false)...), []byte{40}}, {0, zlibref.Member(0x20, "", text, false), nil},
		{0, gzipMember(f, gzHeader{extra: []byte{1}, name: longField(600)}, text), []byte{200}},
	} {
		f.Add(seed.enc, seed.src, seed.cuts)
	}
	f.Fuzz(func(t *testing.T, encByte byte, src []byte, cuts []byte) {
		enc := []encoding{encGzip, encDeflate, encBrotli}[int(encByte)%3]
		whole, werr := fuzzDecode(enc, src, nil)
		split, serr := fuzzDecode(enc, src, cuts)
		if errors.Is(werr, errFuzzLimit) || errors.Is(serr, errFuzzLimit) {
			return
		}
		if (werr == nil) != (serr == nil) {
			t.Fatalf("whole: %v, split %v: %v", werr, cuts, serr)
		}
		if werr == nil && !bytes.Equal(whole, split) {
			t.Fatalf("output depends on the cuts %v", cuts)
		}
		if werr != nil {
			var de *DecodeError
			if !errors.As(werr, &de) {
				t.Fatalf("not a *DecodeError: %v", werr)
			}
		}
		if len(src) == 0 {
			if werr != nil || len(whole) != 0 {
				t.Fatalf("empty body: %v %q", werr, whole)
			}
			return
		}
		switch enc {
		case encGzip:
			ref, _, err := zlibref.Gunzip(src, 1<<20)
			if errors.Is(err, zlibref.ErrLimit) {
				return
			}
			if (err == nil) != (werr == nil) {
				t.Fatalf("reference: %v, decoder: %v", err, werr)
			}
			if err == nil && !bytes.Equal(ref, whole) {
				t.Fatal("output differs from the reference")
			}
		case encDeflate:
			if werr != nil {
				return
			}
			zr, err := stdzlib.NewReader(bytes.NewReader(src))
			if err != nil {
				t.Fatalf("decoder accepted what compress/zlib refuses: %v", err)
			}
			ref, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(ref, whole) {
				t.Fatalf("compress/zlib: %v, outputs equal: %v", err, bytes.Equal(ref, whole))
			}
		}
	})
}

// FuzzRedirectTarget checks redirect target resolution (§2.8.1.5, §7.2) on
// arbitrary Location values: no panic; Godot's rule replaces the path
// verbatim unless the target starts with "http", and then agrees with
// HTTPRequest's URL parser whenever that accepts it; an RFC redirect that is
// followed always names a host, a port in 1…65535 and a non-empty path.
func FuzzRedirectTarget(f *testing.F) {
	for _, s := range []string{"/new", "foo/bar", "//h/p", "http://a.test:81/x", "https://[::1]:9/", "http://:80/",
		"http://h:abc/", "httpx://h/", "?q", "../up", "http://a:b:c/", "https://user@h.test#f", ""} {
		f.Add(s, true)
		f.Add(s, false)
	}
	cur := target{TLS: false, Host: "origin.test", Port: 8080, Path: "/dir/page"}
	f.Fuzz(func(t *testing.T, loc string, rfc bool) {
		got, ok := redirectTarget(cur, loc, rfc)
		if !rfc {
			if loc == "" {
				if ok {
					t.Fatal("empty Location followed")
				}
				return
			}
			if !ok {
				t.Fatal("Godot follows every non-empty target")
			}
			if !strings.HasPrefix(loc, "http") {
				if got != (target{cur.TLS, cur.Host, cur.Port, loc}) {
					t.Fatalf("path replacement: %+v", got)
				}
				return
			}
			if want, err := parseTarget(loc); err == nil && got != want {
				t.Fatalf("absolute: %+v, want %+v", got, want)
			}
			return
		}
		if ok && (got.Host == "" || got.Port < 1 || got.Port > 65535 || got.Path == "") {
			t.Fatalf("RFC target %+v", got)
		}
	})
}
