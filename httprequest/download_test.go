package httprequest

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
)

// dirEntries lists the names in dir (to prove no temporary file is left).
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func writeAll(t *testing.T, d *download, chunks ...string) {
	t.Helper()
	for _, c := range chunks {
		n, err := d.Write([]byte(c))
		require.NoError(t, err)
		require.Equal(t, len(c), n)
	}
}

// §7 D3: atomic by default — the body goes to a temporary file beside the
// target, renamed over it only on success; §2.9.2: opened when the body starts.
func TestDownloadAtomicCommit(t *testing.T) {
	for _, existing := range []bool{false, true} {
		t.Run(map[bool]string{false: "new file", true: "replaces old file"}[existing], func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "out.bin")
			if existing {
				require.NoError(t, os.WriteFile(target, []byte("old content"), 0o640))
			}
			d, err := openDownload(target, false)
			require.NoError(t, err)
			require.True(t, d.atomic)
			assert.Equal(t, filepath.Dir(target), filepath.Dir(d.path), "temporary file beside the target")
			writeAll(t, d, "new ", "content")
			if existing {
				got, err := os.ReadFile(target)
				require.NoError(t, err)
				assert.Equal(t, "old content", string(got), "target untouched until commit")
			}
			require.NoError(t, d.commit())
			got, err := os.ReadFile(target)
			require.NoError(t, err)
			assert.Equal(t, "new content", string(got))
			assert.Equal(t, []string{"out.bin"}, dirEntries(t, dir), "no temporary file left")
			if existing && runtime.GOOS != "windows" {
				fi, err := os.Stat(target)
				require.NoError(t, err)
				assert.Equal(t, fs.FileMode(0o640), fi.Mode().Perm(), "permissions kept, as truncating in place would")
			}
			d.abort() // after commit: no-op
			assert.FileExists(t, target)
		})
	}
}

// §7 D3: on any failure the old file is intact and no temporary file stays.
func TestDownloadAtomicAbortKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "keep.txt")
	require.NoError(t, os.WriteFile(target, []byte("previous good file"), 0o644))
	d, err := openDownload(target, false)
	require.NoError(t, err)
	writeAll(t, d, "half a bo")
	d.abort()
	d.abort()
	got, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, "previous good file", string(got))
	assert.Equal(t, []string{"keep.txt"}, dirEntries(t, dir))

	// A new target that fails leaves nothing at all.
	d, err = openDownload(filepath.Join(dir, "new.txt"), false)
	require.NoError(t, err)
	writeAll(t, d, "partial")
	d.abort()
	assert.Equal(t, []string{"keep.txt"}, dirEntries(t, dir))
}

// §2.9.1, §2.9.3: Godot's in-place mode truncates when the body starts and
// leaves the partial file on failure.
func TestDownloadInPlace(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "inplace.txt")
	require.NoError(t, os.WriteFile(target, []byte("previous good file"), 0o644))
	d, err := openDownload(target, true)
	require.NoError(t, err)
	assert.False(t, d.atomic)
	got, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Empty(t, got, "truncated when opened")
	writeAll(t, d, "partial bo")
	d.abort()
	got, err = os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, "partial bo", string(got), "partial file stays (§2.9.3)")

	d, err = openDownload(target, true)
	require.NoError(t, err)
	writeAll(t, d, "complete")
	require.NoError(t, d.commit())
	got, err = os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, "complete", string(got))
	assert.Equal(t, []string{"inplace.txt"}, dirEntries(t, dir))
}

// R10 (§2.6.1.1, §2.10): targets that cannot be opened, in both modes; nothing
// is created, an existing file is untouched, and the cause names the path
// set, as Godot's fopen would.
func TestDownloadCantOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o755))
	cases := []struct {
		name   string
		target string
	}{
		{"target is a directory", sub},
		{"parent does not exist", filepath.Join(dir, "missing", "f")},
		{"parent is a file", filepath.Join(file, "f")},
	}
	for _, c := range cases {
		for _, inPlace := range []bool{false, true} {
			t.Run(c.name+map[bool]string{false: "/atomic", true: "/in place"}[inPlace], func(t *testing.T) {
				_, err := openDownload(c.target, inPlace)
				require.Error(t, err)
				assert.ErrorIs(t, err, godot.ErrFileCantOpen)
				var pe *fs.PathError
				if assert.ErrorAs(t, err, &pe) {
					// The path set, never the hidden temporary file's.
					assert.Equal(t, c.target, pe.Path)
				}
				assert.ElementsMatch(t, []string{"plain", "sub"}, dirEntries(t, dir))
				assert.Empty(t, dirEntries(t, sub))
			})
		}
	}
}

