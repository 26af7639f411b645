package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/gdhttp/gdhttp/benchmarks/internal/rawserver"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
	"github.com/gdhttp/gdhttp/internal/hugepage"
)

// A request is one unit of a workload: one download or one small GET. It
// returns the body bytes it received (decoded for gzip), which the caller
// checks against the workload's size.
type request func() (int64, error)

// target is what a driver is pointed at.
type target struct {
	host string
	port int
	path string // "/cl/268435456"
	gzip bool   // the body is gzip-encoded: decode it
	size int64  // the body's size (decoded)
}

func (t target) url() string {
	return "http://" + net.JoinHostPort(t.host, strconv.Itoa(t.port)) + t.path
}

func (t target) addr() string { return net.JoinHostPort(t.host, strconv.Itoa(t.port)) }

// bodyBuf is the caller's buffer for every client that reads into one: the
// blocking and Poll drivers, net/http and fasthttp (io.CopyBuffer), and the
// node's download_chunk_size (its default).
const bodyBuf = 64 << 10

// discard is io.Discard without ReadFrom, so that io.CopyBuffer really reads
// with the caller's buffer (io.Discard's ReadFrom reads in 8 KiB pieces).
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// counter is a body writer that drops the bytes and counts them.
type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// readBody reads r to its end with buf and returns the byte count.
func readBody(r io.Reader, buf []byte) (int64, error) {
	return io.CopyBuffer(discard{}, r, buf)
}

// gunzipper decodes gzip bodies one after the other with one gzip.Reader.
type gunzipper struct{ zr *gzip.Reader }

// reader returns the reader of r's decoded bytes.
func (g *gunzipper) reader(r io.Reader) (io.Reader, error) {
	if g.zr == nil {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		g.zr = zr
		return zr, nil
	}
	return g.zr, g.zr.Reset(r)
}

// bodyLoop is how a client driver reads a body that is not gzip.
type bodyLoop int

const (
	loopInto   bodyLoop = iota // ReadResponseBodyChunkInto a reused buffer, Poll when nothing came (readInto)
	loopGodot                  // Godot's documented loop: Poll, then ReadResponseBodyChunk (readGodot)
	loopAppend                 // loopGodot with AppendResponseBodyChunk into a reused buffer
)

// newBlocking drives one httpclient.Client, in blocking mode or as a
// non-blocking Poll loop (spinning: Poll, then read, until the body ends),
// reading the body as loop says.
// The client is reused; without keep-alive it is closed and reconnected for
// every request, as Godot's close() + connect_to_host().
func newBlocking(blocking bool, loop bodyLoop) func(target, bool) (request, func(), error) {
	return func(t target, keepAlive bool) (request, func(), error) {
		c := httpclient.New()
		c.SetBlockingMode(blocking)
		buf := make([]byte, bodyBuf)
		var gz gunzipper
		pr := &pollReader{c: c}
		req := func() (int64, error) {
			if !keepAlive || c.Status() != httpclient.StatusConnected {
				c.Close()
				if err := c.ConnectToHost(t.host, t.port, nil); err != nil {
					return 0, err
				}
				for c.Status() == httpclient.StatusResolving || c.Status() == httpclient.StatusConnecting {
					if err := c.Poll(); err != nil {
						return 0, err
					}
				}
			}
			if err := c.RequestRaw(httpclient.MethodGet, t.path, nil, nil); err != nil {
				return 0, err
			}
			for c.Status() == httpclient.StatusRequesting {
				if err := c.Poll(); err != nil {
					return 0, err
				}
			}
			if code := c.ResponseCode(); code != http.StatusOK {
				return 0, fmt.Errorf("status %d", code)
			}
			if c.Status() != httpclient.StatusBody {
				return 0, nil
			}
			switch {
			case t.gzip:
			case loop == loopGodot:
				return readGodot(c, nil)
			case loop == loopAppend:
				return readGodot(c, buf[:0])
			default:
				return readInto(c, buf)
			}
			var r io.Reader = c.BodyReader()
			if !blocking {
				r = pr
			}
			zr, err := gz.reader(r)
			if err != nil {
				return 0, err
			}
			return readBody(zr, buf)
		}
		return req, c.Close, nil
	}
}

