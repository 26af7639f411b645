package httprequest

// A seeded, generated lifecycle-chaos harness of the node, in the style of
// httpclient/tconc_test.go: a few goroutines pass a pool of nodes between
// them (a node belongs to one goroutine at a time: handed over through a
// channel, sometimes with a request still running) and run requests through
// random drivers — Process per frame, use_threads, Do, DoResumable — with
// RequestRaw/Do or streamed bodies (RequestStream/DoStream, with a length
// or chunked) and random options (keep-alive, a body writer — a Go writer
// or an *os.File, the splice path —, download_file atomic or in place,
// keep_partial_download, accept_gzip, body_size_limit, download_chunk_size,
// timeout, max_redirects, drain per step, a response function) against two
// 127.0.0.1 servers that answer each request with a head naming it (X-Id)
// and a body naming it, after behaviours the request's generated spec
// chooses (carried in its path, so redirects keep it): delays before the
// head and in the body, Content-Length, chunked and until-close bodies,
// gzip, keep-alive or close, an idle close of a kept connection, redirects
// (to the same or the other server), a reset before the answer or
// mid-body, a clean close mid-body, a stall ended by a reset, an answer
// before the request body is read, Range/If-Range with an ETag (206, 416),
// and an unasked response written after a kept-alive one (junk that must
// never become the next request's answer). Lifecycle
// events come at random points: CancelRequest and Close after k frames (or
// right after Request), a second Request while busy (ERR_BUSY), CancelRequest
// or Close from the body writer, the response function or an upload's
// reader (on the worker under use_threads), CancelRequest or Close or
// Process from the progress callback, Process from the body writer, a
// write error, a refusal from the response function, SetUseThreads during
// a request,
// Do's context canceled or its deadline passed (before the call, from a
// timer, from the body writer), a new request (Request or Do) started from
// the completion callback, Process called from it, Close between requests,
// options toggled between requests, invalid URLs, a port nothing listens on,
// a host connect_to_host refuses at once (§2.4.8), DoResumable again on the
// URL of one that failed.
// A goroutine reads the getters of every node all the time (they are safe
// from any goroutine) and another forces garbage collections.
//
// Invariants (each breach fails the test, with the run's seed):
//   - a request ends with exactly one completion, except a canceled one
//     (CancelRequest, Close, from the owner or a callback: none, §7 D3) and a
//     refused one (ERR_BUSY, ERR_INVALID_PARAMETER: none, §7 D6); Do returns
//     a completion or, after its context was canceled, the context's error;
//   - its headers and body name ITS request (no cross-talk between requests
//     or nodes, nor through a kept connection); a success carries the whole
//     body (in memory, in the body writer, in download_file);
//   - the result is a Godot result: code and headers only for the results of
//     §2.10 that carry them, a body only with RESULT_SUCCESS, a non-nil cause
//     (LastError, the *ResultError of Do) for every other result; a clean
//     server behaviour gives the result the options predict (success, the
//     redirect limit, the body size limit);
//   - get_downloaded_bytes is the wire length of the body, get_body_size its
//     Content-Length or −1 (§2.9.7), and the last progress report matches
//     both counters at a success;
//   - download_file is the whole body after a success; after a failure or a
//     cancel it is the old file (atomic mode) or the old file or a prefix of
//     the body (in place, §2.9.3); no temporary file is left;
//   - a request is sent at most twice, twice only after a kept connection
//     failed before any response byte (retryReused); a request refused
//     before it starts is not sent at all;
//   - with SetKeepAlive off every request goes on a fresh connection
//     (§2.1.4); with it on, a request that follows a kept-alive success to
//     the same server goes on the kept connection (SetKeepAlive's doc);
//   - the completion and progress callbacks run on the owner's goroutine,
//     never inside Request; the body writer, the response function and an
//     upload's reader on the goroutine that runs the steps; the status is
//     DISCONNECTED in the completion callback, after Do and after a cancel;
//     nothing of a canceled request happens after the cancel (no progress,
//     no byte to the body writer, no read of its upload);
//   - a delivered body and its headers stay as delivered to the end of the
//     run (no pooled buffer aliases them);
//   - after Close no connection of the node is left open (server side), no
//     goroutine (goleak), no descriptor (/proc/self/fd);
//   - the run phases move only along the machine (legalPhase);
//   - no panic, no hang (a watchdog dumps the goroutines), no data race (-race).
//
// GDHTTP_NODECHAOS_N sets the number of runs (default 4), GDHTTP_NODECHAOS_SEED
// the first seed, GDHTTP_NODECHAOS_V=1 logs each run's tallies. The two
// findings it made are pinned by nodechaos_cases_test.go.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// ncSpec is what the server does with one request (carried in its path).
type ncSpec struct {
	frame string // cl, chunked, close
	size  int
	gz    bool
	keep  bool
	hd    time.Duration // before the head
	md    time.Duration // in the middle of the body
	x     string        // "", before (reset before answering), mid (reset mid-body), stall (stall mid-body, then reset), early (answer before reading the request body, then reset)
	redir int           // redirects before the answer
	junk  bool          // an unasked response right after this one (keep-alive)
	ic    time.Duration // > 0: close the kept connection after this idle time
	rx    bool          // redirects go to the other server (absolute Location)
}

func (s ncSpec) query() string {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	return fmt.Sprintf("f=%s&s=%d&g=%s&k=%s&hd=%d&md=%d&x=%s&r=%d&j=%s&ic=%d&rx=%s", s.frame, s.size, b(s.gz), b(s.keep),
		s.hd.Microseconds(), s.md.Microseconds(), s.x, s.redir, b(s.junk), s.ic.Microseconds(), b(s.rx))
}

func ncParse(q url.Values) ncSpec {
	atoi := func(k string) int { v, _ := strconv.Atoi(q.Get(k)); return v }
	return ncSpec{frame: q.Get("f"), size: atoi("s"), gz: q.Get("g") == "1", keep: q.Get("k") == "1",
		hd: time.Duration(atoi("hd")) * time.Microsecond, md: time.Duration(atoi("md")) * time.Microsecond,
		x: q.Get("x"), redir: atoi("r"), junk: q.Get("j") == "1", ic: time.Duration(atoi("ic")) * time.Microsecond, rx: q.Get("rx") == "1"}
}

// ncPayload is the body that names request id.
func ncPayload(id int64, n int) []byte {
	unit := "<" + strconv.FormatInt(id, 10) + ">"
	b := make([]byte, 0, n+len(unit))
	for len(b) < n {
		b = append(b, unit...)
	}
	return b[:n]
}

func ncGzip(p []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	_, _ = w.Write(p)
	_ = w.Close()
	return buf.Bytes()
}

// ncWire is the body on the wire for id.
func (s ncSpec) wire(id int64) []byte {
	p := ncPayload(id, s.size)
	if s.gz {
		return ncGzip(p)
	}
	return p
}

type ncDelivery struct {
	hop   int
	fresh bool // first request on its connection
	wrote bool // response bytes were written
}

type ncServer struct {
	h     *ncRun
	ln    net.Listener
	port  int
	other atomic.Int64 // the other server's port
	wg    sync.WaitGroup
	open  atomic.Int64
	mu    sync.Mutex
	cs    map[net.Conn]bool
}

// ncKept is a delivered success whose values must stay as delivered.
type ncKept struct {
	q             *ncReq
	body          []byte
	headers, copy []string
}

// ncRun is one seed's run.
type ncRun struct {
	seed    uint64
	servers [2]*ncServer
	dead    int // a port nothing listens on

	mu         sync.Mutex
	bad        []string
	tally      map[string]int
	deliveries map[int64][]ncDelivery
	notes      map[int64][]string
	multi      map[int64]bool // ids that may be sent more than twice (DoResumable)

	nextID atomic.Int64
	nodes  []*ncNode
	cands  []*ncReq // guarded by mu
	nokeep []*ncReq // requests made with SetKeepAlive(false) (guarded by mu)
	kept   []ncKept // delivered bodies and headers, checked again at the end (guarded by mu)
}

