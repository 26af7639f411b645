package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/gdhttp/gdhttp/benchmarks/internal/heapwatch"
	"github.com/gdhttp/gdhttp/benchmarks/internal/rawserver"
)

// serveEnv is set in the server child's environment (rawserver.StartChild).
const serveEnv = "GDHTTP_COMPARE_SERVE"

func main() {
	if os.Getenv(serveEnv) != "" || (len(os.Args) > 1 && (os.Args[1] == "-serve" || os.Args[1] == "--serve")) {
		os.Exit(rawserver.ServeMain("compare", os.Args[1:]))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const (
	kiB = 1 << 10
	miB = 1 << 20
	giB = 1 << 30
)

// config is the run's parameters, from the mode's defaults and the flags.
type config struct {
	quick      bool
	rounds     int
	size       int64 // body of the download workloads
	fileSize   int64 // download_file
	fileRounds int
	gets       int // small GETs per sample, a new connection each
	kaGets     int // small GETs per sample over one connection
	out        string
	only       *regexp.Regexp
	inproc     bool
}

// Full and quick defaults.
var (
	fullConfig  = config{rounds: 5, size: 256 * miB, fileSize: giB, fileRounds: 3, gets: 1000, kaGets: 20000}
	quickConfig = config{quick: true, rounds: 5, size: 64 * miB, fileSize: 64 * miB, fileRounds: 3, gets: 200, kaGets: 2000}
)

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "quick mode: 64 MiB bodies, fewer requests; download_file at the body size, not 1 GiB")
	rounds := fs.Int("rounds", 0, "rounds (medians over them); 0: the mode's default (5)")
	size := fs.String("size", "", "download body size, a multiple of 1 MiB (e.g. 64MiB); default 256MiB, 64MiB with -quick")
	fileSize := fs.String("filesize", "", "download_file size; default 1GiB, the body size with -quick")
	gets := fs.Int("gets", 0, "small GETs per sample with a new connection each; default 1000, 200 with -quick")
	kaGets := fs.Int("kagets", 0, "keep-alive small GETs per sample; default 20000, 2000 with -quick")
	out := fs.String("out", "RESULTS.md", "the markdown report")
	only := fs.String("only", "", "run only the workload/client pairs matching this regexp (e.g. 'cl/|gzip/node')")
	inproc := fs.Bool("inproc", false, "run the server in this process instead of a child process")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the clients (the server is a child process) to this file")
	memProfile := fs.String("memprofile", "", "write an allocation profile of the clients (every 4 KiB sampled) to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *memProfile != "" {
		runtime.MemProfileRate = 4096
		defer func() {
			if err := writeHeapProfile(*memProfile); err != nil {
				fmt.Fprintf(stderr, "compare: %v\n", err)
			}
		}()
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "compare: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "compare: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	cfg := fullConfig
	if *quick {
		cfg = quickConfig
	}
	cfg.out, cfg.inproc = *out, *inproc
	if *rounds > 0 {
		cfg.rounds = *rounds
		cfg.fileRounds = min(cfg.fileRounds, *rounds)
	}
	if *gets > 0 {
		cfg.gets = *gets
	}
	if *kaGets > 0 {
		cfg.kaGets = *kaGets
	}
	if *size != "" {
		n, err := parseSize(*size)
		if err != nil || n < miB || n%miB != 0 {
			fmt.Fprintf(stderr, "compare: -size %q: want a multiple of 1 MiB\n", *size)
			return 2
		}
		cfg.size = n
		if *quick {
			cfg.fileSize = n
		}
	}
	if *fileSize != "" {
		n, err := parseSize(*fileSize)
		if err != nil || n <= 0 {
			fmt.Fprintf(stderr, "compare: -filesize %q: want a size\n", *fileSize)
			return 2
		}
		cfg.fileSize = n
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fmt.Fprintf(stderr, "compare: -only: %v\n", err)
			return 2
		}
		cfg.only = re
	}
	res, err := compare(cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "compare: %v\n", err)
		return 1
	}
	report := res.markdown()
	if err := os.WriteFile(cfg.out, []byte(report), 0o644); err != nil {
		fmt.Fprintf(stderr, "compare: %v\n", err)
		return 1
	}
	fmt.Fprint(stdout, res.checksText())
	fmt.Fprintf(stdout, "wrote %s (%s)\n", cfg.out, res.elapsed.Round(time.Second))
	if cfg.quick {
		fmt.Fprintf(stdout, "full mode (256 MiB, 1 GiB download_file) estimated at %s on this machine\n",
			res.fullEstimate().Round(10*time.Second))
	}
	fmt.Fprintln(stdout, res.summaryLine())
	return 0
}

