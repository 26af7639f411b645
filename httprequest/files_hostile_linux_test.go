//go:build linux

package httprequest

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/childtest"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// download_file and DoResumable on a hostile file system: names at the
// system's limits, links, FIFOs and devices, immutable files, files changed
// under a running download, RLIMIT_FSIZE, bad state files and 206s (the
// hostile file-system audit of session 21). A failure is R10 or R11 with the
// os error wrapped; nothing is left behind; a file is never spliced.

const afBody = "hello world, this is the body" // 29 bytes

func afResp() string {
	return "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(afBody)) + "\r\n\r\n" + afBody
}

// afRun downloads afResp's body to target through driver d, atomically or
// in place.
func afRun(t *testing.T, d driverCase, n *HTTPRequest, target string, inPlace bool) outcome {
	t.Helper()
	require.NoError(t, n.SetDownloadFile(target))
	require.NoError(t, n.SetDownloadInPlace(inPlace))
	srv := serve(t, testserver.Respond(afResp()))
	return d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
}

// afWaitPart waits until a file whose name contains sub exists in dir.
func afWaitPart(dir, sub string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		es, _ := os.ReadDir(dir)
		for _, e := range es {
			if strings.Contains(e.Name(), sub) {
				return true
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return false
}

// A base name of 250 bytes is a valid file name (NAME_MAX 255): Godot's
// fopen("wb") creates it, and so does the port in both modes (the atomic
// mode's temporary name shortens the base, tempStem).
func TestFilesLongBaseName(t *testing.T) {
	for _, inPlace := range []bool{false, true} {
		t.Run(map[bool]string{false: "atomic", true: "in place"}[inPlace], func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				dir := t.TempDir()
				target := filepath.Join(dir, strings.Repeat("a", 250))
				f, err := os.Create(target) // the name itself is fine
				require.NoError(t, err)
				f.Close()
				require.NoError(t, os.Remove(target))
				o := afRun(t, d, n, target, inPlace)
				assert.Equal(t, ResultSuccess, o.C.Result, "cause: %v", o.Err)
				got, _ := os.ReadFile(target)
				assert.Equal(t, afBody, string(got))
			})
		})
	}
}

// The same 250-byte name with DoResumable: F + ResumeSuffix is too long a
// name, so there is no state file, and the download succeeds.
func TestFilesLongBaseNameResumable(t *testing.T) {
	srv := serve(t, testserver.RespondEach("HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Length: "+strconv.Itoa(len(afBody))+"\r\n\r\n"+afBody))
	n := newNode(t)
	target := filepath.Join(t.TempDir(), strings.Repeat("b", 250))
	require.NoError(t, n.SetDownloadFile(target))
	ctx, cancel := context.WithTimeout(context.Background(), maxWait)
	defer cancel()
	r, err := n.DoResumable(ctx, srv.URL("/"), nil)
	assert.NoError(t, err)
	assert.Equal(t, ResultSuccess, r.Result)
}

// 5000-byte path, empty path: R10 with ENAMETOOLONG; "" is no file.
func TestFilesPathLengths(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		dir := t.TempDir()
		long := dir + "/" + strings.Repeat("d/", 2500)
		require.NoError(t, n.SetDownloadFile(long[:len(long)-1]))
		srv := serve(t, testserver.RespondEach(afResp()))
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		assert.Equal(t, ResultDownloadFileCantOpen, o.C.Result)
		assert.ErrorIs(t, o.Err, syscall.ENAMETOOLONG)
		assert.ErrorIs(t, o.Err, godot.ErrFileCantOpen)
		assert.Empty(t, dirEntries(t, dir))
	})
}

// A directory as download_file: R10, and the cause reaches EISDIR in both
// modes (in place: open(2)'s; atomic: the check before the temporary file).
func TestFilesDirectoryCause(t *testing.T) {
	for _, inPlace := range []bool{false, true} {
		t.Run(map[bool]string{false: "atomic", true: "in place"}[inPlace], func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				dir := t.TempDir()
				o := afRun(t, d, n, dir, inPlace)
				assert.Equal(t, ResultDownloadFileCantOpen, o.C.Result)
				assert.ErrorIs(t, o.Err, syscall.EISDIR, "cause: %v", o.Err)
				assert.Empty(t, dirEntries(t, dir))
			})
		})
	}
}