func (h *ncRun) fail(format string, args ...any) {
	h.mu.Lock()
	h.bad = append(h.bad, fmt.Sprintf(format, args...))
	h.mu.Unlock()
}

func (h *ncRun) note(id int64, format string, args ...any) {
	h.mu.Lock()
	h.notes[id] = append(h.notes[id], fmt.Sprintf(format, args...))
	h.mu.Unlock()
}

func (h *ncRun) count(what string) {
	h.mu.Lock()
	h.tally[what]++
	h.mu.Unlock()
}

func (h *ncRun) listen() *ncServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	s := &ncServer{h: h, ln: ln, port: ln.Addr().(*net.TCPAddr).Port, cs: map[net.Conn]bool{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.open.Add(1)
			s.mu.Lock()
			s.cs[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer s.open.Add(-1)
				defer func() {
					s.mu.Lock()
					delete(s.cs, c)
					s.mu.Unlock()
				}()
				s.serve(c)
			}()
		}
	}()
	return s
}

func (s *ncServer) stop() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.cs {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func ncReset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// serve answers the requests of one connection.
func (s *ncServer) serve(c net.Conn) {
	br := bufio.NewReader(c)
	idle := 20 * time.Second
	for n := 0; ; n++ {
		_ = c.SetReadDeadline(time.Now().Add(idle))
		line, err := br.ReadString('\n')
		if err != nil {
			c.Close()
			return
		}
		parts := strings.Fields(line)
		cl, chunkedReq, rng, ifRange := 0, false, "", ""
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				c.Close()
				return
			}
			l = strings.TrimRight(l, "\r\n")
			if l == "" {
				break
			}
			if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "content-length") {
				cl, _ = strconv.Atoi(strings.TrimSpace(v))
			}
			if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "transfer-encoding") && strings.Contains(strings.ToLower(v), "chunked") {
				chunkedReq = true
			}
			if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "range") {
				rng = strings.TrimSpace(v)
			}
			if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "if-range") {
				ifRange = strings.TrimSpace(v)
			}
		}
		if len(parts) < 2 {
			c.Close()
			return
		}
		u, err := url.Parse(parts[1])
		if err != nil {
			c.Close()
			return
		}
		// /nc/<id>/<hop>
		seg := strings.Split(strings.TrimPrefix(u.Path, "/nc/"), "/")
		if len(seg) != 2 {
			c.Close()
			return
		}
		id, _ := strconv.ParseInt(seg[0], 10, 64)
		hop, _ := strconv.Atoi(seg[1])
		sp := ncParse(u.Query())
		s.h.mu.Lock()
		di := len(s.h.deliveries[id])
		s.h.deliveries[id] = append(s.h.deliveries[id], ncDelivery{hop: hop, fresh: n == 0})
		s.h.mu.Unlock()
		wrote := func() {
			s.h.mu.Lock()
			s.h.deliveries[id][di].wrote = true
			s.h.mu.Unlock()
		}
		if sp.x != "early" && chunkedReq {
			if _, err := io.Copy(io.Discard, httputil.NewChunkedReader(br)); err != nil {
				s.h.note(id, "server: chunked request body: %v", err)
				c.Close()
				return
			}
			// the trailer's empty line
			if l, err := br.ReadString('\n'); err != nil || l != "\r\n" {
				s.h.note(id, "server: chunked request body's end: %q %v", l, err)
				c.Close()
				return
			}
		} else if sp.x != "early" && cl > 0 {
			if _, err := io.CopyN(io.Discard, br, int64(cl)); err != nil {
				s.h.note(id, "server: request body (%d): %v", cl, err)
				c.Close()
				return
			}
		}
		if sp.x == "before" {
			ncReset(c)
			return
		}
		if sp.hd > 0 {
			time.Sleep(sp.hd)
		}
		idh := "X-Id: " + strconv.FormatInt(id, 10) + "\r\n"
		conn := ""
		if !sp.keep {
			conn = "Connection: close\r\n"
		}
		if hop < sp.redir {
			loc := fmt.Sprintf("/nc/%d/%d?%s", id, hop+1, u.RawQuery)
			if sp.rx {
				loc = fmt.Sprintf("http://127.0.0.1:%d%s", s.other.Load(), loc)
			}
			wrote()
			_, err := io.WriteString(c, "HTTP/1.1 302 Found\r\nLocation: "+loc+"\r\n"+idh+conn+"Content-Length: 0\r\n\r\n")
			if err != nil || !sp.keep {
				c.Close()
				return
			}
			continue
		}
		w := sp.wire(id)
		var head strings.Builder
		etag := fmt.Sprintf("\"e%d-%d\"", id, len(w))
		status := "200 OK"
		if start, ok := strings.CutPrefix(rng, "bytes="); ok && strings.HasSuffix(start, "-") && !sp.gz && (ifRange == "" || ifRange == etag) {
			from, err := strconv.Atoi(strings.TrimSuffix(start, "-"))
			switch {
			case err != nil:
			case from >= len(w):
				wrote()
				_, _ = fmt.Fprintf(c, "HTTP/1.1 416 Range Not Satisfiable\r\n%sETag: %s\r\nContent-Range: bytes */%d\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", idh, etag, len(w))
				c.Close()
				return
			default:
				status = "206 Partial Content"
				idh += fmt.Sprintf("Content-Range: bytes %d-%d/%d\r\n", from, len(w)-1, len(w))
				w = w[from:]
			}
		}
		head.WriteString("HTTP/1.1 " + status + "\r\n" + idh)
		if !sp.gz {
			head.WriteString("ETag: " + etag + "\r\n")
		}
		if sp.gz {
			head.WriteString("Content-Encoding: gzip\r\n")
		}
		switch sp.frame {
		case "cl":
			head.WriteString(conn + "Content-Length: " + strconv.Itoa(len(w)) + "\r\n")
		case "chunked":
			head.WriteString(conn + "Transfer-Encoding: chunked\r\n")
		default:
			head.WriteString("Connection: close\r\n")
		}
		head.WriteString("\r\n")
		body := w
		if sp.frame == "chunked" {
			var cb bytes.Buffer
			step := max(1+int(id%4000), len(w)/300) // one chunk per Process step (§2.14): not too many
			for i := 0; i < len(w); i += step {
				piece := w[i:min(len(w), i+step)]
				fmt.Fprintf(&cb, "%x\r\n%s\r\n", len(piece), piece)
			}
			cb.WriteString("0\r\n\r\n")
			body = cb.Bytes()
		}
		half := len(body) / 2
		const junk = "HTTP/1.1 200 OK\r\nX-Id: junk\r\nContent-Length: 4\r\n\r\njunk"
		withJunk := sp.junk && sp.keep && sp.frame != "close"
		first := append([]byte(head.String()), body[:half]...)
		if withJunk && half == len(body) {
			// An empty body ends with the head: junk sent after the delay
			// could come after the next request was written on the kept
			// connection, when no client can tell it from the answer
			// (net/http neither). It comes with the response's end.
			first, withJunk = append(first, junk...), false
		}
		wrote()
		if _, err := c.Write(first); err != nil {
			c.Close()
			return
		}
		if sp.md > 0 {
			time.Sleep(sp.md)
		}
		switch sp.x {
		case "mid":
			ncReset(c)
			return
		case "cut": // a clean close in the middle of a framed body
			c.Close()
			return
		case "stall":
			_ = c.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
			_, _ = br.ReadByte() // until the client closes, or 1.5 s
			ncReset(c)
			return
		}
		tail := body[half:]
		if withJunk {
			tail = append(append([]byte(nil), tail...), junk...)
		}
		if _, err := c.Write(tail); err != nil {
			c.Close()
			return
		}
		if sp.x == "early" {
			ncReset(c) // the request body was not read
			return
		}
		if !sp.keep || sp.frame == "close" {
			c.Close()
			return
		}
		idle = 20 * time.Second
		if sp.ic > 0 {
			idle = sp.ic // the read deadline closes the connection
		}
	}
}

