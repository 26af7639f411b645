// Package rawserver is the benchmarks' HTTP server: raw TCP on 127.0.0.1
// writing pre-built responses, shared by cmd/compare and cmd/scale.
package rawserver

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// The server: raw TCP on 127.0.0.1 writing pre-built responses, so that its
// cost is small and the same for every client. It normally runs in a child
// process (the command re-executed with -serve, StartChild and ServeMain) so
// that it does not share the measuring process's scheduler, heap or
// allocation counters. Routes:
//
//	/cl/N     Content-Length body of N bytes
//	/ch/N     chunked body of N bytes in 16 KiB chunks (N a multiple of 16 KiB)
//	/gz/N     gzip (Content-Encoding) of N bytes of compressible text, with Content-Length
//	/small    a 13-byte body
//	/hang     never answered: the server reads until the client closes
//	/half/N   a Content-Length N head and N/2 body bytes, then nothing more
//
// Every connection is keep-alive; a request head with "Connection: close" is
// answered and then the connection is closed.

const (
	// ChunkSize is the chunk size of /ch/N.
	ChunkSize = 16 << 10
	// SmallBody is the body of /small.
	SmallBody  = "Hello, world!"
	writeBlock = 1 << 20 // bodies are written from pre-built blocks of this size
)

var smallResponse = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
	strconv.Itoa(len(SmallBody)) + "\r\n\r\n" + SmallBody)

// Server is the server, running in this process (New) or in a child
// (StartChild).
type Server struct {
	ln    net.Listener
	block []byte // writeBlock bytes of body data
	chunk []byte // writeBlock/ChunkSize chunk frames of ChunkSize bytes each

	mu sync.Mutex
	gz map[int64][]byte // plain size -> gzip bytes

	wg    sync.WaitGroup
	cmu   sync.Mutex
	conns map[net.Conn]struct{}
}

// New starts a server on 127.0.0.1.
func New() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, gz: map[int64][]byte{}, conns: map[net.Conn]struct{}{}}
	r := rand.New(rand.NewPCG(1, 1))
	s.block = make([]byte, writeBlock)
	for i := range s.block {
		s.block[i] = byte('a' + r.IntN(26))
	}
	data := s.block[:ChunkSize]
	for range writeBlock / ChunkSize {
		s.chunk = strconv.AppendInt(s.chunk, ChunkSize, 16)
		s.chunk = append(s.chunk, "\r\n"...)
		s.chunk = append(s.chunk, data...)
		s.chunk = append(s.chunk, "\r\n"...)
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server: its listener and every connection.
func (s *Server) Close() {
	_ = s.ln.Close()
	s.cmu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.cmu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.cmu.Lock()
		s.conns[c] = struct{}{}
		s.cmu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
			s.cmu.Lock()
			delete(s.conns, c)
			s.cmu.Unlock()
			_ = c.Close()
		}()
	}
}

func (s *Server) serveConn(c net.Conn) {
	buf := make([]byte, 16<<10)
	have := 0
	for {
		end := bytes.Index(buf[:have], []byte("\r\n\r\n"))
		if end < 0 {
			if have == len(buf) {
				return
			}
			n, err := c.Read(buf[have:])
			if err != nil {
				return
			}
			have += n
			continue
		}
		head := buf[:end]
		closeAfter := bytes.Contains(bytes.ToLower(head), []byte("\nconnection: close"))
		var path string
		if f := strings.Fields(string(head[:max(0, bytes.IndexByte(head, '\r'))])); len(f) >= 2 {
			path = f[1]
		}
		if err := s.respond(c, path); err != nil {
			return
		}
		if closeAfter {
			return
		}
		have = copy(buf, buf[end+4:have])
	}
}

