package behaviourdoc

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	root    = "../.."
	docPath = "docs/behaviour.md"
	compat  = "COMPAT.md"
	sect    = "\u00a7" // the section sign; spelled out so this file cites nothing
)

// knownMiscited lists citations in the code that name no rule of the
// reference, each with the fix. The test fails when one is no longer cited
// (delete the entry) and for any new one not listed here (fix the citation,
// or add the row if it names a real rule).
var knownMiscited = map[string]string{}

// citation is one rule number cited in a .go file.
type citation struct {
	rule string // "§1.8.4"
	at   string // "wire/response.go:12"
}

// row is one table row of docs/behaviour.md.
type row struct {
	rule   string   // "§1.8.4", the number at the start of the first cell
	class  string   // "D1" … "D6" for the §7.1 rows
	line   int      // line in docs/behaviour.md
	tests  []string // "pkg: TestName/subtest" from the last cell
	compat []string // COMPAT.md row ids named by a §7 row
	errs   []string // unreadable references
}

var (
	// A rule number, optionally a range: §1.10.1.1–4, §1.8–§1.10, §1.5.6-7.
	citeRE = regexp.MustCompile(sect + `(\d+(?:\.\d+)*)(?:\s*[–-]\s*(?:` + sect + `)?(\d+(?:\.\d+)*))?`)
	// §7 D3, §7.1 D3, §7 D1/D3: a deviation class of §7.1.
	classRE = regexp.MustCompile(sect + `7(?:\.1)?\s+D([1-6])((?:/D?[1-6])*)`)
	// "RFC 9112 " just before a § (possibly across a comment line break): not ours.
	rfcRE = regexp.MustCompile(`RFC\s*\d+\s*$`)
	// The first cell of a table row: "§1.8.4", "§7.1 D3", "§7.2 brotli".
	rowRE  = regexp.MustCompile(`^\|\s*(` + sect + `\d+(?:\.\d+)*)(?:\s+(D[1-6]))?[^|]*\|`)
	testRE = regexp.MustCompile(`^(?:([a-z][a-z0-9_/]*):\s*)?((?:Test|Fuzz|Benchmark|Example)[A-Za-z0-9_]*)(/.*)?$`)
	compRE = regexp.MustCompile(`^[A-Z]+\d+$`)
)

