// Package resumegen is a test helper: a seeded, generated HTTP/1.1 server on
// 127.0.0.1 for the download and resume harnesses (httprequest's
// resumegen_test.go, cmd/gdfetch's), and the checks of what a download may
// leave in download_file.
//
// The server serves one resource whose versions it records. Before a
// request it may change the resource (new bytes with a new ETag or
// Last-Modified, or new bytes under the same validator: a lying server).
// Each response is drawn from the seed: Range honoured or ignored, capped
// ranges, 416 with or without Content-Range, wrong Content-Range (start,
// end, total, "*"), If-Range ignored, weak and strong ETags, gzip on a 206,
// chunked or read-until-close framing, a redirect first, and a connection
// cut (FIN), reset (RST) or stalled (until the client closes it) at a random
// byte of the response.
//
// It imports no package of the module: the checks read the state file
// (FILE.gdhttp-resume) as plain JSON.
package resumegen

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// StateSuffix is httprequest.ResumeSuffix (not imported: see the package doc).
const StateSuffix = ".gdhttp-resume"

// Version is one version of the resource.
type Version struct {
	ID           int
	Body         []byte
	ETag         string // as sent; "" none; W/"…" weak
	LastModified string // "" none
}

// Key is the validator a client keeps for v (a strong ETag, else
// Last-Modified, as DoResumable's state does), or a key of its own when v
// has neither: versions with the same Key cannot be told apart by a client.
func (v *Version) Key() string {
	if strings.HasPrefix(v.ETag, `"`) {
		return v.ETag
	}
	if v.LastModified != "" {
		return v.LastModified
	}
	return "#" + strconv.Itoa(v.ID)
}

// Served is what the server did with one request.
type Served struct {
	Path, Range, IfRange string
	Version              int    // the version served
	Status               int    // 0: no response head was completed
	Desc                 string // the response's plan, for logs
	// StateLength is the state file's length when the request arrived
	// (−2: no state file).
	StateLength int64
	// Short: this response can end a successful download short without the
	// client being able to know it (a read-until-close 200 cut by a clean
	// FIN; a capped 206 with "bytes S-E/*" when the state knows no length).
	Short bool
	// Lie: the response lies about the range (wrong Content-Range).
	Lie bool
	// EmptyLength: a response with "Content-Length: 0".
	EmptyLength bool
}

func (s Served) String() string {
	return fmt.Sprintf("%s range=%q if-range=%q v%d -> %d %s", s.Path, s.Range, s.IfRange, s.Version, s.Status, s.Desc)
}

// Options tune the generator; zero values are the defaults.
type Options struct {
	MaxSize int // the largest version (default 6000 bytes)
	// NoChange: the resource never changes.
	NoChange bool
	// NoLies: no lying version (same validator, other bytes), no wrong
	// Content-Range, If-Range always honoured.
	NoLies bool
	// NoStall: the server never stalls.
	NoStall bool
}

// Server is the generated server.
type Server struct {
	File string // download_file, whose state file the server reads per request
	opt  Options

	mu       sync.Mutex
	rng      *rand.Rand
	versions []*Version
	cur      int
	log      []Served
	conns    map[net.Conn]struct{}
	lmClock  time.Time

	ln net.Listener
	wg sync.WaitGroup
}

// New starts a server for file on 127.0.0.1 with the seed.
func New(seed uint64, file string, opt Options) (*Server, error) {
	if opt.MaxSize == 0 {
		opt.MaxSize = 6000
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{File: file, opt: opt, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		conns: map[net.Conn]struct{}{}, ln: ln, lmClock: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	s.newVersion("new")
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// URL is the resource's URL.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/f" }

// Close stops the server and waits for its goroutines.
func (s *Server) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Mark is the log's length: Since(Mark()) is what a call about to start
// will be served.
func (s *Server) Mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.log)
}

// Since returns the log from i.
func (s *Server) Since(i int) []Served {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Served(nil), s.log[i:]...)
}

// Versions returns the versions so far.
func (s *Server) Versions() []*Version {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Version(nil), s.versions...)
}

