package hostile

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gdhttp/gdhttp/internal/childtest"
	"github.com/gdhttp/gdhttp/internal/drive"
)

var (
	onlyGroup   = flag.String("hostile.group", "", "run only this group")
	allSplits   = flag.Bool("hostile.all", true, "every driver × split (false: one write, do and poll only)")
	serial      = flag.Bool("hostile.serial", false, "run every scenario alone, with the invariants checked after each")
	extraSplits = flag.Bool("hostile.extrasplits", false, "-hostile.extra drivers with every split, not only one write")
	strictAll   = flag.Bool("hostile.strictall", false, "strict mode through every driver and split")
	pending     = flag.Bool("hostile.pending", false, "run pending scenarios too (to see which a fix made pass)")
)

var allDrivers = []string{"process", "threads", "do", "blocking", "poll"}

// TestCorpus plays every scenario of testdata/hostile: node drivers (process,
// threads, do) and raw client (blocking, poll) × splits (one, byte, random),
// then strict mode where the scenario states it, then the invariants.
func TestCorpus(t *testing.T) {
	for _, d := range extraList() {
		// An unknown name would be played as Process.
		require.Contains(t, extraBase, d, "-hostile.extra: unknown driver")
	}
	corpus := loadCorpus(t)
	if *onlyGroup != "" {
		require.Contains(t, corpus, *onlyGroup, "-hostile.group: no such group (nothing would run)")
	}
	groups := make([]string, 0, len(corpus))
	for g := range corpus {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		if *onlyGroup != "" && g != *onlyGroup {
			continue
		}
		base := takeBaseline()
		t.Run(g, func(t *testing.T) {
			// Scenarios that measure the heap or set a process-wide limit run
			// first, one at a time, each with its own invariant check; the
			// others run in parallel and are checked as a group.
			for _, sc := range corpus[g] {
				if sc.serial() {
					t.Run(sc.name, func(t *testing.T) { runScenario(t, sc, true) })
				}
			}
			for _, sc := range corpus[g] {
				if !sc.serial() {
					t.Run(sc.name, func(t *testing.T) {
						if !*serial {
							t.Parallel()
						}
						runScenario(t, sc, *serial)
					})
				}
			}
		})
		base.check(t) // the whole group: goroutines and fds back to baseline
	}
}

// serial reports whether the scenario must run alone: a heap bound of its own
// or a process-wide limit.
func (s *scenario) serial() bool {
	_, fsize := s.opts["fsize"]
	return s.heap > 0 || fsize || *serial
}

func runScenario(t *testing.T, sc *scenario, alone bool) {
	if sc.pending != "" && !*pending {
		t.Skip("pending: " + sc.pending)
	}
	base := takeBaseline()
	if alone {
		defer base.check(t)
	}
	f := flagsNow()
	for _, r := range plan(sc, f) {
		t.Run(r.driver+"/"+string(r.split), func(t *testing.T) { runOnce(t, sc, r.driver, r.split, false) })
	}
	if sc.strict != nil && f.extra == nil {
		t.Run("strict", func(t *testing.T) {
			if sc.strictPnd != "" && !*pending {
				t.Skip("pending: " + sc.strictPnd)
			}
			for _, r := range strictPlan(sc, *strictAll) {
				t.Run(r.driver+"/"+string(r.split), func(t *testing.T) { runOnce(t, sc, r.driver, r.split, true) })
			}
		})
	}
}

// runKey is one driver × split of a scenario.
type runKey struct {
	driver string
	split  split
}

// planFlags are the -hostile.* flags that choose a scenario's runs.
type planFlags struct {
	all         bool     // -hostile.all
	extra       []string // -hostile.extra
	extraSplits bool     // -hostile.extrasplits
}

func flagsNow() planFlags {
	return planFlags{all: *allSplits, extra: extraList(), extraSplits: *extraSplits}
}

// scenarioSplits: the scenario's splits: list, or all three.
func scenarioSplits(sc *scenario) []string {
	if sc.splits != nil {
		return sc.splits
	}
	return []string{"one", "byte", "random"}
}

