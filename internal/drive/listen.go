package drive

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"
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
	serve(t, ln, true, func(_ int, conn net.Conn) { handle(conn) })
	return ln
}

// Listen is Serve on network and addr ("tcp", "[::1]:0" …), for a handler
// told each connection's index (0, 1, …) that leaves the connection open
// when it returns: every connection is closed by stop, which also closes
// the listener and joins the goroutines. stop may be called before the test
// ends (to check for leaks then), and runs at its end anyway.
func Listen(t testing.TB, network, addr string, handle func(i int, conn net.Conn)) (ln net.Listener, stop func()) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatalf("drive: listen: %v", err)
	}
	return ln, serve(t, ln, false, handle)
}

// serve accepts on ln until stop, running handle for each connection in its
// own goroutine (closing the connection when handle returns if
// closeOnReturn); stop, also run at the test's end, closes the listener and
// every connection still open and joins the goroutines.
func serve(t testing.TB, ln net.Listener, closeOnReturn bool, handle func(i int, conn net.Conn)) (stop func()) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
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
				if closeOnReturn {
					defer func() {
						mu.Lock()
						delete(conns, conn)
						mu.Unlock()
						_ = conn.Close()
					}()
				}
				handle(i, conn)
			}()
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = ln.Close()
			mu.Lock()
			for c := range conns {
				_ = c.Close()
			}
			mu.Unlock()
		})
		wg.Wait()
	}
	t.Cleanup(stop)
	return stop
}

// SkipHead reads r up to the end of a request head (an empty line).
func SkipHead(r *bufio.Reader) error {
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if l == "\r\n" || l == "\n" {
			return nil
		}
	}
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

// Relay is a TCP relay on 127.0.0.1:0 in front of target: every connection
// it accepts gets a connection of its own to target (a client whose target
// cannot be reached is closed). up copies the client's bytes to the target
// and down the target's to the client, each until its source ends, and is
// told the connection's number (1 for the first); nil is io.Copy. After
// each copy the write side of its destination is closed (the other
// direction keeps flowing); when both are done the two connections are
// closed. When the test ends the listener and every connection are closed
// and the goroutines joined.
func Relay(t testing.TB, target string, up, down func(n int, dst io.Writer, src io.Reader)) *net.TCPListener {
	t.Helper()
	var mu sync.Mutex
	var count int
	servers := map[net.Conn]struct{}{}
	ln := Serve(t, func(c net.Conn) {
		s, err := net.DialTimeout("tcp", target, 5*time.Second)
		if err != nil {
			return
		}
		mu.Lock()
		count++
		n := count
		servers[s] = struct{}{}
		mu.Unlock()
		defer func() {
			mu.Lock()
			delete(servers, s)
			mu.Unlock()
			_ = s.Close()
		}()
		done := make(chan struct{})
		go func() {
			defer close(done)
			relayCopy(up, n, s, c)
		}()
		relayCopy(down, n, c, s)
		<-done
	})
	// Runs before Serve's cleanup (LIFO): the copies from the targets end,
	// then Serve closes the clients and joins the handlers.
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for s := range servers {
			_ = s.Close()
		}
	})
	return ln
}

// relayCopy runs copy (nil: io.Copy) from src to dst, then closes dst's
// write side.
func relayCopy(copy func(n int, dst io.Writer, src io.Reader), n int, dst, src net.Conn) {
	if copy == nil {
		_, _ = io.Copy(dst, src)
	} else {
		copy(n, dst, src)
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}
