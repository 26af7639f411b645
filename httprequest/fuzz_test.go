package httprequest

import (
	"bytes"
	stdgzip "compress/gzip"
	stdzlib "compress/zlib"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
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
// gzip: success exactly when compress/gzip (multistream) decodes all of it,
// with the same output, under zlib's header rules (gunzipReference); deflate: success only when compress/zlib succeeds,
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
		{0, append(bytes.Clone(gz), reservedFlag(gz)...), []byte{40}}, {0, reservedFlag(gz), nil},
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
			ref, err, comparable := gunzipReference(src)
			if !comparable || len(ref) > 1<<20 {
				return
			}
			if (err == nil) != (werr == nil) {
				t.Fatalf("compress/gzip: %v, decoder: %v", err, werr)
			}
			if err == nil && !bytes.Equal(ref, whole) {
				t.Fatal("output differs from compress/gzip")
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

// gunzipReference decodes src as compress/gzip does with multistream on,
// member by member, and applies zlib's header rules where Go's differ
// (§2.8.2.1, gunzip): a member whose header sets a reserved flag bit is
// refused (Go ignores those bits). Go refuses a FNAME or FCOMMENT of 512
// bytes or more, zlib takes any length: when a member has one, comparable
// is false (TestIssue7Rule9GzipHeaders covers those). Output is capped just past
// 1 MiB.
func gunzipReference(src []byte) (out []byte, err error, comparable bool) {
	r := bytes.NewReader(src)
	var zr *stdgzip.Reader
	for first := true; first || r.Len() > 0; first = false {
		h := src[len(src)-r.Len():]
		if gzipFieldTooLongForGo(h) {
			return out, nil, false
		}
		if len(h) >= 10 && h[0] == 0x1f && h[1] == 0x8b && h[2] == 8 && h[3]&gzFlagReserved != 0 {
			return out, stdgzip.ErrHeader, true
		}
		if first {
			zr, err = stdgzip.NewReader(r)
		} else {
			err = zr.Reset(r)
		}
		if err != nil {
			return out, err, true
		}
		zr.Multistream(false)
		var b bytes.Buffer
		_, err = io.Copy(&b, io.LimitReader(zr, int64(1<<20+1-len(out))))
		out = append(out, b.Bytes()...)
		if err != nil || len(out) > 1<<20 {
			return out, err, true
		}
	}
	return out, nil, true
}

// gzipFieldTooLongForGo reports whether the member header at the start of h
// has a FNAME or FCOMMENT with no NUL in its first 512 bytes, which Go's
// readers refuse.
func gzipFieldTooLongForGo(h []byte) bool {
	if len(h) < 10 {
		return false
	}
	flags, rest := h[3], h[10:]
	if flags&gzFlagExtra != 0 {
		if len(rest) < 2 {
			return false
		}
		n := 2 + int(binary.LittleEndian.Uint16(rest))
		if len(rest) < n {
			return false
		}
		rest = rest[n:]
	}
	for _, f := range [...]byte{gzFlagName, gzFlagComment} {
		if flags&f == 0 {
			continue
		}
		i := bytes.IndexByte(rest, 0)
		if i >= 512 || (i < 0 && len(rest) >= 512) {
			return true
		}
		if i < 0 {
			return false
		}
		rest = rest[i+1:]
	}
	return false
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

// reservedFlag returns a copy of the gzip member gz with reserved flag bit
// 0x20 set, which zlib refuses and Go ignores.
func reservedFlag(gz []byte) []byte {
	c := bytes.Clone(gz)
	c[3] |= 0x20
	return c
}
