//go:build linux

package childtest

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

const env = "GDHTTP_CHILD_TEST"

// InChild reports whether this process is the child started for t.
func InChild(t testing.TB) bool { return os.Getenv(env) == t.Name() }

// Options say how Run starts the child.
type Options struct {
	Unprivileged bool     // run as "nobody" (applied only when the tests run as root)
	Args         []string // more flags for the child (the parent's own test flags, for one)
}

// Run re-executes the test binary running only t (a subtest too), and fails
// t with the child's output unless the child's t passed.
func Run(t testing.TB, opts Options) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot find the test binary: %v", err)
	}
	cmd := exec.Command(exe, append([]string{"-test.run=" + runPattern(t.Name()), "-test.v", "-test.count=1"}, opts.Args...)...)
	cmd.Env = append(os.Environ(), env+"="+t.Name())
	if opts.Unprivileged && os.Geteuid() == 0 {
		uid, gid := nobody()
		// The build cache is private to root: copy the binary where nobody can
		// run it, and start there.
		dir, err := os.MkdirTemp("", "gdhttp-child-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		copied := filepath.Join(dir, filepath.Base(exe))
		if err := copyFile(exe, copied); err != nil {
			t.Fatal(err)
		}
		cmd.Path, cmd.Args[0], cmd.Dir = copied, copied, dir
		cmd.Env = append(cmd.Env, "HOME="+dir, "TMPDIR="+os.TempDir(), "GOCACHE=off")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	}
	out, err := cmd.CombinedOutput()
	var pathErr *os.PathError
	if errors.As(err, &pathErr) || errors.Is(err, syscall.EPERM) {
		t.Skipf("cannot start the child process (%v)", err)
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("child process for %s failed (%v):\n%s", t.Name(), err, out)
	}
	t.Logf("child process for %s:\n%s", t.Name(), out)
}

// runPattern is the -test.run pattern that selects exactly the test named
// name: one anchored, quoted element per level.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// LimitFileSize limits the size of files this (child) process writes;
// writes past it fail with EFBIG (Go ignores SIGXFSZ).
func LimitFileSize(t testing.TB, n uint64) {
	t.Helper()
	if os.Getenv(env) == "" {
		t.Fatal("childtest.LimitFileSize outside a child process")
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
		t.Fatal(err)
	}
}

// nobody returns the uid and gid of the unprivileged user.
func nobody() (uint32, uint32) {
	uid, gid := uint32(65534), uint32(65534)
	if u, err := user.Lookup("nobody"); err == nil {
		if n, err := strconv.ParseUint(u.Uid, 10, 32); err == nil {
			uid = uint32(n)
		}
		if n, err := strconv.ParseUint(u.Gid, 10, 32); err == nil {
			gid = uint32(n)
		}
	}
	return uid, gid
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