// Current returns the current version.
func (s *Server) Current() *Version {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.versions[s.cur]
}

// Bump changes the resource now (kind "new", "lie" or "" for a random one).
func (s *Server) Bump(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.newVersion(kind)
}

// newVersion adds a version and makes it current (s.mu held, or at start).
// kind "new": new bytes and new validators; "lie": new bytes, the same
// validators (a length kept or not).
func (s *Server) newVersion(kind string) {
	r := s.rng
	v := &Version{ID: len(s.versions)}
	size := 1 + r.IntN(s.opt.MaxSize)
	if r.IntN(10) == 0 {
		size = 1 + r.IntN(40)
	}
	if r.IntN(40) == 0 {
		size = 0 // an empty resource
	}
	if len(s.versions) > 0 && r.IntN(3) == 0 {
		size = len(s.versions[s.cur].Body) // an edit that keeps the size
	}
	if kind == "lie" && len(s.versions) > 0 {
		old := s.versions[s.cur]
		v.ETag, v.LastModified = old.ETag, old.LastModified
	} else {
		s.lmClock = s.lmClock.Add(time.Duration(1+r.IntN(3600)) * time.Second)
		lm := s.lmClock.Format(http1Date)
		tag := `"v` + strconv.Itoa(v.ID) + "-" + strconv.FormatUint(r.Uint64()%1e6, 36) + `"`
		switch r.IntN(8) {
		case 0, 1, 6, 7:
			v.ETag, v.LastModified = tag, lm
		case 2:
			v.ETag = tag
		case 3:
			v.LastModified = lm
		case 4:
			v.ETag, v.LastModified = "W/"+tag, lm
		case 5:
			v.ETag = "W/" + tag
		}
	}
	v.Body = make([]byte, size)
	for i := range v.Body {
		v.Body[i] = byte(r.Uint32())
	}
	s.versions = append(s.versions, v)
	s.cur = len(s.versions) - 1
}

const http1Date = "Mon, 02 Jan 2006 15:04:05 GMT"

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.handle(c)
		}()
	}
}

// request is the part of a request the server looks at.
type request struct{ path, rng, ifRange string }

func readRequest(br *bufio.Reader) (request, error) {
	var q request
	line, err := br.ReadString('\n')
	if err != nil {
		return q, err
	}
	if f := strings.Fields(line); len(f) >= 2 {
		q.path = f[1]
	}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return q, err
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			return q, nil
		}
		name, val, _ := strings.Cut(l, ":")
		switch strings.ToLower(name) {
		case "range":
			q.rng = strings.TrimSpace(val)
		case "if-range":
			q.ifRange = strings.TrimSpace(val)
		}
	}
}

// fault is what happens to the connection while the response is written.
type fault int

const (
	faultNone  fault = iota
	faultCut         // FIN after `at` bytes
	faultReset       // RST after `at` bytes
	faultStall       // `at` bytes, then nothing until the client closes
)

// framing of a body.
type framing int

const (
	frameLength framing = iota
	frameChunked
	frameClose // read until close
)

func (s *Server) stateLength() int64 {
	b, err := os.ReadFile(s.File + StateSuffix)
	if err != nil {
		return -2
	}
	var st struct {
		Length int64 `json:"length"`
	}
	if json.Unmarshal(b, &st) != nil {
		return -2
	}
	return st.Length
}

