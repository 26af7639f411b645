// Package archtest pins the architecture of STYLE.md: dependencies point one
// way — chunked and wire on the standard library only; httpclient on wire
// and chunked; httprequest on httpclient (and wire); nothing imports
// httprequest but commands, fuzz targets, benchmarks and examples.
package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/gdhttp/gdhttp/"

// allowed lists, per package, the module packages its non-test files may
// import and the third-party modules they may use.
var allowed = map[string][]string{
	"wire":        {},
	"chunked":     {},
	"httpclient":  {"wire", "chunked"},
	"httprequest": {"httpclient", "wire", "github.com/klauspost/compress", "github.com/andybalholm/brotli"},
}

func TestImportsPointOneWay(t *testing.T) {
	root := filepath.Join("..", "..")
	for pkg, ok := range allowed {
		imports := nonTestImports(t, filepath.Join(root, pkg))
		require.NotEmpty(t, imports, "%s: no Go files found", pkg)
		for imp := range imports {
			if isStdlib(imp) {
				continue
			}
			rel := strings.TrimPrefix(imp, module)
			permitted := false
			for _, a := range ok {
				if rel == a || strings.HasPrefix(imp, a) {
					permitted = true
				}
			}
			assert.True(t, permitted, "%s imports %s, which STYLE.md's layout does not allow", pkg, imp)
		}
	}
}

// TestNothingImportsHTTPRequest: only cmd/, fuzz/, benchmarks/ and tests may
// import httprequest.
func TestNothingImportsHTTPRequest(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, pkg := range []string{"wire", "chunked", "httpclient", "internal/testserver", "internal/peers"} {
		for imp := range nonTestImports(t, filepath.Join(root, pkg)) {
			assert.NotEqual(t, module+"httprequest", imp, "%s imports httprequest", pkg)
		}
	}
}

// nonTestImports returns the set of import paths of dir's non-test Go files
// (the package's own stdlib-marker "" included when there are files).
func nonTestImports(t *testing.T, dir string) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string]bool{}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ImportsOnly)
		require.NoError(t, err)
		out[""] = true
		for _, is := range f.Imports {
			p, err := strconv.Unquote(is.Path.Value)
			require.NoError(t, err)
			out[p] = true
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// isStdlib: standard-library paths have no dot in their first element.
func isStdlib(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
