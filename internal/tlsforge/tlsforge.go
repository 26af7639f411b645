// Package tlsforge seals TLS records with a crypto/tls server's write keys,
// so that a test server can send what crypto/tls servers never send: a
// HelloRequest, alerts of any level, a KeyUpdate, a NewSessionTicket in the
// middle of a body, empty records, a record cut short.
//
// crypto/tls does the handshake; the keys come from the server's
// KeyLogWriter and, for TLS 1.2, the random of the ServerHello it wrote
// first. Accept does that handshake on a connection and returns a Conn
// that reads the client's requests and writes the server's records. Supported: TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256 (the server
// must be configured for that suite alone), TLS 1.3 with AES-128-GCM or
// AES-256-GCM (crypto/tls's choices on hardware with AES). The package
// imports nothing of the module; tests of every package use it.
package tlsforge

import (
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
	"strings"
)

// TLS record content types (RFC 8446 §5.1).
const (
	RecordAlert       byte = 21
	RecordHandshake   byte = 22
	RecordApplication byte = 23
)

// Alert levels and the descriptions tests send (RFC 5246 §7.2).
const (
	AlertWarning         byte = 1
	AlertFatal           byte = 2
	AlertCloseNotify     byte = 0
	AlertInternalError   byte = 80
	AlertUnrecognizedSNI byte = 112 // unrecognized_name
)

// A Sealer protects records with the server's write keys, in order: the
// sequence numbers follow the records sealed, so records must leave in the
// order they were sealed.
type Sealer struct {
	tls13  bool
	aead   cipher.AEAD
	iv     []byte // TLS 1.3: the 12-byte write IV; TLS 1.2: the 4-byte GCM salt
	seq    uint64
	secret []byte // TLS 1.3: the server application traffic secret
	newH   func() hash.Hash
	keyLen int
}

// New returns the Sealer of a server connection whose handshake is done:
// keylog is what its KeyLogWriter received, first the first bytes it wrote
// (at least the ServerHello record's first 43; TLS 1.2 only), cs its
// ConnectionState.
func New(keylog string, first []byte, cs tls.ConnectionState) (*Sealer, error) {
	logged := func(label string) (random, secret []byte, err error) {
		for l := range strings.Lines(keylog) {
			if p := strings.Fields(l); len(p) == 3 && p[0] == label {
				random, err = hex.DecodeString(p[1])
				if err == nil {
					secret, err = hex.DecodeString(p[2])
				}
				return random, secret, err
			}
		}
		return nil, nil, fmt.Errorf("tlsforge: no %s in the key log", label)
	}
	s := &Sealer{}
	switch cs.Version {
	case tls.VersionTLS13:
		s.tls13 = true
		switch cs.CipherSuite {
		case tls.TLS_AES_128_GCM_SHA256:
			s.newH, s.keyLen = sha256.New, 16
		case tls.TLS_AES_256_GCM_SHA384:
			s.newH, s.keyLen = sha512.New384, 32
		default:
			return nil, fmt.Errorf("tlsforge: cipher suite %s is not supported", tls.CipherSuiteName(cs.CipherSuite))
		}
		var err error
		if _, s.secret, err = logged("SERVER_TRAFFIC_SECRET_0"); err != nil {
			return nil, err
		}
		return s, s.setKeys13()
	case tls.VersionTLS12:
		if cs.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 {
			return nil, fmt.Errorf("tlsforge: cipher suite %s is not supported", tls.CipherSuiteName(cs.CipherSuite))
		}
	default:
		return nil, fmt.Errorf("tlsforge: version %s is not supported", tls.VersionName(cs.Version))
	}
	clientRandom, master, err := logged("CLIENT_RANDOM")
	if err != nil {
		return nil, err
	}
	// The ServerHello record: record header (5), handshake header (4),
	// version (2), then the random.
	if len(first) < 43 || first[0] != RecordHandshake || first[5] != 2 {
		return nil, errors.New("tlsforge: the server did not begin with a ServerHello record")
	}
	serverRandom := first[11:43]
	// key_block: client key (16), server key (16), client salt (4), server salt (4).
	kb := prf12(master, "key expansion", append(append([]byte(nil), serverRandom...), clientRandom...), 40)
	block, err := aes.NewCipher(kb[16:32])
	if err != nil {
		return nil, err
	}
	s.iv = kb[36:40]
	s.seq = 1 // the server's Finished was record 0 of the epoch
	s.aead, err = cipher.NewGCM(block)
	return s, err
}

// nonce is the AEAD nonce of the next record: RFC 8446 §5.3 for TLS 1.3,
// salt then explicit sequence number for TLS 1.2 (RFC 5288 §3).
func (s *Sealer) nonce() []byte {
	n := make([]byte, 12)
	copy(n, s.iv)
	if s.tls13 {
		for i := range 8 {
			n[4+i] ^= byte(s.seq >> (56 - 8*i))
		}
		return n
	}
	binary.BigEndian.PutUint64(n[4:], s.seq)
	return n
}

// Append appends one protected record of type typ holding data to dst.
func (s *Sealer) Append(dst []byte, typ byte, data []byte) []byte {
	if s.tls13 {
		inner := append(append([]byte(nil), data...), typ)
		hdr := []byte{RecordApplication, 3, 3, 0, 0}
		binary.BigEndian.PutUint16(hdr[3:], uint16(len(inner)+s.aead.Overhead()))
		dst = s.aead.Seal(append(dst, hdr...), s.nonce(), inner, hdr)
	} else {
		aad := make([]byte, 13)
		binary.BigEndian.PutUint64(aad, s.seq)
		aad[8], aad[9], aad[10] = typ, 3, 3
		binary.BigEndian.PutUint16(aad[11:], uint16(len(data)))
		n := s.nonce()
		hdr := []byte{typ, 3, 3, 0, 0}
		binary.BigEndian.PutUint16(hdr[3:], uint16(8+len(data)+s.aead.Overhead()))
		dst = s.aead.Seal(append(append(dst, hdr...), n[4:]...), n, data, aad)
	}
	s.seq++
	return dst
}

// AppendTicket (TLS 1.3) appends a NewSessionTicket the client may ignore.
func (s *Sealer) AppendTicket(dst []byte) []byte {
	body := []byte{0, 0, 0, 60, 1, 2, 3, 4, 0, 0, 3, 't', 'k', 't', 0, 0}
	return s.Append(dst, RecordHandshake, append([]byte{4, 0, 0, byte(len(body))}, body...))
}

// AppendKeyUpdate (TLS 1.3) appends a KeyUpdate (update_requested when
// requested) and moves to the next write keys (RFC 8446 §7.2).
func (s *Sealer) AppendKeyUpdate(dst []byte, requested bool) []byte {
	var req byte
	if requested {
		req = 1
	}
	dst = s.Append(dst, RecordHandshake, []byte{24, 0, 0, 1, req})
	s.secret = expandLabel(s.newH, s.secret, "traffic upd", s.newH().Size())
	if err := s.setKeys13(); err != nil {
		panic(err) // AES takes both key sizes, and the suite was checked in New
	}
	return dst
}

// setKeys13 derives the TLS 1.3 write key and IV from s.secret.
func (s *Sealer) setKeys13() error {
	block, err := aes.NewCipher(expandLabel(s.newH, s.secret, "key", s.keyLen))
	if err != nil {
		return err
	}
	s.iv = expandLabel(s.newH, s.secret, "iv", 12)
	s.aead, err = cipher.NewGCM(block)
	s.seq = 0
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
