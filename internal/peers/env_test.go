package peers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain loads .peers.env before any test runs, so a test that overrides a
// variable with t.Setenv cannot hide the file's value from the tests after
// it, and fails the package if a test leaves a goroutine behind.
func TestMain(m *testing.M) {
	ensureLoaded()
	goleak.VerifyTestMain(m)
}

func TestParseEnv(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want [][2]string
	}{
		{"as written by peers.sh",
			"# comment\nGDHTTP_NGINX=127.0.0.1:18080\nGDHTTP_NGINX_CA=/a/ca.pem\n",
			[][2]string{{"GDHTTP_NGINX", "127.0.0.1:18080"}, {"GDHTTP_NGINX_CA", "/a/ca.pem"}}},
		{"blank lines and indented comments", "\n  \n  # x=y\nGDHTTP_A=1\n", [][2]string{{"GDHTTP_A", "1"}}},
		{"CRLF line ends", "GDHTTP_A=1\r\nGDHTTP_B=2\r\n", [][2]string{{"GDHTTP_A", "1"}, {"GDHTTP_B", "2"}}},
		{"no final newline", "GDHTTP_A=1", [][2]string{{"GDHTTP_A", "1"}}},
		{"export prefix", "export GDHTTP_A=1", [][2]string{{"GDHTTP_A", "1"}}},
		{"spaces around key and value", "  GDHTTP_A =  1  ", [][2]string{{"GDHTTP_A", "1"}}},
		{"double quotes removed", `GDHTTP_A="/p q/ca.pem"`, [][2]string{{"GDHTTP_A", "/p q/ca.pem"}}},
		{"single quotes removed", `GDHTTP_A='x'`, [][2]string{{"GDHTTP_A", "x"}}},
		{"unmatched quotes kept", `GDHTTP_A="x'`, [][2]string{{"GDHTTP_A", `"x'`}}},
		{"lone quote kept", `GDHTTP_A="`, [][2]string{{"GDHTTP_A", `"`}}},
		{"equals sign in value", "GDHTTP_A=a=b", [][2]string{{"GDHTTP_A", "a=b"}}},
		{"empty value", "GDHTTP_A=", [][2]string{{"GDHTTP_A", ""}}},
		{"other variables ignored", "PATH=/evil\nHOME=/x\nGDHTTPX=1\nGDHTTP_=1", nil},
		{"lower-case or odd keys ignored", "GDHTTP_a=1\nGDHTTP_A-B=1\nGDHTTP_A B=1", nil},
		{"line without equals ignored", "GDHTTP_A\nGDHTTP_B=2", [][2]string{{"GDHTTP_B", "2"}}},
		{"empty input", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, parseEnv([]byte(tc.in)))
		})
	}
}

// writeFile creates path (and its parents) with content.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

// unsetenv makes name absent for the rest of the test and restores it after.
func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "")
	require.NoError(t, os.Unsetenv(name))
}

func TestFindEnvFile(t *testing.T) {
	root := t.TempDir()
	// root/.peers.env         (outside the module: never reached)
	// root/mod/go.mod
	// root/mod/.peers.env     (only in the "with file" layout)
	// root/mod/a/b            (start directory)
	writeFile(t, filepath.Join(root, EnvFile), "GDHTTP_OUTSIDE=1\n")
	writeFile(t, filepath.Join(root, "mod", "go.mod"), "module x\n")
	start := filepath.Join(root, "mod", "a", "b")
	require.NoError(t, os.MkdirAll(start, 0o755))

	_, ok := findEnvFile(start)
	assert.False(t, ok, "the walk must stop at the module root, not read a file above it")

	inMod := filepath.Join(root, "mod", EnvFile)
	writeFile(t, inMod, "GDHTTP_X=1\n")
	got, ok := findEnvFile(start)
	require.True(t, ok)
	assert.Equal(t, inMod, got)

	nearer := filepath.Join(root, "mod", "a", EnvFile)
	writeFile(t, nearer, "GDHTTP_X=2\n")
	got, ok = findEnvFile(start)
	require.True(t, ok)
	assert.Equal(t, nearer, got, "the nearest file wins")

	require.NoError(t, os.Remove(nearer))
	require.NoError(t, os.Mkdir(nearer, 0o755))
	got, ok = findEnvFile(start)
	require.True(t, ok)
	assert.Equal(t, inMod, got, "a directory named .peers.env is not the file")
}

func TestLoadFromKeepsTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module x\n")
	path := filepath.Join(dir, EnvFile)
	writeFile(t, path, "GDHTTP_TEST_UNSET=from-file\nGDHTTP_TEST_SET=from-file\n"+
		"GDHTTP_TEST_EMPTY=from-file\nPATH=/evil\n")
	unsetenv(t, "GDHTTP_TEST_UNSET")
	t.Setenv("GDHTTP_TEST_SET", "from-env")
	t.Setenv("GDHTTP_TEST_EMPTY", "")
	pathBefore := os.Getenv("PATH")
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		delete(loaded, "GDHTTP_TEST_UNSET")
	})

	assert.Equal(t, path, loadFrom(dir))

	assert.Equal(t, "from-file", os.Getenv("GDHTTP_TEST_UNSET"), "unset variables come from the file")
	assert.Equal(t, "from-env", os.Getenv("GDHTTP_TEST_SET"), "the environment wins")
	assert.Equal(t, "", os.Getenv("GDHTTP_TEST_EMPTY"), "an empty variable switches the peer off")
	assert.Equal(t, pathBefore, os.Getenv("PATH"), "only GDHTTP_ variables are loaded")

	v, from := lookup("GDHTTP_TEST_UNSET")
	assert.Equal(t, "from-file", v)
	assert.Equal(t, "from "+path, from)
	v, from = lookup("GDHTTP_TEST_SET")
	assert.Equal(t, "from-env", v)
	assert.Equal(t, "from the environment", from)
}

func TestLoadFromWithoutFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module x\n")
	assert.Equal(t, "", loadFrom(dir))
}

// recorder is a tb that records the outcome; Skipf and Fatalf end the
// goroutine as testing.T's do.
type recorder struct {
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// outcome runs fn in its own goroutine, as a test body runs, and returns the
// recorder and fn's result ("" when fn did not return).
func outcome(fn func(tb) string) (*recorder, string) {
	r := &recorder{}
	var got string
	done := make(chan struct{})
	go func() {
		defer close(done)
		got = fn(r)
	}()
	<-done
	return r, got
}

// accessors lists every accessor that reads one host:port variable.
var accessors = []struct {
	env string
	fn  func(tb) string
}{
	{EnvNginx, func(t tb) string { return address(t, EnvNginx) }},
	{EnvNginx6, func(t tb) string { return address(t, EnvNginx6) }},
	{EnvNginxTLS, func(t tb) string { a, _ := nginxTLS(t); return a }},
	{EnvHTTPBin, func(t tb) string { return address(t, EnvHTTPBin) }},
	{EnvProxy, func(t tb) string { return address(t, EnvProxy) }},
	{EnvProxyStrict, func(t tb) string { return address(t, EnvProxyStrict) }},
	{EnvProxyAuth, func(t tb) string { a, _, _ := proxyAuth(t); return a }},
}

func TestAccessorsSkipWhenUnset(t *testing.T) {
	all := append(accessors[:len(accessors):len(accessors)], struct {
		env string
		fn  func(tb) string
	}{EnvCurl, curl})
	for _, a := range all {
		for _, value := range []string{"", "   "} {
			t.Run(fmt.Sprintf("%s=%q", a.env, value), func(t *testing.T) {
				t.Setenv(a.env, value)
				r, got := outcome(a.fn)
				assert.True(t, r.skipped, "skipped")
				assert.False(t, r.failed, "failed")
				assert.Equal(t, "", got)
				assert.Contains(t, r.msg, a.env, "the message names the variable")
				assert.Contains(t, r.msg, "scripts/peers.sh start", "the message names the command")
			})
		}
	}
}

// listen returns a loopback listener closed at the end of the test.
func listen(t *testing.T, network, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen(network, addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// deadAddr returns a loopback address where nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestAddress(t *testing.T) {
	live := listen(t, "tcp", "127.0.0.1:0").Addr().String()
	_, port, err := net.SplitHostPort(live)
	require.NoError(t, err)
	dead := deadAddr(t)

	tests := []struct {
		name     string
		value    string
		want     string // "" when the test must fail
		inReason string
	}{
		{"live 127.0.0.1", live, live, ""},
		{"surrounding spaces trimmed", " " + live + " ", live, ""},
		{"localhost", "localhost:" + port, "localhost:" + port, ""},
		{"nothing listening", dead, "", "nothing accepts connections"},
		{"not loopback (TEST-NET-1)", "192.0.2.1:80", "", "not a loopback address"},
		{"not loopback (name)", "example.com:80", "", "not a loopback address"},
		{"unspecified address", "0.0.0.0:" + port, "", "not a loopback address"},
		{"no port", "127.0.0.1", "", "missing port"},
		{"empty port", "127.0.0.1:", "", "missing port"},
		{"URL instead of host:port", "http://" + live, "", "GDHTTP_NGINX="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvNginx, tc.value)
			r, got := outcome(func(t tb) string { return address(t, EnvNginx) })
			assert.False(t, r.skipped, "skipped: %s", r.msg)
			if tc.want != "" {
				assert.False(t, r.failed, "failed: %s", r.msg)
				assert.Equal(t, tc.want, got)
				return
			}
			assert.True(t, r.failed, "must fail")
			assert.Equal(t, "", got)
			assert.Contains(t, r.msg, tc.inReason)
			assert.Contains(t, r.msg, EnvNginx+"=", "the message names the variable")
		})
	}
}

func TestAddressIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	t.Setenv(EnvNginx6, ln.Addr().String())
	r, got := outcome(func(t tb) string { return address(t, EnvNginx6) })
	require.False(t, r.failed || r.skipped, r.msg)
	assert.Equal(t, ln.Addr().String(), got)
}

// testCA writes a self-signed CA certificate as PEM into dir and returns the
// file and the parsed certificate.
func testCA(t *testing.T, dir string) (string, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "peers test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	path := filepath.Join(dir, "ca.pem")
	writeFile(t, path, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	return path, cert
}

func TestNginxTLSCA(t *testing.T) {
	dir := t.TempDir()
	live := listen(t, "tcp", "127.0.0.1:0").Addr().String()
	caPath, caCert := testCA(t, dir)
	garbage := filepath.Join(dir, "garbage.pem")
	writeFile(t, garbage, "not a certificate\n")

	tests := []struct {
		name     string
		ca       string
		inReason string // "" when the call must succeed
	}{
		{"valid CA", caPath, ""},
		{"CA unset", "", EnvNginxCA + " is not"},
		{"CA file missing", filepath.Join(dir, "missing.pem"), "no such file"},
		{"CA file without PEM", garbage, "holds no PEM certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvNginxTLS, live)
			t.Setenv(EnvNginxCA, tc.ca)
			r := &recorder{}
			var addr string
			var roots *x509.CertPool
			done := make(chan struct{})
			go func() {
				defer close(done)
				addr, roots = nginxTLS(r)
			}()
			<-done
			assert.False(t, r.skipped, "skipped: %s", r.msg)
			if tc.inReason != "" {
				assert.True(t, r.failed, "must fail")
				assert.Contains(t, r.msg, tc.inReason)
				return
			}
			require.False(t, r.failed, r.msg)
			assert.Equal(t, live, addr)
			require.NotNil(t, roots)
			_, err := caCert.Verify(x509.VerifyOptions{Roots: roots})
			assert.NoError(t, err, "the pool must hold the CA from the file")
		})
	}
}

func TestCurlPath(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "curl")
	writeFile(t, exe, "#!/bin/sh\n")
	require.NoError(t, os.Chmod(exe, 0o755))
	plain := filepath.Join(dir, "not-executable")
	writeFile(t, plain, "x")

	tests := []struct {
		name, value string
		ok          bool
	}{
		{"executable file", exe, true},
		{"missing file", filepath.Join(dir, "nope"), false},
		{"not executable", plain, false},
		{"directory", dir, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvCurl, tc.value)
			r, got := outcome(curl)
			assert.False(t, r.skipped, "skipped: %s", r.msg)
			if tc.ok {
				assert.False(t, r.failed, r.msg)
				assert.Equal(t, tc.value, got)
				return
			}
			assert.True(t, r.failed, "must fail")
			assert.True(t, strings.HasPrefix(r.msg, EnvCurl+"="), r.msg)
		})
	}
}

// The auth proxy needs its credentials: a reachable address without
// GDHTTP_PROXY_AUTH_USER (or without a colon in it) fails the test; with
// them, the user and password are returned split at the first colon.
func TestProxyAuthCredentials(t *testing.T) {
	ln := listen(t, "tcp", "127.0.0.1:0")
	t.Setenv(EnvProxyAuth, ln.Addr().String())
	for _, bad := range []string{"", "nocolon", ":pw"} {
		t.Run("bad="+bad, func(t *testing.T) {
			t.Setenv(EnvProxyAuthUser, bad)
			r, _ := outcome(func(t tb) string { a, _, _ := proxyAuth(t); return a })
			assert.True(t, r.failed)
			assert.Contains(t, r.msg, EnvProxyAuthUser)
		})
	}
	t.Setenv(EnvProxyAuthUser, "gdhttp:pa:ss")
	var user, pw string
	r, addr := outcome(func(t tb) string { a, u, p := proxyAuth(t); user, pw = u, p; return a })
	assert.False(t, r.failed || r.skipped, r.msg)
	assert.Equal(t, ln.Addr().String(), addr)
	assert.Equal(t, "gdhttp", user)
	assert.Equal(t, "pa:ss", pw)
}