// ncReq is one generated request and what happened to it.
type ncReq struct {
	id      int64
	spec    ncSpec
	srv     int
	dead    bool   // to the port nothing listens on
	short   bool   // to host "::1", which connect_to_host refuses at once (§2.4.8)
	invalid bool   // an invalid URL: refused
	driver  string // process, threads, do
	method  httpclient.Method
	body    []byte

	keep, gzip, inPlace, drain bool
	keepPartial                bool // keep_partial_download: in place in both modes
	fileWriter                 bool // the body writer is an *os.File on a regular file (the splice path)
	chunk                      int  // download_chunk_size
	writer, download           bool
	limit                      int64
	timeout                    time.Duration
	maxRedir                   int

	event string // what happens to it (see gen)
	at    int    // frame, byte count or microseconds of the event

	cbChain, cbProcess, cbClose, handoff bool
	candidate                            bool
	offset                               int64 // DoResumable's
	prev                                 *ncReq
	retry                                bool // DoResumable again on the URL of the last one, which failed
	stale                                bool // a connection the server closes when idle may be kept
	stream                               int  // 0: RequestRaw/Do, 1: RequestStream/DoStream with the length, 2: chunked (−1)

	// outcome
	completions int
	canceled    bool        // canceled by the owner before its completion
	cbCanceled  atomic.Bool // canceled from a callback (body writer, response function): set before the call
	cbReturned  atomic.Bool // and the call returned
	ctxCanceled atomic.Bool // Do's context canceled by the harness
	started     bool
	oldFile     []byte // download_file before the request (nil: absent)

	wmu   sync.Mutex
	wbuf  []byte
	wfile *os.File
}

func (q *ncReq) String() string {
	return fmt.Sprintf("id=%d srv=%d dead=%v inv=%v %s %s body=%d spec=%+v keep=%v gzip=%v inPlace=%v drain=%v writer=%v dl=%v limit=%d timeout=%v maxRedir=%d event=%s@%d chain=%v cbProc=%v handoff=%v",
		q.id, q.srv, q.dead, q.invalid, q.driver, q.method, len(q.body), q.spec, q.keep, q.gzip, q.inPlace, q.drain,
		q.writer, q.download, q.limit, q.timeout, q.maxRedir, q.event, q.at, q.cbChain, q.cbProcess, q.handoff)
}

// expectBody is the body the completion (or its destination) holds on success.
func (q *ncReq) expectBody() []byte {
	if q.spec.gz && !q.gzip {
		return q.spec.wire(q.id)
	}
	return ncPayload(q.id, q.spec.size)
}

func (q *ncReq) streamLen() int64 {
	if q.stream == 2 {
		return -1
	}
	return int64(len(q.body))
}

// clean: nothing but the options and the harness's events can fail it.
func (q *ncReq) clean() bool { return q.spec.x == "" && !q.dead && !q.short && !(q.stale && q.keep) }

// ncNode is one node and the harness's view of it (owned with the node).
type ncNode struct {
	h      *ncRun
	idx    int
	n      *HTTPRequest
	dir    string
	file   string
	r      *rand.Rand // the current owner's
	cur    *ncReq     // the request whose completion the callback awaits
	left   int        // requests left in the stint (a callback may start one)
	prog   [2]int64
	orph   bool // a threaded request was canceled from its worker: temporary files may wait for the reap
	seq    int
	last   *ncReq
	stale  bool
	wfiles []*os.File

	owner       atomic.Uint64 // the goroutine that owns the node now
	inRequest   int           // inside Request/RequestRaw/RequestStream
	afterCancel *ncReq        // the last request was canceled: nothing of it may happen any more
	doing       *ncReq        // the request Do runs
	resumeFrom  *ncReq        // the last DoResumable, when it did not succeed
	kept        int           // 1 + the server of the connection the last success should have kept, 0 for none
}

func (ns *ncNode) onComplete(res Result, code int, hdrs []string, body []byte) {
	ns.onOwner("the completion callback")
	if ns.inRequest > 0 {
		ns.h.fail("node %d: the completion callback (%v) ran inside Request (§2.1.3)", ns.idx, res)
	}
	q := ns.cur
	if q == nil {
		ns.h.fail("node %d: a completion (%v, %d, X-Id %q) with no request awaiting one", ns.idx, res, code, ncHeaderID(hdrs))
		return
	}
	if q.cbCanceled.Load() {
		ns.h.fail("%v: a completion (%v) after CancelRequest/Close from its callback (§7 D3)", q, res)
	}
	q.completions++
	ns.cur = nil
	if st := ns.n.HTTPClientStatus(); st != httpclient.StatusDisconnected {
		ns.h.fail("%v: status %v in the completion callback (§2.1.3: the node reset itself first)", q, st)
	}
	ns.check(q, Completion{res, code, hdrs, body}, ns.n.LastError(), nil, false)
	if q.cbChain && ns.left > 0 {
		ns.left--
		ns.h.count("chain")
		ns.begin(ns.gen())
	}
	if q.cbProcess {
		ns.h.count("process-in-callback")
		ns.n.Process()
	}
	if q.cbClose {
		ns.h.count("close-in-callback")
		ns.kept = 0
		ns.n.Close()
		if c := ns.cur; c != nil {
			c.canceled = true
			ns.cur = nil
			ns.checkFile(c, false)
		}
	}
}

// onStepper: the body writer, the response function and an upload's reader
// run on the goroutine that runs the steps: the owner's for Process and Do,
// the worker for use_threads.
func (ns *ncNode) onStepper(q *ncReq, what string) {
	id := goroutineID(make([]byte, 64))
	if (q.driver == "threads") == (id == ns.owner.Load()) {
		ns.h.fail("%v: %s ran on goroutine %d (owner %d)", q, what, id, ns.owner.Load())
	}
}

// onOwner: what is running now runs on the node's owner goroutine.
func (ns *ncNode) onOwner(what string) {
	if id := goroutineID(make([]byte, 64)); id != ns.owner.Load() {
		ns.h.fail("node %d: %s ran on goroutine %d, not on the owner %d", ns.idx, what, id, ns.owner.Load())
	}
}

func ncHeaderID(hdrs []string) string {
	id := ""
	for _, l := range hdrs {
		if v, ok := strings.CutPrefix(l, "X-Id: "); ok {
			if id != "" {
				return id + "+" + v
			}
			id = v
		}
	}
	return id
}

var ncWithHeaders = map[Result]bool{
	ResultSuccess: true, ResultChunkedBodySizeMismatch: true, ResultBodySizeLimitExceeded: true,
	ResultBodyDecompressFailed: true, ResultRequestFailed: true, ResultDownloadFileCantOpen: true,
	ResultDownloadFileWriteError: true, ResultRedirectLimitReached: true,
}

