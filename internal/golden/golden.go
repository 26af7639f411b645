package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update is the single -update flag of every test binary that uses golden.
var update = flag.Bool("update", false, "rewrite testdata/*.golden from the tests' output")

// Update reports whether the tests were run with -update.
func Update() bool { return *update }

// Path returns the golden file of name: testdata/<name>.golden, relative to
// the package directory the test runs in.
func Path(name string) string {
	return filepath.Join("testdata", name+".golden")
}

// Check compares got with the golden file of name and fails t when they
// differ or the file is missing. With -update it first writes got there.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := Path(name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("golden: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden: %v; run go test -run '%s' -update to write it", err, t.Name())
	}
	if string(want) != string(got) {
		t.Errorf("golden: bytes differ from %s at offset %d (rerun with -update to accept)\nwant: %q\ngot:  %q",
			path, firstDiff(want, got), want, got)
	}
}

// firstDiff returns the offset of the first byte where a and b differ.
func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
