package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// -J / --remote-header-name with -O: the file is named by the response's
// Content-Disposition, as curl 7.88's tool_header_cb and parse_filename
// read it (contentDispositionName); without one, by the URL (-O's name).
//
// The name is known only at the response's head, and Godot's node takes
// download_file before the request. So download_file is a name of
// gdfetch's in the current directory (headerName.part, which the node
// writes atomically as any -o file, or in place with --in-place); the
// response function (SetResponseFunc) decides the name, refusing the
// response at its head — before any of its body is read — when a name
// from the header names a file that exists (curl's exit 23: it never
// overwrites one), and after a successful transfer the file is moved to
// its name (finish): without overwriting, for a name from the header.
// A failed or interrupted transfer leaves no file (gdfetch's -o rule), the
// part file removed.
//
// As curl: -J without -O changes nothing; with -i or -I, and with -C -, it
// is a usage error. Unlike curl, the name comes from the final response
// (the node follows a redirect without showing its headers, where curl
// takes the first response, a 3xx included, whose Content-Disposition
// has a filename), and with --retry from the try that is written.

// errHeaderName is the cause of a response -J refuses at its head: a name
// it cannot use (curl: "Failed writing header", exit 23).
var errHeaderName = errors.New("-J")

// headerName is one run's -J state.
type headerName struct {
	urlName string // -O's name from the URL, "" when the URL has none
	part    string // download_file during the request, in the current directory

	// Decided at the response's head (the response function):
	name       string // the file's name
	fromHeader bool   // name is Content-Disposition's: never overwrite a file
}

// newHeaderName is -J's state for a URL whose -O name is urlName ("" for
// none): part is a fresh name beside where the file goes.
func newHeaderName(urlName string) *headerName {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	return &headerName{urlName: urlName, part: ".gdfetch-J-" + hex.EncodeToString(rnd[:]) + ".part"}
}

// headError is a refusal at the head: errHeaderName with curl's warning.
type headError struct{ msg string }

func (e *headError) Error() string        { return "-J: " + e.msg }
func (e *headError) Is(target error) bool { return target == errHeaderName }

// decide is the response function's -J part: the name for this response,
// from its headers, or a *headError (exit 23).
func (h *headerName) decide(_ int, headers []string) error {
	h.name, h.fromHeader = h.urlName, false
	name, found, early := headerFileName(headers)
	switch {
	case early:
		// curl opened the URL's file at the line without a filename, and
		// gives up at the one with it.
		return &headError{"a Content-Disposition line without a filename comes before the one with it (curl fails there too)"}
	case found:
		h.name, h.fromHeader = name, true
	}
	if h.name == "" {
		return &headError{"Remote filename has no length!"}
	}
	fi, err := os.Lstat(h.name)
	switch {
	case h.fromHeader && err == nil:
		return &headError{fmt.Sprintf("Failed to open the file %s: %v (a name from Content-Disposition never replaces a file, as curl's)", h.name, fs.ErrExist)}
	case err == nil && !fi.Mode().IsRegular() && fi.Mode()&fs.ModeSymlink == 0:
		return &headError{fmt.Sprintf("Failed to open the file %s: not a regular file", h.name)}
	}
	return nil
}

// headerFileName reads the file name of the Content-Disposition lines of
// headers, as curl 7.88 does: the first line that has a filename gives it
// (found); early reports a Content-Disposition line without a filename
// before it, which curl fails on.
func headerFileName(headers []string) (name string, found, early bool) {
	seen := false
	for _, line := range headers {
		const prefix = "Content-disposition:"
		if len(line) < len(prefix) || !strings.EqualFold(line[:len(prefix)], prefix) {
			continue
		}
		if name, ok := contentDispositionName(line[len(prefix):]); ok {
			return name, true, seen
		}
		seen = true
	}
	return "", false, false
}