// Missing directory, symlink to a FIFO, /dev/full: R10 at once, nothing
// created (Godot's FileAccessUnix::open stat check refuses non-regular).
func TestFilesCantOpenCases(t *testing.T) {
	cases := map[string]func(dir string) string{
		"missing dir": func(dir string) string { return filepath.Join(dir, "nope", "f") },
		"link to fifo": func(dir string) string {
			fifo := filepath.Join(dir, "fifo")
			require.NoError(t, syscall.Mkfifo(fifo, 0o644))
			require.NoError(t, os.Symlink(fifo, filepath.Join(dir, "l")))
			return filepath.Join(dir, "l")
		},
		"dev full": func(string) string { return "/dev/full" },
		"link loop": func(dir string) string {
			require.NoError(t, os.Symlink("loop", filepath.Join(dir, "loop")))
			return filepath.Join(dir, "loop")
		},
	}
	for name, mk := range cases {
		for _, inPlace := range []bool{false, true} {
			t.Run(name+map[bool]string{false: "/atomic", true: "/in place"}[inPlace], func(t *testing.T) {
				eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
					dir := t.TempDir()
					target := mk(dir)
					before := dirEntries(t, dir)
					o := afRun(t, d, n, target, inPlace)
					assert.Equal(t, ResultDownloadFileCantOpen, o.C.Result, "cause %v", o.Err)
					assert.ErrorIs(t, o.Err, godot.ErrFileCantOpen)
					var pe *os.PathError
					assert.ErrorAs(t, o.Err, &pe)
					assert.Equal(t, before, dirEntries(t, dir))
				})
			})
		}
	}
}

// A dangling symlink in atomic mode: a download cut mid-body leaves no
// partial file where none was (§7 D3), the file the link names being
// created atomically (danglingTarget).
func TestFilesDanglingLinkCutLeavesPartial(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		dir := t.TempDir()
		real := filepath.Join(dir, "real.bin")
		link := filepath.Join(dir, "link")
		require.NoError(t, os.Symlink("real.bin", link))
		require.NoError(t, n.SetDownloadFile(link))
		srv := serve(t, testserver.Script(testserver.Read(),
			testserver.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial-bytes"),
			testserver.Sleep(50*time.Millisecond), testserver.Close()))
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		assert.NotEqual(t, ResultSuccess, o.C.Result)
		_, err := os.Stat(real)
		assert.ErrorIs(t, err, os.ErrNotExist, "a failed atomic download left a partial file at the link's target")
	})
}

// Symlink to a file, atomic: the link is kept, its target replaced.
func TestFilesSymlinkFollowed(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		dir := t.TempDir()
		real := filepath.Join(dir, "real.bin")
		require.NoError(t, os.WriteFile(real, []byte(oldContent), 0o600))
		link := filepath.Join(dir, "link")
		require.NoError(t, os.Symlink("real.bin", link))
		o := afRun(t, d, n, link, false)
		require.Equal(t, ResultSuccess, o.C.Result)
		fi, err := os.Lstat(link)
		require.NoError(t, err)
		assert.NotZero(t, fi.Mode()&os.ModeSymlink)
		assert.Equal(t, afBody, string(fileBytes(t, real)))
		fi, _ = os.Stat(real)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		assert.ElementsMatch(t, []string{"real.bin", "link"}, dirEntries(t, dir))
	})
}

