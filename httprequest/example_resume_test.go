package httprequest_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gdhttp/gdhttp/httprequest"
)

// A download that resumes by itself: DoResumable keeps the partial file and a
// small state file beside it when the transfer breaks, and the next call
// asks for the rest with Range and If-Range. Here the first transfer is cut
// after 3000 bytes; the second appends the other 7000.
func ExampleHTTPRequest_DoResumable() {
	pack := bytes.Repeat([]byte("0123456789"), 1000)
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"pack-v1"`)
		if served.Add(1) == 1 { // the first connection drops mid-body
			w.Header().Set("Content-Length", fmt.Sprint(len(pack)))
			_, _ = w.Write(pack[:3000])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(pack)) // Range, If-Range
	}))
	defer srv.Close()

	dir, _ := os.MkdirTemp("", "resume")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "level2.pck")

	n := httprequest.New()
	defer n.Close()
	_ = n.SetDownloadFile(file)
	for attempt := 1; attempt <= 3; attempt++ {
		r, err := n.DoResumable(context.Background(), srv.URL+"/level2.pck", nil)
		fi, _ := os.Stat(file)
		fmt.Printf("attempt %d: %v, code %d, %s from byte %d, file %d bytes\n",
			attempt, r.Result, r.ResponseCode, r.Outcome, r.Offset, fi.Size())
		if err == nil {
			break
		}
	}
	got, _ := os.ReadFile(file)
	_, err := os.Stat(file + httprequest.ResumeSuffix)
	fmt.Println("complete:", bytes.Equal(got, pack), "state file gone:", strings.Contains(fmt.Sprint(err), "no such file"))
	// Output:
	// attempt 1: RESULT_CANT_CONNECT, code 0, from start from byte 0, file 3000 bytes
	// attempt 2: RESULT_SUCCESS, code 206, appended from byte 3000, file 10000 bytes
	// complete: true state file gone: true
}
