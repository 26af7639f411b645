package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/benchmarks/internal/rawserver"
)

// TestMain lets the test binary be the server child: compare re-executes
// os.Executable() with serveEnv set.
func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) != "" {
		os.Exit(rawserver.ServeMain("compare", os.Args[1:]))
	}
	os.Exit(m.Run())
}

var summaryRE = regexp.MustCompile(`^gdhttp/nethttp cl=(\d+\.\d\d) chunk16k=(\d+\.\d\d) gzip=(\d+\.\d\d) ` +
	`newconn=(\d+\.\d\d) keepalive=(\d+\.\d\d) poll/blocking=(\d+\.\d\d)$`)

func runTool(t *testing.T, args ...string) (last, report string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "RESULTS.md")
	var stdout, stderr bytes.Buffer
	code := run(append(args, "-out", out), &stdout, &stderr)
	require.Equal(t, 0, code, "stderr: %s", stderr.String())
	lines := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	return lines[len(lines)-1], string(b)
}

// TestQuickTiny: a complete -quick run with tiny sizes measures every
// workload and client without an error, writes the report with its tables
// and checks, and prints the summary line of issue 8 last.
func TestQuickTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole tool (a few seconds)")
	}
	last, report := runTool(t, "-quick", "-size", "1MiB", "-rounds", "1", "-gets", "5", "-kagets", "20")
	assert.Regexp(t, summaryRE, last)
	for _, w := range []string{"cl", "chunk16k", "gzip", "newconn", "keepalive", "file"} {
		assert.Contains(t, report, "## `"+w+"`: ")
	}
	assert.Contains(t, report, "## Acceptance checks (issue 8)")
	assert.Contains(t, report, "```\n"+last+"\n```")
	assert.NotContains(t, report, "error:")
	assert.NotContains(t, report, "not measured")
	assert.Regexp(t, `\| file: node-file peak HeapInuse MiB .*\| (PASS|FAIL) \|`, report)
}

// TestOnly: -only keeps the matching workload/client pairs; a ratio whose
// clients were left out is n/a, in the report's checks and the summary.
func TestOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the tool")
	}
	last, report := runTool(t, "-quick", "-size", "1MiB", "-rounds", "1", "-only", `^cl/(node-do-stream|nethttp)$`)
	assert.Regexp(t, `^gdhttp/nethttp cl=\d+\.\d\d chunk16k=n/a gzip=n/a newconn=n/a keepalive=n/a poll/blocking=n/a$`, last)
	assert.Contains(t, report, "| **node-do-stream** | ")
	assert.NotContains(t, report, "| **blocking** | ")
	assert.NotContains(t, report, "## `gzip`")
	assert.Contains(t, report, "| cl: node-do-stream / nethttp | ")
	assert.Contains(t, report, "| cl: poll / blocking | not measured | ≥ 0.90 | n/a |")
}

// TestInproc: with -inproc the server runs in the measuring process.
func TestInproc(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the tool")
	}
	last, report := runTool(t, "-quick", "-inproc", "-rounds", "2", "-gets", "5", "-kagets", "20",
		"-only", `^(newconn|keepalive)/(blocking|nethttp)$`)
	assert.Regexp(t, `^gdhttp/nethttp cl=n/a chunk16k=n/a gzip=n/a newconn=n/a keepalive=\d+\.\d\d poll/blocking=n/a$`, last)
	assert.Contains(t, report, "in this process (-inproc)")
	assert.Contains(t, report, "| **blocking** | ")
	assert.NotContains(t, report, "error:")
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"256MiB", 256 << 20, true},
		{"1GiB", 1 << 30, true},
		{"64KiB", 64 << 10, true},
		{"32M", 32 << 20, true},
		{"1048576", 1 << 20, true},
		{"MiB", 0, false},
		{"1.5MiB", 0, false},
	} {
		n, err := parseSize(tc.in)
		if !tc.ok {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, n, tc.in)
	}
}

// TestBadFlags: a size that is not a multiple of 1 MiB, or a bad regexp,
// is a usage error (exit 2) before anything runs.
func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-size", "1000"},
		{"-size", "x"},
		{"-only", "("},
		{"-nosuchflag"},
	} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 2, run(args, &stdout, &stderr), "%v", args)
		assert.Empty(t, stdout.String(), "%v", args)
	}
}
