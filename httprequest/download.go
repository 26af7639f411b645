package httprequest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/gdhttp/gdhttp/godot"
)

// download_file (§2.9).
//
// Godot opens download_file for writing (create + truncate) when the body is
// about to be read (§2.6.1.1, §2.9.2) and leaves whatever was written on any
// failure (§2.9.3): a failed download destroys the previous good file. By
// default the port writes atomically instead (§7 D3): the body goes to a
// temporary file in the same directory, which is renamed over the target only
// on success and removed on failure, so the old file is untouched by every
// kind of failure. Godot's in-place writing stays available
// (SetDownloadInPlace). The moment of opening, and the results, are Godot's:
// RESULT_DOWNLOAD_FILE_CANT_OPEN (R10) when the target cannot be written,
// RESULT_DOWNLOAD_FILE_WRITE_ERROR (R11) when writing fails.
//
// Atomic mode details:
//   - The target's writability is checked without truncating it (opened for
//     writing and closed again): rename ignores the target's permissions, so
//     without the check a read-only file would be replaced where Godot gets
//     R10.
//   - The temporary file is created with mode 0666 minus the umask (what
//     Godot's fopen gives a new file); when the target exists its permission
//     bits are copied (what truncating in place keeps). Ownership is not
//     copied.
//   - A symbolic link is followed: the file it points to is replaced and the
//     link kept, as writing through the link would. A dangling link names
//     the file fopen would create through it: that file is created
//     atomically too, beside where it goes (a link whose target climbs
//     with ".." is written in place, through the link).
//   - The temporary file is named after the target, shortened when the
//     target's name is long, so that every name the system takes can be
//     downloaded to.
//   - When the temporary file cannot be created (a directory that is not
//     writable) but the existing target can be written, the body is
//     written in place: Godot's fopen needs the file's permission only.
//   - The data is not fsync'ed before the rename (Godot does not sync
//     either); atomicity is against failures of the request, not crashes.
//
// In every mode, a target that exists and is not a regular file (a device
// such as /dev/null, a FIFO, a link to one) is R10 at once, as Godot's
// FileAccessUnix::open refuses anything stat does not call a regular file
// (a FIFO would otherwise block the open until a reader comes).
//
// keep_partial_download and append_to_download_file (options_download.go;
// Godot PR #118226) need the file itself, not a copy:
//   - keep_partial_download writes in place, in both modes: the partial file
//     a failure, a cancel or a timeout leaves is download_file itself, and it
//     survives even the death of the process (a temporary file renamed into
//     place on failure would not).
//   - append_to_download_file with a 206 opens the existing file for
//     appending (created when missing) instead of truncating it; any other
//     status opens the file as above. In atomic mode without
//     keep_partial_download a failed append truncates the file back to its
//     length before the request, so the file is again exactly what it was
//     (the §7 D3 promise: a failure leaves the old file). In place, the
//     appended bytes stay, as every partial write does there (§2.9.3).

// download is one open download_file.
type download struct {
	target string // the file the body is for (after following links in atomic mode)
	path   string // the file being written: target (in place) or the temporary file
	atomic bool
	f      *os.File

	// restoreTo is the length to truncate an appended file back to on
	// abort (atomic mode without keep_partial_download), −1 for none.
	restoreTo int64

	// appending: the file is opened with O_APPEND (append_to_download_file).
	appending bool

	// base is the file's length when it was opened (an appended file's old
	// length, else 0); written counts the bytes written since, and mark is
	// written when the current wire chunk was read (markChunk).
	base, written, mark int64
}

// openDownloadFile opens download_file for the run's response body, by the
// node's properties and options (see the comment at the top).
func (r *run) openDownloadFile(file string) (*download, error) {
	var opened func() error
	if r.opts.bodyStart != nil {
		var err error
		if opened, err = r.opts.bodyStart(r.code, r.respHeaders); err != nil {
			return nil, err
		}
	}
	var d *download
	var err error
	keep := r.n.keepPartial.Load()
	if r.n.appendFile.Load() && r.code == 206 {
		d, err = openAppend(file, !keep && !r.opts.downloadInPlace)
	} else {
		d, err = openDownload(file, r.opts.downloadInPlace || keep)
	}
	if err == nil && opened != nil {
		if err = opened(); err != nil {
			d.abort()
			d = nil
		}
	}
	return d, err
}

