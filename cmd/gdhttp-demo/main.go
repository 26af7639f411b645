// Command gdhttp-demo shows gdhttp doing its main job: talking HTTP exactly as
// a Godot 4 game does. It starts a small game backend on 127.0.0.1, then
//
//  1. drives an httpclient.Client the way a Godot script drives HTTPClient —
//     ConnectToHost, Poll until CONNECTED, Request, Poll until BODY,
//     ReadResponseBodyChunk — printing every status change and the exact
//     request bytes the server received;
//  2. runs an httprequest.HTTPRequest node frame by frame with Process(),
//     following a 301 and decompressing a gzip body, and prints the
//     request_completed values;
//  3. calls Do with a context deadline against a server that never answers,
//     and prints the RESULT_TIMEOUT with its cause.
//
// Usage: go run ./cmd/gdhttp-demo
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gdhttp-demo:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	srv, err := startBackend()
	if err != nil {
		return err
	}
	defer srv.close()

	fmt.Fprintf(out, "game backend listening on %s\n\n", srv.addr)
	if err := demoClient(out, srv); err != nil {
		return fmt.Errorf("HTTPClient demo: %w", err)
	}
	if err := demoNode(out, srv); err != nil {
		return fmt.Errorf("HTTPRequest demo: %w", err)
	}
	return demoTimeout(out, srv)
}

// demoClient is the classic Godot HTTPClient loop, in Go.
func demoClient(out io.Writer, srv *backend) error {
	fmt.Fprintln(out, "== 1. HTTPClient, polled like a Godot script")
	c := httpclient.New()
	defer c.Close()

	host, port := srv.hostPort()
	if err := c.ConnectToHost(host, port, nil); err != nil {
		return err
	}
	trace := []string{c.Status().String()}
	poll := func(until ...httpclient.Status) error {
		deadline := time.Now().Add(5 * time.Second)
		for !slices.Contains(until, c.Status()) {
			if time.Now().After(deadline) {
				return errors.New("no progress in 5 s")
			}
			if err := c.Poll(); err != nil {
				return err
			}
			if s := c.Status().String(); s != trace[len(trace)-1] {
				trace = append(trace, s)
			}
			time.Sleep(time.Millisecond) // one "frame"
		}
		return nil
	}
	if err := poll(httpclient.StatusConnected); err != nil {
		return err
	}
	headers := []string{"X-Player: 42", "Content-Type: application/json"}
	if err := c.Request(httpclient.MethodPost, "/api/score", headers, `{"score":1200}`); err != nil {
		return err
	}
	if err := poll(httpclient.StatusBody, httpclient.StatusConnected); err != nil {
		return err
	}
	code, hdrs := c.ResponseCode(), c.ResponseHeaders()
	var body []byte
	for c.Status() == httpclient.StatusBody {
		if err := c.Poll(); err != nil {
			return err
		}
		body = append(body, c.ReadResponseBodyChunk()...)
	}
	trace = append(trace, c.Status().String())
	fmt.Fprintf(out, "status trace: %s\n", strings.Join(dedupe(trace), " → "))
	fmt.Fprintf(out, "request bytes the server received:\n%s\n", indent(srv.lastRequest()))
	fmt.Fprintf(out, "response: code %d, headers %q\nbody: %s\n\n", code, hdrs, body)
	return nil
}

// demoNode runs an HTTPRequest node one frame at a time.
func demoNode(out io.Writer, srv *backend) error {
	fmt.Fprintln(out, "== 2. HTTPRequest node, one Process() per frame (301 redirect + gzip)")
	n := httprequest.New()
	var got *httprequest.Completion
	n.OnRequestCompleted(func(result httprequest.Result, code int, headers []string, body []byte) {
		got = &httprequest.Completion{Result: result, ResponseCode: code, Headers: headers, Body: body}
	})
	if err := n.Request(srv.url("/old-news"), nil, httpclient.MethodGet, ""); err != nil {
		return err
	}
	frames := 0
	for got == nil && frames < 10000 {
		n.Process()
		frames++
		time.Sleep(time.Millisecond)
	}
	if got == nil {
		return errors.New("no completion after 10000 frames")
	}
	fmt.Fprintf(out, "request_completed after %d frames: result %s, code %d\nheaders %q\nbody (decompressed): %s\n",
		frames, got.Result, got.ResponseCode, got.Headers, got.Body)
	fmt.Fprintf(out, "request bytes of the last hop:\n%s\n", indent(srv.lastRequest()))
	return nil
}

