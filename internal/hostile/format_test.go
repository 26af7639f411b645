package hostile

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scenario is one entry of the corpus.
type scenario struct {
	group, name, file string
	line              int

	rule    string
	servers map[string]string            // name → kind ("plain", "tls=ok", …)
	scripts map[string]map[string]string // server → path → steps
	order   []string                     // server names in declaration order (main first)

	url, method string
	reqHdr      []string
	reqBody     string
	opts        map[string]string
	proxy       [2]string // kind ("http"/"https"), server name

	want      outcome
	wantFile  *string
	strict    *outcome
	alts      []outcome
	client    string
	race      string
	pending   string
	strictPnd string
	heap      int64
	sni       string
	counters  *[2]int64 // get_body_size(), get_downloaded_bytes() after the completion
	splits    []string
	drivers   []string
}

// outcome is the four values of request_completed (expressions kept as source
// until the servers' addresses are known).
type outcome struct {
	result  int
	code    int
	headers []string
	body    string // expression
	hasBody bool
}

var resultNames = map[string]int{
	"SUCCESS": 0, "CHUNKED_BODY_SIZE_MISMATCH": 1, "CANT_CONNECT": 2, "CANT_RESOLVE": 3,
	"CONNECTION_ERROR": 4, "TLS_HANDSHAKE_ERROR": 5, "NO_RESPONSE": 6, "BODY_SIZE_LIMIT_EXCEEDED": 7,
	"BODY_DECOMPRESS_FAILED": 8, "REQUEST_FAILED": 9, "DOWNLOAD_FILE_CANT_OPEN": 10,
	"DOWNLOAD_FILE_WRITE_ERROR": 11, "REDIRECT_LIMIT_REACHED": 12, "TIMEOUT": 13,
}

func parseOutcome(v string) (outcome, error) {
	f := strings.Fields(v)
	if len(f) != 2 {
		return outcome{}, fmt.Errorf("want RESULT CODE, got %q", v)
	}
	r, ok := resultNames[strings.TrimPrefix(f[0], "RESULT_")]
	if !ok {
		n, err := strconv.Atoi(f[0])
		if err != nil {
			return outcome{}, fmt.Errorf("unknown result %q", f[0])
		}
		r = n
	}
	c, err := strconv.Atoi(f[1])
	if err != nil {
		return outcome{}, fmt.Errorf("bad code %q", f[1])
	}
	return outcome{result: r, code: c}, nil
}

// loadCorpus reads every testdata/hostile/*.hostile file.
func loadCorpus(t testing.TB) map[string][]*scenario {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "hostile", "*.hostile"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := map[string][]*scenario{}
	for _, f := range files {
		group := strings.TrimSuffix(filepath.Base(f), ".hostile")
		scs, err := parseFile(f, group)
		require.NoError(t, err)
		out[group] = scs
	}
	return out
}

func parseFile(path, group string) ([]*scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*scenario
	var cur *scenario
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if name, ok := strings.CutPrefix(line, "=== "); ok {
			name = strings.TrimSpace(name)
			if seen[name] {
				return nil, fmt.Errorf("%s:%d: duplicate scenario %q", path, n, name)
			}
			seen[name] = true
			cur = &scenario{
				group: group, name: name, file: path, line: n,
				servers: map[string]string{"main": "plain"}, scripts: map[string]map[string]string{},
				order: []string{"main"}, method: "GET", opts: map[string]string{},
			}
			out = append(out, cur)
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("%s:%d: line outside a scenario", path, n)
		}
		if err := cur.set(line); err != nil {
			return nil, fmt.Errorf("%s:%d (%s): %w", path, n, cur.name, err)
		}
	}
	for _, s := range out {
		if err := s.finish(); err != nil {
			return nil, fmt.Errorf("%s:%d (%s): %w", path, s.line, s.name, err)
		}
	}
	return out, sc.Err()
}

// pending sugar for send:/end:
const sugarSend, sugarEnd = "\x00send", "\x00end"

