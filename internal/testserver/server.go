package testserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Defaults for the Server options.
const (
	// DefaultIOTimeout bounds each blocking Conn operation (a request read, a
	// write, the TLS handshake) so that a broken test fails instead of hanging.
	// Hold and the sleeps of WriteSplit, WriteTrickle and Sleep are not bounded.
	DefaultIOTimeout = 10 * time.Second
	// DefaultMaxRequest bounds one request read by ReadRequest (head and body).
	DefaultMaxRequest = 64 << 20
	// closeWait is how long Close waits for handlers before failing the test.
	closeWait = 10 * time.Second
	// readChunk is the minimum free space offered to each socket read.
	readChunk = 32 << 10
)

// Option configures a Server.
type Option func(*config)

type config struct {
	ipv6       bool
	ioTimeout  time.Duration
	maxRequest int
	noRecord   bool
	tlsEdit    func(*tls.Config)
}

// WithIPv6 makes the Server listen on [::1]:0 instead of 127.0.0.1:0. The
// test is skipped when the host has no IPv6 loopback.
func WithIPv6() Option { return func(c *config) { c.ipv6 = true } }

// WithIOTimeout replaces DefaultIOTimeout; 0 disables the bound.
func WithIOTimeout(d time.Duration) Option { return func(c *config) { c.ioTimeout = max(d, 0) } }

// WithMaxRequest replaces DefaultMaxRequest (values ≤ 0 keep the default).
func WithMaxRequest(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxRequest = min(n, math.MaxInt/2) // room for limit arithmetic
		}
	}
}

// WithoutRecording turns off the byte recording behind Received (for
// benchmarks that move a lot of data). Requests are still recorded.
func WithoutRecording() Option { return func(c *config) { c.noRecord = true } }

// WithTLSConfig lets a TLS server's test edit the tls.Config before the
// listener starts (versions, cipher suites, client certificates, ALPN...).
func WithTLSConfig(edit func(*tls.Config)) Option { return func(c *config) { c.tlsEdit = edit } }

// WithHandshakeDelay makes a TLS server's handshake pause d after each
// ClientHello, so that the client waits on its socket that long mid-
// handshake. It is a WithTLSConfig: the two do not combine.
func WithHandshakeDelay(d time.Duration) Option {
	return WithTLSConfig(func(c *tls.Config) {
		c.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
			time.Sleep(d)
			return nil, nil
		}
	})
}

// Server is a loopback listener that runs a handler per accepted connection,
// each in its own goroutine. Everything it starts is stopped and joined by
// Close, which New registers with t.Cleanup.
type Server struct {
	t       testing.TB
	cfg     config
	ln      net.Listener
	tlsConf *tls.Config
	handler func(*Conn)
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once

	mu       sync.Mutex
	closing  bool
	conns    []*Conn
	requests [][]byte
	errs     []error
	sni      []string
}

// New starts a plain TCP server on 127.0.0.1:0 (or [::1]:0 with WithIPv6)
// that runs handler for every accepted connection. When handler returns, the
// connection is closed (after draining bytes already received, so the close is
// a FIN and not a RST). The server stops in t.Cleanup.
func New(t testing.TB, handler func(c *Conn), opts ...Option) *Server {
	t.Helper()
	return start(t, nil, handler, opts)
}

// NewTLS is New with TLS: every accepted connection does a server-side TLS
// handshake with cert (bounded by the I/O timeout) before handler runs. A
// failed handshake is recorded in Errors (Op "handshake") and the handler is
// not run for that connection. Conn reads and writes carry plaintext; Received
// records plaintext.
func NewTLS(t testing.TB, cert tls.Certificate, handler func(c *Conn), opts ...Option) *Server {
	t.Helper()
	return start(t, &tls.Config{Certificates: []tls.Certificate{cert}}, handler, opts)
}

func start(t testing.TB, tlsConf *tls.Config, handler func(*Conn), opts []Option) *Server {
	t.Helper()
	cfg := config{ioTimeout: DefaultIOTimeout, maxRequest: DefaultMaxRequest}
	for _, o := range opts {
		o(&cfg)
	}
	if tlsConf != nil && cfg.tlsEdit != nil {
		cfg.tlsEdit(tlsConf)
	}
	network, addr := "tcp4", "127.0.0.1:0"
	if cfg.ipv6 {
		network, addr = "tcp6", "[::1]:0"
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		if cfg.ipv6 {
			t.Skipf("testserver: no IPv6 loopback: %v", err)
		}
		t.Fatalf("testserver: listen %s: %v", addr, err)
	}
	s := &Server{t: t, cfg: cfg, ln: ln, tlsConf: tlsConf, handler: handler, done: make(chan struct{})}
	s.wg.Add(1)
	go s.acceptLoop()
	t.Cleanup(s.Close)
	return s
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if !s.isClosing() {
				s.recordErr(&ConnError{Conn: -1, Step: -1, Op: "accept", Err: err})
			}
			return
		}
		tcp := nc.(*net.TCPConn)
		_ = tcp.SetNoDelay(true) // split writes leave as separate segments
		c := &Conn{srv: s, tcp: tcp, stream: tcp}
		if s.tlsConf != nil {
			c.tls = tls.Server(tcp, s.tlsConf)
			c.stream = c.tls
		}
		s.mu.Lock()
		c.index = len(s.conns)
		s.conns = append(s.conns, c)
		s.sni = append(s.sni, "")
		closing := s.closing
		if !closing {
			s.wg.Add(1)
		}
		s.mu.Unlock()
		if closing {
			_ = tcp.Close()
			continue
		}
		go s.serve(c)
	}
}