// openAppend opens target for appending a 206 body (append_to_download_file),
// creating it when missing. With restore, abort truncates it back to its
// length now.
func openAppend(target string, restore bool) (*download, error) {
	if err := notRegular(target); err != nil {
		return nil, cantOpen(err)
	}
	f, err := openRegular(target, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o666)
	if err != nil {
		return nil, cantOpen(err)
	}
	d := &download{target: target, path: target, f: f, restoreTo: -1, appending: true}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, cantOpen(err)
	}
	if fi.Mode().IsRegular() {
		d.base = fi.Size()
		if restore {
			d.restoreTo = fi.Size()
		}
	}
	return d, nil
}

// openDownload opens download_file for a body that is about to be read. The
// error wraps ErrFileCantOpen and the *fs.PathError; it means R10.
func openDownload(target string, inPlace bool) (*download, error) {
	if err := notRegular(target); err != nil {
		return nil, cantOpen(err)
	}
	if !inPlace {
		resolved, atomic, err := atomicTarget(target)
		if err != nil {
			return nil, cantOpen(err)
		}
		if atomic {
			d, err := openTemp(resolved)
			if err == nil || !errors.Is(err, fs.ErrPermission) {
				return d, err
			}
			if _, serr := os.Stat(resolved); serr != nil {
				return nil, err // a new file in a directory that cannot be written: R10
			}
			// The target exists and can be written (atomicTarget checked):
			// in place, as Godot's fopen does.
		}
	}
	// Godot: FileAccess::open(path, WRITE) — create or truncate.
	f, err := openRegular(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return nil, cantOpen(err)
	}
	return &download{target: target, path: target, f: f, restoreTo: -1}, nil
}

// atomicTarget decides where an atomic download goes: the resolved regular
// file (existing or not) and true, or false to write in place. It fails when
// the target exists but cannot be written, or is a directory.
func atomicTarget(target string) (string, bool, error) {
	fi, err := os.Lstat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return target, true, nil // new file; the temporary file's creation checks the directory
	case err != nil:
		return "", false, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		resolved, err := filepath.EvalSymlinks(target)
		if err != nil {
			if missing, ok := danglingTarget(target); ok {
				return missing, true, nil
			}
			return target, false, nil // in place, like fopen
		}
		if fi, err = os.Stat(resolved); err != nil {
			return target, false, nil
		}
		target = resolved
	}
	if fi.IsDir() {
		return "", false, &fs.PathError{Op: "open", Path: target, Err: syscall.EISDIR}
	}
	// Can the target itself be written? Open for writing without O_TRUNC.
	f, err := openRegular(target, os.O_WRONLY, 0)
	if err != nil {
		return "", false, err
	}
	f.Close()
	return target, true, nil
}

var errNotRegular = errors.New("not a regular file")

// openRegular opens path as os.OpenFile does, without waiting where an
// open would (a FIFO's, for its other end), and refuses anything but a
// regular file. A check made before (notRegular, Multipart.File) may be
// stale by then, and the wait would be in a step that neither the timeout
// nor CancelRequest can end.
func openRegular(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|openNoWait, perm)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = &fs.PathError{Op: "open", Path: path, Err: errNotRegular}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// danglingTarget follows the chain of symbolic links from link to the file
// it names that does not exist, and returns that file's path in a directory
// without links (the path an open through the links creates). ok is false
// when the chain ends elsewhere or is too long, when link or a link's target
// has a ".." (which the kernel resolves against the real directory, not the
// name), or when a target ends in "/" or "." (an open through it fails, as
// for Godot): the caller then writes through the link.
func danglingTarget(link string) (path string, ok bool) {
	if hasDotDot(link) {
		return "", false
	}
	p := link
	for range maxLinkHops {
		dest, err := os.Readlink(p)
		if err != nil || hasDotDot(dest) || strings.HasSuffix(dest, "/") || filepath.Base(dest) == "." ||
			(filepath.Separator != '/' && strings.HasSuffix(dest, string(filepath.Separator))) {
			return "", false
		}
		dir := filepath.Dir(p)
		if filepath.IsAbs(dest) {
			dir, dest = filepath.Dir(dest), filepath.Base(dest)
		}
		if dir, err = filepath.EvalSymlinks(dir); err != nil {
			return "", false
		}
		next := filepath.Join(dir, dest)
		fi, err := os.Lstat(next)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if rdir, err := filepath.EvalSymlinks(filepath.Dir(next)); err == nil {
				return filepath.Join(rdir, filepath.Base(next)), true
			}
			return "", false // its directory is missing: the open fails (R10)
		case err != nil, fi.Mode()&fs.ModeSymlink == 0:
			return "", false
		}
		p = next
	}
	return "", false
}

// hasDotDot reports whether path has a ".." element.
func hasDotDot(path string) bool {
	return slices.Contains(strings.Split(filepath.ToSlash(path), "/"), "..")
}

