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

// libraries are the packages a user of the module imports.
var libraries = []string{"godot", "wire", "chunked", "httpclient", "httprequest"}

// TestExportedIdentifiersDocumented: every exported function, type, method
// of an exported type, and package-level constant or variable of the library
// packages has a doc comment (a const or var group's comment covers its
// members, and so does a trailing line comment), so that go doc answers for
// each name a user meets — Error and Unwrap methods included.
func TestExportedIdentifiersDocumented(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, pkg := range libraries {
		// Every file, whatever its build tags: a name exported on one
		// platform only needs its doc too.
		files, err := filepath.Glob(filepath.Join(root, pkg, "*.go"))
		require.NoError(t, err)
		parsed := 0
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments)
			require.NoError(t, err)
			parsed++
			for _, name := range undocumented(f) {
				assert.Fail(t, "exported identifier without a doc comment", "%s: %s", filepath.Base(path), name)
			}
		}
		require.NotZero(t, parsed, pkg)
	}
}

// undocumented lists the exported declarations of f that have no doc comment.
func undocumented(f *ast.File) []string {
	var out []string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() || d.Doc != nil {
				continue
			}
			if d.Recv == nil {
				out = append(out, d.Name.Name)
				continue
			}
			if recv := receiverName(d.Recv.List[0].Type); ast.IsExported(recv) {
				out = append(out, recv+"."+d.Name.Name)
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() && d.Doc == nil && s.Doc == nil && s.Comment == nil {
						out = append(out, s.Name.Name)
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() && d.Doc == nil && s.Doc == nil && s.Comment == nil {
							out = append(out, n.Name)
						}
					}
				}
			}
		}
	}
	return out
}

// receiverName returns the type name of a method receiver (T, *T, T[P]).
func receiverName(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// exampleName is an Example function named in a comment.
var exampleName = regexp.MustCompile(`\bExample[A-Za-z0-9_]*`)

// TestNamedExamplesExist: every Example a library package's documentation
// names (the package doc lists them as the way to start) is a function of
// that package's tests, so a renamed or removed example cannot leave the
// doc pointing at nothing.
func TestNamedExamplesExist(t *testing.T) {
	root := filepath.Join("..", "..")
	named := 0
	for _, pkg := range libraries {
		files, err := filepath.Glob(filepath.Join(root, pkg, "*.go"))
		require.NoError(t, err)
		var docs, tests strings.Builder
		for _, path := range files {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			if strings.HasSuffix(path, "_test.go") {
				tests.Write(b)
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, b, parser.ParseComments)
			require.NoError(t, err)
			for _, cg := range f.Comments {
				docs.WriteString(cg.Text())
			}
		}
		for _, name := range exampleName.FindAllString(docs.String(), -1) {
			named++
			assert.Contains(t, tests.String(), "\nfunc "+name+"() {", "%s names %s", pkg, name)
		}
	}
	assert.Greater(t, named, 10, "the package docs name their examples")
}