// readInto is the zero-copy read loop of both modes: read what has
// arrived; when nothing has (non-blocking mode only: a blocking read waits
// for a byte), Poll and try again.
func readInto(c *httpclient.Client, buf []byte) (int64, error) {
	var total int64
	for {
		n, err := c.ReadResponseBodyChunkInto(buf)
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		if n == 0 {
			if err := c.Poll(); err != nil {
				return total, err
			}
		}
	}
}

// readGodot is the loop of Godot's HTTPClient documentation: Poll, then
// ReadResponseBodyChunk (a new slice per call), while the status is BODY —
// or, with a non-nil buf, AppendResponseBodyChunk(buf[:0]): the same pieces
// in a reused buffer.
func readGodot(c *httpclient.Client, buf []byte) (int64, error) {
	var total int64
	for c.Status() == httpclient.StatusBody {
		if err := c.Poll(); err != nil {
			return total, err
		}
		if buf == nil {
			total += int64(len(c.ReadResponseBodyChunk()))
			continue
		}
		buf, _ = c.AppendResponseBodyChunk(buf[:0])
		total += int64(len(buf))
	}
	if err := c.LastError(); err != nil {
		return total, err
	}
	return total, nil
}

// pollReader is the non-blocking body as an io.Reader that never returns
// (0, nil): it Polls until bytes arrive (for compress/gzip).
type pollReader struct{ c *httpclient.Client }

func (p *pollReader) Read(b []byte) (int, error) {
	for {
		n, err := p.c.ReadResponseBodyChunkInto(b)
		if n > 0 || err != nil {
			return n, err
		}
		if err := p.c.Poll(); err != nil {
			return 0, err
		}
	}
}

// newNode makes the node of a node driver: keep-alive as asked and, with
// stream, a body writer that counts the bytes and drops them.
func newNode(keepAlive, stream bool) (*httprequest.HTTPRequest, *counter, error) {
	n := httprequest.New()
	if err := n.SetKeepAlive(keepAlive); err != nil {
		return nil, nil, err
	}
	w := new(counter)
	if stream {
		if err := n.SetBodyWriter(w); err != nil {
			return nil, nil, err
		}
	}
	return n, w, nil
}

// newNodeProcess drives a node as a game does: Request, then Process() once
// per frame (here: in a spin loop, no frame pacing) until request_completed;
// the body is delivered in memory, as Godot's default, or with stream to a
// body writer (SetBodyWriter) that drops it. With threads the node has
// use_threads on: its goroutine does the steps and Process only delivers.
func newNodeProcess(stream, threads bool) func(target, bool) (request, func(), error) {
	return func(t target, keepAlive bool) (request, func(), error) {
		n, w, err := newNode(keepAlive, stream)
		if err != nil {
			return nil, nil, err
		}
		if err := n.SetUseThreads(threads); err != nil {
			return nil, nil, err
		}
		var (
			done   bool
			result httprequest.Result
			code   int
			size   int
		)
		n.OnRequestCompleted(func(r httprequest.Result, c int, _ []string, body []byte) {
			done, result, code, size = true, r, c, len(body)
		})
		url := t.url()
		req := func() (int64, error) {
			done, w.n = false, 0
			if err := n.Request(url, nil, httpclient.MethodGet, ""); err != nil {
				return 0, err
			}
			for !done {
				n.Process()
			}
			if result != httprequest.ResultSuccess {
				return 0, fmt.Errorf("%v: %v", result, n.LastError())
			}
			if code != http.StatusOK {
				return 0, fmt.Errorf("status %d", code)
			}
			if stream {
				return w.n, nil
			}
			return int64(size), nil
		}
		return req, n.Close, nil
	}
}

// newNodeDo drives a node with Do, the body into memory or, with stream,
// to a body writer (SetBodyWriter) that drops it.
func newNodeDo(stream bool) func(target, bool) (request, func(), error) {
	return func(t target, keepAlive bool) (request, func(), error) {
		n, w, err := newNode(keepAlive, stream)
		if err != nil {
			return nil, nil, err
		}
		url := t.url()
		ctx := context.Background()
		req := func() (int64, error) {
			w.n = 0
			c, err := n.Do(ctx, url, nil, httpclient.MethodGet, nil)
			if err != nil {
				return 0, err
			}
			if c.ResponseCode != http.StatusOK {
				return 0, fmt.Errorf("status %d", c.ResponseCode)
			}
			if stream {
				return w.n, nil
			}
			return int64(len(c.Body)), nil
		}
		return req, n.Close, nil
	}
}

