package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
)

// runDemo is "gdfetch demo" (and gdfetch without arguments): the in-process
// game backend, and the uses a Godot user knows, one after the other.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("gdfetch demo", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	preview := fs.Bool("preview", isTerminal(stdout) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb",
		"show the downloaded PNG as ANSI truecolor half-blocks (default: when stdout is a terminal, without NO_COLOR or TERM=dumb)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			io.WriteString(stdout, usage)
			return exitOK
		}
		fmt.Fprintf(stderr, "gdfetch demo: %v\n", err)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gdfetch demo: unexpected %q\n", fs.Args())
		return exitUsage
	}
	srv, err := startBackend("127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(stderr, "gdfetch demo: %v\n", err)
		return exitFailed
	}
	defer srv.close()
	dir, err := os.MkdirTemp("", "gdfetch-demo-")
	if err != nil {
		fmt.Fprintf(stderr, "gdfetch demo: %v\n", err)
		return exitFailed
	}
	defer os.RemoveAll(dir)

	d := &demo{ctx: ctx, out: stdout, srv: srv, dir: dir, preview: *preview}
	fmt.Fprintf(stdout, "game backend listening on %s (in-process, loopback only)\n\n", srv.addr)
	for _, step := range []func() error{
		d.httpClient, d.restGet, d.jsonPost, d.pngDownload, d.gzipRedirect, d.redirectChain, d.chunkedStream, d.timeout,
	} {
		if err := step(); err != nil {
			if ctx.Err() != nil {
				fmt.Fprintln(stderr, "gdfetch demo: interrupted")
				return exitInterrupted
			}
			fmt.Fprintf(stderr, "gdfetch demo: %v\n", err)
			return exitFailed
		}
	}
	fmt.Fprintf(stdout, "try it yourself: go run ./cmd/gdfetch serve, then go run ./cmd/gdfetch -v http://127.0.0.1:8080/api/player\n")
	return exitOK
}

// demo holds what the demo's steps share.
type demo struct {
	ctx     context.Context
	out     io.Writer
	srv     *backend
	dir     string
	preview bool
	section int
}

func (d *demo) title(s string) {
	d.section++
	fmt.Fprintf(d.out, "== %d. %s\n", d.section, s)
}

