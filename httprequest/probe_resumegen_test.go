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