// plan lists the runs of sc (strict mode aside) under flags f: its drivers ×
// its splits, the raw client's drivers where it is eligible, then the
// Transport's (one write and one byte per write) where that is. The quick
// mode (-hostile.all=false) plays do and poll with the scenario's first
// split, of the scenario's own drivers only (its first one when it lists
// neither): a scenario that names its drivers has an outcome the others do
// not give.
func plan(sc *scenario, f planFlags) []runKey {
	drivers := allDrivers
	if sc.drivers != nil {
		drivers = sc.drivers
	}
	splits := scenarioSplits(sc)
	if !f.all {
		splits, drivers = splits[:1], among(sc, []string{"do", "poll"})
	}
	if f.extra != nil {
		drivers = nil
		for _, d := range f.extra {
			if extraAllowed(sc, d) {
				drivers = append(drivers, d)
			}
		}
		if !f.extraSplits {
			splits = splits[:1]
		}
	}
	out := cross(sc, drivers, splits)
	if transportEligible(sc) && f.extra == nil {
		for _, sp := range splits {
			if split(sp) == splitOne || split(sp) == splitByte {
				out = append(out, runKey{"transport", split(sp)})
			}
		}
	}
	return out
}

// among: those of ds that the scenario's drivers: list holds (all of ds
// when it has none), or its first one when it holds none of them.
func among(sc *scenario, ds []string) []string {
	if sc.drivers == nil {
		return ds
	}
	var own []string
	for _, d := range ds {
		if contains(sc.drivers, d) {
			own = append(own, d)
		}
	}
	if own == nil {
		own = sc.drivers[:1]
	}
	return own
}

// strictPlan lists the strict-mode runs of sc: process, do and poll with
// one write, or (all: -hostile.strictall) every driver × split; of the
// scenario's own drivers when it names them (its first one when none of
// those is there), the raw client's where it is eligible.
func strictPlan(sc *scenario, all bool) []runKey {
	sds, sss := []string{"process", "do", "poll"}, []string{"one"}
	if all {
		sds, sss = allDrivers, scenarioSplits(sc)
	}
	return cross(sc, among(sc, sds), sss)
}

// cross: drivers × splits, the raw client's drivers only where sc is
// eligible for them.
func cross(sc *scenario, drivers, splits []string) []runKey {
	var out []runKey
	for _, d := range drivers {
		if (d == "blocking" || d == "poll") && !clientEligible(sc) {
			continue
		}
		for _, sp := range splits {
			out = append(out, runKey{d, split(sp)})
		}
	}
	return out
}

// hostileFlags are the -hostile.* flags this run was given, for a child
// process that must play the same drivers and splits (runOnce).
func hostileFlags() []string {
	var args []string
	flag.Visit(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, "hostile.") {
			args = append(args, "-"+f.Name+"="+f.Value.String())
		}
	})
	return args
}

// runOnce is one driver × split of one scenario.
func runOnce(t *testing.T, sc *scenario, driver string, sp split, strict bool) {
	lim, fsize := sc.opts["fsize"]
	if fsize && !childtest.InChild(t) {
		// RLIMIT_FSIZE is process-wide: the testing package's own log would
		// hit it too. The run happens in a child process of its own.
		childtest.Run(t, childtest.Options{Args: hostileFlags()})
		return
	}
	e := startServers(t, sc, sp)
	r := e.request(t)
	e.prepareDownload(t, &r)
	stop, _ := startHeapWatch()
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	if fsize {
		n, _ := parseSize(lim)
		childtest.LimitFileSize(t, uint64(n))
	}
	var g got
	var tg transportResult
	switch driver {
	case "transport":
		tg = runTransport(t, e, r)
	case "blocking", "poll":
		g = runClient(t, e, driver == "blocking", strict, r)
	default:
		g = runNode(t, e, driver, strict, r)
	}
	peak := stop()
	stopped = true
	bound := sc.heap
	if bound == 0 {
		bound = 64 << 20 // process-wide: parallel scenarios share it
		if !sc.serial() {
			bound = 256 << 20
		}
	}
	assert.LessOrEqual(t, peak, bound, "heap growth %d B over the scenario's bound %d B", peak, bound)
	if sc.heap > 0 {
		t.Logf("heap: peak growth %.2f MiB, bound %.0f MiB", float64(peak)/(1<<20), float64(bound)/(1<<20))
	}

	if driver == "transport" {
		checkTransport(t, e, sc, tg)
	} else {
		r.inPlace = driver == "inplace"
		checkGot(t, e, sc, r, g, strict)
	}
	for _, s := range e.servers {
		s.Close()
	}
	if sc.sni != "" && driver != "blocking" && driver != "poll" {
		assert.Contains(t, e.servers["main"].ServerNames(), sc.sni, "SNI sent (§1.15.5)")
	}
	for _, p := range e.proxies {
		p.Close()
	}
	checkCredentials(t, e, r)
}

