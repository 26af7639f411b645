package httpclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// longChain is a chain made in the test (testserver.NewChain): a
// self-signed root, intermediate CAs, a leaf for 127.0.0.1.
type longChain = ts.Chain

func newLongChain(t *testing.T, n, padding int) longChain { return ts.NewChain(t, n, padding) }

// peerCerts returns the parsed certificates c's server sends, leaf first.
func peerCerts(t *testing.T, c longChain) []*x509.Certificate {
	t.Helper()
	certs := make([]*x509.Certificate, len(c.Cert.Certificate))
	for i, der := range c.Cert.Certificate {
		var err error
		certs[i], err = x509.ParseCertificate(der)
		require.NoError(t, err)
	}
	return certs
}

// §1.15.5: mbedTLS builds at most MBEDTLS_X509_MAX_INTERMEDIATE_CA (8)
// untrusted CAs into a chain (x509_crt_verify_chain: "if
// (!parent_is_trusted && ver_chain->len > MBEDTLS_X509_MAX_INTERMEDIATE_CA)
// return MBEDTLS_ERR_X509_FATAL_ERROR", len counting the leaf): the ninth
// fails the chain, a trusted CA is never counted, and mbedTLS looks for a
// trusted parent first, so a chain cut short by a trusted intermediate
// counts only the CAs below it. crypto/x509 has no such limit.
func TestVerifyChainIntermediateLimit(t *testing.T) {
	chain9 := newLongChain(t, 9, 0)
	topTrusted := x509.NewCertPool() // the ninth intermediate (signed by the root) trusted instead of the root
	topTrusted.AddCert(chain9.Intermediates[0])
	midTrusted := chain9.Pool() // the sixth, counted from the leaf, trusted as well as the root
	midTrusted.AddCert(chain9.Intermediates[3])
	for _, c := range []struct {
		name  string
		chain longChain
		roots *x509.CertPool
		ok    bool
	}{
		{"no intermediate", newLongChain(t, 0, 0), nil, true},
		{"8 intermediates", newLongChain(t, 8, 0), nil, true},
		{"9 intermediates", chain9, nil, false},
		{"12 intermediates", newLongChain(t, 12, 0), nil, false},
		{"9 intermediates, the top one trusted: 8 untrusted", chain9, topTrusted, true},
		{"9 intermediates, the sixth trusted: 5 untrusted", chain9, midTrusted, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			roots := c.roots
			if roots == nil {
				roots = c.chain.Pool()
			}
			err := verifyChain(peerCerts(t, c.chain), roots, x509.KeyUsageDigitalSignature)
			if c.ok {
				assert.NoError(t, err)
				return
			}
			var le *wire.LimitError
			require.True(t, errors.As(err, &le), "*wire.LimitError in %v", err)
			assert.Equal(t, &wire.LimitError{What: "intermediate CAs", Limit: 8}, le)
		})
	}
}

// §1.15.5 through a real handshake (TestVerifyChainIntermediateLimit): a
// server chain with 9 intermediate CAs is TLS_HANDSHAKE_ERROR, as Godot's
// handshake fails; 8 connect. Both modes, and client_unsafe with a CA
// chain, which verifies the chain as client() does.
func TestTLSIntermediateCALimit(t *testing.T) {
	for _, c := range []struct {
		name   string
		n      int
		unsafe bool
		ok     bool
	}{
		{"8-intermediates", 8, false, true},
		{"9-intermediates", 9, false, false},
		{"unsafe-8-intermediates", 8, true, true},
		{"unsafe-9-intermediates", 9, true, false},
	} {
		chain := newLongChain(t, c.n, 0)
		opts := TLSClient(chain.Pool(), "")
		if c.unsafe {
			opts = TLSClientUnsafe(chain.Pool())
		}
		for _, m := range modes {
			t.Run(c.name+"/"+m.name, func(t *testing.T) {
				srv := ts.NewTLS(t, chain.Cert, ts.Respond(okResp))
				cl, tr := newClient(t, m.blocking)
				assertChainLimit(t, roundTrip(t, cl, tr, "127.0.0.1", srv.Port(), opts, getRoot, pathChunks, false), c.ok)
			})
		}
	}
}

