package httprequest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdhttp/gdhttp/godot"
	"github.com/gdhttp/gdhttp/httpclient"
	ts "github.com/gdhttp/gdhttp/internal/testserver"
	"github.com/gdhttp/gdhttp/wire"
)

// download_file takes the zero-copy path (httpclient's
// WriteResponseBodyChunkTo: splice(2) on Linux) for an undecoded body whose
// next read cannot pass body_size_limit. What the user sees must not
// change: every driver, with the path on and off, gives the same result,
// file, counters and cause — for a complete body, one cut short, a reset,
// a read-until-close body, limits at and around the body's end (where the
// last reads go through memory to check the limit first), a large
// download_chunk_size and a disk that is full.
func TestDownloadSplicedMatchesCopied(t *testing.T) {
	const size = 3<<20 + 777
	body := make([]byte, size)
	rng := rand.New(rand.NewPCG(5, 11))
	for i := range body {
		body[i] = byte(rng.Uint32())
	}
	lengthHead := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(size) + "\r\n\r\n"
	type tc struct {
		name    string
		server  func(*ts.Conn)
		limit   int64
		chunk   int
		file    string // "" a file in a temporary directory
		spliced bool   // at least one read takes the zero-copy path (Linux)
		timing  bool   // how much is read before the reset shows is timing (§1.6: the Poll's SO_ERROR)
		writer  bool   // the file is a body writer (SetBodyWriter), not download_file
	}
	complete := ts.Script(ts.Read(), ts.WriteAndClose(append([]byte(lengthHead), body...)))
	// A Content-Length above the limit fails before any read (§2.6.1.2):
	// the limits that cut the body need a body without one.
	untilClose := ts.Script(ts.Read(), ts.WriteAndClose(append([]byte("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"), body...)))
	cases := []tc{
		{name: "complete", server: complete, limit: -1, spliced: true},
		{name: "cut short", server: ts.Script(ts.Read(), ts.WriteAndClose(append([]byte(lengthHead), body[:2<<20]...))), limit: -1, spliced: true},
		{name: "reset", server: ts.Script(ts.Read(), ts.Write(append([]byte(lengthHead), body[:1<<20]...)), ts.Sleep(20*time.Millisecond), ts.Reset()), limit: -1, spliced: true, timing: true},
		{name: "until close", server: untilClose, limit: -1, spliced: true},
		{name: "limit is the size", server: complete, limit: size, spliced: true},
		{name: "limit over the length", server: complete, limit: size - 1},
		{name: "limit one short", server: untilClose, limit: size - 1, spliced: true},
		{name: "limit mid-body", server: untilClose, limit: 1<<20 + 5, spliced: true},
		{name: "limit below one read", server: untilClose, limit: 1000},
		{name: "limit zero", server: untilClose, limit: 0}, // the least limit: every read goes through memory
		{name: "chunk 4 MiB", server: complete, limit: -1, chunk: 4 << 20, spliced: true},
	}
	cases = append(cases,
		tc{name: "body writer", server: complete, limit: -1, spliced: true, writer: true},
		tc{name: "body writer until close, limit mid-body", server: untilClose, limit: 2<<20 + 1, spliced: true, writer: true})
	if runtime.GOOS == "linux" {
		// A write error on the zero-copy path: /dev/full as the body writer
		// (as download_file it is R10 at once, TestDownloadNotRegularRefused;
		// download_file's R11 is TestNodeDownloadWriteErrorMidBody's).
		cases = append(cases,
			tc{name: "body writer, disk full", server: complete, limit: -1, file: "/dev/full", writer: true})
	}
	type seen struct {
		Result     Result
		Code       int
		File       []byte
		Downloaded int64
		BodySize   int64
		Cause      string
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, d driverCase, n *HTTPRequest) {
				run := func(splice bool) (seen, int64) {
					spliceDownloads = splice
					defer func() { spliceDownloads = true }()
					var spliced atomic.Int64
					onSplice = func() { spliced.Add(1) }
					defer func() { onSplice = nil }()
					srv := ts.New(t, c.server)
					file := c.file
					if file == "" {
						file = filepath.Join(t.TempDir(), "out.bin")
					} else {
						require.NoError(t, n.SetDownloadInPlace(true))
					}
					if c.writer {
						w, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
						require.NoError(t, err)
						defer w.Close()
						require.NoError(t, n.SetBodyWriter(w))
						defer func() { require.NoError(t, n.SetBodyWriter(nil)) }()
					} else {
						require.NoError(t, n.SetDownloadFile(file))
					}
					require.NoError(t, n.SetBodySizeLimit(c.limit))
					if c.chunk > 0 {
						require.NoError(t, n.SetDownloadChunkSize(c.chunk))
					}
					o := d.run(t, n, srv.URL("/"), nil, httpclient.MethodGet, nil)
					s := seen{Result: o.C.Result, Code: o.C.ResponseCode, Downloaded: n.DownloadedBytes(), BodySize: n.BodySize()}
					if c.file == "" {
						s.File, _ = os.ReadFile(file)
					}
					s.Cause = causeClass(o.Err)
					return s, spliced.Load()
				}
				copied, none := run(false)
				spliced, reads := run(true)
				assert.Zero(t, none, "the copying path never splices")
				if c.timing {
					assert.LessOrEqual(t, copied.Downloaded, int64(1<<20))
					assert.LessOrEqual(t, spliced.Downloaded, int64(1<<20))
					copied.Downloaded = spliced.Downloaded
				}
				assert.Equal(t, copied, spliced, "spliced and copied downloads differ")
				if c.spliced && runtime.GOOS == "linux" {
					assert.Positive(t, reads, "the zero-copy path was taken")
				} else if !c.spliced {
					assert.Zero(t, reads, "no read may take the zero-copy path")
				}
				if c.name == "complete" {
					assert.Equal(t, ResultSuccess, spliced.Result)
					assert.Equal(t, body, spliced.File)
				}
				if c.file == "/dev/full" {
					assert.Equal(t, ResultDownloadFileWriteError, spliced.Result)
					if c.writer {
						assert.Equal(t, "body writer: file write: "+syscall.ENOSPC.Error(), spliced.Cause)
					}
				}
				if c.name == "body writer" {
					assert.Equal(t, body, spliced.File)
				}
			})
		})
	}
}

// causeClass names what kind of cause err is, without the parts that differ
// from connection to connection (addresses, ports, temporary names).
func causeClass(err error) string {
	var le *wire.LimitError
	var errno syscall.Errno
	switch {
	case err == nil:
		return ""
	case errors.As(err, &le):
		return "limit"
	case errors.Is(err, ErrBodyCutShort):
		return "cut short"
	case errors.As(err, new(*BodyWriterError)) && errors.As(err, &errno):
		return "body writer: file write: " + errno.Error()
	case errors.Is(err, godot.ErrFileCantWrite) && errors.As(err, &errno):
		return "file write: " + errno.Error()
	case errors.As(err, &errno):
		return "socket: " + errno.Error()
	}
	return fmt.Sprintf("other: %T", err)
}