// The file system changes under a running download (the server acts once
// the temporary file exists, between two parts of the body).
func TestFilesChangedMidDownload(t *testing.T) {
	type tc struct {
		mutate  func(t *testing.T, dir, target string)
		want    Result
		wantErr error
		check   func(t *testing.T, dir, target string)
	}
	cases := map[string]tc{
		"target replaced by dir": {mutate: func(t *testing.T, dir, target string) {
			require.NoError(t, os.Remove(target))
			require.NoError(t, os.Mkdir(target, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(target, "x"), nil, 0o644))
		}, want: ResultDownloadFileWriteError, check: func(t *testing.T, dir, target string) {
			assert.ElementsMatch(t, []string{"out.bin"}, dirEntries(t, dir))
		}},
		"target deleted": {mutate: func(t *testing.T, dir, target string) {
			require.NoError(t, os.Remove(target))
		}, want: ResultSuccess, check: func(t *testing.T, dir, target string) {
			assert.Equal(t, "AAAABBBB", string(fileBytes(t, target)))
		}},
		"temp deleted": {mutate: func(t *testing.T, dir, target string) {
			es, _ := os.ReadDir(dir)
			for _, e := range es {
				if strings.HasSuffix(e.Name(), ".part") {
					require.NoError(t, os.Remove(filepath.Join(dir, e.Name())))
				}
			}
		}, want: ResultDownloadFileWriteError, wantErr: syscall.ENOENT, check: func(t *testing.T, dir, target string) {
			assert.Equal(t, oldContent, string(fileBytes(t, target)))
			assert.ElementsMatch(t, []string{"out.bin"}, dirEntries(t, dir))
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				dir := t.TempDir()
				target := filepath.Join(dir, "out.bin")
				require.NoError(t, os.WriteFile(target, []byte(oldContent), 0o644))
				require.NoError(t, n.SetDownloadFile(target))
				srv := serve(t, func(conn *testserver.Conn) {
					if _, err := conn.ReadRequest(); err != nil {
						return
					}
					_ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nAAAA"))
					if !afWaitPart(dir, ".part") {
						t.Error("no temporary file")
					}
					time.Sleep(20 * time.Millisecond)
					c.mutate(t, dir, target)
					_ = conn.Write([]byte("BBBB"))
					_ = conn.Hold()
				})
				o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
				assert.Equal(t, c.want, o.C.Result, "cause %v", o.Err)
				if c.wantErr != nil {
					assert.ErrorIs(t, o.Err, c.wantErr)
				}
				c.check(t, dir, target)
			})
		})
	}
}

// Two nodes downloading to the same path at once: each its own temporary
// file; the file ends as one whole body, nothing else left.
func TestFilesTwoNodesSamePath(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "same.bin")
	a, b := strings.Repeat("A", 300<<10), strings.Repeat("B", 300<<10)
	mk := func(body string) *testserver.Server {
		return serve(t, testserver.Script(testserver.Read(),
			testserver.WriteString("HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body[:1000]),
			testserver.Sleep(100*time.Millisecond), testserver.WriteString(body[1000:]), testserver.Hold()))
	}
	sa, sb := mk(a), mk(b)
	n1, n2 := newNode(t), newNode(t)
	require.NoError(t, n1.SetDownloadFile(target))
	require.NoError(t, n2.SetDownloadFile(target))
	ctx, cancel := context.WithTimeout(context.Background(), maxWait)
	defer cancel()
	errs := make(chan error, 2)
	go func() { _, err := n1.Do(ctx, sa.URL("/"), nil, httpclient.MethodGet, nil); errs <- err }()
	go func() { _, err := n2.Do(ctx, sb.URL("/"), nil, httpclient.MethodGet, nil); errs <- err }()
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
	got := string(fileBytes(t, target))
	assert.True(t, got == a || got == b, "mixed file of %d bytes", len(got))
	assert.Equal(t, []string{"same.bin"}, dirEntries(t, dir))
}

// resumeSrv answers with ETag "v1" and a 206 for "Range: bytes=S-", per
// the mode (content, Content-Range start offset, total).
func afRangeServer(t *testing.T, content string, etag string, mangle func(w http.ResponseWriter, r *http.Request) bool) string {
	r := &resource{content: []byte(content), etag: etag}
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if mangle != nil && mangle(w, req) {
			return
		}
		r.ServeHTTP(w, req)
	})
	f := newResumeFixture(t, h)
	return f.url
}

