package drive

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"testing"
)

// SHA256 is the lower-case hex SHA-256 of b: how the tests compare bodies,
// uploads and files too large to print.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// SHA256Of reads r to its end and returns how many bytes it gave and their
// SHA256 (the error is r's).
func SHA256Of(r io.Reader) (int64, string, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	return n, hex.EncodeToString(h.Sum(nil)), err
}

// FileSHA256 is SHA256 of the file at path; the test fails when it cannot
// be read.
func FileSHA256(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("drive: %v", err)
	}
	defer f.Close()
	_, sum, err := SHA256Of(f)
	if err != nil {
		t.Fatalf("drive: %s: %v", path, err)
	}
	return sum
}