func (s *Server) handle(c net.Conn) {
	br := bufio.NewReader(c)
	q, err := readRequest(br)
	if err != nil {
		return
	}
	stLen := s.stateLength()
	s.mu.Lock()
	r := s.rng
	// The resource may change between requests.
	changeP := 10
	if q.rng != "" {
		changeP = 25 // between a cut and its resume
	}
	if !s.opt.NoChange && r.IntN(100) < changeP {
		kind := "new"
		if !s.opt.NoLies && r.IntN(3) == 0 {
			kind = "lie"
		}
		s.newVersion(kind)
	}
	v := s.versions[s.cur]
	rec := Served{Path: q.path, Range: q.rng, IfRange: q.ifRange, Version: v.ID, StateLength: stLen}
	var head strings.Builder
	var body []byte
	fr := frameLength
	var desc []string
	status := 200
	writeBody := true

	if q.path == "/f" && r.IntN(100) < 10 {
		// A redirect first.
		status = 302
		loc := "/g"
		if r.IntN(2) == 0 {
			loc = "http://" + s.ln.Addr().String() + "/g"
		}
		fmt.Fprintf(&head, "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\nConnection: close\r\n", loc)
		writeBody = false
		desc = append(desc, "redirect")
	} else {
		start, ranged := parseRange(q.rng)
		ifOK := q.ifRange == "" || q.ifRange == v.ETag && strings.HasPrefix(v.ETag, `"`) || q.ifRange == v.LastModified && v.LastModified != ""
		if ranged && !s.opt.NoLies && r.IntN(100) < 10 {
			ifOK = true // a server that ignores If-Range
			desc = append(desc, "ignores-if-range")
		}
		L := int64(len(v.Body))
		switch {
		case !ranged || !ifOK || r.IntN(100) < 15:
			body = v.Body
			if ranged {
				desc = append(desc, "range-ignored")
			}
		case start >= L:
			status = 416
			if r.IntN(10) < 7 {
				fmt.Fprintf(&head, "Content-Range: bytes */%d\r\n", L)
			} else {
				desc = append(desc, "no-content-range")
			}
			if r.IntN(2) == 0 {
				body = []byte("<html>416</html>")
			} else {
				body = []byte{}
			}
		default:
			status = 206
			end := L - 1
			if r.IntN(4) == 0 {
				end = start + r.Int64N(L-start) // capped: start..L-1
				if end < L-1 {
					desc = append(desc, "capped")
				}
			}
			body = v.Body[start : end+1]
			cs, ce, total := strconv.FormatInt(start, 10), strconv.FormatInt(end, 10), strconv.FormatInt(L, 10)
			if !s.opt.NoLies && r.IntN(100) < 12 {
				rec.Lie = true
				d := 1 + r.Int64N(5)
				if r.IntN(2) == 0 {
					d = -d
				}
				switch r.IntN(4) {
				case 0:
					cs = strconv.FormatInt(max(0, start+d), 10)
					desc = append(desc, "wrong-start")
				case 1:
					ce = strconv.FormatInt(max(0, end+d), 10)
					desc = append(desc, "wrong-end")
				case 2:
					total = strconv.FormatInt(max(0, L+d), 10)
					desc = append(desc, "wrong-total")
				case 3:
					rec.Lie = false
					total = "*"
					desc = append(desc, "star-total")
					if end < L-1 && stLen < 0 {
						rec.Short = true
					}
				}
			}
			fmt.Fprintf(&head, "Content-Range: bytes %s-%s/%s\r\n", cs, ce, total)
		}
		if status != 416 && body != nil && !s.opt.NoLies && r.IntN(100) < 6 {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			_, _ = zw.Write(body)
			_ = zw.Close()
			body = b.Bytes()
			head.WriteString("Content-Encoding: gzip\r\n")
			desc = append(desc, "gzip")
		}
		if v.ETag != "" {
			fmt.Fprintf(&head, "ETag: %s\r\n", v.ETag)
		}
		if v.LastModified != "" {
			fmt.Fprintf(&head, "Last-Modified: %s\r\n", v.LastModified)
		}
		switch n := r.IntN(100); {
		case n < 60:
			fr = frameLength
			fmt.Fprintf(&head, "Content-Length: %d\r\n", len(body))
		case n < 85:
			fr = frameChunked
			head.WriteString("Transfer-Encoding: chunked\r\n")
			desc = append(desc, "chunked")
		default:
			fr = frameClose
			desc = append(desc, "until-close")
		}
		head.WriteString("Connection: close\r\n")
		h := head.String()
		head.Reset()
		fmt.Fprintf(&head, "HTTP/1.1 %d %s\r\n%s", status, reason(status), h)
	}
	head.WriteString("\r\n")
	wireBytes := []byte(head.String())
	headLen := len(wireBytes)
	if writeBody {
		switch fr {
		case frameChunked:
			for rest := body; len(rest) > 0; {
				n := 1 + r.IntN(min(len(rest), 3000))
				wireBytes = fmt.Appendf(wireBytes, "%x\r\n", n)
				wireBytes = append(wireBytes, rest[:n]...)
				wireBytes = append(wireBytes, "\r\n"...)
				rest = rest[n:]
			}
			wireBytes = append(wireBytes, "0\r\n\r\n"...)
		default:
			wireBytes = append(wireBytes, body...)
		}
	}
	f, at := faultNone, len(wireBytes)
	switch n := r.IntN(100); {
	case n < 20:
		f = faultCut
	case n < 26:
		f = faultReset
	case n < 27 && !s.opt.NoStall:
		f = faultStall
	}
	if f != faultNone {
		switch n := r.IntN(10); {
		case n < 2:
			at = r.IntN(headLen + 1) // in the head
		case n < 4:
			at = max(headLen, len(wireBytes)-r.IntN(8)) // at the very end: a chunked body without its last chunk
		default:
			at = headLen + r.IntN(len(wireBytes)-headLen+1)
		}
		desc = append(desc, [...]string{"", "cut", "reset", "stall"}[f]+"@"+strconv.Itoa(at)+"/"+strconv.Itoa(len(wireBytes)))
	}
	if at >= headLen {
		rec.Status = status
	}
	// A read-until-close 200 cut cleanly ends a body the client takes as
	// whole (§7 D3: a clean close ends it with success).
	if f == faultCut && fr == frameClose && status == 200 && at >= headLen && writeBody {
		rec.Short = true
	}
	// Godot opens no download_file for a body of Content-Length 0
	// (§2.9.2): a plain download leaves the old file.
	rec.EmptyLength = writeBody && fr == frameLength && len(body) == 0
	rec.Desc = strings.Join(desc, ",")
	s.log = append(s.log, rec)
	s.mu.Unlock()

	// Write in a few pieces.
	out := wireBytes[:at]
	for len(out) > 0 {
		n := min(len(out), 1+len(out)/2)
		if _, err := c.Write(out[:n]); err != nil {
			return
		}
		out = out[n:]
	}
	switch f {
	case faultReset:
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
	case faultStall:
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _ = br.ReadByte() // until the client closes (its timeout)
	case faultNone:
		// Let the client read all before the close.
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _ = br.ReadByte()
	}
}

