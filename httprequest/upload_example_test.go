package httprequest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
)

// formEcho is a loopback server that lists the parts of a multipart form.
func formEcho() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mr, err := r.MultipartReader()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			n, _ := io.Copy(io.Discard, p)
			fmt.Fprintf(w, "%s %q: %d bytes\n", p.FormName(), p.FileName(), n)
		}
	}))
}

// A save file uploaded with a form field: the file is streamed from disk
// while it is sent, and the body's length is known in advance.
func ExampleHTTPRequest_DoMultipart() {
	srv := formEcho()
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	save := filepath.Join(dir, "slot1.sav")
	_ = os.WriteFile(save, make([]byte, 4096), 0o644)

	n := httprequest.New()
	defer n.Close()
	form := httprequest.NewMultipart().Field("player", "Ada").File("save", save)
	c, err := n.DoMultipart(context.Background(), srv.URL+"/upload", nil, httpclient.MethodPost, form)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Result, c.ResponseCode)
	fmt.Print(string(c.Body))
	fmt.Println("sent", n.UploadedBytes() == form.Len(), "of", n.UploadSize() == form.Len())
	// Output:
	// RESULT_SUCCESS 200
	// player "": 3 bytes
	// save "slot1.sav": 4096 bytes
	// sent true of true
}

// A body read from an io.Reader of unknown length goes chunked.
func ExampleHTTPRequest_DoStream() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %v %d bytes", r.Method, r.TransferEncoding, len(b))
	}))
	defer srv.Close()
	n := httprequest.New()
	defer n.Close()
	body := strings.NewReader(strings.Repeat("log line\n", 1000))
	c, err := n.DoStream(context.Background(), srv.URL+"/logs", nil, httpclient.MethodPut, body, -1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(c.Body))
	// Output:
	// PUT [chunked] 9000 bytes
}
