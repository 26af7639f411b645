package httpclient

// A TLS server whose records after the handshake are written by the test,
// so that it can send what crypto/tls servers never send: a HelloRequest,
// alerts of any level, a KeyUpdate, empty records. crypto/tls does the
// handshake and reads the request; the server's write keys come from its
// KeyLogWriter (and, for TLS 1.2, the ServerHello random it wrote), and the
// forger seals its own records with them (internal/tlsforge) on the raw
// connection.

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdhttp/gdhttp/internal/tlsforge"
)

// forger writes protected records on the server's raw connection with the
// server's write keys.
type forger struct {
	raw net.Conn
	s   *tlsforge.Sealer
}

// record sends one protected record of type typ holding data.
func (f *forger) record(typ byte, data []byte) error {
	_, err := f.raw.Write(f.s.Append(nil, typ, data))
	return err
}

// App sends s in one application data record (empty s: an empty record).
func (f *forger) App(s string) error { return f.record(tlsforge.RecordApplication, []byte(s)) }

// Alert sends one alert record.
func (f *forger) Alert(level, desc byte) error {
	return f.record(tlsforge.RecordAlert, []byte{level, desc})
}

// HelloRequest (TLS 1.2) asks for a renegotiation.
func (f *forger) HelloRequest() error {
	return f.record(tlsforge.RecordHandshake, []byte{0, 0, 0, 0})
}

// Ticket (TLS 1.3) sends a NewSessionTicket the client may ignore.
func (f *forger) Ticket() error {
	_, err := f.raw.Write(f.s.AppendTicket(nil))
	return err
}

// KeyUpdate (TLS 1.3) sends a KeyUpdate (update_requested when requested)
// and moves to the next write keys.
func (f *forger) KeyUpdate(requested bool) error {
	_, err := f.raw.Write(f.s.AppendKeyUpdate(nil, requested))
	return err
}

// firstBytes keeps the first bytes written to it (the ServerHello record,
// whose random the TLS 1.2 key expansion needs).
type firstBytes struct {
	net.Conn
	mu    sync.Mutex
	first []byte
}

func (c *firstBytes) Write(p []byte) (int, error) {
	c.mu.Lock()
	if len(c.first) < 64 {
		c.first = append(c.first, p...)
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// bytes returns a copy of the first bytes written.
func (c *firstBytes) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.first...)
}

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
	fb := &firstBytes{Conn: raw}
	var keylog strings.Builder
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version,
		SessionTicketsDisabled: true, KeyLogWriter: &keylog}
	if version == tls.VersionTLS12 {
		cfg.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	}
	tc := tls.Server(fb, cfg)
	if err := raw.SetDeadline(time.Now().Add(driveTimeout)); err != nil {
		return nil, err
	}
	if err := tc.Handshake(); err != nil {
		return nil, nil
	}
	br := bufio.NewReader(tc)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, nil
		}
		if line == "\r\n" {
			break
		}
	}
	if err := raw.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	sealer, err := tlsforge.New(keylog.String(), fb.bytes(), tc.ConnectionState())
	if err != nil {
		return nil, err
	}
	return &forger{raw: raw, s: sealer}, nil
}
