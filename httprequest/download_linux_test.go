//go:build linux

package httprequest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/childtest"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// R10 (§2.10): a read-only directory and a read-only target cannot be written,
// in both modes. In atomic mode (§7 D3) the target's own permissions are
// checked without truncating it — rename would ignore them. Runs as nobody
// when the tests run as root.
func TestDownloadReadOnly(t *testing.T) {
	if os.Geteuid() == 0 && !childtest.InChild(t) {
		childtest.Run(t, childtest.Options{Unprivileged: true})
		return
	}
	dir := t.TempDir()
	roDir := filepath.Join(dir, "ro")
	require.NoError(t, os.Mkdir(roDir, 0o755))
	roFile := filepath.Join(dir, "ro.txt")
	require.NoError(t, os.WriteFile(roFile, []byte("read-only content"), 0o444))
	require.NoError(t, os.Chmod(roDir, 0o555))
	t.Cleanup(func() { os.Chmod(roDir, 0o755) })

	for _, inPlace := range []bool{false, true} {
		name := map[bool]string{false: "atomic", true: "in place"}[inPlace]
		t.Run(name+"/new file in read-only dir", func(t *testing.T) {
			_, err := openDownload(filepath.Join(roDir, "new.bin"), inPlace)
			require.ErrorIs(t, err, godot.ErrFileCantOpen)
			assert.ErrorIs(t, err, syscall.EACCES)
			assert.Empty(t, dirEntries(t, roDir))
		})
		t.Run(name+"/writable file in a read-only dir", func(t *testing.T) {
			// Godot's fopen needs the file's permission only: written in
			// place when the temporary file cannot be created beside it.
			require.NoError(t, os.Chmod(roDir, 0o755))
			target := filepath.Join(roDir, "rw.txt")
			require.NoError(t, os.WriteFile(target, []byte("old"), 0o644))
			require.NoError(t, os.Chmod(roDir, 0o555))
			d, err := openDownload(target, inPlace)
			require.NoError(t, err)
			assert.False(t, d.atomic, "in place")
			writeAll(t, d, "new")
			require.NoError(t, d.commit())
			got, err := os.ReadFile(target)
			require.NoError(t, err)
			assert.Equal(t, "new", string(got))
			assert.Equal(t, []string{"rw.txt"}, dirEntries(t, roDir), "no temporary file")
			require.NoError(t, os.Chmod(roDir, 0o755))
			require.NoError(t, os.Remove(target))
			require.NoError(t, os.Chmod(roDir, 0o555))
		})
		t.Run(name+"/read-only file", func(t *testing.T) {
			_, err := openDownload(roFile, inPlace)
			require.ErrorIs(t, err, godot.ErrFileCantOpen)
			assert.ErrorIs(t, err, syscall.EACCES)
			got, err := os.ReadFile(roFile)
			require.NoError(t, err)
			assert.Equal(t, "read-only content", string(got))
			assert.ElementsMatch(t, []string{"ro", "ro.txt"}, dirEntries(t, dir))
		})
	}
}

// R11 (§2.6.1.6, §2.10): a write that fails in the middle of the body, through
// a file-size limit (RLIMIT_FSIZE, set in a child process). Atomic mode keeps
// the old file and removes the temporary one (§7 D3); in place leaves Godot's
// partial file (§2.9.3).
func TestDownloadWriteFailsMidBody(t *testing.T) {
	if !childtest.InChild(t) {
		childtest.Run(t, childtest.Options{})
		return
	}
	const limit = 64 << 10
	dir := t.TempDir()
	target := filepath.Join(dir, "big.bin")
	old := bytes.Repeat([]byte("old "), 100)
	require.NoError(t, os.WriteFile(target, old, 0o644))
	childtest.LimitFileSize(t, limit)

	chunk := bytes.Repeat([]byte{'z'}, 16<<10)
	for _, inPlace := range []bool{false, true} {
		t.Run(map[bool]string{false: "atomic", true: "in place"}[inPlace], func(t *testing.T) {
			d, err := openDownload(target, inPlace)
			require.NoError(t, err)
			var werr error
			written := 0
			for i := 0; i < 16 && werr == nil; i++ {
				var n int
				n, werr = d.Write(chunk)
				written += n
			}
			require.ErrorIs(t, werr, godot.ErrFileCantWrite)
			assert.ErrorIs(t, werr, syscall.EFBIG)
			assert.Equal(t, limit, written)
			d.abort()
			got, err := os.ReadFile(target)
			require.NoError(t, err)
			if inPlace {
				assert.Equal(t, bytes.Repeat([]byte{'z'}, limit), got, "Godot's partial file")
			} else {
				assert.Equal(t, old, got, "old file intact")
			}
			assert.Equal(t, []string{"big.bin"}, dirEntries(t, dir), "no temporary file left")
		})
	}
}

