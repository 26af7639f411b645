package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gdhttp/gdhttp/wire"
)

// routes is the backend's table of endpoints, printed by "gdfetch serve".
var routes = []struct{ path, what string }{
	{"GET  /api/player", "JSON; echoes your User-Agent"},
	{"POST /api/score", "JSON; echoes the body it received"},
	{"GET  /img/icon.png", "a 16×16 PNG (download_file + Image.load_png_from_buffer)"},
	{"GET  /news", "gzip-encoded text"},
	{"GET  /old-news", "301 → /news"},
	{"GET  /hop/N", "a chain of N 302 redirects, then JSON"},
	{"GET  /stream", "a chunked body, 5 chunks 40 ms apart"},
	{"GET  /bytes/N", "N bytes with Content-Length"},
	{"GET  /drip/N", "N bytes with Content-Length, over about 2 s (progress bar)"},
	{"GET  /never", "reads the request, never answers (timeout)"},
	{"GET  /corrupt-gzip", "Content-Encoding: gzip, not gzip (RESULT_BODY_DECOMPRESS_FAILED)"},
	{"GET  /no-headers", "a response head without header lines (RESULT_NO_RESPONSE)"},
	{"GET  /cut", "Content-Length 100, 10 bytes, then FIN (partial transfer)"},
	{"GET  /close", "closes without answering"},
	{"GET  /echo", "the exact request bytes, as text"},
}

// backend is a small raw-TCP game backend on loopback: it answers by path
// (routes) and records the exact request bytes it receives. Every
// goroutine it starts ends in close.
type backend struct {
	ln   net.Listener
	addr string
	wg   sync.WaitGroup
	quit chan struct{}
	icon []byte // the PNG of /img/icon.png

	mu      sync.Mutex
	last    []byte
	conns   map[net.Conn]struct{}
	closing bool
}

// startBackend listens on addr ("127.0.0.1:0" for any free port).
func startBackend(addr string) (*backend, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	b := &backend{ln: ln, addr: ln.Addr().String(), quit: make(chan struct{}),
		conns: map[net.Conn]struct{}{}, icon: iconPNG()}
	b.wg.Add(1)
	go b.accept()
	return b, nil
}

func (b *backend) url(path string) string { return "http://" + b.addr + path }

func (b *backend) hostPort() (string, int) {
	h, p, _ := net.SplitHostPort(b.addr)
	port, _ := strconv.Atoi(p)
	if h == "127.0.0.1" {
		h = "localhost" // Godot resolves names: show RESOLVING too
	}
	return h, port
}

// lastRequest is the exact bytes of the last request received.
func (b *backend) lastRequest() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.last)
}

func (b *backend) accept() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		if b.closing {
			b.mu.Unlock()
			c.Close()
			return
		}
		b.conns[c] = struct{}{}
		b.mu.Unlock()
		b.wg.Add(1)
		go b.serve(c)
	}
}

// close stops the listener, closes every connection and joins the goroutines.
func (b *backend) close() {
	b.mu.Lock()
	if !b.closing {
		b.closing = true
		close(b.quit)
	}
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.ln.Close()
	b.wg.Wait()
}

// sleep waits d, or less when the backend closes; false then.
func (b *backend) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-b.quit:
		return false
	}
}

func (b *backend) serve(c net.Conn) {
	defer b.wg.Done()
	defer func() {
		c.Close()
		b.mu.Lock()
		delete(b.conns, c)
		b.mu.Unlock()
	}()
	r := bufio.NewReader(c)
	for {
		req, err := readRequest(r)
		if err != nil {
			return
		}
		b.mu.Lock()
		b.last = req.raw
		b.mu.Unlock()
		if !b.respond(c, r, req) || req.close {
			return
		}
	}
}

// request is what the backend keeps of a request.
type request struct {
	raw          []byte
	method, path string
	headers      []string
	body         []byte
	close        bool
}