// DoResumable: no state file is left when download_file cannot be opened
// at all (it is written only once the file is open).
func TestFilesResumableLeavesNoStateWhenCantOpen(t *testing.T) {
	content := strings.Repeat("z", 1000)
	cases := map[string]func(t *testing.T, dir string) string{
		"download_file is a directory": func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d")
			require.NoError(t, os.Mkdir(p, 0o755))
			return p
		},
		"download_file is a fifo": func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "fifo")
			require.NoError(t, syscall.Mkfifo(p, 0o644))
			return p
		},
		"missing directory": func(t *testing.T, dir string) string { return filepath.Join(dir, "nope", "f") },
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			url := afRangeServer(t, content, `"v1"`, nil)
			dir := t.TempDir()
			file := mk(t, dir)
			before := dirEntries(t, dir)
			n := newNode(t)
			require.NoError(t, n.SetDownloadFile(file))
			ctx, cancel := context.WithTimeout(context.Background(), maxWait)
			defer cancel()
			r, err := n.DoResumable(ctx, url, nil)
			assert.Equal(t, ResultDownloadFileCantOpen, r.Result, "err %v", err)
			assert.ErrorIs(t, err, godot.ErrFileCantOpen)
			assert.Equal(t, before, dirEntries(t, dir), "left behind")
		})
	}
}

// A state file that cannot be replaced (its name is a non-empty directory):
// the 200 is not downloaded, R10 with the os error wrapped, nothing else
// left.
func TestFilesResumableStateUnwritable(t *testing.T) {
	content := strings.Repeat("q", 1000)
	url := afRangeServer(t, content, `"v1"`, nil)
	dir := t.TempDir()
	file := filepath.Join(dir, "f.bin")
	require.NoError(t, os.Mkdir(file+ResumeSuffix, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(file+ResumeSuffix, "x"), nil, 0o644))
	n := newNode(t)
	require.NoError(t, n.SetDownloadFile(file))
	ctx, cancel := context.WithTimeout(context.Background(), maxWait)
	defer cancel()
	r, err := n.DoResumable(ctx, url, nil)
	t.Logf("result %v err %v", r.Result, err)
	assert.NotEqual(t, ResultSuccess, r.Result)
	assert.ErrorIs(t, err, godot.ErrFileCantOpen, "the cause carries no Godot code")
	var pe *os.PathError
	assert.ErrorAs(t, err, &pe, "the os error is wrapped")
	assert.Equal(t, []string{"f.bin" + ResumeSuffix}, dirEntries(t, dir))
}

// State files that are corrupt, truncated, for another URL, or longer
// than the file: a plain GET and a whole, correct file.
func TestFilesResumableBadStates(t *testing.T) {
	content := strings.Repeat("0123456789", 200)
	for name, state := range map[string]func(url string) string{
		"garbage":      func(string) string { return "\x00\xff{not json" },
		"truncated":    func(url string) string { return `{"url":"` + url + `","etag":"\"v1\"","len` },
		"other url":    func(url string) string { return `{"url":"` + url + `x","etag":"\"v1\"","length":2000}` },
		"length short": func(url string) string { return `{"url":"` + url + `","etag":"\"v1\"","length":10}` },
		"empty":        func(string) string { return "" },
		"null":         func(string) string { return "null" },
		"wrong types":  func(url string) string { return `{"url":5,"etag":["x"],"length":"x"}` },
	} {
		t.Run(name, func(t *testing.T) {
			f := newResumeFixture(t, &resource{content: []byte(content), etag: `"v1"`})
			require.NoError(t, os.WriteFile(f.file, []byte("WRONGWRONGWRONG!"), 0o644))
			require.NoError(t, os.WriteFile(f.state, []byte(state(f.url)), 0o644))
			r, err := f.do(t)
			require.NoError(t, err)
			assert.Equal(t, ResumeFromStart, r.Outcome)
			assert.Equal(t, content, string(fileBytes(t, f.file)))
			_, serr := os.Stat(f.state)
			assert.ErrorIs(t, serr, os.ErrNotExist)
		})
	}
}

