package tlsforge

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"sync"
)

// Conn is a server connection whose records after the handshake are the
// test's: crypto/tls did the handshake and reads the client's records (R
// reads their plaintext); the server's own records are sealed with its
// write keys and written on Raw, so that nothing else may write on TLS.
type Conn struct {
	Raw net.Conn
	TLS *tls.Conn
	R   *bufio.Reader
	s   *Sealer
}

// Accept does the server's handshake on raw with cert, at version
// (tls.VersionTLS12 or tls.VersionTLS13) only, with the cipher suites and
// settings New supports (no session tickets of crypto/tls's own), and
// returns the Conn. Deadlines on raw are the caller's.
func Accept(raw net.Conn, cert tls.Certificate, version uint16) (*Conn, error) {
	fb := &firstBytes{Conn: raw}
	var keylog strings.Builder
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version,
		SessionTicketsDisabled: true, KeyLogWriter: &keylog}
	if version == tls.VersionTLS12 {
		cfg.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	}
	tc := tls.Server(fb, cfg)
	if err := tc.Handshake(); err != nil {
		return nil, err
	}
	s, err := New(keylog.String(), fb.bytes(), tc.ConnectionState())
	if err != nil {
		return nil, err
	}
	return &Conn{Raw: raw, TLS: tc, R: bufio.NewReader(tc), s: s}, nil
}

// Seal returns one protected record of type typ holding data, the next in
// the connection's order: it must be written before any record sealed
// after it.
func (c *Conn) Seal(typ byte, data []byte) []byte { return c.s.Append(nil, typ, data) }

// Record writes one protected record of type typ holding data.
func (c *Conn) Record(typ byte, data []byte) error {
	_, err := c.Raw.Write(c.Seal(typ, data))
	return err
}

// App writes s in one application data record (empty s: an empty record).
func (c *Conn) App(s string) error { return c.Record(RecordApplication, []byte(s)) }

// Alert writes one alert record.
func (c *Conn) Alert(level, desc byte) error {
	return c.Record(RecordAlert, []byte{level, desc})
}

// HelloRequest (TLS 1.2) asks for a renegotiation.
func (c *Conn) HelloRequest() error {
	return c.Record(RecordHandshake, []byte{0, 0, 0, 0})
}

// Ticket (TLS 1.3) writes a NewSessionTicket the client may ignore.
func (c *Conn) Ticket() error {
	_, err := c.Raw.Write(c.s.AppendTicket(nil))
	return err
}

// KeyUpdate (TLS 1.3) writes a KeyUpdate (update_requested when requested)
// and moves to the next write keys.
func (c *Conn) KeyUpdate(requested bool) error {
	_, err := c.Raw.Write(c.s.AppendKeyUpdate(nil, requested))
	return err
}

// ReadHead reads a request head (through its empty line) and returns its
// lines without their line ends; false when the client went away first.
func (c *Conn) ReadHead() ([]string, bool) {
	var lines []string
	for {
		line, err := c.R.ReadString('\n')
		if err != nil {
			return nil, false
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return lines, true
		}
		lines = append(lines, line)
	}
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