func (s *Server) serve(c *Conn) {
	defer s.wg.Done()
	defer c.finish()
	defer func() {
		if r := recover(); r != nil {
			err := fmt.Errorf("handler panic: %v\n%s", r, debug.Stack())
			s.recordErr(&ConnError{Conn: c.index, Step: -1, Op: "panic", Err: err})
			s.t.Errorf("testserver: %v", err)
		}
	}()
	if c.tls != nil {
		if err := c.handshake(); err != nil {
			if !errors.Is(err, ErrServerClosed) {
				s.recordErr(&ConnError{Conn: c.index, Step: -1, Op: "handshake", Err: err})
			}
			return
		}
		s.mu.Lock()
		s.sni[c.index] = c.tls.ConnectionState().ServerName
		s.mu.Unlock()
	}
	s.handler(c)
}

// Close stops the server: it closes the listener and every connection
// (unblocking handlers that wait on reads, writes or sleeps) and waits for
// every goroutine the server started. It is idempotent and runs in t.Cleanup;
// never call it from a handler. If a handler does not return within 10 s the
// test fails (the handler ignored ErrServerClosed).
func (s *Server) Close() {
	s.once.Do(func() {
		s.mu.Lock()
		s.closing = true
		conns := s.conns
		s.mu.Unlock()
		close(s.done)
		_ = s.ln.Close()
		for _, c := range conns {
			c.abort()
		}
		joined := make(chan struct{})
		go func() {
			s.wg.Wait()
			close(joined)
		}()
		select {
		case <-joined:
		case <-time.After(closeWait):
			s.t.Errorf("testserver: a handler did not return within %v of Close", closeWait)
		}
	})
}

// Done is closed when the server starts closing; a custom handler that waits
// on something else should also select on it.
func (s *Server) Done() <-chan struct{} { return s.done }

func (s *Server) isClosing() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Addr returns the listening address, "127.0.0.1:port" or "[::1]:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host returns the listening IP literal, "127.0.0.1" or "::1".
func (s *Server) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port returns the listening port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// URL returns "http://" + Addr() + path ("https://" for a TLS server).
func (s *Server) URL(path string) string {
	scheme := "http://"
	if s.tlsConf != nil {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(s.Host(), strconv.Itoa(s.Port())) + path
}

// Accepted returns how many connections were accepted so far.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// WaitAccepted waits until at least n connections were accepted, or d has
// passed, and returns Accepted. A client that connects and closes at once
// leaves its connection in the listen queue for a moment: a test that counts
// it waits here before Close.
func (s *Server) WaitAccepted(n int, d time.Duration) int {
	deadline := time.Now().Add(d)
	for s.Accepted() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return s.Accepted()
}

// Received returns a copy of every byte received so far, one slice per
// connection in accept order (plaintext for TLS). Bytes count as received when
// a Conn method read them from the socket, including bytes drained before a
// close; bytes the handler never read are not included. Call Close first for
// a final view.
func (s *Server) Received() [][]byte {
	s.mu.Lock()
	conns := s.conns
	s.mu.Unlock()
	out := make([][]byte, len(conns))
	for i, c := range conns {
		c.mu.Lock()
		out[i] = append([]byte{}, c.recv...)
		c.mu.Unlock()
	}
	return out
}

// Requests returns a copy of every request read by Conn.ReadRequest (and so by
// the Read step, Respond and the proxies), across connections, in the order
// they were read.
func (s *Server) Requests() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.requests))
	for i, r := range s.requests {
		out[i] = append([]byte{}, r...)
	}
	return out
}

// ServerNames returns the TLS server name (SNI) each connection asked for, in
// accept order ("" when none was sent, for a plain server, or when the
// handshake failed).
func (s *Server) ServerNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.sni...)
}

// Errors returns the errors recorded so far, each a *ConnError: failed script
// steps, failed TLS handshakes, proxy failures, handler panics. A shutdown
// (ErrServerClosed) is not an error. Tests whose scripts must run to the end
// assert that it is empty after Close.
func (s *Server) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error{}, s.errs...)
}

func (s *Server) recordErr(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

func (s *Server) recordRequest(req []byte) {
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
}

// goTracked runs f in a goroutine that Close joins.
func (s *Server) goTracked(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}