func (s *Server) respond(w io.Writer, path string) error {
	if path == "/small" {
		_, err := w.Write(smallResponse)
		return err
	}
	if path == "/hang" {
		// Never answered: read until the client closes.
		if r, ok := w.(io.Reader); ok {
			_, _ = io.Copy(io.Discard, r)
		}
		return errors.New("hang")
	}
	if rest, ok := strings.CutPrefix(path, "/half/"); ok {
		// A head with Content-Length N, N/2 body bytes, then nothing more.
		n, _ := strconv.Atoi(rest)
		if _, err := io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(n)+"\r\n\r\n"); err != nil {
			return err
		}
		if _, err := w.Write(s.block[:min(n/2, len(s.block))]); err != nil {
			return err
		}
		if r, ok := w.(io.Reader); ok {
			_, _ = io.Copy(io.Discard, r)
		}
		return errors.New("half")
	}
	route, arg, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	n, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || n < 0 {
		_, err := io.WriteString(w, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
		return err
	}
	switch route {
	case "cl":
		head := "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
			strconv.FormatInt(n, 10) + "\r\n\r\n"
		return s.writeRepeated(w, head, s.block, n)
	case "ch":
		head := "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
		frame := int64(len(s.chunk) / (writeBlock / ChunkSize))
		if err := s.writeRepeated(w, head, s.chunk, n/ChunkSize*frame); err != nil {
			return err
		}
		_, err := io.WriteString(w, "0\r\n\r\n")
		return err
	case "gz":
		gz := s.GzipOf(n)
		head := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: " +
			strconv.Itoa(len(gz)) + "\r\n\r\n"
		return s.writeWhole(w, head, gz)
	}
	_, err = io.WriteString(w, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
	return err
}

// writeRepeated writes head and then total bytes taken from block, repeated.
func (s *Server) writeRepeated(w io.Writer, head string, block []byte, total int64) error {
	first := min(total, int64(len(block)))
	bufs := net.Buffers{[]byte(head), block[:first]}
	if _, err := bufs.WriteTo(w); err != nil {
		return err
	}
	for left := total - first; left > 0; {
		n := min(left, int64(len(block)))
		if _, err := w.Write(block[:n]); err != nil {
			return err
		}
		left -= n
	}
	return nil
}

// writeWhole writes head and then data, in writes of at most writeBlock bytes.
func (s *Server) writeWhole(w io.Writer, head string, data []byte) error {
	first := min(len(data), writeBlock)
	bufs := net.Buffers{[]byte(head), data[:first]}
	if _, err := bufs.WriteTo(w); err != nil {
		return err
	}
	for off := first; off < len(data); {
		n := min(len(data)-off, writeBlock)
		if _, err := w.Write(data[off : off+n]); err != nil {
			return err
		}
		off += n
	}
	return nil
}

// gzipOf returns (and caches) the gzip encoding of plain bytes of text made
// of random words: compressible (about 3:1), not trivially so.
// GzipOf returns (and builds once) the gzip body of /gz/plain.
func (s *Server) GzipOf(plain int64) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gz, ok := s.gz[plain]; ok {
		return gz
	}
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	bw := bufio.NewWriterSize(zw, 64<<10)
	r := rand.New(rand.NewPCG(3, 3))
	words := []string{"godot ", "request ", "gzip ", "body ", "stream ", "frame\n", "node ", "client ",
		"poll ", "chunk ", "header ", "connection ", "keep-alive ", "download ", "file ", "signal "}
	for written := int64(0); written < plain; {
		w := words[r.IntN(len(words))]
		w = w[:min(int64(len(w)), plain-written)]
		_, _ = bw.WriteString(w)
		written += int64(len(w))
	}
	_ = bw.Flush()
	_ = zw.Close()
	s.gz[plain] = out.Bytes()
	return s.gz[plain]
}

// ServeMain is the child process's main (name: the command, for messages):
// it prints the server's address on stdout, pre-builds the gzip body for
// -size, and serves until its stdin ends (the parent exited or closed the
// pipe).
func ServeMain(name string, args []string) int {
	fs := flag.NewFlagSet(name+" -serve", flag.ContinueOnError)
	fs.Bool("serve", true, "run the server")
	gzSize := fs.Int64("size", 0, "pre-build the gzip body of this plain size")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	s, err := New()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+" -serve:", err)
		return 1
	}
	if *gzSize > 0 {
		s.GzipOf(*gzSize)
	}
	fmt.Println(s.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	s.Close()
	return 0
}

// Child is the server running in a child process.
type Child struct {
	cmd   *exec.Cmd
	stdin io.Closer
	Addr  string // host:port
}

// StartChild re-executes this binary as the server, with env=1 in its
// environment (its main then calls ServeMain), and reads its address.
func StartChild(env string, gzSize int64) (*Child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve", "-size", strconv.FormatInt(gzSize, 10))
	cmd.Env = append(os.Environ(), env+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = stdin.Close()
		_ = cmd.Wait()
		return nil, fmt.Errorf("server child: %w", err)
	}
	addr := strings.TrimSpace(line)
	if _, _, err := net.SplitHostPort(addr); err != nil {
		_ = stdin.Close()
		_ = cmd.Wait()
		return nil, errors.New("server child printed " + strconv.Quote(line))
	}
	return &Child{cmd: cmd, stdin: stdin, Addr: addr}, nil
}

// Close ends the child and waits for it.
func (c *Child) Close() {
	_ = c.stdin.Close()
	_ = c.cmd.Wait()
}
