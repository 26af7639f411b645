package main

import (
	"io"
	"os"
)

// spoolMemory is how much of a held body (spool) stays in memory; the rest
// goes to a temporary file.
const spoolMemory = 1 << 20

// spool holds a body bound for stdout (or a -o device that is stdout) until
// the completion: -i prints the result line before the headers and the
// body, and the node tells it only with request_completed, after the body.
// The first spoolMemory bytes stay in memory, the rest goes to a temporary
// file created on the first byte beyond them, so memory stays bounded
// whatever the body's size. The file is removed as soon as it is created
// where an open file can be (unix: nothing is left whatever ends the
// process), else by Close.
type spool struct {
	mem  []byte
	file *os.File
}

// Write is the node's body writer: a failure to create or write the
// temporary file ends the request with RESULT_DOWNLOAD_FILE_WRITE_ERROR.
func (s *spool) Write(p []byte) (int, error) {
	if s.file == nil && len(s.mem)+len(p) <= spoolMemory {
		s.mem = append(s.mem, p...)
		return len(p), nil
	}
	if s.file == nil {
		f, err := os.CreateTemp("", "gdfetch-body-*")
		if err != nil {
			return 0, err
		}
		if canUnlinkOpen {
			_ = os.Remove(f.Name())
		}
		s.file = f
	}
	return s.file.Write(p)
}

// WriteTo copies the held body to w: the bytes in memory, then the file's.
func (s *spool) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(s.mem)
	if err != nil || s.file == nil {
		return int64(n), err
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return int64(n), err
	}
	m, err := io.Copy(w, s.file)
	return int64(n) + m, err
}

// Close drops the held body and closes the temporary file, removing it
// where Write could not.
func (s *spool) Close() error {
	s.mem = nil
	if s.file == nil {
		return nil
	}
	f := s.file
	s.file = nil
	err := f.Close()
	if !canUnlinkOpen {
		err = os.Remove(f.Name())
	}
	return err
}
