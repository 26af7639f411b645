package httprequest

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The findings of the generated download audit (TestResumegen,
// resumegen_test.go), each as one hand-written case: DoResumable reported
// success for a file that was short or held two versions (§7 D3).

// TestResumableStarTotalCapped: the partial file holds the first 300
// bytes of a 1000-byte resource and its state knows the length. A server
// that caps ranges answers "206, Content-Range: bytes 300-599/*" (an
// unknown complete length, RFC 9110 §14.4). The state's length stands for
// it: the 300 bytes are appended and the rest is asked for ("Range:
// bytes=600-"), never RESULT_SUCCESS with 600 bytes (it was: the "*"
// replaced the state's length and the 206 was taken as the end).
func TestResumableStarTotalCapped(t *testing.T) {
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

// TestResumable416OtherValidator: a 416 whose complete length is the
// file's size but whose ETag (or, without an ETag in the state, whose
// Last-Modified) is not the state's says the resource is now another
// representation (RFC 9110 §8.8.3): not "already complete", but once more
// without a Range, as for another 416 (it was RESULT_SUCCESS with the old
// version's bytes). sameRepresentation is the 206's rule.
func TestResumable416OtherValidator(t *testing.T) {
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

// TestResumable206OtherValidatorKind: a 206 whose only validator is of a
// kind the state does not have (an ETag where the state kept only a
// Last-Modified, and the reverse), from a server that ignored If-Range,
// cannot show it continues the file: ErrResumeMismatch, the file untouched
// — never version 0's head spliced to version 1's tail and reported as a
// success (it was).
func TestResumable206OtherValidatorKind(t *testing.T) {
	for _, stateHasETag := range []bool{false, true} {
		t.Run(map[bool]string{false: "state Last-Modified, 206 ETag", true: "state ETag, 206 Last-Modified"}[stateHasETag], func(t *testing.T) {
			resume206OtherValidatorKind(t, stateHasETag)
		})
	}
}

func resume206OtherValidatorKind(t *testing.T, stateHasETag bool) {
	v0 := strings.Repeat("0", 1000)
	v1 := strings.Repeat("1", 1000)
	lm := "Mon, 01 Jan 2024 00:00:00 GMT"
	f := newResumeFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if stateHasETag {
			w.Header().Set("Last-Modified", "Tue, 02 Jan 2024 00:00:00 GMT")
		} else {
			w.Header().Set("ETag", `"v1"`)
		}
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
	st := &resumeState{URL: f.url, LastModified: lm, Length: 1000}
	if stateHasETag {
		st = &resumeState{URL: f.url, ETag: `"v0"`, Length: 1000}
	}
	require.NoError(t, writeResumeState(f.state, st))
	r, err := f.do(t)
	got := string(fileBytes(t, f.file))
	require.ErrorIs(t, err, ErrResumeMismatch, "result %v code %d outcome %v", r.Result, r.ResponseCode, r.Outcome)
	assert.Equal(t, ResultDownloadFileCantOpen, r.Result)
	assert.Equal(t, v0[:300], got, "the file untouched")
}