// httpClient is the classic Godot HTTPClient loop, in Go: ConnectToHost,
// Poll until CONNECTED, Request, Poll until BODY, ReadResponseBodyChunk.
func (d *demo) httpClient() error {
	d.title("HTTPClient, polled like a Godot script")
	c := httpclient.New()
	defer c.Close()
	host, port := d.srv.hostPort()
	fmt.Fprintf(d.out, "connect_to_host(%q, %d), then poll() once per frame\n", host, port)
	if err := c.ConnectToHost(host, port, nil); err != nil {
		return err
	}
	start := time.Now()
	trace := []traceStep{{c.Status(), 0}}
	poll := func(until ...httpclient.Status) error {
		deadline := time.Now().Add(5 * time.Second)
		for !slices.Contains(until, c.Status()) {
			if time.Now().After(deadline) || d.ctx.Err() != nil {
				return errors.New("HTTPClient: no progress in 5 s")
			}
			if err := c.Poll(); err != nil {
				return err
			}
			if s := c.Status(); s != trace[len(trace)-1].Status {
				trace = append(trace, traceStep{s, time.Since(start)})
			}
			time.Sleep(frame)
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
	if s := c.Status(); s != trace[len(trace)-1].Status {
		trace = append(trace, traceStep{s, time.Since(start)})
	}
	fmt.Fprintf(d.out, "status trace: %s\n", traceLine(trace))
	fmt.Fprintf(d.out, "request bytes the server received:\n%s\n", indent(d.srv.lastRequest()))
	fmt.Fprintf(d.out, "response: code %d, headers %q\nbody: %s\n\n", code, hdrs, body)
	return nil
}

// node runs one request through a new HTTPRequest node, one Process() per
// frame, and prints the completion and the status trace.
func (d *demo) node(cmd, path string, headers []string, method httpclient.Method, body []byte,
	setup func(*httprequest.HTTPRequest), progress func(w, dec int64)) (*exchange, error) {
	n := httprequest.New()
	defer n.Close()
	if setup != nil {
		setup(n)
	}
	fmt.Fprintf(d.out, "$ gdfetch %s\n", strings.ReplaceAll(cmd, "URL", d.srv.url(path)))
	ex, err := drive(d.ctx, n, d.srv.url(path), headers, method, body, progress)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(d.out, "request_completed: %s, %d headers, %s body after %d frames\n",
		resultLine(ex), len(ex.Headers), humanBytes(int64(len(ex.Body))), ex.Frames)
	fmt.Fprintf(d.out, "status trace: %s\n", traceLine(ex.Trace))
	return ex, nil
}

func want(ex *exchange, r httprequest.Result) error {
	if ex.Result != r {
		return fmt.Errorf("expected %s, got %s (%v)", r, ex.Result, ex.Cause)
	}
	return nil
}

func (d *demo) restGet() error {
	d.title("JSON REST GET: the reply echoes the User-Agent Godot sends")
	ex, err := d.node("URL", "/api/player", nil, httpclient.MethodGet, nil, nil, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "body: %s\n", ex.Body)
	fmt.Fprintf(d.out, "request bytes the server received:\n%s\n\n", indent(d.srv.lastRequest()))
	return want(ex, httprequest.ResultSuccess)
}

func (d *demo) jsonPost() error {
	d.title("JSON POST (request() with custom_headers and request_data)")
	ex, err := d.node(`-H 'Content-Type: application/json' -d '{"score":1200,"level":3}' URL`, "/api/score",
		[]string{"Content-Type: application/json"}, httpclient.MethodPost, []byte(`{"score":1200,"level":3}`), nil, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "body: %s\n\n", ex.Body)
	return want(ex, httprequest.ResultSuccess)
}

func (d *demo) pngDownload() error {
	d.title("A PNG saved with download_file, decoded with image/png (Image.load_png_from_buffer)")
	file := filepath.Join(d.dir, "icon.png")
	ex, err := d.node("-o icon.png URL", "/img/icon.png", nil, httpclient.MethodGet, nil,
		func(n *httprequest.HTTPRequest) { n.SetDownloadFile(file) }, nil)
	if err != nil {
		return err
	}
	if err := want(ex, httprequest.ResultSuccess); err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return fmt.Errorf("icon.png: %w", err)
	}
	st, _ := f.Stat()
	fmt.Fprintf(d.out, "icon.png: %d bytes on disk, a %d×%d image/png\n", st.Size(), img.Bounds().Dx(), img.Bounds().Dy())
	if d.preview {
		io.WriteString(d.out, halfBlocks(img))
	}
	fmt.Fprintln(d.out)
	return nil
}

func (d *demo) gzipRedirect() error {
	d.title("A 301 redirect to a gzip body, decompressed as it streams (accept_gzip)")
	ex, err := d.node("-i URL", "/old-news", nil, httpclient.MethodGet, nil, nil, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "headers: %q\nbody (decompressed): %.80s…\n\n", ex.Headers, ex.Body)
	return want(ex, httprequest.ResultSuccess)
}

func (d *demo) redirectChain() error {
	d.title("A chain of three 302 redirects (max_redirects 8)")
	ex, err := d.node("URL", "/hop/3", nil, httpclient.MethodGet, nil, nil, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "body: %s\n\n", ex.Body)
	return want(ex, httprequest.ResultSuccess)
}

func (d *demo) chunkedStream() error {
	d.title("A chunked stream, watched with the progress callback")
	start := time.Now()
	ex, err := d.node("URL", "/stream", nil, httpclient.MethodGet, nil, nil, func(w, _ int64) {
		fmt.Fprintf(d.out, "  progress +%s: %d bytes\n", fmtMillis(time.Since(start)), w)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "body: %q\n\n", ex.Body)
	return want(ex, httprequest.ResultSuccess)
}

func (d *demo) timeout() error {
	d.title("timeout = 0.3 s, against a server that never answers")
	ex, err := d.node("-m 0.3 URL", "/never", nil, httpclient.MethodGet, nil,
		func(n *httprequest.HTTPRequest) { n.SetTimeout(300 * time.Millisecond) }, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "cause: %v; gdfetch exits %d, as curl does\n\n", ex.Cause, resultExit(ex.Result, ex.Cause))
	return want(ex, httprequest.ResultTimeout)
}

// traceLine prints a status trace on one line with the time of each step.
func traceLine(t []traceStep) string {
	parts := make([]string, len(t))
	for i, s := range t {
		parts[i] = s.Status.String() + " +" + fmtMillis(s.At)
	}
	return strings.Join(parts, " → ")
}

// indent shows bytes as lines, with the CR LF made visible.
func indent(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "␍␊\n")
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// halfBlocks draws img with ANSI truecolor half-blocks: each text row holds
// two pixel rows, the upper as the foreground of "▀", the lower as its
// background; transparent pixels are left to the terminal's background.
func halfBlocks(img image.Image) string {
	var b strings.Builder
	r := img.Bounds()
	rgb := func(x, y int) (uint32, uint32, uint32, bool) {
		if y >= r.Max.Y {
			return 0, 0, 0, false
		}
		cr, cg, cb, ca := img.At(x, y).RGBA()
		if ca < 0x8000 {
			return 0, 0, 0, false
		}
		return cr >> 8, cg >> 8, cb >> 8, true
	}
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		b.WriteString("  ")
		for x := r.Min.X; x < r.Max.X; x++ {
			tr, tg, tb, top := rgb(x, y)
			br, bg, bb, bottom := rgb(x, y+1)
			switch {
			case top && bottom:
				fmt.Fprintf(&b, "\x1b[38;2;%d;%d;%dm\x1b[48;2;%d;%d;%dm▀", tr, tg, tb, br, bg, bb)
			case top:
				fmt.Fprintf(&b, "\x1b[49m\x1b[38;2;%d;%d;%dm▀", tr, tg, tb)
			case bottom:
				fmt.Fprintf(&b, "\x1b[49m\x1b[38;2;%d;%d;%dm▄", br, bg, bb)
			default:
				b.WriteString("\x1b[0m ")
			}
		}
		b.WriteString("\x1b[0m\n")
	}
	return b.String()
}

// runServe is "gdfetch serve": the demo's backend alone, until interrupted.
// serveUsage is gdfetch serve -h's text.
const serveUsage = `usage: gdfetch serve [--port 8080] [--addr 127.0.0.1]
The demo's game backend alone, for Godot itself, gdfetch or curl to talk to; it prints its
routes when it starts and runs until Ctrl-C.

  -p, --port N      TCP port (0: any free port; default 8080)
      --addr ADDR   address to listen on (default 127.0.0.1)
`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("gdfetch serve", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	port := fs.IntP("port", "p", 8080, "TCP port (0: any free port)")
	addr := fs.String("addr", "127.0.0.1", "address to listen on")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			io.WriteString(stdout, serveUsage)
			return exitOK
		}
		fmt.Fprintf(stderr, "gdfetch serve: %v\n(gdfetch serve --help for its flags)\n", err)
		return exitUsage
	}
	if fs.NArg() > 0 || *port < 0 || *port > 65535 {
		fmt.Fprintf(stderr, "gdfetch serve: usage: gdfetch serve [--port 8080] [--addr 127.0.0.1]\n")
		return exitUsage
	}
	srv, err := startBackend(net.JoinHostPort(*addr, strconv.Itoa(*port)))
	if err != nil {
		fmt.Fprintf(stderr, "gdfetch serve: %v\n", err)
		return exitFailed
	}
	defer srv.close()
	fmt.Fprintf(stdout, "game backend on http://%s (Ctrl-C stops it)\n", srv.addr)
	for _, r := range routes {
		fmt.Fprintf(stdout, "  %-20s %s\n", r.path, r.what)
	}
	fmt.Fprintf(stdout, "try: gdfetch -v http://%s/api/player\n  or, in Godot: $HTTPRequest.request(\"http://%s/api/player\")\n", srv.addr, srv.addr)
	<-ctx.Done()
	return exitOK
}
