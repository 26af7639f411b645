package httpclient

import (
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/internal/drive"
	"github.com/gdhttp/gdhttp/wire"
)

// API calls made between frames, in the middle of an exchange. Godot's
// HTTPClientTCP guards only these: set_read_chunk_size refuses a size
// outside 256…2^24 (the old one stays); request() refuses an unknown method,
// a URL that fails its check and any status but CONNECTED
// (ERR_INVALID_PARAMETER); read_response_body_chunk() outside BODY returns
// nothing; set_connection() with the current connection does nothing.
// set_blocking_mode() just sets the flag. So read_chunk_size is read by the
// next fixed-length or read-until-close read (the smaller of the body left
// and the chunk size; chunked reads ignore it), blocking by the next read of
// the head or body and the next request write (§1.15.1), and the refused
// calls change nothing (§1.3, §1.7.3, §1.10, §1.13.1).

// midcall makes, before a frame of runModelCase, zero or more API calls on
// the client and the same on the model, and returns what each showed (a
// line per call, the client's and the model's). poll and read say what the
// coming frame does: blocking mode is switched on only for frames in which
// the model's blocking calls have what they wait for (a clone of the model
// runs the frame first), and switched back off before one that would wait.
func midcall(c *Client, g *godotModel, r *rand.Rand, poll, read bool) (got, want []string) {
	add := func(gs, ws string) { got, want = append(got, gs), append(want, ws) }
	code := func(err error) string {
		if err == nil {
			return "OK"
		}
		return strconv.Itoa(int(godot.CodeOf(err)))
	}
	for range 2 {
		switch r.IntN(16) {
		case 0, 1: // set_read_chunk_size, in range or not (§1.3)
			v := []int{-1, 0, 255, 256, 257, 300, 1000, 4096, 65536, 1 << 24, 1<<24 + 1}[r.IntN(11)]
			err := c.SetReadChunkSize(v)
			wantErr := "OK"
			if v < 256 || v > 1<<24 {
				wantErr = strconv.Itoa(int(ErrInvalidParameter))
			} else {
				g.readChunk = v
			}
			add(fmt.Sprintf("set_read_chunk_size(%d) → %s, get → %d", v, code(err), c.ReadChunkSize()),
				fmt.Sprintf("set_read_chunk_size(%d) → %s, get → %d", v, wantErr, g.readChunk))
		case 2: // request() outside CONNECTED (§1.7.3), or a bad URL in any status (§1.7.2)
			url := "/"
			if r.IntN(3) == 0 {
				url = "x"
			}
			if url == "/" && (c.Status() == StatusConnected || g.status == StatusConnected) {
				continue // the runner makes the requests
			}
			err := c.Request(MethodGet, url, nil, "")
			add(fmt.Sprintf("request(%q) in %v → %s", url, g.status, code(err)),
				fmt.Sprintf("request(%q) in %v → %s", url, g.status, strconv.Itoa(int(ErrInvalidParameter))))
		case 3: // get_response_headers() consumes them (§1.11.3)
			h := c.ResponseHeaders()
			var w []string
			if g.has {
				w = slices.Clone(g.headers)
			}
			g.has = false
			add(fmt.Sprintf("get_response_headers() → %q", h), fmt.Sprintf("get_response_headers() → %q", w))
		case 4: // read_response_body_chunk() outside BODY (§1.10)
			if g.status == StatusBody {
				continue
			}
			b := c.ReadResponseBodyChunk()
			add(fmt.Sprintf("read_response_body_chunk() in %v → %q, then %v", g.status, b, c.Status()),
				fmt.Sprintf("read_response_body_chunk() in %v → \"\", then %v", g.status, g.status))
		case 5: // set_connection(get_connection()): the same stream, a no-op (§1.13.1)
			conn := c.Connection()
			if conn == nil {
				continue
			}
			err := c.SetConnection(conn)
			add(fmt.Sprintf("set_connection(get_connection()) → %s, then %v", code(err), c.Status()),
				fmt.Sprintf("set_connection(get_connection()) → OK, then %v", g.status))
		case 6: // set_blocking_mode(!current)
			if !c.IsBlockingModeEnabled() {
				break // switched on below, when safe
			}
			c.SetBlockingMode(false)
			g.blocking = false
			add("set_blocking_mode(false)", "set_blocking_mode(false)")
		case 8: // get_response_headers_as_dictionary() consumes them too (§1.11.4)
			d := c.ResponseHeadersAsDictionary()
			w := map[string]string{}
			if g.has {
				w = wire.HeadersAsDictionary(g.headers)
			}
			g.has = false
			add(fmt.Sprintf("get_response_headers_as_dictionary() → %v", d), fmt.Sprintf("get_response_headers_as_dictionary() → %v", w))
		case 9: // close() in any status (§1.12); the exchange ends there
			if r.IntN(4) != 0 {
				continue
			}
			from := g.status
			c.Close()
			g.close()
			g.status = StatusDisconnected
			add(fmt.Sprintf("close() in %v → %v", from, c.Status()), fmt.Sprintf("close() in %v → %v", from, g.status))
		case 7:
			if !c.IsBlockingModeEnabled() && frameIsSafeBlocking(g, poll, read) {
				c.SetBlockingMode(true)
				g.blocking = true
				add("set_blocking_mode(true)", "set_blocking_mode(true)")
			}
		}
	}
	if c.IsBlockingModeEnabled() && !frameIsSafeBlocking(g, poll, read) {
		c.SetBlockingMode(false)
		g.blocking = false
		add("set_blocking_mode(false)", "set_blocking_mode(false)")
	}
	return got, want
}

