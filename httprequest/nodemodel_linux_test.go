package httprequest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/drive"
)

// The node against a model of Godot's HTTPRequest: _update_connection and
// _handle_response of scene/main/http_request.cpp (4.x), written out line by
// line over an httpclient.Client in non-blocking mode (the client is held to
// Godot's HTTPClientTCP by httpclient's TestAudit5GodotModel). Both run the
// same random exchanges over loopback, frame by frame, with every piece of
// every response delivered to both sockets before the next frame, and must
// show the same thing on every frame: the client status, get_downloaded_bytes(),
// get_body_size(), whether the completion came — and the same completion.
// This checks the node's layer (§2.6, §2.7, §2.8.1, §2.9, §2.10) on the
// Process driver, where it differs from Godot's only as §7 says (Q3, Q4).

// godotNode is the model: the fields of http_request.h that
// _update_connection reads and writes, no decompressor (the exchanges carry
// no Content-Encoding); with download_file the chunks go to file instead of
// body.
type godotNode struct {
	c            *httpclient.Client
	host         string
	port         int
	method       httpclient.Method
	path         string // request_string
	headers      []string
	requestSent  bool
	gotResponse  bool
	bodyLen      int64
	downloaded   int64
	finalSize    int64
	body         []byte
	redirections int
	maxRedirects int
	limit        int64
	toFile       bool   // download_file is set
	opened       bool   // FileAccess::open(download_file) ran
	file         []byte // what store_buffer wrote
	code         int
	respHeaders  []string

	done bool
	got  Completion
}

// finish is _defer_done + _request_done: the completion, then
// cancel_request() (client->close()).
func (g *godotNode) finish(res Result, code int, headers []string, body []byte) bool {
	if len(body) == 0 {
		body = nil
	}
	g.done, g.got = true, Completion{Result: res, ResponseCode: code, Headers: nilIfEmpty(headers), Body: body}
	g.c.Close()
	return true
}

