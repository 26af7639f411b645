package httprequest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/internal/testserver"
)

// keep_partial_download and append_to_download_file (Godot PR #118226,
// options_download.go), in every driver and both download modes.

const partialHead = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 6-10/11\r\nContent-Length: 5\r\n\r\n"

// The properties are off by default (Godot's defaults) and, like the other
// download setters (§2.2), refused with godot.ErrBusy while the client is not
// DISCONNECTED; the value is kept.
func TestDownloadResumePropertiesDefaultsAndBusy(t *testing.T) {
	n := New()
	defer n.Close()
	assert.False(t, n.IsKeepingPartialDownload())
	assert.False(t, n.IsAppendingToDownloadFile())

	srv := serve(t, testserver.Script(testserver.Read(), testserver.Hold()))
	require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
	n.Process()
	for _, set := range []func(bool) error{n.SetKeepPartialDownload, n.SetAppendToDownloadFile} {
		err := set(true)
		assert.ErrorIs(t, err, godot.ErrBusy)
		assert.ErrorContains(t, err, "HTTPRequest is processing a request")
	}
	assert.False(t, n.IsKeepingPartialDownload(), "value kept")
	assert.False(t, n.IsAppendingToDownloadFile(), "value kept")
	n.CancelRequest()

	require.NoError(t, n.SetKeepPartialDownload(true))
	require.NoError(t, n.SetAppendToDownloadFile(true))
	assert.True(t, n.IsKeepingPartialDownload())
	assert.True(t, n.IsAppendingToDownloadFile())
}

// appendCase is one response for a download_file that holds "hello ".
type appendCase struct {
	name    string
	handler func(c *testserver.Conn)
	append  bool
	want    Result
	code    int
	// The file afterwards, by mode: atomic without keep_partial_download,
	// atomic with it, in place (with or without it).
	atomic, keep, inPlace string
}

func appendCases() []appendCase {
	cut := testserver.Script(testserver.Read(),
		testserver.WriteAndClose([]byte("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 6-10/11\r\nContent-Length: 5\r\n\r\nwor")))
	return []appendCase{
		{name: "206 appends", handler: testserver.Respond(partialHead + "world"), append: true,
			want: ResultSuccess, code: 206, atomic: "hello world", keep: "hello world", inPlace: "hello world"},
		{name: "200 overwrites: a server that ignored the Range", handler: testserver.Respond("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nfresh start"), append: true,
			want: ResultSuccess, code: 200, atomic: "fresh start", keep: "fresh start", inPlace: "fresh start"},
		{name: "416 with a body overwrites, as any status does (§2.9.2)", handler: testserver.Respond("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */6\r\nContent-Length: 4\r\n\r\nnope"), append: true,
			want: ResultSuccess, code: 416, atomic: "nope", keep: "nope", inPlace: "nope"},
		{name: "416 without a body leaves the file (§2.9.2)", handler: testserver.Respond("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */6\r\nContent-Length: 0\r\n\r\n"), append: true,
			want: ResultSuccess, code: 416, atomic: "hello ", keep: "hello ", inPlace: "hello "},
		{name: "append off: a 206 overwrites (Godot's default)", handler: testserver.Respond(partialHead + "world"),
			want: ResultSuccess, code: 206, atomic: "world", keep: "world", inPlace: "world"},
		{name: "206 cut mid-body: restored, or the partial kept", handler: cut, append: true,
			want: ResultCantConnect, atomic: "hello ", keep: "hello wor", inPlace: "hello wor"},
		{name: "200 cut mid-body: old file, or the partial kept", append: true, handler: testserver.Script(testserver.Read(),
			testserver.WriteAndClose([]byte("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nfresh"))),
			want: ResultCantConnect, atomic: "hello ", keep: "fresh", inPlace: "fresh"},
	}
}

// append_to_download_file: a 206 appends to the existing file, any other
// status overwrites it; a failure leaves the old file in the atomic mode
// (§7 D3: a failed append is truncated back), the partial file with
// keep_partial_download or in place (§2.9.3). No temporary file is left.
func TestAppendToDownloadFile(t *testing.T) {
	for _, c := range appendCases() {
		for _, mode := range []string{"atomic", "keep", "in place", "in place+keep"} {
			t.Run(c.name+"/"+mode, func(t *testing.T) {
				eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
					dir := t.TempDir()
					target := filepath.Join(dir, "data.bin")
					require.NoError(t, os.WriteFile(target, []byte("hello "), 0o644))
					require.NoError(t, n.SetDownloadFile(target))
					require.NoError(t, n.SetAppendToDownloadFile(c.append))
					require.NoError(t, n.SetKeepPartialDownload(mode == "keep" || mode == "in place+keep"))
					require.NoError(t, n.SetDownloadInPlace(mode == "in place" || mode == "in place+keep"))
					srv := serve(t, c.handler)
					o := d.run(t, n, srv.URL("/"), []string{"Range: bytes=6-"}, httpclient.MethodGet, nil)
					require.Equal(t, c.want, o.C.Result, "cause: %v", o.Err)
					assert.Equal(t, c.code, o.C.ResponseCode)
					want := map[string]string{"atomic": c.atomic, "keep": c.keep, "in place": c.inPlace, "in place+keep": c.inPlace}[mode]
					got, err := os.ReadFile(target)
					require.NoError(t, err)
					assert.Equal(t, want, string(got))
					assert.Equal(t, []string{"data.bin"}, dirEntries(t, dir), "no temporary file left")
				})
			})
		}
	}
}

