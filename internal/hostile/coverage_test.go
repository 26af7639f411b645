package hostile

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exclusion says why the default run (no -hostile flags) does not play sc
// through driver d, or "" when it does (plan and this must agree:
// TestDriverCoverage checks it).
func exclusion(sc *scenario, d string) string {
	switch {
	case sc.pending != "":
		return whyPending
	case d == "transport":
		return transportExclusion(sc)
	case sc.drivers != nil && !contains(sc.drivers, d):
		return whyDrivers
	case d == "blocking" || d == "poll":
		return clientExclusion(sc)
	}
	return ""
}

// The fewest scenarios each driver plays in the default run. The corpus
// only grows: a driver under its floor has lost scenarios to its
// eligibility check, as the raw client and the Transport lost the 82 that
// declare main (srv main: tls=ok) before TestServerOrder.
var coverageFloor = map[string]int{
	"process": 640, "threads": 640, "do": 640, "blocking": 325, "poll": 325, "transport": 320, "strict": 260,
}

// Groups the raw client plays no scenario of, with the reason; every other
// group has at least one scenario through the raw client (blocking or poll)
// and the Transport.
var clientlessGroups = map[string]string{
	"download": "every scenario writes download_file (opt: download)",
	"proxy":    "every scenario goes through a proxy",
}

// TestDriverCoverage computes, from the parsed corpus alone (no server is
// started), which scenarios each driver plays in the default run, and fails
// when a scenario plays nothing, when a driver or split a scenario names is
// not played, when the quick run (-hostile.all=false) plays a driver a
// scenario's drivers: leave out, when a scenario is left out of a driver for a reason not in
// the list of drivers_test.go (whyPending…), when a driver plays fewer
// scenarios than its floor, or when a group loses the raw client or the
// Transport entirely. It logs the table: driver × split runs and the
// reasons of every exclusion.
func TestDriverCoverage(t *testing.T) {
	corpus := loadCorpus(t)
	drivers := append(slices.Clone(allDrivers), "transport")
	played := map[string]int{}                 // driver → scenarios
	runs := map[runKey]int{}                   // driver × split → runs
	why := map[string]map[string]int{}         // driver → reason → scenarios
	groupPlayed := map[string]map[string]int{} // group → driver → scenarios
	total, strictRuns := 0, 0
	known := []string{whyPending, whyDrivers, whyClientSkip, whyRefused, whyServers, whyProxy, whyOption,
		whyResult, whyRedirect, whyPaths, whyDecode, whyReqHeaders, whyNotBlocking, whyNotClient}
	for g, scs := range corpus {
		groupPlayed[g] = map[string]int{}
		for _, sc := range scs {
			total++
			id := g + "/" + sc.name
			var p []runKey
			if sc.pending == "" {
				p = plan(sc, planFlags{all: true})
				if len(p) == 0 {
					t.Errorf("%s: plays no driver in the default run", id)
				}
			}
			byDriver := map[string]bool{}
			bySplit := map[split]bool{}
			for _, r := range p {
				runs[r]++
				byDriver[r.driver] = true
				bySplit[r.split] = true
			}
			for _, d := range sc.drivers {
				if !byDriver[d] && sc.pending == "" {
					t.Errorf("%s: drivers: names %s, which does not play it (%s)", id, d, exclusion(sc, d))
				}
			}
			for _, sp := range sc.splits {
				if !bySplit[split(sp)] && sc.pending == "" {
					t.Errorf("%s: splits: names %s, which no driver plays", id, sp)
				}
			}
			for _, d := range drivers {
				reason := exclusion(sc, d)
				if byDriver[d] != (reason == "") {
					t.Errorf("%s: %s: the plan plays it %v, the exclusion says %q", id, d, byDriver[d], reason)
				}
				if byDriver[d] {
					played[d]++
					groupPlayed[g][d]++
					continue
				}
				if !slices.Contains(known, reason) {
					t.Errorf("%s: left out of %s for a reason not in the list: %q", id, d, reason)
				}
				if why[d] == nil {
					why[d] = map[string]int{}
				}
				why[d][reason]++
			}
			for _, r := range plan(sc, planFlags{}) { // -hostile.all=false
				if sc.drivers != nil && r.driver != "transport" && !contains(sc.drivers, r.driver) {
					t.Errorf("%s: the quick run plays %s, which its drivers: leave out", id, r.driver)
				}
			}
			if sc.strict != nil && sc.strictPnd == "" && sc.pending == "" {
				sp := strictPlan(sc, false)
				if len(sp) == 0 {
					t.Errorf("%s: strict: plays no driver", id)
				}
				strictRuns += len(sp)
			}
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "%d scenarios; default run (driver: scenarios, runs one/byte/random):\n", total)
	for _, d := range drivers {
		fmt.Fprintf(&b, "  %-9s %3d  %3d/%3d/%3d\n", d, played[d], runs[runKey{d, splitOne}], runs[runKey{d, splitByte}], runs[runKey{d, splitRandom}])
		reasons := make([]string, 0, len(why[d]))
		for r := range why[d] {
			reasons = append(reasons, r)
		}
		sort.Strings(reasons)
		for _, r := range reasons {
			fmt.Fprintf(&b, "      %3d left out: %s\n", why[d][r], r)
		}
	}
	fmt.Fprintf(&b, "strict mode: %d runs\n", strictRuns)
	t.Log(b.String())

	for _, d := range drivers {
		assert.GreaterOrEqual(t, played[d], coverageFloor[d], "%s plays %d scenarios, under its floor", d, played[d])
	}
	assert.GreaterOrEqual(t, strictRuns, coverageFloor["strict"], "strict mode: %d runs, under its floor", strictRuns)
	for g, n := range groupPlayed {
		for _, d := range []string{"process", "threads", "do"} {
			assert.Positive(t, n[d], "group %s: %s plays none of its scenarios", g, d)
		}
		client := n["blocking"]+n["poll"] > 0 && n["transport"] > 0
		_, clientless := clientlessGroups[g]
		assert.True(t, client != clientless, "group %s: the raw client and the Transport play %d, %d and %d of its scenarios (blocking, poll, transport); clientless: %q",
			g, n["blocking"], n["poll"], n["transport"], clientlessGroups[g])
	}
}

// A driver, split or client: value the harness does not know is refused
// when the corpus is parsed: a typo would play nothing (drivers:), one
// write (splits:) or every driver (client:).
func TestCorpusNamesChecked(t *testing.T) {
	for _, c := range []struct{ line, err string }{
		{"drivers: process,pol", `unknown driver "pol"`},
		{"splits: one,bytes", `unknown split "bytes"`},
		{"client: status=BODY", `only skip is read`},
	} {
		path := filepath.Join(t.TempDir(), "names.hostile")
		require.NoError(t, os.WriteFile(path, []byte("=== s\nsend: \"HTTP/1.1 204 No Content\\r\\n\\r\\n\"\nwant: SUCCESS 204\n"+c.line+"\n"), 0o644))
		_, err := parseFile(path, "names")
		assert.ErrorContains(t, err, c.err, c.line)
	}
}