// assertChainLimit checks a GET over a chain at a limit: the body when
// the chain is within it (ok), else a handshake that fails before anything
// is sent, ERR_CANT_CONNECT around a *wire.LimitError.
func assertChainLimit(t *testing.T, r result, ok bool) {
	t.Helper()
	if ok {
		assert.Equal(t, concat(connected, StatusBody, StatusConnected), r.Trace, "last error %v", r.LastErr)
		assert.Equal(t, "ok", r.Body)
		return
	}
	assert.Equal(t, statuses(StatusConnecting, StatusTLSHandshakeError), r.Trace)
	assert.ErrorIs(t, r.LastErr, ErrCantConnect)
	var le *wire.LimitError
	assert.True(t, errors.As(r.LastErr, &le), "*wire.LimitError in %v", r.LastErr)
}

// certificateMessageSize is the size certificateMessageFits computes for
// the certificates chain sends, in version v.
func certificateMessageSize(t *testing.T, chain longChain, v uint16) int {
	t.Helper()
	size, entry := 4+3, 3
	if v == tls.VersionTLS13 {
		size, entry = 4+1+3, 3+2
	}
	for _, der := range chain.Cert.Certificate {
		size += entry + len(der)
	}
	return size
}

// chainWithMessage returns a chain (one intermediate) whose Certificate
// message in version v is exactly size bytes, growing the leaf's padding
// extension until it is (an ECDSA signature varies by a byte or two).
func chainWithMessage(t *testing.T, v uint16, size int) longChain {
	t.Helper()
	padding := size - 1000
	for range 50 {
		c := newLongChain(t, 1, padding)
		got := certificateMessageSize(t, c, v)
		if got == size {
			return c
		}
		padding += size - got
	}
	t.Fatalf("no chain with a Certificate message of %d bytes", size)
	return longChain{}
}

// §1.15.5: Godot's mbedTLS 3.6 reassembles a Certificate message larger
// than a record in its 16765-byte input buffer, where the last record must
// fit whole (maxCertificateMessage): 16747 bytes in TLS 1.2, 16730 in TLS
// 1.3. One byte more fails the handshake. The size is counted from the
// certificates as the message carries them (TestCertificateMessageOnTheWire
// checks the count against crypto/tls's bytes).
func TestCertificateMessageLimit(t *testing.T) {
	assert.Equal(t, 16765, mbedTLSInputBuffer, "MBEDTLS_SSL_IN_BUFFER_LEN")
	for _, c := range []struct {
		name    string
		version uint16
		limit   int
	}{
		{"TLS 1.2", tls.VersionTLS12, 16747},
		{"TLS 1.3", tls.VersionTLS13, 16730},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.limit, maxCertificateMessage(c.version))
			assert.NoError(t, certificateMessageFits(c.version, peerCerts(t, chainWithMessage(t, c.version, c.limit))))
			err := certificateMessageFits(c.version, peerCerts(t, chainWithMessage(t, c.version, c.limit+1)))
			var le *wire.LimitError
			require.True(t, errors.As(err, &le), "*wire.LimitError in %v", err)
			assert.Equal(t, &wire.LimitError{What: "Certificate message bytes", Limit: int64(c.limit)}, le)
		})
	}
}

// TestCertificateMessageOnTheWire checks certificateMessageFits's count
// against the Certificate message a crypto/tls server writes in TLS 1.2,
// where it travels in clear: its handshake header gives its length.
func TestCertificateMessageOnTheWire(t *testing.T) {
	for _, padding := range []int{0, 8 << 10, 20 << 10} {
		t.Run(fmt.Sprint(padding), func(t *testing.T) {
			chain := newLongChain(t, 2, padding)
			server, client := net.Pipe()
			rec := &recordingConn{Conn: server}
			done := make(chan error, 1)
			go func() {
				srv := tls.Server(rec, &tls.Config{Certificates: []tls.Certificate{chain.Cert}, MaxVersion: tls.VersionTLS12})
				done <- srv.Handshake()
				server.Close()
			}()
			cl := tls.Client(client, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12})
			require.NoError(t, cl.Handshake())
			require.NoError(t, <-done)
			client.Close()
			assert.Equal(t, certificateMessageSize(t, chain, tls.VersionTLS12), plainHandshakeLen(t, rec.written, 11))
		})
	}
}

// recordingConn keeps what is written to it.
type recordingConn struct {
	net.Conn
	written []byte
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.written = append(c.written, p...)
	return c.Conn.Write(p)
}

