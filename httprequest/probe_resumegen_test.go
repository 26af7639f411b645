package httprequest

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Probes found by TestResumegen (resumegen_test.go). Each FAILS on the code
// it was written against.

// TestProbeResumegenStarTotalCappedSuccess: the partial file holds the
// first 300 bytes of a 1000-byte resource and its state file knows the
// length (1000, from the first response's Content-Length). The server caps
// the range and answers "206, Content-Range: bytes 300-599/*" (RFC 9110
// §14.4: "*" is an unknown complete length), the same ETag. DoResumable
// appends the 300 bytes, replaces the state's length with −1, takes the
// 206 as the end (resume.go step 5 only looks at "bytes S-E/L"), removes
// the state file and reports RESULT_SUCCESS with a 600-byte file: a success
// for an incomplete file, although the state knew it has 1000 bytes (§7
// D3: no silent data loss; resume.go step 3: "L (if given) … the same as
// the state's length when it has one" — a "*" here drops the length the
// state had). The next call starts from a file without state, and a
// caller sees a complete download.
//
// Godot: no counterpart (DoResumable is the port's §7.2 opt-in; Godot's
// node appends whatever a 206 carries, the game checks Content-Range).
// Found by TestResumegen (seed 1, N=300, GDHTTP_RESUMEGEN_ONLY=160) and
// TestResumegenGdfetch (gdfetch -C - exits 0, "* resume: appended from
// byte …", with the short file).
// Expected: a request for the rest ("Range: bytes=600-") until 1000 bytes,
// or a failure that keeps the state; never RESULT_SUCCESS with 600.
func TestProbeResumegenStarTotalCappedSuccess(t *testing.T) {
	content := strings.Repeat("0123456789", 100)
	var ranges []string
	f := newResumeFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ranges = append(ranges, r.Header.Get("Range"))
		w.Header().Set("ETag", `"v1"`)
		switch r.Header.Get("Range") {
		case "bytes=300-": // capped, length not given
			w.Header().Set("Content-Range", "bytes 300-599/*")
			w.Header().Set("Content-Length", "300")
			w.WriteHeader(206)
			_, _ = w.Write([]byte(content[300:600]))
		case "bytes=600-":
			w.Header().Set("Content-Range", "bytes 600-999/1000")
			w.Header().Set("Content-Length", "400")
			w.WriteHeader(206)
			_, _ = w.Write([]byte(content[600:]))
		default:
			_, _ = w.Write([]byte(content))
		}
	}))
	require.NoError(t, os.WriteFile(f.file, []byte(content[:300]), 0o644))
	require.NoError(t, writeResumeState(f.state, &resumeState{URL: f.url, ETag: `"v1"`, Length: 1000}))
	r, err := f.do(t)
	got := fileBytes(t, f.file)
	t.Logf("result %v code %d outcome %v err %v; ranges %q; file %d bytes", r.Result, r.ResponseCode, r.Outcome, err, ranges, len(got))
	if err == nil {
		assert.Equal(t, len(content), len(got), "RESULT_SUCCESS with an incomplete file")
		assert.True(t, string(got) == content[:len(got)], "not the resource's bytes")
	} else {
		assert.FileExists(t, f.state, "a failure keeps the state for the next call")
	}
}

