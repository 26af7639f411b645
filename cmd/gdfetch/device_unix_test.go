//go:build unix && !aix

// (AIX has no syscall.Mkfifo.)

package main

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// -f with -o naming a device (here a FIFO, as /dev/stdout or a pipe would
// be): the body reaches the device only below 400, as with stdout and a -o
// file — curl -f writes no error page. With --json too.
func TestFailDeviceGetsNoErrorPage(t *testing.T) {
	b := newBackend(t)
	for _, tc := range []struct {
		path string
		json bool
		code int
		body string
	}{
		{"/nope", false, exitHTTPError, ""},
		{"/bytes/5", false, exitOK, "abcde"},
		{"/nope", true, exitHTTPError, ""},
		{"/bytes/5", true, exitOK, "abcde"}, // --json held it and never wrote it
	} {
		t.Run(tc.path+map[bool]string{true: "/json"}[tc.json], func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "out.fifo")
			require.NoError(t, syscall.Mkfifo(fifo, 0o600))
			got := make(chan []byte, 1)
			go func() {
				f, err := os.Open(fifo) // until gdfetch opens it for writing
				if err != nil {
					got <- nil
					return
				}
				defer f.Close()
				data, _ := io.ReadAll(f)
				got <- data
			}()
			args := []string{"-s", "-f", "-o", fifo, b.url(tc.path)}
			if tc.json {
				args = append(args, "--json")
			}
			code, _, stderr := gdfetch(t, args...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Equal(t, tc.body, string(<-got))
		})
	}
}

// -o naming the file stdout is redirected to (-o /dev/stdout > FILE): the
// body goes to stdout after the -i block, as curl writes it, instead of a
// download renamed over FILE, which would send what follows to the old,
// unlinked file.
func TestOutputIsStdoutFile(t *testing.T) {
	b := newBackend(t)
	path := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	code := run([]string{"-s", "-i", "-o", path, b.url("/bytes/5")}, f, io.Discard)
	assert.Equal(t, exitOK, code)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Regexp(t, `^RESULT_SUCCESS \(0\) 200\n(.+\n)+\nabcde$`, string(data))
}
