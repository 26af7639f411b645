package httpclient

// A TLS server whose records after the handshake are written by the test,
// so that it can send what crypto/tls servers never send: a HelloRequest,
// alerts of any level, a KeyUpdate, empty records. crypto/tls does the
// handshake and reads the request; the server's write keys come from its
// KeyLogWriter (and, for TLS 1.2, the ServerHello random it wrote), and the
// forger seals its own records with them (internal/tlsforge) on the raw
// connection.

import (
	"crypto/tls"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gdhttp/gdhttp/internal/tlsforge"
)

// forger writes protected records on the server's raw connection with the
// server's write keys.
type forger = tlsforge.Conn

// forgeServer runs a TLS server on 127.0.0.1:0 that accepts only version
// (tls.VersionTLS12 or tls.VersionTLS13) with cert. For each connection it
// does the handshake, reads the request head, then runs script with a
// forger and keeps the connection open until the test ends. It returns the
// port; everything is stopped and joined at cleanup. Failures of the
// server's own machinery are test errors; a script's error (the client
// went away) ends the connection.
func forgeServer(t *testing.T, cert tls.Certificate, version uint16, script func(f *forger) error) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, raw)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer raw.Close()
				f, err := forgeHandshake(raw, cert, version)
				if err != nil {
					t.Errorf("forger: %v", err)
					return
				}
				if f == nil || script(f) != nil {
					return
				}
				<-done
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// forgeHandshake does the server's handshake on raw, reads the request
// head and returns a forger holding the server's write keys; nil, nil when
// the client gave up first.
func forgeHandshake(raw net.Conn, cert tls.Certificate, version uint16) (*forger, error) {
	f := forgeAccept(raw, cert, version)
	if f == nil {
		return nil, nil
	}
	if _, ok := f.ReadHead(); !ok {
		return nil, nil
	}
	return f, nil
}

// forgeAccept does the server's handshake on raw at version, within
// driveTimeout, and returns the forger; nil when it failed (the client gave
// up, or the test ended).
func forgeAccept(raw net.Conn, cert tls.Certificate, version uint16) *forger {
	if raw.SetDeadline(time.Now().Add(driveTimeout)) != nil {
		return nil
	}
	f, err := tlsforge.Accept(raw, cert, version)
	if err != nil || raw.SetDeadline(time.Time{}) != nil {
		return nil
	}
	return f
}
