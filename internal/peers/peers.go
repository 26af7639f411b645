package peers

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables read by the accessors, as written by scripts/peers.sh.
const (
	EnvNginx       = "GDHTTP_NGINX"        // host:port of nginx, plain HTTP
	EnvNginx6      = "GDHTTP_NGINX6"       // [::1]:port of the same nginx server
	EnvNginxTLS    = "GDHTTP_NGINX_TLS"    // host:port of nginx, HTTPS
	EnvNginxCA     = "GDHTTP_NGINX_CA"     // PEM file of the CA that signed nginx's certificate
	EnvHTTPBin     = "GDHTTP_HTTPBIN"      // host:port of httpbin
	EnvProxy       = "GDHTTP_PROXY"        // host:port of the open proxy (CONNECT to any port)
	EnvProxyStrict = "GDHTTP_PROXY_STRICT" // host:port of the strict proxy (CONNECT to the nginx TLS port only)
	EnvCurl        = "GDHTTP_CURL"         // path of the curl executable

	EnvProxyAuth     = "GDHTTP_PROXY_AUTH"      // host:port of the proxy that requires Basic auth (CONNECT to any port)
	EnvProxyAuthUser = "GDHTTP_PROXY_AUTH_USER" // its credentials, user:password
)

// EnvFile is the name of the file that `scripts/peers.sh start` writes at the
// repository root and Load reads.
const EnvFile = ".peers.env"

// envPrefix is the only prefix Load accepts, so the file cannot change PATH
// or any other variable of the test process.
const envPrefix = "GDHTTP_"

// startHint tells the reader of a skip or failure how to get the peers.
const startHint = "run scripts/peers.sh start, or scripts/test.sh"

// dialTimeout bounds the reachability check of a configured address.
const dialTimeout = 2 * time.Second

// tb is the part of testing.TB the accessors use; tests substitute a recorder.
type tb interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
}

var (
	loadOnce sync.Once
	mu       sync.Mutex
	loaded   = map[string]origin{} // variable → what Load set it to, and from which file
)

// Load finds .peers.env by walking up from the working directory (stopping
// after the first directory that holds go.mod, the module root) and copies
// into the process environment each GDHTTP_* variable of that file that is
// not already set. A variable set in the environment, even to the empty
// string, wins over the file; setting one to "" is how a run switches a peer
// off. Lines are KEY=VALUE; blank lines, # comments and an "export " prefix
// are allowed, and one pair of matching quotes around VALUE is removed.
// A missing or unreadable file is not an error: the accessors then skip.
//
// The accessors call Load once per process on their own; call it directly
// to have the variables in os.Environ, for example before starting a
// subprocess.
func Load() {
	dir, err := os.Getwd()
	if err != nil {
		return
	}
	loadFrom(dir)
}

// origin records a variable that Load copied from a file.
type origin struct{ file, value string }

// ensureLoaded runs Load the first time any accessor is used.
func ensureLoaded() { loadOnce.Do(Load) }

