// Command scale measures gdhttp with many clients at once in one process
// (bots and load tools), against net/http doing the same work in the same
// run. One configuration per invocation, against the raw-TCP server of
// benchmarks/internal/rawserver (cmd/compare's) running in a child process,
// whose /hang is never answered and /half/N stops half-way through its body.
//
//	go run ./cmd/scale -shape do -driver do -n 500 -path /small -dur 3s
//
// Shapes and drivers:
//
//	do:        N goroutines looping one request each: do, do-ka (httprequest
//	           Do, new connection / SetKeepAlive), nethttp, nethttp-ka
//	           (io.ReadAll; DisableKeepAlives / MaxIdleConnsPerHost N)
//	process:   one goroutine calling Process() on N nodes, each re-requesting
//	           when it completes: process, process-ka, threads, threads-ka;
//	           -pace 1ms (frames) or 0 (as fast as it can)
//	cancel:    N nodes (process or threads) on /hang, Process loop, then
//	           CancelRequest on all
//	client:    N httpclient.Client in non-blocking mode round-robin (client,
//	           client-ka), -pace as for process
//	transport: N goroutines, http.Client over gd (httpclient.Transport) or
//	           net (http.Transport), -maxconns
//	timeout:   N nodes with SetTimeout(-timeout) on /hang: process, threads, do
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gdhttp/gdhttp/benchmarks/internal/rawserver"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
)

// serveEnv is set in the server child's environment (rawserver.StartChild).
const serveEnv = "GDHTTP_SCALE_SERVE"

var (
	shape      = flag.String("shape", "do", "do, process, cancel, client, transport, timeout")
	driver     = flag.String("driver", "do", "see the package doc")
	nFlag      = flag.Int("n", 50, "concurrent clients / nodes")
	dur        = flag.Duration("dur", 3*time.Second, "measuring time")
	path       = flag.String("path", "/small", "route: /small, /cl/65536, /ch/65536, /hang")
	pace       = flag.Duration("pace", 0, "frame period of the Process / client loops (0: as fast as it can)")
	maxConns   = flag.Int("maxconns", 0, "transport: MaxConnsPerHost")
	timeout    = flag.Duration("timeout", 500*time.Millisecond, "timeout shape: SetTimeout")
	cpuProf    = flag.String("cpuprofile", "", "write a CPU profile")
	mutProf    = flag.String("mutexprofile", "", "write a mutex profile")
	blkProf    = flag.String("blockprofile", "", "write a block profile")
	deferReq   = flag.Bool("defer", false, "process: re-request at the next frame, before Process, instead of right after the completion")
	reqTimeout = flag.Duration("reqtimeout", 0, "transport: http.Client.Timeout (with it, each worker stops at its first failure)")
	heapProf   = flag.String("heapprofile", "", "write a heap profile half-way through the measuring time")
)

var (
	host string
	port int
)