// Write and rename errors are R11 (ErrFileCantWrite) and leave no temporary file.
func TestDownloadCommitRenameFails(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "t")
	d, err := openDownload(target, false)
	require.NoError(t, err)
	writeAll(t, d, "data")
	// The target turns into a non-empty directory before the rename.
	require.NoError(t, os.MkdirAll(filepath.Join(target, "x"), 0o755))
	err = d.commit()
	require.Error(t, err)
	assert.ErrorIs(t, err, godot.ErrFileCantWrite)
	names := dirEntries(t, dir)
	assert.Equal(t, []string{"t"}, names, "temporary file removed")
	assert.NoError(t, d.commit(), "a second commit is a no-op")
}

// A symbolic link is followed: the file it names is replaced, the link kept.
func TestDownloadAtomicThroughSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	dir := t.TempDir()
	real := filepath.Join(dir, "real.txt")
	link := filepath.Join(dir, "link.txt")
	require.NoError(t, os.WriteFile(real, []byte("old"), 0o644))
	require.NoError(t, os.Symlink("real.txt", link))
	d, err := openDownload(link, false)
	require.NoError(t, err)
	assert.True(t, d.atomic)
	writeAll(t, d, "via link")
	require.NoError(t, d.commit())
	got, err := os.ReadFile(real)
	require.NoError(t, err)
	assert.Equal(t, "via link", string(got))
	fi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&fs.ModeSymlink, "link kept")

	// A dangling link names the file an open through it creates: that file
	// is created atomically — nothing there after a failure, the body and
	// the link after a success — through a chain of links too.
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o755))
	require.NoError(t, os.Symlink("sub", filepath.Join(dir, "sublink")))
	dangling := filepath.Join(dir, "dangling.txt")
	require.NoError(t, os.Symlink("second.txt", dangling))
	require.NoError(t, os.Symlink("sublink/created.txt", filepath.Join(dir, "second.txt")))
	created := filepath.Join(sub, "created.txt")
	d, err = openDownload(dangling, false)
	require.NoError(t, err)
	assert.True(t, d.atomic)
	writeAll(t, d, "cut")
	d.abort()
	assert.NoFileExists(t, created, "a failure creates nothing")
	assert.Empty(t, dirEntries(t, sub), "no temporary file left")
	d, err = openDownload(dangling, false)
	require.NoError(t, err)
	writeAll(t, d, "made")
	require.NoError(t, d.commit())
	got, err = os.ReadFile(dangling)
	require.NoError(t, err)
	assert.Equal(t, "made", string(got))
	assert.Equal(t, []string{"created.txt"}, dirEntries(t, sub))

	// A link whose target climbs with ".." is written through the link
	// (in place), as the kernel resolves ".." against the real directory.
	climbing := filepath.Join(sub, "climbing.txt")
	require.NoError(t, os.Symlink("../climbed.txt", climbing))
	d, err = openDownload(climbing, false)
	require.NoError(t, err)
	assert.False(t, d.atomic)
	writeAll(t, d, "up")
	require.NoError(t, d.commit())
	got, err = os.ReadFile(filepath.Join(dir, "climbed.txt"))
	require.NoError(t, err)
	assert.Equal(t, "up", string(got))
}

// FileAccessUnix::open refuses a target that stat does not call a regular
// file: download_file on a device (through a link too) is R10 in every
// mode, for a new body and for an append, and nothing is written to it.
func TestDownloadNotRegularRefused(t *testing.T) {
	if _, err := os.Stat(os.DevNull); err != nil || runtime.GOOS == "windows" {
		t.Skip("no /dev/null")
	}
	link := filepath.Join(t.TempDir(), "null")
	require.NoError(t, os.Symlink(os.DevNull, link))
	for _, target := range []string{os.DevNull, link} {
		for _, inPlace := range []bool{false, true} {
			_, err := openDownload(target, inPlace)
			assert.ErrorIs(t, err, godot.ErrFileCantOpen, "%s in place %v", target, inPlace)
			assert.ErrorIs(t, err, errNotRegular)
		}
		_, err := openAppend(target, false)
		assert.ErrorIs(t, err, errNotRegular, "%s appended", target)
	}
	dangling := filepath.Join(t.TempDir(), "dangling")
	require.NoError(t, os.Symlink(filepath.Join(t.TempDir(), "missing"), dangling))
	d, err := openDownload(dangling, false)
	require.NoError(t, err, "a dangling link is written in place, as fopen creates its file")
	d.abort()
}

// The temporary file's name marks it as ours and hides it.
func TestDownloadTempName(t *testing.T) {
	dir := t.TempDir()
	d, err := openDownload(filepath.Join(dir, "name.png"), false)
	require.NoError(t, err)
	defer d.abort()
	base := filepath.Base(d.path)
	assert.True(t, strings.HasPrefix(base, ".name.png.gdhttp-"), base)
	assert.True(t, strings.HasSuffix(base, ".part"), base)
}