// contentDispositionName is curl 7.88's reading of a Content-Disposition
// value (tool_header_cb's loop and parse_filename): the parameters are
// looked through from the first letter on, each skipped to its ';' until
// one starts with "filename=" (exactly so, in lower case: filename*= and
// FILENAME= are not read); its value ends at its closing quote when it
// starts with '"' or '\”, else at ';'; what follows its last '/' and then
// its last '\\' is kept — ok is false when that is empty ("dir/"), and
// the URL's name is used — cut at a CR or LF. A value "" (filename="")
// is an empty name, which curl refuses. Spaces are kept, as curl keeps
// them, but Godot's node delivers header lines without the spaces around
// them: a name that ends with a space loses it.
func contentDispositionName(v string) (string, bool) {
	if i := strings.IndexByte(v, 0); i >= 0 {
		v = v[:i] // C strings
	}
	for {
		i := strings.IndexFunc(v, isASCIILetter)
		if i < 0 {
			return "", false
		}
		v = v[i:]
		if len(v) < len("filename=") {
			return "", false
		}
		rest, ok := strings.CutPrefix(v, "filename=")
		if !ok {
			i := strings.IndexByte(v, ';')
			if i < 0 {
				return "", false
			}
			v = v[i:]
			continue
		}
		return parseFilename(rest)
	}
}

// parseFilename is curl 7.88's parse_filename of a filename= value.
func parseFilename(p string) (string, bool) {
	stop := byte(';')
	if p != "" && (p[0] == '"' || p[0] == '\'') {
		stop, p = p[0], p[1:]
	}
	if i := strings.IndexByte(p, stop); i >= 0 {
		p = p[:i]
	}
	for _, sep := range []byte{'/', '\\'} {
		if i := strings.LastIndexByte(p, sep); i >= 0 {
			if p = p[i+1:]; p == "" {
				return "", false
			}
		}
	}
	if i := strings.IndexAny(p, "\r\n"); i >= 0 {
		p = p[:i]
	}
	return p, true
}

func isASCIILetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }

// finish moves the downloaded part file to its name after a successful
// transfer: a name from Content-Disposition without replacing a file that
// appeared meanwhile, the URL's name over the file there (as -O), through
// a link to it, with its permissions. Nothing to move (no name was
// decided, or no part file: the body was refused) is not an error.
func (h *headerName) finish() error {
	if h.name == "" {
		return nil
	}
	if _, err := os.Lstat(h.part); err != nil {
		return nil
	}
	if h.fromHeader {
		return renameNoReplace(h.part, h.name)
	}
	return replaceFile(h.part, h.name)
}

// cleanup removes the part file a failed or interrupted transfer left
// (--in-place writes it in place).
func (h *headerName) cleanup() {
	if h != nil {
		_ = os.Remove(h.part)
	}
}

// renameNoReplace renames from to to unless to exists: a hard link, which
// fails on an existing name, then the old name removed; where links are
// not made (plan9, some file systems), a check and a rename.
func renameNoReplace(from, to string) error {
	err := os.Link(from, to)
	switch {
	case err == nil:
		return os.Remove(from)
	case errors.Is(err, fs.ErrExist):
		return &existsError{to}
	}
	if _, err := os.Lstat(to); err == nil {
		return &existsError{to}
	}
	return os.Rename(from, to)
}

// existsError is a name from Content-Disposition that appeared during the
// download, in curl's words; it is an fs.ErrExist.
type existsError struct{ name string }

func (e *existsError) Error() string {
	return fmt.Sprintf("Failed to open the file %s: %v", e.name, fs.ErrExist)
}

func (e *existsError) Unwrap() error { return fs.ErrExist }

// replaceFile puts from's content at to, as -O's download_file would: a
// link at to is followed (the file it names is replaced, the link kept),
// an existing file's permissions are kept; a rename, or a copy where the
// file is on another file system.
func replaceFile(from, to string) error {
	target := to
	if resolved, err := filepath.EvalSymlinks(to); err == nil {
		target = resolved
	}
	if fi, err := os.Stat(target); err == nil {
		_ = os.Chmod(from, fi.Mode().Perm())
	}
	if os.Rename(from, target) == nil {
		return nil
	}
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	if err = errors.Join(err, dst.Close()); err != nil {
		return err
	}
	return os.Remove(from)
}