// maxLinkHops is how many links danglingTarget follows (Linux's MAXSYMLINKS).
const maxLinkHops = 40

// notRegular refuses a target that exists, through links, and is neither a
// regular file nor a directory (a directory fails as Godot's open does,
// further on): FileAccessUnix::open's stat check.
func notRegular(target string) error {
	fi, err := os.Stat(target)
	if err != nil || fi.Mode().IsRegular() || fi.IsDir() {
		return nil
	}
	return &fs.PathError{Op: "open", Path: target, Err: errNotRegular}
}

// tempStem is the part of a temporary file's name taken from the target's
// name: all of it, or its first maxTempStem bytes (whole UTF-8 characters),
// so that the 21 bytes added stay within the 255 a name may have.
func tempStem(base string) string {
	if len(base) <= maxTempStem {
		return base
	}
	cut := maxTempStem
	for cut > 0 && !utf8.RuneStart(base[cut]) {
		cut--
	}
	return base[:cut]
}

const maxTempStem = 200

// openTemp creates the temporary file beside target.
func openTemp(target string) (*download, error) {
	dir, base := filepath.Split(target)
	var mode fs.FileMode = 0o666
	keepMode := false
	if fi, err := os.Stat(target); err == nil {
		mode, keepMode = fi.Mode().Perm(), true
	}
	var rnd [6]byte
	for range 10 {
		_, _ = rand.Read(rnd[:])
		tmp := filepath.Join(dir, "."+tempStem(base)+".gdhttp-"+hex.EncodeToString(rnd[:])+".part")
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			// The cause names the path set, not the hidden temporary file.
			err = &fs.PathError{Op: pe.Op, Path: target, Err: pe.Err}
		}
		if err != nil {
			return nil, cantOpen(err)
		}
		if keepMode {
			if err := f.Chmod(mode); err != nil {
				f.Close()
				os.Remove(tmp)
				return nil, cantOpen(err)
			}
		}
		return &download{target: target, path: tmp, atomic: true, f: f, restoreTo: -1}, nil
	}
	return nil, cantOpen(&fs.PathError{Op: "open", Path: dir, Err: fs.ErrExist})
}

// Write writes p to the file. The error wraps ErrFileCantWrite (R11).
func (d *download) Write(p []byte) (int, error) {
	n, err := d.f.Write(p)
	return n, d.wrote(n, err)
}

// wrote accounts for n bytes that reached the file — by Write, or spliced
// from the socket (sink.readIntoFile) — and wraps the write's error.
func (d *download) wrote(n int, err error) error {
	d.written += int64(n)
	if err != nil {
		return cantWrite(err)
	}
	return nil
}

// markChunk notes that a new wire chunk is about to be read (§2.6.1.3).
func (d *download) markChunk() { d.mark = d.written }

// dropChunk takes back what the current wire chunk's decoded output wrote
// (§2.6.1.5–6, §2.8.2.2–3): Godot decodes a whole chunk before it checks
// body_size_limit and writes, so a chunk that fails decoding or passes the
// limit leaves nothing of its output in the file — the port's decoder hands
// its output on piece by piece as it streams. Only a file written in place
// keeps what was written (an atomic download's temporary file is removed).
func (d *download) dropChunk() {
	if d.f == nil || d.atomic || d.written == d.mark {
		return
	}
	if d.f.Truncate(d.base+d.mark) == nil {
		if _, err := d.f.Seek(d.base+d.mark, io.SeekStart); err == nil {
			d.written = d.mark
		}
	}
}

// commit ends a successful download: the file is closed and, in atomic mode,
// renamed over the target. An error (R11) leaves no temporary file behind.
func (d *download) commit() error {
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	if err == nil && d.atomic {
		err = os.Rename(d.path, d.target)
	}
	if err != nil {
		if d.atomic {
			os.Remove(d.path)
		}
		return cantWrite(err)
	}
	return nil
}

// abort ends a failed or canceled download: in atomic mode the temporary file
// is removed (the target is untouched) and an appended file is truncated back
// to its old length; in place, the partial file stays (§2.9.3). Safe to call
// more than once and after commit.
func (d *download) abort() {
	if d.f == nil {
		return
	}
	if d.restoreTo >= 0 {
		_ = d.f.Truncate(d.restoreTo)
	}
	d.f.Close()
	d.f = nil
	if d.atomic {
		os.Remove(d.path)
	}
}

func cantOpen(err error) error  { return godot.Wrap(godot.ErrFileCantOpen, "download_file", err) }
func cantWrite(err error) error { return godot.Wrap(godot.ErrFileCantWrite, "download_file", err) }