// 206 responses that do not continue the file: the partial file must stay
// byte for byte, and the state file keeps allowing a later resume.
func TestFilesResumableBad206(t *testing.T) {
	content := strings.Repeat("abcdefghij", 100)
	part := content[:300]
	for name, resp := range map[string]func(start int) string{
		"start elsewhere":  func(s int) string { return "bytes " + strconv.Itoa(s-10) + "-999/1000" },
		"other total":      func(s int) string { return "bytes " + strconv.Itoa(s) + "-1199/1200" },
		"end before start": func(s int) string { return "bytes " + strconv.Itoa(s) + "-" + strconv.Itoa(s-1) + "/1000" },
		"multi":            func(s int) string { return "bytes " + strconv.Itoa(s) + "-999/1000, 0-1/1000" },
		"star":             func(s int) string { return "bytes */1000" },
	} {
		t.Run(name, func(t *testing.T) {
			f := newResumeFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("ETag", `"v1"`)
				if r.Header.Get("Range") == "" {
					http.Error(w, "no", 500)
					return
				}
				w.Header().Set("Content-Range", resp(len(part)))
				w.WriteHeader(206)
				_, _ = w.Write([]byte(content[len(part)-10:]))
			}))
			require.NoError(t, os.WriteFile(f.file, []byte(part), 0o644))
			require.NoError(t, writeResumeState(f.state, &resumeState{URL: f.url, ETag: `"v1"`, Length: 1000}))
			r, err := f.do(t)
			assert.Error(t, err)
			assert.ErrorIs(t, err, ErrResumeMismatch)
			assert.Equal(t, ResultDownloadFileCantOpen, r.Result)
			assert.Equal(t, part, string(fileBytes(t, f.file)), "partial file changed")
			st := f.readState(t)
			assert.Equal(t, `"v1"`, st.ETag)
		})
	}
}

// A 206 that is cut mid-body and then a changed resource (new ETag): the
// If-Range makes the server send a 200; the file restarts from byte 0. The
// first part is appended; Close mid-resume keeps what was appended.
func TestFilesResumableCancelMidAppend(t *testing.T) {
	content := randomBytes(t, 256<<10)
	res := &resource{content: content, etag: `"v1"`}
	f := newResumeFixture(t, res)
	res.set(func(r *resource) { r.cutAfter = 50 << 10 })
	_, err := f.do(t)
	require.Error(t, err)
	require.Equal(t, content[:50<<10], fileBytes(t, f.file))
	// Now a server that stalls mid 206; the node is closed mid-append.
	stall := make(chan struct{})
	f2 := newResumeFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Range", "bytes "+strconv.Itoa(50<<10)+"-"+strconv.Itoa(len(content)-1)+"/"+strconv.Itoa(len(content)))
		w.Header().Set("Content-Length", strconv.Itoa(len(content)-50<<10))
		w.WriteHeader(206)
		_, _ = w.Write(content[50<<10 : 60<<10])
		w.(http.Flusher).Flush()
		close(stall)
		<-r.Context().Done()
	}))
	require.NoError(t, os.WriteFile(f2.file, content[:50<<10], 0o644))
	require.NoError(t, writeResumeState(f2.state, &resumeState{URL: f2.url, ETag: `"v1"`, Length: int64(len(content))}))
	done := make(chan error, 1)
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go func() { _, err := f2.n.DoResumable(ctx2, f2.url, nil); done <- err }()
	<-stall
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if fi, _ := os.Stat(f2.file); fi != nil && fi.Size() >= 60<<10 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel2()
	select {
	case err := <-done:
		t.Logf("after cancel: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("DoResumable did not return after cancel")
	}
	got := fileBytes(t, f2.file)
	assert.Equal(t, content[:len(got)], got, "partial file wrong")
	assert.GreaterOrEqual(t, len(got), 50<<10)
	st := f2.readState(t)
	assert.Equal(t, `"v1"`, st.ETag)
}