// demoTimeout shows that a failure keeps its real cause.
func demoTimeout(out io.Writer, srv *backend) error {
	fmt.Fprintln(out, "== 3. Do with a deadline, against a server that never answers")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	c, err := httprequest.New().Do(ctx, srv.url("/never"), nil, httpclient.MethodGet, nil)
	fmt.Fprintf(out, "result %s (%d), code %d\nerror: %v\n", c.Result, int(c.Result), c.ResponseCode, err)
	if !errors.Is(err, httprequest.ResultTimeout) {
		return fmt.Errorf("expected RESULT_TIMEOUT, got %v", err)
	}
	return nil
}

// backend is a tiny raw-TCP game server: it records the exact request bytes
// it receives, and answers by path.
type backend struct {
	ln   net.Listener
	addr string
	wg   sync.WaitGroup

	mu      sync.Mutex
	last    []byte
	conns   map[net.Conn]struct{}
	closing bool
}

func startBackend() (*backend, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &backend{ln: ln, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	b.wg.Add(1)
	go b.accept()
	return b, nil
}

func (b *backend) hostPort() (string, int) {
	h, p, _ := net.SplitHostPort(b.addr)
	port, _ := strconv.Atoi(p)
	if h == "127.0.0.1" {
		h = "localhost" // Godot resolves names: show RESOLVING too
	}
	return h, port
}

func (b *backend) url(path string) string { return "http://" + b.addr + path }

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

func (b *backend) close() {
	b.mu.Lock()
	b.closing = true
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.ln.Close()
	b.wg.Wait()
}

func (b *backend) serve(c net.Conn) {
	defer b.wg.Done()
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		req, path, err := readRequest(r)
		if err != nil {
			return
		}
		b.mu.Lock()
		b.last = req
		b.mu.Unlock()
		var resp []byte
		switch path {
		case "/api/score":
			resp = response("200 OK", "application/json", "", []byte(`{"accepted":true,"rank":7}`))
		case "/old-news":
			resp = []byte("HTTP/1.1 301 Moved Permanently\r\nLocation: /news\r\nContent-Length: 0\r\n\r\n")
		case "/news":
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write([]byte("Patch 1.2 is out: new maps, fewer bugs."))
			zw.Close()
			resp = response("200 OK", "text/plain", "Content-Encoding: gzip\r\n", z.Bytes())
		case "/never":
			io.Copy(io.Discard, r) // never answers: wait until either side closes
			return
		default:
			resp = response("404 Not Found", "text/plain", "", []byte("not found"))
		}
		if _, err := c.Write(resp); err != nil {
			return
		}
	}
}

func response(status, ctype, extra string, body []byte) []byte {
	head := "HTTP/1.1 " + status + "\r\nContent-Type: " + ctype + "\r\n" + extra +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	return append([]byte(head), body...)
}

// readRequest reads one request head and its Content-Length body.
func readRequest(r *bufio.Reader) (raw []byte, path string, err error) {
	length := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, "", err
		}
		raw = append(raw, line...)
		if path == "" {
			if f := strings.Fields(line); len(f) >= 2 {
				path = f[1]
			}
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Length") {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if line == "\r\n" {
			break
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, "", err
	}
	return append(raw, body...), path, nil
}

func indent(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "␍␊\n")
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

func dedupe(s []string) []string {
	var out []string
	for _, v := range s {
		if len(out) == 0 || out[len(out)-1] != v {
			out = append(out, v)
		}
	}
	return out
}