func (s *scenario) set(line string) error {
	key, val, ok := strings.Cut(line, ":")
	if !ok {
		return fmt.Errorf("no colon in %q", line)
	}
	key, val = strings.TrimSpace(key), strings.TrimSpace(val)
	f := strings.Fields(key)
	switch {
	case len(f) == 2 && f[0] == "srv":
		if _, ok := s.servers[f[1]]; !ok { // main is there from the start
			s.order = append(s.order, f[1])
		}
		s.servers[f[1]] = val
	case len(f) == 3 && f[0] == "on":
		if s.scripts[f[1]] == nil {
			s.scripts[f[1]] = map[string]string{}
		}
		s.scripts[f[1]][f[2]] = val
	case key == "send":
		s.addSugar(sugarSend, val)
	case key == "end":
		s.addSugar(sugarEnd, val)
	case key == "rule":
		s.rule = val
	case key == "url":
		s.url = val
	case key == "method":
		s.method = val
	case key == "reqhdr":
		s.reqHdr = append(s.reqHdr, val)
	case key == "reqbody":
		s.reqBody = val
	case key == "opt":
		for _, kv := range strings.Fields(val) {
			k, v, _ := strings.Cut(kv, "=")
			s.opts[k] = v
		}
	case key == "proxy":
		p := strings.Fields(val)
		if len(p) != 2 {
			return fmt.Errorf("proxy: KIND NAME")
		}
		s.proxy = [2]string{p[0], p[1]}
	case key == "want":
		o, err := parseOutcome(val)
		if err != nil {
			return err
		}
		s.want.result, s.want.code = o.result, o.code
	case key == "hdr":
		s.want.headers = append(s.want.headers, val)
	case key == "hdrs": // the whole header list as one expression, lines split on \n
		b, err := evalExpr(val, nil)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			s.want.headers = append(s.want.headers, strconv.Quote(l))
		}
	case key == "sni":
		s.sni = val
	case key == "counters":
		f := strings.Fields(val)
		if len(f) != 2 {
			return fmt.Errorf("counters: BODY_SIZE DOWNLOADED")
		}
		a, err1 := strconv.ParseInt(f[0], 10, 64)
		b, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("counters: bad numbers %q", val)
		}
		s.counters = &[2]int64{a, b}
	case key == "body":
		s.want.body, s.want.hasBody = val, true
	case key == "file":
		s.wantFile = &val
	case key == "strict":
		o, err := parseOutcome(val)
		if err != nil {
			return err
		}
		s.strict = &o
	case key == "strict-hdr":
		if s.strict == nil {
			return fmt.Errorf("strict-hdr before strict")
		}
		s.strict.headers = append(s.strict.headers, val)
	case key == "strict-body":
		if s.strict == nil {
			return fmt.Errorf("strict-body before strict")
		}
		s.strict.body, s.strict.hasBody = val, true
	case key == "alt":
		o, err := parseOutcome(val)
		if err != nil {
			return err
		}
		s.alts = append(s.alts, o)
	case key == "alt-hdr":
		if len(s.alts) == 0 {
			return fmt.Errorf("alt-hdr before alt")
		}
		a := &s.alts[len(s.alts)-1]
		a.headers = append(a.headers, val)
	case key == "client":
		s.client = val
	case key == "race":
		s.race = val
	case key == "pending":
		s.pending = val
	case key == "strict-pending":
		s.strictPnd = val
	case key == "heap":
		n, err := parseSize(val)
		if err != nil {
			return err
		}
		s.heap = n
	case key == "splits":
		s.splits = strings.Split(val, ",")
	case key == "drivers":
		s.drivers = strings.Split(val, ",")
	default:
		return fmt.Errorf("unknown key %q", key)
	}
	return nil
}

func (s *scenario) addSugar(k, v string) {
	if s.scripts["main"] == nil {
		s.scripts["main"] = map[string]string{}
	}
	if old, ok := s.scripts["main"][k]; ok {
		v = old + " " + v
	}
	s.scripts["main"][k] = v
}

func (s *scenario) finish() error {
	if m := s.scripts["main"]; m != nil {
		if send, ok := m[sugarSend]; ok {
			steps := "send " + send
			if end, ok := m[sugarEnd]; ok {
				steps += "; " + end
			}
			delete(m, sugarSend)
			delete(m, sugarEnd)
			m["*"] = steps
		} else if _, ok := m[sugarEnd]; ok {
			return fmt.Errorf("end: without send:")
		}
	}
	if s.strict != nil && carriesResponse(s.strict.result) {
		if s.strict.headers == nil {
			s.strict.headers = s.want.headers
		}
		if !s.strict.hasBody {
			s.strict.body, s.strict.hasBody = s.want.body, s.want.hasBody
		}
	}
	for _, d := range s.drivers {
		if !contains(allDrivers, d) {
			return fmt.Errorf("drivers: unknown driver %q (a typo plays nothing)", d)
		}
	}
	for _, sp := range s.splits {
		if split(sp) != splitOne && split(sp) != splitByte && split(sp) != splitRandom {
			return fmt.Errorf("splits: unknown split %q (it would be played as one write)", sp)
		}
	}
	if s.client != "" && s.client != "skip" {
		return fmt.Errorf("client: %q: only skip is read", s.client)
	}
	// check every expression parses
	exprs := []string{s.want.body, s.reqBody}
	for _, h := range append(s.reqHdr, s.want.headers...) {
		if strings.HasPrefix(h, `"`) {
			exprs = append(exprs, h)
		}
	}
	for _, e := range exprs {
		if _, err := evalExpr(e, nil); err != nil {
			return err
		}
	}
	for srv, paths := range s.scripts {
		if _, ok := s.servers[srv]; !ok {
			return fmt.Errorf("script for unknown server %q", srv)
		}
		for _, steps := range paths {
			if _, err := parseSteps(steps); err != nil {
				return err
			}
		}
	}
	return nil
}