// check judges one completion of q (cause: LastError or the *ResultError's).
func (ns *ncNode) check(q *ncReq, c Completion, cause, doErr error, viaDo bool) {
	h := ns.h
	h.count("result " + c.Result.String())
	if c.Result == ResultSuccess {
		// The connection the node may keep is the one that answered q: the
		// server closes it when idle after q's spec, or ends it after an
		// answer that was whole before its x came (an empty body: the
		// stall, the cut or the reset is still to come; "early" resets
		// after any answer). A request that failed or was canceled may not
		// have reached the kept connection, whose end is then still an
		// earlier request's.
		ns.stale = q.spec.ic > 0 || q.spec.x != ""
	}
	if !q.clean() {
		h.count(fmt.Sprintf("x=%s/%s/gz=%v %v", q.spec.x, q.spec.frame, q.spec.gz && q.gzip, c.Result))
	}
	if c.Result < ResultSuccess || c.Result > ResultTimeout {
		h.fail("%v: result %d is not a Godot result", q, c.Result)
	}
	if id := ncHeaderID(c.Headers); c.Headers != nil && id != strconv.FormatInt(q.id, 10) {
		h.fail("%v: CROSS-TALK: headers name %q (%v %d %q)", q, id, c.Result, c.ResponseCode, c.Headers)
	}
	if c.Result == ResultSuccess {
		if cause != nil || (viaDo && doErr != nil) {
			h.fail("%v: success with an error %v / %v", q, cause, doErr)
		}
	} else {
		if cause == nil {
			h.fail("%v: %v without a cause", q, c.Result)
		}
		if viaDo {
			var re *ResultError
			if !errors.As(doErr, &re) || re.Result != c.Result || !errors.Is(doErr, c.Result) || re.Cause == nil {
				h.fail("%v: Do's error %v for %v is not a *ResultError with the result and a cause", q, doErr, c.Result)
			}
		}
		if c.Body != nil {
			h.fail("%v: a body (%d bytes) with %v (§2.10)", q, len(c.Body), c.Result)
		}
	}
	if !ncWithHeaders[c.Result] && (c.ResponseCode != 0 || c.Headers != nil) {
		h.fail("%v: %v with code %d and headers %q (§2.10: none)", q, c.Result, c.ResponseCode, c.Headers)
	}
	if ncWithHeaders[c.Result] && c.Result != ResultRequestFailed && c.Headers == nil {
		h.fail("%v: %v without headers (§2.10)", q, c.Result)
	}
	want := q.expectBody()
	if c.Headers != nil && c.Result != ResultSuccess {
		wire := int64(len(q.spec.wire(q.id))) - q.offset // (DoResumable's last request asked for the rest)
		d, b := ns.n.DownloadedBytes(), ns.n.BodySize()
		switch {
		case c.Result == ResultRedirectLimitReached && (d != 0 || b != -1):
			h.fail("%v: get_downloaded_bytes %d, get_body_size %d after the redirect limit; want 0, -1 (the 3xx's)", q, d, b)
		case d > wire || b != -1 && (q.spec.frame != "cl" || b != wire):
			h.fail("%v: get_downloaded_bytes %d, get_body_size %d after %v; the body has %d bytes (%s)", q, d, b, c.Result, wire, q.spec.frame)
		}
	}
	// What the options and a clean server predict.
	if q.clean() && q.event != "werr" && q.event != "rferr" {
		exp := ResultSuccess
		switch {
		case q.maxRedir >= 0 && q.spec.redir > q.maxRedir:
			exp = ResultRedirectLimitReached
		case q.limit >= 0 && (int64(len(want)) > q.limit || q.spec.frame == "cl" && int64(len(q.spec.wire(q.id))) > q.limit):
			exp = ResultBodySizeLimitExceeded
		}
		timeoutOK := q.timeout > 0 || q.event == "deadline" || q.event == "predeadline"
		if c.Result != exp && !(timeoutOK && c.Result == ResultTimeout) {
			h.mu.Lock()
			notes, ds := h.notes[q.id], h.deliveries[q.id]
			h.mu.Unlock()
			h.fail("%v: %v (code %d, cause %v), expected %v; stream %d, server %+v %q", q, c.Result, c.ResponseCode, cause, exp, q.stream, ds, notes)
		}
	}
	if (q.short || q.dead) && c.Result != ResultCantConnect && c.Result != ResultTimeout {
		h.fail("%v: %v for a connection that cannot start, want RESULT_CANT_CONNECT", q, c.Result)
	}
	if q.event == "rferr" && c.Result == ResultSuccess {
		h.fail("%v: success though the response function refused it", q)
	}
	if c.Result == ResultSuccess {
		if c.ResponseCode != 200 && !(q.driver == "resume" && (c.ResponseCode == 206 || c.ResponseCode == 416)) {
			h.fail("%v: success with code %d", q, c.ResponseCode)
		}
		switch {
		case q.writer || q.download:
			if c.Body != nil {
				h.fail("%v: a body in the completion with a destination", q)
			}
		case !bytes.Equal(c.Body, want):
			h.fail("%v: body %d bytes %q…, want %d bytes", q, len(c.Body), ncHead(c.Body), len(want))
		default:
			// kept to the end of the run: a buffer the node still used
			// (a pool, a kept connection) would change it meanwhile
			h.mu.Lock()
			h.kept = append(h.kept, ncKept{q, c.Body, c.Headers, slices.Clone(c.Headers)})
			h.mu.Unlock()
		}
		if q.writer {
			q.wmu.Lock()
			got := append([]byte(nil), q.wbuf...)
			q.wmu.Unlock()
			if q.wfile != nil {
				got, _ = os.ReadFile(q.wfile.Name())
			}
			switch {
			case q.driver == "resume" && q.offset > 0:
				// DoResumable wrote to the writer what its requests got:
				// the rest after the file's bytes, which an earlier
				// request's partial download (resumeFrom) or an earlier
				// request of this call put there — at least the last
				// request's range, and the body's end.
				if !bytes.HasSuffix(want, got) || int64(len(got)) < int64(len(want))-q.offset {
					h.fail("%v: body writer got %d bytes %q…, want the last %d bytes or more of %d (resumed from %d)", q, len(got), ncHead(got), int64(len(want))-q.offset, len(want), q.offset)
				}
			case !bytes.Equal(got, want):
				h.fail("%v: body writer got %d bytes %q…, want %d", q, len(got), ncHead(got), len(want))
			}
		}
		wire := int64(len(q.spec.wire(q.id)))
		bs := int64(-1)
		if q.spec.frame == "cl" && wire > 0 {
			bs = wire
		}
		if q.offset > 0 {
			// the last request of DoResumable carried a Range
			wire -= q.offset
			if bs >= 0 {
				bs = wire
			}
			if wire == 0 {
				bs = -1 // (a 416: no body)
			}
		}
		if d, b := ns.n.DownloadedBytes(), ns.n.BodySize(); d != wire || b != bs {
			h.fail("%v: get_downloaded_bytes %d, get_body_size %d at success; want %d, %d (§2.9.7)", q, d, b, wire, bs)
		}
		if q.clean() {
			size := int64(len(q.body))
			if q.stream == 2 {
				size = -1
			}
			if u, us := ns.n.UploadedBytes(), ns.n.UploadSize(); u != int64(len(q.body)) || us != size {
				h.fail("%v: UploadedBytes %d, UploadSize %d at success; want %d, %d", q, u, us, len(q.body), size)
			}
		}
		if dec := int64(len(want)) - q.offset; ns.prog != [2]int64{wire, dec} && !(wire == 0 && ns.prog == [2]int64{}) {
			h.fail("%v: last progress %v at success; want [%d %d]", q, ns.prog, wire, dec)
		}
	}
	ns.checkFile(q, c.Result == ResultSuccess)
	ns.kept = 0
	if c.Result == ResultSuccess && q.keep && q.spec.keep && q.spec.frame != "close" && !q.spec.junk && q.spec.ic == 0 && q.spec.x == "" {
		ns.kept = 1 + q.srv
		if q.spec.rx && q.spec.redir%2 == 1 {
			ns.kept = 1 + (1 - q.srv) // the last hop went to the other server
		}
	}
}

func ncHead(b []byte) []byte { return b[:min(len(b), 40)] }

// checkFile judges download_file once q ended (success: delivered).
func (ns *ncNode) checkFile(q *ncReq, success bool) {
	if !q.download {
		return
	}
	h := ns.h
	got, err := os.ReadFile(ns.file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		h.fail("%v: download_file: %v", q, err)
		return
	}
	if err != nil {
		got = nil
	}
	want := q.expectBody()
	switch {
	case success && q.spec.frame == "cl" && len(q.spec.wire(q.id)) == 0 && q.driver != "resume":
		// Content-Length: 0 is bodyless: the file is never opened (§2.6.1.1).
		if !bytes.Equal(got, q.oldFile) || (got != nil) != (q.oldFile != nil) {
			h.fail("%v: download_file after a bodyless success holds %q, old %q", q, ncHead(got), ncHead(q.oldFile))
		}
	case success:
		if !bytes.Equal(got, want) {
			h.fail("%v: download_file after success holds %d bytes %q…, want %d", q, len(got), ncHead(got), len(want))
		}
	case bytes.Equal(got, q.oldFile) && (got != nil) == (q.oldFile != nil):
	case (q.inPlace || q.keepPartial) && bytes.HasPrefix(want, got):
		h.count("in-place partial file")
	default:
		h.fail("%v: download_file after a failure or cancel holds %d bytes %q…; old %q (inPlace %v)", q, len(got), ncHead(got), ncHead(q.oldFile), q.inPlace)
	}
	if !ns.orph {
		ns.checkTemp(fmt.Sprintf("%v", q))
	}
}