// parseSize reads "256MiB", "1GiB", "64KiB" or a byte count.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", giB}, {"MiB", miB}, {"KiB", kiB}, {"G", giB}, {"M", miB}, {"K", kiB}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	return n * mult, nil
}

// workload kinds.
const (
	download = iota // one big body per sample, a new connection each
	small           // count small GETs per sample
	file            // download_file: one body per sample, peak heap sampled
)

// A workload is one table of the report.
type workload struct {
	name      string // "cl": the first half of the -only names and of the summary
	title     string
	kind      int
	path      string
	gzip      bool
	keepAlive bool
	size      int64 // body bytes per request (decoded)
	count     int   // requests per sample
	rounds    int
	refs      []string // the clients the ratio columns divide by
	filePath  string   // download_file's target
	series    []*series
}

// series is one client on one workload: its request function and a sample
// per round.
type series struct {
	w       *workload
	name    string
	gdhttp  bool
	wire    bool // the raw reader: counts the whole response, not the body
	loose   bool // curl on gzip: reports the encoded size, any is fine
	req     request
	close   func()
	samples []*sample // by round; nil when missing
	err     error
}

type sample struct {
	dur     time.Duration
	allocB  uint64 // bytes allocated, whole sample
	mallocs uint64
	peak    uint64 // peak HeapInuse (file workloads)
	base    uint64 // HeapInuse after a GC, before the sample
}

// results is a finished run.
type results struct {
	cfg       config
	workloads []*workload
	curl      string // curl's version line, or why it was skipped
	server    string
	start     time.Time
	elapsed   time.Duration
	setup     time.Duration // starting the server (building its gzip body)
}

func compare(cfg config, log io.Writer) (*results, error) {
	res := &results{cfg: cfg, start: time.Now()}
	dir, err := os.MkdirTemp("", "gdhttp-compare-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	curlOK := false
	if out, err := exec.Command("curl", "--version").Output(); err != nil {
		res.curl = "curl is not installed: skipped"
	} else {
		res.curl, _, _ = strings.Cut(string(out), "\n")
		curlOK = true
	}
	res.workloads = buildWorkloads(cfg, curlOK, filepath.Join(dir, "download.bin"))
	gzSize := int64(0) // the server builds the gzip body before it starts, if a client needs it
	for _, w := range res.workloads {
		kept := w.series[:0]
		for _, s := range w.series {
			if cfg.only != nil && !cfg.only.MatchString(w.name+"/"+s.name) {
				continue
			}
			s.samples = make([]*sample, w.rounds)
			kept = append(kept, s)
			if w.gzip {
				gzSize = w.size
			}
		}
		w.series = kept
	}

	t0 := time.Now()
	var addr string
	if cfg.inproc {
		s, err := rawserver.New()
		if err != nil {
			return nil, err
		}
		defer s.Close()
		if gzSize > 0 {
			s.GzipOf(gzSize)
		}
		addr = s.Addr()
		res.server = "raw TCP, in this process (-inproc)"
	} else {
		c, err := rawserver.StartChild(serveEnv, gzSize)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		addr = c.Addr
		res.server = "raw TCP, in a child process (compare -serve)"
	}
	res.setup = time.Since(t0)
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(portStr)

	defer func() {
		for _, w := range res.workloads {
			for _, s := range w.series {
				if s.close != nil {
					s.close()
				}
			}
		}
	}()
	for _, w := range res.workloads {
		t := target{host: host, port: port, path: w.path, gzip: w.gzip, size: w.size}
		for _, s := range w.series {
			s.req, s.close, s.err = s.driver(t, w)()
		}
	}

	// One unmeasured request per client first: connections, lazy buffers and
	// page faults are not counted in the first round, and a client that fails
	// at once is known before the rounds. (Not download_file: 1 GiB each.)
	for _, w := range res.workloads {
		if w.kind == file {
			continue
		}
		for _, s := range w.series {
			if s.err == nil {
				_, s.err = s.req()
			}
		}
	}
	fmt.Fprintf(log, "compare: warm-up done (%s)\n", time.Since(res.start).Round(time.Second))

	// The throughput workloads, interleaved: every round runs every client of
	// every workload once, in an order rotated each round.
	maxRounds := 0
	for _, w := range res.workloads {
		if w.kind != file {
			maxRounds = max(maxRounds, w.rounds)
		}
	}
	for r := range maxRounds {
		for _, w := range res.workloads {
			if w.kind == file || r >= w.rounds {
				continue
			}
			runRound(w, r)
		}
		fmt.Fprintf(log, "compare: round %d/%d done (%s)\n", r+1, maxRounds, time.Since(res.start).Round(time.Second))
	}
	// download_file last, after the other clients are closed, so that the
	// heap it samples holds only what the download itself keeps.
	for _, w := range res.workloads {
		if w.kind != file {
			for _, s := range w.series {
				if s.close != nil {
					s.close()
				}
				// Drop the client's state (buffers, decoders) too.
				s.req, s.close = nil, nil
			}
		}
	}
	runtime.GC()
	runtime.GC()
	for _, w := range res.workloads {
		if w.kind != file {
			continue
		}
		for r := range w.rounds {
			runRound(w, r)
		}
		fmt.Fprintf(log, "compare: %s done (%s)\n", w.name, time.Since(res.start).Round(time.Second))
	}
	res.elapsed = time.Since(res.start)
	return res, nil
}

// writeHeapProfile writes the allocation profile to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func runRound(w *workload, r int) {
	n := len(w.series)
	for i := range n {
		s := w.series[(i+r)%n]
		if s.err != nil {
			continue
		}
		s.samples[r], s.err = s.measure()
	}
}