// chattr +i: root ignores permission bits, not the immutable flag. A new
// file in an immutable directory and an immutable file: R10 with EPERM,
// nothing created, the old file intact.
func TestFilesImmutable(t *testing.T) {
	chattr, err := exec.LookPath("chattr")
	if err != nil {
		t.Skip("no chattr")
	}
	set := func(t *testing.T, on bool, p string) {
		flag := map[bool]string{true: "+i", false: "-i"}[on]
		if out, err := exec.Command(chattr, flag, p).CombinedOutput(); err != nil {
			t.Skipf("chattr: %v %s", err, out)
		}
	}
	for _, inPlace := range []bool{false, true} {
		for _, what := range []string{"dir", "file"} {
			t.Run(what+map[bool]string{false: "/atomic", true: "/in place"}[inPlace], func(t *testing.T) {
				eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
					dir := t.TempDir()
					target := filepath.Join(dir, "f.bin")
					if what == "file" {
						require.NoError(t, os.WriteFile(target, []byte(oldContent), 0o644))
						set(t, true, target)
						t.Cleanup(func() { set(t, false, target) })
					} else {
						set(t, true, dir)
						t.Cleanup(func() { set(t, false, dir) })
					}
					o := afRun(t, d, n, target, inPlace)
					assert.Equal(t, ResultDownloadFileCantOpen, o.C.Result, "cause %v", o.Err)
					assert.ErrorIs(t, o.Err, syscall.EPERM)
					if what == "file" {
						assert.Equal(t, oldContent, string(fileBytes(t, target)))
						assert.Equal(t, []string{"f.bin"}, dirEntries(t, dir))
					} else {
						assert.Empty(t, dirEntries(t, dir))
					}
				})
			})
		}
	}
}

// RLIMIT_FSIZE under DoResumable (keep_partial_download: in place): R11
// with EFBIG, the partial file is a prefix of the resource, the state file
// stays for the next call.
func TestFilesResumableEFBIG(t *testing.T) {
	if !childtest.InChild(t) {
		childtest.Run(t, childtest.Options{})
		return
	}
	content := randomBytes(t, 256<<10)
	f := newResumeFixture(t, &resource{content: content, etag: `"v1"`})
	childtest.LimitFileSize(t, 100<<10)
	r, err := f.do(t)
	assert.Equal(t, ResultDownloadFileWriteError, r.Result, "err %v", err)
	assert.ErrorIs(t, err, syscall.EFBIG)
	assert.ErrorIs(t, err, godot.ErrFileCantWrite)
	got := fileBytes(t, f.file)
	assert.Equal(t, content[:len(got)], got)
	assert.Equal(t, 100<<10, len(got))
	assert.Equal(t, `"v1"`, f.readState(t).ETag)
}

// download_file holds an old version (v0, no state file) and cannot be
// opened (chattr +i) when DoResumable gets the new version's 200: R10, and
// no state file is written for a body the file does not hold — else the
// next call, the file writable again, would resume v0's bytes with v1's
// tail and report the spliced file as RESULT_SUCCESS (§7 D3).
func TestFilesResumableStaleStateSplices(t *testing.T) {
	chattr, err := exec.LookPath("chattr")
	if err != nil {
		t.Skip("no chattr")
	}
	v0 := strings.Repeat("0", 400)
	v1 := strings.Repeat("1", 1000)
	f := newResumeFixture(t, &resource{content: []byte(v1), etag: `"v1"`})
	require.NoError(t, os.WriteFile(f.file, []byte(v0), 0o644))
	if out, err := exec.Command(chattr, "+i", f.file).CombinedOutput(); err != nil {
		t.Skipf("chattr: %v %s", err, out)
	}
	r, err := f.do(t)
	require.NoError(t, exec.Command(chattr, "-i", f.file).Run())
	require.Equal(t, ResultDownloadFileCantOpen, r.Result, "err %v", err)
	_, serr := os.Stat(f.state)
	assert.ErrorIs(t, serr, os.ErrNotExist, "state file left by a download that never opened the file")
	r, err = f.do(t)
	t.Logf("second call: %v outcome %v offset %d err %v", r.Result, r.Outcome, r.Offset, err)
	got := string(fileBytes(t, f.file))
	assert.True(t, err != nil || got == v1, "RESULT_SUCCESS with a spliced file: %d bytes, starts %q", len(got), got[:5])
}

