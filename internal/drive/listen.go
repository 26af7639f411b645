package drive

import (
	"bytes"
	"net"
	"sync"
	"testing"
)

// Serve listens on 127.0.0.1:0 and runs handle for each accepted connection
// in its own goroutine; the connection is closed when handle returns. When
// the test ends, Serve closes the listener and every connection still open,
// and joins its goroutines. The server allocates per connection only, so a
// handler that reads heads with EachHead and writes prepared bytes lets
// testing.AllocsPerRun count the client alone.
func Serve(t testing.TB, handle func(conn net.Conn)) *net.TCPListener {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("drive: listen: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[conn] = struct{}{}
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					mu.Lock()
					delete(conns, conn)
					mu.Unlock()
					_ = conn.Close()
				}()
				handle(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln
}

// Port returns the port ln listens on.
func Port(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

// EachHead reads request heads from conn into one buffer of size bytes and
// calls answer with each head (request line and header lines, without the
// empty line that ends it; valid until answer returns). It returns when the
// connection ends, a head does not fit in the buffer, or answer returns an
// error. It allocates nothing but the buffer; request bodies are not read
// (the servers using it answer GETs).
func EachHead(conn net.Conn, size int, answer func(head []byte) error) {
	buf := make([]byte, size)
	n := 0
	for {
		m, err := conn.Read(buf[n:])
		if err != nil {
			return
		}
		n += m
		for {
			i := bytes.Index(buf[:n], []byte("\r\n\r\n"))
			if i < 0 {
				break
			}
			if err := answer(buf[:i]); err != nil {
				return
			}
			n = copy(buf, buf[i+4:n])
		}
		if n == len(buf) {
			return
		}
	}
}