func reason(code int) string {
	switch code {
	case 200:
		return "OK"
	case 206:
		return "Partial Content"
	case 416:
		return "Range Not Satisfiable"
	}
	return "X"
}

// parseRange parses "bytes=S-".
func parseRange(v string) (int64, bool) {
	rest, ok := strings.CutPrefix(v, "bytes=")
	if !ok || !strings.HasSuffix(rest, "-") {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(rest, "-"), 10, 64)
	return n, err == nil && n >= 0
}

// ----- checks -----

// Snapshot is download_file and its state file at one moment.
type Snapshot struct {
	File, State       []byte
	HasFile, HasState bool
	Entries           []string // the directory's names
}

// Take reads file, its state and its directory.
func Take(file string) Snapshot {
	var s Snapshot
	var err error
	if s.File, err = os.ReadFile(file); err == nil {
		s.HasFile = true
	}
	if s.State, err = os.ReadFile(file + StateSuffix); err == nil {
		s.HasState = true
	}
	es, _ := os.ReadDir(filepath.Dir(file))
	for _, e := range es {
		s.Entries = append(s.Entries, e.Name())
	}
	return s
}

// groups returns the versions by Key.
func groups(vs []*Version) map[string][]*Version {
	g := map[string][]*Version{}
	for _, v := range vs {
		g[v.Key()] = append(g[v.Key()], v)
	}
	return g
}