// plainHandshakeLen returns the length, its 4-byte header included, of the
// first handshake message of type typ in the unprotected handshake records
// of stream (their content joined, as a reader reassembles them).
func plainHandshakeLen(t *testing.T, stream []byte, typ byte) int {
	t.Helper()
	var hs []byte
	for len(stream) >= 5 && stream[0] == 22 {
		n := int(stream[3])<<8 | int(stream[4])
		require.GreaterOrEqual(t, len(stream), 5+n, "a whole record")
		hs, stream = append(hs, stream[5:5+n]...), stream[5+n:]
	}
	for len(hs) >= 4 {
		n := 4 + (int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3]))
		if hs[0] == typ {
			return n
		}
		require.GreaterOrEqual(t, len(hs), n, "a whole message")
		hs = hs[n:]
	}
	t.Fatalf("no handshake message of type %d", typ)
	return 0
}

// §1.15.5 through a real handshake (TestCertificateMessageLimit): a leaf
// with an 8 KiB extension connects, one with 20 KiB is
// TLS_HANDSHAKE_ERROR, as is a message one byte over the limit; a message
// of exactly the limit connects. In TLS 1.2 and 1.3, both modes, and with
// client_unsafe without a CA chain too, which verifies nothing else: the
// limit is mbedTLS's record layer, not its certificate checks.
func TestTLSCertificateMessageLimit(t *testing.T) {
	versions := []struct {
		name    string
		version uint16
	}{{"tls12", tls.VersionTLS12}, {"tls13", tls.VersionTLS13}}
	for _, v := range versions {
		limit := maxCertificateMessage(v.version)
		for _, c := range []struct {
			name   string
			chain  longChain
			unsafe bool
			ok     bool
		}{
			{"8KiB", newLongChain(t, 1, 8<<10), false, true},
			{"20KiB", newLongChain(t, 1, 20<<10), false, false},
			{"at-the-limit", chainWithMessage(t, v.version, limit), false, true},
			{"one-byte-over", chainWithMessage(t, v.version, limit+1), false, false},
			{"unsafe-8KiB", newLongChain(t, 1, 8<<10), true, true},
			{"unsafe-20KiB", newLongChain(t, 1, 20<<10), true, false},
		} {
			opts := TLSClient(c.chain.Pool(), "")
			if c.unsafe {
				opts = TLSClientUnsafe(nil)
			}
			for _, m := range modes {
				t.Run(v.name+"/"+c.name+"/"+m.name, func(t *testing.T) {
					srv := ts.NewTLS(t, c.chain.Cert, ts.Respond(okResp),
						ts.WithTLSConfig(func(cfg *tls.Config) { cfg.MinVersion, cfg.MaxVersion = v.version, v.version }))
					cl, tr := newClient(t, m.blocking)
					assertChainLimit(t, roundTrip(t, cl, tr, "127.0.0.1", srv.Port(), opts, getRoot, pathChunks, false), c.ok)
				})
			}
		}
	}
}

// §1.6.2.5, §1.15.5: chains far past the limits (hostile35) fail the
// handshake as those at the limits do, before anything is sent, in both
// modes: 100 intermediate CAs make a 42 KB Certificate message, refused
// by its size (certificateMessageFits) before the chain is built; a leaf
// with a 300 KiB extension is refused by crypto/tls itself from the
// message's header, past its 256 KiB maximum, so the cause is crypto/tls's
// and no more of the message is read. Either costs the client under 1 MiB
// (notes/hostile35.md).
func TestTLSChainsFarPastTheLimits(t *testing.T) {
	for _, c := range []struct {
		name       string
		n, padding int
		cause      string // "": the Certificate message's *wire.LimitError
	}{
		{"100-intermediates", 100, 0, ""},
		{"cert-msg-300KiB", 1, 300 << 10, "exceeds maximum"},
	} {
		chain := newLongChain(t, c.n, c.padding)
		for _, m := range modes {
			t.Run(c.name+"/"+m.name, func(t *testing.T) {
				srv := ts.NewTLS(t, chain.Cert, ts.Respond(okResp), ts.WithTLSConfig(tls13Only))
				cl, tr := newClient(t, m.blocking)
				r := roundTrip(t, cl, tr, "127.0.0.1", srv.Port(), TLSClient(chain.Pool(), ""), getRoot, pathChunks, false)
				assert.Equal(t, statuses(StatusConnecting, StatusTLSHandshakeError), r.Trace)
				assert.ErrorIs(t, r.LastErr, ErrCantConnect)
				if c.cause != "" {
					assert.ErrorContains(t, r.LastErr, c.cause)
					return
				}
				var le *wire.LimitError
				require.True(t, errors.As(r.LastErr, &le), "*wire.LimitError in %v", r.LastErr)
				assert.Equal(t, &wire.LimitError{What: "Certificate message bytes", Limit: int64(maxCertificateMessage(tls.VersionTLS13))}, le)
			})
		}
	}
}
