package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
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
	"godot":       {},
	"wire":        {"godot"},
	"chunked":     {},
	"httpclient":  {"wire", "chunked", "godot", "internal/spin", "internal/hugepage"},
	"httprequest": {"httpclient", "wire", "godot", "internal/spin", "internal/hugepage", "github.com/klauspost/compress", "github.com/andybalholm/brotli"},
	// Tells a spinning caller from a paced one (for the yields of both).
	"internal/spin": {},
	// Marks a large in-memory body (the node's, the arrays of
	// ReadResponseBodyChunk's pieces) for transparent huge pages.
	"internal/hugepage": {},
	// Test helpers: any package's tests may import them, so they import no
	// package of the module (a wire test importing golden must not cycle).
	"internal/golden": {},
	// The zlib-rule gzip reference the decoders are fuzzed against.
	"internal/zlibref": {},
	// The shared test drivers see the client and the node through
	// interfaces (httpclient's and httprequest's own tests import drive).
	"internal/drive": {"godot"},
}

// libraryThirdParty is the agreed set of third-party modules for library
// packages (tests may add testify and goleak).
var libraryThirdParty = []string{
	"github.com/andybalholm/brotli",
	"github.com/klauspost/compress",
	"golang.org/x/sync",
}

// testOnly are the modules tests may add.
var testOnly = []string{"github.com/stretchr/testify", "go.uber.org/goleak"}

// cmdModules returns the modules go.mod requires directly that are neither
// the library set nor test-only: what the commands (cmd/…) alone may use
// (flags, the progress bar, terminal detection).
func cmdModules(t *testing.T, root string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.Contains(line, "// indirect") || !strings.Contains(f[0], ".") {
			continue // not a direct requirement line (module, go, require (, ), indirect)
		}
		if slices.Contains(libraryThirdParty, f[0]) || slices.Contains(testOnly, f[0]) {
			continue
		}
		out = append(out, f[0])
	}
	return out
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
	for _, pkg := range []string{"godot", "wire", "chunked", "httpclient", "internal/testserver", "internal/peers", "internal/drive"} {
		for imp := range nonTestImports(t, filepath.Join(root, pkg)) {
			assert.NotEqual(t, module+"httprequest", imp, "%s imports httprequest", pkg)
		}
	}
}

// TestHelpersOnlyInTests: the test helpers internal/golden (the -update
// flag and golden files), internal/drive (the shared test drivers) and
// internal/zlibref (the reference gzip decoder) are
// imported by _test.go files only, so no library or command registers a
// test flag or carries test code.
func TestHelpersOnlyInTests(t *testing.T) {
	root := filepath.Join("..", "..")
	seen := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		seen++
		for imp := range nonTestImports(t, path) {
			for _, helper := range []string{"internal/golden", "internal/drive", "internal/zlibref"} {
				assert.NotEqual(t, module+helper, imp, "%s imports %s outside its tests", path, helper)
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, seen, 10, "walked too few directories: wrong root?")
}

// TestGodotDoesNoIO: godot holds Godot's engine rules (Error, String(Variant),
// OS names) as pure functions: no network, files, processes or HTTP, so that
// the HTTP code stays in wire and above.
func TestGodotDoesNoIO(t *testing.T) {
	root := filepath.Join("..", "..")
	imports := nonTestImports(t, filepath.Join(root, "godot"))
	require.NotEmpty(t, imports, "godot: no Go files found")
	for imp := range imports {
		for _, banned := range []string{"net", "os", "io", "crypto", "syscall", "time", "sync", "unsafe"} {
			assert.False(t, imp == banned || strings.HasPrefix(imp, banned+"/"),
				"godot imports %s: the engine runtime does no I/O and keeps no state", imp)
		}
	}
}

// TestThirdPartyImports: commands may use the agreed set and cmdOnly;
// every other package of the module (libraries, internal, fuzz,
// integration) only the agreed set, so the command-line dependencies never
// reach a library.
func TestThirdPartyImports(t *testing.T) {
	root := filepath.Join("..", "..")
	cmdOnly := cmdModules(t, root)
	require.NotEmpty(t, cmdOnly, "go.mod requires no command-only module: is cmd/gdfetch still there?")
	sawCmd := false
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		require.NoError(t, err)
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if rel != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(path, "go.mod")); rel != "." && err == nil {
			return filepath.SkipDir // a module of its own (benchmarks/, examples/…)
		}
		isCmd := rel == "cmd" || strings.HasPrefix(rel, "cmd/")
		ok := libraryThirdParty
		if isCmd {
			ok = append(append([]string(nil), libraryThirdParty...), cmdOnly...)
		}
		for imp := range nonTestImports(t, path) {
			if imp == "" || isStdlib(imp) || strings.HasPrefix(imp, module) {
				continue
			}
			sawCmd = sawCmd || isCmd
			permitted := false
			for _, a := range ok {
				if imp == a || strings.HasPrefix(imp, a+"/") {
					permitted = true
				}
			}
			assert.True(t, permitted, "%s imports %s: not in the agreed set for %s", rel, imp,
				map[bool]string{true: "commands", false: "library packages"}[isCmd])
		}
		return nil
	})
	require.NoError(t, err)
	assert.True(t, sawCmd, "no command imports a third-party module: is cmd/ still there?")
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