// newNodeFile is download_file: Do with SetDownloadFile(path).
func newNodeFile(path string) func(target, bool) (request, func(), error) {
	return func(t target, _ bool) (request, func(), error) {
		n := httprequest.New()
		if err := n.SetDownloadFile(path); err != nil {
			return nil, nil, err
		}
		url := t.url()
		req := func() (int64, error) {
			c, err := n.Do(context.Background(), url, nil, httpclient.MethodGet, nil)
			if err != nil {
				return 0, err
			}
			if c.Body != nil {
				return 0, errors.New("download_file: the body was held in memory")
			}
			return fileSize(path)
		}
		return req, n.Close, nil
	}
}

func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	_ = os.Remove(path)
	return fi.Size(), nil
}

// newNetHTTP is net/http: Get, then io.CopyBuffer with the 64 KiB buffer, or
// io.ReadAll with readAll. Without keep-alive the transport opens a new
// connection per request (DisableKeepAlives). Compression is left on, so
// gzip bodies are decoded by the transport, as for any net/http user.
func newNetHTTP(readAll bool) func(target, bool) (request, func(), error) {
	return func(t target, keepAlive bool) (request, func(), error) {
		tr := &http.Transport{DisableKeepAlives: !keepAlive, MaxIdleConnsPerHost: 1}
		buf := make([]byte, bodyBuf)
		return clientGet(tr, t.url(), func(r io.Reader) (int64, error) {
			if readAll {
				b, err := io.ReadAll(r)
				return int64(len(b)), err
			}
			return readBody(r, buf)
		}), tr.CloseIdleConnections, nil
	}
}

// newTransport is gdhttp's http.RoundTripper (httpclient.Transport) under an
// http.Client: Get, then io.CopyBuffer with the 64 KiB buffer — the read
// of any code written against net/http that swaps in gdhttp's transport.
// It does not ask for compression (Godot's HTTPClient does not), so gzip
// bodies go through compress/gzip, as for fasthttp. Without keep-alive it
// keeps no idle connection, so every request dials.
func newTransport(t target, keepAlive bool) (request, func(), error) {
	tr := &httpclient.Transport{MaxIdleConnsPerHost: 1}
	if !keepAlive {
		tr.MaxIdleConnsPerHost = -1
	}
	buf := make([]byte, bodyBuf)
	var gz gunzipper
	return clientGet(tr, t.url(), func(r io.Reader) (int64, error) {
		if t.gzip {
			var err error
			if r, err = gz.reader(r); err != nil {
				return 0, err
			}
		}
		return readBody(r, buf)
	}), tr.CloseIdleConnections, nil
}

// clientGet is a request of an http.Client over rt: Get url, require a 200,
// then read the body with read.
func clientGet(rt http.RoundTripper, url string, read func(io.Reader) (int64, error)) request {
	hc := &http.Client{Transport: rt}
	return func() (int64, error) {
		resp, err := hc.Get(url)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("status %d", resp.StatusCode)
		}
		return read(resp.Body)
	}
}

// newNetHTTPFile is net/http's download_file: Get, io.Copy into a file.
func newNetHTTPFile(path string) func(target, bool) (request, func(), error) {
	return func(t target, _ bool) (request, func(), error) {
		tr := &http.Transport{DisableKeepAlives: true}
		hc := &http.Client{Transport: tr}
		url := t.url()
		req := func() (int64, error) {
			resp, err := hc.Get(url)
			if err != nil {
				return 0, err
			}
			defer resp.Body.Close()
			f, err := os.Create(path)
			if err != nil {
				return 0, err
			}
			if _, err := io.Copy(f, resp.Body); err != nil {
				_ = f.Close()
				return 0, err
			}
			if err := f.Close(); err != nil {
				return 0, err
			}
			return fileSize(path)
		}
		return req, tr.CloseIdleConnections, nil
	}
}

