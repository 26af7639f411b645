package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ciRun is one `go test … -run 'RE' PKG…` line of scripts/test.sh.
type ciRun struct {
	line string
	race bool
	re   *regexp.Regexp
	pkgs []string // directories, relative to the module root
}

// ciRuns reads the go test lines of scripts/test.sh that name tests with
// -run (not the fuzz loop's '^$').
func ciRuns(t *testing.T, root string) []ciRun {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "scripts", "test.sh"))
	require.NoError(t, err)
	lineRE := regexp.MustCompile(`^go test (.*)-run '([^']+)' ((?:\./\S+ ?)+)$`)
	var out []ciRun
	for _, l := range strings.Split(string(b), "\n") {
		m := lineRE.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil || m[2] == "^$" {
			continue
		}
		r := ciRun{line: l, race: strings.Contains(m[1], "-race"), re: regexp.MustCompile(m[2])}
		for _, p := range strings.Fields(m[3]) {
			r.pkgs = append(r.pkgs, strings.TrimPrefix(p, "./"))
		}
		out = append(out, r)
	}
	return out
}

// testFuncs parses every _test.go file of dir, whatever its build tags, and
// returns its Test functions.
func testFuncs(t *testing.T, dir string) map[string]*ast.FuncDecl {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	require.NoError(t, err)
	fns := map[string]*ast.FuncDecl{}
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range af.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "Test") {
				fns[fd.Name.Name] = fd
			}
		}
	}
	return fns
}

// skipsUnderRace reports whether a test's body skips in a -race build: an
// `if raceEnabled { … t.Skip… }` or a call of skipUnderRace.
func skipsUnderRace(fd *ast.FuncDecl) bool {
	found := false
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.IfStmt:
			if id, ok := n.Cond.(*ast.Ident); ok && id.Name == "raceEnabled" {
				ast.Inspect(n.Body, func(m ast.Node) bool {
					if sel, ok := m.(*ast.SelectorExpr); ok && strings.HasPrefix(sel.Sel.Name, "Skip") {
						found = true
					}
					return true
				})
			}
		case *ast.CallExpr:
			if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "skipUnderRace" {
				found = true
			}
		}
		return true
	})
	return found
}

// TestCITestLists: the tests scripts/test.sh names in its -run lists exist
// (a renamed test would drop out of the list with no failure), and every
// test that skips under -race — CI's main run — is named by the run
// without -race that exists for them, so that none of them never runs.
func TestCITestLists(t *testing.T) {
	root := filepath.Join("..", "..")
	runs := ciRuns(t, root)
	require.NotEmpty(t, runs, "scripts/test.sh has go test -run lines")
	var noRace *ciRun
	for i, r := range runs {
		fns := map[string]bool{}
		for _, p := range r.pkgs {
			for name := range testFuncs(t, filepath.Join(root, p)) {
				fns[name] = true
			}
		}
		// Each alternative of ^(A|B|…) names at least one test.
		src := r.re.String()
		anchored := strings.HasSuffix(src, "$")
		inner := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(src, "^("), "$"), ")")
		for _, alt := range strings.Split(inner, "|") {
			n := 0
			for name := range fns {
				if name == alt || (!anchored && strings.HasPrefix(name, alt)) {
					n++
				}
			}
			assert.Positive(t, n, "scripts/test.sh names %s, which no test of %v is: %s", alt, r.pkgs, strings.TrimSpace(r.line))
		}
		if !r.race && noRace == nil && len(r.pkgs) > 0 {
			noRace = &runs[i]
		}
	}
	require.NotNil(t, noRace, "scripts/test.sh has a run without -race for the tests -race skips")
	count := 0
	for _, pkg := range []string{"httpclient", "httprequest", "wire", "chunked", "cmd/gdfetch", "integration", "fuzz"} {
		for name, fd := range testFuncs(t, filepath.Join(root, pkg)) {
			if !skipsUnderRace(fd) {
				continue
			}
			count++
			inList := false
			for _, p := range noRace.pkgs {
				inList = inList || p == pkg
			}
			assert.True(t, inList && noRace.re.MatchString(name),
				"%s.%s skips under -race, and the run without -race (%s) does not name it: CI never runs it", pkg, name, noRace.re)
		}
	}
	assert.Positive(t, count, "the tests that skip under -race were found (skipsUnderRace still reads them)")
	t.Logf("%d tests skip under -race; scripts/test.sh runs each without it", count)
}
