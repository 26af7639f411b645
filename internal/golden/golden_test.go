package golden

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that records failures instead of stopping the
// test, so Check's failures can be asserted.
type recorder struct {
	testing.TB
	failed, fatal bool
	msg           string
}

func (r *recorder) Helper()      {}
func (r *recorder) Name() string { return "TestX" }
func (r *recorder) Errorf(format string, args ...any) {
	r.failed, r.msg = true, format
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.fatal, r.msg = true, true, format
	panic(r) // Fatalf does not return
}

func check(t *testing.T, name string, got []byte) (r *recorder) {
	r = &recorder{TB: t}
	defer func() {
		if p := recover(); p != nil && p != any(r) {
			panic(p)
		}
	}()
	Check(r, name, got)
	return r
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	require.NoError(t, os.Mkdir("testdata", 0o755))
	require.NoError(t, os.WriteFile(filepath.Join("testdata", "a.golden"), []byte("GET / HTTP/1.1\r\n"), 0o644))

	assert.False(t, check(t, "a", []byte("GET / HTTP/1.1\r\n")).failed, "same bytes pass")

	r := check(t, "a", []byte("GET /x HTTP/1.1\r\n"))
	assert.True(t, r.failed && !r.fatal, "different bytes fail the test and go on")

	r = check(t, "missing", []byte("x"))
	assert.True(t, r.fatal, "a missing file stops the test")

	*update = true
	defer func() { *update = false }()
	assert.False(t, check(t, "b", []byte("new")).failed, "-update writes the file")
	b, err := os.ReadFile(Path("b"))
	require.NoError(t, err)
	assert.Equal(t, "new", string(b))
	assert.True(t, Update())
}

func TestFirstDiff(t *testing.T) {
	assert.Equal(t, 0, firstDiff(nil, nil))
	assert.Equal(t, 2, firstDiff([]byte("abc"), []byte("abd")))
	assert.Equal(t, 2, firstDiff([]byte("ab"), []byte("abd")))
}