// measure runs one sample: count requests, timed, with the allocations
// counted by runtime.MemStats (the server is in another process).
func (s *series) measure() (*sample, error) {
	w := s.w
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	var hs *heapwatch.Sampler
	if w.kind == file {
		hs = heapwatch.Start(2 * time.Millisecond)
	}
	start := time.Now()
	for range w.count {
		n, err := s.req()
		if err != nil {
			if hs != nil {
				hs.Stop()
			}
			return nil, err
		}
		if s.loose && n <= 0 || s.wire && n < w.size || !s.wire && !s.loose && n != w.size {
			if hs != nil {
				hs.Stop()
			}
			return nil, fmt.Errorf("got %d body bytes, want %d", n, w.size)
		}
	}
	dur := time.Since(start)
	sm := &sample{dur: dur, base: m0.HeapInuse}
	if hs != nil {
		sm.peak = hs.Stop()
	}
	runtime.ReadMemStats(&m1)
	sm.allocB = m1.TotalAlloc - m0.TotalAlloc
	sm.mallocs = m1.Mallocs - m0.Mallocs
	return sm, nil
}

// driver returns the constructor of s's request function on t.
func (s *series) driver(t target, w *workload) func() (request, func(), error) {
	mk := driverFor(s.name, w)
	if mk == nil {
		return func() (request, func(), error) { return nil, nil, errors.New("no such driver") }
	}
	keepAlive := w.keepAlive || strings.HasPrefix(s.name, "node-keepalive")
	return func() (request, func(), error) { return mk(t, keepAlive) }
}