// No file descriptor outlives the hostile cases (Do driver, both modes).
func TestFilesNoFDLeak(t *testing.T) {
	count := func() int { es, _ := os.ReadDir("/proc/self/fd"); return len(es) }
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
	require.NoError(t, os.Symlink("loop", filepath.Join(dir, "loop")))
	targets := []string{fifo, filepath.Join(dir, "d"), filepath.Join(dir, "loop"), "/dev/full",
		filepath.Join(dir, "nope", "x"), filepath.Join(dir, strings.Repeat("a", 250)), filepath.Join(dir, "ok")}
	srv := serve(t, testserver.RespondEach(afResp()))
	n := newNode(t)
	ctx := context.Background()
	run := func() {
		for _, inPlace := range []bool{false, true} {
			require.NoError(t, n.SetDownloadInPlace(inPlace))
			for _, tg := range targets {
				require.NoError(t, n.SetDownloadFile(tg))
				_, _ = n.Do(ctx, srv.URL("/"), nil, httpclient.MethodGet, nil)
				_, _ = n.DoResumable(ctx, srv.URL("/"), nil)
			}
		}
	}
	run()
	time.Sleep(50 * time.Millisecond)
	before := count()
	for range 10 {
		run()
	}
	n.Close()
	time.Sleep(50 * time.Millisecond)
	assert.LessOrEqual(t, count(), before+1, "10 rounds of %d requests", 4*len(targets))
}

// A server that ignores If-Range and answers a 206 with a new ETag or
// Last-Modified: refused, the partial file untouched.
func TestFilesResumable206NewValidator(t *testing.T) {
	content := strings.Repeat("abcdefghij", 100)
	part := content[:300]
	for name, st := range map[string]*resumeState{
		"etag":          {ETag: `"v1"`, Length: 1000},
		"last-modified": {LastModified: "Mon, 01 Jan 2024 00:00:00 GMT", Length: 1000},
	} {
		t.Run(name, func(t *testing.T) {
			f := newResumeFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("ETag", `"v2"`)
				w.Header().Set("Last-Modified", "Tue, 02 Jan 2024 00:00:00 GMT")
				w.Header().Set("Content-Range", "bytes 300-999/1000")
				w.WriteHeader(206)
				_, _ = w.Write([]byte(content[300:]))
			}))
			require.NoError(t, os.WriteFile(f.file, []byte(part), 0o644))
			st.URL = f.url
			require.NoError(t, writeResumeState(f.state, st))
			r, err := f.do(t)
			assert.ErrorIs(t, err, ErrResumeMismatch)
			assert.Equal(t, ResultDownloadFileCantOpen, r.Result)
			assert.Equal(t, part, string(fileBytes(t, f.file)))
		})
	}
}

// A complete file F left by an earlier DoResumable (no state: success
// removed it) in a directory where no new entry can be made (chattr +i; F
// itself stays writable). The next DoResumable gets a 200 with an ETag: the
// in-place open truncates F, then the state file cannot be written: the
// download goes on without a state (the old one is gone, so the next call
// starts over) instead of ending R10 with F emptied.
func TestFilesResumableStateFailKeepsFile(t *testing.T) {
	chattr, err := exec.LookPath("chattr")
	if err != nil {
		t.Skip("no chattr")
	}
	content := strings.Repeat("n", 1000)
	url := afRangeServer(t, content, `"v2"`, nil)
	dir := t.TempDir()
	file := filepath.Join(dir, "f.bin")
	good := strings.Repeat("g", 500)
	require.NoError(t, os.WriteFile(file, []byte(good), 0o644))
	if out, err := exec.Command(chattr, "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("chattr: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(chattr, "-i", dir).Run() })
	n := newNode(t)
	require.NoError(t, n.SetDownloadFile(file))
	ctx, cancel := context.WithTimeout(context.Background(), maxWait)
	defer cancel()
	r, err := n.DoResumable(ctx, url, nil)
	t.Logf("result %v code %d err %v", r.Result, r.ResponseCode, err)
	got := string(fileBytes(t, file))
	if r.Result != ResultSuccess {
		assert.Equal(t, good, got, "a failed DoResumable destroyed download_file (%d bytes left)", len(got))
	} else {
		assert.Equal(t, content, got)
	}
}