func main() {
	if os.Getenv(serveEnv) != "" {
		os.Exit(rawserver.ServeMain("scale", os.Args[1:]))
	}
	flag.Parse()
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	ch, err := rawserver.StartChild(serveEnv, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer ch.Close()
	h, p, _ := net.SplitHostPort(ch.Addr)
	host = h
	port, _ = strconv.Atoi(p)
	if *mutProf != "" {
		runtime.SetMutexProfileFraction(5)
	}
	if *blkProf != "" {
		runtime.SetBlockProfileRate(10000)
	}
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err == nil {
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	var res result
	switch *shape {
	case "do":
		res = shapeDo()
	case "process":
		res = shapeProcess()
	case "cancel":
		res = shapeCancel()
	case "client":
		res = shapeClient()
	case "transport":
		res = shapeTransport()
	case "timeout":
		res = shapeTimeout()
	default:
		fmt.Fprintln(os.Stderr, "unknown shape")
		os.Exit(2)
	}
	res.print()
	if *mutProf != "" {
		writeProf("mutex", *mutProf)
	}
	if *blkProf != "" {
		writeProf("block", *blkProf)
	}
}

func writeProf(name, file string) {
	f, err := os.Create(file)
	if err != nil {
		return
	}
	defer f.Close()
	_ = pprof.Lookup(name).WriteTo(f, 0)
}

func url() string { return "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + *path }

// ---- measurements

type result struct {
	label           string
	reqs, errs      int64
	firstErr        string
	elapsed         time.Duration
	lat             []time.Duration
	cpu             time.Duration
	peakHeap        uint64
	baseHeap        uint64
	peakG, baseG    int
	afterG, afterFD int
	baseFD          int
	settle          time.Duration
	extra           string
}

func (r *result) print() {
	slices.Sort(r.lat)
	q := func(p float64) time.Duration {
		if len(r.lat) == 0 {
			return 0
		}
		return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
	}
	rps := float64(r.reqs) / r.elapsed.Seconds()
	cpuPer := time.Duration(0)
	if r.reqs > 0 {
		cpuPer = r.cpu / time.Duration(r.reqs)
	}
	fmt.Printf("%s n=%d path=%s | req/s %.0f | p50 %v p99 %v max %v | cpu/req %v | heap peak %.1f MiB (base %.1f) | G peak %d base %d after %d | fd base %d after %d | settle %v | errs %d %s %s\n",
		r.label, *nFlag, *path, rps, q(0.50).Round(time.Microsecond), q(0.99).Round(time.Microsecond), q(1).Round(time.Microsecond),
		cpuPer.Round(100*time.Nanosecond), float64(r.peakHeap)/(1<<20), float64(r.baseHeap)/(1<<20),
		r.peakG, r.baseG, r.afterG, r.baseFD, r.afterFD, r.settle.Round(time.Millisecond), r.errs, r.firstErr, r.extra)
}

type sampler struct {
	stop     chan struct{}
	done     chan struct{}
	peakHeap uint64
	peakG    int
}

var sampleNames = []string{"/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes", "/sched/goroutines:goroutines"}

func readSample() (heap uint64, g int) {
	s := make([]metrics.Sample, len(sampleNames))
	for i, n := range sampleNames {
		s[i].Name = n
	}
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64(), int(s[2].Value.Uint64())
}

func startSampler() *sampler {
	s := &sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			h, g := readSample()
			s.peakHeap = max(s.peakHeap, h)
			s.peakG = max(s.peakG, g)
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) end() { close(s.stop); <-s.done }

func fds() int {
	e, _ := os.ReadDir("/proc/self/fd")
	return len(e)
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// begin records the baseline; finish the rest once the clients are closed:
// it waits up to 5 s for goroutines and descriptors to return to it.
type meter struct {
	r    *result
	s    *sampler
	cpu0 time.Duration
	t0   time.Time
}

func begin(label string) *meter {
	runtime.GC()
	m := &meter{r: &result{label: label}}
	m.r.baseHeap, m.r.baseG = readSample()
	m.r.baseFD = fds()
	m.s = startSampler()
	m.cpu0 = cpuNow()
	m.t0 = time.Now()
	if *heapProf != "" {
		time.AfterFunc(*dur/2, func() { runtime.GC(); writeProf("heap", *heapProf) })
	}
	return m
}

// stopClock ends the measuring time (before the clients are closed).
func (m *meter) stopClock() {
	m.r.elapsed = time.Since(m.t0)
	m.r.cpu = cpuNow() - m.cpu0
}

func (m *meter) finish() result {
	m.s.end()
	m.r.peakHeap, m.r.peakG = m.s.peakHeap, m.s.peakG
	t := time.Now()
	for {
		_, g := readSample()
		m.r.afterG, m.r.afterFD = g, fds()
		if (g <= m.r.baseG && m.r.afterFD <= m.r.baseFD) || time.Since(t) > 5*time.Second {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	m.r.settle = time.Since(t)
	return *m.r
}

// frameResult is finish for a frame loop: the requests, errors and
// latencies, and the frame times' percentiles.
func (m *meter) frameResult(reqs int64, ec *errCount, lat, frameT []time.Duration) result {
	r := m.finish()
	r.reqs, r.errs, r.firstErr, r.lat = reqs, ec.n.Load(), ec.first, lat
	slices.Sort(frameT)
	r.extra = fmt.Sprintf("| frames %d, frame p50 %v p99 %v max %v", len(frameT),
		frameT[len(frameT)/2].Round(time.Microsecond), frameT[len(frameT)*99/100].Round(time.Microsecond), frameT[len(frameT)-1].Round(time.Microsecond))
	return r
}

type errCount struct {
	n     atomic.Int64
	once  sync.Once
	first string
}

func (e *errCount) add(err error) {
	e.n.Add(1)
	e.once.Do(func() { e.first = err.Error() })
}

// ---- shape do

func shapeDo() result {
	n := *nFlag
	var hc *http.Client
	switch *driver {
	case "nethttp":
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DisableKeepAlives = true
		hc = &http.Client{Transport: tr}
	case "nethttp-ka":
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = n, n
		hc = &http.Client{Transport: tr}
	case "do", "do-ka":
	default:
		panic("driver")
	}
	u := url()
	var ec errCount
	lats := make([][]time.Duration, n)
	m := begin("do/" + *driver)
	deadline := time.Now().Add(*dur)
	var wg sync.WaitGroup
	var total atomic.Int64
	for i := range n {
		wg.Go(func() {
			var one func() error
			var closer func()
			if hc != nil {
				one = func() error {
					resp, err := hc.Get(u)
					if err != nil {
						return err
					}
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					return err
				}
			} else {
				node := httprequest.New()
				_ = node.SetKeepAlive(*driver == "do-ka")
				ctx := context.Background()
				one = func() error {
					c, err := node.Do(ctx, u, nil, httpclient.MethodGet, nil)
					if err == nil && c.ResponseCode != 200 {
						err = fmt.Errorf("status %d", c.ResponseCode)
					}
					return err
				}
				closer = node.Close
			}
			for time.Now().Before(deadline) {
				t := time.Now()
				if err := one(); err != nil {
					ec.add(err)
					continue
				}
				lats[i] = append(lats[i], time.Since(t))
				total.Add(1)
			}
			if closer != nil {
				closer()
			}
		})
	}
	wg.Wait()
	m.stopClock()
	if hc != nil {
		hc.CloseIdleConnections()
	}
	r := m.finish()
	r.reqs, r.errs, r.firstErr = total.Load(), ec.n.Load(), ec.first
	for _, l := range lats {
		r.lat = append(r.lat, l...)
	}
	r.extra = fairness(lats)
	return r
}

// fairness reports the spread of the requests each worker completed.
func fairness(lats [][]time.Duration) string {
	counts := make([]int, len(lats))
	for i, l := range lats {
		counts[i] = len(l)
	}
	slices.Sort(counts)
	if len(counts) == 0 {
		return ""
	}
	return fmt.Sprintf("| per worker min %d p10 %d med %d max %d", counts[0], counts[len(counts)/10], counts[len(counts)/2], counts[len(counts)-1])
}

// ---- shape process

type slot struct {
	node  *httprequest.HTTPRequest
	done  bool
	again bool
	res   httprequest.Result
	code  int
	start time.Time
}

func newSlots(n int, threads, ka bool, to time.Duration) []*slot {
	slots := make([]*slot, n)
	for i := range slots {
		s := &slot{node: httprequest.New()}
		_ = s.node.SetUseThreads(threads)
		_ = s.node.SetKeepAlive(ka)
		if to > 0 {
			_ = s.node.SetTimeout(to)
		}
		s.node.OnRequestCompleted(func(res httprequest.Result, code int, _ []string, _ []byte) {
			s.done, s.res, s.code = true, res, code
		})
		slots[i] = s
	}
	return slots
}

// frame waits for the next frame of the loop.
func frame(next *time.Time) {
	if *pace <= 0 {
		return
	}
	*next = next.Add(*pace)
	if d := time.Until(*next); d > 0 {
		time.Sleep(d)
	} else {
		*next = time.Now()
	}
}

// frames runs sweep once per frame (paced by -pace) for -dur and returns
// how long each frame's sweep took.
func frames(sweep func()) []time.Duration {
	var frameT []time.Duration
	deadline := time.Now().Add(*dur)
	next := time.Now()
	for time.Now().Before(deadline) {
		ft := time.Now()
		sweep()
		frameT = append(frameT, time.Since(ft))
		frame(&next)
	}
	return frameT
}

func shapeProcess() result {
	n := *nFlag
	threads := *driver == "threads" || *driver == "threads-ka"
	ka := *driver == "process-ka" || *driver == "threads-ka"
	slots := newSlots(n, threads, ka, 0)
	u := url()
	var ec errCount
	var lat []time.Duration
	var reqs int64
	m := begin(fmt.Sprintf("process/%s pace=%v", *driver, *pace))
	for _, s := range slots {
		s.start = time.Now()
		if err := s.node.Request(u, nil, httpclient.MethodGet, ""); err != nil {
			ec.add(err)
		}
	}
	frameT := frames(func() {
		for _, s := range slots {
			if s.again {
				s.again = false
				s.start = time.Now()
				if err := s.node.Request(u, nil, httpclient.MethodGet, ""); err != nil {
					ec.add(err)
				}
			}
			s.node.Process()
			if s.done {
				s.done = false
				if s.res != httprequest.ResultSuccess || s.code != 200 {
					ec.add(fmt.Errorf("result %v code %d: %v", s.res, s.code, s.node.LastError()))
				} else {
					reqs++
					lat = append(lat, time.Since(s.start))
				}
				if *deferReq {
					s.again = true
					continue
				}
				s.start = time.Now()
				if err := s.node.Request(u, nil, httpclient.MethodGet, ""); err != nil {
					ec.add(err)
				}
			}
		}
	})
	m.stopClock()
	for _, s := range slots {
		s.node.Close()
	}
	return m.frameResult(reqs, &ec, lat, frameT)
}

// ---- shape cancel

func shapeCancel() result {
	n := *nFlag
	threads := *driver == "threads"
	slots := newSlots(n, threads, false, 0)
	u := url()
	var ec errCount
	m := begin("cancel/" + *driver)
	for _, s := range slots {
		if err := s.node.Request(u, nil, httpclient.MethodGet, ""); err != nil {
			ec.add(err)
		}
	}
	// Frames for 500 ms: every request connected and waiting.
	end := time.Now().Add(500 * time.Millisecond)
	next := time.Now()
	for time.Now().Before(end) {
		for _, s := range slots {
			s.node.Process()
		}
		frame(&next)
	}
	st := map[httpclient.Status]int{}
	for _, s := range slots {
		st[s.node.HTTPClientStatus()]++
	}
	_, gMid := readSample()
	fdMid := fds()
	t := time.Now()
	for _, s := range slots {
		s.node.CancelRequest()
	}
	cancelAll := time.Since(t)
	// A few frames: nothing may be delivered.
	delivered := 0
	for range 10 {
		for _, s := range slots {
			s.node.Process()
			if s.done {
				delivered++
				s.done = false
			}
		}
		time.Sleep(time.Millisecond)
	}
	_, gAfterCancel := readSample()
	fdAfterCancel := fds()
	m.stopClock()
	for _, s := range slots {
		s.node.Close()
	}
	r := m.finish()
	r.errs, r.firstErr = ec.n.Load(), ec.first
	r.extra = fmt.Sprintf("| status before cancel %v | G/fd in flight %d/%d | cancel all %v (%v each) | after cancel G %d fd %d | delivered %d",
		st, gMid, fdMid, cancelAll.Round(time.Microsecond), (cancelAll / time.Duration(n)).Round(100*time.Nanosecond), gAfterCancel, fdAfterCancel, delivered)
	return r
}

// ---- shape client

func shapeClient() result {
	n := *nFlag
	ka := *driver == "client-ka"
	type cs struct {
		c     *httpclient.Client
		sent  bool
		start time.Time
	}
	cl := make([]*cs, n)
	for i := range cl {
		c := httpclient.New()
		c.SetBlockingMode(false)
		cl[i] = &cs{c: c}
	}
	buf := make([]byte, 64<<10)
	var ec errCount
	var lat []time.Duration
	var reqs int64
	m := begin(fmt.Sprintf("client/%s pace=%v", *driver, *pace))
	restart := func(s *cs, ok bool) {
		if ok {
			reqs++
			lat = append(lat, time.Since(s.start))
		}
		s.sent = false
		if !ka || !ok || s.c.Status() != httpclient.StatusConnected {
			s.c.Close()
		}
	}
	frameT := frames(func() {
		for _, s := range cl {
			c := s.c
			switch st := c.Status(); st {
			case httpclient.StatusDisconnected:
				s.start = time.Now()
				if err := c.ConnectToHost(host, port, nil); err != nil {
					ec.add(err)
				}
			case httpclient.StatusResolving, httpclient.StatusConnecting, httpclient.StatusRequesting:
				if err := c.Poll(); err != nil {
					ec.add(err)
				}
			case httpclient.StatusConnected:
				if !s.sent {
					if ka {
						s.start = time.Now()
					}
					if err := c.RequestRaw(httpclient.MethodGet, *path, nil, nil); err != nil {
						ec.add(err)
						restart(s, false)
					}
					s.sent = true
				} else {
					restart(s, true) // a response without a body, or its end
				}
			case httpclient.StatusBody:
				k, err := c.ReadResponseBodyChunkInto(buf)
				switch {
				case err == io.EOF:
					restart(s, true)
				case err != nil:
					ec.add(err)
					restart(s, false)
				case k == 0:
					if err := c.Poll(); err != nil {
						ec.add(err)
					}
				}
			default:
				ec.add(fmt.Errorf("status %v: %v", st, c.LastError()))
				restart(s, false)
			}
		}
	})
	m.stopClock()
	for _, s := range cl {
		s.c.Close()
	}
	return m.frameResult(reqs, &ec, lat, frameT)
}

// ---- shape transport

func shapeTransport() result {
	n := *nFlag
	var rt http.RoundTripper
	var closeIdle func()
	switch *driver {
	case "gd":
		t := &httpclient.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: *maxConns}
		rt, closeIdle = t, t.CloseIdleConnections
	case "net":
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns, t.MaxIdleConnsPerHost, t.MaxConnsPerHost = n, n, *maxConns
		t.DisableCompression = true
		rt, closeIdle = t, t.CloseIdleConnections
	default:
		panic("driver")
	}
	hc := &http.Client{Transport: rt, Timeout: *reqTimeout}
	u := url()
	var ec errCount
	lats := make([][]time.Duration, n)
	var total atomic.Int64
	var errLat [][]time.Duration = make([][]time.Duration, n)
	m := begin(fmt.Sprintf("transport/%s maxconns=%d", *driver, *maxConns))
	deadline := time.Now().Add(*dur)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t := time.Now()
				resp, err := hc.Get(u)
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				if err != nil {
					ec.add(err)
					errLat[i] = append(errLat[i], time.Since(t))
					if *reqTimeout > 0 {
						return // one timed-out request per worker
					}
					continue
				}
				lats[i] = append(lats[i], time.Since(t))
				total.Add(1)
			}
		})
	}
	wg.Wait()
	m.stopClock()
	closeIdle()
	defer func() {
		var all []time.Duration
		for _, l := range errLat {
			all = append(all, l...)
		}
		slices.Sort(all)
		if len(all) > 0 {
			fmt.Printf("  failed requests: %d, time to fail min %v p50 %v p99 %v max %v\n", len(all), all[0].Round(time.Millisecond),
				all[len(all)/2].Round(time.Millisecond), all[len(all)*99/100].Round(time.Millisecond), all[len(all)-1].Round(time.Millisecond))
		}
	}()
	r := m.finish()
	r.reqs, r.errs, r.firstErr = total.Load(), ec.n.Load(), ec.first
	for _, l := range lats {
		r.lat = append(r.lat, l...)
	}
	r.extra = fairness(lats)
	return r
}

// ---- shape timeout

func shapeTimeout() result {
	n := *nFlag
	*path = "/hang"
	u := url()
	var ec errCount
	var lat []time.Duration
	results := map[string]int{}
	m := begin(fmt.Sprintf("timeout/%s %v", *driver, *timeout))
	switch *driver {
	case "do", "nethttp":
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DisableKeepAlives = true
		hc := &http.Client{Transport: tr, Timeout: *timeout}
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := time.Now()
		for range n {
			wg.Go(func() {
				var err error
				t := time.Now()
				node := httprequest.New()
				if *driver == "nethttp" {
					var resp *http.Response
					if resp, err = hc.Get(u); err == nil {
						resp.Body.Close()
					}
				} else {
					_ = node.SetTimeout(*timeout)
					_, err = node.Do(context.Background(), u, nil, httpclient.MethodGet, nil)
				}
				d := time.Since(t)
				var re *httprequest.ResultError
				key := "ok"
				if errors.As(err, &re) {
					key = re.Result.String()
				} else if err != nil {
					key = "error"
					var ne net.Error
					if errors.As(err, &ne) && ne.Timeout() {
						key = "timeout"
					}
				}
				mu.Lock()
				lat = append(lat, d)
				results[key]++
				mu.Unlock()
				node.Close()
			})
		}
		wg.Wait()
		_ = start
	case "process", "threads":
		slots := newSlots(n, *driver == "threads", false, *timeout)
		for _, s := range slots {
			s.start = time.Now()
			if err := s.node.Request(u, nil, httpclient.MethodGet, ""); err != nil {
				ec.add(err)
			}
		}
		left := n
		next := time.Now()
		giveUp := time.Now().Add(*timeout*4 + 5*time.Second)
		for left > 0 && time.Now().Before(giveUp) {
			for _, s := range slots {
				s.node.Process()
				if s.done {
					s.done = false
					left--
					lat = append(lat, time.Since(s.start))
					results[s.res.String()]++
				}
			}
			frame(&next)
		}
		results["never"] = left
		for _, s := range slots {
			s.node.Close()
		}
	}
	m.stopClock()
	r := m.finish()
	r.reqs, r.errs, r.firstErr, r.lat = int64(len(lat)), ec.n.Load(), ec.first, lat
	slices.Sort(lat)
	if len(lat) > 0 {
		r.extra = fmt.Sprintf("| results %v | completion min %v", results, lat[0].Round(time.Millisecond))
	} else {
		r.extra = fmt.Sprintf("| results %v", results)
	}
	return r
}