func parseSize(v string) (int64, error) {
	mult := int64(1)
	for suf, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(v, suf) {
			v, mult = strings.TrimSuffix(v, suf), m
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n * mult, err
}

// ---- expressions ----

// tokenize splits an expression into quoted strings (kept quoted), {refs}
// and bare words.
func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == '"':
			j := i + 1
			for ; j < len(s); j++ {
				if s[j] == '\\' {
					j++
					continue
				}
				if s[j] == '"' {
					break
				}
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string in %q", s)
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '"' && s[j] != '(' && s[j] != ')' {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

// evalExpr evaluates an expression; refs maps {name} to its text (nil: refs
// are left as they are, for syntax checks).
func evalExpr(s string, refs map[string]string) ([]byte, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	var out []byte
	for len(toks) > 0 {
		var b []byte
		b, toks, err = evalOne(toks, refs)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		out = append(out, b...)
	}
	return out, nil
}

func substitute(b string, refs map[string]string) string {
	if refs == nil || !strings.Contains(b, "{") {
		return b
	}
	keys := make([]string, 0, len(refs))
	for k := range refs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	for _, k := range keys {
		b = strings.ReplaceAll(b, "{"+k+"}", refs[k])
	}
	return b
}

func evalOne(toks []string, refs map[string]string) ([]byte, []string, error) {
	t, rest := toks[0], toks[1:]
	if strings.HasPrefix(t, "\"") {
		u, err := strconv.Unquote(t)
		if err != nil {
			return nil, nil, fmt.Errorf("bad string %s: %w", t, err)
		}
		return []byte(substitute(u, refs)), rest, nil
	}
	num := func() (int, error) {
		if len(rest) == 0 {
			return 0, fmt.Errorf("%s needs a number", t)
		}
		n, err := strconv.Atoi(rest[0])
		rest = rest[1:]
		return n, err
	}
	arg := func() ([]byte, error) {
		if len(rest) == 0 {
			return nil, fmt.Errorf("%s needs an argument", t)
		}
		var b []byte
		var err error
		b, rest, err = evalOne(rest, refs)
		return b, err
	}
	switch t {
	case "rep":
		n, err := num()
		if err != nil {
			return nil, nil, err
		}
		b, err := arg()
		return bytes.Repeat(b, n), rest, err
	case "cut":
		n, err := num()
		if err != nil {
			return nil, nil, err
		}
		b, err := arg()
		if n > len(b) {
			n = len(b)
		}
		return b[:len(b)-n], rest, err
	case "flip":
		if len(rest) == 0 {
			return nil, nil, fmt.Errorf("flip needs an index")
		}
		i, err := strconv.Atoi(rest[0])
		rest = rest[1:]
		if err != nil {
			return nil, nil, err
		}
		b, err := arg()
		if err != nil {
			return nil, nil, err
		}
		b = bytes.Clone(b)
		if i < 0 {
			i += len(b)
		}
		if i >= 0 && i < len(b) {
			b[i] ^= 0xff
		}
		return b, rest, nil
	case "chunk":
		b, err := arg()
		return append(append([]byte(strconv.FormatInt(int64(len(b)), 16)+"\r\n"), b...), "\r\n"...), rest, err
	case "len":
		b, err := arg()
		return []byte(strconv.Itoa(len(b))), rest, err
	case "gzip", "zlib", "flate", "br", "zlibflush":
		b, err := arg()
		if err != nil {
			return nil, nil, err
		}
		if t == "zlibflush" {
			return zlibFlushed(b), rest, nil
		}
		return compress(t, b), rest, nil
	case "gzipname", "gzipcomment", "gzipextra", "zlibstored", "brempty":
		n, err := num()
		if err != nil {
			return nil, nil, err
		}
		b, err := arg()
		if err != nil {
			return nil, nil, err
		}
		switch t {
		case "zlibstored":
			return zlibStored(n, b), rest, nil
		case "brempty":
			return brotliEmpty(n, b), rest, nil
		}
		return gzipWithField(t, n, b), rest, nil
	}
	if t == "(" {
		var out []byte
		for len(rest) > 0 && rest[0] != ")" {
			var b []byte
			var err error
			b, rest, err = evalOne(rest, refs)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, b...)
		}
		if len(rest) == 0 {
			return nil, nil, fmt.Errorf("missing )")
		}
		return out, rest[1:], nil
	}
	if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
		return []byte(substitute(t, refs)), rest, nil
	}
	return nil, nil, fmt.Errorf("unknown word %q", t)
}

func compress(kind string, b []byte) []byte {
	var buf bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	switch kind {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "zlib":
		w = zlib.NewWriter(&buf)
	case "flate":
		w, _ = flate.NewWriter(&buf, flate.DefaultCompression)
	case "br":
		w = brotli.NewWriter(&buf)
	}
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// zlibFlushed is a zlib stream of b with a sync flush after every byte:
// each byte in its own deflate block, each followed by an empty stored
// block (00 00 FF FF).
func zlibFlushed(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := zlib.NewWriterLevel(&buf, zlib.BestSpeed)
	for i := range b {
		_, _ = w.Write(b[i : i+1])
		_ = w.Flush()
	}
	_ = w.Close()
	return buf.Bytes()
}

// zlibStored is a zlib stream of b written by hand: each byte in a stored
// block of its own, after n empty stored blocks, then an empty final block
// and the Adler-32 (RFC 1950, RFC 1951 §3.2.4).
func zlibStored(n int, b []byte) []byte {
	out := []byte{0x78, 0x01}
	for _, c := range b {
		for range n {
			out = append(out, 0, 0, 0, 0xff, 0xff)
		}
		out = append(out, 0, 1, 0, 0xfe, 0xff, c)
	}
	out = append(out, 1, 0, 0, 0xff, 0xff)
	return binary.BigEndian.AppendUint32(out, adler32.Checksum(b))
}

// brotliEmpty is a brotli stream of b written by hand (RFC 7932 §9.2):
// the window bits (16) and an empty metadata meta-block in the first byte,
// so that what follows starts on a byte boundary, then for each byte n
// empty metadata meta-blocks (0x06 each: ISLAST 0, MNIBBLES 0, reserved 0,
// MSKIPBYTES 0, padding) and an uncompressed meta-block holding the byte
// (00 00 08: ISLAST 0, MNIBBLES 4, MLEN-1 0, ISUNCOMPRESSED 1, padding),
// then an empty last meta-block (0x03).
func brotliEmpty(n int, b []byte) []byte {
	out := []byte{0x0C}
	for _, c := range b {
		for range n {
			out = append(out, 0x06)
		}
		out = append(out, 0x00, 0x00, 0x08, c)
	}
	return append(out, 0x03)
}

func gzipWithField(kind string, n int, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	field := bytes.Repeat([]byte("n"), n)
	switch kind {
	case "gzipname":
		w.Name = string(field)
	case "gzipcomment":
		w.Comment = string(field)
	case "gzipextra":
		w.Extra = field
	}
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// ---- server steps ----

type step struct {
	op   string
	d    time.Duration
	n    int // records: bytes per record
	expr string
}

func parseSteps(s string) ([]step, error) {
	var out []step
	for _, part := range splitSteps(s) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		op, rest, _ := strings.Cut(part, " ")
		rest = strings.TrimSpace(rest)
		st := step{op: op}
		switch op {
		case "recv", "close", "closetcp", "halfclose", "reset", "hang", "recvsome":
		case "send", "endless":
			st.expr = rest
			if _, err := evalExpr(rest, nil); err != nil {
				return nil, err
			}
		case "bomb":
			st.expr = rest
		case "sleep", "closeafter":
			d, err := time.ParseDuration(rest)
			if err != nil {
				return nil, err
			}
			st.d = d
		case "records":
			ns, e, _ := strings.Cut(rest, " ")
			n, err := strconv.Atoi(ns)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("records needs a size > 0, not %q", ns)
			}
			if _, err := evalExpr(e, nil); err != nil {
				return nil, err
			}
			st.n, st.expr = n, e
		case "trickle", "drip":
			ds, e, _ := strings.Cut(rest, " ")
			d, err := time.ParseDuration(ds)
			if err != nil {
				return nil, err
			}
			st.d, st.expr = d, e
		default:
			return nil, fmt.Errorf("unknown step %q", op)
		}
		out = append(out, st)
	}
	return out, nil
}

// splitSteps splits on ';' outside quoted strings.
func splitSteps(s string) []string {
	var out []string
	start, inq := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if inq {
				i++
			}
		case '"':
			inq = !inq
		case ';':
			if !inq {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func TestFormat(t *testing.T) {
	b, err := evalExpr(`"a\r\n" rep 3 "xy" chunk "hello" len rep 10 "z" cut 1 "abc" flip 0 "A"`, nil)
	require.NoError(t, err)
	assert.Equal(t, "a\r\nxyxyxy5\r\nhello\r\n10ab\xbe", string(b))
	b, err = evalExpr(`"Location: http://{b}/x {b.port}"`, map[string]string{"b": "h:1", "b.port": "1"})
	require.NoError(t, err)
	assert.Equal(t, "Location: http://h:1/x 1", string(b))
	_, err = evalExpr(`nope "x"`, nil)
	assert.Error(t, err)
	_, err = evalExpr(`"unterminated`, nil)
	assert.Error(t, err)
	st, err := parseSteps(`recv; send "a;b\";" rep 2 "c"; sleep 5ms; close`)
	require.NoError(t, err)
	require.Len(t, st, 4)
	assert.Equal(t, `"a;b\";" rep 2 "c"`, st[1].expr)
	assert.Equal(t, 5*time.Millisecond, st[2].d)
	for _, c := range []struct {
		expr string
		enc  string
		size int // the stream's length
	}{
		{`zlibflush "abc"`, "deflate", 0},
		{`zlibstored 2 "abc"`, "deflate", 2 + 3*(2*5+6) + 5 + 4},
		{`zlibstored 0 ""`, "deflate", 2 + 5 + 4},
		{`brempty 2 "abc"`, "br", 1 + 3*(2+4) + 1},
		{`brempty 0 ""`, "br", 2},
	} {
		b, err := evalExpr(c.expr, nil)
		require.NoError(t, err, c.expr)
		if c.size > 0 {
			assert.Len(t, b, c.size, c.expr)
		}
		var r io.Reader = brotli.NewReader(bytes.NewReader(b))
		if c.enc == "deflate" {
			r, err = zlib.NewReader(bytes.NewReader(b))
			require.NoError(t, err, c.expr)
		}
		got, err := io.ReadAll(r)
		require.NoError(t, err, c.expr)
		want, _ := strconv.Unquote(c.expr[strings.IndexByte(c.expr, '"'):])
		assert.Equal(t, want, string(got), c.expr)
	}
	st, err = parseSteps(`recv; records 1 "ab" rep 2 "c"`)
	require.NoError(t, err)
	require.Len(t, st, 2)
	assert.Equal(t, step{op: "records", n: 1, expr: `"ab" rep 2 "c"`}, st[1])
	_, err = parseSteps(`records 0 "ab"`)
	assert.Error(t, err)
	_, err = parseSteps("bogus")
	assert.Error(t, err)
}

// carriesResponse: the results delivered with the response's code and headers.
func carriesResponse(r int) bool {
	switch r {
	case 2, 3, 4, 5, 6, 13, resultRefused:
		return false
	}
	return true
}

// A scenario that declares main (srv main: tls=ok) has main once in its
// order: twice, it started two servers and counted as a two-server
// scenario, which the raw client and the Transport never play — so no TLS
// scenario reached them.
func TestServerOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "order.hostile")
	require.NoError(t, os.WriteFile(path, []byte("=== s\nsrv main: tls=ok\nsrv b: plain\nurl: https://{main}/\n"+
		"send: \"HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n\"\nwant: SUCCESS 200\nhdr: Content-Length: 0\n"+
		"=== one\nsrv main: tls=ok\nurl: https://{main}/\nsend: \"HTTP/1.1 204 No Content\\r\\n\\r\\n\"\nwant: SUCCESS 204\n"), 0o644))
	scs, err := parseFile(path, "order")
	require.NoError(t, err)
	require.Len(t, scs, 2)
	assert.Equal(t, []string{"main", "b"}, scs[0].order)
	assert.Equal(t, map[string]string{"main": "tls=ok", "b": "plain"}, scs[0].servers)
	assert.Equal(t, []string{"main"}, scs[1].order)
	assert.True(t, clientEligible(scs[1]), "a one-server TLS scenario is the raw client's too")
}
