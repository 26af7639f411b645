package hostile

import (
	"bytes"
	"compress/flate"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
)

// pki holds the certificates every TLS scenario uses, made once per run.
type pki struct {
	ca                                        *ts.CA
	ok, expired, notyet, wrongname, untrusted tls.Certificate
	pool                                      *x509.CertPool
}

var (
	pkiOnce sync.Once
	thePKI  *pki
)

func getPKI(t *testing.T) *pki {
	pkiOnce.Do(func() {
		ca := ts.NewCA(t)
		other := ts.NewCA(t)
		hosts := []string{"localhost", "127.0.0.1"}
		thePKI = &pki{
			ca: ca, pool: ca.Pool(),
			ok: ca.Issue(t, hosts...),
			expired: ca.IssueWith(t, func(c *x509.Certificate) {
				c.NotBefore, c.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
			}, hosts...),
			notyet: ca.IssueWith(t, func(c *x509.Certificate) {
				c.NotBefore, c.NotAfter = time.Now().Add(24*time.Hour), time.Now().Add(48*time.Hour)
			}, hosts...),
			wrongname: ca.Issue(t, "other.example"),
			untrusted: other.Issue(t, hosts...),
		}
	})
	return thePKI
}

// split is how send steps are written.
type split string

const (
	splitOne    split = "one"    // one write
	splitByte   split = "byte"   // one byte per write (the first byteSplitMax bytes)
	splitRandom split = "random" // random fixed-seed cut points
)

const byteSplitMax = 2048

// env is one run's servers.
type env struct {
	sc      *scenario
	split   split
	servers map[string]*ts.Server
	proxies map[string]*ts.Proxy
	refs    map[string]string
	seed    uint64
	closed  map[string]int // name → a port nothing listens on
}

func (e *env) addr(name string) (string, int) {
	if s, ok := e.servers[name]; ok {
		return s.Host(), s.Port()
	}
	if p, ok := e.proxies[name]; ok {
		return p.Host(), p.Port()
	}
	return "127.0.0.1", e.closed[name]
}

// startServers starts every server of sc for one run.
func startServers(t *testing.T, sc *scenario, sp split) *env {
	t.Helper()
	h := fnv.New64a()
	h.Write([]byte(sc.group + "/" + sc.name))
	e := &env{sc: sc, split: sp, servers: map[string]*ts.Server{}, proxies: map[string]*ts.Proxy{},
		refs: map[string]string{}, seed: h.Sum64(), closed: map[string]int{}}
	p := (*pki)(nil)
	for _, name := range sc.order {
		kind := sc.servers[name]
		handler := e.handler(name)
		opts := []ts.Option{ts.WithIOTimeout(5 * time.Second)}
		switch {
		case kind == "plain" || kind == "raw":
			e.servers[name] = ts.New(t, handler, opts...)
		case strings.HasPrefix(kind, "tls=") || strings.HasPrefix(kind, "rawtls="):
			if p == nil {
				p = getPKI(t)
			}
			var cert tls.Certificate
			switch strings.SplitN(kind, "=", 2)[1] {
			case "ok":
				cert = p.ok
			case "expired":
				cert = p.expired
			case "notyet":
				cert = p.notyet
			case "wrongname":
				cert = p.wrongname
			case "untrusted":
				cert = p.untrusted
			default:
				t.Fatalf("unknown tls kind %q", kind)
			}
			e.servers[name] = ts.NewTLS(t, cert, handler, opts...)
		case kind == "connectproxy":
			e.proxies[name] = ts.NewConnectProxy(t)
		case kind == "forwardproxy":
			e.proxies[name] = ts.NewForwardProxy(t)
		case kind == "closed":
			e.closed[name] = ts.ClosedPort(t)
		default:
			t.Fatalf("unknown server kind %q", kind)
		}
		host, port := e.addr(name)
		e.refs[name] = net.JoinHostPort(host, strconv.Itoa(port))
		e.refs[name+".port"] = strconv.Itoa(port)
		e.refs[name+".host"] = host
	}
	return e
}

// handler routes each request on a connection to the script for its path.
func (e *env) handler(name string) func(c *ts.Conn) {
	raw := strings.HasPrefix(e.sc.servers[name], "raw")
	return func(c *ts.Conn) {
		paths := e.sc.scripts[name]
		var script string
		if raw {
			script = paths["*"]
		} else {
			req, err := c.ReadRequest()
			if err != nil {
				return
			}
			script = pick(paths, req)
		}
		steps, _ := parseSteps(script)
		rng := rand.New(rand.NewPCG(e.seed, uint64(c.Index())))
		for _, st := range steps {
			if err := e.play(c, st, rng); err != nil {
				return
			}
		}
		// default ending: keep the connection open until the client closes it
		_ = c.Hold()
	}
}