func (ns *ncNode) checkTemp(what string) {
	ents, _ := os.ReadDir(ns.dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".gdhttp-") && strings.HasSuffix(e.Name(), ".part") {
			ns.h.fail("%s: temporary file %s left", what, e.Name())
		}
	}
}

// gen makes the node's next request (owner's rand).
func (ns *ncNode) gen() *ncReq {
	r := ns.r
	q := &ncReq{id: ns.h.nextID.Add(1), srv: ns.idx % 2, maxRedir: -2}
	if r.IntN(5) == 0 {
		q.srv = r.IntN(2)
	}
	q.driver = []string{"process", "threads", "do", "process", "threads", "do", "resume"}[r.IntN(7)]
	q.spec.frame = []string{"cl", "cl", "chunked", "close"}[r.IntN(4)]
	switch r.IntN(10) {
	case 0:
		q.spec.size = 0
	case 1, 2:
		q.spec.size = 1 + r.IntN(300000)
	default:
		q.spec.size = 1 + r.IntN(3000)
	}
	q.spec.gz = r.IntN(4) == 0
	q.spec.keep = r.IntN(5) != 0
	if r.IntN(4) == 0 {
		q.spec.hd = time.Duration(r.IntN(3000)) * time.Microsecond
	}
	if r.IntN(4) == 0 {
		q.spec.md = time.Duration(r.IntN(3000)) * time.Microsecond
	}
	if r.IntN(4) == 0 {
		q.spec.redir = 1 + r.IntN(3)
		q.spec.rx = r.IntN(2) == 0
	}
	q.spec.junk = r.IntN(6) == 0
	if r.IntN(6) == 0 {
		q.spec.ic = time.Duration(r.IntN(3000)) * time.Microsecond
	}
	q.stale = ns.stale
	switch r.IntN(15) {
	case 0:
		q.spec.x = "before"
	case 1:
		q.spec.x = "mid"
	case 2:
		q.spec.x = "stall"
	case 3:
		q.spec.x = "early"
	case 4:
		q.spec.x = "cut"
	}

	q.dead = r.IntN(25) == 0
	q.short = r.IntN(25) == 0
	q.invalid = r.IntN(30) == 0
	q.method = httpclient.MethodGet
	q.stream = []int{0, 0, 1, 2}[r.IntN(4)]
	switch r.IntN(4) {
	case 0:
		q.method = httpclient.MethodPost
		q.body = ncPayload(q.id, r.IntN(200000))
	case 1:
		q.method = httpclient.MethodPut
		q.body = ncPayload(q.id, r.IntN(2000))
	}
	q.keep = r.IntN(4) != 0
	q.gzip = r.IntN(3) != 0
	q.inPlace = r.IntN(2) == 0
	q.drain = r.IntN(3) == 0
	q.writer = r.IntN(3) == 0
	q.fileWriter = q.writer && r.IntN(2) == 0
	q.keepPartial = r.IntN(6) == 0
	q.chunk = []int{65536, 65536, 256, 1000, 16384}[r.IntN(5)]
	q.download = r.IntN(3) == 0
	q.limit = -1
	if r.IntN(5) == 0 {
		q.limit = int64(r.IntN(4000))
	}
	q.maxRedir = []int{8, 8, -1, 0, 1, 2}[r.IntN(6)]
	if r.IntN(5) == 0 || q.spec.x == "stall" {
		q.timeout = time.Duration(20+r.IntN(300)) * time.Millisecond
	}
	if r.IntN(15) == 0 {
		q.timeout = time.Millisecond
	}
	if q.driver == "resume" {
		q.spec.gz, q.spec.junk, q.method, q.body, q.stream, q.download = false, false, httpclient.MethodGet, nil, 0, true
		q.writer, q.fileWriter, q.keepPartial, q.limit = false, false, true, -1
		if r.IntN(2) == 0 {
			q.spec.x, q.spec.size = "cut", 2000+r.IntN(100000)
		}
		if p := ns.resumeFrom; p != nil && r.IntN(3) != 0 {
			// the same URL again: resume what p left
			q.id, q.srv, q.spec, q.dead, q.invalid, q.retry = p.id, p.srv, p.spec, false, false, true
			if r.IntN(2) == 0 {
				q.spec.x = ""
			}
		}
	}
	if q.spec.x == "cut" && q.spec.frame == "close" {
		q.spec.frame = "cl" // (until close, the cut is the body's end)
	}
	if r.IntN(2) == 0 {
		q.event = "none"
	} else if q.driver == "do" || q.driver == "resume" {
		q.event = []string{"ctxcancel", "deadline", "precancel", "predeadline", "wcancel", "rfcancel", "werr", "rferr", "wprocess", "ucancel"}[r.IntN(10)]
	} else {
		q.event = []string{"cancel", "close", "busy", "busydo", "wcancel", "wclose", "rfcancel", "rfclose", "werr", "rferr", "wprocess", "ucancel", "uclose", "pcancel", "pclose", "pprocess", "setthreads"}[r.IntN(17)]
		if q.event == "wprocess" && q.driver == "threads" {
			q.event = "none" // Process must not be called on the worker
		}
		q.cbChain = r.IntN(3) == 0
		q.cbProcess = r.IntN(4) == 0
		q.cbClose = r.IntN(8) == 0
		q.handoff = r.IntN(8) == 0
	}
	if q.driver == "resume" {
		if q.event == "ucancel" {
			q.event = "none"
		}
		q.method, q.body, q.stream = httpclient.MethodGet, nil, 0
		ns.h.mu.Lock()
		ns.h.multi[q.id] = true // DoResumable may ask more than once
		ns.h.mu.Unlock()
	}
	switch q.event {
	case "ctxcancel", "deadline":
		q.at = r.IntN(20000)
	case "wcancel", "wclose", "werr", "wprocess":
		q.at = r.IntN(q.spec.size + 1)
		q.writer, q.fileWriter = true, false
	case "cancel", "close", "busy", "busydo", "setthreads":
		q.at = r.IntN(30)
	case "ucancel", "uclose":
		if q.stream == 0 {
			q.stream = 1
		}
		if len(q.body) == 0 {
			q.method, q.body = httpclient.MethodPost, ncPayload(q.id, 1+r.IntN(100000))
		}
		q.at = r.IntN(len(q.body) + 1)
	case "pcancel", "pclose", "pprocess":
		q.at = r.IntN(q.spec.size + 1)
	}
	return q
}

func (ns *ncNode) url(q *ncReq) string {
	port := ns.h.servers[q.srv].port
	if q.dead {
		port = ns.h.dead
	}
	if q.invalid {
		return fmt.Sprintf("ftp://127.0.0.1:%d/nc/%d/0", port, q.id)
	}
	if q.short {
		return fmt.Sprintf("http://[::1]:%d/nc/%d/0?%s", port, q.id, q.spec.query())
	}
	return fmt.Sprintf("http://127.0.0.1:%d/nc/%d/0?%s", port, q.id, q.spec.query())
}

// ncWriter is a request's body writer.
type ncWriter struct {
	ns     *ncNode
	q      *ncReq
	n      *HTTPRequest
	cancel context.CancelFunc // Do's
	fired  bool
}

