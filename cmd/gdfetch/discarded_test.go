package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A broken -o download leaves nothing (the node's temporary file is
// removed), where curl leaves the partial file: gdfetch says where the bytes
// went and that -C - keeps them. Not when nothing was received, not for a
// failure resuming does not help, not with -C -, --in-place or --json.
func TestDiscardedDownloadNote(t *testing.T) {
	b := newBackend(t)
	dir := t.TempDir()
	const note = "(-C - keeps a partial download and resumes it)"

	out := filepath.Join(dir, "new.bin")
	code, _, stderr := gdfetch(t, "-o", out, b.url("/cut"))
	assert.Equal(t, exitPartial, code, stderr)
	assert.Contains(t, stderr, "\ngdfetch: the 10 bytes received were discarded, "+out+" not created "+note+"\n")
	assert.NoFileExists(t, out)

	old := filepath.Join(dir, "old.bin")
	require.NoError(t, os.WriteFile(old, []byte("old"), 0o600))
	code, _, stderr = gdfetch(t, "-s", "-o", old, b.url("/cut"))
	assert.Equal(t, exitPartial, code, stderr)
	assert.Contains(t, stderr, "the 10 bytes received were discarded, "+old+" left as it was "+note, "-s too: part of the failure")
	got, err := os.ReadFile(old)
	require.NoError(t, err)
	assert.Equal(t, "old", string(got))

	for _, args := range [][]string{
		{"-C", "-", "-o", filepath.Join(dir, "resume.bin"), b.url("/cut")},     // kept: nothing to say
		{"--in-place", "-o", filepath.Join(dir, "inplace.bin"), b.url("/cut")}, // Godot's partial file stays
		{"--json", "-o", filepath.Join(dir, "json.bin"), b.url("/cut")},
		{"-m", "0.2", "-o", filepath.Join(dir, "never.bin"), b.url("/never")},              // no byte received
		{"--max-filesize", "10", "-o", filepath.Join(dir, "big.bin"), b.url("/bytes/100")}, // resuming would not help
		{b.url("/cut")}, // stdout: the bytes were written
	} {
		code, _, stderr := gdfetch(t, args...)
		assert.NotEqual(t, exitOK, code, "%q", args)
		assert.NotContains(t, stderr, "discarded", "%q", args)
	}
}

// Ctrl-C during a -o download: the note follows "interrupted".
func TestDiscardedDownloadNoteInterrupted(t *testing.T) {
	b := newBackend(t)
	out := filepath.Join(t.TempDir(), "drip.bin")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr strings.Builder
	done := make(chan int)
	go func() { done <- runContext(ctx, []string{"-o", out, b.url("/drip/100000")}, &stdout, &stderr) }()
	// /drip sends its body over about 2 s: cancel once the node's temporary
	// file beside out holds some of it.
	require.Eventually(t, func() bool {
		ents, _ := os.ReadDir(filepath.Dir(out))
		for _, e := range ents {
			if fi, err := e.Info(); err == nil && fi.Size() > 0 {
				return true
			}
		}
		return false
	}, 5*time.Second, 5*time.Millisecond)
	cancel()
	code := <-done
	assert.Equal(t, exitInterrupted, code, stderr.String())
	assert.Regexp(t, `gdfetch: interrupted: request canceled\ngdfetch: the [1-9][0-9]* bytes received were discarded, .*drip.bin not created \(-C - keeps`, stderr.String())
	assert.NoFileExists(t, out)
}