// frameIsSafeBlocking runs the frame on a copy of the model in blocking
// mode and reports whether no call of it would wait for bytes that have
// not arrived.
func frameIsSafeBlocking(g *godotModel, poll, read bool) (safe bool) {
	m := *g
	m.q, m.head, m.chunk, m.headers = slices.Clone(g.q), slices.Clone(g.head), slices.Clone(g.chunk), slices.Clone(g.headers)
	if g.tls != nil {
		// The TLS model (runTLSModelCase with mid): its socket and held
		// record, copied; its blocking recv panics where it would wait.
		tm := *g.tls
		tm.kernel, tm.held = slices.Clone(g.tls.kernel), slices.Clone(g.tls.held)
		m.tls = &tm
	}
	m.blocking = true
	defer func() {
		if recover() != nil {
			safe = false
		}
	}()
	if poll {
		m.poll()
	}
	m.observe(read)
	return true
}

// midcallRuns is how many random exchanges each mode runs: few by default
// (they share the budget of `go test ./httpclient`), GDHTTP_MIDCALL_N more.
func midcallRuns(n int) int {
	return drive.EnvInt("GDHTTP_MIDCALL_N", n)
}

// TestMidcallModel is TestAudit5GodotModel with API calls between the
// frames (midcall): set_read_chunk_size in and out of range, request() in
// every status but CONNECTED and with a bad URL in every status,
// get_response_headers(), read_response_body_chunk() outside BODY,
// set_connection(get_connection()), and frames run in blocking mode when
// they cannot wait. Each call's result and every frame after it must be the
// model's (§1.3, §1.7.2–3, §1.10, §1.10.1, §1.11.3, §1.13.1, §1.15).
func TestMidcallModel(t *testing.T) {
	seed, _ := modelRuns(11, 0)
	n := midcallRuns(25)
	r := rand.New(rand.NewPCG(seed, 1))
	ln := listenLoopback(t)
	for i := range n {
		mc := genModelCase(r)
		mc.mid = true
		t.Run(strconv.Itoa(i), func(t *testing.T) { runModelCase(t, ln, mc, uint64(i), false) })
	}
}

// TestMidcallModelBlocking is the same in blocking mode (the response
// is all there before its frames, so a frame may be run non-blocking and
// then blocking again).
func TestMidcallModelBlocking(t *testing.T) {
	seed, _ := modelRuns(12, 0)
	n := midcallRuns(20)
	r := rand.New(rand.NewPCG(seed, 1))
	ln := listenLoopback(t)
	for i := range n {
		mc := genModelCase(r)
		for ambiguousFirst(mc) {
			mc = genModelCase(r)
		}
		mc.fin, mc.finFirst, mc.rst, mc.mid = true, false, false, true
		for j := range mc.cuts {
			mc.cuts[j] = nil
		}
		t.Run(strconv.Itoa(i), func(t *testing.T) { runModelCase(t, ln, mc, uint64(i), true) })
	}
}

func listenLoopback(t *testing.T) *net.TCPListener {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}