// TestBehaviourDocCoversCitations fails for every rule number cited in a .go
// file that docs/behaviour.md has no row for, and for every row whose test
// does not exist. Run: go test ./internal/behaviourdoc -run TestBehaviourDoc
func TestBehaviourDocCoversCitations(t *testing.T) {
	rows := readRows(t)
	require.NotEmpty(t, rows, "%s has no rule rows", docPath)
	cites := collectCitations(t)
	require.NotEmpty(t, cites, "no citations found under %s: wrong root?", root)

	have := map[string]bool{}
	classes := map[string]bool{}
	var dups []string
	for _, r := range rows {
		key := r.rule + " " + r.class
		if have[key] && r.class == "" && !strings.HasPrefix(r.rule, sect+"7.") {
			dups = append(dups, fmt.Sprintf("  %s:%d %s", docPath, r.line, r.rule))
		}
		have[key] = true
		have[r.rule] = true
		if r.class != "" {
			classes[r.class] = true
		}
	}
	covered := func(rule string) bool {
		if have[rule] {
			return true
		}
		for k := range have {
			if strings.HasPrefix(k, rule+".") {
				return true // a section cited whole: its rules have rows
			}
		}
		return false
	}

	missing := map[string][]string{}
	cited := map[string]bool{}
	for _, c := range cites {
		cited[c.rule] = true
		if strings.HasPrefix(c.rule, "D") {
			if !classes[c.rule] {
				missing[sect+"7.1 "+c.rule] = append(missing[sect+"7.1 "+c.rule], c.at)
			}
			continue
		}
		if _, ok := knownMiscited[c.rule]; ok {
			continue
		}
		if !covered(c.rule) {
			missing[c.rule] = append(missing[c.rule], c.at)
		}
	}
	var msg []string
	if len(missing) > 0 {
		msg = append(msg, fmt.Sprintf("%d rule number(s) cited in the code have no row in %s — add a row for each "+
			"(or fix the citation if it names no rule):", len(missing), docPath))
		for _, rule := range sortedRules(keys(missing)) {
			at := missing[rule]
			more := ""
			if len(at) > 3 {
				more = fmt.Sprintf(" and %d more", len(at)-3)
				at = at[:3]
			}
			msg = append(msg, fmt.Sprintf("  %-12s cited at %s%s", rule, strings.Join(at, ", "), more))
		}
	}
	for rule, fix := range knownMiscited {
		if !cited[rule] {
			msg = append(msg, fmt.Sprintf("knownMiscited in %s lists %s, which is no longer cited: delete the entry (%s)",
				"internal/behaviourdoc/behaviourdoc_test.go", rule, fix))
		} else {
			t.Logf("known miscitation, to fix in the code: %s — %s", rule, fix)
		}
	}
	if len(dups) > 0 {
		msg = append(msg, "rows repeated in "+docPath+" (one row per rule):")
		msg = append(msg, dups...)
	}

	// Every test a row names exists.
	tests := map[string]map[string]bool{} // package dir → test function names
	compatIDs := readCompatIDs(t)
	var bad []string
	for _, r := range rows {
		label := strings.TrimSpace(r.rule + " " + r.class)
		for _, e := range r.errs {
			bad = append(bad, fmt.Sprintf("  %s:%d %s: %s", docPath, r.line, label, e))
		}
		for _, ref := range r.tests {
			if pkg, name, ok := declared(t, tests, ref); !ok {
				bad = append(bad, fmt.Sprintf("  %s:%d %s names `%s`, but no %s/*_test.go declares func %s(",
					docPath, r.line, label, ref, pkg, name))
			}
		}
		for _, id := range r.compat {
			if !compatIDs[id] {
				bad = append(bad, fmt.Sprintf("  %s:%d %s names COMPAT.md row %s, which %s does not have",
					docPath, r.line, label, id, compat))
			}
		}
	}
	if len(bad) > 0 {
		msg = append(msg, fmt.Sprintf("%d row reference(s) in %s do not exist — fix the row (or write — if no test pins the rule):",
			len(bad), docPath))
		msg = append(msg, bad...)
	}
	if len(msg) > 0 {
		t.Fatal("\n" + strings.Join(msg, "\n"))
	}
	t.Logf("%d rows, %d citations checked", len(rows), len(cites))
}

// collectCitations finds every rule number in the module's .go files
// (comments, strings and names alike), ranges expanded, RFC sections skipped.
func collectCitations(t *testing.T) []citation {
	t.Helper()
	var out []citation
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "vendor" || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			if filepath.ToSlash(path) == root+"/internal/behaviourdoc" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		out = append(out, citationsIn(filepath.ToSlash(rel), string(src))...)
		return nil
	})
	require.NoError(t, err)
	return out
}

func citationsIn(file, src string) []citation {
	var out []citation
	lineOf := func(off int) int { return strings.Count(src[:off], "\n") + 1 }
	for _, m := range citeRE.FindAllStringSubmatchIndex(src, -1) {
		before := src[max(0, m[0]-48):m[0]]
		before = regexp.MustCompile(`\n\s*(//)?\s*`).ReplaceAllString(before, " ")
		if rfcRE.MatchString(before) {
			continue
		}
		at := file + ":" + strconv.Itoa(lineOf(m[0]))
		first := src[m[2]:m[3]]
		last := ""
		if m[4] >= 0 {
			last = src[m[4]:m[5]]
		}
		for _, r := range expand(first, last) {
			out = append(out, citation{rule: sect + r, at: at})
		}
	}
	for _, m := range classRE.FindAllStringSubmatchIndex(src, -1) {
		at := file + ":" + strconv.Itoa(lineOf(m[0]))
		ds := []string{src[m[2]:m[3]]}
		for _, d := range strings.Split(src[m[4]:m[5]], "/") {
			if d = strings.TrimPrefix(d, "D"); d != "" {
				ds = append(ds, d)
			}
		}
		for _, d := range ds {
			out = append(out, citation{rule: "D" + d, at: at})
		}
	}
	return out
}