// TestProbeResumegen416NewValidatorComplete: download_file holds version 1
// whole (1000 bytes) and its state (ETag "v1", length unknown: version 1
// came chunked and the connection broke before the last chunk, so the
// call failed with R1 and kept both). The resource is now version 2, of
// the same size, ETag "v2". The server ignores If-Range (a server
// DoResumable already defends against for a 206: a 206 with another ETag
// is ErrResumeMismatch, TestFilesResumable206NewValidator) and answers the
// "Range: bytes=1000-" with "416, Content-Range: bytes */1000, ETag: "v2"".
// DoResumable takes it as "already complete" (step 4 checks the 416's
// length against the file and the state, not its validator) and reports
// RESULT_SUCCESS with version 1's bytes, the state removed: the caller is
// told its file is the resource while the server says, in the same
// response, that the resource is another representation (RFC 9110 §8.8.3:
// another entity tag is another representation). §7 D3 (no silent data
// loss); the comment in resumeOnce says the 416's length is compared "as
// for a 206 (continuesFile)" — continuesFile compares the validator too.
//
// Found by TestResumegen (GDHTTP_RESUMEGEN_SEED=11, N=2000,
// GDHTTP_RESUMEGEN_ONLY=1674, with Last-Modified validators).
//
// Godot: no counterpart (DoResumable is the port's §7.2 opt-in).
// Expected: a 416 whose ETag (or Last-Modified, without an ETag in the
// state) differs from the state's is not "already complete": once more
// without a Range (a 200 with version 2), as for another 416.
func TestProbeResumegen416NewValidatorComplete(t *testing.T) {
	v1 := strings.Repeat("1", 1000)
	v2 := strings.Repeat("2", 1000)
	var ranges []string
	f := newResumeFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ranges = append(ranges, r.Header.Get("Range")+"|"+r.Header.Get("If-Range"))
		w.Header().Set("ETag", `"v2"`)
		if r.Header.Get("Range") == "bytes=1000-" { // If-Range not looked at
			w.Header().Set("Content-Range", "bytes */1000")
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(416)
			return
		}
		w.Header().Set("Content-Length", "1000")
		_, _ = w.Write([]byte(v2))
	}))
	require.NoError(t, os.WriteFile(f.file, []byte(v1), 0o644))
	require.NoError(t, writeResumeState(f.state, &resumeState{URL: f.url, ETag: `"v1"`, Length: -1}))
	r, err := f.do(t)
	got := string(fileBytes(t, f.file))
	t.Logf("result %v code %d outcome %v err %v; requests %q", r.Result, r.ResponseCode, r.Outcome, err, ranges)
	if err == nil {
		assert.True(t, got == v2, "RESULT_SUCCESS (%v, code %d) with version 1's bytes; the server's 416 carries ETag \"v2\"", r.Outcome, r.ResponseCode)
	}
}

// TestProbeResumegen206OtherValidatorKind: the partial file holds the
// first 300 bytes of version 0 (1000 bytes), whose server sent only
// Last-Modified, so the state has no ETag. The resource is now version 1
// (the same size: an edit), served with a strong ETag and no
// Last-Modified, by a server that ignores If-Range (the class
// TestFilesResumable206NewValidator defends against): "206,
// Content-Range: bytes 300-999/1000, ETag: "v1"". continuesFile compares
// the 206's ETag only when the state has one and its Last-Modified only
// when the 206 carries one, so a 206 whose only validator is of the other
// kind passes: version 1's tail is appended to version 0's head, the
// call reports RESULT_SUCCESS with the spliced file (and would save a
// state vouching ETag "v1" for it, had it failed later). resume.go step 3:
// a 206 is appended only with "the same validator as the state's when it
// carries one" — this one carries a validator, not the state's; §7 D3
// (never splice two versions silently). The mirror case (an ETag-only
// state, a 206 with only a new Last-Modified) passes the same way.
// Found by TestResumegen (GDHTTP_RESUMEGEN_SEED=12, N=2000,
// GDHTTP_RESUMEGEN_ONLY=1439).
//
// Godot: no counterpart (DoResumable is the port's §7.2 opt-in).
// Expected: ErrResumeMismatch, the file untouched (or a restart from the
// first byte) — never a success with the spliced file.
func TestProbeResumegen206OtherValidatorKind(t *testing.T) {
	v0 := strings.Repeat("0", 1000)
	v1 := strings.Repeat("1", 1000)
	lm := "Mon, 01 Jan 2024 00:00:00 GMT"
	f := newResumeFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("Range") == "bytes=300-" { // If-Range not looked at
			w.Header().Set("Content-Range", "bytes 300-999/1000")
			w.Header().Set("Content-Length", "700")
			w.WriteHeader(206)
			_, _ = w.Write([]byte(v1[300:]))
			return
		}
		w.Header().Set("Content-Length", "1000")
		_, _ = w.Write([]byte(v1))
	}))
	require.NoError(t, os.WriteFile(f.file, []byte(v0[:300]), 0o644))
	require.NoError(t, writeResumeState(f.state, &resumeState{URL: f.url, LastModified: lm, Length: 1000}))
	r, err := f.do(t)
	got := string(fileBytes(t, f.file))
	t.Logf("result %v code %d outcome %v err %v", r.Result, r.ResponseCode, r.Outcome, err)
	spliced := got == v0[:300]+v1[300:]
	assert.False(t, spliced, "version 0's 300 bytes followed by version 1's 700 (result %v)", r.Result)
	if err == nil {
		assert.True(t, got == v1, "RESULT_SUCCESS with a file that is not version 1")
	} else {
		assert.True(t, got == v0[:300] || got == v1[:len(got)], "the file is neither untouched nor a prefix of version 1")
	}
}