func (w *ncWriter) Write(p []byte) (int, error) {
	q := w.q
	w.ns.onStepper(q, "the body writer")
	if w.fired && (q.event == "wcancel" || q.event == "wclose") && w.cancel == nil {
		w.ns.h.fail("%v: the body writer got %d bytes after it canceled the request (no byte is written after it)", q, len(p))
	}
	q.wmu.Lock()
	q.wbuf = append(q.wbuf, p...)
	reached := len(q.wbuf) >= q.at && !w.fired
	q.wmu.Unlock()
	if !reached {
		return len(p), nil
	}
	switch q.event {
	case "werr":
		w.fired = true
		return 0, errNcWrite
	case "wprocess":
		w.fired = true
		w.n.Process() // returns at once (inStep)
	case "wcancel", "wclose":
		w.fired = true
		if w.cancel != nil {
			q.ctxCanceled.Store(true)
			w.cancel()
			break
		}
		q.cbCanceled.Store(true)
		if q.event == "wclose" {
			w.n.Close()
		} else {
			w.n.CancelRequest()
		}
		q.cbReturned.Store(true)
	}
	return len(p), nil
}

// ncReader is a streamed request body; it may cancel its request.
type ncReader struct {
	*bytes.Reader
	ns     *ncNode
	q      *ncReq
	n      *HTTPRequest
	cancel context.CancelFunc
	fired  bool
}

func (u *ncReader) Read(p []byte) (int, error) {
	q := u.q
	u.ns.onStepper(q, "the upload's reader")
	if u.fired && u.cancel == nil {
		u.ns.h.fail("%v: the upload's reader was read after it canceled the request", q)
	}
	if !u.fired && (q.event == "ucancel" || q.event == "uclose") && int(u.Size())-u.Len() >= q.at {
		u.fired = true
		if u.cancel != nil {
			q.ctxCanceled.Store(true)
			u.cancel()
		} else {
			q.cbCanceled.Store(true)
			if q.event == "uclose" {
				u.n.Close()
			} else {
				u.n.CancelRequest()
			}
			q.cbReturned.Store(true)
		}
	}
	if len(p) > 4096 {
		p = p[:4096]
	}
	return u.Reader.Read(p)
}

var (
	errNcWrite  = errors.New("nodechaos: body writer error")
	errNcRefuse = errors.New("nodechaos: refused by the response function")
)

// setup sets the node's options for q (between requests: never refused).
func (ns *ncNode) setup(q *ncReq, cancel context.CancelFunc) {
	n, h := ns.n, ns.h
	must := func(what string, err error) {
		if err != nil && ns.last == nil {
			h.fail("%v: %s before the first request: %v", q, what, err)
		} else if err != nil {
			h.fail("%v: %s between requests: %v (previous request on node %d: %v, completions %d, canceled %v/%v)", q, what, err, ns.idx, ns.last, ns.last.completions, ns.last.canceled, ns.last.cbCanceled.Load())
		}
	}
	must("SetKeepAlive", n.SetKeepAlive(q.keep))
	must("SetUseThreads", n.SetUseThreads(q.driver == "threads"))
	n.SetAcceptGzip(q.gzip)
	must("SetDownloadInPlace", n.SetDownloadInPlace(q.inPlace))
	must("SetDrainPerStep", n.SetDrainPerStep(q.drain))
	must("SetBodySizeLimit", n.SetBodySizeLimit(q.limit))
	must("SetMaxRedirects", n.SetMaxRedirects(q.maxRedir))
	must("SetTimeout", n.SetTimeout(q.timeout))
	for _, f := range ns.wfiles {
		_ = f.Close()
	}
	ns.wfiles = ns.wfiles[:0]
	must("SetDownloadChunkSize", n.SetDownloadChunkSize(q.chunk))
	must("SetKeepPartialDownload", n.SetKeepPartialDownload(q.keepPartial))
	var w io.Writer
	switch {
	case q.fileWriter:
		f, err := os.Create(filepath.Join(ns.dir, "w.bin"))
		if err != nil {
			h.fail("%v: %v", q, err)
		}
		q.wfile = f
		ns.wfiles = append(ns.wfiles, f)
		w = f
	case q.writer:
		w = &ncWriter{ns: ns, q: q, n: n, cancel: cancel}
	}
	must("SetBodyWriter", n.SetBodyWriter(w))
	file := ""
	if q.download {
		file = ns.file
		ns.seq++
		if q.retry {
			q.oldFile, _ = os.ReadFile(ns.file)
		}
		switch {
		case q.retry:
		case ns.r.IntN(3) == 0:
			_ = os.Remove(ns.file)
		default:
			q.oldFile = fmt.Appendf(nil, "OLD node %d seq %d", ns.idx, ns.seq)
			if err := os.WriteFile(ns.file, q.oldFile, 0o644); err != nil {
				h.fail("write old file: %v", err)
			}
		}
	}
	must("SetDownloadFile", n.SetDownloadFile(file))
	var rf func(int, []string) error
	switch q.event {
	case "rfcancel", "rfclose", "rferr":
		rf = func(code int, hdrs []string) error {
			ns.onStepper(q, "the response function")
			switch {
			case q.event == "rferr":
				return errNcRefuse
			case cancel != nil:
				q.ctxCanceled.Store(true)
				cancel()
			default:
				q.cbCanceled.Store(true)
				if q.event == "rfclose" {
					n.Close()
				} else {
					n.CancelRequest()
				}
				q.cbReturned.Store(true)
			}
			return nil
		}
	}
	must("SetResponseFunc", n.SetResponseFunc(rf))
	ns.prog = [2]int64{}
}

// begin starts q: Do runs it to its end here; Request leaves it to drive.
func (ns *ncNode) begin(q *ncReq) {
	h, n := ns.h, ns.n
	ns.afterCancel = nil
	ns.resumeFrom = nil
	if !q.keep {
		h.mu.Lock()
		h.nokeep = append(h.nokeep, q)
		h.mu.Unlock()
	}
	if ns.kept == 1+q.srv && q.keep && !q.dead && !q.invalid && q.event != "precancel" && q.event != "predeadline" {
		h.count("reuse candidate")
		q.candidate = true
		q.prev = ns.last
		h.mu.Lock()
		h.cands = append(h.cands, q)
		h.mu.Unlock()
	}
	ns.kept = 0
	h.count("driver " + q.driver)
	h.count("event " + q.event)
	if q.driver == "do" || q.driver == "resume" {
		ns.do(q)
		return
	}
	ns.setup(q, nil)
	ns.last = q
	if !q.invalid && q.event != "precancel" && q.event != "predeadline" { // (those never touch the kept connection)
		ns.stale = ns.stale || q.spec.ic > 0 // until a success shows the server's idle close is q's (check)
	}
	var err error
	hdrs := []string{"X-Req: " + strconv.FormatInt(q.id, 10)}
	ns.inRequest++
	switch q.stream {
	case 0:
		err = n.RequestRaw(ns.url(q), hdrs, q.method, q.body)
	default:
		err = n.RequestStream(ns.url(q), hdrs, q.method, &ncReader{Reader: bytes.NewReader(q.body), ns: ns, q: q, n: n}, q.streamLen())
	}
	ns.inRequest--
	q.started = true
	switch {
	case q.invalid:
		if !errors.Is(err, godot.ErrInvalidParameter) {
			h.fail("%v: Request with an invalid URL returned %v, want ERR_INVALID_PARAMETER", q, err)
		}
		ns.checkFile(q, false)
		return
	case q.short && q.driver == "process" && !q.invalid:
		// §2.4.8: ERR_CANT_CONNECT, and a RESULT_CANT_CONNECT completion follows
		if !errors.Is(err, godot.ErrCantConnect) {
			h.fail("%v: Request to host ::1 returned %v, want ERR_CANT_CONNECT (§2.4.8)", q, err)
		}
		h.count("cant connect at once")
	case err != nil:
		h.fail("%v: Request: %v", q, err)
		return
	}
	ns.cur = q
	if q.event == "cancel" || q.event == "close" {
		if q.at == 0 {
			ns.cancel(q)
		}
	}
}

func (ns *ncNode) cancel(q *ncReq) {
	if q.event == "close" || q.event == "pclose" {
		ns.n.Close()
	} else {
		ns.n.CancelRequest()
	}
	q.canceled = true
	ns.cur = nil
	ns.afterCancel = q
	if st := ns.n.HTTPClientStatus(); st != httpclient.StatusDisconnected {
		ns.h.fail("%v: status %v after %s (§2.12.3: the client is closed)", q, st, q.event)
	}
	ns.checkFile(q, false)
}

