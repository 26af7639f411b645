package httpclient

// A TLS server whose records after the handshake are written by the test,
// so that it can send what crypto/tls servers never send: a HelloRequest,
// alerts of any level, a KeyUpdate, empty records. crypto/tls does the
// handshake and reads the request; the server's write keys come from its
// KeyLogWriter (and, for TLS 1.2, the ServerHello random it wrote), and the
// forger protects its own records with them on the raw connection.
// Supported: TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256, TLS 1.3 with
// AES-128-GCM or AES-256-GCM (crypto/tls's choices on hardware with AES).

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TLS record content types (RFC 8446 §5.1).
const (
	recordAlert       byte = 21
	recordHandshake   byte = 22
	recordApplication byte = 23
)

// Alert levels and the descriptions the tests send (RFC 5246 §7.2).
const (
	alertWarning         byte = 1
	alertFatal           byte = 2
	alertCloseNotify     byte = 0
	alertUnrecognizedSNI byte = 112 // unrecognized_name
)

// forger writes protected records on the server's raw connection with the
// server's write keys.
type forger struct {
	raw    net.Conn
	tls13  bool
	aead   cipher.AEAD
	iv     []byte // TLS 1.3: the 12-byte write IV; TLS 1.2: the 4-byte GCM salt
	seq    uint64
	secret []byte // TLS 1.3: the server application traffic secret
	newH   func() hash.Hash
	keyLen int
}

// nonce is the AEAD nonce of the next record: RFC 8446 §5.3 for TLS 1.3,
// salt then explicit sequence number for TLS 1.2 (RFC 5288 §3).
func (f *forger) nonce() []byte {
	n := make([]byte, 12)
	copy(n, f.iv)
	if f.tls13 {
		for i := range 8 {
			n[4+i] ^= byte(f.seq >> (56 - 8*i))
		}
		return n
	}
	binary.BigEndian.PutUint64(n[4:], f.seq)
	return n
}

// record sends one protected record of type typ holding data.
func (f *forger) record(typ byte, data []byte) error {
	var rec []byte
	if f.tls13 {
		inner := append(append([]byte(nil), data...), typ)
		hdr := []byte{recordApplication, 3, 3, 0, 0}
		binary.BigEndian.PutUint16(hdr[3:], uint16(len(inner)+f.aead.Overhead()))
		rec = f.aead.Seal(hdr, f.nonce(), inner, hdr)
	} else {
		aad := make([]byte, 13)
		binary.BigEndian.PutUint64(aad, f.seq)
		aad[8], aad[9], aad[10] = typ, 3, 3
		binary.BigEndian.PutUint16(aad[11:], uint16(len(data)))
		n := f.nonce()
		rec = []byte{typ, 3, 3, 0, 0}
		binary.BigEndian.PutUint16(rec[3:], uint16(8+len(data)+f.aead.Overhead()))
		rec = f.aead.Seal(append(rec, n[4:]...), n, data, aad)
	}
	f.seq++
	_, err := f.raw.Write(rec)
	return err
}

// App sends s in one application data record (empty s: an empty record).
func (f *forger) App(s string) error { return f.record(recordApplication, []byte(s)) }

// Alert sends one alert record.
func (f *forger) Alert(level, desc byte) error { return f.record(recordAlert, []byte{level, desc}) }

// HelloRequest (TLS 1.2) asks for a renegotiation.
func (f *forger) HelloRequest() error { return f.record(recordHandshake, []byte{0, 0, 0, 0}) }

// Ticket (TLS 1.3) sends a NewSessionTicket the client may ignore.
func (f *forger) Ticket() error {
	body := []byte{0, 0, 0, 60, 1, 2, 3, 4, 0, 0, 3, 't', 'k', 't', 0, 0}
	return f.record(recordHandshake, append([]byte{4, 0, 0, byte(len(body))}, body...))
}