// append_to_download_file with no file yet: the 206 body creates it.
func TestAppendToDownloadFileCreates(t *testing.T) {
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		target := filepath.Join(t.TempDir(), "new.bin")
		require.NoError(t, n.SetDownloadFile(target))
		require.NoError(t, n.SetAppendToDownloadFile(true))
		srv := serve(t, testserver.Respond(partialHead+"world"))
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		require.Equal(t, ResultSuccess, o.C.Result, "cause: %v", o.Err)
		got, err := os.ReadFile(target)
		require.NoError(t, err)
		assert.Equal(t, "world", string(got))
	})
}

// keep_partial_download: a body cut short, a timeout and a cancel all leave
// the partial file at download_file, in the atomic mode too (written in
// place); without it the atomic mode leaves the old file (§7 D3).
func TestKeepPartialDownload(t *testing.T) {
	stall := testserver.Script(testserver.Read(),
		testserver.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"), testserver.Hold())
	for _, keep := range []bool{false, true} {
		want := map[bool]string{false: oldContent, true: "partial"}[keep]
		t.Run(map[bool]string{false: "off", true: "on"}[keep], func(t *testing.T) {
			t.Run("cut short", func(t *testing.T) {
				eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
					target := keepTarget(t, n, keep)
					srv := serve(t, testserver.Script(testserver.Read(),
						testserver.WriteAndClose([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"))))
					o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
					require.Equal(t, ResultCantConnect, o.C.Result)
					assertFile(t, target, want)
				})
			})
			t.Run("timeout", func(t *testing.T) {
				eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
					target := keepTarget(t, n, keep)
					require.NoError(t, n.SetTimeout(time.Second))
					srv := serve(t, stall)
					o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
					require.Equal(t, ResultTimeout, o.C.Result)
					assertFile(t, target, want)
				})
			})
			t.Run("cancel", func(t *testing.T) {
				n := New()
				defer n.Close()
				target := keepTarget(t, n, keep)
				srv := serve(t, stall)
				require.NoError(t, n.Request(srv.URL("/"), nil, httpclient.MethodGet, ""))
				nodes.ProcessUntil(t, n, func() bool { return n.DownloadedBytes() >= int64(len("partial")) },
					func() string { return fmt.Sprint("downloaded ", n.DownloadedBytes()) })
				n.CancelRequest()
				assertFile(t, target, want)
			})
			t.Run("Do canceled", func(t *testing.T) {
				n := New()
				defer n.Close()
				target := keepTarget(t, n, keep)
				sent := make(chan struct{})
				srv := serve(t, testserver.Script(testserver.Read(),
					testserver.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"),
					testserver.Do("sent", func(*testserver.Conn) error { close(sent); return nil }),
					testserver.Hold()))
				// Do's body step is a blocking read of the whole rest (§2.13):
				// the cancel interrupts it with "partial" received.
				ctx, cancel := context.WithCancel(context.Background())
				go func() {
					<-sent
					waitReadHolds(t, srv.Port())
					cancel()
				}()
				_, err := n.Do(ctx, srv.URL("/"), nil, httpclient.MethodGet, nil)
				require.ErrorIs(t, err, context.Canceled)
				assertFile(t, target, want)
			})
		})
	}
}

// TestKeepPartialDownloadNotSpliced: a timeout that cuts a blocking read
// short (use_threads, Do) leaves the bytes that read received in the kept
// partial file when the body goes through the read buffer too — the path of
// every platform without splice(2), and of TLS — as when it is spliced to
// the file (Linux). They were dropped there: "" instead of "partial" (the
// portable audit, on macOS and Windows).
func TestKeepPartialDownloadNotSpliced(t *testing.T) {
	spliceDownloads = false
	defer func() { spliceDownloads = true }()
	stall := testserver.Script(testserver.Read(),
		testserver.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"), testserver.Hold())
	eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
		target := keepTarget(t, n, true)
		require.NoError(t, n.SetTimeout(500*time.Millisecond))
		srv := serve(t, stall)
		o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
		require.Equal(t, ResultTimeout, o.C.Result)
		assertFile(t, target, "partial")
	})
}

// keepTarget sets download_file to a file holding oldContent and
// keep_partial_download to keep.
func keepTarget(t *testing.T, n *HTTPRequest, keep bool) string {
	t.Helper()
	target := filepath.Join(t.TempDir(), "keep.bin")
	require.NoError(t, os.WriteFile(target, []byte(oldContent), 0o644))
	require.NoError(t, n.SetDownloadFile(target))
	require.NoError(t, n.SetKeepPartialDownload(keep))
	return target
}

func assertFile(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, want, string(got))
	assert.Equal(t, []string{filepath.Base(path)}, dirEntries(t, filepath.Dir(path)), "no temporary file left")
}