// handleResponse is _handle_response: handled says the step ends, with
// ret as _update_connection's value.
func (g *godotNode) handleResponse() (handled, ret bool) {
	if !g.c.HasResponse() {
		return true, g.finish(ResultNoResponse, 0, nil, nil)
	}
	g.gotResponse = true
	g.code = g.c.ResponseCode()
	g.respHeaders = g.c.ResponseHeaders()
	g.downloaded, g.finalSize = 0, 0
	if g.code == 301 || g.code == 302 {
		if g.maxRedirects >= 0 && g.redirections >= g.maxRedirects {
			return true, g.finish(ResultRedirectLimitReached, g.code, g.respHeaders, nil)
		}
		newRequest := ""
		for _, h := range g.respHeaders {
			if strings.Contains(strings.ToLower(h), "location: ") {
				newRequest = strings.Trim(h[9:], " \t")
			}
		}
		if newRequest != "" {
			g.c.Close()
			redirs := g.redirections + 1
			if strings.HasPrefix(newRequest, "http") {
				// _parse_url: only http://127.0.0.1:port/… is generated.
				rest := strings.TrimPrefix(newRequest, "http://")
				hostPort, p, _ := strings.Cut(rest, "/")
				host, port, err := net.SplitHostPort(hostPort)
				if err != nil {
					panic(err)
				}
				g.host, g.port, g.path = host, atoi(port), "/"+p
				g.requestSent, g.gotResponse, g.bodyLen, g.body, g.downloaded, g.finalSize = false, false, -1, nil, 0, 0
			} else {
				g.path = newRequest
			}
			if err := g.c.ConnectToHost(g.host, g.port, nil); err == nil {
				g.requestSent, g.gotResponse, g.bodyLen, g.body, g.downloaded, g.finalSize = false, false, -1, nil, 0, 0
				g.redirections = redirs
				return true, false
			}
		}
	}
	return false, false
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

// update is _update_connection: one frame.
func (g *godotNode) update() bool {
	c := g.c
	switch c.Status() {
	case httpclient.StatusDisconnected:
		return g.finish(ResultCantConnect, 0, nil, nil)
	case httpclient.StatusResolving, httpclient.StatusConnecting, httpclient.StatusRequesting:
		_ = c.Poll()
		return false
	case httpclient.StatusCantResolve:
		return g.finish(ResultCantResolve, 0, nil, nil)
	case httpclient.StatusCantConnect:
		return g.finish(ResultCantConnect, 0, nil, nil)
	case httpclient.StatusConnected:
		if g.requestSent {
			if !g.gotResponse {
				if handled, ret := g.handleResponse(); handled {
					return ret
				}
				return g.finish(ResultSuccess, g.code, g.respHeaders, nil)
			}
			if g.bodyLen < 0 {
				return g.finish(ResultSuccess, g.code, g.respHeaders, g.body)
			}
			return g.finish(ResultChunkedBodySizeMismatch, g.code, g.respHeaders, nil)
		}
		if err := c.Request(g.method, g.path, g.headers, ""); err != nil {
			return g.finish(ResultConnectionError, 0, nil, nil)
		}
		g.requestSent = true
		return false
	case httpclient.StatusBody:
		if !g.gotResponse {
			if handled, ret := g.handleResponse(); handled {
				return ret
			}
			if !c.IsResponseChunked() && c.ResponseBodyLength() == 0 {
				return g.finish(ResultSuccess, g.code, g.respHeaders, nil)
			}
			g.bodyLen = c.ResponseBodyLength()
			if g.limit >= 0 && g.bodyLen > g.limit {
				return g.finish(ResultBodySizeLimitExceeded, g.code, g.respHeaders, nil)
			}
			if g.toFile {
				g.opened, g.file = true, nil
			}
		}
		_ = c.Poll()
		if c.Status() != httpclient.StatusBody {
			return false
		}
		chunk := c.ReadResponseBodyChunk()
		g.downloaded += int64(len(chunk))
		g.finalSize += int64(len(chunk))
		if g.limit >= 0 && g.finalSize > g.limit {
			return g.finish(ResultBodySizeLimitExceeded, g.code, g.respHeaders, nil)
		}
		if g.toFile {
			g.file = append(g.file, chunk...)
		} else {
			g.body = append(g.body, chunk...)
		}
		if g.bodyLen >= 0 {
			if g.downloaded == g.bodyLen {
				return g.finish(ResultSuccess, g.code, g.respHeaders, g.body)
			}
		} else if c.Status() == httpclient.StatusDisconnected {
			if c.IsResponseChunked() && !c.BodyComplete() {
				// §7 D3, COMPAT Q4: a chunked body cut short is R1 with
				// the code and headers and no body (Godot: R0, partial).
				return g.finish(ResultChunkedBodySizeMismatch, g.code, g.respHeaders, nil)
			}
			return g.finish(ResultSuccess, g.code, g.respHeaders, g.body)
		}
		return false
	case httpclient.StatusConnectionError:
		return g.finish(ResultConnectionError, 0, nil, nil)
	case httpclient.StatusTLSHandshakeError:
		return g.finish(ResultTLSHandshakeError, 0, nil, nil)
	}
	return false
}

// nodeHop is one connection of an exchange: the response the server
// writes, cut into pieces, and how the server ends the connection after it.
type nodeHop struct {
	resp string
	cuts []int // piece boundaries, increasing
	end  hopEnd
}

// hopEnd is what the server does after a hop's response.
type hopEnd int

const (
	endHold hopEnd = iota // nothing: the connection stays open
	endFIN                // shutdown(SHUT_WR)
	endRST                // close with SO_LINGER 0
)

func (e hopEnd) String() string { return [...]string{"hold", "FIN", "RST"}[e] }

// nodeModelCase is one exchange: the node's settings and the responses of
// the connections it makes (one per redirect hop).
type nodeModelCase struct {
	method       httpclient.Method
	chunk        int
	limit        int64
	toFile       bool // download_file
	maxRedirects int
	hops         []nodeHop
}

func (mc nodeModelCase) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "method=%v download_chunk_size=%d body_size_limit=%d max_redirects=%d download_file=%v", mc.method, mc.chunk, mc.limit, mc.maxRedirects, mc.toFile)
	for i, h := range mc.hops {
		fmt.Fprintf(&b, "\n  hop %d (cuts %v, then %v): %q", i, h.cuts, h.end, h.resp)
	}
	return b.String()
}