// download_file "<dir>/ldir/../out", where ldir links to real/sub: the
// kernel resolves ".." against the real directory (real/), where "out" is
// a dangling link to "missing". fopen through that path creates
// real/missing, and so does the port (a path with ".." is written through
// the kernel's resolution, in place), not <dir>/missing (filepath.Dir
// cleans "ldir/.." by its text).
func TestFilesDanglingLinkThroughDotDot(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		dir := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "real", "sub"), 0o755))
		require.NoError(t, os.Symlink(filepath.Join(dir, "real", "sub"), filepath.Join(dir, "ldir")))
		require.NoError(t, os.Symlink("missing", filepath.Join(dir, "real", "out")))
		target := filepath.Join(dir, "ldir") + "/../out" // not Cleaned
		o := afRun(t, d, n, target, false)
		require.Equal(t, ResultSuccess, o.C.Result, "err %v", o.Err)
		_, err := os.Stat(filepath.Join(dir, "missing"))
		assert.ErrorIs(t, err, os.ErrNotExist, "wrote <dir>/missing, a file fopen would not touch")
		b, err := os.ReadFile(filepath.Join(dir, "real", "missing"))
		assert.NoError(t, err, "real/missing (what fopen creates) not written")
		assert.Equal(t, afBody, string(b))
	})
}

// A dangling link whose target ends in "/" ("link" -> "newdir/"): the
// kernel refuses to create a file through it (EISDIR), so Godot's fopen
// fails (R10), and so does the port: no regular file "newdir" is made.
func TestFilesDanglingLinkTrailingSlash(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		dir := t.TempDir()
		link := filepath.Join(dir, "link")
		require.NoError(t, os.Symlink("newdir/", link))
		_, ferr := os.OpenFile(link, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
		require.Error(t, ferr, "the kernel opened it")
		t.Logf("fopen through the link: %v", ferr)
		o := afRun(t, d, n, link, false)
		assert.Equal(t, ResultDownloadFileCantOpen, o.C.Result, "err %v; entries %v", o.Err, dirEntries(t, dir))
	})
}

// use_threads, atomic: the worker finished (completion queued), then the
// target is replaced by a non-empty directory before the Process that
// delivers: the rename fails, R11 with code and headers, no temporary file
// left; then a panic in OnRequestCompleted of a successful one still
// commits the file, and the node is usable.
func TestFilesThreadsCommitAtDelivery(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out")
	require.NoError(t, os.WriteFile(target, []byte("old"), 0o644))
	n := newNode(t)
	require.NoError(t, n.SetUseThreads(true))
	require.NoError(t, n.SetDownloadFile(target))
	var got []Result
	n.OnRequestCompleted(func(r Result, code int, h []string, b []byte) { got = append(got, r) })
	srv := serve(t, testserver.Respond(afResp()))
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	queued := func() bool { n.mu.Lock(); defer n.mu.Unlock(); return len(n.queue) > 0 }
	require.Eventually(t, queued, 10*time.Second, 100*time.Microsecond)
	require.NoError(t, os.Remove(target))
	require.NoError(t, os.Mkdir(target, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(target, "x"), nil, 0o644))
	n.Process()
	require.Len(t, got, 1)
	assert.Equal(t, ResultDownloadFileWriteError, got[0], "last error %v", n.LastError())
	assert.Equal(t, []string{"out"}, dirEntries(t, dir), "temporary file left")

	require.NoError(t, os.RemoveAll(target))
	n.OnRequestCompleted(func(Result, int, []string, []byte) { panic("handler") })
	srv2 := serve(t, testserver.Respond(afResp()))
	require.NoError(t, n.Request(srv2.URL("/"), nil, httpclient.MethodGet, ""))
	require.Eventually(t, queued, 10*time.Second, 100*time.Microsecond)
	assert.PanicsWithValue(t, "handler", n.Process)
	assert.Equal(t, afBody, string(fileBytes(t, target)))
	assert.Equal(t, []string{"out"}, dirEntries(t, dir))
	assert.NoError(t, n.Request(srv2.URL("/"), nil, httpclient.MethodGet, ""), "node not free")
}
