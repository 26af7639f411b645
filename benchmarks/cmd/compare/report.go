package main

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gdhttp/gdhttp/internal/hugepage"
)

func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2], true
	}
	return (xs[n/2-1] + xs[n/2]) / 2, true
}

// rate is sample r's throughput: MB/s (10^6 bytes of body) for downloads,
// requests/s for small GETs.
func (s *series) rate(r int) (float64, bool) {
	if r >= len(s.samples) || s.samples[r] == nil {
		return 0, false
	}
	sm := s.samples[r]
	if s.w.kind == small {
		return float64(s.w.count) / sm.dur.Seconds(), true
	}
	return float64(s.w.size) * float64(s.w.count) / sm.dur.Seconds() / 1e6, true
}

// stat is the median over the rounds of f(sample).
func (s *series) stat(f func(*sample) float64) (float64, bool) {
	var xs []float64
	for _, sm := range s.samples {
		if sm != nil {
			xs = append(xs, f(sm))
		}
	}
	return median(xs)
}

func (s *series) medianRate() (float64, bool) {
	var xs []float64
	for r := range s.samples {
		if x, ok := s.rate(r); ok {
			xs = append(xs, x)
		}
	}
	return median(xs)
}

func (s *series) bytesPerOp() (float64, bool) {
	return s.stat(func(sm *sample) float64 { return float64(sm.allocB) / float64(s.w.count) })
}

// allocsPerOp is the median of mallocs/requests, rounded down as
// testing.AllocsPerRun does.
func (s *series) allocsPerOp() (float64, bool) {
	return s.stat(func(sm *sample) float64 { return math.Floor(float64(sm.mallocs) / float64(s.w.count)) })
}

// ratio is the median over the rounds of a's rate over b's in the same
// round (a paired comparison).
func ratio(a, b *series) (float64, bool) {
	if a == nil || b == nil {
		return 0, false
	}
	var xs []float64
	for r := range a.samples {
		x, ok1 := a.rate(r)
		y, ok2 := b.rate(r)
		if ok1 && ok2 && y > 0 {
			xs = append(xs, x/y)
		}
	}
	return median(xs)
}

func (res *results) workload(name string) *workload {
	for _, w := range res.workloads {
		if w.name == name {
			return w
		}
	}
	return nil
}

func (w *workload) get(name string) *series {
	if w == nil {
		return nil
	}
	for _, s := range w.series {
		if s.name == name {
			return s
		}
	}
	return nil
}

func (res *results) ratio(wl, a, b string) (float64, bool) {
	w := res.workload(wl)
	return ratio(w.get(a), w.get(b))
}