// checkGot compares what a node or client driver observed with the
// scenario's outcome (or, failing that, an alternative), counters and
// download.
func checkGot(t *testing.T, e *env, sc *scenario, r request, g got, strict bool) {
	t.Helper()
	want := sc.want
	if strict {
		want = *sc.strict
	}
	ok := match(t, e, want, g, false)
	for _, a := range sc.alts {
		if !ok && !strict {
			if a.headers == nil && !a.hasBody && carriesResponse(a.result) {
				a.headers, a.body, a.hasBody = want.headers, want.body, want.hasBody
			}
			ok = match(t, e, a, g, false)
		}
	}
	if !ok {
		match(t, e, want, g, true) // report against the main expectation
	}
	if sc.counters != nil && g.counters != nil && !strict {
		assert.Equal(t, *sc.counters, *g.counters, "counters: get_body_size(), get_downloaded_bytes() (§2.9.7)")
	}
	if r.dir != "" {
		checkDownload(t, sc, r, g)
	}
}

// match compares g with want; report makes the comparison fail the test.
func match(t *testing.T, e *env, want outcome, g got, report bool) bool {
	t.Helper()
	wantBody := []byte(nil)
	if want.hasBody {
		b, err := evalExpr(want.body, e.refs)
		require.NoError(t, err)
		wantBody = b
	}
	var wantHdr []string
	for _, h := range want.headers {
		if strings.HasPrefix(h, `"`) {
			b, err := evalExpr(h, e.refs)
			require.NoError(t, err)
			h = string(b)
		} else {
			h = substitute(h, e.refs)
		}
		wantHdr = append(wantHdr, h)
	}
	if want.result == resultRefused {
		if !report {
			return g.refused != nil
		}
		assert.Error(t, g.refused, "want the request refused synchronously (ErrInvalidParameter), got result %d code %d", g.result, g.code)
		return false
	}
	same := g.refused == nil && g.result == want.result && g.code == want.code &&
		strings.Join(wantHdr, "\n") == strings.Join(g.headers, "\n") && len(wantHdr) == len(g.headers) &&
		string(wantBody) == string(g.body) && g.count == 1
	if same || !report {
		return same
	}
	require.NoError(t, g.refused, "the request was refused")
	assert.Equal(t, want.result, g.result, "result")
	assert.Equal(t, want.code, g.code, "response code")
	if n := len(strings.Join(wantHdr, "")) + len(strings.Join(g.headers, "")); n > 8192 {
		assert.Equal(t, len(wantHdr), len(g.headers), "header count")
		assert.True(t, strings.Join(wantHdr, "\n") == strings.Join(g.headers, "\n"), "headers (long)")
	} else {
		assert.Equal(t, wantHdr, nilIfEmpty(g.headers), "headers")
	}
	if len(wantBody) > 4096 || len(g.body) > 4096 {
		assert.Equal(t, len(wantBody), len(g.body), "body length")
		assert.True(t, string(wantBody) == string(g.body), "body bytes")
	} else {
		assert.Equal(t, string(wantBody), string(g.body), "body")
	}
	assert.Equal(t, 1, g.count, "exactly one completion")
	return false
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// ---- invariants ----

type baseline struct {
	goroutines goleak.Option
	fds        int
}

func takeBaseline() baseline {
	return baseline{goroutines: goleak.IgnoreCurrent(), fds: countFDs()}
}

// check: goroutines back to baseline, no file descriptor left open.
func (b baseline) check(t *testing.T) {
	t.Helper()
	assert.NoError(t, goleak.Find(b.goroutines), "goroutines back to baseline")
	if b.fds < 0 {
		return
	}
	n := countFDs()
	drive.Until(2*time.Second, func() bool {
		n = countFDs()
		return n <= b.fds
	})
	assert.LessOrEqual(t, n, b.fds, "file descriptors back to baseline")
}

// countFDs counts /proc/self/fd (linux); −1 elsewhere.
func countFDs() int {
	if runtime.GOOS != "linux" {
		return -1
	}
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(es) - 1 // the directory being read
}

// startHeapWatch samples the live heap every millisecond until stop, which
// returns the peak growth over the start; peakNow returns it so far.
func startHeapWatch() (stop, peakNow func() int64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() int64 {
		metrics.Read(sample)
		return int64(sample[0].Value.Uint64())
	}
	start := read()
	var peak atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		for {
			if v := read() - start; v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-tk.C:
			}
		}
	})
	stop = func() int64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
	return stop, peak.Load
}