// do runs q through Do, with its context's events.
func (ns *ncNode) do(q *ncReq) {
	h, n := ns.h, ns.n
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stop func() bool
	switch q.event {
	case "precancel":
		q.ctxCanceled.Store(true)
		cancel()
	case "predeadline":
		ctx, cancel = context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer cancel()
	case "deadline":
		ctx, cancel = context.WithTimeout(ctx, time.Duration(q.at)*time.Microsecond)
		defer cancel()
	case "ctxcancel":
		t := time.AfterFunc(time.Duration(q.at)*time.Microsecond, func() { q.ctxCanceled.Store(true); cancel() })
		stop = t.Stop
	}
	ns.setup(q, cancel)
	ns.last = q
	if !q.invalid && q.event != "precancel" && q.event != "predeadline" { // (those never touch the kept connection)
		ns.stale = ns.stale || q.spec.ic > 0 // until a success shows the server's idle close is q's (check)
	}
	var c Completion
	var err error
	hdrs := []string{"X-Req: " + strconv.FormatInt(q.id, 10)}
	outer := ns.doing
	ns.doing = q
	defer func() { ns.doing = outer }()
	switch {
	case q.driver == "resume":
		var res Resumed
		res, err = n.DoResumable(ctx, ns.url(q), hdrs)
		c, q.offset = res.Completion, res.Offset
		if err == nil && res.Outcome == ResumeAlreadyComplete {
			h.count("resume already complete")
		}
		if res.Offset > 0 {
			h.count("resume with an offset")
		}
		if q.retry {
			h.count("resume retry")
		}
		defer func() {
			if c.Result != ResultSuccess || err != nil {
				ns.resumeFrom = q
			}
		}()
	case q.stream == 0:
		c, err = n.Do(ctx, ns.url(q), hdrs, q.method, q.body)
	case true:
		c, err = n.DoStream(ctx, ns.url(q), hdrs, q.method, &ncReader{Reader: bytes.NewReader(q.body), ns: ns, q: q, n: n, cancel: cancel}, q.streamLen())
	}
	if st := n.HTTPClientStatus(); st != httpclient.StatusDisconnected {
		h.fail("%v: status %v after Do returned", q, st)
	}
	if stop != nil {
		stop()
	}
	q.started = true
	switch {
	case q.invalid && q.event != "precancel" && !(errors.Is(err, context.Canceled) && q.ctxCanceled.Load()):
		// (A cancel that came before Do looked at its context wins, as a
		// canceled context does (precancel): DoResumable's preparation
		// can outlast the cancel's delay on a loaded machine, seed 3957.)
		if !errors.Is(err, godot.ErrInvalidParameter) {
			h.fail("%v: Do with an invalid URL returned %v, want ERR_INVALID_PARAMETER", q, err)
		}
	case errors.Is(err, context.Canceled):
		if !q.ctxCanceled.Load() {
			h.fail("%v: Do returned %v though its context was not canceled", q, err)
		}
		if c.Result != 0 || c.ResponseCode != 0 || c.Headers != nil || c.Body != nil {
			h.fail("%v: Do returned a completion %v with the context's error", q, c)
		}
		q.canceled = true
		h.count("do canceled")
	case q.event == "precancel":
		h.fail("%v: Do with a canceled context returned %v, %v", q, c.Result, err)
	case q.event == "predeadline" && !(c.Result == ResultTimeout && errors.Is(err, context.DeadlineExceeded)):
		h.fail("%v: Do with a past deadline returned %v, %v; want RESULT_TIMEOUT, DeadlineExceeded", q, c.Result, err)
	default:
		if c.Result == ResultTimeout && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, godot.ErrTimeout) {
			h.fail("%v: RESULT_TIMEOUT with cause %v", q, err)
		}
		if c.Result == ResultTimeout && q.event != "deadline" && q.event != "predeadline" && q.timeout == 0 {
			h.fail("%v: RESULT_TIMEOUT without a timeout", q)
		}
		var cause error
		var re *ResultError
		if errors.As(err, &re) {
			cause = re.Cause
		}
		q.completions++
		ns.check(q, c, cause, err, true)
		return
	}
	ns.checkFile(q, false)
}

// drive calls Process once a frame until the awaited request is settled,
// with the owner's events.
func (ns *ncNode) drive() {
	h, n := ns.h, ns.n
	start := time.Now()
	for frame := 0; ns.cur != nil; frame++ {
		q := ns.cur
		if frame == q.at {
			switch q.event {
			case "cancel", "close":
				h.count("owner cancel")
				ns.cancel(q)
				for range 3 {
					n.Process() // nothing may come
					time.Sleep(100 * time.Microsecond)
				}
				continue
			case "busy":
				ns.inRequest++
				err := n.RequestRaw(ns.url(q), nil, httpclient.MethodGet, nil)
				ns.inRequest--
				if !errors.Is(err, godot.ErrBusy) {
					h.fail("%v: a second Request while busy returned %v, want ERR_BUSY", q, err)
				}
			case "setthreads":
				if err := n.SetUseThreads(ns.r.IntN(2) == 0); err != nil && !errors.Is(err, godot.ErrBusy) {
					h.fail("%v: SetUseThreads during a request: %v", q, err)
				}
			case "busydo":
				if c, err := n.Do(context.Background(), ns.url(q), nil, httpclient.MethodGet, nil); !errors.Is(err, godot.ErrBusy) {
					h.fail("%v: Do while busy returned %v, %v, want ERR_BUSY", q, c.Result, err)
				}
			}
		}
		n.Process()
		if q.cbReturned.Load() && ns.cur == q {
			ns.cur = nil
			ns.afterCancel = q
			if q.driver == "threads" {
				ns.orph = true
			}
			ns.checkFile(q, false)
			for range 3 {
				n.Process()
				time.Sleep(100 * time.Microsecond)
			}
			continue
		}
		if ns.r.IntN(4) != 0 {
			time.Sleep(time.Duration(ns.r.IntN(300)) * time.Microsecond)
		}
		if time.Since(start) > 15*time.Second {
			h.fail("%v: HANG: no completion after 15 s of frames (status %v)\n%s", q, n.HTTPClientStatus(), ncStacks())
			n.CancelRequest()
			ns.cur = nil
		}
	}
}

// stint is one owner's turn with a node: settle what the last owner left,
// then a few requests.
func (ns *ncNode) stint(r *rand.Rand, count int) {
	ns.r = r
	ns.owner.Store(goroutineID(make([]byte, 64)))
	ns.drive()
	ns.left = count
	for ns.left > 0 {
		ns.left--
		if r.IntN(8) == 0 {
			ns.h.count("close between requests")
			ns.kept = 0
			ns.n.Close()
			ns.orph = false
			ns.checkTemp(fmt.Sprintf("node %d after Close", ns.idx))
		}
		q := ns.gen()
		ns.begin(q)
		if ns.cur != nil && ns.cur.handoff {
			ns.h.count("handoff mid-request")
			return
		}
		ns.drive()
	}
}

func ncStacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// ncRunOne runs one seed.
func ncRunOne(t *testing.T, seed uint64, dead int) *ncRun {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	h := &ncRun{seed: seed, tally: map[string]int{}, deliveries: map[int64][]ncDelivery{}, multi: map[int64]bool{}, notes: map[int64][]string{}}
	h.servers[0], h.servers[1] = h.listen(), h.listen()
	h.servers[0].other.Store(int64(h.servers[1].port))
	h.servers[1].other.Store(int64(h.servers[0].port))
	h.dead = dead
	// Why a kept connection was not reused, for the candidate check.
	onReuseDeclined = func(n *HTTPRequest, rr *run) {
		id, _, _ := strings.Cut(strings.TrimPrefix(rr.cur.Path, "/nc/"), "/")
		c := n.client
		h.note(ncAtoi64(id), "reuse declined: client %v (last error %v), reusable %v, kept %v:%d, same origin %v, same TLS %v",
			c.Status(), c.LastError(), c.Reusable(), n.keepTarget.Host, n.keepTarget.Port, n.keepTarget.sameOrigin(rr.cur), n.keepTLS == rr.tls)
	}
	defer func() { onReuseDeclined = nil }()
	workers := 2 + r.IntN(3)
	nodes := workers + r.IntN(3)
	stints := 3 + r.IntN(4)
	base := t.TempDir()
	pool := make(chan *ncNode, nodes)
	for i := range nodes {
		ns := &ncNode{h: h, idx: i, n: New(), dir: filepath.Join(base, strconv.Itoa(i))}
		_ = os.Mkdir(ns.dir, 0o755)
		ns.file = filepath.Join(ns.dir, "dl.bin")
		ns.n.OnRequestCompleted(ns.onComplete)
		ns.n.OnProgress(func(w, d int64) {
			ns.onOwner("the progress callback")
			if c := ns.afterCancel; c != nil {
				h.fail("%v: progress (%d, %d) after its cancel and before the next request (CancelRequest: nothing of it happens after the cancel)", c, w, d)
			}
			ns.prog = [2]int64{w, d}
			q := ns.cur
			if ns.doing != nil {
				q = ns.doing
			}
			if q != nil && (w > int64(len(q.spec.wire(q.id))) || d > int64(len(q.expectBody()))) {
				h.fail("%v: progress (%d, %d) past the body (%d wire, %d decoded bytes)", q, w, d, len(q.spec.wire(q.id)), len(q.expectBody()))
			}
			if q := ns.cur; q != nil && q.event == "pprocess" && d >= int64(q.at) {
				ns.n.Process() // returns at once (inStep)
			}
			if q := ns.cur; q != nil && (q.event == "pcancel" || q.event == "pclose") && d >= int64(q.at) && !q.canceled {
				h.count("progress cancel")
				ns.cancel(q)
			}
		})
		ns.n.onPhase = func(from, to phase) {
			if !legalPhase(from, to) {
				h.fail("node %d: illegal run phase change %v → %v", i, from, to)
			}
		}
		h.nodes = append(h.nodes, ns)
		pool <- ns
	}
	config := fmt.Sprintf("seed=%d workers=%d nodes=%d stints=%d", seed, workers, nodes, stints)

	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(2)
	go func() { // the getters, from any goroutine
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, ns := range h.nodes {
				if ns.n.BodySize() < -1 || ns.n.DownloadedBytes() < 0 || ns.n.UploadedBytes() < 0 {
					h.fail("node %d: a getter out of range", ns.idx)
				}
				_ = ns.n.HTTPClientStatus()
				_ = ns.n.UploadSize()
			}
			time.Sleep(50 * time.Microsecond)
		}
	}()
	go func() { // GC pressure
		defer bg.Done()
		var sink [][]byte
		for {
			select {
			case <-stop:
				return
			case <-time.After(3 * time.Millisecond):
				sink = append(sink, make([]byte, 64<<10))
				if len(sink) > 16 {
					sink = nil
				}
				runtime.GC()
			}
		}
	}()

	var wg sync.WaitGroup
	for w := range workers {
		wr := rand.New(rand.NewPCG(seed, uint64(w)+1))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range stints {
				ns := <-pool
				func() {
					defer func() {
						if p := recover(); p != nil {
							h.fail("PANIC on node %d: %v\n%s", ns.idx, p, ncStacks())
							ns.cur = nil
						}
					}()
					ns.stint(wr, 1+wr.IntN(4))
				}()
				pool <- ns
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: HANG: the workers have not finished in 60 s\n%s", config, ncStacks())
	}
	// Settle what was handed over running, then Close every node.
	fr := rand.New(rand.NewPCG(seed, 0))
	for _, ns := range h.nodes {
		func() {
			defer func() {
				if p := recover(); p != nil {
					h.fail("PANIC on node %d: %v\n%s", ns.idx, p, ncStacks())
				}
			}()
			ns.r = fr
			ns.owner.Store(goroutineID(make([]byte, 64)))
			ns.drive()
			ns.n.Close()
			for _, f := range ns.wfiles {
				_ = f.Close()
			}
			ns.checkTemp(fmt.Sprintf("node %d after the final Close", ns.idx))
		}()
	}
	close(stop)
	bg.Wait()
	deadline := time.Now().Add(2 * time.Second)
	for h.servers[0].open.Load()+h.servers[1].open.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := h.servers[0].open.Load() + h.servers[1].open.Load(); n > 0 {
		h.fail("%d connections still open 2 s after every node was closed (Close, §2.12.5)", n)
	}
	h.servers[0].stop()
	h.servers[1].stop()

	// The deliveries.
	h.mu.Lock()
	for _, k := range h.kept {
		if !bytes.Equal(k.body, k.q.expectBody()) || !slices.Equal(k.headers, k.copy) {
			h.bad = append(h.bad, fmt.Sprintf("%v: its delivered body or headers changed after the completion (now %q… %q)", k.q, ncHead(k.body), k.headers))
		}
	}
	for _, q := range h.nokeep {
		if h.multi[q.id] {
			continue // DoResumable's ids are shared by its retries
		}
		for _, d := range h.deliveries[q.id] {
			if !d.fresh {
				h.bad = append(h.bad, fmt.Sprintf("%v: sent on a connection that carried an earlier request though SetKeepAlive is off (§2.1.4: a fresh connection per request) %+v", q, h.deliveries[q.id]))
				break
			}
		}
	}
	for _, q := range h.cands {
		if ds := h.deliveries[q.id]; len(ds) > 0 && ds[0].fresh {
			h.tally["candidate not reused"]++
			h.bad = append(h.bad, fmt.Sprintf("%v: sent on a new connection though the node kept one to the same server (SetKeepAlive); previous %v deliveries %+v; notes %q", q, q.prev, h.deliveries[q.prev.id], h.notes[q.id]))
		}
	}
	for id, ds := range h.deliveries {
		per := map[int][]ncDelivery{}
		for _, d := range ds {
			if !d.fresh {
				h.tally["sent on a kept connection"]++
			}
			per[d.hop] = append(per[d.hop], d)
		}
		for hop, l := range per {
			if len(l) < 2 || h.multi[id] {
				continue
			}
			h.tally["retried"]++
			if len(l) > 2 || l[0].fresh || l[0].wrote {
				h.bad = append(h.bad, fmt.Sprintf("id=%d hop %d sent %d times %+v (retryReused: once more, only after a kept connection failed before any response)", id, hop, len(l), l))
			}
		}
	}
	h.mu.Unlock()
	for i := range h.bad {
		h.bad[i] = config + ": " + h.bad[i]
	}
	return h
}

// TestNodeChaos runs the harness.
func TestNodeChaos(t *testing.T) {
	runs, first := drive.EnvInt("GDHTTP_NODECHAOS_N", 4), uint64(drive.EnvInt("GDHTTP_NODECHAOS_SEED", 1))
	verbose := os.Getenv("GDHTTP_NODECHAOS_V") != ""
	// A port that refuses, which no parallel test can take (a closed
	// listener's port can be: a request to it then reaches that test's
	// server), held for the whole test, before the descriptor count.
	dead := testserver.ClosedPort(t)
	leak := goleak.IgnoreCurrent()
	fds := drive.FDs()
	total := map[string]int{}
	failed := 0
	for i := range runs {
		h := ncRunOne(t, first+uint64(i), dead)
		for k, v := range h.tally {
			total[k] += v
		}
		for j, b := range h.bad {
			if j == 10 {
				t.Errorf("... %d breaches in all in this run", len(h.bad))
				break
			}
			t.Error(b)
		}
		if len(h.bad) > 0 {
			failed++
		}
		if verbose {
			t.Logf("seed %d: %v", h.seed, h.tally)
		}
	}
	t.Logf("%d runs (%d with breaches):%s", runs, failed, drive.Counts(total))
	goleak.VerifyNone(t, leak)
	drive.NoFDLeft(t, fds, 0)
}

// ncAtoi64 is the id in a request path, -1 for none.
func ncAtoi64(s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -1
	}
	return v
}
