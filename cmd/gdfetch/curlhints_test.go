package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A curl flag gdfetch lacks fails with exit 2 and says what to do instead,
// long or short, alone or in a group (-sSOZ).
func TestCurlFlagHints(t *testing.T) {
	tests := []struct {
		args []string
		hint string
	}{
		{[]string{"--http1.1", "http://h/"}, "HTTP/1.1 only"},
		{[]string{"-Z", "http://h/"}, "gdfetch has no -Z: one URL a run; start several gdfetch"},
		{[]string{"-OZ", "http://h/"}, "gdfetch has no -Z"},
		{[]string{"-sSOZ", "http://h/f.bin"}, "gdfetch has no -Z"},
		{[]string{"--parallel", "http://h/"}, "one URL a run"},
	}
	for _, tt := range tests {
		code, stdout, stderr := gdfetch(t, tt.args...)
		assert.Equal(t, exitUsage, code, "%q", tt.args)
		assert.Empty(t, stdout)
		assert.Contains(t, stderr, "unknown", "%q: pflag's error stays", tt.args)
		assert.Contains(t, stderr, tt.hint, "%q", tt.args)
		assert.Regexp(t, `\ngdfetch (has no|speaks) `, stderr, "%q: the hint on a line of its own", tt.args)
		assert.Contains(t, stderr, "(gdfetch --help for the flags)\n", "%q", tt.args)
	}

	// A flag curl has not either: pflag's error alone.
	code, _, stderr := gdfetch(t, "--bogus", "http://h/")
	assert.Equal(t, exitUsage, code)
	assert.Equal(t, "gdfetch: unknown flag: --bogus\n(gdfetch --help for the flags)\n", stderr)
}

// No hint shadows a flag gdfetch has: the table is only for missing ones.
func TestCurlFlagHintsNameNoFlag(t *testing.T) {
	fs := newFetchFlags(&rawFlags{})
	for name := range curlHints {
		if len(name) == 1 {
			assert.Nil(t, fs.ShorthandLookup(name), "-%s is a gdfetch flag", name)
		} else {
			assert.Nil(t, fs.Lookup(name), "--%s is a gdfetch flag", name)
		}
	}
}

// curl 7.82's --json DATA (send JSON) is gdfetch's output flag: the DATA
// taken as a second URL gets an explanation.
func TestJSONFlagWithDataHint(t *testing.T) {
	for _, args := range [][]string{
		{"--json", `{"score":1}`, "http://h/api"},
		{"http://h/api", "--json", `[1,2]`},
		{"--json", "@body.json", "http://h/api"},
	} {
		code, _, stderr := gdfetch(t, args...)
		assert.Equal(t, exitUsage, code, "%q", args)
		assert.Contains(t, stderr, "one URL at a time", "%q", args)
		assert.Contains(t, stderr, "\ngdfetch's --json takes no value", "%q", args)
		assert.Contains(t, stderr, `-H "Content-Type: application/json" -d DATA`, "%q", args)
	}
	// Two URLs without --json, or with it but no JSON-looking value: no hint.
	for _, args := range [][]string{
		{"http://h/a", "http://h/b"},
		{"--json", "http://h/a", "http://h/b"},
	} {
		_, _, stderr := gdfetch(t, args...)
		assert.NotContains(t, stderr, "takes no value", "%q", args)
	}
}

// A typo'd long flag fails with the flag meant (at most 2 edits away); a
// name near none, or a curl flag with a hint, gets no guess.
func TestTypoFlagSuggestion(t *testing.T) {
	for typo, want := range map[string]string{
		"--verbos":    "--verbose",
		"--ouput":     "--output",
		"--outptu":    "--output",
		"--insecrue":  "--insecure",
		"--max-tim":   "--max-time",
		"--compresed": "--compressed",
		"--cookies":   "--cookie",
		"--locaton":   "--location",
		"--max-redir": "--max-redirs",
		"--jsn":       "--json", // three letters are enough for a guess
		"--users":     "--user",
		"--referrer":  "--referer",
	} {
		code, stdout, stderr := gdfetch(t, typo, "http://h/")
		assert.Equal(t, exitUsage, code, typo)
		assert.Empty(t, stdout, typo)
		assert.Equal(t, "gdfetch: unknown flag: "+typo+"\ngdfetch has no "+typo+": did you mean "+want+"?\n(gdfetch --help for the flags)\n", stderr)
	}
	for _, far := range []string{"--bogus", "--progress-bar", "--xy", "--verb" /* 3 edits from --verbose and --head */} {
		_, _, stderr := gdfetch(t, far, "http://h/")
		assert.NotContains(t, stderr, "did you mean", far)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"abc", "ab", 1}, {"ab", "abc", 1}, {"abc", "abd", 1},
		{"abc", "acb", 1}, {"verbos", "verbose", 1}, {"outptu", "output", 1}, {"abcd", "badc", 2}, {"kitten", "sitting", 3},
	} {
		assert.Equal(t, tt.d, editDistance(tt.a, tt.b), "%q %q", tt.a, tt.b)
		assert.Equal(t, tt.d, editDistance(tt.b, tt.a), "%q %q", tt.b, tt.a)
	}
}
