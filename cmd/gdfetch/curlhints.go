package main

import (
	"errors"
	"strings"

	"github.com/spf13/pflag"
)

// curlHints says, for curl flags gdfetch does not have, what to do instead:
// a curl user's habit then fails with the way forward, not pflag's bare
// "unknown flag". Keys are the flag's name without dashes, long or short.
var curlHints = map[string]string{
	"Z":        "gdfetch has no -Z: one URL a run; start several gdfetch",
	"parallel": "gdfetch has no --parallel: one URL a run; start several gdfetch",
	"http1.1":  "gdfetch speaks HTTP/1.1 only, as Godot's HTTPClient",
	"http2":    "gdfetch speaks HTTP/1.1 only, as Godot's HTTPClient",
}

// withCurlHint adds curlHints' advice to pflag's error for an unknown flag,
// or, for a long flag curl has not either, the nearest of fs's flags: a
// typo (--verbos, --ouput) then fails with the flag meant.
func withCurlHint(fs *pflag.FlagSet, err error) error {
	var ne *pflag.NotExistError
	if !errors.As(err, &ne) {
		return usagef("%v", err)
	}
	name := ne.GetSpecifiedName()
	if hint, ok := curlHints[name]; ok {
		return usagef("%v\n%s", err, hint)
	}
	if near := nearestFlag(fs, name); near != "" {
		return usagef("%v\ngdfetch has no --%s: did you mean --%s?", err, name, near)
	}
	return usagef("%v", err)
}

// nearestFlag is the long flag of fs closest to name, at most 2 edits
// away (a letter left out, added, changed, or two swapped), "" for none or
// for a name of one or two letters.
func nearestFlag(fs *pflag.FlagSet, name string) string {
	if len(name) < 3 {
		return ""
	}
	best, bestDist := "", 3
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		if d := editDistance(name, f.Name); d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	return best
}

// editDistance is the optimal string alignment distance between a and b
// (Levenshtein with adjacent transpositions), over bytes: flag names are
// ASCII.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// jsonDataHint explains, on a line of its own, a value given to --json, which is curl 7.82's
// "send this JSON" but gdfetch's "print the completion as JSON": the value
// was taken as a second URL.
func jsonDataHint(json bool, args []string) string {
	if !json {
		return ""
	}
	for _, a := range args {
		if a = strings.TrimSpace(a); strings.HasPrefix(a, "{") || strings.HasPrefix(a, "[") || strings.HasPrefix(a, "@") {
			return "\n" + `gdfetch's --json takes no value, it prints the result as JSON: to send JSON use -H "Content-Type: application/json" -d DATA`
		}
	}
	return ""
}