// R10 through the node (§2.6.1.1): a new file in a read-only directory and a
// read-only existing file, both modes, every driver; the old file intact and
// nothing created. Runs as nobody when the tests run as root.
func TestNodeDownloadReadOnly(t *testing.T) {
	if os.Geteuid() == 0 && !childtest.InChild(t) {
		childtest.Run(t, childtest.Options{Unprivileged: true})
		return
	}
	for _, inPlace := range []bool{false, true} {
		for _, existing := range []bool{false, true} {
			name := map[bool]string{false: "atomic", true: "in place"}[inPlace] + map[bool]string{false: "/read-only dir", true: "/read-only file"}[existing]
			t.Run(name, func(t *testing.T) {
				eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
					dir := t.TempDir()
					target := filepath.Join(dir, "f.bin")
					if existing {
						require.NoError(t, os.WriteFile(target, []byte(oldContent), 0o444))
					} else {
						require.NoError(t, os.Chmod(dir, 0o555))
						t.Cleanup(func() { os.Chmod(dir, 0o755) })
					}
					require.NoError(t, n.SetDownloadFile(target))
					require.NoError(t, n.SetDownloadInPlace(inPlace))
					srv := serve(t, testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
					o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
					assertCompletion(t, Completion{ResultDownloadFileCantOpen, 200, hdrs("Content-Length: 5"), nil}, o)
					assert.ErrorIs(t, o.Err, syscall.EACCES)
					got, err := os.ReadFile(target)
					if existing {
						require.NoError(t, err)
						assert.Equal(t, oldContent, string(got))
					} else {
						assert.Error(t, err, "nothing created")
					}
					assert.LessOrEqual(t, len(dirEntries(t, dir)), 1)
				})
			})
		}
	}
}

// R11 through the node (§2.6.1.6): a write that fails mid-body because of a
// file-size limit (RLIMIT_FSIZE in a child process). Atomic mode: the old
// file intact and no temporary file (§7 D3); in place: Godot's partial file
// (§2.9.3).
func TestNodeDownloadWriteErrorMidBody(t *testing.T) {
	if !childtest.InChild(t) {
		childtest.Run(t, childtest.Options{})
		return
	}
	const limit = 64 << 10
	childtest.LimitFileSize(t, limit)
	body := bigBody(256 << 10)
	resp := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body)
	for _, inPlace := range []bool{false, true} {
		t.Run(map[bool]string{false: "atomic", true: "in place"}[inPlace], func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				dir := t.TempDir()
				target := filepath.Join(dir, "big.bin")
				require.NoError(t, os.WriteFile(target, []byte(oldContent), 0o644))
				require.NoError(t, n.SetDownloadFile(target))
				require.NoError(t, n.SetDownloadInPlace(inPlace))
				srv := serve(t, testserver.Respond(resp))
				o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
				assertCompletion(t, Completion{ResultDownloadFileWriteError, 200, hdrs("Content-Length: " + strconv.Itoa(len(body))), nil}, o)
				assert.ErrorIs(t, o.Err, syscall.EFBIG)
				assert.ErrorIs(t, o.Err, godot.ErrFileCantWrite)
				got, err := os.ReadFile(target)
				require.NoError(t, err)
				if inPlace {
					assert.Equal(t, body[:limit], got, "Godot's partial file")
				} else {
					assert.Equal(t, oldContent, string(got), "old file intact")
				}
				assert.Equal(t, []string{"big.bin"}, dirEntries(t, dir), "no temporary file left")
			})
		})
	}
}

// §2.6.1.1 with FileAccessUnix::open's stat check: a download_file that
// exists and is not a regular file — a FIFO (whose open would block until a
// reader came), /dev/null — is RESULT_DOWNLOAD_FILE_CANT_OPEN with the code
// and headers, in every driver and mode, at once.
func TestNodeDownloadNotRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	for _, target := range []string{fifo, os.DevNull} {
		for _, inPlace := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/in place %v", filepath.Base(target), inPlace), func(t *testing.T) {
				eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
					require.NoError(t, n.SetDownloadFile(target))
					require.NoError(t, n.SetDownloadInPlace(inPlace))
					srv := serve(t, testserver.Respond(resp))
					o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
					assertCompletion(t, Completion{ResultDownloadFileCantOpen, 200, hdrs("Content-Length: 5"), nil}, o)
					assert.ErrorIs(t, o.Err, godot.ErrFileCantOpen)
				})
			})
		}
	}
}