// checkDownload: the file holds what the scenario says (the old content after
// every failure, §7 D3) and no temporary file is left.
func checkDownload(t *testing.T, sc *scenario, r request, g got) {
	t.Helper()
	var want []string
	if d, ok := sc.opts["predir"]; ok {
		want = append(want, strings.SplitN(strings.TrimSuffix(d, "/"), "/", 2)[0])
	}
	top := strings.SplitN(sc.opts["download"], "/", 2)[0]
	if _, err := os.Lstat(filepath.Join(r.dir, top)); err == nil && !contains(want, top) {
		want = append(want, top)
	}
	entries, err := os.ReadDir(r.dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, want, names, "no temporary file left (§7 D3)")
	if r.inPlace && g.result != 0 {
		// In place (SetDownloadInPlace, Godot's way): the file was truncated
		// when a body was about to be read (§2.9.2) and keeps what was
		// written before the failure (§2.9.3); the old content kept, or no
		// file, is the atomic default's (§7 D3). httprequest:
		// TestDownloadInPlace pins the bytes.
		return
	}
	if sc.wantFile != nil {
		content, err := os.ReadFile(r.file)
		if *sc.wantFile == "none" {
			assert.True(t, os.IsNotExist(err), "no file created (§2.9.2)")
			return
		}
		b, err2 := evalExpr(*sc.wantFile, nil)
		require.NoError(t, err2)
		require.NoError(t, err)
		assert.Equal(t, string(b), string(content), "download_file content")
	} else if old, ok := sc.opts["old"]; ok && g.result != 0 {
		content, err := os.ReadFile(r.file)
		require.NoError(t, err)
		assert.Equal(t, old, string(content), "the old file intact after a failure (§7 D3)")
	}
}

func contains(a []string, s string) bool {
	for _, x := range a {
		if x == s {
			return true
		}
	}
	return false
}

// tester is the part of *testing.T the invariant checks use (a recorder in
// their own tests).
type tester interface {
	Helper()
	Errorf(format string, args ...any)
}

// checkCredentials: no Authorization, Proxy-Authorization or Cookie reaches a
// server that is not the request's origin (main) or a proxy (§7 D2).
func checkCredentials(t tester, e *env, r request) {
	t.Helper()
	var creds []string
	for _, h := range r.headers {
		name, _, _ := strings.Cut(strings.ToLower(h), ":")
		name = strings.TrimSpace(name)
		if name == "authorization" || name == "cookie" || name == "proxy-authorization" {
			creds = append(creds, name+":")
		}
	}
	if len(creds) == 0 {
		return
	}
	for name, s := range e.servers {
		if name == "main" || name == e.sc.proxy[1] || strings.HasPrefix(name, "same") {
			continue
		}
		for _, req := range s.Requests() {
			for _, line := range strings.Split(strings.ToLower(string(req)), "\n") {
				for _, c := range creds {
					assert.False(t, strings.HasPrefix(strings.TrimSpace(line), c),
						"credential %q reached server %s (§7 D2)", c, name)
				}
			}
		}
	}
}

// TestCorpusSize pins the corpus: at least 250 scenarios, each group present.
func TestCorpusSize(t *testing.T) {
	corpus := loadCorpus(t)
	total, pending := 0, 0
	var lines []string
	for g, scs := range corpus {
		p := 0
		for _, s := range scs {
			if s.pending != "" || s.strictPnd != "" {
				p++
			}
		}
		total += len(scs)
		pending += p
		lines = append(lines, fmt.Sprintf("%-12s %3d scenarios, %2d pending (default or strict)", g, len(scs), p))
	}
	sort.Strings(lines)
	t.Logf("corpus:\n%s\ntotal %d, pending %d", strings.Join(lines, "\n"), total, pending)
	assert.GreaterOrEqual(t, total, minScenarios)
}

// minScenarios is the corpus size this branch guarantees (issue 9 asks 250).
const minScenarios = 250