// genNodeResponse is a random response for the last hop: a fixed-length,
// chunked, read-until-close or bodyless response, sometimes corrupt, cut
// short or followed by more bytes, sometimes with ambiguous framing: §7 D2
// changes only what happens to the connection after such a response, so
// the node, which never reuses one, must show Godot's frames and result. No
// Content-Encoding.
func genNodeResponse(r *rand.Rand, fin bool) string {
	var b strings.Builder
	b.WriteString([]string{"HTTP/1.1 200 OK\r\nX-A: 1\r\n", "HTTP/1.1 404 Not Found\r\n", "HTTP/1.0 201 Created\r\nX-B: 2\r\n", "HTTP/1.1 204 No Content\r\n"}[r.IntN(4)])
	if r.IntN(6) == 0 {
		// A length before the framing below: two lengths, or a length with
		// chunked (Godot reads chunks and still completes at that length,
		// §2.6.1.7, or ends CONNECTED with it: R1); a coding other than
		// chunked; a name with a space before the colon (not a length to Godot).
		b.WriteString([]string{"Content-Length: 3\r\n", "Content-Length: 0,3\r\n", "Transfer-Encoding: gzip\r\n", "Content-Length : 2\r\n", "Content-Length: 700\r\n"}[r.IntN(5)])
	}
	body := func(n int) string {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte('a' + r.IntN(26))
		}
		return string(p)
	}
	switch r.IntN(4) {
	case 0:
		n := r.IntN(1500)
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", n, body(n))
	case 1:
		b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		for range r.IntN(5) {
			n := 1 + r.IntN(600)
			size := fmt.Sprintf("%x", n)
			if r.IntN(8) == 0 {
				size += ";a=b" // §1.10.2.2
			}
			b.WriteString(size + "\r\n" + body(n) + "\r\n")
		}
		b.WriteString("0\r\n")
		if r.IntN(3) == 0 {
			b.WriteString("X-T: 1\r\n")
		}
		b.WriteString("\r\n")
	case 2:
		b.WriteString("\r\n")
	default:
		b.WriteString("Connection: close\r\n\r\n" + body(r.IntN(2000)))
	}
	resp := b.String()
	headLen := strings.Index(resp, "\r\n\r\n") + 4
	if r.IntN(5) == 0 && len(resp) > headLen {
		at := headLen + r.IntN(len(resp)-headLen)
		resp = resp[:at] + string("\r\n; 0aZ"[r.IntN(7)]) + resp[at+1:]
	}
	if r.IntN(6) == 0 {
		resp += "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nzz"
	}
	if fin && r.IntN(3) == 0 {
		resp = resp[:r.IntN(len(resp))+1]
	}
	return resp
}

// genRedirect is a 3xx for a hop before the last. Some are not followed in
// Godot (307, "Location:" without its space, an empty value): the node
// then delivers them as the final response.
func genRedirect(r *rand.Rand, port, hop int) string {
	code := []string{"301 Moved Permanently", "302 Found"}[r.IntN(2)]
	if r.IntN(8) == 0 {
		code = "307 Temporary Redirect"
	}
	loc := []string{
		"Location: /r" + strconv.Itoa(hop),
		"Location: http://127.0.0.1:" + strconv.Itoa(port) + "/a" + strconv.Itoa(hop),
		"location: /l" + strconv.Itoa(hop),
		"Location:/x",
		"Location:   ",
	}[min(r.IntN(8), 4)]
	body := strings.Repeat("m", r.IntN(300))
	return "HTTP/1.1 " + code + "\r\n" + loc + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

func genNodeModelCase(r *rand.Rand, port int) nodeModelCase {
	mc := nodeModelCase{
		method:       httpclient.MethodGet,
		chunk:        []int{256, 300, 1000, 65536}[r.IntN(4)],
		limit:        []int64{-1, -1, -1, 0, 100, 700, 3000}[r.IntN(7)],
		maxRedirects: []int{8, 8, 1, 0, -1}[r.IntN(5)],
		toFile:       r.IntN(4) == 0,
	}
	if r.IntN(6) == 0 {
		mc.method = httpclient.MethodHead
	}
	redirects := 0
	if r.IntN(3) == 0 {
		redirects = 1 + r.IntN(2)
	}
	for i := range redirects + 1 {
		h := nodeHop{end: []hopEnd{endHold, endFIN, endFIN, endRST}[r.IntN(4)]}
		if i < redirects {
			h.resp = genRedirect(r, port, i)
		} else {
			h.resp = genNodeResponse(r, h.end != endHold)
		}
		var cuts []int
		for range r.IntN(6) {
			cuts = append(cuts, 1+r.IntN(len(h.resp)))
		}
		slices.Sort(cuts)
		h.cuts = slices.Compact(cuts)
		mc.hops = append(mc.hops, h)
	}
	return mc
}

// nodeFrame is what one frame shows.
type nodeFrame struct {
	Status     httpclient.Status
	Downloaded int64
	BodySize   int64
	Done       bool
}

// sideConn is a connection the server accepted, once its request head has
// been read: which side sent it (X-Side) and the request line.
type sideConn struct {
	node bool
	line string
	conn *net.TCPConn
}

// TestNodeGodotModel runs random exchanges through the node (Request, then
// Process once per frame) and through godotNode side by side.
func TestNodeGodotModel(t *testing.T) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	conns := make(chan sideConn, 8)
	go acceptSides(ln, conns)
	port := ln.Addr().(*net.TCPAddr).Port
	r := rand.New(rand.NewPCG(7, 1))
	n := 300
	if testing.Short() {
		n = 40
	}
	for i := range n {
		mc := genNodeModelCase(r, port)
		t.Run(strconv.Itoa(i), func(t *testing.T) { runNodeModelCase(t, port, conns, mc, uint64(i)) })
	}
}