func num(x float64) string {
	switch {
	case x == 0:
		return "0"
	case math.Abs(x) < 10:
		return fmt.Sprintf("%.2f", x)
	case math.Abs(x) < 100:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.0f", x)
}

func ratioText(x float64, ok bool) string {
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", x)
}

// summaryLine is the last line the tool prints.
func (res *results) summaryLine() string {
	r := func(wl, a, b string) string { return ratioText(res.ratio(wl, a, b)) }
	return "gdhttp/nethttp cl=" + r("cl", "node-do-stream", "nethttp") +
		" chunk16k=" + r("chunk16k", "node-do-stream", "nethttp") +
		" gzip=" + r("gzip", "node-do-stream", "nethttp") +
		" newconn=" + r("newconn", "node-do-mem", "nethttp") +
		" keepalive=" + r("keepalive", "blocking", "nethttp") +
		" poll/blocking=" + r("cl", "poll", "blocking")
}

// A check is one acceptance target of issue 8.
type check struct {
	name, measured, target, status string
}

const (
	pass = "PASS"
	fail = "FAIL"
	na   = "n/a"
)

func (res *results) checks() []check {
	var cs []check
	ratioCheck := func(wl, a, b string, min float64) {
		c := check{name: fmt.Sprintf("%s: %s / %s", wl, a, b), target: fmt.Sprintf("≥ %.2f", min)}
		x, ok := res.ratio(wl, a, b)
		switch {
		case !ok:
			c.measured, c.status = "not measured", na
		case x >= min: // three decimals: 1.297 must not read as 1.30 and FAIL
			c.measured, c.status = fmt.Sprintf("%.3f", x), pass
		default:
			c.measured, c.status = fmt.Sprintf("%.3f", x), fail
		}
		cs = append(cs, c)
	}
	perOpCheck := func(wl, name, what string, f func(*series) (float64, bool), limit float64, limitText string) {
		c := check{name: fmt.Sprintf("%s: %s %s", wl, name, what), target: limitText}
		s := res.workload(wl).get(name)
		x, ok := 0.0, false
		if s != nil {
			x, ok = f(s)
		}
		switch {
		case !ok:
			c.measured, c.status = "not measured", na
		case x <= limit:
			c.measured, c.status = num(x), pass
		default:
			c.measured, c.status = num(x), fail
		}
		cs = append(cs, c)
	}
	gd := []string{"blocking", "poll", "node-process", "node-do-mem", "node-do-stream", "node-keepalive-stream"}
	// like is the net/http client with the same body sink: memory or streaming.
	like := func(name string) string {
		if name == "node-process" || name == "node-do-mem" {
			return "nethttp-readall"
		}
		return "nethttp"
	}
	for _, d := range gd {
		ratioCheck("cl", d, "raw-64k", 0.95)
	}
	ratioCheck("cl", "node-do-stream", "nethttp", 1.05)
	for _, d := range gd {
		ratioCheck("chunk16k", d, like(d), 2.5)
	}
	for _, d := range []string{"node-process", "node-do-mem", "node-do-stream", "node-keepalive-stream"} {
		ratioCheck("gzip", d, like(d), 1.3)
	}
	for _, wl := range []string{"cl", "chunk16k", "gzip"} {
		ratioCheck(wl, "poll", "blocking", 0.9)
	}
	for _, wl := range []string{"cl", "chunk16k"} {
		ratioCheck(wl, "node-do-mem", "nethttp-readall", 1.0)
	}
	for _, d := range gd[:5] { // keep-alive is the next table's
		ratioCheck("newconn", d, "fasthttp", 1.0)
		perOpCheck("newconn", d, "B/request", (*series).bytesPerOp, 8*kiB, "≤ 8192")
	}
	ratioCheck("keepalive", "blocking", "fasthttp", 1.0)
	perOpCheck("keepalive", "blocking", "allocs/request", (*series).allocsPerOp, 0, "0")
	ratioCheck("keepalive", "node-keepalive", "blocking", 0.8)
	perOpCheck("keepalive", "node-keepalive", "allocs/request", (*series).allocsPerOp, 2, "≤ 2")
	what := "peak HeapInuse MiB"
	if res.cfg.fileSize != giB {
		what += fmt.Sprintf(" (at %d MiB, not the 1 GiB of the target)", res.cfg.fileSize/miB)
	}
	perOpCheck("file", "node-file", what, func(s *series) (float64, bool) {
		return s.stat(func(sm *sample) float64 { return float64(sm.peak) / miB })
	}, 8, "< 8")
	return cs
}

func (res *results) checksText() string {
	var b strings.Builder
	n := map[string]int{}
	for _, c := range res.checks() {
		n[c.status]++
		fmt.Fprintf(&b, "%-4s %-55s %-12s target %s\n", c.status, c.name, c.measured, c.target)
	}
	fmt.Fprintf(&b, "checks: %d PASS, %d FAIL, %d n/a\n", n[pass], n[fail], n[na])
	return b.String()
}

// fullEstimate scales this run's measured time to the full mode's sizes,
// request counts and rounds.
func (res *results) fullEstimate() time.Duration {
	cfg, full := res.cfg, fullConfig
	est := float64(res.setup) * float64(full.size) / float64(cfg.size)
	for _, w := range res.workloads {
		for _, s := range w.series {
			var sum time.Duration
			n := 0
			for _, sm := range s.samples {
				if sm != nil {
					sum += sm.dur
					n++
				}
			}
			if n == 0 {
				continue
			}
			per := float64(sum) / float64(n) // one sample
			switch {
			case w.kind == download:
				per *= float64(full.size) / float64(cfg.size)
			case w.kind == file:
				per *= float64(full.fileSize) / float64(cfg.fileSize)
			case w.keepAlive:
				per *= float64(full.kaGets) / float64(cfg.kaGets)
			default:
				per *= float64(full.gets) / float64(cfg.gets)
			}
			rounds := full.rounds
			if w.kind == file {
				rounds = full.fileRounds
			}
			est += per * float64(rounds)
		}
	}
	return time.Duration(est)
}

var legend = []struct{ name, text string }{
	{"blocking", "httpclient.Client in blocking mode: ConnectToHost, RequestRaw, Poll, ReadResponseBodyChunkInto a reused 64 KiB buffer (gzip: compress/gzip over BodyReader); the client object is reused, closed and reconnected for each request"},
	{"poll", "the same client in non-blocking mode: a spin loop of Poll and ReadResponseBodyChunkInto (no sleeping)"},
	{"blocking-godot, poll-godot", "blocking and poll driven as Godot's HTTPClient documentation does it: Poll, then ReadResponseBodyChunk — a new slice per call — while the status is BODY (not in the gzip table: Godot's HTTPClient does not decode)"},
	{"blocking-append, poll-append", "the same loop with AppendResponseBodyChunk(buf[:0]): the same pieces, into a reused 64 KiB buffer"},
	{"node-process", "httprequest: Request, then Process() in a spin loop until request_completed; body in memory (Godot's default)"},
	{"node-process-stream", "node-process with SetBodyWriter (a writer that drops the bytes)"},
	{"node-threads", "node-process with SetUseThreads(true): the node's goroutine does the steps with blocking I/O, the spin loop of Process() only delivers the completion"},
	{"node-do-mem", "httprequest Do, body in memory (Completion.Body)"},
	{"node-do-stream", "httprequest Do with SetBodyWriter (a writer that drops the bytes)"},
	{"node-keepalive", "node-do-mem with SetKeepAlive(true) (-stream: node-do-stream, -process: node-process, -threads: node-threads); in the download tables node-keepalive-stream reuses its connection from round to round, every other client opens a new one"},
	{"node-file", "httprequest Do with SetDownloadFile"},
	{"transport", "httpclient.Transport (gdhttp's http.RoundTripper) under an http.Client: Client.Get, io.CopyBuffer with a 64 KiB buffer (gzip: compress/gzip; it asks for no compression, as Godot's HTTPClient); MaxIdleConnsPerHost -1 (a new connection each) except in the keep-alive table"},
	{"nethttp", "net/http: Client.Get, io.CopyBuffer with a 64 KiB buffer; DisableKeepAlives except in the keep-alive table; compression on (gzip decoded by the transport)"},
	{"nethttp-readall", "net/http: Client.Get + io.ReadAll"},
	{"nethttp-file", "net/http: Client.Get + io.Copy into an os.File"},
	{"fasthttp", "valyala/fasthttp Client.Do with a reused Request/Response; downloads stream (StreamResponseBody) through io.CopyBuffer with 64 KiB (gzip: compress/gzip); Connection: close except in the keep-alive table"},
	{"curl", "curl -s -o /dev/null (--compressed for gzip) as an external process per download; its start-up is timed too (so it is in the download tables only)"},
	{"raw-64k, raw-1m", "the raw-TCP limits: a bare net.Conn that writes the request and reads the whole response into a 64 KiB / 1 MiB buffer until the server closes — no HTTP at all"},
	{"raw-mem", "raw-64k keeping the response in memory: one buffer made per response at the body's size (plus room for the head and chunk lines), each 64 KiB read straight to its end — the floor of a client that hands over the body in memory (node-process, node-do-mem, nethttp-readall), with no copy and no growth; the buffer is marked for huge pages, as the node's body is"},
}

// hugePageNote says how in-memory bodies meet the kernel on this machine.
func hugePageNote() string {
	mode := "no transparent huge pages"
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err == nil {
		mode = "transparent huge pages `" + strings.TrimSpace(string(b)) + "`"
	}
	if !hugepage.Supported() {
		return mode + "; the node's in-memory bodies are not marked for huge pages here."
	}
	return mode + ". The node marks an in-memory body of 4 MiB or more for huge pages (internal/hugepage), and raw-mem its buffer. " +
		"A mark stays on the heap's address range once the buffer is freed, so later buffers of any client of this process (nethttp-readall's too) " +
		"often land in marked ranges: the memory drivers' figures here are all faster than in a process without gdhttp, where a 256 MiB body " +
		"of net/http faults in 4 KiB pages."
}

func (res *results) markdown() string {
	var b strings.Builder
	cfg := res.cfg
	mode := "full"
	cmd := "go run ./cmd/compare"
	if cfg.quick {
		mode = "quick"
		cmd += " -quick"
	}
	fmt.Fprintf(&b, "# gdhttp against net/http, fasthttp, curl and raw TCP\n\n")
	fmt.Fprintf(&b, "Written by `%s` (from `benchmarks/`, source in `benchmarks/cmd/compare`) on %s, in %s. ",
		cmd, res.start.UTC().Format("2006-01-02 15:04 UTC"), res.elapsed.Round(time.Second))
	fmt.Fprintf(&b, "Do not edit by hand: run the tool again.\n\n")
	fmt.Fprintf(&b, "- Machine: %s/%s, %d CPUs (GOMAXPROCS %d), %s; shared with other work, so absolute numbers are noisy — read the ratios.\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Fprintf(&b, "- Server: %s, writing pre-built responses on 127.0.0.1.\n", res.server)
	fmt.Fprintf(&b, "- curl: %s.\n", res.curl)
	fmt.Fprintf(&b, "- Mode: %s — %d MiB bodies, %d rounds (download_file: %d MiB, %d rounds), %d new-connection GETs and %d keep-alive GETs per sample.\n",
		mode, cfg.size/miB, cfg.rounds, cfg.fileSize/miB, cfg.fileRounds, cfg.gets, cfg.kaGets)
	if cfg.only != nil {
		fmt.Fprintf(&b, "- Only the workload/client pairs matching `%s`.\n", cfg.only)
	}
	fmt.Fprintf(&b, "- Method: every round runs every client of every workload once, in an order rotated each round, so that the machine's noise falls on all alike. "+
		"A figure is the median over the rounds; a ratio (×) is the median over the rounds of the two clients' ratio in the same round. "+
		"MB/s is 10^6 body bytes (decoded for gzip) per second. B/op and allocs/op are runtime.MemStats deltas of the measuring process per request "+
		"(the server runs in another process); allocs/op is rounded down, as testing.AllocsPerRun does.\n")
	fmt.Fprintf(&b, "- Memory: %s\n\n", hugePageNote())
	if cfg.quick {
		fmt.Fprintf(&b, "Full mode (`go run ./cmd/compare`, 256 MiB bodies, download_file of 1 GiB) is estimated at %s on this machine from this run.\n\n",
			res.fullEstimate().Round(10*time.Second))
	}
	b.WriteString("Clients:\n\n")
	for _, l := range legend {
		fmt.Fprintf(&b, "- `%s`: %s\n", l.name, l.text)
	}
	b.WriteString("\n")

	for _, w := range res.workloads {
		if len(w.series) == 0 {
			continue
		}
		fmt.Fprintf(&b, "## `%s`: %s\n\n", w.name, w.title)
		unit := "MB/s"
		if w.kind == small {
			unit = "req/s"
		}
		b.WriteString("| client | " + unit)
		var refs []*series
		for _, r := range w.refs {
			if s := w.get(r); s != nil {
				refs = append(refs, s)
				b.WriteString(" | × " + r)
			}
		}
		if w.kind == file {
			b.WriteString(" | peak HeapInuse MiB | HeapInuse before MiB")
		}
		b.WriteString(" | B/op | allocs/op |\n|---|---:")
		for range refs {
			b.WriteString("|---:")
		}
		if w.kind == file {
			b.WriteString("|---:|---:")
		}
		b.WriteString("|---:|---:|\n")
		for _, s := range w.series {
			name := s.name
			if s.gdhttp {
				name = "**" + name + "**"
			}
			fmt.Fprintf(&b, "| %s", name)
			rate, ok := s.medianRate()
			if !ok {
				msg := "not measured"
				if s.err != nil {
					msg = "error: " + strings.ReplaceAll(s.err.Error(), "|", "/")
				}
				fmt.Fprintf(&b, " | %s |\n", msg)
				continue
			}
			fmt.Fprintf(&b, " | %s", num(rate))
			for _, ref := range refs {
				if ref == s {
					b.WriteString(" | —")
					continue
				}
				fmt.Fprintf(&b, " | %s", ratioText(ratio(s, ref)))
			}
			if w.kind == file {
				peak, _ := s.stat(func(sm *sample) float64 { return float64(sm.peak) / miB })
				base, _ := s.stat(func(sm *sample) float64 { return float64(sm.base) / miB })
				fmt.Fprintf(&b, " | %s | %s", num(peak), num(base))
			}
			bop, _ := s.bytesPerOp()
			aop, _ := s.allocsPerOp()
			fmt.Fprintf(&b, " | %s | %s |", num(bop), num(aop))
			if s.err != nil {
				fmt.Fprintf(&b, " (then: %s)", strings.ReplaceAll(s.err.Error(), "|", "/"))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}

	b.WriteString("## Acceptance checks (issue 8)\n\n")
	b.WriteString("Ratios are paired medians (see Method); the memory drivers (node-process, node-do-mem) are held against `nethttp-readall`, the streaming ones against `nethttp`.\n\n")
	b.WriteString("| check | measured | target | result |\n|---|---:|---|---|\n")
	for _, c := range res.checks() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.name, c.measured, c.target, c.status)
	}
	fmt.Fprintf(&b, "\nSummary (the tool's last line):\n\n```\n%s\n```\n", res.summaryLine())
	return b.String()
}