// newFastHTTP is fasthttp with a reused Request and Response. Downloads
// stream the body (StreamResponseBody) through io.CopyBuffer with the 64 KiB
// buffer, gzip through compress/gzip (fasthttp does not decode on its own);
// small GETs read it into the Response. Without keep-alive every request
// carries Connection: close.
func newFastHTTP(stream bool) func(target, bool) (request, func(), error) {
	return func(t target, keepAlive bool) (request, func(), error) {
		fc := &fasthttp.Client{StreamResponseBody: stream}
		freq := fasthttp.AcquireRequest()
		resp := fasthttp.AcquireResponse()
		freq.SetRequestURI(t.url())
		if !keepAlive {
			freq.SetConnectionClose()
		}
		buf := make([]byte, bodyBuf)
		var gz gunzipper
		req := func() (int64, error) {
			if err := fc.Do(freq, resp); err != nil {
				return 0, err
			}
			defer func() { _ = resp.CloseBodyStream() }()
			if code := resp.StatusCode(); code != fasthttp.StatusOK {
				return 0, fmt.Errorf("status %d", code)
			}
			r := resp.BodyStream()
			if r == nil {
				if !t.gzip {
					return int64(len(resp.Body())), nil
				}
				r = bytes.NewReader(resp.Body())
			}
			if t.gzip {
				var err error
				if r, err = gz.reader(r); err != nil {
					return 0, err
				}
			}
			return readBody(r, buf)
		}
		closeFn := func() {
			fasthttp.ReleaseRequest(freq)
			fasthttp.ReleaseResponse(resp)
			fc.CloseIdleConnections()
		}
		return req, closeFn, nil
	}
}

// newCurl runs curl as an external process for each download (its start-up
// is part of the time); --compressed decodes gzip.
func newCurl(t target, _ bool) (request, func(), error) {
	args := []string{"-s", "-S", "-o", "/dev/null", "-w", "%{size_download}"}
	if t.gzip {
		args = append(args, "--compressed")
	}
	args = append(args, t.url())
	req := func() (int64, error) {
		out, err := exec.Command("curl", args...).Output()
		if err != nil {
			return 0, fmt.Errorf("curl: %w", err)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("curl printed %q", out)
		}
		return n, nil
	}
	return req, func() {}, nil
}

// newRaw is the transfer with no HTTP client at all: a bare net.Conn that
// sends the request with Connection: close and reads the whole response
// (head, body, framing) with conn.Read into a buffer of bufSize bytes until
// the server closes. It returns the wire byte count; the caller counts it
// as the body size.
func newRaw(bufSize int) func(target, bool) (request, func(), error) {
	return func(t target, _ bool) (request, func(), error) {
		buf := make([]byte, bufSize)
		return rawGet(t, func(conn net.Conn) (int64, error) {
			var total int64
			for {
				n, err := conn.Read(buf)
				total += int64(n)
				if err != nil {
					return total, err
				}
			}
		}), func() {}, nil
	}
}

// newRawMem is newRaw with the response kept in memory, the floor of every
// client that hands over the body in memory: one buffer is made per
// response, at the body's size plus rawMemSlack for the head and the chunk
// lines, and each conn.Read of at most 64 KiB goes straight to its end (a
// larger response grows it). The body is never copied, the buffer never
// grown by doubling: what is left is the cost of putting the bytes in fresh
// memory. The buffer is marked for huge pages, as the node marks its body
// (internal/hugepage).
func newRawMem(t target, _ bool) (request, func(), error) {
	return rawGet(t, func(conn net.Conn) (int64, error) {
		b := make([]byte, 0, t.size+rawMemSlack(t.size))
		hugepage.Advise(b)
		for {
			b = slices.Grow(b, 64*kiB)
			n, err := conn.Read(b[len(b) : len(b)+64*kiB])
			b = b[:len(b)+n]
			if err != nil {
				return int64(len(b)), err
			}
		}
	}), func() {}, nil
}

// rawMemSlack is what raw-mem's buffer holds beyond a body of size bytes:
// the chunk lines of the chunked workload (8 bytes per rawserver.ChunkSize chunk), the
// head, and one read of room, so that no size of -size makes it grow.
func rawMemSlack(size int64) int64 { return size/rawserver.ChunkSize*8 + 64*kiB + 64*kiB }

// rawGet is the request of the raw clients: dial, send a GET with
// Connection: close, then read reads the response until its error; io.EOF
// (the server's close) ends it cleanly.
func rawGet(t target, read func(net.Conn) (int64, error)) request {
	head := []byte("GET " + t.path + " HTTP/1.1\r\nHost: " + t.addr() + "\r\nConnection: close\r\n\r\n")
	return func() (int64, error) {
		conn, err := net.Dial("tcp", t.addr())
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		if _, err := conn.Write(head); err != nil {
			return 0, err
		}
		n, err := read(conn)
		if err == io.EOF {
			err = nil
		}
		return n, err
	}
}