// respond writes the answer to one request; false ends the connection.
func (b *backend) respond(c net.Conn, r *bufio.Reader, q *request) bool {
	path, _, _ := strings.Cut(q.path, "?")
	write := func(p []byte) bool {
		if q.method == "HEAD" {
			if i := bytes.Index(p, []byte("\r\n\r\n")); i >= 0 {
				p = p[:i+4]
			}
		}
		_, err := c.Write(p)
		return err == nil
	}
	switch {
	case path == "/api/player":
		return write(jsonResponse(map[string]any{
			"name": "Ada", "level": 12, "guild": "Nodes & Signals",
			"user_agent": wire.FieldValue(q.headers, "User-Agent"),
		}))
	case path == "/api/score":
		var sent any
		if json.Unmarshal(q.body, &sent) != nil {
			sent = string(q.body)
		}
		return write(jsonResponse(map[string]any{"accepted": true, "rank": 7, "received": sent}))
	case path == "/img/icon.png":
		return write(response("200 OK", "image/png", "", b.icon))
	case path == "/news":
		return write(response("200 OK", "text/plain; charset=utf-8", "Content-Encoding: gzip\r\n",
			gzipBytes([]byte(strings.Repeat("Patch 1.2 is out: new maps, fewer bugs. ", 8)))))
	case path == "/old-news":
		return write([]byte("HTTP/1.1 301 Moved Permanently\r\nLocation: /news\r\nContent-Length: 0\r\n\r\n"))
	case strings.HasPrefix(path, "/hop/"):
		n, err := strconv.Atoi(strings.TrimPrefix(path, "/hop/"))
		if err != nil || n <= 0 {
			return write(jsonResponse(map[string]any{"arrived": true}))
		}
		return write([]byte("HTTP/1.1 302 Found\r\nLocation: /hop/" + strconv.Itoa(n-1) + "\r\nContent-Length: 0\r\n\r\n"))
	case path == "/stream":
		if !write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")) {
			return false
		}
		for i := 1; i <= 5; i++ {
			if !b.sleep(40 * time.Millisecond) {
				return false
			}
			line := "tick " + strconv.Itoa(i) + "\n"
			if !write([]byte(strconv.FormatInt(int64(len(line)), 16) + "\r\n" + line + "\r\n")) {
				return false
			}
		}
		return write([]byte("0\r\n\r\n"))
	case strings.HasPrefix(path, "/bytes/"), strings.HasPrefix(path, "/drip/"):
		n, err := strconv.Atoi(path[strings.LastIndexByte(path, '/')+1:])
		if err != nil || n < 0 || n > 1<<30 {
			return write(response("400 Bad Request", "text/plain", "", []byte("bad size\n")))
		}
		if !write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
			strconv.Itoa(n) + "\r\n\r\n")) {
			return false
		}
		drip := strings.HasPrefix(path, "/drip/")
		piece := make([]byte, 32<<10)
		for i := range piece {
			piece[i] = byte('a' + i%26)
		}
		steps := (n + len(piece) - 1) / len(piece)
		for sent := 0; sent < n; {
			p := piece[:min(len(piece), n-sent)]
			if !write(p) {
				return false
			}
			sent += len(p)
			if drip && !b.sleep(2*time.Second/time.Duration(max(steps, 1))) {
				return false
			}
		}
		return true
	case path == "/never":
		io.Copy(io.Discard, r) // never answers: until either side closes
		return false
	case path == "/corrupt-gzip":
		return write(response("200 OK", "text/plain", "Content-Encoding: gzip\r\n", []byte("this is not gzip at all")))
	case path == "/no-headers":
		write([]byte("HTTP/1.1 200 OK\r\n\r\n"))
		return false
	case path == "/cut":
		write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"))
		return false
	case path == "/close":
		return false
	case path == "/echo":
		return write(response("200 OK", "text/plain", "", q.raw))
	}
	return write(response("404 Not Found", "text/plain", "", []byte("not found\n")))
}

func response(status, ctype, extra string, body []byte) []byte {
	head := "HTTP/1.1 " + status + "\r\nContent-Type: " + ctype + "\r\n" + extra +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	return append([]byte(head), body...)
}

func jsonResponse(v any) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.Encode(v)
	return response("200 OK", "application/json", "", bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

func gzipBytes(p []byte) []byte {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(p)
	zw.Close()
	return z.Bytes()
}

// maxRequestHead bounds the request head the backend reads.
const maxRequestHead = 64 << 10

// readLine reads one line, LF included, failing with io.ErrShortBuffer once
// it passes limit bytes: a client that never ends its line costs no more.
func readLine(r *bufio.Reader, limit int) (string, error) {
	var b []byte
	for {
		frag, err := r.ReadSlice('\n')
		b = append(b, frag...)
		if len(b) > limit {
			return "", io.ErrShortBuffer
		}
		if err != bufio.ErrBufferFull {
			return string(b), err
		}
	}
}

// readRequest reads one request head and its Content-Length body.
func readRequest(r *bufio.Reader) (*request, error) {
	q := &request{}
	length := 0
	for {
		line, err := readLine(r, maxRequestHead-len(q.raw))
		if err != nil {
			return nil, err
		}
		q.raw = append(q.raw, line...)
		if line == "\r\n" || line == "\n" {
			break
		}
		if q.method == "" {
			if f := strings.Fields(line); len(f) >= 2 {
				q.method, q.path = f[0], f[1]
			}
			continue
		}
		h := strings.TrimRight(line, "\r\n")
		q.headers = append(q.headers, h)
		if k, v, ok := strings.Cut(h, ":"); ok {
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "content-length":
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			case "connection":
				q.close = strings.EqualFold(strings.TrimSpace(v), "close")
			}
		}
	}
	if length < 0 || length > 16<<20 {
		return nil, io.ErrShortBuffer
	}
	q.body = make([]byte, length)
	if _, err := io.ReadFull(r, q.body); err != nil {
		return nil, err
	}
	q.raw = append(q.raw, q.body...)
	return q, nil
}

// iconPNG draws the backend's 16×16 game icon: a blue rounded tile with a
// face, in Godot's blue.
func iconPNG() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	blue := color.NRGBA{0x47, 0x8c, 0xbf, 0xff}
	dark := color.NRGBA{0x1e, 0x2b, 0x3a, 0xff}
	white := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	for y := range 16 {
		for x := range 16 {
			corner := (x == 0 || x == 15) && (y == 0 || y == 15)
			if !corner {
				img.SetNRGBA(x, y, blue)
			}
		}
	}
	for _, e := range [][2]int{{4, 6}, {10, 6}} { // eyes: 3×3 white, a dark pupil
		for dy := range 3 {
			for dx := range 3 {
				img.SetNRGBA(e[0]+dx, e[1]+dy, white)
			}
		}
		img.SetNRGBA(e[0]+1, e[1]+1, dark)
	}
	for x := 5; x <= 10; x++ { // mouth
		img.SetNRGBA(x, 11, dark)
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}