// acceptSides accepts connections and reads each one's request head on a
// goroutine of its own, then hands it over.
func acceptSides(ln *net.TCPListener, out chan<- sideConn) {
	for {
		c, err := ln.AcceptTCP()
		if err != nil {
			return
		}
		go func() {
			_ = c.SetDeadline(time.Now().Add(maxWait))
			var req []byte
			buf := make([]byte, 4096)
			for !bytes.Contains(req, []byte("\r\n\r\n")) {
				n, err := c.Read(buf)
				if err != nil {
					_ = c.Close()
					return
				}
				req = append(req, buf[:n]...)
			}
			line, _, _ := strings.Cut(string(req), "\r\n")
			out <- sideConn{node: bytes.Contains(req, []byte("\r\nX-Side: node\r\n")), line: line, conn: c}
		}()
	}
}

func runNodeModelCase(t *testing.T, port int, conns chan sideConn, mc nodeModelCase, seed uint64) {
	idle := rand.New(rand.NewPCG(seed, 3))
	n := newNode(t)
	require.NoError(t, n.SetDownloadChunkSize(mc.chunk))
	require.NoError(t, n.SetBodySizeLimit(mc.limit))
	require.NoError(t, n.SetMaxRedirects(mc.maxRedirects))
	file := filepath.Join(t.TempDir(), "download")
	if mc.toFile {
		require.NoError(t, n.SetDownloadFile(file))
	}
	var got []Completion
	n.OnRequestCompleted(func(res Result, code int, h []string, b []byte) {
		got = append(got, Completion{res, code, h, b})
	})
	g := &godotNode{c: httpclient.New(), host: "127.0.0.1", port: port, method: mc.method, path: "/",
		headers: []string{"X-Side: model", acceptGzipHeader}, bodyLen: -1, maxRedirects: mc.maxRedirects, limit: mc.limit, toFile: mc.toFile}
	t.Cleanup(g.c.Close)
	g.c.SetBlockingMode(false)
	require.NoError(t, g.c.SetReadChunkSize(mc.chunk))

	var open []*net.TCPConn
	t.Cleanup(func() {
		for _, c := range open {
			_ = c.Close()
		}
	})
	var gotFrames, wantFrames []nodeFrame
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\ncase: %v\nnode frames:  %v\nmodel frames: %v\nnode completion:  %+v (%v)\nmodel completion: %+v",
			fmt.Sprintf(format, args...), mc, gotFrames, wantFrames, got, n.LastError(), g.got)
	}
	frame := func() {
		n.Process()
		gotFrames = append(gotFrames, nodeFrame{n.HTTPClientStatus(), n.DownloadedBytes(), n.BodySize(), len(got) > 0})
		if !g.done {
			g.update()
		}
		wantFrames = append(wantFrames, nodeFrame{g.c.Status(), g.downloaded, g.bodyLen, g.done})
		if gotFrames[len(gotFrames)-1] != wantFrames[len(wantFrames)-1] {
			fail("frame %d differs", len(gotFrames))
		}
	}
	settle := func() { // a connect made in this frame is done before the next (loopback: at once)
		require.True(t, drive.AwaitTCP(port, maxWait, time.Millisecond, noneConnecting(port)), "a connect did not finish")
	}

	require.NoError(t, n.Request(urlFor("127.0.0.1", port, "/"), []string{"X-Side: node"}, mc.method, ""))
	require.NoError(t, g.c.ConnectToHost(g.host, g.port, nil))
	settle()
	for hop := 0; hop < len(mc.hops) && !g.done; hop++ {
		// Frames until both sides' requests for this hop have come.
		var nodeConn, modelConn *net.TCPConn
		for f := 0; nodeConn == nil || modelConn == nil; f++ {
			if f == 50 || (g.done && len(got) > 0) {
				if nodeConn != nil || modelConn != nil {
					fail("hop %d: only one side connected (node %v, model %v)", hop, nodeConn != nil, modelConn != nil)
				}
				break
			}
			frame()
			for waiting := true; waiting; {
				select {
				case sc := <-conns:
					open = append(open, sc.conn)
					if sc.node {
						nodeConn = sc.conn
					} else {
						modelConn = sc.conn
					}
				case <-time.After(time.Millisecond):
					waiting = false
				}
			}
			settle()
		}
		if nodeConn == nil {
			break
		}
		h := mc.hops[hop]
		prev := 0
		for _, cut := range append(slices.Clone(h.cuts), len(h.resp)) {
			if cut <= prev {
				continue
			}
			piece := []byte(h.resp[prev:cut])
			prev = cut
			for _, c := range []*net.TCPConn{nodeConn, modelConn} {
				_, _ = c.Write(piece) // a client that closed (a redirect) resets
				require.True(t, drive.AwaitSent(c, maxWait, 0), "the peer did not acknowledge")
			}
			for range 1 + idle.IntN(2) {
				frame()
			}
		}
		if h.end != endHold {
			for _, c := range []*net.TCPConn{nodeConn, modelConn} {
				client := c.RemoteAddr().(*net.TCPAddr).Port
				if h.end == endFIN {
					_ = c.CloseWrite()
				} else {
					_ = c.SetLinger(0)
					_ = c.Close()
				}
				require.True(t, drive.AwaitTCP(port, maxWait, 0, clientEnded(client)), "the %v did not arrive", h.end)
			}
			for range 1 + idle.IntN(2) {
				frame()
			}
		}
		if hop < len(mc.hops)-1 {
			continue // the next hop's frames start with its connect
		}
		for f := 0; f < 30 && (!g.done || len(got) == 0); f++ {
			frame()
		}
	}
	if len(got) > 1 {
		fail("%d completions", len(got))
	}
	if g.done != (len(got) == 1) {
		fail("completion: node %v, model %v", len(got) == 1, g.done)
	}
	if g.done && !completionEqual(got[0], g.got) {
		fail("completions differ")
	}
	if g.done && mc.toFile && g.got.Result == ResultSuccess {
		// COMPAT Q7: only a successful download is in place; Godot opens
		// the file at the first BODY step of a body that is not empty.
		b, err := os.ReadFile(file)
		if g.opened && (err != nil || !bytes.Equal(b, g.file)) {
			fail("download_file holds %d bytes (%v), the model's %d", len(b), err, len(g.file))
		}
		if !g.opened && !errors.Is(err, fs.ErrNotExist) {
			fail("download_file was written (%d bytes, %v), Godot never opens it", len(b), err)
		}
	}
	n.CancelRequest()
}

func completionEqual(a, b Completion) bool {
	return a.Result == b.Result && a.ResponseCode == b.ResponseCode && slices.Equal(a.Headers, b.Headers) && bytes.Equal(a.Body, b.Body)
}

// noneConnecting is an AwaitTCP condition for the server on port: no
// client socket is still connecting to it (SYN_SENT), so both sides' next
// Poll in CONNECTING finds the connect done.
func noneConnecting(port int) func(socks []drive.TCPSocket) bool {
	const synSent drive.TCPState = 2 // linux/tcp_states.h
	return func(socks []drive.TCPSocket) bool {
		for _, s := range socks {
			if s.RemotePort == port && s.State == synSent {
				return false
			}
		}
		return true
	}
}

// clientEnded is an AwaitTCP condition for the client socket with local
// port local: its peer's FIN or RST has arrived, or the client closed it.
func clientEnded(local int) func(socks []drive.TCPSocket) bool {
	return func(socks []drive.TCPSocket) bool {
		for _, s := range socks {
			if s.LocalPort == local {
				return s.State == drive.TCPCloseWait || s.State == drive.TCPClose
			}
		}
		return true
	}
}
