package httprequest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gdhttp/gdhttp/httpclient"
	"github.com/gdhttp/gdhttp/httprequest"
)

// restServer is a small JSON API on loopback that echoes what it was sent,
// the client's User-Agent included.
func restServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var sent any
		_ = json.Unmarshal(body, &sent)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"method":     r.Method,
			"path":       r.URL.Path,
			"user_agent": r.UserAgent(),
			"sent":       sent,
		})
	}))
}

// uaProduct keeps the product token of a User-Agent ("GodotEngine/<version>");
// the rest names the OS, which differs from machine to machine.
func uaProduct(ua string) string { return strings.Fields(ua)[0] }

// A JSON REST call the Godot way: Request, then Process once per frame until
// request_completed arrives — and a POST with Do, which blocks and returns
// the same four values.
func Example_restJSON() {
	srv := restServer()
	defer srv.Close()
	n := httprequest.New()
	defer n.Close()

	// GET, driven by Process as Godot's frame loop drives the node.
	done := false
	n.OnRequestCompleted(func(result httprequest.Result, code int, headers []string, body []byte) {
		var reply struct {
			Method, Path string
			UserAgent    string `json:"user_agent"`
		}
		_ = json.Unmarshal(body, &reply)
		fmt.Println(result, code, reply.Method, reply.Path, uaProduct(reply.UserAgent))
		done = true
	})
	if err := n.Request(srv.URL+"/players/7", []string{"Accept: application/json"}, httpclient.MethodGet, ""); err != nil {
		fmt.Println("request:", err)
		return
	}
	for !done {
		n.Process()
		time.Sleep(time.Millisecond) // one frame
	}

	// POST with Do.
	payload, _ := json.Marshal(map[string]any{"name": "Ada", "score": 42})
	c, err := n.Do(context.Background(), srv.URL+"/scores", []string{"Content-Type: application/json"}, httpclient.MethodPost, payload)
	if err != nil {
		fmt.Println("do:", err)
		return
	}
	var reply struct {
		Method    string
		UserAgent string `json:"user_agent"`
		Sent      map[string]any
	}
	_ = json.Unmarshal(c.Body, &reply)
	fmt.Println(c.Result, c.ResponseCode, reply.Method, reply.Sent["name"], reply.Sent["score"], uaProduct(reply.UserAgent))
	// Output:
	// RESULT_SUCCESS 200 GET /players/7 GodotEngine/4.5.1.stable.official
	// RESULT_SUCCESS 200 POST Ada 42 GodotEngine/4.5.1.stable.official
}

// Downloading a PNG to a file with download_file (written atomically: the
// file appears only once the whole body arrived) and decoding it with
// image/png.
func Example_downloadPNG() {
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	for y := 0; y < 3; y++ {
		for x := 0; x < 4; x++ {
			img.Set(x, y, color.RGBA{R: uint8(60 * x), G: uint8(100 * y), B: 200, A: 255})
		}
	}
	var pngBytes bytes.Buffer
	_ = png.Encode(&pngBytes, img)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(pngBytes.Bytes())
	}))
	defer srv.Close()

	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "icon.png")

	n := httprequest.New()
	defer n.Close()
	_ = n.SetDownloadFile(file)
	c, err := n.Do(context.Background(), srv.URL+"/icon.png", nil, httpclient.MethodGet, nil)
	if err != nil {
		fmt.Println("download:", err)
		return
	}
	fmt.Println(c.Result, c.ResponseCode, len(c.Body), n.DownloadedBytes() == int64(pngBytes.Len()))

	f, _ := os.Open(file)
	defer f.Close()
	decoded, err := png.Decode(f)
	if err != nil {
		fmt.Println("decode:", err)
		return
	}
	r, g, b, _ := decoded.At(3, 2).RGBA()
	fmt.Println(decoded.Bounds().Dx(), decoded.Bounds().Dy(), r>>8, g>>8, b>>8)
	// Output:
	// RESULT_SUCCESS 200 0 true
	// 4 3 180 200 200
}
