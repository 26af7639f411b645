//go:build linux

package httprequest

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Some failures can only be produced honestly outside the test process: a
// read-only directory means nothing to root (CAP_DAC_OVERRIDE), and a
// file-size limit (RLIMIT_FSIZE) applies to the whole process. Such tests
// re-run themselves in a child process: as the unprivileged user "nobody"
// when the tests run as root, and with the limit set only in the child.

const childEnv = "GDHTTP_HTTPREQUEST_CHILD"

// inChild reports whether this process is the child started for t.
func inChild(t *testing.T) bool { return os.Getenv(childEnv) == t.Name() }

// childOptions say how runChild starts the child.
type childOptions struct {
	unprivileged bool // run as "nobody" (needed only when the tests run as root)
}

// runChild re-executes the test binary running only t, in a child process,
// and fails t with the child's output unless the child's t passed.
func runChild(t *testing.T, opts childOptions) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot find the test binary: %v", err)
	}
	cmd := exec.Command(exe, "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	if opts.unprivileged && os.Geteuid() == 0 {
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
		copied := filepath.Join(dir, "httprequest.test")
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

// setFileSizeLimit limits the size of files this (child) process writes;
// writes past it fail with EFBIG (Go ignores SIGXFSZ).
func setFileSizeLimit(t *testing.T, n uint64) {
	t.Helper()
	if !strings.HasPrefix(os.Getenv(childEnv), "Test") {
		t.Fatal("setFileSizeLimit outside a child process")
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
		t.Fatal(err)
	}
}