// expand turns "1.10.1.1" + "4" into 1.10.1.1 … 1.10.1.4 and "1.8" + "1.10"
// into 1.8, 1.9, 1.10. A range it cannot read is its two ends.
func expand(first, last string) []string {
	if last == "" {
		return []string{first}
	}
	f := strings.Split(first, ".")
	l := strings.Split(last, ".")
	prefix := f[:len(f)-1]
	if len(l) == len(f) && slices.Equal(l[:len(l)-1], prefix) {
		l = l[len(l)-1:]
	}
	lo, err1 := strconv.Atoi(f[len(f)-1])
	hi, err2 := strconv.Atoi(l[0])
	if len(l) != 1 || err1 != nil || err2 != nil || hi < lo || hi-lo > 20 {
		return []string{first, last}
	}
	var out []string
	for i := lo; i <= hi; i++ {
		out = append(out, strings.Join(append(slices.Clone(prefix), strconv.Itoa(i)), "."))
	}
	return out
}

// readRows parses the rule tables of docs/behaviour.md: a row starts with a
// rule number; its last cell names the tests (`pkg: TestName`, later ones in
// the same cell may drop the package), or —; a §7 row's second-to-last cell
// names COMPAT.md rows.
func readRows(t *testing.T) []row {
	t.Helper()
	f, err := os.Open(filepath.Join(root, docPath))
	require.NoError(t, err, "the behaviour reference must exist")
	defer f.Close()
	var rows []row
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		m := rowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		cells := splitCells(line)
		r := row{rule: m[1], class: m[2], line: n}
		r.tests, r.errs = parseTests(cells[len(cells)-1])
		if strings.HasPrefix(r.rule, sect+"7") && len(cells) >= 3 {
			for _, id := range strings.FieldsFunc(cells[len(cells)-2], func(r rune) bool {
				return r == ',' || r == ' ' || r == '`'
			}) {
				if compRE.MatchString(id) {
					r.compat = append(r.compat, id)
				}
			}
		}
		rows = append(rows, r)
	}
	require.NoError(t, sc.Err())
	return rows
}