// consistent reports whether b could be a prefix of one version of group:
// every byte is that byte of some version of the group (with one version,
// b is a prefix of it).
func consistent(b []byte, group []*Version) bool {
	for i := range b {
		ok := false
		for _, v := range group {
			if i < len(v.Body) && v.Body[i] == b[i] {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// Prefix returns the key of a group b is consistent with ("" when none).
func (s *Server) Prefix(b []byte) string {
	for k, g := range groups(s.Versions()) {
		if consistent(b, g) {
			return k
		}
	}
	return ""
}

// whole reports whether b is consistent with group and as long as one of
// its versions.
func whole(b []byte, group []*Version) bool {
	if !consistent(b, group) {
		return false
	}
	for _, v := range group {
		if len(v.Body) == len(b) {
			return true
		}
	}
	return false
}

// CallKind says what wrote the file.
type CallKind int

const (
	// Resumable: DoResumable or gdfetch -C -.
	Resumable CallKind = iota
	// Atomic: a plain download in the default atomic mode.
	Atomic
	// InPlace: a plain download in place (SetDownloadInPlace or
	// keep_partial_download).
	InPlace
)

// Call is one call's outcome, for Check.
type Call struct {
	Kind      CallKind
	Before    Snapshot
	After     Snapshot
	Served    []Served
	Success   bool
	Explained bool // a failure came with a result and a wrapped cause
	What      string
}

// Check returns the invariants a call broke (empty: none).
func (s *Server) Check(c Call) []string {
	var bad []string
	vs := s.Versions()
	g := groups(vs)
	name := filepath.Base(s.File)
	for _, e := range c.After.Entries {
		if e != name && e != name+StateSuffix {
			bad = append(bad, "left in the directory: "+e)
		}
	}
	if !c.Success && !c.Explained {
		bad = append(bad, "a failure without a result and a wrapped cause: "+c.What)
	}
	var final *Served
	for i := len(c.Served) - 1; i >= 0; i-- {
		if c.Served[i].Status != 0 && c.Served[i].Status != 302 {
			final = &c.Served[i]
			break
		}
	}
	after := c.After
	unchanged := after.HasFile == c.Before.HasFile && bytes.Equal(after.File, c.Before.File)
	if after.HasFile && !unchanged && s.Prefix(after.File) == "" {
		bad = append(bad, fmt.Sprintf("file of %d bytes is a prefix of no single version (spliced or foreign bytes)", len(after.File)))
	}
	if c.Kind == Atomic && !c.Success && !unchanged {
		bad = append(bad, "atomic download failed but the file changed")
	}
	if c.Success {
		switch {
		case final == nil:
			if !unchanged {
				bad = append(bad, "success without a response, file changed")
			}
		case !after.HasFile:
			if !(c.Kind != Resumable && final.EmptyLength) {
				bad = append(bad, "success, no file")
			}
		default:
			v := vs[final.Version]
			grp := g[v.Key()]
			ok := whole(after.File, grp)
			if !ok && c.Kind != Resumable && final.EmptyLength && unchanged {
				ok = true // §2.9.2: no file is opened for an empty body
			}
			if !ok && final.Short && consistent(after.File, grp) {
				ok = true // the client could not know
			}
			if !ok {
				bad = append(bad, fmt.Sprintf("success but the file (%d bytes) is not version %d whole (%d bytes; consistent prefix: %v)",
					len(after.File), v.ID, len(v.Body), consistent(after.File, grp)))
			}
		}
	}
	if c.Kind == Resumable && after.HasState {
		var st struct {
			URL          string `json:"url"`
			ETag         string `json:"etag"`
			LastModified string `json:"last_modified"`
			Length       int64  `json:"length"`
		}
		if err := json.Unmarshal(after.State, &st); err != nil {
			bad = append(bad, "state file unreadable: "+err.Error())
		} else {
			key := st.ETag
			if key == "" {
				key = st.LastModified
			}
			switch {
			case c.Success:
				bad = append(bad, "state file left after a success")
			case !after.HasFile:
				bad = append(bad, "state file without a file")
			case st.Length >= 0 && int64(len(after.File)) > st.Length:
				bad = append(bad, fmt.Sprintf("state length %d < file size %d", st.Length, len(after.File)))
			case key != "" && !consistent(after.File, g[key]):
				bad = append(bad, fmt.Sprintf("state vouches for %s but the file (%d bytes) is not a prefix of it", key, len(after.File)))
			}
		}
	}
	return bad
}