// pick returns the script for the request's path ("*" otherwise).
func pick(paths map[string]string, req []byte) string {
	line, _, _ := bytes.Cut(req, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) >= 2 {
		target := f[1]
		if i := strings.Index(target, "://"); i >= 0 {
			rest := target[i+3:]
			if j := strings.IndexByte(rest, '/'); j >= 0 {
				target = rest[j:]
			} else {
				target = "/"
			}
		}
		if s, ok := paths[target]; ok {
			return s
		}
		if q, _, ok := strings.Cut(target, "?"); ok {
			if s, ok := paths[q]; ok {
				return s
			}
		}
	}
	return paths["*"]
}

var errStop = errors.New("hostile: script ended the connection")

func (e *env) play(c *ts.Conn, st step, rng *rand.Rand) error {
	switch st.op {
	case "recv":
		_, err := c.ReadRequest()
		return err
	case "recvsome":
		_, err := c.ReadSome()
		return err
	case "send":
		b, err := evalExpr(st.expr, e.refs)
		if err != nil {
			return err
		}
		return e.write(c, b, rng)
	case "records": // one TLS record per n bytes (on a plain server, one write)
		b, err := evalExpr(st.expr, e.refs)
		if err != nil {
			return err
		}
		return c.WriteRecords(b, st.n)
	case "trickle":
		b, err := evalExpr(st.expr, e.refs)
		if err != nil {
			return err
		}
		return c.WriteTrickle(b, st.d)
	case "drip": // EXPR every d, forever
		b, err := evalExpr(st.expr, e.refs)
		if err != nil {
			return err
		}
		for {
			if err := c.Write(b); err != nil {
				return err
			}
			if err := c.Sleep(st.d); err != nil {
				return err
			}
		}
	case "sleep":
		return c.Sleep(st.d)
	case "closeafter":
		if err := c.Sleep(st.d); err != nil {
			return err
		}
		_ = c.Close()
		return errStop
	case "close":
		_ = c.Close()
		return errStop
	case "closetcp":
		_ = c.CloseTCP()
		return errStop
	case "halfclose":
		if err := c.CloseWrite(); err != nil {
			return err
		}
		return nil
	case "reset":
		_ = c.Reset()
		return errStop
	case "hang":
		_ = c.Hold()
		return errStop
	case "endless":
		b, err := evalExpr(st.expr, e.refs)
		if err != nil {
			return err
		}
		blk := bytes.Repeat(b, max(1, 16384/max(1, len(b))))
		for {
			if err := c.Write(blk); err != nil {
				return err
			}
		}
	case "bomb":
		return writeBomb(c, st.expr)
	}
	return errors.New("unknown step " + st.op)
}

// write sends b as the run's split mode says.
func (e *env) write(c *ts.Conn, b []byte, rng *rand.Rand) error {
	switch e.split {
	case splitByte:
		n := min(len(b), byteSplitMax)
		cuts := make([]int, 0, n)
		for i := 1; i < n; i++ {
			cuts = append(cuts, i)
		}
		if n < len(b) && n > 0 {
			cuts = append(cuts, n)
		}
		return c.WriteSplit(b, cuts, 0)
	case splitRandom:
		if len(b) < 2 {
			return c.Write(b)
		}
		k := min(8, len(b)-1)
		set := map[int]bool{}
		for len(set) < k {
			set[1+rng.IntN(len(b)-1)] = true
		}
		cuts := make([]int, 0, k)
		for i := range set {
			cuts = append(cuts, i)
		}
		sortInts(cuts)
		return c.WriteSplit(b, cuts, 200*time.Microsecond)
	}
	return c.Write(b)
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

var (
	bombOnce  sync.Once
	bombBlock []byte // raw deflate of 1 MiB of zeros, sync-flushed, non-final: repeatable
)

// writeBomb writes an endless compressed stream of zeros ("gzip" or
// "deflate" = zlib framing), generated lazily from one repeated block: never
// held in memory beyond one block, never ending until the client goes.
func writeBomb(c *ts.Conn, kind string) error {
	bombOnce.Do(func() {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, flate.BestCompression)
		_, _ = w.Write(make([]byte, 1<<20))
		_ = w.Flush()
		bombBlock = buf.Bytes()
	})
	var head []byte
	switch strings.TrimSpace(kind) {
	case "gzip":
		head = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}
	default:
		head = []byte{0x78, 0x9c}
	}
	if err := c.Write(head); err != nil {
		return err
	}
	for {
		if err := c.Write(bombBlock); err != nil {
			return err
		}
	}
}