// KeyUpdate (TLS 1.3) sends a KeyUpdate (update_requested when requested)
// and moves to the next write keys (RFC 8446 §7.2).
func (f *forger) KeyUpdate(requested bool) error {
	var req byte
	if requested {
		req = 1
	}
	if err := f.record(recordHandshake, []byte{24, 0, 0, 1, req}); err != nil {
		return err
	}
	f.secret = expandLabel(f.newH, f.secret, "traffic upd", f.newH().Size())
	return f.setKeys13()
}

// setKeys13 derives the TLS 1.3 write key and IV from f.secret.
func (f *forger) setKeys13() error {
	block, err := aes.NewCipher(expandLabel(f.newH, f.secret, "key", f.keyLen))
	if err != nil {
		return err
	}
	f.iv = expandLabel(f.newH, f.secret, "iv", 12)
	f.aead, err = cipher.NewGCM(block)
	f.seq = 0
	return err
}

// expandLabel is HKDF-Expand-Label with an empty context (RFC 8446 §7.1).
func expandLabel(newH func() hash.Hash, secret []byte, label string, n int) []byte {
	full := "tls13 " + label
	info := append([]byte{byte(n >> 8), byte(n), byte(len(full))}, full...)
	out, err := hkdf.Expand(newH, secret, string(append(info, 0)), n)
	if err != nil {
		panic(err) // n is far below HKDF's limit
	}
	return out
}

// prf12 is the TLS 1.2 PRF with SHA-256 (RFC 5246 §5).
func prf12(secret []byte, label string, seed []byte, n int) []byte {
	seed = append([]byte(label), seed...)
	var out []byte
	for a := seed; len(out) < n; {
		m := hmac.New(sha256.New, secret)
		m.Write(a)
		a = m.Sum(nil)
		m = hmac.New(sha256.New, secret)
		m.Write(a)
		m.Write(seed)
		out = m.Sum(out)
	}
	return out[:n]
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

// serverRandom returns the random of the ServerHello that begins the
// bytes written: record header (5), handshake header (4), version (2).
func (c *firstBytes) serverRandom() ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.first) < 43 || c.first[0] != recordHandshake || c.first[5] != 2 {
		return nil, errors.New("forger: the server did not begin with a ServerHello record")
	}
	return append([]byte(nil), c.first[11:43]...), nil
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
	logged := func(label string) (random, secret []byte, err error) {
		for l := range strings.Lines(keylog.String()) {
			if p := strings.Fields(l); len(p) == 3 && p[0] == label {
				random, err = hex.DecodeString(p[1])
				if err == nil {
					secret, err = hex.DecodeString(p[2])
				}
				return random, secret, err
			}
		}
		return nil, nil, fmt.Errorf("no %s in the key log", label)
	}
	f := &forger{raw: raw}
	if version == tls.VersionTLS13 {
		f.tls13 = true
		switch suite := tc.ConnectionState().CipherSuite; suite {
		case tls.TLS_AES_128_GCM_SHA256:
			f.newH, f.keyLen = sha256.New, 16
		case tls.TLS_AES_256_GCM_SHA384:
			f.newH, f.keyLen = sha512.New384, 32
		default:
			return nil, fmt.Errorf("cipher suite %s is not supported", tls.CipherSuiteName(suite))
		}
		var err error
		if _, f.secret, err = logged("SERVER_TRAFFIC_SECRET_0"); err != nil {
			return nil, err
		}
		return f, f.setKeys13()
	}
	clientRandom, master, err := logged("CLIENT_RANDOM")
	if err != nil {
		return nil, err
	}
	serverRandom, err := fb.serverRandom()
	if err != nil {
		return nil, err
	}
	// key_block: client key (16), server key (16), client salt (4), server salt (4).
	kb := prf12(master, "key expansion", append(serverRandom, clientRandom...), 40)
	block, err := aes.NewCipher(kb[16:32])
	if err != nil {
		return nil, err
	}
	f.iv = kb[36:40]
	f.seq = 1 // the server's Finished was record 0 of the epoch
	f.aead, err = cipher.NewGCM(block)
	return f, err
}