// splitCells splits a Markdown table row on the | outside backticks.
func splitCells(line string) []string {
	var cells []string
	var cur strings.Builder
	code := false
	for _, c := range strings.Trim(line, "|") {
		switch {
		case c == '`':
			code = !code
			cur.WriteRune(c)
		case c == '|' && !code:
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteRune(c)
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

// parseTests reads `pkg: TestA/sub`, `TestB` spans; a span without a package
// takes the previous one's.
func parseTests(cell string) (refs, errs []string) {
	if cell == "" || cell == "-" || strings.HasPrefix(cell, "—") {
		return nil, nil
	}
	spans := strings.Split(cell, "`")
	if len(spans) < 3 {
		return nil, []string{fmt.Sprintf("test cell %q: write tests as `pkg: TestName`, or —", cell)}
	}
	refs, other, noPkg := testSpans(spans)
	for _, sp := range other {
		errs = append(errs, fmt.Sprintf("test reference `%s` is not `pkg: TestName[/subtest]`", sp))
	}
	for _, sp := range noPkg {
		errs = append(errs, fmt.Sprintf("test reference `%s` names no package", sp))
	}
	return refs, errs
}

// testSpans reads the code spans of a cell split on backticks (the odd
// elements): the `pkg: TestA/sub`, `TestB` references, a span without a
// package taking the previous one's; the spans that name no test (other);
// and test names with no package before them (noPkg).
func testSpans(spans []string) (refs, other, noPkg []string) {
	pkg := ""
	for i := 1; i < len(spans); i += 2 {
		m := testRE.FindStringSubmatch(spans[i])
		if m == nil {
			other = append(other, spans[i])
			continue
		}
		if m[1] != "" {
			pkg = m[1]
		}
		if pkg == "" {
			noPkg = append(noPkg, spans[i])
			continue
		}
		refs = append(refs, pkg+": "+m[2]+m[3])
	}
	return refs, other, noPkg
}

// declared reports whether the test a reference `pkg: TestName/sub` names
// is declared in pkg, caching each package's test functions in tests.
func declared(t *testing.T, tests map[string]map[string]bool, ref string) (pkg, name string, ok bool) {
	t.Helper()
	pkg, name, _ = strings.Cut(ref, ": ")
	name, _, _ = strings.Cut(name, "/")
	if tests[pkg] == nil {
		tests[pkg] = testFuncs(t, pkg)
	}
	return pkg, name, tests[pkg][name]
}

var funcRE = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark|Example)[A-Za-z0-9_]*)\(`)

// testFuncs lists the test functions declared in a package directory.
func testFuncs(t *testing.T, pkg string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	files, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(pkg), "*_test.go"))
	require.NoError(t, err)
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range funcRE.FindAllStringSubmatch(string(src), -1) {
			out[m[1]] = true
		}
	}
	return out
}

var compatRowRE = regexp.MustCompile(`(?m)^\|\s*([A-Z]+\d+)\s*\|`)

// TestCompatRowsNameTests fails for a COMPAT.md row that names no test, for
// a row id used twice, and for every test a row names that no package declares: every deviation has
// a test (§7.1), and the row says which. The last cell names them as
// docs/behaviour.md does (`pkg: TestName[/subtest]`, later ones in the cell
// may drop the package); other code spans there (hostile scenario names,
// subtest patterns) are not checked.
func TestCompatRowsNameTests(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(root, compat))
	require.NoError(t, err)
	tests := map[string]map[string]bool{} // package dir → test function names
	var bad []string
	rows := 0
	seen := map[string]int{} // row id → its line
	for n, line := range strings.Split(string(src), "\n") {
		m := compatRowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		rows++
		if first, dup := seen[m[1]]; dup {
			bad = append(bad, fmt.Sprintf("  %s:%d %s: the id of line %d too (ids name one row)", compat, n+1, m[1], first))
		}
		seen[m[1]] = n + 1
		cells := splitCells(strings.TrimSpace(line))
		refs, _, noPkg := testSpans(strings.Split(cells[len(cells)-1], "`"))
		for _, sp := range noPkg {
			bad = append(bad, fmt.Sprintf("  %s:%d %s: `%s` names no package", compat, n+1, m[1], sp))
		}
		for _, ref := range refs {
			if pkg, name, ok := declared(t, tests, ref); !ok {
				bad = append(bad, fmt.Sprintf("  %s:%d %s names `%s`, but no %s/*_test.go declares func %s(",
					compat, n+1, m[1], ref, pkg, name))
			}
		}
		if len(refs) == 0 {
			bad = append(bad, fmt.Sprintf("  %s:%d %s names no test in its last cell", compat, n+1, m[1]))
		}
	}
	require.NotZero(t, rows, "%s has no deviation rows", compat)
	if len(bad) > 0 {
		t.Fatalf("%d COMPAT.md reference(s) do not hold:\n%s", len(bad), strings.Join(bad, "\n"))
	}
	t.Logf("%d COMPAT.md rows checked", rows)
}

func readCompatIDs(t *testing.T) map[string]bool {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, compat))
	require.NoError(t, err)
	out := map[string]bool{}
	for _, m := range compatRowRE.FindAllStringSubmatch(string(src), -1) {
		out[m[1]] = true
	}
	return out
}

func keys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// sortedRules orders rule numbers numerically (§1.9 before §1.10).
func sortedRules(rules []string) []string {
	sort.Slice(rules, func(i, j int) bool {
		a := strings.FieldsFunc(strings.TrimPrefix(rules[i], sect), func(r rune) bool { return r == '.' || r == ' ' })
		b := strings.FieldsFunc(strings.TrimPrefix(rules[j], sect), func(r rune) bool { return r == '.' || r == ' ' })
		for k := 0; k < len(a) && k < len(b); k++ {
			x, errx := strconv.Atoi(a[k])
			y, erry := strconv.Atoi(b[k])
			if errx == nil && erry == nil && x != y {
				return x < y
			}
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return len(a) < len(b)
	})
	return rules
}