// buildWorkloads lists the workloads and their clients.
func buildWorkloads(cfg config, curl bool, fileTarget string) []*workload {
	dl := func(name, title, path string, gz bool, raw bool) *workload {
		w := &workload{name: name, title: title, kind: download, path: path, gzip: gz,
			size: cfg.size, count: 1, rounds: cfg.rounds, refs: []string{"nethttp", "nethttp-readall", "fasthttp"}}
		names := []string{"blocking", "poll", "node-process", "node-process-stream", "node-threads", "node-do-mem", "node-do-stream", "node-keepalive-stream",
			"transport", "nethttp", "nethttp-readall", "fasthttp"}
		if !gz {
			names = append(names, "blocking-godot", "poll-godot", "blocking-append", "poll-append")
		}
		if curl {
			names = append(names, "curl")
		}
		if raw {
			w.refs = append(w.refs, "raw-64k", "raw-mem")
			names = append(names, "raw-64k", "raw-1m", "raw-mem")
		}
		w.addSeries(names...)
		return w
	}
	mb := strconv.FormatInt(cfg.size/miB, 10) + " MiB"
	ws := []*workload{
		dl("cl", "Content-Length download, "+mb+", a new connection each (node-keepalive-stream: one, reused)", "/cl/"+strconv.FormatInt(cfg.size, 10), false, true),
		dl("chunk16k", "Chunked download (16 KiB chunks), "+mb+", a new connection each (node-keepalive-stream: one, reused)", "/ch/"+strconv.FormatInt(cfg.size, 10), false, true),
		dl("gzip", "Gzip download, "+mb+" decoded (MB/s of decoded bytes), a new connection each (node-keepalive-stream: one, reused)", "/gz/"+strconv.FormatInt(cfg.size, 10), true, false),
	}
	nc := &workload{name: "newconn", title: fmt.Sprintf("Small GETs (13-byte body), a new connection each, %d per sample", cfg.gets),
		kind: small, path: "/small", size: int64(len(rawserver.SmallBody)), count: cfg.gets, rounds: cfg.rounds,
		refs: []string{"nethttp", "fasthttp"}}
	nc.addSeries("blocking", "poll", "node-process", "node-threads", "node-do-mem", "node-do-stream", "transport", "nethttp", "fasthttp")
	ka := &workload{name: "keepalive", title: fmt.Sprintf("Keep-alive small GETs (13-byte body), one connection, %d per sample", cfg.kaGets),
		kind: small, path: "/small", keepAlive: true, size: int64(len(rawserver.SmallBody)), count: cfg.kaGets, rounds: cfg.rounds,
		refs: []string{"nethttp", "fasthttp", "blocking"}}
	ka.addSeries("blocking", "poll", "node-keepalive", "node-keepalive-stream", "node-keepalive-process", "node-keepalive-threads", "transport", "nethttp", "fasthttp")
	fl := &workload{name: "file", title: "download_file, " + strconv.FormatInt(cfg.fileSize/miB, 10) + " MiB (peak HeapInuse sampled every 2 ms)",
		kind: file, path: "/cl/" + strconv.FormatInt(cfg.fileSize, 10), size: cfg.fileSize, count: 1, rounds: cfg.fileRounds,
		refs: []string{"nethttp-file"}}
	fl.addSeries("node-file", "nethttp-file")
	fl.filePath = fileTarget
	return append(ws, nc, ka, fl)
}

func (w *workload) addSeries(names ...string) {
	for _, n := range names {
		w.series = append(w.series, &series{w: w, name: n, gdhttp: isGdhttp(n), wire: strings.HasPrefix(n, "raw-"),
			loose: n == "curl" && w.gzip})
	}
}

func isGdhttp(name string) bool {
	return strings.HasPrefix(name, "blocking") || strings.HasPrefix(name, "poll") || strings.HasPrefix(name, "node-") || name == "transport"
}

// driverFor maps a client name to its constructor.
func driverFor(name string, w *workload) func(target, bool) (request, func(), error) {
	switch name {
	case "blocking":
		return newBlocking(true, loopInto)
	case "poll":
		return newBlocking(false, loopInto)
	case "blocking-godot":
		return newBlocking(true, loopGodot)
	case "poll-godot":
		return newBlocking(false, loopGodot)
	case "blocking-append":
		return newBlocking(true, loopAppend)
	case "poll-append":
		return newBlocking(false, loopAppend)
	case "node-process", "node-keepalive-process":
		return newNodeProcess(false, false)
	case "node-process-stream":
		return newNodeProcess(true, false)
	case "node-threads", "node-keepalive-threads":
		return newNodeProcess(false, true)
	case "node-do-mem", "node-keepalive":
		return newNodeDo(false)
	case "node-do-stream", "node-keepalive-stream":
		return newNodeDo(true)
	case "node-file":
		return newNodeFile(w.filePath)
	case "transport":
		return newTransport
	case "nethttp":
		return newNetHTTP(false)
	case "nethttp-readall":
		return newNetHTTP(true)
	case "nethttp-file":
		return newNetHTTPFile(w.filePath)
	case "fasthttp":
		return newFastHTTP(w.kind == download)
	case "curl":
		return newCurl
	case "raw-64k":
		return newRaw(64 * kiB)
	case "raw-1m":
		return newRaw(miB)
	case "raw-mem":
		return newRawMem
	}
	return nil
}