// loadFrom is Load starting at dir; it returns the file it read, or "".
func loadFrom(dir string) string {
	path, ok := findEnvFile(dir)
	if !ok {
		return ""
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	mu.Lock()
	defer mu.Unlock()
	for _, kv := range parseEnv(data) {
		if _, set := os.LookupEnv(kv[0]); set {
			continue
		}
		if os.Setenv(kv[0], kv[1]) == nil {
			loaded[kv[0]] = origin{file: path, value: kv[1]}
		}
	}
	return path
}

// findEnvFile looks for EnvFile in dir and its parents, up to and including
// the first directory that contains go.mod.
func findEnvFile(dir string) (string, bool) {
	dir = filepath.Clean(dir)
	for {
		p := filepath.Join(dir, EnvFile)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, true
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return "", false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// parseEnv returns the KEY=VALUE pairs of an env file whose key starts with
// GDHTTP_ and consists of A-Z, 0-9 and _, in file order. Other lines are
// ignored.
func parseEnv(data []byte) [][2]string {
	var out [][2]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		if !validKey(key) {
			continue
		}
		value = strings.TrimSpace(value)
		if n := len(value); n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n-1] == value[0] {
			value = value[1 : n-1]
		}
		out = append(out, [2]string{key, value})
	}
	return out
}

// validKey reports whether key is GDHTTP_ followed by at least one of A-Z, 0-9, _.
func validKey(key string) bool {
	if len(key) <= len(envPrefix) || !strings.HasPrefix(key, envPrefix) {
		return false
	}
	for i := len(envPrefix); i < len(key); i++ {
		c := key[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// lookup returns the trimmed value of name and where it came from, for messages.
func lookup(name string) (value, from string) {
	ensureLoaded()
	mu.Lock()
	defer mu.Unlock()
	raw := os.Getenv(name)
	if o, ok := loaded[name]; ok && o.value == raw {
		return strings.TrimSpace(raw), "from " + o.file
	}
	return strings.TrimSpace(raw), "from the environment"
}

// Nginx returns the host:port of nginx serving plain HTTP ($GDHTTP_NGINX),
// or skips the test when the variable is unset.
func Nginx(t testing.TB) string {
	t.Helper()
	return address(t, EnvNginx)
}

// Nginx6 returns the [::1]:port of the same nginx server ($GDHTTP_NGINX6,
// written only when the host has an IPv6 loopback), or skips the test.
func Nginx6(t testing.TB) string {
	t.Helper()
	return address(t, EnvNginx6)
}

// NginxTLS returns the host:port of nginx serving HTTPS ($GDHTTP_NGINX_TLS)
// and a pool holding the CA that signed its certificate ($GDHTTP_NGINX_CA;
// the certificate names localhost, 127.0.0.1 and ::1), or skips the test when
// $GDHTTP_NGINX_TLS is unset. The test fails if the CA is missing or invalid.
func NginxTLS(t testing.TB) (addr string, roots *x509.CertPool) {
	t.Helper()
	return nginxTLS(t)
}

func nginxTLS(t tb) (string, *x509.CertPool) {
	t.Helper()
	addr := address(t, EnvNginxTLS)
	ca, from := lookup(EnvNginxCA)
	if ca == "" {
		t.Fatalf("%s is set but %s is not (it names the CA's PEM file); %s", EnvNginxTLS, EnvNginxCA, startHint)
		return "", nil
	}
	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatalf("%s=%s (%s): %v; %s", EnvNginxCA, ca, from, err, startHint)
		return "", nil
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("%s=%s (%s) holds no PEM certificate; %s", EnvNginxCA, ca, from, startHint)
		return "", nil
	}
	return addr, roots
}

// HTTPBin returns the host:port of httpbin ($GDHTTP_HTTPBIN), or skips the
// test when the variable is unset.
func HTTPBin(t testing.TB) string {
	t.Helper()
	return address(t, EnvHTTPBin)
}

// Proxy returns the host:port of the open forward proxy ($GDHTTP_PROXY:
// absolute-form requests and CONNECT to any port), or skips the test when the
// variable is unset.
func Proxy(t testing.TB) string {
	t.Helper()
	return address(t, EnvProxy)
}

// ProxyStrict returns the host:port of the strict proxy
// ($GDHTTP_PROXY_STRICT), which allows CONNECT to the nginx TLS port only and
// answers any other CONNECT with 403, or skips the test when the variable is
// unset.
func ProxyStrict(t testing.TB) string {
	t.Helper()
	return address(t, EnvProxyStrict)
}

// ProxyAuth returns the host:port of the proxy that requires Basic
// credentials ($GDHTTP_PROXY_AUTH: absolute-form requests and CONNECT to any
// port, 407 without them) and the user and password it accepts
// ($GDHTTP_PROXY_AUTH_USER, "user:password"), or skips the test when
// $GDHTTP_PROXY_AUTH is unset. The test fails if the credentials are missing.
func ProxyAuth(t testing.TB) (addr, user, password string) {
	t.Helper()
	return proxyAuth(t)
}

func proxyAuth(t tb) (addr, user, password string) {
	t.Helper()
	addr = address(t, EnvProxyAuth)
	if addr == "" {
		return "", "", ""
	}
	cred, from := lookup(EnvProxyAuthUser)
	user, password, ok := strings.Cut(cred, ":")
	if !ok || user == "" {
		t.Fatalf("%s is set but %s (%s) is not user:password; %s", EnvProxyAuth, EnvProxyAuthUser, from, startHint)
		return "", "", ""
	}
	return addr, user, password
}

// Curl returns the path of the curl executable ($GDHTTP_CURL), or skips the
// test when the variable is unset. The test fails if the path is not an
// executable file.
func Curl(t testing.TB) string {
	t.Helper()
	return curl(t)
}

func curl(t tb) string {
	t.Helper()
	v, from := lookup(EnvCurl)
	if v == "" {
		t.Skipf("%s is not set: %s", EnvCurl, startHint)
		return ""
	}
	p, err := exec.LookPath(v)
	if err != nil {
		t.Fatalf("%s=%s (%s): %v; %s", EnvCurl, v, from, err, startHint)
		return ""
	}
	return p
}

// errNotLoopback is reported for an address outside 127.0.0.0/8 and ::1:
// tests talk to this machine only.
var errNotLoopback = errors.New("not a loopback address (127.0.0.0/8, ::1 or localhost)")

// address returns the loopback host:port in the variable name after checking
// that something accepts connections there; it skips when the variable is
// unset or empty and fails the test when the value is unusable.
func address(t tb, name string) string {
	t.Helper()
	v, from := lookup(name)
	if v == "" {
		t.Skipf("%s is not set: %s", name, startHint)
		return ""
	}
	if err := checkLoopback(v); err != nil {
		t.Fatalf("%s=%s (%s): %v", name, v, from, err)
		return ""
	}
	c, err := net.DialTimeout("tcp", v, dialTimeout)
	if err != nil {
		t.Fatalf("%s=%s (%s) but nothing accepts connections there: %v; %s", name, v, from, err, startHint)
		return ""
	}
	_ = c.Close()
	return v
}

// checkLoopback accepts host:port whose host is "localhost" or a loopback IP.
func checkLoopback(hostport string) error {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return err
	}
	if port == "" {
		return fmt.Errorf("missing port in %q", hostport)
	}
	if host == "localhost" {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return errNotLoopback
	}
	return nil
}
